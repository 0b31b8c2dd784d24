//! `exit` / `quit` as command lines (`exit()` the function does the same).

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::Invocation;

pub fn run(_: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let code = match inv.args.first() {
        Some(w) => w
            .parse()
            .map_err(|_| Error::new(format!("exit: '{w}' is not a status number")))?,
        None => 0,
    };
    Err(Error::exit(code))
}

//! `emit`: send a signal, like busctl's `emit OBJECT INTERFACE SIGNAL [SIGNATURE [ARGUMENT...]]`
//! (to everyone, or to `--destination` only).

use crate::busctl::args::parse_args;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bool_flag, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let w = &inv.args;
    let (path, iface, member) = (&w[0], &w[1], &w[2]);
    let args = match w.get(3) {
        Some(sig) => parse_args(sig, &w[4..]).map_err(|e| Error::new(e.to_string()))?,
        None => Vec::new(),
    };
    let auto_start = bool_flag(inv, "auto-start", true)?;
    let dest = inv.value("destination");
    let s = ctx.session;
    s.block_on(s.bus.emit(dest, path, iface, member, &args, auto_start))
        .map_err(|e| failed("Failed to send signal", &e))?;
    Ok(Value::None)
}

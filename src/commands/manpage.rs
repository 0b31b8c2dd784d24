//! `manpage`: the manual page, in roff.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::Invocation;

pub fn run(ctx: &mut Context<'_>, _: &Invocation) -> Result<Value, Error> {
    ctx.out.write_all(super::doc::manpage().as_bytes())?;
    Ok(Value::None)
}

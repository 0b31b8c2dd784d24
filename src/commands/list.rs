//! `list`: busctl's list of peers and names.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let table = crate::busctl::list::table(ctx.session, !inv.has("no-legend"))
        .map_err(|e| failed("Failed to list names", &e))?;
    ctx.out.write_all(table.as_bytes())?;
    Ok(Value::None)
}

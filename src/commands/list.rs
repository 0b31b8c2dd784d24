//! `list`: busctl's list of peers and names (or busctl's `--json` of it).

use crate::busctl::json;
use crate::busctl::list::{Options, json as list_json, rows, table};
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bool_flag, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let o = Options {
        unique: inv.has("unique"),
        acquired: inv.has("acquired"),
        activatable: inv.has("activatable"),
        show_machine: inv.has("show-machine"),
        augment: bool_flag(inv, "augment-creds", true)?,
    };
    let rows = rows(ctx.session, &o).map_err(|e| failed("Failed to list names", &e))?;
    let text = match json::Mode::from_flags(inv.value("json"), inv.has("j"), ctx.term.tty) {
        Some(mode) => json::dump(&list_json(&rows, o.show_machine), mode, ctx.term.color),
        None => table(&rows, !inv.has("no-legend"), o.show_machine),
    };
    ctx.out.write_all(text.as_bytes())?;
    Ok(Value::None)
}

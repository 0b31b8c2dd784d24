//! `clean [X...]`: stop units and reset their failed state (pystemd-shell's `unit_clean`);
//! without X, every unit this shell started with `run`.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd::{job, transient};

use super::{Invocation, failed, units};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let names = if inv.args.is_empty() {
        transient::started()
    } else {
        units::resolve_all(ctx, &inv.args)?
    };
    let s = ctx.session;
    for name in &names {
        s.block_on(job::stop_and_reset(&s.bus, name))
            .map_err(|e| failed(format!("Failed to clean {name}"), &e))?;
    }
    if inv.args.is_empty() {
        if names.is_empty() {
            writeln!(ctx.out, "no units started by this shell")?;
        } else {
            writeln!(ctx.out, "stopped and reset: {}", names.join(", "))?;
        }
    }
    Ok(Value::None)
}

//! `stop X...`: stop units and wait for the stop jobs, as `systemctl stop` does. Stopping the
//! unit this shell runs in asks first on a terminal.

use crate::bus::data::Data;
use crate::lang::builtins::confirm_self_stop;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd::job::run_job;
use crate::systemd::{MANAGER_IFACE, MANAGER_PATH, SERVICE};

use super::{Invocation, failed, units};

/// Run `method` (StopUnit, RestartUnit) for each unit and wait for the jobs.
pub fn jobs(
    ctx: &mut Context<'_>,
    inv: &Invocation,
    method: &str,
    verb: &str,
) -> Result<Value, Error> {
    let names = units::resolve_all(ctx, &inv.args)?;
    for name in names {
        confirm_self_stop(
            SERVICE,
            MANAGER_PATH,
            MANAGER_IFACE,
            method,
            &[Data::Str(name.clone())],
        )?;
        let s = ctx.session;
        let result = s
            .block_on(run_job(&s.bus, method, &name))
            .map_err(|e| failed(format!("Failed to {verb} {name}"), &e))?;
        if result != "done" {
            return Err(Error::new(format!(
                "Job for {name} failed ({result}). See \"status {name}\" for details."
            )));
        }
    }
    Ok(Value::None)
}

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    jobs(ctx, inv, "StopUnit", "stop")
}

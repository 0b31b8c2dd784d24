//! `restart X...`: restart units and wait for the jobs, as `systemctl restart` does.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::Invocation;

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    super::stop::jobs(ctx, inv, "RestartUnit", "restart")
}

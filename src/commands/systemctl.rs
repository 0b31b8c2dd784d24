//! `systemctl ARGS...`: the real systemctl, with the words as typed (not parsed as our
//! options), on this terminal.

use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

pub fn run_raw(ctx: &mut Context<'_>, words: &[String]) -> Result<Value, Error> {
    ctx.out.flush()?;
    let status = std::process::Command::new("systemctl")
        .args(words)
        .status()
        .map_err(|e| Error::new(format!("cannot run systemctl: {e} (is systemd installed?)")))?;
    if !status.success() {
        return Err(Error::new(format!(
            "systemctl {} exited with {}",
            words.join(" "),
            status
                .code()
                .map_or_else(|| status.to_string(), |c| format!("status {c}"))
        )));
    }
    Ok(Value::None)
}

/// The table's entry point (the runner passes the words unparsed to [`run_raw`] instead).
pub fn run(ctx: &mut Context<'_>, inv: &super::Invocation) -> Result<Value, Error> {
    run_raw(ctx, &inv.args)
}

//! `demos`: the demos built into the binary, a line each. Playing one (`demo NAME`), showing
//! one (`ppcode NAME`) and recording one (`record FILE`) drive the interpreter itself, so the
//! shell runs them with the interpreter at hand (`crate::lang::command::Commands::run_in`);
//! they are declared in the command table like the others.

use crate::commands::Invocation;
use crate::lang::command::Context;
use crate::lang::demos;
use crate::lang::error::Error;
use crate::lang::value::Value;

pub fn list(ctx: &mut Context<'_>, _: &Invocation) -> Result<Value, Error> {
    let all: Vec<demos::Builtin> = demos::builtin().collect();
    let width = all.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &all {
        let (title, summary) = demos::header(d.text);
        let name = format!("{:width$}", d.name);
        let name = if ctx.term.color {
            nu_ansi_term::Style::new().bold().paint(name).to_string()
        } else {
            name
        };
        let text = if summary.is_empty() {
            title
        } else {
            format!("{title}: {summary}")
        };
        writeln!(ctx.out, "{name}  {}", text.trim_end_matches('.'))?;
    }
    Ok(Value::None)
}

/// The declared `run` of the commands the shell runs with its interpreter (`ppcode`,
/// `demo`, `record`): reached only by an engine that does not provide them.
pub fn in_session(_: &mut Context<'_>, _: &Invocation) -> Result<Value, Error> {
    Err(Error::new(
        "this command runs in a shell session (at the prompt or in a script of rustemd-shell)",
    ))
}

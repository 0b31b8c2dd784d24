//! The presenter's tools: demos played for an audience, recorded, and source shown
//! highlighted.
//!
//! `rustemd-shell --play FILE` and `demo NAME` play a demo ([`play`]): statements typed out,
//! a pause, then run live with their output checked against the demo's checkpoints.
//! `record FILE` writes a demo from what is typed ([`record`]); `ppcode NAME` shows a
//! function's, builtin's or demo's source ([`ppcode`]). The format of demos and the demos
//! built into the binary are the language's (`crate::lang::demos`); the colours are the
//! language's highlighter (`crate::lang::highlight`).
//!
//! Why at the level of the prompt: these drive the interpreter itself (a demo runs its
//! statements in the current session, `ppcode` evaluates a dotted name), and report errors
//! as the prompt does. The commands are declared in the command table like any other (so
//! `help`, completion and `--help` know them); [`Presenter`] — the command set the shell
//! runs with — hands them the interpreter through the engine's contract
//! ([`Commands::run_in`]), and every other command to the command table.

mod capture;
pub mod play;
mod ppcode;
pub mod record;

use std::cell::Cell;
use std::io::{IsTerminal, Write};

use crate::commands::{self, Origin, Registry};
use crate::lang::command::{Commands, Context};
use crate::lang::demos;
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::Value;

pub use crate::repl::CONTINUATION;

type R<T> = Result<T, Error>;

/// The shell's commands: the command table, plus those that need the interpreter.
pub struct Presenter;

impl Commands for Presenter {
    fn is_command(&self, word: &str) -> bool {
        Registry.is_command(word)
    }

    fn run(&self, ctx: &mut Context<'_>, name: &str, words: &[String]) -> R<Value> {
        Registry.run(ctx, name, words)
    }

    fn names(&self) -> Vec<&'static str> {
        Registry.names()
    }

    fn run_in(&self, it: &mut Interp, name: &str, words: &[String]) -> Option<R<Value>> {
        let run: fn(&mut Interp, &commands::Invocation) -> R<Value> = match name {
            "ppcode" => ppcode_command,
            "demo" => demo_command,
            "record" => record_command,
            _ => return None,
        };
        let cmd = commands::find(name)?;
        Some(
            commands::spec::parse(cmd, words, Origin::Prompt).and_then(|inv| {
                if inv.has("help") {
                    it.out.write_all(cmd.help_text().as_bytes())?;
                    return Ok(Value::None);
                }
                run(it, &inv)
            }),
        )
    }
}

fn ppcode_command(it: &mut Interp, inv: &commands::Invocation) -> R<Value> {
    ppcode::run(it, &inv.args[0])
}

/// `--speed`: characters per second.
pub fn parse_speed(v: &str) -> Result<u32, String> {
    v.parse::<u32>()
        .ok()
        .filter(|s| *s <= 100_000)
        .ok_or_else(|| {
            format!("--speed: '{v}' is not a number of characters per second (0 types at once)")
        })
}

thread_local! {
    /// Demos playing inside demos.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// A demo's path and text: a built-in demo's name, or a file.
pub fn load(name: &str) -> R<(String, String)> {
    if let Some(d) = demos::find(name) {
        return Ok((d.path.to_string(), d.text.to_string()));
    }
    if name.contains('/') || name.ends_with(".rsh") {
        let text = std::fs::read_to_string(name)
            .map_err(|e| Error::os(&e, format!("cannot read {name}")))?;
        return Ok((name.to_string(), text));
    }
    Err(Error::new(format!(
        "no demo named {name} (demos lists them: {})",
        demos::names().join(", ")
    )))
}

/// Play a demo in this session; the summary says how it went.
pub fn play_in(it: &mut Interp, name: &str, opts: play::Options) -> R<play::Summary> {
    let (path, text) = load(name)?;
    if DEPTH.get() >= 5 {
        return Err(Error::new("demos play demos more than 5 deep"));
    }
    DEPTH.set(DEPTH.get() + 1);
    let saved = it.argv().to_vec();
    it.set_argv(vec![path.clone()]);
    let r = play::play(it, &path, &text, opts);
    it.set_argv(saved);
    DEPTH.set(DEPTH.get() - 1);
    r
}

fn demo_command(it: &mut Interp, inv: &commands::Invocation) -> R<Value> {
    let name = &inv.args[0];
    let speed = match inv.value("speed") {
        Some(v) => parse_speed(v).map_err(Error::new)?,
        None => play::SPEED,
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let opts = play::Options {
        pause: interactive && !inv.has("no-pause"),
        speed,
    };
    let s = play_in(it, name, opts)?;
    if let Some(code) = s.exit {
        return Err(Error::exit(code));
    }
    if !s.ok() {
        return Err(Error::new(s.line(&load(name)?.0)));
    }
    Ok(Value::None)
}

fn record_command(it: &mut Interp, inv: &commands::Invocation) -> R<Value> {
    match inv.args.first().map(String::as_str) {
        None => match record::status() {
            Some((path, n)) => writeln!(
                it.out,
                "recording into {path}: {n} statement{} so far (record stop ends it)",
                if n == 1 { "" } else { "s" }
            )?,
            None => writeln!(it.out, "not recording (record FILE starts)")?,
        },
        Some("stop") => match record::stop() {
            Some((path, n)) => writeln!(
                it.out,
                "recorded {n} statement{} into {path} (play it: rustemd-shell --play {path})",
                if n == 1 { "" } else { "s" }
            )?,
            None => return Err(Error::new("not recording (record FILE starts)")),
        },
        Some(path) => {
            let title = (inv.args.len() > 1).then(|| inv.args[1..].join(" "));
            record::start(path, title.as_deref())?;
            writeln!(
                it.out,
                "recording into {path}: each statement and its output (record stop ends it)"
            )?;
        }
    }
    Ok(Value::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_demo_parses_with_a_title_and_summary() {
        for d in demos::builtin() {
            let s = demos::parse(d.text, &|w| Registry.is_command(w))
                .unwrap_or_else(|e| panic!("{}: {e}", d.path));
            assert!(!s.title.is_empty() && !s.summary.is_empty(), "{}", d.path);
            assert!(!s.steps.is_empty(), "{}", d.path);
            for step in &s.steps {
                crate::lang::parser::parse(&step.src, &|w| Registry.is_command(w))
                    .unwrap_or_else(|e| panic!("{}:{}: {}", d.path, step.line, e.message));
            }
        }
    }

    #[test]
    fn speeds() {
        assert_eq!(parse_speed("40"), Ok(40));
        assert_eq!(parse_speed("0"), Ok(0));
        assert!(parse_speed("-1").is_err());
        assert!(parse_speed("fast").is_err());
    }
}

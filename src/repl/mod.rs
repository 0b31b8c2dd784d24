//! The interactive loop and the batch runner.
//!
//! Interactive: rustyline with our helper, history in the XDG state dir (mode 0600), Ctrl-C
//! clears the line (or, while a command runs, cancels it), Ctrl-D exits. Batch (`-c`, a file,
//! or piped stdin): statements run in order, errors go to stderr, and the exit status says
//! whether any statement failed.

pub mod attributes;
pub mod completion;
pub mod helper;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

use rustyline::error::ReadlineError;
use rustyline::{Config, Editor};

use crate::lang::builtins::EXIT_MARKER;
use crate::lang::error::{EvalError, render_caret};
use crate::lang::interp::{Flow, Interp};
use crate::lang::span::Span;
use crate::session::Session;

/// Print an error for `src` to stderr: caret form on a terminal, one line otherwise.
pub fn report(src: &str, e: &EvalError, span: Option<Span>) {
    let mut err = std::io::stderr().lock();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let msg = &e.message;
    let text = match span {
        Some(sp) if std::io::stderr().is_terminal() => render_caret(src, sp, msg),
        Some(sp) => {
            let col = src[..sp.start.min(src.len())]
                .rsplit('\n')
                .next()
                .unwrap_or("")
                .chars()
                .count()
                + 1;
            format!("{msg} (column {col})")
        }
        None => msg.clone(),
    };
    let label = if color {
        nu_ansi_term::Color::Red.bold().paint("error:").to_string()
    } else {
        "error:".to_string()
    };
    let _ = writeln!(err, "{label} {text}");
}

/// Run one chunk of source; Some(code) when the shell should exit. Outside the interactive
/// REPL, Ctrl-C (an interrupted call) ends the run with status 130, as for any command.
pub fn run_chunk(it: &mut Interp, src: &str, failed: &mut bool) -> Option<i32> {
    run_chunk_in(it, src, failed, false)
}

fn run_chunk_in(it: &mut Interp, src: &str, failed: &mut bool, interactive: bool) -> Option<i32> {
    let r = it.run_source(src);
    let _ = it.out.flush();
    match r {
        Ok(Flow::Continue) => None,
        Ok(Flow::Exit(code)) => Some(code),
        Err((e, _)) if e.message.starts_with(EXIT_MARKER) => {
            Some(e.message[EXIT_MARKER.len()..].parse().unwrap_or(0))
        }
        Err((e, span)) => {
            *failed = true;
            report(src, &e, span);
            (!interactive && e.message.ends_with("interrupted")).then_some(130)
        }
    }
}

/// Does `line` continue an unfinished statement? Pasted multi-line calls indent their
/// continuation lines or close the bracket; a broken line must not swallow the next ones.
fn continues(pending: &str, line: &str) -> bool {
    let last = pending.trim_end().chars().last();
    matches!(last, Some('(' | '[' | '{' | ',' | '\\'))
        || line.starts_with(char::is_whitespace)
        || line.trim_start().starts_with([')', ']', '}'])
}

/// Statements from a reader (a file or piped stdin), one line at a time; a line with an
/// unclosed bracket is joined with the next when that one continues it.
pub fn run_batch(it: &mut Interp, input: impl BufRead) -> i32 {
    let mut failed = false;
    let mut pending = String::new();
    for line in input.lines() {
        let Ok(line) = line else { break };
        if !pending.is_empty() && !continues(&pending, &line) {
            let chunk = std::mem::take(&mut pending);
            if let Some(code) = run_chunk(it, &chunk, &mut failed) {
                return code;
            }
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        if helper::needs_more(&pending) {
            continue;
        }
        let chunk = std::mem::take(&mut pending);
        if let Some(code) = run_chunk(it, &chunk, &mut failed) {
            return code;
        }
    }
    if !pending.is_empty()
        && let Some(code) = run_chunk(it, &pending, &mut failed)
    {
        return code;
    }
    i32::from(failed)
}

fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("rustemd-shell").join("history"))
}

/// The interactive REPL.
pub fn run_interactive(session: Rc<Session>, it: &mut Interp) -> i32 {
    let config = Config::builder()
        .max_history_size(10_000)
        .map(|c| c.history_ignore_dups(true))
        .and_then(|c| c)
        // bash-like: TAB completes the common prefix, a second TAB lists the candidates.
        .map(|c| {
            c.auto_add_history(false)
                .completion_type(rustyline::CompletionType::List)
                .build()
        })
        .unwrap_or_default();
    let mut ed: Editor<helper::ShellHelper, rustyline::history::FileHistory> =
        match Editor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start the line editor: {e}");
                return 1;
            }
        };
    ed.set_helper(Some(helper::ShellHelper {
        completer: completion::Completer::new(session.clone(), it.vars.clone()),
        color: session.color,
    }));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = ed.load_history(h);
    }
    let banner = format!(
        "rustemd-shell {} on {} — type help, TAB completes, Ctrl-D exits",
        env!("CARGO_PKG_VERSION"),
        session.bus.target().describe()
    );
    println!("{banner}");
    let prompt = if session.color {
        format!("{} ", nu_ansi_term::Color::Green.bold().paint("rustemd>"))
    } else {
        "rustemd> ".to_string()
    };
    let mut failed = false;
    let code = loop {
        match ed.readline(&prompt) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = ed.add_history_entry(line.as_str());
                if let Some(code) = run_chunk_in(it, &line, &mut failed, true) {
                    break code;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break 0,
            Err(e) => {
                eprintln!("error: reading input failed: {e}");
                break 1;
            }
        }
    };
    if let Some(h) = &hist {
        save_history(&mut ed, h);
    }
    code
}

fn save_history(
    ed: &mut Editor<helper::ShellHelper, rustyline::history::FileHistory>,
    h: &PathBuf,
) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = h.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Create it private before rustyline writes; tighten an existing file too.
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(h);
    let _ = std::fs::set_permissions(h, std::fs::Permissions::from_mode(0o600));
    let _ = ed.append_history(h);
}

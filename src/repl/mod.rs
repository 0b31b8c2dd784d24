//! The interactive loop, the batch runner and error reporting: where people meet the shell.
//!
//! Interactive: rustyline with our helper (completion, hints, highlighting), history in the
//! XDG state dir (mode 0600), Ctrl-C clears the line (or, while a command runs, cancels it),
//! Ctrl-D exits. A statement that is not complete (an open bracket or string, a block after
//! `if …:`) asks for continuation lines with a `...:` prompt, auto-indented, until it is; a
//! block ends at an empty line, as in IPython. Pasted IPython transcripts lose their prompts
//! ([`crate::lang::transcript`]). SIGTERM, SIGHUP and SIGQUIT restore the terminal (and save
//! the history on SIGTERM/SIGHUP, as bash does) before the shell exits ([`terminate`]).
//! Batch: see [`batch`].

pub mod batch;
pub mod completion;
pub mod helper;
pub mod history;
pub mod report;
mod service;
mod terminate;

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::error::ReadlineError;
use rustyline::{Config, Editor};

use crate::bus::session::Session;
use crate::commands::Registry;
use crate::lang::command::Commands;
use crate::lang::interp::{Interp, Vars};
use crate::lang::lexer::{TokenKind, lex_open};
use crate::lang::parser::indent_width;
use crate::lang::transcript;
use crate::term::signals;

/// Which words start a command line, for the lexer: a command, unless a variable of that
/// name exists (the variable wins, as with IPython's automagic).
pub fn is_command_with(vars: &Vars, word: &str) -> bool {
    Registry.is_command(word) && !vars.borrow().contains_key(word)
}

/// The continuation prompt, as wide as the main one.
pub const CONTINUATION: &str = "    ...: ";

/// Does `src` (the lines typed so far) need more lines before it runs? An open bracket,
/// string or trailing backslash does; so does a block opened by a header ending a line
/// (`for x in y:`), until an empty line.
pub fn needs_more(src: &str, is_command: &dyn Fn(&str) -> bool) -> bool {
    let (toks, open) = lex_open(src, is_command);
    if open.any() {
        return true;
    }
    let opens_block = toks.iter().enumerate().any(|(i, t)| {
        t.kind == TokenKind::HeaderColon
            && toks
                .get(i + 1)
                .is_none_or(|n| matches!(n.kind, TokenKind::Op("\n") | TokenKind::Comment(_)))
    });
    let last_line = src.rsplit('\n').next().unwrap_or("");
    opens_block && !(src.contains('\n') && last_line.trim().is_empty())
}

/// The indentation to offer on the line after `src`.
fn auto_indent(src: &str, is_command: &dyn Fn(&str) -> bool) -> String {
    let Some(last) = src.lines().rev().find(|l| !l.trim().is_empty()) else {
        return String::new();
    };
    let w = indent_width(last);
    let (toks, open) = lex_open(last, is_command);
    let word = last.split_whitespace().next().unwrap_or("");
    let w = if toks
        .last()
        .is_some_and(|t| t.kind == TokenKind::HeaderColon)
        || open.depth > 0
    {
        w + 4
    } else if matches!(word, "return" | "pass" | "break" | "continue" | "raise") {
        w.saturating_sub(4)
    } else {
        w
    };
    " ".repeat(w)
}

/// What runs around each statement typed or read: the presenter's `record`, installed by the
/// program at start with [`set_around`]. The prompt and the batch runner know no presenter
/// tool; they only call this.
pub type Around = fn(&str, &mut dyn FnMut() -> Option<i32>) -> Option<i32>;

static AROUND: std::sync::OnceLock<Around> = std::sync::OnceLock::new();

/// Install the hook run around every statement (once, at start).
pub fn set_around(hook: Around) {
    let _ = AROUND.set(hook);
}

/// Run one statement through the hook, if any.
pub(crate) fn around(src: &str, run: impl FnOnce() -> Option<i32>) -> Option<i32> {
    match AROUND.get() {
        Some(hook) => {
            // The hook runs it once; a second call would find nothing to run.
            let mut once = Some(run);
            hook(src, &mut || once.take().and_then(|f| f()))
        }
        None => run(),
    }
}

/// The interactive REPL; returns the exit status.
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
    let mut ed: Editor<helper::ShellHelper, history::History> =
        match Editor::with_history(config, history::History::new(history::path())) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start the line editor: {e}");
                return batch::FAILED;
            }
        };
    let context = Rc::new(RefCell::new(String::new()));
    let typed = Rc::new(RefCell::new(None));
    ed.set_helper(Some(helper::ShellHelper {
        completer: completion::Completer::new(session.clone(), it.vars.clone()),
        color: it.term.color,
        context: context.clone(),
        typed: typed.clone(),
    }));
    let lines = terminate::install(history::path());
    println!(
        "rustemd-shell {} on {} — type help, TAB completes, Ctrl-D exits",
        env!("CARGO_PKG_VERSION"),
        session.bus.target().describe()
    );
    // Run as a notify service (daemon_demo_service): say so, and show systemd's view of it.
    let service = service::ServicePrompt::detect(it.term.color);
    if let Some(sp) = &service {
        print!("{}", sp.banner(&session));
    }
    let color = it.term.color;
    let paint = |p: &str| {
        if color {
            format!("{} ", nu_ansi_term::Color::Green.bold().paint(p))
        } else {
            format!("{p} ")
        }
    };
    let mut prompt = paint("rustemd>");
    let cont = if it.term.color {
        nu_ansi_term::Color::Green.paint(CONTINUATION).to_string()
    } else {
        CONTINUATION.to_string()
    };
    let mut failed = false;
    let mut pending = String::new();
    // The line being typed when a signal's handler interrupted the prompt: shown again.
    let mut restore: Option<(String, String)> = None;
    let code = loop {
        let vars = it.vars.clone();
        let is_cmd = move |w: &str| is_command_with(&vars, w);
        if pending.is_empty()
            && let Some(sp) = &service
        {
            let (line, word) = sp.status(&session);
            println!("{line}");
            prompt = paint(&format!("rustemd[{word}]>"));
        }
        let (p, indent) = if pending.is_empty() {
            (prompt.as_str(), String::new())
        } else {
            (cont.as_str(), auto_indent(&pending, &is_cmd))
        };
        // Once each: the history file is not used (known now), or was found damaged when
        // read (Up, a search).
        if let Some(w) = ed.history_mut().warning() {
            eprintln!("{w}");
        }
        *context.borrow_mut() = pending.clone();
        *typed.borrow_mut() = None;
        let (left, right) = restore.take().unwrap_or((indent, String::new()));
        // Waiting from here on: a signal arriving now wakes the prompt; one that came before
        // is handled first.
        signals::at_prompt(true);
        let read = if signals::has_pending() {
            Err(ReadlineError::Interrupted)
        } else {
            ed.readline_with_initial(p, (&left, &right))
        };
        signals::at_prompt(false);
        match read {
            // A signal with a handler (signal.signal) made the prompt return: run the
            // handler, then show the same line again.
            Err(ReadlineError::Interrupted) if signals::has_pending() => {
                signals::clear_interrupt();
                println!();
                if let Err(e) = it.run_signal_handlers(true) {
                    if let crate::lang::error::Kind::Exit(code) = e.kind {
                        break code;
                    }
                    report::report_plain(&e, session.bus.target());
                }
                let _ = std::io::Write::flush(&mut it.out);
                restore = typed.borrow_mut().take().or(Some((left, right)));
            }
            Ok(text) => {
                let text = transcript::strip(&text).into_owned();
                if pending.is_empty() && text.trim().is_empty() {
                    continue;
                }
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(text.trim_end_matches('\n'));
                if needs_more(&pending, &is_cmd) {
                    continue;
                }
                let src = std::mem::take(&mut pending);
                let entry = src.trim_end();
                let _ = ed.add_history_entry(entry);
                terminate::remember(&lines, entry);
                let ran = around(&src, || batch::run_chunk(it, &src, &mut failed, true));
                if let Some(code) = ran {
                    break code;
                }
            }
            // Ctrl-C drops the line, and a block being typed.
            Err(ReadlineError::Interrupted) => pending.clear(),
            Err(ReadlineError::Eof) if !pending.is_empty() => pending.clear(),
            Err(ReadlineError::Eof) => break batch::OK,
            Err(e) => {
                eprintln!("error: reading input failed: {e}");
                break batch::FAILED;
            }
        }
    };
    if let Err(e) = ed.history_mut().save() {
        eprintln!("rustemd-shell: {e}");
    }
    if let Some(w) = ed.history_mut().warning() {
        eprintln!("{w}");
    }
    if let Some(note) = service.as_ref().and_then(|sp| sp.farewell(&session)) {
        println!("{note}");
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_cmd(w: &str) -> bool {
        w == "list"
    }

    #[test]
    fn blocks_continue_until_an_empty_line() {
        let rows: &[(&str, bool)] = &[
            ("x = 1", false),
            ("f(1,", true),
            ("f(1,\n2)", false),
            ("if x:", true),
            ("if x:\n    y", true),
            ("if x:\n    y\n", false),
            ("if x:\n    y\n    ", false),
            ("while True: f()", false),
            ("def f(): return 1", false),
            ("with a as b:\n    print(b)", true),
            ("s = '''a", true),
            ("x = 1 + \\", true),
            ("list a b", false),
            ("if x:  # comment", true),
            ("d = {1: 2}", false),
        ];
        for (src, want) in rows {
            assert_eq!(needs_more(src, &no_cmd), *want, "{src:?}");
        }
    }

    #[test]
    fn continuation_lines_are_auto_indented() {
        let rows: &[(&str, &str)] = &[
            ("if x:", "    "),
            ("if x:\n    y", "    "),
            ("if x:\n    for y in z:", "        "),
            ("def f():\n    return 1", ""),
            ("f(1,", "    "),
            ("x = [", "    "),
        ];
        for (src, want) in rows {
            assert_eq!(auto_indent(src, &no_cmd), *want, "{src:?}");
        }
    }
}

//! The interactive loop, the batch runner and error reporting: where people meet the shell.
//!
//! Interactive: rustyline with our helper (completion, hints, highlighting, multi-line
//! validation), history in the XDG state dir (mode 0600), Ctrl-C clears the line (or, while a
//! command runs, cancels it), Ctrl-D exits. Batch: see [`batch`].

pub mod batch;
pub mod completion;
pub mod helper;
pub mod history;
pub mod report;

use std::rc::Rc;

use rustyline::error::ReadlineError;
use rustyline::{Config, Editor};

use crate::bus::session::Session;
use crate::commands::Registry;
use crate::lang::command::Commands;
use crate::lang::interp::Interp;

/// Which words start a command line, for the lexer in the helper and the batch runner.
pub fn is_command(word: &str) -> bool {
    Registry.is_command(word)
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
    ed.set_helper(Some(helper::ShellHelper {
        completer: completion::Completer::new(session.clone(), it.vars.clone()),
        color: it.term.color,
    }));
    println!(
        "rustemd-shell {} on {} — type help, TAB completes, Ctrl-D exits",
        env!("CARGO_PKG_VERSION"),
        session.bus.target().describe()
    );
    let prompt = if it.term.color {
        format!("{} ", nu_ansi_term::Color::Green.bold().paint("rustemd>"))
    } else {
        "rustemd> ".to_string()
    };
    // History was loading meanwhile; say once if its file is not usable.
    if let Some(w) = ed.history_mut().ready() {
        eprintln!("{w}");
    }
    let mut failed = false;
    let code = loop {
        match ed.readline(&prompt) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = ed.add_history_entry(line.as_str());
                if let Some(code) = batch::run_chunk(it, &line, &mut failed, true) {
                    break code;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
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
    code
}

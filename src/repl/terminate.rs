//! Leaving on SIGTERM, SIGHUP or SIGQUIT: restore the terminal (rustyline keeps it raw while
//! the prompt waits), save this session's history (SIGTERM and SIGHUP, as bash does), exit
//! with 128 + the signal.
//!
//! The handler runs on a thread of its own (`term::signals::on_termination`); it saves the
//! lines entered so far through a fresh [`History`] on the same file, the same writer the
//! normal exit uses.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::history::History;
use crate::term::signals;

/// The lines entered in this session, shared with the signal thread.
pub type Lines = Arc<Mutex<Vec<String>>>;

/// Install the handler; returns where the loop records the lines it runs.
pub fn install(hist: Option<PathBuf>) -> Lines {
    let lines: Lines = Arc::new(Mutex::new(Vec::new()));
    let saved = nix::sys::termios::tcgetattr(std::io::stdin()).ok();
    let shared = lines.clone();
    let _ = signals::on_termination(move |sig| {
        if let Some(t) = &saved {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                t,
            );
        }
        // Bracketed paste off, a fresh line: the terminal as we found it.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\x1b[?2004l\r\n");
            let _ = out.flush();
        }
        if sig != signal_hook::consts::SIGQUIT
            && let Some(h) = &hist
        {
            save(&shared, h);
        }
        std::process::exit(128 + sig);
    });
    lines
}

/// Record a line that was entered.
pub fn remember(lines: &Lines, entry: &str) {
    if let Ok(mut l) = lines.lock() {
        l.push(entry.to_string());
    }
}

fn save(lines: &Lines, h: &std::path::Path) {
    use rustyline::history::History as _;
    let Ok(lines) = lines.lock() else { return };
    if lines.is_empty() {
        return;
    }
    let mut hist = History::new(Some(h.to_path_buf()));
    for l in lines.iter() {
        let _ = hist.add(l.as_str());
    }
    let _ = hist.save();
}

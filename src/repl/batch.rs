//! Running statements without a person at a prompt: `-c`, a file, piped stdin.
//!
//! Statements run in order; errors go to stderr and the run goes on; the exit status says
//! whether any statement failed (1), or is the status given to `exit()`. Ctrl-C ends the run
//! with 130; a reader that went away (`| head -1`) ends it quietly with 0.

use std::io::BufRead;

use crate::lang::error::{Error, Kind};
use crate::lang::interp::Interp;

use super::report;

/// Statuses of a whole run (documented in `--help` and the man page).
pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const INTERRUPTED: i32 = 130;

/// Run one chunk of source; `Some(status)` when the run must end.
pub fn run_chunk(it: &mut Interp, src: &str, failed: &mut bool, interactive: bool) -> Option<i32> {
    let r = it
        .run_source(src)
        .and_then(|()| it.out.flush().map_err(Error::from));
    let e = match r {
        Ok(()) => return None,
        Err(e) => e,
    };
    match e.kind {
        Kind::Exit(code) => {
            // exit("message"): Python prints the message on stderr.
            if !e.message.is_empty() {
                eprintln!("{}", e.message);
            }
            Some(code)
        }
        Kind::BrokenPipe if !interactive => Some(OK),
        Kind::BrokenPipe => None,
        _ => {
            *failed = true;
            report::report(src, &e, &it.term, it.session.bus.target());
            (!interactive && e.kind == Kind::Interrupted).then_some(INTERRUPTED)
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

/// Statements from a reader (`name` says which, for messages), one line at a time; a line
/// with an unclosed bracket is joined with the next when that one continues it.
pub fn run_batch(it: &mut Interp, name: &str, mut input: impl BufRead) -> i32 {
    let mut failed = false;
    let mut pending = String::new();
    let mut raw = Vec::new();
    let mut lineno = 0usize;
    loop {
        raw.clear();
        match input.read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("rustemd-shell: {name}: reading failed: {e}");
                return FAILED;
            }
        }
        lineno += 1;
        let line = match std::str::from_utf8(&raw) {
            Ok(l) => l.trim_end_matches('\n').trim_end_matches('\r'),
            Err(e) => {
                eprintln!(
                    "rustemd-shell: {name}: line {lineno}: invalid UTF-8 at byte {} of the \
                     line (statements must be UTF-8 text)",
                    e.valid_up_to() + 1
                );
                return FAILED;
            }
        };
        if !pending.is_empty() && !continues(&pending, line) {
            let chunk = std::mem::take(&mut pending);
            if let Some(code) = run_chunk(it, &chunk, &mut failed, false) {
                return code;
            }
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        if super::helper::needs_more(&pending, &|w| it.is_command(w)) {
            continue;
        }
        let chunk = std::mem::take(&mut pending);
        if let Some(code) = run_chunk(it, &chunk, &mut failed, false) {
            return code;
        }
    }
    if !pending.is_empty()
        && let Some(code) = run_chunk(it, &pending, &mut failed, false)
    {
        return code;
    }
    if failed { FAILED } else { OK }
}

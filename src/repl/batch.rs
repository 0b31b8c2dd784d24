//! Running statements without a person at a prompt: `-c`, a file, piped stdin.
//!
//! Statements run in order, one top-level statement (with its indented block) at a time, as
//! soon as it is complete; errors go to stderr and the run goes on; the exit status says
//! whether any statement failed (1), or is the status given to `exit()`. Ctrl-C ends the run
//! with 130; a reader that went away (`| head -1`) ends it quietly with 0.
//!
//! Why incremental: input is lexed a line at a time, resuming where the previous line left
//! off ([`Incremental`]), so a statement spanning 40,000 lines (a long list literal) costs
//! linear time; each statement is parsed once, when complete. IPython transcripts (`In [4]:`
//! prompts) are read as their code ([`transcript`]).

use std::io::BufRead;

use crate::lang::error::{Error, Kind};
use crate::lang::interp::Interp;
use crate::lang::lexer::{Incremental, Keyword, TokenKind};
use crate::lang::parser::indent_width;
use crate::lang::transcript::{self, Stripper};

use super::report;

/// Statuses of a whole run (documented in `--help` and the man page).
pub const OK: i32 = 0;
pub const FAILED: i32 = 1;
pub const INTERRUPTED: i32 = 130;

/// Run one chunk of source; `Some(status)` when the run must end.
pub fn run_chunk(it: &mut Interp, src: &str, failed: &mut bool, interactive: bool) -> Option<i32> {
    let src = transcript::strip(src);
    let r = it
        .run_named(
            &src,
            if interactive {
                "<prompt>"
            } else {
                "<command line>"
            },
            1,
        )
        .and_then(|()| it.out.flush().map_err(Error::from));
    outcome(it, r, &src, 1, failed, interactive)
}

/// What the run does after a chunk: go on, or end with a status.
fn outcome(
    it: &mut Interp,
    r: Result<(), Error>,
    src: &str,
    first_line: usize,
    failed: &mut bool,
    interactive: bool,
) -> Option<i32> {
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
            report::report_at(src, first_line, &e, &it.term, it.session.bus.target());
            (!interactive && e.kind == Kind::Interrupted).then_some(INTERRUPTED)
        }
    }
}

/// A statement being read: its text (lexed as it comes) and where it starts.
struct Pending {
    inc: Incremental,
    first_line: usize,
    /// It starts with a compound statement: it ends only at the next line back at its
    /// indentation (or the end), since `else:`/`except:` may follow.
    compound: bool,
    indent: usize,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            inc: Incremental::new(),
            first_line: 1,
            compound: false,
            indent: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.inc.src().is_empty()
    }
}

/// Is `line` code (not blank, not only a comment)?
fn is_code(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// The first word of a line, if it is a keyword that continues a compound statement.
fn continues_compound(line: &str) -> bool {
    let word: String = line
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    matches!(
        Keyword::from_word(&word),
        Some(Keyword::Elif | Keyword::Else | Keyword::Except | Keyword::Finally)
    )
}

/// Statements from a reader (`name` says which, for messages), run one top-level statement
/// at a time.
pub fn run_batch(it: &mut Interp, name: &str, mut input: impl BufRead) -> i32 {
    let mut failed = false;
    let mut pending = Pending::new();
    let mut strip = Stripper::new();
    let mut raw = Vec::new();
    let mut lineno = 0usize;
    let run = |it: &mut Interp, pending: &mut Pending, failed: &mut bool| -> Option<i32> {
        let is_cmd = |w: &str| it.is_command(w);
        pending.inc.finish(&is_cmd);
        let first_line = pending.first_line;
        let (src, toks) = pending.inc.take();
        *pending = Pending::new();
        super::around(&src, || {
            let r = it
                .run_tokens(&src, toks, name, first_line)
                .and_then(|()| it.out.flush().map_err(Error::from));
            outcome(it, r, &src, first_line, failed, false)
        })
    };
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
        let Some(code) = strip.line(line) else {
            continue;
        };
        // A line back at the statement's indentation starts the next statement.
        if !pending.is_empty()
            && !pending.inc.open().any()
            && is_code(code)
            && indent_width(code) <= pending.indent
            && !(pending.compound && continues_compound(code))
            && let Some(status) = run(it, &mut pending, &mut failed)
        {
            return status;
        }
        if pending.is_empty() {
            if !is_code(code) {
                continue;
            }
            pending.first_line = lineno;
            pending.indent = indent_width(code);
        }
        {
            let is_cmd = |w: &str| it.is_command(w);
            let mut text = String::with_capacity(code.len() + 1);
            text.push_str(code);
            text.push('\n');
            pending.inc.push(&text, &is_cmd);
        }
        if !pending.compound
            && let Some(first) = pending.inc.tokens().first()
            && let TokenKind::Keyword(k) = first.kind
            && k.is_header()
        {
            pending.compound = true;
        }
        // A simple statement runs as soon as its line is complete.
        if !pending.compound
            && !pending.inc.open().any()
            && let Some(status) = run(it, &mut pending, &mut failed)
        {
            return status;
        }
    }
    if !pending.is_empty()
        && let Some(status) = run(it, &mut pending, &mut failed)
    {
        return status;
    }
    if failed { FAILED } else { OK }
}

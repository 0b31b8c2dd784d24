//! The rustyline helper: completion, hints and highlighting.
//!
//! Highlighting reuses the language's lexer, so what is coloured as a string is exactly what
//! the parser reads as one, with the colours `ppcode` uses ([`highlight`]: one table of
//! scopes and colours for the lexer and the `.sublime-syntax`). Completion and hints see the lines of the block typed so far
//! (`context`), so a continuation line completes like the rest of its statement.
//!
//! Cheap on long input: above [`LONG_LINE`] bytes the line is neither highlighted nor hinted,
//! which lets rustyline echo each typed character without redrawing the line (pastes arrive
//! in one piece through bracketed paste). More than [`MAX_CANDIDATES`] completions are never
//! handed to rustyline (its list pager panics beyond 65,535): only their common prefix is.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use nu_ansi_term::Color;
use rustyline::completion::{Completer as RlCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::lang::highlight;
use crate::repl::completion::{Candidate, Completer};
use crate::repl::is_command_with;

/// Lines longer than this are shown plain (no colour, no hint).
pub const LONG_LINE: usize = 4096;

/// The most completions offered at once.
pub const MAX_CANDIDATES: usize = 1000;

pub struct ShellHelper {
    pub completer: Completer,
    pub color: bool,
    /// The lines of the statement typed so far, before the current one.
    pub context: Rc<RefCell<String>>,
    /// The line being edited, split at the cursor (rustyline asks for a hint after every
    /// edit); `None` when unknown (a line too long to copy on each key).
    pub typed: Rc<RefCell<Option<(String, String)>>>,
}

impl ShellHelper {
    /// `line` and `pos` placed after the context lines, and the offset of `line` in there.
    fn with_context(&self, line: &str, pos: usize) -> (String, usize, usize) {
        let ctx = self.context.borrow();
        if ctx.is_empty() {
            return (line.to_string(), pos, 0);
        }
        let offset = ctx.len() + 1;
        (format!("{ctx}\n{line}"), offset + pos, offset)
    }
}

/// At most [`MAX_CANDIDATES`]; beyond that only the common prefix (which TAB inserts).
pub fn cap_candidates(cands: Vec<Candidate>) -> Vec<Candidate> {
    if cands.len() <= MAX_CANDIDATES {
        return cands;
    }
    let first = cands[0].replacement.clone();
    let mut prefix = first.len();
    for c in &cands[1..] {
        prefix = first
            .char_indices()
            .zip(c.replacement.chars())
            .take_while(|((i, a), b)| *i < prefix && a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0);
    }
    let common = first[..prefix].to_string();
    vec![Candidate {
        display: common.clone(),
        replacement: common,
    }]
}

impl Helper for ShellHelper {}

impl RlCompleter for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        // TAB at the start of a line (in a block) indents.
        if line[..pos.min(line.len())].trim().is_empty() && !self.context.borrow().is_empty() {
            return Ok((
                pos,
                vec![Pair {
                    display: "    ".into(),
                    replacement: "    ".into(),
                }],
            ));
        }
        let (full, at, offset) = self.with_context(line, pos);
        let (start, cands) = self.completer.complete(&full, at);
        let start = start.saturating_sub(offset).min(line.len());
        Ok((
            start,
            cap_candidates(cands)
                .into_iter()
                .map(|c| Pair {
                    display: c.display,
                    replacement: c.replacement,
                })
                .collect(),
        ))
    }
}

/// A hint shown in grey; only a name's remainder is accepted by → (not signatures).
pub struct ShellHint {
    text: String,
    accept: bool,
}

impl rustyline::hint::Hint for ShellHint {
    fn display(&self) -> &str {
        &self.text
    }
    fn completion(&self) -> Option<&str> {
        self.accept.then_some(self.text.as_str())
    }
}

impl Hinter for ShellHelper {
    type Hint = ShellHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<ShellHint> {
        if line.len() > LONG_LINE {
            *self.typed.borrow_mut() = None;
            return None;
        }
        if let (Some(l), Some(r)) = (line.get(..pos), line.get(pos..)) {
            *self.typed.borrow_mut() = Some((l.to_string(), r.to_string()));
        }
        let (full, at, _) = self.with_context(line, pos);
        let text = self.completer.hint(&full, at)?;
        let accept = !text.starts_with(' ');
        Some(ShellHint { text, accept })
    }
}

impl Highlighter for ShellHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.len() > LONG_LINE {
            return Cow::Borrowed(line);
        }
        let vars = &self.completer.vars;
        Cow::Owned(highlight::line(line, &|w| is_command_with(vars, w)))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(Color::DarkGray.paint(hint).to_string())
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color && line.len() <= LONG_LINE
    }
}

/// Lines are complete when Enter is pressed; the loop asks for continuation lines itself.
impl Validator for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, item 3: more than 65,535 completion candidates must not reach rustyline,
    /// whose list pager panics on them.
    #[test]
    fn more_than_65535_completion_candidates_are_capped() {
        let cands: Vec<Candidate> = (0..70_000)
            .map(|i| Candidate {
                display: format!("name_{i}"),
                replacement: format!("name_{i}"),
            })
            .collect();
        let capped = cap_candidates(cands);
        assert_eq!(capped.len(), 1);
        assert_eq!(capped[0].replacement, "name_");
        let few: Vec<Candidate> = (0..3)
            .map(|i| Candidate {
                display: format!("x{i}"),
                replacement: format!("x{i}"),
            })
            .collect();
        assert_eq!(cap_candidates(few.clone()), few);
    }
}

//! The rustyline helper: completion, hints, highlighting and multi-line validation.
//!
//! Highlighting and validation reuse the language's lexer, so what is coloured as a string is
//! exactly what the parser reads as one, and an unclosed bracket asks for another line.

use std::borrow::Cow;

use nu_ansi_term::{Color, Style};
use rustyline::completion::{Completer as RlCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::lang::lexer::{TokenKind, lex};
use crate::repl::completion::Completer;
use crate::repl::is_command;

pub struct ShellHelper {
    pub completer: Completer,
    pub color: bool,
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
        let (start, cands) = self.completer.complete(line, pos);
        Ok((
            start,
            cands
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
        let text = self.completer.hint(line, pos)?;
        let accept = !text.starts_with(' ');
        Some(ShellHint { text, accept })
    }
}

/// The style of each token kind (the same lexer as the parser).
fn style(kind: &TokenKind) -> Option<Style> {
    Some(match kind {
        TokenKind::Str(_) => Color::Green.normal(),
        TokenKind::Int(_) | TokenKind::Float(_) => Color::Cyan.normal(),
        TokenKind::Keyword(_) => Color::Magenta.normal(),
        TokenKind::CommandName(_) => Color::Blue.bold(),
        TokenKind::Bang(_) => Color::Yellow.normal(),
        TokenKind::Comment(_) => Color::DarkGray.normal(),
        TokenKind::Error(_) => Color::Red.underline(),
        _ => return None,
    })
}

impl Highlighter for ShellHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        let toks = lex(line, &is_command);
        let mut out = String::with_capacity(line.len() * 2);
        let mut at = 0;
        for t in &toks {
            let (s, e) = (t.span.start.min(line.len()), t.span.end.min(line.len()));
            if s < at || !line.is_char_boundary(s) || !line.is_char_boundary(e) {
                continue;
            }
            out.push_str(&line[at..s]);
            match style(&t.kind) {
                Some(st) => out.push_str(&st.paint(&line[s..e]).to_string()),
                None => out.push_str(&line[s..e]),
            }
            at = e;
        }
        out.push_str(&line[at..]);
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(Color::DarkGray.paint(hint).to_string())
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if needs_more(ctx.input(), &is_command) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

/// An unclosed bracket (outside strings and command lines) continues on the next line.
pub fn needs_more(input: &str, is_command: &dyn Fn(&str) -> bool) -> bool {
    let mut depth = 0i32;
    for t in lex(input, is_command) {
        match t.kind {
            TokenKind::Op("(") | TokenKind::Op("[") | TokenKind::Op("{") => depth += 1,
            TokenKind::Op(")") | TokenKind::Op("]") | TokenKind::Op("}") => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

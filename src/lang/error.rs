//! Errors of the language layer: a message and, when known, the span it is about.

use crate::lang::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    pub message: String,
    pub span: Option<Span>,
}

impl EvalError {
    pub fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
            span: None,
        }
    }

    pub fn at(message: impl Into<String>, span: Span) -> Self {
        EvalError {
            message: message.into(),
            span: Some(span),
        }
    }

    /// Attach a span if the error has none yet (the innermost span wins).
    pub fn or_at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

impl From<String> for EvalError {
    fn from(s: String) -> Self {
        EvalError::new(s)
    }
}

/// Render `line` with a caret line under `span` and the message after it.
pub fn render_caret(line: &str, span: Span, message: &str) -> String {
    // Show only the source line the span starts on (files and pasted blocks span lines).
    let start = span.start.min(line.len());
    let line_start = line[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = line[start..].find('\n').map_or(line.len(), |i| start + i);
    let src = &line[line_start..line_end];
    let col = line[line_start..start].chars().count();
    let end = span.end.clamp(start, line_end);
    let width = line[start..end].chars().count().max(1);
    format!("{src}\n{}{} {message}", " ".repeat(col), "^".repeat(width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_span() {
        let r = render_caret(
            "u.Service.MainPIX",
            Span { start: 10, end: 17 },
            "no such member",
        );
        assert_eq!(r, "u.Service.MainPIX\n          ^^^^^^^ no such member");
        let r = render_caret("a\nbé c", Span { start: 6, end: 7 }, "x");
        assert_eq!(r, "bé c\n   ^ x");
    }
}

//! Errors of the language layer, and the one place they are rendered against their source.
//!
//! Why a kind: control flow that unwinds through expressions (`exit()`, Ctrl-C, a reader that
//! went away) travels the same path as failures, but callers must never tell them apart by
//! message text. A D-Bus error keeps its error name, so reporting can add advice for people
//! (at the REPL/CLI edge) and scripts can catch it by name.

use crate::bus::connection::CallError;
use crate::lang::span::{Span, floor_boundary, line_col};

/// What kind of thing went wrong (or what unwinds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary failure: a bad argument, a type error, a local problem.
    Failed,
    /// A peer answered with a D-Bus error; the name (`org.freedesktop.systemd1.NoSuchUnit`).
    Dbus(String),
    /// A peer did not answer in time.
    Timeout,
    /// The bus could not be reached, or the connection broke.
    Disconnected,
    /// Ctrl-C while a statement ran.
    Interrupted,
    /// `exit()` / `quit`: leave with this status.
    Exit(i32),
    /// Our output's reader went away (EPIPE): stop quietly.
    BrokenPipe,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub span: Option<Span>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            message: message.into(),
            span: None,
        }
    }

    pub fn at(message: impl Into<String>, span: Span) -> Self {
        Error::new(message).or_at(span)
    }

    /// `exit(code)`; the message is empty unless exit was given a text to print.
    pub fn exit(code: i32) -> Self {
        Error {
            kind: Kind::Exit(code),
            message: String::new(),
            span: None,
        }
    }

    pub fn interrupted() -> Self {
        Error {
            kind: Kind::Interrupted,
            message: "interrupted".into(),
            span: None,
        }
    }

    /// A bus call's failure, keeping its kind, with our own wording of it.
    pub fn call(e: &CallError, message: impl Into<String>) -> Self {
        let kind = match e {
            CallError::Dbus { name, .. } => Kind::Dbus(name.clone()),
            CallError::Interrupted => Kind::Interrupted,
            CallError::Timeout { .. } => Kind::Timeout,
            CallError::Connection(_) => Kind::Disconnected,
            CallError::Invalid(_) => Kind::Failed,
        };
        Error {
            kind,
            message: message.into(),
            span: None,
        }
    }

    /// An I/O error while writing output; a closed pipe is not a failure.
    pub fn io(e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Error {
                kind: Kind::BrokenPipe,
                message: "broken pipe".into(),
                span: None,
            };
        }
        Error::new(format!("writing output failed: {e}"))
    }

    /// Attach a span if the error has none yet (the innermost span wins).
    pub fn or_at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    /// Put `context` in front of the message, keeping the kind (`Failed to …: <message>`).
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The message placed against `src`: a caret line under the span (`caret`), or the
    /// message with its line and column, for logs and pipes.
    pub fn render(&self, src: &str, caret: bool) -> String {
        match self.span {
            Some(span) if caret => render_caret(src, span, &self.message),
            Some(span) => {
                let (line, col) = line_col(src, span.start);
                if src.contains('\n') {
                    format!("{} (line {line}, column {col})", self.message)
                } else {
                    format!("{} (column {col})", self.message)
                }
            }
            None => self.message.clone(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error::new(s)
    }
}

impl From<&CallError> for Error {
    fn from(e: &CallError) -> Self {
        Error::call(e, e.to_string())
    }
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Self {
        Error::from(&e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(&e)
    }
}

/// The physical line `span` starts on, then a caret line under the span (in characters, tabs
/// kept so the carets line up) followed by the message:
///
/// ```text
/// f(1, 2
///       ^ expected ')' to close '(' at column 2
/// ```
pub fn render_caret(src: &str, span: Span, message: &str) -> String {
    let start = floor_boundary(src, span.start);
    let ls = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let le = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let end = floor_boundary(src, span.end).clamp(start, le);
    let pad: String = src[ls..start]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let carets = "^".repeat(src[start..end].chars().count().max(1));
    format!("{}\n{pad}{carets} {message}", &src[ls..le])
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
        let r = render_caret("\tf(", Span { start: 3, end: 3 }, "x");
        assert_eq!(r, "\tf(\n\t  ^ x");
    }

    #[test]
    fn one_line_form_names_line_and_column() {
        let e = Error::at("boom", Span::new(8, 9));
        assert_eq!(e.render("x = 1\ny = x +", false), "boom (line 2, column 3)");
        let e = Error::at("boom", Span::new(2, 3));
        assert_eq!(e.render("a b", false), "boom (column 3)");
        assert_eq!(Error::new("plain").render("a b", false), "plain");
    }

    #[test]
    fn kinds_come_from_the_call_not_the_text() {
        let e = Error::from(CallError::Dbus {
            name: "org.x.Error".into(),
            message: "the user interrupted".into(),
        });
        assert_eq!(e.kind, Kind::Dbus("org.x.Error".into()));
        assert_eq!(Error::from(CallError::Interrupted).kind, Kind::Interrupted);
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(Error::io(&pipe).kind, Kind::BrokenPipe);
    }
}

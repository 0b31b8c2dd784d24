//! Errors of the language layer (they are the language's exceptions), and the one place they
//! are rendered against their source.
//!
//! Why a kind: control flow that unwinds through expressions (`exit()`, Ctrl-C, a reader that
//! went away) travels the same path as failures, but callers must never tell them apart by
//! message text. A D-Bus error keeps its error name, so reporting can add advice for people
//! (at the REPL/CLI edge) and scripts can catch it by name (`except NoSuchUnit:`). Each kind
//! is an exception class ([`PyExc`]) for `try`/`except`: Ctrl-C is `KeyboardInterrupt` and
//! `exit()` is `SystemExit`, which `except Exception` does not catch.

use crate::bus::connection::CallError;
use crate::lang::span::{Span, floor_boundary, line_col};
use crate::lang::value::Value;

/// What kind of thing went wrong (or what unwinds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An ordinary failure: a bad argument, a local problem (class `Exception`).
    Failed,
    /// A Python exception class: raised by the evaluator (`KeyError`, `TypeError`, …) or by
    /// `raise`.
    Py(PyExc),
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

/// The exception classes the language knows, with Python's hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PyExc {
    BaseException,
    SystemExit,
    KeyboardInterrupt,
    Exception,
    ArithmeticError,
    ZeroDivisionError,
    OverflowError,
    LookupError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    NameError,
    UnboundLocalError,
    AttributeError,
    RuntimeError,
    RecursionError,
    NotImplementedError,
    AssertionError,
    MemoryError,
    ImportError,
    ModuleNotFoundError,
    StopIteration,
    OSError,
    FileNotFoundError,
    PermissionError,
    TimeoutError,
    ConnectionError,
    BrokenPipeError,
    SubprocessError,
    CalledProcessError,
    /// Any error a D-Bus peer answered with (also caught by the last part of its name).
    DBusError,
    SyntaxError,
}

impl PyExc {
    pub const ALL: &'static [PyExc] = &[
        PyExc::BaseException,
        PyExc::SystemExit,
        PyExc::KeyboardInterrupt,
        PyExc::Exception,
        PyExc::ArithmeticError,
        PyExc::ZeroDivisionError,
        PyExc::OverflowError,
        PyExc::LookupError,
        PyExc::KeyError,
        PyExc::IndexError,
        PyExc::TypeError,
        PyExc::ValueError,
        PyExc::NameError,
        PyExc::UnboundLocalError,
        PyExc::AttributeError,
        PyExc::RuntimeError,
        PyExc::RecursionError,
        PyExc::NotImplementedError,
        PyExc::AssertionError,
        PyExc::MemoryError,
        PyExc::ImportError,
        PyExc::ModuleNotFoundError,
        PyExc::StopIteration,
        PyExc::OSError,
        PyExc::FileNotFoundError,
        PyExc::PermissionError,
        PyExc::TimeoutError,
        PyExc::ConnectionError,
        PyExc::BrokenPipeError,
        PyExc::SubprocessError,
        PyExc::CalledProcessError,
        PyExc::DBusError,
        PyExc::SyntaxError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PyExc::BaseException => "BaseException",
            PyExc::SystemExit => "SystemExit",
            PyExc::KeyboardInterrupt => "KeyboardInterrupt",
            PyExc::Exception => "Exception",
            PyExc::ArithmeticError => "ArithmeticError",
            PyExc::ZeroDivisionError => "ZeroDivisionError",
            PyExc::OverflowError => "OverflowError",
            PyExc::LookupError => "LookupError",
            PyExc::KeyError => "KeyError",
            PyExc::IndexError => "IndexError",
            PyExc::TypeError => "TypeError",
            PyExc::ValueError => "ValueError",
            PyExc::NameError => "NameError",
            PyExc::UnboundLocalError => "UnboundLocalError",
            PyExc::AttributeError => "AttributeError",
            PyExc::RuntimeError => "RuntimeError",
            PyExc::RecursionError => "RecursionError",
            PyExc::NotImplementedError => "NotImplementedError",
            PyExc::AssertionError => "AssertionError",
            PyExc::MemoryError => "MemoryError",
            PyExc::ImportError => "ImportError",
            PyExc::ModuleNotFoundError => "ModuleNotFoundError",
            PyExc::StopIteration => "StopIteration",
            PyExc::OSError => "OSError",
            PyExc::FileNotFoundError => "FileNotFoundError",
            PyExc::PermissionError => "PermissionError",
            PyExc::TimeoutError => "TimeoutError",
            PyExc::ConnectionError => "ConnectionError",
            PyExc::BrokenPipeError => "BrokenPipeError",
            PyExc::SubprocessError => "SubprocessError",
            PyExc::CalledProcessError => "CalledProcessError",
            PyExc::DBusError => "DBusError",
            PyExc::SyntaxError => "SyntaxError",
        }
    }

    pub fn from_name(name: &str) -> Option<PyExc> {
        PyExc::ALL.iter().copied().find(|c| c.name() == name)
    }

    pub fn parent(self) -> Option<PyExc> {
        use PyExc::*;
        Some(match self {
            BaseException => return None,
            SystemExit | KeyboardInterrupt | Exception => BaseException,
            ZeroDivisionError | OverflowError => ArithmeticError,
            KeyError | IndexError => LookupError,
            UnboundLocalError => NameError,
            RecursionError | NotImplementedError => RuntimeError,
            ModuleNotFoundError => ImportError,
            FileNotFoundError | PermissionError | TimeoutError | ConnectionError => OSError,
            BrokenPipeError => ConnectionError,
            CalledProcessError => SubprocessError,
            _ => Exception,
        })
    }

    /// Is this class `other` or derived from it?
    pub fn is_a(self, other: PyExc) -> bool {
        let mut c = Some(self);
        while let Some(x) = c {
            if x == other {
                return true;
            }
            c = x.parent();
        }
        false
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub span: Option<Span>,
    /// For a D-Bus error: the peer's own message (`e.message`).
    pub dbus_message: Option<String>,
    /// The arguments the exception was made with (`raise ValueError("x", 1)`).
    pub args: Vec<Value>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            message: message.into(),
            span: None,
            dbus_message: None,
            args: Vec::new(),
        }
    }

    #[cfg(test)]
    pub fn at(message: impl Into<String>, span: Span) -> Self {
        Error::new(message).or_at(span)
    }

    /// An error of a Python exception class.
    pub fn py(class: PyExc, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Py(class),
            ..Error::new(message)
        }
    }

    pub fn type_error(message: impl Into<String>) -> Self {
        Error::py(PyExc::TypeError, message)
    }

    pub fn value_error(message: impl Into<String>) -> Self {
        Error::py(PyExc::ValueError, message)
    }

    /// `exit(code)`; the message is empty unless exit was given a text to print.
    pub fn exit(code: i32) -> Self {
        Error {
            kind: Kind::Exit(code),
            ..Error::new("")
        }
    }

    pub fn interrupted() -> Self {
        Error {
            kind: Kind::Interrupted,
            ..Error::new("interrupted")
        }
    }

    /// A bus call's failure, keeping its kind, with our own wording of it.
    pub fn call(e: &CallError, message: impl Into<String>) -> Self {
        let (kind, dbus_message) = match e {
            CallError::Dbus { name, message } => (Kind::Dbus(name.clone()), Some(message.clone())),
            CallError::Interrupted => (Kind::Interrupted, None),
            CallError::Timeout { .. } => (Kind::Timeout, None),
            CallError::Connection(_) => (Kind::Disconnected, None),
            CallError::Invalid(_) => (Kind::Failed, None),
        };
        Error {
            kind,
            dbus_message,
            ..Error::new(message)
        }
    }

    /// An I/O error while writing output; a closed pipe is not a failure.
    pub fn io(e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Error {
                kind: Kind::BrokenPipe,
                ..Error::new("broken pipe")
            };
        }
        Error::os(e, "writing output failed")
    }

    /// An OS error, as the matching exception class (`FileNotFoundError`, …).
    pub fn os(e: &std::io::Error, context: impl std::fmt::Display) -> Self {
        use std::io::ErrorKind as K;
        let class = match e.kind() {
            K::NotFound => PyExc::FileNotFoundError,
            K::PermissionDenied => PyExc::PermissionError,
            K::BrokenPipe => PyExc::BrokenPipeError,
            K::TimedOut => PyExc::TimeoutError,
            _ => PyExc::OSError,
        };
        Error::py(class, format!("{context}: {e}"))
    }

    /// The exception class of this error.
    pub fn class(&self) -> PyExc {
        match &self.kind {
            Kind::Failed => PyExc::Exception,
            Kind::Py(c) => *c,
            Kind::Dbus(_) => PyExc::DBusError,
            Kind::Timeout => PyExc::TimeoutError,
            Kind::Disconnected => PyExc::ConnectionError,
            Kind::Interrupted => PyExc::KeyboardInterrupt,
            Kind::Exit(_) => PyExc::SystemExit,
            Kind::BrokenPipe => PyExc::BrokenPipeError,
        }
    }

    /// The class name shown to people: a D-Bus error shows the last part of its name.
    pub fn class_name(&self) -> &str {
        match &self.kind {
            Kind::Dbus(name) => name.rsplit('.').next().unwrap_or(name),
            _ => self.class().name(),
        }
    }

    /// Does `except CLASS` catch this error?
    pub fn is_a(&self, class: PyExc) -> bool {
        self.class().is_a(class)
    }

    /// Does `except NAME` catch this error, NAME being the last part of a D-Bus error name
    /// (`NoSuchUnit`) or the whole name?
    pub fn is_dbus(&self, short: &str) -> bool {
        match &self.kind {
            Kind::Dbus(name) => name == short || name.rsplit('.').next() == Some(short),
            _ => false,
        }
    }

    /// The exception's text, as `str(e)` shows it.
    pub fn display_message(&self) -> String {
        match (&self.kind, self.args.as_slice()) {
            (_, [one]) => one.to_display(),
            (Kind::Py(PyExc::KeyError), []) => self.message.clone(),
            _ => self.message.clone(),
        }
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
    /// message with its line and column, for logs and pipes. `first_line` is the line of the
    /// file `src` starts at (1 unless it is a part of a script).
    #[cfg(test)]
    pub fn render(&self, src: &str, caret: bool) -> String {
        self.render_at(src, caret, 1)
    }

    pub fn render_at(&self, src: &str, caret: bool, first_line: usize) -> String {
        let multi = src.trim_end_matches('\n').contains('\n') || first_line > 1;
        let label = self.label();
        match self.span {
            Some(span) if caret => {
                let (line, _) = line_col(src, span.start);
                let message = if multi {
                    format!("{label}{} (line {})", self.message, line + first_line - 1)
                } else {
                    format!("{label}{}", self.message)
                };
                render_caret(src, span, &message)
            }
            Some(span) => {
                let (line, col) = line_col(src, span.start);
                if multi {
                    format!(
                        "{label}{} (line {}, column {col})",
                        self.message,
                        line + first_line - 1
                    )
                } else {
                    format!("{label}{} (column {col})", self.message)
                }
            }
            None => format!("{label}{}", self.message),
        }
    }

    /// `KeyError: ` before the message of the exceptions a script may catch by class;
    /// failures, D-Bus errors and the rest speak for themselves.
    fn label(&self) -> String {
        match &self.kind {
            Kind::Interrupted => "KeyboardInterrupt: ".to_string(),
            Kind::Py(c) if !self.message.is_empty() => format!("{}: ", c.name()),
            Kind::Py(c) => c.name().to_string(),
            _ => String::new(),
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
        assert_eq!(
            e.render("x = 1\ny = x +", true),
            "y = x +\n  ^ boom (line 2)"
        );
        assert_eq!(
            e.render_at("x = 1\ny = x +", false, 10),
            "boom (line 11, column 3)"
        );
        let e = Error::at("boom", Span::new(2, 3));
        assert_eq!(e.render("a b", false), "boom (column 3)");
        assert_eq!(Error::new("plain").render("a b", false), "plain");
        let k = Error::py(PyExc::KeyError, "'x'");
        assert_eq!(k.render("d['x']", false), "KeyError: 'x'");
    }

    #[test]
    fn kinds_come_from_the_call_not_the_text() {
        let e = Error::from(CallError::Dbus {
            name: "org.x.Error".into(),
            message: "the user interrupted".into(),
        });
        assert_eq!(e.kind, Kind::Dbus("org.x.Error".into()));
        assert_eq!(e.dbus_message.as_deref(), Some("the user interrupted"));
        assert_eq!(Error::from(CallError::Interrupted).kind, Kind::Interrupted);
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(Error::io(&pipe).kind, Kind::BrokenPipe);
    }

    #[test]
    fn classes_follow_pythons_hierarchy() {
        let rows = [
            (Kind::Py(PyExc::KeyError), PyExc::LookupError, true),
            (Kind::Py(PyExc::KeyError), PyExc::Exception, true),
            (Kind::Dbus("a.b.NoSuchUnit".into()), PyExc::Exception, true),
            (Kind::Interrupted, PyExc::Exception, false),
            (Kind::Interrupted, PyExc::KeyboardInterrupt, true),
            (Kind::Exit(0), PyExc::Exception, false),
            (Kind::Exit(0), PyExc::BaseException, true),
            (Kind::Failed, PyExc::Exception, true),
            (Kind::Timeout, PyExc::OSError, true),
        ];
        for (kind, class, want) in rows {
            let e = Error {
                kind: kind.clone(),
                ..Error::new("x")
            };
            assert_eq!(e.is_a(class), want, "{kind:?} is a {class:?}");
        }
        let e = Error {
            kind: Kind::Dbus("org.freedesktop.systemd1.NoSuchUnit".into()),
            ..Error::new("x")
        };
        assert!(e.is_dbus("NoSuchUnit") && !e.is_dbus("NoSuch"));
        assert_eq!(e.class_name(), "NoSuchUnit");
    }
}

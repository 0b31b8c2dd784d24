//! Terminal policy: when to colour, when to ellipsize, when to page.
//!
//! Why one place: colour and layout decisions used to be taken wherever output was written
//! (a NO_COLOR check here, an isatty there). Every layer that prints asks a [`Term`] instead,
//! decided once at start from the command line and the environment. This module depends on
//! nothing else in the crate, so any layer may use it.

pub mod pager;
pub mod pty;
pub mod signals;

use std::io::IsTerminal;

/// `--color=auto|always|never`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub const NAMES: &'static [&'static str] = &["auto", "always", "never"];

    pub fn parse(s: &str) -> Option<ColorChoice> {
        match s {
            "auto" => Some(ColorChoice::Auto),
            "always" | "yes" => Some(ColorChoice::Always),
            "never" | "no" => Some(ColorChoice::Never),
            _ => None,
        }
    }

    /// Colour for a stream that is (or is not) a terminal: `--color` wins, then `NO_COLOR`
    /// (any non-empty value) and `TERM=dumb` turn it off, else colour on terminals only.
    pub fn enabled(self, is_tty: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_tty
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        }
    }
}

/// How output is laid out for its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr (error labels).
    pub color_err: bool,
    /// stdout is a terminal: busctl then ellipsizes wide columns.
    pub tty: bool,
    /// `-l/--full`: never ellipsize.
    pub full: bool,
}

impl Term {
    pub fn detect(choice: ColorChoice, full: bool) -> Term {
        let tty = std::io::stdout().is_terminal();
        Term {
            color: choice.enabled(tty),
            color_err: choice.enabled(std::io::stderr().is_terminal()),
            tty,
            full,
        }
    }

    /// Should wide columns be cut to the terminal's width?
    pub fn ellipsize(&self) -> bool {
        self.tty && !self.full
    }
}

/// Ask a yes/no question on the terminal (stderr, then a line from stdin); `None` when there
/// is no terminal to ask on (scripts, pipes), so the caller just goes on.
pub fn confirm(question: &str) -> Option<bool> {
    use std::io::{BufRead, Write};
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return None;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return Some(false);
    }
    Some(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choice_wins() {
        assert!(ColorChoice::Always.enabled(false));
        assert!(!ColorChoice::Never.enabled(true));
        assert!(!ColorChoice::Auto.enabled(false));
        assert_eq!(ColorChoice::parse("always"), Some(ColorChoice::Always));
        assert_eq!(ColorChoice::parse("sometimes"), None);
    }

    #[test]
    fn full_stops_ellipsizing() {
        let t = Term {
            color: false,
            color_err: false,
            tty: true,
            full: false,
        };
        assert!(t.ellipsize());
        assert!(!Term { full: true, ..t }.ellipsize());
    }
}

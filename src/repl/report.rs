//! Reporting errors to people: the edge where advice is added.
//!
//! The layers below describe what went wrong; only here, where we know a person is reading
//! and how this shell was started, do we add what to do about it (run as root, use
//! `scripts/workshop`, raise `--timeout`). Kinds, not message texts, decide.

use std::io::Write;

use crate::bus::connection::BusTarget;
use crate::lang::error::{Error, Kind};
use crate::term::Term;

/// Advice for an error, if we have any.
pub fn hint(e: &Error, target: &BusTarget) -> Option<&'static str> {
    match &e.kind {
        Kind::Dbus(name)
            if name == "org.freedesktop.DBus.Error.AccessDenied"
                || name == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" =>
        {
            Some("run the shell as root; scripts/workshop does")
        }
        Kind::Disconnected if *target == BusTarget::System => Some(
            "is systemd running here? scripts/workshop gives a shell on a real systemd in a \
             sandbox",
        ),
        Kind::Timeout => Some("the peer is slow or stuck; try again, or raise --timeout"),
        _ => None,
    }
}

/// Print `e` (about `src`, which starts at line `first_line` of its file) to stderr: the
/// caret form on a terminal, one line otherwise.
pub fn report_at(src: &str, first_line: usize, e: &Error, term: &Term, target: &BusTarget) {
    let mut e = e.clone();
    if let Some(h) = hint(&e, target) {
        e.message = format!("{} ({h})", e.message);
    }
    let text = e.render_at(src, stderr_is_tty(), first_line);
    let label = if term.color_err {
        nu_ansi_term::Color::Red.bold().paint("error:").to_string()
    } else {
        "error:".to_string()
    };
    let _ = writeln!(std::io::stderr().lock(), "{label} {text}");
}

/// A one-shot command's error: exactly the message, as busctl prints its own (no label).
pub fn report_plain(e: &Error, target: &BusTarget) {
    let text = match hint(e, target) {
        Some(h) => format!("{} ({h})", e.message),
        None => e.message.clone(),
    };
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn stderr_is_tty() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_kinds_not_texts() {
        let mut denied = Error::new("Access denied");
        denied.kind = Kind::Dbus("org.freedesktop.DBus.Error.AccessDenied".into());
        assert!(
            hint(&denied, &BusTarget::System)
                .unwrap()
                .contains("as root")
        );
        // A message that merely mentions access gets no advice.
        let text = Error::new("org.freedesktop.DBus.Error.AccessDenied: no");
        assert_eq!(hint(&text, &BusTarget::System), None);
        let mut gone = Error::new("cannot connect");
        gone.kind = Kind::Disconnected;
        assert!(hint(&gone, &BusTarget::System).is_some());
        assert_eq!(hint(&gone, &BusTarget::User), None);
    }
}

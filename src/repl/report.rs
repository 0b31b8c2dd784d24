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
        Kind::Dbus(name) if name == "org.freedesktop.systemd1.NoUnitForPID" => Some(
            "that process belongs to no unit: a shell started by a plain `scripts/sandbox exec` \
             is outside every unit; start the shell with scripts/workshop (it runs it in a \
             scope), or in a scope of your own: systemd-run --scope rustemd-shell",
        ),
        Kind::Timeout => Some("the peer is slow or stuck; try again, or raise --timeout"),
        _ => None,
    }
}

/// Control characters in a message (a peer's error text may carry terminal escape codes)
/// written as escapes, so an error can never drive the terminal.
pub fn sanitize(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Print `e` (about `src`, which starts at line `first_line` of its file) to stderr: the
/// caret form on a terminal, one line otherwise.
pub fn report_at(src: &str, first_line: usize, e: &Error, term: &Term, target: &BusTarget) {
    let mut e = e.clone();
    e.message = sanitize(&e.message);
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
    let message = sanitize(&e.message);
    let text = match hint(e, target) {
        Some(h) => format!("{message} ({h})"),
        None => message,
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
    fn escape_codes_from_peers_are_shown_not_obeyed() {
        assert_eq!(sanitize("boom\x1b[2J\x07\n"), "boom\\x1b[2J\\x07\\n");
        assert_eq!(sanitize("é ok"), "é ok");
    }

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
        let mut no_unit = Error::new("PID 7 does not belong to any loaded unit.");
        no_unit.kind = Kind::Dbus("org.freedesktop.systemd1.NoUnitForPID".into());
        assert!(
            hint(&no_unit, &BusTarget::System)
                .unwrap()
                .contains("scripts/workshop")
        );
    }
}

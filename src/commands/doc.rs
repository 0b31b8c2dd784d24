//! The program's own documentation, made from the declarations: `rustemd-shell --help` and
//! the manual page say the same things because they are written from the same tables.

use super::flags::SHELL;
use super::{Origin, visible};

pub const ABOUT: &str = "A line-editing shell for exploring D-Bus and driving systemd.";

/// Exit statuses, as `--help` and the man page document them.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "success (also when the reader of the output went away)",
    ),
    ("1", "a statement or command failed"),
    ("2", "the command line was wrong (usage)"),
    ("130", "interrupted by Ctrl-C"),
];

const MODES: &[(&str, &str)] = &[
    (
        "(no arguments)",
        "the interactive shell on a terminal; statements from stdin otherwise",
    ),
    ("-c STATEMENTS [ARG...]", "run STATEMENTS and exit"),
    ("FILE [ARG...]", "run the statements in FILE and exit"),
    ("VERB [ARG...]", "run one command and exit (see below)"),
];

/// `rustemd-shell --help`.
pub fn cli_help() -> String {
    let mut out = format!(
        "usage: rustemd-shell [OPTIONS] [-c STATEMENTS | FILE | VERB] [ARG...]\n\n{ABOUT}\n\n"
    );
    for (m, d) in MODES {
        out.push_str(&format!("  {m:<24} {d}\n"));
    }
    out.push_str("\noptions:\n");
    for f in SHELL {
        out.push_str(&format!("  {:<26} {}\n", f.spelling(), f.help));
    }
    out.push_str("\nverbs (VERB --help for each; the same commands work at the prompt):\n");
    for c in visible(Origin::Cli) {
        out.push_str(&format!("  {:<16} {}\n", c.name, c.summary));
    }
    out.push_str("\nexit status:\n");
    for (code, what) in EXIT_STATUS {
        out.push_str(&format!("  {code:<5} {what}\n"));
    }
    out
}

/// Escape text for roff: backslashes, and a leading dot or quote.
fn roff(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// The manual page, rustemd-shell(1).
pub fn manpage() -> String {
    let mut m = String::new();
    m.push_str(&format!(
        ".TH RUSTEMD\\-SHELL 1 \"\" \"rustemd-shell {}\" \"User Commands\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    m.push_str(".SH NAME\nrustemd\\-shell \\- ");
    m.push_str(&roff(ABOUT));
    m.push_str("\n.SH SYNOPSIS\n");
    for (mode, _) in MODES {
        m.push_str(&format!(
            ".B rustemd\\-shell\n[OPTIONS] {}\n.br\n",
            roff(mode)
        ));
    }
    m.push_str(".SH DESCRIPTION\n");
    m.push_str(
        "A REPL for exploring D\\-Bus the way busctl does (same verbs, same arguments, same \
         output) and for talking to systemd the way pystemd does, with TAB completion over \
         live introspection.\n",
    );
    for (mode, what) in MODES {
        m.push_str(&format!(".TP\n.B {}\n{}\n", roff(mode), roff(what)));
    }
    m.push_str(".SH OPTIONS\n");
    for f in SHELL {
        m.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            roff(&f.spelling()),
            roff(f.help)
        ));
    }
    m.push_str(".SH COMMANDS\n");
    for c in visible(Origin::Cli) {
        m.push_str(&format!(
            ".TP\n.B {}\n{}\n.IP\n{}\n",
            roff(&c.usage()),
            roff(c.summary),
            roff(c.help)
        ));
        for f in c.flags {
            m.push_str(&format!(
                ".IP\n.B {}\n{}\n",
                roff(&f.spelling()),
                roff(f.help)
            ));
        }
    }
    m.push_str(".SH EXIT STATUS\n");
    for (code, what) in EXIT_STATUS {
        m.push_str(&format!(".TP\n.B {code}\n{}\n", roff(what)));
    }
    m.push_str(
        ".SH ENVIRONMENT\n.TP\n.B DBUS_SYSTEM_BUS_ADDRESS\nThe system bus (as for busctl).\n\
         .TP\n.B NO_COLOR\nNo colours when set and not empty.\n\
         .TP\n.B SYSTEMD_PAGER, PAGER\nThe pager for long output on a terminal (empty or cat: \
         none).\n\
         .SH SEE ALSO\n.BR busctl (1),\n.BR systemctl (1),\n.BR systemd\\-run (1)\n",
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_and_manpage_document_every_option_and_verb() {
        let help = cli_help();
        let man = manpage();
        for f in SHELL {
            assert!(help.contains(&f.spelling()), "--help lacks {}", f.long);
            assert!(man.contains(&roff(&f.spelling())), "man lacks {}", f.long);
        }
        for c in visible(Origin::Cli) {
            assert!(help.contains(c.name), "--help lacks {}", c.name);
            assert!(man.contains(&roff(&c.usage())), "man lacks {}", c.name);
        }
        for (code, _) in EXIT_STATUS {
            assert!(help.contains(code) && man.contains(code));
        }
        assert!(man.starts_with(".TH RUSTEMD\\-SHELL 1"));
    }
}

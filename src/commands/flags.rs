//! Every option, declared once. The CLI, command lines at the prompt, `--help`, completion and
//! the man page read these tables; spellings and texts follow busctl's `--help`.

use super::spec::Flag;

const fn switch(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
    Flag {
        long,
        short,
        value: None,
        choices: &[],
        help,
    }
}

const fn valued(long: &'static str, value: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        value: Some(value),
        choices: &[],
        help,
    }
}

// ----- accepted by every command line -----

pub static HELP: Flag = switch("help", Some('h'), "Show this help");
pub static TIMEOUT: Flag = valued(
    "timeout",
    "SECS",
    "Maximum time to wait for method call completion (e.g. 5, 500ms, infinity)",
);
pub static FULL: Flag = switch("full", Some('l'), "Do not ellipsize output");
pub static NO_PAGER: Flag = switch("no-pager", None, "Do not pipe output into a pager");

/// Options every command takes.
pub static LINE: &[&Flag] = &[&HELP, &TIMEOUT, &FULL, &NO_PAGER];

// ----- chosen once for the whole session (command line of the shell only) -----

pub static SYSTEM: Flag = switch(
    "system",
    None,
    "Connect to the system bus (default; honours DBUS_SYSTEM_BUS_ADDRESS)",
);
pub static USER: Flag = switch("user", None, "Connect to the user bus");
pub static ADDRESS: Flag = valued("address", "ADDRESS", "Connect to the bus at ADDRESS");
pub static COLOR: Flag = Flag {
    long: "color",
    short: None,
    value: Some("WHEN"),
    choices: crate::term::ColorChoice::NAMES,
    help: "Colour output: auto (on terminals, unless NO_COLOR or TERM=dumb), always, never",
};

/// Options that choose the session; taken by the shell's own command line (also after a
/// one-shot verb, as busctl takes them anywhere), refused at the prompt.
pub static SESSION: &[&Flag] = &[&SYSTEM, &USER, &ADDRESS, &COLOR];

// ----- the shell's own modes -----

pub static STATEMENTS: Flag = Flag {
    long: "command",
    short: Some('c'),
    value: Some("STATEMENTS"),
    choices: &[],
    help: "Run STATEMENTS and exit (later arguments become sys.argv)",
};
pub static VERSION: Flag = switch("version", Some('V'), "Show the version");

/// The shell's own options, in the order `--help` lists them.
pub static SHELL: &[&Flag] = &[
    &STATEMENTS,
    &SYSTEM,
    &USER,
    &ADDRESS,
    &TIMEOUT,
    &COLOR,
    &NO_PAGER,
    &FULL,
    &HELP,
    &VERSION,
];

// ----- options of particular verbs -----

pub static QUIET: Flag = switch("quiet", Some('q'), "Don't show method call reply");
pub static NO_LEGEND: Flag = switch("no-legend", None, "Do not show the headers and footers");

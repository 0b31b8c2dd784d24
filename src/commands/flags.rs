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
pub static HOST: Flag = Flag {
    long: "host",
    short: Some('H'),
    value: Some("[USER@]HOST"),
    choices: &[],
    help: "Operate on remote host (ssh, then systemd-stdio-bridge there)",
};
pub static MACHINE: Flag = Flag {
    long: "machine",
    short: Some('M'),
    value: Some("CONTAINER"),
    choices: &[],
    help: "Operate on local container (a scripts/sandbox name, or one machined knows)",
};
pub static COLOR: Flag = Flag {
    long: "color",
    short: None,
    value: Some("WHEN"),
    choices: crate::term::ColorChoice::NAMES,
    help: "Colour output: auto (on terminals, unless NO_COLOR or TERM=dumb), always, never",
};

/// Options that choose the session; taken by the shell's own command line (also after a
/// one-shot verb, as busctl takes them anywhere), refused at the prompt.
pub static SESSION: &[&Flag] = &[&SYSTEM, &USER, &ADDRESS, &HOST, &MACHINE, &COLOR];

// ----- the shell's own modes -----

pub static STATEMENTS: Flag = Flag {
    long: "command",
    short: Some('c'),
    value: Some("STATEMENTS"),
    choices: &[],
    help: "Run STATEMENTS and exit (later arguments become sys.argv)",
};
pub static VERSION: Flag = switch("version", Some('V'), "Show the version");
pub static PLAY: Flag = valued(
    "play",
    "FILE",
    "Play the demo script FILE for an audience: each statement typed out, Enter runs it \
     (b back, s skip, q quit), output checked against its #> checkpoints",
);
pub static NO_PAUSE: Flag = switch(
    "no-pause",
    None,
    "Play straight through without waiting for keys (exit status 1 when a checkpoint fails)",
);
pub static SPEED: Flag = valued(
    "speed",
    "CPS",
    "Typing speed of a playback, characters per second (default 40; 0 types at once)",
);

/// The shell's own options, in the order `--help` lists them.
pub static SHELL: &[&Flag] = &[
    &STATEMENTS,
    &PLAY,
    &NO_PAUSE,
    &SPEED,
    &SYSTEM,
    &USER,
    &ADDRESS,
    &HOST,
    &MACHINE,
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

/// A busctl boolean (`yes`, `no`, `1`, `false`, `on`, … in any case: systemd's
/// `parse_boolean()`, checked by the command), so no fixed list of choices.
const fn boolean(long: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        value: Some("BOOL"),
        choices: &[],
        help,
    }
}

pub static JSON: Flag = Flag {
    long: "json",
    short: None,
    value: Some("MODE"),
    choices: crate::busctl::json::Mode::NAMES,
    help: "Output as JSON (short, pretty or off)",
};
/// busctl's `-j` has no long form; ours is `--j`, shown as `-j`.
pub static J: Flag = switch(
    "j",
    Some('j'),
    "Same as --json=pretty on tty, --json=short otherwise",
);
pub static VERBOSE: Flag = switch("verbose", None, "Show result values in long format");
pub static XML_INTERFACE: Flag = switch(
    "xml-interface",
    None,
    "Dump the XML description in introspect command",
);
pub static LIST: Flag = switch("list", None, "Don't show tree, but simple object path list");
pub static EXPECT_REPLY: Flag = boolean("expect-reply", "Expect a method call reply");
pub static AUTO_START: Flag = boolean("auto-start", "Auto-start destination service");
pub static ALLOW_INTERACTIVE_AUTHORIZATION: Flag = boolean(
    "allow-interactive-authorization",
    "Allow interactive authorization for operation",
);
pub static AUGMENT_CREDS: Flag = boolean(
    "augment-creds",
    "Extend credential data with data read from /proc/$PID",
);
pub static SIZE: Flag = valued("size", "SIZE", "Maximum length of captured packet");
pub static DESTINATION: Flag = valued("destination", "SERVICE", "Destination service of a signal");
pub static MATCH: Flag = valued(
    "match",
    "MATCH",
    "Only show matching messages (repeatable; with SERVICE, both must match)",
);
pub static LIMIT_MESSAGES: Flag = valued(
    "limit-messages",
    "NUMBER",
    "Stop after NUMBER messages (as busctl 255)",
);
pub static PAIR: Flag = switch(
    "pair",
    None,
    "Show what each reply or error answers, with the call's latency",
);
pub static WHO: Flag = switch(
    "who",
    None,
    "Label senders with their unit, PID and command",
);
pub static SHORT: Flag = switch("short", None, "One line per message");
pub static UNIQUE: Flag = switch("unique", None, "Only show unique names");
pub static ACQUIRED: Flag = switch("acquired", None, "Only show acquired names");
pub static ACTIVATABLE: Flag = switch("activatable", None, "Only show activatable names");
pub static SHOW_MACHINE: Flag = switch("show-machine", None, "Show machine ID column in list");

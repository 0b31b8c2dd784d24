//! Commands as data.
//!
//! Each command declares its name, its arguments (as kinds, which drive TAB completion), its
//! usage and its help exactly once, here. The lexer asks [`is_command`] to recognise a command
//! line, `help` prints from these declarations, and the completer reads `args` to know that
//! the third word of `get-property` is an interface.

mod busctl;
mod help;
pub mod introspect_table;
mod list;
mod tree;

use crate::lang::interp::{Flow, Interp};

/// What an argument position holds, for completion and hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A bus name (`org.freedesktop.systemd1`, `:1.42`).
    Service,
    /// An object path of the service named by the first argument.
    Path,
    /// An interface of that object.
    Interface,
    /// A method of that interface.
    Method,
    /// A property of that interface.
    Property,
    /// A D-Bus signature (completed from the member's introspected signature).
    Signature,
    /// Values written busctl-style for the signature.
    Values,
    /// A command name.
    Command,
}

pub type Run = fn(&mut Interp, &[String]) -> anyhow::Result<Flow>;

pub struct Command {
    pub name: &'static str,
    /// Argument kinds by position; the last one repeats when `repeat_last`.
    pub args: &'static [ArgKind],
    pub repeat_last: bool,
    pub usage: &'static str,
    pub summary: &'static str,
    pub help: &'static str,
    pub run: Run,
}

impl Command {
    /// The kind of the argument at `index` (0-based), if any.
    pub fn arg_kind(&self, index: usize) -> Option<ArgKind> {
        match self.args.get(index) {
            Some(k) => Some(*k),
            None if self.repeat_last => self.args.last().copied(),
            None => None,
        }
    }
}

use ArgKind::*;

pub static COMMANDS: &[Command] = &[
    Command {
        name: "list",
        args: &[],
        repeat_last: false,
        usage: "list",
        summary: "List bus peers and names, like busctl list",
        help: "Shows every connection and well-known name on the bus with its PID, process, \
               user, connection, unit and session. Activatable names that are not running show \
               (activatable).",
        run: list::list,
    },
    Command {
        name: "tree",
        args: &[Service],
        repeat_last: true,
        usage: "tree [SERVICE...]",
        summary: "Show the object tree of services, like busctl tree",
        help: "Introspects SERVICE from / down and draws its object paths as a tree. With no \
               SERVICE, shows every well-known name on the bus.",
        run: tree::tree,
    },
    Command {
        name: "introspect",
        args: &[Service, Path, Interface],
        repeat_last: false,
        usage: "introspect SERVICE PATH [INTERFACE]",
        summary: "Show interfaces, methods, properties (with live values) and signals",
        help: "Prints busctl's table: NAME TYPE SIGNATURE RESULT/VALUE FLAGS. Property values \
               are read live with GetAll. With INTERFACE, only that interface's members.",
        run: busctl::introspect,
    },
    Command {
        name: "get-property",
        args: &[Service, Path, Interface, Property],
        repeat_last: true,
        usage: "get-property SERVICE PATH INTERFACE PROPERTY...",
        summary: "Read properties, printed as busctl does (e.g. u 17822)",
        help: "Each property is printed on its own line as its signature followed by its value \
               in busctl's notation.",
        run: busctl::get_property,
    },
    Command {
        name: "set-property",
        args: &[Service, Path, Interface, Property, Signature, Values],
        repeat_last: true,
        usage: "set-property SERVICE PATH INTERFACE PROPERTY SIGNATURE VALUE...",
        summary: "Write a property; the value is written as for busctl",
        help: "SIGNATURE is the property's type and VALUE its value in busctl's notation, e.g. \
               `set-property … Count u 5` or `… Strings as 2 a b`.",
        run: busctl::set_property,
    },
    Command {
        name: "call",
        args: &[Service, Path, Interface, Method, Signature, Values],
        repeat_last: true,
        usage: "call SERVICE PATH INTERFACE METHOD [SIGNATURE [ARGUMENT...]]",
        summary: "Call a method with typed arguments, like busctl call",
        help: "Arguments follow busctl's notation: the signature, then the values; arrays are \
               written as their length followed by the items (`as 2 a b`), dicts as length then \
               key value pairs, variants as a signature then the value. The reply is printed as \
               its signature followed by the values, e.g. `o \"/org/freedesktop/systemd1/job/7\"`.",
        run: busctl::call,
    },
    Command {
        name: "help",
        args: &[Command],
        repeat_last: false,
        usage: "help [COMMAND]",
        summary: "Show the commands, or one command in detail",
        help: "Without an argument, lists every command and the built-in functions.",
        run: help::help,
    },
    Command {
        name: "exit",
        args: &[],
        repeat_last: false,
        usage: "exit",
        summary: "Leave the shell (Ctrl-D works too)",
        help: "Leaves the shell. exit(N) leaves with status N.",
        run: help::exit,
    },
    Command {
        name: "quit",
        args: &[],
        repeat_last: false,
        usage: "quit",
        summary: "Leave the shell",
        help: "Same as exit.",
        run: help::exit,
    },
];

/// The prefix that makes a busctl line run as it is (`busctl introspect …`).
pub const BUSCTL: &str = "busctl";

pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Is `word` the first word of a command line? (`busctl` counts.)
pub fn is_command(word: &str) -> bool {
    word == BUSCTL || find(word).is_some()
}

/// Run command `name` with its words.
pub fn run(it: &mut Interp, name: &str, words: &[String]) -> anyhow::Result<Flow> {
    if name == BUSCTL {
        // `busctl` alone, or followed by something we do not mirror (e.g. `busctl --user`).
        match words.first() {
            None => return list::list(it, &[]),
            Some(w) => anyhow::bail!(
                "busctl option or verb '{w}' is not supported here (supported verbs: {}; \
                 choose the bus when starting the shell: --user, --address)",
                verbs().join(", ")
            ),
        }
    }
    let Some(cmd) = find(name) else {
        anyhow::bail!("unknown command '{name}' (type help)");
    };
    // `--` ends options for busctl (so negative numbers are values); it is not an argument.
    let words: Vec<String> = words.iter().filter(|w| *w != "--").cloned().collect();
    if let Some(opt) = words.iter().find(|w| w.starts_with("--")) {
        anyhow::bail!(
            "{name}: option '{opt}' is not supported (usage: {})",
            cmd.usage
        );
    }
    (cmd.run)(it, &words)
}

fn verbs() -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|c| c.args.first() == Some(&Service) || c.name == "list")
        .map(|c| c.name)
        .collect()
}

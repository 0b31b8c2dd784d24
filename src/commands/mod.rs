//! Commands as data.
//!
//! Every command is declared once in [`COMMANDS`]: its name, arguments (as kinds, which drive
//! TAB completion), options ([`flags`]), summary and help. The runner parses a command line
//! against the declaration ([`spec::parse`]) and calls the command with a narrow context; the
//! interpreter reaches all of this only through the [`Commands`] contract ([`Registry`]).
//! One file per verb; busctl's formats live in `crate::busctl`.

mod bus_status;
mod call;
mod cat;
mod clean;
pub mod completions;
mod demos;
pub mod doc;
mod emit;
mod exit;
pub mod flags;
mod get_property;
mod help;
mod host;
mod introspect;
mod list;
mod manpage;
mod monitor;
mod restart;
mod set_property;
pub mod spec;
mod status;
mod stop;
mod systemctl;
mod tree;
pub mod units;
mod wait;
mod watch;

use std::time::Duration;

use crate::bus::connection::{CallError, CallOptions, Reply};
use crate::bus::data::Data;
use crate::lang::command::{Commands, Context};
use crate::lang::error::Error;
use crate::lang::value::Value;

use flags::{
    ACQUIRED, ACTIVATABLE, ALLOW_INTERACTIVE_AUTHORIZATION, AUGMENT_CREDS, AUTO_START, DESTINATION,
    EXPECT_REPLY, J, JSON, LIMIT_MESSAGES, LIST, MATCH, NO_LEGEND, NO_PAUSE, PAIR, QUIET, SHORT,
    SHOW_MACHINE, SIZE, SPEED, UNIQUE, VERBOSE, WHO, XML_INTERFACE,
};
use spec::ArgKind::*;
use spec::Count::*;
pub use spec::{Arg, ArgKind, Command, Invocation, Origin, Scope};

const fn arg(name: &'static str, kind: ArgKind, count: spec::Count) -> Arg {
    Arg { name, kind, count }
}

pub static COMMANDS: &[Command] = &[
    Command {
        name: "list",
        args: &[],
        flags: &[
            &NO_LEGEND,
            &UNIQUE,
            &ACQUIRED,
            &ACTIVATABLE,
            &SHOW_MACHINE,
            &AUGMENT_CREDS,
            &JSON,
            &J,
        ],
        summary: "List bus peers and names, like busctl list",
        help: "Shows every connection and well-known name on the bus with its PID, process, \
               user, connection, unit and session. Activatable names that are not running \
               show (activatable). --unique, --acquired and --activatable choose which names \
               (all three when none is given); --show-machine adds each peer's machine ID; \
               --json prints the rows as JSON, like busctl.",
        scope: Scope::Everywhere,
        pager: true,
        run: list::run,
    },
    Command {
        name: "tree",
        args: &[arg("SERVICE", Service, Any)],
        flags: &[&LIST, &UNIQUE, &ACQUIRED],
        summary: "Show the object tree of services, like busctl tree",
        help: "Introspects SERVICE from / down and draws its object paths as a tree (with \
               --list, one path per line). With no SERVICE, shows every well-known name on the \
               bus (--unique: unique names too). A service is walked to at most 16384 objects \
               and 64 levels; what lies beyond is cut, and the error says so.",
        scope: Scope::Everywhere,
        pager: true,
        run: tree::run,
    },
    Command {
        name: "introspect",
        args: &[
            arg("SERVICE", Service, One),
            arg("PATH", Path, One),
            arg("INTERFACE", Interface, Optional),
        ],
        flags: &[&NO_LEGEND, &XML_INTERFACE, &JSON, &J],
        summary: "Show interfaces, methods, properties (with live values) and signals",
        help: "Prints busctl's table: NAME TYPE SIGNATURE RESULT/VALUE FLAGS. Property values \
               are read live with GetAll. With INTERFACE, only that interface's members. \
               --xml-interface prints the introspection XML as the object sent it. (busctl \
               252 prints the table whatever --json says, and so does this.)",
        scope: Scope::Everywhere,
        pager: true,
        run: introspect::run,
    },
    Command {
        name: "get-property",
        args: &[
            arg("SERVICE", Service, One),
            arg("PATH", Path, One),
            arg("INTERFACE", Interface, One),
            arg("PROPERTY", Property, OneOrMore),
        ],
        flags: &[&JSON, &J, &VERBOSE],
        summary: "Read properties, printed as busctl does (e.g. u 17822)",
        help: "Each property is printed on its own line as its signature followed by its \
               value in busctl's notation; --verbose in busctl's long form (UINT32 17822;), \
               --json as {\"type\":\"u\",\"data\":17822}.",
        scope: Scope::Everywhere,
        pager: false,
        run: get_property::run,
    },
    Command {
        name: "set-property",
        args: &[
            arg("SERVICE", Service, One),
            arg("PATH", Path, One),
            arg("INTERFACE", Interface, One),
            arg("PROPERTY", Property, One),
            arg("SIGNATURE", Signature, One),
            arg("VALUE", Values, OneOrMore),
        ],
        flags: &[],
        summary: "Write a property; the value is written as for busctl",
        help: "SIGNATURE is the property's type and VALUE its value in busctl's notation, \
               e.g. `set-property … Count u 5` or `… Strings as 2 a b`.",
        scope: Scope::Everywhere,
        pager: false,
        run: set_property::run,
    },
    Command {
        name: "call",
        args: &[
            arg("SERVICE", Service, One),
            arg("PATH", Path, One),
            arg("INTERFACE", Interface, One),
            arg("METHOD", Method, One),
            arg("SIGNATURE", Signature, Optional),
            arg("ARGUMENT", Values, Any),
        ],
        flags: &[
            &QUIET,
            &JSON,
            &J,
            &VERBOSE,
            &EXPECT_REPLY,
            &AUTO_START,
            &ALLOW_INTERACTIVE_AUTHORIZATION,
        ],
        summary: "Call a method with typed arguments, like busctl call",
        help: "Arguments follow busctl's notation: the signature, then the values; arrays are \
               written as their length followed by the items (`as 2 a b`), dicts as length \
               then key value pairs, variants as a signature then the value; put -- before \
               negative numbers. The reply is printed as its signature followed by the \
               values, e.g. `o \"/org/freedesktop/systemd1/job/7\"`, and becomes `_`; \
               --verbose and --json print busctl's long and JSON forms. --expect-reply=no \
               sends without waiting for a reply, --auto-start=no does not activate SERVICE.",
        scope: Scope::Everywhere,
        pager: false,
        run: call::run,
    },
    Command {
        name: "emit",
        args: &[
            arg("OBJECT", Path, One),
            arg("INTERFACE", Interface, One),
            arg("SIGNAL", Text, One),
            arg("SIGNATURE", Signature, Optional),
            arg("ARGUMENT", Values, Any),
        ],
        flags: &[&DESTINATION, &AUTO_START],
        summary: "Emit a signal, like busctl emit",
        help: "Sends SIGNAL of INTERFACE from OBJECT, with arguments in busctl's notation (as \
               for call), to everyone, or with --destination=SERVICE to SERVICE only.",
        scope: Scope::Everywhere,
        pager: false,
        run: emit::run,
    },
    Command {
        name: "monitor",
        args: &[arg("SERVICE", Service, Any)],
        flags: &[&MATCH, &JSON, &J, &SHORT, &PAIR, &WHO, &LIMIT_MESSAGES],
        summary: "Show bus traffic live, like busctl monitor (Ctrl-C stops)",
        help: "Prints every message sent by or to SERVICE (every message when none is given) \
               in busctl monitor's layout, until Ctrl-C. --match=RULE (repeatable) adds a D-Bus \
               match rule that messages must also satisfy. --short prints one line per \
               message, --json busctl's JSON; --pair shows which call each reply or error \
               answers and after how long; --who labels senders with their PID, command and \
               unit. --timeout and --limit-messages end it early. Messages the bus dropped \
               for a slow reader are reported when it ends (when monitoring everything).",
        scope: Scope::Everywhere,
        pager: false,
        run: monitor::run_monitor,
    },
    Command {
        name: "capture",
        args: &[arg("SERVICE", Service, Any)],
        flags: &[&MATCH, &SIZE, &LIMIT_MESSAGES],
        summary: "Capture bus traffic as pcapng, like busctl capture (redirect to a file)",
        help: "Writes the messages monitor would show as pcapng with the D-Bus link type, \
               for tshark or Wireshark: `rustemd-shell capture org.freedesktop.systemd1 > \
               x.pcap`, then e.g. tshark -r x.pcap -Y 'dbus.member == \"Restart\"'. Refuses \
               to write to a terminal. --size=SIZE cuts each message (default 4096 bytes).",
        scope: Scope::Everywhere,
        pager: false,
        run: monitor::run_capture,
    },
    Command {
        name: "bus-status",
        args: &[arg("SERVICE", Service, Optional)],
        flags: &[&AUGMENT_CREDS],
        summary: "Show a peer's credentials, like busctl status (busctl status runs this)",
        help: "Shows the credentials of SERVICE (a bus name) or of the process PID: PID, \
               users, groups, command, cgroup and unit, capabilities. Without an argument, the \
               bus itself: its address, scope and ID, and its owner's credentials. \
               `busctl status X` runs this command.",
        scope: Scope::Everywhere,
        pager: true,
        run: bus_status::run,
    },
    Command {
        name: "watch",
        args: &[
            arg("UNIT|SERVICE", Service, One),
            arg("PATH", Path, Optional),
        ],
        flags: &[],
        summary: "Watch a unit or object live: state, PIDs, counters and a timeline of changes",
        help: "watch UNIT (a unit name like myfirstservice.service) or watch SERVICE PATH. \
               Shows ActiveState, SubState, MainPID, StatusText, NRestarts, watchdog and \
               memory/CPU/tasks for a unit (every property for another object), then a \
               timeline of changes as their signals arrive (PropertiesChanged, JobNew, \
               JobRemoved), until Ctrl-C. On a terminal the view is redrawn in place and \
               the counters, which send no signals, are re-read once a second.",
        scope: Scope::Everywhere,
        pager: false,
        run: watch::run,
    },
    Command {
        name: "wait",
        args: &[
            arg("SERVICE", Service, Optional),
            arg("OBJECT", Path, One),
            arg("INTERFACE", Interface, One),
            arg("SIGNAL", Text, One),
            arg("VALUE", Text, Optional),
        ],
        flags: &[&QUIET],
        summary: "Wait for a signal, or for a property to reach a value",
        help: "wait [SERVICE] OBJECT INTERFACE SIGNAL: subscribes to SIGNAL of INTERFACE at \
               OBJECT (sent by SERVICE, when given) and returns when it arrives, printing its \
               body as call prints a reply (busctl's wait); the values become `_`.\n  \
               wait UNIT PROPERTY == VALUE, wait SERVICE PATH PROPERTY == VALUE (or !=): \
               returns when the property has that value, e.g. `wait myfirstservice.service \
               ActiveState == active`; the value becomes `_`. Driven by PropertiesChanged \
               signals, never by polling. --timeout bounds the wait; Ctrl-C ends it.",
        scope: Scope::Everywhere,
        pager: false,
        run: wait::run,
    },
    Command {
        name: "status",
        args: &[arg("UNIT", Unit, Any)],
        flags: &[],
        summary: "Show a unit's state like systemctl status (a name, a PID or a unit variable)",
        help: "Rendered from the unit's D-Bus properties, laid out like systemctl status: \
               Loaded, Transient, Active with the time, Main PID, Status, Tasks with their \
               limit, Memory, CPU and the CGroup with its processes (the journal lines are \
               not shown). UNIT is a unit name (a missing type means .service), a PID, or a \
               variable holding a unit object (status unit). Without UNIT, the unit this \
               shell runs in.",
        scope: Scope::Everywhere,
        pager: true,
        run: status::run,
    },
    Command {
        name: "cat",
        args: &[arg("UNIT", Unit, OneOrMore)],
        flags: &[],
        summary: "Show a unit's fragment and drop-ins like systemctl cat, or a file",
        help: "For a unit: its unit file and drop-ins, each after a `# /path` line, as \
               systemctl cat prints them (a unit made by run shows its transient file). A \
               word starting with / is a file, printed as it is.",
        scope: Scope::Everywhere,
        pager: true,
        run: cat::run,
    },
    Command {
        name: "stop",
        args: &[arg("UNIT", Unit, OneOrMore)],
        flags: &[],
        summary: "Stop units and wait for the jobs, like systemctl stop",
        help: "Stopping the unit this shell runs in (after AttachProcessesToUnit) kills the \
               shell too: on a terminal you are asked first.",
        scope: Scope::Everywhere,
        pager: false,
        run: stop::run,
    },
    Command {
        name: "restart",
        args: &[arg("UNIT", Unit, OneOrMore)],
        flags: &[],
        summary: "Restart units and wait for the jobs, like systemctl restart",
        help: "UNIT is a unit name, a PID or a variable holding a unit object.",
        scope: Scope::Everywhere,
        pager: false,
        run: restart::run,
    },
    Command {
        name: "clean",
        args: &[arg("UNIT", Unit, Any)],
        flags: &[],
        summary: "Stop units and reset their failed state; without UNIT, the units run() started",
        help: "Like systemctl stop followed by systemctl reset-failed. Without UNIT: every \
               unit this shell started with run().",
        scope: Scope::Everywhere,
        pager: false,
        run: clean::run,
    },
    Command {
        name: "systemctl",
        args: &[arg("ARGUMENT", Text, Any)],
        flags: &[],
        summary: "Run the real systemctl with these arguments",
        help: "The words are passed to systemctl as typed (its own options included), on \
               this terminal: systemctl status $PID, systemctl edit x.service, ...",
        scope: Scope::Shell,
        pager: false,
        run: systemctl::run,
    },
    Command {
        name: "help",
        args: &[arg("COMMAND", Command, Optional)],
        flags: &[],
        summary: "Show the commands, or one command or function in detail",
        help: "Without an argument, lists every command and the built-in functions.",
        scope: Scope::Everywhere,
        pager: false,
        run: help::run,
    },
    Command {
        name: "exit",
        args: &[arg("STATUS", Text, Optional)],
        flags: &[],
        summary: "Leave the shell (Ctrl-D works too)",
        help: "Leaves the shell with STATUS (default 0). exit(N) works too.",
        scope: Scope::Shell,
        pager: false,
        run: exit::run,
    },
    Command {
        name: "quit",
        args: &[arg("STATUS", Text, Optional)],
        flags: &[],
        summary: "Leave the shell",
        help: "Same as exit.",
        scope: Scope::Shell,
        pager: false,
        run: exit::run,
    },
    Command {
        name: "env",
        args: &[arg("NAME", Text, Optional)],
        flags: &[],
        summary: "Show the environment variables (a dict, which becomes _), or one of them",
        help: "IPython's env: without NAME, the whole environment as a dict; with NAME, that \
               variable's value. A variable named env wins over this command.",
        scope: Scope::Shell,
        pager: false,
        run: host::env,
    },
    Command {
        name: "ls",
        args: &[arg("ARG", Text, Any)],
        flags: &[],
        summary: "List files with the host's ls (its options, e.g. ls -la /run)",
        help: "Runs the host's ls with the words as given, like !ls. Through a pipe or into a \
               file, its output goes there: ls /etc | grep sys.",
        scope: Scope::Shell,
        pager: false,
        run: host::ls,
    },
    Command {
        name: "pwd",
        args: &[],
        flags: &[],
        summary: "Show the shell's working directory (it becomes _)",
        help: "The directory host commands (!cmd, pipes) and relative file names start from.",
        scope: Scope::Shell,
        pager: false,
        run: host::pwd,
    },
    Command {
        name: "cd",
        args: &[arg("DIR", Text, Optional)],
        flags: &[],
        summary: "Change the shell's working directory (cd -, cd ~ as in bash)",
        help: "Changes the directory of the shell itself (so !cmd, pipes and relative file \
               names follow). Without DIR, goes home; cd - goes back. !cd DIR does the same.",
        scope: Scope::Shell,
        pager: false,
        run: host::cd,
    },
    Command {
        name: "ppcode",
        args: &[arg("NAME", Text, One)],
        flags: &[],
        summary: "Show the source of a function, builtin or demo, highlighted",
        help: "NAME is a function (made by def in this session, a script, a demo or the \
               prelude; a dotted name such as module.func works), a builtin (its Rust source, \
               built into the binary), a sandboxing menu demo (the run(...) call it makes) or \
               a demo (its script). Printed after `>>> # FILE[FIRST:LAST]`, coloured as the \
               prompt colours what you type.",
        scope: Scope::Shell,
        pager: false,
        run: demos::in_session,
    },
    Command {
        name: "demos",
        args: &[],
        flags: &[],
        summary: "List the demos (the workshop as scripts), a line each",
        help: "Each demo's name, title and summary. demo NAME plays one in this session, \
               ppcode NAME shows its script, rustemd-shell --play demos/NAME.rsh plays one \
               for an audience.",
        scope: Scope::Everywhere,
        pager: false,
        run: demos::list,
    },
    Command {
        name: "demo",
        args: &[arg("NAME", Choice(crate::lang::demos::NAMES), One)],
        flags: &[&NO_PAUSE, &SPEED],
        summary: "Play a demo in this session (Enter runs each statement; b, s, q)",
        help: "NAME is a demo's name (see demos) or a script file. Each statement is typed \
               out and, on a terminal, waits for a key: Enter runs it, b steps back, s skips \
               it, q quits. Output is checked against the demo's #> checkpoints; a mismatch \
               is shown and makes demo fail. Its variables and functions stay in the session. \
               --no-pause runs straight through; --speed=CPS sets the typing speed.",
        scope: Scope::Shell,
        pager: false,
        run: demos::in_session,
    },
    Command {
        name: "record",
        args: &[arg("FILE|stop", Text, Optional), arg("TITLE", Text, Any)],
        flags: &[],
        summary: "Record what you type, with its output as checkpoints, into a new demo",
        help: "record FILE [TITLE] starts writing each statement you run to FILE (a new \
               file) with what it printed as #> checkpoints, in the demo format; record stop \
               ends it; record alone says whether a recording is on. Replace output that \
               changes between runs (PIDs, job numbers) with ... before playing it.",
        scope: Scope::Shell,
        pager: false,
        run: demos::in_session,
    },
    Command {
        name: "completions",
        args: &[arg("SHELL", Choice(completions::SHELLS), One)],
        flags: &[],
        summary: "Print a completion script for bash, zsh or fish",
        help: "Completion in your login shell for `rustemd-shell VERB ...`, answered live by \
               rustemd-shell itself (bus names, paths, members), e.g.\n  \
               rustemd-shell completions bash > /etc/bash_completion.d/rustemd-shell",
        scope: Scope::Cli,
        pager: false,
        run: completions::run,
    },
    Command {
        name: "manpage",
        args: &[],
        flags: &[],
        summary: "Print the manual page (roff), e.g. | man -l -",
        help: "The manual page is generated from the same declarations as --help.",
        scope: Scope::Cli,
        pager: false,
        run: manpage::run,
    },
];

/// The prefix that makes a busctl line run as it is (`busctl introspect …`).
pub const BUSCTL: &str = "busctl";

/// The command whose words go to the real systemctl unparsed.
const SYSTEMCTL: &str = "systemctl";

/// busctl verbs whose command here has another name, because ours of the same name means
/// something else (`status X` is a unit's status; `busctl status` is busctl's).
const BUSCTL_VERBS: &[(&str, &str)] = &[("status", "bus-status")];

/// The command `busctl VERB` runs.
pub fn busctl_verb(verb: &str) -> &str {
    BUSCTL_VERBS
        .iter()
        .find(|(v, _)| *v == verb)
        .map_or(verb, |(_, ours)| ours)
}

pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Commands listed where `origin` runs them.
pub fn visible(origin: Origin) -> impl Iterator<Item = &'static Command> {
    COMMANDS.iter().filter(move |c| match c.scope {
        Scope::Everywhere => true,
        Scope::Cli => origin == Origin::Cli,
        Scope::Shell => origin == Origin::Prompt,
    })
}

/// The command table, as the interpreter sees it.
pub struct Registry;

impl Commands for Registry {
    /// Every declared command starts a command line, also those of the program only, so
    /// typing one at the prompt says where it runs.
    fn is_command(&self, word: &str) -> bool {
        word == BUSCTL || find(word).is_some()
    }

    fn run(&self, ctx: &mut Context<'_>, name: &str, words: &[String]) -> Result<Value, Error> {
        run(ctx, name, words, Origin::Prompt)
    }

    fn names(&self) -> Vec<&'static str> {
        COMMANDS.iter().map(|c| c.name).collect()
    }
}

/// Run command line `name words...` typed at `origin`.
pub fn run(
    ctx: &mut Context<'_>,
    name: &str,
    words: &[String],
    origin: Origin,
) -> Result<Value, Error> {
    if name == SYSTEMCTL && origin == Origin::Prompt {
        // Passed through as typed: systemctl's options are not ours.
        return systemctl::run_raw(ctx, words);
    }
    if name == BUSCTL {
        return match split_busctl(words) {
            None => run(ctx, "list", words, origin),
            Some((verb, rest)) => run(ctx, busctl_verb(&verb), &rest, origin),
        };
    }
    let Some(cmd) = find(name) else {
        return Err(Error::new(format!(
            "unknown command '{name}' (type help for the list)"
        )));
    };
    if !visible(origin).any(|c| std::ptr::eq(c, cmd)) {
        return Err(Error::new(match cmd.scope {
            Scope::Cli => format!(
                "{name} is a command of the rustemd-shell program: run `rustemd-shell {name}` \
                 in your terminal"
            ),
            _ => format!("{name} only works inside the shell"),
        }));
    }
    // The host's words go to the host untouched (`ls -la`).
    let inv = if host::RAW.contains(&name) {
        let raw: Vec<String> = std::iter::once("--".to_string())
            .chain(words.iter().cloned())
            .collect();
        spec::parse(cmd, &raw, origin)?
    } else {
        spec::parse(cmd, words, origin)?
    };
    run_parsed(ctx, cmd, &inv)
}

/// Run a command whose line is already parsed (the CLI parses first, for session options).
pub fn run_parsed(ctx: &mut Context<'_>, cmd: &Command, inv: &Invocation) -> Result<Value, Error> {
    if inv.has("help") {
        ctx.out.write_all(cmd.help_text().as_bytes())?;
        return Ok(Value::None);
    }
    if inv.has("full") {
        ctx.term.full = true;
    }
    (cmd.run)(ctx, inv)
}

/// `busctl [OPTIONS] VERB ARGS…`: the verb and every other word (options kept, since they
/// may come anywhere). `None` when there is no verb (`busctl` alone lists, like busctl).
pub fn split_busctl(words: &[String]) -> Option<(String, Vec<String>)> {
    let all: Vec<&spec::Flag> = flags::LINE
        .iter()
        .chain(flags::SESSION)
        .copied()
        .chain(COMMANDS.iter().flat_map(|c| c.flags.iter().copied()))
        .collect();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if w == "--" {
            i += 1;
            break;
        }
        let Some(opt) = w.strip_prefix('-').filter(|o| !o.is_empty()) else {
            break;
        };
        // An option taking a value in the next word (`--timeout 5`, `-M x`) skips it.
        let takes_value = match opt.strip_prefix('-') {
            Some(long) => {
                !long.contains('=') && all.iter().any(|f| f.long == long && f.value.is_some())
            }
            None => {
                opt.chars()
                    .last()
                    .is_some_and(|c| all.iter().any(|f| f.short == Some(c) && f.value.is_some()))
                    && opt.len() == 1
            }
        };
        i += if takes_value { 2 } else { 1 };
    }
    let verb = words.get(i)?.clone();
    let mut rest: Vec<String> = words[..i.min(words.len())].to_vec();
    rest.retain(|w| w != "--");
    rest.extend_from_slice(&words[i + 1..]);
    Some((verb, rest))
}

/// One method call from a command line: bounded by `--timeout` when given (else the
/// session's), and cancelled by Ctrl-C like every bus call.
pub(crate) fn bus_call(
    ctx: &Context<'_>,
    inv: &Invocation,
    dest: &str,
    path: &str,
    iface: &str,
    member: &str,
    args: &[Data],
) -> Result<Reply, CallError> {
    let s = ctx.session;
    let opts = CallOptions {
        timeout: timeout(inv).map_err(CallError::Invalid)?,
        ..CallOptions::default()
    };
    s.block_on(
        s.bus
            .call_with(&opts, dest, path, Some(iface), member, args),
    )
}

/// The `--timeout` of a command line (`infinity` waits for ever).
pub(crate) fn timeout(inv: &Invocation) -> Result<Option<Duration>, String> {
    match inv.value("timeout") {
        None => Ok(None),
        Some(v) => crate::systemd::time::parse_sec(v)
            .map(|d| Some(d.unwrap_or(Duration::MAX)))
            .map_err(|e| format!("--timeout: {e}")),
    }
}

/// A busctl boolean option (`--expect-reply=no`), read like systemd's `parse_boolean()`.
pub(crate) fn bool_flag(inv: &Invocation, long: &str, default: bool) -> Result<bool, Error> {
    match inv.value(long) {
        None => Ok(default),
        Some(v) => crate::systemd::syntax::parse_boolean(v).ok_or_else(|| {
            Error::new(format!(
                "Failed to parse boolean argument to --{long}=: {v}."
            ))
        }),
    }
}

/// busctl's `Failed to …: <bus_error_message>`, keeping the error's kind.
pub(crate) fn failed(what: impl std::fmt::Display, e: &CallError) -> Error {
    Error::call(e, format!("{what}: {}", crate::busctl::error_message(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn usage_lines_come_from_the_arguments() {
        let rows = [
            (
                "call",
                "call [OPTIONS] SERVICE PATH INTERFACE METHOD [SIGNATURE [ARGUMENT...]]",
            ),
            ("tree", "tree [OPTIONS] [SERVICE...]"),
            (
                "get-property",
                "get-property [OPTIONS] SERVICE PATH INTERFACE PROPERTY...",
            ),
            (
                "introspect",
                "introspect [OPTIONS] SERVICE PATH [INTERFACE]",
            ),
            ("help", "help [COMMAND]"),
            (
                "wait",
                "wait [OPTIONS] [SERVICE] OBJECT INTERFACE SIGNAL [VALUE]",
            ),
        ];
        for (name, want) in rows {
            assert_eq!(find(name).unwrap().usage(), want);
        }
    }

    #[test]
    fn argument_kinds_by_position() {
        let call = find("call").unwrap();
        assert_eq!(call.arg_kind(0), Some(Service));
        assert_eq!(call.arg_kind(4), Some(Signature));
        assert_eq!(call.arg_kind(9), Some(Values));
        let intro = find("introspect").unwrap();
        assert_eq!(intro.arg_kind(2), Some(Interface));
        assert_eq!(intro.arg_kind(3), None);
        assert_eq!(find("tree").unwrap().arg_kind(5), Some(Service));
    }

    #[test]
    fn options_parse_like_getopt() {
        let call = find("call").unwrap();
        let inv = spec::parse(
            call,
            &words("-q a.b / a.b M --timeout=5 -- i -5"),
            Origin::Prompt,
        )
        .unwrap();
        assert!(inv.has("quiet"));
        assert_eq!(inv.value("timeout"), Some("5"));
        assert_eq!(inv.args, words("a.b / a.b M i -5"));
        let inv = spec::parse(call, &words("--timeout 2 -lq a.b / a.b M"), Origin::Prompt).unwrap();
        assert!(inv.has("full") && inv.has("quiet"));
        assert_eq!(inv.value("timeout"), Some("2"));
        let inv = spec::parse(call, &words("--help"), Origin::Prompt).unwrap();
        assert!(inv.has("help"));
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let call = find("call").unwrap();
        let rows = [
            ("a.b / a.b", "expected at least 4 arguments, got 3"),
            ("-x a.b / a.b M", "unknown option '-x'"),
            ("a.b / a.b M i -5", "a negative number is a value after --"),
            ("--bogus a.b / a.b M", "unknown option '--bogus'"),
            ("--timeout", "--timeout needs a value"),
            ("--quiet=yes a.b / a.b M", "--quiet takes no value"),
            ("--user a.b / a.b M", "give it when starting the shell"),
        ];
        for (line, want) in rows {
            let e = spec::parse(call, &words(line), Origin::Prompt).unwrap_err();
            assert!(e.message.contains(want), "{line}: {}", e.message);
        }
        let e = spec::parse(
            find("introspect").unwrap(),
            &words("a / b c"),
            Origin::Prompt,
        )
        .unwrap_err();
        assert!(
            e.message.contains("expected at most 3 arguments"),
            "{}",
            e.message
        );
        // The CLI takes session options anywhere, as busctl does.
        let inv = spec::parse(call, &words("--user a.b / a.b M"), Origin::Cli).unwrap();
        assert_eq!(inv.session_flags().count(), 1);
    }

    #[test]
    fn busctl_prefix_finds_the_verb_after_options() {
        let rows = [
            ("call a b", Some(("call", "a b"))),
            ("--timeout 5 call a", Some(("call", "--timeout 5 a"))),
            ("--timeout=5 -q call a", Some(("call", "--timeout=5 -q a"))),
            ("-- tree x", Some(("tree", "x"))),
            ("", None),
            ("--no-pager", None),
        ];
        for (line, want) in rows {
            let got = split_busctl(&words(line));
            let want = want.map(|(v, r)| (v.to_string(), words(r)));
            assert_eq!(got, want, "{line}");
        }
    }

    #[test]
    fn every_command_declares_help_and_unique_names() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        for c in COMMANDS {
            assert!(!c.summary.is_empty() && !c.help.is_empty(), "{}", c.name);
        }
    }
}

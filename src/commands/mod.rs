//! Commands as data.
//!
//! Every command is declared once in [`COMMANDS`]: its name, arguments (as kinds, which drive
//! TAB completion), options ([`flags`]), summary and help. The runner parses a command line
//! against the declaration ([`spec::parse`]) and calls the command with a narrow context; the
//! interpreter reaches all of this only through the [`Commands`] contract ([`Registry`]).
//! One file per verb; busctl's formats live in `crate::busctl`.

mod call;
pub mod completions;
pub mod doc;
mod exit;
pub mod flags;
mod get_property;
mod help;
mod introspect;
mod list;
mod manpage;
mod set_property;
pub mod spec;
mod tree;
mod wait;

use std::time::Duration;

use crate::bus::connection::{CallError, CallOptions, Reply};
use crate::bus::data::Data;
use crate::lang::command::{Commands, Context};
use crate::lang::error::Error;
use crate::lang::value::Value;

use flags::{NO_LEGEND, QUIET};
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
        flags: &[&NO_LEGEND],
        summary: "List bus peers and names, like busctl list",
        help: "Shows every connection and well-known name on the bus with its PID, process, \
               user, connection, unit and session. Activatable names that are not running \
               show (activatable).",
        scope: Scope::Everywhere,
        pager: true,
        run: list::run,
    },
    Command {
        name: "tree",
        args: &[arg("SERVICE", Service, Any)],
        flags: &[],
        summary: "Show the object tree of services, like busctl tree",
        help: "Introspects SERVICE from / down and draws its object paths as a tree. With no \
               SERVICE, shows every well-known name on the bus. A service is walked to at most \
               16384 objects and 64 levels; what lies beyond is cut, and the error says so.",
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
        flags: &[&NO_LEGEND],
        summary: "Show interfaces, methods, properties (with live values) and signals",
        help: "Prints busctl's table: NAME TYPE SIGNATURE RESULT/VALUE FLAGS. Property values \
               are read live with GetAll. With INTERFACE, only that interface's members.",
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
        flags: &[],
        summary: "Read properties, printed as busctl does (e.g. u 17822)",
        help: "Each property is printed on its own line as its signature followed by its \
               value in busctl's notation.",
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
        flags: &[&QUIET],
        summary: "Call a method with typed arguments, like busctl call",
        help: "Arguments follow busctl's notation: the signature, then the values; arrays are \
               written as their length followed by the items (`as 2 a b`), dicts as length \
               then key value pairs, variants as a signature then the value; put -- before \
               negative numbers. The reply is printed as its signature followed by the \
               values, e.g. `o \"/org/freedesktop/systemd1/job/7\"`, and becomes `_`.",
        scope: Scope::Everywhere,
        pager: false,
        run: call::run,
    },
    Command {
        name: "wait",
        args: &[
            arg("SERVICE", Service, Optional),
            arg("OBJECT", Path, One),
            arg("INTERFACE", Interface, One),
            arg("SIGNAL", Text, One),
        ],
        flags: &[&QUIET],
        summary: "Wait for a signal and print its body, like busctl wait",
        help: "Subscribes to SIGNAL of INTERFACE at OBJECT (sent by SERVICE, when given) and \
               returns when it arrives, printing its body as call prints a reply; the values \
               become `_`. --timeout bounds the wait; Ctrl-C ends it.",
        scope: Scope::Everywhere,
        pager: false,
        run: wait::run,
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

/// busctl verbs whose command here has another name, because ours of the same name means
/// something else (`status X` is a unit's status; `busctl status` is busctl's).
const BUSCTL_VERBS: &[(&str, &str)] = &[];

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
}

/// Run command line `name words...` typed at `origin`.
pub fn run(
    ctx: &mut Context<'_>,
    name: &str,
    words: &[String],
    origin: Origin,
) -> Result<Value, Error> {
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
    let inv = spec::parse(cmd, words, origin)?;
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
fn split_busctl(words: &[String]) -> Option<(String, Vec<String>)> {
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
            ("tree", "tree [SERVICE...]"),
            (
                "get-property",
                "get-property SERVICE PATH INTERFACE PROPERTY...",
            ),
            (
                "introspect",
                "introspect [OPTIONS] SERVICE PATH [INTERFACE]",
            ),
            ("help", "help [COMMAND]"),
            ("wait", "wait [OPTIONS] [SERVICE] OBJECT INTERFACE SIGNAL"),
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

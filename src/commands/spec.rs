//! How a command is declared, and the one option parser for command lines.
//!
//! A command's name, positional arguments, flags, summary and help are declared once (see
//! [`super::COMMANDS`]); usage lines, `VERB --help`, `help`, TAB completion, the CLI, the
//! shell completion scripts and the man page are all made from those declarations.
//!
//! Why lexopt for command lines typed at the prompt too: busctl's options follow getopt_long
//! (options anywhere, `--x=y` or `--x y`, bundled `-ql`, `--` ends options, so `-5` after `--`
//! is a value), and the REPL and the one-shot CLI must read them identically. lexopt
//! tokenizes exactly that from any list of words; the flag tables stay ours.

use crate::lang::error::Error;

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
    /// A systemd unit (completed from the loaded units), or a PID.
    Unit,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// Anything (a number, a file name…): nothing to complete.
    Text,
}

/// How many words an argument takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    One,
    Optional,
    OneOrMore,
    Any,
}

/// One positional argument.
#[derive(Debug)]
pub struct Arg {
    /// Shown in usage lines: `SERVICE`.
    pub name: &'static str,
    pub kind: ArgKind,
    pub count: Count,
}

/// One option.
#[derive(Debug)]
pub struct Flag {
    /// `timeout` for `--timeout`.
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name (`SECS`) when the flag takes one.
    pub value: Option<&'static str>,
    /// Completion candidates for the value.
    pub choices: &'static [&'static str],
    pub help: &'static str,
}

impl Flag {
    /// `-q, --quiet` / `--timeout=SECS`, as help and the man page show it.
    pub fn spelling(&self) -> String {
        let mut s = match self.short {
            // A short option without a long name of its own (busctl's `-j`).
            Some(c) if self.long.len() == 1 => format!("-{c}"),
            Some(c) => format!("-{c}, --{}", self.long),
            None => format!("--{}", self.long),
        };
        if let Some(v) = self.value {
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

/// Where a command can be run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// At the prompt, in scripts and one-shot from the command line.
    Everywhere,
    /// Only as `rustemd-shell VERB` (e.g. `completions`).
    Cli,
    /// Only at the prompt and in scripts (e.g. `exit`).
    Shell,
}

/// What the runner passes a command.
pub type Run = fn(
    &mut crate::lang::command::Context<'_>,
    &Invocation,
) -> Result<crate::lang::value::Value, Error>;

pub struct Command {
    pub name: &'static str,
    pub args: &'static [Arg],
    /// Options of this command (beyond the ones every command takes).
    pub flags: &'static [&'static Flag],
    pub summary: &'static str,
    pub help: &'static str,
    pub scope: Scope,
    /// Long output: one-shot runs on a terminal go through the pager (as busctl does).
    pub pager: bool,
    pub run: Run,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<command {}>", self.name)
    }
}

impl Command {
    /// `call SERVICE PATH INTERFACE METHOD [SIGNATURE [ARGUMENT...]]`, from the arguments.
    pub fn usage(&self) -> String {
        let mut s = self.name.to_string();
        if !self.flags.is_empty() {
            s.push_str(" [OPTIONS]");
        }
        let mut open = 0;
        for (i, a) in self.args.iter().enumerate() {
            s.push(' ');
            match a.count {
                Count::One => s.push_str(a.name),
                Count::OneOrMore => {
                    s.push_str(a.name);
                    s.push_str("...");
                }
                // `[SERVICE] OBJECT …`: an optional word before required ones closes at once.
                Count::Optional
                    if self.args[i + 1..]
                        .iter()
                        .any(|b| matches!(b.count, Count::One | Count::OneOrMore)) =>
                {
                    s.push('[');
                    s.push_str(a.name);
                    s.push(']');
                }
                Count::Optional => {
                    s.push('[');
                    s.push_str(a.name);
                    open += 1;
                }
                Count::Any => {
                    s.push('[');
                    s.push_str(a.name);
                    s.push_str("...");
                    open += 1;
                }
            }
        }
        s.push_str(&"]".repeat(open));
        s
    }

    /// The kind of the positional argument at `index` (0-based), if any.
    pub fn arg_kind(&self, index: usize) -> Option<ArgKind> {
        let mut i = 0;
        for a in self.args {
            match a.count {
                Count::One | Count::Optional => {
                    if i == index {
                        return Some(a.kind);
                    }
                    i += 1;
                }
                Count::OneOrMore | Count::Any => return (index >= i).then_some(a.kind),
            }
        }
        None
    }

    fn arity(&self) -> (usize, Option<usize>) {
        let min = self
            .args
            .iter()
            .filter(|a| matches!(a.count, Count::One | Count::OneOrMore))
            .count();
        let unbounded = self
            .args
            .iter()
            .any(|a| matches!(a.count, Count::OneOrMore | Count::Any));
        (min, (!unbounded).then_some(self.args.len()))
    }

    /// Every flag this command accepts on a command line.
    pub fn all_flags(&self) -> impl Iterator<Item = &'static Flag> + '_ {
        super::flags::LINE.iter().chain(self.flags.iter()).copied()
    }

    /// `VERB --help`: usage, summary, help text and options.
    pub fn help_text(&self) -> String {
        let mut out = format!(
            "usage: {}\n{}\n\n{}\n",
            self.usage(),
            self.summary,
            self.help
        );
        out.push_str("\noptions:\n");
        for f in self.all_flags() {
            out.push_str(&format!("  {:<26} {}\n", f.spelling(), f.help));
        }
        out
    }
}

/// Where a command line was typed: session-wide options are only taken when the shell starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Prompt,
    Cli,
}

/// A parsed command line.
#[derive(Debug, Default)]
pub struct Invocation {
    pub args: Vec<String>,
    flags: Vec<(&'static Flag, Option<String>)>,
}

impl Invocation {
    /// Was `--long` given?
    pub fn has(&self, long: &str) -> bool {
        self.flags.iter().any(|(f, _)| f.long == long)
    }

    /// The last value given to `--long`.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| f.long == long)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value given to `--long`, in order (`--match` may be repeated).
    pub fn values(&self, long: &str) -> impl Iterator<Item = &str> + '_ {
        let long = long.to_string();
        self.flags
            .iter()
            .filter(move |(f, _)| f.long == long)
            .filter_map(|(_, v)| v.as_deref())
    }

    /// The session-wide flags that were given (one-shot CLI use).
    pub fn session_flags(&self) -> impl Iterator<Item = (&'static Flag, Option<&str>)> + '_ {
        self.flags
            .iter()
            .filter(|(f, _)| super::flags::SESSION.iter().any(|s| std::ptr::eq(*s, *f)))
            .map(|(f, v)| (*f, v.as_deref()))
    }
}

/// Parse `words` (everything after the command name) for `cmd`. With `--help` the positional
/// arguments are not checked, so `VERB --help` always works.
pub fn parse(cmd: &Command, words: &[String], origin: Origin) -> Result<Invocation, Error> {
    let usage_err =
        |msg: String| Error::new(format!("{}: {msg} (usage: {})", cmd.name, cmd.usage()));
    let mut inv = Invocation::default();
    let mut p = lexopt::Parser::from_args(words.iter());
    let session = super::flags::SESSION;
    loop {
        let arg = match p.next() {
            Ok(Some(a)) => a,
            Ok(None) => break,
            Err(e) => return Err(usage_err(e.to_string())),
        };
        let (flag, shown) = match arg {
            lexopt::Arg::Value(v) => {
                inv.args.push(v.to_string_lossy().into_owned());
                continue;
            }
            lexopt::Arg::Short(c) => (
                cmd.all_flags()
                    .chain(session.iter().copied())
                    .find(|f| f.short == Some(c)),
                format!("-{c}"),
            ),
            lexopt::Arg::Long(l) => (
                cmd.all_flags()
                    .chain(session.iter().copied())
                    .find(|f| f.long == l),
                format!("--{l}"),
            ),
        };
        let Some(flag) = flag else {
            let hint = if shown[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                "; a negative number is a value after --, as for busctl"
            } else {
                ""
            };
            return Err(Error::new(format!(
                "{}: unknown option '{shown}' (see {} --help{hint})",
                cmd.name, cmd.name
            )));
        };
        if origin == Origin::Prompt && session.iter().any(|s| std::ptr::eq(*s, flag)) {
            return Err(Error::new(format!(
                "{}: {shown} chooses the bus for the whole session: give it when starting \
                 the shell (rustemd-shell {shown} ...)",
                cmd.name
            )));
        }
        let value = match flag.value {
            None => {
                // `--quiet=yes` is wrong; `-lq` is two switches, so only long ones are checked.
                if shown.starts_with("--")
                    && let Some(v) = p.optional_value()
                {
                    return Err(usage_err(format!(
                        "{shown} takes no value, got '{}'",
                        v.to_string_lossy()
                    )));
                }
                None
            }
            Some(name) => {
                let v = p
                    .value()
                    .map_err(|_| usage_err(format!("{shown} needs a value ({name})")))?;
                let v = v.to_string_lossy().into_owned();
                if !flag.choices.is_empty() && !flag.choices.contains(&v.as_str()) {
                    return Err(usage_err(format!(
                        "{shown}: '{v}' is not one of {}",
                        flag.choices.join(", ")
                    )));
                }
                Some(v)
            }
        };
        inv.flags.push((flag, value));
    }
    if inv.has("help") {
        return Ok(inv);
    }
    let (min, max) = cmd.arity();
    let n = inv.args.len();
    if n < min {
        let at_least = if max == Some(min) { "" } else { "at least " };
        let plural = if min == 1 { "" } else { "s" };
        return Err(usage_err(format!(
            "expected {at_least}{min} argument{plural}, got {n}"
        )));
    }
    if let Some(max) = max
        && n > max
    {
        return Err(usage_err(format!(
            "expected at most {max} argument{}, got {n}",
            if max == 1 { "" } else { "s" }
        )));
    }
    Ok(inv)
}

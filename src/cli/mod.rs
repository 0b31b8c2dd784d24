//! The program's command line: modes, session options, one-shot verbs, exit statuses.
//!
//! Why lexopt (ripgrep's choice) rather than clap: the shell's options and every verb's
//! options are declared once in `commands::flags`, and command lines typed at the prompt are
//! parsed by the same code as argv (`commands::spec::parse`). lexopt only tokenizes, so the
//! tables stay the single source for parsing, `--help`, completion and the man page; clap
//! would be a second declaration of the same flags.
//!
//! Exit statuses: 0 success, 1 a statement failed, 2 usage, 130 interrupted (see
//! `commands::doc::EXIT_STATUS`); a closed stdout (`| head -1`) ends quietly with 0.

mod complete;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::rc::Rc;
use std::time::Duration;

use crate::bus::connection::BusTarget;
use crate::bus::session::Session;
use crate::commands::{self, Invocation, Origin};
use crate::demo::Presenter;
use crate::lang::command::Context;
use crate::lang::interp::Interp;
use crate::repl::batch::{self, FAILED, OK};
use crate::repl::report;
use crate::term::pager::Pager;
use crate::term::{ColorChoice, Term};

/// Wrong command line.
const USAGE: i32 = 2;

#[derive(Debug, PartialEq)]
enum Mode {
    /// A terminal gets the REPL; anything else is read as statements.
    Auto,
    Statements(String),
    File(String),
    /// A one-shot verb and its words.
    Verb(String, Vec<String>),
    /// `__complete LINE POS` (the login shell's completion scripts).
    Complete(Vec<String>),
    /// `--play FILE`: a demo played for an audience.
    Play(String),
    /// `__worker N` / `__worker child`: a pystemd.futures worker inside a unit (hidden).
    Worker(Vec<String>),
}

#[derive(Debug)]
struct Options {
    target: BusTarget,
    timeout: Duration,
    color: ColorChoice,
    no_pager: bool,
    full: bool,
    mode: Mode,
    /// What `sys.argv` holds after `-c STATEMENTS` or `FILE`.
    argv: Vec<String>,
    /// `--no-pause`, `--speed` of `--play`.
    no_pause: bool,
    speed: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: BusTarget::System,
            timeout: Duration::from_secs(25),
            color: ColorChoice::Auto,
            no_pager: false,
            full: false,
            mode: Mode::Auto,
            argv: Vec::new(),
            no_pause: false,
            speed: crate::demo::play::SPEED,
        }
    }
}

/// What parsing the command line asks for.
#[derive(Debug)]
enum Parsed {
    Run(Options),
    /// `--help` / `--version`: print this and leave with 0.
    Print(String),
}

fn utf8(v: OsString) -> Result<String, String> {
    v.into_string()
        .map_err(|v| format!("argument {v:?} is not valid UTF-8"))
}

/// Apply a session-wide option (before or after a verb, as busctl takes them).
fn session_option(o: &mut Options, long: &str, value: Option<&str>) -> Result<(), String> {
    match (long, value) {
        ("system", _) => o.target = BusTarget::System,
        ("user", _) => o.target = BusTarget::User,
        ("address", Some(a)) => o.target = BusTarget::Address(a.to_string()),
        ("host", Some(h)) => {
            crate::bus::remote::host_address(h)?;
            o.target = BusTarget::Host(h.to_string());
        }
        ("machine", Some(m)) => o.target = BusTarget::Machine(m.to_string()),
        ("color", Some(c)) => {
            o.color = ColorChoice::parse(c).ok_or_else(|| {
                format!(
                    "--color: '{c}' is not one of {}",
                    ColorChoice::NAMES.join(", ")
                )
            })?
        }
        ("timeout", Some(t)) => o.timeout = parse_timeout(t)?,
        ("no-pager", _) => o.no_pager = true,
        ("full", _) => o.full = true,
        _ => {}
    }
    Ok(())
}

/// `--timeout`: systemd's time spans; `infinity` waits for ever.
fn parse_timeout(t: &str) -> Result<Duration, String> {
    match crate::systemd::time::parse_sec(t) {
        Ok(Some(d)) if d.is_zero() => Err("--timeout: must be more than 0".into()),
        Ok(Some(d)) => Ok(d),
        Ok(None) => Ok(Duration::MAX),
        Err(e) => Err(format!("--timeout: {e}")),
    }
}

fn parse(args: Vec<OsString>) -> Result<Parsed, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut o = Options::default();
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Print(commands::doc::cli_help())),
            Short('V') | Long("version") => {
                return Ok(Parsed::Print(format!(
                    "rustemd-shell {}\n",
                    env!("CARGO_PKG_VERSION")
                )));
            }
            Short('c') | Long("command") => {
                let src = utf8(p.value().map_err(|_| "-c needs STATEMENTS")?)?;
                o.mode = Mode::Statements(src);
                o.argv = vec!["-c".into()];
                for a in p.raw_args().map_err(|e| e.to_string())? {
                    o.argv.push(utf8(a)?);
                }
            }
            Long("play") => {
                let file = utf8(p.value().map_err(|_| "--play needs FILE")?)?;
                o.argv = vec![file.clone()];
                o.mode = Mode::Play(file);
            }
            Long("no-pause") => o.no_pause = true,
            Long("speed") => {
                let v = utf8(p.value().map_err(|_| "--speed needs CPS")?)?;
                o.speed = crate::demo::parse_speed(&v)?;
            }
            Long(l @ ("system" | "user" | "no-pager" | "full")) => {
                let l = l.to_string();
                session_option(&mut o, &l, None)?;
            }
            Short('l') => o.full = true,
            Long(l @ ("address" | "color" | "timeout" | "host" | "machine")) => {
                let l = l.to_string();
                let v = utf8(p.value().map_err(|_| format!("--{l} needs a value"))?)?;
                session_option(&mut o, &l, Some(&v))?;
            }
            Short(c @ ('H' | 'M')) => {
                let l = if c == 'H' { "host" } else { "machine" };
                let v = utf8(p.value().map_err(|_| format!("-{c} needs a value"))?)?;
                session_option(&mut o, l, Some(&v))?;
            }
            Long(l) => return Err(format!("unknown option '--{l}'")),
            Short(c) => return Err(format!("unknown option '-{c}'")),
            Value(v) => {
                let first = utf8(v)?;
                let mut rest = Vec::new();
                for a in p.raw_args().map_err(|e| e.to_string())? {
                    rest.push(utf8(a)?);
                }
                if first == "__complete" {
                    o.mode = Mode::Complete(rest);
                } else if first == "__worker" {
                    o.mode = Mode::Worker(rest);
                } else if first == commands::BUSCTL || commands::find(&first).is_some() {
                    o.mode = Mode::Verb(first, rest);
                } else {
                    o.argv = std::iter::once(first.clone()).chain(rest).collect();
                    o.mode = Mode::File(first);
                }
            }
        }
    }
    Ok(Parsed::Run(o))
}

/// The whole program; returns the exit status.
pub fn main() -> i32 {
    // `record` sees every statement the prompt or a script runs.
    crate::repl::set_around(crate::demo::record::hook);
    let opts = match parse(std::env::args_os().skip(1).collect()) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return OK;
        }
        Err(e) => {
            eprintln!("rustemd-shell: {e} (see rustemd-shell --help)");
            return USAGE;
        }
    };
    run(opts)
}

fn run(mut opts: Options) -> i32 {
    if let Mode::Complete(words) = &opts.mode {
        return complete::run(words);
    }
    if let Mode::Worker(words) = &opts.mode
        && words.first().map(String::as_str) != Some("child")
    {
        return supervise(words);
    }
    // A one-shot verb's own line may carry session options too (`rustemd-shell call --user …`).
    let mut verb = None;
    if let Mode::Verb(name, words) = &opts.mode {
        match parse_verb(name, words) {
            Ok((cmd, inv)) => {
                for (f, v) in inv.session_flags() {
                    if let Err(e) = session_option(&mut opts, f.long, v) {
                        eprintln!("rustemd-shell: {e}");
                        return USAGE;
                    }
                }
                for long in ["timeout", "no-pager", "full"] {
                    if inv.has(long)
                        && let Err(e) = session_option(&mut opts, long, inv.value(long))
                    {
                        eprintln!("rustemd-shell: {e}");
                        return USAGE;
                    }
                }
                verb = Some((cmd, inv));
            }
            Err(e) => {
                eprintln!("{e}");
                return USAGE;
            }
        }
    }
    let session = Rc::new(Session::new(opts.target.clone(), opts.timeout));
    let term = Term::detect(opts.color, opts.full);
    let mut it = Interp::new(session.clone(), Rc::new(Presenter), term);
    it.set_argv(std::mem::take(&mut opts.argv));
    let code = match opts.mode {
        Mode::Statements(src) => {
            let mut failed = false;
            match batch::run_chunk(&mut it, &src, &mut failed, false) {
                Some(code) => code,
                None if failed => FAILED,
                None => OK,
            }
        }
        Mode::File(path) => match std::fs::File::open(&path) {
            Ok(f) => batch::run_batch(&mut it, &path, std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("rustemd-shell: cannot read {path}: {e}");
                FAILED
            }
        },
        Mode::Verb(..) => {
            let Some((cmd, inv)) = verb else {
                return USAGE;
            };
            run_verb(&mut it, cmd, &inv, &opts)
        }
        Mode::Complete(words) => complete::run(&words),
        Mode::Play(ref file) => play(&mut it, file, &opts),
        Mode::Worker(_) => {
            it.term = Term::detect(ColorChoice::Never, false);
            crate::lang::builtins::worker::serve(&mut it)
        }
        Mode::Auto if std::io::stdin().is_terminal() => {
            crate::repl::run_interactive(session.clone(), &mut it)
        }
        Mode::Auto => batch::run_batch(&mut it, "stdin", std::io::stdin().lock()),
    };
    leave(it, session);
    code
}

/// The end: output flushed, and the rest of the session (runtime, connection, parsed
/// introspection, every value) left to the kernel. Exit frees it at once, where dropping it
/// piece by piece took 0.1-0.2 ms of a 2 ms script (`scripts/bench`, a process doing one
/// read). Nothing in it acts outside the process when dropped, except by closing its file
/// descriptors (a pool's socket ends the pool's workers), which exit does as well; pagers
/// and terminal modes are restored where they are used, never kept in the session.
fn leave(mut it: Interp, session: Rc<Session>) {
    use std::io::Write as _;
    let _ = it.out.flush();
    std::mem::forget(it);
    std::mem::forget(session);
}

/// `--play FILE`: the demo played; 1 when a checkpoint failed or a statement failed
/// unexpectedly.
fn play(it: &mut Interp, file: &str, opts: &Options) -> i32 {
    let o = crate::demo::play::Options {
        // Keys come from a terminal, or lines from a pipe (empty: Enter; b, s, q).
        pause: !opts.no_pause,
        speed: opts.speed,
    };
    match crate::demo::play_in(it, file, o) {
        Ok(s) => {
            eprintln!("{}", s.line(file));
            match s.exit {
                Some(code) => code,
                None if s.interrupted => batch::INTERRUPTED,
                None if s.ok() => OK,
                None => FAILED,
            }
        }
        Err(e) => {
            report::report_plain(&e, it.session.bus.target());
            FAILED
        }
    }
}

/// `__worker N`: the supervisor of a pool's workers (no bus, no evaluator of its own); its
/// workers are this same command line with `child` for N.
fn supervise(words: &[String]) -> i32 {
    let Some(n) = words.first().and_then(|w| w.parse::<usize>().ok()) else {
        eprintln!(
            "rustemd-shell: __worker needs a number of workers (it is started by pystemd.futures)"
        );
        return USAGE;
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e.to_string_lossy().into_owned(),
        Err(e) => {
            eprintln!("rustemd-shell: cannot find this program's binary: {e}");
            return FAILED;
        }
    };
    let mut argv: Vec<String> = std::env::args().collect();
    if let Some(first) = argv.first_mut() {
        *first = exe;
    }
    if let Some(last) = argv.last_mut() {
        *last = "child".into();
    }
    crate::lang::builtins::worker::supervise(n, &argv)
}

/// Find the verb (after an optional `busctl`) and parse its words.
fn parse_verb(
    name: &str,
    words: &[String],
) -> Result<(&'static commands::Command, Invocation), String> {
    // `busctl [OPTIONS] VERB …`: options may come before the verb, as for busctl.
    let (name, words): (String, Vec<String>) = if name == commands::BUSCTL {
        match commands::split_busctl(words) {
            Some((verb, rest)) => (commands::busctl_verb(&verb).to_string(), rest),
            None => ("list".to_string(), words.to_vec()),
        }
    } else {
        (name.to_string(), words.to_vec())
    };
    let name = name.as_str();
    let cmd = commands::find(name)
        .filter(|c| commands::visible(Origin::Cli).any(|v| std::ptr::eq(v, *c)))
        .ok_or_else(|| match commands::find(name) {
            Some(_) => format!("{name} only works inside the shell"),
            None => format!("unknown verb '{name}' (see rustemd-shell --help)"),
        })?;
    let inv = commands::spec::parse(cmd, &words, Origin::Cli).map_err(|e| e.message)?;
    Ok((cmd, inv))
}

/// Run one verb, through the pager when it prints long output on a terminal.
fn run_verb(
    it: &mut Interp,
    cmd: &'static commands::Command,
    inv: &Invocation,
    opts: &Options,
) -> i32 {
    let mut pager = (cmd.pager && !opts.no_pager && it.term.tty && !inv.has("help"))
        .then(Pager::start)
        .flatten();
    let mut stdout = std::io::stdout();
    let out: &mut dyn std::io::Write = match pager.as_mut() {
        Some(p) => p,
        None => &mut stdout,
    };
    let mut ctx = Context {
        session: &it.session,
        out,
        term: it.term,
        vars: None,
    };
    let r = commands::run_parsed(&mut ctx, cmd, inv)
        .and_then(|_| ctx.out.flush().map_err(crate::lang::error::Error::from));
    drop(pager);
    match r {
        Ok(()) => OK,
        Err(e) => match e.kind {
            crate::lang::error::Kind::Exit(c) => c,
            crate::lang::error::Kind::BrokenPipe => OK,
            crate::lang::error::Kind::Interrupted => {
                report::report_plain(&e, it.session.bus.target());
                batch::INTERRUPTED
            }
            _ => {
                report::report_plain(&e, it.session.bus.target());
                FAILED
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(OsString::from).collect())? {
            Parsed::Run(o) => Ok(o),
            Parsed::Print(_) => Err("printed".into()),
        }
    }

    #[test]
    fn parses_modes_and_buses() {
        assert_eq!(p(&[]).unwrap().mode, Mode::Auto);
        assert_eq!(p(&["-c", "x"]).unwrap().mode, Mode::Statements("x".into()));
        assert_eq!(
            p(&["script.rsh"]).unwrap().mode,
            Mode::File("script.rsh".into())
        );
        assert_eq!(
            p(&["get-property", "a", "/b"]).unwrap().mode,
            Mode::Verb("get-property".into(), vec!["a".into(), "/b".into()])
        );
        assert_eq!(p(&["--user"]).unwrap().target, BusTarget::User);
        assert_eq!(
            p(&["--address=unix:path=/x"]).unwrap().target,
            BusTarget::Address("unix:path=/x".into())
        );
        assert!(p(&["--bogus"]).is_err());
        assert!(p(&["--timeout", "abc"]).is_err());
        assert!(matches!(
            parse(vec!["--help".into()]),
            Ok(Parsed::Print(t)) if t.contains("exit status")
        ));
    }

    #[test]
    fn play_takes_a_file_and_its_options() {
        let o = p(&["--play", "demos/x.rsh", "--no-pause", "--speed", "0"]).unwrap();
        assert_eq!(o.mode, Mode::Play("demos/x.rsh".into()));
        assert_eq!(o.argv, ["demos/x.rsh"]);
        assert!(o.no_pause);
        assert_eq!(o.speed, 0);
        assert_eq!(
            p(&["--play=y.rsh"]).unwrap().speed,
            crate::demo::play::SPEED
        );
        assert!(p(&["--play"]).is_err());
        assert!(p(&["--play", "x", "--speed=fast"]).is_err());
    }

    #[test]
    fn c_statements_then_arguments_become_argv() {
        // Regression: `-c 'print(1)' list` used to drop the -c statements silently.
        let o = p(&["-c", "print(1)", "list", "x"]).unwrap();
        assert_eq!(o.mode, Mode::Statements("print(1)".into()));
        assert_eq!(o.argv, ["-c", "list", "x"]);
        let o = p(&["script.rsh", "a", "--user"]).unwrap();
        assert_eq!(o.argv, ["script.rsh", "a", "--user"]);
        assert_eq!(o.target, BusTarget::System);
    }

    #[test]
    fn timeouts_are_time_spans_and_never_panic() {
        // Regression: `--timeout=inf` and `1e300` panicked, `-5` became 1 ms.
        for bad in ["inf", "1e300", "-5", "0", "abc", "1e20"] {
            assert!(p(&["--timeout", bad]).is_err(), "{bad}");
            assert!(p(&[&format!("--timeout={bad}")]).is_err(), "{bad}");
        }
        assert_eq!(
            p(&["--timeout=1.5"]).unwrap().timeout,
            Duration::from_millis(1500)
        );
        assert_eq!(
            p(&["--timeout", "infinity"]).unwrap().timeout,
            Duration::MAX
        );
    }

    #[test]
    fn dash_dash_and_non_utf8_arguments() {
        // Regression: `--` was refused.
        assert_eq!(
            p(&["--", "f.rsh"]).unwrap().mode,
            Mode::File("f.rsh".into())
        );
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(b"print(1)\xff".to_vec());
        let e = parse(vec!["-c".into(), bad]).unwrap_err();
        assert!(e.contains("not valid UTF-8"), "{e}");
    }

    #[test]
    fn verb_lines_take_session_options_anywhere() {
        let (cmd, inv) = parse_verb(
            "call",
            &[
                "--user".into(),
                "a.b".into(),
                "/".into(),
                "a.b".into(),
                "M".into(),
            ],
        )
        .unwrap();
        assert_eq!(cmd.name, "call");
        assert_eq!(inv.session_flags().count(), 1);
        let (cmd, _) = parse_verb("busctl", &["tree".into()]).unwrap();
        assert_eq!(cmd.name, "tree");
        assert!(
            parse_verb("exit", &[])
                .unwrap_err()
                .contains("only works inside the shell")
        );
    }
}

//! Command-line arguments, parsed by hand: a handful of flags, and the busctl verbs one-shot.

use std::io::IsTerminal;
use std::rc::Rc;
use std::time::Duration;

use crate::bus::connection::BusTarget;
use crate::lang::interp::Interp;
use crate::session::Session;

const USAGE: &str = "\
usage: rustemd-shell [OPTIONS] [-c STATEMENTS | FILE | VERB ARGS...]

A line-editing shell for exploring D-Bus and driving systemd.

  (no arguments)      interactive shell on a terminal; statements from stdin otherwise
  -c STATEMENTS       run STATEMENTS and exit
  FILE                run the statements in FILE and exit
  VERB ARGS...        run one busctl verb and exit, e.g.
                      rustemd-shell get-property SERVICE PATH INTERFACE PROPERTY

options:
  --system            talk to the system bus (default; honours DBUS_SYSTEM_BUS_ADDRESS)
  --user              talk to the user bus
  --address ADDRESS   talk to the bus at ADDRESS
  --timeout SECS      bound every bus call (default 25)
  -h, --help          this help
  -V, --version       the version
";

#[derive(Debug, PartialEq)]
enum Mode {
    Auto,
    Statements(String),
    File(String),
    Verb(String, Vec<String>),
}

struct Options {
    target: BusTarget,
    timeout: Duration,
    mode: Mode,
}

fn parse(args: Vec<String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        target: BusTarget::System,
        timeout: Duration::from_secs(25),
        mode: Mode::Auto,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value (see --help)"))
        };
        match a.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("rustemd-shell {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--system" => o.target = BusTarget::System,
            "--user" => o.target = BusTarget::User,
            "--address" => o.target = BusTarget::Address(value("--address")?),
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && s.is_finite())
                    .ok_or_else(|| format!("--timeout: '{v}' is not a number of seconds"))?;
                o.timeout = Duration::from_secs_f64(secs);
            }
            "-c" => o.mode = Mode::Statements(value("-c")?),
            s if s.starts_with("--address=") => {
                o.target = BusTarget::Address(s["--address=".len()..].to_string())
            }
            s if s.starts_with("--timeout=") => {
                let v = &s["--timeout=".len()..];
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--timeout: '{v}' is not a number of seconds"))?;
                o.timeout = Duration::from_secs_f64(secs.max(0.001));
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option '{s}' (see --help)"));
            }
            s if crate::commands::is_command(s) => {
                let rest: Vec<String> = it.collect();
                o.mode = Mode::Verb(s.to_string(), rest);
                break;
            }
            s => {
                o.mode = Mode::File(s.to_string());
                if it.next().is_some() {
                    return Err("only one FILE can be given (see --help)".into());
                }
                break;
            }
        }
    }
    Ok(Some(o))
}

/// The whole program; returns the exit status.
pub fn main() -> i32 {
    let opts = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(o)) => o,
        Ok(None) => return 0,
        Err(e) => {
            eprintln!("rustemd-shell: {e}");
            return 2;
        }
    };
    let session = match Session::new(opts.target, opts.timeout) {
        Ok(s) => Rc::new(s),
        Err(e) => {
            eprintln!("rustemd-shell: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let mut it = Interp::new(session.clone());
    match opts.mode {
        Mode::Statements(src) => {
            let mut failed = false;
            match crate::repl::run_chunk(&mut it, &src, &mut failed) {
                Some(code) => code,
                None => i32::from(failed),
            }
        }
        Mode::File(path) => match std::fs::File::open(&path) {
            Ok(f) => crate::repl::run_batch(&mut it, std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("rustemd-shell: cannot read {path}: {e}");
                1
            }
        },
        Mode::Verb(verb, args) => {
            let mut failed = false;
            match run_verb(&mut it, &verb, &args, &mut failed) {
                Some(code) => code,
                None => i32::from(failed),
            }
        }
        Mode::Auto if std::io::stdin().is_terminal() => {
            session.warm_up();
            crate::repl::run_interactive(session.clone(), &mut it)
        }
        Mode::Auto => crate::repl::run_batch(&mut it, std::io::stdin().lock()),
    }
}

fn run_verb(it: &mut Interp, verb: &str, args: &[String], failed: &mut bool) -> Option<i32> {
    use std::io::Write;
    let (verb, args) = if verb == crate::commands::BUSCTL && !args.is_empty() {
        (args[0].as_str(), &args[1..])
    } else {
        (verb, args)
    };
    let r = crate::commands::run(it, verb, args);
    let _ = it.out.flush();
    match r {
        Ok(crate::lang::interp::Flow::Exit(c)) => Some(c),
        Ok(_) => None,
        Err(e) => {
            *failed = true;
            eprintln!("{e:#}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Options {
        parse(args.iter().map(|s| s.to_string()).collect())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn parses_modes_and_buses() {
        assert_eq!(p(&[]).mode, Mode::Auto);
        assert_eq!(p(&["-c", "x"]).mode, Mode::Statements("x".into()));
        assert_eq!(p(&["script.rsh"]).mode, Mode::File("script.rsh".into()));
        assert_eq!(
            p(&["get-property", "a", "/b"]).mode,
            Mode::Verb("get-property".into(), vec!["a".into(), "/b".into()])
        );
        assert_eq!(p(&["--user"]).target, BusTarget::User);
        assert_eq!(
            p(&["--address=unix:path=/x"]).target,
            BusTarget::Address("unix:path=/x".into())
        );
        assert!(parse(vec!["--bogus".into()]).is_err());
        assert!(parse(vec!["--timeout".into(), "abc".into()]).is_err());
    }
}

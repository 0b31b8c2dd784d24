//! `pystemd.daemon`: sd_notify and the watchdog from the shell (`notify`, `watchdog_enabled`
//! are also plain names), for a shell that runs as a `Type=notify` service
//! (`daemon_demo_service`). The protocol is in `crate::systemd::notify`.
//!
//! States are given as pystemd takes them: keyword arguments whose names are upper-cased
//! (`ready=1`, `status="x"`, `MainPID=p.pid`, `watchdog_usec=0` become `READY=1`,
//! `STATUS=x`, `MAINPID=…`, `WATCHDOG_USEC=0`) or `"KEY=VALUE"` strings. Values are written
//! the way systemd reads them: booleans as 1/0 (pystemd writes `true`, which systemd ignores
//! for READY), whole floats as integers (`watchdog_enabled() / 2` is a float, and systemd
//! wants an integer number of µs).

use std::io::{IsTerminal, Write};

use super::{Bound, Builtin, Func, R};
use crate::bus::connection::BusTarget;
use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::value::Value;
use crate::systemd::notify::{self, NotifyError};
use crate::systemd::{job, transient};

/// The unit `daemon_demo_service` runs this shell in (the workshop's name).
pub const DEMO_UNIT: &str = "daemon-demo-service.service";

const DEMO_HELP: &str = "Run this shell again as the notify service daemon-demo-service.service \
(Type=notify, TimeoutStartSec=5min, WatchdogSec=4min 59s, NotifyAccess=main) on this terminal, \
after stopping the previous one; back here when it ends. Inside: notify(False, ready=1), \
notify(False, WATCHDOG=1), ... script='FILE' (or statements='...') runs a script in it instead \
of a prompt";

const NOTIFY_PARAMS: &[&str] = &["unset_environment=False", "*states", "**kwstates"];

const NOTIFY_HELP: &str = "sd_notify: tell systemd about this service, e.g. \
notify(False, status='procrastinating'), notify(False, ready=1), notify(False, WATCHDOG=1), \
notify(False, MainPID=p.pid, watchdog_usec=0, ready=1); keys are case-insensitive. Returns 1 \
when sent, 0 when this shell is not a notify service (no NOTIFY_SOCKET)";

pub static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "pystemd.daemon.notify",
        params: NOTIFY_PARAMS,
        help: NOTIFY_HELP,
        func: Func::Eval(d_notify),
    },
    Builtin {
        name: "notify",
        params: NOTIFY_PARAMS,
        help: "Same as pystemd.daemon.notify() (the first argument may be left out)",
        func: Func::Eval(d_notify),
    },
    pure!(
        "pystemd.daemon.watchdog_enabled",
        ["unset_environment=False"],
        "sd_watchdog_enabled: the watchdog interval systemd expects pings within, in µs \
         (WATCHDOG_USEC, when WATCHDOG_PID is this shell), or 0",
        d_watchdog_enabled
    ),
    pure!(
        "watchdog_enabled",
        ["unset_environment=False"],
        "Same as pystemd.daemon.watchdog_enabled()",
        d_watchdog_enabled
    ),
    pure!(
        "pystemd.daemon.booted",
        [],
        "sd_booted: was this system booted with systemd?",
        d_booted
    ),
    pure!(
        "pystemd.daemon.listen_fds",
        ["unset_environment=False"],
        "sd_listen_fds: how many sockets systemd passed (from fd 3 on)",
        d_listen_fds
    ),
    eval!(
        "daemon_demo_service",
        ["script=None", "statements=None"],
        DEMO_HELP,
        d_demo
    ),
    eval!(
        "daemon_demo",
        ["script=None", "statements=None"],
        "Same as daemon_demo_service",
        d_demo
    ),
    attr!(
        "pystemd.daemon.LISTEN_FDS_START",
        "The first descriptor of passed sockets (3)",
        d_listen_fds_start
    ),
];

/// A state's value as systemd reads it.
fn state_value(key: &str, v: &Value) -> R<String> {
    Ok(match v {
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Int(i, _) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => format!("{}", *f as i128),
        Value::Float(f) => f.to_string(),
        Value::Str(_) | Value::Bytes(_) | Value::Path(_) => v.as_text().unwrap_or_default(),
        other => {
            return Err(Error::type_error(format!(
                "notify(): {key}= must be a string or a number, not {}",
                other.type_name()
            )));
        }
    })
}

/// The `KEY=VALUE` lines of a notify call.
fn state_lines(positional: &[Value], kw: &[(String, Value)]) -> R<Vec<String>> {
    let mut lines = Vec::new();
    for v in positional {
        let Some(t) = v.as_text() else {
            return Err(Error::type_error(format!(
                "notify(): a state given without a keyword must be a 'KEY=VALUE' string, not {}",
                v.repr()
            )));
        };
        lines.push(t);
    }
    for (k, v) in kw {
        let key = k.to_ascii_uppercase();
        lines.push(format!("{key}={}", state_value(&key, v)?));
    }
    Ok(lines)
}

fn d_notify(_: &mut Interp, a: Bound) -> R<Value> {
    // pystemd's first argument is unset_environment; the plain name may leave it out, and a
    // leading boolean is read as it.
    let mut positional: Vec<Value> = a.get(0).into_iter().cloned().collect();
    positional.extend(a.rest.iter().cloned());
    let unset = match positional.first() {
        Some(Value::Bool(b)) => {
            let b = *b;
            positional.remove(0);
            b
        }
        Some(Value::Int(i, _)) if *i == 0 || *i == 1 => {
            let b = *i == 1;
            positional.remove(0);
            b
        }
        _ => false,
    };
    let lines = state_lines(&positional, &a.kwargs)?;
    if lines.is_empty() {
        return Err(Error::type_error(
            "notify(): nothing to send: give states such as ready=1, status='text', WATCHDOG=1",
        ));
    }
    match notify::notify(unset, &lines) {
        Ok(sent) => Ok(Value::int(i128::from(sent))),
        Err(NotifyError::Send { address, error }) => Err(Error::os(
            &error,
            format!("notify(): cannot send to NOTIFY_SOCKET {address}"),
        )),
        Err(e) => Err(Error::value_error(format!("notify(): {e}"))),
    }
}

fn d_listen_fds_start(_: &mut Interp) -> R<Value> {
    Ok(Value::int(notify::LISTEN_FDS_START as i128))
}

fn d_watchdog_enabled(a: &Bound) -> R<Value> {
    notify::watchdog_enabled(a.flag("unset_environment"))
        .map(|n| Value::int(i128::from(n)))
        .map_err(|e| Error::py(PyExc::OSError, format!("watchdog_enabled(): {e}")))
}

fn d_booted(_: &Bound) -> R<Value> {
    Ok(Value::Bool(notify::booted()))
}

fn d_listen_fds(a: &Bound) -> R<Value> {
    notify::listen_fds(a.flag("unset_environment"))
        .map(|n| Value::int(i128::from(n)))
        .map_err(|e| Error::py(PyExc::OSError, format!("listen_fds(): {e}")))
}

/// Builtins that run when their name is typed alone (`daemon_demo_service`).
pub fn autocall(b: &Builtin) -> bool {
    matches!(b.name, "daemon_demo_service" | "daemon_demo")
}

/// This program's own command line for a unit (a worker, the demo service): the binary and
/// the options that choose this session's bus.
pub fn own_argv(it: &Interp) -> R<Vec<String>> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::os(&e, "cannot find this program's own binary"))?;
    let mut argv = vec![exe.to_string_lossy().into_owned()];
    match it.session.bus.target() {
        BusTarget::System => {}
        BusTarget::User => argv.push("--user".into()),
        BusTarget::Address(a) => {
            argv.push("--address".into());
            argv.push(a.clone());
        }
        other => {
            return Err(Error::new(format!(
                "this runs the shell's own binary in a unit of the local systemd; the session \
                 talks to {} instead",
                other.describe()
            )));
        }
    }
    Ok(argv)
}

fn d_demo(it: &mut Interp, a: Bound) -> R<Value> {
    if crate::systemd::unit::own_unit().as_deref() == Some(DEMO_UNIT) {
        return Err(Error::new(format!(
            "this shell already is {DEMO_UNIT}: exit() to leave it, then run \
             daemon_demo_service again"
        )));
    }
    let text = |name: &str| -> R<Option<String>> {
        match a.named(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => v.as_text().map(Some).ok_or_else(|| {
                Error::type_error(format!("daemon_demo_service({name}=...) takes a string"))
            }),
        }
    };
    let (script, statements) = (text("script")?, text("statements")?);
    if script.is_some() && statements.is_some() {
        return Err(Error::new(
            "daemon_demo_service: give script='FILE' or statements='...', not both",
        ));
    }
    let unattended = script.is_some() || statements.is_some();
    if !unattended && !std::io::stdin().is_terminal() {
        return Err(Error::new(
            "daemon_demo_service runs the shell on this terminal, and there is none (stdin is \
             not a terminal): run it at the prompt, or give it a script='FILE' to run",
        ));
    }
    let mut argv = own_argv(it)?;
    if let Some(f) = &script {
        let path = std::fs::canonicalize(f).map_err(|e| Error::os(&e, format!("script {f}")))?;
        argv.push(path.to_string_lossy().into_owned());
    }
    if let Some(code) = &statements {
        argv.push("-c".into());
        argv.push(code.clone());
    }
    let argv = Value::list(argv.into_iter().map(Value::Str).collect()).repr();
    let terminal = if unattended {
        "stdout=sys.stdout, stderr=sys.stderr"
    } else {
        "pty=True, stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr"
    };
    let call = format!(
        "run({argv}, name=\"{DEMO_UNIT}\", service_type=\"notify\", {terminal}, wait=True, \
         wait_for_activation=False, env={{\"UNIT_NAME\": \"{DEMO_UNIT}\"}}, \
         extra={{\"TimeoutStartSec\": \"5min\", \"WatchdogSec\": \"4min 59s\", \
         \"NotifyAccess\": \"main\"}})"
    );
    writeln!(
        it.out,
        "stopping {DEMO_UNIT} (left from an earlier demo, if any)"
    )?;
    let s = it.session.clone();
    it.bus(job::stop_and_reset(&s.bus, DEMO_UNIT))?;
    writeln!(it.out, ">>> {call}\n")?;
    it.out.flush()?;
    // Its value (the unit) becomes `_` rather than being printed.
    it.run_named(&format!("_ = {call}"), "daemon_demo_service", 1)?;
    let path = crate::systemd::unit_path(DEMO_UNIT);
    let x = it.bus(transient::exit_of(&s.bus, &path))?;
    writeln!(it.out, "{DEMO_UNIT} ended: {}", x.describe())?;
    Ok(Value::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_written_as_systemd_reads_them() {
        let kw = |k: &str, v: Value| (k.to_string(), v);
        let lines = state_lines(
            &[Value::str("X_CUSTOM=1")],
            &[
                kw("status", Value::str("ok, lets go!!")),
                kw("ready", Value::int(1)),
                kw("MainPID", Value::int(4242)),
                kw("watchdog_usec", Value::int(0)),
                kw("WATCHDOG_USEC", Value::Float(149_500_000.0)),
                kw("stopping", Value::Bool(true)),
                kw("errno", Value::int(2)),
            ],
        )
        .unwrap();
        assert_eq!(
            lines,
            [
                "X_CUSTOM=1",
                "STATUS=ok, lets go!!",
                "READY=1",
                "MAINPID=4242",
                "WATCHDOG_USEC=0",
                "WATCHDOG_USEC=149500000",
                "STOPPING=1",
                "ERRNO=2",
            ]
        );
        assert!(state_lines(&[Value::int(3)], &[]).is_err());
        assert!(state_lines(&[], &[kw("status", Value::list(vec![]))]).is_err());
    }
}

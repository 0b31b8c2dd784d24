//! The `signal` module: `signal.signal(signal.SIGABRT, handler)` runs a function of ours when
//! the signal arrives — at the next loop iteration or call of a running statement, while a
//! `!cmd` or a subprocess is waited for, and at the prompt, which shows its line again after
//! the handler ran. `signal.SIG_DFL` and `signal.SIG_IGN` undo it. SIGINT keeps its meaning
//! (Ctrl-C, KeyboardInterrupt). Also `os.kill(pid, sig)` and `signal.raise_signal(sig)`.
//!
//! The low-level side (the action, the self-pipes, the prompt's wake-up) is in
//! `crate::term::signals`; the handlers themselves are values of ours and live here, on the
//! evaluator's thread.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{Bound, Builtin, Func, R};
use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::native::{self, Native};
use crate::lang::value::Value;
use crate::term::signals::{self, Disposition};

thread_local! {
    /// The functions set by `signal.signal`, by signal number.
    static HANDLERS: RefCell<HashMap<i32, Value>> = RefCell::new(HashMap::new());
}

/// The function to run for `sig`, if one is set.
pub fn signal_handler(sig: i32) -> Option<Value> {
    if signals::disposition(sig) != Disposition::Handled {
        return None;
    }
    HANDLERS.with(|h| h.borrow().get(&sig).cloned())
}

/// Python's names and numbers (Linux).
const SIGNALS: &[(&str, i32)] = &[
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGSTKFLT", 16),
    ("SIGCHLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
];

/// `SIGABRT` for 6.
pub fn signal_name(n: i32) -> Option<&'static str> {
    SIGNALS.iter().find(|(_, x)| *x == n).map(|(name, _)| *name)
}

pub static BUILTINS: &[Builtin] = &[
    eval!(
        "signal.signal",
        ["signalnum", "handler"],
        "Run HANDLER(signum, frame) when the signal arrives (also at the prompt and while a \
         command runs); signal.SIG_DFL / signal.SIG_IGN undo it. Returns the previous handler",
        s_signal
    ),
    pure!(
        "signal.getsignal",
        ["signalnum"],
        "The handler set for a signal",
        s_getsignal
    ),
    eval!(
        "signal.raise_signal",
        ["signalnum"],
        "Send a signal to this shell",
        s_raise
    ),
    pure!(
        "signal.strsignal",
        ["signalnum"],
        "The description of a signal ('Aborted')",
        s_strsignal
    ),
    eval!(
        "signal.default_int_handler",
        ["signalnum", "frame"],
        "What SIGINT does: raise KeyboardInterrupt",
        s_default_int_handler
    ),
    eval!(
        "os.kill",
        ["pid", "sig"],
        "Send signal SIG to process PID",
        s_kill
    ),
    attr!(
        "signal.SIG_DFL",
        "The default action of a signal (as a handler)",
        s_sig_dfl
    ),
    attr!(
        "signal.SIG_IGN",
        "Ignore a signal (as a handler)",
        s_sig_ign
    ),
    attr!("signal.SIGHUP", "Signal 1 (hang-up)", sighup),
    attr!("signal.SIGINT", "Signal 2 (Ctrl-C)", sigint),
    attr!("signal.SIGQUIT", "Signal 3 (quit)", sigquit),
    attr!(
        "signal.SIGABRT",
        "Signal 6 (abort; systemd's watchdog signal)",
        sigabrt
    ),
    attr!(
        "signal.SIGKILL",
        "Signal 9 (kill; cannot be caught)",
        sigkill
    ),
    attr!("signal.SIGUSR1", "Signal 10 (user-defined)", sigusr1),
    attr!("signal.SIGUSR2", "Signal 12 (user-defined)", sigusr2),
    attr!("signal.SIGPIPE", "Signal 13 (broken pipe)", sigpipe),
    attr!("signal.SIGALRM", "Signal 14 (alarm clock)", sigalrm),
    attr!("signal.SIGTERM", "Signal 15 (terminate)", sigterm),
    attr!("signal.SIGCHLD", "Signal 17 (a child ended)", sigchld),
    attr!("signal.SIGCONT", "Signal 18 (continue)", sigcont),
    attr!(
        "signal.SIGSTOP",
        "Signal 19 (stop; cannot be caught)",
        sigstop
    ),
    attr!("signal.SIGTSTP", "Signal 20 (Ctrl-Z)", sigtstp),
    attr!(
        "signal.SIGWINCH",
        "Signal 28 (the window size changed)",
        sigwinch
    ),
];

fn s_default_int_handler(_: &mut Interp, _: Bound) -> R<Value> {
    Err(Error::interrupted())
}

fn s_sig_dfl(_: &mut Interp) -> R<Value> {
    Ok(native::value(Handlers::Dfl))
}

fn s_sig_ign(_: &mut Interp) -> R<Value> {
    Ok(native::value(Handlers::Ign))
}

// The signals a shell script names most (Linux numbers); any other by its number
// (`signal.signal(31, f)`).
fn sighup(_: &mut Interp) -> R<Value> {
    Ok(Value::int(1))
}

fn sigint(_: &mut Interp) -> R<Value> {
    Ok(Value::int(2))
}

fn sigquit(_: &mut Interp) -> R<Value> {
    Ok(Value::int(3))
}

fn sigabrt(_: &mut Interp) -> R<Value> {
    Ok(Value::int(6))
}

fn sigkill(_: &mut Interp) -> R<Value> {
    Ok(Value::int(9))
}

fn sigusr1(_: &mut Interp) -> R<Value> {
    Ok(Value::int(10))
}

fn sigusr2(_: &mut Interp) -> R<Value> {
    Ok(Value::int(12))
}

fn sigpipe(_: &mut Interp) -> R<Value> {
    Ok(Value::int(13))
}

fn sigalrm(_: &mut Interp) -> R<Value> {
    Ok(Value::int(14))
}

fn sigterm(_: &mut Interp) -> R<Value> {
    Ok(Value::int(15))
}

fn sigchld(_: &mut Interp) -> R<Value> {
    Ok(Value::int(17))
}

fn sigcont(_: &mut Interp) -> R<Value> {
    Ok(Value::int(18))
}

fn sigstop(_: &mut Interp) -> R<Value> {
    Ok(Value::int(19))
}

fn sigtstp(_: &mut Interp) -> R<Value> {
    Ok(Value::int(20))
}

fn sigwinch(_: &mut Interp) -> R<Value> {
    Ok(Value::int(28))
}

/// `signal.SIG_DFL` and `signal.SIG_IGN`: Python's `Handlers` enum, equal to 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handlers {
    Dfl,
    Ign,
}

impl Native for Handlers {
    fn type_name(&self) -> &'static str {
        "Handlers"
    }

    fn repr(&self) -> String {
        match self {
            Handlers::Dfl => "<Handlers.SIG_DFL: 0>".into(),
            Handlers::Ign => "<Handlers.SIG_IGN: 1>".into(),
        }
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["name", "value"]
    }

    fn methods(&self) -> &'static [&'static str] {
        &[]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        match name {
            "name" => Some(Ok(Value::str(match self {
                Handlers::Dfl => "SIG_DFL",
                Handlers::Ign => "SIG_IGN",
            }))),
            "value" => self.number().map(|n| Ok(Value::int(n))),
            _ => None,
        }
    }

    fn call(&self, _: &mut Interp, name: &str, _: super::Args) -> R<Value> {
        Err(Error::py(
            PyExc::AttributeError,
            format!("Handlers has no method {name}"),
        ))
    }

    fn number(&self) -> Option<i128> {
        Some(match self {
            Handlers::Dfl => 0,
            Handlers::Ign => 1,
        })
    }
}

/// The frame a handler is given: where the shell was when the signal arrived.
#[derive(Debug)]
struct Frame {
    file: String,
    line: Option<usize>,
}

impl Native for Frame {
    fn type_name(&self) -> &'static str {
        "frame"
    }

    fn repr(&self) -> String {
        match self.line {
            Some(l) => format!("<frame at {}, line {l}>", self.file),
            None => "<frame at the prompt>".into(),
        }
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["f_lineno", "f_filename"]
    }

    fn methods(&self) -> &'static [&'static str] {
        &[]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        match name {
            "f_lineno" => Some(Ok(self.line.map_or(Value::None, |l| Value::int(l as i128)))),
            "f_filename" => Some(Ok(Value::str(self.file.clone()))),
            _ => None,
        }
    }

    fn call(&self, _: &mut Interp, name: &str, _: super::Args) -> R<Value> {
        Err(Error::py(
            PyExc::AttributeError,
            format!("frame has no method {name}"),
        ))
    }
}

/// The frame for a handler run now (`at_prompt`: the prompt was waiting for a line).
pub fn signal_frame(it: &Interp, at_prompt: bool) -> Value {
    if at_prompt {
        return native::value(Frame {
            file: "<prompt>".into(),
            line: None,
        });
    }
    let (file, line) = it.position();
    native::value(Frame {
        file,
        line: Some(line),
    })
}

fn signum(v: &Value) -> R<i32> {
    match v {
        Value::Int(n, _) => i32::try_from(*n)
            .ok()
            .filter(|n| (1..65).contains(n))
            .ok_or_else(|| Error::value_error(format!("signal number {n} out of range (1-64)"))),
        other => Err(Error::type_error(format!(
            "a signal is a number such as signal.SIGABRT, not {}",
            other.repr()
        ))),
    }
}

/// The value `signal.getsignal` shows for a signal's current disposition.
fn current(sig: i32) -> Value {
    if sig == signals::SIGINT {
        return Value::Builtin(super::find("signal.default_int_handler").expect("declared"));
    }
    match signals::disposition(sig) {
        Disposition::Handled => signal_handler(sig).unwrap_or(Value::None),
        Disposition::Ignore => native::value(Handlers::Ign),
        Disposition::Default => native::value(Handlers::Dfl),
    }
}

fn s_getsignal(a: &Bound) -> R<Value> {
    Ok(current(signum(a.one())?))
}

fn callable(v: &Value) -> bool {
    matches!(
        v,
        Value::Function(_) | Value::Builtin(_) | Value::Bound(..) | Value::Method(_)
    )
}

fn s_signal(_: &mut Interp, a: Bound) -> R<Value> {
    let sig = signum(a.get(0).unwrap_or(&Value::None))?;
    let handler = a.get(1).cloned().unwrap_or(Value::None);
    let wanted = match &handler {
        v if v == &Value::int(0) => Disposition::Default,
        v if v == &Value::int(1) => Disposition::Ignore,
        v if callable(v) => Disposition::Handled,
        other => {
            return Err(Error::type_error(format!(
                "signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object \
                 (a function or lambda), not {}",
                other.repr()
            )));
        }
    };
    if sig == signals::SIGINT
        && matches!(&handler, Value::Builtin(b) if b.name == "signal.default_int_handler")
    {
        return Ok(current(sig));
    }
    let before = current(sig);
    signals::set_disposition(sig, wanted).map_err(|e| {
        let name = signal_name(sig).unwrap_or("this signal");
        Error::value_error(format!("signal.signal({name}): {e}"))
    })?;
    HANDLERS.with(|h| {
        let mut h = h.borrow_mut();
        if wanted == Disposition::Handled {
            h.insert(sig, handler);
        } else {
            h.remove(&sig);
        }
    });
    Ok(before)
}

fn s_raise(it: &mut Interp, a: Bound) -> R<Value> {
    let sig = signum(a.one())?;
    send(std::process::id() as i32, sig)?;
    // Handled now, as Python does for a signal sent to itself.
    it.checkpoint()?;
    Ok(Value::None)
}

fn s_kill(it: &mut Interp, a: Bound) -> R<Value> {
    let pid = match a.get(0) {
        Some(Value::Int(n, _)) => i32::try_from(*n)
            .map_err(|_| Error::value_error(format!("os.kill(): {n} is not a process id")))?,
        other => {
            return Err(Error::type_error(format!(
                "os.kill(): the pid must be a number, not {}",
                other.map_or("nothing".into(), Value::repr)
            )));
        }
    };
    let sig = match a.get(1) {
        Some(Value::Int(0, _)) => 0,
        Some(v) => signum(v)?,
        None => 0,
    };
    send(pid, sig)?;
    if pid == std::process::id() as i32 {
        it.checkpoint()?;
    }
    Ok(Value::None)
}

fn send(pid: i32, sig: i32) -> R<()> {
    let signal = if sig == 0 {
        None
    } else {
        Some(
            nix::sys::signal::Signal::try_from(sig)
                .map_err(|_| Error::value_error(format!("{sig} is not a signal")))?,
        )
    };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).map_err(|e| {
        Error::os(
            &std::io::Error::from(e),
            format!("cannot send signal {sig} to process {pid}"),
        )
    })
}

fn s_strsignal(a: &Bound) -> R<Value> {
    let sig = signum(a.one())?;
    let text = nix::sys::signal::Signal::try_from(sig)
        .map(|s| match s {
            nix::sys::signal::Signal::SIGABRT => "Aborted",
            nix::sys::signal::Signal::SIGTERM => "Terminated",
            nix::sys::signal::Signal::SIGHUP => "Hangup",
            nix::sys::signal::Signal::SIGINT => "Interrupt",
            nix::sys::signal::Signal::SIGKILL => "Killed",
            nix::sys::signal::Signal::SIGUSR1 => "User defined signal 1",
            nix::sys::signal::Signal::SIGUSR2 => "User defined signal 2",
            other => other.as_str(),
        })
        .unwrap_or("Unknown signal");
    Ok(Value::str(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_match_the_numbers_of_linux() {
        for (name, n) in SIGNALS {
            let nix_name = nix::sys::signal::Signal::try_from(*n).map(|s| s.as_str());
            if *name != "SIGIOT" {
                assert_eq!(nix_name, Ok(*name), "{name}");
            }
            if let Some(b) = super::super::find(&format!("signal.{name}")) {
                assert!(matches!(b.func, Func::Attr(_)));
            }
        }
    }
}

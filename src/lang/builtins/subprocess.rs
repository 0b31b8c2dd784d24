//! The `subprocess` module: `Popen` (a child process we start and may leave running:
//! `.pid`, `.poll()`, `.wait()`, `.kill()`, `.terminate()`, `.send_signal()`,
//! `.communicate()`), `run` (with `capture_output`, `check`, `input`, `timeout`, `text`),
//! `check_output`, `call`, and `PIPE`/`DEVNULL`/`STDOUT`.
//!
//! Children are started with `std::process` (posix_spawn or fork+exec in the child, never a
//! fork of this multi-threaded process that keeps running Rust code). Waiting for one
//! ([`wait_child`]) sleeps on a pidfd and on the signal self-pipe, so handlers set with
//! `signal.signal` run while a child runs, and Ctrl-C is seen at once.
//!
//! `Popen` children are ordinary children of the shell: in its unit's cgroup, so
//! `notify(False, MainPID=p.pid, ...)` may hand them the unit, as the workshop does.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::{Args, Bound, Builtin, Func, R};
use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::native::{self, Native};
use crate::lang::value::{IntKind, Value, check_text};
use crate::term::signals;

const PIPE: i128 = -1;
const STDOUT: i128 = -2;
const DEVNULL: i128 = -3;

pub static BUILTINS: &[Builtin] = &[
    eval!(
        "subprocess.Popen",
        [
            "args",
            "stdin=None",
            "stdout=None",
            "stderr=None",
            "shell=False",
            "cwd=None",
            "env=None",
            "text=False",
            "start_new_session=False"
        ],
        "Start a process and go on (it may outlive this shell): p.pid, p.poll(), p.wait(), \
         p.kill(); e.g. subprocess.Popen(['nohup', 'sleep', 'infinity'])",
        p_popen
    ),
    eval!(
        "subprocess.run",
        [
            "args",
            "stdin=None",
            "input=None",
            "stdout=None",
            "stderr=None",
            "capture_output=False",
            "shell=False",
            "cwd=None",
            "timeout=None",
            "check=False",
            "env=None",
            "text=False"
        ],
        "Run a process and wait for it: r.returncode, r.stdout, r.stderr \
         (capture_output=True collects them)",
        p_run
    ),
    eval!(
        "subprocess.check_output",
        [
            "args",
            "stdin=None",
            "input=None",
            "stderr=None",
            "shell=False",
            "cwd=None",
            "timeout=None",
            "env=None",
            "text=False"
        ],
        "Run a process and return its output; a failure raises CalledProcessError",
        p_check_output
    ),
    eval!(
        "subprocess.call",
        [
            "args",
            "stdin=None",
            "stdout=None",
            "stderr=None",
            "shell=False",
            "cwd=None",
            "timeout=None",
            "env=None"
        ],
        "Run a process and return its exit status",
        p_call
    ),
    attr!(
        "subprocess.PIPE",
        "Collect the stream (stdout=subprocess.PIPE)",
        s_pipe
    ),
    attr!(
        "subprocess.STDOUT",
        "Send stderr where stdout goes (stderr=subprocess.STDOUT)",
        s_stdout
    ),
    attr!("subprocess.DEVNULL", "/dev/null as the stream", s_devnull),
    attr!(
        "subprocess.CalledProcessError",
        "Raised by check=True and check_output when the command fails (e.returncode in \
         e.args[0])",
        s_called_process_error
    ),
    attr!(
        "subprocess.SubprocessError",
        "The base class of subprocess's errors",
        s_subprocess_error
    ),
    attr!(
        "subprocess.TimeoutExpired",
        "Raised when timeout= passes (here the same class as TimeoutError)",
        s_timeout_expired
    ),
];

fn s_pipe(_: &mut Interp) -> R<Value> {
    Ok(Value::int(PIPE))
}

fn s_stdout(_: &mut Interp) -> R<Value> {
    Ok(Value::int(STDOUT))
}

fn s_devnull(_: &mut Interp) -> R<Value> {
    Ok(Value::int(DEVNULL))
}

fn s_called_process_error(_: &mut Interp) -> R<Value> {
    Ok(Value::ExcClass(PyExc::CalledProcessError))
}

fn s_subprocess_error(_: &mut Interp) -> R<Value> {
    Ok(Value::ExcClass(PyExc::SubprocessError))
}

fn s_timeout_expired(_: &mut Interp) -> R<Value> {
    Ok(Value::ExcClass(PyExc::TimeoutError))
}

// ----- waiting -----

/// A pidfd for `pid` (Linux 5.3+), to sleep until it exits; `None` on older kernels.
fn pidfd(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid as i32, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// How a wait for a child ended.
pub enum Waited {
    Exited(ExitStatus),
    /// The deadline passed first.
    TimedOut,
    /// Ctrl-C (only when asked to stop on it).
    Interrupted,
}

/// Wait for `child` to exit, running signal handlers as signals arrive; until `deadline`,
/// and (with `stop_on_interrupt`) until Ctrl-C. The child is not killed here.
pub fn wait_child(
    it: &mut Interp,
    child: &mut Child,
    deadline: Option<Instant>,
    stop_on_interrupt: bool,
) -> R<Waited> {
    let pfd = pidfd(child.id());
    loop {
        if let Some(st) = child
            .try_wait()
            .map_err(|e| Error::os(&e, "cannot wait for the child process"))?
        {
            return Ok(Waited::Exited(st));
        }
        if signals::has_pending() {
            it.run_signal_handlers(false)?;
        }
        if stop_on_interrupt && signals::interrupt_pending() {
            return Ok(Waited::Interrupted);
        }
        let mut wait = if pfd.is_some() {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(50)
        };
        if stop_on_interrupt {
            // Ctrl-C has no descriptor to poll.
            wait = wait.min(Duration::from_millis(100));
        }
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Waited::TimedOut);
            }
            wait = wait.min(left);
        }
        let mut fds = Vec::with_capacity(2);
        if let Some(p) = &pfd {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        if let Some(w) = signals::wake_fd() {
            fds.push(PollFd::new(w, PollFlags::POLLIN));
        }
        let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                return Err(Error::os(
                    &std::io::Error::from(e),
                    "cannot wait for the child process",
                ));
            }
        }
    }
}

// ----- building a command -----

/// The argv of `args` (a list, or a string: one program, or a shell line with shell=True).
fn argv(a: &Bound, shell: bool) -> R<Vec<String>> {
    let v = a.get(0).cloned().unwrap_or(Value::None);
    let words: Vec<String> = match &v {
        Value::Str(_) | Value::Bytes(_) => vec![v.as_text().unwrap_or_default()],
        Value::List(items) | Value::Tuple(items) => items
            .borrow()
            .iter()
            .map(|x| match x {
                Value::Int(n, _) => Some(n.to_string()),
                other => other.as_text(),
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::type_error("the arguments must be strings"))?,
        other => {
            return Err(Error::type_error(format!(
                "{}: args must be a list of strings (['sleep', '1']) or a string, not {}",
                a.f.name,
                other.type_name()
            )));
        }
    };
    if words.is_empty() {
        return Err(Error::value_error(format!(
            "{}: the command is empty",
            a.f.name
        )));
    }
    if shell {
        return Ok(vec!["/bin/sh".into(), "-c".into(), words.join(" ")]);
    }
    Ok(words)
}

/// Where a stream goes.
enum Io {
    Inherit,
    Pipe,
    Null,
    /// stderr to wherever stdout goes.
    ToStdout,
    Fd(i32),
}

fn io_arg(a: &Bound, name: &str) -> R<Io> {
    Ok(match a.named(name) {
        None | Some(Value::None) => Io::Inherit,
        Some(Value::Int(PIPE, _)) => Io::Pipe,
        Some(Value::Int(DEVNULL, _)) => Io::Null,
        Some(Value::Int(STDOUT, _)) if name == "stderr" => Io::ToStdout,
        Some(Value::Stream(s)) => Io::Fd(s.fd()),
        Some(Value::Int(fd, IntKind::Fd)) => Io::Fd(*fd as i32),
        Some(Value::Int(fd, _)) if *fd >= 0 => Io::Fd(*fd as i32),
        Some(other) => {
            return Err(Error::value_error(format!(
                "{}: {name} must be subprocess.PIPE, subprocess.DEVNULL, sys.stdout, a file \
                 from open() or None, not {}",
                a.f.name,
                other.repr()
            )));
        }
    })
}

fn stdio(io: &Io) -> R<Stdio> {
    Ok(match io {
        Io::Inherit => Stdio::inherit(),
        Io::Pipe => Stdio::piped(),
        Io::Null | Io::ToStdout => Stdio::null(),
        Io::Fd(fd) => {
            let dup = nix::unistd::dup(
                // SAFETY: fds given to subprocess are 0/1/2 or files open() keeps open; dup
                // only reads the number.
                unsafe { std::os::fd::BorrowedFd::borrow_raw(*fd) },
            )
            .map_err(|e| Error::os(&std::io::Error::from(e), format!("bad descriptor {fd}")))?;
            Stdio::from(dup)
        }
    })
}

/// The command of a Popen/run call, and whether its stdout/stderr are collected.
fn command(a: &Bound) -> R<(Command, Vec<String>)> {
    let shell = a.flag("shell");
    let words = argv(a, shell)?;
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..]);
    if let Some(dir) = a.named("cwd").and_then(Value::as_text) {
        cmd.current_dir(dir);
    }
    match a.named("env") {
        None | Some(Value::None) => {}
        Some(Value::Dict(d)) => {
            cmd.env_clear();
            for (k, v) in d.borrow().entries() {
                let (Some(k), Some(v)) = (k.as_text(), v.as_text()) else {
                    return Err(Error::type_error(format!(
                        "{}: env must map strings to strings",
                        a.f.name
                    )));
                };
                cmd.env(k, v);
            }
        }
        Some(other) => {
            return Err(Error::type_error(format!(
                "{}: env must be a dict, not {}",
                a.f.name,
                other.type_name()
            )));
        }
    }
    Ok((cmd, words))
}

fn spawn(it: &mut Interp, a: &Bound, mut cmd: Command, words: &[String]) -> R<Child> {
    let stdin = io_arg(a, "stdin")?;
    let stdout = io_arg(a, "stdout")?;
    let stderr = io_arg(a, "stderr")?;
    cmd.stdin(stdio(&stdin)?);
    cmd.stdout(stdio(&stdout)?);
    match stderr {
        Io::ToStdout => {
            // stderr joins stdout: a pipe shared by both is read as one stream.
            if matches!(stdout, Io::Pipe) {
                return Err(Error::value_error(format!(
                    "{}: stderr=subprocess.STDOUT with stdout=subprocess.PIPE is not supported: \
                     use capture_output=True and read r.stderr too",
                    a.f.name
                )));
            }
            let fd = match stdout {
                Io::Fd(fd) => fd,
                _ => 1,
            };
            cmd.stderr(stdio(&Io::Fd(fd))?);
        }
        other => {
            cmd.stderr(stdio(&other)?);
        }
    }
    if a.flag("start_new_session") {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    it.out.flush()?;
    cmd.spawn()
        .map_err(|e| Error::os(&e, format!("cannot run {}", words[0])))
}

/// Bytes, or text with `text=True`.
fn output_value(bytes: Vec<u8>, text: bool) -> R<Value> {
    check_text(bytes.len())?;
    Ok(if text {
        Value::Str(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        Value::Bytes(bytes)
    })
}

/// Feed `input`, read the pipes, wait; kill the child on timeout or Ctrl-C.
fn communicate(
    it: &mut Interp,
    child: &mut Child,
    input: Option<Vec<u8>>,
    timeout: Option<Duration>,
) -> R<(ExitStatus, Vec<u8>, Vec<u8>)> {
    // Pipes are read by threads, so a child filling one never blocks on us.
    let writer = match (child.stdin.take(), input) {
        (Some(mut w), Some(data)) => Some(std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })),
        (Some(w), None) => {
            drop(w);
            None
        }
        _ => None,
    };
    let reader = |r: Option<Box<dyn Read + Send>>| {
        r.map(|mut r| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    let waited = wait_child(it, child, deadline, true)?;
    let status = match waited {
        Waited::Exited(st) => st,
        Waited::TimedOut | Waited::Interrupted => {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(w) = writer {
                let _ = w.join();
            }
            if matches!(waited, Waited::Interrupted) {
                return Err(Error::interrupted());
            }
            return Err(Error::py(
                PyExc::TimeoutError,
                format!(
                    "the command timed out after {} seconds (it was killed)",
                    timeout.unwrap_or_default().as_secs_f64()
                ),
            ));
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let out = out.and_then(|t| t.join().ok()).unwrap_or_default();
    let err = err.and_then(|t| t.join().ok()).unwrap_or_default();
    Ok((status, out, err))
}

fn returncode(st: &ExitStatus) -> i128 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => c as i128,
        (None, Some(s)) => -(s as i128),
        _ => -1,
    }
}

fn timeout_arg(a: &Bound) -> R<Option<Duration>> {
    match a.named("timeout") {
        None | Some(Value::None) => Ok(None),
        Some(v) => {
            let secs = crate::lang::interp::ops::num(v)
                .filter(|s| *s >= 0.0 && s.is_finite())
                .ok_or_else(|| {
                    Error::value_error(format!("{}: timeout must be a number of seconds", a.f.name))
                })?;
            Ok(Duration::try_from_secs_f64(secs).ok())
        }
    }
}

fn input_arg(a: &Bound) -> R<Option<Vec<u8>>> {
    match a.named("input") {
        None | Some(Value::None) => Ok(None),
        Some(Value::Bytes(b)) => Ok(Some(b.clone())),
        Some(Value::Str(s)) => Ok(Some(s.as_bytes().to_vec())),
        Some(other) => Err(Error::type_error(format!(
            "{}: input must be bytes or a string, not {}",
            a.f.name,
            other.type_name()
        ))),
    }
}

fn called_process_error(words: &[String], code: i128, output: Value, stderr: Value) -> Error {
    let e = Error::py(
        PyExc::CalledProcessError,
        format!(
            "Command '{}' returned non-zero exit status {code}.",
            words.join(" ")
        ),
    );
    Error {
        args: vec![
            Value::int(code),
            Value::list(words.iter().cloned().map(Value::Str).collect()),
            output,
            stderr,
        ],
        ..e
    }
}

// ----- run, check_output, call -----

/// Run to the end: (argv, exit status, stdout, stderr).
fn run_to_end(it: &mut Interp, a: &Bound) -> R<(Vec<String>, ExitStatus, Value, Value)> {
    let (mut cmd, words) = command(a)?;
    let input = input_arg(a)?;
    let capture = a.flag("capture_output");
    if capture && (a.named("stdout").is_some_and(|v| *v != Value::None)) {
        return Err(Error::value_error(format!(
            "{}: stdout and stderr may not be used with capture_output",
            a.f.name
        )));
    }
    let text = a.flag("text");
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = {
        let mut child_cmd = cmd;
        if capture {
            child_cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            if input.is_none() {
                child_cmd.stdin(stdio(&io_arg(a, "stdin")?)?);
            }
            it.out.flush()?;
            child_cmd
                .spawn()
                .map_err(|e| Error::os(&e, format!("cannot run {}", words[0])))?
        } else if input.is_some() {
            child_cmd.stdout(stdio(&io_arg(a, "stdout")?)?);
            child_cmd.stderr(stdio(&io_arg(a, "stderr")?)?);
            it.out.flush()?;
            child_cmd
                .spawn()
                .map_err(|e| Error::os(&e, format!("cannot run {}", words[0])))?
        } else {
            spawn(it, a, child_cmd, &words)?
        }
    };
    let (status, out, err) = communicate(it, &mut child, input, timeout_arg(a)?)?;
    let collected = |b: Vec<u8>, piped: bool| -> R<Value> {
        if piped {
            output_value(b, text)
        } else {
            Ok(Value::None)
        }
    };
    let out_piped = capture || matches!(a.named("stdout"), Some(Value::Int(PIPE, _)));
    let err_piped = capture || matches!(a.named("stderr"), Some(Value::Int(PIPE, _)));
    Ok((
        words,
        status,
        collected(out, out_piped)?,
        collected(err, err_piped)?,
    ))
}

fn p_run(it: &mut Interp, a: Bound) -> R<Value> {
    let (words, status, out, err) = run_to_end(it, &a)?;
    let code = returncode(&status);
    if a.flag("check") && code != 0 {
        return Err(called_process_error(&words, code, out, err));
    }
    Ok(native::value(Completed {
        args: words,
        returncode: code,
        stdout: out,
        stderr: err,
    }))
}

fn p_check_output(it: &mut Interp, a: Bound) -> R<Value> {
    // check_output is run(..., stdout=PIPE, check=True).stdout.
    let (mut cmd, words) = command(&a)?;
    let input = input_arg(&a)?;
    cmd.stdout(Stdio::piped());
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        stdio(&io_arg(&a, "stdin")?)?
    });
    cmd.stderr(stdio(&io_arg(&a, "stderr")?)?);
    it.out.flush()?;
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::os(&e, format!("cannot run {}", words[0])))?;
    let (status, out, _) = communicate(it, &mut child, input, timeout_arg(&a)?)?;
    let out = output_value(out, a.flag("text"))?;
    let code = returncode(&status);
    if code != 0 {
        return Err(called_process_error(&words, code, out, Value::None));
    }
    Ok(out)
}

fn p_call(it: &mut Interp, a: Bound) -> R<Value> {
    let (words, status, _, _) = run_to_end(it, &a)?;
    let _ = words;
    Ok(Value::int(returncode(&status)))
}

/// What `subprocess.run` returns.
#[derive(Debug)]
struct Completed {
    args: Vec<String>,
    returncode: i128,
    stdout: Value,
    stderr: Value,
}

impl Native for Completed {
    fn type_name(&self) -> &'static str {
        "CompletedProcess"
    }

    fn repr(&self) -> String {
        let mut s = format!(
            "CompletedProcess(args={}, returncode={}",
            Value::list(self.args.iter().cloned().map(Value::Str).collect()).repr(),
            self.returncode
        );
        if self.stdout != Value::None {
            s.push_str(&format!(", stdout={}", self.stdout.repr()));
        }
        if self.stderr != Value::None {
            s.push_str(&format!(", stderr={}", self.stderr.repr()));
        }
        s.push(')');
        s
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["args", "returncode", "stdout", "stderr", "check_returncode"]
    }

    fn methods(&self) -> &'static [&'static str] {
        &["check_returncode"]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        Some(Ok(match name {
            "args" => Value::list(self.args.iter().cloned().map(Value::Str).collect()),
            "returncode" => Value::int(self.returncode),
            "stdout" => self.stdout.clone(),
            "stderr" => self.stderr.clone(),
            _ => return None,
        }))
    }

    fn call(&self, _: &mut Interp, _: &str, _: Args) -> R<Value> {
        if self.returncode != 0 {
            return Err(called_process_error(
                &self.args,
                self.returncode,
                self.stdout.clone(),
                self.stderr.clone(),
            ));
        }
        Ok(Value::None)
    }
}

// ----- Popen -----

/// A child started by `subprocess.Popen`.
#[derive(Debug)]
struct Popen {
    args: Vec<String>,
    pid: u32,
    child: RefCell<Child>,
    returncode: RefCell<Option<i128>>,
    text: bool,
}

fn p_popen(it: &mut Interp, a: Bound) -> R<Value> {
    let (cmd, words) = command(&a)?;
    let child = spawn(it, &a, cmd, &words)?;
    Ok(native::value(Popen {
        args: words,
        pid: child.id(),
        child: RefCell::new(child),
        returncode: RefCell::new(None),
        text: a.flag("text"),
    }))
}

impl Popen {
    fn poll(&self) -> R<Option<i128>> {
        if let Some(c) = *self.returncode.borrow() {
            return Ok(Some(c));
        }
        let st = self
            .child
            .borrow_mut()
            .try_wait()
            .map_err(|e| Error::os(&e, "cannot poll the child"))?;
        let code = st.as_ref().map(returncode);
        *self.returncode.borrow_mut() = code;
        Ok(code)
    }

    fn signal(&self, sig: nix::sys::signal::Signal) -> R<()> {
        // A child already waited for may have a reused pid: leave it alone.
        if self.poll()?.is_some() {
            return Ok(());
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid as i32), sig).map_err(|e| {
            Error::os(
                &std::io::Error::from(e),
                format!("cannot signal process {}", self.pid),
            )
        })
    }
}

impl Native for Popen {
    fn type_name(&self) -> &'static str {
        "Popen"
    }

    fn repr(&self) -> String {
        format!(
            "<Popen: returncode: {} args: {}>",
            self.returncode
                .borrow()
                .map_or("None".to_string(), |c| c.to_string()),
            Value::list(self.args.iter().cloned().map(Value::Str).collect()).repr()
        )
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[
            "args",
            "pid",
            "returncode",
            "poll",
            "wait",
            "kill",
            "terminate",
            "send_signal",
            "communicate",
        ]
    }

    fn methods(&self) -> &'static [&'static str] {
        &[
            "poll",
            "wait",
            "kill",
            "terminate",
            "send_signal",
            "communicate",
        ]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        Some(Ok(match name {
            "args" => Value::list(self.args.iter().cloned().map(Value::Str).collect()),
            "pid" => Value::int(self.pid as i128),
            "returncode" => self.returncode.borrow().map_or(Value::None, Value::int),
            _ => return None,
        }))
    }

    fn call(&self, it: &mut Interp, name: &str, args: Args) -> R<Value> {
        let arg = |i: usize, kw: &str| -> Option<Value> {
            args.pos.get(i).cloned().or_else(|| {
                args.kw
                    .iter()
                    .find(|(k, _)| k == kw)
                    .map(|(_, v)| v.clone())
            })
        };
        match name {
            "poll" => Ok(self.poll()?.map_or(Value::None, Value::int)),
            "wait" => {
                if let Some(c) = self.poll()? {
                    return Ok(Value::int(c));
                }
                let timeout = match arg(0, "timeout") {
                    None | Some(Value::None) => None,
                    Some(v) => crate::lang::interp::ops::num(&v)
                        .and_then(|s| Duration::try_from_secs_f64(s).ok()),
                };
                let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
                let waited = {
                    let mut child = self.child.borrow_mut();
                    wait_child(it, &mut child, deadline, true)?
                };
                match waited {
                    Waited::Exited(st) => {
                        let c = returncode(&st);
                        *self.returncode.borrow_mut() = Some(c);
                        Ok(Value::int(c))
                    }
                    Waited::TimedOut => Err(Error::py(
                        PyExc::TimeoutError,
                        format!(
                            "process {} still runs after {} seconds",
                            self.pid,
                            timeout.unwrap_or_default().as_secs_f64()
                        ),
                    )),
                    // Ctrl-C ends the wait, not the process (as in Python).
                    Waited::Interrupted => Err(Error::interrupted()),
                }
            }
            "kill" => self
                .signal(nix::sys::signal::Signal::SIGKILL)
                .map(|()| Value::None),
            "terminate" => self
                .signal(nix::sys::signal::Signal::SIGTERM)
                .map(|()| Value::None),
            "send_signal" => {
                let n = match arg(0, "sig") {
                    Some(Value::Int(n, _)) => n,
                    _ => return Err(Error::type_error("send_signal(sig) needs a signal number")),
                };
                let sig = i32::try_from(n)
                    .ok()
                    .and_then(|n| nix::sys::signal::Signal::try_from(n).ok())
                    .ok_or_else(|| Error::value_error(format!("{n} is not a signal")))?;
                self.signal(sig).map(|()| Value::None)
            }
            "communicate" => {
                let input = match arg(0, "input") {
                    None | Some(Value::None) => None,
                    Some(Value::Bytes(b)) => Some(b),
                    Some(Value::Str(s)) => Some(s.into_bytes()),
                    Some(other) => {
                        return Err(Error::type_error(format!(
                            "communicate(): input must be bytes or a string, not {}",
                            other.type_name()
                        )));
                    }
                };
                let timeout = match arg(1, "timeout") {
                    None | Some(Value::None) => None,
                    Some(v) => crate::lang::interp::ops::num(&v)
                        .and_then(|s| Duration::try_from_secs_f64(s).ok()),
                };
                let (status, out, err, piped_out, piped_err) = {
                    let mut child = self.child.borrow_mut();
                    let (po, pe) = (child.stdout.is_some(), child.stderr.is_some());
                    let (st, o, e) = communicate(it, &mut child, input, timeout)?;
                    (st, o, e, po, pe)
                };
                *self.returncode.borrow_mut() = Some(returncode(&status));
                let out = if piped_out {
                    output_value(out, self.text)?
                } else {
                    Value::None
                };
                let err = if piped_err {
                    output_value(err, self.text)?
                } else {
                    Value::None
                };
                Ok(Value::tuple(vec![out, err]))
            }
            other => Err(Error::py(
                PyExc::AttributeError,
                format!("Popen has no method {other}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_are_python_returncodes() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(returncode(&ExitStatus::from_raw(0)), 0);
        assert_eq!(returncode(&ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(returncode(&ExitStatus::from_raw(9)), -9);
    }
}

//! The shell's side of a pool of workers in a transient unit: starting the unit with our own
//! binary as its `ExecStart` and one end of a socket pair as its stdin, sending jobs, reading
//! results as they come, and stopping the unit so nothing is left behind.
//!
//! A [`Pool`] is shared by the values made from it: the executor
//! (`TransientUnitPoolExecutor`), its futures, a `TransientUnitProcess`. Jobs are encoded on
//! submit (`crate::lang::portable`) and their results decoded when asked for, on the
//! evaluator's thread; reading the socket is done whenever someone waits or looks
//! ([`Pool::pump`]), so no thread of ours holds shell values.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::worker::{Frames, HELLO, JOB, RESULT, STARTED};
use crate::bus::data::Data;
use crate::lang::builtins::daemon::own_argv;
use crate::lang::builtins::run::typed_properties;
use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::interp::Interp;
use crate::lang::lexer::{TokenKind, lex};
use crate::lang::portable;
use crate::lang::value::{Function, Value, object_value};
use crate::systemd::transient::{self, prop, prop_list};
use crate::systemd::{self, job};
use crate::term::signals;

/// How long stopping a unit may take.
const STOP_WITHIN: Duration = Duration::from_secs(60);

/// How long a worker unit may take to say hello.
const HELLO_WITHIN: Duration = Duration::from_secs(30);

/// Properties the pool sets itself.
const OURS: &[&str] = &[
    "ExecStart",
    "Type",
    "StandardInput",
    "StandardInputFileDescriptor",
    "StandardOutputFileDescriptor",
    "StandardErrorFileDescriptor",
];

#[derive(Debug)]
enum JobState {
    Queued,
    Running(u32),
    Done { ok: bool, payload: Vec<u8> },
}

/// Who runs the workers (from the supervisor's hello).
#[derive(Debug, Default, Clone)]
pub struct Hello {
    pub pid: u32,
    pub uid: u32,
    pub user: String,
}

#[derive(Debug)]
pub struct Pool {
    pub unit: String,
    pub max_workers: usize,
    sock: RefCell<Option<UnixStream>>,
    frames: RefCell<Frames>,
    jobs: RefCell<BTreeMap<u64, JobState>>,
    next: Cell<u64>,
    pub hello: RefCell<Hello>,
    /// The unit was stopped by us.
    stopped: Cell<bool>,
    /// Why the connection ended before all jobs were done (read once from systemd).
    ended: RefCell<Option<String>>,
}

/// `rustemd-<kind>-<12 hex digits>.service`.
fn unit_name(kind: &str) -> String {
    let r = transient::random_name();
    let hex = r
        .trim_start_matches("rustemd")
        .trim_end_matches(".service")
        .get(..12)
        .unwrap_or("0")
        .to_string();
    format!("rustemd-{kind}-{hex}.service")
}

/// The hint for a worker unit that did not start, by the main process's exit status.
fn start_hint(status: i32, argv0: &str) -> &'static str {
    match status {
        203 => {
            // 203/EXEC
            let _ = argv0;
            ": systemd could not execute this shell's binary as the unit's user — is it (and \
             every directory above it) readable and executable by that user?"
        }
        217 => ": the unit's User= does not exist",
        _ => "",
    }
}

impl Pool {
    /// Start a unit of `max_workers` workers with the user's `properties` (a dict, as
    /// `run(extra=...)` takes them); `kind` names it (`future`, `pool`).
    pub fn start(
        it: &mut Interp,
        properties: &Value,
        max_workers: usize,
        kind: &str,
        about: &str,
        name: Option<String>,
    ) -> Result<Rc<Pool>, Error> {
        let name = name.unwrap_or_else(|| unit_name(kind));
        let user_props = typed_properties(it, &name, properties)
            .map_err(|e| e.context("pystemd.futures: properties"))?;
        if let Some((k, _)) = user_props.iter().find(|(k, _)| OURS.contains(&k.as_str())) {
            return Err(Error::value_error(format!(
                "pystemd.futures: {k} is set by the pool itself (its workers are this shell's \
                 binary, talking to it on stdin)"
            )));
        }
        let mut argv = own_argv(it)?;
        argv.push("__worker".into());
        argv.push(max_workers.to_string());
        let (ours, theirs) = UnixStream::pair()
            .map_err(|e| Error::os(&e, "pystemd.futures: cannot make a socket pair"))?;
        let exec = crate::systemd::properties::command_data("ExecStart", argv.clone(), false)
            .map_err(Error::new)?;
        let raw = std::os::fd::AsRawFd::as_raw_fd(&theirs);
        let mut props = vec![
            prop("Description", Data::Str(format!("rustemd {kind}: {about}"))),
            prop("Type", Data::Str("exec".into())),
            prop(
                "ExecStart",
                crate::systemd::properties::exec_commands(vec![exec]),
            ),
            prop("StandardInputFileDescriptor", Data::Fd(raw)),
            prop("StandardOutputFileDescriptor", Data::Fd(1)),
            prop("StandardErrorFileDescriptor", Data::Fd(2)),
        ];
        props.extend(user_props.into_iter().map(|(k, d)| prop(&k, d)));
        let list = prop_list(props);
        let s = it.session.clone();
        it.out.flush()?;
        let started =
            s.block_on(async { Ok(transient::start(&s.bus, &name, list, false, true).await) });
        drop(theirs);
        let started = match started {
            Ok(Ok(st)) => st,
            Ok(Err(e)) => {
                if e.created {
                    let _ = s.block_on(job::stop_and_reset(&s.bus, &name));
                }
                return Err(
                    Error::from(&e.error).context(format!("Failed to start the unit {name}"))
                );
            }
            Err(e) => {
                let _ = s.block_on(job::stop_and_reset(&s.bus, &name));
                return Err(Error::from(&e).context(format!("Starting {name}")));
            }
        };
        if started.job_result != "done" {
            let x = s.block_on(transient::exit_of(&s.bus, &started.path)).ok();
            let _ = s.block_on(job::stop_and_reset(&s.bus, &name));
            let (why, hint) = match &x {
                Some(x) => (
                    format!(": {}", x.describe()),
                    start_hint(x.status, &argv[0]),
                ),
                None => (String::new(), ""),
            };
            return Err(Error::new(format!(
                "the worker unit {name} did not start (job result: {}{why}){hint}",
                started.job_result
            )));
        }
        ours.set_nonblocking(true)
            .map_err(|e| Error::os(&e, "pystemd.futures: socket"))?;
        let pool = Rc::new(Pool {
            unit: name,
            max_workers,
            sock: RefCell::new(Some(ours)),
            frames: RefCell::new(Frames::default()),
            jobs: RefCell::new(BTreeMap::new()),
            next: Cell::new(1),
            hello: RefCell::new(Hello::default()),
            stopped: Cell::new(false),
            ended: RefCell::new(None),
        });
        // The supervisor says hello once it runs (as the unit's user).
        let deadline = Instant::now() + HELLO_WITHIN;
        while pool.hello.borrow().pid == 0 {
            if pool.sock.borrow().is_none() || Instant::now() >= deadline {
                let why = pool.why_ended(it);
                let _ = pool.stop(it);
                return Err(Error::new(format!(
                    "the worker unit {} started but its worker never answered (the unit {why})",
                    pool.unit
                )));
            }
            if let Err(e) = pool.wait_a_little(it, Duration::from_millis(100)) {
                let _ = pool.stop(it);
                return Err(e);
            }
        }
        Ok(pool)
    }

    /// The unit as an object (`pool.unit`).
    pub fn unit_value(&self) -> Result<Value, Error> {
        object_value(
            systemd::SERVICE,
            &systemd::unit_path(&self.unit),
            &format!("unit {}", self.unit),
            None,
        )
    }

    /// Read whatever the supervisor sent, waiting up to `wait` for something (or a signal).
    pub fn pump(&self, wait: Duration) -> Result<(), Error> {
        let mut guard = self.sock.borrow_mut();
        let Some(sock) = guard.as_mut() else {
            return Ok(());
        };
        if !wait.is_zero() {
            let mut fds = vec![PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
            if let Some(w) = signals::wake_fd() {
                fds.push(PollFd::new(w, PollFlags::POLLIN));
            }
            let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
            let _ = poll(&mut fds, PollTimeout::from(ms));
        }
        let open = {
            let mut frames = self.frames.borrow_mut();
            let open = frames.fill(sock).unwrap_or(false);
            let mut jobs = self.jobs.borrow_mut();
            while let Ok(Some(f)) = frames.next() {
                match f.kind {
                    HELLO => {
                        let text = String::from_utf8_lossy(&f.payload).into_owned();
                        let mut w = text.split_whitespace();
                        *self.hello.borrow_mut() = Hello {
                            pid: w.next().and_then(|p| p.parse().ok()).unwrap_or(0),
                            uid: w.next().and_then(|p| p.parse().ok()).unwrap_or(0),
                            user: w.next().unwrap_or("?").to_string(),
                        };
                    }
                    STARTED => {
                        let pid = String::from_utf8_lossy(&f.payload).parse().unwrap_or(0);
                        jobs.insert(f.id, JobState::Running(pid));
                    }
                    RESULT => {
                        let ok = f.payload.first() == Some(&1);
                        let payload = f.payload.get(1..).unwrap_or_default().to_vec();
                        jobs.insert(f.id, JobState::Done { ok, payload });
                    }
                    _ => {}
                }
            }
            open
        };
        if !open {
            *guard = None;
        }
        Ok(())
    }

    /// Wait up to `d` for news, with Ctrl-C and signal handlers seen.
    pub fn wait_a_little(&self, it: &mut Interp, d: Duration) -> Result<(), Error> {
        it.checkpoint()?;
        // Ctrl-C has no descriptor: look again at least every 100 ms.
        self.pump(d.min(Duration::from_millis(100)))?;
        it.checkpoint()
    }

    /// Send a job: `f(*args, **kwargs)`; its id.
    pub fn submit(
        &self,
        it: &mut Interp,
        f: &Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<u64, Error> {
        if self.stopped.get() {
            return Err(Error::py(
                PyExc::RuntimeError,
                format!("cannot submit to {}: the pool was shut down", self.unit),
            ));
        }
        if !matches!(f, Value::Function(_) | Value::Builtin(_) | Value::Bound(..)) {
            return Err(Error::type_error(format!(
                "submit() needs a function (def or lambda) to run, not {}",
                f.type_name()
            )));
        }
        let prelude = it.prelude()?;
        let namer = |g: &Rc<Function>| prelude.name_of(g);
        let globals = referenced_globals(it, f, &namer);
        let job = Value::tuple(vec![
            f.clone(),
            Value::tuple(args),
            Value::dict(
                kwargs
                    .into_iter()
                    .map(|(k, v)| (Value::Str(k), v))
                    .collect(),
            )?,
            Value::dict(globals)?,
        ]);
        let payload = portable::encode(&job, &namer)?;
        let id = self.next.get();
        self.next.set(id + 1);
        self.jobs.borrow_mut().insert(id, JobState::Queued);
        self.send(it, id, &payload)?;
        Ok(id)
    }

    /// Write a job, reading results meanwhile (so neither side can block the other).
    fn send(&self, it: &mut Interp, id: u64, payload: &[u8]) -> Result<(), Error> {
        let mut frame = Vec::with_capacity(payload.len() + 13);
        super::worker::write_frame(&mut frame, JOB, id, payload)
            .map_err(|e| Error::os(&e, "pystemd.futures"))?;
        let mut at = 0;
        while at < frame.len() {
            let written = {
                let mut guard = self.sock.borrow_mut();
                let Some(sock) = guard.as_mut() else {
                    return Err(Error::new(format!(
                        "cannot send a job: the worker unit {} {}",
                        self.unit,
                        self.why_ended(it)
                    )));
                };
                match sock.write(&frame[at..]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                    Err(e) => {
                        *guard = None;
                        return Err(Error::os(&e, format!("sending a job to {}", self.unit)));
                    }
                }
            };
            at += written;
            if written == 0 {
                self.wait_a_little(it, Duration::from_millis(10))?;
            }
        }
        Ok(())
    }

    pub fn is_done(&self, id: u64) -> bool {
        matches!(self.jobs.borrow().get(&id), Some(JobState::Done { .. }))
    }

    /// The pid of the worker running job `id`, once it runs.
    pub fn worker_pid(&self, id: u64) -> Option<u32> {
        match self.jobs.borrow().get(&id) {
            Some(JobState::Running(pid)) => Some(*pid),
            _ => None,
        }
    }

    /// (queued, running, done) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let jobs = self.jobs.borrow();
        let mut c = (0, 0, 0);
        for j in jobs.values() {
            match j {
                JobState::Queued => c.0 += 1,
                JobState::Running(_) => c.1 += 1,
                JobState::Done { .. } => c.2 += 1,
            }
        }
        c
    }

    /// Is the connection to the unit still open?
    pub fn connected(&self) -> bool {
        self.sock.borrow().is_some()
    }

    /// Wait for job `id` (up to `timeout`); whether it is done.
    pub fn wait(&self, it: &mut Interp, id: u64, timeout: Option<Duration>) -> Result<bool, Error> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            self.pump(Duration::ZERO)?;
            if self.is_done(id) || !self.connected() {
                return Ok(self.is_done(id));
            }
            let mut d = Duration::from_millis(100);
            if let Some(dl) = deadline {
                let left = dl.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                d = d.min(left);
            }
            self.wait_a_little(it, d)?;
        }
    }

    /// Why the unit's connection ended, from systemd (asked once).
    fn why_ended(&self, it: &mut Interp) -> String {
        if let Some(w) = self.ended.borrow().as_ref() {
            return w.clone();
        }
        let s = it.session.clone();
        let path = systemd::unit_path(&self.unit);
        let why = match s.block_on(transient::exit_of(&s.bus, &path)) {
            Ok(x) if self.stopped.get() => format!("was stopped ({})", x.describe()),
            Ok(x) => format!("ended: {}", x.describe()),
            Err(_) if self.stopped.get() => "was stopped".to_string(),
            Err(_) => "is gone".to_string(),
        };
        *self.ended.borrow_mut() = Some(why.clone());
        why
    }

    /// The outcome of a finished job: its value, or its exception raised here.
    pub fn outcome(&self, it: &mut Interp, id: u64) -> Result<Value, Error> {
        let (ok, payload) = match self.jobs.borrow().get(&id) {
            Some(JobState::Done { ok, payload }) => (*ok, payload.clone()),
            _ => (false, Vec::new()),
        };
        if payload.is_empty() && !ok {
            return Err(Error::py(
                PyExc::RuntimeError,
                format!(
                    "the job did not finish: the worker unit {} {}",
                    self.unit,
                    self.why_ended(it)
                ),
            ));
        }
        let v = portable::decode_plain(&payload)?;
        if ok {
            return Ok(v);
        }
        match v {
            Value::Exception(e) => {
                let mut e = (*e).clone();
                if !matches!(e.kind, Kind::Interrupted | Kind::Exit(_)) {
                    e.message = format!("{} (in a worker of {})", e.message, self.unit);
                }
                Err(e)
            }
            other => Err(Error::new(format!(
                "the worker failed: {}",
                other.to_display()
            ))),
        }
    }

    /// Stop the unit (its workers with it) and wait until systemd has let it go.
    pub fn stop(&self, it: &mut Interp) -> Result<(), Error> {
        if self.stopped.replace(true) {
            return Ok(());
        }
        let s = it.session.clone();
        // Not cancelled by Ctrl-C (this is what Ctrl-C asked for, and the Ctrl-C that led
        // here may still be pending for the runtime): bounded instead.
        let stopped = s.block_on_within(STOP_WITHIN, async {
            Ok::<_, crate::bus::connection::CallError>(
                job::stop_and_reset(&s.bus, &self.unit).await,
            )
        });
        // The supervisor sees its stdin close and ends its workers, should the stop not.
        self.sock.borrow_mut().take();
        match stopped {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Error::from(&e).context(format!("stopping {}", self.unit))),
            None => Err(Error::new(format!(
                "stopping {} took longer than {}s; its workers end with this shell's connection",
                self.unit,
                STOP_WITHIN.as_secs()
            ))),
        }
    }

    /// Has the pool been stopped?
    pub fn is_stopped(&self) -> bool {
        self.stopped.get()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the socket ends the supervisor, its workers and so the unit (it is
        // collected once inactive), even when nobody called shutdown.
        self.sock.get_mut().take();
    }
}

/// The shell's global variables a function names (and those their functions name), copied
/// to the worker so a function may use helpers and settings defined at the prompt. Values
/// that cannot travel are left out (the worker then says the name is not defined).
fn referenced_globals(
    it: &Interp,
    f: &Value,
    prelude: portable::PreludeName,
) -> Vec<(Value, Value)> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut todo: Vec<Value> = vec![f.clone()];
    while let Some(v) = todo.pop() {
        let Value::Function(func) = &v else { continue };
        if prelude(func).is_some() {
            continue;
        }
        let code = portable::function_source(func);
        for t in lex(&code, &|_| false) {
            let TokenKind::Ident(name) = t.kind else {
                continue;
            };
            if seen.contains(&name) || name == "_" {
                continue;
            }
            seen.push(name.clone());
            let Some(g) = it.vars.borrow().get(&name).cloned() else {
                continue;
            };
            if portable::encode(&g, prelude).is_err() || matches!(g, Value::Module(_)) {
                continue;
            }
            todo.push(g.clone());
            out.push((Value::Str(name), g));
        }
    }
    out
}

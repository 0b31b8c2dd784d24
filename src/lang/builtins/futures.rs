//! `pystemd.futures`: our own code run inside a transient unit — with its user, its sandboxing
//! and its resource limits — and the result brought back, as pystemd's futures do with fork.
//!
//! * `pystemd.futures.run(fn, properties, *args, **kwargs)`: one worker, one call, the unit
//!   gone afterwards; Ctrl-C stops it.
//! * `pystemd.futures.TransientUnitPoolExecutor(properties=..., max_workers=N)`: a unit of up
//!   to N workers sharing its limits; `submit` returns futures (`result()`, `done()`), `map`,
//!   `with ... as pool:` waits for the jobs and stops the unit.
//! * `pystemd.futures.TransientUnitProcess(target=..., args=..., properties=...)`:
//!   multiprocessing's Process in a unit (`start`, `is_alive`, `join`, `pid`, `exitcode`).
//! * `unit_top(unit, until=...)`: a live top-like view of a unit's processes and CPU against
//!   its quota ([`top`]).
//!
//! Workers are this binary re-executed by systemd as the unit's `ExecStart` ([`worker`]);
//! functions travel as their source, results come back with their types
//! (`crate::lang::portable`); the shell's side of a unit is a [`pool::Pool`]. The
//! workshop's examples (`future_cpucap_pool`, `future_cpucap_process`) and `cpu_waste` are
//! written in our language, in the prelude (`crate::lang::prelude`).

mod pool;
mod top;
pub mod worker;

use std::rc::Rc;
use std::time::Duration;

use super::{Args, Bound, Builtin, Func, R};
use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::native::{self, Native};
use crate::lang::value::Value;
use pool::Pool;

pub static BUILTINS: &[Builtin] = &[
    eval!(
        "pystemd.futures.run",
        ["fnc", "properties", "*args", "**kwargs"],
        "Run fnc(*args, **kwargs) in a worker inside a new transient unit with these \
         properties (e.g. {'CPUQuota': 0.1, 'User': 'nobody'}) and return its result; the \
         unit is gone afterwards, Ctrl-C stops it",
        f_run
    ),
    eval!(
        "pystemd.futures.TransientUnitPoolExecutor",
        [
            "properties=None",
            "max_workers=None",
            "user_mode=False",
            "unit_name=None"
        ],
        "A pool of up to max_workers workers in one transient unit: pool.submit(fn, *args) \
         returns a future (result(), done()), pool.map(fn, items); `with ... as pool:` waits \
         for the jobs, then stops the unit",
        f_pool
    ),
    eval!(
        "pystemd.futures.TransientUnitProcess",
        [
            "target=None",
            "args=()",
            "kwargs=None",
            "properties=None",
            "user_mode=False",
            "unit_name=None",
            "name=None"
        ],
        "multiprocessing's Process in a transient unit of its own: p.start(), p.pid, \
         p.is_alive(), p.join(), p.exitcode",
        f_process
    ),
    eval!(
        "unit_top",
        ["unit", "until=None", "interval=0.5"],
        "A live top of a unit's processes: CPU% per process (bars) and of the unit over time \
         against its CPUQuota, refreshed in place until `until` (futures, a process) is done, \
         the unit stops, or Ctrl-C",
        f_unit_top
    ),
    attr!(
        "future_cpucap_pool.run",
        "Burn CPU for `timeout` seconds and return it (the workshop's example)",
        pool_run
    ),
    attr!(
        "future_cpucap_pool.main",
        "Six jobs on a TransientUnitPoolExecutor(User=nobody, CPUQuota), watched with unit_top",
        pool_main
    ),
    attr!(
        "future_cpucap_process.waste",
        "Burn CPU for `timeout` seconds (the example's Process.run)",
        process_waste
    ),
    attr!(
        "future_cpucap_process.Process",
        "The example's Process: a TransientUnitProcess running waste(timeout)",
        process_process
    ),
    attr!(
        "future_cpucap_process.main",
        "One TransientUnitProcess(User=nobody, CPUQuota) watched with unit_top until it ends",
        process_main
    ),
];

// The workshop's examples are functions of the prelude, written in our language; these
// hand them out as `future_cpucap_pool.main` and friends (`ppcode` shows their source).

fn pool_run(it: &mut Interp) -> R<Value> {
    it.prelude_value("future_cpucap_pool", "run")
}

fn pool_main(it: &mut Interp) -> R<Value> {
    it.prelude_value("future_cpucap_pool", "main")
}

fn process_waste(it: &mut Interp) -> R<Value> {
    it.prelude_value("future_cpucap_process", "waste")
}

fn process_process(it: &mut Interp) -> R<Value> {
    it.prelude_value("future_cpucap_process", "Process")
}

fn process_main(it: &mut Interp) -> R<Value> {
    it.prelude_value("future_cpucap_process", "main")
}

fn f_unit_top(it: &mut Interp, a: Bound) -> R<Value> {
    top::unit_top(it, a)
}

fn properties(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::None) => Value::list(Vec::new()),
        Some(v) => v.clone(),
    }
}

fn refuse_user_mode(a: &Bound) -> R<()> {
    let underscore = a
        .kwargs
        .iter()
        .any(|(k, v)| k == "_user_mode" && v.truthy());
    if a.flag("user_mode") || underscore {
        return Err(Error::new(
            "pystemd.futures: user_mode is not supported here: start the shell with --user \
             to run units in your user manager",
        ));
    }
    Ok(())
}

fn unit_name_arg(a: &Bound) -> R<Option<String>> {
    match a.named("unit_name") {
        None | Some(Value::None) => Ok(None),
        Some(v) => v
            .as_text()
            .map(|n| Some(crate::systemd::unit::normalize(&n)))
            .ok_or_else(|| Error::type_error("unit_name must be a string")),
    }
}

/// A short name for what a function is, for the unit's description.
fn about(f: &Value) -> String {
    match f {
        Value::Function(g) => g.def.name.clone(),
        Value::Builtin(b) => b.name.to_string(),
        other => other.type_name().to_string(),
    }
}

/// A function to run in a worker (checked before any unit is started).
fn runnable(f: &Value, what: &str) -> R<()> {
    if matches!(f, Value::Function(_) | Value::Builtin(_)) {
        return Ok(());
    }
    Err(Error::type_error(format!(
        "{what} needs a function (def, lambda or a builtin) to run in the worker, not {}",
        f.type_name()
    )))
}

fn f_run(it: &mut Interp, a: Bound) -> R<Value> {
    refuse_user_mode(&a)?;
    let f = a.get(0).cloned().unwrap_or(Value::None);
    runnable(&f, "pystemd.futures.run()")?;
    let pool = Pool::start(it, &properties(a.get(1)), 1, "future", &about(&f), None)?;
    let kwargs: Vec<(String, Value)> = a
        .kwargs
        .iter()
        .filter(|(k, _)| k != "_user_mode")
        .cloned()
        .collect();
    let r = pool
        .submit(it, &f, a.rest.clone(), kwargs)
        .and_then(|id| pool.wait(it, id, None).map(|_| id))
        .and_then(|id| pool.outcome(it, id));
    // Done, failed or interrupted: the unit goes, and its workers with it.
    let stopped = pool.stop(it);
    let v = r?;
    stopped?;
    Ok(v)
}

// ----- TransientUnitPoolExecutor -----

#[derive(Debug)]
struct Executor {
    pool: Rc<Pool>,
    futures: std::cell::RefCell<Vec<u64>>,
}

fn f_pool(it: &mut Interp, a: Bound) -> R<Value> {
    refuse_user_mode(&a)?;
    let max = match a.named("max_workers") {
        None | Some(Value::None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(Value::Int(n, _)) if *n >= 1 && *n <= 1024 => *n as usize,
        Some(other) => {
            return Err(Error::value_error(format!(
                "max_workers must be a number from 1 to 1024, not {}",
                other.repr()
            )));
        }
    };
    let pool = Pool::start(
        it,
        &properties(a.named("properties")),
        max,
        "pool",
        &format!("up to {max} workers"),
        unit_name_arg(&a)?,
    )?;
    Ok(native::value(Executor {
        pool,
        futures: std::cell::RefCell::new(Vec::new()),
    }))
}

impl Executor {
    /// Wait for every job submitted, then stop the unit.
    fn shutdown(&self, it: &mut Interp, wait: bool) -> R<()> {
        if wait {
            let ids = self.futures.borrow().clone();
            for id in ids {
                if let Err(e) = self.pool.wait(it, id, None) {
                    let _ = self.pool.stop(it);
                    return Err(e);
                }
            }
        }
        self.pool.stop(it)
    }
}

/// A call as submitted: the function, its positional and its keyword arguments.
type Call = (Value, Vec<Value>, Vec<(String, Value)>);

fn split_call(args: Args, what: &str) -> R<Call> {
    let mut pos = args.pos.into_iter();
    let f = pos
        .next()
        .ok_or_else(|| Error::type_error(format!("{what}() needs a function to run")))?;
    Ok((f, pos.collect(), args.kw))
}

impl Native for Executor {
    fn type_name(&self) -> &'static str {
        "TransientUnitPoolExecutor"
    }

    fn repr(&self) -> String {
        let (q, r, d) = self.pool.counts();
        format!(
            "<TransientUnitPoolExecutor {} ({} workers at most, as {} (uid {})): {q} queued, {r} running, {d} done{}>",
            self.pool.unit,
            self.pool.max_workers,
            self.pool.hello.borrow().user,
            self.pool.hello.borrow().uid,
            if self.pool.is_stopped() {
                ", shut down"
            } else {
                ""
            }
        )
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["unit", "max_workers", "submit", "map", "shutdown"]
    }

    fn methods(&self) -> &'static [&'static str] {
        &["submit", "map", "shutdown"]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        match name {
            "unit" => Some(self.pool.unit_value()),
            "max_workers" => Some(Ok(Value::int(self.pool.max_workers as i128))),
            _ => None,
        }
    }

    fn call(&self, it: &mut Interp, name: &str, args: Args) -> R<Value> {
        match name {
            "submit" => {
                let (f, pos, kw) = split_call(args, "submit")?;
                let fname = about(&f);
                let id = self.pool.submit(it, &f, pos, kw)?;
                self.futures.borrow_mut().push(id);
                Ok(native::value(Future {
                    pool: self.pool.clone(),
                    id,
                    function: fname,
                }))
            }
            "map" => {
                let mut pos = args.pos.into_iter();
                let f = pos
                    .next()
                    .ok_or_else(|| Error::type_error("map() needs a function"))?;
                let lists: Vec<Vec<Value>> = pos.map(|v| it.collect(&v)).collect::<R<Vec<_>>>()?;
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                let mut ids = Vec::with_capacity(n);
                for i in 0..n {
                    let call_args = lists.iter().map(|l| l[i].clone()).collect();
                    let id = self.pool.submit(it, &f, call_args, Vec::new())?;
                    self.futures.borrow_mut().push(id);
                    ids.push(id);
                }
                let mut out = Vec::with_capacity(n);
                for id in ids {
                    self.pool.wait(it, id, None)?;
                    out.push(self.pool.outcome(it, id)?);
                }
                Ok(Value::list(out))
            }
            "shutdown" => {
                let wait = args
                    .pos
                    .first()
                    .or_else(|| args.kw.iter().find(|(k, _)| k == "wait").map(|(_, v)| v))
                    .is_none_or(Value::truthy);
                self.shutdown(it, wait).map(|()| Value::None)
            }
            other => Err(Error::py(
                PyExc::AttributeError,
                format!("TransientUnitPoolExecutor has no method {other}"),
            )),
        }
    }

    fn exit(&self, it: &mut Interp, error: Option<&Error>) -> R<()> {
        // Leaving `with` normally waits for the jobs (as concurrent.futures does); leaving
        // on an exception (Ctrl-C included) stops the unit at once.
        self.shutdown(it, error.is_none())
    }
}

// ----- futures -----

#[derive(Debug)]
struct Future {
    pool: Rc<Pool>,
    id: u64,
    function: String,
}

fn timeout_of(args: &Args) -> R<Option<Duration>> {
    match args
        .pos
        .first()
        .or_else(|| args.kw.iter().find(|(k, _)| k == "timeout").map(|(_, v)| v))
    {
        None | Some(Value::None) => Ok(None),
        Some(v) => crate::lang::interp::ops::num(v)
            .filter(|s| *s >= 0.0 && s.is_finite())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .map(Some)
            .ok_or_else(|| Error::value_error("timeout must be a number of seconds")),
    }
}

impl Future {
    fn finished(&self, it: &mut Interp, timeout: Option<Duration>) -> R<()> {
        if !self.pool.wait(it, self.id, timeout)? && self.pool.connected() {
            return Err(Error::py(
                PyExc::TimeoutError,
                format!("{}() is still running in {}", self.function, self.pool.unit),
            ));
        }
        Ok(())
    }
}

impl Native for Future {
    fn type_name(&self) -> &'static str {
        "Future"
    }

    fn repr(&self) -> String {
        let _ = self.pool.pump(Duration::ZERO);
        let state = if self.pool.is_done(self.id) {
            "finished".to_string()
        } else if let Some(pid) = self.pool.worker_pid(self.id) {
            format!("running in process {pid}")
        } else if self.pool.connected() {
            "pending".to_string()
        } else {
            "lost (the unit ended)".to_string()
        };
        format!(
            "<Future {}() in {}: {state}>",
            self.function, self.pool.unit
        )
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["result", "done", "running", "exception", "cancel", "pid"]
    }

    fn methods(&self) -> &'static [&'static str] {
        &["result", "done", "running", "exception", "cancel"]
    }

    fn get(&self, _: &mut Interp, name: &str) -> Option<R<Value>> {
        match name {
            "pid" => Some(Ok(self
                .pool
                .worker_pid(self.id)
                .map_or(Value::None, |p| Value::int(p as i128)))),
            _ => None,
        }
    }

    fn call(&self, it: &mut Interp, name: &str, args: Args) -> R<Value> {
        match name {
            "result" => {
                self.finished(it, timeout_of(&args)?)?;
                self.pool.outcome(it, self.id)
            }
            "exception" => {
                self.finished(it, timeout_of(&args)?)?;
                match self.pool.outcome(it, self.id) {
                    Ok(_) => Ok(Value::None),
                    Err(e) => Ok(Value::Exception(Rc::new(e))),
                }
            }
            "done" => {
                self.pool.pump(Duration::ZERO)?;
                Ok(Value::Bool(
                    self.pool.is_done(self.id) || !self.pool.connected(),
                ))
            }
            "running" => {
                self.pool.pump(Duration::ZERO)?;
                Ok(Value::Bool(self.pool.worker_pid(self.id).is_some()))
            }
            // A job handed to the unit cannot be taken back.
            "cancel" => Ok(Value::Bool(false)),
            other => Err(Error::py(
                PyExc::AttributeError,
                format!("Future has no method {other}"),
            )),
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

// ----- TransientUnitProcess -----

#[derive(Debug)]
struct Process {
    target: Value,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    properties: Value,
    unit_name: Option<String>,
    name: String,
    run: std::cell::RefCell<Option<(Rc<Pool>, u64)>>,
}

fn f_process(_: &mut Interp, a: Bound) -> R<Value> {
    refuse_user_mode(&a)?;
    let target = a.named("target").cloned().unwrap_or(Value::None);
    if target == Value::None {
        return Err(Error::type_error(
            "TransientUnitProcess needs target=FUNCTION (the language has no classes to \
             subclass: pass the function the process runs)",
        ));
    }
    runnable(&target, "TransientUnitProcess")?;
    let args = match a.named("args") {
        None | Some(Value::None) => Vec::new(),
        Some(v) => v
            .items()
            .ok_or_else(|| Error::type_error("args must be a tuple or a list"))?,
    };
    let kwargs = match a.named("kwargs") {
        None | Some(Value::None) => Vec::new(),
        Some(Value::Dict(d)) => d
            .borrow()
            .entries()
            .iter()
            .map(|(k, v)| (k.as_text().unwrap_or_default(), v.clone()))
            .collect(),
        Some(_) => return Err(Error::type_error("kwargs must be a dict")),
    };
    let name = match a.named("name").and_then(Value::as_text) {
        Some(n) => n,
        None => format!("TransientUnitProcess({})", about(&target)),
    };
    Ok(native::value(Process {
        target,
        args,
        kwargs,
        properties: properties(a.named("properties")),
        unit_name: unit_name_arg(&a)?,
        name,
        run: std::cell::RefCell::new(None),
    }))
}

impl Process {
    fn started(&self) -> Option<(Rc<Pool>, u64)> {
        self.run.borrow().clone()
    }
}

impl Native for Process {
    fn type_name(&self) -> &'static str {
        "TransientUnitProcess"
    }

    fn repr(&self) -> String {
        match self.started() {
            None => format!("<{} initial>", self.name),
            Some((pool, id)) => {
                let _ = pool.pump(Duration::ZERO);
                let state = if pool.is_done(id) {
                    "stopped".to_string()
                } else if let Some(pid) = pool.worker_pid(id) {
                    format!("started pid={pid}")
                } else {
                    "starting".to_string()
                };
                format!("<{} {state} in {}>", self.name, pool.unit)
            }
        }
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[
            "start",
            "is_alive",
            "join",
            "wait",
            "terminate",
            "kill",
            "pid",
            "exitcode",
            "unit",
            "name",
        ]
    }

    fn methods(&self) -> &'static [&'static str] {
        &["start", "is_alive", "join", "wait", "terminate", "kill"]
    }

    fn get(&self, it: &mut Interp, name: &str) -> Option<R<Value>> {
        Some(match name {
            "name" => Ok(Value::str(self.name.clone())),
            "unit" => match self.started() {
                Some((pool, _)) => pool.unit_value(),
                None => Ok(Value::None),
            },
            "pid" => match self.started() {
                None => Ok(Value::None),
                Some((pool, id)) => {
                    // Right after start() the worker may not have taken the job yet.
                    (|| -> R<Value> {
                        for _ in 0..100 {
                            pool.pump(Duration::ZERO)?;
                            if let Some(p) = pool.worker_pid(id) {
                                return Ok(Value::int(p as i128));
                            }
                            if pool.is_done(id) || !pool.connected() {
                                break;
                            }
                            pool.wait_a_little(it, Duration::from_millis(50))?;
                        }
                        Ok(Value::None)
                    })()
                }
            },
            "exitcode" => match self.started() {
                None => Ok(Value::None),
                Some((pool, id)) => {
                    let _ = pool.pump(Duration::ZERO);
                    if !pool.is_done(id) && pool.connected() {
                        Ok(Value::None)
                    } else {
                        Ok(Value::int(match pool.outcome(it, id) {
                            Ok(_) => 0,
                            Err(_) => 1,
                        }))
                    }
                }
            },
            _ => return None,
        })
    }

    fn call(&self, it: &mut Interp, name: &str, args: Args) -> R<Value> {
        match name {
            "start" => {
                if self.started().is_some() {
                    return Err(Error::py(
                        PyExc::AssertionError,
                        "processes can only be started once",
                    ));
                }
                let pool = Pool::start(
                    it,
                    &self.properties,
                    1,
                    "future",
                    &self.name,
                    self.unit_name.clone(),
                )?;
                let id = match pool.submit(it, &self.target, self.args.clone(), self.kwargs.clone())
                {
                    Ok(id) => id,
                    Err(e) => {
                        let _ = pool.stop(it);
                        return Err(e);
                    }
                };
                *self.run.borrow_mut() = Some((pool, id));
                Ok(Value::None)
            }
            "is_alive" => Ok(Value::Bool(match self.started() {
                None => false,
                Some((pool, id)) => {
                    pool.pump(Duration::ZERO)?;
                    !pool.is_done(id) && pool.connected()
                }
            })),
            "join" | "wait" => {
                let Some((pool, id)) = self.started() else {
                    return Err(Error::py(
                        PyExc::AssertionError,
                        "can only join a started process",
                    ));
                };
                let done = match pool.wait(it, id, timeout_of(&args)?) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = pool.stop(it);
                        return Err(e);
                    }
                };
                if done || !pool.connected() {
                    // Like a child's traceback: say how the process ended if it failed.
                    if let Err(e) = pool.outcome(it, id) {
                        eprintln!("{}: {}: {}", self.name, e.class_name(), e.display_message());
                    }
                    pool.stop(it)?;
                }
                Ok(Value::None)
            }
            "terminate" | "kill" => {
                if let Some((pool, _)) = self.started() {
                    pool.stop(it)?;
                }
                Ok(Value::None)
            }
            other => Err(Error::py(
                PyExc::AttributeError,
                format!("TransientUnitProcess has no method {other}"),
            )),
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// What `until=` waits for: the (pool, job) pairs of futures and processes in `v`.
fn waitables(v: &Value) -> Vec<(Rc<Pool>, u64)> {
    let mut out = Vec::new();
    let mut one = |x: &Value| {
        if let Value::Native(n) = x
            && let Some(any) = n.as_any()
        {
            if let Some(f) = any.downcast_ref::<Future>() {
                out.push((f.pool.clone(), f.id));
            } else if let Some(p) = any.downcast_ref::<Process>()
                && let Some(r) = p.started()
            {
                out.push(r);
            }
        }
    };
    match v {
        Value::List(items) | Value::Tuple(items) => items.borrow().iter().for_each(&mut one),
        other => one(other),
    }
    out
}

//! Transient units: `run(...)` / `pystemd.run(...)`, files to hand them (`open`, `sys.stdout`),
//! `delegate(...)`, and the hooks that make raw systemd calls typed (`StartTransientUnit`'s
//! property dict) and safe (stopping the unit the shell runs in asks first).
//!
//! `run` follows pystemd.run's keywords and systemd-run's behaviour: the start job is waited
//! for (so `MainPID` is set on the next line), `wait=True` waits for the main process,
//! `pty=True` gives the unit a new pseudo-terminal forwarded to ours, and a run that fails
//! half-way stops what it started. The systemd side is in `crate::systemd::transient`, the
//! terminal side in `crate::term::pty`; the menu of sandboxing demos is in [`super::menu`].

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Bound, Builtin, Func, R};
use crate::bus::connection::{Bus, BusTarget, CallError};
use crate::bus::data::Data;
use crate::bus::introspect::Node;
use crate::bus::runtime::SignalStream;
use crate::lang::convert::{exec_commands, property_data, property_list};
use crate::lang::error::{Error, Kind};
use crate::lang::interp::Interp;
use crate::lang::value::{IntKind, Value, object_value};
use crate::systemd::job;
use crate::systemd::properties::PropertyTable;
use crate::systemd::transient::{self, Started, prop, prop_list};
use crate::systemd::{self, MANAGER_IFACE, unit};
use crate::term::pty::{Forwarder, Pty, RawMode, Stopped};

const RUN_PARAMS: &[&str] = &[
    "cmd",
    "address=None",
    "service_type=None",
    "name=None",
    "user=None",
    "user_mode=False",
    "nice=None",
    "runtime_max_sec=None",
    "env=None",
    "extra=None",
    "cwd=None",
    "wait=False",
    "remain_after_exit=False",
    "collect=False",
    "raise_on_fail=False",
    "pty=False",
    "stdin=None",
    "stdout=None",
    "stderr=None",
    "slice_=None",
    "stop_cmd=None",
    "stop_post_cmd=None",
    "start_pre_cmd=None",
    "start_post_cmd=None",
    "wait_for_activation=True",
    "private_tmp=False",
    "private_network=False",
    "private_users=False",
    "dynamic_user=False",
];

const RUN_HELP: &str = "Start CMD (a list, or a string split like a shell) as a transient \
service, like systemd-run; returns the unit. extra={'CPUQuota': 0.1} or extra=['MemoryMax=10M'] \
sets unit properties; wait=True waits for the main process; pty=True with stdin=sys.stdin, \
stdout=sys.stdout runs it on a new terminal forwarded to this one (Ctrl-] three times detaches)";

pub static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "run",
        params: RUN_PARAMS,
        help: RUN_HELP,
        func: Func::Eval(b_run),
    },
    Builtin {
        name: "pystemd.run",
        params: RUN_PARAMS,
        help: "Same as run()",
        func: Func::Eval(b_run),
    },
    eval!(
        "open",
        ["file", "mode='r'"],
        "Open a file; its descriptor can be a unit's stdin/stdout/stderr",
        b_open
    ),
    eval!(
        "delegate",
        ["unit", "enable=True", "runtime=False"],
        "Set Delegate=yes on a unit: a drop-in and a daemon-reload like systemctl edit \
         (enable=False undoes it), or runtime=True: SetUnitProperties, where systemd allows it",
        b_delegate
    ),
];

// ----- hooks used by the evaluator -----

/// If `iface.member` takes a unit property list (`a(sv)`), the unit whose properties type it:
/// StartTransientUnit's and SetUnitProperties' first argument, or the unit of
/// `unit.SetProperties`.
pub fn property_unit(
    iface: &str,
    member: &str,
    obj_path: &str,
    first: Option<&Value>,
) -> Option<String> {
    match (iface, member) {
        (MANAGER_IFACE, "StartTransientUnit" | "SetUnitProperties") => {
            first.and_then(Value::as_text).map(|n| unit::normalize(&n))
        }
        (transient::UNIT_IFACE, "SetProperties") => unit::name_of_path(obj_path),
        _ => None,
    }
}

/// Property tables already introspected, by bus and unit type: systemd's unit interfaces do
/// not change while it runs, so one introspection per type serves the session.
type TableCache = Mutex<Vec<((String, String), Arc<PropertyTable>)>>;
static TABLES: TableCache = Mutex::new(Vec::new());

/// The introspected properties of unit `name`'s type (the unit need not exist: systemd answers
/// for any unit name with the interfaces of its type).
fn property_table(it: &Interp, bus: Option<&Bus>, name: &str) -> R<Arc<PropertyTable>> {
    let b = bus.unwrap_or(&it.session.bus);
    let key = (
        b.target().describe(),
        name.rsplit_once('.').map_or("", |(_, t)| t).to_string(),
    );
    if let Some(t) = TABLES
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).map(|(_, t)| t.clone()))
    {
        return Ok(t);
    }
    let path = systemd::unit_path(name);
    let xml = it.bus(crate::bus::cache::introspect_xml(
        b,
        systemd::SERVICE,
        &path,
    ))?;
    let node = Node::parse(xml.as_str()).map_err(Error::new)?;
    let table = PropertyTable::from_node(&node);
    if table.is_empty() {
        return Err(Error::new(format!(
            "{name}: systemd shows no unit properties for it (is '{name}' a valid unit name?)"
        )));
    }
    let table = Arc::new(table);
    if let Ok(mut c) = TABLES.lock() {
        c.push((key, table.clone()));
    }
    Ok(table)
}

/// A property list for unit `name`, typed by its introspected properties (`a(sv)`).
pub fn unit_property_list(it: &mut Interp, name: &str, v: &Value) -> R<Data> {
    let table = property_table(it, None, name)?;
    let items = property_list(v, &table).map_err(Error::new)?;
    Ok(prop_list(
        items.into_iter().map(|(k, d)| prop(&k, d)).collect(),
    ))
}

/// Unit properties given as a dict, `["Key=Value", ...]` or pairs, typed for unit `name` (as
/// `run(extra=...)` takes them).
pub fn typed_properties(it: &mut Interp, name: &str, v: &Value) -> R<Vec<(String, Data)>> {
    let table = property_table(it, None, name)?;
    property_list(v, &table).map_err(Error::new)
}

/// After one "yes", calls that stop our own unit no longer ask.
static CONFIRMED: AtomicBool = AtomicBool::new(false);

/// Before a call that would stop or kill the unit this shell runs in (and so the shell), ask
/// once on a terminal; scripts just run it.
pub fn confirm_self_stop(
    dest: &str,
    path: &str,
    iface: &str,
    member: &str,
    args: &[Data],
) -> R<()> {
    let Some(own) = unit::own_unit() else {
        return Ok(());
    };
    if CONFIRMED.load(Ordering::Relaxed) || !unit::stops_unit(&own, dest, path, iface, member, args)
    {
        return Ok(());
    }
    let question = format!(
        "{member} stops {own}, the unit this shell runs in: the shell will be killed too. Go on?"
    );
    match crate::term::confirm(&question) {
        None => Ok(()),
        Some(true) => {
            CONFIRMED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Some(false) => Err(Error::new(format!(
            "{member} not called: it would have stopped {own}, the unit this shell runs in"
        ))),
    }
}

// ----- open() -----

/// Files opened by `open()`: they stay open for the session, as a unit may write to them.
static OPENED: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());

fn b_open(_: &mut Interp, a: Bound) -> R<Value> {
    let path = a.text(0)?;
    let mode = match a.named("mode") {
        None | Some(Value::None) => "r".to_string(),
        Some(v) => v.as_text().unwrap_or_default(),
    };
    let mut o = std::fs::OpenOptions::new();
    match mode.replace('b', "").as_str() {
        "r" => o.read(true),
        "w" => o.write(true).create(true).truncate(true),
        "a" => o.append(true).create(true),
        "r+" => o.read(true).write(true),
        "w+" => o.read(true).write(true).create(true).truncate(true),
        "a+" => o.read(true).append(true).create(true),
        other => {
            return Err(Error::new(format!(
                "open(): mode '{other}' is not one of r, w, a, r+, w+, a+"
            )));
        }
    };
    let f = o
        .open(&path)
        .map_err(|e| Error::new(format!("open(): cannot open {path}: {e}")))?;
    let fd = f.as_raw_fd();
    OPENED
        .lock()
        .map_err(|_| Error::new("open(): lock"))?
        .push(f);
    Ok(Value::Int(fd as i128, IntKind::Fd))
}

// ----- delegate() -----

fn b_delegate(it: &mut Interp, a: Bound) -> R<Value> {
    let name = unit_name_of(a.get(0).unwrap_or(&Value::None))?;
    let enable = a.named("enable").is_none_or(Value::truthy);
    if a.flag("runtime") {
        let props = prop_list(vec![prop("Delegate", Data::Bool(enable))]);
        let s = &it.session;
        it.bus(s.bus.call(
            systemd::SERVICE,
            systemd::MANAGER_PATH,
            Some(MANAGER_IFACE),
            "SetUnitProperties",
            &[Data::Str(name.clone()), Data::Bool(true), props],
        ))
        .map_err(|e| {
            e.context(format!(
                "systemd refused Delegate={} on {name} at runtime (delegate('{name}') \
                 writes a drop-in instead)",
                yes(enable)
            ))
        })?;
        writeln!(
            it.out,
            "{name}: Delegate={} set at runtime (until the next reboot)",
            yes(enable)
        )?;
        return Ok(Value::None);
    }
    let dir = unit::admin_dropin_dir(&name);
    let file = dir.join("50-rustemd-delegate.conf");
    if enable {
        std::fs::create_dir_all(&dir)
            .and_then(|()| {
                std::fs::write(
                    &file,
                    format!(
                        "# Written by rustemd-shell's delegate(); delegate('{name}', False) removes it.\n[{}]\nDelegate=yes\n",
                        unit::section(&name)
                    ),
                )
            })
            .map_err(|e| Error::new(format!("cannot write {}: {e}", file.display())))?;
    } else {
        match std::fs::remove_file(&file) {
            Ok(()) => {
                let _ = std::fs::remove_dir(&dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::new(format!("cannot remove {}: {e}", file.display())));
            }
        }
    }
    let s = &it.session;
    it.bus(s.bus.call(
        systemd::SERVICE,
        systemd::MANAGER_PATH,
        Some(MANAGER_IFACE),
        "Reload",
        &[],
    ))
    .map_err(|e| e.context("daemon-reload failed"))?;
    if enable {
        writeln!(
            it.out,
            "{name}: wrote {} and reloaded systemd (undo: delegate('{name}', False))",
            file.display()
        )?;
    } else {
        writeln!(
            it.out,
            "{name}: removed {} and reloaded systemd",
            file.display()
        )?;
    }
    Ok(Value::None)
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A unit given as a unit object or a name.
pub fn unit_name_of(v: &Value) -> R<String> {
    match v {
        Value::Object(o) => unit::name_of_path(&o.path)
            .ok_or_else(|| Error::new(format!("{} is not a systemd unit object", o.path))),
        other => match other.as_text() {
            Some(t) if !t.is_empty() => Ok(unit::normalize(&t)),
            _ => Err(Error::new(format!(
                "expected a unit (a unit object or a name such as 'x.service'), got {}",
                other.repr()
            ))),
        },
    }
}

// ----- run() -----

/// An optional file descriptor argument (`sys.stdout`, `open(...)`, a number).
fn fd_arg(a: &Bound, name: &str) -> R<Option<RawFd>> {
    match a.named(name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s.fd())),
        Some(Value::Int(n, _)) => i32::try_from(*n)
            .ok()
            .filter(|fd| *fd >= 0)
            .map(Some)
            .ok_or_else(|| Error::new(format!("run(): {name}={n} is not a file descriptor"))),
        Some(other) => Err(Error::new(format!(
            "run(): {name} must be sys.stdin/sys.stdout/sys.stderr, a file from open() or a \
             descriptor number, got {}",
            other.repr()
        ))),
    }
}

fn text_arg(a: &Bound, name: &str) -> R<Option<String>> {
    match a.named(name) {
        None | Some(Value::None) => Ok(None),
        Some(v) => v
            .as_text()
            .map(Some)
            .ok_or_else(|| Error::new(format!("run(): {name} must be a string, got {}", v.repr()))),
    }
}

/// The property names whose commands `extra` adds to those given as arguments.
const EXEC_PROPS: &[&str] = &[
    "ExecStartPre",
    "ExecStart",
    "ExecStartPost",
    "ExecStop",
    "ExecStopPost",
];

/// Add `(name, data)` to `props`: commands append, anything else replaces.
fn merge(props: &mut Vec<(String, Data)>, name: String, data: Data) {
    match props.iter_mut().find(|(n, _)| *n == name) {
        Some((_, Data::Array { items, .. })) if EXEC_PROPS.contains(&name.as_str()) => {
            if let Data::Array { items: more, .. } = data {
                items.extend(more);
            }
        }
        Some(slot) => slot.1 = data,
        None => props.push((name, data)),
    }
}

fn b_run(it: &mut Interp, a: Bound) -> R<Value> {
    let cmd = a.get(0).cloned().unwrap_or(Value::None);
    if matches!(cmd, Value::None) {
        return Err(Error::new(
            "run(): the command is missing, e.g. run(['/usr/bin/sleep', 'infinity'])",
        ));
    }
    let name = match text_arg(&a, "name")? {
        Some(n) => unit::normalize(&n),
        None => transient::random_name(),
    };
    // Another bus: `address=` or `user_mode=True`.
    let target = match (text_arg(&a, "address")?, a.flag("user_mode")) {
        (Some(addr), _) => Some(BusTarget::Address(addr)),
        (None, true) => Some(BusTarget::User),
        (None, false) => None,
    }
    .filter(|t| t != it.session.bus.target());
    // That bus's connection is the session's for it, so the unit object returned reads its
    // properties there too.
    let other = target.as_ref().map(|t| it.session.endpoint(Some(t)));
    let other_bus = other.as_ref().map(|e| e.bus.clone());
    let table = property_table(it, other_bus.as_deref(), &name)?;
    let wait = a.flag("wait");
    let want_pty = a.flag("pty");
    let stdin = fd_arg(&a, "stdin")?;
    let stdout = fd_arg(&a, "stdout")?;
    let stderr = fd_arg(&a, "stderr")?;

    // The properties, in pystemd's order; every one typed by introspection.
    let mut given: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = text_arg(&a, "slice_")? {
        given.push(("Slice", Value::Str(s)));
    }
    let pty = if want_pty {
        let pty = Pty::open().map_err(|e| Error::new(format!("run(): cannot open a pty: {e}")))?;
        for p in ["StandardInput", "StandardOutput", "StandardError"] {
            given.push((p, Value::str("tty")));
        }
        given.push(("TTYPath", Value::str(pty.path())));
        // An interactive shell ignores SIGTERM: on stop it gets the hang-up a closed
        // terminal gives.
        given.push(("SendSIGHUP", Value::Bool(true)));
        Some(pty)
    } else {
        for (p, fd) in [
            ("StandardInputFileDescriptor", stdin),
            ("StandardOutputFileDescriptor", stdout),
            ("StandardErrorFileDescriptor", stderr),
        ] {
            if let Some(fd) = fd {
                given.push((p, Value::Int(fd as i128, IntKind::Fd)));
            }
        }
        None
    };
    if let Some(t) = text_arg(&a, "service_type")? {
        given.push(("Type", Value::Str(t)));
    }
    given.push(("Description", Value::Str(format!("rustemd: {name}"))));
    for (p, arg) in [
        ("ExecStartPre", "start_pre_cmd"),
        ("ExecStart", "cmd"),
        ("ExecStartPost", "start_post_cmd"),
        ("ExecStop", "stop_cmd"),
        ("ExecStopPost", "stop_post_cmd"),
    ] {
        if let Some(v) = a.named(arg).filter(|v| !matches!(v, Value::None)) {
            given.push((p, v.clone()));
        }
    }
    given.push(("RemainAfterExit", Value::Bool(a.flag("remain_after_exit"))));
    if a.flag("collect") {
        given.push(("CollectMode", Value::str("inactive-or-failed")));
    }
    for (p, arg) in [
        ("WorkingDirectory", "cwd"),
        ("User", "user"),
        ("Nice", "nice"),
        ("RuntimeMaxSec", "runtime_max_sec"),
    ] {
        if let Some(v) = a.named(arg).filter(|v| !matches!(v, Value::None)) {
            given.push((p, v.clone()));
        }
    }
    let mut env: Vec<(Value, Value)> = match a.named("env") {
        None | Some(Value::None) => Vec::new(),
        Some(Value::Dict(d)) => d.borrow().entries().to_vec(),
        Some(other) => {
            return Err(Error::new(format!(
                "run(): env must be a dict such as {{'FOO': 'bar'}}, got {}",
                other.repr()
            )));
        }
    };
    if pty.is_some()
        && stdout.is_some()
        && let Ok(term) = std::env::var("TERM")
        && !env
            .iter()
            .any(|(k, _)| k.as_text().as_deref() == Some("TERM"))
    {
        env.push((Value::str("TERM"), Value::Str(term)));
    }
    if !env.is_empty() {
        given.push(("Environment", Value::dict(env)?));
    }
    for (p, arg) in [
        ("PrivateTmp", "private_tmp"),
        ("PrivateNetwork", "private_network"),
        ("PrivateUsers", "private_users"),
        ("DynamicUser", "dynamic_user"),
    ] {
        if a.flag(arg) {
            given.push((p, Value::Bool(true)));
        }
    }
    let mut props: Vec<(String, Data)> = Vec::new();
    for (p, v) in given {
        let target = table.resolve(p).map_err(Error::new)?;
        let (n, d) = if p.starts_with("Exec") {
            let cmds = exec_commands(p, &v).map_err(Error::new)?;
            (target.name, crate::systemd::properties::exec_commands(cmds))
        } else {
            property_data(&v, &target).map_err(|e| Error::new(format!("run(): {e}")))?
        };
        merge(&mut props, n, d);
    }
    if let Some(extra) = a.named("extra") {
        for (n, d) in
            property_list(extra, &table).map_err(|e| Error::new(format!("run(): extra: {e}")))?
        {
            merge(&mut props, n, d);
        }
    }
    let follow = wait || pty.is_some();
    if follow {
        // Keep the unit loaded until we have read how it ended (systemd-run --wait does).
        props.push(("AddRef".into(), Data::Bool(true)));
    }
    let list = prop_list(props.into_iter().map(|(k, d)| prop(&k, d)).collect());

    let s = it.session.clone();
    let bus: &Bus = other_bus.as_deref().unwrap_or(&s.bus);
    // `wait_for_activation=False` follows the unit (its pty, its exit) while it starts: a
    // notify service is only started once it says READY=1, which may be never.
    let wait_job = a.named("wait_for_activation").is_none_or(Value::truthy);
    it.out.flush()?;
    let start =
        s.block_on(async { Ok(transient::start(bus, &name, list, follow, wait_job).await) });
    let mut started = match start {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => {
            if e.created {
                let _ = s.block_on(job::stop_and_reset(bus, &name));
            }
            return Err(
                Error::from(&e.error).context(format!("Failed to start transient unit {name}"))
            );
        }
        // Ctrl-C while starting: stop it if systemd had made it.
        Err(e) => {
            if transient::started().contains(&name) {
                let _ = s.block_on(job::stop_and_reset(bus, &name));
            }
            return Err(Error::from(&e).context(format!("Starting {name}")));
        }
    };
    if wait_job && started.job_result != "done" {
        let why = s
            .block_on(transient::exit_of(bus, &started.path))
            .map(|x| format!(": {}", x.describe()))
            .unwrap_or_default();
        let _ = s.block_on(job::stop_and_reset(bus, &name));
        return Err(Error::new(format!(
            "Job for {name} failed (job result: {}{why}); nothing was left running",
            started.job_result
        )));
    }
    let outcome = match &pty {
        Some(p) => forward_pty(it, bus, &mut started, p, stdin, stdout),
        None if wait => s
            .block_on(transient::wait_exit(bus, &mut started))
            .map(Outcome::Exited)
            .map_err(Error::from),
        None => Ok(Outcome::Running),
    };
    if follow {
        s.block_on(async {
            transient::unref(bus, &started.path).await;
            Ok::<(), CallError>(())
        })
        .ok();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let _ = s.block_on(job::stop_and_reset(bus, &name));
            let what = if e.kind == Kind::Interrupted {
                "interrupted"
            } else {
                "failed"
            };
            return Err(e.context(format!("run {name} {what}; stopped it")));
        }
    };
    match outcome {
        Outcome::Detached => {
            // The unit keeps its terminal: closing our side would hang it up.
            if let (Some(p), Ok(mut kept)) = (pty, DETACHED.lock()) {
                kept.push(p);
            }
            writeln!(
                it.out,
                "\r\ndetached from {name}; it keeps running, on a terminal this shell keeps open \
                 (stop it: stop {name}, or unit.Stop('replace'))"
            )?;
        }
        Outcome::Exited(x) if a.flag("raise_on_fail") && !x.success() => {
            return Err(Error::new(format!("{name} failed: {}", x.describe())));
        }
        _ => {}
    }
    object_value(
        systemd::SERVICE,
        &systemd::unit_path(&name),
        &format!("unit {name}"),
        target,
    )
}

/// The terminals of units we detached from: kept open for the session.
static DETACHED: Mutex<Vec<Pty>> = Mutex::new(Vec::new());

enum Outcome {
    /// Not waited for: the unit runs on.
    Running,
    Exited(transient::Exit),
    Detached,
}

fn borrow_fd(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the descriptors given to run() (0/1/2 or a file kept open by open()) stay open for
    // the whole session.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Our terminal forwarded to the unit's pty until the unit's main process ends or the user
/// detaches; the terminal is restored on every way out (RawMode's Drop).
fn forward_pty(
    it: &mut Interp,
    bus: &Bus,
    started: &mut Started,
    pty: &Pty,
    stdin: Option<RawFd>,
    stdout: Option<RawFd>,
) -> R<Outcome> {
    if let Some(out) = stdout
        && borrow_fd(out).as_fd().is_terminal()
    {
        let _ = pty.copy_window_size(borrow_fd(out));
    }
    let _raw = match stdin {
        Some(fd) if borrow_fd(fd).is_terminal() => {
            Some(RawMode::enter(borrow_fd(fd)).map_err(|e| {
                Error::new(format!("run(): cannot put the terminal in raw mode: {e}"))
            })?)
        }
        _ => None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let fwd = Forwarder::start(pty, stdin, stdout, move |s| {
        let _ = tx.send(s);
    })
    .map_err(|e| Error::new(format!("run(): cannot forward the terminal: {e}")))?;
    let s = it.session.clone();
    let r = s.block_on(async {
        let winch = crate::term::signals::listener(crate::term::signals::SIGWINCH)
            .and_then(SignalStream::new)
            .ok();
        let exit = transient::wait_exit(bus, started);
        tokio::pin!(exit);
        loop {
            tokio::select! {
                x = &mut exit => break x.map(Outcome::Exited),
                stop = rx.recv() => {
                    if stop == Some(Stopped::Detached) {
                        break Ok(Outcome::Detached);
                    }
                    // End of our input: the unit goes on; wait for it.
                    let x = (&mut exit).await;
                    break x.map(Outcome::Exited);
                }
                () = SignalStream::next(winch.as_ref()) => {
                    if let Some(out) = stdout {
                        let _ = pty.copy_window_size(borrow_fd(out));
                    }
                }
            }
        }
    });
    fwd.stop();
    r.map_err(Error::from)
}

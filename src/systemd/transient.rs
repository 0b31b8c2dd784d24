//! Starting transient units and following them, the way systemd-run does.
//!
//! Everything waits on signals, never by polling: we ask the manager to send them
//! (`Subscribe`), listen for our start job's `JobRemoved`, and for the unit's
//! `PropertiesChanged` until its main process has exited (SubState exited, failed or dead;
//! a signal still carrying our start job is the start itself and does not count, as in
//! pystemd). Subscriptions are made before the call that starts the unit, so no signal can be
//! missed. A unit we wait for carries `AddRef=yes`, so it stays loaded until its result has
//! been read, then we let it go (`Unref`), as `systemd-run --wait` does.

use std::sync::Mutex;

use crate::bus::connection::{Bus, CallError};
use crate::bus::data::Data;
use crate::bus::sig::Sig;
use crate::bus::signals::{MatchRule, Signal, Subscription};
use crate::systemd::job::{job_removed_rule, job_result, subscribe_manager};
use crate::systemd::{MANAGER_IFACE, MANAGER_PATH, SERVICE, unit_path};

pub const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
pub const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// The states in which a service's main process is over.
pub const EXIT_SUBSTATES: &[&str] = &["exited", "failed", "dead"];

/// Units this process started, for `clean` without arguments.
static STARTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The units started by this shell (oldest first).
pub fn started() -> Vec<String> {
    STARTED.lock().map(|v| v.clone()).unwrap_or_default()
}

fn remember(name: &str) {
    if let Ok(mut v) = STARTED.lock()
        && !v.iter().any(|n| n == name)
    {
        v.push(name.to_string());
    }
}

/// `rustemd` and 32 random hex digits, `.service`.
pub fn random_name() -> String {
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_ok();
    if !filled {
        // No /dev/urandom: time and pid still make a name no one else has.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = (t ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("rustemd{hex}.service")
}

/// One `(sv)` entry of a property list.
pub fn prop(name: &str, value: Data) -> Data {
    Data::Struct(vec![Data::Str(name.into()), Data::Variant(Box::new(value))])
}

/// `a(sv)` of the given entries.
pub fn prop_list(items: Vec<Data>) -> Data {
    Data::Array {
        elem: Sig::Struct(vec![Sig::Str, Sig::Variant]),
        items,
    }
}

/// The empty list of auxiliary units, `a(sa(sv))`.
pub fn no_aux() -> Data {
    Data::Array {
        elem: Sig::Struct(vec![
            Sig::Str,
            Sig::Array(Box::new(Sig::Struct(vec![Sig::Str, Sig::Variant]))),
        ]),
        items: Vec::new(),
    }
}

/// How a start went, and what to keep listening to.
pub struct Started {
    pub path: String,
    pub job: String,
    /// JobRemoved's result: `done`, `failed`, `dependency`, `canceled`, `timeout`, `skipped`
    /// (`queued` when not waited for).
    pub job_result: String,
    /// The unit's PropertiesChanged, when asked to follow it.
    pub changes: Option<Subscription>,
    /// JobRemoved, when the start job was not waited for and the unit is followed: until
    /// the job is over, the unit's state may still be that of an earlier unit of the name.
    pub pending_job: Option<Subscription>,
}

/// How a main process ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Exit {
    /// The service's `Result` (`success`, `exit-code`, `signal`, ...).
    pub result: String,
    /// `ExecMainCode` (1 exited, 2 killed, 3 dumped) and `ExecMainStatus`.
    pub code: i32,
    pub status: i32,
    pub sub_state: String,
}

impl Exit {
    pub fn success(&self) -> bool {
        self.result == "success"
    }

    /// `exit-code (status 3)`, `signal (SIGKILL)`.
    pub fn describe(&self) -> String {
        match self.code {
            1 => format!("{} (status {})", self.result, self.status),
            2 | 3 => format!("{} (signal {})", self.result, signal_name(self.status)),
            _ => self.result.clone(),
        }
    }
}

fn signal_name(n: i32) -> String {
    nix::sys::signal::Signal::try_from(n)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| n.to_string())
}

/// The unit's `PropertiesChanged` for its Unit interface.
fn unit_changes_rule(path: &str) -> MatchRule {
    MatchRule {
        sender: Some(SERVICE.into()),
        path: Some(path.into()),
        interface: Some(PROPERTIES.into()),
        member: Some("PropertiesChanged".into()),
        arg0: Some(UNIT_IFACE.into()),
        ..MatchRule::default()
    }
}

/// Start transient unit `name` with `props` (`a(sv)`) and (with `wait_job`) wait for its start
/// job, as systemd-run does. With `follow`, the unit's property changes are subscribed too (before
/// the start), for [`wait_exit`].
pub async fn start(
    bus: &Bus,
    name: &str,
    props: Data,
    follow: bool,
    wait_job: bool,
) -> Result<Started, StartError> {
    let before = |error| StartError {
        error,
        created: false,
    };
    let path = unit_path(name);
    let mut jobs = bus.subscribe(job_removed_rule()).await.map_err(before)?;
    let changes = if follow {
        Some(
            bus.subscribe(unit_changes_rule(&path))
                .await
                .map_err(before)?,
        )
    } else {
        None
    };
    subscribe_manager(bus).await.map_err(before)?;
    let reply = bus
        .call(
            SERVICE,
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            "StartTransientUnit",
            &[
                Data::Str(name.into()),
                Data::Str("fail".into()),
                props,
                no_aux(),
            ],
        )
        .await
        .map_err(before)?;
    remember(name);
    let after = |error| StartError {
        error,
        created: true,
    };
    let job = match reply.values.first() {
        Some(Data::Path(p)) => p.clone(),
        _ => {
            return Err(after(CallError::Invalid(
                "StartTransientUnit answered without a job path".into(),
            )));
        }
    };
    let (job_result, pending_job) = if wait_job {
        (job_result(&mut jobs, &job).await.map_err(after)?, None)
    } else {
        ("queued".to_string(), changes.is_some().then_some(jobs))
    };
    Ok(Started {
        path,
        job,
        job_result,
        changes,
        pending_job,
    })
}

/// A failed start: the error, and whether the unit was created (and must be cleaned up) or
/// systemd refused it (then nothing is there, and a unit of the same name is someone else's).
pub struct StartError {
    pub error: CallError,
    pub created: bool,
}

/// Read one property.
pub async fn get(bus: &Bus, path: &str, iface: &str, name: &str) -> Result<Data, CallError> {
    let reply = bus
        .call(
            SERVICE,
            path,
            Some(PROPERTIES),
            "Get",
            &[Data::Str(iface.into()), Data::Str(name.into())],
        )
        .await?;
    match reply.values.into_iter().next() {
        Some(Data::Variant(v)) => Ok(*v),
        Some(other) => Ok(other),
        None => Err(CallError::Invalid(format!("no value for {name}"))),
    }
}

async fn get_str(bus: &Bus, path: &str, iface: &str, name: &str) -> Result<String, CallError> {
    match get(bus, path, iface, name).await? {
        Data::Str(s) => Ok(s),
        other => Err(CallError::Invalid(format!(
            "{name} is {}, not a string",
            other.sig()
        ))),
    }
}

async fn get_i32(bus: &Bus, path: &str, iface: &str, name: &str) -> Result<i32, CallError> {
    match get(bus, path, iface, name).await? {
        Data::I32(n) => Ok(n),
        Data::U32(n) => Ok(n as i32),
        _ => Ok(0),
    }
}

/// How the main process of the service at `path` ended (read now).
pub async fn exit_of(bus: &Bus, path: &str) -> Result<Exit, CallError> {
    // Four small reads in flight at once: one round trip.
    let (result, code, status, sub_state) = tokio::join!(
        get_str(bus, path, SERVICE_IFACE, "Result"),
        get_i32(bus, path, SERVICE_IFACE, "ExecMainCode"),
        get_i32(bus, path, SERVICE_IFACE, "ExecMainStatus"),
        get_str(bus, path, UNIT_IFACE, "SubState"),
    );
    Ok(Exit {
        result: result?,
        code: code?,
        status: status?,
        sub_state: sub_state?,
    })
}

/// A PropertiesChanged of the Unit interface that says the main process is over (and is not
/// the start job's own transition).
fn says_exited(sig: &Signal, start_job: &str) -> bool {
    let [_, Data::Dict { entries, .. }, ..] = sig.values.as_slice() else {
        return false;
    };
    let field = |k: &str| {
        entries.iter().find_map(|(key, v)| match (key, v) {
            (Data::Str(s), Data::Variant(inner)) if s == k => Some(&**inner),
            _ => None,
        })
    };
    if let Some(Data::Struct(job)) = field("Job")
        && matches!(job.get(1), Some(Data::Path(p)) if p == start_job)
    {
        return false;
    }
    matches!(field("SubState"), Some(Data::Str(s)) if EXIT_SUBSTATES.contains(&s.as_str()))
}

/// Wait until the main process of a started unit has exited; how it ended.
pub async fn wait_exit(bus: &Bus, started: &mut Started) -> Result<Exit, CallError> {
    // A start job not waited for: first its end (the unit started, or failed to), so what
    // follows is this unit's, not a previous one's of the same name (a demo run again).
    if let Some(mut jobs) = started.pending_job.take() {
        job_result(&mut jobs, &started.job).await?;
    }
    let sub_state = get_str(bus, &started.path, UNIT_IFACE, "SubState").await?;
    if !EXIT_SUBSTATES.contains(&sub_state.as_str()) {
        let Some(changes) = started.changes.as_mut() else {
            return Err(CallError::Invalid(
                "internal: the unit was started without following it".into(),
            ));
        };
        loop {
            let sig = changes.next().await.ok_or_else(|| {
                CallError::Connection("the connection closed while waiting for the unit".into())
            })?;
            // A unit of the same name that was just stopped or reset (a demo run again)
            // may still have its last changes on the way: believe the unit as it is now.
            if says_exited(&sig, &started.job)
                && EXIT_SUBSTATES.contains(
                    &get_str(bus, &started.path, UNIT_IFACE, "SubState")
                        .await?
                        .as_str(),
                )
            {
                break;
            }
        }
    }
    exit_of(bus, &started.path).await
}

/// Let go of a unit started with `AddRef=yes`.
pub async fn unref(bus: &Bus, path: &str) {
    let _ = bus
        .call(SERVICE, path, Some(UNIT_IFACE), "Unref", &[])
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names_look_like_systemd_run_ones() {
        let a = random_name();
        let b = random_name();
        assert_ne!(a, b);
        let hex = a
            .strip_prefix("rustemd")
            .and_then(|r| r.strip_suffix(".service"))
            .unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn exits_are_recognised_after_the_start_job() {
        let changed = |sub: &str, job: &str| Signal {
            sender: ":1.0".into(),
            path: "/u".into(),
            interface: PROPERTIES.into(),
            member: "PropertiesChanged".into(),
            values: vec![
                Data::Str(UNIT_IFACE.into()),
                Data::Dict {
                    key: Sig::Str,
                    value: Sig::Variant,
                    entries: vec![
                        (
                            Data::Str("SubState".into()),
                            Data::Variant(Box::new(Data::Str(sub.into()))),
                        ),
                        (
                            Data::Str("Job".into()),
                            Data::Variant(Box::new(Data::Struct(vec![
                                Data::U32(0),
                                Data::Path(job.into()),
                            ]))),
                        ),
                    ],
                },
            ],
        };
        let job = "/org/freedesktop/systemd1/job/7";
        assert!(!says_exited(&changed("dead", job), job));
        assert!(says_exited(&changed("dead", "/"), job));
        assert!(says_exited(&changed("exited", "/"), job));
        assert!(!says_exited(&changed("running", "/"), job));
    }
}

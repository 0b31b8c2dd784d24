//! busctl's `list` of peers and names.
//!
//! Mirrors busctl's `list_bus_names`: names from ListNames and ListActivatableNames, each
//! acquired name described by GetConnectionCredentials and, like sd-bus's credential
//! augmentation, by /proc (process name, unit and session from the cgroup path).

use std::collections::BTreeMap;

use crate::bus::connection::{CallError, Reply};
use crate::bus::data::Data;
use crate::bus::session::Session;
use crate::systemd::cgroup;

const DBUS: &str = "org.freedesktop.DBus";

/// What `list` shows (busctl's `--unique`, `--acquired`, `--activatable`, `--show-machine`,
/// `--augment-creds`); with none of the first three, all of them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub unique: bool,
    pub acquired: bool,
    pub activatable: bool,
    pub show_machine: bool,
    /// Read process name, unit and session from /proc (busctl's default).
    pub augment: bool,
}

/// One line of the table; `None` prints as `-` (JSON: null).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub name: String,
    pub pid: Option<u32>,
    pub process: Option<String>,
    pub user: Option<String>,
    pub connection: Option<String>,
    pub unit: Option<String>,
    pub session: Option<String>,
    pub description: Option<String>,
    pub machine: Option<String>,
}

/// The rows of busctl's `list`, sorted by name.
pub fn rows(s: &Session, o: &Options) -> Result<Vec<Row>, CallError> {
    let mut o = *o;
    if !o.unique && !o.acquired && !o.activatable {
        (o.unique, o.acquired, o.activatable) = (true, true, true);
    }
    let acquired = if o.acquired || o.unique {
        s.block_on(s.bus.list_names(false))?
    } else {
        Vec::new()
    };
    let activatable = if o.activatable {
        s.block_on(s.bus.list_names(true))?
    } else {
        Vec::new()
    };
    // BTreeMap: busctl sorts by name with strcmp.
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for name in &acquired {
        let unique = name.starts_with(':');
        if (unique && !o.unique) || (!unique && !o.acquired) {
            continue;
        }
        let mut row = describe(s, name, o.augment);
        if o.show_machine {
            row.machine = machine_id(s, name);
        }
        rows.insert(name.clone(), row);
    }
    for name in activatable {
        if acquired.contains(&name) {
            continue;
        }
        rows.entry(name.clone()).or_insert_with(|| Row {
            name,
            connection: Some("(activatable)".into()),
            ..Row::default()
        });
    }
    Ok(rows.into_values().collect())
}

/// busctl's `list` table (with its header unless `legend` is false).
pub fn table(rows: &[Row], legend: bool, show_machine: bool) -> String {
    let mut header = vec![
        "NAME",
        "PID",
        "PROCESS",
        "USER",
        "CONNECTION",
        "UNIT",
        "SESSION",
        "DESCRIPTION",
    ];
    if show_machine {
        header.push("MACHINE");
    }
    let dash = |c: &Option<String>| c.clone().unwrap_or_else(|| "-".to_string());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut v = vec![
                r.name.clone(),
                r.pid.map_or_else(|| "-".to_string(), |p| p.to_string()),
                dash(&r.process),
                dash(&r.user),
                dash(&r.connection),
                dash(&r.unit),
                dash(&r.session),
                dash(&r.description),
            ];
            if show_machine {
                v.push(dash(&r.machine));
            }
            v
        })
        .collect();
    // Without the legend the header does not count (busctl's format-table).
    let mut widths: Vec<usize> = header
        .iter()
        .map(|h| if legend { h.len() } else { 1 })
        .collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            if i == 1 {
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                if i != last {
                    out.push_str(&" ".repeat(pad));
                }
            }
            out.push(if i == last { '\n' } else { ' ' });
        }
    };
    if legend {
        line(&mut out, header.clone());
    }
    for row in &cells {
        line(&mut out, row.iter().map(String::as_str).collect());
    }
    out
}

/// busctl's `list --json`: an array of objects keyed by the lower-cased column names, empty
/// cells null, the PID a number.
pub fn json(rows: &[Row], show_machine: bool) -> super::json::Json {
    use super::json::Json;
    let text = |c: &Option<String>| c.clone().map_or(Json::Null, Json::Str);
    Json::Array(
        rows.iter()
            .map(|r| {
                let mut o = vec![
                    ("name".to_string(), Json::Str(r.name.clone())),
                    (
                        "pid".into(),
                        r.pid.map_or(Json::Null, |p| Json::Uint(u64::from(p))),
                    ),
                    ("process".into(), text(&r.process)),
                    ("user".into(), text(&r.user)),
                    ("connection".into(), text(&r.connection)),
                    ("unit".into(), text(&r.unit)),
                    ("session".into(), text(&r.session)),
                    ("description".into(), text(&r.description)),
                ];
                if show_machine {
                    o.push(("machine".into(), text(&r.machine)));
                }
                Json::Object(o)
            })
            .collect(),
    )
}

/// `sd_bus_get_name_machine_id()`: Peer.GetMachineId, without activating anyone (our own
/// connection is this machine).
fn machine_id(s: &Session, name: &str) -> Option<String> {
    let own = s
        .block_on(s.bus.connection())
        .ok()
        .and_then(|c| c.unique_name().map(|n| n.to_string()));
    if own.as_deref() == Some(name) {
        return std::fs::read_to_string("/etc/machine-id")
            .ok()
            .map(|m| m.trim().to_string());
    }
    let opts = crate::bus::connection::CallOptions {
        auto_start: false,
        ..Default::default()
    };
    let r = s
        .block_on(s.bus.call_with(
            &opts,
            name,
            "/",
            Some("org.freedesktop.DBus.Peer"),
            "GetMachineId",
            &[],
        ))
        .ok()?;
    match r.values.first() {
        Some(Data::Str(id)) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(id.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// A row for an acquired name: PID, process, user, connection, unit, session.
fn describe(s: &Session, name: &str, augment: bool) -> Row {
    let mut row = Row {
        name: name.to_string(),
        ..Row::default()
    };
    if name == DBUS {
        // sd-bus describes the bus driver by the socket's peer credentials (whoever listened:
        // systemd for a socket-activated bus), augmented from /proc; no connection name.
        let creds = s.block_on(async {
            let conn = s.bus.connection().await?;
            conn.peer_creds()
                .await
                .map(|c| (c.process_id(), c.unix_user_id()))
                .map_err(|e| CallError::Connection(e.to_string()))
        });
        if let Ok((pid, uid)) = creds {
            fill_process(&mut row, pid, uid, augment);
        }
        return row;
    }
    let Ok(reply) = driver_call(s, "GetConnectionCredentials", name) else {
        return row;
    };
    let mut pid = None;
    let mut uid = None;
    if let Some(Data::Dict { entries, .. }) = reply.values.first() {
        for (k, v) in entries {
            let (Data::Str(k), Data::Variant(v)) = (k, v) else {
                continue;
            };
            match (k.as_str(), v.as_ref()) {
                ("ProcessID", Data::U32(p)) => pid = Some(*p),
                ("UnixUserID", Data::U32(u)) => uid = Some(*u),
                _ => {}
            }
        }
    }
    row.connection = if name.starts_with(':') {
        Some(name.to_string())
    } else {
        driver_call(s, "GetNameOwner", name)
            .ok()
            .and_then(|r| match r.values.first() {
                Some(Data::Str(s)) => Some(s.clone()),
                _ => None,
            })
    };
    fill_process(&mut row, pid, uid, augment);
    row
}

/// PID, PROCESS (from /proc, "n/a" when gone or not augmented), USER, UNIT and SESSION (from
/// the cgroup).
fn fill_process(row: &mut Row, pid: Option<u32>, uid: Option<u32>, augment: bool) {
    if let Some(u) = uid {
        row.user = Some(
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(u))
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| u.to_string()),
        );
    }
    if let Some(p) = pid {
        row.pid = Some(p);
        row.process = Some(if augment {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .map(|c| c.trim_end_matches('\n').to_string())
                .unwrap_or_else(|_| "n/a".into())
        } else {
            "n/a".into()
        });
        if augment && let Some(unit) = cgroup::systemd_cgroup(p).and_then(|cg| cgroup::unit(&cg)) {
            if let Some(s) = unit
                .strip_prefix("session-")
                .and_then(|s| s.strip_suffix(".scope"))
            {
                row.session = Some(s.to_string());
            }
            row.unit = Some(unit);
        }
    }
}

/// One call to the bus driver with a name argument.
fn driver_call(s: &Session, member: &str, name: &str) -> Result<Reply, CallError> {
    s.block_on(s.bus.call(
        DBUS,
        "/org/freedesktop/DBus",
        Some(DBUS),
        member,
        &[Data::Str(name.to_string())],
    ))
}

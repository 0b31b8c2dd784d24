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

/// busctl's `list` table (with its header unless `legend` is false).
pub fn table(s: &Session, legend: bool) -> Result<String, CallError> {
    let acquired = s.block_on(s.bus.list_names(false))?;
    let activatable = s.block_on(s.bus.list_names(true))?;
    // BTreeMap: busctl sorts by name with strcmp.
    let mut rows: BTreeMap<String, [String; 7]> = BTreeMap::new();
    for name in &acquired {
        rows.insert(name.clone(), describe(s, name));
    }
    for name in activatable {
        rows.entry(name).or_insert_with(|| {
            let d = || "-".to_string();
            [d(), d(), d(), "(activatable)".into(), d(), d(), d()]
        });
    }
    let header = [
        "NAME",
        "PID",
        "PROCESS",
        "USER",
        "CONNECTION",
        "UNIT",
        "SESSION",
        "DESCRIPTION",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (name, cells) in &rows {
        widths[0] = widths[0].max(name.chars().count());
        for (i, c) in cells.iter().enumerate() {
            widths[i + 1] = widths[i + 1].max(c.chars().count());
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
        line(&mut out, header.to_vec());
    }
    for (name, cells) in &rows {
        let mut v = vec![name.as_str()];
        v.extend(cells.iter().map(String::as_str));
        line(&mut out, v);
    }
    Ok(out)
}

/// PID, PROCESS, USER, CONNECTION, UNIT, SESSION, DESCRIPTION for an acquired name.
fn describe(s: &Session, name: &str) -> [String; 7] {
    let dash = || "-".to_string();
    let mut cells = [dash(), dash(), dash(), dash(), dash(), dash(), dash()];
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
            fill_process(&mut cells, pid, uid);
        }
        return cells;
    }
    let Ok(reply) = driver_call(s, "GetConnectionCredentials", name) else {
        return cells;
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
    let unique = if name.starts_with(':') {
        Some(name.to_string())
    } else {
        driver_call(s, "GetNameOwner", name)
            .ok()
            .and_then(|r| match r.values.first() {
                Some(Data::Str(s)) => Some(s.clone()),
                _ => None,
            })
    };
    if let Some(u) = unique {
        cells[3] = u;
    }
    fill_process(&mut cells, pid, uid);
    cells
}

/// PID, PROCESS (from /proc, "n/a" when gone), USER, UNIT and SESSION (from the cgroup).
fn fill_process(cells: &mut [String; 7], pid: Option<u32>, uid: Option<u32>) {
    if let Some(u) = uid {
        cells[2] = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(u))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| u.to_string());
    }
    if let Some(p) = pid {
        cells[0] = p.to_string();
        cells[1] = std::fs::read_to_string(format!("/proc/{p}/comm"))
            .map(|c| c.trim_end_matches('\n').to_string())
            .unwrap_or_else(|_| "n/a".into());
        if let Some(unit) = cgroup::systemd_cgroup(p).and_then(|cg| cgroup::cgroup_unit(&cg)) {
            if let Some(s) = unit
                .strip_prefix("session-")
                .and_then(|s| s.strip_suffix(".scope"))
            {
                cells[5] = s.to_string();
            }
            cells[4] = unit;
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

//! `list`: busctl's list of peers and names.
//!
//! Mirrors busctl's `list_bus_names`: names from ListNames and ListActivatableNames, each
//! acquired name described by GetConnectionCredentials and, like sd-bus's credential
//! augmentation, by /proc (process name, unit and session from the cgroup path).

use std::collections::BTreeMap;
use std::io::Write;

use crate::bus::data::Data;
use crate::commands::busctl::{bus_call, error_text};
use crate::lang::interp::{Flow, Interp};

const DBUS: &str = "org.freedesktop.DBus";

pub fn list(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    if !words.is_empty() {
        anyhow::bail!("list takes no arguments");
    }
    let s = it.session.clone();
    let names = |activatable| {
        s.block_on(s.bus.list_names(activatable))
            .map_err(|e| anyhow::anyhow!("Failed to list names: {}", error_text(&e)))
    };
    let acquired = names(false)?;
    let activatable = names(true)?;
    // BTreeMap: busctl sorts by name with strcmp.
    let mut rows: BTreeMap<String, [String; 7]> = BTreeMap::new();
    for name in &acquired {
        rows.insert(name.clone(), describe(it, name));
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
    line(&mut out, header.to_vec());
    for (name, cells) in &rows {
        let mut v = vec![name.as_str()];
        v.extend(cells.iter().map(String::as_str));
        line(&mut out, v);
    }
    it.out.write_all(out.as_bytes())?;
    Ok(Flow::Continue)
}

/// PID, PROCESS, USER, CONNECTION, UNIT, SESSION, DESCRIPTION for an acquired name.
fn describe(it: &Interp, name: &str) -> [String; 7] {
    let dash = || "-".to_string();
    let mut cells = [dash(), dash(), dash(), dash(), dash(), dash(), dash()];
    if name == DBUS {
        // sd-bus describes the bus driver by the socket's peer credentials (whoever listened:
        // systemd for a socket-activated bus), augmented from /proc; no connection name.
        let s = &it.session;
        let creds = s.block_on(async {
            let conn = s.bus.connection().await?;
            conn.peer_creds()
                .await
                .map(|c| (c.process_id(), c.unix_user_id()))
                .map_err(|e| crate::bus::connection::CallError::Connection(e.to_string()))
        });
        if let Ok((pid, uid)) = creds {
            fill_process(&mut cells, pid, uid);
        }
        return cells;
    }
    let Ok(reply) = bus_call(
        it,
        DBUS,
        "/org/freedesktop/DBus",
        DBUS,
        "GetConnectionCredentials",
        &[Data::Str(name.to_string())],
    ) else {
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
        bus_call(
            it,
            DBUS,
            "/org/freedesktop/DBus",
            DBUS,
            "GetNameOwner",
            &[Data::Str(name.to_string())],
        )
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
        if let Some(unit) = systemd_cgroup(p).and_then(|cg| cgroup_unit(&cg)) {
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

/// The process's path in the systemd (name=systemd or unified) hierarchy.
fn systemd_cgroup(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mut unified = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
        if ctrl == "name=systemd" {
            return Some(path.to_string());
        }
        if ctrl.is_empty() {
            unified = Some(path.to_string());
        }
    }
    unified
}

/// systemd's `cg_path_get_unit`: the first non-slice component after the slices.
pub fn cgroup_unit(path: &str) -> Option<String> {
    let unit = path
        .split('/')
        .filter(|c| !c.is_empty())
        .find(|c| !c.ends_with(".slice"))?;
    let valid = [
        ".service",
        ".scope",
        ".socket",
        ".mount",
        ".swap",
        ".device",
        ".target",
        ".timer",
        ".path",
        ".automount",
    ]
    .iter()
    .any(|s| unit.ends_with(s));
    valid.then(|| unit.to_string())
}

#[cfg(test)]
mod tests {
    use super::cgroup_unit;

    #[test]
    fn cgroup_unit_table() {
        let rows = [
            ("/system.slice/dbus.service", Some("dbus.service")),
            ("/init.scope", Some("init.scope")),
            (
                "/user.slice/user-0.slice/session-3.scope",
                Some("session-3.scope"),
            ),
            ("/system.slice/x.service/payload", Some("x.service")),
            ("/", None),
            ("/system.slice", None),
        ];
        for (p, want) in rows {
            assert_eq!(cgroup_unit(p).as_deref(), want, "{p}");
        }
    }
}

//! `status X...`: a unit's state laid out like `systemctl status`, rendered from its D-Bus
//! properties (so it works on any bus, reached by address too): Loaded, Transient, Active with
//! the time, Main PID, Status text, Tasks with limit, Memory, CPU, and the CGroup with its
//! processes. The journal lines systemctl adds are not on D-Bus and are not shown.

use std::collections::HashMap;

use crate::bus::connection::CallError;
use crate::bus::data::Data;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd::syntax::format_bytes;
use crate::systemd::time::{format_ago, format_timespan, format_timestamp};
use crate::systemd::{self, MANAGER_IFACE, MANAGER_PATH, SERVICE};

use super::{Invocation, failed, units};

pub type Props = HashMap<String, Data>;

/// All properties of one interface of a unit.
pub async fn get_all(
    bus: &crate::bus::connection::Bus,
    path: &str,
    iface: &str,
) -> Result<Props, CallError> {
    let reply = bus
        .call(
            SERVICE,
            path,
            Some("org.freedesktop.DBus.Properties"),
            "GetAll",
            &[Data::Str(iface.into())],
        )
        .await?;
    let mut out = Props::new();
    if let Some(Data::Dict { entries, .. }) = reply.values.into_iter().next() {
        for (k, v) in entries {
            if let (Data::Str(k), Data::Variant(v)) = (k, v) {
                out.insert(k, *v);
            }
        }
    }
    Ok(out)
}

fn text(p: &Props, k: &str) -> String {
    match p.get(k) {
        Some(Data::Str(s) | Data::Path(s)) => s.clone(),
        _ => String::new(),
    }
}

fn num(p: &Props, k: &str) -> Option<u64> {
    match p.get(k)? {
        Data::U64(n) => Some(*n),
        Data::U32(n) => Some(u64::from(*n)),
        Data::I32(n) => u64::try_from(*n).ok(),
        Data::I64(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn int(p: &Props, k: &str) -> i64 {
    match p.get(k) {
        Some(Data::I32(n)) => i64::from(*n),
        Some(Data::U32(n)) => i64::from(*n),
        _ => 0,
    }
}

fn flag(p: &Props, k: &str) -> bool {
    matches!(p.get(k), Some(Data::Bool(true)))
}

/// The unit's interface for its type: `org.freedesktop.systemd1.Service` for `x.service`.
pub fn type_interface(name: &str) -> Option<String> {
    let t = name.rsplit_once('.')?.1;
    let mut c = t.chars();
    let first = c.next()?.to_ascii_uppercase();
    Some(format!("org.freedesktop.systemd1.{first}{}", c.as_str()))
}

/// What one unit looks like now.
pub struct Unit {
    pub name: String,
    pub unit: Props,
    pub typed: Props,
    /// (cgroup, pid, command line) of its processes.
    pub processes: Vec<(String, u32, String)>,
}

pub fn fetch(ctx: &Context<'_>, name: &str) -> Result<Unit, Error> {
    let s = ctx.session;
    let path = systemd::unit_path(name);
    let (unit, typed, procs) = s
        .block_on(async {
            let unit = get_all(&s.bus, &path, "org.freedesktop.systemd1.Unit").await?;
            let typed = match type_interface(name) {
                Some(i) => get_all(&s.bus, &path, &i).await.unwrap_or_default(),
                None => Props::new(),
            };
            let procs = s
                .bus
                .call(
                    SERVICE,
                    MANAGER_PATH,
                    Some(MANAGER_IFACE),
                    "GetUnitProcesses",
                    &[Data::Str(name.into())],
                )
                .await
                .map(|r| r.values)
                .unwrap_or_default();
            Ok((unit, typed, procs))
        })
        .map_err(|e| failed(format!("Failed to get properties of {name}"), &e))?;
    let mut processes = Vec::new();
    if let Some(Data::Array { items, .. }) = procs.into_iter().next() {
        for item in items {
            if let Data::Struct(f) = item
                && let [Data::Str(cg), Data::U32(pid), Data::Str(cmd)] = f.as_slice()
            {
                processes.push((cg.clone(), *pid, cmd.clone()));
            }
        }
    }
    Ok(Unit {
        name: name.to_string(),
        unit,
        typed,
        processes,
    })
}

/// Colours as systemctl uses them (green active, red failed), or none.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, t: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.wrap("0;1;32", t)
    }
    fn red(&self, t: &str) -> String {
        self.wrap("0;1;31", t)
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
}

fn now_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The process's short name, as systemctl shows after the Main PID.
fn comm(pid: u64) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

/// `systemctl status`'s text for one unit.
pub fn render(u: &Unit, color: bool) -> String {
    let p = Paint(color);
    let (un, ty) = (&u.unit, &u.typed);
    let active = text(un, "ActiveState");
    let sub = text(un, "SubState");
    let dot = match active.as_str() {
        "active" | "reloading" | "activating" => p.green("●"),
        "failed" => p.red("×"),
        _ => "○".to_string(),
    };
    let mut out = String::new();
    let desc = text(un, "Description");
    if desc.is_empty() || desc == u.name {
        out.push_str(&format!("{dot} {}\n", u.name));
    } else {
        out.push_str(&format!("{dot} {} - {desc}\n", u.name));
    }
    // Loaded: loaded (/path; state; preset: x)
    let load = text(un, "LoadState");
    let fragment = text(un, "FragmentPath");
    let source = if fragment.is_empty() {
        text(un, "SourcePath")
    } else {
        fragment
    };
    let file_state = text(un, "UnitFileState");
    let preset = text(un, "UnitFilePreset");
    let load_shown = match load.as_str() {
        "loaded" => load.clone(),
        "not-found" | "bad-setting" | "error" | "masked" => p.red(&load),
        _ => load.clone(),
    };
    let mut inside: Vec<String> = Vec::new();
    if !source.is_empty() {
        inside.push(source);
    }
    if !file_state.is_empty() {
        inside.push(file_state);
    }
    // systemctl shows the preset only next to enabled/disabled.
    if !preset.is_empty()
        && matches!(
            inside.last().map(String::as_str),
            Some("enabled" | "disabled")
        )
    {
        inside.push(format!("preset: {preset}"));
    }
    if inside.is_empty() {
        out.push_str(&format!("     Loaded: {load_shown}\n"));
    } else {
        out.push_str(&format!(
            "     Loaded: {load_shown} ({})\n",
            inside.join("; ")
        ));
    }
    // Drop-In: dirs and files.
    if let Some(Data::Array { items, .. }) = un.get("DropInPaths") {
        let paths: Vec<String> = items
            .iter()
            .filter_map(|d| match d {
                Data::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let mut dirs: Vec<(String, Vec<String>)> = Vec::new();
        for path in paths {
            let (dir, file) = path.rsplit_once('/').unwrap_or(("", &path));
            match dirs.iter_mut().find(|(d, _)| d == dir) {
                Some((_, files)) => files.push(file.to_string()),
                None => dirs.push((dir.to_string(), vec![file.to_string()])),
            }
        }
        for (i, (dir, files)) in dirs.iter().enumerate() {
            let label = if i == 0 {
                "    Drop-In: "
            } else {
                "             "
            };
            out.push_str(&format!("{label}{dir}\n"));
            out.push_str(&format!("             └─{}\n", files.join(", ")));
        }
    }
    if flag(un, "Transient") {
        out.push_str("  Transient: yes\n");
    }
    // Active: active (running) since …; 8s ago
    let state_text = format!("{active} ({sub})");
    let state_shown = match active.as_str() {
        "active" | "reloading" => p.green(&state_text),
        "failed" => p.red(&state_text),
        "activating" | "deactivating" => p.bold(&state_text),
        _ => state_text,
    };
    let result = text(ty, "Result");
    let result_part = if active == "failed" && !result.is_empty() && result != "success" {
        format!(" (Result: {result})")
    } else {
        String::new()
    };
    let when = match active.as_str() {
        "active" | "reloading" => num(un, "ActiveEnterTimestamp"),
        "inactive" | "failed" => num(un, "InactiveEnterTimestamp"),
        "activating" => num(un, "InactiveExitTimestamp"),
        _ => num(un, "ActiveExitTimestamp"),
    }
    .filter(|t| *t > 0);
    match when {
        Some(t) => out.push_str(&format!(
            "     Active: {state_shown}{result_part} since {}; {}\n",
            format_timestamp(t),
            format_ago(now_usec().saturating_sub(t))
        )),
        None => out.push_str(&format!("     Active: {state_shown}{result_part}\n")),
    }
    // Main PID
    let main_pid = num(ty, "MainPID").unwrap_or(0);
    if main_pid > 0 {
        let name = comm(main_pid)
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        out.push_str(&format!("   Main PID: {main_pid}{name}\n"));
    } else if num(ty, "ExecMainPID").unwrap_or(0) > 0 && active != "active" {
        let pid = num(ty, "ExecMainPID").unwrap_or(0);
        let code = int(ty, "ExecMainCode");
        let status = int(ty, "ExecMainStatus");
        let what = match code {
            1 => format!("code=exited, status={status}"),
            2 => format!("code=killed, signal={status}"),
            3 => format!("code=dumped, signal={status}"),
            _ => format!("code={code}"),
        };
        out.push_str(&format!("   Main PID: {pid} ({what})\n"));
    }
    let status_text = text(ty, "StatusText");
    if !status_text.is_empty() {
        out.push_str(&format!("     Status: \"{status_text}\"\n"));
    }
    // Tasks, Memory, CPU
    if let Some(tasks) = num(ty, "TasksCurrent").filter(|t| *t != u64::MAX) {
        match num(ty, "TasksMax").filter(|t| *t != u64::MAX) {
            Some(max) => out.push_str(&format!("      Tasks: {tasks} (limit: {max})\n")),
            None => out.push_str(&format!("      Tasks: {tasks}\n")),
        }
    }
    if let Some(mem) = num(ty, "MemoryCurrent").filter(|m| *m != u64::MAX) {
        let mut limits: Vec<String> = Vec::new();
        let max = u64::MAX;
        for (key, label, shown_if) in [
            ("MemoryMin", "min", 0u64),
            ("MemoryLow", "low", 0),
            ("MemoryHigh", "high", max),
            ("MemoryMax", "max", max),
            ("MemorySwapMax", "swap max", max),
            ("MemoryLimit", "limit", max),
            ("MemoryAvailable", "available", max),
        ] {
            if let Some(v) = num(ty, key)
                && v != shown_if
            {
                limits.push(format!("{label}: {}", format_bytes(v)));
            }
        }
        if limits.is_empty() {
            out.push_str(&format!("     Memory: {}\n", format_bytes(mem)));
        } else {
            out.push_str(&format!(
                "     Memory: {} ({})\n",
                format_bytes(mem),
                limits.join(" ")
            ));
        }
    }
    if let Some(cpu) = num(ty, "CPUUsageNSec").filter(|c| *c != u64::MAX) {
        out.push_str(&format!(
            "        CPU: {}\n",
            format_timespan(cpu / 1000, 1000)
        ));
    }
    // CGroup and its processes.
    let cgroup = text(ty, "ControlGroup");
    if !cgroup.is_empty() {
        out.push_str(&format!("     CGroup: {cgroup}\n"));
        out.push_str(&process_tree(&cgroup, &u.processes));
    }
    out
}

/// The processes under `root`, grouped by sub-cgroup like systemctl's tree.
fn process_tree(root: &str, procs: &[(String, u32, String)]) -> String {
    let mut groups: Vec<(String, Vec<(u32, String)>)> = Vec::new();
    for (cg, pid, cmd) in procs {
        match groups.iter_mut().find(|(g, _)| g == cg) {
            Some((_, v)) => v.push((*pid, cmd.clone())),
            None => groups.push((cg.clone(), vec![(*pid, cmd.clone())])),
        }
    }
    groups.sort_by(|a, b| (a.0 != root, &a.0).cmp(&(b.0 != root, &b.0)));
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (cg, mut ps) in groups {
        ps.sort();
        let depth = if cg == root {
            0
        } else {
            lines.push((
                0,
                cg.strip_prefix(root)
                    .unwrap_or(&cg)
                    .trim_start_matches('/')
                    .to_string(),
            ));
            1
        };
        for (pid, cmd) in ps {
            lines.push((depth, format!("{pid} {cmd}")));
        }
    }
    let pad = "             ";
    let mut out = String::new();
    for (i, (depth, line)) in lines.iter().enumerate() {
        let last_here = !lines[i + 1..].iter().any(|(d, _)| d == depth)
            || (*depth == 1 && lines.get(i + 1).is_none_or(|(d, _)| *d == 0));
        let last_top = !lines[i + 1..].iter().any(|(d, _)| *d == 0);
        let branch = if last_here { "└─" } else { "├─" };
        if *depth == 0 {
            out.push_str(&format!("{pad}{branch}{line}\n"));
        } else {
            let trunk = if last_top { "  " } else { "│ " };
            out.push_str(&format!("{pad}{trunk}{branch}{line}\n"));
        }
    }
    out
}

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let names = if inv.args.is_empty() {
        vec![crate::systemd::unit::own_unit().ok_or_else(|| {
            Error::new("status: this shell runs in no unit; give a unit name or a PID")
        })?]
    } else {
        units::resolve_all(ctx, &inv.args)?
    };
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        let u = fetch(ctx, name)?;
        if text(&u.unit, "LoadState") == "not-found" && text(&u.unit, "ActiveState") == "inactive" {
            return Err(Error::new(format!("Unit {name} could not be found.")));
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render(&u, ctx.term.color));
    }
    ctx.out.write_all(out.as_bytes())?;
    Ok(Value::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_trees_like_systemctl() {
        let p = |cg: &str, pid: u32, cmd: &str| (cg.to_string(), pid, cmd.to_string());
        let root = "/system.slice/x.service";
        let t = process_tree(root, &[p(root, 20, "/usr/bin/sleep infinity")]);
        assert_eq!(t, "             └─20 /usr/bin/sleep infinity\n");
        let t = process_tree(root, &[p(root, 2, "b"), p(root, 1, "a")]);
        assert_eq!(t, "             ├─1 a\n             └─2 b\n");
        assert_eq!(
            type_interface("x.service").as_deref(),
            Some("org.freedesktop.systemd1.Service")
        );
    }

    #[test]
    fn coloured_like_systemctl_on_a_terminal() {
        let props = |kv: &[(&str, &str)]| -> Props {
            kv.iter()
                .map(|(k, v)| (k.to_string(), Data::Str(v.to_string())))
                .collect()
        };
        let u = Unit {
            name: "x.service".into(),
            unit: props(&[("ActiveState", "active"), ("SubState", "running")]),
            typed: Props::new(),
            processes: Vec::new(),
        };
        let text = render(&u, true);
        assert!(
            text.starts_with("\x1b[0;1;32m●\x1b[0m x.service\n"),
            "{text:?}"
        );
        assert!(
            text.contains("Active: \x1b[0;1;32mactive (running)\x1b[0m"),
            "{text:?}"
        );
        let plain = render(&u, false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        let failed = Unit {
            unit: props(&[("ActiveState", "failed"), ("SubState", "failed")]),
            typed: props(&[("Result", "exit-code")]),
            ..u
        };
        let text = render(&failed, false);
        assert!(
            text.contains("Active: failed (failed) (Result: exit-code)"),
            "{text}"
        );
    }
}

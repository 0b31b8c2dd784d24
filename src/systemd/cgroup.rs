//! Which unit a process belongs to, read from its cgroup (no bus round trip).

/// The process's path in the systemd (name=systemd or unified) hierarchy.
pub fn systemd_cgroup(pid: u32) -> Option<String> {
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

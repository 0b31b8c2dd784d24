//! busctl's `status`: a peer's credentials, byte for byte (systemd 252: `status()` in
//! `busctl.c`, `bus_creds_dump()` in `bus-dump.c`, the getters of `bus-creds.c` and the
//! cgroup path parsing of `cgroup-util.c`).
//!
//! Where they come from, as sd-bus gathers them: a bus name's PID and user from the driver's
//! `GetConnectionCredentials`, the bus owner's from the socket (`SO_PEERCRED`), and then,
//! unless `--augment-creds=no`, everything else from `/proc/PID` (status, comm, exe,
//! cmdline, cgroup, loginuid, sessionid, stat). A value that cannot be had prints `n/a`; one
//! that was never asked for is left out, exactly as busctl does.

use std::fmt::Write as _;

use crate::systemd::cgroup::{session, shift, skip_user_prefix, slice, unit};

const HIGHLIGHT: &str = "\x1B[0;1;39m";
const NORMAL: &str = "\x1B[0m";

/// A peer's credentials; `None` means "not known" (the line is left out).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Creds {
    pub pid: Option<u32>,
    /// `Some(0)`: no parent (PID 1), printed `n/a`.
    pub ppid: Option<u32>,
    /// `Some(None)`: no controlling terminal.
    pub tty: Option<Option<String>>,
    pub uid: Option<u32>,
    pub euid: Option<u32>,
    pub suid: Option<u32>,
    pub fsuid: Option<u32>,
    pub gid: Option<u32>,
    pub egid: Option<u32>,
    pub sgid: Option<u32>,
    pub fsgid: Option<u32>,
    pub groups: Option<Vec<u32>>,
    pub comm: Option<String>,
    /// `Some(None)`: a kernel thread (no executable).
    pub exe: Option<Option<String>>,
    /// `Some(None)`: known to be empty.
    pub cmdline: Option<Option<Vec<String>>>,
    pub label: Option<String>,
    /// The process's cgroup path, and the root that units are relative to.
    pub cgroup: Option<String>,
    pub cgroup_root: String,
    /// `Some(None)`: not set (`n/a`).
    pub audit_login_uid: Option<Option<u32>>,
    pub audit_session: Option<Option<u32>>,
    pub unique_name: Option<String>,
    /// Effective, permitted, inheritable and bounding capability sets.
    pub caps: [Option<u64>; 4],
}

/// Capability names as libcap spells them (`capability_to_name()`), by number.
const CAPS: &[&str] = &[
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

impl Creds {
    /// Fill in what is missing from `/proc/PID` (sd-bus's `bus_creds_add_more()`).
    pub fn augment(&mut self) {
        let Some(pid) = self.pid else {
            return;
        };
        let proc = format!("/proc/{pid}");
        if let Ok(status) = std::fs::read_to_string(format!("{proc}/status")) {
            for line in status.lines() {
                let Some((key, rest)) = line.split_once(':') else {
                    continue;
                };
                let nums = || -> Vec<u32> {
                    rest.split_whitespace()
                        .filter_map(|n| n.parse().ok())
                        .collect()
                };
                match key {
                    "PPid" if self.ppid.is_none() => self.ppid = rest.trim().parse().ok(),
                    "Uid" => {
                        if let [u, e, s, f] = nums()[..] {
                            self.uid.get_or_insert(u);
                            self.euid.get_or_insert(e);
                            self.suid.get_or_insert(s);
                            self.fsuid.get_or_insert(f);
                        }
                    }
                    "Gid" => {
                        if let [g, e, s, f] = nums()[..] {
                            self.gid.get_or_insert(g);
                            self.egid.get_or_insert(e);
                            self.sgid.get_or_insert(s);
                            self.fsgid.get_or_insert(f);
                        }
                    }
                    "Groups" if self.groups.is_none() => self.groups = Some(nums()),
                    "CapEff" | "CapPrm" | "CapInh" | "CapBnd" => {
                        let i = ["CapEff", "CapPrm", "CapInh", "CapBnd"]
                            .iter()
                            .position(|k| *k == key)
                            .unwrap_or(0);
                        if self.caps[i].is_none() {
                            self.caps[i] = u64::from_str_radix(rest.trim(), 16).ok();
                        }
                    }
                    _ => {}
                }
            }
        }
        if self.label.is_none()
            && let Ok(l) = std::fs::read_to_string(format!("{proc}/attr/current"))
        {
            self.label = Some(l.trim_end_matches(['\n', '\0']).to_string());
        }
        if self.comm.is_none()
            && let Ok(c) = std::fs::read_to_string(format!("{proc}/comm"))
        {
            self.comm = Some(c.trim_end_matches('\n').to_string());
        }
        if self.exe.is_none() {
            self.exe = match std::fs::read_link(format!("{proc}/exe")) {
                Ok(p) => Some(Some(p.to_string_lossy().into_owned())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(None),
                Err(_) => None,
            };
        }
        if self.cmdline.is_none()
            && let Ok(raw) = std::fs::read(format!("{proc}/cmdline"))
        {
            self.cmdline = Some((!raw.is_empty()).then(|| {
                raw.split(|&b| b == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            }));
        }
        if self.cgroup.is_none() {
            self.cgroup = crate::systemd::cgroup::systemd_cgroup(pid);
            self.cgroup_root = crate::systemd::cgroup::systemd_cgroup(1)
                .map(|p| {
                    ["/init.scope", "/system.slice", "/system"]
                        .iter()
                        .find_map(|s| p.strip_suffix(s).map(str::to_string))
                        .unwrap_or(p)
                })
                .unwrap_or_default();
        }
        let audit = |file: &str| -> Option<Option<u32>> {
            let text = std::fs::read_to_string(format!("{proc}/{file}")).ok()?;
            let v: u32 = text.trim().parse().ok()?;
            // (uid_t) -1 and a session id of -1 (or 0) mean "not set".
            Some((v != u32::MAX && !(file == "sessionid" && v == 0)).then_some(v))
        };
        if self.audit_login_uid.is_none() {
            self.audit_login_uid = audit("loginuid");
        }
        if self.audit_session.is_none() {
            self.audit_session = audit("sessionid");
        }
        if self.tty.is_none() {
            self.tty = controlling_tty(pid);
        }
    }

    /// `bus_creds_dump(c, f, terse=false)`.
    pub fn dump(&self, color: bool) -> String {
        let (hl, off) = if color { (HIGHLIGHT, NORMAL) } else { ("", "") };
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(out, "{k}={hl}{v}{off}");
        };
        let na = |v: Option<&str>| v.unwrap_or("n/a").to_string();
        if let Some(p) = self.pid {
            line("PID", &p.to_string());
        }
        if let Some(p) = self.ppid {
            line("PPID", &if p == 0 { "n/a".into() } else { p.to_string() });
        }
        if let Some(t) = &self.tty {
            line("TTY", &na(t.as_deref()));
        }
        for (k, v) in [
            ("UID", self.uid),
            ("EUID", self.euid),
            ("SUID", self.suid),
            ("FSUID", self.fsuid),
        ] {
            if let Some(v) = v {
                line(k, &v.to_string());
            }
        }
        if let Some(owner) = self.owner_uid() {
            line("OwnerUID", &owner.to_string());
        }
        for (k, v) in [
            ("GID", self.gid),
            ("EGID", self.egid),
            ("SGID", self.sgid),
            ("FSGID", self.fsgid),
        ] {
            if let Some(v) = v {
                line(k, &v.to_string());
            }
        }
        if let Some(g) = &self.groups {
            let list: Vec<String> = g.iter().map(u32::to_string).collect();
            line("SupplementaryGIDs", &list.join(" "));
        }
        if let Some(c) = &self.comm {
            line("Comm", c);
        }
        if let Some(e) = &self.exe {
            line("Exe", &na(e.as_deref()));
        }
        if let Some(c) = &self.cmdline {
            line(
                "CommandLine",
                &c.as_ref().map_or("n/a".into(), |a| a.join(" ")),
            );
        }
        if let Some(l) = &self.label {
            line("Label", l);
        }
        if let Some(cg) = &self.cgroup {
            let shifted = shift(cg, &self.cgroup_root);
            line("CGroup", cg);
            line("Unit", &na(unit(shifted).as_deref()));
            line("Slice", &na(slice(shifted).as_deref()));
            let user = skip_user_prefix(shifted);
            line("UserUnit", &na(user.and_then(unit).as_deref()));
            line("UserSlice", &na(user.and_then(slice).as_deref()));
            line("Session", &na(session(shifted).as_deref()));
        }
        if let Some(a) = self.audit_login_uid {
            line("AuditLoginUID", &a.map_or("n/a".into(), |v| v.to_string()));
        }
        if let Some(a) = self.audit_session {
            line("AuditSessionID", &a.map_or("n/a".into(), |v| v.to_string()));
        }
        if let Some(u) = &self.unique_name {
            line("UniqueName", u);
        }
        let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(40)
            .min(63);
        let names = [
            "EffectiveCapabilities",
            "PermittedCapabilities",
            "InheritableCapabilities",
            "BoundingCapabilities",
        ];
        for (name, set) in names.iter().zip(self.caps) {
            let Some(set) = set else { continue };
            let _ = write!(out, "{name}={hl}");
            let mut n = 0;
            for i in 0..=last {
                if set & (1 << i) == 0 {
                    continue;
                }
                if n > 0 {
                    out.push(' ');
                }
                if n % 4 == 3 {
                    out.push_str("\n        ");
                }
                out.push_str(CAPS.get(i as usize).copied().unwrap_or("n/a"));
                n += 1;
            }
            out.push('\n');
            out.push_str(off);
        }
        out
    }

    /// `sd_bus_creds_get_owner_uid()`: the UID in a `user-UID.slice`.
    fn owner_uid(&self) -> Option<u32> {
        let s = slice(shift(self.cgroup.as_deref()?, &self.cgroup_root))?;
        s.strip_prefix("user-")?
            .strip_suffix(".slice")?
            .parse()
            .ok()
    }
}

/// `get_ctty()`: the controlling terminal from `/proc/PID/stat` (`Some(None)`: none).
fn controlling_tty(pid: u32) -> Option<Option<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let nr: u64 = rest.split(' ').nth(4)?.parse().ok()?;
    if nr == 0 {
        return Some(None);
    }
    let major = ((nr >> 8) & 0xfff) as u32;
    let minor = ((nr & 0xff) | ((nr >> 12) & 0xfff00)) as u32;
    if let Ok(target) = std::fs::read_link(format!("/dev/char/{major}:{minor}")) {
        let t = target.to_string_lossy().into_owned();
        let t = t.trim_start_matches("../").trim_start_matches("/dev/");
        return Some(Some(t.to_string()));
    }
    Some(Some(if major == 136 {
        format!("pts/{minor}")
    } else {
        format!("/dev/char/{major}:{minor}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_uid_comes_from_the_cgroup() {
        let c = Creds {
            cgroup: Some("/user.slice/user-1000.slice/session-3.scope".into()),
            ..Creds::default()
        };
        assert_eq!(c.owner_uid(), Some(1000));
    }

    #[test]
    fn capabilities_wrap_like_busctl() {
        let c = Creds {
            caps: [Some(0b1_1111), None, None, None],
            ..Creds::default()
        };
        let d = c.dump(false);
        let want = "EffectiveCapabilities=cap_chown cap_dac_override cap_dac_read_search \n        cap_fowner cap_fsetid\n";
        assert!(d.ends_with(want), "{d:?}");
    }
}

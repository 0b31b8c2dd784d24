//! A unit's processes and CPU use, read from `/proc` and the unit's cgroup (`ControlGroup`),
//! for a top-like view (`unit_top`), and whether its CPU quota is enforced at all.
//!
//! Why from the kernel rather than systemd's `CPUUsageNSec`: systemd reports CPU usage only
//! where it runs the cpu accounting controller (not on a hybrid hierarchy whose `cpu` and
//! `cpuacct` are mounted apart, as in the sandbox), and it has no per-process numbers. The
//! kernel has both. Whether `CPUQuota=` is enforced is the cgroup's own `cpu.max` (v2) or
//! `cpu.cfs_quota_us` (v1): when the unit has no cpu controller (cgroup v1 mounted read-only,
//! a container without delegation), systemd accepts the quota and nothing enforces it, and a
//! view must say so.

use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";

/// One process of a unit, as sampled.
#[derive(Clone, Debug, PartialEq)]
pub struct Proc {
    pub pid: u32,
    pub user: String,
    /// The command line (or `[comm]` when it has none).
    pub command: String,
    /// CPU time used so far (user + system), in clock ticks.
    pub ticks: u64,
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map_or(100, |t| t as u64)
}

/// Where the cgroup `cg` (a unit's `ControlGroup`) lists its processes: the unified
/// hierarchy, or systemd's named one on a v1/hybrid system.
fn procs_dir(cg: &str) -> Option<PathBuf> {
    let rel = cg.trim_start_matches('/');
    let candidates = [
        Path::new(ROOT).join(rel),
        Path::new(ROOT).join("unified").join(rel),
        Path::new(ROOT).join("systemd").join(rel),
    ];
    candidates
        .into_iter()
        .find(|d| d.join("cgroup.procs").is_file())
}

/// The PIDs in cgroup `cg` and below it.
pub fn pids(cg: &str) -> Vec<u32> {
    let Some(dir) = procs_dir(cg) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut todo = vec![dir];
    while let Some(d) = todo.pop() {
        if let Ok(text) = std::fs::read_to_string(d.join("cgroup.procs")) {
            out.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(e.path());
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `utime + stime` and `comm` from `/proc/PID/stat` text.
fn parse_stat(text: &str) -> Option<(u64, String)> {
    // The command is in parentheses and may itself hold ") ".
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    // After the command: state(0) ppid(1) ... utime(11) stime(12).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime, comm))
}

/// One process, now (`None` if it is gone).
pub fn process(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (ticks, comm) = parse_stat(&stat)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|u| u.parse::<u32>().ok());
    let user = uid.map_or_else(
        || "?".to_string(),
        |u| {
            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(u))
                .ok()
                .flatten()
                .map_or_else(|| u.to_string(), |x| x.name)
        },
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let command = if cmdline.is_empty() {
        format!("[{comm}]")
    } else {
        cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    Some(Proc {
        pid,
        user,
        command,
        ticks,
    })
}

/// The CPU time cgroup `cg` has used, in µs (`None` where the kernel does not count it for
/// this cgroup).
pub fn usage_usec(cg: &str) -> Option<u64> {
    let rel = cg.trim_start_matches('/');
    // cgroup v2: cpu.stat's usage_usec.
    for base in [
        Path::new(ROOT).to_path_buf(),
        Path::new(ROOT).join("unified"),
    ] {
        if let Ok(text) = std::fs::read_to_string(base.join(rel).join("cpu.stat"))
            && let Some(v) = text
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|v| v.trim().parse().ok())
        {
            return Some(v);
        }
    }
    // cgroup v1: cpuacct.usage, in ns.
    for dir in ["cpuacct", "cpu,cpuacct"] {
        if let Ok(text) =
            std::fs::read_to_string(Path::new(ROOT).join(dir).join(rel).join("cpuacct.usage"))
            && let Ok(ns) = text.trim().parse::<u64>()
        {
            return Some(ns / 1000);
        }
    }
    None
}

/// Is a CPU quota enforced on a cgroup, as the kernel has it?
#[derive(Clone, Debug, PartialEq)]
pub enum Quota {
    /// `quota_us` of CPU time per `period_us`.
    Enforced { quota_us: u64, period_us: u64 },
    /// The cpu controller is there, with no limit.
    Unlimited,
    /// No cpu controller for this cgroup: a `CPUQuota=` is not enforced.
    NoController,
}

impl Quota {
    /// The limit as a percentage of one CPU.
    pub fn percent(&self) -> Option<f64> {
        match self {
            Quota::Enforced {
                quota_us,
                period_us,
            } if *period_us > 0 => Some(*quota_us as f64 * 100.0 / *period_us as f64),
            _ => None,
        }
    }

    /// Where it was read, for people.
    pub fn describe(&self) -> String {
        match self {
            Quota::Enforced {
                quota_us,
                period_us,
            } => format!("enforced by the kernel: {quota_us}µs per {period_us}µs"),
            Quota::Unlimited => "no limit in the cgroup".into(),
            Quota::NoController => {
                "NOT enforced: this cgroup has no cpu controller (systemd accepted the quota, \
                 nothing applies it)"
                    .into()
            }
        }
    }
}

fn parse_cpu_max(text: &str) -> Option<Quota> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(100_000);
    if quota == "max" {
        return Some(Quota::Unlimited);
    }
    Some(Quota::Enforced {
        quota_us: quota.parse().ok()?,
        period_us: period,
    })
}

/// The quota the kernel applies to cgroup `cg`.
pub fn quota(cg: &str) -> Quota {
    let rel = cg.trim_start_matches('/');
    for base in [
        Path::new(ROOT).to_path_buf(),
        Path::new(ROOT).join("unified"),
    ] {
        if let Ok(text) = std::fs::read_to_string(base.join(rel).join("cpu.max"))
            && let Some(q) = parse_cpu_max(&text)
        {
            return q;
        }
    }
    for dir in ["cpu", "cpu,cpuacct"] {
        let d = Path::new(ROOT).join(dir).join(rel);
        let quota = std::fs::read_to_string(d.join("cpu.cfs_quota_us"))
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok());
        let period = std::fs::read_to_string(d.join("cpu.cfs_period_us"))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok());
        match (quota, period) {
            (Some(q), Some(p)) if q > 0 => {
                return Quota::Enforced {
                    quota_us: q as u64,
                    period_us: p,
                };
            }
            (Some(_), Some(_)) => return Quota::Unlimited,
            _ => {}
        }
    }
    Quota::NoController
}

/// How many scheduling periods the cgroup was throttled in (the quota at work), if counted.
pub fn throttled(cg: &str) -> Option<u64> {
    let rel = cg.trim_start_matches('/');
    let files = [
        Path::new(ROOT).join(rel).join("cpu.stat"),
        Path::new(ROOT).join("unified").join(rel).join("cpu.stat"),
        Path::new(ROOT).join("cpu").join(rel).join("cpu.stat"),
        Path::new(ROOT)
            .join("cpu,cpuacct")
            .join(rel)
            .join("cpu.stat"),
    ];
    files.iter().find_map(|f| {
        std::fs::read_to_string(f).ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("nr_throttled "))
                .and_then(|v| v.trim().parse().ok())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_cpu_time_and_command() {
        let line = "4242 (rustemd-shell) R 1 4242 4242 0 -1 4194560 500 0 0 0 150 25 0 0 20 0 1 0 \
                    1234 0 0";
        assert_eq!(parse_stat(line), Some((175, "rustemd-shell".into())));
        let odd = "7 (a) b) S 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0";
        assert_eq!(parse_stat(odd), Some((7, "a) b".into())));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn quotas_read_as_the_kernel_writes_them() {
        assert_eq!(
            parse_cpu_max("10000 100000\n"),
            Some(Quota::Enforced {
                quota_us: 10000,
                period_us: 100000
            })
        );
        assert_eq!(parse_cpu_max("max 100000"), Some(Quota::Unlimited));
        assert_eq!(
            Quota::Enforced {
                quota_us: 25000,
                period_us: 100000
            }
            .percent(),
            Some(25.0)
        );
        assert!(quota("/no/such/cgroup.service") == Quota::NoController);
    }

    #[test]
    fn our_own_process_is_readable() {
        let me = process(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(!me.command.is_empty());
        assert!(ticks_per_second() > 0);
    }
}

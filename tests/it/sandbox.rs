//! Tests of `scripts/sandbox` and its fixture, against the real systemd inside.
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::sandbox::{Sandbox, script};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `org.freedesktop.systemd1.Manager.Version`, read over the bus at `address` with zbus.
async fn manager_version(address: &str) -> String {
    let conn = tokio::time::timeout(
        Duration::from_secs(30),
        zbus::connection::Builder::address(address).build(),
    )
    .await
    .unwrap_or_else(|_| panic!("connecting to {address} timed out"))
    .unwrap_or_else(|e| panic!("connecting to {address}: {e}"));
    let props = zbus::fdo::PropertiesProxy::builder(&conn)
        .destination("org.freedesktop.systemd1")
        .path("/org/freedesktop/systemd1")
        .build()
        .await
        .expect("PropertiesProxy");
    let iface = zbus::names::InterfaceName::try_from("org.freedesktop.systemd1.Manager").unwrap();
    let v = tokio::time::timeout(Duration::from_secs(30), props.get(iface, "Version"))
        .await
        .expect("Properties.Get timed out")
        .expect("Properties.Get(Manager, Version)");
    String::try_from(v).expect("Version is a string")
}

/// Poll `f` until it returns true, at most `limit`.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn shared_sandbox_boots_and_is_running() {
    let sb = Sandbox::shared();
    let state = stdout(&sb.exec(&["systemctl", "is-system-running"]));
    assert!(
        state == "running" || state == "degraded",
        "is-system-running says {state:?}"
    );
    // PID 1 inside is systemd, and it is the host PID the fixture reports.
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", sb.pid1())).unwrap();
    assert_eq!(comm.trim(), "systemd");
    assert_eq!(sb.exec_ok(&["cat", "/proc/1/comm"]).trim(), "systemd");
    // The workshop's unit is there and running.
    assert_eq!(
        stdout(&sb.exec(&["systemctl", "is-active", "myfirstservice.service"])),
        "active"
    );
}

#[test]
fn exec_propagates_status_and_output() {
    let sb = Sandbox::shared();
    let out = sb.exec(&["sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stdout(&out), "out");
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "err");
    // The project dir is bound at the same path (binaries built on the host run inside).
    let here = env!("CARGO_MANIFEST_DIR");
    assert_eq!(sb.exec_ok(&["pwd"]).trim(), here);
    assert!(
        sb.exec(&["test", "-f", &format!("{here}/Cargo.toml")])
            .status
            .success()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zbus_reads_manager_version() {
    let sb = Sandbox::shared();
    let version = manager_version(sb.bus_address()).await;
    let inside = stdout(&sb.exec(&["systemctl", "--version"]));
    let first = inside
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        !version.is_empty() && version.starts_with(&first),
        "Version {version:?} vs systemctl --version {inside:?}"
    );
}

#[test]
fn transient_unit_runs_and_stops() {
    let sb = Sandbox::shared();
    let unit = "rt-transient-sleep.service";
    sb.exec_ok(&[
        "systemd-run",
        "--quiet",
        &format!("--unit={unit}"),
        "sleep",
        "infinity",
    ]);
    assert!(
        wait_for(Duration::from_secs(20), || stdout(&sb.exec(&[
            "systemctl",
            "is-active",
            unit
        ])) == "active"),
        "{unit} did not become active"
    );
    let pid = stdout(&sb.exec(&["systemctl", "show", "-P", "MainPID", unit]));
    assert_ne!(pid, "0");
    sb.exec_ok(&["systemctl", "stop", unit]);
    let state = stdout(&sb.exec(&["systemctl", "is-active", unit]));
    assert!(
        state == "inactive" || state == "unknown",
        "after stop: {state}"
    );
    assert!(
        !sb.exec(&["kill", "-0", &pid]).status.success(),
        "sleep {pid} survived the stop"
    );
}

/// Utime+stime of `pid` inside the sandbox, in clock ticks.
#[track_caller]
fn cpu_ticks(sb: &Sandbox, pid: &str) -> u64 {
    let stat = sb.exec_ok(&["cat", &format!("/proc/{pid}/stat")]);
    let after_comm = &stat[stat.rfind(')').expect("stat has (comm)") + 2..];
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat; after "(comm) " the state is field 3, index 0.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn cpu_quota_is_enforced() {
    let sb = Sandbox::shared();
    let unit = "rt-cpu-quota.service";
    sb.exec_ok(&[
        "systemd-run",
        "--quiet",
        &format!("--unit={unit}"),
        "-p",
        "CPUQuota=10%",
        "/bin/sh",
        "-c",
        "while :; do :; done",
    ]);
    let pid = stdout(&sb.exec(&["systemctl", "show", "-P", "MainPID", unit]));
    assert_ne!(pid, "0", "no MainPID for {unit}");
    std::thread::sleep(Duration::from_millis(500));
    let (c0, t0) = (cpu_ticks(sb, &pid), Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let (c1, t1) = (cpu_ticks(sb, &pid), Instant::now());
    sb.exec_ok(&["systemctl", "stop", unit]);
    let ticks = 100.0; // USER_HZ
    let share = (c1 - c0) as f64 / ticks / (t1 - t0).as_secs_f64();
    assert!(
        (0.03..=0.25).contains(&share),
        "busy loop under CPUQuota=10% used {:.1}% of a CPU",
        share * 100.0
    );
}

#[test]
fn memory_max_is_enforced() {
    let sb = Sandbox::shared();
    let unit = "rt-memory-max.service";
    let out = sb.exec(&[
        "timeout",
        "120",
        "systemd-run",
        "--quiet",
        "--wait",
        &format!("--unit={unit}"),
        "-p",
        "MemoryMax=10M",
        "-p",
        "MemorySwapMax=0",
        "/bin/sh",
        "-c",
        "head -c 100M /dev/zero | tail >/dev/null",
    ]);
    let result = stdout(&sb.exec(&["systemctl", "show", "-P", "Result", unit]));
    let _ = sb.exec(&["systemctl", "reset-failed", unit]);
    assert!(
        !out.status.success(),
        "a 100 MiB allocation under MemoryMax=10M succeeded (Result={result})"
    );
    assert!(
        result == "oom-kill" || result == "signal" || result == "exit-code",
        "unexpected Result={result:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sandboxes_at_once() {
    let a = Sandbox::shared();
    let b = Sandbox::boot(&format!("rt-{}-two", std::process::id()), false);
    assert_ne!(a.bus_address(), b.bus_address());
    assert_ne!(a.pid1(), b.pid1());
    let (va, vb) = (
        manager_version(a.bus_address()).await,
        manager_version(b.bus_address()).await,
    );
    assert!(!va.is_empty() && va == vb);
    let id_a = a.exec_ok(&["cat", "/etc/machine-id"]);
    let id_b = b.exec_ok(&["cat", "/etc/machine-id"]);
    assert_ne!(id_a, id_b, "both sandboxes have the same machine id");
    // A change in one is not seen in the other (nor on the host).
    b.exec_ok(&["touch", "/etc/rt-only-in-b"]);
    assert!(
        b.exec(&["test", "-e", "/etc/rt-only-in-b"])
            .status
            .success()
    );
    assert!(
        !a.exec(&["test", "-e", "/etc/rt-only-in-b"])
            .status
            .success()
    );
    assert!(!Path::new("/etc/rt-only-in-b").exists());
    let down = b.down();
    assert!(
        down.status.success(),
        "down: {}",
        String::from_utf8_lossy(&down.stderr)
    );
    // The shared one is unaffected.
    assert_eq!(manager_version(a.bus_address()).await, va);
}

#[test]
fn down_leaves_nothing_behind() {
    let name = format!("rt-{}-down", std::process::id());
    let sb = Sandbox::boot(&name, false);
    let (nspawn, pid1, state) = (sb.nspawn_pid(), sb.pid1(), sb.state_dir());
    // Something running inside, to be cleaned up too.
    sb.exec_ok(&[
        "systemd-run",
        "--quiet",
        "--unit=rt-leftover",
        "sleep",
        "infinity",
    ]);
    assert!(Path::new(&format!("/proc/{nspawn}")).exists());
    let out = sb.down();
    assert!(
        out.status.success(),
        "down: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    assert_gone(&name, &state, &[nspawn, pid1]);
}

/// Nothing of sandbox `name` is left: mounts, state dir, processes, nspawn, cgroups.
#[track_caller]
fn assert_gone(name: &str, state: &Path, pids: &[u32]) {
    let state_s = state.to_string_lossy().into_owned();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mounts: Vec<&str> = mountinfo
        .lines()
        .filter(|l| l.contains(&state_s) || l.contains(&format!("rustemd-sandbox-{name} ")))
        .collect();
    assert!(mounts.is_empty(), "mounts left: {mounts:#?}");
    assert!(!state.exists(), "{} left", state.display());

    for &pid in pids {
        assert!(
            wait_for(Duration::from_secs(5), || !Path::new(&format!(
                "/proc/{pid}"
            ))
            .exists()),
            "process {pid} left"
        );
    }
    let needle = format!("-M {name} ");
    let mut left = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains("systemd-nspawn") && cmd.contains(&needle) {
                left.push(cmd);
            }
        }
    }
    assert!(left.is_empty(), "nspawn left: {left:?}");

    let cg = Command::new("find")
        .args([
            "/sys/fs/cgroup",
            "-type",
            "d",
            "-path",
            &format!("*/rustemd-sandbox/{name}*"),
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&cg), "", "cgroups left");
    let propagate = format!("/run/systemd/nspawn/propagate/{name}");
    assert!(!Path::new(&propagate).exists(), "{propagate} left");
}

#[test]
fn sandbox_timeouts_are_numbers_not_code() {
    // Regression: timeout variables were bash arithmetic, so this ran `touch`.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    for var in ["SANDBOX_BOOT_TIMEOUT", "SANDBOX_STOP_TIMEOUT"] {
        let out = Command::new(script())
            .args(["status", "nosuch"])
            .env(var, format!("PPID[$(touch {})]", marker.display()))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("must be a number of seconds"),
            "{out:?}"
        );
        assert!(!marker.exists(), "{var} was evaluated");
    }
}

#[test]
fn sandbox_lock_is_in_the_root_owned_state_dir() {
    use std::os::unix::fs::MetadataExt;
    Sandbox::shared();
    let base = Path::new("/run/rustemd-sandbox");
    let meta = std::fs::symlink_metadata(base).unwrap();
    assert!(meta.is_dir() && meta.uid() == 0, "{meta:?}");
    assert_eq!(meta.mode() & 0o022, 0, "state dir writable by others");
    let lock = std::fs::symlink_metadata(base.join(".lock")).unwrap();
    assert!(lock.is_file() && lock.uid() == 0);
    let text = std::fs::read_to_string(script()).unwrap();
    let decl = text.lines().find(|l| l.starts_with("LOCK=")).unwrap();
    assert_eq!(decl, "LOCK=$BASE/.lock", "the lock is in the state dir");
}

#[test]
fn interrupted_up_leaves_nothing_running() {
    // Regression: an `up` that failed half-way left the container running.
    let name = format!("rt-{}-int", std::process::id());
    let state = Path::new("/run/rustemd-sandbox").join(&name);
    let mut up = Command::new(script())
        .args(["up", &name])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(up.id() as i32);
    // Stop it as soon as nspawn is started, interrupt it, let it go on.
    assert!(
        wait_for(Duration::from_secs(30), || state
            .join("nspawn.pid")
            .exists()),
        "nspawn never started"
    );
    let nspawn: u32 = std::fs::read_to_string(state.join("nspawn.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    let status = up.wait().unwrap();
    assert!(!status.success(), "up was not interrupted: {status}");
    assert_gone(&name, &state, &[nspawn]);
}

#[test]
fn down_all_takes_only_this_checkouts_sandboxes() {
    let me = format!("/rt-{}-checkout-a", std::process::id());
    let other = format!("/rt-{}-checkout-b", std::process::id());
    let a = Sandbox::boot_as(&format!("rt-{}-a", std::process::id()), false, Some(&me));
    let b = Sandbox::boot_as(&format!("rt-{}-b", std::process::id()), false, Some(&other));
    let out = Command::new(script())
        .args(["down", "--all"])
        .env("SANDBOX_CHECKOUT", &me)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        !a.state_dir().exists(),
        "this checkout's sandbox is still up"
    );
    assert!(
        b.state_dir().exists(),
        "another checkout's sandbox was taken down"
    );
    // The shared sandbox of this run belongs to another (the real) checkout: untouched.
    assert_eq!(
        Command::new(script())
            .args(["status", Sandbox::shared().name()])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    drop(b);
}

#[test]
fn exec_has_no_more_capabilities_than_the_containers_pid1() {
    let sb = Sandbox::shared();
    let caps = |status: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapBnd:"))
            .unwrap()
            .trim()
            .to_string()
    };
    let pid1 = std::fs::read_to_string(format!("/proc/{}/status", sb.pid1())).unwrap();
    let inside = sb.exec_ok(&["cat", "/proc/self/status"]);
    assert_eq!(caps(&inside), caps(&pid1));
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_ne!(caps(&inside), caps(&host), "the host's full set leaked in");
}

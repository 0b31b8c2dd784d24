//! The workshop's "Futures with pystemd.future" section on real systemd (the shared
//! sandbox): our own functions run by workers — this binary re-executed as a transient unit's
//! ExecStart — with the unit's user and CPU quota, results and exceptions brought back with
//! their types, pools of workers under one quota, processes, Ctrl-C, and nothing left behind.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemons::sandboxed;
use crate::pty::CTRL_C;
use crate::support::sandbox::Sandbox;

/// Tests that look for a `rustemd-future-…` worker in /proc, and those that make such
/// workers, run one at a time (one test's worker must not be taken for another's).
static WORKERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn workers_lock() -> std::sync::MutexGuard<'static, ()> {
    WORKERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Clock ticks per second, as `/proc/PID/stat` counts CPU time.
fn clk_tck() -> f64 {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK")
}

/// (utime + stime, uid) of a process, from the host's /proc.
fn cpu_and_uid(pid: u32) -> Option<(u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((ticks, uid))
}

/// A worker of a unit named `rustemd-future-…` in our sandbox: (host pid, unit name).
fn find_worker(sandbox: &str) -> Option<(u32, String)> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !args
            .windows(2)
            .any(|w| w[0] == "__worker" && w[1] == "child")
        {
            continue;
        }
        let Ok(cg) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            continue;
        };
        if !cg.contains(&format!("rustemd-sandbox/{sandbox}/")) {
            continue;
        }
        if let Some(unit) = cg
            .lines()
            .flat_map(|l| l.split('/'))
            .find(|c| c.starts_with("rustemd-future-") && c.ends_with(".service"))
        {
            return Some((pid, unit.to_string()));
        }
    }
    None
}

#[test]
fn futures_run_cpu_waste_returns_uint64_max_from_a_worker_as_nobody_at_about_ten_percent() {
    let _l = workers_lock();
    let sb = Sandbox::shared();
    // The shell in the background; we watch its worker from here (the host's /proc).
    let runner = std::thread::spawn(|| {
        sandboxed()
            .args(&[
                "-c",
                r#"r = pystemd.futures.run(cpu_waste, {"CPUQuota": 0.1, "User": "nobody"}, 4)
print(r, type(r))"#,
            ])
            .run()
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let (pid, unit) = loop {
        if let Some(w) = find_worker(sb.name()) {
            break w;
        }
        assert!(
            Instant::now() < deadline,
            "no worker of a rustemd-future unit appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (t0, uid) = cpu_and_uid(pid).expect("the worker's /proc");
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let (t1, _) = cpu_and_uid(pid).expect("the worker runs for 4 s");
    let secs = start.elapsed().as_secs_f64();
    let pct = (t1 - t0) as f64 / clk_tck() / secs * 100.0;
    // nobody is 65534 in the sandbox (the host's passwd).
    assert_eq!(uid, 65534, "the worker runs as nobody");
    // A bound, not a timing: it used CPU, and no more than the quota allows (10%), with room
    // for the scheduler's rounding.
    assert!(
        pct > 0.5 && pct < 20.0,
        "the worker used {pct:.1}% of one CPU under CPUQuota=10%"
    );
    let r = runner.join().expect("the shell's thread");
    r.success().stdout_is("18446744073709551615 uint64\n");
    // The unit is gone afterwards.
    let show = sb.exec_ok(&["systemctl", "show", "-p", "LoadState", "--value", &unit]);
    assert_eq!(show.trim(), "not-found", "{unit} is still loaded");
}

#[test]
fn the_pool_runs_six_jobs_on_n_workers_under_one_quota() {
    let r = sandboxed()
        .args(&[
            "-c",
            r#"def job(t):
    cpu_waste(t)
    return (os.getpid(), os.getuid())

with pystemd.futures.TransientUnitPoolExecutor(properties={"CPUQuota": 0.2, "User": "nobody"}, max_workers=2) as pool:
    name = pool.unit.Id
    futures = [pool.submit(job, 0.3) for i in range(6)]
    print("pending", all(type(f) == "Future" for f in futures))
    unit_top(pool.unit, until=futures)
    results = [f.result() for f in futures]
    print("done", all(f.done() for f in futures))
print("results", len(results), sorted(set(uid for pid, uid in results)), len(set(pid for pid, uid in results)))
print(pool)
try:
    manager().Manager.GetUnit(name)
    print("still loaded", name)
except NoSuchUnit:
    print("gone")
"#,
        ])
        .run();
    r.success()
        .stdout_has("pending True\n")
        .stdout_has("done True\n")
        // 6 jobs, as nobody, on exactly the 2 workers allowed.
        .stdout_has("results 6 [65534] 2\n")
        .stdout_has("0 queued, 0 running, 6 done, shut down>")
        .stdout_has("gone\n");
    // The view: one supervisor and two workers, all nobody, under one enforced quota.
    let top = r
        .stdout
        .lines()
        .find(|l| l.starts_with("unit_top: rustemd-pool-"))
        .unwrap_or_else(|| panic!("no unit_top summary:\n{}", r.stdout));
    assert!(top.contains("ran 3 processes as nobody"), "{top}");
    assert!(
        top.contains("CPUQuota=20% (enforced by the kernel: 20000µs per 100000µs)"),
        "{top}"
    );
}

#[test]
fn worker_exceptions_come_back_as_exceptions_and_values_keep_their_types() {
    let _l = workers_lock();
    let r = sandboxed()
        .args(&[
            "-c",
            r#"def lookup(d, k):
    return d[k]

try:
    pystemd.futures.run(lookup, {}, {"a": 1}, "b")
except KeyError as e:
    print("KeyError", e)
try:
    pystemd.futures.run(lambda: manager().Manager.GetUnit("nosuch.service"), {"User": "nobody"})
except NoSuchUnit as e:
    print("NoSuchUnit", e.message)
scale = 3
def uses_a_global(x):
    return helper(x) * scale
def helper(x):
    return [x, ObjectPath("/a"), b"b", (uint32(1), 2.5), {"k": None}, {1, 2}]
print(pystemd.futures.run(uses_a_global, {}, 7))
print(pystemd.futures.run(future_cpucap_pool.run, {}, 0.1))
try:
    pystemd.futures.run(print, {}, sys.stdout)
except TypeError as e:
    print("TypeError", e)
try:
    pystemd.futures.run(print, {"ExecStart": "/bin/true"})
except ValueError as e:
    print("ValueError", e)
try:
    pystemd.futures.run(print, {"User": "no-such-user-here"})
except Exception as e:
    print("Exception", e)
p = pystemd.futures.TransientUnitProcess(target=cpu_waste, args=(0.5,), properties={"User": "nobody"})
p.start()
print("process", p.is_alive(), type(p.pid), p.exitcode)
p.join()
print("joined", p.is_alive(), p.exitcode)
"#,
        ])
        .run();
    r.no_panic();
    r.stdout_has("KeyError 'b' (in lookup, <command line> line 2, column 14) (in a worker of rustemd-future-")
        .stdout_has("NoSuchUnit Unit nosuch.service not loaded.\n")
        // Lists times an int: the helper's list three times, types kept.
        .stdout_has(
            "[7, ObjectPath('/a'), 'b', (1, 2.5), {'k': None}, {1, 2}, 7, ObjectPath('/a'), 'b', (1, 2.5), {'k': None}, {1, 2}, 7, ObjectPath('/a'), 'b', (1, 2.5), {'k': None}, {1, 2}]\n",
        )
        .stdout_has("\n0.1\n")
        .stdout_has("TypeError a stream cannot be sent to a worker process")
        .stdout_has("ValueError pystemd.futures: ExecStart is set by the pool itself")
        .stdout_has("did not start (job result: failed")
        .stdout_has("the unit's User= does not exist")
        .stdout_has("process True int None\n")
        .stdout_has("joined False 0\n");
    // Nothing of ours stays loaded.
    let left = Sandbox::shared().exec_ok(&[
        "systemctl",
        "list-units",
        "--all",
        "--no-legend",
        "--plain",
        "rustemd-future-*",
    ]);
    assert!(
        !left.contains("failed"),
        "units left behind in failed state:\n{left}"
    );
}

#[test]
fn ctrl_c_stops_the_unit_of_a_running_future() {
    let _l = workers_lock();
    let mut p = crate::run_pty::shell();
    p.line(r#"pystemd.futures.run(cpu_waste, {"CPUQuota": 0.1, "User": "nobody"}, 600)"#);
    // Wait for the worker to run (its unit is there and active).
    let sb = Sandbox::shared();
    let deadline = Instant::now() + Duration::from_secs(30);
    let unit = loop {
        if let Some((_, u)) = find_worker(sb.name()) {
            break u;
        }
        assert!(Instant::now() < deadline, "no worker appeared");
        std::thread::sleep(Duration::from_millis(50));
    };
    p.send(CTRL_C);
    p.wait_until("KeyboardInterrupt", Duration::from_secs(30), |v| {
        v.text().contains("KeyboardInterrupt") && v.is_fresh_prompt()
    });
    let show = sb.exec_ok(&["systemctl", "show", "-p", "LoadState", "--value", &unit]);
    assert_eq!(show.trim(), "not-found", "{unit} was not stopped");
    // The shell goes on.
    p.line("1+1");
    p.expect_line("2");
    p.exit_with_ctrl_d();
}

//! Transient units on real systemd (the shared sandbox): `run(...)` / `pystemd.run(...)` with
//! every option checked for its effect inside the unit, the workshop's lines, typed property
//! lists for raw StartTransientUnit calls, failures that leave nothing behind, `status` and
//! `cat` against systemctl, and the Delegate sequence.

use crate::support::sandbox::{Sandbox, script};
use crate::support::shell::{Run, Shell};

/// The shell inside the shared sandbox, in a scope of its own.
fn shell() -> Shell {
    Sandbox::shared().shell()
}

#[track_caller]
fn run(src: &str) -> Run {
    let r = shell().input(src).run();
    r.no_panic();
    r
}

#[track_caller]
fn systemctl(args: &[&str]) -> String {
    let out = Sandbox::shared().tool("systemctl", args);
    assert!(out.status.success(), "systemctl {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of one property as `systemctl show` prints it.
#[track_caller]
fn show(unit: &str, prop: &str) -> String {
    systemctl(&["show", "-p", prop, "--value", unit])
        .trim_end()
        .to_string()
}

/// A shell line that runs `sh -c SCRIPT` in a unit with extra keyword arguments, its output on
/// our stdout, and waits.
fn sh(script: &str, kwargs: &str) -> String {
    format!(
        "run(['/bin/sh', '-c', {script:?}], stdout=sys.stdout, stderr=sys.stdout, wait=True{}{kwargs})\n",
        if kwargs.is_empty() { "" } else { ", " }
    )
}

#[test]
fn run_options_take_effect_inside_the_unit() {
    let sb = Sandbox::shared();
    sb.exec_ok(&[
        "sh",
        "-c",
        "echo from-a-file > /tmp/rustemd-stdin; echo host > /tmp/rustemd-host-marker",
    ]);
    // (what, line, text the unit prints)
    let rows: &[(&str, String, &str)] = &[
        (
            "name",
            sh("cat /proc/self/cgroup", "name='opt-name'"),
            "/system.slice/opt-name.service",
        ),
        ("user", sh("id -un", "user='nobody'"), "nobody\n"),
        ("nice", sh("nice", "nice=7"), "7\n"),
        ("cwd", sh("pwd", "cwd='/usr/share'"), "/usr/share\n"),
        (
            "env",
            "pystemd.run(['/usr/bin/env'], stdout=sys.stdout, wait=True, env={'FOO': 'bar'})\n"
                .into(),
            "FOO=bar\n",
        ),
        (
            "slice_",
            sh("cat /proc/self/cgroup", "slice_='rustemd-test.slice'"),
            "/rustemd-test.slice/",
        ),
        (
            "start_pre_cmd",
            sh(
                "cat /tmp/rustemd-pre",
                "start_pre_cmd=['/bin/sh', '-c', 'echo pre-ran > /tmp/rustemd-pre']",
            ),
            "pre-ran\n",
        ),
        (
            "private_tmp",
            sh("ls /tmp | grep -c rustemd-host-marker", "private_tmp=True"),
            "0\n",
        ),
        (
            "private_network",
            sh(
                "[ $(readlink /proc/self/ns/net) != $(readlink /proc/1/ns/net) ] && echo own-netns",
                "private_network=True",
            ),
            "own-netns\n",
        ),
        (
            "private_users",
            sh("cat /proc/self/uid_map | tr -s ' '", "private_users=True"),
            " 0 0 1\n",
        ),
        ("dynamic_user", sh("id -u", "dynamic_user=True"), "6"),
        (
            "stdin",
            "run(['/bin/cat'], stdin=open('/tmp/rustemd-stdin'), stdout=sys.stdout, wait=True)\n"
                .into(),
            "from-a-file\n",
        ),
        (
            "stdout to a file",
            "f = open('/tmp/rustemd-out', 'w')\nrun(['/bin/echo', 'to-the-file'], stdout=f, wait=True)\n!cat /tmp/rustemd-out\n".into(),
            "to-the-file\n",
        ),
        (
            "stderr",
            "run(['/bin/sh', '-c', 'echo on-stderr >&2'], stderr=sys.stdout, wait=True)\n".into(),
            "on-stderr\n",
        ),
        (
            "extra dict",
            sh(
                "cat /sys/fs/cgroup/cpu/system.slice/opt-extra.service/cpu.cfs_quota_us /sys/fs/cgroup/memory/system.slice/opt-extra.service/memory.limit_in_bytes",
                "name='opt-extra', extra={'CPUQuota': 0.1, 'MemoryMax': '10M'}",
            ),
            "10000\n10485760\n",
        ),
        (
            "extra Key=Value",
            sh(
                "cat /sys/fs/cgroup/cpu/system.slice/opt-kv.service/cpu.cfs_quota_us /sys/fs/cgroup/memory/system.slice/opt-kv.service/memory.limit_in_bytes",
                "name='opt-kv', extra=['CPUQuota=20%', 'MemoryMax=20M']",
            ),
            "20000\n20971520\n",
        ),
        (
            "extra exec list and env dict",
            "run('/usr/bin/env', stdout=sys.stdout, wait=True, extra={'Environment': {'A': '1'}, 'ExecStartPost': '/bin/true'})\n".into(),
            "A=1\n",
        ),
        (
            "a string command is split like a shell",
            "run(\"/bin/sh -c 'echo split ok'\", stdout=sys.stdout, wait=True)\n".into(),
            "split ok\n",
        ),
        (
            "address",
            sh("echo via-address", "address='unix:path=/run/dbus/system_bus_socket'"),
            "via-address\n",
        ),
    ];
    for (what, line, want) in rows {
        let r = run(&format!("import sys\n{line}"));
        assert!(
            r.code == Some(0) && r.stdout.contains(want),
            "{what}: {line}\nwant {want:?} in stdout\n{r:#?}"
        );
    }
}

#[test]
fn run_lifecycle_options() {
    // wait: returns once the main process has exited; raise_on_fail names result and status.
    let r = run(
        "u = run(['/bin/sh', '-c', 'sleep 0.5; exit 3'], wait=True, raise_on_fail=True, name='opt-fail')\nprint('after')\n",
    );
    r.failure()
        .stderr_has("opt-fail.service failed: exit-code (status 3)")
        .stdout_has("after\n");
    // Without wait, run returns after the start job: MainPID is already there.
    let r = run(
        "u = run(['/bin/sleep', '30'])\nprint(u.Service.MainPID > 0, u.ActiveState)\nu.Stop('replace')\n",
    );
    r.success().stdout_has("True active\n");
    // wait_for_activation=False: back before the (slow) start job is done.
    let r = run(
        "u = run(['/bin/sleep', '30'], wait_for_activation=False, start_pre_cmd=['/bin/sleep', '3'])\nprint(u.ActiveState)\nstop u\n",
    );
    r.success().stdout_has("activating\n");
    // remain_after_exit: active (exited) after the process is gone.
    let r = run(
        "u = run(['/bin/true'], remain_after_exit=True, wait=True)\nprint(u.ActiveState, u.SubState)\nclean u\n",
    );
    r.success().stdout_has("active exited\n");
    // collect: a failed unit is unloaded at once; without it, it stays failed.
    let r = run(
        "u = run(['/bin/false'], collect=True, wait=True)\nprint(u.LoadState)\nv = run(['/bin/false'], wait=True)\nprint(v.ActiveState)\nclean v\n",
    );
    r.success().stdout_has("not-found\nfailed\n");
    // runtime_max_sec: killed after one second.
    let r = run("run(['/bin/sleep', '30'], runtime_max_sec=1, wait=True, raise_on_fail=True)\n");
    r.failure().stderr_has("failed: timeout");
    // service_type: a oneshot's start job waits for it to finish.
    let r = run(
        "u = run(['/bin/sh', '-c', 'sleep 1; echo done > /tmp/rustemd-oneshot'], service_type='oneshot', remain_after_exit=True)\n!cat /tmp/rustemd-oneshot\nprint(u.Service.Type)\nclean u\n",
    );
    r.success().stdout_has("done\noneshot\n");
    // stop_cmd and stop_post_cmd run when the unit stops.
    let r = run(
        "u = run(['/bin/sleep', '30'], stop_cmd=['/bin/sh', '-c', 'echo stop >> /tmp/rustemd-stop'], stop_post_cmd=['/bin/sh', '-c', 'echo post >> /tmp/rustemd-stop'], start_post_cmd=['/bin/sh', '-c', 'echo start-post > /tmp/rustemd-stop'])\nstop u\n!cat /tmp/rustemd-stop\n",
    );
    r.success().stdout_has("start-post\nstop\npost\n");
}

#[test]
fn workshop_transient_lines_give_the_workshop_answers() {
    // The start job is done once systemd has forked the main process; it is named "(sleep)"
    // until it executes the command. A person typing is slower than that; the test waits.
    let r = run(r#"import pystemd.run
pystemd.run(["/usr/bin/sleep", "infinity"])
unit = _
unit.Service.MainPID > 0
import time
while any(c.startswith('"(') for p, i, c in unit.Service.GetProcesses()): time.sleep(0.02)
procs = unit.Service.GetProcesses()
procs[0][2]
procs[0][0] == '/system.slice/' + unit.Unit.Id
unit.Unit.Id
"#);
    r.success();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("<unit rustemd"), "{}", r.stdout);
    assert_eq!(lines[1..4], ["True", "'/usr/bin/sleep infinity'", "True"]);
    let id = lines[4].trim_matches('\'');
    assert!(
        id.starts_with("rustemd") && id.ends_with(".service") && id.len() == 7 + 32 + 8,
        "{id}"
    );
    // systemctl status / cat of it show what the workshop shows.
    let st = systemctl(&["status", "--no-pager", id]);
    assert!(st.contains(&format!("{id} - rustemd: {id}")), "{st}");
    assert!(st.contains("Transient: yes"), "{st}");
    let cat = systemctl(&["cat", "--no-pager", id]);
    assert_eq!(
        cat,
        format!(
            "# /run/systemd/transient/{id}\n\
             # This is a transient unit file, created programmatically via the systemd API. Do not edit.\n\
             [Unit]\nDescription=rustemd: {id}\n\n[Service]\nExecStart=\nExecStart=\"/usr/bin/sleep\" \"infinity\"\nRemainAfterExit=no\n"
        )
    );
    // Stop it the pystemd way.
    let r = run(&format!(
        "unit = pystemd.systemd1.Unit('{id}')\nunit.Stop(b\"replace\").startswith('/org/freedesktop/systemd1/job/')\n"
    ));
    r.success().stdout_is("True\n");
}

#[test]
fn status_fields_match_systemctl_show() {
    let r = run(
        "u = run(['/usr/bin/sleep', 'infinity'], name='status-cmp', extra={'MemoryMax': '10M', 'TasksMax': 50})\nstatus status-cmp\n",
    );
    r.success();
    let out = &r.stdout;
    let unit = "status-cmp.service";
    let field = |label: &str| -> String {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(&format!("{label}: ")))
            .unwrap_or_else(|| panic!("no {label} in\n{out}"))
            .to_string()
    };
    assert!(
        out.starts_with(&format!("● {unit} - {}\n", show(unit, "Description"))),
        "{out}"
    );
    assert_eq!(
        field("Loaded"),
        format!(
            "{} ({}; transient)",
            show(unit, "LoadState"),
            show(unit, "FragmentPath")
        )
    );
    assert_eq!(field("Transient"), "yes");
    let active = field("Active");
    assert!(
        active.starts_with(&format!(
            "{} ({}) since {};",
            show(unit, "ActiveState"),
            show(unit, "SubState"),
            show(unit, "ActiveEnterTimestamp")
        )),
        "{active}"
    );
    let pid = show(unit, "MainPID");
    assert_eq!(field("Main PID"), format!("{pid} (sleep)"));
    assert_eq!(
        field("Tasks"),
        format!(
            "{} (limit: {})",
            show(unit, "TasksCurrent"),
            show(unit, "TasksMax")
        )
    );
    assert!(field("Memory").contains("(max: 10.0M"), "{out}");
    assert_eq!(field("CGroup"), show(unit, "ControlGroup"));
    assert!(
        out.contains(&format!("└─{pid} /usr/bin/sleep infinity\n")),
        "{out}"
    );
    // cat is systemctl cat, byte for byte.
    let r = run(&format!("cat {unit} myfirstservice.service\n"));
    r.success();
    let want = systemctl(&["cat", "--no-pager", unit, "myfirstservice.service"]);
    assert_eq!(r.stdout, want);
    // A PID names its unit; stop and clean leave nothing.
    let r = run(&format!(
        "status {pid}\nstop {unit}\nclean {unit}\nstatus {unit}\n"
    ));
    r.failure()
        .stdout_has(&format!("● {unit}"))
        .stderr_has(&format!("Unit {unit} could not be found."));
}

#[test]
fn properties_are_typed_by_introspection_and_refused_before_starting() {
    // The raw call with a dict, the aux argument left out, as pystemd allows.
    let r = run(
        r#"manager().Manager.StartTransientUnit("raw-dict.service", "fail", {"Description": "x", "ExecStart": [("/bin/sleep", ["/bin/sleep", "5"], False)], "CPUQuota": "10%", "RuntimeMaxSec": 60})
unit("raw-dict.service").Service.CPUQuotaPerSecUSec
unit("raw-dict.service").Service.RuntimeMaxUSec
stop raw-dict
"#,
    );
    r.success();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("ObjectPath('/org/freedesktop/systemd1/job/"),
        "{}",
        r.stdout
    );
    assert_eq!(lines[1..3], ["100000", "60000000"]);
    // Unknown and ill-typed properties: refused, closest names given, nothing started.
    let rows = [
        (
            "extra={'CPUQuote': 0.1}",
            "unknown unit property 'CPUQuote' (closest: CPUQuota",
        ),
        ("extra={'PrivateTemp': True}", "closest: PrivateTmp"),
        (
            "extra={'MemoryMax': 'lots'}",
            "MemoryMax: 'lots' is not a number, a size",
        ),
        ("extra=['Nice=high']", "Nice: 'high' is not a number"),
        ("nice='x'", "Nice: 'x' is not a number"),
    ];
    for (kw, want) in rows {
        let r = run(&format!(
            "run(['/bin/sleep', '30'], name='refused', {kw})\n"
        ));
        r.failure().stderr_has(want);
        assert_eq!(show("refused.service", "LoadState"), "not-found", "{kw}");
    }
    // A start job that fails leaves nothing running.
    let r = run("run(['/bin/sleep', '30'], name='half-way', start_pre_cmd=['/bin/false'])\n");
    r.failure()
        .stderr_has("Job for half-way.service failed")
        .stderr_has("nothing was left running");
    assert_eq!(show("half-way.service", "ActiveState"), "inactive");
}

#[test]
fn no_unit_for_pid_says_why_and_what_to_do() {
    // A plain `scripts/sandbox exec` shell belongs to no unit.
    let sb = Sandbox::shared();
    let out = sb.exec(&[
        crate::support::shell::BIN,
        "-c",
        "manager().Manager.GetUnitByPID(pid())",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("belongs to no unit"), "{err}");
    assert!(err.contains("scripts/workshop"), "{err}");
}

#[test]
fn delegate_sequence_ends_the_attached_shell() {
    let sb = Sandbox::shared();
    sb.exec_ok(&[
        "sh",
        "-c",
        "printf '[Service]\\nExecStart=/bin/sleep infinity\\n' > /etc/systemd/system/deltest.service \
         && systemctl daemon-reload && systemctl start deltest.service",
    ]);
    // Not `run`: the shell is meant to be killed. StopUnit returns its job
    // before the SIGTERM lands, so the shell waits for it rather than racing
    // a print against it (regression: CI once saw "still here").
    let r = shell()
        .input(
            r#"delegate("deltest.service")
import os
sdmanager = pystemd.systemd1.Manager(_autoload=True)
sdmanager.Manager.AttachProcessesToUnit("deltest.service", "/", [os.getpid()])
sdmanager.Manager.GetUnitByPID(os.getpid())
sdmanager.Manager.StopUnit("deltest.service", "replace")
import time
time.sleep(10)
print("still here")
"#,
        )
        .run();
    assert!(
        r.stdout
            .contains("wrote /etc/systemd/system/deltest.service.d/50-rustemd-delegate.conf"),
        "{r:#?}"
    );
    assert!(
        r.stdout
            .contains("ObjectPath('/org/freedesktop/systemd1/unit/deltest_2eservice')"),
        "{r:#?}"
    );
    assert!(
        !r.stdout.contains("still here"),
        "the shell survived: {r:#?}"
    );
    assert_ne!(r.code, Some(0), "{r:#?}");
    assert_eq!(show("deltest.service", "Delegate"), "yes");
    // Reversible: the drop-in goes, Delegate is off again.
    let r = run("delegate('deltest', False)\n");
    r.success()
        .stdout_has("removed /etc/systemd/system/deltest.service.d/50-rustemd-delegate.conf");
    assert_eq!(show("deltest.service", "Delegate"), "no");
    // At runtime: systemd 252 refuses Delegate on a running unit, and we say what to do...
    sb.exec_ok(&["systemctl", "start", "deltest.service"]);
    let r = run("delegate('deltest', runtime=True)\n");
    r.failure()
        .stderr_has("systemd refused Delegate=yes on deltest.service at runtime")
        .stderr_has("writes a drop-in instead");
    // ... while the properties it does allow are set, typed by introspection.
    let r = run(
        "unit('deltest.service').SetProperties(True, {'MemoryMax': '20M'})\n\
                 manager().Manager.SetUnitProperties('deltest.service', True, ['TasksMax=77'])\n",
    );
    r.success();
    assert_eq!(show("deltest.service", "MemoryMax"), "20971520");
    assert_eq!(show("deltest.service", "TasksMax"), "77");
    sb.exec_ok(&[
        "sh",
        "-c",
        "systemctl stop deltest.service; rm -rf /etc/systemd/system/deltest.service* /run/systemd/system.control/deltest.service.d; systemctl daemon-reload",
    ]);
}

#[test]
fn user_mode_runs_in_the_user_manager() {
    let sb = Sandbox::shared();
    sb.exec_ok(&["systemctl", "start", "user@0.service"]);
    let wrap = [
        script().to_string_lossy().into_owned(),
        "exec".into(),
        sb.name().into(),
        "--".into(),
        "env".into(),
        "XDG_RUNTIME_DIR=/run/user/0".into(),
    ];
    let w: Vec<&str> = wrap.iter().map(String::as_str).collect();
    let r = Shell::new()
        .wrapped(&w)
        .input(&sh("head -1 /proc/self/cgroup", "user_mode=True"))
        .run();
    r.success()
        .stdout_has("/user.slice/user-0.slice/user@0.service/app.slice/rustemd");
}

#[test]
fn workshop_stress_under_cpu_quota_gets_a_tenth_of_a_cpu() {
    crate::support::tools::require("/usr/bin/stress", "stress");
    // The workshop's line, then the CPU time of the unit's processes over 3 s, from /proc.
    // (Measured from a second unit, which gets the first one's name as $0.)
    let measure = "sleep 1; P=$(cat /sys/fs/cgroup/systemd/system.slice/$0/cgroup.procs); t() { s=0; for p in $P; do set -- $(cut -d' ' -f14,15 /proc/$p/stat); s=$((s+$1+$2)); done; echo $s; }; a=$(t); sleep 3; b=$(t); echo PCT=$(( (b-a)*100/(3*$(getconf CLK_TCK)) ))";
    let r = run(&format!(
        "unit = pystemd.run(\"/usr/bin/stress --cpu 2\", extra={{\"CPUQuota\": 0.1}})\n\
         run(['/bin/sh', '-c', {measure:?}, unit.Unit.Id], stdout=sys.stdout, wait=True)\n\
         unit.Stop(b\"replace\")\n"
    ));
    r.success();
    let pct: u32 = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("PCT="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no PCT= line: {r:#?}"));
    assert!(
        (2..=20).contains(&pct),
        "stress --cpu 2 under CPUQuota=10% used {pct}% of a CPU"
    );
}

/// Regression: a run refused because its name is taken must not stop the unit of that name.
#[test]
fn a_refused_start_leaves_the_existing_unit_alone() {
    let r = run(
        "a = run(['/bin/sleep', '60'], name='dup')\nb = run(['/bin/sleep', '60'], name='dup')\n",
    );
    r.failure()
        .stderr_has("Failed to start transient unit dup.service")
        .stderr_has("already");
    assert_eq!(show("dup.service", "ActiveState"), "active");
    run("stop dup\n").success();
}

#[test]
fn clean_without_units_stops_what_this_shell_started() {
    let r = run(
        "run(['/bin/sleep', '60'], name='cl1')\nrun(['/bin/sleep', '60'], name='cl2')\nclean\n",
    );
    r.success()
        .stdout_has("stopped and reset: cl1.service, cl2.service\n");
    for u in ["cl1.service", "cl2.service"] {
        assert_eq!(show(u, "ActiveState"), "inactive", "{u}");
    }
}

#[test]
fn restart_and_the_systemctl_passthrough() {
    let r = run("u = run(['/bin/sleep', '60'], name='restart-me')\n\
                 a = u.Service.MainPID\n\
                 restart u\n\
                 print(u.Service.MainPID != a, u.ActiveState)\n\
                 systemctl show -p Id --value restart-me.service\n\
                 systemctl --no-pager is-active restart-me\n\
                 stop u\n");
    r.success()
        .stdout_has("True active\nrestart-me.service\nactive\n");
    let r = run("systemctl is-active no-such-unit-here.service\nprint('goes on')\n");
    r.failure()
        .stdout_has("inactive\ngoes on\n")
        .stderr_has("systemctl is-active no-such-unit-here.service exited with status 3");
}

//! The rest of busctl, compared with the real busctl on the same traffic: `monitor` (layout,
//! `--json`), `capture` (read back by tshark), `emit`, `status`, `--json`/`--verbose` of call
//! and get-property, list/tree/introspect options; watch and wait driven by signals; other
//! machines (`-M` into a sandbox from the host, `-H` over ssh to localhost, `machine=` and
//! `host=` objects); the issue-12 regressions of busctl's notation through the program.
//!
//! Monitors are compared on the same live traffic: both run at once, a start and an end
//! marker bracket the traffic, and the messages between the markers must be identical but
//! for the timestamps (other tests' traffic, if any, is seen by both alike).

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::dbus::{
    PrivateBus, busctl, busctl_command_at, run_with_timeout, stderr, stdout,
};
use crate::support::sandbox::Sandbox;
use crate::support::shell::{BIN, Run, Shell, squeeze};
use crate::support::testservice::{ECHO_IFACE, ECHO_NAME, ECHO_PATH, TEST_NAME};
use crate::support::tools;

const SD: &str = "org.freedesktop.systemd1";
const MANAGER: &str = "/org/freedesktop/systemd1";
const MANAGER_IFACE: &str = "org.freedesktop.systemd1.Manager";
const WAIT: Duration = Duration::from_secs(30);

fn token() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn ours_at(address: &str) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--address").arg(address).env("NO_COLOR", "1");
    c
}

/// A monitor (ours or busctl's) writing its output to a temporary file.
struct Monitor {
    child: Child,
    out: tempfile::NamedTempFile,
    who: &'static str,
}

impl Monitor {
    /// Start `cmd` and wait until it says it is monitoring.
    #[track_caller]
    fn start(mut cmd: Command, who: &'static str) -> Monitor {
        let out = tempfile::NamedTempFile::new().expect("temp file");
        let file = out.reopen().expect("reopen");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {who}'s monitor: {e}"));
        let mut err = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut b = [0u8; 256];
            let mut told = false;
            while let Ok(n) = err.read(&mut b) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&b[..n]);
                if !told
                    && String::from_utf8_lossy(&seen).contains("Monitoring bus message stream.")
                {
                    let _ = tx.send(String::new());
                    told = true;
                }
            }
            if !told {
                let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
            }
        });
        match rx.recv_timeout(WAIT) {
            Ok(e) if e.is_empty() => {}
            other => {
                let _ = child.kill();
                panic!("{who}'s monitor did not start: {other:?}");
            }
        }
        Monitor { child, out, who }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.out.path()).unwrap_or_default()
    }

    #[track_caller]
    fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "{}'s monitor never showed {needle:?}:\n{}",
                self.who,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ctrl-C, then what it printed.
    fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
        self.text()
    }
}

/// The messages of a dump from the first one mentioning `from` to the last one mentioning
/// `to`, timestamps masked.
#[track_caller]
fn between(dump: &str, from: &str, to: &str, sep: &str) -> Vec<String> {
    let msgs: Vec<String> = dump
        .split(sep)
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            let mut s = m.to_string();
            for key in ["Timestamp=\"", "\"timestamp-realtime\":"] {
                while let Some(i) = s.find(key) {
                    let start = i + key.len();
                    let end = s[start..].find(['"', ',']).map_or(s.len(), |e| start + e);
                    s.replace_range(i..end, "TS");
                }
            }
            s
        })
        .collect();
    let first = msgs.iter().position(|m| m.contains(from));
    let last = msgs.iter().rposition(|m| m.contains(to));
    match (first, last) {
        (Some(a), Some(b)) if a <= b => msgs[a..=b].to_vec(),
        _ => panic!("markers {from:?}..{to:?} not found in:\n{dump}"),
    }
}

/// Run `traffic` between two marker calls to the echo service while both monitors (same
/// arguments) watch the shared private bus; the bracketed messages must be identical.
#[track_caller]
fn same_monitor_output(args: &[&str], sep: &str, traffic: impl FnOnce(&str)) -> Vec<String> {
    let address = PrivateBus::shared().address().to_string();
    let mut cmd = busctl_command_at(&address, &["monitor"]);
    cmd.args(args);
    let theirs = Monitor::start(cmd, "busctl");
    let mut cmd = ours_at(&address);
    cmd.arg("monitor").args(args);
    let ours = Monitor::start(cmd, "rustemd-shell");
    let (start, end) = (token(), token());
    let mark = |t: &str| {
        let out = busctl(&["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", t]);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    mark(&start);
    traffic(&address);
    mark(&end);
    ours.wait_for(&end);
    theirs.wait_for(&end);
    // The reply to the end marker comes right after the call; wait for it too.
    let replies = |m: &Monitor| m.text().matches(&end).count() >= 2;
    let deadline = Instant::now() + WAIT;
    while !(replies(&ours) && replies(&theirs)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let ours = ours.stop();
    let theirs = theirs.stop();
    let a = between(&ours, &start, &end, sep);
    let b = between(&theirs, &start, &end, sep);
    assert_eq!(
        a.join(sep),
        b.join(sep),
        "monitor output differs (left: ours, right: busctl)"
    );
    a
}

/// Traffic with every kind of message and value: calls with nested and unusual values,
/// replies, an error, a signal, a call that wants no reply.
fn varied_traffic(address: &str) {
    let call = |words: &[&str]| {
        let mut a = vec!["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "--"];
        a.extend_from_slice(words);
        run_with_timeout(busctl_command_at(address, &a), WAIT)
    };
    call(&["a{sv}", "2", "k", "as", "2", "x", "y", "n", "v", "d", "0.5"]);
    call(&[
        "(yqnuixtdb)",
        "1",
        "2",
        "-3",
        "4",
        "-5",
        "6",
        "7",
        "1e-300",
        "true",
    ]);
    call(&["sog", "tab\there \"q\" ü", "/a/b", "a(sv)"]);
    call(&["aay", "2", "0", "3", "1", "2", "255"]);
    call(&["v", "v", "v", "s", "deep"]);
    let err = busctl_command_at(address, &["call", TEST_NAME, "/", "a.b.C", "NoSuchMethod"]);
    run_with_timeout(err, WAIT);
    run_with_timeout(
        busctl_command_at(
            address,
            &[
                "emit",
                "/org/rustemd/Flood",
                "org.rustemd.Flood",
                "Tick",
                "su",
                "x",
                "7",
            ],
        ),
        WAIT,
    );
    run_with_timeout(
        busctl_command_at(
            address,
            &[
                "call",
                "--expect-reply=no",
                ECHO_NAME,
                ECHO_PATH,
                ECHO_IFACE,
                "Echo",
                "s",
                "no reply",
            ],
        ),
        WAIT,
    );
}

#[test]
fn monitor_layout_matches_busctl_monitor_on_the_same_traffic() {
    let msgs = same_monitor_output(&[], "\n\n", varied_traffic);
    let all = msgs.join("\n\n");
    // The comparison covered every kind of message.
    for want in [
        "Type=method_call",
        "Type=method_return",
        "Type=error",
        "Type=signal",
        "ErrorName=",
        "DICT_ENTRY \"sv\"",
        "VARIANT \"v\"",
        "STRUCT \"yqnuixtdb\"",
        "DOUBLE 1e-300;",
        "ARRAY \"ay\"",
    ] {
        assert!(all.contains(want), "traffic lacked {want}:\n{all}");
    }
}

#[test]
fn monitor_of_a_service_matches_busctl() {
    same_monitor_output(&[ECHO_NAME], "\n\n", varied_traffic);
}

#[test]
fn monitor_json_matches_busctl() {
    let lines = same_monitor_output(&["--json=short"], "\n", varied_traffic);
    assert!(
        lines.iter().all(|l| l.starts_with("{\"type\":")),
        "{lines:?}"
    );
}

#[test]
fn monitor_match_narrows_a_service_instead_of_widening_it() {
    let address = PrivateBus::shared().address().to_string();
    let mut cmd = ours_at(&address);
    cmd.args([
        "monitor",
        "--short",
        ECHO_NAME,
        "--match=type='method_call'",
    ]);
    let ours = Monitor::start(cmd, "rustemd-shell");
    let t = token();
    varied_traffic(&address);
    busctl(&["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", &t]);
    ours.wait_for(&t);
    let out = ours.stop();
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty());
    for l in &lines {
        // Only calls, and only to or from the echo service.
        assert!(l.contains(" method_call "), "not a call: {l}\n{out}");
        assert!(l.contains(ECHO_NAME), "not the echo service: {l}\n{out}");
    }
}

#[test]
fn monitor_pair_shows_what_a_reply_answers() {
    let address = PrivateBus::shared().address().to_string();
    let mut cmd = ours_at(&address);
    cmd.args(["monitor", "--short", "--pair", ECHO_NAME]);
    let ours = Monitor::start(cmd, "rustemd-shell");
    let t = token();
    busctl(&["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", &t]);
    ours.wait_for(&format!("\"{t}\" (reply to {ECHO_IFACE}.Echo after "));
    let out = ours.stop();
    let reply = out
        .lines()
        .find(|l| l.contains(" method_return ") && l.contains(&t))
        .unwrap_or_else(|| panic!("no reply line:\n{out}"));
    assert!(reply.ends_with("ms)"), "{reply}");
}

#[test]
fn monitor_limit_and_timeout_end_it() {
    let address = PrivateBus::shared().address();
    let run = Shell::new()
        .address(address)
        .args(&["monitor", "--timeout=300ms", "--match=member='NeverSent'"])
        .run();
    run.success().stdout_is("");
    let mut cmd = ours_at(address);
    cmd.args(["monitor", "--limit-messages=1", ECHO_NAME]);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let deadline = Instant::now() + WAIT;
    let mut child = child;
    let status = loop {
        busctl(&["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", "one"]);
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "--limit-messages=1 never ended");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success());
    assert_eq!(out.matches("‣ Type=").count(), 1, "{out}");
}

#[test]
fn monitor_refuses_bad_service_names_and_rules_clearly() {
    let address = PrivateBus::shared().address();
    Shell::new()
        .address(address)
        .args(&["monitor", "not a name"])
        .run()
        .failure()
        .stderr_has("Invalid service name 'not a name'");
    Shell::new()
        .address(address)
        .args(&["monitor", "--match=this is no rule"])
        .run()
        .failure()
        .stderr_has("Call to org.freedesktop.DBus.Monitoring.BecomeMonitor failed:");
}

#[test]
fn monitor_reports_the_bus_going_away_like_busctl() {
    let bus = PrivateBus::start();
    let mut cmd = ours_at(bus.address());
    cmd.arg("monitor");
    let ours = Monitor::start(cmd, "rustemd-shell");
    bus.kill();
    ours.wait_for("Member=Disconnected");
    let out = ours.stop();
    let last = out.split("\n\n").filter(|m| !m.is_empty()).last().unwrap();
    let masked: String = last
        .lines()
        .map(|l| {
            if l.starts_with("  Monotonic=") {
                "  Monotonic=N  Realtime=N".to_string()
            } else {
                l.split("  Timestamp=").next().unwrap().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        masked,
        "‣ Type=signal  Endian=l  Flags=1  Version=1 Cookie=-1\n  Sender=org.freedesktop.DBus.Local  Path=/org/freedesktop/DBus/Local  Interface=org.freedesktop.DBus.Local  Member=Disconnected\n  Monotonic=N  Realtime=N\n  UniqueName=org.freedesktop.DBus.Local  WellKnownNames=org.freedesktop.DBus.Local\n  MESSAGE \"\" {\n  };"
    );
}

/// Both tools print the same stdout for `args` on the shared private bus.
#[track_caller]
fn same_stdout(args: &[&str]) -> String {
    let theirs = busctl(args);
    let ours = Shell::new()
        .address(PrivateBus::shared().address())
        .args(args)
        .run();
    ours.no_panic();
    assert_eq!(
        ours.stdout,
        stdout(&theirs),
        "stdout differs for {args:?} (left: ours); our stderr: {}; theirs: {}",
        ours.stderr,
        stderr(&theirs)
    );
    assert_eq!(ours.code == Some(0), theirs.status.success(), "{args:?}");
    ours.stdout
}

#[test]
fn json_and_verbose_call_and_get_property_match_busctl() {
    let values: &[&[&str]] = &[
        &["a{sv}", "2", "k", "as", "2", "x", "y", "n", "v", "d", "0.5"],
        &[
            "(yqnuixtdb)",
            "1",
            "2",
            "-3",
            "4",
            "-5",
            "6",
            "7",
            "1e-300",
            "false",
        ],
        &["sog", "tab\there \"q\" ü \u{1}", "/a/b", "a(sv)"],
        &["aayd", "2", "0", "3", "1", "2", "255", "-0.1"],
        &["vv", "v", "s", "deep", "d", "inf"],
        &["a{ss}a{sv}", "0", "1", "dup", "t", "18446744073709551615"],
        &["x", "-9223372036854775808"],
    ];
    for mode in ["--json=short", "--json=pretty", "--verbose", "-j"] {
        for v in values {
            let mut args = vec!["call", mode, ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "--"];
            args.extend_from_slice(v);
            same_stdout(&args);
        }
        for prop in ["Features", "Interfaces"] {
            same_stdout(&[
                "get-property",
                mode,
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                prop,
            ]);
        }
    }
    // JSON has no form for dictionaries with non-string keys: busctl prints nothing and fails.
    let (ours, theirs) = (
        Shell::new()
            .address(PrivateBus::shared().address())
            .args(&[
                "call",
                "--json=short",
                ECHO_NAME,
                ECHO_PATH,
                ECHO_IFACE,
                "Echo",
                "a{us}",
                "1",
                "7",
                "x",
            ])
            .run(),
        busctl(&[
            "call",
            "--json=short",
            ECHO_NAME,
            ECHO_PATH,
            ECHO_IFACE,
            "Echo",
            "a{us}",
            "1",
            "7",
            "x",
        ]),
    );
    assert_eq!(ours.stdout, stdout(&theirs));
    assert!(!theirs.status.success());
    ours.failure().stderr_has("JSON");
    // --expect-reply=no returns at once and prints nothing; --quiet prints nothing.
    same_stdout(&[
        "call",
        "--expect-reply=no",
        ECHO_NAME,
        ECHO_PATH,
        ECHO_IFACE,
        "Echo",
        "s",
        "x",
    ]);
    same_stdout(&[
        "call", "-q", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", "x",
    ]);
    same_stdout(&[
        "call",
        "--auto-start=no",
        "--allow-interactive-authorization=no",
        ECHO_NAME,
        ECHO_PATH,
        ECHO_IFACE,
        "Echo",
        "s",
        "x",
    ]);
    Shell::new()
        .address(PrivateBus::shared().address())
        .args(&[
            "call",
            "--expect-reply=maybe",
            ECHO_NAME,
            ECHO_PATH,
            ECHO_IFACE,
            "Echo",
        ])
        .run()
        .failure()
        .stderr_has("Failed to parse boolean argument to --expect-reply=: maybe.");
}

#[test]
fn xml_interface_and_tree_list_match_busctl() {
    same_stdout(&[
        "introspect",
        "--xml-interface",
        TEST_NAME,
        "/org/rustemd/Test",
    ]);
    same_stdout(&["introspect", "--xml-interface", ECHO_NAME, ECHO_PATH]);
    same_stdout(&["tree", "--list", TEST_NAME]);
    // busctl 252 prints the table whatever --json says.
    same_stdout(&[
        "introspect",
        "--json=short",
        TEST_NAME,
        "/org/rustemd/Test/child/a",
    ]);
    same_stdout(&["tree", "--list", TEST_NAME, ECHO_NAME]);
}

/// A dump line without its `Sender=…` field.
fn without_sender(l: &str) -> String {
    match l.find("Sender=") {
        Some(i) => {
            let end = l[i..].find("  ").map_or(l.len(), |e| i + e + 2);
            format!("{}{}", &l[..i], &l[end..])
        }
        None => l.to_string(),
    }
}

#[test]
fn emitted_signals_arrive_like_busctls() {
    let address = PrivateBus::shared().address().to_string();
    // Our emit and busctl's, seen by busctl's monitor: the same bodies and header fields.
    let cmd = busctl_command_at(
        &address,
        &["monitor", "--match=interface='org.rustemd.Emit'"],
    );
    let mon = Monitor::start(cmd, "busctl");
    let t = token();
    let args = [
        "emit",
        "/org/rustemd/E",
        "org.rustemd.Emit",
        "Sig",
        "a{sv}s",
        "1",
        "k",
        "u",
        "7",
    ];
    let mut theirs = args.to_vec();
    theirs.push(&t);
    assert!(busctl(&theirs).status.success());
    let mut ours = args.to_vec();
    let t2 = format!("{t}ours");
    ours.push(&t2);
    Shell::new()
        .address(&address)
        .args(&ours)
        .run()
        .success()
        .stdout_is("");
    mon.wait_for(&t2);
    let out = mon.stop();
    let bodies: Vec<String> = out
        .split("\n\n")
        .filter(|m| m.contains("Member=Sig"))
        .map(|m| {
            // Sender, cookie, timestamp and flags differ between two clients; the rest not.
            m.lines()
                .filter(|l| !l.starts_with('‣') && !l.contains("UniqueName="))
                .map(without_sender)
                .collect::<Vec<_>>()
                .join("\n")
                .replace(&t2, &t)
        })
        .collect();
    assert_eq!(bodies.len(), 2, "{out}");
    assert_eq!(bodies[0], bodies[1]);
    // --destination: only that peer gets it (the header says so).
    let mon = Monitor::start(
        busctl_command_at(
            &address,
            &["monitor", "--match=interface='org.rustemd.Emit'"],
        ),
        "busctl",
    );
    Shell::new()
        .address(&address)
        .args(&[
            "emit",
            "--destination",
            ECHO_NAME,
            "/org/rustemd/E",
            "org.rustemd.Emit",
            "To",
        ])
        .run()
        .success();
    mon.wait_for("Member=To");
    let out = mon.stop();
    assert!(out.contains(&format!("Destination={ECHO_NAME}")), "{out}");
}

#[test]
fn notation_nesting_is_bounded_not_a_crash() {
    // Issue 12 item 2, through the program: 14,000 nested variants.
    let mut args: Vec<String> = ["call", "a.b", "/", "a.b", "M", "v"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(std::iter::repeat_n("v".to_string(), 14_000));
    args.extend(["s".to_string(), "x".to_string()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Shell::new()
        .address(PrivateBus::shared().address())
        .args(&a)
        .run()
        .no_panic()
        .failure()
        .stderr_has("more than 64 containers deep");
    // Issue 12 item 8, through the program: a 1 MB signature word (on stdin: one argument
    // may not be that long).
    let sig = "a".repeat(1 << 20) + "s";
    Shell::new()
        .address(PrivateBus::shared().address())
        .input(&format!("call a.b / a.b M {sig} 0\nprint('on')\n"))
        .run()
        .no_panic()
        .failure()
        .stderr_has("Invalid array signature")
        .stdout_is("on\n");
}

// ---------------------------------------------------------------------------------------------
// On real systemd, in the shared sandbox.

/// The shell inside the shared sandbox, in a scope of its own.
fn in_sandbox() -> Shell {
    Sandbox::shared().shell()
}

#[track_caller]
fn busctl_in_sandbox(args: &[&str]) -> std::process::Output {
    Sandbox::shared().tool("busctl", args)
}

/// Our `busctl ARGS` and busctl's, inside the sandbox, print the same.
#[track_caller]
fn same_in_sandbox(args: &[&str]) {
    let mut words = vec!["busctl"];
    words.extend_from_slice(args);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let theirs = busctl_in_sandbox(args);
        let ours = in_sandbox().args(&words).run();
        ours.no_panic();
        let t = stdout(&theirs);
        if (ours.stdout == t && (ours.code == Some(0)) == theirs.status.success()) || attempt == 3 {
            assert_eq!(
                ours.stdout, t,
                "{args:?} (left: ours); stderr: {}",
                ours.stderr
            );
            assert_eq!(ours.code == Some(0), theirs.status.success(), "{args:?}");
            return;
        }
        // systemd is live: retry a difference before it counts.
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn status_matches_busctl_status() {
    same_in_sandbox(&["status", SD]);
    same_in_sandbox(&["status", "org.freedesktop.DBus"]);
    same_in_sandbox(&["status", "1"]);
    same_in_sandbox(&["status"]);
    same_in_sandbox(&["status", "--augment-creds=no", SD]);
    let pid = Sandbox::shared().exec_ok(&[
        "systemctl",
        "show",
        "-p",
        "MainPID",
        "--value",
        "systemd-journald.service",
    ]);
    same_in_sandbox(&["status", pid.trim()]);
    // Our own name for it, and the error for a name nobody has.
    in_sandbox()
        .args(&["bus-status", SD])
        .run()
        .success()
        .stdout_has("UniqueName=:1.0");
    in_sandbox()
        .args(&["busctl", "status", "org.no.one"])
        .run()
        .failure()
        .stderr_has("Failed to get credentials:");
}

#[test]
fn list_options_match_busctl() {
    // Rows of clients (ours, busctl's own) differ by nature: compare the well-known names.
    let names = |s: &str| -> Vec<String> {
        squeeze(s)
            .lines()
            .filter(|l| !l.starts_with(':'))
            .map(str::to_string)
            .collect()
    };
    for opts in [
        &["--activatable"][..],
        &["--acquired"],
        &["--acquired", "--no-legend"],
        &["--unique", "--activatable"],
        &["--show-machine", "--acquired"],
    ] {
        let mut words = vec!["busctl", "list"];
        words.extend_from_slice(opts);
        let ours = in_sandbox().args(&words).run();
        let theirs = busctl_in_sandbox(&words[1..]);
        assert_eq!(names(&ours.stdout), names(&stdout(&theirs)), "{opts:?}");
        assert!(ours.code == Some(0), "{}", ours.stderr);
    }
    // --json: the same objects for the well-known names.
    let json_names = |s: &str| -> Vec<String> {
        s.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split("},{")
            .filter(|o| !o.contains("\"name\":\":"))
            .map(|o| o.trim_matches(['{', '}']).to_string())
            .collect()
    };
    let ours = in_sandbox().args(&["busctl", "list", "--json=short"]).run();
    let theirs = busctl_in_sandbox(&["list", "--json=short"]);
    assert_eq!(json_names(&ours.stdout), json_names(&stdout(&theirs)));
}

#[test]
fn call_and_get_property_json_match_busctl_on_systemd() {
    for mode in ["--json=short", "--json=pretty", "--verbose"] {
        same_in_sandbox(&[
            "get-property",
            mode,
            SD,
            MANAGER,
            MANAGER_IFACE,
            "Version",
            "Environment",
            "Virtualization",
        ]);
        same_in_sandbox(&[
            "call",
            mode,
            SD,
            MANAGER,
            MANAGER_IFACE,
            "GetUnit",
            "s",
            "myfirstservice.service",
        ]);
    }
    same_in_sandbox(&[
        "introspect",
        "--xml-interface",
        SD,
        "/org/freedesktop/systemd1/unit/myfirstservice_2eservice",
    ]);
    same_in_sandbox(&["tree", "--list", "org.freedesktop.login1"]);
}

/// A transient unit of this test's own (`sleep infinity`), so restarting it bothers no one.
fn own_unit() -> String {
    let name = format!("rt-{}.service", token());
    Sandbox::shared().exec_ok(&[
        "systemd-run",
        "--quiet",
        &format!("--unit={name}"),
        "sleep",
        "infinity",
    ]);
    name
}

#[test]
fn monitor_of_systemd_matches_busctl_while_a_unit_restarts() {
    let sb = Sandbox::shared();
    let address = sb.bus_address().to_string();
    let unit = own_unit();
    // Monitors do not depend on who calls them: both run on the host, on the sandbox's bus.
    let theirs = Monitor::start(busctl_command_at(&address, &["monitor", SD]), "busctl");
    let mut cmd = ours_at(&address);
    cmd.args(["monitor", SD]);
    let ours = Monitor::start(cmd, "rustemd-shell");
    let (start, end) = (
        format!("{}.service", token()),
        format!("{}.service", token()),
    );
    let mark = |name: &str| {
        run_with_timeout(
            busctl_command_at(
                &address,
                &["call", SD, MANAGER, MANAGER_IFACE, "GetUnit", "s", name],
            ),
            WAIT,
        )
    };
    mark(&start);
    sb.exec_ok(&["systemctl", "restart", &unit]);
    mark(&end);
    // The call and systemd's error naming the unit.
    let deadline = Instant::now() + WAIT;
    while [&ours, &theirs]
        .iter()
        .any(|m| m.text().matches(&end).count() < 2)
    {
        assert!(
            Instant::now() < deadline,
            "the end marker's error never came"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (a, b) = (ours.stop(), theirs.stop());
    let a = between(&a, &start, &end, "\n\n");
    let b = between(&b, &start, &end, "\n\n");
    assert_eq!(a.join("\n\n"), b.join("\n\n"), "left: ours, right: busctl");
    let all = a.join("\n\n");
    assert!(all.contains("STRING \"deactivating\";"), "{all}");
    assert!(all.contains("Member=JobRemoved"), "{all}");
}

#[test]
fn capture_of_a_restart_is_read_by_tshark() {
    let tshark = tools::require("tshark", "tshark");
    let _l = crate::workshop::lock();
    let sb = Sandbox::shared();
    // One-shot in the sandbox, as the workshop does: capture > FILE while myfirstservice is
    // restarted through the bus, then tshark's D-Bus dissector looks for the call.
    let script = format!(
        "{BIN} capture {SD} > /run/rt-capture.pcap 2> /run/rt-capture.err & pid=$!; \
         until grep -q 'Monitoring bus message stream' /run/rt-capture.err; do sleep 0.05; done; \
         {BIN} -c 'unit(\"myfirstservice.service\").Unit.Restart(\"replace\")' >/dev/null; \
         {BIN} wait myfirstservice.service ActiveState == active --timeout=30; \
         kill -INT $pid; wait $pid; echo status=$?"
    );
    let out = sb.exec_ok(&["sh", "-c", &script]);
    assert!(out.contains("status=0"), "{out}");
    let file = tempfile::NamedTempFile::new().unwrap();
    let pcap = sb.exec(&["cat", "/run/rt-capture.pcap"]);
    std::fs::write(file.path(), &pcap.stdout).unwrap();
    let mut cmd = Command::new(tshark);
    cmd.arg("-r")
        .arg(file.path())
        .args(["-Y", "dbus.member == \"Restart\""])
        .stdin(Stdio::null());
    let read = run_with_timeout(cmd, WAIT);
    let shown = stdout(&read);
    assert!(
        read.status.success() && shown.contains("Restart"),
        "tshark did not find the Restart call: {shown}{}",
        stderr(&read)
    );
    assert!(shown.contains("myfirstservice_2eservice"), "{shown}");
}

#[test]
fn capture_refuses_a_terminal() {
    // On a pty: the refusal, before touching the bus.
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("{BIN} --address unix:path=/nonexistent capture"),
        "/dev/null",
    ])
    .stdin(Stdio::null());
    let out = run_with_timeout(cmd, WAIT);
    let text = stdout(&out);
    assert!(
        text.contains("Refusing to write message data to console"),
        "{text}"
    );
}

#[test]
fn watch_shows_the_transitions_of_a_restart() {
    let sb = Sandbox::shared();
    let unit = own_unit();
    let mut cmd = ours_at(sb.bus_address());
    cmd.args(["watch", &unit]);
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut child = cmd
        .stdout(Stdio::from(out.reopen().unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let text = || std::fs::read_to_string(out.path()).unwrap_or_default();
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + WAIT;
        while !text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "watch never showed {needle:?}:\n{}",
                text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("  TasksCurrent:");
    wait_for("  ActiveState: active");
    sb.exec_ok(&["systemctl", "restart", &unit]);
    wait_for("SubState: dead → running");
    // systemd removes the job after the unit is running again: Ctrl-C only once it is shown.
    wait_for("JobRemoved");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    assert!(child.wait().unwrap().success());
    let t = text();
    // systemd sends one PropertiesChanged per turn of its event loop, so on a loaded machine
    // "deactivating" may come and go within one turn: leaving active and coming back are what
    // every restart shows.
    let order = [
        "JobNew",
        "ActiveState: active → ",
        "→ inactive",
        "ActiveState: inactive → active",
        "JobRemoved",
    ];
    let mut at = 0;
    for o in order {
        let i = t[at..]
            .find(o)
            .unwrap_or_else(|| panic!("{o} missing or out of order:\n{t}"));
        at += i;
    }
    sb.exec(&["systemctl", "stop", &unit]);
}

#[test]
fn wait_for_a_property_is_driven_by_signals() {
    let sb = Sandbox::shared();
    let unit = own_unit();
    let mut cmd = ours_at(sb.bus_address());
    cmd.args(["wait", &unit, "SubState", "==", "dead", "--timeout=60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // The waiter is not done while the unit runs …
    std::thread::sleep(Duration::from_millis(500));
    let mut child = child;
    assert!(
        child.try_wait().unwrap().is_none(),
        "wait returned while the unit ran"
    );
    // … and returns once it stopped.
    sb.exec_ok(&["systemctl", "stop", &unit]);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "wait did not see the unit stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
    // Already true: at once. `!=` and a typed value. A bounded wait that cannot succeed says why.
    Shell::new()
        .address(sb.bus_address())
        .args(&["wait", &unit, "ActiveState", "!=", "active"])
        .run()
        .success();
    Shell::new()
        .address(sb.bus_address())
        .args(&["wait", SD, MANAGER, "Manager.NNames", "!=", "0"])
        .run()
        .success();
    Shell::new()
        .address(sb.bus_address())
        .args(&["wait", &unit, "ActiveState", "==", "active", "--timeout=1"])
        .run()
        .failure()
        .stderr_has(&format!(
            "wait: ActiveState of {unit} did not become \"active\" within 1 s (it is \"inactive\")"
        ));
    Shell::new()
        .address(sb.bus_address())
        .args(&["wait", &unit, "NoSuchThing", "==", "x"])
        .run()
        .failure()
        .stderr_has("has no property NoSuchThing");
}

#[test]
fn machine_reaches_a_sandbox_from_the_host() {
    let sb = Sandbox::shared();
    let args = [
        "get-property",
        SD,
        MANAGER,
        MANAGER_IFACE,
        "Virtualization",
        "Version",
    ];
    let theirs = busctl_in_sandbox(&args);
    let ours = Shell::new().args(&["-M", sb.name()]).args(&args).run();
    ours.success();
    assert_eq!(ours.stdout, stdout(&theirs));
    let mut words = vec!["busctl", "--machine", sb.name()];
    words.extend_from_slice(&args);
    Shell::new()
        .args(&words)
        .run()
        .success()
        .stdout_is(&stdout(&theirs));
    // Objects on another machine, next to the session's own bus.
    Shell::new()
        .address(PrivateBus::shared().address())
        .args(&[
            "-c",
            &format!(
                "u = unit('myfirstservice.service', machine='{}')\nprint(u)\nprint(u.Unit.Id)\n\
                 print(manager(machine='{}').Manager.Virtualization)",
                sb.name(),
                sb.name()
            ),
        ])
        .run()
        .success()
        .stdout_is(&format!(
            "<unit myfirstservice.service org.freedesktop.systemd1 at \
             /org/freedesktop/systemd1/unit/myfirstservice_2eservice on machine {}>\n\
             myfirstservice.service\nsystemd-nspawn\n",
            sb.name()
        ));
    Shell::new()
        .args(&["-M", "no-such-machine", "list"])
        .run()
        .failure()
        .stderr_has("no such machine");
}

/// sshd inside the shared sandbox, with a key for root@localhost (set up once).
fn sshd_in_sandbox() -> &'static Sandbox {
    static READY: OnceLock<()> = OnceLock::new();
    let sb = Sandbox::shared();
    READY.get_or_init(|| {
        tools::require("/usr/sbin/sshd", "openssh-server");
        tools::require("ssh", "openssh-client");
        let setup = "ssh-keygen -A >/dev/null && mkdir -p -m 700 /root/.ssh && \
            { [ -f /root/.ssh/id_rustemd ] || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_rustemd; } && \
            cat /root/.ssh/id_rustemd.pub >> /root/.ssh/authorized_keys && \
            printf 'Host localhost\\n  IdentityFile /root/.ssh/id_rustemd\\n  StrictHostKeyChecking accept-new\\n  UserKnownHostsFile /root/.ssh/known_hosts_rustemd\\n  BatchMode yes\\n' > /root/.ssh/config && \
            systemd-run --quiet --unit=rt-sshd -p RuntimeDirectory=sshd /usr/sbin/sshd -D && \
            for i in $(seq 100); do ssh root@localhost true 2>/dev/null && exit 0; sleep 0.1; done; \
            ssh root@localhost true";
        sb.exec_ok(&["sh", "-c", setup]);
    });
    sb
}

#[test]
fn host_reaches_a_bus_over_ssh_to_localhost() {
    sshd_in_sandbox();
    let args = [
        "-H",
        "root@localhost",
        "get-property",
        SD,
        MANAGER,
        MANAGER_IFACE,
        "Version",
        "Virtualization",
    ];
    let theirs = busctl_in_sandbox(&args);
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    in_sandbox()
        .args(&args)
        .run()
        .success()
        .stdout_is(&stdout(&theirs));
    in_sandbox()
        .args(&[
            "-c",
            "print(unit('myfirstservice.service', host='root@localhost').Unit.ActiveState)",
        ])
        .run()
        .success()
        .stdout_is("active\n");
    // A monitor over ssh too.
    let out = in_sandbox()
        .args(&[
            "-H",
            "root@localhost",
            "monitor",
            "--short",
            "--limit-messages=1",
            "--timeout=20",
            "--match=member='GetId'",
        ])
        .timeout(Duration::from_secs(60));
    let waiter = std::thread::spawn(move || out.run());
    let deadline = Instant::now() + WAIT;
    while !waiter.is_finished() && Instant::now() < deadline {
        Sandbox::shared().exec(&[
            "busctl",
            "call",
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "GetId",
        ]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let run: Run = waiter.join().unwrap();
    run.success().stdout_has("org.freedesktop.DBus.GetId");
}

//! `run(..., pty=True)` and the sandboxing menu through a real pseudo-terminal, inside the
//! shared sandbox: an interactive bash in a unit (input, output, window size and its changes,
//! Ctrl-C, TERM, exit), the terminal modes after, the Ctrl-] escape, the confirmation before
//! stopping the shell's own unit, and each menu demo's effect seen from inside the unit.

use std::time::Duration;

use crate::pty::{CTRL_C, PROMPT, Pty};
use crate::support::sandbox::Sandbox;

/// Demos share `mys.service`: one at a time.
static MYS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn lock() -> std::sync::MutexGuard<'static, ()> {
    MYS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Longer than the harness's default wait: units start, bash reads its rc files.
const SLOW: Duration = Duration::from_secs(30);

/// The shell in the shared sandbox, in a scope, on a pty (via `scripts/sandbox exec`, which
/// gives it a pty inside the container).
pub(crate) fn shell() -> Pty {
    let sb = Sandbox::shared();
    let home = tempfile::Builder::new()
        .prefix("rustemd-runpty-")
        .tempdir()
        .expect("tempdir");
    let mut cmd = sb.in_scope();
    cmd.arg(crate::pty::BIN);
    let mut p = Pty::spawn_cmd(cmd, home);
    p.wait_until("the prompt", SLOW, |v| v.text().contains(PROMPT));
    p
}

/// Wait for a finished line that starts with `prefix`; the whole line.
#[track_caller]
fn line_starting(p: &mut Pty, prefix: &str) -> String {
    let v = p.wait_until(&format!("a line starting with {prefix:?}"), SLOW, |v| {
        v.finished_rows()
            .iter()
            .any(|l| l.trim_start().starts_with(prefix))
    });
    v.finished_rows()
        .iter()
        .rev()
        .find(|l| l.trim_start().starts_with(prefix))
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

/// Run a bash command line in the unit and wait for its marked output line.
#[track_caller]
fn in_unit(p: &mut Pty, cmd: &str, marker: &str) -> String {
    p.line(&format!("{cmd}; echo {marker}-END"));
    let v = p.wait_until(&format!("{marker}-END"), SLOW, |v| {
        v.finished_rows()
            .iter()
            .any(|l| l.trim() == format!("{marker}-END"))
    });
    v.text()
}

/// The terminal's modes as `stty -g` prints them, asked from the shell.
#[track_caller]
fn modes(p: &mut Pty, tag: &str) -> String {
    p.line(&format!("!stty -g | sed 's/^/{tag} /'"));
    let l = line_starting(p, &format!("{tag} "));
    p.expect_prompt();
    l[tag.len() + 1..].to_string()
}

/// Wait until bash in the unit runs commands. (Keys typed before the unit's terminal is
/// forwarded stay with the line editor, as typed-ahead input for the next prompt: wait for
/// bash's prompt first.)
#[track_caller]
fn bash_ready(p: &mut Pty) {
    p.wait_until("bash's prompt", SLOW, |v| {
        let c = v.cursor_row().trim_end();
        c.ends_with('#') || c.ends_with('$')
    });
    p.line("echo READY-$((40+2))");
    line_starting(p, "READY-42");
}

#[test]
fn pty_interactive_bash_in_a_unit() {
    let mut p = shell();
    let before = modes(&mut p, "MODES-BEFORE");
    p.line(r#"pystemd.run(["/usr/bin/bash"], stdin=sys.stdin, stderr=sys.stderr, stdout=sys.stdout, pty=True, wait=True, env={"FOO": "bar"})"#);
    bash_ready(&mut p);
    // Input and output, the environment, TERM.
    let out = in_unit(&mut p, "echo \"FOO=$FOO TERM=$TERM\"", "ENV");
    assert!(out.contains("FOO=bar TERM=xterm"), "{out}");
    // The window size, and a resize.
    let out = in_unit(&mut p, "echo SIZE=$(stty size)", "SZ1");
    assert!(out.contains("SIZE=50 250"), "{out}");
    p.session
        .get_process_mut()
        .set_window_size(120, 40)
        .expect("resize");
    std::thread::sleep(Duration::from_millis(500));
    let out = in_unit(&mut p, "echo SIZE=$(stty size)", "SZ2");
    assert!(out.contains("SIZE=40 120"), "{out}");
    // Ctrl-C reaches the unit's foreground process, not us.
    p.line("sleep 100");
    std::thread::sleep(Duration::from_millis(500));
    p.send(CTRL_C);
    let out = in_unit(&mut p, "echo STATUS=$?", "CC");
    assert!(out.contains("STATUS=130"), "{out}");
    // systemctl status $$ names the unit.
    let out = in_unit(&mut p, "systemctl status --no-pager $$ | head -1", "ST");
    assert!(
        out.contains(".service - rustemd: rustemd"),
        "systemctl status $$ does not name the unit:\n{out}"
    );
    // exit: run returns the unit, the prompt is back, the terminal is as before.
    p.line("exit");
    p.wait_until("the unit and the prompt", SLOW, |v| {
        v.text().contains("<unit rustemd") && v.is_fresh_prompt()
    });
    let after = modes(&mut p, "MODES-AFTER");
    assert_eq!(before, after, "terminal modes changed");
    p.line("1+1");
    p.expect_line("2");
    p.exit_with_ctrl_d();
}

#[test]
fn pty_triple_ctrl_bracket_detaches_and_the_unit_keeps_running() {
    let mut p = shell();
    let before = modes(&mut p, "MODES-BEFORE");
    p.line(
        "u = run(['/bin/bash'], stdin=sys.stdin, stdout=sys.stdout, pty=True, name='detach-me')",
    );
    bash_ready(&mut p);
    p.send("\x1d\x1d\x1d");
    p.wait_until("the detach message", SLOW, |v| {
        v.text()
            .contains("detached from detach-me.service; it keeps running")
    });
    p.expect_prompt();
    p.line("print(u.ActiveState, u.SubState)");
    p.expect_line("active running");
    p.expect_prompt();
    assert_eq!(modes(&mut p, "MODES-AFTER"), before);
    p.line("stop u");
    p.expect_prompt();
    p.line("print(u.ActiveState)");
    p.expect_line("inactive");
    p.exit_with_ctrl_d();
}

#[test]
fn pty_stopping_our_own_unit_asks_first() {
    let sb = Sandbox::shared();
    sb.exec_ok(&[
        "systemd-run",
        "--unit=selfstop",
        "-p",
        "Delegate=yes",
        "/bin/sleep",
        "infinity",
    ]);
    let mut p = shell();
    p.line("manager().Manager.AttachProcessesToUnit('selfstop.service', '/', [pid()])");
    p.expect_prompt();
    p.line("stop selfstop");
    p.expect_text("the shell will be killed too. Go on? [y/N]");
    p.line("n");
    p.wait_until("the refusal", SLOW, |v| {
        v.text()
            .contains("not called: it would have stopped selfstop.service")
    });
    p.expect_prompt();
    p.line("1+1");
    p.expect_line("2");
    p.expect_prompt();
    // The raw call asks the same; yes ends the shell.
    p.line("manager().Manager.StopUnit('selfstop.service', 'replace')");
    p.expect_text("[y/N]");
    p.line("y");
    let deadline = std::time::Instant::now() + SLOW;
    while p.pump() {
        assert!(
            std::time::Instant::now() < deadline,
            "the shell survived stopping its own unit:\n{}",
            p.since_mark()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        sb.exec_ok(&[
            "systemctl",
            "show",
            "-p",
            "ActiveState",
            "--value",
            "selfstop.service"
        ])
        .trim(),
        "inactive"
    );
}

/// Start demo `name` and wait until its bash runs commands.
#[track_caller]
fn demo(p: &mut Pty, name: &str) {
    p.line(name);
    p.wait_until("the demo's call", SLOW, |v| v.text().contains(">>> run("));
    bash_ready(p);
}

#[track_caller]
fn leave(p: &mut Pty) {
    p.line("exit");
    p.wait_until("the prompt after the demo", SLOW, |v| {
        v.text().contains("<unit mys.service") && v.is_fresh_prompt()
    });
}

#[test]
fn menu_demos_show_their_effect_inside() {
    let _l = lock();
    let mut p = shell();
    // echo, then n/p/r move through the menu.
    p.line("echo_socal");
    p.expect_line("Hi from mys.service!");
    p.expect_prompt();
    p.line("n");
    p.wait_until("demo bash", SLOW, |v| v.text().contains("demo bash (2/10)"));
    bash_ready(&mut p);
    let out = in_unit(&mut p, "systemctl status --no-pager $$ | head -1", "B");
    assert!(out.contains("mys.service - rustemd: mys.service"), "{out}");
    leave(&mut p);
    p.line("p");
    p.expect_line("Hi from mys.service!");
    p.expect_prompt();
    p.line("r");
    p.expect_line("Hi from mys.service!");
    p.expect_prompt();

    demo(&mut p, "home_system_protect");
    let out = in_unit(&mut p, "touch /usr/x; ls -A /home | wc -l", "HSP");
    assert!(out.contains("Read-only file system"), "{out}");
    leave(&mut p);

    demo(&mut p, "directories_socal");
    let out = in_unit(
        &mut p,
        "touch /root/x; echo HOME-MODE=$(stat -c %a /home); test -x /var/cache/mys/bin/bash && echo BOUND-RO",
        "DIR",
    );
    assert!(
        out.contains("touch: cannot touch '/root/x': Read-only file system"),
        "{out}"
    );
    assert!(out.contains("HOME-MODE=0\n"), "{out}");
    assert!(out.contains("BOUND-RO"), "{out}");
    leave(&mut p);

    demo(&mut p, "private");
    let out = in_unit(
        &mut p,
        "echo ROUTES=$(tail -n +2 /proc/net/route | wc -l) CACHE=$(ls -A /var/cache/mys | wc -l); [ $(readlink /proc/self/ns/net) != $(readlink /proc/1/ns/net) ] && echo OWN-NETNS",
        "PRIV",
    );
    assert!(out.contains("ROUTES=0 CACHE=0"), "{out}");
    assert!(out.contains("OWN-NETNS"), "{out}");
    leave(&mut p);

    demo(&mut p, "dynamic_user_socal");
    let out = in_unit(&mut p, "echo WHO=$(id -un) UID=$(id -u)", "DU");
    assert!(out.contains("WHO=mys UID=6"), "{out}");
    leave(&mut p);

    p.line("dynamic_user_show_id");
    p.wait_until("id's output", SLOW, |v| {
        v.finished_rows()
            .iter()
            .any(|l| l.starts_with("uid=6") && l.contains("(mys) gid="))
    });
    p.wait_until("the prompt", SLOW, |v| v.is_fresh_prompt());

    demo(&mut p, "ip_user_socal");
    let out = in_unit(
        &mut p,
        "(echo > /dev/udp/127.0.0.2/9) 2>&1 | grep -o 'Operation not permitted'; echo > /dev/udp/127.0.0.1/9 && echo ALLOWED-OK",
        "IP",
    );
    assert!(out.contains("\nOperation not permitted"), "{out}");
    assert!(out.contains("\nALLOWED-OK"), "{out}");
    leave(&mut p);

    demo(&mut p, "cgroup");
    // A busy loop's CPU time over 3 s, from /proc: about 10% of one CPU.
    let out = in_unit(
        &mut p,
        "(while :; do :; done) & L=$!; a=$(cut -d' ' -f14,15 /proc/$L/stat | tr ' ' +); sleep 3; b=$(cut -d' ' -f14,15 /proc/$L/stat | tr ' ' +); kill $L; echo PCT=$(( ( ($b) - ($a) ) * 100 / (3 * $(getconf CLK_TCK)) ))",
        "CG",
    );
    let pct: u32 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("PCT="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no PCT= line:\n{out}"));
    assert!(
        (2..=20).contains(&pct),
        "a busy loop under CPUQuota=10% used {pct}% of a CPU"
    );
    leave(&mut p);

    demo(&mut p, "chroot_socal");
    let out = in_unit(
        &mut p,
        "echo ROOT=$(echo $(ls /)); test -e /etc/passwd || echo NO-ETC",
        "CH",
    );
    assert!(out.contains("NO-ETC"), "{out}");
    assert!(out.contains("ROOT=bin dev "), "{out}");
    assert!(!out.contains(" home "), "{out}");
    leave(&mut p);
    p.line("clean mys");
    p.expect_prompt();
    p.exit_with_ctrl_d();
}

#[test]
fn pty_tab_completes_units_and_ctrl_c_stops_a_waited_run() {
    let mut p = shell();
    p.send("status myfirsts");
    p.send("\t");
    p.wait_until("the unit completed", SLOW, |v| {
        v.before_cursor.ends_with("status myfirstservice.service")
    });
    p.send("\r");
    p.expect_text("● myfirstservice.service - My first service");
    p.expect_prompt();
    // Ctrl-C while waiting for a unit: the wait ends and nothing is left running.
    p.line("run(['/bin/sleep', '100'], wait=True, name='ctrl-c-wait')");
    std::thread::sleep(Duration::from_millis(800));
    p.send(CTRL_C);
    p.wait_until("the interruption", SLOW, |v| {
        v.text()
            .contains("run ctrl-c-wait.service interrupted; stopped it")
            && v.is_fresh_prompt()
    });
    p.line("print(unit('ctrl-c-wait.service').ActiveState)");
    p.expect_line("inactive");
    p.exit_with_ctrl_d();
}

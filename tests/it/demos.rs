//! The presenter's tools through the binary: every demo in `demos/` played in the shared
//! sandbox against real systemd (a demo that stops working fails the build), the demos that
//! need a terminal played on a pty, a playback driven by keys (Enter, b, s, q), `record`,
//! `ppcode`, `demos` and `demo`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::pty::{BIN, Pty};
use crate::support::dbus::PrivateBus;
use crate::support::sandbox::Sandbox;
use crate::support::shell::Shell;

/// Playing a demo starts units and waits for them.
const SLOW: Duration = Duration::from_secs(60);

fn shell() -> Shell {
    Shell::new().address(PrivateBus::shared().address())
}

/// The shell inside the shared sandbox, in a scope of its own (as a workshop login is).
fn in_sandbox() -> Shell {
    Sandbox::shared().shell().timeout(Duration::from_secs(180))
}

/// Every `demos/*.rsh`, and whether its header marks it as needing a terminal.
fn demo_files() -> Vec<(PathBuf, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demos");
    let mut out: Vec<(PathBuf, bool)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rsh"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let tty = text
                .lines()
                .take_while(|l| l.starts_with('#') && !l.starts_with("#>"))
                .any(|l| l.starts_with("#@") && l.split_whitespace().any(|w| w == "tty"));
            (p, tty)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 8, "demos/ has {} demos", out.len());
    out
}

/// Every demo, played straight through in the sandbox, passes all its checkpoints and
/// leaves no unexpected error.
#[test]
fn every_demo_plays_green_in_the_sandbox() {
    // Demos restart myfirstservice, use mys.service, daemon-demo-service.service and
    // futures workers, as other sandbox tests do.
    let _w = crate::workshop::lock();
    let _m = crate::run_pty::lock();
    let _d = crate::daemons::demo_lock();
    let _f = crate::futures::workers_lock();
    let mut failed = Vec::new();
    for (path, tty) in demo_files() {
        if tty {
            continue; // played on a pty below
        }
        let p = path.to_string_lossy();
        let r = in_sandbox().args(&["--play", &p, "--no-pause"]).run();
        r.no_panic();
        let summary = r.stderr.lines().last().unwrap_or("").to_string();
        if r.code != Some(0) || !summary.contains("checkpoints passed") {
            failed.push(format!(
                "{p}: exit {:?}\n--- stderr ---\n{}\n--- stdout (end) ---\n{}",
                r.code,
                r.stderr,
                tail(&r.stdout, 40)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn home() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rustemd-demos-")
        .tempdir()
        .expect("tempdir")
}

/// Demos marked `#@ tty` play on a terminal: their terminal statements run and pass.
#[test]
fn tty_demos_play_in_a_pty() {
    let _m = crate::run_pty::lock();
    let sb = Sandbox::shared();
    let ttys: Vec<PathBuf> = demo_files()
        .into_iter()
        .filter(|(_, t)| *t)
        .map(|(p, _)| p)
        .collect();
    assert!(!ttys.is_empty(), "no demo needs a terminal");
    for path in ttys {
        let mut cmd = sb.in_scope();
        cmd.arg(BIN).arg("--play").arg(&path).arg("--no-pause");
        let mut p = Pty::spawn_cmd(cmd, home());
        let v = p.wait_until("the summary", SLOW, |v| v.text().contains("passed"));
        let text = v.text();
        assert!(
            !text.contains("failed") && !text.contains("unexpected error"),
            "{}:\n{}",
            path.display(),
            p.since_mark()
        );
        assert!(
            !text.contains(": 0 statements run"),
            "{}: nothing ran on the terminal:\n{text}",
            path.display()
        );
    }
}

/// A playback waits for keys: Enter runs, b steps back, s skips, q quits.
#[test]
fn playback_pauses_for_enter_back_skip_and_quit() {
    let dir = home();
    let demo = dir.path().join("keys.rsh");
    std::fs::write(
        &demo,
        "# Keys\n# Enter runs, b steps back, s skips, q quits.\n\
         print('out-' + 'one')\n#> out-one\n\
         print('out-' + 'two')\n\
         print('out-' + 'three')\n#> out-three\n\
         print('out-' + 'four')\n",
    )
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--address")
        .arg(PrivateBus::shared().address())
        .arg("--play")
        .arg(&demo)
        .arg("--speed=500");
    let mut p = Pty::spawn_cmd(cmd, home());
    let typed = |p: &mut Pty, what: &str| {
        let want = format!("rustemd> print('out-' + '{what}')");
        p.wait_until(&want, Duration::from_secs(10), |v| v.before_cursor == want);
    };
    typed(&mut p, "one");
    p.send("\r");
    p.expect_line("out-one");
    typed(&mut p, "two");
    p.send("b"); // back: `one` again
    typed(&mut p, "one");
    p.send("\r");
    p.expect_line("out-one");
    typed(&mut p, "two");
    p.send("s"); // skipped: never printed
    typed(&mut p, "three");
    p.send("\r");
    p.expect_line("out-three");
    typed(&mut p, "four");
    p.send("q");
    let v = p.wait_until("the summary", Duration::from_secs(10), |v| {
        v.text().contains("quit")
    });
    let all = String::from_utf8_lossy(&p_raw(&mut p)).into_owned();
    assert!(
        !all.contains("out-two\r\n"),
        "a skipped statement ran:\n{all}"
    );
    assert!(!all.contains("out-four\r\n"), "ran after q:\n{all}");
    assert!(
        v.text()
            .contains("3 statements run, 3 checkpoints passed, 1 skipped, quit"),
        "{}",
        v.text()
    );
}

fn p_raw(p: &mut Pty) -> Vec<u8> {
    p.pump();
    p.raw().to_vec()
}

/// Without pauses a failed checkpoint is shown (expected and got) and the exit status is 1;
/// an error no checkpoint expected fails too, one a checkpoint expects does not.
#[test]
fn checkpoints_are_compared_and_mismatches_fail_the_playback() {
    let dir = home();
    let demo = dir.path().join("check.rsh");
    std::fs::write(
        &demo,
        "# Checks\n# Doctest style.\n\
         x = 21 * 2\nprint(f'x is {x}', 'and', 'more')\n#> x is ... more\n\
         print('a\\nb')\n#> a\n#> c\n\
         nosuch\n#> error: NameError: name 'nosuch' is not defined ...\n\
         for i in range(3): print(i)\n#> 0\n#> ...\n",
    )
    .unwrap();
    let r = shell()
        .args(&["--play", &demo.to_string_lossy(), "--no-pause"])
        .run();
    r.failure()
        .stderr_has("checkpoint failed: ")
        .stderr_has("line 6: print('a\\nb')\n  expected:\n    a\n    c\n  got:\n    a\n    b\n")
        .stderr_has("5 statements run, 3 checkpoints passed, 1 failed (line 6)");
    assert!(r.stdout.contains("rustemd> x = 21 * 2\n"), "{}", r.stdout);
    // An error no checkpoint expected fails the run.
    std::fs::write(&demo, "# T\n# S.\nnosuch\nprint('goes on')\n#> goes on\n").unwrap();
    let r = shell()
        .args(&["--play", &demo.to_string_lossy(), "--no-pause"])
        .run();
    r.failure()
        .stdout_has("goes on")
        .stderr_has("1 unexpected error (line 3)");
    // A broken demo file says which line.
    std::fs::write(&demo, "# T\n#> x\n").unwrap();
    shell()
        .args(&["--play", &demo.to_string_lossy(), "--no-pause"])
        .run()
        .failure()
        .stderr_has("line 2: a checkpoint (#>) must follow a statement");
}

/// `record FILE` writes what is typed with its output as checkpoints; the file plays back
/// green, and fails once its output no longer matches.
#[test]
fn record_writes_a_demo_that_plays_back() {
    let dir = home();
    let file = dir.path().join("rec.rsh");
    let f = file.to_string_lossy().into_owned();
    let r = shell()
        .input(&format!(
            "x = 1\nrecord {f} My first recording\nx = 6 * 7\nprint(x)\n\
             for i in range(2):\n    print('line', i)\n\nrecord\nrecord stop\nprint('after')\n"
        ))
        .run();
    r.success()
        .stdout_has(&format!("recording into {f}: 3 statements so far"))
        .stdout_has(&format!("recorded 3 statements into {f}"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# My first recording\n"), "{text}");
    assert!(
        text.contains(
            "\nx = 6 * 7\n\nprint(x)\n#> 42\n\nfor i in range(2):\n    print('line', i)\n#> line 0\n#> line 1\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("\nrecord") && !text.contains("\nx = 1\n"),
        "{text}"
    );
    assert!(!text.contains("after"), "{text}");
    shell().args(&["--play", &f, "--no-pause"]).run().success();
    std::fs::write(&file, text.replace("#> 42", "#> 43")).unwrap();
    shell()
        .args(&["--play", &f, "--no-pause"])
        .run()
        .failure()
        .stderr_has("checkpoint failed");
    // Never over an existing file.
    shell()
        .input(&format!("record {f}\n"))
        .run()
        .failure()
        .stderr_has("exists: record writes a new file");
}

/// `ppcode` shows a function's source with its file and lines, whatever holds the function
/// (a name, another name, a dotted name); builtins show their Rust source; menu demos their
/// call; demos their script. Colour only when asked or on a terminal.
#[test]
fn ppcode_shows_functions_builtins_menu_demos_and_demos() {
    let dir = home();
    let lib = dir.path().join("lib.rsh");
    std::fs::write(
        &lib,
        "# a library\n\ndef cpu_waste(timeout):\n    t0 = time.time()\n    while time.time() - t0 < timeout:\n        2**64 - 1\n\n    return 2**64 - 1\n\nsquare = lambda x: x * x\n",
    )
    .unwrap();
    let l = lib.to_string_lossy();
    let r = shell()
        .input(&format!(
            "import time\n%run {l}\nppcode cpu_waste\ng = cpu_waste\nppcode g\nppcode square\n"
        ))
        .run();
    r.success();
    let def = format!(
        ">>> # {l}[3:8]\n\ndef cpu_waste(timeout):\n    t0 = time.time()\n    while time.time() - t0 < timeout:\n        2**64 - 1\n\n    return 2**64 - 1\n"
    );
    assert_eq!(r.stdout.matches(&def).count(), 2, "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!(">>> # {l}[10:10]\n\nsquare = lambda x: x * x\n")),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains('\x1b'),
        "colour on a pipe: {:?}",
        r.stdout
    );

    let r = shell()
        .input("ppcode pystemd.run\nppcode time.sleep\nppcode dynamic_user_socal\nppcode bus_explore\n")
        .run();
    r.success()
        .stdout_has(">>> # src/lang/builtins/run.rs[")
        .stdout_has("fn b_run(it: &mut Interp, a: Bound) -> R<Value> {")
        .stdout_has(">>> # src/lang/builtins/time.rs[")
        .stdout_has(">>> # src/lang/builtins/menu.rs[")
        .stdout_has("# dynamic_user_socal: a user made up for the unit's lifetime")
        .stdout_has("        'DynamicUser': True,\n")
        .stdout_has(">>> # demos/bus_explore.rsh[1:")
        .stdout_has("# Exploring the bus\n");

    let r = shell()
        .args(&["--color=always", "-c", "def f():\n    return 'x'\nppcode f"])
        .run();
    r.success();
    // The keyword, the function's name and the string in the table's colours.
    assert!(r.stdout.contains("\x1b[35mdef\x1b[0m"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[94mf\x1b[0m"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\x1b[32m'x'\x1b[0m"), "{:?}", r.stdout);

    for (line, want) in [
        (
            "ppcode nosuch",
            "ppcode: 'nosuch' is no function, builtin or demo",
        ),
        (
            "x = 3\nppcode x",
            "ppcode: x is not a function, builtin or demo (its type is int)",
        ),
        ("ppcode 'a b'", "ppcode: 'a b' is no function"),
        ("ppcode", "expected"),
    ] {
        shell()
            .input(&format!("{line}\n"))
            .run()
            .failure()
            .stderr_has(want);
    }
}

/// `demos` lists every demo with its title; `demo NAME` plays one in the session, whose
/// variables stay.
#[test]
fn demos_are_listed_and_played_in_the_session() {
    let r = shell().args(&["demos"]).run();
    r.success();
    for (path, _) in demo_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            r.stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} not listed:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .contains("Exploring the bus: busctl's verbs on systemd"),
        "{}",
        r.stdout
    );
    let dir = home();
    let demo = dir.path().join("mine.rsh");
    std::fs::write(
        &demo,
        "# Mine\n# Sets a variable.\nanswer = 42\nanswer\n#> 42\n",
    )
    .unwrap();
    let d = demo.to_string_lossy();
    let r = shell()
        .input(&format!("demo --no-pause {d}\nprint(answer + 1)\n"))
        .run();
    r.success()
        .stdout_has("# Mine\n")
        .stdout_has("rustemd> answer = 42\n")
        .stdout_has("43\n");
    std::fs::write(&demo, "# Mine\n# Fails.\nanswer = 1\nanswer\n#> 42\n").unwrap();
    shell()
        .input(&format!("demo --no-pause {d}\n"))
        .run()
        .failure()
        .stderr_has("1 failed (line 4)");
    shell()
        .input("demo nosuch\n")
        .run()
        .failure()
        .stderr_has("no demo named nosuch (demos lists them: ");
}

//! Services that misbehave (issue 12): trees that never end (item 4: the walk is bounded in
//! objects and depth and says what it cut, one bad service does not stop the others, Ctrl-C
//! ends the walk) and introspection with an invalid type (item 16).

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::dbus::PrivateBus;
use crate::support::shell::{BIN, Shell};
use crate::support::testservice::{DEEP_NAME, ENDLESS_NAME, SILENT_CALLS, SILENT_NAME, TEST_NAME};

fn addr() -> &'static str {
    PrivateBus::shared().address()
}

/// The limits the shell keeps (src/busctl/tree.rs).
const MAX_OBJECTS: usize = 16_384;
const MAX_DEPTH: usize = 64;

#[test]
fn tree_bounds_a_service_with_endless_children() {
    let r = Shell::new()
        .address(addr())
        .timeout(Duration::from_secs(120))
        .args(&["tree", ENDLESS_NAME])
        .run();
    r.failure().stderr_has(&format!(
        "{ENDLESS_NAME} reports more than {MAX_OBJECTS} objects: only the first {MAX_OBJECTS} were walked"
    ));
    let lines = r.stdout.lines().count();
    // Every walked object but / is drawn.
    assert_eq!(
        lines,
        MAX_OBJECTS - 1,
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
}

#[test]
fn tree_bounds_a_deep_tree() {
    let r = Shell::new()
        .address(addr())
        .args(&["tree", DEEP_NAME])
        .run();
    r.failure().stderr_has(&format!(
        "{DEEP_NAME} reports objects more than {MAX_DEPTH} levels deep: those were not walked"
    ));
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), MAX_DEPTH);
    let deepest = format!("/{}", vec!["d"; MAX_DEPTH].join("/"));
    assert_eq!(
        lines.last().unwrap().trim_start(),
        format!("└─{deepest}"),
        "the deepest object drawn"
    );
    // Drawn as busctl draws a chain: two more columns per level.
    assert_eq!(lines[1], "  └─/d/d");
}

#[test]
fn tree_over_all_names_goes_on_past_a_bad_service() {
    // The endless services come before org.rustemd.Test (names are sorted); each is cut and
    // the walk goes on to the next. org.rustemd.Silent would wait for its timeout: cut short,
    // yet long enough for the test service to answer while other tests walk its endless trees
    // through the same connection (at 2 s, it sometimes did not: a flaky test).
    let r = Shell::new()
        .address(addr())
        .timeout(Duration::from_secs(240))
        .args(&["--timeout=10", "tree"])
        .run();
    r.failure();
    let test = r
        .stdout
        .find(&format!("Service {TEST_NAME}:"))
        .unwrap_or_else(|| panic!("no tree of {TEST_NAME}: {}", r.stderr));
    assert!(
        r.stdout[test..].contains("/org/rustemd/Test/child/a"),
        "{}\n---\n{}",
        &r.stdout[test..],
        r.stderr
    );
    for cut in [ENDLESS_NAME, DEEP_NAME] {
        assert!(r.stdout.contains(&format!("Service {cut}:")));
        assert!(r.stderr.contains(&format!("{cut} reports")), "{}", r.stderr);
    }
    assert!(r.stdout.contains(&format!(
        "Failed to introspect object / of service {SILENT_NAME}: no reply"
    )));
}

#[test]
fn tree_is_interrupted_by_ctrl_c() {
    // The walk waits on a service that never answers; Ctrl-C ends it with 130.
    let before = SILENT_CALLS.load(Ordering::SeqCst);
    let child = Command::new(BIN)
        .args(["--address", addr(), "-c", &format!("tree {SILENT_NAME}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while SILENT_CALLS.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the shell never called");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn one_invalid_type_skips_that_member_and_keeps_the_rest() {
    // Regression (issue 12, item 16): one bad type made the whole object unusable, again and
    // again. Twice in one session: the second time from the cache, the same.
    let r = Shell::new()
        .address(addr())
        .input("introspect org.rustemd.Odd /illtyped\nintrospect org.rustemd.Odd /illtyped\n")
        .run();
    r.success();
    assert_eq!(r.stdout.matches(".Good").count(), 2, "{}", r.stdout);
    assert_eq!(r.stdout.matches(".Fine").count(), 2, "{}", r.stdout);
    assert!(!r.stdout.contains(".Bad"), "{}", r.stdout);
    r.stderr_has("warning: org.rustemd.Ill1.Bad: invalid type 'zz' (argument 1) (left out)");
}

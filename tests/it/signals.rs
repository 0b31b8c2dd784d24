//! Signals delivered to whoever subscribed: `wait` on the test service's `Changed` signal,
//! driven by the signal (the test keeps emitting until the waiter has its answer).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::dbus::{PrivateBus, busctl};
use crate::support::shell::{BIN, Shell};
use crate::support::testservice::{TEST_IFACE, TEST_NAME, TEST_PATH};

fn addr() -> &'static str {
    PrivateBus::shared().address()
}

#[test]
fn wait_returns_the_signal_body_when_it_arrives() {
    let mut waiter = Command::new(BIN)
        .args([
            "--address",
            addr(),
            "wait",
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Changed",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The waiter subscribes asynchronously: emit until it has seen one.
    let status = loop {
        if let Some(st) = waiter.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "wait never returned");
        let out = busctl(&[
            "call", TEST_NAME, TEST_PATH, TEST_IFACE, "Emit", "sv", "hello", "u", "7",
        ]);
        assert!(out.status.success(), "{out:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = waiter.wait_with_output().unwrap();
    assert!(status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sv \"hello\" u 7\n");
}

#[test]
fn wait_is_bounded_by_its_timeout_and_leaves_the_shell_going() {
    Shell::new()
        .address(addr())
        .input(&format!(
            "wait --timeout=300ms {TEST_PATH} {TEST_IFACE} Never\nprint('on')\n"
        ))
        .run()
        .failure()
        .stderr_has("Failed to wait for signal: no org.rustemd.Test1.Never signal arrived")
        .stdout_is("on\n");
}

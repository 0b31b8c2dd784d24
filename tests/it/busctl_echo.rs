//! Our printing and argument parsing against the real busctl, black-box: both tools run with the
//! same words against the shared private bus (`busctl --address=… VERB …` and
//! `rustemd-shell --address=… VERB …`, one-shot), and what they print must be identical, byte
//! for byte: stdout, and for bad arguments the error message on stderr.
//!
//! busctl's formats have many corners (`%g`, octal escapes, number prefixes, error texts) and the
//! only authority is busctl itself. `org.rustemd.Echo` replies with exactly the body it got, so
//! `call org.rustemd.Echo … Echo SIG ARGS…` shows how each tool marshals `ARGS` and prints them
//! back. Real replies and properties of the bus daemon are compared too.

use std::process::Output;

use crate::support::dbus::{PrivateBus, busctl, stderr, stdout};
use crate::support::shell::{Run, Shell};
use crate::support::testservice::{ECHO_IFACE, ECHO_NAME, ECHO_PATH};

const DBUS: &str = "org.freedesktop.DBus";
const DBUS_PATH: &str = "/org/freedesktop/DBus";

/// Run `args` with busctl and with our shell; the shell must not panic or hang.
fn both(args: &[&str]) -> (Run, Output) {
    let theirs = busctl(args);
    let ours = Shell::new()
        .address(PrivateBus::shared().address())
        .args(args)
        .run();
    ours.no_panic();
    (ours, theirs)
}

/// Both tools succeed and print the same stdout, which is returned.
#[track_caller]
fn same_stdout(args: &[&str]) -> String {
    let (ours, theirs) = both(args);
    assert!(
        theirs.status.success(),
        "busctl failed for {args:?}: {}",
        stderr(&theirs)
    );
    assert_eq!(
        ours.stdout,
        stdout(&theirs),
        "stdout differs for {args:?} (left: ours, right: busctl); our stderr: {}",
        ours.stderr
    );
    assert_eq!(
        ours.code,
        Some(0),
        "we failed where busctl succeeded for {args:?}: {}",
        ours.stderr
    );
    ours.stdout
}

/// Both tools refuse and print the same error message.
#[track_caller]
fn same_error(args: &[&str]) {
    let (ours, theirs) = both(args);
    assert!(
        !theirs.status.success(),
        "busctl accepted {args:?}: {}",
        stdout(&theirs)
    );
    assert_eq!(
        ours.stderr,
        stderr(&theirs),
        "error differs for {args:?} (left: ours, right: busctl)"
    );
    assert_eq!(
        ours.code,
        theirs.status.code(),
        "exit status differs for {args:?}"
    );
    assert_eq!(ours.stdout, stdout(&theirs), "stdout differs for {args:?}");
}

/// `call org.rustemd.Echo PATH IFACE Echo -- SIG WORDS...` (no signature when `sig` is empty).
fn echo_call<'a>(sig: &'a str, words: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "--"];
    if !sig.is_empty() {
        args.push(sig);
        args.extend_from_slice(words);
    }
    args
}

#[test]
fn echoed_arguments_print_like_busctl() {
    let cases: &[(&str, &[&str])] = &[
        ("u", &["17822"]),
        ("s", &["\x01ä"]),
        ("as", &["2", "a", "b"]),
        ("a{sv}", &["2", "key", "s", "value", "n", "u", "5"]),
        // Duplicate keys, wire order: only an exact echo keeps them.
        ("a{ss}", &["3", "k", "v", "k", "w", "a", "z"]),
        ("v", &["s", "hello"]),
        ("(su)", &["x", "5"]),
        ("(su)(su)", &["x", "5", "y", "0x10"]),
        (
            "ynqiuxtdb",
            &[
                "255",
                "-32768",
                "65535",
                "-5",
                "0x10",
                "-9223372036854775808",
                "18446744073709551615",
                "3.14159265",
                "yes",
            ],
        ),
        (
            "dddddddd",
            &[
                "1e-5",
                "123456789",
                "-0",
                "inf",
                "-inf",
                "0.1",
                "999999.5",
                "0x1p-3",
            ],
        ),
        ("d", &["nan"]),
        ("uuuu", &["010", "0o17", "0b101", " +7"]),
        (
            "s",
            &["tab\there \"q\" 'a' \\ ä € \x01 \x7f \x1b[0m\n\r\x07\x08\x0b\x0c"],
        ),
        ("og", &["/org/x_1", "a{sv}(ii)"]),
        (
            "a(sa{sv})",
            &["1", "n", "2", "a", "b", "true", "c", "ai", "1", "-3"],
        ),
        ("aay", &["2", "1", "7", "0"]),
        ("vv", &["as", "0", "(iv)", "1", "v", "b", "true"]),
        ("ay", &["0"]),
        ("a{ya{sv}}", &["1", "7", "1", "x", "g", "sv"]),
        ("", &[]),
    ];
    for (sig, words) in cases {
        same_stdout(&echo_call(sig, words));
    }
}

#[test]
fn bad_arguments_fail_like_busctl() {
    let cases: &[(&str, &[&str])] = &[
        ("u", &["-5"]),
        ("n", &["0x-5"]),
        ("y", &["256"]),
        ("b", &["maybe"]),
        ("d", &["1e400"]),
        ("as", &["3", "a"]),
        ("s", &["a", "b"]),
        ("as", &["many"]),
        ("{sv}", &["a", "s", "b"]),
        ("(s", &["x"]),
        ("a{vs}", &["0"]),
        ("o", &["relative"]),
        ("v", &["ss", "a", "b"]),
        ("h", &["0"]),
        ("sz", &["a", "b"]),
    ];
    for (sig, words) in cases {
        same_error(&echo_call(sig, words));
    }
}

#[test]
fn bus_daemon_replies_print_like_busctl() {
    let call =
        |iface: &'static str, method: &'static str| vec!["call", DBUS, DBUS_PATH, iface, method];
    same_stdout(&call(DBUS, "ListActivatableNames"));
    same_stdout(&call(DBUS, "GetId"));
    same_stdout(&call("org.freedesktop.DBus.Introspectable", "Introspect"));
    // The owner of the echo service: a unique name, the same for both callers.
    let mut args = call(DBUS, "GetNameOwner");
    args.extend(["s", ECHO_NAME]);
    let owner = same_stdout(&args);
    let unique = owner
        .strip_prefix("s \"")
        .and_then(|s| s.strip_suffix("\"\n"))
        .unwrap_or_else(|| panic!("GetNameOwner printed {owner:?}"));
    assert!(unique.starts_with(':'), "{owner:?}");
    let mut args = call(DBUS, "GetNameOwner");
    args.extend(["s", unique]);
    same_stdout(&args);
    let mut args = call(DBUS, "GetConnectionCredentials");
    args.extend(["s", unique]);
    same_stdout(&args);
}

#[test]
fn bus_daemon_properties_print_like_busctl() {
    let table = same_stdout(&["introspect", DBUS, DBUS_PATH, DBUS]);
    for prop in ["Features", "Interfaces"] {
        // get-property prints the variant's contents: `SIG VALUES`.
        let got = same_stdout(&["get-property", DBUS, DBUS_PATH, DBUS, prop]);
        let value = got
            .strip_prefix("as ")
            .and_then(|v| v.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("{prop} is not an `as`: {got:?}"));
        // `introspect` shows the same value without the signature in its VALUE column.
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!(".{prop} ")))
            .unwrap_or_else(|| panic!("no row .{prop} in\n{table}"));
        assert!(
            row.contains(&format!(" as        {value} ")),
            "{row:?} vs {value:?}"
        );
    }
}

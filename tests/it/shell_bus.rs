//! The shell against a private dbus-daemon with the odd test service: busctl's verbs compared
//! with the real busctl, pystemd-style objects with exotic signatures, and bad input.

use std::time::{Duration, Instant};

use crate::support::dbus::{PrivateBus, busctl, stderr, stdout};
use crate::support::shell::{Shell, squeeze};
use crate::support::testservice::{ODD_NAME, TEST_IFACE, TEST_NAME, TEST_PATH};

fn addr() -> &'static str {
    PrivateBus::shared().address()
}

fn shell() -> Shell {
    Shell::new().address(addr())
}

/// Run one busctl verb in both tools; stdout and success must agree. Other tests write
/// properties of the same service (Count, Invalidates), so a difference is retried twice
/// before it counts: a formatting difference never goes away.
#[track_caller]
fn same_as_busctl(args: &[&str]) {
    let mut attempt = 0;
    let (theirs, ours) = loop {
        attempt += 1;
        let theirs = busctl(args);
        let ours = shell().args(args).run();
        ours.no_panic();
        let same = squeeze(&ours.stdout) == squeeze(&stdout(&theirs))
            && (ours.code == Some(0)) == theirs.status.success();
        if same || attempt == 3 {
            break (theirs, ours);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        squeeze(&ours.stdout),
        squeeze(&stdout(&theirs)),
        "stdout differs for {args:?}\nours:\n{}\nbusctl:\n{}\nour stderr: {}",
        ours.stdout,
        stdout(&theirs),
        ours.stderr
    );
    assert_eq!(
        ours.code == Some(0),
        theirs.status.success(),
        "exit status differs for {args:?}: ours {:?} ({}), busctl {:?} ({})",
        ours.code,
        ours.stderr,
        theirs.status,
        stderr(&theirs)
    );
}

#[test]
fn busctl_verbs_match_busctl_on_the_test_service() {
    let props = [
        "Count",
        "Name",
        "Strings",
        "Dict",
        "Tuple",
        "Const",
        "Invalidates",
        "Path",
        "Big",
        "Neg",
    ];
    for p in props {
        same_as_busctl(&["get-property", TEST_NAME, TEST_PATH, TEST_IFACE, p]);
    }
    same_as_busctl(&[
        "get-property",
        TEST_NAME,
        TEST_PATH,
        TEST_IFACE,
        "Big",
        "Neg",
        "Strings",
    ]);
    same_as_busctl(&["introspect", TEST_NAME, TEST_PATH]);
    same_as_busctl(&["introspect", TEST_NAME, TEST_PATH, TEST_IFACE]);
    same_as_busctl(&["introspect", TEST_NAME, "/org/rustemd/Test/child/a"]);
    same_as_busctl(&["tree", TEST_NAME]);
    let calls: &[&[&str]] = &[
        &["Nested"],
        &["Multiple"],
        &["EmptyArrays"],
        &[
            "--",
            "AllInts",
            "ynqiuxtd",
            "255",
            "-32768",
            "65535",
            "-2147483648",
            "4294967295",
            "-9223372036854775808",
            "18446744073709551615",
            "2.5",
        ],
        &["EchoDict", "a{sv}", "2", "k", "s", "v", "n", "v", "i", "3"],
        &["EchoVariant", "v", "a{sv}", "1", "k", "u", "7"],
        &[
            "EchoStructs",
            "a(sasb)",
            "2",
            "a",
            "2",
            "x",
            "y",
            "true",
            "b",
            "0",
            "false",
        ],
        &["Bytes", "ay", "3", "0", "1", "255"],
        &["Fail", "s", "boom"],
        &["Nope"],
        &["EchoVariant", "v", "u"],
        &["EchoVariant", "v", "u", "1", "2"],
    ];
    for c in calls {
        // `--` (busctl's end of options) goes first so negative numbers are values.
        let (dashdash, c) = match c.first() {
            Some(&"--") => (true, &c[1..]),
            _ => (false, &c[..]),
        };
        let mut args = vec!["call"];
        if dashdash {
            args.push("--");
        }
        args.extend_from_slice(&[TEST_NAME, TEST_PATH, TEST_IFACE]);
        args.extend_from_slice(c);
        same_as_busctl(&args);
    }
    // The bus daemon itself.
    same_as_busctl(&[
        "call",
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetId",
    ]);
    same_as_busctl(&[
        "introspect",
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
    ]);
    // Odd peers.
    same_as_busctl(&["introspect", ODD_NAME, "/empty"]);
    same_as_busctl(&["introspect", ODD_NAME, "/weird"]);
    same_as_busctl(&["introspect", ODD_NAME, "/huge"]);
    same_as_busctl(&["introspect", ODD_NAME, "/nope"]);
    same_as_busctl(&["tree", ODD_NAME]);
}

#[test]
fn set_property_then_get_property_round_trips() {
    shell()
        .args(&[
            "set-property",
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Invalidates",
            "u",
            "77",
        ])
        .run()
        .success();
    shell()
        .args(&[
            "get-property",
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Invalidates",
        ])
        .run()
        .success()
        .stdout_is("u 77\n");
    let r = shell()
        .args(&[
            "set-property",
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Invalidates",
            "u",
            "x",
        ])
        .run();
    r.failure().no_panic().stderr_has("Failed to parse 'x'");
}

#[test]
fn busctl_lines_run_as_written_with_or_without_busctl() {
    let line = format!("busctl get-property {TEST_NAME} {TEST_PATH} {TEST_IFACE} Strings");
    shell()
        .input(&format!("{line}\n{}\n", &line["busctl ".len()..]))
        .run()
        .success()
        .stdout_is("as 3 \"alpha\" \"beta gamma\" \"\"\nas 3 \"alpha\" \"beta gamma\" \"\"\n");
}

#[test]
fn objects_read_properties_and_call_methods_with_exotic_signatures() {
    let src = format!(
        r#"x = object("{TEST_NAME}", "{TEST_PATH}")
x.Test1.Const
x.Test1.Strings
x.Test1.Big
type(_)
x.Test1.Neg
x.Test1.Path
type(x.Test1.Path)
x.Test1.Tuple
x.Test1.Nested()
x.Test1.EchoDict({{"a": 1, "b": "x", "c": [1, 2]}})
x.Test1.EchoStructs([("s", ["a", "b"], True)])
x.Test1.Bytes(b"ab")
x.Test1.EmptyArrays()
x.Test1.Multiple()
x.Test1.Count = 5
x.Test1.Count
x.Properties.Get("{TEST_IFACE}", "Count")
type(_)
x.interfaces["{TEST_IFACE}"].Const
"#
    );
    let want = "'constant'
['alpha', 'beta gamma', '']
18446744073709551615
'uint64'
-9223372036854775808
ObjectPath('/org/rustemd/Test/child/b')
'ObjectPath'
('tuple', ObjectPath('/org/rustemd/Test/child/a'))
(42, ('nested', (b'\\x01\\x02\\x03',)))
{'a': 1, 'b': 'x', 'c': [1, 2]}
[('s', ['a', 'b'], True)]
b'ab'
([], {}, b'')
('multi', 7, ObjectPath('/org/rustemd/Test'), Signature('a{sv}'))
5
5
'uint32'
'constant'
";
    shell().input(&src).run().success().stdout_is(want);
}

#[test]
fn integer_widths_paths_and_bytes_survive_a_round_trip() {
    // Values read from the bus go back through a variant with their exact D-Bus type.
    let src = format!(
        r#"x = object("{TEST_NAME}", "{TEST_PATH}")
b = x.Test1.Big
n = x.Test1.Neg
p = x.Test1.Path
y = x.Test1.Bytes(b"\x00\xff")
x.Test1.EchoVariant(b) == b
type(x.Test1.EchoVariant(b))
type(x.Test1.EchoVariant(n))
type(x.Test1.EchoVariant(p))
type(x.Test1.EchoVariant(y))
type(x.Test1.EchoVariant(uint16(7)))
"#
    );
    shell()
        .input(&src)
        .run()
        .success()
        .stdout_is("True\n'uint64'\n'int64'\n'ObjectPath'\n'bytes'\n'uint16'\n");
    // And busctl sees the exact wire type we sent.
    shell()
        .input(&format!(
            "call {TEST_NAME} {TEST_PATH} {TEST_IFACE} EchoVariant v t 18446744073709551615\n"
        ))
        .run()
        .success()
        .stdout_is("v t 18446744073709551615\n");
}

#[test]
fn wrong_arguments_get_errors_that_name_the_argument() {
    let cases = [
        (
            "x.Test1.Slow('fast')",
            "argument 1 (ms): expected uint32 (u), got 'fast'",
        ),
        (
            "x.Test1.Slow(-1)",
            "argument 1 (ms): -1 does not fit in uint32 (u)",
        ),
        ("x.Test1.Slow()", "missing argument 1 (ms)"),
        ("x.Test1.Slow(1, 2)", "takes 1 argument, got 2"),
        (
            "x.Test1.EchoStructs([('s', 'notalist', True)])",
            "argument 1",
        ),
        ("x.Test1.Nope", "has no member 'Nope'"),
        ("x.Test1.Coutn", "did you mean Count?"),
        ("x.Tset1", "did you mean Test1?"),
        ("x.Test1.Const = 'x'", "read-only"),
        (
            "x.Test1.Fail('boom')",
            "org.rustemd.Test.Error.Failed: boom",
        ),
    ];
    for (line, want) in cases {
        let src =
            format!("x = object('{TEST_NAME}', '{TEST_PATH}')\n{line}\nprint('still here')\n");
        let r = shell().input(&src).run();
        r.failure()
            .no_panic()
            .stderr_has(want)
            .stdout_has("still here");
    }
}

#[test]
fn odd_peers_get_one_line_errors_and_the_shell_goes_on() {
    let cases = [
        (
            format!("object('{ODD_NAME}', '/bad').Foo"),
            "malformed introspection",
        ),
        (
            "object('org.rustemd.Never', '/x').Foo".to_string(),
            "org.freedesktop.DBus.Error.ServiceUnknown",
        ),
        (
            format!("introspect {ODD_NAME} /bad"),
            "Failed to introspect object /bad",
        ),
        (
            "introspect org.rustemd.Never /x".to_string(),
            "Failed to introspect object /x of service org.rustemd.Never",
        ),
    ];
    for (line, want) in cases {
        let r = shell()
            .input(&format!("{line}\nprint('still here')\n"))
            .run();
        r.failure()
            .no_panic()
            .stderr_has(want)
            .stdout_has("still here");
        assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    }
    // A huge introspection is fine.
    shell()
        .input(&format!("len(object('{ODD_NAME}', '/huge').interfaces)\n"))
        .run()
        .success()
        .stdout_is("20\n");
}

#[test]
fn a_slow_peer_is_cut_off_by_the_timeout() {
    let start = Instant::now();
    let r = shell()
        .args(&["--timeout", "1"])
        .input(&format!(
            "call {TEST_NAME} {TEST_PATH} {TEST_IFACE} Slow u 10000\nprint('after')\n"
        ))
        .run();
    r.failure()
        .no_panic()
        .stderr_has("no reply from org.rustemd.Test within 1.0 s")
        .stdout_has("after");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn broken_lines_never_hurt() {
    let lines = [
        ")(",
        "(((",
        "x = ",
        "= 3",
        "'unterminated",
        "\"also",
        "1 +",
        "a..b",
        "[1, 2",
        "{1: }",
        "f(a=1, 2)",
        "1 = 2",
        "import",
        "with",
        "!",
        "unit(",
        "unit('')",
        "manager(1, 2, 3)",
        "object('not a name', '/x')",
        "object('org.x.Y', 'no-slash')",
        "path_decode('/a', '/b')",
        "introspect",
        "call a",
        "get-property a b c",
        "tree 'unterminated",
        "busctl --user tree",
        "set-property a /b c D u",
        "1/0",
        "10**10**10",
        "[1][5]",
        "{}['x']",
        "None.x",
        "3()",
        "help nonsense",
        "list extra",
        "call org.freedesktop.DBus / org.freedesktop.DBus GetId s",
        "\u{0}",
        "é",
        "🦀🦀",
        "\\",
        "#",
        ";;;",
        "x = 1; x.y",
        "b'\\xff'.decode()",
    ];
    let mut src = String::new();
    for l in lines {
        src.push_str(l);
        src.push('\n');
    }
    src.push_str("print('survived')\n");
    let r = shell().input(&src).run();
    r.no_panic().stdout_has("survived");
    assert_eq!(
        r.code,
        Some(1),
        "a failed statement makes the exit status 1: {r:#?}"
    );
    for line in r.stderr.lines() {
        assert!(
            line.starts_with("error: "),
            "every error is one `error:` line: {line:?}"
        );
    }
}

#[test]
fn c_flag_file_and_one_shot_verbs_set_the_exit_status() {
    shell()
        .args(&["-c", "1+1"])
        .run()
        .success()
        .stdout_is("2\n");
    shell()
        .args(&["-c", "nope"])
        .run()
        .failure()
        .stderr_has("name 'nope' is not defined");
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), "x = 2\nprint(x * 21)\n").unwrap();
    shell()
        .args(&[f.path().to_str().unwrap()])
        .run()
        .success()
        .stdout_is("42\n");
    shell()
        .args(&["get-property", TEST_NAME, TEST_PATH, TEST_IFACE, "Const"])
        .run()
        .success()
        .stdout_is("s \"constant\"\n");
    Shell::new()
        .args(&[
            "--address",
            "unix:path=/nonexistent/socket",
            "-c",
            "object('org.x.Y', '/x').Foo",
        ])
        .run()
        .failure()
        .no_panic()
        .stderr_has("cannot connect");
}

#[test]
fn imports_bind_what_we_provide_and_refuse_the_rest() {
    Shell::new()
        .input(
            "from pystemd.systemd1 import Unit, Manager as M\nUnit\nM\n\
             import pystemd.dbuslib as d\nd.path_encode('/a', 'b.c')\n\
             from os import getpid\ntype(getpid())\nimport sys, time\ntype(time.time())\n",
        )
        .run()
        .success()
        .stdout_is(
            "<builtin pystemd.systemd1.Unit>\n<builtin pystemd.systemd1.Manager>\n\
             ObjectPath('/a/b_2ec')\n'int'\n'float'\n",
        );
    // Nothing is bound silently: a module we do not provide is an error that says so.
    Shell::new()
        .input("import nosuchmodule\nfrom os import nosuchname\nprint('goes on')\n")
        .run()
        .failure()
        .stdout_is("goes on\n")
        .stderr_has("module nosuchmodule is not available in rustemd-shell")
        .stderr_has("cannot import name 'nosuchname' from os");
}

#[test]
fn bus_selection_honours_the_environment_like_busctl() {
    let args = ["get-property", TEST_NAME, TEST_PATH, TEST_IFACE, "Const"];
    Shell::new()
        .env("DBUS_SYSTEM_BUS_ADDRESS", addr())
        .args(&args)
        .run()
        .success()
        .stdout_is("s \"constant\"\n");
    Shell::new()
        .env("DBUS_SESSION_BUS_ADDRESS", addr())
        .args(&["--user"])
        .args(&args)
        .run()
        .success()
        .stdout_is("s \"constant\"\n");
}

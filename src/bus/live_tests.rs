//! Checks against the real busctl 252 on a private dbus-daemon.
//!
//! Why live: busctl's formats have many corners (`%g`, octal escapes, number prefixes, error
//! texts) and the only authority is busctl itself. A tiny echo service built on our own
//! marshalling ([`encode_to_message`]/[`decode_message`]) sends back whatever busctl sends it, so
//! `busctl call … SIG ARGS…` must print exactly `format_reply(parse_args(SIG, ARGS))`. Real
//! dbus-daemon replies are compared too. Skipped (with a note) when dbus-daemon or busctl is
//! missing.

use std::process::{Child, Command, Stdio};

use futures_util::StreamExt;

use super::busctl_format::{format_reply, format_values, parse_args};
use super::data::Data;
use super::wire::{decode_message, encode_to_message};

struct Daemon {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_daemon() -> Option<Daemon> {
    use std::io::BufRead;
    let dir = tempfile::tempdir().ok()?;
    let config = dir.path().join("bus.conf");
    let socket = dir.path().join("bus");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .ok()?;
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    Some(Daemon {
        child,
        address: line.trim().to_owned(),
        _dir: dir,
    })
}

/// Run busctl against the private bus: (stdout, stderr, success).
async fn busctl(address: &str, args: &[&str]) -> (String, String, bool) {
    let out = tokio::process::Command::new("busctl")
        .arg(format!("--address={address}"))
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .env("LC_ALL", "C")
        .output()
        .await
        .expect("run busctl");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// Serve `Echo`: reply with exactly the values received, re-encoded by us.
async fn echo_service(address: &str) -> zbus::Connection {
    let conn = zbus::connection::Builder::address(address)
        .build()
        .await
        .unwrap();
    let mut stream = zbus::MessageStream::from(&conn);
    conn.request_name("org.rustemd.Echo").await.unwrap();
    let c = conn.clone();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let hdr = msg.header();
            if hdr.message_type() != zbus::message::Type::MethodCall
                || hdr.member().map(|m| m.as_str()) != Some("Echo")
            {
                continue;
            }
            let reply = match decode_message(&msg) {
                Ok((_, values)) => encode_to_message(zbus::Message::method_return(&hdr), &values),
                Err(e) => zbus::Message::error(&hdr, "org.rustemd.Error").build(&(e.to_string(),)),
            };
            c.send(&reply.unwrap()).await.unwrap();
        }
    });
    conn
}

fn have_tools() -> bool {
    let ok = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ok("dbus-daemon") && ok("busctl") {
        true
    } else {
        eprintln!("skipping: dbus-daemon or busctl not installed");
        false
    }
}

const ECHO: [&str; 5] = ["call", "org.rustemd.Echo", "/x", "org.rustemd.Echo", "Echo"];

#[test]
fn matches_real_busctl() {
    if !have_tools() {
        return;
    }
    let daemon = start_daemon().expect("start dbus-daemon");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let addr = daemon.address.as_str();
        let conn = echo_service(addr).await;

        let cases: &[(&str, &[&str])] = &[
            ("u", &["17822"]),
            ("s", &["\x01ä"]),
            ("as", &["2", "a", "b"]),
            ("a{sv}", &["2", "key", "s", "value", "n", "u", "5"]),
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
            let mut args: Vec<&str> = ECHO.to_vec();
            args.push("--");
            if !sig.is_empty() {
                args.push(sig);
                args.extend_from_slice(words);
            }
            let (stdout, stderr, ok) = busctl(addr, &args).await;
            assert!(ok, "busctl {sig} {words:?} failed: {stderr}");
            let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            let ours = format_reply(&parse_args(sig, &words).unwrap());
            assert_eq!(ours, stdout, "signature {sig:?} words {words:?}");
        }

        // Argument errors: busctl's stderr is our error text.
        let bad: &[(&str, &[&str])] = &[
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
        for (sig, words) in bad {
            let mut args: Vec<&str> = ECHO.to_vec();
            args.push("--");
            args.push(sig);
            args.extend_from_slice(words);
            let (_, stderr, ok) = busctl(addr, &args).await;
            assert!(!ok, "busctl accepted {sig} {words:?}");
            let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            let ours = parse_args(sig, &words).unwrap_err().to_string();
            assert_eq!(
                format!("{ours}\n"),
                stderr,
                "signature {sig:?} words {words:?}"
            );
        }

        // Real replies of the bus daemon.
        let dbus = |m: &'static str| {
            let conn = conn.clone();
            async move {
                let unique = conn.unique_name().unwrap().to_string();
                let reply = match m {
                    "GetConnectionCredentials" | "GetNameOwner" | "GetConnectionUnixUser" => conn
                        .call_method(
                            Some("org.freedesktop.DBus"),
                            "/org/freedesktop/DBus",
                            Some("org.freedesktop.DBus"),
                            m,
                            &(unique.as_str(),),
                        )
                        .await
                        .unwrap(),
                    "Introspect" => conn
                        .call_method(
                            Some("org.freedesktop.DBus"),
                            "/org/freedesktop/DBus",
                            Some("org.freedesktop.DBus.Introspectable"),
                            m,
                            &(),
                        )
                        .await
                        .unwrap(),
                    _ => conn
                        .call_method(
                            Some("org.freedesktop.DBus"),
                            "/org/freedesktop/DBus",
                            Some("org.freedesktop.DBus"),
                            m,
                            &(),
                        )
                        .await
                        .unwrap(),
                };
                (unique, format_reply(&decode_message(&reply).unwrap().1))
            }
        };
        for m in [
            "ListActivatableNames",
            "GetId",
            "GetConnectionCredentials",
            "GetNameOwner",
            "Introspect",
        ] {
            let (unique, ours) = dbus(m).await;
            let iface = if m == "Introspect" {
                "org.freedesktop.DBus.Introspectable"
            } else {
                "org.freedesktop.DBus"
            };
            let mut args = vec![
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                iface,
                m,
            ];
            if matches!(m, "GetConnectionCredentials" | "GetNameOwner") {
                args.extend(["s", unique.as_str()]);
            }
            let (stdout, stderr, ok) = busctl(addr, &args).await;
            assert!(ok, "{m}: {stderr}");
            assert_eq!(ours, stdout, "{m}");
        }

        // get-property prints the variant's contents: `SIG VALUES`.
        for prop in ["Features", "Interfaces"] {
            let reply = conn
                .call_method(
                    Some("org.freedesktop.DBus"),
                    "/org/freedesktop/DBus",
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &("org.freedesktop.DBus", prop),
                )
                .await
                .unwrap();
            let (_, values) = decode_message(&reply).unwrap();
            let [Data::Variant(inner)] = values.as_slice() else {
                panic!("{values:?}")
            };
            let ours = format_reply(std::slice::from_ref(&**inner));
            let (stdout, stderr, ok) = busctl(
                addr,
                &[
                    "get-property",
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                    prop,
                ],
            )
            .await;
            assert!(ok, "{prop}: {stderr}");
            assert_eq!(ours, stdout, "{prop}");

            // `introspect` shows the same value without the signature in its VALUE column.
            let (table, _, ok) = busctl(
                addr,
                &[
                    "introspect",
                    "org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus",
                ],
            )
            .await;
            assert!(ok);
            let row = table
                .lines()
                .find(|l| l.starts_with(&format!(".{prop} ")))
                .unwrap();
            let value = format_values(std::slice::from_ref(&**inner));
            assert!(
                row.contains(&format!(" as        {value} ")),
                "{row:?} vs {value:?}"
            );
        }
    });
}

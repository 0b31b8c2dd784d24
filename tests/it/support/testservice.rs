//! The test D-Bus service run on [`super::dbus::PrivateBus::shared`].
//!
//! It runs on its own thread with its own (multi-thread, 2 workers) tokio runtime, started once.
//! Names on the bus:
//!
//! * `org.rustemd.Test` (zbus object server):
//!   - `/org/rustemd/Test`, interface `org.rustemd.Test1` (see [`Test`] for every member),
//!   - `/org/rustemd/Test/child/a` and `/org/rustemd/Test/child/b`, interface
//!     `org.rustemd.Child1` (`Id` property `s` = "a"/"b", `Ping() -> s` = "pong from a"/"b").
//! * `org.rustemd.Odd` (raw message loop, no object server; `Introspect` only):
//!   `/bad` malformed XML, `/huge` 20 interfaces x 500 members, `/slow` replies after 30 s,
//!   `/empty` `<node/>`, `/weird` unusual-but-valid XML, `/illtyped` one member with an
//!   invalid type among good ones; `Properties.GetAll` on those paths
//!   returns an empty `a{sv}`, other methods get `org.freedesktop.DBus.Error.UnknownMethod`; any other path (`/` included)
//!   `org.freedesktop.DBus.Error.UnknownObject`.
//! * `org.rustemd.Echo` (raw message loop, no object server): `Echo` (on any path and
//!   interface) replies with exactly the body it received — the same signature as the request's
//!   header spells it, the same bytes, the same order, the same file descriptors — so a client's
//!   printout of the reply shows exactly what it sent. `Introspect` describes `Echo` at
//!   [`ECHO_PATH`]; other methods get `org.freedesktop.DBus.Error.UnknownMethod`.
//! * `org.rustemd.Endless` and `org.rustemd.Deep` (raw message loop; `Introspect` only, on any
//!   path): services whose trees never end. Every object of `Endless` has the children `a`,
//!   `b` and `c`; every object of `Deep` has one child `d`. Other methods get
//!   `org.freedesktop.DBus.Error.UnknownMethod`. `org.rustemd.Silent` (same connection) never
//!   answers anything; [`SILENT_CALLS`] counts what it received.
//! * `org.rustemd.Gone`: `/org/rustemd/Gone` with `org.rustemd.Child1` (`Id` = "gone"), until
//!   [`drop_gone_peer`] closes its connection; afterwards calls to it fail with
//!   `org.freedesktop.DBus.Error.ServiceUnknown` (as does any name nobody owns).
//!   [`TransientPeer`] gives a test a peer of its own to drop.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use zbus::object_server::SignalEmitter;
use zbus::{
    Connection, DBusError, MessageStream, OwnedObjectPath, OwnedVariant, Signature, Variant,
    connection, interface,
};

pub const TEST_NAME: &str = "org.rustemd.Test";
pub const TEST_PATH: &str = "/org/rustemd/Test";
pub const TEST_IFACE: &str = "org.rustemd.Test1";
pub const CHILD_IFACE: &str = "org.rustemd.Child1";
pub const CHILD_A: &str = "/org/rustemd/Test/child/a";
pub const CHILD_B: &str = "/org/rustemd/Test/child/b";
pub const ODD_NAME: &str = "org.rustemd.Odd";
pub const GONE_NAME: &str = "org.rustemd.Gone";
pub const ENDLESS_NAME: &str = "org.rustemd.Endless";
pub const DEEP_NAME: &str = "org.rustemd.Deep";
pub const SILENT_NAME: &str = "org.rustemd.Silent";

/// How many calls `org.rustemd.Silent` received (and will never answer).
pub static SILENT_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
pub const ECHO_NAME: &str = "org.rustemd.Echo";
pub const ECHO_PATH: &str = "/org/rustemd/Echo";
pub const ECHO_IFACE: &str = "org.rustemd.Echo1";
pub const GONE_PATH: &str = "/org/rustemd/Gone";
/// The error name of `Fail`.
pub const FAILED_ERROR: &str = "org.rustemd.Test.Error.Failed";
/// How long `/slow` on `org.rustemd.Odd` waits before answering `Introspect`.
pub const ODD_SLOW_DELAY: Duration = Duration::from_secs(30);
/// Upper bound for `Slow(ms)`: larger values are clamped.
pub const SLOW_MAX_MS: u32 = 120_000;

/// Value of the `Strings` property.
pub const STRINGS: [&str; 3] = ["alpha", "beta gamma", ""];
/// Value of the `Dict` property's `"s"` entry.
pub const DICT_S: &str = "with \"quote\" and \n newline";
/// Value of the `Const` property.
pub const CONST_VALUE: &str = "constant";
/// Initial value of the `Name` property.
pub const INITIAL_NAME: &str = "initial";

/// Errors of `org.rustemd.Test1`: `Fail(s)` returns `org.rustemd.Test.Error.Failed`.
#[derive(Debug, DBusError)]
#[zbus(prefix = "org.rustemd.Test.Error")]
pub enum TestError {
    #[zbus(error)]
    ZBus(zbus::Error),
    Failed(String),
}

/// `org.rustemd.Test1` at `/org/rustemd/Test`.
///
/// Methods: `EchoDict(a{sv}) -> a{sv}` (sorted by key), `EchoStructs(a(sasb)) -> a(sasb)`,
/// `Nested() -> (i(s(ay)))` = `(42, ("nested", ([1,2,3])))`, `EchoVariant(v) -> v`,
/// `AllInts(y n q i u x t d) -> (ynqiuxtd)` (one struct out arg echoing the inputs),
/// `EmptyArrays() -> as a{sv} ay` (all empty), `Fd(h) -> s` (reads up to 256 bytes, waiting at
/// most 1 s: "got fd: <text>", "got fd (empty)", "got fd (no data)" or "got fd (<errno>)"),
/// `Multiple() -> s u o g` = `"multi" 7 /org/rustemd/Test "a{sv}"`, `Fail(s)` (always
/// `org.rustemd.Test.Error.Failed` with the given message), `Slow(u ms) -> u` (sleeps `ms`,
/// clamped to 120 s), `Bytes(ay) -> ay`, `Emit(s name, v value)` (emits `Changed(name, value)`).
///
/// Properties: `Count` u rw (0), `Name` s rw (emits change, and also the `Changed` signal;
/// "initial"), `Strings` as ["alpha","beta gamma",""], `Dict` a{sv} {"a": as ["x","y"],
/// "b": b true, "i": i -5, "s": s "with \"quote\" and \n newline"}, `Tuple` (so)
/// ("tuple", /org/rustemd/Test/child/a), `Const` s "constant" (const), `Invalidates` u rw
/// (invalidates; 1), `Path` o /org/rustemd/Test/child/b, `Big` t u64::MAX, `Neg` x i64::MIN,
/// `WriteOnly` s write-only. Signal: `Changed(s name, v value)`.
#[derive(Debug)]
pub struct Test {
    count: u32,
    name: String,
    invalidates: u32,
    write_only: String,
}

impl Default for Test {
    fn default() -> Self {
        Test {
            count: 0,
            name: INITIAL_NAME.to_string(),
            invalidates: 1,
            write_only: String::new(),
        }
    }
}

fn describe_read(res: std::io::Result<usize>, buf: &[u8]) -> String {
    match res {
        Ok(0) => "got fd (empty)".to_string(),
        Ok(n) => format!("got fd: {}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => format!("got fd ({e})"),
    }
}

/// Read up to 256 bytes from `fd`, waiting at most 1 s for data.
async fn read_fd_bounded(fd: std::os::fd::OwnedFd) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `fd` is an `OwnedFd` moved into the `AsyncFd`: it is open, nothing else can close
    // it, and its `as_raw_fd()` always returns the same descriptor until the `AsyncFd` is dropped.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    match registered {
        Ok(afd) => match tokio::time::timeout(Duration::from_secs(1), afd.readable()).await {
            Err(_) => "got fd (no data)".to_string(),
            Ok(Err(e)) => format!("got fd ({e})"),
            Ok(Ok(_guard)) => {
                // Readable now, so this read does not block.
                let res = nix::unistd::read(afd.get_ref(), &mut buf).map_err(std::io::Error::from);
                describe_read(res, &buf)
            }
        },
        Err(err) => {
            let (fd, e) = err.into_parts();
            if e.raw_os_error() == Some(nix::libc::EPERM) {
                // epoll refuses regular files (and /dev/null): those never block.
                let res = nix::unistd::read(&fd, &mut buf).map_err(std::io::Error::from);
                describe_read(res, &buf)
            } else {
                format!("got fd ({e})")
            }
        }
    }
}

#[interface(name = "org.rustemd.Test1")]
impl Test {
    fn echo_dict(&self, dict: HashMap<String, OwnedVariant>) -> BTreeMap<String, OwnedVariant> {
        dict.into_iter().collect()
    }

    fn echo_structs(
        &self,
        items: Vec<(String, Vec<String>, bool)>,
    ) -> Vec<(String, Vec<String>, bool)> {
        items
    }

    #[allow(clippy::type_complexity)]
    fn nested(&self) -> ((i32, (String, (Vec<u8>,))),) {
        ((42, ("nested".to_string(), (vec![1, 2, 3],))),)
    }

    fn echo_variant(&self, value: OwnedVariant) -> OwnedVariant {
        value
    }

    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn all_ints(
        &self,
        y: u8,
        n: i16,
        q: u16,
        i: i32,
        u: u32,
        x: i64,
        t: u64,
        d: f64,
    ) -> ((u8, i16, u16, i32, u32, i64, u64, f64),) {
        ((y, n, q, i, u, x, t, d),)
    }

    #[zbus(out_args("strings", "dict", "bytes"))]
    fn empty_arrays(&self) -> (Vec<String>, HashMap<String, OwnedVariant>, Vec<u8>) {
        (Vec::new(), HashMap::new(), Vec::new())
    }

    async fn fd(&self, fd: zbus::OwnedFd) -> String {
        read_fd_bounded(fd.into()).await
    }

    #[zbus(out_args("string", "number", "path", "signature"))]
    fn multiple(&self) -> (String, u32, OwnedObjectPath, Signature) {
        (
            "multi".to_string(),
            7,
            OwnedObjectPath::try_from(TEST_PATH).expect("valid path"),
            Signature::try_from("a{sv}").expect("valid signature"),
        )
    }

    fn fail(&self, message: String) -> Result<(), TestError> {
        Err(TestError::Failed(message))
    }

    async fn slow(&self, ms: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(u64::from(ms.min(SLOW_MAX_MS)))).await;
        ms
    }

    fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        bytes
    }

    async fn emit(
        &self,
        name: String,
        value: OwnedVariant,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        Self::changed(&emitter, &name, &value).await?;
        Ok(())
    }

    #[zbus(signal)]
    async fn changed(
        emitter: &SignalEmitter<'_>,
        name: &str,
        value: &Variant<'_>,
    ) -> zbus::Result<()>;

    #[zbus(property)]
    fn count(&self) -> u32 {
        self.count
    }

    #[zbus(property)]
    fn set_count(&mut self, count: u32) {
        self.count = count;
    }

    #[zbus(property)]
    fn name(&self) -> String {
        self.name.clone()
    }

    #[zbus(property)]
    async fn set_name(&mut self, name: String, #[zbus(signal_emitter)] emitter: SignalEmitter<'_>) {
        self.name = name;
        let _ = Self::changed(&emitter, "Name", &Variant::from(self.name.as_str())).await;
    }

    #[zbus(property)]
    fn strings(&self) -> Vec<String> {
        STRINGS.iter().map(|s| s.to_string()).collect()
    }

    #[zbus(property)]
    fn dict(&self) -> BTreeMap<String, OwnedVariant> {
        let mut map = BTreeMap::new();
        map.insert(
            "a".to_string(),
            OwnedVariant::try_from(Variant::from(vec!["x", "y"])).expect("owned"),
        );
        map.insert("b".to_string(), OwnedVariant::from(true));
        map.insert("i".to_string(), OwnedVariant::from(-5i32));
        map.insert(
            "s".to_string(),
            OwnedVariant::try_from(Variant::from(DICT_S)).expect("owned"),
        );
        map
    }

    #[zbus(property)]
    fn tuple(&self) -> (String, OwnedObjectPath) {
        (
            "tuple".to_string(),
            OwnedObjectPath::try_from(CHILD_A).expect("valid path"),
        )
    }

    #[zbus(property(emits_changed_signal = "const"))]
    fn r#const(&self) -> String {
        CONST_VALUE.to_string()
    }

    #[zbus(property(emits_changed_signal = "invalidates"))]
    fn invalidates(&self) -> u32 {
        self.invalidates
    }

    #[zbus(property)]
    fn set_invalidates(&mut self, value: u32) {
        self.invalidates = value;
    }

    #[zbus(property)]
    fn path(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(CHILD_B).expect("valid path")
    }

    #[zbus(property)]
    fn big(&self) -> u64 {
        u64::MAX
    }

    #[zbus(property)]
    fn neg(&self) -> i64 {
        i64::MIN
    }

    #[zbus(property)]
    fn set_write_only(&mut self, value: String) {
        self.write_only = value;
    }
}

/// `org.rustemd.Child1` on the child objects and on `org.rustemd.Gone`.
#[derive(Debug)]
pub struct Child {
    id: String,
}

#[interface(name = "org.rustemd.Child1")]
impl Child {
    fn ping(&self) -> String {
        format!("pong from {}", self.id)
    }

    #[zbus(property)]
    fn id(&self) -> String {
        self.id.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// org.rustemd.Odd: a hand-written message loop.

/// Reply of `/bad`: not well-formed XML.
pub const ODD_BAD_XML: &str = r#"<node><interface name="x"><method name="#;
/// Reply of `/illtyped`: one member with an invalid type among good ones.
pub const ODD_ILLTYPED_XML: &str = r#"<node><interface name="org.rustemd.Ill1">
  <method name="Bad"><arg name="x" type="zz" direction="in"/></method>
  <method name="Good"><arg name="x" type="s" direction="in"/></method>
  <property name="Fine" type="u" access="read"/>
</interface></node>"#;
/// Reply of `/empty`.
pub const ODD_EMPTY_XML: &str = "<node/>";
/// Reply of `/slow` (after [`ODD_SLOW_DELAY`]).
pub const ODD_SLOW_XML: &str =
    r#"<node><interface name="org.rustemd.Slow1"><method name="Nothing"/></interface></node>"#;
/// Reply of `/weird`: valid, but uses rarely seen parts of the format.
pub const ODD_WEIRD_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<!-- a comment before the root element -->
<node name="/weird">
  <!-- a comment inside -->
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml_data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.rustemd.Weird1">
    <annotation name="org.freedesktop.DBus.Deprecated" value="true"/>
    <method name="NoNames">
      <arg type="s"/>
      <arg type="a{sv}" direction="in"/>
      <arg type="(i(s(ay)))" direction="out"/>
    </method>
    <method name="NoReply">
      <annotation name="org.freedesktop.DBus.Method.NoReply" value="true"/>
      <arg name="x" type="u" direction="in"/>
    </method>
    <method name="Empty"/>
    <signal name="Sig">
      <arg type="s"/>
      <arg name="named" type="v"/>
      <annotation name="org.freedesktop.DBus.Deprecated" value="true"/>
    </signal>
    <signal name="Bare"/>
    <property name="RW" type="a(sasb)" access="readwrite">
      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="invalidates"/>
    </property>
    <property name="WO" type="h" access="write"/>
    <property name="Const" type="g" access="read">
      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/>
    </property>
    <property name="Entities" type="s" access="read">
      <annotation name="org.rustemd.Note" value="&lt;tag&gt; &amp; &quot;quoted&quot; &apos;x&apos;"/>
    </property>
  </interface>
  <interface name="org.rustemd.Empty1">
  </interface>
  <node name="child"/>
  <node name="inline">
    <interface name="org.rustemd.Inline1"/>
  </node>
</node>
<!-- a comment after the root element -->
"#;
/// Number of interfaces in `/huge`.
pub const ODD_HUGE_INTERFACES: usize = 20;
/// Members per interface in `/huge` (methods `M<j>`, properties `P<j>`, signals `S<j>`: j % 3).
pub const ODD_HUGE_MEMBERS: usize = 500;

/// Reply of `/huge`: interfaces `org.rustemd.Huge0`..`Huge19`, each with 500 members: for j in
/// 0..500, j%3==0 → method `M<j>(s in) -> u`, 1 → property `P<j>` `as` read, 2 → signal `S<j>(s)`.
pub fn odd_huge_xml() -> &'static str {
    static XML: OnceLock<String> = OnceLock::new();
    XML.get_or_init(|| {
        use std::fmt::Write;
        let mut s = String::from("<node>\n");
        for i in 0..ODD_HUGE_INTERFACES {
            let _ = writeln!(s, "  <interface name=\"org.rustemd.Huge{i}\">");
            for j in 0..ODD_HUGE_MEMBERS {
                let _ = match j % 3 {
                    0 => writeln!(
                        s,
                        "    <method name=\"M{j}\"><arg name=\"in\" type=\"s\" direction=\"in\"/><arg name=\"out\" type=\"u\" direction=\"out\"/></method>"
                    ),
                    1 => writeln!(s, "    <property name=\"P{j}\" type=\"as\" access=\"read\"/>"),
                    _ => writeln!(s, "    <signal name=\"S{j}\"><arg name=\"a\" type=\"s\"/></signal>"),
                };
            }
            s.push_str("  </interface>\n");
        }
        s.push_str("</node>\n");
        s
    })
}

async fn odd_handle(conn: Connection, msg: zbus::Message) {
    let hdr = msg.header();
    let path = hdr
        .path()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let iface = hdr.interface().map(|i| i.as_str().to_owned());
    let member = hdr
        .member()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let is_introspect = member == "Introspect"
        && matches!(
            iface.as_deref(),
            None | Some("org.freedesktop.DBus.Introspectable")
        );
    let is_get_all = member == "GetAll"
        && matches!(
            iface.as_deref(),
            None | Some("org.freedesktop.DBus.Properties")
        );
    let xml: Option<&str> = match path.as_str() {
        "/bad" => Some(ODD_BAD_XML),
        "/huge" => Some(odd_huge_xml()),
        "/slow" => Some(ODD_SLOW_XML),
        "/empty" => Some(ODD_EMPTY_XML),
        "/weird" => Some(ODD_WEIRD_XML),
        "/illtyped" => Some(ODD_ILLTYPED_XML),
        _ => None,
    };
    let res = match xml {
        Some(xml) if is_introspect => {
            if path == "/slow" {
                tokio::time::sleep(ODD_SLOW_DELAY).await;
            }
            conn.reply(&hdr, &xml).await
        }
        // So that `busctl introspect` (which calls GetAll on every interface) works.
        Some(_) if is_get_all => {
            conn.reply(&hdr, &HashMap::<String, OwnedVariant>::new())
                .await
        }
        Some(_) => {
            conn.reply_error(
                &hdr,
                "org.freedesktop.DBus.Error.UnknownMethod",
                &format!(
                    "Unknown method {member} or interface {} on {path}.",
                    iface.as_deref().unwrap_or("(none)")
                ),
            )
            .await
        }
        None => {
            conn.reply_error(
                &hdr,
                "org.freedesktop.DBus.Error.UnknownObject",
                &format!("Unknown object '{path}'."),
            )
            .await
        }
    };
    // A failed reply (the caller went away) is not the service's problem.
    let _ = res;
}

async fn run_odd(address: String) -> zbus::Result<Connection> {
    let conn = connection::Builder::address(address.as_str())
        .build()
        .await?;
    let mut stream = MessageStream::from(&conn);
    let loop_conn = conn.clone();
    tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            let Ok(msg) = msg else { continue };
            if msg.message_type() != zbus::message::Type::MethodCall {
                continue;
            }
            // One task per call: `/slow` must not hold up the others.
            tokio::spawn(odd_handle(loop_conn.clone(), msg));
        }
    });
    conn.request_name(ODD_NAME).await?;
    Ok(conn)
}

// ---------------------------------------------------------------------------------------------
// org.rustemd.Echo: replies with the request's own body.

/// Reply of `Introspect` on `org.rustemd.Echo` (`Echo` takes and returns any signature, which
/// introspection cannot say).
pub const ECHO_XML: &str = r#"<node>
  <interface name="org.rustemd.Echo1">
    <method name="Echo"/>
  </interface>
</node>"#;

/// The body signature exactly as the header of the raw message `msg` spells it (`""` when the
/// header has none). zbus's parsed `Signature` cannot tell a single struct argument `(su)` from
/// two arguments `su`, so the header is read here.
pub fn raw_body_signature(msg: &[u8]) -> Option<String> {
    let big = match msg.first()? {
        b'l' => false,
        b'B' => true,
        _ => return None,
    };
    let u32_at = |pos: usize| -> Option<usize> {
        let b: [u8; 4] = msg.get(pos..pos + 4)?.try_into().ok()?;
        let v = if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(v).ok()
    };
    // Fixed part: endianness, type, flags, version, body length, serial; then the fields,
    // `a(yv)`: array length at 12, elements (8-aligned structs) from 16.
    let end = 16 + u32_at(12)?;
    let mut pos = 16;
    while pos < end {
        pos = pos.next_multiple_of(8);
        let code = *msg.get(pos)?;
        let sig_len = usize::from(*msg.get(pos + 1)?);
        let value_sig = msg.get(pos + 2..pos + 2 + sig_len)?;
        pos += 2 + sig_len + 1;
        match value_sig {
            b"g" => {
                let len = usize::from(*msg.get(pos)?);
                let text = msg.get(pos + 1..pos + 1 + len)?;
                if code == 8 {
                    return String::from_utf8(text.to_vec()).ok();
                }
                pos += 1 + len + 1;
            }
            b"s" | b"o" => {
                pos = pos.next_multiple_of(4);
                pos += 4 + u32_at(pos)? + 1;
            }
            b"u" => pos = pos.next_multiple_of(4) + 4,
            _ => return None,
        }
    }
    Some(String::new())
}

/// The reply to an `Echo` call: the call's body, byte for byte, under the same signature.
fn echo_reply(msg: &zbus::Message) -> zbus::Result<zbus::Message> {
    let hdr = msg.header();
    let sig = raw_body_signature(msg.data().bytes())
        .ok_or_else(|| zbus::Error::Failure("unreadable message header".into()))?;
    // zbus writes a body signature without the parentheses of its outer structure: wrapped in
    // one, `(su)` is written as `(su)` and `su` as `su`.
    let signature = if sig.is_empty() {
        Signature::Unit
    } else {
        Signature::try_from(format!("({sig})").as_str())?
    };
    let body = msg.body();
    let data = body.data();
    let fds = data
        .fds()
        .iter()
        .map(|fd| {
            use std::os::fd::AsFd;
            fd.as_fd()
                .try_clone_to_owned()
                .map(zbus::OwnedFd::from)
                .map_err(zbus::Error::from)
        })
        .collect::<zbus::Result<Vec<_>>>()?;
    // SAFETY: `data.bytes()` is the body of a message the bus delivered (and zbus checked), laid
    // out for exactly the signature `sig` read from that message's header, with the byte order
    // of that message; `method_return` takes over that byte order, and both bodies start at an
    // 8-aligned offset, so every value keeps its alignment. `h` values index into the message's
    // fds, which travel with the reply in the same order (duplicated).
    unsafe { zbus::Message::method_return(&hdr).build_raw_body(data.bytes(), signature, fds) }
}

async fn echo_handle(conn: Connection, msg: zbus::Message) {
    let hdr = msg.header();
    let iface = hdr.interface().map(|i| i.as_str().to_owned());
    let member = hdr.member().map(|m| m.as_str()).unwrap_or_default();
    let res = match (iface.as_deref(), member) {
        (None | Some(ECHO_IFACE), "Echo") => match echo_reply(&msg) {
            Ok(reply) => conn.send(&reply).await,
            Err(e) => {
                conn.reply_error(
                    &hdr,
                    "org.freedesktop.DBus.Error.Failed",
                    &format!("cannot echo: {e}"),
                )
                .await
            }
        },
        (None | Some("org.freedesktop.DBus.Introspectable"), "Introspect") => {
            conn.reply(&hdr, &ECHO_XML).await
        }
        _ => {
            conn.reply_error(
                &hdr,
                "org.freedesktop.DBus.Error.UnknownMethod",
                &format!(
                    "Unknown method {member} or interface {}.",
                    iface.as_deref().unwrap_or("(none)")
                ),
            )
            .await
        }
    };
    // A failed reply (the caller went away) is not the service's problem.
    let _ = res;
}

async fn run_echo(address: &str) -> zbus::Result<Connection> {
    let conn = connection::Builder::address(address).build().await?;
    let mut stream = MessageStream::from(&conn);
    let loop_conn = conn.clone();
    tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            let Ok(msg) = msg else { continue };
            if msg.message_type() != zbus::message::Type::MethodCall {
                continue;
            }
            tokio::spawn(echo_handle(loop_conn.clone(), msg));
        }
    });
    conn.request_name(ECHO_NAME).await?;
    Ok(conn)
}

// ---------------------------------------------------------------------------------------------
// org.rustemd.Endless and org.rustemd.Deep: trees without end.

async fn endless_handle(conn: Connection, msg: zbus::Message) {
    let hdr = msg.header();
    let dest = hdr.destination().map(|d| d.to_string()).unwrap_or_default();
    let member = hdr.member().map(|m| m.to_string()).unwrap_or_default();
    if dest == SILENT_NAME {
        SILENT_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return;
    }
    let res = if member == "Introspect" {
        let xml = if dest == DEEP_NAME {
            r#"<node><interface name="org.rustemd.Deep1"/><node name="d"/></node>"#
        } else {
            r#"<node><node name="a"/><node name="b"/><node name="c"/></node>"#
        };
        conn.reply(&hdr, &xml).await
    } else {
        conn.reply_error(
            &hdr,
            "org.freedesktop.DBus.Error.UnknownMethod",
            &format!("Unknown method {member}."),
        )
        .await
    };
    let _ = res;
}

async fn run_endless(address: &str) -> zbus::Result<Connection> {
    let conn = connection::Builder::address(address).build().await?;
    let mut stream = MessageStream::from(&conn);
    let loop_conn = conn.clone();
    tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            let Ok(msg) = msg else { continue };
            if msg.message_type() == zbus::message::Type::MethodCall {
                tokio::spawn(endless_handle(loop_conn.clone(), msg));
            }
        }
    });
    conn.request_name(ENDLESS_NAME).await?;
    conn.request_name(DEEP_NAME).await?;
    conn.request_name(SILENT_NAME).await?;
    Ok(conn)
}

// ---------------------------------------------------------------------------------------------
// Start-up and the runtime.

struct Service {
    handle: tokio::runtime::Handle,
    address: String,
    gone: Mutex<Option<Connection>>,
}

static SERVICE: OnceLock<Service> = OnceLock::new();

async fn setup(address: &str) -> zbus::Result<(Vec<Connection>, Connection)> {
    let test = connection::Builder::address(address)
        .serve_at(TEST_PATH, Test::default())
        .serve_at(CHILD_A, Child { id: "a".into() })
        .serve_at(CHILD_B, Child { id: "b".into() })
        .name(TEST_NAME)
        .build()
        .await?;
    let odd = run_odd(address.to_string()).await?;
    let echo = run_echo(address).await?;
    let endless = run_endless(address).await?;
    let gone = connection::Builder::address(address)
        .serve_at(GONE_PATH, Child { id: "gone".into() })
        .name(GONE_NAME)
        .build()
        .await?;
    Ok((vec![test, odd, echo, endless], gone))
}

/// Start the service on the bus at `address` (once per process; later calls are no-ops).
/// Waits at most 15 s for the names to be owned.
pub fn start(address: &str) -> Result<(), String> {
    if SERVICE.get().is_some() {
        return Ok(());
    }
    let (tx, rx) = mpsc::channel::<Result<(tokio::runtime::Handle, Connection), String>>();
    let addr = address.to_string();
    std::thread::Builder::new()
        .name("rustemd-testservice".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("rustemd-testservice-rt")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(format!("tokio runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                match setup(&addr).await {
                    Ok((keep, gone)) => {
                        let _ = tx.send(Ok((tokio::runtime::Handle::current(), gone)));
                        // Serve for the rest of the process.
                        std::future::pending::<()>().await;
                        drop(keep);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("setting up the service: {e}")));
                    }
                }
            });
        })
        .map_err(|e| format!("spawning the service thread: {e}"))?;
    let (handle, gone) = rx
        .recv_timeout(Duration::from_secs(15))
        .map_err(|e| format!("the service did not start in time: {e}"))??;
    let _ = SERVICE.set(Service {
        handle,
        address: address.to_string(),
        gone: Mutex::new(Some(gone)),
    });
    Ok(())
}

fn service() -> &'static Service {
    SERVICE
        .get()
        .expect("test service not started: call PrivateBus::shared() first")
}

/// Close the connection owning `org.rustemd.Gone` (once; later calls do nothing). Afterwards the
/// name has no owner and calls to it fail with `org.freedesktop.DBus.Error.ServiceUnknown`.
/// This is process-wide: only one test should rely on `org.rustemd.Gone`.
pub fn drop_gone_peer() {
    let conn = service()
        .gone
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(conn) = conn {
        close_on_runtime(conn);
    }
}

fn close_on_runtime(conn: Connection) {
    let (tx, rx) = mpsc::channel();
    service().handle.spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.close()).await;
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(10));
}

/// A peer of a test's own on the shared bus: owns `name`, serves `org.rustemd.Child1` at
/// `/org/rustemd/Gone` (`Id` = the name). Dropping it (or [`TransientPeer::close`]) closes the
/// connection, so the name loses its owner.
pub struct TransientPeer {
    conn: Option<Connection>,
    name: String,
}

impl TransientPeer {
    /// Start the peer; waits at most 10 s. Panics on failure.
    #[track_caller]
    pub fn start(name: &str) -> TransientPeer {
        let svc = service();
        let (tx, rx) = mpsc::channel();
        let address = svc.address.clone();
        let owned = name.to_string();
        svc.handle.spawn(async move {
            let res = async {
                connection::Builder::address(address.as_str())
                    .serve_at(GONE_PATH, Child { id: owned.clone() })
                    .name(owned.as_str())
                    .build()
                    .await
            }
            .await;
            let _ = tx.send(res);
        });
        let conn = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("transient peer {name} did not start in time: {e}"))
            .unwrap_or_else(|e| panic!("transient peer {name}: {e}"));
        TransientPeer {
            conn: Some(conn),
            name: name.to_string(),
        }
    }

    /// The owned name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The peer's unique name (`:1.N`).
    pub fn unique_name(&self) -> Option<String> {
        self.conn
            .as_ref()
            .and_then(|c| c.unique_name().map(|n| n.to_string()))
    }

    /// Close the connection now.
    pub fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            close_on_runtime(conn);
        }
    }
}

impl Drop for TransientPeer {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            close_on_runtime(conn);
        }
    }
}

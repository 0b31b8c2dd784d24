//! The one D-Bus connection of a shell session.
//!
//! Why not zbus's `call_method`: our argument values are only known at run time, and zbus's
//! dynamic containers (`Dict` is a `BTreeMap`) lose wire order and duplicate keys — busctl's
//! output shows both. So we marshal whole method calls ourselves ([`crate::bus::wire`], header
//! included: zbus's serde header writer cost more than the rest of a property read), send raw
//! messages, and route replies to callers by serial from one task. That task and zbus's socket
//! reader run on the current-thread runtime of [`crate::bus::session`], on the thread that
//! waits for the reply, so routing is a task switch, not a thread wake-up; a call dropped
//! before its reply (Ctrl-C, TAB's deadline) takes its reply slot with it.
//!
//! Start-up never waits for the bus: [`Bus::new`] only records where to connect; the first
//! call connects, everyone else awaits the same attempt. Every call is bounded by a timeout,
//! so a slow or dead peer cannot hang the shell.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{OnceCell, oneshot};
use zbus::message::{Flags, Type as MsgType};
use zbus::{Connection, Message, MessageStream};

use crate::bus::data::Data;
use crate::bus::signals::{MatchRule, Subscribers, Subscription};
use crate::bus::wire;

/// Which bus to talk to, as chosen on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BusTarget {
    System,
    User,
    Address(String),
    /// `-M MACHINE`: a local container's system bus (see [`crate::bus::remote`]).
    Machine(String),
    /// `-H [USER@]HOST`: a remote system bus over ssh and systemd-stdio-bridge.
    Host(String),
}

impl BusTarget {
    /// A short human description, used in error messages.
    pub fn describe(&self) -> String {
        match self {
            BusTarget::System => match std::env::var("DBUS_SYSTEM_BUS_ADDRESS") {
                Ok(a) if !a.is_empty() => format!("the system bus ({a})"),
                _ => "the system bus (/run/dbus/system_bus_socket)".to_string(),
            },
            BusTarget::User => "the user bus".to_string(),
            BusTarget::Address(a) => format!("the bus at {a}"),
            BusTarget::Machine(m) => format!("the system bus of machine {m}"),
            BusTarget::Host(h) => format!("the system bus of {h} (over ssh)"),
        }
    }

    /// The D-Bus address this target connects to.
    pub fn address(&self) -> Result<String, String> {
        use crate::bus::remote;
        match self {
            BusTarget::System => Ok(remote::system_address()),
            BusTarget::User => Ok(remote::user_address()),
            BusTarget::Address(a) => Ok(a.clone()),
            BusTarget::Machine(m) => remote::machine_address(m),
            BusTarget::Host(h) => remote::host_address(h),
        }
    }
}

/// A D-Bus error reply or a local failure, kept apart so the shell can show the peer's words.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CallError {
    /// The peer answered with an error message.
    #[error("{name}: {message}")]
    Dbus { name: String, message: String },
    /// No answer within the timeout.
    #[error("no reply from {dest} within {secs:.1} s")]
    Timeout { dest: String, secs: f64 },
    /// We could not connect, or the connection broke.
    #[error("{0}")]
    Connection(String),
    /// A bad argument or reply on our side (malformed body, invalid name or path).
    #[error("{0}")]
    Invalid(String),
    /// The user pressed Ctrl-C while waiting.
    #[error("interrupted")]
    Interrupted,
}

/// How one method call is sent (busctl's `--timeout`, `--expect-reply`, `--auto-start`,
/// `--allow-interactive-authorization`).
#[derive(Clone, Copy, Debug)]
pub struct CallOptions {
    /// `None`: the bus's own timeout. `Duration::MAX` waits for ever.
    pub timeout: Option<Duration>,
    /// `false`: send with NO_REPLY_EXPECTED and return at once with an empty reply.
    pub expect_reply: bool,
    /// `false`: NO_AUTO_START (do not activate the destination).
    pub auto_start: bool,
    /// ALLOW_INTERACTIVE_AUTH (polkit may ask someone).
    pub interactive_auth: bool,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            timeout: None,
            expect_reply: true,
            auto_start: true,
            interactive_auth: false,
        }
    }
}

/// A decoded method reply: the body's values, each knowing its type.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub values: Vec<Data>,
}

type Waiters = Arc<Mutex<HashMap<u32, oneshot::Sender<Message>>>>;

/// A call's place in the reply router, removed when the call ends however it ends.
struct Slot<'a> {
    waiters: &'a Waiters,
    serial: u32,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.waiters.lock().unwrap().remove(&self.serial);
    }
}

struct Live {
    conn: Connection,
    waiters: Waiters,
    subscribers: Subscribers,
}

/// A lazily connected bus with a reply router.
pub struct Bus {
    target: BusTarget,
    timeout: Duration,
    live: OnceCell<Result<Live, String>>,
}

impl Bus {
    pub fn new(target: BusTarget, timeout: Duration) -> Self {
        Bus {
            target,
            timeout,
            live: OnceCell::new(),
        }
    }

    pub fn target(&self) -> &BusTarget {
        &self.target
    }

    async fn live(&self) -> Result<&Live, CallError> {
        let live = self
            .live
            .get_or_init(|| async {
                let connect = connect(&self.target);
                match tokio::time::timeout(self.timeout, connect).await {
                    Ok(r) => r,
                    Err(_) => Err(format!(
                        "timed out connecting to {}",
                        self.target.describe()
                    )),
                }
            })
            .await;
        live.as_ref().map_err(|e| CallError::Connection(e.clone()))
    }

    /// How many calls are waiting for their reply (each has a slot in the router).
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.live
            .get()
            .and_then(|l| l.as_ref().ok())
            .map_or(0, |l| l.waiters.lock().unwrap().len())
    }

    /// The underlying zbus connection (for monitors and typed helpers).
    pub async fn connection(&self) -> Result<Connection, CallError> {
        Ok(self.live().await?.conn.clone())
    }

    /// The bus driver's ListNames (or ListActivatableNames).
    pub async fn list_names(&self, activatable: bool) -> Result<Vec<String>, CallError> {
        let member = if activatable {
            "ListActivatableNames"
        } else {
            "ListNames"
        };
        let driver = "org.freedesktop.DBus";
        let reply = self
            .call(driver, "/org/freedesktop/DBus", Some(driver), member, &[])
            .await?;
        Ok(reply.values.first().map(Data::strings).unwrap_or_default())
    }

    /// Call `iface.member` on `dest` at `path` with already typed arguments.
    pub async fn call(
        &self,
        dest: &str,
        path: &str,
        iface: Option<&str>,
        member: &str,
        args: &[Data],
    ) -> Result<Reply, CallError> {
        self.call_with(&CallOptions::default(), dest, path, iface, member, args)
            .await
    }

    /// [`Bus::call`] sent the way `opts` says.
    pub async fn call_with(
        &self,
        opts: &CallOptions,
        dest: &str,
        path: &str,
        iface: Option<&str>,
        member: &str,
        args: &[Data],
    ) -> Result<Reply, CallError> {
        match self
            .send_call(opts, dest, path, iface, member, args)
            .await?
        {
            Some(reply) => decode_reply(&reply),
            None => Ok(Reply::default()),
        }
    }

    /// Call `iface.member` and return the reply message itself, undecoded (a D-Bus error is
    /// still an `Err`): for answers read in place, such as Introspect's XML.
    pub async fn call_message(
        &self,
        dest: &str,
        path: &str,
        iface: Option<&str>,
        member: &str,
        args: &[Data],
    ) -> Result<Message, CallError> {
        let opts = CallOptions::default();
        match self
            .send_call(&opts, dest, path, iface, member, args)
            .await?
        {
            Some(reply) if reply.message_type() == MsgType::Error => Err(reply_error(&reply)),
            Some(reply) => Ok(reply),
            None => Err(CallError::Invalid("the call expected no reply".into())),
        }
    }

    /// Send a call; its reply, unless `opts` says none is expected.
    async fn send_call(
        &self,
        opts: &CallOptions,
        dest: &str,
        path: &str,
        iface: Option<&str>,
        member: &str,
        args: &[Data],
    ) -> Result<Option<Message>, CallError> {
        let live = self.live().await?;
        check_names(dest, path, iface, member)?;
        let timeout = opts.timeout.unwrap_or(self.timeout);
        let mut flags = Flags::empty();
        if !opts.expect_reply {
            flags |= Flags::NO_REPLY_EXPECTED;
        }
        if !opts.auto_start {
            flags |= Flags::NO_AUTO_START;
        }
        if opts.interactive_auth {
            flags |= Flags::ALLOW_INTERACTIVE_AUTH;
        }
        let call = wire::Call {
            dest,
            path,
            iface,
            member,
            flags: flags.bits(),
        };
        let msg = wire::encode_call(&call, args)
            .map_err(|e| CallError::Invalid(format!("cannot build the call: {e}")))?;
        if !opts.expect_reply {
            live.conn
                .send(&msg)
                .await
                .map_err(|e| CallError::Connection(format!("sending failed: {e}")))?;
            return Ok(None);
        }
        let serial = msg.primary_header().serial_num().get();
        let (tx, rx) = oneshot::channel();
        live.waiters.lock().unwrap().insert(serial, tx);
        // However this call ends (a reply, a timeout, Ctrl-C or TAB's deadline dropping this
        // future), its reply slot goes with it.
        let _slot = Slot {
            waiters: &live.waiters,
            serial,
        };
        if let Err(e) = live.conn.send(&msg).await {
            return Err(CallError::Connection(format!("sending failed: {e}")));
        }
        let reply = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(m)) => m,
            Ok(Err(_)) => {
                return Err(CallError::Connection(format!(
                    "the connection to {} closed",
                    self.target.describe()
                )));
            }
            Err(_) => {
                return Err(CallError::Timeout {
                    dest: dest.to_string(),
                    secs: timeout.as_secs_f64(),
                });
            }
        };
        Ok(Some(reply))
    }

    /// Send signal `iface.member` from `path` with already typed arguments (busctl's `emit`):
    /// to everyone, or to `dest` only.
    pub async fn emit(
        &self,
        dest: Option<&str>,
        path: &str,
        iface: &str,
        member: &str,
        args: &[Data],
        auto_start: bool,
    ) -> Result<(), CallError> {
        use crate::bus::names;
        let live = self.live().await?;
        names::check_object_path(path)
            .and_then(|()| names::check_interface_name(iface))
            .and_then(|()| names::check_member_name(member))
            .and_then(|()| dest.map_or(Ok(()), names::check_bus_name))
            .map_err(CallError::Invalid)?;
        let mut builder = Message::signal(path, iface, member);
        if let Some(d) = dest {
            builder = builder.destination(d);
        }
        if let Some(name) = live.conn.unique_name() {
            builder = builder.sender(name.clone());
        }
        if !auto_start {
            builder = builder.with_flags(Flags::NO_AUTO_START);
        }
        let msg = wire::encode_to_message(builder, args)
            .map_err(|e| CallError::Invalid(format!("cannot build the signal: {e}")))?;
        live.conn
            .send(&msg)
            .await
            .map_err(|e| CallError::Connection(format!("sending failed: {e}")))
    }

    /// Receive the signals `rule` matches until the [`Subscription`] is dropped: the bus
    /// daemon is asked to route them (AddMatch) and our reader hands them over. A rule naming
    /// a well-known sender is matched against its current owner.
    pub async fn subscribe(&self, rule: MatchRule) -> Result<Subscription, CallError> {
        let live = self.live().await?;
        const DBUS: &str = "org.freedesktop.DBus";
        let text = rule.to_string();
        self.call(
            DBUS,
            "/org/freedesktop/DBus",
            Some(DBUS),
            "AddMatch",
            &[Data::Str(text.clone())],
        )
        .await?;
        let owner = match rule.sender.as_deref() {
            Some(s) if !s.starts_with(':') && s != DBUS => self
                .call(
                    DBUS,
                    "/org/freedesktop/DBus",
                    Some(DBUS),
                    "GetNameOwner",
                    &[Data::Str(s.to_string())],
                )
                .await
                .ok()
                .and_then(|r| match r.values.into_iter().next() {
                    Some(Data::Str(o)) => Some(o),
                    _ => None,
                }),
            _ => None,
        };
        let conn = live.conn.clone();
        let rt = tokio::runtime::Handle::current();
        Ok(live.subscribers.add(rule, owner, move |text| {
            // Dropped from synchronous code too: spawn on the runtime we came from. The daemon
            // forgets the rule; no one waits for its answer.
            rt.spawn(async move {
                let builder = Message::method_call("/org/freedesktop/DBus", "RemoveMatch")
                    .destination(DBUS)
                    .interface(DBUS)
                    .with_flags(Flags::NO_REPLY_EXPECTED);
                let msg = wire::encode_to_message(builder, &[Data::Str(text)]);
                if let Ok(msg) = msg {
                    let _ = conn.send(&msg).await;
                }
            });
        }))
    }
}

/// Turn a reply message into values, or into the peer's error.
fn decode_reply(msg: &Message) -> Result<Reply, CallError> {
    if msg.message_type() == MsgType::Error {
        return Err(reply_error(msg));
    }
    let (_, values) = wire::decode_message(msg)
        .map_err(|e| CallError::Invalid(format!("malformed reply: {e}")))?;
    Ok(Reply { values })
}

/// What an error reply says: its name and its text.
fn reply_error(msg: &Message) -> CallError {
    let values = match wire::decode_message(msg) {
        Ok((_, values)) => values,
        Err(e) => return CallError::Invalid(format!("malformed reply: {e}")),
    };
    let header = msg.header();
    let name = header
        .error_name()
        .map(|n| n.to_string())
        .unwrap_or_else(|| "org.freedesktop.DBus.Error.Failed".into());
    let message = match values.into_iter().next() {
        Some(Data::Str(s)) => s,
        _ => String::new(),
    };
    CallError::Dbus { name, message }
}

/// Reject names and paths the bus would refuse, with a message that says which one.
fn check_names(dest: &str, path: &str, iface: Option<&str>, member: &str) -> Result<(), CallError> {
    use crate::bus::names;
    names::check_bus_name(dest)
        .and_then(|()| names::check_object_path(path))
        .and_then(|()| iface.map_or(Ok(()), names::check_interface_name))
        .and_then(|()| names::check_member_name(member))
        .map_err(CallError::Invalid)
}

async fn connect(target: &BusTarget) -> Result<Live, String> {
    let builder = match target {
        BusTarget::System => zbus::connection::Builder::system(),
        BusTarget::User => zbus::connection::Builder::session(),
        BusTarget::Address(a) => zbus::connection::Builder::address(a.as_str()),
        BusTarget::Machine(_) => zbus::connection::Builder::address(target.address()?.as_str()),
        // ssh runs systemd-stdio-bridge, which authenticates its standard input as ANONYMOUS.
        BusTarget::Host(h) => {
            use zbus::address::transport::{Transport, Unixexec};
            let args = crate::bus::remote::host_command(h)?;
            let exec = Unixexec::new(
                "ssh".into(),
                None,
                args.into_iter().map(Into::into).collect(),
            );
            zbus::connection::Builder::address(zbus::Address::new(Transport::Unixexec(exec)))
                .auth_mechanism(zbus::connection::AuthMechanism::Anonymous)
        }
    };
    let conn = builder
        .runtime(crate::bus::runtime::ReadOnlyWatch)
        .method_timeout(Duration::from_secs(25))
        .build()
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", target.describe()))?;
    let waiters: Waiters = Arc::new(Mutex::new(HashMap::new()));
    let subscribers = Subscribers::default();
    let mut stream = MessageStream::from(&conn);
    let routed = waiters.clone();
    let signals = subscribers.clone();
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let Ok(msg) = item else { continue };
            match msg.message_type() {
                MsgType::MethodReturn | MsgType::Error => {}
                MsgType::Signal => {
                    signals.dispatch(&msg);
                    continue;
                }
                _ => continue,
            }
            let Some(serial) = msg.header().reply_serial().map(NonZeroU32::get) else {
                continue;
            };
            let waiter = routed.lock().unwrap().remove(&serial);
            if let Some(tx) = waiter {
                let _ = tx.send(msg);
            }
        }
        // Connection gone: dropping the senders wakes every waiter (and subscriber) with an
        // error.
        routed.lock().unwrap().clear();
        signals.clear();
    });
    Ok(Live {
        conn,
        waiters,
        subscribers,
    })
}

//! sd_notify(3) and its friends, written against the protocol: a service tells systemd it is
//! ready, what it is doing (`STATUS=`), that it is alive (`WATCHDOG=1`), which process is its
//! main one (`MAINPID=`), by sending newline-separated `KEY=VALUE` lines in one datagram to the
//! `AF_UNIX` socket named by `$NOTIFY_SOCKET`.
//!
//! Why not the `sd-notify` crate (0.5): it connects an abstract address (`@/org/...`, what
//! systemd hands to services in containers and user managers) as a file path, and it cannot
//! tell "sent" from "there is no socket" — pystemd's `notify` returns 1 or 0 for exactly that,
//! and the workshop shows the number. The protocol is a dozen lines; we send it with
//! `sendmsg(2)` and our own credentials (`SCM_CREDENTIALS`: pid, uid, gid), so systemd
//! attributes the message to this process — with `NotifyAccess=main` it accepts messages
//! from the unit's main process only.
//!
//! Also here, as in libsystemd: `sd_watchdog_enabled` ([`watchdog_enabled`]), `sd_booted`
//! ([`booted`]) and `sd_listen_fds` ([`listen_fds`]).

use std::io;
use std::io::IoSlice;
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr, UnixCredentials,
    sendmsg, socket,
};

/// The environment variable naming the notification socket.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// The first file descriptor passed by socket activation (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: i32 = 3;

/// Where `$NOTIFY_SOCKET` points: a path, or an abstract name (written `@name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Path(String),
    Abstract(Vec<u8>),
}

impl Address {
    /// Read `$NOTIFY_SOCKET`'s value as sd_notify does: `/path` or `@abstract`; anything else
    /// (relative paths, `vsock:`, empty) is an error saying what was there.
    pub fn parse(value: &str) -> Result<Address, String> {
        if let Some(name) = value.strip_prefix('@') {
            if name.is_empty() {
                return Err("NOTIFY_SOCKET='@' names no abstract socket".into());
            }
            return Ok(Address::Abstract(name.as_bytes().to_vec()));
        }
        if value.starts_with('/') {
            return Ok(Address::Path(value.to_string()));
        }
        Err(format!(
            "NOTIFY_SOCKET='{value}' is neither an absolute path nor an abstract '@' address"
        ))
    }

    fn unix_addr(&self) -> io::Result<UnixAddr> {
        match self {
            Address::Path(p) => UnixAddr::new(p.as_str()),
            Address::Abstract(name) => UnixAddr::new_abstract(name),
        }
        .map_err(io::Error::from)
    }

    /// As written in `$NOTIFY_SOCKET`.
    pub fn describe(&self) -> String {
        match self {
            Address::Path(p) => p.clone(),
            Address::Abstract(n) => format!("@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// Why a notification could not be sent.
#[derive(Debug)]
pub enum NotifyError {
    /// `$NOTIFY_SOCKET` holds something that is not an address.
    BadAddress(String),
    /// A state line is not `KEY=VALUE` on one line.
    BadState(String),
    /// The socket refused the datagram (systemd gone, wrong address, permissions).
    Send { address: String, error: io::Error },
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotifyError::BadAddress(m) | NotifyError::BadState(m) => f.write_str(m),
            NotifyError::Send { address, error } => {
                write!(f, "cannot send to NOTIFY_SOCKET {address}: {error}")
            }
        }
    }
}

/// Check one state line: `KEY=VALUE`, the key in capitals, digits and `_`, no newline.
pub fn check_state(line: &str) -> Result<(), NotifyError> {
    let bad = |why: &str| NotifyError::BadState(format!("notify state {line:?}: {why}"));
    let Some((key, _)) = line.split_once('=') else {
        return Err(bad("expected KEY=VALUE, such as READY=1 or STATUS=text"));
    };
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(bad("the key must be capital letters, digits and '_'"));
    }
    if line.contains('\n') {
        return Err(bad(
            "a value cannot hold a newline (it would end the line in the protocol)",
        ));
    }
    Ok(())
}

/// Take `$NOTIFY_SOCKET` out of our environment (`unset_environment`).
fn unset(vars: &[&str]) {
    for v in vars {
        // SAFETY: std serialises its own environment reads and writes with a lock; no code of
        // ours reads the environment through libc while the evaluator (the only caller) runs a
        // statement, and sd_notify(3) does exactly this on request.
        unsafe { std::env::remove_var(v) };
    }
}

/// Send `lines` (each `KEY=VALUE`) to `$NOTIFY_SOCKET` as one datagram, with our credentials.
/// `Ok(false)`: there is no `$NOTIFY_SOCKET` (we are not a notify service), as sd_notify's 0.
/// With `unset_environment`, `$NOTIFY_SOCKET` is removed afterwards, whatever happened.
pub fn notify(unset_environment: bool, lines: &[String]) -> Result<bool, NotifyError> {
    let r = send_env(lines);
    if unset_environment {
        unset(&[NOTIFY_SOCKET]);
    }
    r
}

fn send_env(lines: &[String]) -> Result<bool, NotifyError> {
    for l in lines {
        check_state(l)?;
    }
    let Some(value) = std::env::var_os(NOTIFY_SOCKET) else {
        return Ok(false);
    };
    let value = value.to_string_lossy();
    if value.is_empty() {
        return Ok(false);
    }
    let address = Address::parse(&value).map_err(NotifyError::BadAddress)?;
    send(&address, &lines.join("\n")).map_err(|error| NotifyError::Send {
        address: address.describe(),
        error,
    })?;
    Ok(true)
}

/// One datagram to `address`, with `SCM_CREDENTIALS` of this process.
pub fn send(address: &Address, message: &str) -> io::Result<()> {
    let sock = socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(io::Error::from)?;
    let addr = address.unix_addr()?;
    let creds = UnixCredentials::new();
    let cmsgs = [ControlMessage::ScmCredentials(&creds)];
    let iov = [IoSlice::new(message.as_bytes())];
    let sent = sendmsg(
        sock.as_raw_fd(),
        &iov,
        &cmsgs,
        MsgFlags::MSG_NOSIGNAL,
        Some(&addr),
    )
    .map_err(io::Error::from)?;
    if sent != message.len() {
        return Err(io::Error::other(format!(
            "only {sent} of {} bytes were sent",
            message.len()
        )));
    }
    Ok(())
}

/// `sd_watchdog_enabled`: the watchdog interval in microseconds that systemd expects pings
/// within (`$WATCHDOG_USEC`), when `$WATCHDOG_PID` is unset or names this process; 0 when no
/// watchdog is asked of us. With `unset_environment` both variables are removed afterwards.
pub fn watchdog_enabled(unset_environment: bool) -> Result<u64, String> {
    let r = watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    );
    if unset_environment {
        unset(&["WATCHDOG_USEC", "WATCHDOG_PID"]);
    }
    r
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Result<u64, String> {
    let Some(usec) = usec else { return Ok(0) };
    let n: u64 = usec
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("WATCHDOG_USEC='{usec}' is not a positive number of µs"))?;
    match pid {
        None => Ok(n),
        Some(p) => {
            let p: u32 = p
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("WATCHDOG_PID='{p}' is not a process id"))?;
            Ok(if p == me { n } else { 0 })
        }
    }
}

/// `sd_booted`: was this system booted with systemd (does `/run/systemd/system/` exist)?
pub fn booted() -> bool {
    std::fs::symlink_metadata("/run/systemd/system/").is_ok_and(|m| m.is_dir())
}

/// `sd_listen_fds`: how many sockets systemd passed us (from [`LISTEN_FDS_START`] on), when
/// `$LISTEN_PID` is this process; 0 otherwise.
pub fn listen_fds(unset_environment: bool) -> Result<u32, String> {
    let r = listen_from(
        std::env::var("LISTEN_PID").ok().as_deref(),
        std::env::var("LISTEN_FDS").ok().as_deref(),
        std::process::id(),
    );
    if unset_environment {
        unset(&["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]);
    }
    r
}

fn listen_from(pid: Option<&str>, fds: Option<&str>, me: u32) -> Result<u32, String> {
    let (Some(pid), Some(fds)) = (pid, fds) else {
        return Ok(0);
    };
    let pid: u32 = pid
        .parse()
        .map_err(|_| format!("LISTEN_PID='{pid}' is not a process id"))?;
    if pid != me {
        return Ok(0);
    }
    fds.parse()
        .map_err(|_| format!("LISTEN_FDS='{fds}' is not a number"))
}

/// What systemd says about a notify service, for a prompt that shows it: its states, the
/// status text it was sent, and the watchdog and start-timeout clocks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceState {
    pub active: String,
    pub sub: String,
    pub result: String,
    pub status_text: String,
    pub main_pid: u32,
    /// `WatchdogUSec` (0: no watchdog; a `WATCHDOG_USEC=` sent at runtime shows here).
    pub watchdog_usec: u64,
    /// CLOCK_MONOTONIC µs of the last ping (or of READY=1); 0 while the watchdog is not armed.
    pub watchdog_at: u64,
    pub timeout_start_usec: u64,
    /// CLOCK_MONOTONIC µs when the unit started activating.
    pub started_at: u64,
}

/// The current CLOCK_MONOTONIC in µs (the clock systemd's `…Monotonic` timestamps use).
pub fn monotonic_usec() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1000)
        .unwrap_or(0)
}

impl ServiceState {
    /// Read the service `unit`'s state (all properties requested at once: one round trip).
    pub async fn read(
        bus: &crate::bus::connection::Bus,
        unit: &str,
    ) -> Result<ServiceState, crate::bus::connection::CallError> {
        use crate::bus::data::Data;
        use crate::systemd::transient::{SERVICE_IFACE, UNIT_IFACE, get};
        let path = crate::systemd::unit_path(unit);
        let p = path.as_str();
        let text = |d: Result<Data, _>| match d {
            Ok(Data::Str(s)) => s,
            _ => String::new(),
        };
        let num = |d: Result<Data, _>| match d {
            Ok(Data::U64(n)) => n,
            Ok(Data::U32(n)) => u64::from(n),
            _ => 0,
        };
        let (active, sub, result, status, pid, wd, wd_at, timeout, started) = tokio::join!(
            get(bus, p, UNIT_IFACE, "ActiveState"),
            get(bus, p, UNIT_IFACE, "SubState"),
            get(bus, p, SERVICE_IFACE, "Result"),
            get(bus, p, SERVICE_IFACE, "StatusText"),
            get(bus, p, SERVICE_IFACE, "MainPID"),
            get(bus, p, SERVICE_IFACE, "WatchdogUSec"),
            get(bus, p, SERVICE_IFACE, "WatchdogTimestampMonotonic"),
            get(bus, p, SERVICE_IFACE, "TimeoutStartUSec"),
            get(bus, p, UNIT_IFACE, "InactiveExitTimestampMonotonic"),
        );
        let active = active?;
        Ok(ServiceState {
            active: text(Ok(active)),
            sub: text(sub),
            result: text(result),
            status_text: text(status),
            main_pid: num(pid) as u32,
            watchdog_usec: num(wd),
            watchdog_at: num(wd_at),
            timeout_start_usec: num(timeout),
            started_at: num(started),
        })
    }

    /// When the watchdog fires (µs from now; negative: overdue), if it is armed.
    pub fn watchdog_left(&self, now: u64) -> Option<i128> {
        (self.watchdog_usec > 0 && self.watchdog_at > 0)
            .then(|| self.watchdog_at as i128 + self.watchdog_usec as i128 - now as i128)
    }

    /// While activating: µs left before the start times out.
    pub fn start_left(&self, now: u64) -> Option<i128> {
        (self.active == "activating"
            && self.started_at > 0
            && self.timeout_start_usec > 0
            && self.timeout_start_usec != u64::MAX)
            .then(|| self.started_at as i128 + self.timeout_start_usec as i128 - now as i128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn addresses_are_paths_or_abstract_names() {
        assert_eq!(
            Address::parse("/run/systemd/notify"),
            Ok(Address::Path("/run/systemd/notify".into()))
        );
        assert_eq!(
            Address::parse("@/org/freedesktop/systemd1/notify/123"),
            Ok(Address::Abstract(
                b"/org/freedesktop/systemd1/notify/123".to_vec()
            ))
        );
        for bad in ["", "@", "relative/path", "vsock:2:1"] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn state_lines_are_checked() {
        for ok in [
            "READY=1",
            "STATUS=",
            "STATUS=a = b",
            "X_CUSTOM=1",
            "WATCHDOG_USEC=0",
        ] {
            assert!(check_state(ok).is_ok(), "{ok}");
        }
        for bad in ["READY", "ready=1", "=1", "STATUS=a\nREADY=1", "MAIN PID=1"] {
            assert!(check_state(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_watchdog_is_ours_only_for_our_pid() {
        type Row<'a> = (Option<&'a str>, Option<&'a str>, Result<u64, ()>);
        let rows: &[Row] = &[
            (None, None, Ok(0)),
            (Some("299000000"), None, Ok(299_000_000)),
            (Some("299000000"), Some("42"), Ok(299_000_000)),
            (Some("299000000"), Some("43"), Ok(0)),
            (Some("abc"), None, Err(())),
            (Some("0"), None, Err(())),
            (Some("5"), Some("x"), Err(())),
        ];
        for (usec, pid, want) in rows {
            let got = watchdog_from(*usec, *pid, 42).map_err(|_| ());
            assert_eq!(&got, want, "{usec:?} {pid:?}");
        }
        assert_eq!(listen_from(Some("42"), Some("2"), 42), Ok(2));
        assert_eq!(listen_from(Some("41"), Some("2"), 42), Ok(0));
        assert_eq!(listen_from(None, Some("2"), 42), Ok(0));
        assert!(listen_from(Some("42"), Some("two"), 42).is_err());
    }

    /// Read one datagram and the sender's pid from a socket with SO_PASSCRED.
    fn receive(sock: &UnixDatagram) -> (String, i32) {
        use nix::sys::socket::{ControlMessageOwned, recvmsg, setsockopt, sockopt};
        setsockopt(sock, sockopt::PassCred, &true).unwrap();
        let mut buf = [0u8; 512];
        let mut cmsg = nix::cmsg_space!(UnixCredentials);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .unwrap();
        let pid = msg
            .cmsgs()
            .unwrap()
            .find_map(|c| match c {
                ControlMessageOwned::ScmCredentials(c) => Some(c.pid()),
                _ => None,
            })
            .unwrap();
        let n = msg.bytes;
        (String::from_utf8_lossy(&buf[..n]).into_owned(), pid)
    }

    #[test]
    fn datagrams_reach_path_and_abstract_sockets_with_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        setsockopt_passcred(&sock);
        let addr = Address::Path(path.to_string_lossy().into_owned());
        send(&addr, "READY=1\nSTATUS=ok").unwrap();
        let (text, pid) = receive(&sock);
        assert_eq!(text, "READY=1\nSTATUS=ok");
        assert_eq!(pid as u32, std::process::id());

        let name = format!("rustemd-test-notify-{}", std::process::id());
        let abs = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&abs).unwrap();
        setsockopt_passcred(&sock);
        send(&Address::parse(&format!("@{name}")).unwrap(), "WATCHDOG=1").unwrap();
        assert_eq!(receive(&sock).0, "WATCHDOG=1");

        // Nobody listening: a clear error, not a panic.
        drop(sock);
        let e = send(&Address::parse(&format!("@{name}")).unwrap(), "X=1").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    }

    fn setsockopt_passcred(sock: &UnixDatagram) {
        nix::sys::socket::setsockopt(sock, nix::sys::socket::sockopt::PassCred, &true).unwrap();
    }
}

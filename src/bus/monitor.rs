//! A monitor connection: the bus daemon copies to us every message it routes that one of our
//! rules matches (`org.freedesktop.DBus.Monitoring.BecomeMonitor`), and we never send again.
//!
//! Why a connection of our own rather than zbus: a monitor must never send (the daemon drops a
//! monitor that does), and a library connection answers some calls by itself; a monitor must
//! read fast enough not to stall the bus, so it reads up to 1 MiB per system call, parses the
//! headers in place and lets the caller print a whole batch with one write (busctl writes
//! once per message); and `capture` needs every message's raw bytes anyway. The setup is
//! what busctl does: connect to the session's address, authenticate (EXTERNAL; ANONYMOUS when
//! refused, as by ssh's systemd-stdio-bridge), ask for file descriptors on sockets (so
//! messages carrying them are seen too; we close them at once), `Hello`, `BecomeMonitor(rules,
//! 0)`, then skip what arrives until the daemon says we lost our unique name.
//!
//! Reading blocks in `poll()` on the connection and an [`Interrupt`] (Ctrl-C), so a monitor
//! can be stopped at any time and never spins.

use std::collections::VecDeque;
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

use crate::bus::connection::BusTarget;
use crate::bus::data::Data;
use crate::bus::sig::Sig;
use crate::bus::wire::{self, Endian};

/// The specification's limit for one message.
const MAX_MESSAGE: usize = 128 * 1024 * 1024;
/// How much one read may bring in.
const READ_CHUNK: usize = 1024 * 1024;

const DBUS: &str = "org.freedesktop.DBus";

/// Why monitoring could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{0}")]
    Connect(String),
    /// The daemon refused `BecomeMonitor` (busctl's wording).
    #[error("Call to org.freedesktop.DBus.Monitoring.BecomeMonitor failed: {0}")]
    Refused(String),
    #[error("the bus sent something that is not D-Bus: {0}")]
    Protocol(String),
    #[error("reading from the bus failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("interrupted")]
    Interrupted,
    #[error("timed out setting up the monitor")]
    Timeout,
}

/// Message types as the header numbers them.
pub const METHOD_CALL: u8 = 1;
pub const METHOD_RETURN: u8 = 2;
pub const ERROR: u8 = 3;
pub const SIGNAL: u8 = 4;

/// One message's fixed header and header fields, borrowed from the read buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// `l` or `B`.
    pub endian: u8,
    pub kind: u8,
    pub flags: u8,
    pub version: u8,
    pub serial: u32,
    pub path: Option<&'a str>,
    pub interface: Option<&'a str>,
    pub member: Option<&'a str>,
    pub error_name: Option<&'a str>,
    pub reply_serial: Option<u32>,
    pub destination: Option<&'a str>,
    pub sender: Option<&'a str>,
    /// The body's signature (empty for no body).
    pub signature: &'a str,
    pub unix_fds: u32,
    /// Offset of the body in the message.
    pub body_start: usize,
}

impl Header<'_> {
    pub fn wire_endian(&self) -> Endian {
        if self.endian == b'B' {
            Endian::Big
        } else {
            Endian::Little
        }
    }
}

/// One message as received: its bytes (for pcap), its header, and the file descriptors it
/// carried (open until the message is dropped).
pub struct Message<'a> {
    pub bytes: &'a [u8],
    pub header: Header<'a>,
    pub fds: Vec<OwnedFd>,
}

impl Message<'_> {
    /// The body's values (`Fd` values are our own descriptor numbers, as busctl shows its own).
    pub fn body(&self, sigs: &[Sig]) -> Result<Vec<Data>, wire::WireError> {
        let raw: Vec<i32> = if self.fds.is_empty() {
            Vec::new()
        } else {
            self.fds.iter().map(AsRawFd::as_raw_fd).collect()
        };
        wire::decode(
            &self.bytes[self.header.body_start..],
            self.header.wire_endian(),
            sigs,
            &raw,
        )
    }
}

/// Total length of the message starting at `b` (which holds at least 16 bytes), or why not.
fn frame_len(b: &[u8]) -> Result<usize, String> {
    let big = match b[0] {
        b'l' => false,
        b'B' => true,
        other => return Err(format!("bad endianness byte 0x{other:02x}")),
    };
    let u32_at = |i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    let body = u32_at(4) as usize;
    let fields = u32_at(12) as usize;
    let total = (16 + fields).next_multiple_of(8) + body;
    if total > MAX_MESSAGE {
        return Err(format!("a message of {total} bytes (the limit is 128 MiB)"));
    }
    Ok(total)
}

/// Parse the header of the complete message `m`.
pub fn parse_header(m: &[u8]) -> Result<Header<'_>, String> {
    if m.len() < 16 {
        return Err("message shorter than its fixed header".into());
    }
    let big = m[0] == b'B';
    let rd32 = |i: usize| -> Result<u32, String> {
        let s = m
            .get(i..i + 4)
            .ok_or_else(|| "header field runs past the header".to_string())?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let mut h = Header {
        endian: m[0],
        kind: m[1],
        flags: m[2],
        version: m[3],
        serial: rd32(8)?,
        ..Header::default()
    };
    let fields_end = 16 + rd32(12)? as usize;
    h.body_start = fields_end.next_multiple_of(8);
    if h.body_start > m.len() {
        return Err("header fields run past the message".into());
    }
    let text = |from: usize, len: usize| -> Result<&str, String> {
        let bytes = m
            .get(from..from + len)
            .ok_or_else(|| "header string runs past the header".to_string())?;
        if m.get(from + len) != Some(&0) {
            return Err("header string is not NUL-terminated".into());
        }
        std::str::from_utf8(bytes).map_err(|_| "header string is not UTF-8".into())
    };
    let mut pos = 16;
    while pos < fields_end {
        pos = pos.next_multiple_of(8);
        if pos >= fields_end {
            break;
        }
        let code = m[pos];
        let sig_len = usize::from(*m.get(pos + 1).ok_or("truncated header field")?);
        let sig = text(pos + 2, sig_len)?;
        let at = pos + 3 + sig_len;
        let (str_field, next) = match sig {
            "s" | "o" => {
                let p = at.next_multiple_of(4);
                let len = rd32(p)? as usize;
                (Some(text(p + 4, len)?), p + 4 + len + 1)
            }
            "g" => {
                let len = usize::from(*m.get(at).ok_or("truncated header field")?);
                (Some(text(at + 1, len)?), at + 1 + len + 1)
            }
            "u" => {
                let p = at.next_multiple_of(4);
                let v = rd32(p)?;
                match code {
                    5 => h.reply_serial = Some(v),
                    9 => h.unix_fds = v,
                    _ => {}
                }
                (None, p + 4)
            }
            _ => {
                // Some field of a type no known field has: read it generically to skip it.
                let endian = if big { Endian::Big } else { Endian::Little };
                let field = Sig::Struct(vec![Sig::Byte, Sig::Variant]);
                let (_, used) = wire::decode_one(&m[pos..fields_end], endian, &field)
                    .map_err(|e| e.to_string())?;
                (None, pos + used)
            }
        };
        if let Some(v) = str_field {
            match (code, sig) {
                (1, "o") => h.path = Some(v),
                (2, "s") => h.interface = Some(v),
                (3, "s") => h.member = Some(v),
                (4, "s") => h.error_name = Some(v),
                (6, "s") => h.destination = Some(v),
                (7, "s") => h.sender = Some(v),
                (8, "g") => h.signature = v,
                _ => {}
            }
        }
        if next > fields_end {
            return Err("header field runs past the header".into());
        }
        pos = next;
    }
    if !(1..=4).contains(&h.kind) {
        return Err(format!("unknown message type {}", h.kind));
    }
    Ok(h)
}

/// Build a method call to the bus driver (only ever sent before becoming a monitor).
fn driver_call(serial: u32, iface: &str, member: &str, args: &[Data]) -> Result<Vec<u8>, String> {
    let (body, _) = wire::encode(args).map_err(|e| e.to_string())?;
    let signature: String = args.iter().map(|a| a.sig().to_string()).collect();
    let field =
        |code: u8, v: Data| Data::Struct(vec![Data::Byte(code), Data::Variant(Box::new(v))]);
    let mut fields = vec![
        field(1, Data::Path("/org/freedesktop/DBus".into())),
        field(2, Data::Str(iface.into())),
        field(3, Data::Str(member.into())),
        field(6, Data::Str(DBUS.into())),
    ];
    if !signature.is_empty() {
        fields.push(field(8, Data::Signature(signature)));
    }
    let header = [
        Data::Byte(b'l'),
        Data::Byte(METHOD_CALL),
        Data::Byte(0),
        Data::Byte(1),
        Data::U32(body.len() as u32),
        Data::U32(serial),
        Data::Array {
            elem: Sig::Struct(vec![Sig::Byte, Sig::Variant]),
            items: fields,
        },
    ];
    let (mut msg, _) = wire::encode(&header).map_err(|e| e.to_string())?;
    msg.resize(msg.len().next_multiple_of(8), 0);
    msg.extend_from_slice(&body);
    Ok(msg)
}

/// Ctrl-C as something `poll()` can wait for: a task on the session's runtime writes to a
/// pipe when SIGINT arrives. Dropping it stops the task.
pub struct Interrupt {
    read: std::io::PipeReader,
    id: signal_hook::SigId,
}

impl Interrupt {
    /// Ctrl-C writes a byte to a pipe the monitor's poll watches (signal-hook's self-pipe):
    /// no task has to run for it, so it works on a runtime nobody drives meanwhile.
    pub fn new() -> std::io::Result<Interrupt> {
        let (read, write) = std::io::pipe()?;
        let write: std::os::fd::OwnedFd = write.into();
        let id = signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, write)?;
        Ok(Interrupt { read, id })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

enum Io {
    Socket(UnixStream),
    Exec {
        child: Child,
        stdin: Option<ChildStdin>,
        stdout: ChildStdout,
    },
}

impl Io {
    fn read_fd(&self) -> BorrowedFd<'_> {
        match self {
            Io::Socket(s) => s.as_fd(),
            Io::Exec { stdout, .. } => stdout.as_fd(),
        }
    }

    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Socket(s) => s.write_all(b),
            Io::Exec { stdin, .. } => match stdin {
                Some(w) => w.write_all(b),
                None => Err(std::io::ErrorKind::BrokenPipe.into()),
            },
        }
    }

    /// One read into `buf`; file descriptors that came along go to `fds`.
    fn read(&mut self, buf: &mut [u8], fds: &mut VecDeque<OwnedFd>) -> std::io::Result<usize> {
        match self {
            Io::Exec { stdout, .. } => stdout.read(buf),
            Io::Socket(s) => {
                let mut space = nix::cmsg_space!([std::os::fd::RawFd; 253]);
                let mut iov = [IoSliceMut::new(buf)];
                let msg = recvmsg::<()>(
                    s.as_raw_fd(),
                    &mut iov,
                    Some(&mut space),
                    MsgFlags::MSG_CMSG_CLOEXEC,
                )
                .map_err(std::io::Error::from)?;
                for c in msg.cmsgs().map_err(std::io::Error::from)? {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        for fd in raw {
                            // SAFETY: the kernel just installed `fd` in our table for this
                            // message (SCM_RIGHTS); nothing else owns it.
                            fds.push_back(unsafe { OwnedFd::from_raw_fd(fd) });
                        }
                    }
                }
                Ok(msg.bytes)
            }
        }
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        if let Io::Exec { child, stdin, .. } = self {
            drop(stdin.take());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a wait for data brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Messages may be ready ([`MonitorConn::next_message`]).
    Data,
    /// The bus closed the connection.
    Closed,
    Interrupted,
    TimedOut,
}

/// A connection that has become a monitor.
pub struct MonitorConn {
    io: Io,
    /// Allocated and zeroed once (growing only for a message larger than it); unparsed
    /// bytes are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The size of the message at `start`, when it is larger than what was read.
    need: usize,
    fds: VecDeque<OwnedFd>,
    unique_name: String,
}

impl MonitorConn {
    /// Connect to `address`, become a monitor for `rules` (none: everything), and return once
    /// the daemon has taken our name away. Ctrl-C (`stop`) and `timeout` bound the setup.
    pub fn open(
        target: &BusTarget,
        rules: &[String],
        stop: &Interrupt,
        timeout: Duration,
    ) -> Result<MonitorConn, MonitorError> {
        let deadline = Instant::now() + timeout;
        if let BusTarget::Host(h) = target {
            let args = crate::bus::remote::host_command(h).map_err(MonitorError::Connect)?;
            return Self::exec("ssh".as_ref(), &args, rules, stop, deadline);
        }
        let address = target.address().map_err(MonitorError::Connect)?;
        let address = address.as_str();
        let mut last = MonitorError::Connect(format!("no usable address in {address:?}"));
        for one in address.split(';').filter(|a| !a.is_empty()) {
            match Self::open_one(one, rules, stop, deadline) {
                Ok(c) => return Ok(c),
                Err(e @ (MonitorError::Interrupted | MonitorError::Refused(_))) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn open_one(
        address: &str,
        rules: &[String],
        stop: &Interrupt,
        deadline: Instant,
    ) -> Result<MonitorConn, MonitorError> {
        use zbus::address::transport::{Transport, UnixSocket};
        let parsed: zbus::Address = address
            .parse()
            .map_err(|e| MonitorError::Connect(format!("bad bus address {address:?}: {e}")))?;
        let connect_err = |e: std::io::Error| {
            MonitorError::Connect(format!("cannot connect to the bus at {address}: {e}"))
        };
        let io = match parsed.transport() {
            Transport::Unix(u) => {
                let stream = match u.path() {
                    UnixSocket::File(p) => UnixStream::connect(p).map_err(connect_err)?,
                    UnixSocket::Abstract(name) => {
                        use std::os::linux::net::SocketAddrExt;
                        use std::os::unix::ffi::OsStrExt;
                        let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                            .map_err(connect_err)?;
                        UnixStream::connect_addr(&a).map_err(connect_err)?
                    }
                    _ => {
                        return Err(MonitorError::Connect(format!(
                            "cannot monitor through {address}: a client cannot connect there"
                        )));
                    }
                };
                Io::Socket(stream)
            }
            Transport::Unixexec(x) => {
                return Self::exec(x.path().as_os_str(), x.args(), rules, stop, deadline);
            }
            _ => {
                return Err(MonitorError::Connect(format!(
                    "cannot monitor through {address}: only unix: and unixexec: addresses"
                )));
            }
        };
        Self::setup(io, rules, stop, deadline)
    }

    /// Speak D-Bus over a program's standard input and output (`unixexec:`, ssh).
    fn exec(
        program: &std::ffi::OsStr,
        args: &[impl AsRef<std::ffi::OsStr>],
        rules: &[String],
        stop: &Interrupt,
        deadline: Instant,
    ) -> Result<MonitorConn, MonitorError> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                MonitorError::Connect(format!("cannot run {}: {e}", program.to_string_lossy()))
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| MonitorError::Connect("the bridge process has no output".into()))?;
        let io = Io::Exec {
            child,
            stdin,
            stdout,
        };
        Self::setup(io, rules, stop, deadline)
    }

    fn setup(
        io: Io,
        rules: &[String],
        stop: &Interrupt,
        deadline: Instant,
    ) -> Result<MonitorConn, MonitorError> {
        let mut conn = MonitorConn {
            io,
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            need: 0,
            fds: VecDeque::new(),
            unique_name: String::new(),
        };
        let sockets = matches!(conn.io, Io::Socket(_));
        conn.authenticate(sockets, stop, deadline)?;
        conn.become_monitor(rules, stop, deadline)?;
        Ok(conn)
    }

    /// SASL: EXTERNAL as our uid, ANONYMOUS if that is rejected; unix fds on sockets.
    fn authenticate(
        &mut self,
        sockets: bool,
        stop: &Interrupt,
        deadline: Instant,
    ) -> Result<(), MonitorError> {
        let uid = nix::unistd::geteuid().as_raw().to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        self.io
            .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
        let mut line = self.line(stop, deadline)?;
        if line.starts_with("REJECTED") {
            self.io.write_all(b"AUTH ANONYMOUS\r\n")?;
            line = self.line(stop, deadline)?;
        }
        if !line.starts_with("OK ") {
            return Err(MonitorError::Connect(format!(
                "the bus refused to authenticate us ({})",
                line.trim_end()
            )));
        }
        if sockets {
            self.io.write_all(b"NEGOTIATE_UNIX_FD\r\n")?;
            // AGREE_UNIX_FD or ERROR: either way go on (without fds, such messages are not
            // copied to us).
            self.line(stop, deadline)?;
        }
        self.io.write_all(b"BEGIN\r\n")?;
        Ok(())
    }

    /// One `\r\n`-terminated line of the authentication exchange.
    fn line(&mut self, stop: &Interrupt, deadline: Instant) -> Result<String, MonitorError> {
        loop {
            if let Some(i) = self.buf[self.start..self.end]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                let line =
                    String::from_utf8_lossy(&self.buf[self.start..self.start + i]).into_owned();
                self.start += i + 2;
                return Ok(line);
            }
            if self.end - self.start > 4096 {
                return Err(MonitorError::Protocol(
                    "an endless authentication line".into(),
                ));
            }
            self.wait_and_read(stop, Some(deadline), true)?;
        }
    }

    fn become_monitor(
        &mut self,
        rules: &[String],
        stop: &Interrupt,
        deadline: Instant,
    ) -> Result<(), MonitorError> {
        let proto = |e: String| MonitorError::Protocol(e);
        let mut out = driver_call(1, DBUS, "Hello", &[]).map_err(proto)?;
        let rules = Data::Array {
            elem: Sig::Str,
            items: rules.iter().map(|r| Data::Str(r.clone())).collect(),
        };
        out.extend(
            driver_call(
                2,
                "org.freedesktop.DBus.Monitoring",
                "BecomeMonitor",
                &[rules, Data::U32(0)],
            )
            .map_err(|e| MonitorError::Refused(e.to_string()))?,
        );
        self.io.write_all(&out)?;
        let mut monitoring = false;
        loop {
            let Some(msg) = self.next_message().map_err(proto)? else {
                self.wait_and_read(stop, Some(deadline), true)?;
                continue;
            };
            let h = &msg.header;
            let first_string = match h.signature.starts_with('s') {
                true => match msg.body(&Sig::parse_list(h.signature).unwrap_or_default()) {
                    Ok(v) => match v.into_iter().next() {
                        Some(Data::Str(s)) => s,
                        _ => String::new(),
                    },
                    Err(_) => String::new(),
                },
                false => String::new(),
            };
            let (kind, reply, error) = (h.kind, h.reply_serial, h.error_name.map(str::to_owned));
            let name_lost = h.member == Some("NameLost") && h.interface == Some(DBUS);
            drop(msg);
            match (kind, reply) {
                (METHOD_RETURN, Some(1)) => self.unique_name = first_string,
                (ERROR, Some(1)) => {
                    return Err(MonitorError::Connect(format!(
                        "Hello failed: {}",
                        error.unwrap_or_default()
                    )));
                }
                (METHOD_RETURN, Some(2)) => monitoring = true,
                (ERROR, Some(2)) => {
                    let text = if first_string.is_empty() {
                        error.unwrap_or_default()
                    } else {
                        first_string
                    };
                    return Err(MonitorError::Refused(text));
                }
                (SIGNAL, _) if monitoring && name_lost && first_string == self.unique_name => {
                    return Ok(());
                }
                _ => {}
            }
        }
    }

    /// Wait for data (or Ctrl-C, or the deadline) and read what is there.
    fn wait_and_read(
        &mut self,
        stop: &Interrupt,
        deadline: Option<Instant>,
        setup: bool,
    ) -> Result<Event, MonitorError> {
        loop {
            let timeout = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return if setup {
                            Err(MonitorError::Timeout)
                        } else {
                            Ok(Event::TimedOut)
                        };
                    }
                    // Round up so we never wake just before the deadline and spin.
                    PollTimeout::try_from(left + Duration::from_millis(1))
                        .unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = [
                PollFd::new(self.io.read_fd(), PollFlags::POLLIN),
                PollFd::new(stop.fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, timeout) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(MonitorError::Io(e.into())),
                Ok(_) => {}
            }
            let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
            if ready(&fds[1]) {
                return if setup {
                    Err(MonitorError::Interrupted)
                } else {
                    Ok(Event::Interrupted)
                };
            }
            if !ready(&fds[0]) {
                continue;
            }
            // Unparsed bytes move to the front when space runs short; the buffer grows only
            // for a message larger than it.
            if self.start == self.end {
                (self.start, self.end) = (0, 0);
            } else if self.start > 0 && self.buf.len() - self.end < READ_CHUNK / 4 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            }
            let want = (self.start + self.need).max(self.end + READ_CHUNK / 4);
            if self.buf.len() < want {
                self.buf.resize(want.next_multiple_of(READ_CHUNK), 0);
            }
            let n = match self.io.read(&mut self.buf[self.end..], &mut self.fds) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Ok(Event::Closed);
                }
                Err(e) => return Err(e.into()),
            };
            self.end += n;
            if n == 0 {
                return if setup {
                    Err(MonitorError::Connect(
                        "the bus closed the connection while we set up the monitor".into(),
                    ))
                } else {
                    Ok(Event::Closed)
                };
            }
            return Ok(Event::Data);
        }
    }

    /// Block until messages arrive (then take them with [`MonitorConn::next_message`]), the
    /// bus goes away, Ctrl-C, or `deadline`.
    pub fn wait(
        &mut self,
        stop: &Interrupt,
        deadline: Option<Instant>,
    ) -> Result<Event, MonitorError> {
        self.wait_and_read(stop, deadline, false)
    }

    /// The next complete message already read, if any. A malformed header is an error: the
    /// stream cannot be followed past it.
    pub fn next_message(&mut self) -> Result<Option<Message<'_>>, String> {
        let avail = &self.buf[self.start..self.end];
        if avail.len() < 16 {
            return Ok(None);
        }
        let len = frame_len(avail)?;
        if avail.len() < len {
            self.need = len;
            return Ok(None);
        }
        self.need = 0;
        let at = self.start;
        self.start += len;
        let bytes = &self.buf[at..at + len];
        let header = parse_header(bytes)?;
        let n = (header.unix_fds as usize).min(self.fds.len());
        let fds = self.fds.drain(..n).collect();
        Ok(Some(Message { bytes, header, fds }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_from_zbus_messages() {
        let m = zbus::Message::signal("/org/x", "org.x.I", "Changed")
            .sender(":1.7")
            .build(&("a", 5u32))
            .unwrap();
        let bytes = m.data().bytes().to_vec();
        assert_eq!(frame_len(&bytes).unwrap(), bytes.len());
        let h = parse_header(&bytes).unwrap();
        assert_eq!(h.kind, SIGNAL);
        assert_eq!(h.path, Some("/org/x"));
        assert_eq!(h.interface, Some("org.x.I"));
        assert_eq!(h.member, Some("Changed"));
        assert_eq!(h.sender, Some(":1.7"));
        assert_eq!(h.signature, "su");
        assert_eq!(h.serial, m.primary_header().serial_num().get());
        let call = driver_call(9, DBUS, "GetNameOwner", &[Data::Str("a.b".into())]).unwrap();
        let h = parse_header(&call).unwrap();
        assert_eq!(
            (h.kind, h.serial, h.member, h.destination, h.signature),
            (METHOD_CALL, 9, Some("GetNameOwner"), Some(DBUS), "s")
        );
        assert_eq!(frame_len(&call).unwrap(), call.len());
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        let m = zbus::Message::method_call("/a", "M")
            .build(&("x",))
            .unwrap();
        let good = m.data().bytes().to_vec();
        for cut in 0..good.len() {
            let _ = parse_header(&good[..cut]);
        }
        let mut bad = good.clone();
        bad[0] = b'x';
        assert!(frame_len(&bad).is_err());
        for i in 12..good.len().min(64) {
            let mut b = good.clone();
            b[i] ^= 0xff;
            let _ = parse_header(&b);
        }
    }
}

//! The worker side of `pystemd.futures`: this binary re-executed inside a transient unit
//! (`rustemd-shell [BUS OPTIONS] __worker N`), never a fork of the shell.
//!
//! The unit's main process is a small supervisor: its stdin is one end of a socket pair
//! whose other end the shell kept (passed to systemd as `StandardInputFileDescriptor=`). It
//! starts up to N worker processes (`__worker child`, each with a socket pair of its own),
//! hands them jobs as they come and sends back their results; the workers run as the unit's
//! user, in its cgroup and sandbox, because they are the unit's processes. When the shell's
//! end closes (the pool is done, the shell is gone), the supervisor kills its workers and
//! exits: nothing stays behind.
//!
//! Why a supervisor rather than one unit per job: a pool shares one unit (one CPUQuota for
//! all its workers, as pystemd's TransientUnitPoolExecutor does), and systemd passes a
//! transient service only three descriptors.
//!
//! Frames, both ways: `u32 length (of what follows), u8 kind, u64 job id, payload`. The
//! supervisor never decodes payloads; a worker decodes a job (`crate::lang::portable`: the
//! function, its arguments, the globals it names) and encodes the result or the exception.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::portable::{self, FnCode, Reader};
use crate::lang::value::Value;

/// Sent once by the supervisor: `pid uid user`.
pub const HELLO: u8 = 1;
/// A job: shell → supervisor → worker.
pub const JOB: u8 = 2;
/// A worker took a job: payload is its pid.
pub const STARTED: u8 = 3;
/// A job's outcome: payload is `1` + the encoded value, or `0` + the encoded exception.
pub const RESULT: u8 = 4;

/// The largest frame accepted (a payload is bounded like any value: 64 MiB of text).
const MAX_FRAME: usize = (64 << 20) + 1024;

/// Write one frame.
pub fn write_frame(w: &mut impl Write, kind: u8, id: u64, payload: &[u8]) -> io::Result<()> {
    let len =
        u32::try_from(1 + 8 + payload.len()).map_err(|_| io::Error::other("frame too large"))?;
    let mut head = Vec::with_capacity(13);
    head.extend_from_slice(&len.to_le_bytes());
    head.push(kind);
    head.extend_from_slice(&id.to_le_bytes());
    w.write_all(&head)?;
    w.write_all(payload)?;
    w.flush()
}

/// One frame read.
#[derive(Debug, PartialEq)]
pub struct Frame {
    pub kind: u8,
    pub id: u64,
    pub payload: Vec<u8>,
}

/// Collects bytes as they arrive and yields whole frames.
#[derive(Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
}

impl Frames {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if one has arrived; an error for a damaged stream.
    pub fn next(&mut self) -> io::Result<Option<Frame>> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if !(9..=MAX_FRAME).contains(&len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a damaged frame (length {len})"),
            ));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let kind = self.buf[4];
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.buf[5..13]);
        let payload = self.buf[13..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(Frame {
            kind,
            id: u64::from_le_bytes(id),
            payload,
        }))
    }

    /// Read what `r` has now (it is non-blocking); `false` at end of stream.
    pub fn fill(&mut self, r: &mut impl Read) -> io::Result<bool> {
        let mut chunk = [0u8; 65536];
        loop {
            match r.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => self.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Block until one whole frame is there (`None`: end of stream).
    pub fn read_one(&mut self, r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(f) = self.next()? {
                return Ok(Some(f));
            }
            match r.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Our stdin as a socket (what systemd handed us).
fn stdin_socket() -> io::Result<UnixStream> {
    let fd = nix::unistd::dup(io::stdin().as_fd()).map_err(io::Error::from)?;
    let s = UnixStream::from(fd);
    // A socket? (A terminal or a file here means we were not started by the shell.)
    s.peer_addr().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the worker's stdin must be the socket the shell hands to its unit",
        )
    })?;
    Ok(s)
}

// ----- the supervisor (the unit's main process) -----

struct Worker {
    child: Child,
    sock: UnixStream,
    frames: Frames,
    /// The job it runs.
    job: Option<u64>,
}

/// `__worker N`: run up to `n` workers for the shell on the other end of stdin. The workers
/// are started as `child_argv` (this binary with `__worker child`). Returns the exit status.
pub fn supervise(n: usize, child_argv: &[String]) -> i32 {
    match supervise_inner(n.max(1), child_argv) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rustemd-shell worker supervisor: {e}");
            1
        }
    }
}

fn hello() -> Vec<u8> {
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name);
    format!("{} {} {user}", std::process::id(), uid.as_raw()).into_bytes()
}

fn spawn_worker(child_argv: &[String]) -> io::Result<Worker> {
    let (ours, theirs) = UnixStream::pair()?;
    let mut cmd = Command::new(&child_argv[0]);
    cmd.args(&child_argv[1..])
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let child = cmd.spawn()?;
    ours.set_nonblocking(true)?;
    Ok(Worker {
        child,
        sock: ours,
        frames: Frames::default(),
        job: None,
    })
}

/// Why a worker ended, as a sentence.
fn ended(w: &mut Worker) -> String {
    use std::os::unix::process::ExitStatusExt;
    let st = w.child.wait();
    match st {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("worker process {} exited with status {c}", w.child.id()),
            (_, Some(sig)) => format!(
                "worker process {} was killed by signal {} ({}){}",
                w.child.id(),
                sig,
                nix::sys::signal::Signal::try_from(sig).map_or("?", |s| s.as_str()),
                if sig == 9 {
                    " — by the OOM killer if the unit has MemoryMax="
                } else {
                    ""
                }
            ),
            _ => format!("worker process {} ended", w.child.id()),
        },
        Err(e) => format!("worker process {} is gone ({e})", w.child.id()),
    }
}

fn supervise_inner(n: usize, child_argv: &[String]) -> io::Result<()> {
    let mut shell = stdin_socket()?;
    write_frame(&mut shell, HELLO, 0, &hello())?;
    shell.set_nonblocking(true)?;
    let mut from_shell = Frames::default();
    let mut queue: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
    let mut workers: Vec<Worker> = Vec::new();
    let send = |shell: &mut UnixStream, kind: u8, id: u64, payload: &[u8]| -> io::Result<()> {
        shell.set_nonblocking(false)?;
        let r = write_frame(shell, kind, id, payload);
        shell.set_nonblocking(true)?;
        r
    };
    let result = loop {
        // Hand out queued jobs: idle workers first, new ones up to n.
        while let Some((id, payload)) = queue.front().cloned() {
            let idx = match workers.iter().position(|w| w.job.is_none()) {
                Some(i) => i,
                None if workers.len() < n => {
                    workers.push(spawn_worker(child_argv)?);
                    workers.len() - 1
                }
                None => break,
            };
            queue.pop_front();
            let w = &mut workers[idx];
            w.sock.set_nonblocking(false)?;
            let sent = write_frame(&mut w.sock, JOB, id, &payload);
            w.sock.set_nonblocking(true)?;
            match sent {
                Ok(()) => {
                    w.job = Some(id);
                    send(&mut shell, STARTED, id, w.child.id().to_string().as_bytes())?;
                }
                Err(_) => {
                    // It died before taking the job: try again with another one.
                    queue.push_front((id, payload));
                    let mut gone = workers.remove(idx);
                    let _ = gone.child.kill();
                    let _ = ended(&mut gone);
                }
            }
        }
        let mut fds = vec![PollFd::new(shell.as_fd(), PollFlags::POLLIN)];
        for w in &workers {
            fds.push(PollFd::new(w.sock.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => break Err(io::Error::from(e)),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready[0] {
            let open = from_shell.fill(&mut shell)?;
            while let Some(f) = from_shell.next()? {
                if f.kind == JOB {
                    queue.push_back((f.id, f.payload));
                }
            }
            if !open {
                break Ok(());
            }
        }
        let mut i = 0;
        while i < workers.len() {
            if !ready[i + 1] {
                i += 1;
                continue;
            }
            let w = &mut workers[i];
            let open = w.frames.fill(&mut w.sock).unwrap_or(false);
            while let Ok(Some(f)) = w.frames.next() {
                if f.kind == RESULT {
                    w.job = None;
                    send(&mut shell, RESULT, f.id, &f.payload)?;
                }
            }
            if open {
                i += 1;
                continue;
            }
            let mut gone = workers.remove(i);
            let why = ended(&mut gone);
            if let Some(id) = gone.job {
                let e = Error::py(PyExc::RuntimeError, why);
                let mut payload = vec![0u8];
                payload.extend(portable::encode_error(&e, &|_| None));
                send(&mut shell, RESULT, id, &payload)?;
            }
        }
    };
    // The shell is done (or gone): so are the workers.
    for mut w in workers {
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    result
}

// ----- a worker -----

/// `__worker child`: run jobs from stdin with `it` until the end of input. Returns the exit
/// status.
pub fn serve(it: &mut Interp) -> i32 {
    let mut sock = match stdin_socket() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rustemd-shell worker: {e}");
            return 1;
        }
    };
    let mut frames = Frames::default();
    loop {
        let f = match frames.read_one(&mut sock) {
            Ok(Some(f)) => f,
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("rustemd-shell worker: {e}");
                return 1;
            }
        };
        if f.kind != JOB {
            continue;
        }
        let payload = match run_job(it, &f.payload) {
            Ok(bytes) => {
                let mut p = vec![1u8];
                p.extend(bytes);
                p
            }
            Err(e) => {
                let prelude = it.prelude().ok();
                let namer = |g: &std::rc::Rc<crate::lang::value::Function>| {
                    prelude.as_ref().and_then(|p| p.name_of(g))
                };
                let mut p = vec![0u8];
                p.extend(portable::encode_error(&e, &namer));
                p
            }
        };
        let _ = it.out.flush();
        if write_frame(&mut sock, RESULT, f.id, &payload).is_err() {
            return 0;
        }
    }
}

/// A function made again from its code, in this worker.
fn make_function(it: &mut Interp, code: FnCode) -> Result<Value, Error> {
    match code {
        FnCode::Prelude { module, name } => {
            let p = it.prelude()?;
            p.get(&module, &name).ok_or_else(|| {
                Error::py(
                    PyExc::NameError,
                    format!("the worker's prelude has no {module}.{name}"),
                )
            })
        }
        FnCode::Source {
            name,
            code,
            lambda,
            file,
            line,
        } => {
            const SLOT: &str = "__rustemd_worker_function__";
            let src = if lambda {
                format!("{SLOT} = ({code})")
            } else {
                code
            };
            it.run_named(&src, &file, line.max(1))?;
            let key = if lambda { SLOT } else { name.as_str() };
            let f = it.vars.borrow_mut().remove(key);
            f.ok_or_else(|| {
                Error::py(
                    PyExc::NameError,
                    format!("defining {name} in the worker did not make it"),
                )
            })
        }
    }
}

/// Run one job: `(function, args, kwargs, globals)`; the encoded result.
fn run_job(it: &mut Interp, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(payload);
    // Functions are made as they are met (a def does not run its body, so the globals it
    // names need only be there when it is called).
    let job = r.value(&mut |code| make_function(it, code))?;
    let items = job.items().unwrap_or_default();
    let [f, args, kwargs, globals] = items.as_slice() else {
        return Err(Error::value_error("a damaged job (not 4 parts)"));
    };
    if let Value::Dict(g) = globals {
        for (k, v) in g.borrow().entries() {
            if let Some(k) = k.as_text() {
                it.vars.borrow_mut().insert(k, v.clone());
            }
        }
    }
    let mut a = crate::lang::builtins::Args {
        pos: args.items().unwrap_or_default(),
        kw: Vec::new(),
    };
    if let Value::Dict(d) = kwargs {
        for (k, v) in d.borrow().entries() {
            a.kw.push((k.as_text().unwrap_or_default(), v.clone()));
        }
    }
    let v = it.call(f, a)?;
    let prelude = it.prelude().ok();
    let namer =
        |g: &std::rc::Rc<crate::lang::value::Function>| prelude.as_ref().and_then(|p| p.name_of(g));
    portable::encode(&v, &namer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_split() {
        let mut bytes = Vec::new();
        write_frame(&mut bytes, JOB, 7, b"hello").unwrap();
        write_frame(&mut bytes, RESULT, 8, b"").unwrap();
        for cut in 0..bytes.len() {
            let mut f = Frames::default();
            f.push(&bytes[..cut]);
            let mut got = Vec::new();
            while let Some(x) = f.next().unwrap() {
                got.push(x);
            }
            f.push(&bytes[cut..]);
            while let Some(x) = f.next().unwrap() {
                got.push(x);
            }
            assert_eq!(got.len(), 2, "{cut}");
            assert_eq!(got[0].payload, b"hello");
            assert_eq!(got[1].id, 8);
        }
        let mut f = Frames::default();
        f.push(&[1, 0, 0, 0, 0]);
        assert!(f.next().is_err());
    }
}

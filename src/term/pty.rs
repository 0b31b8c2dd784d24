//! A pseudo-terminal for a unit, and our terminal forwarded to it (`run(..., pty=True)`).
//!
//! The unit opens the pty's follower by path (`TTYPath=`); we keep the leader. While the unit
//! runs, our terminal is raw ([`RawMode`], restored by its `Drop`, so any way out — the unit
//! ending, an error, a panic — leaves the terminal exactly as it was) and a [`Forwarder`]
//! thread copies bytes both ways with poll(2). Ctrl-C is then just a byte for the unit's
//! terminal, whose line discipline signals the unit's processes, not us. Ctrl-] three times
//! within a second detaches (machinectl's escape): the unit keeps running.
//!
//! Why a thread and poll rather than async: raw fds of a terminal are not sockets; a plain
//! thread with a wake-up pipe is the simplest thing that never blocks the bus, and it is
//! stopped and joined before the terminal is restored.
//!
//! We keep the follower open too (as pystemd does): the leader then never reports EIO while
//! the unit has not opened it yet, and the end is decided by the unit's state, not by a
//! hang-up.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::pty::Winsize;
use nix::sys::termios::{self, SetArg, Termios};

/// Ctrl-].
const ESCAPE: u8 = 0x1d;
/// Presses of [`ESCAPE`] that detach, and the time they must fall within.
const ESCAPES: usize = 3;
const ESCAPE_WINDOW: Duration = Duration::from_secs(1);

nix::ioctl_read_bad!(tiocgwinsz, nix::libc::TIOCGWINSZ, Winsize);
nix::ioctl_write_ptr_bad!(tiocswinsz, nix::libc::TIOCSWINSZ, Winsize);

/// A new pseudo-terminal: the leader we keep and the follower's path for `TTYPath=`.
pub struct Pty {
    leader: OwnedFd,
    _follower: OwnedFd,
    path: String,
}

impl Pty {
    pub fn open() -> io::Result<Pty> {
        let pair = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(&pair.slave)
            .map_err(io::Error::from)?
            .to_string_lossy()
            .into_owned();
        Ok(Pty {
            leader: pair.master,
            _follower: pair.slave,
            path,
        })
    }

    /// `/dev/pts/N`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Give the pty the window size of terminal `from` (the unit gets SIGWINCH).
    pub fn copy_window_size(&self, from: BorrowedFd<'_>) -> io::Result<()> {
        let size = window_size(from)?;
        // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which is valid for the call;
        // the fd is our open pty leader.
        unsafe { tiocswinsz(self.leader.as_raw_fd(), &size) }
            .map(|_| ())
            .map_err(io::Error::from)
    }
}

/// The window size of terminal `fd`.
pub fn window_size(fd: BorrowedFd<'_>) -> io::Result<Winsize> {
    let mut size = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` to the pointer, which points at `size` for the
    // duration of the call; a non-terminal fd gives ENOTTY, reported as an error.
    unsafe { tiocgwinsz(fd.as_raw_fd(), &mut size) }.map_err(io::Error::from)?;
    Ok(size)
}

/// Terminal `fd` in raw mode until dropped; dropping restores the saved modes exactly.
pub struct RawMode {
    fd: RawFd,
    saved: Termios,
}

impl RawMode {
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<RawMode> {
        let saved = termios::tcgetattr(fd).map_err(io::Error::from)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSADRAIN, &raw).map_err(io::Error::from)?;
        Ok(RawMode {
            fd: fd.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: the fd is our stdin (or another terminal fd the caller keeps open for the
        // whole run); it outlives this guard.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = termios::tcsetattr(fd, SetArg::TCSADRAIN, &self.saved);
    }
}

/// Why forwarding stopped on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Ctrl-] three times: the user detached.
    Detached,
    /// Our input ended (EOF on stdin).
    InputClosed,
}

/// Copies `input` → leader and leader → `output` on a thread, until stopped.
pub struct Forwarder {
    thread: Option<JoinHandle<()>>,
    wake: Option<OwnedFd>,
    leader: RawFd,
    output: Option<RawFd>,
}

impl Forwarder {
    /// Start forwarding. `on_stop` is called (once, from the thread) if forwarding ends by
    /// itself: detach or end of input.
    pub fn start(
        pty: &Pty,
        input: Option<RawFd>,
        output: Option<RawFd>,
        on_stop: impl FnOnce(Stopped) + Send + 'static,
    ) -> io::Result<Forwarder> {
        let (wake_r, wake_w) = nix::unistd::pipe().map_err(io::Error::from)?;
        let leader = pty.leader.as_raw_fd();
        let thread = std::thread::Builder::new()
            .name("pty-forward".into())
            .spawn(move || forward(leader, input, output, wake_r, on_stop))?;
        Ok(Forwarder {
            thread: Some(thread),
            wake: Some(wake_w),
            leader,
            output,
        })
    }

    /// Stop the thread, then copy what the unit wrote last (still buffered in the pty).
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(w) = self.wake.take() {
            let _ = nix::unistd::write(&w, b"x");
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(out) = self.output.take() {
            drain(self.leader, out);
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.finish();
    }
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: every fd passed here (stdin/stdout, the pty leader) is kept open by its owner
    // until the forwarder thread has been joined (`Forwarder::finish` joins before the `Pty`
    // and the caller's fds can go away).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

fn write_all(fd: RawFd, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match nix::unistd::write(borrow(fd), buf) {
            Ok(0) => return false,
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return false,
        }
    }
    true
}

fn forward(
    leader: RawFd,
    input: Option<RawFd>,
    output: Option<RawFd>,
    wake: OwnedFd,
    on_stop: impl FnOnce(Stopped),
) {
    let mut buf = [0u8; 8192];
    let mut escapes: Vec<Instant> = Vec::new();
    loop {
        let mut fds = vec![
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
            PollFd::new(borrow(leader), PollFlags::POLLIN),
        ];
        if let Some(i) = input {
            fds.push(PollFd::new(borrow(i), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(PollFd::revents)
                .is_some_and(|r| !r.is_empty())
        };
        let (wake_ready, leader_ready, input_ready) = (ready(0), ready(1), ready(2));
        drop(fds);
        if wake_ready {
            return;
        }
        if leader_ready {
            match nix::unistd::read(borrow(leader), &mut buf) {
                Ok(n) if n > 0 => {
                    if let Some(out) = output
                        && !write_all(out, &buf[..n])
                    {
                        return;
                    }
                }
                // EIO: nobody has the follower open right now; the unit's state says when
                // it is over, so wait a little rather than spin.
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if input_ready && let Some(i) = input {
            match nix::unistd::read(borrow(i), &mut buf) {
                Ok(0) | Err(_) => {
                    on_stop(Stopped::InputClosed);
                    return;
                }
                Ok(n) => {
                    let now = Instant::now();
                    for &b in &buf[..n] {
                        if b == ESCAPE {
                            escapes.retain(|t| now.duration_since(*t) < ESCAPE_WINDOW);
                            escapes.push(now);
                            if escapes.len() >= ESCAPES {
                                on_stop(Stopped::Detached);
                                return;
                            }
                        } else {
                            escapes.clear();
                        }
                    }
                    if !write_all(leader, &buf[..n]) {
                        return;
                    }
                }
            }
        }
    }
}

/// Copy what is left in the leader to `out` without waiting.
fn drain(leader: RawFd, out: RawFd) {
    let mut buf = [0u8; 8192];
    loop {
        let mut fds = [PollFd::new(borrow(leader), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(50u16)) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
        match nix::unistd::read(borrow(leader), &mut buf) {
            Ok(n) if n > 0 => {
                if !write_all(out, &buf[..n]) {
                    return;
                }
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_copies_both_ways_and_detaches_on_triple_escape() {
        // Our "terminal" is a second pty; the unit's side is the follower of the first.
        let pty = Pty::open().unwrap();
        assert!(pty.path().starts_with("/dev/pts/"), "{}", pty.path());
        let term = nix::pty::openpty(None, None).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let fwd = Forwarder::start(
            &pty,
            Some(term.slave.as_raw_fd()),
            Some(term.slave.as_raw_fd()),
            move |s| {
                let _ = tx.send(s);
            },
        )
        .unwrap();
        let unit = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(pty.path())
            .unwrap();
        // Raw on both sides, so bytes pass unchanged.
        for fd in [unit.as_fd(), term.slave.as_fd()] {
            let mut t = termios::tcgetattr(fd).unwrap();
            termios::cfmakeraw(&mut t);
            termios::tcsetattr(fd, SetArg::TCSANOW, &t).unwrap();
        }
        use std::io::{Read, Write};
        let mut term_leader = std::fs::File::from(term.master);
        term_leader.write_all(b"typed").unwrap();
        let mut got = [0u8; 5];
        (&unit).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"typed");
        (&unit).write_all(b"shown").unwrap();
        let mut got = [0u8; 5];
        term_leader.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"shown");
        term_leader.write_all(&[ESCAPE, ESCAPE, ESCAPE]).unwrap();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            Stopped::Detached
        );
        fwd.stop();
    }

    #[test]
    fn raw_mode_is_undone_on_drop() {
        let term = nix::pty::openpty(None, None).unwrap();
        let before = termios::tcgetattr(&term.slave).unwrap();
        {
            let _raw = RawMode::enter(term.slave.as_fd()).unwrap();
            let during = termios::tcgetattr(&term.slave).unwrap();
            assert!(!during.local_flags.contains(termios::LocalFlags::ICANON));
        }
        let after = termios::tcgetattr(&term.slave).unwrap();
        assert_eq!(format!("{before:?}"), format!("{after:?}"));
    }
}

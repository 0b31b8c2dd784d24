//! The runtime zbus runs our connection on: tokio's, with the socket watched for reading only.
//!
//! Why not zbus's own tokio backend: it registers the socket for reading *and* writing,
//! edge-triggered, so every time the bus daemon drains a call we sent, the kernel reports the
//! socket writable again and the waiting thread wakes for nothing. On a property read that is
//! a second context switch per call (the first is the reply), where a C sd-bus client has one.
//! Here a write is simply made; only when the kernel's buffer is full (a write would block) is
//! the socket registered for writing, until that write goes through.
//!
//! Everything else is tokio as zbus uses it: tasks, timers, the reactor, processes (for
//! `unixexec:` addresses) and blocking work.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::Interest as TokioInterest;
use tokio::io::unix::AsyncFd;
use zbus::runtime::traits::{PollIo, Runtime, TaskHandle};
use zbus::runtime::{Interest, IoSource};

/// The tokio runtime of the calling thread, as zbus sees it.
#[derive(Clone, Debug)]
pub struct ReadOnlyWatch;

/// A socket registered with tokio's reactor for reading; for writing only while a write waits.
#[derive(Debug)]
pub struct Registration {
    read: AsyncFd<IoSource>,
    /// A duplicate of the descriptor, registered for writing while the buffer is full.
    write: Mutex<Option<AsyncFd<OwnedFd>>>,
}

impl PollIo for Registration {
    fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut operation: impl FnMut() -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        match interest {
            Interest::Readable => loop {
                // Tokio re-arms the interest only once the guard is cleared: no spinning.
                let mut guard = ready!(self.read.poll_read_ready(cx))?;
                match operation() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                    result => return Poll::Ready(result),
                }
            },
            Interest::Writable => {
                let mut slot = self.write.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    match operation() {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        result => {
                            // Written: stop watching for room (no wake-ups for nothing).
                            *slot = None;
                            return Poll::Ready(result);
                        }
                    }
                    if slot.is_none() {
                        let dup = self.read.get_ref().as_fd().try_clone_to_owned()?;
                        // SAFETY: the AsyncFd owns `dup`, which stays open and is the same
                        // descriptor for as long as the AsyncFd lives.
                        let fd = unsafe {
                            AsyncFd::register_with_interest(dup, TokioInterest::WRITABLE)
                        };
                        *slot = Some(fd.map_err(io::Error::from)?);
                    }
                    let fd = slot.as_ref().expect("registered just above");
                    let mut guard = ready!(fd.poll_write_ready(cx))?;
                    guard.clear_ready();
                }
            }
            _ => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "unknown interest",
            ))),
        }
    }
}

/// A spawned task; dropping it aborts the task, as zbus expects.
#[derive(Debug)]
pub struct Task<T>(Option<tokio::task::JoinHandle<T>>);

impl<T: Send + 'static> TaskHandle<T> for Task<T> {
    fn detach(mut self) {
        drop(self.0.take());
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

impl<T> Future for Task<T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(h) = self.get_mut().0.as_mut() else {
            return Poll::Ready(Err(io::Error::other("the task was detached")));
        };
        Pin::new(h)
            .poll(cx)
            .map(|r| r.map_err(|e| io::Error::other(format!("the task ended: {e}"))))
    }
}

impl Runtime for ReadOnlyWatch {
    type RegisteredIoSource = Registration;
    type Sleep = tokio::time::Sleep;
    type Task<T>
        = Task<T>
    where
        T: Send + 'static;

    fn register_io_source(&self, source: IoSource) -> io::Result<Registration> {
        // SAFETY: `source` shares ownership of its descriptor (an Arc), so it stays open and
        // `as_raw_fd` returns the same descriptor for as long as the AsyncFd keeps it.
        let read = unsafe { AsyncFd::register_with_interest(source, TokioInterest::READABLE) };
        Ok(Registration {
            read: read.map_err(io::Error::from)?,
            write: Mutex::new(None),
        })
    }

    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(duration)
    }

    fn spawn<T>(&self, _name: &str, future: impl Future<Output = T> + Send + 'static) -> Task<T>
    where
        T: Send + 'static,
    {
        Task(Some(tokio::spawn(future)))
    }

    async fn connect_tcp(&self, address: SocketAddr) -> io::Result<IoSource> {
        let stream = tokio::net::TcpStream::connect(address).await?.into_std()?;
        Ok(IoSource::from(OwnedFd::from(stream)))
    }

    fn connect_unix(&self, path: &Path) -> impl Future<Output = io::Result<IoSource>> + Send {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        // A unix connect does not wait on the network: made at once, then made non-blocking.
        let stream = match bytes.strip_prefix(b"\0") {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|a| std::os::unix::net::UnixStream::connect_addr(&a))
            }
            None => std::os::unix::net::UnixStream::connect(path),
        };
        let result = stream
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map(|s| IoSource::from(OwnedFd::from(s)));
        std::future::ready(result)
    }

    /// For `unixexec:` addresses (`-H HOST` runs ssh): as zbus's own tokio backend does it.
    fn spawn_process(
        &self,
        mut command: Command,
        stdin: Stdio,
        stdout: Stdio,
        stderr: Stdio,
    ) -> io::Result<Pin<Box<dyn Future<Output = io::Result<ExitStatus>> + Send + 'static>>> {
        command.stdin(stdin).stdout(stdout).stderr(stderr);
        let mut command = tokio::process::Command::from(command);
        let child = command.spawn();
        // The command keeps copies of the streams it was given: a pipe's write end left open
        // here would be a pipe that never ends for the reader.
        drop(command);
        let mut child = child?;
        Ok(Box::pin(async move { child.wait().await }))
    }

    fn spawn_blocking<T>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send + 'static>>
    where
        T: Send + 'static,
    {
        let task = tokio::task::spawn_blocking(work);
        Box::pin(async move {
            match task.await {
                Ok(v) => v,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("the runtime shut down during blocking work: {e}"),
            }
        })
    }
}

/// A signal heard inside the runtime: the socket [`crate::term::signals::listener`] gives,
/// registered with the runtime that is current when this is made. Signals that came while
/// nobody waited are not lost: the next [`SignalStream::recv`] returns at once.
pub struct SignalStream(tokio::net::UnixStream);

impl SignalStream {
    /// Call it inside a runtime (its reactor watches the socket).
    pub fn new(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<SignalStream> {
        let sock = std::os::unix::net::UnixStream::from(fd.try_clone_to_owned()?);
        Ok(SignalStream(tokio::net::UnixStream::from_std(sock)?))
    }

    /// The next signal (every one that came since the last call counts as one).
    pub async fn recv(&self) -> io::Result<()> {
        let mut buf = [0u8; 64];
        loop {
            self.0.readable().await?;
            match self.0.try_read(&mut buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {
                    while matches!(self.0.try_read(&mut buf), Ok(n) if n > 0) {}
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Like [`SignalStream::recv`], but a stream that failed (or none) never returns.
    pub async fn next(this: Option<&SignalStream>) {
        if let Some(s) = this
            && s.recv().await.is_ok()
        {
            return;
        }
        std::future::pending().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_signal_wakes_the_wait_even_one_that_came_before_it() {
        use crate::term::signals::{SIGWINCH, listener};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let within = |s: &SignalStream| {
            rt.block_on(tokio::time::timeout(Duration::from_secs(2), s.recv()))
                .is_ok()
        };
        let _in = rt.enter();
        let s = SignalStream::new(listener(SIGWINCH).unwrap()).unwrap();
        // SIGWINCH is ignored by default: raising it here harms nothing.
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGWINCH).unwrap();
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGWINCH).unwrap();
        assert!(within(&s), "a signal raised before the wait");
        // Two that came together count once; then nothing until the next.
        let quiet = rt.block_on(tokio::time::timeout(Duration::from_millis(100), s.recv()));
        assert!(quiet.is_err());
        let t = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGWINCH)
                .unwrap();
        });
        assert!(within(&s), "a signal that comes during the wait");
        t.join().unwrap();
        // The listener is one per signal, for the process.
        assert_eq!(
            listener(SIGWINCH).unwrap().as_raw_fd(),
            listener(SIGWINCH).unwrap().as_raw_fd()
        );
    }
}

//! What a statement writes to the terminal, shown live and kept for its checkpoints.
//!
//! Why at the file-descriptor level: a statement's output does not all go through the
//! interpreter's writer. Host pipelines (`tree x | grep y`), `!cmd`, the host's `ls` and a
//! unit given `sys.stdout` write to our descriptor 1 directly, and errors are reported on 2.
//! While a statement runs, 1 and 2 both point at one pipe (so their order is kept, as a
//! terminal shows it); a thread copies what arrives to the real stdout and keeps a copy.
//! Afterwards 1 and 2 are put back. A process that inherited the pipe and lives on (a unit
//! left running with `stdout=sys.stdout`) keeps being forwarded to the terminal by the
//! thread, which ends when the last writer closes the pipe; only what came while the
//! statement ran (and a short quiet moment after) counts for the checkpoints.

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the output may keep arriving after a statement returned (the last bytes of a
/// child that wrote just before it exited) before the capture ends.
const SETTLE: Duration = Duration::from_millis(150);

pub struct Capture {
    saved_out: OwnedFd,
    saved_err: OwnedFd,
    kept: Arc<Mutex<Option<Vec<u8>>>>,
    /// A message per chunk forwarded, and the end of the pipe (`None`).
    news: mpsc::Receiver<Option<()>>,
}

impl Capture {
    /// Send 1 and 2 into the capture; `echo` forwards what arrives to the real stdout.
    pub fn start(echo: bool) -> io::Result<Capture> {
        let _ = io::stdout().flush();
        let saved_out = io::stdout().as_fd().try_clone_to_owned()?;
        let saved_err = io::stderr().as_fd().try_clone_to_owned()?;
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        let kept = Arc::new(Mutex::new(Some(Vec::new())));
        let (tx, news) = mpsc::channel();
        let forward = saved_out.try_clone()?;
        let keep = kept.clone();
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || pump(r, forward, echo, keep, tx))?;
        nix::unistd::dup2_stdout(&w).map_err(io::Error::from)?;
        nix::unistd::dup2_stderr(&w).map_err(io::Error::from)?;
        drop(w);
        Ok(Capture {
            saved_out,
            saved_err,
            kept,
            news,
        })
    }

    /// Put 1 and 2 back and return what was written.
    pub fn finish(self) -> Vec<u8> {
        let _ = io::stdout().flush();
        let _ = nix::unistd::dup2_stdout(&self.saved_out);
        let _ = nix::unistd::dup2_stderr(&self.saved_err);
        // Until the pipe ends, or nothing more came for a moment.
        while let Ok(Some(())) = self.news.recv_timeout(SETTLE) {}
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.take().unwrap_or_default()
    }
}

fn pump(
    r: OwnedFd,
    out: OwnedFd,
    echo: bool,
    keep: Arc<Mutex<Option<Vec<u8>>>>,
    tx: mpsc::Sender<Option<()>>,
) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(&r, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if echo {
                    let mut at = 0;
                    while at < n {
                        match nix::unistd::write(&out, &buf[at..n]) {
                            Ok(k) => at += k,
                            Err(nix::errno::Errno::EINTR) => {}
                            Err(_) => break,
                        }
                    }
                }
                // Kept while the statement's capture lasts (`None` after).
                if let Some(v) = keep.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    v.extend_from_slice(&buf[..n]);
                }
                let _ = tx.send(Some(()));
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(None);
}

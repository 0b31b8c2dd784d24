//! A pager for long output on a terminal, chosen the way systemd's tools choose it.
//!
//! `SYSTEMD_PAGER`, then `PAGER`, else `less`, then `more`; an empty value or `cat` means no
//! pager. `less` gets `LESS=FRSXMK` (or `SYSTEMD_LESS`), so short output prints and returns at
//! once, colours pass through and Ctrl-C quits. Only used when stdout is a terminal, and never
//! with `--no-pager`.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct Pager {
    child: Child,
    stdin: Option<ChildStdin>,
}

/// The pager command line from the environment: `None` when paging is turned off.
fn command_line() -> Option<String> {
    for var in ["SYSTEMD_PAGER", "PAGER"] {
        if let Ok(v) = std::env::var(var) {
            let v = v.trim().to_string();
            if v.is_empty() || v == "cat" {
                return None;
            }
            return Some(v);
        }
    }
    ["less", "more"]
        .iter()
        .find(|p| {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
        })
        .map(|p| p.to_string())
}

impl Pager {
    /// Start the pager, or `None` (output then goes straight to stdout).
    pub fn start() -> Option<Pager> {
        let cmd = command_line()?;
        let less = std::env::var("SYSTEMD_LESS").unwrap_or_else(|_| "FRSXMK".into());
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(&cmd)
            .env("LESS", less)
            .env("LESSCHARSET", "utf-8")
            .stdin(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take();
        Some(Pager { child, stdin })
    }
}

impl Write for Pager {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.stdin {
            Some(s) => s.write(buf),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.stdin {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Pager {
    /// Close the pipe and wait until the reader quits, so the prompt or the shell's exit
    /// comes after it.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

//! A fluent runner for the shell binary: `Shell::new().address(a).input("..").run()`.
//!
//! Every run is bounded (the runner kills a shell that outlives its limit), so a hang fails the
//! test instead of freezing the suite.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::dbus::run_with_timeout;

pub const BIN: &str = env!("CARGO_BIN_EXE_rustemd-shell");

pub struct Shell {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    wrap: Vec<String>,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code(),
        }
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "shell failed: {self:#?}");
        self
    }

    #[track_caller]
    pub fn failure(&self) -> &Self {
        assert_ne!(self.code, Some(0), "shell should have failed: {self:#?}");
        assert!(self.code.is_some(), "shell was killed: {self:#?}");
        self
    }

    #[track_caller]
    pub fn stdout_is(&self, want: &str) -> &Self {
        assert_eq!(self.stdout, want, "stdout differs; stderr: {}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, want: &str) -> &Self {
        assert!(
            self.stdout.contains(want),
            "stdout lacks {want:?}:\n{}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, want: &str) -> &Self {
        assert!(
            self.stderr.contains(want),
            "stderr lacks {want:?}:\n{}\nstdout: {}",
            self.stderr,
            self.stdout
        );
        self
    }

    #[track_caller]
    pub fn no_panic(&self) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "the shell panicked: {}",
            self.stderr
        );
        assert!(
            self.code.is_some(),
            "the shell was killed (hang?): {self:#?}"
        );
        self
    }
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

impl Shell {
    pub fn new() -> Shell {
        Shell {
            args: Vec::new(),
            stdin: None,
            timeout: Duration::from_secs(60),
            wrap: Vec::new(),
            env: vec![("NO_COLOR".into(), "1".into())],
        }
    }

    pub fn address(self, a: &str) -> Shell {
        self.args(&["--address", a])
    }

    pub fn args(mut self, a: &[&str]) -> Shell {
        self.args.extend(a.iter().map(|s| s.to_string()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Shell {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn input(mut self, s: &str) -> Shell {
        self.stdin = Some(s.as_bytes().to_vec());
        self
    }

    /// Raw bytes on stdin (e.g. invalid UTF-8).
    pub fn input_bytes(mut self, b: &[u8]) -> Shell {
        self.stdin = Some(b.to_vec());
        self
    }

    pub fn timeout(mut self, t: Duration) -> Shell {
        self.timeout = t;
        self
    }

    /// Run the shell through a wrapper command (e.g. `scripts/sandbox exec NAME --`).
    pub fn wrapped(mut self, w: &[&str]) -> Shell {
        self.wrap = w.iter().map(|s| s.to_string()).collect();
        self
    }

    #[track_caller]
    pub fn run(self) -> Run {
        let mut cmd = if self.wrap.is_empty() {
            Command::new(BIN)
        } else {
            let mut c = Command::new(&self.wrap[0]);
            c.args(&self.wrap[1..]).arg(BIN);
            c
        };
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        match self.stdin {
            Some(input) => {
                // Feed stdin through a file: run_with_timeout owns the child.
                let mut f = tempfile::NamedTempFile::new().expect("temp file");
                f.write_all(&input).expect("write input");
                let file = std::fs::File::open(f.path()).expect("reopen input");
                cmd.stdin(Stdio::from(file));
                Run::from(run_with_timeout(cmd, self.timeout))
            }
            None => {
                cmd.stdin(Stdio::null());
                Run::from(run_with_timeout(cmd, self.timeout))
            }
        }
    }
}

/// Collapse runs of spaces (busctl pads columns; comparisons ignore padding).
pub fn squeeze(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

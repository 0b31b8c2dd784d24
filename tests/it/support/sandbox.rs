//! A real systemd to test against: one sandbox (`scripts/sandbox`) per test-binary run.
//!
//! [`Sandbox::shared`] boots it on first use (name `rt-<pid>`, with `--workshop`, so
//! `myfirstservice.service` exists and runs). A detached watcher process tears it down when
//! this process exits for any reason (normal end, panic, SIGKILL): the watcher's stdin is a
//! pipe whose write end only this process holds, so it reads EOF when we are gone.
//!
//! When no sandbox can be had (not root, no systemd-nspawn, boot failure) the fixture panics
//! with the reason: tests never pass by skipping.
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// A running sandbox booted by this test process.
pub struct Sandbox {
    name: String,
    bus_address: String,
    pid1: u32,
    /// The watcher and the write end of its stdin (for the shared sandbox: never dropped, so
    /// the pipe closes only when this process exits).
    watcher: Mutex<Option<(Child, ChildStdin)>>,
}

static SHARED: OnceLock<Sandbox> = OnceLock::new();

impl Sandbox {
    /// The sandbox shared by all tests of this run (booted once, torn down at exit).
    pub fn shared() -> &'static Sandbox {
        SHARED.get_or_init(|| Sandbox::boot(&format!("rt-{}", std::process::id()), true))
    }

    /// Boot a separate sandbox `name` (e.g. for tests that take one down). It is taken down
    /// by [`Sandbox::down`], on drop, or by its watcher when this process exits.
    #[track_caller]
    pub fn boot(name: &str, workshop: bool) -> Sandbox {
        Self::boot_as(name, workshop, None)
    }

    /// Like [`Sandbox::boot`], as if started from the checkout `checkout` (SANDBOX_CHECKOUT),
    /// for tests of `down --all`.
    #[track_caller]
    pub fn boot_as(name: &str, workshop: bool, checkout: Option<&str>) -> Sandbox {
        if !nix::unistd::Uid::effective().is_root() {
            panic!(
                "the sandbox tests need root (they boot systemd in systemd-nspawn): \
                 run scripts/test as root"
            );
        }
        // Watcher first, so even a half-booted sandbox gets cleaned up.
        let watcher = spawn_watcher(name);
        let mut up = Command::new(script());
        up.arg("up").arg(name);
        if let Some(c) = checkout {
            up.env("SANDBOX_CHECKOUT", c);
        }
        if workshop {
            up.arg("--workshop");
        }
        let out = up
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
        if !out.status.success() {
            panic!(
                "scripts/sandbox up {name} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let env = run_script(&["env", name]);
        let value = |key: &str| -> String {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("scripts/sandbox env {name}: no {key} in {env:?}"))
                .to_string()
        };
        let bus_address = value("DBUS_SYSTEM_BUS_ADDRESS");
        let pid1 = value("SANDBOX_PID1")
            .parse()
            .unwrap_or_else(|e| panic!("bad SANDBOX_PID1: {e}"));
        Sandbox {
            name: name.to_string(),
            bus_address,
            pid1,
            watcher: Mutex::new(Some(watcher)),
        }
    }

    /// The sandbox's name (`scripts/sandbox ... NAME`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// D-Bus address of the sandbox's system bus, reachable from the host
    /// (`unix:path=/run/rustemd-sandbox/NAME/bus/system_bus_socket`).
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// Host PID of the container's PID 1 (systemd).
    pub fn pid1(&self) -> u32 {
        self.pid1
    }

    /// The sandbox's state dir on the host (a tmpfs: overlay upper/work dirs, root, bus).
    pub fn state_dir(&self) -> PathBuf {
        Path::new("/run/rustemd-sandbox").join(&self.name)
    }

    /// Host PID of the sandbox's systemd-nspawn.
    #[track_caller]
    pub fn nspawn_pid(&self) -> u32 {
        let f = self.state_dir().join("nspawn.pid");
        std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
            .trim()
            .parse()
            .expect("nspawn.pid holds a PID")
    }

    /// Run `args` inside the sandbox (all its namespaces, via `scripts/sandbox exec`), with
    /// stdin from /dev/null; stdout, stderr and exit status come back as they are.
    #[track_caller]
    pub fn exec(&self, args: &[&str]) -> Output {
        Command::new(script())
            .arg("exec")
            .arg(&self.name)
            .arg("--")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()))
    }

    /// Like [`Sandbox::exec`], but panics unless the command succeeds; returns its stdout.
    #[track_caller]
    pub fn exec_ok(&self, args: &[&str]) -> String {
        let out = self.exec(args);
        assert!(
            out.status.success(),
            "in sandbox {}: {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The shell inside this sandbox, in a scope of its own (as `scripts/workshop` runs it, so
    /// it belongs to a unit as a workshop login would).
    pub fn shell(&self) -> super::shell::Shell {
        let cmd = self.in_scope();
        let wrap: Vec<String> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let w: Vec<&str> = wrap.iter().map(String::as_str).collect();
        super::shell::Shell::new().wrapped(&w)
    }

    /// `scripts/sandbox exec NAME -- systemd-run --scope --quiet --`: add the program to run
    /// inside the sandbox in a scope of its own (as a person's shell runs there).
    pub fn in_scope(&self) -> Command {
        let mut cmd = Command::new(script());
        cmd.args([
            "exec",
            &self.name,
            "--",
            "systemd-run",
            "--scope",
            "--quiet",
            "--",
        ]);
        cmd
    }

    /// A systemd tool (`busctl`, `systemctl`) inside, with plain output: no colours, no
    /// pager, a UTF-8 locale.
    #[track_caller]
    pub fn tool(&self, tool: &str, args: &[&str]) -> Output {
        let mut v = vec![
            "env",
            "SYSTEMD_COLORS=0",
            "SYSTEMD_PAGER=",
            "LC_ALL=C.UTF-8",
            tool,
        ];
        v.extend_from_slice(args);
        self.exec(&v)
    }

    /// Take this sandbox down now (`scripts/sandbox down NAME`); returns that command's output.
    #[track_caller]
    pub fn down(&self) -> Output {
        Command::new(script())
            .args(["down", "--quiet", &self.name])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()))
    }
}

impl Drop for Sandbox {
    // Only owned sandboxes drop (the shared one lives in a static: its watcher cleans up).
    fn drop(&mut self) {
        let _ = self.down();
        // Let the watcher go too (its `down` is then a no-op).
        if let Some((mut child, stdin)) = self.watcher.lock().ok().and_then(|mut w| w.take()) {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// Path of `scripts/sandbox` in this checkout.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sandbox")
}

/// Run `scripts/sandbox ARGS`, panic on failure, return stdout.
#[track_caller]
pub fn run_script(args: &[&str]) -> String {
    let out = Command::new(script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
    assert!(
        out.status.success(),
        "scripts/sandbox {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A detached process (own session and process group, so terminal signals and the test
/// harness's process-group kills miss it) that runs `scripts/sandbox down NAME` once its stdin
/// reaches EOF, i.e. once every holder of the returned write end is gone.
fn spawn_watcher(name: &str) -> (Child, ChildStdin) {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "trap '' INT HUP; cat >/dev/null; trap - INT HUP; exec \"$0\" down --quiet \"$1\"",
    ])
    .arg(script())
    .arg(name)
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn the sandbox watcher: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Nothing to say; make sure the pipe works.
    stdin.flush().expect("watcher pipe");
    (child, stdin)
}

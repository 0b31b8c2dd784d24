//! A private `dbus-daemon` for the integration tests, and a bounded `busctl` runner.
//!
//! * [`PrivateBus::start`] starts a fresh daemon owned by the caller (killed on drop).
//! * [`PrivateBus::shared`] is one daemon for the whole test process, with the test service of
//!   [`super::testservice`] already running on it.
//! * [`busctl`] runs `/usr/bin/busctl --address=<shared bus>` with a time limit.
//!
//! A missing dbus-daemon or busctl fails the test that needs it, saying what to install.
//!
//! Every daemon gets `PR_SET_PDEATHSIG = SIGKILL`, so it dies with the test process even when the
//! process is killed and no destructor runs. Because that signal follows the *thread* that
//! forked, daemons are always forked from one long-lived spawner thread, never from a test's
//! thread (which ends when the test ends).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where busctl lives on the test machines.
pub const BUSCTL: &str = "/usr/bin/busctl";
/// The Debian package that brings busctl.
pub const BUSCTL_PACKAGE: &str = "systemd";
/// The daemon binary.
pub const DBUS_DAEMON: &str = "dbus-daemon";
/// The Debian package that brings the daemon.
pub const DBUS_DAEMON_PACKAGE: &str = "dbus";
/// How long the daemon may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit for one [`busctl`] run.
pub const BUSCTL_TIMEOUT: Duration = Duration::from_secs(60);

/// A running private `dbus-daemon`.
pub struct PrivateBus {
    address: String,
    child: Mutex<Option<Child>>,
    // Holds the socket directory and the config file; removed on drop, after the daemon.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for PrivateBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateBus")
            .field("address", &self.address)
            .field("dir", &self.dir.path())
            .finish()
    }
}

fn config_xml(socket_dir: &std::path::Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
  <limit name="reply_timeout">300000</limit>
</busconfig>
"#,
        dir = socket_dir.display()
    )
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// The long-lived thread that forks every daemon (see the module docs for why).
fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("dbus-daemon-spawner".into())
            .spawn(move || {
                // Never returns while the process lives: the sender is in a static.
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // If the channel ever closes, keep the thread alive anyway so that the
                // PDEATHSIG of already-started daemons does not fire.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the dbus-daemon spawner thread");
        Mutex::new(tx)
    })
}

fn spawn_on_spawner(cmd: Command) -> std::io::Result<Child> {
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, tx))
        .map_err(|_| std::io::Error::other("spawner thread gone"))?;
    rx.recv_timeout(START_TIMEOUT)
        .map_err(|_| std::io::Error::other("spawner thread did not answer"))?
}

impl PrivateBus {
    /// Start a private bus owned by the caller. Panics (with the reason, and what to install
    /// when dbus-daemon is missing) if the daemon cannot be started within 10 s.
    #[track_caller]
    pub fn start() -> PrivateBus {
        Self::try_start().unwrap_or_else(|e| panic!("cannot start a private dbus-daemon: {e}"))
    }

    /// Like [`PrivateBus::start`], returning the error instead of panicking.
    pub fn try_start() -> std::io::Result<PrivateBus> {
        let daemon = super::tools::find(DBUS_DAEMON).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                super::tools::missing(DBUS_DAEMON, DBUS_DAEMON_PACKAGE),
            )
        })?;
        let dir = tempfile::Builder::new().prefix("rustemd-bus-").tempdir()?;
        let socket_dir = dir.path().join("sock");
        std::fs::create_dir(&socket_dir)?;
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, config_xml(&socket_dir))?;

        let mut cmd = Command::new(daemon);
        cmd.arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--nopidfile")
            .arg("--nosyslog")
            // With no value the address goes to stdout.
            .arg("--print-address")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec; it only calls the
        // async-signal-safe prctl(2) and getppid(2) and allocates nothing. It makes the kernel
        // send SIGKILL to the daemon when the forking thread (the spawner, which lives as long
        // as the process) dies, and closes the race where the parent died before the prctl.
        unsafe {
            cmd.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)?;
                if nix::unistd::getppid().as_raw() as u32 != parent {
                    return Err(std::io::ErrorKind::Other.into());
                }
                Ok(())
            });
        }
        let mut child = spawn_on_spawner(cmd)?;

        // Read the address line on a helper thread so that the wait is bounded.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let res = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(res);
            // Keep draining so the daemon never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let address = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) if !line.trim().is_empty() => line.trim().to_string(),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::other(format!(
                    "dbus-daemon did not print its address: {other:?}"
                )));
            }
        };
        Ok(PrivateBus {
            address,
            child: Mutex::new(Some(child)),
            dir,
        })
    }

    /// The bus address, e.g. `unix:path=/tmp/rustemd-bus-XXXX/sock/dbus-...,guid=...`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The process id of the daemon (None once killed).
    pub fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.id())
    }

    /// Kill the daemon now (also done on drop).
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process-wide bus with the test service (`org.rustemd.Test`, `org.rustemd.Odd`,
    /// `org.rustemd.Echo`, `org.rustemd.Gone`) running on it. Started on first use; never dropped (the daemon dies
    /// with the process through PDEATHSIG).
    pub fn shared() -> &'static PrivateBus {
        static SHARED: OnceLock<PrivateBus> = OnceLock::new();
        SHARED.get_or_init(|| {
            let bus = PrivateBus::start();
            if let Err(e) = super::testservice::start(bus.address()) {
                panic!("cannot start the test service: {e}");
            }
            bus
        })
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `cmd` with piped stdout/stderr, killing it after `timeout`. Never hangs. A killed run
/// returns the output collected so far with a non-success status (signal 9).
/// Set stdin on `cmd` before calling (it is not touched here).
#[track_caller]
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                break child.wait().expect("wait after kill");
            }
        }
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// A `busctl --address=<shared bus>` command (not yet run), with colours and pager off.
#[track_caller]
pub fn busctl_command(args: &[&str]) -> Command {
    busctl_command_at(PrivateBus::shared().address(), args)
}

/// A `busctl --address=ADDRESS` command (not yet run), with colours and pager off. Panics,
/// saying what to install, when busctl is missing.
#[track_caller]
pub fn busctl_command_at(address: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(super::tools::require(BUSCTL, BUSCTL_PACKAGE));
    cmd.arg(format!("--address={address}"))
        .args(args)
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null());
    cmd
}

/// Run busctl against the shared bus (starting it if needed); bounded by [`BUSCTL_TIMEOUT`].
#[track_caller]
pub fn busctl(args: &[&str]) -> Output {
    run_with_timeout(busctl_command(args), BUSCTL_TIMEOUT)
}

/// Stdout of an [`Output`] as a `String` (lossy).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr of an [`Output`] as a `String` (lossy).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

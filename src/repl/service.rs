//! The prompt of a shell that runs as a `Type=notify` service (`daemon_demo_service`, or any
//! unit that starts it with `$NOTIFY_SOCKET` set): a banner saying what systemd expects of
//! it, and before each prompt a status line read from systemd itself — the unit, its state,
//! the StatusText we sent, the watchdog interval and the time left before it fires (or
//! before the start times out while we are still activating). The prompt names the state:
//! `rustemd[activating]>`, `rustemd[ready]>`.
//!
//! Why read systemd rather than keep our own clock: the watchdog can be changed at runtime
//! (`WATCHDOG_USEC=`), disabled, or fire; systemd's `WatchdogTimestampMonotonic` and
//! `WatchdogUSec` say what it will really do. One round trip per prompt.

use std::fmt::Write as _;

use nu_ansi_term::Color;

use crate::bus::session::Session;
use crate::systemd::notify::{self, ServiceState};
use crate::systemd::time::format_timespan;

/// Our notify service, when we are one.
pub struct ServicePrompt {
    pub unit: String,
    color: bool,
}

fn span(usec: i128) -> String {
    if usec <= 0 {
        return "now".into();
    }
    format!("in {}", format_timespan(usec as u64, 1_000_000))
}

impl ServicePrompt {
    /// `Some` when this shell was started as a notify service (`$NOTIFY_SOCKET` set) in a
    /// unit of its own.
    pub fn detect(color: bool) -> Option<ServicePrompt> {
        std::env::var_os(notify::NOTIFY_SOCKET)?;
        let unit = crate::systemd::unit::own_unit()?;
        Some(ServicePrompt { unit, color })
    }

    fn read(&self, session: &Session) -> Option<ServiceState> {
        session
            .block_on(ServiceState::read(&session.bus, &self.unit))
            .ok()
    }

    /// Printed once, under the shell's banner.
    pub fn banner(&self, session: &Session) -> String {
        let st = self.read(session).unwrap_or_default();
        let mut s = format!(
            "This shell is the main process of {} (Type=notify, NOTIFY_SOCKET={}).\n",
            self.unit,
            std::env::var(notify::NOTIFY_SOCKET).unwrap_or_default()
        );
        if st.active == "activating" {
            let _ = writeln!(
                s,
                "systemd waits up to {} for pystemd.daemon.notify(False, ready=1); then \
                 the watchdog wants notify(False, WATCHDOG=1) every {}.",
                format_timespan(st.timeout_start_usec, 1_000_000),
                format_timespan(st.watchdog_usec, 1_000_000)
            );
        }
        s
    }

    /// Said when the shell leaves: whether the unit ends with it (it does not once another
    /// process was made its main one).
    pub fn farewell(&self, session: &Session) -> Option<String> {
        let st = self.read(session)?;
        (st.main_pid != 0 && st.main_pid != std::process::id()).then(|| {
            format!(
                "{} goes on without this shell: its main process is now {} (stop {} ends it)",
                self.unit, st.main_pid, self.unit
            )
        })
    }

    /// The status line before a prompt, and the prompt's state word.
    pub fn status(&self, session: &Session) -> (String, String) {
        let Some(st) = self.read(session) else {
            return (
                format!("[{} · state unknown (systemd did not answer)]", self.unit),
                "notify".into(),
            );
        };
        let now = notify::monotonic_usec();
        let mut parts = vec![self.unit.clone(), format!("{} ({})", st.active, st.sub)];
        if !st.status_text.is_empty() {
            parts.push(format!("\"{}\"", st.status_text));
        }
        if st.main_pid != 0 && st.main_pid != std::process::id() {
            parts.push(format!("MainPID {} (not this shell)", st.main_pid));
        }
        if let Some(left) = st.start_left(now) {
            parts.push(format!("start times out {}", span(left)));
        }
        let running = matches!(st.active.as_str(), "active" | "activating" | "reloading");
        match (st.watchdog_usec, st.watchdog_left(now)) {
            _ if !running => {}
            (0, _) => parts.push("watchdog off".into()),
            (wd, Some(left)) => parts.push(format!(
                "watchdog {}: fires {}",
                format_timespan(wd, 1_000),
                span(left)
            )),
            (wd, None) => parts.push(format!(
                "watchdog {} (armed at READY=1)",
                format_timespan(wd, 1_000)
            )),
        }
        if st.result != "success" && !st.result.is_empty() {
            parts.push(format!("Result: {}", st.result));
        }
        let line = format!("[{}]", parts.join(" · "));
        let line = if self.color {
            Color::DarkGray.paint(line).to_string()
        } else {
            line
        };
        let word = match st.active.as_str() {
            "active" => "ready".to_string(),
            other => other.to_string(),
        };
        (line, word)
    }
}

//! What one run of the shell shares: the async runtime, the bus and the introspection cache.
//!
//! Why here, below the language: everything that talks to the bus (the evaluator, commands,
//! completion) needs the same three things and the same bridge from synchronous code.
//!
//! Why a current-thread runtime: the shell is one person's loop, and every bus call is made
//! from the main thread and waited for there ([`Session::block_on`]). Driving the connection
//! on that same thread means a reply is read, routed and decoded without waking another
//! thread: one context switch per call (the wait in epoll), as in a C sd-bus client, where a
//! two-worker runtime cost three (worker, reader, router) and 0.3 ms to start and join.
//! Nothing runs while nobody waits (at the prompt, say): the kernel and the bus daemon queue
//! what arrives meanwhile. The runtime and the connection are made by the first call that
//! needs them (about a millisecond, on a unix socket): the prompt never waits for the bus, and a
//! shell that is only started and left costs no runtime, no connection and no memory for them.
//!
//! [`Session::block_on`] also turns Ctrl-C into a clean "interrupted" error instead of killing
//! the process, and never waits longer than the call's own timeout; [`Session::block_on_within`]
//! is TAB's bounded wait.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bus::cache::IntrospectionCache;
use crate::bus::connection::{Bus, BusTarget, CallError};
use crate::bus::introspect::Node;
use crate::bus::runtime::SignalStream;

pub struct Session {
    /// Made by the first wait ([`Session::rt`]).
    rt: std::sync::OnceLock<tokio::runtime::Runtime>,
    /// Ctrl-C, for waits on the bus (made with the runtime; `None` if the socket failed).
    sigint: std::sync::OnceLock<Option<SignalStream>>,
    pub bus: Arc<Bus>,
    pub cache: Arc<IntrospectionCache>,
    /// Other machines' buses (`object(..., machine="x")`), connected on first use.
    remotes: Mutex<HashMap<BusTarget, Endpoint>>,
    timeout: Duration,
}

/// A bus and its own introspection cache (the same path means another object elsewhere).
#[derive(Clone)]
pub struct Endpoint {
    pub bus: Arc<Bus>,
    pub cache: Arc<IntrospectionCache>,
}

impl Session {
    pub fn new(target: BusTarget, timeout: Duration) -> Session {
        Session {
            rt: std::sync::OnceLock::new(),
            sigint: std::sync::OnceLock::new(),
            bus: Arc::new(Bus::new(target, timeout)),
            cache: Arc::new(IntrospectionCache::new()),
            remotes: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    /// The runtime, made on first use (an epoll instance, a waker, the time driver: work a
    /// prompt that is only looked at does not need).
    fn rt(&self) -> Result<&tokio::runtime::Runtime, CallError> {
        if let Some(rt) = self.rt.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CallError::Connection(format!("cannot start the async runtime: {e}")))?;
        Ok(self.rt.get_or_init(|| rt))
    }

    /// The bus `target` names (`None`: the session's own), with its introspection cache.
    pub fn endpoint(&self, target: Option<&BusTarget>) -> Endpoint {
        match target {
            None => Endpoint {
                bus: self.bus.clone(),
                cache: self.cache.clone(),
            },
            Some(t) if t == self.bus.target() => self.endpoint(None),
            Some(t) => self
                .remotes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(t.clone())
                .or_insert_with(|| Endpoint {
                    bus: Arc::new(Bus::new(t.clone(), self.timeout)),
                    cache: Arc::new(IntrospectionCache::new()),
                })
                .clone(),
        }
    }

    /// Run a bus future to completion from synchronous code; Ctrl-C cancels it.
    pub fn block_on<T>(
        &self,
        fut: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        let mut fut = std::pin::pin!(fut);
        let rt = self.rt()?;
        // Ctrl-C is ours from the first wait on: the handler stays for the process, so a
        // Ctrl-C that comes while a call is being sent is never the default (death).
        let sigint = self
            .sigint
            .get_or_init(|| {
                use crate::term::signals;
                signals::install_interrupt();
                let _in = rt.enter();
                signals::listener(signals::SIGINT)
                    .and_then(SignalStream::new)
                    .ok()
            })
            .as_ref();
        // What is ready at once (an introspection from the cache, say) needs no turn of the
        // scheduler: one poll, inside the runtime's context, with nobody to wake; otherwise the
        // same future goes on below and is polled again at once.
        {
            let _in = rt.enter();
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
                return r;
            }
        }
        rt.block_on(async {
            loop {
                tokio::select! {
                    // A Ctrl-C and a reply at the same turn: the Ctrl-C wins.
                    biased;
                    () = SignalStream::next(sigint) => {
                        // The socket holds a SIGINT that came while nothing waited (and stopped
                        // a loop of the evaluator, which took the interrupt flag then): only a
                        // Ctrl-C not yet taken interrupts.
                        if crate::term::signals::take_interrupt() {
                            return Err(CallError::Interrupted);
                        }
                    }
                    r = &mut fut => return r,
                }
            }
        })
    }

    /// An object's introspection for TAB: from the cache, or fetched within `limit`. A fetch
    /// that fails or runs out of time is remembered briefly, so the next TAB on the same
    /// object answers at once instead of waiting again
    /// ([`crate::bus::cache::FAILURE_TTL`]).
    pub fn introspect_within(
        &self,
        limit: Duration,
        service: &str,
        path: &str,
    ) -> Option<Arc<Node>> {
        if let Some(n) = self.cache.cached(service, path) {
            return Some(n);
        }
        if self.cache.recently_failed(service, path) {
            return None;
        }
        let got = self.block_on_within(limit, self.cache.get(&self.bus, service, path));
        if got.is_none() {
            self.cache.note_failure(service, path);
        }
        got
    }

    /// Like [`Session::block_on`] with a hard deadline: for completion, which must stay instant.
    pub fn block_on_within<T>(
        &self,
        limit: Duration,
        fut: impl Future<Output = Result<T, CallError>>,
    ) -> Option<T> {
        self.rt()
            .ok()?
            .block_on(async { tokio::time::timeout(limit, fut).await })
            .ok()
            .and_then(Result::ok)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bus::data::Data;
    use std::io::BufRead;
    use std::process::{Child, Command, Stdio};

    /// A private dbus-daemon for the bus layer's own tests (killed on drop).
    pub(crate) struct Daemon {
        child: Child,
        pub address: String,
        _dir: tempfile::TempDir,
    }

    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    pub(crate) fn daemon() -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<busconfig><type>session</type><listen>unix:dir={}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/><allow user="*"/></policy></busconfig>"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--nopidfile", "--nosyslog", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (Debian package dbus) is needed by these tests");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Daemon {
            child,
            address: line.trim().to_string(),
            _dir: dir,
        }
    }

    /// A peer that owns `org.rustemd.Silent` and never answers anything: its session never
    /// waits on the bus again, so nothing reads the calls sent to it.
    fn silent_peer(address: &str) -> Session {
        let s = Session::new(BusTarget::Address(address.into()), Duration::from_secs(10));
        let driver = "org.freedesktop.DBus";
        s.block_on(s.bus.call(
            driver,
            "/org/freedesktop/DBus",
            Some(driver),
            "RequestName",
            &[Data::Str("org.rustemd.Silent".into()), Data::U32(0)],
        ))
        .unwrap();
        s
    }

    #[test]
    fn cancelled_calls_leave_no_reply_slot() {
        // Regression (issue 12, item 5): a call dropped by TAB's deadline or Ctrl-C left its
        // reply slot behind for ever.
        let d = daemon();
        let _peer = silent_peer(&d.address);
        let s = Session::new(BusTarget::Address(d.address.clone()), Duration::MAX);
        for _ in 0..3 {
            let r = s.block_on_within(
                Duration::from_millis(50),
                s.bus.call("org.rustemd.Silent", "/", None, "Nothing", &[]),
            );
            assert!(r.is_none());
        }
        assert_eq!(s.bus.waiting(), 0);
        // Answered calls leave nothing either.
        let names = s.block_on(s.bus.list_names(false)).unwrap();
        assert!(names.iter().any(|n| n == "org.rustemd.Silent"));
        assert_eq!(s.bus.waiting(), 0);
    }

    #[test]
    fn tab_remembers_a_peer_that_never_answers() {
        // Regression (issue 12, item 8): TAB against a service that never replies waited its
        // full deadline on every key press. The second wait here is an hour: were the failure
        // not remembered, this test would hang instead of passing.
        let d = daemon();
        let _peer = silent_peer(&d.address);
        let s = Session::new(BusTarget::Address(d.address.clone()), Duration::MAX);
        let first = s.introspect_within(Duration::from_millis(50), "org.rustemd.Silent", "/");
        assert!(first.is_none());
        let again = s.introspect_within(Duration::from_secs(3600), "org.rustemd.Silent", "/");
        assert!(again.is_none());
        assert_eq!(s.bus.waiting(), 0);
    }
}

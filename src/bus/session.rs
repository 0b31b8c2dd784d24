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
//! what arrives meanwhile. The one exception is the connection's warm-up ([`Session::warm_up`]),
//! which runs on a short-lived thread of its own while the prompt is drawn; a later
//! `block_on` on the main thread simply waits for it to hand the runtime back.
//!
//! [`Session::block_on`] also turns Ctrl-C into a clean "interrupted" error instead of killing
//! the process, and never waits longer than the call's own timeout; [`Session::block_on_within`]
//! is TAB's bounded wait.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::bus::cache::IntrospectionCache;
use crate::bus::connection::{Bus, BusTarget, CallError};

pub struct Session {
    rt: Arc<tokio::runtime::Runtime>,
    pub bus: Arc<Bus>,
    pub cache: Arc<IntrospectionCache>,
}

impl Session {
    pub fn new(target: BusTarget, timeout: Duration) -> std::io::Result<Session> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Session {
            rt: Arc::new(rt),
            bus: Arc::new(Bus::new(target, timeout)),
            cache: Arc::new(IntrospectionCache::new()),
        })
    }

    /// Start connecting in the background, so the first command finds the bus ready.
    pub fn warm_up(&self) {
        let (rt, bus) = (self.rt.clone(), self.bus.clone());
        // A thread of its own: on a current-thread runtime a spawned task would only run once
        // the main thread waits for something, i.e. after the person typed a first command.
        let _ = std::thread::Builder::new()
            .name("connect".into())
            .spawn(move || {
                let _ = rt.block_on(bus.connect());
            });
    }

    /// Run a bus future to completion from synchronous code; Ctrl-C cancels it.
    pub fn block_on<T>(
        &self,
        fut: impl Future<Output = Result<T, CallError>>,
    ) -> Result<T, CallError> {
        self.rt.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = tokio::signal::ctrl_c() => Err(CallError::Interrupted),
            }
        })
    }

    /// Like [`Session::block_on`] with a hard deadline: for completion, which must stay instant.
    pub fn block_on_within<T>(
        &self,
        limit: Duration,
        fut: impl Future<Output = Result<T, CallError>>,
    ) -> Option<T> {
        self.rt
            .block_on(async { tokio::time::timeout(limit, fut).await })
            .ok()
            .and_then(Result::ok)
    }
}

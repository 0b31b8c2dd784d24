//! What one run of the shell shares: the tokio runtime, the bus and the introspection cache.
//!
//! The evaluator and the completer run on the main thread and bridge into async code with
//! [`Session::block_on`], which also turns Ctrl-C into a clean "interrupted" error instead of
//! killing the process, and never waits longer than the call's own timeout.

use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::bus::cache::IntrospectionCache;
use crate::bus::connection::{Bus, BusTarget, CallError};

pub struct Session {
    pub rt: tokio::runtime::Runtime,
    pub bus: Arc<Bus>,
    pub cache: Arc<IntrospectionCache>,
    /// Colour on stdout (a tty and no NO_COLOR).
    pub color: bool,
    /// stdout is a terminal: busctl then ellipsizes wide columns.
    pub stdout_tty: bool,
}

impl Session {
    pub fn new(target: BusTarget, timeout: Duration) -> std::io::Result<Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let stdout_tty = std::io::stdout().is_terminal();
        let color = stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Session {
            rt,
            bus: Arc::new(Bus::new(target, timeout)),
            cache: Arc::new(IntrospectionCache::new()),
            color,
            stdout_tty,
        })
    }

    /// Start connecting in the background, so the first command finds the bus ready.
    pub fn warm_up(&self) {
        let bus = self.bus.clone();
        self.rt.spawn(async move {
            let _ = bus.connect().await;
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

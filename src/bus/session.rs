//! What one run of the shell shares: the tokio runtime, the bus and the introspection cache.
//!
//! Why here, below the language: everything that talks to the bus (the evaluator, commands,
//! completion) needs the same three things and the same bridge from synchronous code.
//!
//! The evaluator and the completer run on the main thread and bridge into async code with
//! [`Session::block_on`], which also turns Ctrl-C into a clean "interrupted" error instead of
//! killing the process, and never waits longer than the call's own timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::bus::cache::IntrospectionCache;
use crate::bus::connection::{Bus, BusTarget, CallError};

pub struct Session {
    pub rt: tokio::runtime::Runtime,
    pub bus: Arc<Bus>,
    pub cache: Arc<IntrospectionCache>,
}

impl Session {
    pub fn new(target: BusTarget, timeout: Duration) -> std::io::Result<Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Session {
            rt,
            bus: Arc::new(Bus::new(target, timeout)),
            cache: Arc::new(IntrospectionCache::new()),
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

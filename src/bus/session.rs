//! What one run of the shell shares: the tokio runtime, the bus and the introspection cache.
//!
//! Why here, below the language: everything that talks to the bus (the evaluator, commands,
//! completion) needs the same three things and the same bridge from synchronous code.
//!
//! The evaluator and the completer run on the main thread and bridge into async code with
//! [`Session::block_on`], which also turns Ctrl-C into a clean "interrupted" error instead of
//! killing the process, and never waits longer than the call's own timeout.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bus::cache::IntrospectionCache;
use crate::bus::connection::{Bus, BusTarget, CallError};

pub struct Session {
    pub rt: tokio::runtime::Runtime,
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
    pub fn new(target: BusTarget, timeout: Duration) -> std::io::Result<Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Session {
            rt,
            bus: Arc::new(Bus::new(target, timeout)),
            cache: Arc::new(IntrospectionCache::new()),
            remotes: Mutex::new(HashMap::new()),
            timeout,
        })
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

//! Introspection, cached per (service, path).
//!
//! Attribute access, method calls, hints and TAB all need an object's interfaces; asking the
//! peer every time would make TAB cost a round trip. Entries live for the session; `refresh`
//! (or a failed call on a member we thought existed) drops one. Completion reads the cache
//! without waiting ([`IntrospectionCache::cached`]) and only fetches under a short deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::bus::connection::{Bus, CallError};
use crate::bus::data::Data;
use crate::bus::introspect::Node;

#[derive(Default)]
pub struct IntrospectionCache {
    nodes: Mutex<HashMap<(String, String), Arc<Node>>>,
}

impl IntrospectionCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// What we already know, without touching the bus.
    pub fn cached(&self, service: &str, path: &str) -> Option<Arc<Node>> {
        self.nodes
            .lock()
            .unwrap()
            .get(&(service.to_string(), path.to_string()))
            .cloned()
    }

    /// Forget one object (after it changed or vanished).
    pub fn forget(&self, service: &str, path: &str) {
        self.nodes
            .lock()
            .unwrap()
            .remove(&(service.to_string(), path.to_string()));
    }

    /// Introspect (or take from the cache) one object.
    pub async fn get(&self, bus: &Bus, service: &str, path: &str) -> Result<Arc<Node>, CallError> {
        if let Some(n) = self.cached(service, path) {
            return Ok(n);
        }
        let xml = introspect_xml(bus, service, path).await?;
        let node = Node::parse(&xml).map_err(|e| {
            CallError::Invalid(format!("cannot introspect {path} of {service}: {e}"))
        })?;
        let node = Arc::new(node);
        self.nodes
            .lock()
            .unwrap()
            .insert((service.to_string(), path.to_string()), node.clone());
        Ok(node)
    }
}

/// The raw introspection XML of one object.
pub async fn introspect_xml(bus: &Bus, service: &str, path: &str) -> Result<String, CallError> {
    let reply = bus
        .call(
            service,
            path,
            Some("org.freedesktop.DBus.Introspectable"),
            "Introspect",
            &[],
        )
        .await?;
    match reply.values.first() {
        Some(Data::Str(s)) => Ok(s.clone()),
        _ => Err(CallError::Invalid(format!(
            "{service} answered Introspect on {path} with something other than a string"
        ))),
    }
}

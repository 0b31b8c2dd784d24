//! Introspection, cached per (service, path), bounded.
//!
//! Attribute access, method calls, hints and TAB all need an object's interfaces; asking the
//! peer every time would make TAB cost a round trip. `refresh` (or a failed call on a member we
//! thought existed) drops one entry. Completion reads the cache without waiting
//! ([`IntrospectionCache::cached`]) and only fetches under a short deadline.
//!
//! Why bounded: a session that walks many objects (a loop over every unit) would otherwise
//! keep every answer for ever. The cache holds at most [`MAX_ENTRIES`] objects and
//! [`MAX_BYTES`] of parsed data, and forgets the least recently used first; a parsed systemd
//! unit takes about 30 KiB ([`Node::heap_bytes`]). Failures are remembered briefly
//! ([`FAILURE_TTL`]) for TAB only, so a peer that never answers costs one bounded wait, not one
//! per key press.
//!
//! Why interfaces are shared: objects of one kind declare the same interfaces, member for
//! member (each service unit of systemd the same five, 30 KiB parsed). An interface equal to
//! one a cached object already holds is taken from it, so the hundredth unit costs its own
//! small node, not another copy. The byte bound still counts every object in full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::bus::connection::{Bus, CallError};
use crate::bus::introspect::{Interface, Node};
use crate::bus::wire::{self, Text};

/// Objects kept at most.
pub const MAX_ENTRIES: usize = 256;
/// Parsed introspection kept at most, in bytes (as [`Node::heap_bytes`] counts them).
pub const MAX_BYTES: usize = 8 << 20;
/// How long TAB leaves alone an object whose introspection failed or timed out.
pub const FAILURE_TTL: Duration = Duration::from_secs(5);

type Key = (String, String);

struct Entry {
    node: Arc<Node>,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct State {
    nodes: HashMap<Key, Entry>,
    bytes: usize,
    clock: u64,
    failed: HashMap<Key, Instant>,
    /// Interfaces held by cached objects, by name: what [`State::share`] reuses. Weak, so an
    /// interface goes with the last object that holds it.
    shared: HashMap<String, Vec<Weak<Interface>>>,
}

impl State {
    /// Replace each of `node`'s interfaces by an equal one already held, and offer its new
    /// ones for sharing.
    fn share(&mut self, node: &mut Node) {
        for slot in &mut node.interfaces {
            let held = self.shared.entry(slot.name.clone()).or_default();
            match held
                .iter()
                .filter_map(Weak::upgrade)
                .find(|i| **i == **slot)
            {
                Some(same) => *slot = same,
                None => {
                    held.retain(|w| w.strong_count() > 0);
                    held.push(Arc::downgrade(slot));
                }
            }
        }
    }

    /// Forget interfaces no cached object holds any more (after evictions).
    fn sweep(&mut self) {
        self.shared.retain(|_, held| {
            held.retain(|w| w.strong_count() > 0);
            !held.is_empty()
        });
    }
}

#[derive(Default)]
pub struct IntrospectionCache {
    state: Mutex<State>,
}

fn key(service: &str, path: &str) -> Key {
    (service.to_string(), path.to_string())
}

impl IntrospectionCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// What we already know, without touching the bus.
    pub fn cached(&self, service: &str, path: &str) -> Option<Arc<Node>> {
        let mut st = self.state.lock().unwrap();
        st.clock += 1;
        let now = st.clock;
        let e = st.nodes.get_mut(&key(service, path))?;
        e.used = now;
        Some(e.node.clone())
    }

    /// Forget one object (after it changed or vanished).
    pub fn forget(&self, service: &str, path: &str) {
        let mut st = self.state.lock().unwrap();
        let k = key(service, path);
        st.failed.remove(&k);
        if let Some(e) = st.nodes.remove(&k) {
            st.bytes -= e.bytes;
            drop(e);
            st.sweep();
        }
    }

    /// Introspect (or take from the cache) one object.
    pub async fn get(&self, bus: &Bus, service: &str, path: &str) -> Result<Arc<Node>, CallError> {
        if let Some(n) = self.cached(service, path) {
            return Ok(n);
        }
        let xml = introspect_xml(bus, service, path).await?;
        let node = Node::parse(xml.as_str()).map_err(|e| {
            CallError::Invalid(format!("cannot introspect {path} of {service}: {e}"))
        })?;
        drop(xml);
        Ok(self.insert(key(service, path), node))
    }

    fn insert(&self, k: Key, mut node: Node) -> Arc<Node> {
        let bytes = node.heap_bytes();
        let mut st = self.state.lock().unwrap();
        st.share(&mut node);
        let node = Arc::new(node);
        st.clock += 1;
        let used = st.clock;
        st.failed.remove(&k);
        let entry = Entry {
            node: node.clone(),
            bytes,
            used,
        };
        if let Some(old) = st.nodes.insert(k, entry) {
            st.bytes -= old.bytes;
        }
        st.bytes += bytes;
        let before = st.nodes.len();
        while st.nodes.len() > MAX_ENTRIES || (st.bytes > MAX_BYTES && st.nodes.len() > 1) {
            // Linear in the entries, which are few; runs once per insertion past the bound.
            let Some(oldest) = st
                .nodes
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = st.nodes.remove(&oldest) {
                st.bytes -= e.bytes;
            }
        }
        if st.nodes.len() < before {
            st.sweep();
        }
        node
    }

    /// Did introspecting this object fail (or time out) within [`FAILURE_TTL`]?
    pub fn recently_failed(&self, service: &str, path: &str) -> bool {
        let mut st = self.state.lock().unwrap();
        st.failed.retain(|_, at| at.elapsed() < FAILURE_TTL);
        st.failed.contains_key(&key(service, path))
    }

    /// Remember that introspecting this object failed just now.
    pub fn note_failure(&self, service: &str, path: &str) {
        let mut st = self.state.lock().unwrap();
        if st.failed.len() >= MAX_ENTRIES {
            st.failed.clear();
        }
        st.failed.insert(key(service, path), Instant::now());
    }

    /// Objects and bytes held now.
    #[cfg(test)]
    pub fn size(&self) -> (usize, usize) {
        let st = self.state.lock().unwrap();
        (st.nodes.len(), st.bytes)
    }
}

/// The raw introspection XML of one object.
pub async fn introspect_xml(bus: &Bus, service: &str, path: &str) -> Result<Text, CallError> {
    let reply = bus
        .call_message(
            service,
            path,
            Some("org.freedesktop.DBus.Introspectable"),
            "Introspect",
            &[],
        )
        .await?;
    match wire::string_body(&reply) {
        Ok(Some(xml)) => Ok(xml),
        Ok(None) => Err(CallError::Invalid(format!(
            "{service} answered Introspect on {path} with something other than a string"
        ))),
        Err(e) => Err(CallError::Invalid(format!("malformed reply: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::introspect::{Interface, Property};

    fn node(props: usize) -> Node {
        Node {
            interfaces: vec![Arc::new(Interface {
                name: "a.B".into(),
                methods: vec![],
                signals: vec![],
                properties: (0..props)
                    .map(|i| Property {
                        name: format!("P{i}"),
                        sig: "s".into(),
                        readable: true,
                        writable: false,
                        flags: Default::default(),
                    })
                    .collect(),
                flags: Default::default(),
            })],
            ..Node::default()
        }
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_the_least_recently_used() {
        // Regression (issue 12, item 5): the cache never shrank.
        let c = IntrospectionCache::new();
        for i in 0..MAX_ENTRIES + 50 {
            c.insert(key("a.b", &format!("/o{i}")), node(1));
            // /o0 stays in use, so it is never the oldest.
            assert!(c.cached("a.b", "/o0").is_some());
        }
        let (n, bytes) = c.size();
        assert_eq!(n, MAX_ENTRIES);
        assert!(bytes <= MAX_BYTES);
        assert!(c.cached("a.b", "/o1").is_none());
        assert!(
            c.cached("a.b", &format!("/o{}", MAX_ENTRIES + 49))
                .is_some()
        );
        // Big objects: the byte budget holds.
        let big = node(20_000);
        assert!(big.heap_bytes() > MAX_BYTES / 8);
        for i in 0..16 {
            c.insert(key("a.b", &format!("/big{i}")), big.clone());
            // Shared, yet counted in full: the bound never underestimates.
        }
        assert!(c.size().1 <= MAX_BYTES);
        c.forget("a.b", "/big15");
        assert!(c.cached("a.b", "/big15").is_none());
    }

    #[test]
    fn failures_are_remembered_until_forgotten() {
        let c = IntrospectionCache::new();
        assert!(!c.recently_failed("a.b", "/x"));
        c.note_failure("a.b", "/x");
        assert!(c.recently_failed("a.b", "/x"));
        assert!(!c.recently_failed("a.b", "/y"));
        c.forget("a.b", "/x");
        assert!(!c.recently_failed("a.b", "/x"));
    }
}

#[cfg(test)]
mod bound {
    use super::{IntrospectionCache, key};
    use crate::bus::introspect::Node;
    use std::sync::Arc;

    #[test]
    fn objects_of_one_kind_share_their_interfaces() {
        // Issue 11's memory goal: the hundredth service unit costs its node, not its interfaces.
        let xml = include_str!("testdata/systemd252-service-unit.xml");
        let c = IntrospectionCache::new();
        let a = c.insert(key("s", "/a"), Node::parse(xml).unwrap());
        let b = c.insert(key("s", "/b"), Node::parse(xml).unwrap());
        assert_eq!(a.interfaces.len(), b.interfaces.len());
        for (x, y) in a.interfaces.iter().zip(&b.interfaces) {
            assert!(Arc::ptr_eq(x, y), "{} not shared", x.name);
        }
        // One interface differs: that one is the object's own, the others still shared.
        let other = xml.replacen(
            "<property name=\"Type\"",
            "<property name=\"Extra\" type=\"s\" access=\"read\"/><property name=\"Type\"",
            1,
        );
        assert_ne!(other, xml);
        let o = c.insert(key("s", "/o"), Node::parse(&other).unwrap());
        let own = o
            .interfaces
            .iter()
            .zip(&a.interfaces)
            .filter(|(x, y)| !Arc::ptr_eq(x, y))
            .count();
        assert_eq!(own, 1);
        // When the last holder goes, so does the interface.
        let weak = Arc::downgrade(&a.interfaces[0]);
        drop((a, b, o));
        for p in ["/a", "/b", "/o"] {
            c.forget("s", p);
        }
        assert!(weak.upgrade().is_none());
        assert!(c.state.lock().unwrap().shared.is_empty());
    }

    #[test]
    fn a_systemd_unit_takes_at_most_50_kib_in_the_cache() {
        // Issue 11's memory goal, on real data: systemd 252's service unit object.
        let xml = include_str!("testdata/systemd252-service-unit.xml");
        let n = Node::parse(xml).unwrap();
        assert!(n.interfaces.len() >= 5 && n.skipped.is_empty());
        let bytes = n.heap_bytes();
        assert!(bytes <= 50 * 1024, "{bytes} bytes");
    }
}

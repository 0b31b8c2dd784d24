//! What can follow a `.` after a value: shared by TAB completion, hints and `dir()`.
//!
//! Objects list their interfaces (short names, as attributes resolve them) and interfaces
//! their members, from introspection. With `fetch` false only the cache is consulted;
//! otherwise an uncached object is introspected under a short deadline, so a slow peer can
//! delay TAB by at most that long and never freeze the prompt.

use std::time::Duration;

use crate::bus::session::Session;
use crate::lang::builtins;
use crate::lang::value::Value;

/// How long TAB may wait for a first introspection.
pub const FETCH_LIMIT: Duration = Duration::from_millis(1500);

/// Attribute names of `v`, each with a short description for hints.
pub fn attribute_names(s: &Session, v: &Value, fetch: bool) -> Vec<(String, String)> {
    match v {
        Value::Module(m) => builtins::module_names(m)
            .into_iter()
            .map(|n| (n.to_string(), String::new()))
            .collect(),
        Value::Object(o) => {
            let mut out: Vec<(String, String)> = ["interfaces", "load", "path", "destination"]
                .iter()
                .map(|n| (n.to_string(), String::new()))
                .collect();
            if let Some(node) = object_node(s, o, fetch) {
                for i in &node.interfaces {
                    out.push((i.short_name().to_string(), i.name.clone()));
                }
            }
            out
        }
        Value::Interface(i) => {
            let mut out = Vec::new();
            if let Some(node) = object_node(s, &i.object, fetch)
                && let Some(iface) = node.interface(&i.name)
            {
                for m in &iface.methods {
                    out.push((m.name.clone(), m.describe()));
                }
                for p in &iface.properties {
                    out.push((
                        p.name.clone(),
                        property_hint(&p.sig, &p.flags.busctl_text(p.writable)),
                    ));
                }
            }
            out
        }
        other => builtins::value_method_names(other)
            .into_iter()
            .map(|n| (n.to_string(), String::new()))
            .collect(),
    }
}

pub fn property_hint(sig: &str, flags: &str) -> String {
    format!(
        "{sig} property,{}",
        flags.trim_start_matches(' ').replace(' ', ",")
    )
    .replace(",-", "")
    .replace(',', " ")
}

/// Introspection from the cache, or fetched within [`FETCH_LIMIT`] when allowed.
/// [`node`] of an object value, on its own machine's bus.
pub fn object_node(
    s: &Session,
    o: &crate::lang::value::ObjectRef,
    fetch: bool,
) -> Option<std::sync::Arc<crate::bus::introspect::Node>> {
    if o.target.is_none() {
        return node(s, &o.service, &o.path, fetch);
    }
    let e = s.endpoint(o.target.as_ref());
    if let Some(n) = e.cache.cached(&o.service, &o.path) {
        return Some(n);
    }
    if !fetch {
        return None;
    }
    s.block_on_within(FETCH_LIMIT, e.cache.get(&e.bus, &o.service, &o.path))
}

pub fn node(
    s: &Session,
    service: &str,
    path: &str,
    fetch: bool,
) -> Option<std::sync::Arc<crate::bus::introspect::Node>> {
    if let Some(n) = s.cache.cached(service, path) {
        return Some(n);
    }
    if !fetch
        || !crate::bus::names::is_bus_name(service)
        || !crate::bus::names::is_object_path(path)
    {
        return None;
    }
    s.introspect_within(FETCH_LIMIT, service, path)
}

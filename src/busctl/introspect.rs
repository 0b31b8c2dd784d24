//! busctl's `introspect` table, byte for byte.
//!
//! Mirrors busctl 252's `introspect()`: members sorted by (interface, type, name) with strcmp,
//! column widths from the longest entry (RESULT/VALUE capped at 40 columns and ellipsized only
//! when stdout is a terminal), printf's byte-based padding, and one quirk kept on purpose:
//! busctl 252 looks values up by the *contents* signature of the variant, which for a struct
//! lacks the parentheses, so struct-typed properties show `-` instead of their value.

use std::collections::HashMap;

use super::format::format_values;
use crate::bus::data::Data;
use crate::bus::introspect::{Flags, Node};

struct Row<'a> {
    iface: &'a str,
    kind: &'static str,
    name: Option<&'a str>,
    sig: String,
    result: String,
    value: Option<String>,
    flags: Flags,
    writable: bool,
}

/// Render the table. `values` holds each interface's GetAll reply.
pub fn render(
    node: &Node,
    filter: Option<&str>,
    values: &[(String, Vec<Data>)],
    ellipsize_values: bool,
    legend: bool,
) -> String {
    let mut rows: Vec<Row> = Vec::new();
    for iface in &node.interfaces {
        if filter.is_some_and(|f| f != iface.name) {
            continue;
        }
        let props = index(
            values
                .iter()
                .find(|(n, _)| *n == iface.name)
                .and_then(|(_, v)| v.first()),
        );
        rows.push(Row {
            iface: &iface.name,
            kind: "interface",
            name: None,
            sig: String::new(),
            result: String::new(),
            value: None,
            flags: iface.flags,
            writable: false,
        });
        for m in &iface.methods {
            rows.push(Row {
                iface: &iface.name,
                kind: "method",
                name: Some(&m.name),
                sig: m.in_sig(),
                result: m.out_sig(),
                value: None,
                flags: m.flags,
                writable: false,
            });
        }
        for p in &iface.properties {
            let value = property_value(&props, &p.name, &p.sig);
            rows.push(Row {
                iface: &iface.name,
                kind: "property",
                name: Some(&p.name),
                sig: p.sig.to_string(),
                result: String::new(),
                value,
                flags: p.flags,
                writable: p.writable,
            });
        }
        for s in &iface.signals {
            rows.push(Row {
                iface: &iface.name,
                kind: "signal",
                name: Some(&s.name),
                sig: s.args.iter().map(|a| &*a.sig).collect(),
                result: String::new(),
                value: None,
                flags: s.flags,
                writable: false,
            });
        }
    }
    // busctl keeps members in a set: a repeated member is shown once.
    rows.sort_by(|a, b| {
        (a.iface, a.kind, a.name.unwrap_or("")).cmp(&(b.iface, b.kind, b.name.unwrap_or("")))
    });
    rows.dedup_by(|a, b| a.iface == b.iface && a.kind == b.kind && a.name == b.name);

    let mut name_w = 4;
    let mut type_w = 4;
    let mut sig_w = 9;
    let mut res_w = 12;
    for r in &rows {
        name_w = name_w.max(r.iface.len());
        if let Some(n) = r.name {
            name_w = name_w.max(n.len() + 1);
        }
        type_w = type_w.max(r.kind.len());
        sig_w = sig_w.max(r.sig.len());
        res_w = res_w.max(r.result.len());
        if let Some(v) = &r.value {
            res_w = res_w.max(v.len());
        }
    }
    if res_w > 40 && ellipsize_values {
        res_w = 40;
    }
    let mut out = String::new();
    if legend {
        out.push_str(&format!(
            "{:<name_w$} {:<type_w$} {:<sig_w$} {:<res_w$} FLAGS\n",
            "NAME", "TYPE", "SIGNATURE", "RESULT/VALUE"
        ));
    }
    for r in &rows {
        let is_iface = r.kind == "interface";
        if filter.is_some() && is_iface {
            continue;
        }
        let rv = match &r.value {
            Some(v) if ellipsize_values => ellipsize(v, res_w),
            Some(v) => v.clone(),
            None => dash(&r.result).to_string(),
        };
        let (dot, name, w) = if is_iface {
            ("", r.iface, name_w)
        } else {
            (".", r.name.unwrap_or("-"), name_w - 1)
        };
        out.push_str(dot);
        out.push_str(&pad(name, w));
        out.push(' ');
        out.push_str(&pad(r.kind, type_w));
        out.push(' ');
        out.push_str(&pad(dash(&r.sig), sig_w));
        out.push(' ');
        out.push_str(&pad(&rv, res_w));
        out.push_str(&r.flags.busctl_text(r.writable));
        out.push('\n');
    }
    out
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// printf's `%-*s`: pad to a width counted in bytes.
fn pad(s: &str, width: usize) -> String {
    let mut out = String::with_capacity(width.max(s.len()));
    out.push_str(s);
    for _ in s.len()..width {
        out.push(' ');
    }
    out
}

/// systemd's `ellipsize(s, width, 100)`: keep the start, end with "…".
pub fn ellipsize(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let keep: String = s.chars().take(width.saturating_sub(1)).collect();
    format!("{keep}…")
}

/// The value busctl shows: found by name *and* by the variant's contents signature (for a
/// struct that is its fields without parentheses, so it never matches `(so)`).
/// A GetAll reply (`a{sv}`) by property name: the first entry of each name, as a linear
/// search would find it (systemd's units have 200 properties: no search per property).
fn index(all: Option<&Data>) -> HashMap<&str, &Data> {
    let mut map = HashMap::new();
    if let Some(Data::Dict { entries, .. }) = all {
        for (k, v) in entries {
            if let (Data::Str(k), Data::Variant(inner)) = (k, v) {
                map.entry(k.as_str()).or_insert(inner.as_ref());
            }
        }
    }
    map
}

fn property_value(all: &HashMap<&str, &Data>, name: &str, sig: &str) -> Option<String> {
    let inner = *all.get(name)?;
    let contents: String = match inner {
        Data::Struct(fields) => fields.iter().map(|f| f.sig().to_string()).collect(),
        other => other.sig().to_string(),
    };
    (contents == sig).then(|| format_values(std::slice::from_ref(inner)))
}

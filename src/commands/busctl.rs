//! busctl's verbs: same arguments, same output, same error wording.

use std::io::Write;

use anyhow::{Context, bail};

use crate::bus::busctl_format::{format_reply, parse_args};
use crate::bus::connection::{CallError, Reply};
use crate::bus::data::Data;
use crate::bus::sig::Sig;
use crate::commands::introspect_table;
use crate::lang::interp::{Flow, Interp};

/// One method call from a command, bounded and interruptible like every bus call.
pub(crate) fn bus_call(
    it: &Interp,
    dest: &str,
    path: &str,
    iface: &str,
    member: &str,
    args: &[Data],
) -> Result<Reply, CallError> {
    let s = &it.session;
    s.block_on(s.bus.call(dest, path, Some(iface), member, args))
}

/// busctl's `bus_error_message`: the peer's message, or our own description.
pub(crate) fn error_text(e: &CallError) -> String {
    match e {
        CallError::Dbus { message, name } if message.is_empty() => {
            format!("{name}{}", crate::bus::connection::permission_hint(name))
        }
        CallError::Dbus { message, name } => {
            format!("{message}{}", crate::bus::connection::permission_hint(name))
        }
        other => other.to_string(),
    }
}

fn need<'a>(words: &'a [String], n: usize, usage: &str) -> anyhow::Result<&'a [String]> {
    if words.len() < n {
        bail!("expected {n} arguments or more (usage: {usage})");
    }
    Ok(words)
}

pub fn get_property(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let w = need(words, 4, "get-property SERVICE PATH INTERFACE PROPERTY...")?;
    let (dest, path, iface) = (&w[0], &w[1], &w[2]);
    for prop in &w[3..] {
        let reply = bus_call(
            it,
            dest,
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            &[Data::Str(iface.clone()), Data::Str(prop.clone())],
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "Failed to get property {prop} on interface {iface}: {}",
                error_text(&e)
            )
        })?;
        let Some(Data::Variant(inner)) = reply.values.first() else {
            bail!("{dest} answered Get with something other than a variant");
        };
        write!(it.out, "{}", format_reply(std::slice::from_ref(inner)))?;
    }
    Ok(Flow::Continue)
}

pub fn set_property(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let usage = "set-property SERVICE PATH INTERFACE PROPERTY SIGNATURE VALUE...";
    let w = need(words, 6, usage)?;
    let (dest, path, iface, prop, sig) = (&w[0], &w[1], &w[2], &w[3], &w[4]);
    let one = Sig::parse(sig).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut values = parse_args(sig, &w[5..]).map_err(|e| anyhow::anyhow!("{e}"))?;
    if values.len() != 1 {
        bail!("a property value must be exactly one complete type, not '{sig}'");
    }
    let value = values.remove(0);
    debug_assert_eq!(value.sig(), one);
    bus_call(
        it,
        dest,
        path,
        "org.freedesktop.DBus.Properties",
        "Set",
        &[
            Data::Str(iface.clone()),
            Data::Str(prop.clone()),
            Data::Variant(Box::new(value)),
        ],
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "Failed to set property {prop} on interface {iface}: {}",
            error_text(&e)
        )
    })?;
    Ok(Flow::Continue)
}

pub fn call(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let w = need(
        words,
        4,
        "call SERVICE PATH INTERFACE METHOD [SIGNATURE [ARGUMENT...]]",
    )?;
    let (dest, path, iface, method) = (&w[0], &w[1], &w[2], &w[3]);
    let args = match w.get(4) {
        Some(sig) => parse_args(sig, &w[5..]).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Vec::new(),
    };
    let reply = bus_call(it, dest, path, iface, method, &args)
        .map_err(|e| anyhow::anyhow!("Call failed: {}", error_text(&e)))?;
    write!(it.out, "{}", format_reply(&reply.values))?;
    // The reply is also the last result, so `_` works after a busctl line.
    let v = crate::lang::convert::reply_value(&reply.values);
    if !matches!(v, crate::lang::value::Value::None) {
        it.vars.borrow_mut().insert("_".into(), v);
    }
    Ok(Flow::Continue)
}

pub fn introspect(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let w = need(words, 2, "introspect SERVICE PATH [INTERFACE]")?;
    if w.len() > 3 {
        bail!("too many arguments (usage: introspect SERVICE PATH [INTERFACE])");
    }
    let (dest, path) = (&w[0], &w[1]);
    let filter = w.get(2).map(String::as_str);
    let s = it.session.clone();
    // busctl always asks afresh; so do we, and refresh the cache for completion on the way.
    s.cache.forget(dest, path);
    let node = s.block_on(s.cache.get(&s.bus, dest, path)).map_err(|e| {
        anyhow::anyhow!(
            "Failed to introspect object {path} of service {dest}: {}",
            error_text(&e)
        )
    })?;
    let mut values = Vec::new();
    for iface in &node.interfaces {
        if iface.properties.is_empty() || filter.is_some_and(|f| f != iface.name) {
            continue;
        }
        let reply = bus_call(
            it,
            dest,
            path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            &[Data::Str(iface.name.clone())],
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "Failed to get all properties on interface {}: {}",
                iface.name,
                error_text(&e)
            )
        })?;
        values.push((iface.name.clone(), reply.values));
    }
    let table = introspect_table::render(&node, filter, &values, it.session.stdout_tty)
        .context("formatting the introspection table")?;
    it.out.write_all(table.as_bytes())?;
    Ok(Flow::Continue)
}

//! `introspect`: busctl's member table with live property values, or with `--xml-interface`
//! the XML as the object sent it. busctl 252 prints the table whatever `--json` says; so do we.

use crate::bus::data::Data;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bus_call, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let (dest, path) = (&inv.args[0], &inv.args[1]);
    let filter = inv.args.get(2).map(String::as_str);
    let s = ctx.session;
    if inv.has("xml-interface") {
        let xml = s
            .block_on(crate::bus::cache::introspect_xml(&s.bus, dest, path))
            .map_err(|e| {
                failed(
                    format!("Failed to introspect object {path} of service {dest}"),
                    &e,
                )
            })?;
        // busctl's puts(): the text and a newline.
        writeln!(ctx.out, "{xml}")?;
        return Ok(Value::None);
    }
    // busctl always asks afresh; so do we, and refresh the cache for completion on the way.
    s.cache.forget(dest, path);
    let node = s.block_on(s.cache.get(&s.bus, dest, path)).map_err(|e| {
        failed(
            format!("Failed to introspect object {path} of service {dest}"),
            &e,
        )
    })?;
    // Members the peer described wrongly were left out; the rest is shown.
    for what in &node.skipped {
        eprintln!("warning: {what} (left out)");
    }
    let mut values = Vec::new();
    for iface in &node.interfaces {
        if iface.properties.is_empty() || filter.is_some_and(|f| f != iface.name) {
            continue;
        }
        let reply = bus_call(
            ctx,
            inv,
            dest,
            path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            &[Data::Str(iface.name.clone())],
        )
        .map_err(|e| {
            failed(
                format!("Failed to get all properties on interface {}", iface.name),
                &e,
            )
        })?;
        values.push((iface.name.clone(), reply.values));
    }
    let table = crate::busctl::introspect::render(
        &node,
        filter,
        &values,
        ctx.term.ellipsize(),
        !inv.has("no-legend"),
    );
    ctx.out.write_all(table.as_bytes())?;
    Ok(Value::None)
}

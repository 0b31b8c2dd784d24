//! `introspect`: busctl's member table with live property values, or with `--xml-interface`
//! the XML as the object sent it. busctl 252 prints the table whatever `--json` says; so do we.

use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;

use crate::bus::connection::{CallError, CallOptions};
use crate::bus::data::Data;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, failed, timeout};

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
        writeln!(ctx.out, "{}", xml.as_str())?;
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
    let wanted: Vec<&str> = node
        .interfaces
        .iter()
        .filter(|i| !i.properties.is_empty() && filter.is_none_or(|f| f == i.name))
        .map(|i| i.name.as_str())
        .collect();
    // Every GetAll is sent before the first reply is read (busctl asks one after another, a
    // round trip each); replies are taken in busctl's order, and the first failure ends it
    // there, as in busctl (the calls still out are dropped with it).
    let failed_on = |name: &str, e: &CallError| {
        failed(
            format!("Failed to get all properties on interface {name}"),
            e,
        )
    };
    let opts = CallOptions {
        timeout: match wanted.first() {
            None => None,
            Some(first) => timeout(inv).map_err(|e| failed_on(first, &CallError::Invalid(e)))?,
        },
        ..CallOptions::default()
    };
    let values = s
        .block_on(async {
            let mut replies: FuturesOrdered<_> = wanted
                .iter()
                .map(|&name| {
                    let opts = &opts;
                    async move {
                        let args = [Data::Str(name.to_string())];
                        let props = Some("org.freedesktop.DBus.Properties");
                        let r = s.bus.call_with(opts, dest, path, props, "GetAll", &args);
                        (name, r.await)
                    }
                })
                .collect();
            let mut values = Vec::new();
            while let Some((name, reply)) = replies.next().await {
                match reply {
                    Ok(r) => values.push((name.to_string(), r.values)),
                    Err(e) => return Ok(Err(failed_on(name, &e))),
                }
            }
            Ok(Ok(values))
        })
        // Outside: Ctrl-C while waiting; inside: a GetAll that failed.
        .map_err(|e| failed_on(wanted.first().copied().unwrap_or_default(), &e))??;
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

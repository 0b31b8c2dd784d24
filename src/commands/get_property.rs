//! `get-property`: each property as its signature and value, like busctl (or busctl's
//! `--json` and `--verbose` forms).

use crate::bus::data::Data;
use crate::busctl::format::format_reply;
use crate::busctl::{dump, json};
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bus_call, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let (dest, path, iface) = (&inv.args[0], &inv.args[1], &inv.args[2]);
    let mode = json::Mode::from_flags(inv.value("json"), inv.has("j"), ctx.term.tty);
    for prop in &inv.args[3..] {
        let reply = bus_call(
            ctx,
            inv,
            dest,
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            &[Data::Str(iface.clone()), Data::Str(prop.clone())],
        )
        .map_err(|e| {
            failed(
                format!("Failed to get property {prop} on interface {iface}"),
                &e,
            )
        })?;
        let Some(Data::Variant(inner)) = reply.values.first() else {
            return Err(Error::new(format!(
                "{dest} answered Get with something other than a variant"
            )));
        };
        if let Some(mode) = mode {
            let j = json::variant(inner).map_err(|e| Error::new(e.to_string()))?;
            ctx.out
                .write_all(json::dump(&j, mode, ctx.term.color).as_bytes())?;
        } else if inv.has("verbose") {
            ctx.out
                .write_all(dump::subtree(inner, ctx.term.color).as_bytes())?;
        } else {
            write!(ctx.out, "{}", format_reply(std::slice::from_ref(inner)))?;
        }
    }
    Ok(Value::None)
}

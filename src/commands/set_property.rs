//! `set-property`: a value in busctl's notation, sent with Properties.Set.

use crate::bus::data::Data;
use crate::busctl::args::parse_args;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bus_call, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let w = &inv.args;
    let (dest, path, iface, prop, sig) = (&w[0], &w[1], &w[2], &w[3], &w[4]);
    let mut values = parse_args(sig, &w[5..]).map_err(|e| Error::new(e.to_string()))?;
    if values.len() != 1 {
        return Err(Error::new(format!(
            "a property value must be exactly one complete type, not '{sig}'"
        )));
    }
    let value = values.remove(0);
    bus_call(
        ctx,
        inv,
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
        failed(
            format!("Failed to set property {prop} on interface {iface}"),
            &e,
        )
    })?;
    Ok(Value::None)
}

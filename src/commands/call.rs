//! `call`: busctl's method call, with its argument notation and reply format.

use crate::busctl::args::parse_args;
use crate::busctl::format::format_reply;
use crate::lang::command::Context;
use crate::lang::convert::reply_value;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bus_call, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let w = &inv.args;
    let (dest, path, iface, method) = (&w[0], &w[1], &w[2], &w[3]);
    let args = match w.get(4) {
        Some(sig) => parse_args(sig, &w[5..]).map_err(|e| Error::new(e.to_string()))?,
        None => Vec::new(),
    };
    let reply = bus_call(ctx, inv, dest, path, iface, method, &args)
        .map_err(|e| failed("Call failed", &e))?;
    if !inv.has("quiet") {
        write!(ctx.out, "{}", format_reply(&reply.values))?;
    }
    // The reply is also the last result, so `_` works after a busctl line.
    Ok(reply_value(&reply.values))
}

//! `call`: busctl's method call, with its argument notation and reply format (or busctl's
//! `--json` and `--verbose` forms).

use crate::bus::connection::CallOptions;
use crate::busctl::args::parse_args;
use crate::busctl::format::format_reply;
use crate::busctl::{dump, json};
use crate::lang::command::Context;
use crate::lang::convert::reply_value;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bool_flag, failed, timeout};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let w = &inv.args;
    let (dest, path, iface, method) = (&w[0], &w[1], &w[2], &w[3]);
    let args = match w.get(4) {
        Some(sig) => parse_args(sig, &w[5..]).map_err(|e| Error::new(e.to_string()))?,
        None => Vec::new(),
    };
    let opts = CallOptions {
        timeout: timeout(inv).map_err(Error::new)?,
        expect_reply: bool_flag(inv, "expect-reply", true)?,
        auto_start: bool_flag(inv, "auto-start", true)?,
        // busctl allows interactive authorization unless told otherwise.
        interactive_auth: bool_flag(inv, "allow-interactive-authorization", true)?,
    };
    let s = ctx.session;
    let reply = s
        .block_on(
            s.bus
                .call_with(&opts, dest, path, Some(iface), method, &args),
        )
        .map_err(|e| {
            let what = if opts.expect_reply {
                "Call failed"
            } else {
                "Failed to send message"
            };
            failed(what, &e)
        })?;
    if !opts.expect_reply {
        return Ok(Value::None);
    }
    if !inv.has("quiet") && !reply.values.is_empty() {
        if let Some(mode) = json::Mode::from_flags(inv.value("json"), inv.has("j"), ctx.term.tty) {
            let j = json::message(&reply.values).map_err(|e| Error::new(e.to_string()))?;
            ctx.out
                .write_all(json::dump(&j, mode, ctx.term.color).as_bytes())?;
        } else if inv.has("verbose") {
            ctx.out
                .write_all(dump::reply(&reply.values, ctx.term.color).as_bytes())?;
        } else {
            write!(ctx.out, "{}", format_reply(&reply.values))?;
        }
    }
    // The reply is also the last result, so `_` works after a busctl line.
    Ok(reply_value(&reply.values))
}

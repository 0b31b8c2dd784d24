//! `wait [SERVICE] OBJECT INTERFACE SIGNAL`: block until the signal arrives and print its body
//! the way `call` prints a reply (busctl 253's verb). Driven by the signal itself, bounded by
//! `--timeout`, and Ctrl-C ends it.

use crate::bus::connection::CallError;
use crate::bus::signals::MatchRule;
use crate::busctl::format::format_reply;
use crate::lang::command::Context;
use crate::lang::convert::reply_value;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, failed, timeout};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let a = &inv.args;
    let (service, rest) = if a.len() == 4 {
        (Some(a[0].clone()), &a[1..])
    } else {
        (None, &a[..])
    };
    let [path, iface, member] = rest else {
        return Err(Error::new(format!(
            "wait: expected [SERVICE] OBJECT INTERFACE SIGNAL, got {} words",
            a.len()
        )));
    };
    for check in [
        service
            .as_deref()
            .map_or(Ok(()), crate::bus::names::check_bus_name),
        crate::bus::names::check_object_path(path),
        crate::bus::names::check_interface_name(iface),
        crate::bus::names::check_member_name(member),
    ] {
        check.map_err(Error::new)?;
    }
    let rule = MatchRule {
        sender: service,
        path: Some(path.clone()),
        interface: Some(iface.clone()),
        member: Some(member.clone()),
        ..MatchRule::default()
    };
    let limit = timeout(inv).map_err(Error::new)?;
    let s = ctx.session;
    let signal = s
        .block_on(async {
            let mut sub = s.bus.subscribe(rule).await?;
            let next = sub.next();
            let got = match limit {
                Some(t) => tokio::time::timeout(t, next).await.ok().flatten(),
                None => next.await,
            };
            got.ok_or_else(|| CallError::Invalid(format!("no {iface}.{member} signal arrived")))
        })
        .map_err(|e| failed("Failed to wait for signal", &e))?;
    if !inv.has("quiet") {
        write!(ctx.out, "{}", format_reply(&signal.values))?;
    }
    Ok(reply_value(&signal.values))
}

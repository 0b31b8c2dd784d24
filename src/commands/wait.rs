//! `wait`: block until something happens, driven by signals (never by polling).
//!
//! * `wait [SERVICE] OBJECT INTERFACE SIGNAL`: until the signal arrives; its body is printed
//!   the way `call` prints a reply (busctl 253's verb).
//! * `wait UNIT PROPERTY == VALUE` and `wait SERVICE PATH PROPERTY == VALUE` (or `!=`): until
//!   the property has (or no longer has) that value, e.g.
//!   `wait myfirstservice.service ActiveState == active`. PROPERTY may name its interface
//!   (`Service.MainPID`). The property's `PropertiesChanged` is subscribed before its value is
//!   read, so no change is missed; for systemd units, systemd is asked to send them
//!   (`Manager.Subscribe`). VALUE is compared as the property's type: strings as they are,
//!   numbers as numbers, booleans as busctl reads them, anything else in busctl's notation.
//!
//! `--timeout` bounds both forms; Ctrl-C ends them.

use crate::bus::connection::CallError;
use crate::bus::data::Data;
use crate::bus::signals::MatchRule;
use crate::busctl::format::{format_reply, format_values};
use crate::lang::command::Context;
use crate::lang::convert::{from_data, reply_value};
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::watch::{Target, changes, get, pretty};
use super::{Invocation, failed, timeout};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let a = &inv.args;
    let op_at = a.iter().position(|w| w == "==" || w == "!=");
    match op_at {
        Some(i @ (2 | 3)) if a.len() == i + 2 => {
            property(ctx, inv, &a[..i - 1], &a[i - 1], &a[i], &a[i + 1])
        }
        Some(_) => Err(Error::new(
            "wait: expected UNIT PROPERTY == VALUE, or SERVICE PATH PROPERTY == VALUE",
        )),
        None => signal(ctx, inv),
    }
}

fn signal(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
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

/// Does `v` equal the word `want`, read as `v`'s type?
pub fn value_is(v: &Data, want: &str) -> bool {
    let int = |n: i128| want.trim().parse::<i128>().is_ok_and(|w| w == n);
    match v {
        Data::Str(s) | Data::Path(s) | Data::Signature(s) => s == want,
        Data::Bool(b) => crate::systemd::syntax::parse_boolean(want) == Some(*b),
        Data::Byte(n) => int((*n).into()),
        Data::I16(n) => int((*n).into()),
        Data::U16(n) => int((*n).into()),
        Data::I32(n) => int((*n).into()),
        Data::U32(n) => int((*n).into()),
        Data::I64(n) => int((*n).into()),
        Data::U64(n) => int((*n).into()),
        Data::Double(d) => want.trim().parse::<f64>().is_ok_and(|w| w == *d),
        Data::Variant(inner) => value_is(inner, want),
        other => format_values(std::slice::from_ref(other)) == want,
    }
}

fn property(
    ctx: &mut Context<'_>,
    inv: &Invocation,
    object: &[String],
    prop: &str,
    op: &str,
    want: &str,
) -> Result<Value, Error> {
    let target = Target::from_words(object).map_err(|e| Error::new(format!("wait: {e}")))?;
    let equal = op == "==";
    let limit = timeout(inv).map_err(Error::new)?;
    let s = ctx.session;
    let bus = &s.bus;
    let label = target.label();
    let mut last: Option<Data> = None;
    let found = s.block_on(async {
        let (iface, prop) = target.property_interface(s, prop).await?;
        if target.unit.is_some() {
            crate::systemd::subscribe(bus).await?;
        }
        let mut sub = bus
            .subscribe(MatchRule {
                sender: Some(target.service.clone()),
                path: Some(target.path.clone()),
                interface: Some("org.freedesktop.DBus.Properties".into()),
                member: Some("PropertiesChanged".into()),
                arg0: Some(iface.clone()),
                ..MatchRule::default()
            })
            .await?;
        let mut current = get(bus, &target, &iface, &prop).await?;
        let deadline = limit.and_then(|t| tokio::time::Instant::now().checked_add(t));
        loop {
            last = Some(current.clone());
            if value_is(&current, want) == equal {
                return Ok((prop, current));
            }
            let next = sub.next();
            let sig = match deadline {
                Some(d) => match tokio::time::timeout_at(d, next).await {
                    Ok(s) => s,
                    Err(_) => {
                        return Err(CallError::Timeout {
                            dest: prop,
                            secs: 0.0,
                        });
                    }
                },
                None => next.await,
            };
            let Some(sig) = sig else {
                return Err(CallError::Connection("the bus connection closed".into()));
            };
            let (changed, invalidated) = changes(&sig);
            if let Some((_, v)) = changed.into_iter().rev().find(|(k, _)| *k == prop) {
                current = v;
            } else if invalidated.contains(&prop) {
                current = get(bus, &target, &iface, &prop).await?;
            }
        }
    });
    match found {
        Ok((_, v)) => Ok(from_data(&v)),
        Err(CallError::Timeout { dest, .. }) => {
            let secs = limit.map_or(0.0, |t| t.as_secs_f64());
            let now = last.map_or("unknown".to_string(), |v| {
                format!("\"{}\"", pretty(&dest, &v))
            });
            let goal = if equal { "become" } else { "stop being" };
            Err(Error::call(
                &CallError::Timeout {
                    dest: dest.clone(),
                    secs,
                },
                format!(
                    "wait: {dest} of {label} did not {goal} \"{want}\" within {secs} s (it is {now})"
                ),
            ))
        }
        Err(e) => Err(failed(format!("wait: {label}"), &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_compare_as_the_property_type() {
        assert!(value_is(&Data::Str("active".into()), "active"));
        assert!(!value_is(&Data::Str("active".into()), "\"active\""));
        assert!(value_is(&Data::U32(0), "0"));
        assert!(value_is(&Data::U32(7), " 7"));
        assert!(!value_is(&Data::U32(7), "x"));
        assert!(value_is(&Data::Bool(true), "yes"));
        assert!(value_is(&Data::I64(-5), "-5"));
        assert!(value_is(&Data::Double(0.5), "0.5"));
        let arr = Data::Array {
            elem: crate::bus::sig::Sig::Str,
            items: vec![Data::Str("a".into())],
        };
        assert!(value_is(&arr, "1 \"a\""));
    }
}

//! `bus-status [SERVICE|PID]` (what `busctl status` runs): credentials of a bus peer, of a
//! process, or of the bus itself, in busctl's layout ([`crate::busctl::creds`]).
//!
//! Named `bus-status` because `status X` is a unit's status here, as in systemctl.

use crate::bus::connection::{BusTarget, CallError};
use crate::bus::data::Data;
use crate::busctl::creds::Creds;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, bool_flag};

const DBUS: &str = "org.freedesktop.DBus";

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let s = ctx.session;
    // PIDs from another machine's bus mean nothing in our /proc (sd-bus does the same).
    let local = !matches!(s.bus.target(), BusTarget::Machine(_) | BusTarget::Host(_));
    let augment = bool_flag(inv, "augment-creds", true)? && local;
    let failed = |e: CallError| {
        Error::call(
            &e,
            format!(
                "Failed to get credentials: {}",
                crate::busctl::error_message(&e)
            ),
        )
    };
    let color = ctx.term.color;
    let (hl, off) = if color {
        ("\x1B[0;1;39m", "\x1B[0m")
    } else {
        ("", "")
    };
    let mut creds = Creds::default();
    match inv.args.first().filter(|a| !a.is_empty()) {
        Some(arg) if arg.parse::<u32>().is_ok_and(|p| p > 0) => {
            let pid: u32 = arg.parse().unwrap_or_default();
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                return Err(Error::new(
                    "Failed to get credentials: No such process".to_string(),
                ));
            }
            creds.pid = Some(pid);
            creds.augment();
        }
        // sd-bus answers for the bus driver with the bus owner's credentials.
        Some(name) if name != DBUS => {
            crate::bus::names::check_bus_name(name).map_err(Error::new)?;
            let reply = s
                .block_on(s.bus.call(
                    DBUS,
                    "/org/freedesktop/DBus",
                    Some(DBUS),
                    "GetConnectionCredentials",
                    &[Data::Str(name.clone())],
                ))
                .map_err(failed)?;
            if let Some(Data::Dict { entries, .. }) = reply.values.first() {
                for (k, v) in entries {
                    let (Data::Str(k), Data::Variant(v)) = (k, v) else {
                        continue;
                    };
                    match (k.as_str(), &**v) {
                        ("ProcessID", Data::U32(p)) => creds.pid = Some(*p),
                        ("UnixUserID", Data::U32(u)) => creds.euid = Some(*u),
                        ("LinuxSecurityLabel", Data::Array { items, .. }) => {
                            let bytes: Vec<u8> = items
                                .iter()
                                .filter_map(|b| match b {
                                    Data::Byte(b) if *b != 0 => Some(*b),
                                    _ => None,
                                })
                                .collect();
                            creds.label = Some(String::from_utf8_lossy(&bytes).into_owned());
                        }
                        _ => {}
                    }
                }
            }
            creds.unique_name = Some(if name.starts_with(':') {
                name.clone()
            } else {
                let r = s
                    .block_on(s.bus.call(
                        DBUS,
                        "/org/freedesktop/DBus",
                        Some(DBUS),
                        "GetNameOwner",
                        &[Data::Str(name.clone())],
                    ))
                    .map_err(failed)?;
                match r.values.first() {
                    Some(Data::Str(o)) => o.clone(),
                    _ => name.clone(),
                }
            });
            if augment {
                creds.augment();
            }
        }
        driver => {
            let conn = s.block_on(s.bus.connection()).map_err(failed)?;
            if driver.is_none() {
                let address = s.bus.target().address().unwrap_or_default();
                writeln!(ctx.out, "BusAddress={hl}{address}{off}")?;
                let scope = match s.bus.target() {
                    BusTarget::User => Some("user"),
                    BusTarget::Address(_) => None,
                    _ => Some("system"),
                };
                if let Some(scope) = scope {
                    writeln!(ctx.out, "BusScope={hl}{scope}{off}")?;
                }
                writeln!(ctx.out, "BusID={hl}{}{off}", conn.server_guid())?;
            }
            let peer = s.block_on(async {
                conn.peer_creds()
                    .await
                    .map(|c| {
                        (
                            c.process_id(),
                            c.unix_user_id(),
                            c.unix_group_ids().and_then(|g| g.first().copied()),
                        )
                    })
                    .map_err(|e| CallError::Connection(e.to_string()))
            });
            if let Ok((pid, uid, gid)) = peer {
                creds.pid = pid;
                creds.euid = uid;
                creds.egid = gid;
            }
            if augment {
                creds.augment();
            }
        }
    }
    ctx.out.write_all(creds.dump(color).as_bytes())?;
    Ok(Value::None)
}

//! D-Bus objects and systemd units, under their shell names and pystemd's spellings
//! (`unit` and `pystemd.systemd1.Unit` are one function).

use super::{Bound, Builtin, Func, R};
use crate::bus::connection::BusTarget;
use crate::bus::path;
use crate::lang::error::Error;
use crate::lang::value::{IntKind, Value, object_value};
use crate::systemd;

pub static BUILTINS: &[Builtin] = &[
    pure!(
        "object",
        [
            "service",
            "path",
            "bus=None",
            "_autoload=False",
            "machine=None",
            "host=None"
        ],
        "A D-Bus object; its interfaces are attributes: object(s, p).Properties \
         (machine='NAME': a local container's, host='[USER@]HOST': over ssh)",
        b_object
    ),
    pure!(
        "unit",
        [
            "name",
            "bus=None",
            "_autoload=False",
            "machine=None",
            "host=None"
        ],
        "A systemd unit object: unit('x.service').Service.MainPID (machine=, host= as \
         for object)",
        b_unit
    ),
    pure!(
        "manager",
        ["bus=None", "_autoload=False", "machine=None", "host=None"],
        "The systemd manager object: manager().Manager.GetUnitByPID(pid()) (machine=, \
         host= as for object)",
        b_manager
    ),
    pure!(
        "path_encode",
        ["prefix", "name"],
        "Escape NAME into an object path below PREFIX (sd_bus_path_encode)",
        b_path_encode
    ),
    pure!(
        "path_decode",
        ["path", "prefix"],
        "The name PATH encodes below PREFIX (sd_bus_path_decode)",
        b_path_decode
    ),
    pure!("pid", [], "This shell's process id", b_pid),
    pure!(
        "pystemd.base.SDObject",
        ["destination", "path", "bus=None", "_autoload=False"],
        "Same as object()",
        b_object
    ),
    pure!(
        "pystemd.systemd1.Unit",
        ["external_id", "bus=None", "_autoload=False"],
        "Same as unit()",
        b_unit
    ),
    pure!(
        "pystemd.systemd1.Manager",
        ["bus=None", "_autoload=False"],
        "Same as manager()",
        b_manager
    ),
    pure!(
        "pystemd.dbuslib.path_encode",
        ["prefix", "name"],
        "Same as path_encode()",
        b_path_encode
    ),
    pure!(
        "pystemd.dbuslib.path_decode",
        ["path", "prefix"],
        "Same as path_decode()",
        b_path_decode
    ),
    pure!("os.getpid", [], "Same as pid()", b_pid),
];

/// `machine=` or `host=`: another machine's bus (`None`: the session's).
fn target(a: &Bound) -> R<Option<BusTarget>> {
    let text = |name: &str| -> R<Option<String>> {
        match a.named(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => v.as_text().map(Some).ok_or_else(|| {
                Error::new(format!("{name}= must be a string, got {}", v.type_name()))
            }),
        }
    };
    match (text("machine")?, text("host")?) {
        (Some(_), Some(_)) => Err(Error::new("give machine= or host=, not both")),
        (Some(m), None) => Ok(Some(BusTarget::Machine(m))),
        (None, Some(h)) => {
            crate::bus::remote::host_command(&h).map_err(Error::new)?;
            Ok(Some(BusTarget::Host(h)))
        }
        (None, None) => Ok(None),
    }
}

fn b_object(a: &Bound) -> R<Value> {
    object_value(&a.text(0)?, &a.text(1)?, "object", target(a)?)
}

fn b_unit(a: &Bound) -> R<Value> {
    let name = a.text(0)?;
    if name.is_empty() {
        return Err(Error::new(
            "unit(): the unit name is empty (e.g. unit('cron.service'))",
        ));
    }
    object_value(
        systemd::SERVICE,
        &systemd::unit_path(&name),
        &format!("unit {name}"),
        target(a)?,
    )
}

fn b_manager(a: &Bound) -> R<Value> {
    object_value(
        systemd::SERVICE,
        systemd::MANAGER_PATH,
        "manager",
        target(a)?,
    )
}

fn b_path_encode(a: &Bound) -> R<Value> {
    let prefix = a.text(0)?;
    let name = a.text(1)?;
    crate::bus::names::check_object_path(&prefix)
        .map_err(|e| Error::new(format!("path_encode(): {e}")))?;
    Ok(Value::Path(path::encode(&prefix, &name)))
}

fn b_path_decode(a: &Bound) -> R<Value> {
    let p = a.text(0)?;
    let prefix = a.text(1)?;
    path::decode(&p, &prefix).map(Value::Str).ok_or_else(|| {
        Error::new(format!(
            "path_decode(): '{p}' is not an encoded name below '{prefix}'"
        ))
    })
}

fn b_pid(_: &Bound) -> R<Value> {
    Ok(Value::Int(std::process::id() as i128, IntKind::Plain))
}

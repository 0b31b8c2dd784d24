//! Naming units the way systemctl does, finding a PID's unit, and knowing which calls would
//! stop the unit this shell itself runs in.

use std::path::PathBuf;

use crate::bus::connection::{Bus, CallError};
use crate::bus::data::Data;
use crate::bus::path;
use crate::systemd::transient::{UNIT_IFACE, get};
use crate::systemd::{MANAGER_IFACE, MANAGER_PATH, SERVICE, UNIT_PREFIX, cgroup};

/// Unit types, as name suffixes.
pub const TYPES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// `sshd` → `sshd.service`, as systemctl mangles a name without a type.
pub fn normalize(name: &str) -> String {
    let has_type = name
        .rsplit_once('.')
        .is_some_and(|(_, t)| TYPES.contains(&t));
    if has_type {
        name.to_string()
    } else {
        format!("{name}.service")
    }
}

/// The unit name an object path of systemd stands for (`…/unit/x_2eservice` → `x.service`).
pub fn name_of_path(p: &str) -> Option<String> {
    path::decode(p, UNIT_PREFIX)
}

/// A word naming a unit: a unit name (a missing type means .service) or a PID.
pub async fn resolve(bus: &Bus, word: &str) -> Result<String, CallError> {
    let Ok(pid) = word.parse::<u32>() else {
        return Ok(normalize(word));
    };
    let reply = bus
        .call(
            SERVICE,
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            "GetUnitByPID",
            &[Data::U32(pid)],
        )
        .await?;
    let Some(Data::Path(p)) = reply.values.first() else {
        return Err(CallError::Invalid(format!("no unit path for PID {pid}")));
    };
    match get(bus, p, UNIT_IFACE, "Id").await? {
        Data::Str(id) => Ok(id),
        _ => name_of_path(p).ok_or_else(|| CallError::Invalid(format!("no unit for PID {pid}"))),
    }
}

/// The unit this process runs in, from its cgroup (no bus round trip).
pub fn own_unit() -> Option<String> {
    cgroup::unit(&cgroup::systemd_cgroup(std::process::id())?)
}

/// Manager methods whose first argument names a unit they stop or kill.
const MANAGER_KILLERS: &[&str] = &[
    "StopUnit",
    "KillUnit",
    "RestartUnit",
    "TryRestartUnit",
    "ReloadOrRestartUnit",
    "ReloadOrTryRestartUnit",
];
/// Unit methods that stop or kill the unit they are called on.
const UNIT_KILLERS: &[&str] = &[
    "Stop",
    "Kill",
    "Restart",
    "TryRestart",
    "ReloadOrRestart",
    "ReloadOrTryRestart",
];

/// If calling `iface.member` on `obj_path` with `args` would stop or kill `own` (the unit we
/// run in), the unit's name.
pub fn stops_unit(
    own: &str,
    dest: &str,
    obj_path: &str,
    iface: &str,
    member: &str,
    args: &[Data],
) -> bool {
    if dest != SERVICE {
        return false;
    }
    match iface {
        MANAGER_IFACE if MANAGER_KILLERS.contains(&member) => {
            matches!(args.first(), Some(Data::Str(n)) if normalize(n) == own)
        }
        UNIT_IFACE if UNIT_KILLERS.contains(&member) => {
            name_of_path(obj_path).is_some_and(|n| n == own)
        }
        _ => false,
    }
}

/// The `[Section]` of a unit file for this unit's type (`Service` for `x.service`).
pub fn section(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, t)| t) {
        Some("socket") => "Socket",
        Some("mount") => "Mount",
        Some("swap") => "Swap",
        Some("slice") => "Slice",
        Some("scope") => "Scope",
        _ => "Service",
    }
}

/// Where `systemctl edit` puts an administrator's drop-ins for `name`.
pub fn admin_dropin_dir(name: &str) -> PathBuf {
    PathBuf::from(format!("/etc/systemd/system/{name}.d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(normalize("sshd"), "sshd.service");
        assert_eq!(normalize("x.socket"), "x.socket");
        assert_eq!(normalize("a.b"), "a.b.service");
        assert_eq!(
            name_of_path("/org/freedesktop/systemd1/unit/my_2eservice").as_deref(),
            Some("my.service")
        );
        assert_eq!(section("x.scope"), "Scope");
    }

    #[test]
    fn calls_that_stop_our_own_unit() {
        let own = "myfirstservice.service";
        let s = |v: &str| Data::Str(v.into());
        let path = "/org/freedesktop/systemd1/unit/myfirstservice_2eservice";
        let rows = [
            (
                MANAGER_PATH,
                MANAGER_IFACE,
                "StopUnit",
                vec![s(own), s("replace")],
                true,
            ),
            (
                MANAGER_PATH,
                MANAGER_IFACE,
                "KillUnit",
                vec![s("myfirstservice")],
                true,
            ),
            (
                MANAGER_PATH,
                MANAGER_IFACE,
                "StopUnit",
                vec![s("other.service")],
                false,
            ),
            (MANAGER_PATH, MANAGER_IFACE, "GetUnit", vec![s(own)], false),
            (path, UNIT_IFACE, "Stop", vec![s("replace")], true),
            (path, UNIT_IFACE, "Start", vec![s("replace")], false),
        ];
        for (p, iface, member, args, want) in rows {
            assert_eq!(
                stops_unit(own, SERVICE, p, iface, member, &args),
                want,
                "{member}"
            );
        }
        assert!(!stops_unit(own, "org.other", path, UNIT_IFACE, "Stop", &[]));
    }
}

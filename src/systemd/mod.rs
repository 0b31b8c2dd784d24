//! What we know about systemd: its names on the bus, unit names and their object paths,
//! cgroups, and its time-span syntax. Below the language, above the bus: nothing here prints
//! or knows a command.

pub mod cgroup;
pub mod job;
pub mod properties;
pub mod time;
pub mod transient;
pub mod unit;

use crate::bus::path;

pub const SERVICE: &str = "org.freedesktop.systemd1";
pub const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
pub const UNIT_PREFIX: &str = "/org/freedesktop/systemd1/unit";
pub const MANAGER_IFACE: &str = "org.freedesktop.systemd1.Manager";

/// The object path systemd serves a unit at.
pub fn unit_path(name: &str) -> String {
    path::encode(UNIT_PREFIX, name)
}

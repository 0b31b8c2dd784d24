//! What we know about systemd: its names on the bus, unit names and their object paths,
//! cgroups, and its time-span syntax. Below the language, above the bus: nothing here prints
//! or knows a command.

pub mod cgroup;
pub mod job;
pub mod notify;
pub mod procstat;
pub mod properties;
pub mod syntax;
pub mod time;
pub mod transient;
pub mod unit;

use crate::bus::connection::{Bus, CallError};
use crate::bus::path;

pub const SERVICE: &str = "org.freedesktop.systemd1";
pub const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
pub const UNIT_PREFIX: &str = "/org/freedesktop/systemd1/unit";
pub const MANAGER_IFACE: &str = "org.freedesktop.systemd1.Manager";

/// The object path systemd serves a unit at.
pub fn unit_path(name: &str) -> String {
    path::encode(UNIT_PREFIX, name)
}

/// Ask systemd to send unit and job signals (`Manager.Subscribe`). systemd sends
/// PropertiesChanged, JobNew and JobRemoved only while some client is subscribed; the
/// subscription ends with our connection.
pub async fn subscribe(bus: &Bus) -> Result<(), CallError> {
    match bus
        .call(SERVICE, MANAGER_PATH, Some(MANAGER_IFACE), "Subscribe", &[])
        .await
    {
        // Subscribed already on this connection (an earlier `wait` or `watch`): fine.
        Err(CallError::Dbus { name, .. }) if name.ends_with(".AlreadySubscribed") => Ok(()),
        r => r.map(|_| ()),
    }
}

/// Is `word` a unit name rather than a bus name (`x.service`, `foo@bar.socket`)?
pub fn is_unit_name(word: &str) -> bool {
    word.rsplit_once('.')
        .is_some_and(|(name, kind)| !name.is_empty() && unit::TYPES.contains(&kind))
}

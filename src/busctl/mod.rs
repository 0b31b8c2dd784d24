//! busctl, byte for byte: its text formats and its argument notation (systemd 252,
//! `src/busctl/`).
//!
//! Why a room of its own: rustemd-shell mirrors busctl, and its users paste busctl lines and
//! compare outputs, so these modules copy busctl's exact behaviour — [`format`] of values and
//! replies, the [`args`] notation (`as 2 a b`), C number parsing ([`cnum`]), the [`introspect`]
//! table, the object [`tree`] and the [`list`] of peers. The verbs in `commands` only glue
//! these to the session and the output.

pub mod args;
pub mod cnum;
pub mod creds;
pub mod dump;
pub mod format;
pub mod introspect;
pub mod json;
pub mod list;
pub mod pcap;
pub mod tree;

use crate::bus::connection::CallError;

/// sd-bus's `bus_error_message()` as busctl prints it after "Failed to …: ": the peer's
/// message, or the error name when the message is empty; our own description otherwise.
pub fn error_message(e: &CallError) -> String {
    match e {
        CallError::Dbus { message, name } if message.is_empty() => name.clone(),
        CallError::Dbus { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

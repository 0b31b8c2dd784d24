//! Which units a command line means (`status X`, `stop X`, ...): X is a unit name (a missing
//! type means .service), a PID, or the name of a shell variable holding a unit object (`status
//! unit` after `unit = run(...)`) or a PID.

use crate::lang::builtins::unit_name_of;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd::unit;

use super::failed;

/// The unit named by `word`.
pub fn resolve(ctx: &Context<'_>, word: &str) -> Result<String, Error> {
    let var = ctx
        .vars
        .as_ref()
        .filter(|_| word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .and_then(|v| v.borrow().get(word).cloned());
    let word = match var {
        Some(Value::Int(pid, _)) => pid.to_string(),
        Some(v @ Value::Object(_)) => return unit_name_of(&v),
        Some(v) if v.as_text().is_some() => v.as_text().unwrap_or_default(),
        _ => word.to_string(),
    };
    let s = ctx.session;
    s.block_on(unit::resolve(&s.bus, &word)).map_err(|e| {
        if word.parse::<u32>().is_ok() {
            failed(format!("Failed to get unit for PID {word}"), &e)
        } else {
            failed(format!("Failed to resolve unit {word}"), &e)
        }
    })
}

/// Every word's unit.
pub fn resolve_all(ctx: &Context<'_>, words: &[String]) -> Result<Vec<String>, Error> {
    words.iter().map(|w| resolve(ctx, w)).collect()
}

/// The names of the loaded units, for TAB (bounded: completion must stay instant).
pub fn loaded(s: &crate::bus::session::Session) -> Vec<String> {
    use crate::bus::data::Data;
    use crate::systemd::{MANAGER_IFACE, MANAGER_PATH, SERVICE};
    let reply = s.block_on_within(
        crate::lang::attributes::FETCH_LIMIT,
        s.bus
            .call(SERVICE, MANAGER_PATH, Some(MANAGER_IFACE), "ListUnits", &[]),
    );
    let Some(Data::Array { items, .. }) = reply.and_then(|r| r.values.into_iter().next()) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|u| match u {
            Data::Struct(f) => match f.into_iter().next() {
                Some(Data::Str(n)) => Some(n),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

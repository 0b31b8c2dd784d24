//! `watch UNIT` / `watch SERVICE PATH`: a compact live view of a unit (or any object) and a
//! timeline of its changes, driven by the signals that announce them, until Ctrl-C.
//!
//! For a unit: systemd is asked to send signals (`Manager.Subscribe`), then the unit's
//! `PropertiesChanged` and the manager's `JobNew`/`JobRemoved` for this unit arrive through
//! subscriptions of the session's connection ([`crate::bus::signals`]); the view shows
//! ActiveState, SubState, MainPID, StatusText, NRestarts, the watchdog and memory/CPU/tasks.
//! For another object: every property of every interface, and its `PropertiesChanged`.
//!
//! Not on a terminal (a pipe, a file, the tests) the view is printed once and each change
//! becomes one timeline line. On a terminal the view is redrawn in place above the latest
//! changes; the resource counters, which send no signal when they move, are read again
//! once a second there (state changes are never polled).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::bus::connection::{Bus, CallError};
use crate::bus::data::Data;
use crate::bus::session::Session;
use crate::bus::signals::{MatchRule, Signal};
use crate::busctl::format::format_values;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd;

use super::Invocation;

const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
/// What the view shows for a unit, in this order (those the unit has).
const UNIT_VIEW: &[&str] = &[
    "ActiveState",
    "SubState",
    "MainPID",
    "StatusText",
    "NRestarts",
    "WatchdogUSec",
    "WatchdogTimestamp",
    "MemoryCurrent",
    "CPUUsageNSec",
    "TasksCurrent",
];
/// Counters: no change signal, re-read on terminals only, never in the timeline.
const COUNTERS: &[&str] = &["MemoryCurrent", "CPUUsageNSec", "TasksCurrent"];
/// Values systemd changes without a signal (a watchdog ping, `WATCHDOG_USEC=`): re-read on
/// terminals with the counters, so a notify service's watchdog is seen live.
const UNSIGNALLED: &[&str] = &["WatchdogUSec", "WatchdogTimestamp"];
/// Timeline lines kept for the terminal view.
const TIMELINE: usize = 15;

/// An object to watch or wait on: `UNIT` or `SERVICE PATH`.
pub struct Target {
    pub service: String,
    pub path: String,
    /// The unit's name, when it is one.
    pub unit: Option<String>,
}

impl Target {
    pub fn from_words(words: &[String]) -> Result<Target, String> {
        match words {
            [unit] => {
                if !systemd::is_unit_name(unit) {
                    return Err(format!(
                        "'{unit}' is not a unit name (e.g. myfirstservice.service); for \
                         another object give SERVICE PATH"
                    ));
                }
                Ok(Target {
                    service: systemd::SERVICE.into(),
                    path: systemd::unit_path(unit),
                    unit: Some(unit.clone()),
                })
            }
            [service, path] => {
                crate::bus::names::check_bus_name(service)?;
                crate::bus::names::check_object_path(path)?;
                let unit = (service == systemd::SERVICE)
                    .then(|| crate::bus::path::decode(path, systemd::UNIT_PREFIX))
                    .flatten();
                Ok(Target {
                    service: service.clone(),
                    path: path.clone(),
                    unit,
                })
            }
            _ => Err("expected UNIT, or SERVICE PATH".into()),
        }
    }

    pub fn label(&self) -> String {
        self.unit
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.service, self.path))
    }

    /// The interface that has property `name` (`ActiveState`, `Service.MainPID` or a full
    /// `org.freedesktop.systemd1.Service.MainPID`), asking introspection.
    pub async fn property_interface(
        &self,
        s: &Session,
        name: &str,
    ) -> Result<(String, String), CallError> {
        let node = s.cache.get(&s.bus, &self.service, &self.path).await?;
        let (iface_hint, prop) = match name.rsplit_once('.') {
            Some((i, p)) => (Some(i), p),
            None => (None, name),
        };
        let found = node.interfaces.iter().find(|i| {
            iface_hint.is_none_or(|h| i.name == h || i.short_name() == h)
                && i.property(prop).is_some()
        });
        match found {
            Some(i) => Ok((i.name.clone(), prop.to_string())),
            None => Err(CallError::Invalid(format!(
                "{} has no property {name}",
                self.label()
            ))),
        }
    }
}

/// A property's current value (`Properties.Get`), the variant unwrapped.
pub async fn get(bus: &Bus, t: &Target, iface: &str, prop: &str) -> Result<Data, CallError> {
    let r = bus
        .call(
            &t.service,
            &t.path,
            Some(PROPERTIES),
            "Get",
            &[Data::Str(iface.into()), Data::Str(prop.into())],
        )
        .await?;
    match r.values.into_iter().next() {
        Some(Data::Variant(v)) => Ok(*v),
        _ => Err(CallError::Invalid(format!(
            "{} answered Get({iface}, {prop}) with something other than a variant",
            t.service
        ))),
    }
}

/// The changed and invalidated properties of a `PropertiesChanged` signal.
pub fn changes(sig: &Signal) -> (Vec<(String, Data)>, Vec<String>) {
    let mut changed = Vec::new();
    let mut invalidated = Vec::new();
    if let Some(Data::Dict { entries, .. }) = sig.values.get(1) {
        for (k, v) in entries {
            if let (Data::Str(k), Data::Variant(v)) = (k, v) {
                changed.push((k.clone(), (**v).clone()));
            }
        }
    }
    if let Some(Data::Array { items, .. }) = sig.values.get(2) {
        invalidated.extend(items.iter().filter_map(|i| match i {
            Data::Str(s) => Some(s.clone()),
            _ => None,
        }));
    }
    (changed, invalidated)
}

/// A value for people: strings bare, sizes and times readable.
pub fn pretty(prop: &str, v: &Data) -> String {
    match v {
        Data::Str(s) | Data::Path(s) => s.clone(),
        // systemd's "not set" (and "infinity") for counters, limits and times.
        Data::U64(u64::MAX)
            if ["Memory", "Tasks", "CPU", "IO", "IP"]
                .iter()
                .any(|p| prop.starts_with(p))
                || ["USec", "NSec", "Timestamp"]
                    .iter()
                    .any(|s| prop.ends_with(s)) =>
        {
            "[not set]".into()
        }
        Data::U64(n) if prop.starts_with("Memory") => bytes(*n),
        Data::U64(n) if prop.ends_with("NSec") => format!("{:.3}s", *n as f64 / 1e9),
        Data::U64(n) if prop.ends_with("USec") => format!("{:.3}s", *n as f64 / 1e6),
        Data::U64(0) if prop.ends_with("Timestamp") => "n/a".into(),
        Data::U64(n) if prop.ends_with("Timestamp") => crate::busctl::dump::timestamp_us_utc(*n),
        other => format_values(std::slice::from_ref(other)),
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}B")
    } else {
        format!("{v:.1}{}", UNITS[i])
    }
}

/// The height of the terminal on stdout, if it is one.
fn terminal_rows() -> Option<usize> {
    let mut ws = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct we pass, which lives for the
    // call; on a descriptor that is no terminal it fails and writes nothing.
    let r = unsafe { nix::libc::ioctl(1, nix::libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some(usize::from(ws.ws_row))
}

fn clock() -> String {
    let usec = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let t = crate::busctl::dump::timestamp_us_utc(usec);
    // `Wed 2026-11-25 20:35:57.936743 UTC` → `20:35:57.936`.
    t.split(' ')
        .nth(2)
        .map(|s| s[..s.len().min(12)].to_string())
        .unwrap_or(t)
}

struct View {
    /// Lines the last terminal drawing took (redrawn in place from there).
    drawn: usize,
    title: String,
    /// (interface, property) → value, in display order.
    order: Vec<(String, String)>,
    values: BTreeMap<(String, String), Data>,
    timeline: Vec<String>,
    tty: bool,
}

impl View {
    fn block(&self) -> String {
        let mut out = format!("{}\n", self.title);
        for key in &self.order {
            if let Some(v) = self.values.get(key) {
                let _ = writeln!(out, "  {}: {}", key.1, pretty(&key.1, v));
            }
        }
        out
    }

    /// On a terminal: the view again, in place of the last drawing (cursor up, clear below),
    /// as many timeline lines as fit.
    fn draw(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.tty {
            let mut s = String::new();
            if self.drawn > 0 {
                s.push_str(&format!("\x1B[{}A\r", self.drawn));
            }
            s.push_str("\x1B[J");
            let block = self.block();
            let block_lines = block.lines().count() + 2;
            let room = terminal_rows()
                .map_or(TIMELINE, |r| r.saturating_sub(block_lines + 1))
                .min(TIMELINE);
            s.push_str(&block);
            s.push_str("\nchanges (Ctrl-C ends):\n");
            let from = self.timeline.len().saturating_sub(room);
            for l in &self.timeline[from..] {
                s.push_str(l);
                s.push('\n');
            }
            self.drawn = block_lines + self.timeline.len() - from;
            out.write_all(s.as_bytes())?;
        }
        out.flush()
    }

    /// A change: into the view, and one timeline line.
    fn note(&mut self, out: &mut dyn std::io::Write, line: String) -> std::io::Result<()> {
        let line = format!("{} {line}", clock());
        if !self.tty {
            writeln!(out, "{line}")?;
        }
        self.timeline.push(line);
        if self.timeline.len() > 1000 {
            self.timeline.drain(..500);
        }
        self.draw(out)
    }
}

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let target = Target::from_words(&inv.args).map_err(|e| Error::new(format!("watch: {e}")))?;
    let s = ctx.session;
    let tty = ctx.term.tty;
    let out = &mut *ctx.out;
    let r = s.block_on(watch(s, &target, tty, out));
    match r {
        Ok(()) | Err(CallError::Interrupted) => Ok(Value::None),
        Err(e) => Err(Error::call(
            &e,
            format!(
                "watch: {}: {}",
                target.label(),
                crate::busctl::error_message(&e)
            ),
        )),
    }
}

async fn watch(
    s: &Session,
    t: &Target,
    tty: bool,
    out: &mut dyn std::io::Write,
) -> Result<(), CallError> {
    let bus = &s.bus;
    let io = |e: std::io::Error| CallError::Connection(format!("writing output failed: {e}"));
    if t.unit.is_some() {
        systemd::subscribe(bus).await?;
    }
    // Subscribe first, then read: no change can slip between the two. One subscription, so
    // unit and job signals keep the order systemd sent them in.
    let rule = match &t.unit {
        Some(_) => MatchRule {
            sender: Some(systemd::SERVICE.into()),
            path_namespace: Some(systemd::MANAGER_PATH.into()),
            ..MatchRule::default()
        },
        None => MatchRule {
            sender: Some(t.service.clone()),
            path: Some(t.path.clone()),
            interface: Some(PROPERTIES.into()),
            member: Some("PropertiesChanged".into()),
            ..MatchRule::default()
        },
    };
    let mut sub = bus.subscribe(rule).await?;
    let node = s.cache.get(bus, &t.service, &t.path).await?;
    let mut view = View {
        drawn: 0,
        title: match &t.unit {
            Some(u) => format!("{u} ({})", t.path),
            None => t.label(),
        },
        order: Vec::new(),
        values: BTreeMap::new(),
        timeline: Vec::new(),
        tty,
    };
    if t.unit.is_some() {
        for want in UNIT_VIEW {
            if let Some(i) = node.interfaces.iter().find(|i| i.property(want).is_some()) {
                view.order.push((i.name.clone(), want.to_string()));
            }
        }
    } else {
        for i in &node.interfaces {
            for p in &i.properties {
                view.order.push((i.name.clone(), p.name.clone()));
            }
        }
    }
    for key in view.order.clone() {
        if let Ok(v) = get(bus, t, &key.0, &key.1).await {
            view.values.insert(key, v);
        }
    }
    if tty {
        view.draw(out).map_err(io)?;
    } else {
        out.write_all(view.block().as_bytes()).map_err(io)?;
        out.flush().map_err(io)?;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            sig = sub.next() => {
                let Some(sig) = sig else {
                    return Err(CallError::Connection("the bus connection closed".into()));
                };
                if sig.path != t.path {
                    if let Some(line) = job_line(bus, t, &sig).await {
                        view.note(out, line).map_err(io)?;
                    }
                    // The unit made anew (a transient unit started again under its name):
                    // its first changes come as UnitNew, not PropertiesChanged, so read it
                    // again.
                    if sig.member == "UnitNew"
                        && matches!(sig.values.first(), Some(Data::Str(u)) if Some(u) == t.unit.as_ref())
                    {
                        view.note(out, "UnitNew (loaded again)".into()).map_err(io)?;
                        for key in view.order.clone() {
                            let Ok(v) = get(bus, t, &key.0, &key.1).await else {
                                continue;
                            };
                            let old = view.values.insert(key.clone(), v.clone());
                            if COUNTERS.contains(&key.1.as_str()) || old.as_ref() == Some(&v) {
                                continue;
                            }
                            let was = old.map_or("?".to_string(), |o| pretty(&key.1, &o));
                            view.note(out, format!("{}: {was} → {}", key.1, pretty(&key.1, &v)))
                                .map_err(io)?;
                        }
                    }
                    continue;
                }
                if sig.member != "PropertiesChanged" {
                    continue;
                }
                let iface = match sig.values.first() {
                    Some(Data::Str(i)) => i.clone(),
                    _ => continue,
                };
                let (changed, invalidated) = changes(&sig);
                let mut updates = changed;
                for p in invalidated {
                    let key = (iface.clone(), p.clone());
                    if view.order.contains(&key)
                        && let Ok(v) = get(bus, t, &iface, &p).await
                    {
                        updates.push((p, v));
                    }
                }
                for (p, v) in updates {
                    let key = (iface.clone(), p.clone());
                    if !view.order.contains(&key) || COUNTERS.contains(&p.as_str()) {
                        continue;
                    }
                    let old = view.values.insert(key, v.clone());
                    if old.as_ref() == Some(&v) {
                        continue;
                    }
                    let was = old.map_or("?".to_string(), |o| pretty(&p, &o));
                    view.note(out, format!("{p}: {was} → {}", pretty(&p, &v))).map_err(io)?;
                }
            }
            _ = tick.tick(), if tty => {
                for key in view.order.clone() {
                    if (COUNTERS.contains(&key.1.as_str()) || UNSIGNALLED.contains(&key.1.as_str()))
                        && let Ok(v) = get(bus, t, &key.0, &key.1).await
                    {
                        view.values.insert(key, v);
                    }
                }
                view.draw(out).map_err(io)?;
            }
        }
    }
}

/// `JobNew 125 restart` / `JobRemoved 125 done` for our unit's jobs.
async fn job_line(bus: &Bus, t: &Target, sig: &Signal) -> Option<String> {
    let unit = t.unit.as_deref()?;
    match (sig.member.as_str(), sig.values.as_slice()) {
        ("JobNew", [Data::U32(id), Data::Path(job), Data::Str(u)]) if u == unit => {
            let kind = bus
                .call(
                    systemd::SERVICE,
                    job,
                    Some(PROPERTIES),
                    "Get",
                    &[
                        Data::Str("org.freedesktop.systemd1.Job".into()),
                        Data::Str("JobType".into()),
                    ],
                )
                .await
                .ok()
                .and_then(|r| match r.values.into_iter().next() {
                    Some(Data::Variant(v)) => match *v {
                        Data::Str(s) => Some(s),
                        _ => None,
                    },
                    _ => None,
                });
            Some(match kind {
                Some(k) => format!("JobNew {id} {k}"),
                None => format!("JobNew {id}"),
            })
        }
        ("JobRemoved", [Data::U32(id), _, Data::Str(u), Data::Str(result)]) if u == unit => {
            Some(format!("JobRemoved {id} {result}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_for_people() {
        assert_eq!(pretty("ActiveState", &Data::Str("active".into())), "active");
        assert_eq!(
            pretty("MemoryCurrent", &Data::U64(10 * 1024 * 1024)),
            "10.0M"
        );
        assert_eq!(pretty("MemoryCurrent", &Data::U64(u64::MAX)), "[not set]");
        assert_eq!(pretty("CPUUsageNSec", &Data::U64(1_500_000_000)), "1.500s");
        assert_eq!(pretty("MainPID", &Data::U32(55)), "55");
        assert_eq!(pretty("WatchdogTimestamp", &Data::U64(0)), "n/a");
    }

    #[test]
    fn targets_are_units_or_objects() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let t = Target::from_words(&w(&["myfirstservice.service"])).unwrap();
        assert_eq!(
            t.path,
            "/org/freedesktop/systemd1/unit/myfirstservice_2eservice"
        );
        assert_eq!(t.unit.as_deref(), Some("myfirstservice.service"));
        let t = Target::from_words(&w(&[
            "org.freedesktop.systemd1",
            "/org/freedesktop/systemd1/unit/cron_2eservice",
        ]))
        .unwrap();
        assert_eq!(t.unit.as_deref(), Some("cron.service"));
        assert!(Target::from_words(&w(&["org.freedesktop.systemd1"])).is_err());
        assert!(Target::from_words(&w(&["a.b", "not/a/path"])).is_err());
    }
}

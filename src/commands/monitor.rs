//! `monitor` and `capture`: every message on the bus, live, until Ctrl-C (or `--timeout`,
//! `--limit-messages`, or the bus going away).
//!
//! Both run on a monitor connection of their own ([`crate::bus::monitor`]): rules go to the
//! daemon (`SERVICE` becomes `sender='SERVICE'` and `destination='SERVICE'`; each `--match`
//! rule is added to those, so a message must satisfy both — busctl would show either), and
//! each read's worth of messages is formatted into one buffer and written at once.
//! `monitor` writes busctl's dump ([`crate::busctl::dump`]), `--json` busctl's JSON, or with
//! `--short` one line per message; `--pair` and `--who` add what busctl cannot tell:
//! which call a reply answers and how long it took, and who a sender is. `capture` writes
//! pcapng ([`crate::busctl::pcap`]).
//!
//! Dropped messages: when every message is monitored, a gap in one sender's serial numbers
//! means the bus dropped messages for us; the count is reported when monitoring ends.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bus::connection::Bus;
use crate::bus::data::Data;
use crate::bus::monitor::{
    ERROR, Event, Header, Interrupt, METHOD_CALL, METHOD_RETURN, Message, MonitorConn, MonitorError,
};
use crate::bus::session::Session;
use crate::bus::sig::Sig;
use crate::busctl::{dump, json, pcap};
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::Invocation;

const DBUS: &str = "org.freedesktop.DBus";
/// How many unanswered calls `--pair` remembers.
const PAIR_MEMORY: usize = 65_536;

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Dump,
    Short,
    Json(json::Mode),
    Pcap { snaplen: u32 },
}

pub fn run_monitor(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let output =
        if let Some(mode) = json::Mode::from_flags(inv.value("json"), inv.has("j"), ctx.term.tty) {
            Output::Json(mode)
        } else if inv.has("short") {
            Output::Short
        } else {
            Output::Dump
        };
    run(ctx, inv, output)
}

pub fn run_capture(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    if ctx.term.tty {
        return Err(Error::new(
            "Refusing to write message data to console, please redirect output to a file \
             (capture ... > FILE).",
        ));
    }
    let snaplen = match inv.value("size") {
        None => pcap::DEFAULT_SNAPLEN,
        Some(s) => pcap::parse_size(s).map_err(Error::new)?,
    };
    run(ctx, inv, Output::Pcap { snaplen })
}

/// The daemon's rules for `services` and `matches` (see the module docs).
pub fn rules(services: &[String], matches: &[String]) -> Result<Vec<String>, String> {
    for s in services {
        if !crate::bus::names::is_bus_name(s) {
            return Err(format!("Invalid service name '{s}'"));
        }
    }
    if services.is_empty() {
        return Ok(matches.to_vec());
    }
    let mut out = Vec::new();
    for s in services {
        for key in ["sender", "destination"] {
            let own = format!("{key}='{s}'");
            if matches.is_empty() {
                out.push(own);
            } else {
                out.extend(matches.iter().map(|m| format!("{m},{own}")));
            }
        }
    }
    Ok(out)
}

fn now_usec() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn run(ctx: &mut Context<'_>, inv: &Invocation, output: Output) -> Result<Value, Error> {
    let matches: Vec<String> = inv.values("match").map(str::to_string).collect();
    let rules = rules(&inv.args, &matches).map_err(Error::new)?;
    let limit = match inv.value("limit-messages") {
        None => None,
        Some(n) => Some(
            n.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::new(format!("Failed to parse --limit-messages= '{n}'")))?,
        ),
    };
    let run_for = super::timeout(inv).map_err(Error::new)?;
    let s = ctx.session;
    let stop = Interrupt::new().map_err(|e| Error::new(format!("cannot watch for Ctrl-C: {e}")))?;
    let setup = run_for.unwrap_or(Duration::from_secs(25));
    let mut conn =
        MonitorConn::open(s.bus.target(), &rules, &stop, setup).map_err(|e| match e {
            MonitorError::Interrupted => Error::interrupted(),
            e => Error::new(e.to_string()),
        })?;
    eprintln!("Monitoring bus message stream.");
    let deadline = run_for.and_then(|d| Instant::now().checked_add(d));
    let mut state = State {
        output,
        color: ctx.term.color,
        ellipsize: ctx.term.ellipsize(),
        pair: inv.has("pair"),
        who: inv.has("who").then(|| Who::new(ctx.session)),
        sigs: HashMap::new(),
        last_sig: (String::from("\u{0}"), std::rc::Rc::new(Vec::new())),
        calls: HashMap::new(),
        call_order: VecDeque::new(),
        gaps: (inv.args.is_empty() && matches.is_empty()).then(HashMap::new),
        missing: 0,
        malformed: 0,
        text: String::new(),
        bytes: Vec::new(),
    };
    if let Output::Pcap { snaplen } = output {
        let app = format!("rustemd-shell {}", env!("CARGO_PKG_VERSION"));
        ctx.out.write_all(&pcap::header(
            snaplen,
            pcap::os_pretty_name().as_deref(),
            &app,
        ))?;
        ctx.out.flush()?;
    }
    let mut seen = 0u64;
    let end = 'outer: loop {
        match conn.wait(&stop, deadline) {
            Ok(Event::Data) => {}
            Ok(ev) => break ev,
            Err(e) => {
                state.flush(ctx)?;
                return Err(Error::new(format!("monitor: {e}")));
            }
        }
        loop {
            let msg = match conn.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    state.flush(ctx)?;
                    return Err(Error::new(format!(
                        "monitor: the bus sent something that is not D-Bus: {e}"
                    )));
                }
            };
            state.message(&msg);
            seen += 1;
            if limit.is_some_and(|l| seen >= l) {
                break 'outer Event::TimedOut;
            }
        }
        state.flush(ctx)?;
    };
    if end == Event::Closed {
        state.disconnected();
        state.flush(ctx)?;
        eprintln!("Connection terminated, exiting.");
    }
    state.flush(ctx)?;
    state.report();
    Ok(Value::None)
}

/// `--who`: who a sender is, asked once per sender on the session's own connection.
struct Who<'a> {
    session: &'a Session,
    /// PIDs mean something here only on this machine.
    local: bool,
    labels: HashMap<String, String>,
}

impl<'a> Who<'a> {
    fn new(session: &'a Session) -> Who<'a> {
        use crate::bus::connection::BusTarget;
        Who {
            session,
            local: !matches!(
                session.bus.target(),
                BusTarget::Machine(_) | BusTarget::Host(_)
            ),
            labels: HashMap::new(),
        }
    }

    /// `PID=… Comm=… Unit=…` for `sender` (empty when nothing is known).
    fn label(&mut self, sender: &str) -> &str {
        if !self.labels.contains_key(sender) {
            let s = self.session;
            // Bounded: a slow answer must not stall the monitor for long.
            let found = s
                .block_on_within(Duration::from_millis(500), async {
                    Ok(describe(&s.bus, sender, self.local).await)
                })
                .unwrap_or_default();
            self.labels.insert(sender.to_string(), found);
        }
        &self.labels[sender]
    }
}

async fn describe(bus: &Bus, name: &str, local: bool) -> String {
    let pid = match bus
        .call(
            DBUS,
            "/org/freedesktop/DBus",
            Some(DBUS),
            "GetConnectionUnixProcessID",
            &[Data::Str(name.to_string())],
        )
        .await
    {
        Ok(r) => match r.values.first() {
            Some(Data::U32(p)) if *p != 0 => *p,
            _ => return String::new(),
        },
        Err(_) => return String::new(),
    };
    let mut label = format!("PID={pid}");
    if local && let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        let _ = write!(label, "  Comm={}", comm.trim_end());
    }
    const SD: &str = "org.freedesktop.systemd1";
    let unit = bus
        .call(
            SD,
            "/org/freedesktop/systemd1",
            Some("org.freedesktop.systemd1.Manager"),
            "GetUnitByPID",
            &[Data::U32(pid)],
        )
        .await;
    if let Ok(r) = unit
        && let Some(Data::Path(p)) = r.values.first()
        && let Ok(r) = bus
            .call(
                SD,
                p,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &[
                    Data::Str("org.freedesktop.systemd1.Unit".into()),
                    Data::Str("Id".into()),
                ],
            )
            .await
        && let Some(Data::Variant(v)) = r.values.first()
        && let Data::Str(id) = &**v
    {
        let _ = write!(label, "  Unit={id}");
    }
    label
}

struct State<'a> {
    output: Output,
    color: bool,
    ellipsize: bool,
    pair: bool,
    who: Option<Who<'a>>,
    /// Parsed body signatures, by their text, and the last one used.
    sigs: HashMap<String, std::rc::Rc<Vec<Sig>>>,
    last_sig: (String, std::rc::Rc<Vec<Sig>>),
    /// `--pair`: unanswered calls by (caller, serial): when, and what.
    calls: HashMap<(String, u32), (u64, String)>,
    call_order: VecDeque<(String, u32)>,
    /// Last serial per sender, when every message is monitored (drop detection).
    gaps: Option<HashMap<String, u32>>,
    missing: u64,
    malformed: u64,
    text: String,
    bytes: Vec<u8>,
}

impl State<'_> {
    fn message(&mut self, msg: &Message<'_>) {
        let usec = now_usec();
        let h = &msg.header;
        self.track_serial(h);
        if let Output::Pcap { snaplen } = self.output {
            pcap::frame(&mut self.bytes, msg.bytes, usec, snaplen);
            return;
        }
        if self.last_sig.0 != h.signature {
            let parsed = match self.sigs.get(h.signature) {
                Some(p) => p.clone(),
                None => {
                    let p = std::rc::Rc::new(Sig::parse_list(h.signature).unwrap_or_default());
                    self.sigs.insert(h.signature.to_string(), p.clone());
                    p
                }
            };
            self.last_sig = (h.signature.to_string(), parsed);
        }
        let values = match msg.body(&self.last_sig.1) {
            Ok(v) => v,
            Err(_) => {
                self.malformed += 1;
                return;
            }
        };
        let paired = self.pair(h, usec);
        let who = match (self.who.as_mut(), h.sender) {
            (Some(w), Some(s)) if s != DBUS => Some(w.label(s).to_string()),
            _ => None,
        };
        match self.output {
            Output::Dump => {
                let mut extra = String::new();
                if let Some((what, took)) = &paired {
                    let _ = writeln!(extra, "  ReplyTo={what}  Latency={}", latency(*took));
                }
                if let Some(w) = who.as_deref().filter(|w| !w.is_empty()) {
                    let _ = writeln!(extra, "  {w}");
                }
                dump::message_with(&mut self.text, h, &values, usec, self.color, &extra);
            }
            Output::Short => self.short(h, &values, usec, paired, who.as_deref()),
            Output::Json(mode) => {
                let j = monitor_json(h, &values, usec);
                self.text.push_str(&json::dump(&j, mode, self.color));
            }
            Output::Pcap { .. } => {}
        }
    }

    /// `--pair`: remember calls; for a reply, what it answers and how long it took.
    fn pair(&mut self, h: &Header<'_>, usec: u64) -> Option<(String, u64)> {
        if !self.pair {
            return None;
        }
        match h.kind {
            METHOD_CALL if h.flags & 1 == 0 => {
                let key = (h.sender.unwrap_or("").to_string(), h.serial);
                let what = match h.interface {
                    Some(i) => format!("{i}.{}", h.member.unwrap_or("")),
                    None => h.member.unwrap_or("").to_string(),
                };
                if self.calls.insert(key.clone(), (usec, what)).is_none() {
                    self.call_order.push_back(key);
                }
                if self.call_order.len() > PAIR_MEMORY
                    && let Some(old) = self.call_order.pop_front()
                {
                    self.calls.remove(&old);
                }
                None
            }
            METHOD_RETURN | ERROR => {
                let key = (h.destination?.to_string(), h.reply_serial?);
                let (at, what) = self.calls.remove(&key)?;
                Some((what, usec.saturating_sub(at)))
            }
            _ => None,
        }
    }

    fn track_serial(&mut self, h: &Header<'_>) {
        let Some(last) = self.gaps.as_mut() else {
            return;
        };
        // The bus driver numbers its messages per recipient: only peers count.
        let Some(sender) = h.sender.filter(|s| s.starts_with(':')) else {
            return;
        };
        match last.get_mut(sender) {
            Some(prev) => {
                if h.serial > prev.saturating_add(1) {
                    self.missing += u64::from(h.serial - *prev - 1);
                }
                *prev = (*prev).max(h.serial);
            }
            None => {
                last.insert(sender.to_string(), h.serial);
            }
        }
    }

    fn short(
        &mut self,
        h: &Header<'_>,
        values: &[Data],
        usec: u64,
        paired: Option<(String, u64)>,
        who: Option<&str>,
    ) {
        let t = dump::timestamp_us_utc(usec);
        // `Wed 2026-11-25 20:35:57.936743 UTC` → the time of day.
        let time = t.split(' ').nth(2).unwrap_or(&t);
        let _ = write!(
            self.text,
            "{time} {} {}",
            dump::type_name(h.kind),
            h.sender.unwrap_or("-")
        );
        if let Some(w) = who.filter(|w| !w.is_empty()) {
            let _ = write!(self.text, " ({})", w.replace("  ", " "));
        }
        let _ = write!(self.text, " → {}", h.destination.unwrap_or("*"));
        if let Some(p) = h.path {
            let _ = write!(self.text, " {p}");
        }
        match (h.interface, h.member) {
            (Some(i), Some(m)) => {
                let _ = write!(self.text, " {i}.{m}");
            }
            (None, Some(m)) => {
                let _ = write!(self.text, " {m}");
            }
            _ => {}
        }
        if let Some(r) = h.reply_serial {
            let _ = write!(self.text, " #{r}");
        }
        if let Some(e) = h.error_name {
            let _ = write!(self.text, " {e}");
        }
        if !h.signature.is_empty() {
            let mut body = crate::busctl::format::format_values(values);
            if self.ellipsize {
                body = crate::busctl::introspect::ellipsize(&body, 160);
            }
            let _ = write!(self.text, " {} {body}", h.signature);
        }
        if let Some((what, took)) = paired {
            let _ = write!(self.text, " (reply to {what} after {})", latency(took));
        }
        self.text.push('\n');
    }

    /// The bus went away: sd-bus's synthetic `Disconnected` signal, as busctl prints it.
    fn disconnected(&mut self) {
        let usec = now_usec();
        let mono = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
            t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1000
        });
        match self.output {
            Output::Dump | Output::Short => {
                self.text
                    .push_str(&dump::disconnected(usec, mono, self.color));
            }
            Output::Json(mode) => {
                let local = "org.freedesktop.DBus.Local";
                let j = json::Json::Object(vec![
                    ("type".into(), json::Json::Str("signal".into())),
                    ("endian".into(), json::Json::Str("l".into())),
                    ("flags".into(), json::Json::Uint(1)),
                    ("version".into(), json::Json::Uint(1)),
                    ("cookie".into(), json::Json::Uint(u64::from(u32::MAX))),
                    ("timestamp-realtime".into(), json::Json::Uint(usec)),
                    ("sender".into(), json::Json::Str(local.into())),
                    (
                        "path".into(),
                        json::Json::Str("/org/freedesktop/DBus/Local".into()),
                    ),
                    ("interface".into(), json::Json::Str(local.into())),
                    ("member".into(), json::Json::Str("Disconnected".into())),
                    ("monotonic".into(), json::Json::Uint(mono)),
                    ("realtime".into(), json::Json::Uint(usec)),
                    (
                        "payload".into(),
                        json::Json::Object(vec![
                            ("type".into(), json::Json::Str(String::new())),
                            ("data".into(), json::Json::Array(vec![])),
                        ]),
                    ),
                ]);
                self.text.push_str(&json::dump(&j, mode, self.color));
            }
            Output::Pcap { .. } => {}
        }
    }

    fn flush(&mut self, ctx: &mut Context<'_>) -> Result<(), Error> {
        if !self.text.is_empty() {
            ctx.out.write_all(self.text.as_bytes())?;
            self.text.clear();
        }
        if !self.bytes.is_empty() {
            ctx.out.write_all(&self.bytes)?;
            self.bytes.clear();
        }
        ctx.out.flush()?;
        Ok(())
    }

    fn report(&self) {
        if self.missing > 0 {
            eprintln!(
                "monitor: {} messages were not seen (gaps in the senders' serial numbers): \
                 the bus dropped them while this monitor fell behind",
                self.missing
            );
        }
        if self.malformed > 0 {
            eprintln!(
                "monitor: {} messages with a malformed body were skipped",
                self.malformed
            );
        }
    }
}

/// `1.234ms`.
fn latency(usec: u64) -> String {
    format!("{}.{:03}ms", usec / 1000, usec % 1000)
}

/// busctl's `message_json()`.
fn monitor_json(h: &Header<'_>, values: &[Data], usec: u64) -> json::Json {
    use json::Json;
    let mut o = vec![
        (
            "type".to_string(),
            Json::Str(dump::type_name(h.kind).into()),
        ),
        ("endian".into(), Json::Str(char::from(h.endian).to_string())),
        ("flags".into(), Json::Uint(u64::from(h.flags))),
        ("version".into(), Json::Uint(u64::from(h.version))),
        ("cookie".into(), Json::Uint(u64::from(h.serial))),
    ];
    if let Some(r) = h.reply_serial.filter(|&r| r != 0) {
        o.push(("reply_cookie".into(), Json::Uint(u64::from(r))));
    }
    o.push(("timestamp-realtime".into(), Json::Uint(usec)));
    for (k, v) in [
        ("sender", h.sender),
        ("destination", h.destination),
        ("path", h.path),
        ("interface", h.interface),
        ("member", h.member),
        ("error_name", h.error_name),
    ] {
        if let Some(v) = v {
            o.push((k.into(), Json::Str(v.into())));
        }
    }
    let payload = json::message(values).unwrap_or(Json::Null);
    o.push(("payload".into(), payload));
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn services_and_matches_combine() {
        assert_eq!(rules(&[], &[]).unwrap(), Vec::<String>::new());
        assert_eq!(
            rules(&[], &w(&["type='signal'"])).unwrap(),
            w(&["type='signal'"])
        );
        assert_eq!(
            rules(&w(&["org.x.Y"]), &[]).unwrap(),
            w(&["sender='org.x.Y'", "destination='org.x.Y'"])
        );
        assert_eq!(
            rules(&w(&["org.x.Y"]), &w(&["member='Restart'"])).unwrap(),
            w(&[
                "member='Restart',sender='org.x.Y'",
                "member='Restart',destination='org.x.Y'"
            ])
        );
        assert_eq!(
            rules(&w(&["not a name"]), &[]).unwrap_err(),
            "Invalid service name 'not a name'"
        );
    }

    fn state() -> State<'static> {
        State {
            output: Output::Short,
            color: false,
            ellipsize: false,
            pair: true,
            who: None,
            sigs: HashMap::new(),
            last_sig: (String::from("\u{0}"), std::rc::Rc::new(Vec::new())),
            calls: HashMap::new(),
            call_order: VecDeque::new(),
            gaps: Some(HashMap::new()),
            missing: 0,
            malformed: 0,
            text: String::new(),
            bytes: Vec::new(),
        }
    }

    fn header(kind: u8, sender: &'static str, serial: u32) -> Header<'static> {
        Header {
            endian: b'l',
            kind,
            version: 1,
            serial,
            sender: Some(sender),
            ..Header::default()
        }
    }

    #[test]
    fn gaps_in_a_senders_serials_count_as_dropped() {
        let mut s = state();
        for serial in [5, 6, 7, 10, 11] {
            s.track_serial(&header(crate::bus::monitor::SIGNAL, ":1.7", serial));
        }
        // Another sender, and the bus driver (whose serials are per recipient), do not count.
        for serial in [1, 9, 30] {
            s.track_serial(&header(crate::bus::monitor::SIGNAL, DBUS, serial));
        }
        s.track_serial(&header(crate::bus::monitor::SIGNAL, ":1.8", 100));
        s.track_serial(&header(crate::bus::monitor::SIGNAL, ":1.8", 101));
        assert_eq!(s.missing, 2);
    }

    #[test]
    fn replies_are_paired_with_their_calls() {
        let mut s = state();
        let mut call = header(METHOD_CALL, ":1.5", 3);
        call.interface = Some("org.x.I");
        call.member = Some("M");
        assert_eq!(s.pair(&call, 1_000), None);
        let mut reply = header(METHOD_RETURN, ":1.9", 44);
        reply.destination = Some(":1.5");
        reply.reply_serial = Some(3);
        assert_eq!(
            s.pair(&reply, 2_500),
            Some(("org.x.I.M".to_string(), 1_500))
        );
        // Answered once only; a call that wants no reply is not remembered.
        assert_eq!(s.pair(&reply, 3_000), None);
        call.flags = 1;
        call.serial = 4;
        s.pair(&call, 4_000);
        reply.reply_serial = Some(4);
        assert_eq!(s.pair(&reply, 5_000), None);
    }

    #[test]
    fn latencies_in_milliseconds() {
        assert_eq!(latency(1234), "1.234ms");
        assert_eq!(latency(5), "0.005ms");
    }
}

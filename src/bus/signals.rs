//! Signals for whoever asked: match rules, and subscriptions fed by the connection's reader.
//!
//! Why here and not zbus's streams: the connection's one reader task already sees every
//! message (it routes replies by serial); handing it a list of subscribers costs nothing more,
//! and the values arrive decoded by our own codec ([`crate::bus::wire`]), exact like every
//! other value. Waiting for a job or a unit state (`run(..., wait=True)`, `wait`, `watch`)
//! is then driven by signals, never by polling.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use zbus::Message;

use crate::bus::data::Data;
use crate::bus::wire;

/// A D-Bus match rule for signals (the D-Bus specification's "Match Rules"); empty fields
/// match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchRule {
    pub sender: Option<String>,
    pub path: Option<String>,
    /// Matches the path and every path below it.
    pub path_namespace: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    /// The first argument, when it is a string (`PropertiesChanged`'s interface name).
    pub arg0: Option<String>,
}

impl fmt::Display for MatchRule {
    /// The rule as the bus daemon's AddMatch takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("type='signal'")?;
        let fields = [
            ("sender", &self.sender),
            ("path", &self.path),
            ("path_namespace", &self.path_namespace),
            ("interface", &self.interface),
            ("member", &self.member),
            ("arg0", &self.arg0),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                // Values are quoted; a quote inside is written '\'' as the spec says.
                write!(f, ",{k}='{}'", v.replace('\'', "'\\''"))?;
            }
        }
        Ok(())
    }
}

/// One signal as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub sender: String,
    pub path: String,
    pub interface: String,
    pub member: String,
    pub values: Vec<Data>,
}

impl MatchRule {
    /// Does `sig` match? `owner` is the unique name standing for a well-known `sender`.
    fn matches(&self, sig: &Signal, owner: Option<&str>) -> bool {
        let eq = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
        let sender_ok = match (&self.sender, owner) {
            (None, _) => true,
            (Some(s), _) if *s == sig.sender => true,
            (Some(_), Some(o)) => o == sig.sender,
            // A well-known name whose owner we could not learn: the daemon filtered for us.
            (Some(s), None) => !s.starts_with(':'),
        };
        let ns_ok = self.path_namespace.as_deref().is_none_or(|ns| {
            ns == "/"
                || sig.path == ns
                || sig
                    .path
                    .strip_prefix(ns)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        let arg0_ok = self
            .arg0
            .as_deref()
            .is_none_or(|a| matches!(sig.values.first(), Some(Data::Str(s)) if s == a));
        sender_ok
            && eq(&self.path, &sig.path)
            && ns_ok
            && eq(&self.interface, &sig.interface)
            && eq(&self.member, &sig.member)
            && arg0_ok
    }
}

struct Entry {
    id: u64,
    rule: MatchRule,
    owner: Option<String>,
    tx: mpsc::UnboundedSender<Signal>,
}

/// The subscribers of one connection, shared with its reader task.
#[derive(Clone, Default)]
pub(crate) struct Subscribers {
    entries: Arc<Mutex<Vec<Entry>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Subscribers {
    /// Register `rule`; `forget` runs (with the rule's text) when the subscription is dropped.
    pub(crate) fn add(
        &self,
        rule: MatchRule,
        owner: Option<String>,
        forget: impl FnOnce(String) + Send + 'static,
    ) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let text = rule.to_string();
        self.entries.lock().unwrap().push(Entry {
            id,
            rule,
            owner,
            tx,
        });
        Subscription {
            rx,
            id,
            subscribers: self.clone(),
            forget: Some((Box::new(forget), text)),
        }
    }

    /// Hand a signal to every subscriber whose rule matches it.
    pub(crate) fn dispatch(&self, msg: &Message) {
        let entries = self.entries.lock().unwrap();
        if entries.is_empty() {
            return;
        }
        let header = msg.header();
        let Ok((_, values)) = wire::decode_message(msg) else {
            return;
        };
        let sig = Signal {
            sender: header.sender().map(|s| s.to_string()).unwrap_or_default(),
            path: header.path().map(|p| p.to_string()).unwrap_or_default(),
            interface: header
                .interface()
                .map(|i| i.to_string())
                .unwrap_or_default(),
            member: header.member().map(|m| m.to_string()).unwrap_or_default(),
            values,
        };
        for e in entries.iter() {
            if e.rule.matches(&sig, e.owner.as_deref()) {
                let _ = e.tx.send(sig.clone());
            }
        }
    }

    /// The connection is gone: every subscription ends.
    pub(crate) fn clear(&self) {
        self.entries.lock().unwrap().clear();
    }

    fn remove(&self, id: u64) {
        self.entries.lock().unwrap().retain(|e| e.id != id);
    }
}

type Forget = Box<dyn FnOnce(String) + Send>;

/// Signals matching one rule, in the order they arrived. Dropping it removes the rule.
pub struct Subscription {
    rx: mpsc::UnboundedReceiver<Signal>,
    id: u64,
    subscribers: Subscribers,
    forget: Option<(Forget, String)>,
}

impl Subscription {
    /// The next signal; `None` when the connection closed.
    pub async fn next(&mut self) -> Option<Signal> {
        self.rx.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.subscribers.remove(self.id);
        if let Some((forget, text)) = self.forget.take() {
            forget(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(sender: &str, path: &str, member: &str, arg0: &str) -> Signal {
        Signal {
            sender: sender.into(),
            path: path.into(),
            interface: "org.freedesktop.DBus.Properties".into(),
            member: member.into(),
            values: vec![Data::Str(arg0.into())],
        }
    }

    #[test]
    fn rules_print_as_the_daemon_reads_them() {
        let r = MatchRule {
            sender: Some("org.freedesktop.systemd1".into()),
            member: Some("JobRemoved".into()),
            arg0: Some("it's".into()),
            ..MatchRule::default()
        };
        assert_eq!(
            r.to_string(),
            "type='signal',sender='org.freedesktop.systemd1',member='JobRemoved',arg0='it'\\''s'"
        );
    }

    #[test]
    fn matching_table() {
        let unit = "/org/freedesktop/systemd1/unit/x_2eservice";
        let rule = MatchRule {
            sender: Some("org.freedesktop.systemd1".into()),
            path_namespace: Some("/org/freedesktop/systemd1/unit".into()),
            member: Some("PropertiesChanged".into()),
            arg0: Some("org.freedesktop.systemd1.Unit".into()),
            ..MatchRule::default()
        };
        let owner = Some(":1.0");
        let iface = "org.freedesktop.systemd1.Unit";
        assert!(rule.matches(&sig(":1.0", unit, "PropertiesChanged", iface), owner));
        assert!(!rule.matches(&sig(":1.9", unit, "PropertiesChanged", iface), owner));
        assert!(!rule.matches(
            &sig(
                ":1.0",
                "/org/freedesktop/systemd1",
                "PropertiesChanged",
                iface
            ),
            owner
        ));
        assert!(!rule.matches(
            &sig(
                ":1.0",
                "/org/freedesktop/systemd1/unitx",
                "PropertiesChanged",
                iface
            ),
            owner
        ));
        assert!(!rule.matches(&sig(":1.0", unit, "Other", iface), owner));
        assert!(!rule.matches(&sig(":1.0", unit, "PropertiesChanged", "x"), owner));
        assert!(MatchRule::default().matches(&sig(":1.5", "/", "X", ""), None));
    }
}

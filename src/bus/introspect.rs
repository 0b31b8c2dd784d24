//! Owned, query-friendly introspection data for one object.
//!
//! Introspection XML is parsed once per (service, path) by [`crate::bus::cache`] and kept in
//! this shape: plain `String`s so completion and hints can borrow it cheaply, members in the
//! order the peer sent them, and busctl's flag rules already applied (a property emits change
//! unless annotated otherwise; see busctl-introspect.c).

use crate::bus::names;

/// Flags as busctl shows them in the FLAGS column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub deprecated: bool,
    pub no_reply: bool,
    pub constant: bool,
    pub emits_change: bool,
    pub emits_invalidation: bool,
}

impl Flags {
    fn is_empty(&self) -> bool {
        *self == Flags::default()
    }

    /// busctl's FLAGS text, e.g. " const", " emits-change writable", or " -".
    pub fn busctl_text(&self, writable: bool) -> String {
        let mut s = String::new();
        if self.deprecated {
            s.push_str(" deprecated");
        } else if self.is_empty() && !writable {
            s.push_str(" -");
        }
        if self.no_reply {
            s.push_str(" no-reply");
        }
        if self.constant {
            s.push_str(" const");
        }
        if self.emits_change {
            s.push_str(" emits-change");
        }
        if self.emits_invalidation {
            s.push_str(" emits-invalidation");
        }
        if writable {
            s.push_str(" writable");
        }
        s
    }

    fn apply(&mut self, name: &str, value: &str) {
        match name {
            "org.freedesktop.DBus.Deprecated" if value == "true" => self.deprecated = true,
            "org.freedesktop.DBus.Method.NoReply" if value == "true" => self.no_reply = true,
            "org.freedesktop.DBus.Property.EmitsChangedSignal" => match value {
                "const" => {
                    self.constant = true;
                    self.emits_change = false;
                    self.emits_invalidation = false;
                }
                "invalidates" => {
                    self.constant = false;
                    self.emits_change = false;
                    self.emits_invalidation = true;
                }
                "false" => {
                    self.constant = false;
                    self.emits_change = false;
                    self.emits_invalidation = false;
                }
                _ => {}
            },
            _ => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub sig: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub name: String,
    pub inputs: Vec<Arg>,
    pub outputs: Vec<Arg>,
    pub flags: Flags,
}

impl Method {
    pub fn in_sig(&self) -> String {
        self.inputs.iter().map(|a| a.sig.as_str()).collect()
    }
    pub fn out_sig(&self) -> String {
        self.outputs.iter().map(|a| a.sig.as_str()).collect()
    }
    /// `GetUnit(s name) → o`: for hints and help.
    pub fn describe(&self) -> String {
        let args: Vec<String> = self
            .inputs
            .iter()
            .map(|a| match &a.name {
                Some(n) => format!("{} {n}", a.sig),
                None => a.sig.clone(),
            })
            .collect();
        let out = self.out_sig();
        format!(
            "({}) → {}",
            args.join(", "),
            if out.is_empty() { "-" } else { &out }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub name: String,
    pub args: Vec<Arg>,
    pub flags: Flags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    pub name: String,
    pub sig: String,
    pub readable: bool,
    pub writable: bool,
    pub flags: Flags,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Interface {
    pub name: String,
    pub methods: Vec<Method>,
    pub signals: Vec<Signal>,
    pub properties: Vec<Property>,
    pub flags: Flags,
}

impl Interface {
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
    pub fn signal(&self, name: &str) -> Option<&Signal> {
        self.signals.iter().find(|p| p.name == name)
    }
    /// The last dotted component: `Unit` for `org.freedesktop.systemd1.Unit`.
    pub fn short_name(&self) -> &str {
        short_name(&self.name)
    }
    /// Every member name: methods, properties, signals.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        self.methods
            .iter()
            .map(|m| m.name.as_str())
            .chain(self.properties.iter().map(|p| p.name.as_str()))
            .chain(self.signals.iter().map(|s| s.name.as_str()))
    }
}

pub fn short_name(iface: &str) -> &str {
    iface.rsplit('.').next().unwrap_or(iface)
}

/// One introspected object: its interfaces and the names of its direct children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub interfaces: Vec<Interface>,
    pub children: Vec<String>,
}

impl Node {
    /// Parse introspection XML. Errors say what is wrong with the peer's XML.
    pub fn parse(xml: &str) -> Result<Node, String> {
        let node = zbus_xml::Node::try_from(xml)
            .map_err(|e| format!("the peer sent malformed introspection data ({e})"))?;
        let mut out = Node::default();
        for child in node.nodes() {
            if let Some(name) = child.name() {
                // Children are relative names; ignore anything that would not make a path.
                let name = name.trim_start_matches('/');
                if !name.is_empty() && names::is_object_path(&format!("/{name}")) {
                    out.children.push(name.to_string());
                }
            }
        }
        for iface in node.interfaces() {
            let mut flags = Flags::default();
            for a in iface.annotations() {
                flags.apply(a.name(), a.value());
            }
            let mut i = Interface {
                name: iface.name().to_string(),
                methods: Vec::new(),
                signals: Vec::new(),
                properties: Vec::new(),
                flags,
            };
            for m in iface.methods() {
                let mut flags = Flags::default();
                for a in m.annotations() {
                    flags.apply(a.name(), a.value());
                }
                let mut inputs = Vec::new();
                let mut outputs = Vec::new();
                for a in m.args() {
                    let arg = Arg {
                        name: a.name().map(str::to_string),
                        sig: a.ty().to_string(),
                    };
                    match a.direction() {
                        Some(zbus_xml::ArgDirection::Out) => outputs.push(arg),
                        _ => inputs.push(arg),
                    }
                }
                i.methods.push(Method {
                    name: m.name().to_string(),
                    inputs,
                    outputs,
                    flags,
                });
            }
            for s in iface.signals() {
                let mut flags = Flags::default();
                for a in s.annotations() {
                    flags.apply(a.name(), a.value());
                }
                i.signals.push(Signal {
                    name: s.name().to_string(),
                    args: s
                        .args()
                        .iter()
                        .map(|a| Arg {
                            name: a.name().map(str::to_string),
                            sig: a.ty().to_string(),
                        })
                        .collect(),
                    flags,
                });
            }
            for p in iface.properties() {
                let mut flags = Flags {
                    emits_change: true,
                    ..Flags::default()
                };
                for a in p.annotations() {
                    flags.apply(a.name(), a.value());
                }
                i.properties.push(Property {
                    name: p.name().to_string(),
                    sig: p.ty().to_string(),
                    readable: p.access().read(),
                    writable: p.access().write(),
                    flags,
                });
            }
            out.interfaces.push(i);
        }
        Ok(out)
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// Resolve an interface by full name or by its short name (`Service`, `Unit`, `Properties`).
    /// A short name shared by several interfaces prefers the one outside org.freedesktop.DBus.
    pub fn interface_by_short(&self, name: &str) -> Option<&Interface> {
        if let Some(i) = self.interface(name) {
            return Some(i);
        }
        let mut found = self.interfaces.iter().filter(|i| i.short_name() == name);
        let first = found.next()?;
        if first.name.starts_with("org.freedesktop.DBus.") {
            Some(found.next().unwrap_or(first))
        } else {
            Some(first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get"><arg name="interface" direction="in" type="s"/><arg name="property" direction="in" type="s"/><arg name="value" direction="out" type="v"/></method>
 </interface>
 <interface name="org.freedesktop.systemd1.Service">
  <property name="MainPID" type="u" access="read"></property>
  <property name="Type" type="s" access="read"><annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/></property>
  <property name="Nice" type="i" access="readwrite"><annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/></property>
  <method name="AttachProcesses"><arg type="s" direction="in"/><arg type="au" direction="in"/></method>
  <signal name="Changed"><arg type="s"/></signal>
 </interface>
 <node name="job"/>
 <node name="unit"/>
</node>"#;

    #[test]
    fn parses_members_children_and_flags() {
        let n = Node::parse(XML).unwrap();
        assert_eq!(n.children, vec!["job", "unit"]);
        let s = n.interface_by_short("Service").unwrap();
        assert_eq!(s.name, "org.freedesktop.systemd1.Service");
        let main = s.property("MainPID").unwrap();
        assert_eq!(main.flags.busctl_text(main.writable), " emits-change");
        let ty = s.property("Type").unwrap();
        assert_eq!(ty.flags.busctl_text(ty.writable), " const");
        let nice = s.property("Nice").unwrap();
        assert_eq!(nice.flags.busctl_text(nice.writable), " writable");
        let m = s.method("AttachProcesses").unwrap();
        assert_eq!(m.in_sig(), "sau");
        assert_eq!(m.flags.busctl_text(false), " -");
        assert_eq!(
            n.interface_by_short("Properties")
                .unwrap()
                .method("Get")
                .unwrap()
                .out_sig(),
            "v"
        );
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<node>",
            "<node><interface name=",
            "not xml",
            "<node><interface name=\"a.b\"><method/></interface></node>",
        ] {
            let _ = Node::parse(bad);
        }
        assert!(Node::parse("<node><interface name=").is_err());
    }
}

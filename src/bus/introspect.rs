//! Owned, query-friendly introspection data for one object.
//!
//! Introspection XML is parsed once per (service, path) by [`crate::bus::cache`] and kept in
//! this shape: plain `String`s so completion and hints can borrow it cheaply, members in the
//! order the peer sent them, and busctl's flag rules already applied (a property emits change
//! unless annotated otherwise; see busctl-introspect.c).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

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

/// A type signature as introspection gives it, shared by every member of one object that has
/// the same (most properties are `s`, `t`, `b`, `u` or `as`: one allocation each, not one per
/// member).
pub type SigText = Arc<str>;

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub sig: SigText,
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
        self.inputs.iter().map(|a| &*a.sig).collect()
    }
    pub fn out_sig(&self) -> String {
        self.outputs.iter().map(|a| &*a.sig).collect()
    }
    /// `GetUnit(s name) → o`: for hints and help.
    pub fn describe(&self) -> String {
        let args: Vec<String> = self
            .inputs
            .iter()
            .map(|a| match &a.name {
                Some(n) => format!("{} {n}", a.sig),
                None => a.sig.to_string(),
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
    pub sig: SigText,
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
///
/// Interfaces are shared (`Arc`): objects of one kind declare the same ones (every service
/// unit of systemd the same five), and the cache keeps one copy of each
/// ([`crate::bus::cache`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub interfaces: Vec<Arc<Interface>>,
    pub children: Vec<String>,
    /// What was left out and why, one sentence each (`org.x.Y.Member: invalid type 'zz'`).
    pub skipped: Vec<String>,
}

/// What an open element is, for the parser's stack.
enum Open {
    Root,
    Interface(Option<Interface>),
    Member(Member),
    Other,
}

/// A method, signal or property being read, and what is wrong with it, if anything.
struct Member {
    kind: MemberKind,
    bad: Option<String>,
}

enum MemberKind {
    Method(Method),
    Signal(Signal),
    Property(Property),
}

/// A complete single type, as an argument or a property must have, shared through `seen`
/// (keyed by the document's own text: looking a type up allocates nothing).
fn check_type<'a>(
    ty: Option<Cow<'a, str>>,
    seen: &mut HashMap<Cow<'a, str>, SigText>,
) -> Result<SigText, String> {
    let ty = ty.ok_or("no type")?;
    if let Some(s) = seen.get(&*ty) {
        return Ok(s.clone());
    }
    crate::bus::sig::Sig::parse(&ty).map_err(|_| format!("invalid type '{ty}'"))?;
    let s: SigText = Arc::from(&*ty);
    seen.insert(ty, s.clone());
    Ok(s)
}

fn parse(xml: &str) -> Result<Node, String> {
    use crate::bus::xml::{Event, Tokenizer};
    let mut out = Node::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut sigs: HashMap<Cow<str>, SigText> = HashMap::new();
    for ev in Tokenizer::new(xml) {
        match ev? {
            Event::Start { name, attrs, empty } => {
                // Borrowed from the document unless it had entities to decode; only what is
                // kept is copied.
                let attr = |k: &str| attrs.get(k);
                let open = match (stack.last_mut(), name) {
                    (None, "node") => Open::Root,
                    (None, other) => {
                        return Err(format!("the root element is <{other}>, not <node>"));
                    }
                    (Some(Open::Root), "node") => {
                        // Children are relative names; ignore anything that would not make a path.
                        if let Some(n) = attr("name") {
                            let n = n.trim_start_matches('/');
                            if !n.is_empty() && names::is_object_path(&format!("/{n}")) {
                                out.children.push(n.to_string());
                            }
                        }
                        Open::Other
                    }
                    (Some(Open::Root), "interface") => {
                        let n = attr("name").unwrap_or_default();
                        if names::is_interface_name(&n) {
                            Open::Interface(Some(Interface {
                                name: n.into_owned(),
                                methods: Vec::new(),
                                signals: Vec::new(),
                                properties: Vec::new(),
                                flags: Flags::default(),
                            }))
                        } else {
                            out.skipped
                                .push(format!("interface '{n}': invalid interface name"));
                            Open::Interface(None)
                        }
                    }
                    (Some(Open::Interface(Some(i))), "annotation") => {
                        if let (Some(k), Some(v)) = (attr("name"), attr("value")) {
                            i.flags.apply(&k, &v);
                        }
                        Open::Other
                    }
                    (Some(Open::Interface(Some(_))), kind @ ("method" | "signal" | "property")) => {
                        let n = attr("name").unwrap_or_default().into_owned();
                        let mut bad =
                            (!names::is_member_name(&n)).then(|| "invalid member name".to_string());
                        let kind = match kind {
                            "method" => MemberKind::Method(Method {
                                name: n,
                                inputs: Vec::new(),
                                outputs: Vec::new(),
                                flags: Flags::default(),
                            }),
                            "signal" => MemberKind::Signal(Signal {
                                name: n,
                                args: Vec::new(),
                                flags: Flags::default(),
                            }),
                            _ => {
                                let sig = check_type(attr("type"), &mut sigs);
                                let access = attr("access");
                                let (readable, writable) = match access.as_deref() {
                                    Some("read") => (true, false),
                                    Some("write") => (false, true),
                                    Some("readwrite") => (true, true),
                                    other => {
                                        bad.get_or_insert(format!(
                                            "invalid access '{}'",
                                            other.unwrap_or("")
                                        ));
                                        (false, false)
                                    }
                                };
                                if let Err(e) = &sig {
                                    bad.get_or_insert(e.clone());
                                }
                                MemberKind::Property(Property {
                                    name: n,
                                    sig: sig.unwrap_or_else(|_| Arc::from("")),
                                    readable,
                                    writable,
                                    flags: Flags {
                                        emits_change: true,
                                        ..Flags::default()
                                    },
                                })
                            }
                        };
                        Open::Member(Member { kind, bad })
                    }
                    (Some(Open::Member(m)), "arg") => {
                        let arg = check_type(attr("type"), &mut sigs).map(|sig| Arg {
                            name: attr("name").map(Cow::into_owned),
                            sig,
                        });
                        match (arg, &mut m.kind) {
                            (Err(e), MemberKind::Method(x)) => {
                                let n = x.inputs.len() + x.outputs.len() + 1;
                                m.bad.get_or_insert(format!("{e} (argument {n})"));
                            }
                            (Err(e), MemberKind::Signal(x)) => {
                                let n = x.args.len() + 1;
                                m.bad.get_or_insert(format!("{e} (argument {n})"));
                            }
                            (Ok(a), MemberKind::Method(x)) => {
                                if attr("direction").as_deref() == Some("out") {
                                    x.outputs.push(a)
                                } else {
                                    x.inputs.push(a)
                                }
                            }
                            (Ok(a), MemberKind::Signal(x)) => x.args.push(a),
                            (_, MemberKind::Property(_)) => {}
                        }
                        Open::Other
                    }
                    (Some(Open::Member(m)), "annotation") => {
                        if let (Some(k), Some(v)) = (attr("name"), attr("value")) {
                            let flags = match &mut m.kind {
                                MemberKind::Method(x) => &mut x.flags,
                                MemberKind::Signal(x) => &mut x.flags,
                                MemberKind::Property(x) => &mut x.flags,
                            };
                            flags.apply(&k, &v);
                        }
                        Open::Other
                    }
                    _ => Open::Other,
                };
                stack.push(open);
                if empty {
                    close(&mut stack, &mut out);
                }
            }
            Event::End { .. } => close(&mut stack, &mut out),
        }
    }
    out.interfaces.shrink_to_fit();
    out.children.shrink_to_fit();
    Ok(out)
}

/// The element on top of `stack` ends: file it where it belongs.
fn close(stack: &mut Vec<Open>, out: &mut Node) {
    match stack.pop() {
        Some(Open::Interface(Some(mut i))) => {
            // Kept for the session: no spare capacity.
            i.methods.shrink_to_fit();
            i.signals.shrink_to_fit();
            i.properties.shrink_to_fit();
            out.interfaces.push(Arc::new(i));
        }
        Some(Open::Member(m)) => {
            let Some(Open::Interface(Some(iface))) = stack.last_mut() else {
                return;
            };
            let name = match &m.kind {
                MemberKind::Method(x) => &x.name,
                MemberKind::Signal(x) => &x.name,
                MemberKind::Property(x) => &x.name,
            };
            if let Some(why) = m.bad {
                out.skipped.push(format!("{}.{name}: {why}", iface.name));
                return;
            }
            match m.kind {
                MemberKind::Method(mut x) => {
                    x.inputs.shrink_to_fit();
                    x.outputs.shrink_to_fit();
                    iface.methods.push(x)
                }
                MemberKind::Signal(mut x) => {
                    x.args.shrink_to_fit();
                    iface.signals.push(x)
                }
                MemberKind::Property(x) => iface.properties.push(x),
            }
        }
        _ => {}
    }
}

impl Node {
    /// Parse introspection XML. Errors say what is wrong with the peer's XML; a member the
    /// peer described wrongly (an invalid type or name) is left out and named in
    /// [`Node::skipped`], so the rest of the object stays usable.
    pub fn parse(xml: &str) -> Result<Node, String> {
        parse(xml).map_err(|e| format!("the peer sent malformed introspection data ({e})"))
    }

    /// The memory this node holds, in bytes (what the cache's bound counts): the node itself
    /// and every heap block of its `String`s and `Vec`s, as glibc's malloc sizes them (a
    /// block is its bytes plus an 8-byte header, rounded up to 16, at least 32). Interfaces
    /// shared with other nodes are counted in full: the bound may overestimate, never
    /// underestimate.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        fn block(bytes: usize) -> usize {
            if bytes == 0 {
                0
            } else {
                (bytes + 8).next_multiple_of(16).max(32)
            }
        }
        fn string(s: &String) -> usize {
            block(s.capacity())
        }
        fn vec<T>(v: &Vec<T>) -> usize {
            block(v.capacity() * size_of::<T>())
        }
        // A shared signature is counted once (its block holds two counters and the text).
        let mut shared = std::collections::HashSet::new();
        let mut sig = |s: &SigText| {
            if shared.insert(Arc::as_ptr(s) as *const u8) {
                block(16 + s.len())
            } else {
                0
            }
        };
        fn args(a: &Vec<Arg>, sig: &mut impl FnMut(&SigText) -> usize) -> usize {
            vec(a)
                + a.iter()
                    .map(|a| a.name.as_ref().map_or(0, string) + sig(&a.sig))
                    .sum::<usize>()
        }
        let mut n = size_of::<Node>()
            + vec(&self.interfaces)
            + vec(&self.children)
            + self.children.iter().map(string).sum::<usize>()
            + vec(&self.skipped)
            + self.skipped.iter().map(string).sum::<usize>();
        for i in &self.interfaces {
            n += block(2 * size_of::<usize>() + size_of::<Interface>());
            n += string(&i.name) + vec(&i.methods) + vec(&i.signals) + vec(&i.properties);
            for m in &i.methods {
                n += string(&m.name) + args(&m.inputs, &mut sig) + args(&m.outputs, &mut sig);
            }
            for s in &i.signals {
                n += string(&s.name) + args(&s.args, &mut sig);
            }
            for p in &i.properties {
                n += string(&p.name) + sig(&p.sig);
            }
        }
        n
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|i| i.name == name)
            .map(|i| &**i)
    }

    /// Resolve an interface by full name or by its short name (`Service`, `Unit`, `Properties`).
    /// A short name shared by several interfaces prefers the one outside org.freedesktop.DBus.
    pub fn interface_by_short(&self, name: &str) -> Option<&Interface> {
        if let Some(i) = self.interface(name) {
            return Some(i);
        }
        let mut found = self
            .interfaces
            .iter()
            .map(|i| &**i)
            .filter(|i| i.short_name() == name);
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
    fn one_invalid_type_skips_that_member_only() {
        // Regression (issue 12, item 16): one bad type made the whole object unusable.
        let xml = r#"<node><interface name="a.B">
          <method name="Good"><arg type="s"/><arg type="u" direction="out"/></method>
          <method name="BadArg"><arg type="s"/><arg type="zz"/></method>
          <property name="BadProp" type="a" access="read"/>
          <property name="BadAccess" type="s" access="sometimes"/>
          <signal name="BadSig"><arg type="(s"/></signal>
          <method name="9bad"/>
          <property name="Fine" type="a{sv}" access="readwrite"/>
        </interface><interface name="not an interface"><method name="X"/></interface>
        <node name="child"/></node>"#;
        let n = Node::parse(xml).unwrap();
        let i = n.interface("a.B").unwrap();
        assert_eq!(i.methods.len(), 1);
        assert_eq!(i.method("Good").unwrap().out_sig(), "u");
        assert_eq!(i.properties.len(), 1);
        assert!(i.property("Fine").unwrap().writable);
        assert!(i.signals.is_empty());
        assert_eq!(n.interfaces.len(), 1);
        assert_eq!(n.children, ["child"]);
        assert_eq!(
            n.skipped,
            [
                "a.B.BadArg: invalid type 'zz' (argument 2)",
                "a.B.BadProp: invalid type 'a'",
                "a.B.BadAccess: invalid access 'sometimes'",
                "a.B.BadSig: invalid type '(s' (argument 1)",
                "a.B.9bad: invalid member name",
                "interface 'not an interface': invalid interface name",
            ]
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

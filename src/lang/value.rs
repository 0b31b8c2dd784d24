//! Shell values.
//!
//! A value read from the bus keeps its exact D-Bus type (integer width, object path vs string,
//! signature, bytes), so printing it, storing it in a variable and sending it back produces
//! the same wire data. Plain literals typed at the prompt (`5`, `'x'`) carry no D-Bus type;
//! they take one from the introspected signature they are sent to.

use std::fmt::Write as _;
use std::rc::Rc;

use crate::bus::connection::BusTarget;
use crate::bus::names;
use crate::lang::builtins::Builtin;
use crate::lang::error::Error;

/// The D-Bus width of an integer, or `Plain` for a literal typed in the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    Plain,
    Byte,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Fd,
}

impl IntKind {
    /// The values this width holds (a plain literal: anything D-Bus can carry).
    pub fn range(self) -> (i128, i128) {
        match self {
            IntKind::Byte => (0, u8::MAX as i128),
            IntKind::I16 => (i16::MIN as i128, i16::MAX as i128),
            IntKind::U16 => (0, u16::MAX as i128),
            IntKind::I32 | IntKind::Fd => (i32::MIN as i128, i32::MAX as i128),
            IntKind::U32 => (0, u32::MAX as i128),
            IntKind::I64 => (i64::MIN as i128, i64::MAX as i128),
            IntKind::U64 => (0, u64::MAX as i128),
            IntKind::Plain => (i64::MIN as i128, u64::MAX as i128),
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            IntKind::Plain => "int",
            IntKind::Byte => "byte",
            IntKind::I16 => "int16",
            IntKind::U16 => "uint16",
            IntKind::I32 => "int32",
            IntKind::U32 => "uint32",
            IntKind::I64 => "int64",
            IntKind::U64 => "uint64",
            IntKind::Fd => "fd",
        }
    }
}

/// A D-Bus object: a service name and an object path. Introspection is fetched lazily.
#[derive(Debug, PartialEq)]
pub struct ObjectRef {
    pub service: String,
    pub path: String,
    /// How it was made, for printing: "object", "unit NAME", "manager".
    pub label: String,
    /// Another machine's bus (`machine=`, `host=`); `None` is the session's.
    pub target: Option<BusTarget>,
}

/// One interface of an object (`o.Service`).
#[derive(Debug, PartialEq)]
pub struct InterfaceRef {
    pub object: Rc<ObjectRef>,
    pub name: String,
}

/// A method of an interface, ready to be called (`o.Unit.Restart`).
#[derive(Debug, PartialEq)]
pub struct MethodRef {
    pub interface: Rc<InterfaceRef>,
    pub name: String,
}

/// A new object value (introspected lazily, on first use), after checking its names; on
/// `target`'s bus, or the session's.
pub fn object_value(
    service: &str,
    path: &str,
    label: &str,
    target: Option<BusTarget>,
) -> Result<Value, Error> {
    names::check_bus_name(service).map_err(Error::new)?;
    names::check_object_path(path).map_err(Error::new)?;
    Ok(Value::Object(Rc::new(ObjectRef {
        service: service.to_string(),
        path: path.to_string(),
        label: label.to_string(),
        target,
    })))
}

#[derive(Clone, Debug)]
pub enum Value {
    None,
    Bool(bool),
    Int(i128, IntKind),
    Float(f64),
    Str(String),
    Path(String),
    Signature(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Object(Rc<ObjectRef>),
    Interface(Rc<InterfaceRef>),
    Method(Rc<MethodRef>),
    Builtin(&'static Builtin),
    /// A method of a shell value (`o.load`, `d.keys`): receiver and method name.
    Bound(Box<Value>, &'static str),
    /// A namespace such as `pystemd.systemd1` or `os`.
    Module(&'static str),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a, _), Int(b, _)) => a == b,
            (Int(a, _), Float(b)) | (Float(b), Int(a, _)) => (*a as f64) == *b,
            (Bool(a), Int(b, _)) | (Int(b, _), Bool(a)) => (*a as i128) == *b,
            (Float(a), Float(b)) => a == b,
            (Str(a) | Path(a) | Signature(a), Str(b) | Path(b) | Signature(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Bytes(a), Str(b)) | (Str(b), Bytes(a)) => a.as_slice() == b.as_bytes(),
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            (Interface(a), Interface(b)) => a == b,
            (Method(a), Method(b)) => a == b,
            (Builtin(a), Builtin(b)) => std::ptr::eq(*a, *b),
            (Module(a), Module(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn int(v: i128) -> Value {
        Value::Int(v, IntKind::Plain)
    }

    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// The name `type(x)` prints.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_, k) => k.type_name(),
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Path(_) => "ObjectPath",
            Value::Signature(_) => "Signature",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Object(_) => "object",
            Value::Interface(_) => "interface",
            Value::Method(_) => "method",
            Value::Builtin(_) => "builtin",
            Value::Bound(..) => "method",
            Value::Module(_) => "module",
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) | Value::Path(s) | Value::Signature(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(v) | Value::Tuple(v) => !v.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            _ => true,
        }
    }

    /// Text of a string-like value (str, path, signature, bytes as UTF-8).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Signature(s) => Some(s.clone()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => Option::None,
        }
    }

    /// What `print(x)` shows: strings bare, everything else as its repr.
    pub fn to_display(&self) -> String {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Signature(s) => s.clone(),
            _ => self.repr(),
        }
    }

    /// A one-line, Python-like representation that can usually be pasted back.
    pub fn repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s);
        s
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i, _) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::Path(p) => {
                let _ = write!(out, "ObjectPath({})", str_repr(p));
            }
            Value::Signature(p) => {
                let _ = write!(out, "Signature({})", str_repr(p));
            }
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::List(items) => {
                out.push('[');
                write_items(out, items);
                out.push(']');
            }
            Value::Tuple(items) => {
                out.push('(');
                write_items(out, items);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::Dict(entries) => {
                out.push('{');
                for (n, (k, v)) in entries.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
            Value::Object(o) => {
                let _ = write!(out, "<{} {} at {}", o.label, o.service, o.path);
                match &o.target {
                    Some(BusTarget::Machine(m)) => {
                        let _ = write!(out, " on machine {m}");
                    }
                    Some(BusTarget::Host(h)) => {
                        let _ = write!(out, " on host {h}");
                    }
                    _ => {}
                }
                out.push('>');
            }
            Value::Interface(i) => {
                let _ = write!(out, "<{} of {}>", i.name, i.object.path);
            }
            Value::Method(m) => {
                let _ = write!(
                    out,
                    "<method {}.{} of {}>",
                    m.interface.name, m.name, m.interface.object.path
                );
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<builtin {}>", b.name);
            }
            Value::Bound(recv, name) => {
                let _ = write!(out, "<method {name} of {}>", recv.type_name());
            }
            Value::Module(m) => {
                let _ = write!(out, "<module '{m}'>");
            }
        }
    }

    /// Like [`Value::repr`], but a long list, tuple or dict is split one item per line.
    pub fn pretty(&self, width: usize) -> String {
        let flat = self.repr();
        if flat.chars().count() <= width {
            return flat;
        }
        let (open, close, items): (&str, &str, Vec<String>) = match self {
            Value::List(v) => (
                "[",
                "]",
                v.iter()
                    .map(|x| x.pretty(width.saturating_sub(1)))
                    .collect(),
            ),
            Value::Tuple(v) => (
                "(",
                ")",
                v.iter()
                    .map(|x| x.pretty(width.saturating_sub(1)))
                    .collect(),
            ),
            Value::Dict(d) => (
                "{",
                "}",
                d.iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.pretty(width.saturating_sub(1))))
                    .collect(),
            ),
            _ => return flat,
        };
        let mut out = String::from(open);
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                out.push_str(",\n ");
            }
            out.push_str(&item.replace('\n', "\n "));
        }
        out.push_str(close);
        out
    }
}

fn write_items(out: &mut String, items: &[Value]) {
    for (n, v) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        v.write_repr(out);
    }
}

pub fn float_repr(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Python's repr of a str: single quotes unless the text contains one and no double quote.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub fn bytes_repr(b: &[u8]) -> String {
    let mut out = String::from("b'");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_table() {
        let rows: Vec<(Value, &str)> = vec![
            (Value::None, "None"),
            (Value::Bool(true), "True"),
            (Value::Int(17822, IntKind::U32), "17822"),
            (Value::Float(0.1), "0.1"),
            (Value::Float(2.0), "2.0"),
            (Value::str("active"), "'active'"),
            (Value::str("it's"), "\"it's\""),
            (Value::str("a\nb"), "'a\\nb'"),
            (Value::Path("/org/x".into()), "ObjectPath('/org/x')"),
            (Value::Bytes(b"ab\x00".to_vec()), "b'ab\\x00'"),
            (Value::Tuple(vec![Value::int(1)]), "(1,)"),
            (
                Value::Dict(vec![(Value::str("a"), Value::List(vec![]))]),
                "{'a': []}",
            ),
        ];
        for (v, want) in rows {
            assert_eq!(v.repr(), want);
        }
    }

    #[test]
    fn pretty_splits_long_lists() {
        let v = Value::List((0..30).map(|i| Value::str(format!("item{i}"))).collect());
        let p = v.pretty(40);
        assert!(p.starts_with("['item0',\n 'item1',"));
        assert!(p.ends_with("'item29']"));
    }
}

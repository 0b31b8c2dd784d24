//! Values sent to a worker process and back (`pystemd.futures`): a compact tagged binary
//! encoding that keeps what a value is — D-Bus integer widths (`uint64` stays `uint64`),
//! bytes vs text, tuples vs lists, exceptions with their class — so a result comes back to
//! the shell exactly as the worker made it.
//!
//! Functions travel as their source text (the `def` or `lambda` they were made by, dedented),
//! with the file and line they came from so errors in the worker point at the shell's text;
//! the worker makes them again. Functions that ship with the shell (the prelude: `cpu_waste`,
//! `future_cpucap_pool.run`) travel by name, as the worker has them too. Objects that live in
//! this process (open streams, pools, D-Bus methods bound to a connection) do not travel:
//! trying says which one.
//!
//! Why not pickle-like generality or serde: the set of value kinds is small and closed, the
//! encoding must round-trip our own types exactly, and both ends are this binary.

use std::rc::Rc;

use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::value::{Function, IntKind, Value, object_value};

/// A function as it travels.
#[derive(Clone, Debug, PartialEq)]
pub enum FnCode {
    /// One of the prelude's: module ("" for the top level) and name.
    Prelude { module: String, name: String },
    /// Source text of a `def` (or of a `lambda` expression), dedented, with where it was
    /// written.
    Source {
        name: String,
        code: String,
        lambda: bool,
        file: String,
        line: usize,
    },
}

const NONE: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const PATH: u8 = 6;
const SIGNATURE: u8 = 7;
const BYTES: u8 = 8;
const LIST: u8 = 9;
const TUPLE: u8 = 10;
const DICT: u8 = 11;
const SET: u8 = 12;
const RANGE: u8 = 13;
const FUNCTION: u8 = 14;
const EXCEPTION: u8 = 15;
const OBJECT: u8 = 16;
const BUILTIN: u8 = 17;
const MODULE: u8 = 18;

/// How deep values may nest on the wire.
const MAX_DEPTH: usize = 100;

/// The prelude's name for a function of the prelude, if `f` is one.
pub type PreludeName<'a> = &'a dyn Fn(&Rc<Function>) -> Option<(String, String)>;

/// Encode `v` (functions by prelude name when `prelude` knows them, else by source).
pub fn encode(v: &Value, prelude: PreludeName) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    put(&mut out, v, prelude, 0)?;
    Ok(out)
}

fn put_len(out: &mut Vec<u8>, n: usize) -> Result<(), Error> {
    let n = u32::try_from(n)
        .map_err(|_| Error::py(PyExc::MemoryError, "a value too large to send to a worker"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), Error> {
    put_len(out, b.len())?;
    out.extend_from_slice(b);
    Ok(())
}

fn kind_byte(k: IntKind) -> u8 {
    match k {
        IntKind::Plain => 0,
        IntKind::Byte => 1,
        IntKind::I16 => 2,
        IntKind::U16 => 3,
        IntKind::I32 => 4,
        IntKind::U32 => 5,
        IntKind::I64 => 6,
        IntKind::U64 => 7,
        IntKind::Fd => 8,
    }
}

fn byte_kind(b: u8) -> Option<IntKind> {
    Some(match b {
        0 => IntKind::Plain,
        1 => IntKind::Byte,
        2 => IntKind::I16,
        3 => IntKind::U16,
        4 => IntKind::I32,
        5 => IntKind::U32,
        6 => IntKind::I64,
        7 => IntKind::U64,
        8 => IntKind::Fd,
        _ => return None,
    })
}

/// The text of a function's definition, dedented to column 0.
pub fn function_source(f: &Function) -> String {
    let text = &f.source.text;
    let span = f.def.span;
    let start = span.start.min(text.len());
    let end = span.end.min(text.len()).max(start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    // The indentation of the line it starts on (a lambda may start mid-line).
    let indent = text[line_start..start]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count();
    let body = &text[start..end];
    let mut out = String::with_capacity(body.len());
    for (n, line) in body.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
            let strip = line
                .char_indices()
                .take_while(|(i, c)| *i < indent && (*c == ' ' || *c == '\t'))
                .count();
            out.push_str(&line[strip..]);
        } else {
            out.push_str(line);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn put(out: &mut Vec<u8>, v: &Value, prelude: PreludeName, depth: usize) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::py(
            PyExc::RecursionError,
            "a value nested too deeply to send to a worker",
        ));
    }
    match v {
        Value::None => out.push(NONE),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i, k) => {
            out.push(INT);
            out.push(kind_byte(*k));
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Str(s) => {
            out.push(STR);
            put_bytes(out, s.as_bytes())?;
        }
        Value::Path(s) => {
            out.push(PATH);
            put_bytes(out, s.as_bytes())?;
        }
        Value::Signature(s) => {
            out.push(SIGNATURE);
            put_bytes(out, s.as_bytes())?;
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            put_bytes(out, b)?;
        }
        Value::List(items) | Value::Tuple(items) => {
            out.push(if matches!(v, Value::List(_)) {
                LIST
            } else {
                TUPLE
            });
            let items = items.borrow();
            put_len(out, items.len())?;
            for x in items.iter() {
                put(out, x, prelude, depth + 1)?;
            }
        }
        Value::Dict(d) | Value::Set(d) => {
            let set = matches!(v, Value::Set(_));
            out.push(if set { SET } else { DICT });
            let d = d.borrow();
            put_len(out, d.len())?;
            for (k, x) in d.entries() {
                put(out, k, prelude, depth + 1)?;
                if !set {
                    put(out, x, prelude, depth + 1)?;
                }
            }
        }
        Value::Range(a, b, c) => {
            out.push(RANGE);
            for n in [a, b, c] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        Value::Function(f) => {
            out.push(FUNCTION);
            match prelude(f) {
                Some((module, name)) => {
                    out.push(0);
                    put_bytes(out, module.as_bytes())?;
                    put_bytes(out, name.as_bytes())?;
                }
                None => {
                    out.push(1);
                    let lambda = matches!(f.def.body, crate::lang::ast::FuncBody::Expr(_));
                    out.push(u8::from(lambda));
                    put_bytes(out, f.def.name.as_bytes())?;
                    put_bytes(out, function_source(f).as_bytes())?;
                    put_bytes(out, f.source.name.as_bytes())?;
                    let line = crate::lang::span::line_col(&f.source.text, f.def.span.start).0
                        + f.source.first_line.saturating_sub(1);
                    out.extend_from_slice(&(line as u64).to_le_bytes());
                }
            }
        }
        Value::Exception(e) => {
            out.push(EXCEPTION);
            put_bytes(out, e.class_name().as_bytes())?;
            let dbus = match &e.kind {
                Kind::Dbus(n) => n.clone(),
                _ => String::new(),
            };
            put_bytes(out, dbus.as_bytes())?;
            put_bytes(out, e.message.as_bytes())?;
            put_bytes(out, e.dbus_message.as_deref().unwrap_or("").as_bytes())?;
            put_len(out, e.args.len())?;
            for a in &e.args {
                put(out, a, prelude, depth + 1)?;
            }
        }
        Value::Object(o) if o.target.is_none() => {
            out.push(OBJECT);
            put_bytes(out, o.service.as_bytes())?;
            put_bytes(out, o.path.as_bytes())?;
            put_bytes(out, o.label.as_bytes())?;
        }
        Value::Builtin(b) => {
            out.push(BUILTIN);
            put_bytes(out, b.name.as_bytes())?;
        }
        Value::Module(m) => {
            out.push(MODULE);
            put_bytes(out, m.as_bytes())?;
        }
        other => {
            return Err(Error::type_error(format!(
                "a {} cannot be sent to a worker process (it lives in this shell): send \
                 plain values — numbers, strings, lists, dicts, functions",
                other.type_name()
            )));
        }
    }
    Ok(())
}

/// An exception as it travels: its class, D-Bus name, message and arguments.
pub fn encode_error(e: &Error, prelude: PreludeName) -> Vec<u8> {
    let v = Value::Exception(Rc::new(e.clone()));
    encode(&v, prelude).unwrap_or_else(|_| {
        // Arguments that cannot travel: keep the class and the message.
        let plain = Error {
            args: Vec::new(),
            ..e.clone()
        };
        encode(&Value::Exception(Rc::new(plain)), prelude).unwrap_or_default()
    })
}

/// Reads what [`encode`] wrote. `make` turns function code into a function value (the worker
/// makes them in its interpreter; elsewhere functions are refused).
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(what: &str) -> Error {
    Error::py(
        PyExc::ValueError,
        format!("a worker message is damaged ({what})"),
    )
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| corrupt("it ends too early"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn len(&mut self) -> Result<usize, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn text(&mut self) -> Result<String, Error> {
        String::from_utf8(self.bytes()?).map_err(|_| corrupt("text that is not UTF-8"))
    }

    fn i128(&mut self) -> Result<i128, Error> {
        let b = self.take(16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(i128::from_le_bytes(a))
    }

    /// The next value; functions go through `make`.
    pub fn value(
        &mut self,
        make: &mut dyn FnMut(FnCode) -> Result<Value, Error>,
    ) -> Result<Value, Error> {
        self.value_at(make, 0)
    }

    fn value_at(
        &mut self,
        make: &mut dyn FnMut(FnCode) -> Result<Value, Error>,
        depth: usize,
    ) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(corrupt("nested too deeply"));
        }
        let tag = self.byte()?;
        Ok(match tag {
            NONE => Value::None,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => {
                let k = byte_kind(self.byte()?).ok_or_else(|| corrupt("an integer width"))?;
                Value::Int(self.i128()?, k)
            }
            FLOAT => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_le_bytes(a))
            }
            STR => Value::Str(self.text()?),
            PATH => Value::Path(self.text()?),
            SIGNATURE => Value::Signature(self.text()?),
            BYTES => Value::Bytes(self.bytes()?),
            LIST | TUPLE => {
                let n = self.len()?;
                crate::lang::value::check_items(n)?;
                let mut items = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    items.push(self.value_at(make, depth + 1)?);
                }
                if tag == LIST {
                    Value::list(items)
                } else {
                    Value::tuple(items)
                }
            }
            DICT => {
                let n = self.len()?;
                crate::lang::value::check_items(n)?;
                let mut entries = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    let k = self.value_at(make, depth + 1)?;
                    let v = self.value_at(make, depth + 1)?;
                    entries.push((k, v));
                }
                Value::dict(entries)?
            }
            SET => {
                let n = self.len()?;
                crate::lang::value::check_items(n)?;
                let mut items = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    items.push(self.value_at(make, depth + 1)?);
                }
                Value::set(items)?
            }
            RANGE => Value::Range(self.i128()?, self.i128()?, self.i128()?),
            FUNCTION => {
                let code = match self.byte()? {
                    0 => FnCode::Prelude {
                        module: self.text()?,
                        name: self.text()?,
                    },
                    1 => {
                        let lambda = self.byte()? == 1;
                        let name = self.text()?;
                        let code = self.text()?;
                        let file = self.text()?;
                        let b = self.take(8)?;
                        let mut a = [0u8; 8];
                        a.copy_from_slice(b);
                        FnCode::Source {
                            name,
                            code,
                            lambda,
                            file,
                            line: u64::from_le_bytes(a) as usize,
                        }
                    }
                    _ => return Err(corrupt("a function")),
                };
                make(code)?
            }
            EXCEPTION => {
                let class = self.text()?;
                let dbus = self.text()?;
                let message = self.text()?;
                let peer_message = self.text()?;
                let n = self.len()?;
                crate::lang::value::check_items(n)?;
                let mut args = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    args.push(self.value_at(make, depth + 1)?);
                }
                let mut e = error_from(&class, &dbus, message, args);
                if !dbus.is_empty() {
                    e.dbus_message = Some(peer_message);
                }
                Value::Exception(Rc::new(e))
            }
            OBJECT => {
                let service = self.text()?;
                let path = self.text()?;
                let label = self.text()?;
                object_value(&service, &path, &label, None)?
            }
            BUILTIN => {
                let name = self.text()?;
                crate::lang::builtins::find(&name)
                    .map(Value::Builtin)
                    .ok_or_else(|| corrupt("an unknown builtin"))?
            }
            MODULE => {
                let name = self.text()?;
                crate::lang::builtins::resolve_dotted(&name)
                    .ok_or_else(|| corrupt("an unknown module"))?
            }
            _ => return Err(corrupt("an unknown value tag")),
        })
    }
}

/// An exception of class `class` (a D-Bus error when `dbus` is its name).
fn error_from(class: &str, dbus: &str, message: String, args: Vec<Value>) -> Error {
    let kind = if !dbus.is_empty() {
        Kind::Dbus(dbus.to_string())
    } else {
        match PyExc::from_name(class) {
            Some(PyExc::KeyboardInterrupt) => Kind::Interrupted,
            Some(PyExc::SystemExit) => Kind::Exit(match args.first() {
                Some(Value::Int(i, _)) => i32::try_from(*i).unwrap_or(1),
                _ => 0,
            }),
            Some(c) => Kind::Py(c),
            None => Kind::Failed,
        }
    };
    Error {
        kind,
        args,
        ..Error::new(message)
    }
}

/// Decode one value that holds no functions (results, as the shell reads them).
pub fn decode_plain(buf: &[u8]) -> Result<Value, Error> {
    let mut r = Reader::new(buf);
    r.value(&mut |code| {
        Ok(Value::str(match code {
            FnCode::Prelude { module, name } if module.is_empty() => format!("<function {name}>"),
            FnCode::Prelude { module, name } => format!("<function {module}.{name}>"),
            FnCode::Source { name, .. } => format!("<function {name}>"),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &Rc<Function>) -> Option<(String, String)> {
        None
    }

    #[test]
    fn values_come_back_with_their_types() {
        let rows = vec![
            Value::None,
            Value::Bool(true),
            Value::Int(u64::MAX as i128, IntKind::U64),
            Value::Int(-5, IntKind::Plain),
            Value::Int(7, IntKind::Byte),
            Value::Float(0.25),
            Value::str("héllo"),
            Value::Path("/org/x".into()),
            Value::Signature("a{sv}".into()),
            Value::Bytes(vec![0, 255]),
            Value::list(vec![Value::int(1), Value::tuple(vec![Value::str("a")])]),
            Value::dict(vec![(Value::str("k"), Value::int(2))]).unwrap(),
            Value::set(vec![Value::int(3)]).unwrap(),
            Value::Range(0, 10, 2),
        ];
        for v in rows {
            let bytes = encode(&v, &none).unwrap();
            let back = decode_plain(&bytes).unwrap();
            assert_eq!(back, v, "{}", v.repr());
            assert_eq!(back.type_name(), v.type_name(), "{}", v.repr());
        }
    }

    #[test]
    fn exceptions_keep_their_class_and_damaged_input_is_an_error() {
        let e = Error::py(PyExc::KeyError, "'x'");
        let back = decode_plain(&encode_error(&e, &none)).unwrap();
        let Value::Exception(b) = back else {
            panic!("not an exception")
        };
        assert_eq!(b.class(), PyExc::KeyError);
        assert_eq!(b.message, "'x'");
        let d = Error {
            kind: Kind::Dbus("org.freedesktop.systemd1.NoSuchUnit".into()),
            dbus_message: Some("Unit x.service not loaded.".into()),
            ..Error::new("org.freedesktop.systemd1.NoSuchUnit: Unit x.service not loaded.")
        };
        let Value::Exception(b) = decode_plain(&encode_error(&d, &none)).unwrap() else {
            panic!()
        };
        assert!(b.is_dbus("NoSuchUnit"));
        assert_eq!(
            b.dbus_message.as_deref(),
            Some("Unit x.service not loaded.")
        );
        let bytes = encode(&Value::list(vec![Value::str("abc")]), &none).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_plain(&bytes[..cut]).is_err(), "{cut}");
        }
        assert!(decode_plain(&[200]).is_err());
        assert!(decode_plain(&[LIST, 255, 255, 255, 255]).is_err());
    }
}

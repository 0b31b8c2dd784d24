//! Shell values.
//!
//! A value read from the bus keeps its exact D-Bus type (integer width, object path vs string,
//! signature, bytes), so printing it, storing it in a variable and sending it back produces
//! the same wire data. Plain literals typed at the prompt (`5`, `'x'`) carry no D-Bus type;
//! they take one from the introspected signature they are sent to.
//!
//! Lists, dicts and sets are shared and mutable as in Python (`b = a; b.append(1)` changes
//! `a`); tuples share their items too. Dropping a deeply nested value is iterative
//! ([`defer_drop`]), so `x = [x]` a million times cannot overflow the stack when it is freed.
//! Sizes are bounded ([`MAX_TEXT`], [`MAX_ITEMS`]): an operation that would build a larger
//! value fails with a MemoryError instead of exhausting the machine.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::bus::connection::BusTarget;
use crate::bus::names;
use crate::lang::ast::FuncDef;
use crate::lang::builtins::Builtin;
use crate::lang::error::{Error, PyExc};

/// The largest string or bytes value an operation may build (64 MiB).
pub const MAX_TEXT: usize = 64 << 20;
/// The largest number of items an operation may build into one list, tuple, dict or set.
pub const MAX_ITEMS: usize = 16 << 20;
/// How deep values are printed, compared and converted before `...` / an error.
pub const MAX_NESTING: usize = 100;

/// A "too large" error for a result of `n` units (`what`: "characters", "items").
pub fn too_large(n: usize, limit: usize, what: &str) -> Error {
    Error::py(
        PyExc::MemoryError,
        format!("result too large: {n} {what} (the limit is {limit})"),
    )
}

/// Check the size of a text result before building it.
pub fn check_text(n: usize) -> Result<(), Error> {
    if n > MAX_TEXT {
        return Err(too_large(n, MAX_TEXT, "bytes"));
    }
    Ok(())
}

/// Check the size of a collection before building it.
pub fn check_items(n: usize) -> Result<(), Error> {
    if n > MAX_ITEMS {
        return Err(too_large(n, MAX_ITEMS, "items"));
    }
    Ok(())
}

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
    names::check_bus_name(service).map_err(|m| Error::py(PyExc::ValueError, m))?;
    names::check_object_path(path).map_err(|m| Error::py(PyExc::ValueError, m))?;
    Ok(Value::Object(Rc::new(ObjectRef {
        service: service.to_string(),
        path: path.to_string(),
        label: label.to_string(),
        target,
    })))
}

/// The text a source was read from, for functions defined in it (`ppcode` shows them).
#[derive(Debug, PartialEq)]
pub struct Source {
    /// A file name, `<stdin>`, `<prompt>`, `<command line>`.
    pub name: String,
    pub text: Rc<str>,
    /// The line of the file where `text` starts (1 for a whole file).
    pub first_line: usize,
}

/// A variable scope of a running function (or comprehension).
#[derive(Debug, Default)]
pub struct Scope {
    pub vars: RefCell<HashMap<String, Value>>,
    /// The scope the function was defined in (closures read and `nonlocal`-write it).
    pub parent: Option<Rc<Scope>>,
    /// Names declared `global` here.
    pub globals: RefCell<Vec<String>>,
    /// Names declared `nonlocal` here.
    pub nonlocals: RefCell<Vec<String>>,
}

/// A function made by `def` or `lambda`.
#[derive(Debug)]
pub struct Function {
    pub def: Rc<FuncDef>,
    /// Defaults of the positional and keyword-only parameters, evaluated at definition.
    pub defaults: Vec<Option<Value>>,
    pub kw_defaults: Vec<Option<Value>>,
    /// The scope of the enclosing function (`None` at the top level).
    pub closure: Option<Rc<Scope>>,
    pub source: Rc<Source>,
}

impl Function {
    /// `file:line` where it was defined.
    pub fn origin(&self) -> String {
        let line = crate::lang::span::line_col(&self.source.text, self.def.span.start).0;
        format!(
            "{}:{}",
            self.source.name,
            line + self.source.first_line.saturating_sub(1)
        )
    }
}

/// One of the shell's standard streams (`sys.stdout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl Stream {
    pub fn fd(self) -> i32 {
        match self {
            Stream::Stdin => 0,
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdin => "<stdin>",
            Stream::Stdout => "<stdout>",
            Stream::Stderr => "<stderr>",
        }
    }
}

/// The items of a list or tuple; shared, and freed iteratively.
#[derive(Debug, Default)]
pub struct Items(RefCell<Vec<Value>>);

impl Items {
    pub fn borrow(&self) -> Ref<'_, Vec<Value>> {
        self.0.borrow()
    }

    pub fn borrow_mut(&self) -> RefMut<'_, Vec<Value>> {
        self.0.borrow_mut()
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        defer_drop(std::mem::take(self.0.get_mut()));
    }
}

/// A hashable projection of a value (dict keys, set items): equal values give equal keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HKey {
    None,
    Int(i128),
    Float(u64),
    Text(Vec<u8>),
    Tuple(Vec<HKey>),
    Other(String),
}

/// The entries of a dict (or the items of a set, with `None` values), in insertion order,
/// with a hash index.
#[derive(Debug, Default)]
pub struct DictData {
    entries: Vec<(Value, Value)>,
    index: HashMap<HKey, usize>,
}

impl DictData {
    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, k: &Value) -> Result<Option<&Value>, Error> {
        let h = k.hkey(0)?;
        Ok(self.index.get(&h).map(|&i| &self.entries[i].1))
    }

    pub fn contains(&self, k: &Value) -> Result<bool, Error> {
        Ok(self.index.contains_key(&k.hkey(0)?))
    }

    pub fn insert(&mut self, k: Value, v: Value) -> Result<(), Error> {
        let h = k.hkey(0)?;
        match self.index.get(&h) {
            Some(&i) => self.entries[i].1 = v,
            None => {
                check_items(self.entries.len() + 1)?;
                self.index.insert(h, self.entries.len());
                self.entries.push((k, v));
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, k: &Value) -> Result<Option<Value>, Error> {
        let h = k.hkey(0)?;
        let Some(i) = self.index.remove(&h) else {
            return Ok(None);
        };
        let (_, v) = self.entries.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Ok(Some(v))
    }

    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        let (k, v) = self.entries.pop()?;
        if let Ok(h) = k.hkey(0) {
            self.index.remove(&h);
        }
        Some((k, v))
    }

    pub fn clear(&mut self) {
        self.index.clear();
        defer_drop(
            std::mem::take(&mut self.entries)
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect(),
        );
    }
}

/// A shared dict or set.
#[derive(Debug, Default)]
pub struct Dict(RefCell<DictData>);

impl Dict {
    pub fn borrow(&self) -> Ref<'_, DictData> {
        self.0.borrow()
    }

    pub fn borrow_mut(&self) -> RefMut<'_, DictData> {
        self.0.borrow_mut()
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        let d = self.0.get_mut();
        d.index.clear();
        let entries = std::mem::take(&mut d.entries);
        defer_drop(entries.into_iter().flat_map(|(k, v)| [k, v]).collect());
    }
}

thread_local! {
    static DROPPING: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Drop values without recursing into nested lists, tuples and dicts on the stack.
pub fn defer_drop(items: Vec<Value>) {
    if !items.iter().any(|v| {
        matches!(
            v,
            Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Set(_)
        )
    }) {
        return;
    }
    if DROPPING.with(Cell::get) {
        PENDING.with(|p| p.borrow_mut().extend(items));
        return;
    }
    DROPPING.with(|d| d.set(true));
    let mut stack = items;
    loop {
        while let Some(v) = stack.pop() {
            drop(v);
        }
        let more = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if more.is_empty() {
            break;
        }
        stack = more;
    }
    DROPPING.with(|d| d.set(false));
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
    List(Rc<Items>),
    Tuple(Rc<Items>),
    Dict(Rc<Dict>),
    Set(Rc<Dict>),
    /// `range(start, stop, step)`, lazy.
    Range(i128, i128, i128),
    Object(Rc<ObjectRef>),
    Interface(Rc<InterfaceRef>),
    Method(Rc<MethodRef>),
    Builtin(&'static Builtin),
    /// A method of a shell value (`o.load`, `d.keys`): receiver and method name.
    Bound(Box<Value>, &'static str),
    /// A namespace such as `pystemd.systemd1` or `os`.
    Module(&'static str),
    Function(Rc<Function>),
    /// An exception class (`KeyError`), for `except` and `raise`.
    ExcClass(PyExc),
    /// A raised (or made) exception: the error it carries.
    Exception(Rc<Error>),
    Stream(Stream),
    /// An object the shell provides (a child process, a pool of workers, a future).
    Native(Rc<dyn crate::lang::native::Native>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.eq_depth(other, 0)
    }
}

impl Value {
    fn eq_depth(&self, other: &Self, depth: usize) -> bool {
        use Value::*;
        // Structures shared many times over can take very long to compare: Ctrl-C stops it.
        if depth > MAX_NESTING || crate::term::signals::interrupt_pending() {
            return false;
        }
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a, _), Int(b, _)) => a == b,
            (Int(a, _), Float(b)) | (Float(b), Int(a, _)) => (*a as f64) == *b,
            (Bool(a), Int(b, _)) | (Int(b, _), Bool(a)) => (*a as i128) == *b,
            (Bool(a), Float(b)) | (Float(b), Bool(a)) => (*a as i32 as f64) == *b,
            (Float(a), Float(b)) => a == b,
            (Str(a) | Path(a) | Signature(a), Str(b) | Path(b) | Signature(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Bytes(a), Str(b)) | (Str(b), Bytes(a)) => a.as_slice() == b.as_bytes(),
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => {
                if Rc::ptr_eq(a, b) {
                    return true;
                }
                let (a, b) = (a.borrow(), b.borrow());
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.eq_depth(y, depth + 1))
            }
            (Dict(a), Dict(b)) | (Set(a), Set(b)) => {
                if Rc::ptr_eq(a, b) {
                    return true;
                }
                let (a, b) = (a.borrow(), b.borrow());
                a.len() == b.len()
                    && a.entries()
                        .iter()
                        .all(|(k, v)| matches!(b.get(k), Ok(Some(w)) if v.eq_depth(w, depth + 1)))
            }
            (Range(a, b, c), Range(x, y, z)) => (a, b, c) == (x, y, z),
            (Object(a), Object(b)) => a == b,
            (Interface(a), Interface(b)) => a == b,
            (Method(a), Method(b)) => a == b,
            (Builtin(a), Builtin(b)) => std::ptr::eq(*a, *b),
            (Module(a), Module(b)) => a == b,
            (Function(a), Function(b)) => Rc::ptr_eq(a, b),
            (ExcClass(a), ExcClass(b)) => a == b,
            (Exception(a), Exception(b)) => Rc::ptr_eq(a, b),
            (Stream(a), Stream(b)) => a == b,
            (Bound(a, m), Bound(b, n)) => m == n && a.eq_depth(b, depth + 1),
            (Native(a), Native(b)) => {
                Rc::ptr_eq(a, b) || a.number().is_some() && a.number() == b.number()
            }
            (Native(a), Int(i, _)) | (Int(i, _), Native(a)) => a.number() == Some(*i),
            _ => false,
        }
    }

    pub fn int(v: i128) -> Value {
        Value::Int(v, IntKind::Plain)
    }

    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(Items(RefCell::new(items))))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(Items(RefCell::new(items))))
    }

    /// A dict from entries (later duplicates win).
    pub fn dict(entries: Vec<(Value, Value)>) -> Result<Value, Error> {
        let mut d = DictData::default();
        for (k, v) in entries {
            d.insert(k, v)?;
        }
        Ok(Value::Dict(Rc::new(Dict(RefCell::new(d)))))
    }

    /// A dict of D-Bus data: keys are basic types (always hashable), and the message that
    /// carried them bounds their number.
    pub fn dict_from_bus(entries: Vec<(Value, Value)>) -> Value {
        let mut d = DictData::default();
        for (k, v) in entries {
            let Ok(h) = k.hkey(0) else { continue };
            match d.index.get(&h) {
                Some(&i) => d.entries[i].1 = v,
                None => {
                    d.index.insert(h, d.entries.len());
                    d.entries.push((k, v));
                }
            }
        }
        Value::Dict(Rc::new(Dict(RefCell::new(d))))
    }

    pub fn set(items: Vec<Value>) -> Result<Value, Error> {
        let mut d = DictData::default();
        for k in items {
            d.insert(k, Value::None)?;
        }
        Ok(Value::Set(Rc::new(Dict(RefCell::new(d)))))
    }

    /// A copy of the items of a list or tuple.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l) | Value::Tuple(l) => Some(l.borrow().clone()),
            _ => Option::None,
        }
    }

    /// The key of this value in a dict or set; lists, dicts and sets are unhashable.
    pub fn hkey(&self, depth: usize) -> Result<HKey, Error> {
        if depth > MAX_NESTING {
            return Err(Error::py(PyExc::RecursionError, "key nested too deeply"));
        }
        Ok(match self {
            Value::None => HKey::None,
            Value::Bool(b) => HKey::Int(*b as i128),
            Value::Int(i, _) => HKey::Int(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => HKey::Int(*f as i128),
            Value::Float(f) => HKey::Float(f.to_bits()),
            Value::Str(s) | Value::Path(s) | Value::Signature(s) => {
                HKey::Text(s.as_bytes().to_vec())
            }
            Value::Bytes(b) => HKey::Text(b.clone()),
            Value::Tuple(t) => HKey::Tuple(
                t.borrow()
                    .iter()
                    .map(|v| v.hkey(depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Value::List(_) | Value::Dict(_) | Value::Set(_) => {
                return Err(Error::py(
                    PyExc::TypeError,
                    format!("unhashable type: '{}'", self.type_name()),
                ));
            }
            Value::Function(f) => HKey::Other(format!("function@{:p}", Rc::as_ptr(f))),
            Value::Exception(e) => HKey::Other(format!("exception@{:p}", Rc::as_ptr(e))),
            Value::Native(n) => match n.number() {
                Some(i) => HKey::Int(i),
                Option::None => HKey::Other(format!("native@{:p}", Rc::as_ptr(n).cast::<u8>())),
            },
            other => HKey::Other(other.repr()),
        })
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
            Value::Set(_) => "set",
            Value::Range(..) => "range",
            Value::Object(_) => "object",
            Value::Interface(_) => "interface",
            Value::Method(_) => "method",
            Value::Builtin(_) => "builtin",
            Value::Bound(..) => "method",
            Value::Module(_) => "module",
            Value::Function(_) => "function",
            Value::ExcClass(_) => "type",
            Value::Exception(e) => e.class().name(),
            Value::Stream(_) => "stream",
            Value::Native(n) => n.type_name(),
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
            Value::List(v) | Value::Tuple(v) => !v.borrow().is_empty(),
            Value::Dict(d) | Value::Set(d) => d.borrow().len() > 0,
            Value::Range(..) => range_len(self) > 0,
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
            Value::Exception(e) => e.display_message(),
            _ => self.repr(),
        }
    }

    /// A one-line, Python-like representation that can usually be pasted back. A container
    /// inside itself prints as `[...]` (as in Python), and the text stops with `...` at
    /// [`MAX_TEXT`]: a structure shared many times over cannot make it grow without bound.
    pub fn repr(&self) -> String {
        self.repr_within(MAX_TEXT).0
    }

    /// [`Value::repr`] stopped after about `limit` bytes; `true` when it was cut.
    pub fn repr_within(&self, limit: usize) -> (String, bool) {
        let mut r = Repr {
            out: String::new(),
            path: Vec::new(),
            limit,
            cut: false,
        };
        self.write_repr(&mut r, 0);
        (r.out, r.cut)
    }

    fn write_repr(&self, r: &mut Repr, depth: usize) {
        if depth > MAX_NESTING || r.out.len() > r.limit {
            r.cut = true;
            r.out.push_str("...");
            return;
        }
        // A container already being printed further out: a cycle.
        let container = match self {
            Value::List(l) | Value::Tuple(l) => Some(Rc::as_ptr(l) as *const ()),
            Value::Dict(d) | Value::Set(d) => Some(Rc::as_ptr(d) as *const ()),
            _ => Option::None,
        };
        if let Some(p) = container {
            if r.path.contains(&p) {
                r.out.push_str(match self {
                    Value::List(_) => "[...]",
                    Value::Tuple(_) => "(...)",
                    _ => "{...}",
                });
                return;
            }
            r.path.push(p);
            self.write_repr_inner(r, depth);
            r.path.pop();
        } else {
            self.write_repr_inner(r, depth);
        }
    }

    fn write_repr_inner(&self, r: &mut Repr, depth: usize) {
        match self {
            Value::None => r.out.push_str("None"),
            Value::Bool(true) => r.out.push_str("True"),
            Value::Bool(false) => r.out.push_str("False"),
            Value::Int(i, _) => {
                let _ = write!(r.out, "{i}");
            }
            Value::Float(f) => r.out.push_str(&float_repr(*f)),
            Value::Str(s) => r.out.push_str(&str_repr(s)),
            Value::Path(p) => {
                let _ = write!(r.out, "ObjectPath({})", str_repr(p));
            }
            Value::Signature(p) => {
                let _ = write!(r.out, "Signature({})", str_repr(p));
            }
            Value::Bytes(b) => r.out.push_str(&bytes_repr(b)),
            Value::List(items) => match items.try_borrow() {
                Some(items) => {
                    r.out.push('[');
                    write_items(r, &items, depth);
                    r.out.push(']');
                }
                Option::None => r.out.push_str("[...]"),
            },
            Value::Tuple(items) => {
                let items = items.borrow();
                r.out.push('(');
                write_items(r, &items, depth);
                if items.len() == 1 {
                    r.out.push(',');
                }
                r.out.push(')');
            }
            Value::Dict(d) => match d.try_borrow() {
                Some(d) => {
                    r.out.push('{');
                    for (n, (k, v)) in d.entries().iter().enumerate() {
                        if n > 0 {
                            r.out.push_str(", ");
                        }
                        k.write_repr(r, depth + 1);
                        r.out.push_str(": ");
                        v.write_repr(r, depth + 1);
                    }
                    r.out.push('}');
                }
                Option::None => r.out.push_str("{...}"),
            },
            Value::Set(d) => {
                let d = d.borrow();
                if d.len() == 0 {
                    r.out.push_str("set()");
                    return;
                }
                r.out.push('{');
                for (n, (k, _)) in d.entries().iter().enumerate() {
                    if n > 0 {
                        r.out.push_str(", ");
                    }
                    k.write_repr(r, depth + 1);
                }
                r.out.push('}');
            }
            Value::Range(a, b, 1) => {
                let _ = write!(r.out, "range({a}, {b})");
            }
            Value::Range(a, b, c) => {
                let _ = write!(r.out, "range({a}, {b}, {c})");
            }
            Value::Object(o) => {
                let _ = write!(r.out, "<{} {} at {}", o.label, o.service, o.path);
                match &o.target {
                    Some(BusTarget::Machine(m)) => {
                        let _ = write!(r.out, " on machine {m}");
                    }
                    Some(BusTarget::Host(h)) => {
                        let _ = write!(r.out, " on host {h}");
                    }
                    _ => {}
                }
                r.out.push('>');
            }
            Value::Interface(i) => {
                let _ = write!(r.out, "<{} of {}>", i.name, i.object.path);
            }
            Value::Method(m) => {
                let _ = write!(
                    r.out,
                    "<method {}.{} of {}>",
                    m.interface.name, m.name, m.interface.object.path
                );
            }
            Value::Builtin(b) => {
                let _ = write!(r.out, "<builtin {}>", b.name);
            }
            Value::Bound(recv, name) => {
                let _ = write!(r.out, "<method {name} of {}>", recv.type_name());
            }
            Value::Module(m) => {
                let _ = write!(r.out, "<module '{m}'>");
            }
            Value::Function(f) => {
                let _ = write!(r.out, "<function {} at {}>", f.def.name, f.origin());
            }
            Value::ExcClass(c) => {
                let _ = write!(r.out, "<class '{}'>", c.name());
            }
            Value::Exception(e) => {
                let _ = write!(
                    r.out,
                    "{}({})",
                    e.class_name(),
                    str_repr(&e.display_message())
                );
            }
            Value::Stream(s) => {
                let _ = write!(r.out, "<stream {}>", s.name());
            }
            Value::Native(n) => r.out.push_str(&n.repr()),
        }
    }

    /// Like [`Value::repr`], but a long list, tuple or dict is split one item per line. As
    /// bounded as `repr`: cycles print as `[...]`, the whole stops at [`MAX_TEXT`].
    pub fn pretty(&self, width: usize) -> String {
        let mut budget = MAX_TEXT;
        self.pretty_into(width, 0, &mut Vec::new(), &mut budget)
    }

    fn pretty_into(
        &self,
        width: usize,
        depth: usize,
        path: &mut Vec<*const ()>,
        budget: &mut usize,
    ) -> String {
        if *budget == 0 {
            return "...".into();
        }
        let ptr = match self {
            Value::List(l) | Value::Tuple(l) => Some(Rc::as_ptr(l) as *const ()),
            Value::Dict(d) => Some(Rc::as_ptr(d) as *const ()),
            _ => Option::None,
        };
        if let Some(p) = ptr
            && path.contains(&p)
        {
            return match self {
                Value::List(_) => "[...]",
                Value::Tuple(_) => "(...)",
                _ => "{...}",
            }
            .into();
        }
        // Only the first `width` bytes are needed to know whether it fits on one line.
        let (flat, cut) = self.repr_within(width + 1);
        if (!cut && flat.chars().count() <= width) || depth > MAX_NESTING || ptr.is_none() {
            let text = if cut {
                self.repr_within(*budget).0
            } else {
                flat
            };
            *budget = budget.saturating_sub(text.len());
            return text;
        }
        let w = width.saturating_sub(1);
        path.extend(ptr);
        let (open, close, items): (&str, &str, Vec<String>) = match self {
            Value::List(v) | Value::Tuple(v) => {
                let open = if matches!(self, Value::List(_)) {
                    "["
                } else {
                    "("
                };
                let close = if open == "[" { "]" } else { ")" };
                let mut items = Vec::new();
                for x in v.borrow().iter() {
                    if *budget == 0 {
                        items.push("...".into());
                        break;
                    }
                    items.push(x.pretty_into(w, depth + 1, path, budget));
                }
                (open, close, items)
            }
            Value::Dict(d) => {
                let mut items = Vec::new();
                for (k, v) in d.borrow().entries() {
                    if *budget == 0 {
                        items.push("...".into());
                        break;
                    }
                    let key = k.repr_within(*budget).0;
                    *budget = budget.saturating_sub(key.len());
                    items.push(format!(
                        "{key}: {}",
                        v.pretty_into(w, depth + 1, path, budget)
                    ));
                }
                ("{", "}", items)
            }
            _ => {
                path.pop();
                return self.repr_within(*budget).0;
            }
        };
        path.pop();
        let mut out = String::from(open);
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                out.push_str(",\n ");
            }
            out.push_str(&item.replace('\n', "\n "));
        }
        if close == ")" && items.len() == 1 {
            out.push(',');
        }
        out.push_str(close);
        out
    }
}

impl Items {
    fn try_borrow(&self) -> Option<Ref<'_, Vec<Value>>> {
        self.0.try_borrow().ok()
    }
}

impl Dict {
    fn try_borrow(&self) -> Option<Ref<'_, DictData>> {
        self.0.try_borrow().ok()
    }
}

/// The number of items of a range value (0 for anything else).
pub fn range_len(v: &Value) -> i128 {
    let Value::Range(a, b, c) = *v else { return 0 };
    if c > 0 && b > a {
        (b - a - 1) / c + 1
    } else if c < 0 && a > b {
        (a - b - 1) / (-c) + 1
    } else {
        0
    }
}

/// What a repr is being written into: the text, the containers being printed (cycles print
/// as `[...]`) and where to stop.
struct Repr {
    out: String,
    path: Vec<*const ()>,
    limit: usize,
    cut: bool,
}

fn write_items(r: &mut Repr, items: &[Value], depth: usize) {
    for (n, v) in items.iter().enumerate() {
        if r.out.len() > r.limit {
            r.cut = true;
            r.out.push_str(", ...");
            return;
        }
        if n > 0 {
            r.out.push_str(", ");
        }
        v.write_repr(r, depth + 1);
    }
}

pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Python's repr: the shortest digits that read back as `f` (Rust's too), scientific when
    // the exponent is below -4 or at least 16, else fixed with a digit after the point.
    let sci = format!("{f:e}");
    let (m, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if !(-4..16).contains(&e) {
        return format!("{m}{}", exponent_suffix(e));
    }
    let fixed = format!("{f}");
    if fixed.contains('.') {
        fixed
    } else {
        fixed + ".0"
    }
}

/// A float's exponent as Python writes it: `e+06`, `e-05`, `e+221`.
pub fn exponent_suffix(e: i32) -> String {
    format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
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
            // Scientific as Python: from exponent 16, and below -4 (was "10000000000000000").
            (Value::Float(1e16), "1e+16"),
            (Value::Float(1e15), "1000000000000000.0"),
            (
                Value::Float(-1.2345678901234568e17),
                "-1.2345678901234568e+17",
            ),
            (
                Value::Float(9.999999999999938e221),
                "9.999999999999938e+221",
            ),
            (Value::Float(1.5e-5), "1.5e-05"),
            (Value::Float(0.0001), "0.0001"),
            (Value::Float(-0.0), "-0.0"),
            (Value::Float(5e-324), "5e-324"),
            (Value::Float(f64::NEG_INFINITY), "-inf"),
            (Value::str("active"), "'active'"),
            (Value::str("it's"), "\"it's\""),
            (Value::str("a\nb"), "'a\\nb'"),
            (Value::Path("/org/x".into()), "ObjectPath('/org/x')"),
            (Value::Bytes(b"ab\x00".to_vec()), "b'ab\\x00'"),
            (Value::tuple(vec![Value::int(1)]), "(1,)"),
            (
                Value::dict(vec![(Value::str("a"), Value::list(vec![]))]).unwrap(),
                "{'a': []}",
            ),
            (Value::set(vec![]).unwrap(), "set()"),
            (
                Value::set(vec![Value::int(1), Value::Float(1.0), Value::int(2)]).unwrap(),
                "{1, 2}",
            ),
            (Value::Range(0, 3, 1), "range(0, 3)"),
        ];
        for (v, want) in rows {
            assert_eq!(v.repr(), want);
        }
    }

    #[test]
    fn pretty_splits_long_lists() {
        let v = Value::list((0..30).map(|i| Value::str(format!("item{i}"))).collect());
        let p = v.pretty(40);
        assert!(p.starts_with("['item0',\n 'item1',"));
        assert!(p.ends_with("'item29']"));
    }

    #[test]
    fn deeply_nested_values_drop_and_print_without_overflow() {
        let mut v = Value::list(vec![]);
        for _ in 0..200_000 {
            v = Value::list(vec![v]);
        }
        assert!(v.repr().contains("..."));
        assert_eq!(v, v.clone());
        drop(v);
        let mut t = Value::tuple(vec![]);
        for _ in 0..200_000 {
            t = Value::tuple(vec![t]);
        }
        drop(t);
    }

    #[test]
    fn dict_keys_follow_python_equality() {
        let d = Value::dict(vec![
            (Value::int(1), Value::str("a")),
            (Value::Bool(true), Value::str("b")),
            (Value::str("x"), Value::int(3)),
        ])
        .unwrap();
        assert_eq!(d.repr(), "{1: 'b', 'x': 3}");
        let Value::Dict(d) = d else { unreachable!() };
        assert_eq!(
            d.borrow().get(&Value::Bytes(b"x".to_vec())).unwrap(),
            Some(&Value::int(3))
        );
        assert!(
            d.borrow_mut()
                .insert(Value::list(vec![]), Value::None)
                .is_err()
        );
    }
}

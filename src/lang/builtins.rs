//! Built-in functions and the pystemd-compatible namespaces.
//!
//! Each builtin is declared once, as data: its (dotted) name, its parameters and its help.
//! The parameter list is the only list of keyword names: calls are bound against it
//! ([`Args::bind`]), keyword completion offers it and the usage line is made from it.
//! `pystemd.systemd1.Unit` and `unit` share one function, so pasted pystemd code and short
//! shell spellings behave the same.
//!
//! Parameter syntax: `name` (required), `name=DEFAULT` (optional; DEFAULT is only shown),
//! `*name` (the remaining positional arguments; parameters after it are keyword-only).

use std::io::Write as _;

use crate::bus::path;
use crate::lang::error::Error;
use crate::lang::interp::{Interp, did_you_mean};
use crate::lang::value::{IntKind, Value, object_value};
use crate::systemd;

/// Positional and keyword arguments of a call, as written.
#[derive(Debug, Default)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Vec<(String, Value)>,
}

/// Arguments bound to a builtin's parameters.
#[derive(Debug)]
pub struct Bound {
    f: &'static Builtin,
    /// One slot per named parameter, in declaration order (`*rest` excluded).
    slots: Vec<Option<Value>>,
    /// What `*rest` collected.
    pub rest: Vec<Value>,
}

type R<T> = Result<T, Error>;

impl Args {
    /// Bind to `f`'s parameters: positionals fill parameters in order (the rest go to `*rest`
    /// if declared), keywords by name. Unknown, duplicate and missing arguments are errors
    /// that show the usage.
    pub fn bind(self, f: &'static Builtin) -> R<Bound> {
        let names: Vec<&str> = f.named_params().collect();
        let positional = f.positional_count();
        let mut slots: Vec<Option<Value>> = vec![None; names.len()];
        let mut rest = Vec::new();
        for (n, v) in self.pos.into_iter().enumerate() {
            if n < positional {
                slots[n] = Some(v);
            } else if f.has_rest() {
                rest.push(v);
            } else {
                return Err(Error::new(format!(
                    "{}() takes at most {positional} positional argument{}, got more (usage: {})",
                    f.name,
                    if positional == 1 { "" } else { "s" },
                    f.usage()
                )));
            }
        }
        for (k, v) in self.kw {
            let Some(i) = names.iter().position(|n| *n == k) else {
                return Err(Error::new(format!(
                    "{}() got an unexpected keyword argument '{k}'{} (usage: {})",
                    f.name,
                    did_you_mean(&k, names.iter().copied()),
                    f.usage()
                )));
            };
            if slots[i].is_some() {
                return Err(Error::new(format!(
                    "{}() got multiple values for argument '{k}'",
                    f.name
                )));
            }
            slots[i] = Some(v);
        }
        for (i, p) in f.named_params_raw().enumerate() {
            if slots[i].is_none() && !p.contains('=') {
                return Err(Error::new(format!(
                    "{}() is missing argument '{}' (usage: {})",
                    f.name,
                    names[i],
                    f.usage()
                )));
            }
        }
        Ok(Bound { f, slots, rest })
    }
}

impl Bound {
    /// The argument for parameter `i` (declaration order), if given.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    /// The argument for the parameter called `name`, if given.
    pub fn named(&self, name: &str) -> Option<&Value> {
        let i = self.f.named_params().position(|n| n == name)?;
        self.get(i)
    }

    /// A required text argument.
    pub fn text(&self, i: usize) -> R<String> {
        let name = self.f.named_params().nth(i).unwrap_or("argument");
        let v = self.get(i).ok_or_else(|| {
            Error::new(format!(
                "{}() is missing argument '{name}' (usage: {})",
                self.f.name,
                self.f.usage()
            ))
        })?;
        v.as_text().ok_or_else(|| {
            Error::new(format!(
                "{}(): '{name}' must be a string, got {}",
                self.f.name,
                v.type_name()
            ))
        })
    }

    /// Is the named parameter given and true?
    pub fn flag(&self, name: &str) -> bool {
        self.named(name).is_some_and(Value::truthy)
    }

    /// The one required argument of a single-argument builtin.
    fn one(&self) -> &Value {
        // `bind` checked it is there.
        self.get(0).unwrap_or(&Value::None)
    }
}

/// How a builtin runs.
pub enum Func {
    /// Builds a value from its arguments alone: no bus traffic, no output. Completion runs
    /// these to know what `unit('x.service').` is.
    Pure(fn(&Bound) -> R<Value>),
    /// Needs the interpreter: the bus, output, variables.
    Eval(fn(&mut Interp, Bound) -> R<Value>),
}

pub struct Builtin {
    /// Full dotted name: `unit`, `pystemd.systemd1.Unit`, `os.getpid`.
    pub name: &'static str,
    /// Parameters in order (see the module docs for the syntax).
    pub params: &'static [&'static str],
    pub help: &'static str,
    pub func: Func,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

impl Builtin {
    /// Declared parameters other than `*rest`, as written (`bus=None`).
    fn named_params_raw(&self) -> impl Iterator<Item = &'static str> {
        self.params.iter().copied().filter(|p| !p.starts_with('*'))
    }

    /// Names of the parameters other than `*rest` (`bus`): what keywords may be given.
    pub fn named_params(&self) -> impl Iterator<Item = &'static str> {
        self.named_params_raw()
            .map(|p| p.split('=').next().unwrap_or(p))
    }

    fn has_rest(&self) -> bool {
        self.params.iter().any(|p| p.starts_with('*'))
    }

    /// How many parameters positional arguments fill (those before `*rest`).
    fn positional_count(&self) -> usize {
        self.params
            .iter()
            .position(|p| p.starts_with('*'))
            .unwrap_or(self.params.len())
    }

    /// `unit(name, bus=None, _autoload=False)`.
    pub fn usage(&self) -> String {
        format!("{}({})", self.name, self.params.join(", "))
    }
}

/// Namespaces bound at start (`import` binds them again, or what they hold).
pub const ROOT_MODULES: &[&str] = &["pystemd", "os", "sys"];

macro_rules! pure {
    ($name:expr, [$($p:expr),*], $help:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], help: $help, func: Func::Pure($f) }
    };
}
macro_rules! eval {
    ($name:expr, [$($p:expr),*], $help:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], help: $help, func: Func::Eval($f) }
    };
}

pub static BUILTINS: &[Builtin] = &[
    pure!(
        "object",
        ["service", "path", "bus=None", "_autoload=False"],
        "A D-Bus object; its interfaces are attributes: object(s, p).Properties",
        b_object
    ),
    pure!(
        "unit",
        ["name", "bus=None", "_autoload=False"],
        "A systemd unit object: unit('x.service').Service.MainPID",
        b_unit
    ),
    pure!(
        "manager",
        ["bus=None", "_autoload=False"],
        "The systemd manager object: manager().Manager.GetUnitByPID(pid())",
        b_manager
    ),
    pure!(
        "path_encode",
        ["prefix", "name"],
        "Escape NAME into an object path below PREFIX (sd_bus_path_encode)",
        b_path_encode
    ),
    pure!(
        "path_decode",
        ["path", "prefix"],
        "The name PATH encodes below PREFIX (sd_bus_path_decode)",
        b_path_decode
    ),
    pure!("pid", [], "This shell's process id", b_pid),
    pure!(
        "type",
        ["value"],
        "The type of a value, e.g. uint32",
        b_type
    ),
    pure!("len", ["value"], "Number of items or characters", b_len),
    eval!(
        "print",
        [
            "*values",
            "sep=' '",
            "end='\\n'",
            "file=None",
            "flush=False"
        ],
        "Print values separated by spaces",
        b_print
    ),
    pure!("repr", ["value"], "The printed form of a value", b_repr),
    pure!("str", ["value"], "A value as text", b_str),
    pure!("int", ["value"], "A value as a plain integer", b_int),
    pure!("float", ["value"], "A value as a float", b_float),
    pure!("bool", ["value=False"], "Truth of a value", b_bool),
    eval!(
        "dir",
        ["value=None"],
        "Names available on a value (or all variables)",
        b_dir
    ),
    pure!(
        "byte",
        ["value"],
        "N as a D-Bus byte (y), e.g. to put in a variant",
        b_byte
    ),
    pure!("int16", ["value"], "N as a D-Bus int16 (n)", b_i16),
    pure!("uint16", ["value"], "N as a D-Bus uint16 (q)", b_u16),
    pure!("int32", ["value"], "N as a D-Bus int32 (i)", b_i32),
    pure!("uint32", ["value"], "N as a D-Bus uint32 (u)", b_u32),
    pure!("int64", ["value"], "N as a D-Bus int64 (x)", b_i64),
    pure!("uint64", ["value"], "N as a D-Bus uint64 (t)", b_u64),
    pure!(
        "ObjectPath",
        ["value"],
        "TEXT as a D-Bus object path (o)",
        b_objpath
    ),
    pure!(
        "Signature",
        ["value"],
        "TEXT as a D-Bus signature (g)",
        b_signature
    ),
    pure!("exit", ["status=0"], "Leave the shell", b_exit),
    pure!("quit", ["status=0"], "Leave the shell", b_exit),
    // pystemd spellings
    pure!(
        "pystemd.base.SDObject",
        ["destination", "path", "bus=None", "_autoload=False"],
        "Same as object()",
        b_object
    ),
    pure!(
        "pystemd.systemd1.Unit",
        ["external_id", "bus=None", "_autoload=False"],
        "Same as unit()",
        b_unit
    ),
    pure!(
        "pystemd.systemd1.Manager",
        ["bus=None", "_autoload=False"],
        "Same as manager()",
        b_manager
    ),
    pure!(
        "pystemd.dbuslib.path_encode",
        ["prefix", "name"],
        "Same as path_encode()",
        b_path_encode
    ),
    pure!(
        "pystemd.dbuslib.path_decode",
        ["path", "prefix"],
        "Same as path_decode()",
        b_path_decode
    ),
    pure!("os.getpid", [], "Same as pid()", b_pid),
];

/// Attribute `name` of module `m`: a builtin or a deeper namespace.
pub fn module_attr(m: &str, name: &str) -> Option<Value> {
    let full = format!("{m}.{name}");
    if let Some(b) = BUILTINS.iter().find(|b| b.name == full) {
        return Some(Value::Builtin(b));
    }
    let prefix = format!("{full}.");
    BUILTINS
        .iter()
        .find(|b| b.name.starts_with(&prefix))
        .map(|b| Value::Module(&b.name[..full.len()]))
}

/// A dotted name such as `pystemd.systemd1.Unit` or `os`: a builtin or a namespace.
pub fn resolve_dotted(name: &str) -> Option<Value> {
    let mut parts = name.split('.');
    let root = parts.next()?;
    let mut v = Value::Module(ROOT_MODULES.iter().copied().find(|m| *m == root)?);
    for p in parts {
        let Value::Module(m) = v else { return None };
        v = module_attr(m, p)?;
    }
    Some(v)
}

/// Names directly inside module `m` (for completion and `dir`).
pub fn module_names(m: &str) -> Vec<&'static str> {
    let prefix = format!("{m}.");
    let mut out: Vec<&'static str> = BUILTINS
        .iter()
        .filter_map(|b| b.name.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split('.').next().unwrap_or(rest))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Methods of plain values: name → whether the value type has it.
pub fn value_method(v: &Value, name: &str) -> Option<&'static str> {
    let table: &[&'static str] = match v {
        Value::Str(_) | Value::Path(_) | Value::Signature(_) => &[
            "decode",
            "encode",
            "startswith",
            "endswith",
            "split",
            "strip",
            "lower",
            "upper",
            "replace",
            "join",
        ],
        Value::Bytes(_) => &["decode", "startswith", "endswith", "split", "strip"],
        Value::Dict(_) => &["keys", "values", "items", "get"],
        Value::List(_) | Value::Tuple(_) => &["index", "count"],
        _ => &[],
    };
    table.iter().copied().find(|m| *m == name)
}

/// The method names `value_method` knows for a value (for completion).
pub fn value_method_names(v: &Value) -> Vec<&'static str> {
    [
        "decode",
        "encode",
        "startswith",
        "endswith",
        "split",
        "strip",
        "lower",
        "upper",
        "replace",
        "join",
        "keys",
        "values",
        "items",
        "get",
        "index",
        "count",
    ]
    .into_iter()
    .filter(|m| value_method(v, m).is_some())
    .collect()
}

pub fn call_value_method(
    it: &mut Interp,
    recv: &Value,
    name: &str,
    args: Args,
) -> Result<Value, Error> {
    let arg_text = |n: usize| -> Result<String, Error> {
        args.pos
            .get(n)
            .and_then(Value::as_text)
            .ok_or_else(|| Error::new(format!("{name}() needs a string argument")))
    };
    match (recv, name) {
        (Value::Object(o), "load") => {
            it.introspect(o)?;
            Ok(Value::None)
        }
        (Value::Bytes(b), "decode") => Ok(Value::Str(String::from_utf8_lossy(b).into_owned())),
        (v, "decode") => Ok(Value::Str(v.as_text().unwrap_or_default())),
        (v, "encode") => Ok(Value::Bytes(v.as_text().unwrap_or_default().into_bytes())),
        (v, "startswith") => Ok(Value::Bool(
            v.as_text().unwrap_or_default().starts_with(&arg_text(0)?),
        )),
        (v, "endswith") => Ok(Value::Bool(
            v.as_text().unwrap_or_default().ends_with(&arg_text(0)?),
        )),
        (v, "strip") => Ok(Value::Str(
            v.as_text().unwrap_or_default().trim().to_string(),
        )),
        (v, "lower") => Ok(Value::Str(v.as_text().unwrap_or_default().to_lowercase())),
        (v, "upper") => Ok(Value::Str(v.as_text().unwrap_or_default().to_uppercase())),
        (v, "replace") => Ok(Value::Str(
            v.as_text()
                .unwrap_or_default()
                .replace(&arg_text(0)?, &arg_text(1)?),
        )),
        (v, "split") => {
            let s = v.as_text().unwrap_or_default();
            let parts: Vec<Value> = match args.pos.first() {
                Some(_) => s.split(arg_text(0)?.as_str()).map(Value::str).collect(),
                None => s.split_whitespace().map(Value::str).collect(),
            };
            Ok(Value::List(parts))
        }
        (v, "join") => {
            let sep = v.as_text().unwrap_or_default();
            let Some(Value::List(items) | Value::Tuple(items)) = args.pos.first() else {
                return Err(Error::new("join() needs a list of strings"));
            };
            let texts: Vec<String> = items.iter().map(Value::to_display).collect();
            Ok(Value::Str(texts.join(&sep)))
        }
        (Value::Dict(d), "keys") => Ok(Value::List(d.iter().map(|(k, _)| k.clone()).collect())),
        (Value::Dict(d), "values") => Ok(Value::List(d.iter().map(|(_, v)| v.clone()).collect())),
        (Value::Dict(d), "items") => Ok(Value::List(
            d.iter()
                .map(|(k, v)| Value::Tuple(vec![k.clone(), v.clone()]))
                .collect(),
        )),
        (Value::Dict(d), "get") => {
            let key = args.pos.first().cloned().unwrap_or(Value::None);
            let default = args.pos.get(1).cloned().unwrap_or(Value::None);
            Ok(d.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or(default))
        }
        (Value::List(items) | Value::Tuple(items), "count") => {
            let x = args.pos.first().cloned().unwrap_or(Value::None);
            Ok(Value::int(items.iter().filter(|i| **i == x).count() as i128))
        }
        (Value::List(items) | Value::Tuple(items), "index") => {
            let x = args.pos.first().cloned().unwrap_or(Value::None);
            items
                .iter()
                .position(|i| *i == x)
                .map(|p| Value::int(p as i128))
                .ok_or_else(|| Error::new(format!("{} is not in the list", x.repr())))
        }
        (v, m) => Err(Error::new(format!(
            "a {} has no method '{m}'",
            v.type_name()
        ))),
    }
}

fn b_object(a: &Bound) -> R<Value> {
    object_value(&a.text(0)?, &a.text(1)?, "object")
}

fn b_unit(a: &Bound) -> R<Value> {
    let name = a.text(0)?;
    if name.is_empty() {
        return Err(Error::new(
            "unit(): the unit name is empty (e.g. unit('cron.service'))",
        ));
    }
    object_value(
        systemd::SERVICE,
        &systemd::unit_path(&name),
        &format!("unit {name}"),
    )
}

fn b_manager(_: &Bound) -> R<Value> {
    object_value(systemd::SERVICE, systemd::MANAGER_PATH, "manager")
}

fn b_path_encode(a: &Bound) -> R<Value> {
    let prefix = a.text(0)?;
    let name = a.text(1)?;
    crate::bus::names::check_object_path(&prefix)
        .map_err(|e| Error::new(format!("path_encode(): {e}")))?;
    Ok(Value::Path(path::encode(&prefix, &name)))
}

fn b_path_decode(a: &Bound) -> R<Value> {
    let p = a.text(0)?;
    let prefix = a.text(1)?;
    path::decode(&p, &prefix).map(Value::Str).ok_or_else(|| {
        Error::new(format!(
            "path_decode(): '{p}' is not an encoded name below '{prefix}'"
        ))
    })
}

fn b_pid(_: &Bound) -> R<Value> {
    Ok(Value::Int(std::process::id() as i128, IntKind::Plain))
}

fn b_type(a: &Bound) -> R<Value> {
    Ok(Value::Str(a.one().type_name().to_string()))
}

fn b_len(a: &Bound) -> R<Value> {
    let n = match a.one() {
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(v) | Value::Tuple(v) => v.len(),
        Value::Dict(d) => d.len(),
        other => {
            return Err(Error::new(format!("a {} has no length", other.type_name())));
        }
    };
    Ok(Value::int(n as i128))
}

fn b_print(it: &mut Interp, a: Bound) -> R<Value> {
    let text_of = |name: &str, default: &str| -> R<String> {
        match a.named(name) {
            None | Some(Value::None) => Ok(default.to_string()),
            Some(v) => v.as_text().ok_or_else(|| {
                Error::new(format!(
                    "print(): {name} must be a string, not {}",
                    v.type_name()
                ))
            }),
        }
    };
    let sep = text_of("sep", " ")?;
    let end = text_of("end", "\n")?;
    let texts: Vec<String> = a.rest.iter().map(Value::to_display).collect();
    write!(it.out, "{}{end}", texts.join(&sep))?;
    if a.flag("flush") {
        it.out.flush()?;
    }
    Ok(Value::None)
}

fn b_repr(a: &Bound) -> R<Value> {
    Ok(Value::Str(a.one().repr()))
}

fn b_str(a: &Bound) -> R<Value> {
    Ok(Value::Str(a.one().to_display()))
}

fn b_int(a: &Bound) -> R<Value> {
    match a.one() {
        Value::Int(i, _) => Ok(Value::int(*i)),
        Value::Bool(b) => Ok(Value::int(*b as i128)),
        Value::Float(f) if f.is_finite() => Ok(Value::int(f.trunc() as i128)),
        v => {
            let t = v.as_text().unwrap_or_default();
            t.trim().parse::<i128>().map(Value::int).map_err(|_| {
                Error::new(format!("int(): cannot convert {} to an integer", v.repr()))
            })
        }
    }
}

fn b_float(a: &Bound) -> R<Value> {
    match a.one() {
        Value::Int(i, _) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        v => v
            .as_text()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map(Value::Float)
            .ok_or_else(|| Error::new(format!("float(): cannot convert {}", v.repr()))),
    }
}

fn b_bool(a: &Bound) -> R<Value> {
    Ok(Value::Bool(a.get(0).is_some_and(Value::truthy)))
}

fn b_dir(it: &mut Interp, a: Bound) -> R<Value> {
    let names: Vec<String> = match a.get(0) {
        None | Some(Value::None) => {
            let mut v: Vec<String> = it.vars.borrow().keys().cloned().collect();
            v.sort();
            v
        }
        Some(v) => crate::lang::attributes::attribute_names(&it.session, v, true)
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
    };
    Ok(Value::List(names.into_iter().map(Value::Str).collect()))
}

/// `uint32(5)` and friends: a plain integer given an exact D-Bus width.
fn typed(a: &Bound, kind: IntKind) -> R<Value> {
    let name = kind.type_name();
    let (lo, hi) = kind.range();
    match a.one() {
        Value::Int(i, _) if (lo..=hi).contains(i) => Ok(Value::Int(*i, kind)),
        Value::Int(i, _) => Err(Error::new(format!(
            "{name}(): {i} is out of range {lo}..{hi}"
        ))),
        v => Err(Error::new(format!(
            "{name}() needs an integer, got {}",
            v.repr()
        ))),
    }
}

fn b_byte(a: &Bound) -> R<Value> {
    typed(a, IntKind::Byte)
}
fn b_i16(a: &Bound) -> R<Value> {
    typed(a, IntKind::I16)
}
fn b_u16(a: &Bound) -> R<Value> {
    typed(a, IntKind::U16)
}
fn b_i32(a: &Bound) -> R<Value> {
    typed(a, IntKind::I32)
}
fn b_u32(a: &Bound) -> R<Value> {
    typed(a, IntKind::U32)
}
fn b_i64(a: &Bound) -> R<Value> {
    typed(a, IntKind::I64)
}
fn b_u64(a: &Bound) -> R<Value> {
    typed(a, IntKind::U64)
}

fn b_objpath(a: &Bound) -> R<Value> {
    let t = a.one().as_text().unwrap_or_default();
    crate::bus::names::check_object_path(&t).map_err(Error::new)?;
    Ok(Value::Path(t))
}

fn b_signature(a: &Bound) -> R<Value> {
    let t = a.one().as_text().unwrap_or_default();
    crate::bus::sig::Sig::parse_list(&t).map_err(|e| Error::new(e.to_string()))?;
    Ok(Value::Signature(t))
}

/// `exit()` unwinds as an error of kind Exit, so it leaves from inside any expression.
fn b_exit(a: &Bound) -> R<Value> {
    match a.get(0) {
        None | Some(Value::None) => Err(Error::exit(0)),
        Some(Value::Int(i, _)) => Err(Error::exit(i32::try_from(*i).unwrap_or(1))),
        Some(Value::Bool(b)) => Err(Error::exit(i32::from(*b))),
        // Python prints a message given to exit() and leaves with 1.
        Some(other) => {
            let mut e = Error::exit(1);
            e.message = other.to_display();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pos: Vec<Value>, kw: Vec<(&str, Value)>) -> Args {
        Args {
            pos,
            kw: kw.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    fn find(name: &str) -> &'static Builtin {
        BUILTINS.iter().find(|b| b.name == name).unwrap()
    }

    #[test]
    fn binding_follows_the_declared_parameters() {
        let unit = find("unit");
        assert_eq!(unit.usage(), "unit(name, bus=None, _autoload=False)");
        let b = args(
            vec![Value::str("x.service")],
            vec![("_autoload", Value::Bool(true))],
        )
        .bind(unit)
        .unwrap();
        assert_eq!(b.text(0).unwrap(), "x.service");
        assert!(b.flag("_autoload"));
        let pyunit = find("pystemd.systemd1.Unit");
        let b = args(vec![], vec![("external_id", Value::str("y.service"))])
            .bind(pyunit)
            .unwrap();
        assert_eq!(b.text(0).unwrap(), "y.service");
        let errors = [
            (args(vec![], vec![]), "is missing argument 'name'"),
            (
                args(
                    vec![Value::str("a"), Value::None, Value::None, Value::None],
                    vec![],
                ),
                "takes at most 3 positional arguments",
            ),
            (
                args(vec![], vec![("nmae", Value::str("a"))]),
                "unexpected keyword argument 'nmae' (did you mean name?)",
            ),
            (
                args(vec![Value::str("a")], vec![("name", Value::str("b"))]),
                "multiple values for argument 'name'",
            ),
            // The spelling pystemd uses for Unit is not a keyword of unit().
            (
                args(vec![], vec![("external_id", Value::str("a"))]),
                "unexpected keyword argument 'external_id'",
            ),
        ];
        for (a, want) in errors {
            let e = a.bind(unit).unwrap_err().message;
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn star_parameters_collect_the_rest() {
        let print = find("print");
        let b = args(
            vec![Value::int(1), Value::int(2)],
            vec![("sep", Value::str("-"))],
        )
        .bind(print)
        .unwrap();
        assert_eq!(b.rest.len(), 2);
        assert_eq!(b.named("sep"), Some(&Value::str("-")));
        assert_eq!(
            print.named_params().collect::<Vec<_>>(),
            ["sep", "end", "file", "flush"]
        );
    }

    #[test]
    fn every_builtin_has_a_distinct_name() {
        let mut names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}

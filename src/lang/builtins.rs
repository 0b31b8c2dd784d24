//! Built-in functions and the pystemd-compatible namespaces.
//!
//! Each builtin is declared once, as data: its (dotted) name, its parameter names (which
//! keyword-argument completion offers) and its help. `pystemd.systemd1.Unit` and `unit` are two
//! names for one function, so pasted pystemd code and short shell spellings behave the same.

use crate::bus::path;
use crate::lang::error::EvalError;
use crate::lang::interp::Interp;
use crate::lang::value::{IntKind, Value};
use crate::systemd;

/// Positional and keyword arguments of a call.
#[derive(Debug, Default)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Vec<(String, Value)>,
}

impl Args {
    /// Argument `n` (0-based), or the keyword `name`.
    pub fn get(&self, n: usize, name: &str) -> Option<&Value> {
        self.kw
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.pos.get(n))
    }

    fn need(&self, n: usize, name: &str, f: &Builtin) -> Result<&Value, EvalError> {
        self.get(n, name).ok_or_else(|| {
            EvalError::new(format!(
                "{}() is missing argument '{name}' (usage: {})",
                f.name, f.usage
            ))
        })
    }

    fn text(&self, n: usize, name: &str, f: &Builtin) -> Result<String, EvalError> {
        let v = self.need(n, name, f)?;
        v.as_text().ok_or_else(|| {
            EvalError::new(format!(
                "{}(): '{name}' must be a string, got {}",
                f.name,
                v.type_name()
            ))
        })
    }

    fn flag(&self, name: &str) -> bool {
        self.kw.iter().any(|(k, v)| k == name && v.truthy())
    }

    fn check(&self, f: &Builtin) -> Result<(), EvalError> {
        for (k, _) in &self.kw {
            if !f.params.contains(&k.as_str()) {
                return Err(EvalError::new(format!(
                    "{}() got an unexpected keyword argument '{k}' (usage: {})",
                    f.name, f.usage
                )));
            }
        }
        Ok(())
    }
}

type Func = fn(&mut Interp, Args) -> Result<Value, EvalError>;

pub struct Builtin {
    /// Full dotted name: `unit`, `pystemd.systemd1.Unit`, `os.getpid`.
    pub name: &'static str,
    /// Parameter names, positional order; keyword completion offers them.
    pub params: &'static [&'static str],
    pub usage: &'static str,
    pub help: &'static str,
    pub func: Func,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

/// Namespaces bound at start (`import` lines are accepted and do nothing).
pub const ROOT_MODULES: &[&str] = &["pystemd", "os", "sys"];

macro_rules! builtin {
    ($name:expr, [$($p:expr),*], $usage:expr, $help:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], usage: $usage, help: $help, func: $f }
    };
}

pub static BUILTINS: &[Builtin] = &[
    builtin!(
        "object",
        ["service", "path", "_autoload"],
        "object(SERVICE, PATH)",
        "A D-Bus object; its interfaces are attributes: object(s, p).Properties",
        b_object
    ),
    builtin!(
        "unit",
        ["name", "_autoload"],
        "unit(NAME)",
        "A systemd unit object: unit('x.service').Service.MainPID",
        b_unit
    ),
    builtin!(
        "manager",
        ["_autoload"],
        "manager()",
        "The systemd manager object: manager().Manager.GetUnitByPID(pid())",
        b_manager
    ),
    builtin!(
        "path_encode",
        ["prefix", "name"],
        "path_encode(PREFIX, NAME)",
        "Escape NAME into an object path below PREFIX (sd_bus_path_encode)",
        b_path_encode
    ),
    builtin!(
        "path_decode",
        ["path", "prefix"],
        "path_decode(PATH, PREFIX)",
        "The name PATH encodes below PREFIX (sd_bus_path_decode)",
        b_path_decode
    ),
    builtin!("pid", [], "pid()", "This shell's process id", b_pid),
    builtin!(
        "type",
        ["value"],
        "type(VALUE)",
        "The type of a value, e.g. uint32",
        b_type
    ),
    builtin!(
        "len",
        ["value"],
        "len(VALUE)",
        "Number of items or characters",
        b_len
    ),
    builtin!(
        "print",
        [],
        "print(VALUE, ...)",
        "Print values separated by spaces",
        b_print
    ),
    builtin!(
        "repr",
        ["value"],
        "repr(VALUE)",
        "The printed form of a value",
        b_repr
    ),
    builtin!("str", ["value"], "str(VALUE)", "A value as text", b_str),
    builtin!(
        "int",
        ["value"],
        "int(VALUE)",
        "A value as a plain integer",
        b_int
    ),
    builtin!(
        "float",
        ["value"],
        "float(VALUE)",
        "A value as a float",
        b_float
    ),
    builtin!("bool", ["value"], "bool(VALUE)", "Truth of a value", b_bool),
    builtin!(
        "dir",
        ["value"],
        "dir(VALUE)",
        "Names available on a value (or all variables)",
        b_dir
    ),
    builtin!(
        "byte",
        ["value"],
        "byte(N)",
        "N as a D-Bus byte (y), e.g. to put in a variant",
        b_byte
    ),
    builtin!(
        "int16",
        ["value"],
        "int16(N)",
        "N as a D-Bus int16 (n)",
        b_i16
    ),
    builtin!(
        "uint16",
        ["value"],
        "uint16(N)",
        "N as a D-Bus uint16 (q)",
        b_u16
    ),
    builtin!(
        "int32",
        ["value"],
        "int32(N)",
        "N as a D-Bus int32 (i)",
        b_i32
    ),
    builtin!(
        "uint32",
        ["value"],
        "uint32(N)",
        "N as a D-Bus uint32 (u)",
        b_u32
    ),
    builtin!(
        "int64",
        ["value"],
        "int64(N)",
        "N as a D-Bus int64 (x)",
        b_i64
    ),
    builtin!(
        "uint64",
        ["value"],
        "uint64(N)",
        "N as a D-Bus uint64 (t)",
        b_u64
    ),
    builtin!(
        "ObjectPath",
        ["value"],
        "ObjectPath(TEXT)",
        "TEXT as a D-Bus object path (o)",
        b_objpath
    ),
    builtin!(
        "Signature",
        ["value"],
        "Signature(TEXT)",
        "TEXT as a D-Bus signature (g)",
        b_signature
    ),
    builtin!(
        "exit",
        ["status"],
        "exit([STATUS])",
        "Leave the shell",
        b_exit
    ),
    builtin!(
        "quit",
        ["status"],
        "quit([STATUS])",
        "Leave the shell",
        b_exit
    ),
    // pystemd spellings
    builtin!(
        "pystemd.base.SDObject",
        ["destination", "path", "bus", "_autoload"],
        "pystemd.base.SDObject(DESTINATION, PATH, _autoload=False)",
        "Same as object()",
        b_object
    ),
    builtin!(
        "pystemd.systemd1.Unit",
        ["external_id", "bus", "_autoload"],
        "pystemd.systemd1.Unit(NAME, _autoload=False)",
        "Same as unit()",
        b_unit
    ),
    builtin!(
        "pystemd.systemd1.Manager",
        ["bus", "_autoload"],
        "pystemd.systemd1.Manager(_autoload=False)",
        "Same as manager()",
        b_manager
    ),
    builtin!(
        "pystemd.dbuslib.path_encode",
        ["prefix", "name"],
        "pystemd.dbuslib.path_encode(PREFIX, NAME)",
        "Same as path_encode()",
        b_path_encode
    ),
    builtin!(
        "pystemd.dbuslib.path_decode",
        ["path", "prefix"],
        "pystemd.dbuslib.path_decode(PATH, PREFIX)",
        "Same as path_decode()",
        b_path_decode
    ),
    builtin!("os.getpid", [], "os.getpid()", "Same as pid()", b_pid),
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
) -> Result<Value, EvalError> {
    let arg_text = |n: usize| -> Result<String, EvalError> {
        args.pos
            .get(n)
            .and_then(Value::as_text)
            .ok_or_else(|| EvalError::new(format!("{name}() needs a string argument")))
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
                return Err(EvalError::new("join() needs a list of strings"));
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
                .ok_or_else(|| EvalError::new(format!("{} is not in the list", x.repr())))
        }
        (v, m) => Err(EvalError::new(format!(
            "a {} has no method '{m}'",
            v.type_name()
        ))),
    }
}

fn this(name: &str) -> &'static Builtin {
    BUILTINS
        .iter()
        .find(|b| b.name == name)
        .expect("builtin exists")
}

fn b_object(it: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let f = this("object");
    check_any(
        &a,
        &["service", "path", "destination", "bus", "_autoload"],
        f,
    )?;
    let service = a
        .get(0, "service")
        .or_else(|| a.get(0, "destination"))
        .and_then(Value::as_text)
        .ok_or_else(|| EvalError::new(format!("missing the service name (usage: {})", f.usage)))?;
    let path = a.text(1, "path", f)?;
    it.make_object(&service, &path, "object", a.flag("_autoload"))
}

fn check_any(a: &Args, allowed: &[&str], f: &Builtin) -> Result<(), EvalError> {
    for (k, _) in &a.kw {
        if !allowed.contains(&k.as_str()) {
            return Err(EvalError::new(format!(
                "{}() got an unexpected keyword argument '{k}' (usage: {})",
                f.name, f.usage
            )));
        }
    }
    Ok(())
}

fn b_unit(it: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let f = this("unit");
    check_any(&a, &["name", "external_id", "bus", "_autoload"], f)?;
    let name = a
        .get(0, "name")
        .or_else(|| a.get(0, "external_id"))
        .and_then(Value::as_text)
        .ok_or_else(|| EvalError::new(format!("missing the unit name (usage: {})", f.usage)))?;
    if name.is_empty() {
        return Err(EvalError::new(
            "unit(): the unit name is empty (e.g. unit('cron.service'))",
        ));
    }
    it.make_object(
        systemd::SERVICE,
        &systemd::unit_path(&name),
        &format!("unit {name}"),
        a.flag("_autoload"),
    )
}

fn b_manager(it: &mut Interp, a: Args) -> Result<Value, EvalError> {
    check_any(&a, &["bus", "_autoload"], this("manager"))?;
    it.make_object(
        systemd::SERVICE,
        systemd::MANAGER_PATH,
        "manager",
        a.flag("_autoload"),
    )
}

fn b_path_encode(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let f = this("path_encode");
    a.check(f)?;
    let prefix = a.text(0, "prefix", f)?;
    let name = a.text(1, "name", f)?;
    if !crate::bus::names::is_object_path(&prefix) {
        return Err(EvalError::new(format!(
            "path_encode(): '{prefix}' is not an object path (e.g. /org/freedesktop/systemd1/unit)"
        )));
    }
    Ok(Value::Path(path::encode(&prefix, &name)))
}

fn b_path_decode(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let f = this("path_decode");
    a.check(f)?;
    let p = a.text(0, "path", f)?;
    let prefix = a.text(1, "prefix", f)?;
    path::decode(&p, &prefix).map(Value::Str).ok_or_else(|| {
        EvalError::new(format!(
            "path_decode(): '{p}' is not an encoded name below '{prefix}'"
        ))
    })
}

fn b_pid(_: &mut Interp, _: Args) -> Result<Value, EvalError> {
    Ok(Value::Int(std::process::id() as i128, IntKind::Plain))
}

fn one<'a>(a: &'a Args, name: &str) -> Result<&'a Value, EvalError> {
    a.get(0, "value")
        .ok_or_else(|| EvalError::new(format!("{name}() takes one argument")))
}

fn b_type(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    Ok(Value::Str(one(&a, "type")?.type_name().to_string()))
}

fn b_len(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let v = one(&a, "len")?;
    let n = match v {
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(v) | Value::Tuple(v) => v.len(),
        Value::Dict(d) => d.len(),
        other => {
            return Err(EvalError::new(format!(
                "a {} has no length",
                other.type_name()
            )));
        }
    };
    Ok(Value::int(n as i128))
}

fn b_print(it: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let texts: Vec<String> = a.pos.iter().map(Value::to_display).collect();
    let _ = writeln!(it.out, "{}", texts.join(" "));
    Ok(Value::None)
}

use std::io::Write as _;

fn b_repr(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    Ok(Value::Str(one(&a, "repr")?.repr()))
}

fn b_str(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    Ok(Value::Str(one(&a, "str")?.to_display()))
}

fn b_int(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    match one(&a, "int")? {
        Value::Int(i, _) => Ok(Value::int(*i)),
        Value::Bool(b) => Ok(Value::int(*b as i128)),
        Value::Float(f) if f.is_finite() => Ok(Value::int(f.trunc() as i128)),
        v => {
            let t = v.as_text().unwrap_or_default();
            t.trim().parse::<i128>().map(Value::int).map_err(|_| {
                EvalError::new(format!("int(): cannot convert {} to an integer", v.repr()))
            })
        }
    }
}

fn b_float(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    match one(&a, "float")? {
        Value::Int(i, _) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        v => v
            .as_text()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map(Value::Float)
            .ok_or_else(|| EvalError::new(format!("float(): cannot convert {}", v.repr()))),
    }
}

fn b_bool(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    Ok(Value::Bool(a.pos.first().is_some_and(Value::truthy)))
}

fn b_dir(it: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let names: Vec<String> = match a.pos.first() {
        None => {
            let mut v: Vec<String> = it.vars.borrow().keys().cloned().collect();
            v.sort();
            v
        }
        Some(v) => crate::repl::attributes::attribute_names(&it.session, v, true)
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
    };
    Ok(Value::List(names.into_iter().map(Value::Str).collect()))
}

/// `uint32(5)` and friends: a plain integer given an exact D-Bus width.
fn typed(a: &Args, kind: IntKind) -> Result<Value, EvalError> {
    let name = kind.type_name();
    let (lo, hi) = kind.range();
    match one(a, name)? {
        Value::Int(i, _) if (lo..=hi).contains(i) => Ok(Value::Int(*i, kind)),
        Value::Int(i, _) => Err(EvalError::new(format!(
            "{name}(): {i} is out of range {lo}..{hi}"
        ))),
        v => Err(EvalError::new(format!(
            "{name}() needs an integer, got {}",
            v.repr()
        ))),
    }
}

fn b_byte(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::Byte)
}
fn b_i16(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::I16)
}
fn b_u16(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::U16)
}
fn b_i32(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::I32)
}
fn b_u32(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::U32)
}
fn b_i64(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::I64)
}
fn b_u64(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    typed(&a, IntKind::U64)
}

fn b_objpath(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let t = one(&a, "ObjectPath")?.as_text().unwrap_or_default();
    if !crate::bus::names::is_object_path(&t) {
        return Err(EvalError::new(format!("'{t}' is not a valid object path")));
    }
    Ok(Value::Path(t))
}

fn b_signature(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let t = one(&a, "Signature")?.as_text().unwrap_or_default();
    crate::bus::sig::Sig::parse_list(&t).map_err(|e| EvalError::new(e.to_string()))?;
    Ok(Value::Signature(t))
}

fn b_exit(_: &mut Interp, a: Args) -> Result<Value, EvalError> {
    let code = match a.get(0, "status") {
        Some(Value::Int(i, _)) => *i as i32,
        _ => 0,
    };
    Err(EvalError::new(format!("{EXIT_MARKER}{code}")))
}

/// `exit()` travels as an error carrying this marker, so it unwinds any expression.
pub const EXIT_MARKER: &str = "\u{0}exit:";

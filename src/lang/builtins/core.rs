//! Python's builtins that scripts need, and the D-Bus typed values (`uint32(5)`).

use std::io::Write as _;

use super::{Bound, Builtin, Func, R};
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::{IntKind, Value};

pub static BUILTINS: &[Builtin] = &[
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
    // pystemd spellings,
];

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

//! Python's builtins that scripts need, and the D-Bus typed values (`uint32(5)`).

use std::cmp::Ordering;
use std::io::Write as _;

use super::{Args, Bound, Builtin, Func, R};
use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::interp::Interp;
use crate::lang::interp::ops::{self, compare, float_to_int, int};
use crate::lang::value::{IntKind, Stream, Value, check_items, check_text, range_len};

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
    eval!(
        "input",
        ["prompt=''"],
        "Read a line from standard input",
        b_input
    ),
    pure!("repr", ["value"], "The printed form of a value", b_repr),
    pure!("str", ["value=''"], "A value as text", b_str),
    pure!(
        "int",
        ["value=0", "base=10"],
        "A value as a plain integer (int('ff', 16))",
        b_int
    ),
    pure!("float", ["value=0.0"], "A value as a float", b_float),
    pure!("bool", ["value=False"], "Truth of a value", b_bool),
    pure!(
        "bytes",
        ["value=b''"],
        "Bytes from a string (UTF-8), a list of numbers or a length",
        b_bytes
    ),
    eval!("list", ["iterable=()"], "A new list of the items", b_list),
    eval!("tuple", ["iterable=()"], "A tuple of the items", b_tuple),
    eval!("set", ["iterable=()"], "A set of the items", b_set),
    eval!(
        "dict",
        ["mapping=None", "**kwargs"],
        "A dict from a dict, from (key, value) pairs, or from keywords",
        b_dict
    ),
    pure!(
        "range",
        ["start_or_stop", "stop=None", "step=1"],
        "The integers from start up to (not including) stop",
        b_range
    ),
    eval!(
        "enumerate",
        ["iterable", "start=0"],
        "(index, item) pairs",
        b_enumerate
    ),
    eval!(
        "zip",
        ["*iterables"],
        "Tuples of the items at the same position",
        b_zip
    ),
    eval!(
        "sorted",
        ["iterable", "key=None", "reverse=False"],
        "A sorted list of the items",
        b_sorted
    ),
    eval!(
        "reversed",
        ["sequence"],
        "The items in reverse order",
        b_reversed
    ),
    eval!(
        "min",
        ["*values", "key=None", "default=None"],
        "The smallest item (of an iterable, or of the arguments)",
        b_min
    ),
    eval!(
        "max",
        ["*values", "key=None", "default=None"],
        "The largest item (of an iterable, or of the arguments)",
        b_max
    ),
    eval!(
        "sum",
        ["iterable", "start=0"],
        "The sum of the items",
        b_sum
    ),
    eval!("any", ["iterable"], "Is any item true?", b_any),
    eval!("all", ["iterable"], "Are all items true?", b_all),
    eval!(
        "map",
        ["function", "*iterables"],
        "The function applied to each item (a list)",
        b_map
    ),
    eval!(
        "filter",
        ["function", "iterable"],
        "The items for which the function is true (a list)",
        b_filter
    ),
    pure!(
        "isinstance",
        ["value", "classinfo"],
        "Is the value of this type (or of one of a tuple of types)?",
        b_isinstance
    ),
    eval!(
        "hasattr",
        ["value", "name"],
        "Does the value have this attribute?",
        b_hasattr
    ),
    eval!(
        "getattr",
        ["value", "name", "default=<none>"],
        "The attribute of that name (or the default)",
        b_getattr
    ),
    pure!(
        "callable",
        ["value"],
        "Can the value be called?",
        b_callable
    ),
    pure!("abs", ["number"], "The absolute value", b_abs),
    pure!(
        "round",
        ["number", "ndigits=None"],
        "Rounded to ndigits decimals (an integer without ndigits)",
        b_round
    ),
    pure!("divmod", ["a", "b"], "(a // b, a % b)", b_divmod),
    pure!(
        "pow",
        ["base", "exp", "mod=None"],
        "base ** exp (modulo mod)",
        b_pow
    ),
    pure!(
        "hex",
        ["number"],
        "An integer in hexadecimal: '0x1f'",
        b_hex
    ),
    pure!("oct", ["number"], "An integer in octal: '0o17'", b_oct),
    pure!("bin", ["number"], "An integer in binary: '0b101'", b_bin),
    pure!("chr", ["code"], "The character with this code point", b_chr),
    pure!("ord", ["char"], "The code point of a character", b_ord),
    pure!(
        "format",
        ["value", "spec=''"],
        "The value formatted by a format spec, e.g. format(3.14159, '.2f')",
        b_format
    ),
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
];

fn call1(it: &mut Interp, f: &Value, x: Value) -> R<Value> {
    it.call(
        f,
        Args {
            pos: vec![x],
            kw: Vec::new(),
        },
    )
}

fn b_type(a: &Bound) -> R<Value> {
    Ok(Value::Str(a.one().type_name().to_string()))
}

fn b_len(a: &Bound) -> R<Value> {
    let n = match a.one() {
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(v) | Value::Tuple(v) => v.borrow().len(),
        Value::Dict(d) | Value::Set(d) => d.borrow().len(),
        r @ Value::Range(..) => return Ok(Value::int(range_len(r))),
        other => {
            return Err(Error::type_error(format!(
                "a {} has no length",
                other.type_name()
            )));
        }
    };
    Ok(Value::int(n as i128))
}

fn b_print(it: &mut Interp, a: Bound) -> R<Value> {
    let text_of = |name: &str, default: &str| -> R<String> {
        match a.named(name) {
            None | Some(Value::None) => Ok(default.to_string()),
            Some(v) => v.as_text().ok_or_else(|| {
                Error::type_error(format!(
                    "print(): {name} must be a string, not {}",
                    v.type_name()
                ))
            }),
        }
    };
    let sep = text_of("sep", " ")?;
    let end = text_of("end", "\n")?;
    let texts: Vec<String> = a.rest.iter().map(Value::to_display).collect();
    let text = format!("{}{end}", texts.join(&sep));
    match a.named("file") {
        None | Some(Value::None) | Some(Value::Stream(Stream::Stdout)) => {
            it.out.write_all(text.as_bytes())?;
            if a.flag("flush") {
                it.out.flush()?;
            }
        }
        Some(Value::Stream(Stream::Stderr)) => {
            it.out.flush()?;
            let mut err = std::io::stderr().lock();
            err.write_all(text.as_bytes())?;
        }
        Some(other) => {
            return Err(Error::type_error(format!(
                "print(): file must be sys.stdout or sys.stderr, not {}",
                other.type_name()
            )));
        }
    }
    Ok(Value::None)
}

fn b_input(it: &mut Interp, a: Bound) -> R<Value> {
    if let Some(p) = a.get(0) {
        write!(it.out, "{}", p.to_display())?;
    }
    it.out.flush()?;
    let mut line = String::new();
    let n = std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::os(&e, "reading standard input"))?;
    it.check_interrupt()?;
    if n == 0 {
        return Err(Error::py(PyExc::OSError, "input(): end of input (EOF)"));
    }
    Ok(Value::Str(line.trim_end_matches(['\n', '\r']).to_string()))
}

fn b_repr(a: &Bound) -> R<Value> {
    Ok(Value::Str(a.one().repr()))
}

fn b_str(a: &Bound) -> R<Value> {
    Ok(Value::Str(
        a.get(0).map(Value::to_display).unwrap_or_default(),
    ))
}

fn b_int(a: &Bound) -> R<Value> {
    let base = match a.named("base") {
        None => None,
        Some(v) => Some(int(v).ok_or_else(|| Error::type_error("int(): base must be an integer"))?),
    };
    let v = a.get(0).cloned().unwrap_or(Value::int(0));
    match (&v, base) {
        (Value::Int(i, _), None) => Ok(Value::int(*i)),
        (Value::Bool(b), None) => Ok(Value::int(*b as i128)),
        (Value::Float(f), None) => Ok(Value::int(float_to_int(*f)?)),
        (v, base) => {
            let Some(t) = v.as_text() else {
                return Err(Error::type_error(format!(
                    "int() needs a number or a string, not {}",
                    v.type_name()
                )));
            };
            parse_int(t.trim(), base.unwrap_or(10)).ok_or_else(|| {
                Error::value_error(format!(
                    "int(): cannot convert {} to an integer{}",
                    v.repr(),
                    base.map(|b| format!(" in base {b}")).unwrap_or_default()
                ))
            })
        }
    }
}

fn parse_int(t: &str, base: i128) -> Option<Value> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits) = match (base, lower.get(..2)) {
        (0 | 16, Some("0x")) => (16, &t[2..]),
        (0 | 8, Some("0o")) => (8, &t[2..]),
        (0 | 2, Some("0b")) => (2, &t[2..]),
        (0, _) => (10, t),
        (b, _) if (2..=36).contains(&b) => (b as u32, t),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    let n = i128::from_str_radix(&digits, radix).ok()?;
    Some(Value::int(if neg { n.checked_neg()? } else { n }))
}

fn b_float(a: &Bound) -> R<Value> {
    match a.get(0) {
        None => Ok(Value::Float(0.0)),
        Some(Value::Int(i, _)) => Ok(Value::Float(*i as f64)),
        Some(Value::Bool(b)) => Ok(Value::Float(*b as i32 as f64)),
        Some(Value::Float(f)) => Ok(Value::Float(*f)),
        Some(v) => v
            .as_text()
            .and_then(|t| match t.trim().to_ascii_lowercase().as_str() {
                "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
                "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
                "nan" => Some(f64::NAN),
                s => s.parse::<f64>().ok(),
            })
            .map(Value::Float)
            .ok_or_else(|| Error::value_error(format!("float(): cannot convert {}", v.repr()))),
    }
}

fn b_bool(a: &Bound) -> R<Value> {
    Ok(Value::Bool(a.get(0).is_some_and(Value::truthy)))
}

fn b_bytes(a: &Bound) -> R<Value> {
    match a.get(0) {
        None => Ok(Value::Bytes(Vec::new())),
        Some(Value::Bytes(b)) => Ok(Value::Bytes(b.clone())),
        Some(Value::Str(s)) => Ok(Value::Bytes(s.as_bytes().to_vec())),
        Some(Value::Int(n, _)) => {
            let n = usize::try_from(*n).map_err(|_| Error::value_error("negative count"))?;
            check_text(n)?;
            Ok(Value::Bytes(vec![0; n]))
        }
        Some(Value::List(items) | Value::Tuple(items)) => items
            .borrow()
            .iter()
            .map(|v| match v {
                Value::Int(i, _) => u8::try_from(*i)
                    .map_err(|_| Error::value_error("bytes must be in range(0, 256)")),
                _ => Err(Error::type_error("bytes() needs a list of integers")),
            })
            .collect::<R<Vec<u8>>>()
            .map(Value::Bytes),
        Some(v) => Err(Error::type_error(format!(
            "cannot make bytes from a {}",
            v.type_name()
        ))),
    }
}

fn items_of(it: &mut Interp, a: &Bound) -> R<Vec<Value>> {
    match a.get(0) {
        Some(v) => it.collect(v),
        None => Ok(Vec::new()),
    }
}

fn b_list(it: &mut Interp, a: Bound) -> R<Value> {
    Ok(Value::list(items_of(it, &a)?))
}

fn b_tuple(it: &mut Interp, a: Bound) -> R<Value> {
    Ok(Value::tuple(items_of(it, &a)?))
}

fn b_set(it: &mut Interp, a: Bound) -> R<Value> {
    Value::set(items_of(it, &a)?)
}

fn b_dict(it: &mut Interp, a: Bound) -> R<Value> {
    let mut entries: Vec<(Value, Value)> = Vec::new();
    match a.get(0) {
        None | Some(Value::None) => {}
        Some(Value::Dict(d)) => entries.extend(d.borrow().entries().iter().cloned()),
        Some(v) => {
            for pair in it.collect(v)? {
                let kv = it.collect(&pair)?;
                let [k, v] = <[Value; 2]>::try_from(kv)
                    .map_err(|_| Error::value_error("dict() needs (key, value) pairs"))?;
                entries.push((k, v));
            }
        }
    }
    entries.extend(
        a.kwargs
            .iter()
            .map(|(k, v)| (Value::str(k.clone()), v.clone())),
    );
    Value::dict(entries)
}

fn b_range(a: &Bound) -> R<Value> {
    let get = |i: usize, what: &str| -> R<Option<i128>> {
        match a.get(i) {
            None | Some(Value::None) => Ok(None),
            Some(v) => int(v).map(Some).ok_or_else(|| {
                Error::type_error(format!(
                    "range(): {what} must be an integer, not {}",
                    v.type_name()
                ))
            }),
        }
    };
    let first = get(0, "start")?.unwrap_or(0);
    let (start, stop) = match get(1, "stop")? {
        Some(stop) => (first, stop),
        None => (0, first),
    };
    let step = get(2, "step")?.unwrap_or(1);
    if step == 0 {
        return Err(Error::value_error("range(): step must not be zero"));
    }
    Ok(Value::Range(start, stop, step))
}

fn b_enumerate(it: &mut Interp, a: Bound) -> R<Value> {
    let items = items_of(it, &a)?;
    let start = a.named("start").and_then(int).unwrap_or(0);
    Ok(Value::list(
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| Value::tuple(vec![Value::int(start + i as i128), v]))
            .collect(),
    ))
}

fn b_zip(it: &mut Interp, a: Bound) -> R<Value> {
    let mut cols = Vec::new();
    for v in &a.rest {
        cols.push(it.collect(v)?);
    }
    let n = cols.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::list(
        (0..n)
            .map(|i| Value::tuple(cols.iter().map(|c| c[i].clone()).collect()))
            .collect(),
    ))
}

/// Sort `items` by `key` (a function, or None), stably; comparison errors are reported.
fn sort_values(
    it: &mut Interp,
    items: Vec<Value>,
    key: Option<&Value>,
    reverse: bool,
) -> R<Vec<Value>> {
    let keyed: Vec<(Value, Value)> = match key {
        None | Some(Value::None) => items.into_iter().map(|v| (v.clone(), v)).collect(),
        Some(f) => {
            let mut out = Vec::with_capacity(items.len());
            for v in items {
                out.push((call1(it, f, v.clone())?, v));
            }
            out
        }
    };
    let mut keyed = keyed;
    let mut err = None;
    keyed.sort_by(|(a, _), (b, _)| {
        let o = if reverse {
            compare(b, a)
        } else {
            compare(a, b)
        };
        o.unwrap_or_else(|e| {
            err.get_or_insert(e);
            Ordering::Equal
        })
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(keyed.into_iter().map(|(_, v)| v).collect())
}

fn b_sorted(it: &mut Interp, a: Bound) -> R<Value> {
    let items = items_of(it, &a)?;
    let reverse = a.flag("reverse");
    let key = a.named("key").cloned();
    Ok(Value::list(sort_values(it, items, key.as_ref(), reverse)?))
}

fn b_reversed(it: &mut Interp, a: Bound) -> R<Value> {
    let mut items = items_of(it, &a)?;
    items.reverse();
    Ok(Value::list(items))
}

fn extreme(it: &mut Interp, a: Bound, want: Ordering, name: &str) -> R<Value> {
    let items = match a.rest.as_slice() {
        [one] => it.collect(one)?,
        many => many.to_vec(),
    };
    let key = a
        .named("key")
        .cloned()
        .filter(|k| !matches!(k, Value::None));
    let mut best: Option<(Value, Value)> = None;
    for v in items {
        let k = match &key {
            Some(f) => call1(it, f, v.clone())?,
            None => v.clone(),
        };
        let better = match &best {
            None => true,
            Some((bk, _)) => compare(&k, bk)? == want,
        };
        if better {
            best = Some((k, v));
        }
    }
    match best {
        Some((_, v)) => Ok(v),
        None => match a.named("default") {
            Some(d) => Ok(d.clone()),
            None => Err(Error::value_error(format!("{name}() of an empty sequence"))),
        },
    }
}

fn b_min(it: &mut Interp, a: Bound) -> R<Value> {
    extreme(it, a, Ordering::Less, "min")
}

fn b_max(it: &mut Interp, a: Bound) -> R<Value> {
    extreme(it, a, Ordering::Greater, "max")
}

fn b_sum(it: &mut Interp, a: Bound) -> R<Value> {
    let mut total = a.named("start").cloned().unwrap_or(Value::int(0));
    if total.as_text().is_some() {
        return Err(Error::type_error(
            "sum() cannot add strings: use ''.join(items)",
        ));
    }
    let seq = a.get(0).cloned().unwrap_or(Value::None);
    let items = it.iter(&seq)?;
    let mut n = 0usize;
    for x in items {
        n += 1;
        if n.is_multiple_of(4096) {
            it.check_interrupt()?;
        }
        total = ops::binary(crate::lang::ast::BinOp::Add, &total, &x)?;
    }
    Ok(total)
}

fn b_any(it: &mut Interp, a: Bound) -> R<Value> {
    let seq = a.get(0).cloned().unwrap_or(Value::None);
    let items = it.iter(&seq)?;
    let mut n = 0usize;
    for x in items {
        n += 1;
        if n.is_multiple_of(4096) {
            it.check_interrupt()?;
        }
        if x.truthy() {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn b_all(it: &mut Interp, a: Bound) -> R<Value> {
    let seq = a.get(0).cloned().unwrap_or(Value::None);
    let items = it.iter(&seq)?;
    let mut n = 0usize;
    for x in items {
        n += 1;
        if n.is_multiple_of(4096) {
            it.check_interrupt()?;
        }
        if !x.truthy() {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn b_map(it: &mut Interp, a: Bound) -> R<Value> {
    let f = a.get(0).cloned().unwrap_or(Value::None);
    let mut cols = Vec::new();
    for v in &a.rest {
        cols.push(it.collect(v)?);
    }
    let n = cols.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let args = Args {
            pos: cols.iter().map(|c| c[i].clone()).collect(),
            kw: Vec::new(),
        };
        out.push(it.call(&f, args)?);
    }
    Ok(Value::list(out))
}

fn b_filter(it: &mut Interp, a: Bound) -> R<Value> {
    let f = a.get(0).cloned().unwrap_or(Value::None);
    let items = match a.get(1) {
        Some(v) => it.collect(v)?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for v in items {
        let keep = match &f {
            Value::None => v.truthy(),
            f => call1(it, f, v.clone())?.truthy(),
        };
        if keep {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

/// Is `v` of the type a builtin type function stands for?
fn is_instance(v: &Value, class: &Value) -> R<bool> {
    Ok(match class {
        Value::Tuple(items) => {
            for c in items.borrow().iter() {
                if is_instance(v, c)? {
                    return Ok(true);
                }
            }
            false
        }
        Value::ExcClass(c) => matches!(v, Value::Exception(e) if e.is_a(*c)),
        Value::Builtin(b) => match (b.name, v) {
            ("int", Value::Int(..) | Value::Bool(_)) => true,
            ("float", Value::Float(_)) => true,
            ("bool", Value::Bool(_)) => true,
            ("str", Value::Str(_) | Value::Path(_) | Value::Signature(_)) => true,
            ("bytes", Value::Bytes(_)) => true,
            ("list", Value::List(_)) => true,
            ("tuple", Value::Tuple(_)) => true,
            ("dict", Value::Dict(_)) => true,
            ("set", Value::Set(_)) => true,
            ("range", Value::Range(..)) => true,
            ("ObjectPath", Value::Path(_)) => true,
            ("Signature", Value::Signature(_)) => true,
            (name, Value::Int(_, k)) if k.type_name() == name && *k != IntKind::Plain => true,
            (
                "int" | "float" | "bool" | "str" | "bytes" | "list" | "tuple" | "dict" | "set"
                | "range" | "ObjectPath" | "Signature" | "byte" | "int16" | "uint16" | "int32"
                | "uint32" | "int64" | "uint64",
                _,
            ) => false,
            (name, _) => {
                return Err(Error::type_error(format!(
                    "isinstance(): {name} is a function, not a type"
                )));
            }
        },
        other => {
            return Err(Error::type_error(format!(
                "isinstance() needs a type or a tuple of types, not a {}",
                other.type_name()
            )));
        }
    })
}

fn b_isinstance(a: &Bound) -> R<Value> {
    let class = a.get(1).cloned().unwrap_or(Value::None);
    Ok(Value::Bool(is_instance(a.one(), &class)?))
}

fn b_hasattr(it: &mut Interp, a: Bound) -> R<Value> {
    let name = a.text(1)?;
    match it.get_attr(a.one(), &name) {
        Ok(_) => Ok(Value::Bool(true)),
        Err(e) if e.kind == Kind::Py(PyExc::AttributeError) => Ok(Value::Bool(false)),
        Err(e) => Err(e),
    }
}

fn b_getattr(it: &mut Interp, a: Bound) -> R<Value> {
    let name = a.text(1)?;
    match it.get_attr(a.one(), &name) {
        Err(e) if e.kind == Kind::Py(PyExc::AttributeError) => match a.named("default") {
            Some(d) => Ok(d.clone()),
            None => Err(e),
        },
        r => r,
    }
}

fn b_callable(a: &Bound) -> R<Value> {
    Ok(Value::Bool(matches!(
        a.one(),
        Value::Builtin(_)
            | Value::Function(_)
            | Value::Method(_)
            | Value::Bound(..)
            | Value::ExcClass(_)
    )))
}

fn b_abs(a: &Bound) -> R<Value> {
    match a.one() {
        Value::Int(i, _) => i
            .checked_abs()
            .map(Value::int)
            .ok_or_else(|| Error::py(PyExc::OverflowError, "integer overflow in abs()")),
        Value::Bool(b) => Ok(Value::int(*b as i128)),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        v => Err(Error::type_error(format!(
            "abs() needs a number, not {}",
            v.type_name()
        ))),
    }
}

fn b_round(a: &Bound) -> R<Value> {
    let digits = match a.named("ndigits") {
        None | Some(Value::None) => None,
        Some(v) => {
            Some(int(v).ok_or_else(|| Error::type_error("round(): ndigits must be an integer"))?)
        }
    };
    match (a.one(), digits) {
        (Value::Int(i, _), _) => Ok(Value::int(*i)),
        (Value::Bool(b), _) => Ok(Value::int(*b as i128)),
        (Value::Float(f), None) => Ok(Value::int(float_to_int(f.round_ties_even())?)),
        (Value::Float(f), Some(d)) => {
            let d = d.clamp(-300, 300) as i32;
            let m = 10f64.powi(d);
            let r = (f * m).round_ties_even() / m;
            Ok(Value::Float(if r.is_finite() { r } else { *f }))
        }
        (v, _) => Err(Error::type_error(format!(
            "round() needs a number, not {}",
            v.type_name()
        ))),
    }
}

fn b_divmod(a: &Bound) -> R<Value> {
    let x = a.one();
    let y = a.get(1).cloned().unwrap_or(Value::None);
    let q = ops::binary(crate::lang::ast::BinOp::FloorDiv, x, &y)?;
    let r = ops::binary(crate::lang::ast::BinOp::Mod, x, &y)?;
    Ok(Value::tuple(vec![q, r]))
}

fn b_pow(a: &Bound) -> R<Value> {
    let base = a.one();
    let exp = a.get(1).cloned().unwrap_or(Value::None);
    match a.named("mod") {
        None | Some(Value::None) => ops::binary(crate::lang::ast::BinOp::Pow, base, &exp),
        Some(m) => {
            let (Some(mut b), Some(mut e), Some(m)) = (int(base), int(&exp), int(m)) else {
                return Err(Error::type_error("pow() with a modulus needs integers"));
            };
            if m == 0 {
                return Err(Error::value_error("pow(): the modulus must not be zero"));
            }
            if e < 0 {
                return Err(Error::value_error(
                    "pow(): negative exponent with a modulus",
                ));
            }
            let m = m.abs();
            b = b.rem_euclid(m);
            let mut r: i128 = 1 % m;
            let mul = |x: i128, y: i128| -> R<i128> {
                x.checked_mul(y)
                    .map(|p| p.rem_euclid(m))
                    .ok_or_else(|| Error::py(PyExc::OverflowError, "pow(): modulus too large"))
            };
            while e > 0 {
                if e & 1 == 1 {
                    r = mul(r, b)?;
                }
                b = mul(b, b)?;
                e >>= 1;
            }
            Ok(Value::int(r))
        }
    }
}

fn radix(a: &Bound, prefix: &str, f: fn(u128) -> String) -> R<Value> {
    let Some(n) = int(a.one()) else {
        return Err(Error::type_error(format!(
            "an integer is required, not {}",
            a.one().type_name()
        )));
    };
    let sign = if n < 0 { "-" } else { "" };
    Ok(Value::Str(format!("{sign}{prefix}{}", f(n.unsigned_abs()))))
}

fn b_hex(a: &Bound) -> R<Value> {
    radix(a, "0x", |n| format!("{n:x}"))
}

fn b_oct(a: &Bound) -> R<Value> {
    radix(a, "0o", |n| format!("{n:o}"))
}

fn b_bin(a: &Bound) -> R<Value> {
    radix(a, "0b", |n| format!("{n:b}"))
}

fn b_chr(a: &Bound) -> R<Value> {
    int(a.one())
        .and_then(|i| u32::try_from(i).ok())
        .and_then(char::from_u32)
        .map(|c| Value::Str(c.to_string()))
        .ok_or_else(|| Error::value_error("chr(): not a valid code point"))
}

fn b_ord(a: &Bound) -> R<Value> {
    let t = a.one().as_text().unwrap_or_default();
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(Value::int(c as i128)),
        _ => Err(Error::type_error(format!(
            "ord() needs one character, got {}",
            a.one().repr()
        ))),
    }
}

fn b_format(a: &Bound) -> R<Value> {
    let spec = match a.named("spec") {
        Some(s) => s.as_text().unwrap_or_default(),
        None => String::new(),
    };
    Ok(Value::Str(ops::format_spec(a.one(), &spec)?))
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
    check_items(names.len())?;
    Ok(Value::list(names.into_iter().map(Value::Str).collect()))
}

fn typed(a: &Bound, kind: IntKind) -> R<Value> {
    let name = kind.type_name();
    let (lo, hi) = kind.range();
    match a.one() {
        Value::Int(i, _) if (lo..=hi).contains(i) => Ok(Value::Int(*i, kind)),
        Value::Int(i, _) => Err(Error::py(
            PyExc::OverflowError,
            format!("{name}(): {i} is out of range {lo}..{hi}"),
        )),
        v => Err(Error::type_error(format!(
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
    crate::bus::names::check_object_path(&t).map_err(Error::value_error)?;
    Ok(Value::Path(t))
}

fn b_signature(a: &Bound) -> R<Value> {
    let t = a.one().as_text().unwrap_or_default();
    crate::bus::sig::Sig::parse_list(&t).map_err(|e| Error::value_error(e.to_string()))?;
    Ok(Value::Signature(t))
}

pub(super) fn b_exit(a: &Bound) -> R<Value> {
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

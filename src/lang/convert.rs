//! Signature-driven conversion between shell values and typed D-Bus data.
//!
//! Going out, the introspected signature decides the wire type, so `unit.Unit.Kill('all', 9)`
//! sends `s` and `i` without the user spelling types. Where the signature says `v`, the value's
//! own type decides (an integer read from the bus keeps its width). Errors name the position
//! that did not fit, e.g. `argument 3 [0]: expected uint32, got 'x'`.

use crate::bus::data::Data;
use crate::bus::names;
use crate::bus::sig::Sig;
use crate::lang::value::{IntKind, Value};
use crate::systemd::properties::{self, How, PropertyTable, Target};

/// Convert `v` to data of type `sig`; `at` names the position for error messages.
pub fn to_data(v: &Value, sig: &Sig, at: &str) -> Result<Data, String> {
    let mismatch = |what: &str| Err(format!("{at}: expected {what}, got {}", short(v)));
    Ok(match sig {
        Sig::Byte | Sig::I16 | Sig::U16 | Sig::I32 | Sig::U32 | Sig::I64 | Sig::U64 | Sig::Fd => {
            let n = match v {
                Value::Int(n, _) => *n,
                Value::Bool(b) => *b as i128,
                _ => return mismatch(sig_type_name(sig)),
            };
            int_data(n, sig)
                .ok_or_else(|| format!("{at}: {n} does not fit in {}", sig_type_name(sig)))?
        }
        Sig::Bool => match v {
            Value::Bool(b) => Data::Bool(*b),
            Value::Int(n @ (0 | 1), _) => Data::Bool(*n == 1),
            _ => return mismatch("a boolean (True/False)"),
        },
        Sig::Double => match v {
            Value::Float(f) => Data::Double(*f),
            Value::Int(n, _) => Data::Double(*n as f64),
            _ => return mismatch("a number"),
        },
        Sig::Str => match v.as_text() {
            Some(s) if !s.contains('\0') => Data::Str(s),
            _ => return mismatch("a string"),
        },
        Sig::Path => match v.as_text() {
            Some(s) if names::is_object_path(&s) => Data::Path(s),
            Some(s) => return Err(format!("{at}: '{s}' is not a valid object path")),
            None => return mismatch("an object path"),
        },
        Sig::Signature => match v.as_text() {
            Some(s) if Sig::parse_list(&s).is_ok() => Data::Signature(s),
            Some(s) => return Err(format!("{at}: '{s}' is not a valid D-Bus signature")),
            None => return mismatch("a signature"),
        },
        Sig::Variant => Data::Variant(Box::new(infer_data(v, at)?)),
        Sig::Array(elem) => match (v, elem.as_ref()) {
            (Value::Bytes(b), Sig::Byte) => Data::Array {
                elem: Sig::Byte,
                items: b.iter().map(|x| Data::Byte(*x)).collect(),
            },
            (Value::Str(s), Sig::Byte) => Data::Array {
                elem: Sig::Byte,
                items: s.bytes().map(Data::Byte).collect(),
            },
            (Value::List(items) | Value::Tuple(items), _) => Data::Array {
                elem: (**elem).clone(),
                items: items
                    .borrow()
                    .iter()
                    .enumerate()
                    .map(|(n, x)| to_data(x, elem, &format!("{at} [{n}]")))
                    .collect::<Result<_, _>>()?,
            },
            _ => return mismatch(&format!("a list ({sig})")),
        },
        Sig::Dict(k, val) => match v {
            Value::Dict(entries) => Data::Dict {
                key: (**k).clone(),
                value: (**val).clone(),
                entries: entries
                    .borrow()
                    .entries()
                    .iter()
                    .map(|(ek, ev)| {
                        let key = to_data(ek, k, &format!("{at} key {}", ek.repr()))?;
                        let value = to_data(ev, val, &format!("{at} [{}]", ek.repr()))?;
                        Ok((key, value))
                    })
                    .collect::<Result<_, String>>()?,
            },
            _ => return mismatch(&format!("a dict ({sig})")),
        },
        Sig::Struct(fields) => match v {
            Value::Tuple(items) | Value::List(items) if items.borrow().len() == fields.len() => {
                Data::Struct(
                    items
                        .borrow()
                        .iter()
                        .zip(fields)
                        .enumerate()
                        .map(|(n, (x, f))| to_data(x, f, &format!("{at} field {n}")))
                        .collect::<Result<_, _>>()?,
                )
            }
            _ => {
                return mismatch(&format!("a tuple of {} items ({sig})", fields.len()));
            }
        },
    })
}

fn int_data(n: i128, sig: &Sig) -> Option<Data> {
    Some(match sig {
        Sig::Byte => Data::Byte(u8::try_from(n).ok()?),
        Sig::I16 => Data::I16(i16::try_from(n).ok()?),
        Sig::U16 => Data::U16(u16::try_from(n).ok()?),
        Sig::I32 => Data::I32(i32::try_from(n).ok()?),
        Sig::U32 => Data::U32(u32::try_from(n).ok()?),
        Sig::I64 => Data::I64(i64::try_from(n).ok()?),
        Sig::U64 => Data::U64(u64::try_from(n).ok()?),
        Sig::Fd => Data::Fd(i32::try_from(n).ok()?),
        _ => return None,
    })
}

pub fn sig_type_name(sig: &Sig) -> &'static str {
    match sig {
        Sig::Byte => "byte (y)",
        Sig::Bool => "boolean (b)",
        Sig::I16 => "int16 (n)",
        Sig::U16 => "uint16 (q)",
        Sig::I32 => "int32 (i)",
        Sig::U32 => "uint32 (u)",
        Sig::I64 => "int64 (x)",
        Sig::U64 => "uint64 (t)",
        Sig::Double => "double (d)",
        Sig::Str => "string (s)",
        Sig::Path => "object path (o)",
        Sig::Signature => "signature (g)",
        Sig::Fd => "file descriptor (h)",
        Sig::Variant => "variant (v)",
        Sig::Array(_) => "array",
        Sig::Dict(..) => "dict",
        Sig::Struct(_) => "struct",
    }
}

fn short(v: &Value) -> String {
    let r = v.repr();
    if r.chars().count() > 40 {
        let cut: String = r.chars().take(37).collect();
        format!("{cut}...")
    } else {
        r
    }
}

/// The D-Bus data a value stands for on its own (inside a variant).
pub fn infer_data(v: &Value, at: &str) -> Result<Data, String> {
    infer_depth(v, at, 0)
}

fn infer_depth(v: &Value, at: &str, depth: usize) -> Result<Data, String> {
    if depth > 64 {
        return Err(format!(
            "{at}: the value is nested deeper than D-Bus allows (64 levels)"
        ));
    }
    let infer_data = |v: &Value, at: &str| infer_depth(v, at, depth + 1);
    Ok(match v {
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(n, kind) => {
            let sig = match kind {
                IntKind::Byte => Sig::Byte,
                IntKind::I16 => Sig::I16,
                IntKind::U16 => Sig::U16,
                IntKind::I32 => Sig::I32,
                IntKind::U32 => Sig::U32,
                IntKind::I64 => Sig::I64,
                IntKind::U64 => Sig::U64,
                IntKind::Fd => Sig::Fd,
                IntKind::Plain if i32::try_from(*n).is_ok() => Sig::I32,
                IntKind::Plain if i64::try_from(*n).is_ok() => Sig::I64,
                IntKind::Plain => Sig::U64,
            };
            int_data(*n, &sig).ok_or_else(|| format!("{at}: {n} is too large for D-Bus"))?
        }
        Value::Float(f) => Data::Double(*f),
        Value::Str(s) => Data::Str(s.clone()),
        Value::Path(p) => Data::Path(p.clone()),
        Value::Signature(s) => Data::Signature(s.clone()),
        Value::Bytes(b) => Data::Array {
            elem: Sig::Byte,
            items: b.iter().map(|x| Data::Byte(*x)).collect(),
        },
        Value::List(items) => {
            let datas: Vec<Data> = items
                .borrow()
                .iter()
                .enumerate()
                .map(|(n, x)| infer_data(x, &format!("{at} [{n}]")))
                .collect::<Result<_, _>>()?;
            let elem = common_sig(&datas).unwrap_or(Sig::Variant);
            let items = if elem == Sig::Variant {
                datas
                    .into_iter()
                    .map(|d| Data::Variant(Box::new(d)))
                    .collect()
            } else {
                datas
            };
            Data::Array { elem, items }
        }
        Value::Tuple(items) if !items.borrow().is_empty() => Data::Struct(
            items
                .borrow()
                .iter()
                .enumerate()
                .map(|(n, x)| infer_data(x, &format!("{at} field {n}")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Dict(entries) => {
            let entries = entries.borrow();
            let entries = entries.entries();
            let keys: Vec<Data> = entries
                .iter()
                .map(|(k, _)| infer_data(k, at))
                .collect::<Result<_, _>>()?;
            let vals: Vec<Data> = entries
                .iter()
                .map(|(k, v)| infer_data(v, &format!("{at} [{}]", k.repr())))
                .collect::<Result<_, _>>()?;
            let key = common_sig(&keys).unwrap_or(Sig::Str);
            if !key.is_basic() {
                return Err(format!("{at}: dict keys must be strings or numbers"));
            }
            let value = common_sig(&vals).unwrap_or(Sig::Variant);
            let vals = if value == Sig::Variant {
                vals.into_iter()
                    .map(|d| Data::Variant(Box::new(d)))
                    .collect()
            } else {
                vals
            };
            Data::Dict {
                key,
                value,
                entries: keys.into_iter().zip(vals).collect(),
            }
        }
        other => {
            return Err(format!(
                "{at}: a {} cannot be sent over D-Bus",
                other.type_name()
            ));
        }
    })
}

/// The one signature all items share, if there is one and there are items.
fn common_sig(items: &[Data]) -> Option<Sig> {
    let first = items.first()?.sig();
    items.iter().all(|d| d.sig() == first).then_some(first)
}

/// Turn bus data into a shell value. Variants are unwrapped: their content keeps its type.
pub fn from_data(d: &Data) -> Value {
    match d {
        Data::Byte(v) => Value::Int(*v as i128, IntKind::Byte),
        Data::Bool(b) => Value::Bool(*b),
        Data::I16(v) => Value::Int(*v as i128, IntKind::I16),
        Data::U16(v) => Value::Int(*v as i128, IntKind::U16),
        Data::I32(v) => Value::Int(*v as i128, IntKind::I32),
        Data::U32(v) => Value::Int(*v as i128, IntKind::U32),
        Data::I64(v) => Value::Int(*v as i128, IntKind::I64),
        Data::U64(v) => Value::Int(*v as i128, IntKind::U64),
        Data::Double(f) => Value::Float(*f),
        Data::Str(s) => Value::Str(s.clone()),
        Data::Path(p) => Value::Path(p.clone()),
        Data::Signature(s) => Value::Signature(s.clone()),
        Data::Fd(fd) => Value::Int(*fd as i128, IntKind::Fd),
        Data::Array {
            elem: Sig::Byte,
            items,
        } => Value::Bytes(
            items
                .iter()
                .map(|x| if let Data::Byte(b) = x { *b } else { 0 })
                .collect(),
        ),
        Data::Array { items, .. } => Value::list(items.iter().map(from_data).collect()),
        Data::Dict { entries, .. } => Value::dict_from_bus(
            entries
                .iter()
                .map(|(k, v)| (from_data(k), from_data(v)))
                .collect(),
        ),
        Data::Struct(fields) => Value::tuple(fields.iter().map(from_data).collect()),
        Data::Variant(inner) => from_data(inner),
    }
}

/// A method reply as one shell value: nothing → None, one value → it, several → a tuple.
pub fn reply_value(values: &[Data]) -> Value {
    match values {
        [] => Value::None,
        [one] => from_data(one),
        many => Value::tuple(many.iter().map(from_data).collect()),
    }
}

// ----- unit properties (StartTransientUnit, SetUnitProperties, run(extra=...)) -----

/// One unit property's value, converted the way pystemd and systemd-run do: its type comes
/// from `target` (introspected), friendly values are accepted (`0.1` for CPUQuota, seconds
/// for `...Sec`, `"10M"`, `"yes"`, a command line or an argv list for `ExecStart`, a dict
/// for `Environment`, `"any"` for `IPAddressDeny`, `(src, dst)` pairs for `BindPaths`).
/// Returns the name sent to systemd and the value.
pub fn property_data(v: &Value, target: &Target) -> Result<(String, Data), String> {
    let name = &target.name;
    let at = name.as_str();
    if let Some(text) = match v {
        Value::Str(s) => Some(s.clone()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    } {
        return properties::from_text(target, &text);
    }
    let number = match v {
        Value::Int(n, _) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    match (target.how, number) {
        (How::CpuQuota, Some(f)) => return Ok((name.clone(), properties::cpu_quota(at, f)?)),
        (How::Seconds, Some(f)) if f >= 0.0 => {
            return Ok((name.clone(), Data::U64((f * 1_000_000.0).round() as u64)));
        }
        (How::CpuQuota | How::Seconds, _) => {
            return Err(format!(
                "{at}: expected a number or a text, got {}",
                short(v)
            ));
        }
        (How::Plain, _) => {}
    }
    let items: Option<Vec<Value>> = v.items();
    let elem = match &target.sig {
        Sig::Array(e) => Some(e.to_string()),
        _ => None,
    };
    let data = match (&target.sig, elem.as_deref(), v) {
        (Sig::Str, _, Value::Bool(b)) => Data::Str(if *b { "yes" } else { "no" }.into()),
        (Sig::Str, _, Value::Int(..) | Value::Float(_)) => Data::Str(v.to_display()),
        (Sig::U64 | Sig::U32 | Sig::I32 | Sig::I64, _, Value::Float(f)) if f.fract() == 0.0 => {
            to_data(&Value::int(*f as i128), &target.sig, at)?
        }
        // Environment={"FOO": "bar"}
        (_, Some("s"), Value::Dict(entries)) => Data::Array {
            elem: Sig::Str,
            items: entries
                .borrow()
                .entries()
                .iter()
                .map(|(k, v)| Data::Str(format!("{}={}", k.to_display(), v.to_display())))
                .collect(),
        },
        (_, Some("s"), _) if items.is_some() => Data::Array {
            elem: Sig::Str,
            items: items
                .into_iter()
                .flatten()
                .map(|x| match &x {
                    Value::Bytes(b) => Data::Str(String::from_utf8_lossy(b).into_owned()),
                    other => Data::Str(other.to_display()),
                })
                .collect(),
        },
        (_, Some("(sasb)"), _) => properties::exec_commands(exec_commands(at, v)?),
        (_, Some("(iayu)"), _)
            if items
                .as_ref()
                .is_some_and(|i| i.iter().all(|x| x.as_text().is_some())) =>
        {
            let words: Vec<String> = items
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_text())
                .collect();
            properties::ip_prefixes(at, &words.join(" "))?
        }
        (_, Some("(ssbt)"), _) if items.is_some() => Data::Array {
            elem: Sig::parse("(ssbt)").expect("valid signature"),
            items: items
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(n, x)| bind_path(at, n, &x, target))
                .collect::<Result<_, _>>()?,
        },
        (_, Some("(ss)"), Value::Tuple(_)) => {
            to_data(&Value::list(vec![v.clone()]), &target.sig, at)?
        }
        _ => to_data(v, &target.sig, at)?,
    };
    Ok((name.clone(), data))
}

/// `BindPaths` items: `(src, dst)`, `(src, dst, ignore, flags)` or `"src:dst"`.
fn bind_path(at: &str, n: usize, x: &Value, target: &Target) -> Result<Data, String> {
    let at = format!("{at} [{n}]");
    match x {
        Value::Tuple(f) | Value::List(f) if f.borrow().len() == 2 => {
            let f = f.borrow();
            to_data(
                &Value::tuple(vec![
                    f[0].clone(),
                    f[1].clone(),
                    Value::Bool(false),
                    Value::int(0),
                ]),
                &Sig::parse("(ssbt)").expect("valid signature"),
                &at,
            )
        }
        other => match other.as_text() {
            Some(t) => match properties::from_text(target, &t)?.1 {
                Data::Array { mut items, .. } if items.len() == 1 => Ok(items.remove(0)),
                _ => Err(format!("{at}: '{t}' is not one SOURCE:DESTINATION")),
            },
            None => to_data(other, &Sig::parse("(ssbt)").expect("valid signature"), &at),
        },
    }
}

/// Exec commands from a command line, an argv list, `(path, argv, ignore)` tuples, or a
/// list of any of those.
pub fn exec_commands(at: &str, v: &Value) -> Result<Vec<Data>, String> {
    let one = |x: &Value| -> Result<Data, String> {
        match x {
            Value::Str(_) | Value::Bytes(_) => {
                properties::exec_command(at, &x.as_text().unwrap_or_default())
            }
            Value::List(argv) if argv.borrow().iter().all(|a| a.as_text().is_some()) => {
                let argv = argv.borrow().iter().filter_map(Value::as_text).collect();
                properties::command_data(at, argv, false)
            }
            Value::Tuple(f) if f.borrow().len() == 3 => to_data(
                x,
                &Sig::Struct(vec![Sig::Str, Sig::Array(Box::new(Sig::Str)), Sig::Bool]),
                at,
            ),
            other => Err(format!(
                "{at}: expected a command line, an argv list or (path, argv, ignore_failure), got {}",
                short(other)
            )),
        }
    };
    match v {
        Value::None => Ok(Vec::new()),
        // One argv list: ["/bin/sleep", "5"].
        Value::List(items)
            if items
                .borrow()
                .iter()
                .all(|a| matches!(a, Value::Str(_) | Value::Bytes(_))) =>
        {
            if items.borrow().is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![one(v)?])
        }
        Value::List(items) => items.borrow().iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// A property list as given by the user: a dict, `["Key=Value", ...]` (systemd-run's
/// `-p`), or `[(key, value), ...]` (an `a(sv)` already spelled out); `None` values are left
/// out, as pystemd does. Each entry is resolved against `table` and converted.
pub fn property_list(v: &Value, table: &PropertyTable) -> Result<Vec<(String, Data)>, String> {
    let mut pairs: Vec<(String, Value)> = Vec::new();
    match v {
        Value::None => {}
        Value::Dict(entries) => {
            for (k, val) in entries.borrow().entries() {
                let key = k
                    .as_text()
                    .ok_or_else(|| format!("property names must be strings, got {}", short(k)))?;
                pairs.push((key, val.clone()));
            }
        }
        Value::List(items) | Value::Tuple(items) => {
            for x in items.borrow().iter() {
                match x {
                    Value::Str(s) => {
                        let (k, val) = s.split_once('=').ok_or_else(|| {
                            format!("'{s}' is not Key=Value (e.g. 'MemoryMax=10M')")
                        })?;
                        pairs.push((k.trim().to_string(), Value::Str(val.to_string())));
                    }
                    Value::Tuple(kv) | Value::List(kv) if kv.borrow().len() == 2 => {
                        let kv = kv.borrow();
                        let key = kv[0].as_text().ok_or_else(|| {
                            format!("property names must be strings, got {}", short(&kv[0]))
                        })?;
                        pairs.push((key, kv[1].clone()));
                    }
                    other => {
                        return Err(format!(
                            "expected 'Key=Value' or (key, value), got {}",
                            short(other)
                        ));
                    }
                }
            }
        }
        other => {
            return Err(format!(
                "expected unit properties as a dict, ['Key=Value', ...] or [(key, value), ...], got {}",
                short(other)
            ));
        }
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (k, val) in pairs {
        if matches!(val, Value::None) {
            continue;
        }
        let target = table.resolve(&k)?;
        out.push(property_data(&val, &target)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(s: &str) -> Sig {
        Sig::parse(s).unwrap()
    }

    #[test]
    fn round_trip_keeps_types() {
        let datas = vec![
            Data::U32(17822),
            Data::U64(u64::MAX),
            Data::I64(i64::MIN),
            Data::Byte(7),
            Data::Path("/org/freedesktop/systemd1/job/5".into()),
            Data::Signature("a{sv}".into()),
            Data::Array {
                elem: Sig::Byte,
                items: vec![Data::Byte(0), Data::Byte(255)],
            },
            Data::Struct(vec![Data::Str("x".into()), Data::Path("/a".into())]),
        ];
        for d in datas {
            let v = from_data(&d);
            assert_eq!(to_data(&v, &d.sig(), "argument 1").unwrap(), d, "{v:?}");
            assert_eq!(infer_data(&v, "argument 1").unwrap(), d, "{v:?}");
        }
    }

    #[test]
    fn errors_name_the_position() {
        let e = to_data(
            &Value::list(vec![Value::int(1), Value::str("x")]),
            &sig("au"),
            "argument 3",
        )
        .unwrap_err();
        assert_eq!(e, "argument 3 [1]: expected uint32 (u), got 'x'");
        let e = to_data(&Value::int(-1), &sig("u"), "argument 1").unwrap_err();
        assert_eq!(e, "argument 1: -1 does not fit in uint32 (u)");
        let e = to_data(&Value::str("nope"), &sig("o"), "argument 2").unwrap_err();
        assert!(e.contains("not a valid object path"));
    }

    #[test]
    fn plain_values_take_the_signature() {
        assert_eq!(
            to_data(&Value::int(5), &sig("t"), "a").unwrap(),
            Data::U64(5)
        );
        assert_eq!(
            to_data(&Value::str("/x"), &sig("o"), "a").unwrap(),
            Data::Path("/x".into())
        );
        let d = to_data(
            &Value::dict(vec![(Value::str("k"), Value::int(1))]).unwrap(),
            &sig("a{sv}"),
            "a",
        )
        .unwrap();
        assert_eq!(
            d,
            Data::Dict {
                key: Sig::Str,
                value: Sig::Variant,
                entries: vec![(Data::Str("k".into()), Data::Variant(Box::new(Data::I32(1))))]
            }
        );
    }
}

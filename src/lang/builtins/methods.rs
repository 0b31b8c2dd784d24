//! Methods of plain values: `s.split()`, `d.keys()`, `o.load()`.

use super::Args;
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::Value;

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

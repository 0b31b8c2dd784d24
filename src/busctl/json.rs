//! busctl's `--json=short|pretty` output, byte for byte (systemd 252: `json_transform_*()` in
//! `src/busctl/busctl.c`, `json_format()` in `src/shared/json.c`).
//!
//! The shapes: a reply is `{"type":"SIG","data":[values…]}`, a property (and every variant)
//! `{"type":"SIG","data":value}`; numbers stay numbers, strings, object paths and signatures
//! are strings, structs and arrays are arrays, an array of dict entries is an object (its keys
//! must be strings, as JSON's are), file descriptors are `null`. Doubles are written as C's
//! `%.21e` (`5.000000000000000000000e-01`); NaN and infinities become `null`. Short is one
//! line; pretty indents with tabs and writes `"key" : value`; both end with a newline.

use std::fmt::Write as _;

use crate::bus::data::Data;

/// A JSON value as systemd's `JsonVariant` holds it (objects keep order and duplicates).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Real(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// `--json=MODE` (and `-j`: pretty on a terminal, short otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Short,
    Pretty,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["short", "pretty", "off"];

    /// The mode a command line asks for: `--json=off` and no option are `None`.
    pub fn from_flags(json: Option<&str>, j: bool, tty: bool) -> Option<Mode> {
        match json {
            Some("short") => Some(Mode::Short),
            Some("pretty") => Some(Mode::Pretty),
            Some(_) => None,
            None if j && tty => Some(Mode::Pretty),
            None if j => Some(Mode::Short),
            None => None,
        }
    }
}

/// Why a value has no JSON form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a dictionary with {0} keys has no JSON form (JSON keys are strings)")]
pub struct KeyError(String);

/// `json_transform_one()`.
pub fn value(d: &Data) -> Result<Json, KeyError> {
    Ok(match d {
        Data::Byte(v) => Json::Uint(u64::from(*v)),
        Data::Bool(v) => Json::Bool(*v),
        Data::I16(v) => Json::Int(i64::from(*v)),
        Data::U16(v) => Json::Uint(u64::from(*v)),
        Data::I32(v) => Json::Int(i64::from(*v)),
        Data::U32(v) => Json::Uint(u64::from(*v)),
        Data::I64(v) => Json::Int(*v),
        Data::U64(v) => Json::Uint(*v),
        Data::Double(v) if v.is_nan() || v.is_infinite() => Json::Null,
        Data::Double(v) => Json::Real(*v),
        Data::Str(s) | Data::Path(s) | Data::Signature(s) => Json::Str(s.clone()),
        Data::Fd(_) => Json::Null,
        Data::Array { items, .. } => {
            Json::Array(items.iter().map(value).collect::<Result<_, _>>()?)
        }
        Data::Struct(fields) => Json::Array(fields.iter().map(value).collect::<Result<_, _>>()?),
        Data::Dict { key, entries, .. } => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let Json::Str(k) = value(k)? else {
                    return Err(KeyError(key.to_string()));
                };
                out.push((k, value(v)?));
            }
            Json::Object(out)
        }
        Data::Variant(inner) => variant(inner)?,
    })
}

/// `json_transform_variant()`: `{"type":"SIG","data":VALUE}`.
pub fn variant(inner: &Data) -> Result<Json, KeyError> {
    Ok(Json::Object(vec![
        ("type".into(), Json::Str(inner.sig().to_string())),
        ("data".into(), value(inner)?),
    ]))
}

/// `json_transform_message()`: `{"type":"SIG","data":[VALUES]}`.
pub fn message(values: &[Data]) -> Result<Json, KeyError> {
    let sig: String = values.iter().map(|v| v.sig().to_string()).collect();
    Ok(Json::Object(vec![
        ("type".into(), Json::Str(sig)),
        (
            "data".into(),
            Json::Array(values.iter().map(value).collect::<Result<_, _>>()?),
        ),
    ]))
}

/// `json_variant_dump()`: the text, ending in a newline.
pub fn dump(j: &Json, mode: Mode, color: bool) -> String {
    let mut out = String::new();
    format(&mut out, j, mode == Mode::Pretty, color, "");
    out.push('\n');
    out
}

const GREEN: &str = "\x1B[0;32m";
const HIGHLIGHT_BLUE: &str = "\x1B[0;1;34m";
const HIGHLIGHT: &str = "\x1B[0;1;39m";
const NORMAL: &str = "\x1B[0m";

fn painted(out: &mut String, color: bool, code: &str, text: std::fmt::Arguments<'_>) {
    if color {
        out.push_str(code);
    }
    let _ = out.write_fmt(text);
    if color {
        out.push_str(NORMAL);
    }
}

/// `json_format_string()`.
fn string(out: &mut String, s: &str, color: bool) {
    out.push('"');
    if color {
        out.push_str(GREEN);
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if color {
        out.push_str(NORMAL);
    }
    out.push('"');
}

/// C's `printf("%.21e")` (glibc: exact decimal expansion, at least two exponent digits).
fn real(v: f64) -> String {
    let s = format!("{v:.21e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mant}e{sign}{digits:0>2}")
}

fn format(out: &mut String, j: &Json, pretty: bool, color: bool, prefix: &str) {
    match j {
        Json::Null => painted(out, color, HIGHLIGHT, format_args!("null")),
        Json::Bool(b) => painted(out, color, HIGHLIGHT, format_args!("{b}")),
        Json::Int(v) => painted(out, color, HIGHLIGHT_BLUE, format_args!("{v}")),
        Json::Uint(v) => painted(out, color, HIGHLIGHT_BLUE, format_args!("{v}")),
        Json::Real(v) => painted(out, color, HIGHLIGHT_BLUE, format_args!("{}", real(*v))),
        Json::Str(s) => string(out, s, color),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Object(items) if items.is_empty() => out.push_str("{}"),
        Json::Array(items) => {
            let inner = format!("{prefix}\t");
            out.push_str(if pretty { "[\n" } else { "[" });
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if pretty { ",\n" } else { "," });
                }
                if pretty {
                    out.push_str(&inner);
                }
                format(out, e, pretty, color, &inner);
            }
            if pretty {
                out.push('\n');
                out.push_str(prefix);
            }
            out.push(']');
        }
        Json::Object(items) => {
            let inner = format!("{prefix}\t");
            out.push_str(if pretty { "{\n" } else { "{" });
            for (i, (k, v)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if pretty { ",\n" } else { "," });
                }
                if pretty {
                    out.push_str(&inner);
                }
                string(out, k, color);
                out.push_str(if pretty { " : " } else { ":" });
                format(out, v, pretty, color, &inner);
            }
            if pretty {
                out.push('\n');
                out.push_str(prefix);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::sig::Sig;

    #[test]
    fn reals_like_printf() {
        assert_eq!(real(0.5), "5.000000000000000000000e-01");
        assert_eq!(real(0.0), "0.000000000000000000000e+00");
        assert_eq!(real(-1e300), "-1.000000000000000052505e+300");
        assert_eq!(real(5e-324), "4.940656458412465441766e-324");
        assert_eq!(real(0.1), "1.000000000000000055511e-01");
    }

    #[test]
    fn shapes_short_and_pretty() {
        let reply = [
            Data::Str("a\"b\n\u{1}".into()),
            Data::Dict {
                key: Sig::Str,
                value: Sig::Variant,
                entries: vec![(
                    Data::Str("k".into()),
                    Data::Variant(Box::new(Data::I32(-5))),
                )],
            },
            Data::Struct(vec![Data::Bool(true), Data::Fd(3)]),
            Data::Array {
                elem: Sig::Byte,
                items: vec![],
            },
        ];
        let j = message(&reply).unwrap();
        assert_eq!(
            dump(&j, Mode::Short, false),
            "{\"type\":\"sa{sv}(bh)ay\",\"data\":[\"a\\\"b\\n\\u0001\",{\"k\":{\"type\":\"i\",\"data\":-5}},[true,null],[]]}\n"
        );
        let v = variant(&Data::U32(7)).unwrap();
        assert_eq!(
            dump(&v, Mode::Pretty, false),
            "{\n\t\"type\" : \"u\",\n\t\"data\" : 7\n}\n"
        );
        let nested = message(&[Data::Array {
            elem: Sig::Str,
            items: vec![Data::Str("x".into())],
        }])
        .unwrap();
        assert_eq!(
            dump(&nested, Mode::Pretty, false),
            "{\n\t\"type\" : \"as\",\n\t\"data\" : [\n\t\t[\n\t\t\t\"x\"\n\t\t]\n\t]\n}\n"
        );
        let bad = Data::Dict {
            key: Sig::U32,
            value: Sig::Str,
            entries: vec![(Data::U32(1), Data::Str("x".into()))],
        };
        assert!(value(&bad).is_err());
    }
}

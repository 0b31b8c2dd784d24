//! Methods of plain values: `s.split()`, `l.append(x)`, `d.items()`, `sys.stdout.write(s)`,
//! `o.load()`.
//!
//! Lists, dicts and sets are shared (see `value.rs`), so a method that changes one changes it
//! for every name that refers to it, as in Python.

use std::io::{BufRead, Write};

use super::Args;
use crate::lang::error::{Error, PyExc};
use crate::lang::interp::Interp;
use crate::lang::interp::ops::{self, int};
use crate::lang::value::{Stream, Value, check_items, check_text};

const STR: &[&str] = &[
    "capitalize",
    "center",
    "count",
    "decode",
    "encode",
    "endswith",
    "find",
    "format",
    "index",
    "isalnum",
    "isalpha",
    "isdigit",
    "islower",
    "isspace",
    "isupper",
    "join",
    "ljust",
    "lower",
    "lstrip",
    "partition",
    "removeprefix",
    "removesuffix",
    "replace",
    "rfind",
    "rjust",
    "rpartition",
    "rsplit",
    "rstrip",
    "split",
    "splitlines",
    "startswith",
    "strip",
    "title",
    "upper",
    "zfill",
];
const BYTES: &[&str] = &["decode", "endswith", "hex", "split", "startswith", "strip"];
const LIST: &[&str] = &[
    "append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse",
    "sort",
];
const TUPLE: &[&str] = &["count", "index"];
const DICT: &[&str] = &[
    "clear",
    "copy",
    "get",
    "items",
    "keys",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "values",
];
const SET: &[&str] = &[
    "add",
    "clear",
    "copy",
    "difference",
    "discard",
    "intersection",
    "issubset",
    "issuperset",
    "pop",
    "remove",
    "union",
    "update",
];
const STREAM: &[&str] = &["fileno", "flush", "isatty", "read", "readline", "write"];

fn table(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Str(_) | Value::Path(_) | Value::Signature(_) => STR,
        Value::Bytes(_) => BYTES,
        Value::List(_) => LIST,
        Value::Tuple(_) => TUPLE,
        Value::Dict(_) => DICT,
        Value::Set(_) => SET,
        Value::Stream(_) => STREAM,
        Value::Native(n) => n.attributes(),
        _ => &[],
    }
}

/// Methods of plain values: the method's name, if the value's type has it.
pub fn value_method(v: &Value, name: &str) -> Option<&'static str> {
    if let Value::Native(n) = v {
        return n.methods().iter().copied().find(|m| *m == name);
    }
    table(v).iter().copied().find(|m| *m == name)
}

/// The method names `value_method` knows for a value (for completion).
pub fn value_method_names(v: &Value) -> Vec<&'static str> {
    table(v).to_vec()
}

type R<T> = Result<T, Error>;

/// A method's arguments: positional, or by keyword.
struct MArgs<'a> {
    name: &'a str,
    a: Args,
}

impl MArgs<'_> {
    fn get(&self, i: usize, kw: &str) -> Option<&Value> {
        self.a
            .pos
            .get(i)
            .or_else(|| self.a.kw.iter().find(|(k, _)| k == kw).map(|(_, v)| v))
    }

    fn need(&self, i: usize, kw: &str) -> R<&Value> {
        self.get(i, kw)
            .ok_or_else(|| Error::type_error(format!("{}() is missing argument '{kw}'", self.name)))
    }

    fn text(&self, i: usize, kw: &str) -> R<String> {
        let v = self.need(i, kw)?;
        v.as_text().ok_or_else(|| {
            Error::type_error(format!(
                "{}(): '{kw}' must be a string, not {}",
                self.name,
                v.type_name()
            ))
        })
    }

    fn opt_text(&self, i: usize, kw: &str) -> R<Option<String>> {
        match self.get(i, kw) {
            None | Some(Value::None) => Ok(None),
            Some(_) => self.text(i, kw).map(Some),
        }
    }

    fn int(&self, i: usize, kw: &str, default: i128) -> R<i128> {
        match self.get(i, kw) {
            None | Some(Value::None) => Ok(default),
            Some(v) => int(v).ok_or_else(|| {
                Error::type_error(format!(
                    "{}(): '{kw}' must be an integer, not {}",
                    self.name,
                    v.type_name()
                ))
            }),
        }
    }
}

pub fn call_value_method(it: &mut Interp, recv: &Value, name: &str, args: Args) -> R<Value> {
    let m = MArgs { name, a: args };
    match recv {
        Value::Object(o) if name == "load" => {
            it.introspect(o)?;
            Ok(Value::None)
        }
        Value::Str(_) | Value::Path(_) | Value::Signature(_) => {
            str_method(&recv.as_text().unwrap_or_default(), name, &m)
        }
        Value::Bytes(b) => bytes_method(b, name, &m),
        Value::List(_) => list_method(it, recv, name, &m),
        Value::Tuple(items) => seq_method(&items.borrow(), name, &m),
        Value::Dict(_) => dict_method(it, recv, name, &m),
        Value::Set(_) => set_method(it, recv, name, &m),
        Value::Stream(s) => stream_method(it, *s, name, &m),
        Value::Native(n) => n.call(it, name, m.a),
        v => Err(Error::py(
            PyExc::AttributeError,
            format!("a {} has no method '{name}'", v.type_name()),
        )),
    }
}

fn str_method(s: &str, name: &str, m: &MArgs) -> R<Value> {
    let strv = |t: String| Ok(Value::Str(t));
    let strip_chars = |i| m.opt_text(i, "chars");
    match name {
        "decode" => strv(s.to_string()),
        "encode" => Ok(Value::Bytes(s.as_bytes().to_vec())),
        "lower" => strv(s.to_lowercase()),
        "upper" => strv(s.to_uppercase()),
        "title" => strv(title(s)),
        "capitalize" => {
            let mut c = s.chars();
            strv(match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            })
        }
        "strip" => strv(match strip_chars(0)? {
            Some(cs) => s.trim_matches(|c| cs.contains(c)).to_string(),
            None => s.trim().to_string(),
        }),
        "lstrip" => strv(match strip_chars(0)? {
            Some(cs) => s.trim_start_matches(|c| cs.contains(c)).to_string(),
            None => s.trim_start().to_string(),
        }),
        "rstrip" => strv(match strip_chars(0)? {
            Some(cs) => s.trim_end_matches(|c| cs.contains(c)).to_string(),
            None => s.trim_end().to_string(),
        }),
        "startswith" | "endswith" => {
            let pats: Vec<String> = match m.need(0, "prefix")? {
                Value::Tuple(items) => items.borrow().iter().filter_map(Value::as_text).collect(),
                v => vec![v.as_text().ok_or_else(|| {
                    Error::type_error(format!("{name}() needs a string or a tuple of strings"))
                })?],
            };
            Ok(Value::Bool(pats.iter().any(|p| {
                if name == "startswith" {
                    s.starts_with(p.as_str())
                } else {
                    s.ends_with(p.as_str())
                }
            })))
        }
        "removeprefix" => {
            let p = m.text(0, "prefix")?;
            strv(s.strip_prefix(p.as_str()).unwrap_or(s).to_string())
        }
        "removesuffix" => {
            let p = m.text(0, "suffix")?;
            strv(s.strip_suffix(p.as_str()).unwrap_or(s).to_string())
        }
        "replace" => {
            let old = m.text(0, "old")?;
            let new = m.text(1, "new")?;
            let count = m.int(2, "count", -1)?;
            let n = if old.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(old.as_str()).count()
            };
            let n = if count >= 0 { n.min(count as usize) } else { n };
            check_text(s.len().saturating_add(n.saturating_mul(new.len())))?;
            strv(if count < 0 {
                s.replace(old.as_str(), &new)
            } else {
                s.replacen(old.as_str(), &new, count as usize)
            })
        }
        "split" | "rsplit" => {
            let sep = m.opt_text(0, "sep")?;
            let max = m.int(1, "maxsplit", -1)?;
            let parts: Vec<String> = match (sep, max) {
                (Some(sep), _) if sep.is_empty() => {
                    return Err(Error::value_error("split(): empty separator"));
                }
                (Some(sep), max) if max < 0 => s.split(sep.as_str()).map(String::from).collect(),
                (Some(sep), max) => {
                    let n = max as usize + 1;
                    if name == "split" {
                        s.splitn(n, sep.as_str()).map(String::from).collect()
                    } else {
                        let mut v: Vec<String> =
                            s.rsplitn(n, sep.as_str()).map(String::from).collect();
                        v.reverse();
                        v
                    }
                }
                (None, max) if max < 0 => s.split_whitespace().map(String::from).collect(),
                (None, max) => split_ws(s, max as usize, name == "rsplit"),
            };
            check_items(parts.len())?;
            Ok(Value::list(parts.into_iter().map(Value::Str).collect()))
        }
        "splitlines" => Ok(Value::list(s.lines().map(Value::str).collect())),
        "partition" | "rpartition" => {
            let sep = m.text(0, "sep")?;
            let found = if name == "partition" {
                s.find(sep.as_str())
            } else {
                s.rfind(sep.as_str())
            };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if name == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            Ok(Value::tuple(parts.iter().map(|p| Value::str(*p)).collect()))
        }
        "join" => {
            let Some(items) =
                m.need(0, "iterable")?
                    .items()
                    .or_else(|| match m.need(0, "iterable") {
                        Ok(v @ (Value::Set(_) | Value::Dict(_))) => {
                            ops::iter(v).ok().map(|i| i.collect())
                        }
                        _ => None,
                    })
            else {
                return Err(Error::type_error("join() needs a list of strings"));
            };
            let mut texts = Vec::with_capacity(items.len());
            let mut total = 0usize;
            for (n, v) in items.iter().enumerate() {
                let Some(t) = v.as_text() else {
                    return Err(Error::type_error(format!(
                        "join(): item {n} is a {}, not a string",
                        v.type_name()
                    )));
                };
                total = total.saturating_add(t.len() + s.len());
                check_text(total)?;
                texts.push(t);
            }
            strv(texts.join(s))
        }
        "find" | "rfind" | "index" => {
            let sub = m.text(0, "sub")?;
            let at = if name == "rfind" {
                s.rfind(sub.as_str())
            } else {
                s.find(sub.as_str())
            };
            match at {
                Some(b) => Ok(Value::int(s[..b].chars().count() as i128)),
                None if name == "index" => Err(Error::value_error("substring not found")),
                None => Ok(Value::int(-1)),
            }
        }
        "count" => {
            let sub = m.text(0, "sub")?;
            Ok(Value::int(if sub.is_empty() {
                s.chars().count() as i128 + 1
            } else {
                s.matches(sub.as_str()).count() as i128
            }))
        }
        "isdigit" => Ok(Value::Bool(
            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        )),
        "isalpha" => Ok(Value::Bool(
            !s.is_empty() && s.chars().all(char::is_alphabetic),
        )),
        "isalnum" => Ok(Value::Bool(
            !s.is_empty() && s.chars().all(char::is_alphanumeric),
        )),
        "isspace" => Ok(Value::Bool(
            !s.is_empty() && s.chars().all(char::is_whitespace),
        )),
        "isupper" => Ok(Value::Bool(
            s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase),
        )),
        "islower" => Ok(Value::Bool(
            s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_uppercase),
        )),
        "ljust" | "rjust" | "center" | "zfill" => {
            let width = m.int(0, "width", 0)?.max(0) as usize;
            check_text(width)?;
            let fill = match m.opt_text(1, "fillchar")? {
                Some(f) if f.chars().count() == 1 => f,
                Some(_) => {
                    return Err(Error::type_error(
                        "the fill character must be one character",
                    ));
                }
                None if name == "zfill" => "0".into(),
                None => " ".into(),
            };
            let spec = match name {
                "ljust" => format!("{fill}<{width}"),
                "rjust" => format!("{fill}>{width}"),
                "center" => format!("{fill}^{width}"),
                _ => {
                    let n = s.chars().count();
                    if n >= width {
                        return strv(s.to_string());
                    }
                    let (sign, digits) = match s.strip_prefix(['-', '+']) {
                        Some(rest) => (&s[..1], rest),
                        None => ("", s),
                    };
                    return strv(format!("{sign}{}{digits}", "0".repeat(width - n)));
                }
            };
            strv(ops::format_spec(&Value::str(s), &spec)?)
        }
        "format" => strv(str_format(s, &m.a)?),
        _ => Err(Error::py(
            PyExc::AttributeError,
            format!("a str has no method '{name}'"),
        )),
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if prev_alpha {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_alpha = c.is_alphabetic();
    }
    out
}

/// `s.split(None, max)` / `s.rsplit(None, max)`: at most `max` splits on runs of
/// whitespace; the unsplit part keeps its spacing, as in Python.
fn split_ws(s: &str, max: usize, from_right: bool) -> Vec<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(st)) => {
                spans.push((st, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        spans.push((st, s.len()));
    }
    if spans.len() <= max + 1 {
        return spans.iter().map(|&(a, b)| s[a..b].to_string()).collect();
    }
    if from_right {
        let keep = spans.len() - max;
        let mut out = vec![s[..spans[keep - 1].1].to_string()];
        out.extend(spans[keep..].iter().map(|&(a, b)| s[a..b].to_string()));
        out
    } else {
        let mut out: Vec<String> = spans[..max]
            .iter()
            .map(|&(a, b)| s[a..b].to_string())
            .collect();
        out.push(s[spans[max].0..].to_string());
        out
    }
}

/// `"{} {name!r:>5}".format(...)`.
pub fn str_format(fmt: &str, args: &Args) -> R<String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        if c == '}' && chars.get(i + 1) == Some(&'}') {
            out.push('}');
            i += 2;
            continue;
        }
        if c == '}' {
            return Err(Error::value_error("single '}' in the format string"));
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(close) = chars[i..].iter().position(|&x| x == '}') else {
            return Err(Error::value_error(
                "'{' without its '}' in the format string",
            ));
        };
        let field: String = chars[i + 1..i + close].iter().collect();
        i += close + 1;
        let (head, spec) = field.split_once(':').unwrap_or((&field, ""));
        let (key, conv) = head.split_once('!').unwrap_or((head, ""));
        let v = if key.is_empty() {
            let v = args.pos.get(auto).cloned();
            auto += 1;
            v
        } else if let Ok(n) = key.parse::<usize>() {
            args.pos.get(n).cloned()
        } else {
            args.kw
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let Some(v) = v else {
            return Err(Error::py(
                PyExc::IndexError,
                format!("format(): no argument for {{{key}}}"),
            ));
        };
        let v = match conv {
            "r" | "a" => Value::Str(v.repr()),
            "s" => Value::Str(v.to_display()),
            _ => v,
        };
        out.push_str(&ops::format_spec(&v, spec)?);
        check_text(out.len())?;
    }
    Ok(out)
}

fn bytes_method(b: &[u8], name: &str, m: &MArgs) -> R<Value> {
    match name {
        "decode" => Ok(Value::Str(String::from_utf8_lossy(b).into_owned())),
        "hex" => Ok(Value::Str(b.iter().map(|x| format!("{x:02x}")).collect())),
        "startswith" | "endswith" | "split" | "strip" => {
            let s = String::from_utf8_lossy(b).into_owned();
            let v = str_method(&s, name, m)?;
            Ok(match v {
                Value::Str(t) => Value::Bytes(t.into_bytes()),
                Value::List(items) => Value::list(
                    items
                        .borrow()
                        .iter()
                        .map(|x| Value::Bytes(x.as_text().unwrap_or_default().into_bytes()))
                        .collect(),
                ),
                other => other,
            })
        }
        _ => Err(Error::py(
            PyExc::AttributeError,
            format!("bytes have no method '{name}'"),
        )),
    }
}

fn seq_method(items: &[Value], name: &str, m: &MArgs) -> R<Value> {
    match name {
        "count" => {
            let x = m.need(0, "value")?;
            Ok(Value::int(items.iter().filter(|i| *i == x).count() as i128))
        }
        "index" => {
            let x = m.need(0, "value")?;
            items
                .iter()
                .position(|i| i == x)
                .map(|p| Value::int(p as i128))
                .ok_or_else(|| Error::value_error(format!("{} is not in the list", x.repr())))
        }
        _ => Err(Error::py(
            PyExc::AttributeError,
            format!("a tuple has no method '{name}'"),
        )),
    }
}

fn list_method(it: &mut Interp, recv: &Value, name: &str, m: &MArgs) -> R<Value> {
    let Value::List(items) = recv else {
        unreachable!("a list")
    };
    match name {
        "append" => {
            let x = m.need(0, "value")?.clone();
            let mut l = items.borrow_mut();
            check_items(l.len() + 1)?;
            l.push(x);
            Ok(Value::None)
        }
        "extend" => {
            let extra = it.collect(m.need(0, "iterable")?)?;
            let mut l = items.borrow_mut();
            check_items(l.len() + extra.len())?;
            l.extend(extra);
            Ok(Value::None)
        }
        "insert" => {
            let i = m.int(0, "index", 0)?;
            let x = m.need(1, "value")?.clone();
            let mut l = items.borrow_mut();
            check_items(l.len() + 1)?;
            let len = l.len() as i128;
            let at = if i < 0 { (len + i).max(0) } else { i.min(len) };
            l.insert(at as usize, x);
            Ok(Value::None)
        }
        "pop" => {
            let mut l = items.borrow_mut();
            if l.is_empty() {
                return Err(Error::py(PyExc::IndexError, "pop from an empty list"));
            }
            let i = ops::seq_index(&Value::int(m.int(0, "index", -1)?), l.len())?;
            Ok(l.remove(i))
        }
        "remove" => {
            let x = m.need(0, "value")?;
            let mut l = items.borrow_mut();
            match l.iter().position(|i| i == x) {
                Some(p) => {
                    l.remove(p);
                    Ok(Value::None)
                }
                None => Err(Error::value_error(format!(
                    "{} is not in the list",
                    x.repr()
                ))),
            }
        }
        "clear" => {
            let old = std::mem::take(&mut *items.borrow_mut());
            crate::lang::value::defer_drop(old);
            Ok(Value::None)
        }
        "copy" => Ok(Value::list(items.borrow().clone())),
        "reverse" => {
            items.borrow_mut().reverse();
            Ok(Value::None)
        }
        "sort" => {
            let reverse = m.get(usize::MAX, "reverse").is_some_and(Value::truthy);
            let key = m.get(usize::MAX, "key").cloned();
            let current = items.borrow().clone();
            let sorted = it.call(
                &Value::Builtin(super::find("sorted").expect("sorted is a builtin")),
                Args {
                    pos: vec![Value::list(current)],
                    kw: [("key", key), ("reverse", Some(Value::Bool(reverse)))]
                        .into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
                        .collect(),
                },
            )?;
            *items.borrow_mut() = sorted.items().unwrap_or_default();
            Ok(Value::None)
        }
        _ => seq_method(&items.borrow(), name, m),
    }
}

fn dict_method(it: &mut Interp, recv: &Value, name: &str, m: &MArgs) -> R<Value> {
    let Value::Dict(d) = recv else {
        unreachable!("a dict")
    };
    match name {
        "keys" => Ok(Value::list(
            d.borrow()
                .entries()
                .iter()
                .map(|(k, _)| k.clone())
                .collect(),
        )),
        "values" => Ok(Value::list(
            d.borrow()
                .entries()
                .iter()
                .map(|(_, v)| v.clone())
                .collect(),
        )),
        "items" => Ok(Value::list(
            d.borrow()
                .entries()
                .iter()
                .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
                .collect(),
        )),
        "get" => {
            let key = m.need(0, "key")?;
            let default = m.get(1, "default").cloned().unwrap_or(Value::None);
            Ok(d.borrow().get(key)?.cloned().unwrap_or(default))
        }
        "pop" => {
            let key = m.need(0, "key")?;
            match d.borrow_mut().remove(key)? {
                Some(v) => Ok(v),
                None => match m.get(1, "default") {
                    Some(v) => Ok(v.clone()),
                    None => Err(Error::py(PyExc::KeyError, key.repr())),
                },
            }
        }
        "popitem" => match d.borrow_mut().pop_last() {
            Some((k, v)) => Ok(Value::tuple(vec![k, v])),
            None => Err(Error::py(PyExc::KeyError, "popitem(): the dict is empty")),
        },
        "setdefault" => {
            let key = m.need(0, "key")?.clone();
            let default = m.get(1, "default").cloned().unwrap_or(Value::None);
            if let Some(v) = d.borrow().get(&key)? {
                return Ok(v.clone());
            }
            d.borrow_mut().insert(key, default.clone())?;
            Ok(default)
        }
        "update" => {
            let mut entries: Vec<(Value, Value)> = Vec::new();
            match m.a.pos.first() {
                None => {}
                Some(Value::Dict(o)) => entries.extend(o.borrow().entries().iter().cloned()),
                Some(v) => {
                    for pair in it.collect(v)? {
                        let kv = it.collect(&pair)?;
                        let [k, v] = <[Value; 2]>::try_from(kv)
                            .map_err(|_| Error::value_error("update() needs (key, value) pairs"))?;
                        entries.push((k, v));
                    }
                }
            }
            entries.extend(
                m.a.kw
                    .iter()
                    .map(|(k, v)| (Value::str(k.clone()), v.clone())),
            );
            let mut d = d.borrow_mut();
            for (k, v) in entries {
                d.insert(k, v)?;
            }
            Ok(Value::None)
        }
        "clear" => {
            d.borrow_mut().clear();
            Ok(Value::None)
        }
        "copy" => Value::dict(d.borrow().entries().to_vec()),
        _ => Err(Error::py(
            PyExc::AttributeError,
            format!("a dict has no method '{name}'"),
        )),
    }
}

fn set_method(it: &mut Interp, recv: &Value, name: &str, m: &MArgs) -> R<Value> {
    let Value::Set(d) = recv else {
        unreachable!("a set")
    };
    let other = |it: &mut Interp| -> R<Value> {
        let items = it.collect(m.need(0, "other")?)?;
        Value::set(items)
    };
    match name {
        "add" => {
            d.borrow_mut()
                .insert(m.need(0, "value")?.clone(), Value::None)?;
            Ok(Value::None)
        }
        "remove" | "discard" => {
            let x = m.need(0, "value")?;
            let gone = d.borrow_mut().remove(x)?;
            if gone.is_none() && name == "remove" {
                return Err(Error::py(PyExc::KeyError, x.repr()));
            }
            Ok(Value::None)
        }
        "pop" => match d.borrow_mut().pop_last() {
            Some((k, _)) => Ok(k),
            None => Err(Error::py(PyExc::KeyError, "pop from an empty set")),
        },
        "clear" => {
            d.borrow_mut().clear();
            Ok(Value::None)
        }
        "copy" => Value::set(
            d.borrow()
                .entries()
                .iter()
                .map(|(k, _)| k.clone())
                .collect(),
        ),
        "update" => {
            for x in it.collect(m.need(0, "other")?)? {
                d.borrow_mut().insert(x, Value::None)?;
            }
            Ok(Value::None)
        }
        "union" => ops::binary(crate::lang::ast::BinOp::BitOr, recv, &other(it)?),
        "intersection" => ops::binary(crate::lang::ast::BinOp::BitAnd, recv, &other(it)?),
        "difference" => ops::binary(crate::lang::ast::BinOp::Sub, recv, &other(it)?),
        "issubset" | "issuperset" => {
            let o = other(it)?;
            let (small, big) = if name == "issubset" {
                (recv, &o)
            } else {
                (&o, recv)
            };
            let (Value::Set(s), Value::Set(b)) = (small, big) else {
                unreachable!("sets")
            };
            let b = b.borrow();
            for (k, _) in s.borrow().entries() {
                if !b.contains(k)? {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }
        _ => Err(Error::py(
            PyExc::AttributeError,
            format!("a set has no method '{name}'"),
        )),
    }
}

/// `sys.stdout.write(s)` and friends: the shell's own streams.
fn stream_method(it: &mut Interp, s: Stream, name: &str, m: &MArgs) -> R<Value> {
    match (s, name) {
        (_, "fileno") => Ok(Value::int(s.fd() as i128)),
        (_, "isatty") => {
            use std::io::IsTerminal;
            Ok(Value::Bool(match s {
                Stream::Stdin => std::io::stdin().is_terminal(),
                Stream::Stdout => it.term.tty,
                Stream::Stderr => std::io::stderr().is_terminal(),
            }))
        }
        (Stream::Stdout, "write") => {
            let t = m.text(0, "text")?;
            it.out.write_all(t.as_bytes())?;
            Ok(Value::int(t.chars().count() as i128))
        }
        (Stream::Stderr, "write") => {
            let t = m.text(0, "text")?;
            it.out.flush()?;
            std::io::stderr().write_all(t.as_bytes())?;
            Ok(Value::int(t.chars().count() as i128))
        }
        (Stream::Stdout, "flush") => {
            it.out.flush()?;
            Ok(Value::None)
        }
        (Stream::Stderr, "flush") => {
            std::io::stderr().flush()?;
            Ok(Value::None)
        }
        (Stream::Stdin, "readline") => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::os(&e, "reading standard input"))?;
            it.check_interrupt()?;
            Ok(Value::Str(line))
        }
        (Stream::Stdin, "read") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
                .map_err(|e| Error::os(&e, "reading standard input"))?;
            it.check_interrupt()?;
            check_text(text.len())?;
            Ok(Value::Str(text))
        }
        (s, _) => Err(Error::py(
            PyExc::OSError,
            format!("{name}() is not possible on {}", s.name()),
        )),
    }
}

//! Operators, items, slices, iteration and formatting of values.
//!
//! Integer arithmetic is checked everywhere (a result outside 128 bits is an OverflowError,
//! never a wrapped value or a panic), and every operation that can build a large value checks
//! its size first ([`check_text`], [`check_items`]).

use std::cmp::Ordering;
use std::rc::Rc;

use crate::lang::ast::{BinOp, UnaryOp};
use crate::lang::error::{Error, PyExc};
use crate::lang::value::{
    IntKind, Items, MAX_NESTING, Value, check_items, check_text, exponent_suffix, float_repr,
    range_len,
};

type R<T> = Result<T, Error>;

fn overflow() -> Error {
    Error::py(
        PyExc::OverflowError,
        "integer overflow: the result does not fit in 128 bits",
    )
}

fn zero_division() -> Error {
    Error::py(PyExc::ZeroDivisionError, "division by zero")
}

pub fn unary(op: UnaryOp, v: &Value) -> R<Value> {
    match (op, v) {
        (UnaryOp::Not, v) => Ok(Value::Bool(!v.truthy())),
        (UnaryOp::Neg, Value::Int(i, _)) => i.checked_neg().map(Value::int).ok_or_else(overflow),
        (UnaryOp::Neg, Value::Bool(b)) => Ok(Value::int(-(*b as i128))),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Pos, Value::Int(i, _)) => Ok(Value::int(*i)),
        (UnaryOp::Pos, Value::Float(_)) => Ok(v.clone()),
        (UnaryOp::Pos, Value::Bool(b)) => Ok(Value::int(*b as i128)),
        (UnaryOp::Invert, Value::Int(i, _)) => Ok(Value::int(!i)),
        (UnaryOp::Invert, Value::Bool(b)) => Ok(Value::int(!(*b as i128))),
        (_, v) => Err(Error::type_error(format!(
            "bad operand type for unary {}: '{}'",
            op.symbol(),
            v.type_name()
        ))),
    }
}

pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i, _) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(*b as i32 as f64),
        _ => None,
    }
}

pub fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i, _) => Some(*i),
        Value::Bool(b) => Some(*b as i128),
        _ => None,
    }
}

/// A float as an integer (truncated), or an error when it has none.
pub fn float_to_int(f: f64) -> R<i128> {
    if f.is_nan() {
        return Err(Error::value_error("cannot convert float NaN to integer"));
    }
    if !f.is_finite() || f.abs() >= 1.7e38 {
        return Err(Error::py(
            PyExc::OverflowError,
            format!(
                "cannot convert float {} to an integer (more than 128 bits)",
                float_repr(f)
            ),
        ));
    }
    Ok(f.trunc() as i128)
}

/// `a is b`: the same object (shared values), or the same singleton/value.
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => Rc::ptr_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) | (Value::Set(x), Value::Set(y)) => Rc::ptr_eq(x, y),
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Bool(_), _) | (_, Value::Bool(_)) | (Value::None, _) | (_, Value::None) => false,
        _ => a == b,
    }
}

/// `needle in hay`.
pub fn contains(hay: &Value, needle: &Value) -> R<bool> {
    Ok(match hay {
        Value::List(items) | Value::Tuple(items) => items.borrow().contains(needle),
        Value::Dict(d) | Value::Set(d) => d.borrow().contains(needle)?,
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => match needle.as_text() {
            Some(sub) => s.contains(&sub),
            None => {
                return Err(Error::type_error(format!(
                    "'in <str>' needs a string on the left, not {}",
                    needle.type_name()
                )));
            }
        },
        Value::Bytes(b) => match needle {
            Value::Int(i, _) => b.iter().any(|x| *x as i128 == *i),
            other => match other.as_text() {
                Some(sub) => {
                    let sub = sub.as_bytes();
                    sub.is_empty() || b.windows(sub.len()).any(|w| w == sub)
                }
                None => return Err(Error::type_error("'in <bytes>' needs bytes or an int")),
            },
        },
        Value::Range(a, _, c) => match int(needle) {
            Some(n) => {
                let len = range_len(hay);
                let off = n - a;
                off % c == 0 && (0..len).contains(&(off / c))
            }
            None => false,
        },
        other => {
            return Err(Error::type_error(format!(
                "argument of type '{}' is not iterable",
                other.type_name()
            )));
        }
    })
}

/// Python's ordering, for `<` and `sorted()`.
pub fn compare(a: &Value, b: &Value) -> R<Ordering> {
    compare_depth(a, b, 0)
}

fn compare_depth(a: &Value, b: &Value, depth: usize) -> R<Ordering> {
    if depth > MAX_NESTING {
        return Err(Error::py(
            PyExc::RecursionError,
            "values nested too deeply to compare",
        ));
    }
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        return Ok(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    match (a, b) {
        (Value::Bytes(x), Value::Bytes(y)) => return Ok(x.cmp(y)),
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            for (p, q) in x.iter().zip(y.iter()) {
                let o = compare_depth(p, q, depth + 1)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            return Ok(x.len().cmp(&y.len()));
        }
        _ => {}
    }
    match (a, b) {
        (
            Value::Str(x) | Value::Path(x) | Value::Signature(x),
            Value::Str(y) | Value::Path(y) | Value::Signature(y),
        ) => Ok(x.cmp(y)),
        _ => Err(Error::type_error(format!(
            "'<' is not supported between a {} and a {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

pub fn binary(op: BinOp, l: &Value, r: &Value) -> R<Value> {
    use BinOp::*;
    let type_err = || {
        Error::type_error(format!(
            "unsupported operand types for {}: {} and {}",
            op.symbol(),
            l.type_name(),
            r.type_name()
        ))
    };
    match op {
        Eq => return Ok(Value::Bool(l == r)),
        Ne => return Ok(Value::Bool(l != r)),
        Is => return Ok(Value::Bool(identical(l, r))),
        IsNot => return Ok(Value::Bool(!identical(l, r))),
        In => return Ok(Value::Bool(contains(r, l)?)),
        NotIn => return Ok(Value::Bool(!contains(r, l)?)),
        Lt | Le | Gt | Ge => {
            if let (Some(a), Some(b)) = (num(l), num(r))
                && (a.is_nan() || b.is_nan())
            {
                return Ok(Value::Bool(false));
            }
            let ord = compare(l, r).map_err(|e| {
                if e.kind == crate::lang::error::Kind::Py(PyExc::TypeError) {
                    Error::type_error(format!(
                        "'{}' is not supported between a {} and a {}",
                        op.symbol(),
                        l.type_name(),
                        r.type_name()
                    ))
                } else {
                    e
                }
            })?;
            return Ok(Value::Bool(match op {
                Lt => ord == Ordering::Less,
                Le => ord != Ordering::Greater,
                Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }));
        }
        And | Or => unreachable!("short-circuit operators are evaluated by the interpreter"),
        _ => {}
    }
    // Arithmetic: integers stay integers where Python's would.
    if let (Some(a), Some(b)) = (int(l), int(r)) {
        let v = match op {
            Add => a.checked_add(b),
            Sub => a.checked_sub(b),
            Mul => a.checked_mul(b),
            Div => {
                if b == 0 {
                    return Err(zero_division());
                }
                return Ok(Value::Float(a as f64 / b as f64));
            }
            FloorDiv | Mod => {
                if b == 0 {
                    return Err(zero_division());
                }
                // Python floors the quotient; Rust truncates it.
                let q = a.checked_div(b).ok_or_else(overflow)?;
                let rem = a.checked_rem(b).ok_or_else(overflow)?;
                let q = if rem != 0 && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                };
                if op == FloorDiv {
                    Some(q)
                } else if rem != 0 && ((a < 0) != (b < 0)) {
                    rem.checked_add(b)
                } else {
                    Some(rem)
                }
            }
            Pow => {
                if b < 0 {
                    return float_pow(a as f64, b as f64).map(Value::Float);
                }
                u32::try_from(b).ok().and_then(|e| a.checked_pow(e))
            }
            BitAnd => Some(a & b),
            BitOr => Some(a | b),
            BitXor => Some(a ^ b),
            LShift | RShift => {
                if b < 0 {
                    return Err(Error::value_error("negative shift count"));
                }
                if op == RShift {
                    Some(if b >= 128 {
                        if a < 0 { -1 } else { 0 }
                    } else {
                        a >> b
                    })
                } else if a == 0 {
                    Some(0)
                } else if b >= 127 {
                    None
                } else {
                    let s = a << b;
                    (s >> b == a).then_some(s)
                }
            }
            _ => None,
        };
        let v = v.ok_or_else(overflow)?;
        // Bitwise operations on two bools stay bools.
        if matches!(op, BitAnd | BitOr | BitXor)
            && matches!((l, r), (Value::Bool(_), Value::Bool(_)))
        {
            return Ok(Value::Bool(v != 0));
        }
        return Ok(Value::int(v));
    }
    if let (Some(a), Some(b)) = (num(l), num(r)) {
        let v = match op {
            Add => a + b,
            Sub => a - b,
            Mul => a * b,
            Div | FloorDiv | Mod if b == 0.0 => return Err(zero_division()),
            Div => a / b,
            FloorDiv => (a / b).floor(),
            Mod => {
                let m = a % b;
                if m != 0.0 && ((m < 0.0) != (b < 0.0)) {
                    m + b
                } else {
                    m
                }
            }
            Pow => float_pow(a, b)?,
            _ => return Err(type_err()),
        };
        return Ok(Value::Float(v));
    }
    match (op, l, r) {
        (Add, Value::Str(a), b @ (Value::Str(_) | Value::Path(_) | Value::Signature(_)))
        | (Add, Value::Path(a) | Value::Signature(a), b @ Value::Str(_)) => {
            let b = b.as_text().unwrap_or_default();
            check_text(a.len() + b.len())?;
            Ok(Value::Str(format!("{a}{b}")))
        }
        (Add, Value::Bytes(a), Value::Bytes(b)) => {
            check_text(a.len() + b.len())?;
            Ok(Value::Bytes([a.as_slice(), b].concat()))
        }
        (Add, Value::List(a), Value::List(b)) => {
            let (a, b) = (a.borrow(), b.borrow());
            check_items(a.len() + b.len())?;
            Ok(Value::list([a.as_slice(), b.as_slice()].concat()))
        }
        (Add, Value::Tuple(a), Value::Tuple(b)) => {
            let (a, b) = (a.borrow(), b.borrow());
            check_items(a.len() + b.len())?;
            Ok(Value::tuple([a.as_slice(), b.as_slice()].concat()))
        }
        (Mul, s @ (Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_)), n)
        | (Mul, n, s @ (Value::Str(_) | Value::Bytes(_) | Value::List(_) | Value::Tuple(_)))
            if int(n).is_some() =>
        {
            repeat(s, int(n).unwrap_or(0))
        }
        (Mod, Value::Str(fmt), arg) => Ok(Value::Str(percent_format(fmt, arg)?)),
        (BitOr, Value::Dict(a), Value::Dict(b)) => {
            let mut entries: Vec<(Value, Value)> = a.borrow().entries().to_vec();
            entries.extend(b.borrow().entries().iter().cloned());
            Value::dict(entries)
        }
        (BitOr | BitAnd | Sub | BitXor, Value::Set(a), Value::Set(b)) => {
            let (a, b) = (a.borrow(), b.borrow());
            let items: Vec<Value> = match op {
                BitOr => a
                    .entries()
                    .iter()
                    .chain(b.entries())
                    .map(|(k, _)| k.clone())
                    .collect(),
                BitAnd => a
                    .entries()
                    .iter()
                    .filter(|(k, _)| b.contains(k).unwrap_or(false))
                    .map(|(k, _)| k.clone())
                    .collect(),
                Sub => a
                    .entries()
                    .iter()
                    .filter(|(k, _)| !b.contains(k).unwrap_or(false))
                    .map(|(k, _)| k.clone())
                    .collect(),
                _ => a
                    .entries()
                    .iter()
                    .filter(|(k, _)| !b.contains(k).unwrap_or(false))
                    .chain(
                        b.entries()
                            .iter()
                            .filter(|(k, _)| !a.contains(k).unwrap_or(false)),
                    )
                    .map(|(k, _)| k.clone())
                    .collect(),
            };
            Value::set(items)
        }
        _ => Err(type_err()),
    }
}

/// `s * n` for strings, bytes, lists and tuples, bounded in size.
fn repeat(s: &Value, n: i128) -> R<Value> {
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    match s {
        Value::Str(t) => {
            check_text(t.len().saturating_mul(n))?;
            Ok(Value::Str(t.repeat(n)))
        }
        Value::Bytes(b) => {
            check_text(b.len().saturating_mul(n))?;
            Ok(Value::Bytes(b.repeat(n)))
        }
        Value::List(items) | Value::Tuple(items) => {
            let items = items.borrow();
            check_items(items.len().saturating_mul(n))?;
            // An empty sequence repeated any number of times is empty: no loop of n turns.
            let n = if items.is_empty() { 0 } else { n };
            let mut out = Vec::with_capacity(items.len() * n);
            for _ in 0..n {
                out.extend(items.iter().cloned());
            }
            Ok(if matches!(s, Value::List(_)) {
                Value::list(out)
            } else {
                Value::tuple(out)
            })
        }
        other => Err(Error::type_error(format!(
            "can't multiply sequence of type '{}'",
            other.type_name()
        ))),
    }
}

/// `t op= v`: lists, dicts and sets change in place (as in Python); the rest as `t op v`.
pub fn inplace(op: BinOp, cur: &Value, r: &Value) -> R<Value> {
    match (op, cur) {
        (BinOp::Add, Value::List(items)) => {
            let extra = match r {
                Value::List(b) | Value::Tuple(b) => b.borrow().clone(),
                other => iter(other)?.collect_bounded()?,
            };
            check_items(items.borrow().len() + extra.len())?;
            items.borrow_mut().extend(extra);
            Ok(cur.clone())
        }
        (BinOp::BitOr, Value::Dict(d)) => {
            let Value::Dict(other) = r else {
                return binary(op, cur, r);
            };
            let entries = other.borrow().entries().to_vec();
            let mut d = d.borrow_mut();
            for (k, v) in entries {
                d.insert(k, v)?;
            }
            Ok(cur.clone())
        }
        _ => binary(op, cur, r),
    }
}

/// An index into a sequence of `len` items (negative counts from the end).
pub fn seq_index(key: &Value, len: usize) -> R<usize> {
    let Some(i) = int(key) else {
        return Err(Error::type_error(format!(
            "indices must be integers, not {}",
            key.type_name()
        )));
    };
    let idx = if i < 0 { len as i128 + i } else { i };
    if idx < 0 || idx >= len as i128 {
        return Err(Error::py(
            PyExc::IndexError,
            format!("index {i} out of range (length {len})"),
        ));
    }
    Ok(idx as usize)
}

/// `recv[key]`.
pub fn index(recv: &Value, key: &Value) -> R<Value> {
    match recv {
        Value::List(items) | Value::Tuple(items) => {
            let items = items.borrow();
            Ok(items[seq_index(key, items.len())?].clone())
        }
        Value::Bytes(b) => Ok(Value::int(b[seq_index(key, b.len())?] as i128)),
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => {
            let n = s.chars().count();
            let i = seq_index(key, n)?;
            Ok(Value::Str(
                s.chars().nth(i).map(String::from).unwrap_or_default(),
            ))
        }
        Value::Range(a, _, c) => {
            let i = seq_index(key, usize::try_from(range_len(recv)).unwrap_or(usize::MAX))?;
            Ok(Value::int(a + c * i as i128))
        }
        Value::Dict(d) => match d.borrow().get(key)? {
            Some(v) => Ok(v.clone()),
            None => {
                let d = d.borrow();
                let keys: Vec<String> = d
                    .entries()
                    .iter()
                    .filter_map(|(k, _)| k.as_text())
                    .collect();
                Err(Error::py(
                    PyExc::KeyError,
                    format!(
                        "{}{}",
                        key.repr(),
                        crate::lang::interp::did_you_mean(
                            &key.as_text().unwrap_or_default(),
                            keys.iter().map(String::as_str)
                        )
                    ),
                ))
            }
        },
        other => Err(Error::type_error(format!(
            "a {} cannot be indexed",
            other.type_name()
        ))),
    }
}

/// The positions a slice selects in a sequence of `len` items.
fn slice_positions(len: usize, a: Option<i128>, b: Option<i128>, c: Option<i128>) -> R<Vec<usize>> {
    let step = c.unwrap_or(1);
    if step == 0 {
        return Err(Error::value_error("slice step cannot be zero"));
    }
    let len = len as i128;
    let norm = |x: i128, lo: i128, hi: i128| {
        let x = if x < 0 { x + len } else { x };
        x.clamp(lo, hi)
    };
    let mut out = Vec::new();
    if step > 0 {
        let start = a.map_or(0, |x| norm(x, 0, len));
        let stop = b.map_or(len, |x| norm(x, 0, len));
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        let start = a.map_or(len - 1, |x| norm(x, -1, len - 1));
        let stop = b.map_or(-1, |x| norm(x, -1, len - 1));
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    Ok(out)
}

/// `recv[a:b:c]`.
pub fn slice(recv: &Value, a: Option<i128>, b: Option<i128>, c: Option<i128>) -> R<Value> {
    match recv {
        Value::List(items) | Value::Tuple(items) => {
            let items = items.borrow();
            let picked = slice_positions(items.len(), a, b, c)?
                .into_iter()
                .map(|i| items[i].clone())
                .collect();
            Ok(if matches!(recv, Value::List(_)) {
                Value::list(picked)
            } else {
                Value::tuple(picked)
            })
        }
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Value::Str(
                slice_positions(chars.len(), a, b, c)?
                    .into_iter()
                    .map(|i| chars[i])
                    .collect(),
            ))
        }
        Value::Bytes(bytes) => Ok(Value::Bytes(
            slice_positions(bytes.len(), a, b, c)?
                .into_iter()
                .map(|i| bytes[i])
                .collect(),
        )),
        Value::Range(..) => {
            let all = iter(recv)?.collect_bounded()?;
            slice(&Value::list(all), a, b, c)
        }
        other => Err(Error::type_error(format!(
            "a {} cannot be sliced",
            other.type_name()
        ))),
    }
}

/// `recv[key] = v`.
pub fn set_item(recv: &Value, key: Value, v: Value) -> R<()> {
    match recv {
        Value::Dict(d) => d.borrow_mut().insert(key, v),
        Value::List(items) => {
            let mut items = items.borrow_mut();
            let i = seq_index(&key, items.len())?;
            items[i] = v;
            Ok(())
        }
        other => Err(Error::type_error(format!(
            "a {} does not support item assignment",
            other.type_name()
        ))),
    }
}

/// `recv[a:b:c] = items`.
pub fn set_slice(
    recv: &Value,
    a: Option<i128>,
    b: Option<i128>,
    c: Option<i128>,
    new: Vec<Value>,
) -> R<()> {
    let Value::List(items) = recv else {
        return Err(Error::type_error(format!(
            "a {} does not support slice assignment",
            recv.type_name()
        )));
    };
    let mut items = items.borrow_mut();
    let pos = slice_positions(items.len(), a, b, c)?;
    if c.unwrap_or(1) == 1 {
        let start = pos.first().copied().unwrap_or_else(|| {
            a.map_or(0, |x| {
                if x < 0 {
                    (items.len() as i128 + x).max(0) as usize
                } else {
                    (x as usize).min(items.len())
                }
            })
        });
        let end = pos.last().map_or(start, |l| l + 1);
        check_items(items.len() - (end - start) + new.len())?;
        items.splice(start..end, new);
        return Ok(());
    }
    if pos.len() != new.len() {
        return Err(Error::value_error(format!(
            "attempt to assign a sequence of {} items to an extended slice of {}",
            new.len(),
            pos.len()
        )));
    }
    for (i, v) in pos.into_iter().zip(new) {
        items[i] = v;
    }
    Ok(())
}

/// `del recv[key]`.
pub fn del_item(recv: &Value, key: &Value) -> R<()> {
    match recv {
        Value::Dict(d) => match d.borrow_mut().remove(key)? {
            Some(_) => Ok(()),
            None => Err(Error::py(PyExc::KeyError, key.repr())),
        },
        Value::List(items) => {
            let mut items = items.borrow_mut();
            let i = seq_index(key, items.len())?;
            items.remove(i);
            Ok(())
        }
        other => Err(Error::type_error(format!(
            "a {} does not support item deletion",
            other.type_name()
        ))),
    }
}

/// `del recv[a:b:c]`.
pub fn del_slice(recv: &Value, a: Option<i128>, b: Option<i128>, c: Option<i128>) -> R<()> {
    let Value::List(items) = recv else {
        return Err(Error::type_error(format!(
            "a {} does not support item deletion",
            recv.type_name()
        )));
    };
    let mut items = items.borrow_mut();
    let mut pos = slice_positions(items.len(), a, b, c)?;
    pos.sort_unstable();
    for i in pos.into_iter().rev() {
        items.remove(i);
    }
    Ok(())
}

/// Iteration over a value. Lists are read live (appending while iterating is seen, as in
/// Python); dicts and sets are iterated over a snapshot of their keys.
pub enum Iter {
    Seq(Rc<Items>, usize),
    Vec(std::vec::IntoIter<Value>),
    Range { cur: i128, stop: i128, step: i128 },
}

impl Iterator for Iter {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match self {
            Iter::Seq(items, i) => {
                let v = items.borrow().get(*i).cloned();
                *i += 1;
                v
            }
            Iter::Vec(it) => it.next(),
            Iter::Range { cur, stop, step } => {
                let more = if *step > 0 { cur < stop } else { cur > stop };
                if !more {
                    return None;
                }
                let v = *cur;
                *cur = cur.checked_add(*step).unwrap_or(*stop);
                Some(Value::int(v))
            }
        }
    }
}

impl Iter {
    /// Everything left, bounded in size and interruptible.
    pub fn collect_bounded(self) -> R<Vec<Value>> {
        let mut out = Vec::new();
        for (n, x) in self.enumerate() {
            if n % 4096 == 0 {
                check_items(n + 1)?;
                if crate::term::signals::take_interrupt() {
                    return Err(Error::interrupted());
                }
            }
            out.push(x);
        }
        Ok(out)
    }
}

pub fn iter(v: &Value) -> R<Iter> {
    Ok(match v {
        Value::List(items) | Value::Tuple(items) => Iter::Seq(items.clone(), 0),
        Value::Dict(d) | Value::Set(d) => Iter::Vec(
            d.borrow()
                .entries()
                .iter()
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>()
                .into_iter(),
        ),
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => {
            check_items(s.len())?;
            Iter::Vec(
                s.chars()
                    .map(|c| Value::Str(c.to_string()))
                    .collect::<Vec<_>>()
                    .into_iter(),
            )
        }
        Value::Bytes(b) => Iter::Vec(
            b.iter()
                .map(|x| Value::Int(*x as i128, IntKind::Plain))
                .collect::<Vec<_>>()
                .into_iter(),
        ),
        Value::Range(a, b, c) => Iter::Range {
            cur: *a,
            stop: *b,
            step: *c,
        },
        other => {
            return Err(Error::type_error(format!(
                "a {} is not iterable",
                other.type_name()
            )));
        }
    })
}

/// Python's `format(value, spec)`: `[[fill]align][sign][#][0][width][,][.precision][type]`.
pub fn format_spec(v: &Value, spec: &str) -> R<String> {
    if spec.is_empty() {
        return Ok(v.to_display());
    }
    let bad = || {
        Error::value_error(format!(
            "invalid format spec '{spec}' for a {}",
            v.type_name()
        ))
    };
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        fill = chars[0];
        align = Some(chars[1]);
        i = 2;
    } else if matches!(chars.first(), Some('<' | '>' | '^' | '=')) {
        align = Some(chars[0]);
        i = 1;
    }
    let mut sign = '-';
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        sign = c;
        i += 1;
    }
    let mut alt = false;
    if chars.get(i) == Some(&'#') {
        alt = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') && align.is_none() {
        fill = '0';
        align = Some('=');
        i += 1;
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        width = width.saturating_mul(10).saturating_add(d as usize);
        i += 1;
    }
    check_text(width)?;
    let mut grouping = None;
    if let Some(&c @ (',' | '_')) = chars.get(i) {
        grouping = Some(c);
        i += 1;
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = 0usize;
        let start = i;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            p = p.saturating_mul(10).saturating_add(d as usize);
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        precision = Some(p.min(1000));
    }
    let ty = chars.get(i).copied();
    if i + usize::from(ty.is_some()) != chars.len() {
        return Err(bad());
    }
    let is_num = matches!(v, Value::Int(..) | Value::Float(_) | Value::Bool(_));
    let (mut body, negative) = match (ty, v) {
        (None | Some('s'), v) if !is_num || ty == Some('s') => {
            if ty == Some('s') && is_num {
                return Err(bad());
            }
            let mut s = v.to_display();
            if let Some(p) = precision {
                s = s.chars().take(p).collect();
            }
            (s, false)
        }
        (Some('d' | 'n') | None, Value::Int(..) | Value::Bool(_))
            if precision.is_none() || ty.is_none() =>
        {
            let n = int(v).unwrap_or(0);
            if precision.is_some() {
                (format_float(n as f64, precision, 'g'), n < 0)
            } else {
                (n.unsigned_abs().to_string(), n < 0)
            }
        }
        (Some(t @ ('x' | 'X' | 'o' | 'b')), Value::Int(..) | Value::Bool(_)) => {
            let n = int(v).unwrap_or(0);
            let m = n.unsigned_abs();
            let digits = match t {
                'x' => format!("{m:x}"),
                'X' => format!("{m:X}"),
                'o' => format!("{m:o}"),
                _ => format!("{m:b}"),
            };
            let prefix = if alt {
                match t {
                    'x' => "0x",
                    'X' => "0X",
                    'o' => "0o",
                    _ => "0b",
                }
            } else {
                ""
            };
            (format!("{prefix}{digits}"), n < 0)
        }
        (Some('c'), Value::Int(i, _)) => (
            u32::try_from(*i)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
                .ok_or_else(bad)?,
            false,
        ),
        (Some(t @ ('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%')), v) if is_num => {
            let f = num(v).unwrap_or(0.0);
            (
                format_float(f.abs(), precision, t),
                f.is_sign_negative() && f != 0.0,
            )
        }
        (None, Value::Float(f)) => {
            let s = match precision {
                // Like 'g', but a fixed-point result keeps a digit after the point.
                Some(_) => format_float(f.abs(), precision, 'r'),
                None => float_repr(f.abs()),
            };
            (s, f.is_sign_negative() && *f != 0.0)
        }
        _ => return Err(bad()),
    };
    if let Some(g) = grouping
        && is_num
    {
        let (int_part, rest) = match body.find(|c: char| !c.is_ascii_digit()) {
            Some(p) => body.split_at(p),
            None => (body.as_str(), ""),
        };
        let mut grouped = String::new();
        for (n, c) in int_part.chars().enumerate() {
            if n > 0 && (int_part.len() - n) % 3 == 0 {
                grouped.push(g);
            }
            grouped.push(c);
        }
        body = format!("{grouped}{rest}");
    }
    let sign_text = if negative {
        "-"
    } else if sign == '+' && is_num {
        "+"
    } else if sign == ' ' && is_num {
        " "
    } else {
        ""
    };
    let len = sign_text.chars().count() + body.chars().count();
    let pad = width.saturating_sub(len);
    let align = align.unwrap_or(if is_num { '>' } else { '<' });
    let fills = |n: usize| fill.to_string().repeat(n);
    Ok(match align {
        '<' => format!("{sign_text}{body}{}", fills(pad)),
        '^' => format!(
            "{}{sign_text}{body}{}",
            fills(pad / 2),
            fills(pad - pad / 2)
        ),
        '=' => format!("{sign_text}{}{body}", fills(pad)),
        _ => format!("{}{sign_text}{body}", fills(pad)),
    })
}

/// Python's float `**`: C's `pow`, and Python's errors where C gives an infinity or a NaN.
fn float_pow(a: f64, b: f64) -> R<f64> {
    if a == 0.0 && b < 0.0 {
        return Err(Error::py(
            PyExc::ZeroDivisionError,
            "0.0 cannot be raised to a negative power",
        ));
    }
    let finite = a.is_finite() && b.is_finite();
    if finite && a < 0.0 && b.fract() != 0.0 {
        return Err(Error::value_error(
            "a negative number cannot be raised to a fractional power (Python gives a \
             complex number; this shell has none)",
        ));
    }
    let r = pow(a, b);
    if finite && r.is_infinite() {
        return Err(Error::py(
            PyExc::OverflowError,
            "(34, 'Numerical result out of range')",
        ));
    }
    Ok(r)
}

/// C's `pow`, glibc's, as Python calls it (results agree to the bit).
///
/// Why glibc's libm is opened here, on first use, instead of linked: linked, every process
/// loads it at start (58 µs, 0.3 MiB at the prompt, measured) for this one function (see
/// `main.rs` for the other). The `libm` crate's `pow` is not glibc's algorithm (it differs
/// in the last bit for some inputs): it is only the fallback should `libm.so.6` not open.
fn pow(a: f64, b: f64) -> f64 {
    type Pow = extern "C" fn(f64, f64) -> f64;
    static POW: std::sync::OnceLock<Option<Pow>> = std::sync::OnceLock::new();
    let glibc = POW.get_or_init(|| {
        use nix::libc::{RTLD_LOCAL, RTLD_NOW, dlopen, dlsym};
        // SAFETY: both names are NUL-terminated literals; the library stays open for the
        // life of the process (its handle is never closed), so the function pointer stays
        // valid; glibc's `pow` has exactly this C signature.
        unsafe {
            let lib = dlopen(c"libm.so.6".as_ptr(), RTLD_NOW | RTLD_LOCAL);
            if lib.is_null() {
                return None;
            }
            let f = dlsym(lib, c"pow".as_ptr());
            (!f.is_null()).then(|| std::mem::transmute::<*mut std::ffi::c_void, Pow>(f))
        }
    });
    match glibc {
        Some(f) => f(a, b),
        None => libm::pow(a, b),
    }
}

/// `f` (not negative: the caller writes the sign) by format type `t`, as Python does; `'r'`
/// is the float's format without a type but with a precision: 'g' whose fixed-point form
/// keeps a digit after the point (so one digit less before it: `format(12.0, '.2')` is
/// `1.2e+01`).
fn format_float(f: f64, precision: Option<usize>, t: char) -> String {
    let p = precision.unwrap_or(6);
    let upper = t.is_ascii_uppercase();
    if !f.is_finite() {
        let s = if f.is_nan() { "nan" } else { "inf" };
        let s = if upper { s.to_uppercase() } else { s.into() };
        return if t == '%' { s + "%" } else { s };
    }
    // Mantissa and exponent of the 'e' form with `digits` after the point (rounded).
    let sci = |digits: usize| {
        let s = format!("{f:.digits$e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        (m.to_string(), e.parse::<i32>().unwrap_or(0))
    };
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let out = match t {
        'f' | 'F' => format!("{f:.p$}"),
        'e' | 'E' => {
            let (m, e) = sci(p);
            m + &exponent_suffix(e)
        }
        '%' => format!("{:.p$}%", f * 100.0),
        _ => {
            // 'g': p significant digits, trailing zeros dropped; scientific when the
            // exponent of the rounded 'e' form is below -4 or at least p (Python's rule).
            let p = p.max(1);
            let point = t == 'r';
            if f == 0.0 {
                return if point { "0.0" } else { "0" }.into();
            }
            let (m, e) = sci(p - 1);
            if e < -4 || e >= p as i32 - i32::from(point) {
                trim(m) + &exponent_suffix(e)
            } else {
                let decimals = (p as i32 - 1 - e).max(0) as usize;
                let s = trim(format!("{f:.decimals$}"));
                if point && !s.contains('.') {
                    s + ".0"
                } else {
                    s
                }
            }
        }
    };
    if upper { out.to_uppercase() } else { out }
}

/// `"%s" % x`: printf-style formatting (`%s %r %d %i %f %x %o %e %g %c %%`, flags, width,
/// precision).
pub fn percent_format(fmt: &str, arg: &Value) -> R<String> {
    let args: Vec<Value> = match arg {
        Value::Tuple(items) => items.borrow().clone(),
        other => vec![other.clone()],
    };
    let mut it = args.iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let missing = || Error::type_error("not enough arguments for format string");
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f @ ('-' | '+' | ' ' | '0' | '#')) = chars.peek() {
            flags.push(f);
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision = String::new();
        if chars.peek() == Some(&'.') {
            chars.next();
            precision.push('.');
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                precision.push(d);
                chars.next();
            }
        }
        let Some(conv) = chars.next() else {
            return Err(Error::value_error("incomplete format: '%' at the end"));
        };
        let align = if flags.contains('-') {
            "<"
        } else if flags.contains('0') {
            "0"
        } else {
            ""
        };
        let sign = if flags.contains('+') { "+" } else { "" };
        let alt = if flags.contains('#') { "#" } else { "" };
        let spec = |ty: &str| format!("{align}{sign}{alt}{width}{precision}{ty}");
        match conv {
            '%' => out.push('%'),
            's' => out.push_str(&format_spec(
                &Value::Str(it.next().ok_or_else(missing)?.to_display()),
                &spec(""),
            )?),
            'r' | 'a' => out.push_str(&format_spec(
                &Value::Str(it.next().ok_or_else(missing)?.repr()),
                &spec(""),
            )?),
            'd' | 'i' | 'u' => {
                let v = it.next().ok_or_else(missing)?;
                let n = match v {
                    Value::Float(f) => Value::int(float_to_int(*f)?),
                    v if int(v).is_some() => Value::int(int(v).unwrap_or(0)),
                    other => {
                        return Err(Error::type_error(format!(
                            "%{conv} format: a number is required, not {}",
                            other.type_name()
                        )));
                    }
                };
                let p = format!("{align}{sign}{width}d");
                out.push_str(&format_spec(&n, &p)?);
            }
            'x' | 'X' | 'o' | 'c' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let v = it.next().ok_or_else(missing)?;
                out.push_str(&format_spec(v, &spec(&conv.to_string()))?);
            }
            other => {
                return Err(Error::value_error(format!(
                    "unsupported format character '{other}'"
                )));
            }
        }
        check_text(out.len())?;
    }
    if it.next().is_some() {
        return Err(Error::type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_table() {
        use BinOp::*;
        let rows = [
            (Add, Value::int(2), Value::int(3), "5"),
            (Div, Value::int(7), Value::int(2), "3.5"),
            (FloorDiv, Value::int(-7), Value::int(2), "-4"),
            (Mod, Value::int(-7), Value::int(2), "1"),
            (Mod, Value::int(7), Value::int(-2), "-1"),
            (Mod, Value::Float(-7.5), Value::int(2), "0.5"),
            (Pow, Value::int(2), Value::int(64), "18446744073709551616"),
            (Pow, Value::int(2), Value::int(-1), "0.5"),
            (Sub, Value::Float(1.5), Value::int(1), "0.5"),
            (Add, Value::str("a"), Value::str("b"), "'ab'"),
            (Lt, Value::int(1), Value::Float(1.5), "True"),
            (BitAnd, Value::int(6), Value::int(3), "2"),
            (BitOr, Value::int(6), Value::int(3), "7"),
            (BitXor, Value::int(6), Value::int(3), "5"),
            (
                LShift,
                Value::int(1),
                Value::int(100),
                "1267650600228229401496703205376",
            ),
            (RShift, Value::int(-1), Value::int(500), "-1"),
            (Mul, Value::str("ab"), Value::int(3), "'ababab'"),
            (Mul, Value::int(-1), Value::str("ab"), "''"),
            (
                In,
                Value::str("a"),
                Value::list(vec![Value::str("a")]),
                "True",
            ),
            (In, Value::int(4), Value::Range(0, 10, 2), "True"),
            (In, Value::int(5), Value::Range(0, 10, 2), "False"),
        ];
        for (op, l, r, want) in rows {
            assert_eq!(binary(op, &l, &r).unwrap().repr(), want, "{op:?}");
        }
        assert!(binary(Div, &Value::int(1), &Value::int(0)).is_err());
        assert!(binary(Add, &Value::int(1), &Value::str("x")).is_err());
    }

    #[test]
    fn float_powers_raise_where_python_raises() {
        use crate::lang::error::Kind::Py;
        let (f, i) = (Value::Float, Value::int);
        let ok = [
            (i(2), f(0.5), "1.4142135623730951"),
            (i(2), i(-1), "0.5"),
            (i(10), i(-400), "0.0"),
            (f(-8.0), f(2.0), "64.0"),
            (f(f64::INFINITY), i(-1), "0.0"),
            (f(2.0), f(f64::INFINITY), "inf"),
            (f(f64::NAN), i(0), "1.0"),
            (f(1.0), f(f64::NAN), "1.0"),
        ];
        for (l, r, want) in ok {
            let got = binary(BinOp::Pow, &l, &r).unwrap().repr();
            assert_eq!(got, want, "{l:?} ** {r:?}");
        }
        let errs = [
            (i(0), i(-1), PyExc::ZeroDivisionError),
            (f(0.0), f(-1.5), PyExc::ZeroDivisionError),
            (f(10.0), i(400), PyExc::OverflowError),
            (i(2), f(10000.0), PyExc::OverflowError),
            (f(-8.0), f(1.0 / 3.0), PyExc::ValueError),
        ];
        for (l, r, kind) in errs {
            let e = binary(BinOp::Pow, &l, &r).unwrap_err();
            assert_eq!(e.kind, Py(kind), "{l:?} ** {r:?}");
        }
    }

    /// Issue 12, item 3: integer arithmetic is checked everywhere (no panic, no wrong sign).
    #[test]
    fn checked_integer_arithmetic_never_panics() {
        use BinOp::*;
        let min = Value::int(i128::MIN);
        let max = Value::int(i128::MAX);
        let rows = [
            (FloorDiv, min.clone(), Value::int(-1)),
            (Mod, min.clone(), Value::int(-1)),
            (Mul, max.clone(), Value::int(2)),
            (Add, max.clone(), Value::int(1)),
            (Sub, min.clone(), Value::int(1)),
            (Pow, Value::int(10), Value::int(40)),
            (Pow, Value::int(2), Value::int(1 << 40)),
            (LShift, Value::int(1), Value::int(127)),
            (LShift, Value::int(3), Value::int(126)),
        ];
        for (op, l, r) in rows {
            let e = binary(op, &l, &r).unwrap_err();
            assert_eq!(
                e.kind,
                crate::lang::error::Kind::Py(PyExc::OverflowError),
                "{op:?}"
            );
        }
        let e = unary(UnaryOp::Neg, &min).unwrap_err();
        assert_eq!(e.kind, crate::lang::error::Kind::Py(PyExc::OverflowError));
        assert!(float_to_int(-1e300).is_err());
        assert!(float_to_int(f64::NAN).is_err());
        assert_eq!(float_to_int(-2.7).unwrap(), -2);
    }

    /// Issue 12, item 5: memory caps hold for repetition and concatenation.
    #[test]
    fn memory_caps_hold_for_repetition_and_concatenation() {
        use BinOp::*;
        let big = Value::str("x".repeat(1 << 20));
        let list = Value::list(vec![Value::int(1); 1024]);
        let rows = [
            (Mul, big.clone(), Value::int(1048576)),
            (Mul, Value::int(i128::MAX), big.clone()),
            (Mul, list.clone(), Value::int(1048576)),
            (Mul, Value::Bytes(vec![0; 1 << 20]), Value::int(100)),
        ];
        for (op, l, r) in rows {
            let e = binary(op, &l, &r).unwrap_err();
            assert_eq!(
                e.kind,
                crate::lang::error::Kind::Py(PyExc::MemoryError),
                "{op:?}"
            );
        }
        let mut s = Value::str("x".repeat(1 << 16));
        let mut failed = false;
        for _ in 0..20 {
            match binary(Add, &s, &s) {
                Ok(v) => s = v,
                Err(e) => {
                    assert_eq!(e.kind, crate::lang::error::Kind::Py(PyExc::MemoryError));
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "s + s must stop at the cap");
    }

    #[test]
    fn pow_is_glibcs_to_the_bit() {
        // `**` on floats opens glibc's libm itself (this test binary also links it: the
        // comparison is with the function Python calls).
        let bases = [
            0.0,
            1e-300,
            0.001,
            0.3,
            0.5,
            0.999,
            1.0,
            1.5,
            2.0,
            2.5,
            3.0,
            7.0,
            10.0,
            123.456,
            1e10,
            1e300,
            -2.0,
            -0.5,
            -7.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let mut exps: Vec<f64> = (-40..=40).map(|i| f64::from(i) * 0.37).collect();
        exps.extend((-20..=20).map(f64::from));
        exps.extend([
            0.5,
            -0.5,
            1.0 / 3.0,
            1e-9,
            400.0,
            -400.0,
            f64::INFINITY,
            f64::NAN,
        ]);
        for &a in &bases {
            for &b in &exps {
                let (ours, glibc) = (pow(a, b), a.powf(b));
                assert!(
                    ours.to_bits() == glibc.to_bits() || (ours.is_nan() && glibc.is_nan()),
                    "{a} ** {b}: {ours:e} against glibc's {glibc:e}"
                );
            }
        }
    }

    #[test]
    fn format_specs() {
        let rows: &[(Value, &str, &str)] = &[
            (Value::int(42), "", "42"),
            (Value::int(42), ">5", "   42"),
            (Value::int(42), "<5", "42   "),
            (Value::int(42), "^6", "  42  "),
            (Value::int(42), "05", "00042"),
            (Value::int(-42), "05", "-0042"),
            (Value::int(255), "x", "ff"),
            (Value::int(255), "#x", "0xff"),
            (Value::int(5), "b", "101"),
            (Value::int(1234567), ",", "1,234,567"),
            (Value::Float(1.23456), ".2f", "1.23"),
            (Value::Float(0.5), ".1%", "50.0%"),
            (Value::Float(1234.5), "e", "1.234500e+03"),
            (Value::Float(0.0001234), "g", "0.0001234"),
            // 'g' takes the exponent after rounding (log10 before it said 5: "1000000").
            (Value::Float(999999.5), ".6g", "1e+06"),
            (Value::Float(9.9999995), ".6g", "10"),
            (Value::Float(0.00001234), "g", "1.234e-05"),
            (Value::Float(123456789.0), "G", "1.23457E+08"),
            (Value::Float(1.5), ".3", "1.5"),
            (Value::Float(2.0), ".3", "2.0"),
            (Value::Float(123.0), ".3", "1.23e+02"),
            (Value::Float(12.5), ".2", "1.2e+01"),
            (Value::Float(12.5), ".2g", "12"),
            (Value::Float(0.00001), ".2", "1e-05"),
            (Value::Float(100.0), ".3", "1e+02"),
            (Value::Float(0.0), ".3", "0.0"),
            (Value::Float(f64::INFINITY), "g", "inf"),
            (Value::Float(f64::NEG_INFINITY), ".2f", "-inf"),
            (Value::Float(f64::NAN), "E", "NAN"),
            (Value::Float(f64::INFINITY), "%", "inf%"),
            (Value::Float(2.0), "", "2.0"),
            (Value::str("ab"), ">4", "  ab"),
            (Value::str("ab"), "*^6", "**ab**"),
            (Value::str("abc"), ".2", "ab"),
            (Value::int(7), "+d", "+7"),
        ];
        for (v, spec, want) in rows {
            assert_eq!(format_spec(v, spec).unwrap(), *want, "{v:?} {spec}");
        }
        assert!(format_spec(&Value::str("x"), "d").is_err());
        assert!(format_spec(&Value::int(1), ">99999999999").is_err());
    }

    #[test]
    fn percent_formatting() {
        let t = |items: Vec<Value>| Value::tuple(items);
        let rows: &[(&str, Value, &str)] = &[
            ("%s-%r", t(vec![Value::str("a"), Value::str("b")]), "a-'b'"),
            ("%d%%", Value::int(5), "5%"),
            ("%5.2f|", Value::Float(1.23456), " 1.23|"),
            ("%-4s|", Value::str("a"), "a   |"),
            ("%x", Value::int(255), "ff"),
            ("%03d", Value::int(7), "007"),
        ];
        for (fmt, arg, want) in rows {
            assert_eq!(percent_format(fmt, arg).unwrap(), *want, "{fmt}");
        }
        assert!(percent_format("%s %s", &Value::str("a")).is_err());
        assert!(percent_format("%s", &t(vec![Value::int(1), Value::int(2)])).is_err());
    }

    #[test]
    fn slices_follow_python() {
        let l = Value::list((0..6).map(Value::int).collect());
        type Row = (Option<i128>, Option<i128>, Option<i128>, &'static str);
        let rows: &[Row] = &[
            (Some(1), Some(3), None, "[1, 2]"),
            (None, None, Some(-1), "[5, 4, 3, 2, 1, 0]"),
            (Some(-2), None, None, "[4, 5]"),
            (None, Some(-4), None, "[0, 1]"),
            (None, None, Some(2), "[0, 2, 4]"),
            (Some(4), Some(1), Some(-2), "[4, 2]"),
            (Some(100), None, None, "[]"),
        ];
        for (a, b, c, want) in rows {
            assert_eq!(
                slice(&l, *a, *b, *c).unwrap().repr(),
                *want,
                "{a:?}:{b:?}:{c:?}"
            );
        }
        assert_eq!(
            slice(&Value::str("héllo"), Some(1), Some(3), None)
                .unwrap()
                .repr(),
            "'él'"
        );
        assert!(slice(&l, None, None, Some(0)).is_err());
    }
}

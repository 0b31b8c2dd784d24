//! busctl's text formats, byte for byte (systemd 252, `src/busctl/busctl.c`).
//!
//! Why exact: rustemd-shell mirrors busctl, and its users paste busctl command lines and compare
//! outputs. So values are printed the way busctl's `format_cmdline()` prints them and arguments
//! are read with the grammar of its `message_append_cmdline()`, including the number parsing of
//! systemd's `safe_ato*()` (glibc `strtoul()` with base 0 plus `0b`/`0o` prefixes) and
//! `safe_atod()` (`strtod()` in the C locale), and its exact error texts.
//!
//! Mirrors:
//! * [`format_values`]: `format_cmdline()` (also what `busctl introspect` shows as a property's
//!   VALUE: no signature prefix, e.g. `2 "a" "b"` for an `as` property).
//! * [`format_reply`]: the default (non-verbose, non-JSON) output of `busctl call` and
//!   `busctl get-property`: `fputs(signature); fputc(' '); format_cmdline(); fputc('\n')`, and
//!   nothing at all for an empty reply.
//! * [`cescape`]: `cescape()` from `src/basic/escape.c`.
//! * [`parse_args`]: `message_append_cmdline()` as driven by `call()` / `set_property()`.

use std::fmt::Write as _;

use super::data::Data;
use super::sig::{Sig, sig_list_string};

// ---------------------------------------------------------------------------------------------
// Output

/// systemd's `cescape()`: `\a \b \f \n \r \t \v \\ \" \'` by name, any other byte below `' '` or
/// at/above 127 (so every byte of a non-ASCII UTF-8 character) as a three-digit octal escape.
pub fn cescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b if !(b' '..127).contains(&b) => {
                out.push('\\');
                out.push(char::from(b'0' + (b >> 6)));
                out.push(char::from(b'0' + ((b >> 3) & 7)));
                out.push(char::from(b'0' + (b & 7)));
            }
            b => out.push(char::from(b)),
        }
    }
    out
}

/// C `printf("%g")` (precision 6, glibc): 6 significant digits, `%e` style when the decimal
/// exponent is < -4 or >= 6, trailing zeros (and a trailing `.`) removed; `inf`, `nan`, `-0`.
pub fn format_g(v: f64) -> String {
    const P: i32 = 6;
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let e_form = format!("{:.*e}", (P - 1) as usize, v);
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if !(-4..P).contains(&x) {
        let mant = strip_zeros(mant);
        format!(
            "{mant}e{}{:02}",
            if x < 0 { '-' } else { '+' },
            x.unsigned_abs()
        )
    } else {
        let fixed = format!("{:.*}", (P - 1 - x) as usize, v);
        strip_zeros(&fixed).to_owned()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Append one value's tokens, each preceded by a space unless it is the first of the line (a
/// struct prints no token of its own, only its fields: busctl's `needs_space` logic).
fn push_value(out: &mut String, d: &Data) {
    if let Data::Struct(fields) = d {
        for f in fields {
            push_value(out, f);
        }
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    match d {
        Data::Byte(v) => write!(out, "{v}").unwrap(),
        Data::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
        Data::I16(v) => write!(out, "{v}").unwrap(),
        Data::U16(v) => write!(out, "{v}").unwrap(),
        Data::I32(v) => write!(out, "{v}").unwrap(),
        Data::U32(v) => write!(out, "{v}").unwrap(),
        Data::I64(v) => write!(out, "{v}").unwrap(),
        Data::U64(v) => write!(out, "{v}").unwrap(),
        Data::Double(v) => out.push_str(&format_g(*v)),
        Data::Str(s) | Data::Path(s) | Data::Signature(s) => {
            out.push('"');
            out.push_str(&cescape(s));
            out.push('"');
        }
        Data::Fd(v) => write!(out, "{v}").unwrap(),
        Data::Array { items, .. } => {
            write!(out, "{}", items.len()).unwrap();
            for i in items {
                push_value(out, i);
            }
        }
        Data::Dict { entries, .. } => {
            write!(out, "{}", entries.len()).unwrap();
            for (k, v) in entries {
                push_value(out, k);
                push_value(out, v);
            }
        }
        Data::Variant(inner) => {
            out.push_str(&inner.sig().to_string());
            push_value(out, inner);
        }
        Data::Struct(_) => {} // handled above
    }
}

/// busctl's `format_cmdline()` of all values: tokens separated by single spaces, no signature
/// prefix. `[U32(17822)]` → `17822`; an `as` → `2 "a" "b"`; a variant → `u 17822`; struct fields
/// and dict entries inline; bytes as numbers, booleans `true`/`false`, doubles as `%g`, strings,
/// object paths and signatures as `"` + [`cescape`] + `"`.
pub fn format_values(data: &[Data]) -> String {
    let mut out = String::new();
    for d in data {
        push_value(&mut out, d);
    }
    out
}

/// What `busctl call` (and `busctl get-property`, given the property's value) prints on
/// stdout: the signature of all values, a space, [`format_values`], a newline — e.g.
/// `"v u 17822\n"`, `"o \"/org/x\"\n"`. For an empty reply busctl prints nothing at all, so
/// this returns `""`.
pub fn format_reply(data: &[Data]) -> String {
    if data.is_empty() {
        return String::new();
    }
    let sigs: Vec<Sig> = data.iter().map(Data::sig).collect();
    let mut out = sig_list_string(&sigs);
    out.push(' ');
    out.push_str(&format_values(data));
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Input

/// The errno values busctl's argument parsing can report, with glibc's `strerror()` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// EINVAL
    Inval,
    /// ERANGE
    Range,
    /// ENXIO
    Nxio,
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Errno::Inval => "Invalid argument",
            Errno::Range => "Numerical result out of range",
            Errno::Nxio => "No such device or address",
        })
    }
}

/// Why busctl-style arguments could not be turned into values. `Display` is busctl's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("Too few parameters for signature.")]
    TooFew,
    #[error("Too many parameters for signature.")]
    TooMany,
    /// A word that is not a valid `what` (e.g. `unsigned 32bit integer`, `boolean`).
    #[error("Failed to parse '{word}' as {what}: {errno}")]
    BadWord {
        word: String,
        what: &'static str,
        errno: Errno,
    },
    #[error("Failed to parse '{word}' number of array entries: {errno}")]
    BadArrayCount { word: String, errno: Errno },
    #[error("Invalid array signature: Invalid argument")]
    InvalidArraySignature,
    #[error("Invalid struct/dict entry signature: Invalid argument")]
    InvalidStructSignature,
    /// sd-bus refused the value (bad object path, signature or variant type, dict entry outside
    /// an array, …).
    #[error("Failed to create bus message: {0}")]
    CreateMessage(Errno),
    #[error("UNIX file descriptor not supported as type.")]
    FdNotSupported,
    #[error("Unknown signature type {0}.")]
    UnknownType(char),
}

/// busctl's `message_append_cmdline()`: turn the words after `SIGNATURE` on a `busctl call` or
/// `set-property` command line into values. Arrays are a count then the elements, dicts a count
/// then key value pairs, a variant its signature then its value, struct fields are written in
/// sequence; booleans take `1 yes y true t on` / `0 no n false f off` (any case); integers are
/// decimal, `0x` hex, `0` octal, `0b` binary or `0o` octal, with leading whitespace and a sign
/// allowed; doubles are C `strtod()` (`inf`, `nan`, hex floats). Errors carry busctl's texts.
///
/// Like `busctl call`, an empty signature takes no values and ignores any words.
pub fn parse_args(signature: &str, words: &[String]) -> Result<Vec<Data>, ArgsError> {
    if signature.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = 0;
    let out = append(signature.as_bytes(), words, &mut p, false)?;
    if p < words.len() {
        return Err(ArgsError::TooMany);
    }
    Ok(out)
}

/// Length of the complete type at the start of `sig` (sd-bus `signature_element_length()`),
/// with a leading `{` read as a dict entry. `None` if it is not a valid complete type.
fn element_len(sig: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(sig).ok()?;
    if s.starts_with('{') {
        // Parse as an array of it, then drop the `a`.
        let with_a = format!("a{s}");
        return first_type_len(&with_a).map(|n| n - 1);
    }
    first_type_len(s)
}

fn first_type_len(s: &str) -> Option<usize> {
    // Try growing prefixes: the shortest prefix that is one complete type is the element.
    // Signatures are at most a few hundred bytes, so this stays cheap.
    (1..=s.len()).find(|&n| s.is_char_boundary(n) && Sig::parse(&s[..n]).is_ok())
}

fn append(
    sig: &[u8],
    words: &[String],
    p: &mut usize,
    dict_entry_ok: bool,
) -> Result<Vec<Data>, ArgsError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < sig.len() {
        let t = sig[i];
        let Some(v) = words.get(*p) else {
            return Err(ArgsError::TooFew);
        };
        i += 1;
        *p += 1;
        let value = match t {
            b'b' => Data::Bool(parse_boolean(v).ok_or_else(|| bad(v, "boolean", Errno::Inval))?),
            b'y' => Data::Byte(num(v, "byte (unsigned 8bit integer)", safe_atou8)?),
            b'n' => Data::I16(num(v, "signed 16bit integer", safe_atoi16)?),
            b'q' => Data::U16(num(v, "unsigned 16bit integer", safe_atou16)?),
            b'i' => Data::I32(num(v, "signed 32bit integer", safe_atoi32)?),
            b'u' => Data::U32(num(v, "unsigned 32bit integer", safe_atou32)?),
            b'x' => Data::I64(num(v, "signed 64bit integer", safe_atoi64)?),
            b't' => Data::U64(num(v, "unsigned 64bit integer", safe_atou64)?),
            b'd' => Data::Double(num(v, "double precision floating point", safe_atod)?),
            b's' => {
                if v.contains('\0') {
                    return Err(ArgsError::CreateMessage(Errno::Inval));
                }
                Data::Str(v.clone())
            }
            b'o' => {
                if !super::wire::object_path_is_valid(v) {
                    return Err(ArgsError::CreateMessage(Errno::Inval));
                }
                Data::Path(v.clone())
            }
            b'g' => {
                if v.contains('\0') || Sig::parse_list(v).is_err() {
                    return Err(ArgsError::CreateMessage(Errno::Inval));
                }
                Data::Signature(v.clone())
            }
            b'a' => {
                let n = safe_atou32(v).map_err(|errno| ArgsError::BadArrayCount {
                    word: v.clone(),
                    errno,
                })?;
                let k = element_len(&sig[i..]).ok_or(ArgsError::InvalidArraySignature)?;
                let elem_sig = &sig[i..i + k];
                let elem = std::str::from_utf8(elem_sig)
                    .ok()
                    .and_then(|s| Sig::parse(&format!("a{s}")).ok())
                    .ok_or(ArgsError::InvalidArraySignature)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.extend(append(elem_sig, words, p, true)?);
                }
                i += k;
                match elem {
                    Sig::Dict(key, value) => Data::Dict {
                        key: *key,
                        value: *value,
                        entries: items
                            .into_iter()
                            .filter_map(|e| match e {
                                Data::Struct(mut kv) if kv.len() == 2 => {
                                    let v = kv.pop()?;
                                    let k = kv.pop()?;
                                    Some((k, v))
                                }
                                _ => None,
                            })
                            .collect(),
                    },
                    Sig::Array(e) => Data::Array { elem: *e, items },
                    _ => return Err(ArgsError::InvalidArraySignature),
                }
            }
            b'v' => {
                let inner_sig =
                    Sig::parse(v).map_err(|_| ArgsError::CreateMessage(Errno::Inval))?;
                let mut inner = append(v.as_bytes(), words, p, false)?;
                match (inner.pop(), inner.is_empty()) {
                    (Some(d), true) if d.has_sig(&inner_sig) => Data::Variant(Box::new(d)),
                    _ => return Err(ArgsError::CreateMessage(Errno::Inval)),
                }
            }
            b'(' | b'{' => {
                i -= 1;
                *p -= 1;
                let k = element_len(&sig[i..]).ok_or(ArgsError::InvalidStructSignature)?;
                if k < 2 {
                    return Err(ArgsError::InvalidStructSignature);
                }
                if t == b'{' && !(dict_entry_ok && i == 0) {
                    return Err(ArgsError::CreateMessage(Errno::Nxio));
                }
                let fields = append(&sig[i + 1..i + k - 1], words, p, false)?;
                i += k;
                Data::Struct(fields)
            }
            b'h' => return Err(ArgsError::FdNotSupported),
            other => return Err(ArgsError::UnknownType(char::from(other))),
        };
        out.push(value);
    }
    Ok(out)
}

fn bad(word: &str, what: &'static str, errno: Errno) -> ArgsError {
    ArgsError::BadWord {
        word: word.to_owned(),
        what,
        errno,
    }
}

fn num<T>(
    word: &str,
    what: &'static str,
    f: impl Fn(&str) -> Result<T, Errno>,
) -> Result<T, ArgsError> {
    f(word).map_err(|errno| bad(word, what, errno))
}

/// systemd's `parse_boolean()`.
pub fn parse_boolean(v: &str) -> Option<bool> {
    const YES: [&str; 6] = ["1", "yes", "y", "true", "t", "on"];
    const NO: [&str; 6] = ["0", "no", "n", "false", "f", "off"];
    if YES.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if NO.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

/// C `isspace()` in the C locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// systemd's `WHITESPACE` skipped by `safe_ato*()` before the prefix check.
fn skip_whitespace(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    &s[n..]
}

/// systemd's `mangle_base()` for base 0: `0b`/`0B` → base 2, `0o`/`0O` → base 8.
fn mangle_base(s: &[u8]) -> (&[u8], u32) {
    match s {
        [b'0', b'b' | b'B', rest @ ..] => (rest, 2),
        [b'0', b'o' | b'O', rest @ ..] => (rest, 8),
        _ => (s, 0),
    }
}

/// glibc `strtoull()`/`strtoll()` on the whole string: `(negative, magnitude, overflowed)`,
/// or EINVAL when no digits were read or something follows them (only checked after overflow,
/// as `safe_ato*()` checks errno first).
fn c_strto(s: &[u8], mut base: u32) -> Result<(bool, u128), Errno> {
    let mut i = s.iter().take_while(|&&b| c_isspace(b)).count();
    let mut neg = false;
    if let Some(&c @ (b'-' | b'+')) = s.get(i) {
        neg = c == b'-';
        i += 1;
    }
    if s.get(i) == Some(&b'0') {
        if (base == 0 || base == 16)
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2).is_some_and(|b| b.is_ascii_hexdigit())
        {
            i += 2;
            base = 16;
        } else if base == 0 {
            base = 8;
        }
    } else if base == 0 {
        base = 10;
    }
    let start = i;
    let mut mag: u128 = 0;
    while let Some(d) = s.get(i).and_then(|&b| char::from(b).to_digit(base)) {
        mag = (mag * u128::from(base) + u128::from(d)).min(u128::from(u64::MAX) + 2);
        i += 1;
    }
    if i == start {
        return Err(Errno::Inval);
    }
    // Overflow (ERANGE) is reported before trailing garbage (EINVAL).
    let limit = if neg {
        1u128 << 64
    } else {
        u128::from(u64::MAX)
    };
    if mag > limit {
        return Err(Errno::Range);
    }
    if i != s.len() {
        return Err(Errno::Inval);
    }
    Ok((neg, mag))
}

/// `safe_atou_full(s, 0)` / `safe_atollu_full(s, 0)` limited to `max`.
fn safe_atou_max(s: &str, max: u64) -> Result<u64, Errno> {
    let (s, base) = mangle_base(skip_whitespace(s.as_bytes()));
    let (neg, mag) = c_strto(s, base)?;
    if mag > u128::from(u64::MAX) {
        return Err(Errno::Range); // strtoull overflow
    }
    let l = if neg {
        (mag as u64).wrapping_neg()
    } else {
        mag as u64
    };
    if l != 0 && s.first() == Some(&b'-') {
        return Err(Errno::Range);
    }
    if l > max {
        return Err(Errno::Range);
    }
    Ok(l)
}

/// `safe_atoi()` / `safe_atoi16()` / `safe_atolli()` limited to `[min, max]`.
fn safe_atoi_range(s: &str, min: i64, max: i64) -> Result<i64, Errno> {
    let (s, base) = mangle_base(skip_whitespace(s.as_bytes()));
    let (neg, mag) = c_strto(s, base)?;
    let v: i128 = if neg { -(mag as i128) } else { mag as i128 };
    if v < i128::from(i64::MIN) || v > i128::from(i64::MAX) {
        return Err(Errno::Range); // strtol overflow
    }
    let v = v as i64;
    if v < min || v > max {
        return Err(Errno::Range);
    }
    Ok(v)
}

fn safe_atou8(s: &str) -> Result<u8, Errno> {
    safe_atou_max(s, u32::MAX.into()).and_then(|v| u8::try_from(v).map_err(|_| Errno::Range))
}
fn safe_atou16(s: &str) -> Result<u16, Errno> {
    safe_atou_max(s, u32::MAX.into()).and_then(|v| u16::try_from(v).map_err(|_| Errno::Range))
}
fn safe_atou32(s: &str) -> Result<u32, Errno> {
    safe_atou_max(s, u32::MAX.into()).map(|v| v as u32)
}
fn safe_atou64(s: &str) -> Result<u64, Errno> {
    safe_atou_max(s, u64::MAX)
}
fn safe_atoi16(s: &str) -> Result<i16, Errno> {
    safe_atoi_range(s, i16::MIN.into(), i16::MAX.into()).map(|v| v as i16)
}
fn safe_atoi32(s: &str) -> Result<i32, Errno> {
    safe_atoi_range(s, i32::MIN.into(), i32::MAX.into()).map(|v| v as i32)
}
fn safe_atoi64(s: &str) -> Result<i64, Errno> {
    safe_atoi_range(s, i64::MIN, i64::MAX)
}

/// systemd's `safe_atod()`: glibc `strtod()` in the C locale over the whole string.
fn safe_atod(s: &str) -> Result<f64, Errno> {
    let b = s.as_bytes();
    let mut i = b.iter().take_while(|&&c| c_isspace(c)).count();
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &b[i..];
    let lower = |n: usize| rest.get(..n).map(|p| p.to_ascii_lowercase());
    let (mag, used, literal) = if lower(8).as_deref() == Some(b"infinity") {
        (f64::INFINITY, 8, true)
    } else if lower(3).as_deref() == Some(b"inf") {
        (f64::INFINITY, 3, true)
    } else if lower(3).as_deref() == Some(b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let k = rest[4..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if rest.get(4 + k) == Some(&b')') {
                n = 5 + k;
            }
        }
        (f64::NAN, n, true)
    } else if matches!(rest, [b'0', b'x' | b'X', ..])
        && (rest.get(2).is_some_and(u8::is_ascii_hexdigit)
            || (rest.get(2) == Some(&b'.') && rest.get(3).is_some_and(u8::is_ascii_hexdigit)))
    {
        let (v, n) = hex_float(&rest[2..]);
        (v, n + 2, false)
    } else {
        let (v, n) = dec_float(rest).ok_or(Errno::Inval)?;
        (v, n, false)
    };
    let v = if neg { -mag } else { mag };
    if !literal && (v.is_infinite() || (v != 0.0 && v.abs() < f64::MIN_POSITIVE)) {
        return Err(Errno::Range);
    }
    if !literal && v == 0.0 && rest[..used].iter().any(|c| matches!(c, b'1'..=b'9')) {
        // Underflow to zero. (A nonzero digit only in the exponent does not count.)
        let mant_end = rest[..used]
            .iter()
            .position(|c| matches!(c, b'e' | b'E' | b'p' | b'P'))
            .unwrap_or(used);
        let hex = matches!(rest, [b'0', b'x' | b'X', ..]);
        let digits = if hex {
            &rest[2..mant_end]
        } else {
            &rest[..mant_end]
        };
        if digits.iter().any(|c| c.is_ascii_hexdigit() && *c != b'0') {
            return Err(Errno::Range);
        }
    }
    if i + used != b.len() {
        return Err(Errno::Inval);
    }
    Ok(v)
}

/// A decimal float prefix: `digits [. digits] [e [sign] digits]`; `(value, bytes used)`.
fn dec_float(s: &[u8]) -> Option<(f64, usize)> {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut n = int;
    let mut frac = 0;
    if s.get(n) == Some(&b'.') {
        frac = digits(n + 1);
        n += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(n), Some(b'e' | b'E')) {
        let mut m = n + 1;
        if matches!(s.get(m), Some(b'+' | b'-')) {
            m += 1;
        }
        let e = digits(m);
        if e > 0 {
            n = m + e;
        }
    }
    let text = std::str::from_utf8(&s[..n]).ok()?;
    // Rust's parser wants a digit before an exponent after '.', e.g. "5.e3" → "5.0e3".
    let text = text.replacen(".e", ".0e", 1).replacen(".E", ".0E", 1);
    Some((text.parse::<f64>().ok()?, n))
}

/// A hex float after `0x`: `hexdigits [. hexdigits] [p [sign] digits]`; `(value, bytes used)`.
fn hex_float(s: &[u8]) -> (f64, usize) {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut n = 0;
    let mut seen_dot = false;
    while let Some(&c) = s.get(n) {
        if c == b'.' && !seen_dot {
            seen_dot = true;
            n += 1;
            continue;
        }
        let Some(d) = char::from(c).to_digit(16) else {
            break;
        };
        if mant >> 56 == 0 {
            mant = (mant << 4) | u64::from(d);
            if seen_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_dot {
                exp += 4;
            }
        }
        n += 1;
    }
    if matches!(s.get(n), Some(b'p' | b'P')) {
        let mut m = n + 1;
        let mut eneg = false;
        if let Some(&c @ (b'+' | b'-')) = s.get(m) {
            eneg = c == b'-';
            m += 1;
        }
        let k = s[m..].iter().take_while(|c| c.is_ascii_digit()).count();
        if k > 0 {
            let e: i64 = s[m..m + k]
                .iter()
                .fold(0i64, |a, c| (a * 10 + i64::from(c - b'0')).min(100_000));
            exp += if eneg { -e } else { e };
            n = m + k;
        }
    }
    let mant = mant | u64::from(sticky);
    let v = (mant as f64) * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    (v, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn cescape_matches_systemd() {
        assert_eq!(
            cescape("a\"b\\c'\n\t\r\x07\x08\x0b\x0c"),
            "a\\\"b\\\\c\\'\\n\\t\\r\\a\\b\\v\\f"
        );
        assert_eq!(cescape("\x01\x7f"), "\\001\\177");
        assert_eq!(cescape("ä"), "\\303\\244");
        assert_eq!(cescape("plain text"), "plain text");
    }

    #[test]
    fn percent_g() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23457e+08"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e-300, "1e-300"),
            (1e300, "1e+300"),
            (1.23456789, "1.23457"),
            (2.2250738585072014e-308, "2.22507e-308"),
            (999999.5, "1e+06"),
            (99999.95, "99999.9"),
            (0.000123456789, "0.000123457"),
            (-42.5, "-42.5"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "-nan"),
        ];
        for (v, want) in cases {
            assert_eq!(format_g(v), want, "{v:e}");
        }
    }

    #[test]
    fn values_and_reply() {
        let as_ = Data::Array {
            elem: Sig::Str,
            items: vec![Data::Str("a".into()), Data::Str("b".into())],
        };
        assert_eq!(format_values(&[Data::U32(17822)]), "17822");
        assert_eq!(format_values(std::slice::from_ref(&as_)), "2 \"a\" \"b\"");
        assert_eq!(format_reply(&[as_]), "as 2 \"a\" \"b\"\n");
        let v = Data::Variant(Box::new(Data::U32(17822)));
        assert_eq!(format_reply(&[v]), "v u 17822\n");
        assert_eq!(format_reply(&[]), "");
        let st = Data::Struct(vec![Data::Str("x".into()), Data::Path("/a".into())]);
        assert_eq!(
            format_reply(&[st.clone(), Data::Bool(true)]),
            "(so)b \"x\" \"/a\" true\n"
        );
        assert_eq!(
            format_values(&[Data::Bool(false), st]),
            "false \"x\" \"/a\""
        );
        let d = Data::Dict {
            key: Sig::Str,
            value: Sig::Variant,
            entries: vec![(
                Data::Str("k".into()),
                Data::Variant(Box::new(Data::Byte(7))),
            )],
        };
        assert_eq!(format_reply(&[d]), "a{sv} 1 \"k\" y 7\n");
        let empty = Data::Array {
            elem: Sig::Byte,
            items: vec![],
        };
        assert_eq!(format_reply(&[empty, Data::I16(-1)]), "ayn 0 -1\n");
        assert_eq!(format_values(&[Data::Double(0.5)]), "0.5");
    }

    #[test]
    fn parse_args_grammar() {
        let r = parse_args("as", &w(&["2", "a", "b"])).unwrap();
        assert_eq!(format_reply(&r), "as 2 \"a\" \"b\"\n");
        let r = parse_args("a{sv}", &w(&["1", "key", "s", "value"])).unwrap();
        assert_eq!(format_reply(&r), "a{sv} 1 \"key\" s \"value\"\n");
        let r = parse_args("v", &w(&["s", "hello"])).unwrap();
        assert_eq!(r, vec![Data::Variant(Box::new(Data::Str("hello".into())))]);
        let r = parse_args("(su)", &w(&["x", "5"])).unwrap();
        assert_eq!(
            r,
            vec![Data::Struct(vec![Data::Str("x".into()), Data::U32(5)])]
        );
        let r = parse_args(
            "a(sa{sv})",
            &w(&["1", "n", "2", "a", "b", "true", "c", "ai", "1", "-3"]),
        )
        .unwrap();
        assert_eq!(format_values(&r), "1 \"n\" 2 \"a\" b true \"c\" ai 1 -3");
        let r = parse_args("v", &w(&["(sv)", "a", "u", "1"])).unwrap();
        assert_eq!(format_reply(&r), "v (sv) \"a\" u 1\n");
        assert_eq!(parse_args("", &w(&["ignored"])).unwrap(), vec![]);
        assert_eq!(
            parse_args("aas", &w(&["0"])).unwrap()[0].sig().to_string(),
            "aas"
        );
    }

    #[test]
    fn parse_args_errors_match_busctl() {
        let e = |sig: &str, words: &[&str]| parse_args(sig, &w(words)).unwrap_err().to_string();
        assert_eq!(e("ss", &["a"]), "Too few parameters for signature.");
        assert_eq!(e("s", &["a", "b"]), "Too many parameters for signature.");
        assert_eq!(e("a", &[]), "Too few parameters for signature.");
        assert_eq!(
            e("u", &["-5"]),
            "Failed to parse '-5' as unsigned 32bit integer: Numerical result out of range"
        );
        assert_eq!(
            e("u", &["08"]),
            "Failed to parse '08' as unsigned 32bit integer: Invalid argument"
        );
        assert_eq!(
            e("u", &["10 "]),
            "Failed to parse '10 ' as unsigned 32bit integer: Invalid argument"
        );
        assert_eq!(
            e("n", &["32768"]),
            "Failed to parse '32768' as signed 16bit integer: Numerical result out of range"
        );
        assert_eq!(
            e("y", &["256"]),
            "Failed to parse '256' as byte (unsigned 8bit integer): Numerical result out of range"
        );
        assert_eq!(
            e("b", &["2"]),
            "Failed to parse '2' as boolean: Invalid argument"
        );
        assert_eq!(
            e("d", &["1e400"]),
            "Failed to parse '1e400' as double precision floating point: Numerical result out of range"
        );
        assert_eq!(
            e("d", &["1e-310"]),
            "Failed to parse '1e-310' as double precision floating point: Numerical result out of range"
        );
        assert_eq!(
            e("d", &["2 "]),
            "Failed to parse '2 ' as double precision floating point: Invalid argument"
        );
        assert_eq!(
            e("as", &["x"]),
            "Failed to parse 'x' number of array entries: Invalid argument"
        );
        assert_eq!(
            e("o", &["foo"]),
            "Failed to create bus message: Invalid argument"
        );
        assert_eq!(
            e("g", &["a{"]),
            "Failed to create bus message: Invalid argument"
        );
        assert_eq!(
            e("v", &["su", "x", "1"]),
            "Failed to create bus message: Invalid argument"
        );
        assert_eq!(
            e("v", &[""]),
            "Failed to create bus message: Invalid argument"
        );
        assert_eq!(
            e("{sv}", &["a", "s", "b"]),
            "Failed to create bus message: No such device or address"
        );
        assert_eq!(
            e("(s", &["x"]),
            "Invalid struct/dict entry signature: Invalid argument"
        );
        assert_eq!(
            e("a{vs}", &["0"]),
            "Invalid array signature: Invalid argument"
        );
        assert_eq!(
            e("h", &["0"]),
            "UNIX file descriptor not supported as type."
        );
        assert_eq!(e("sz", &["a", "b"]), "Unknown signature type z.");
        assert_eq!(e("x)", &["1"]), "Too few parameters for signature.");
    }

    #[test]
    fn numbers_like_busctl_252() {
        // Observed with busctl 252 (values seen by `busctl monitor`).
        let u = |s: &str| safe_atou32(s);
        assert_eq!(u("10"), Ok(10));
        assert_eq!(u("0x10"), Ok(16));
        assert_eq!(u("010"), Ok(8));
        assert_eq!(u("0o10"), Ok(8));
        assert_eq!(u("0b101"), Ok(5));
        assert_eq!(u(" 7"), Ok(7));
        assert_eq!(u("+5"), Ok(5));
        assert_eq!(u("-0"), Ok(0));
        assert_eq!(u("+0x10"), Ok(16));
        assert_eq!(u("0X1f"), Ok(31));
        assert_eq!(u("0B11"), Ok(3));
        assert_eq!(u(" 0x10"), Ok(16));
        assert_eq!(u("0x"), Err(Errno::Inval));
        assert_eq!(u("1_000"), Err(Errno::Inval));
        assert_eq!(u("1e3"), Err(Errno::Inval));
        assert_eq!(u("4294967296"), Err(Errno::Range));
        let n = |s: &str| safe_atoi16(s);
        assert_eq!(n("-0x5"), Ok(-5));
        assert_eq!(n(" -3"), Ok(-3));
        assert_eq!(n("-32768"), Ok(-32768));
        assert_eq!(n("-32769"), Err(Errno::Range));
        assert_eq!(n("0x-5"), Err(Errno::Inval));
        assert_eq!(n("0b-1"), Ok(-1));
        assert_eq!(n("-0b11"), Err(Errno::Inval));
        assert_eq!(n("-010"), Ok(-8));
        assert_eq!(safe_atou64("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(safe_atou64("18446744073709551616"), Err(Errno::Range));
        assert_eq!(safe_atou64("-1"), Err(Errno::Range));
        assert_eq!(safe_atoi64("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(safe_atoi64("9223372036854775808"), Err(Errno::Range));
        assert_eq!(safe_atou8("-1"), Err(Errno::Range));
        let d = |s: &str| safe_atod(s);
        assert_eq!(d("1.5"), Ok(1.5));
        assert_eq!(d("0x1p3"), Ok(8.0));
        assert_eq!(d("inf"), Ok(f64::INFINITY));
        assert_eq!(d("INF"), Ok(f64::INFINITY));
        assert_eq!(d("infinity"), Ok(f64::INFINITY));
        assert!(d("nan").unwrap().is_nan());
        assert!(d("-nan").unwrap().is_sign_negative());
        assert_eq!(d("  2"), Ok(2.0));
        assert_eq!(d(".5"), Ok(0.5));
        assert_eq!(d("5."), Ok(5.0));
        assert_eq!(d("1e-5"), Ok(1e-5));
        assert_eq!(d("0e5"), Ok(0.0));
        assert_eq!(d("2.2250738585072014e-308"), Ok(2.2250738585072014e-308));
        assert_eq!(d("0x"), Err(Errno::Inval));
        assert_eq!(d("1,5"), Err(Errno::Inval));
        assert_eq!(d("1e400"), Err(Errno::Range));
        assert_eq!(d("1e-400"), Err(Errno::Range));
        assert_eq!(d("4.9e-324"), Err(Errno::Range));
        assert_eq!(format_g(d("-0").unwrap()), "-0");
        assert_eq!(parse_boolean("On"), Some(true));
        assert_eq!(parse_boolean("F"), Some(false));
        assert_eq!(parse_boolean(" 1"), None);
    }
}

//! C number parsing as systemd 252 does it: `safe_ato*()` (glibc `strtoul()` with base 0 plus
//! `0b`/`0o` prefixes) and `safe_atod()` (`strtod()` in the C locale), with their errno values.
//!
//! Why by hand: Rust's `str::parse` accepts and refuses different strings than glibc (`0x10`,
//! `010` octal, leading blanks, `+`, hex floats, `inf`), and busctl's users type C numbers.

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
pub fn safe_atou_max(s: &str, max: u64) -> Result<u64, Errno> {
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
pub fn safe_atoi_range(s: &str, min: i64, max: i64) -> Result<i64, Errno> {
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

pub fn safe_atou8(s: &str) -> Result<u8, Errno> {
    safe_atou_max(s, u32::MAX.into()).and_then(|v| u8::try_from(v).map_err(|_| Errno::Range))
}
pub fn safe_atou16(s: &str) -> Result<u16, Errno> {
    safe_atou_max(s, u32::MAX.into()).and_then(|v| u16::try_from(v).map_err(|_| Errno::Range))
}
pub fn safe_atou32(s: &str) -> Result<u32, Errno> {
    safe_atou_max(s, u32::MAX.into()).map(|v| v as u32)
}
pub fn safe_atou64(s: &str) -> Result<u64, Errno> {
    safe_atou_max(s, u64::MAX)
}
pub fn safe_atoi16(s: &str) -> Result<i16, Errno> {
    safe_atoi_range(s, i16::MIN.into(), i16::MAX.into()).map(|v| v as i16)
}
pub fn safe_atoi32(s: &str) -> Result<i32, Errno> {
    safe_atoi_range(s, i32::MIN.into(), i32::MAX.into()).map(|v| v as i32)
}
pub fn safe_atoi64(s: &str) -> Result<i64, Errno> {
    safe_atoi_range(s, i64::MIN, i64::MAX)
}

/// systemd's `safe_atod()`: glibc `strtod()` in the C locale over the whole string.
pub fn safe_atod(s: &str) -> Result<f64, Errno> {
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
    use crate::busctl::format::format_g;
    use crate::systemd::syntax::parse_boolean;

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

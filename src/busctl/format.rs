//! busctl's value output, byte for byte (systemd 252, `src/busctl/busctl.c`).
//!
//! Why exact: rustemd-shell mirrors busctl, and its users paste busctl command lines and compare
//! outputs. So values are printed the way busctl's `format_cmdline()` prints them.
//!
//! Mirrors:
//! * [`format_values`]: `format_cmdline()` (also what `busctl introspect` shows as a property's
//!   VALUE: no signature prefix, e.g. `2 "a" "b"` for an `as` property).
//! * [`format_reply`]: the default (non-verbose, non-JSON) output of `busctl call` and
//!   `busctl get-property`: `fputs(signature); fputc(' '); format_cmdline(); fputc('\n')`, and
//!   nothing at all for an empty reply.
//! * [`cescape`]: `cescape()` from `src/basic/escape.c`.
//! * [`format_g`]: printf's `%g`, as busctl prints doubles.

use std::fmt::Write as _;

use crate::bus::data::Data;
use crate::bus::sig::{Sig, sig_list_string};

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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn msg() -> zbus::message::Builder<'static> {
        zbus::Message::method_call("/org/x", "M")
    }

    /// The signature and busctl's text of what we decode from `m`.
    fn ours(m: &zbus::Message) -> (String, String) {
        let (sigs, values) = crate::bus::wire::decode_message(m).unwrap();
        (sig_list_string(&sigs), format_values(&values))
    }

    #[test]
    fn zbus_encoded_bodies_print_like_busctl() {
        use zbus::Variant;
        let check = |m: zbus::Message, sig: &str, text: &str| {
            assert_eq!(ours(&m), (sig.to_owned(), text.to_owned()));
        };
        let mut map: std::collections::HashMap<&str, Variant<'_>> =
            std::collections::HashMap::new();
        map.insert("k", Variant::new(7u32));
        check(msg().build(&(map,)).unwrap(), "a{sv}", "1 \"k\" u 7");
        let v: Vec<(&str, Vec<&str>, bool)> =
            vec![("a", vec!["b", "c"], true), ("d", vec![], false)];
        check(
            msg().build(&(v,)).unwrap(),
            "a(sasb)",
            "2 \"a\" 2 \"b\" \"c\" true \"d\" 0 false",
        );
        let nested = (5i32, ("s", (vec![1u8, 2],)));
        check(
            msg().build(&(nested,)).unwrap(),
            "(i(s(ay)))",
            "5 \"s\" 2 1 2",
        );
        check(msg().build(&(Vec::<u8>::new(),)).unwrap(), "ay", "0");
        check(
            msg().build(&(Variant::new("hi"),)).unwrap(),
            "v",
            "s \"hi\"",
        );
        let ints = (1u8, -2i16, 3u16, -4i32, 5u32, -6i64, 7u64, 0.5f64, true);
        check(
            msg().build(&ints).unwrap(),
            "ynqiuxtdb",
            "1 -2 3 -4 5 -6 7 0.5 true",
        );
        check(msg().build(&()).unwrap(), "", "");
        // Big-endian messages decode the same.
        let be = msg().endian(zbus::wire::Endian::Big).build(&ints).unwrap();
        check(be, "ynqiuxtdb", "1 -2 3 -4 5 -6 7 0.5 true");
        let mut m2: std::collections::HashMap<&str, Variant<'_>> = std::collections::HashMap::new();
        m2.insert("x", Variant::new(vec!["p", "q"]));
        let be = msg()
            .endian(zbus::wire::Endian::Big)
            .build(&(m2, "tail"))
            .unwrap();
        check(be, "a{sv}s", "1 \"x\" as 2 \"p\" \"q\" \"tail\"");
    }
}

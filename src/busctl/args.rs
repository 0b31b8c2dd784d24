//! busctl's argument notation: `message_append_cmdline()`, with its exact error texts.
//!
//! The words after `SIGNATURE` on a `busctl call` or `set-property` line become typed values:
//! arrays are a count then the elements, dicts a count then key value pairs, a variant its
//! signature then its value. Numbers are read like systemd's `safe_ato*()` ([`super::cnum`]).

use crate::bus::data::Data;
use crate::bus::sig::Sig;
use crate::bus::wire::MAX_TOTAL_DEPTH;
use crate::systemd::syntax::parse_boolean;

use super::cnum::{
    Errno, safe_atod, safe_atoi16, safe_atoi32, safe_atoi64, safe_atou8, safe_atou16, safe_atou32,
    safe_atou64,
};

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
    /// More containers inside each other than D-Bus carries (busctl sends such a message and
    /// the bus daemon drops the connection; we say why before sending).
    #[error(
        "Values nested more than {MAX_TOTAL_DEPTH} containers deep (arrays, structs, variants): \
         D-Bus does not carry that."
    )]
    TooDeep,
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
    let out = append(signature.as_bytes(), words, &mut p, false, 0)?;
    if p < words.len() {
        return Err(ArgsError::TooMany);
    }
    Ok(out)
}

/// Length of the complete type at the start of `sig` (sd-bus `signature_element_length()`),
/// with a leading `{` read as a dict entry. `None` if it is not a valid complete type.
///
/// Linear in the length of `sig` whatever it holds: the extent is found by one scan (arrays
/// prefix one element; brackets nest), and only that extent is validated, which
/// [`Sig::parse`] refuses at once beyond 255 bytes. (Trying every prefix made a 1 MB
/// signature word take seconds.)
fn element_len(sig: &[u8]) -> Option<usize> {
    let arrays = sig.iter().take_while(|&&c| c == b'a').count();
    let len = match sig.get(arrays)? {
        b'(' | b'{' => {
            let mut depth = 0usize;
            let close = sig[arrays..].iter().position(|&c| {
                match c {
                    b'(' | b'{' => depth += 1,
                    b')' | b'}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })?;
            arrays + close + 1
        }
        b')' | b'}' => return None,
        _ => arrays + 1,
    };
    let s = std::str::from_utf8(&sig[..len]).ok()?;
    let valid = if s.starts_with('{') {
        Sig::parse(&format!("a{s}")).is_ok()
    } else {
        Sig::parse(s).is_ok()
    };
    valid.then_some(len)
}

fn append(
    sig: &[u8],
    words: &[String],
    p: &mut usize,
    dict_entry_ok: bool,
    depth: usize,
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
                if !crate::bus::names::is_object_path(v) {
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
                let inner = enter(depth)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.extend(append(elem_sig, words, p, true, inner)?);
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
                let mut inner = append(v.as_bytes(), words, p, false, enter(depth)?)?;
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
                let fields = append(&sig[i + 1..i + k - 1], words, p, false, enter(depth)?)?;
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

/// One container deeper; D-Bus carries at most [`MAX_TOTAL_DEPTH`].
fn enter(depth: usize) -> Result<usize, ArgsError> {
    if depth >= MAX_TOTAL_DEPTH {
        return Err(ArgsError::TooDeep);
    }
    Ok(depth + 1)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::busctl::format::{format_reply, format_values};

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
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
}

#[cfg(test)]
mod hardening {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Issue 12, item 2: `call a.b / a.b M v v v … s x` with about 14,000 `v` words recursed
    /// once per variant and overflowed the stack (abort).
    #[test]
    fn nested_variants_are_bounded_at_64_instead_of_overflowing_the_stack() {
        let many: Vec<String> = std::iter::repeat_n("v".to_string(), 14_000)
            .chain(["s".to_string(), "x".to_string()])
            .collect();
        assert_eq!(parse_args("v", &many), Err(ArgsError::TooDeep));
        // 64 variants inside each other is the D-Bus limit, and fine (the daemon takes it).
        let ok: Vec<String> = std::iter::repeat_n("v".to_string(), 63)
            .chain(["s".to_string(), "x".to_string()])
            .collect();
        let v = parse_args("v", &ok).unwrap();
        assert!(crate::bus::wire::encode(&v).is_ok());
        let over: Vec<String> = std::iter::repeat_n("v".to_string(), 64)
            .chain(["s".to_string(), "x".to_string()])
            .collect();
        let e = parse_args("v", &over).unwrap_err();
        assert_eq!(e, ArgsError::TooDeep);
        assert!(
            e.to_string().contains("more than 64 containers deep"),
            "{e}"
        );
        // Arrays of variants of arrays count too.
        let mut deep = Vec::new();
        for _ in 0..40 {
            deep.extend(w(&["1", "av"]));
        }
        deep.extend(w(&["0"]));
        assert_eq!(parse_args("av", &deep), Err(ArgsError::TooDeep));
    }

    /// Issue 12, item 8: a 1 MB signature word took 12.6 s (every prefix was parsed); now
    /// each shape is refused after one scan.
    #[test]
    fn a_one_megabyte_signature_word_is_handled_in_linear_time() {
        const MB: usize = 1 << 20;
        let cases = [
            ("a".repeat(MB) + "s", ArgsError::InvalidArraySignature),
            ("(".repeat(MB), ArgsError::InvalidStructSignature),
            ("a{".repeat(MB / 2), ArgsError::InvalidArraySignature),
            (
                "a(".repeat(MB / 2) + &")".repeat(MB / 2),
                ArgsError::InvalidArraySignature,
            ),
            ("s".repeat(MB), ArgsError::TooFew),
        ];
        for (sig, want) in cases {
            assert_eq!(
                parse_args(&sig, &w(&["0", "x"])),
                Err(want),
                "{}",
                &sig[..8]
            );
        }
        // A huge variant signature word is refused as one.
        let v = "a".repeat(MB) + "s";
        assert_eq!(
            parse_args("v", &[v, "0".into()]),
            Err(ArgsError::CreateMessage(Errno::Inval))
        );
    }
}

//! D-Bus type signatures, parsed and validated exactly as the specification says.
//!
//! Why our own type rather than `zbus::Signature`: zbus parses `(so)` and `so` to the same value
//! (a body signature is a structure without its parentheses), and the REPL must tell a method
//! returning one struct from one returning two values. [`Sig`] is one *complete* type; a body or
//! argument list is a `Vec<Sig>` ([`Sig::parse_list`]). A dict is modelled as the whole array
//! `a{kv}` ([`Sig::Dict`]) because a dict entry cannot exist outside an array.

use std::fmt;

/// Longest signature the specification allows, in bytes.
pub const MAX_SIGNATURE_LEN: usize = 255;
/// Deepest nesting of arrays in one signature.
pub const MAX_ARRAY_DEPTH: usize = 32;
/// Deepest nesting of structs (dict entries count as structs) in one signature.
pub const MAX_STRUCT_DEPTH: usize = 32;

/// One complete D-Bus type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Sig {
    Byte,
    Bool,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Double,
    Str,
    Path,
    Signature,
    Fd,
    Variant,
    /// `aT` where `T` is not a dict entry.
    Array(Box<Sig>),
    /// `a{KV}`: an array of dict entries.
    Dict(Box<Sig>, Box<Sig>),
    /// `(T…)`, at least one field.
    Struct(Vec<Sig>),
}

/// Why a signature string is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid signature \"{signature}\": {reason} (at {offset})")]
pub struct SigError {
    /// The whole signature string that was being parsed.
    pub signature: String,
    /// Byte offset into `signature` where the problem was found.
    pub offset: usize,
    /// What is wrong, in words.
    pub reason: String,
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, offset: usize, reason: impl Into<String>) -> SigError {
        SigError {
            signature: String::from_utf8_lossy(self.s).into_owned(),
            offset,
            reason: reason.into(),
        }
    }

    /// One complete type starting at `self.pos`.
    fn one(&mut self, arrays: usize, structs: usize) -> Result<Sig, SigError> {
        let at = self.pos;
        let Some(&c) = self.s.get(at) else {
            return Err(self.err(at, "expected a complete type, found the end"));
        };
        self.pos += 1;
        Ok(match c {
            b'y' => Sig::Byte,
            b'b' => Sig::Bool,
            b'n' => Sig::I16,
            b'q' => Sig::U16,
            b'i' => Sig::I32,
            b'u' => Sig::U32,
            b'x' => Sig::I64,
            b't' => Sig::U64,
            b'd' => Sig::Double,
            b's' => Sig::Str,
            b'o' => Sig::Path,
            b'g' => Sig::Signature,
            b'h' => Sig::Fd,
            b'v' => Sig::Variant,
            b'a' => {
                if arrays + 1 > MAX_ARRAY_DEPTH {
                    return Err(self.err(at, format!("more than {MAX_ARRAY_DEPTH} nested arrays")));
                }
                if self.s.get(self.pos) == Some(&b'{') {
                    return self.dict_entry(arrays + 1, structs);
                }
                if self.pos >= self.s.len() {
                    return Err(self.err(self.pos, "array is missing its element type"));
                }
                Sig::Array(Box::new(self.one(arrays + 1, structs)?))
            }
            b'(' => {
                if structs + 1 > MAX_STRUCT_DEPTH {
                    return Err(
                        self.err(at, format!("more than {MAX_STRUCT_DEPTH} nested structs"))
                    );
                }
                let mut fields = Vec::new();
                loop {
                    match self.s.get(self.pos) {
                        None => return Err(self.err(at, "struct is missing its ')'")),
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => fields.push(self.one(arrays, structs + 1)?),
                    }
                }
                if fields.is_empty() {
                    return Err(self.err(at, "empty struct"));
                }
                Sig::Struct(fields)
            }
            b'{' => return Err(self.err(at, "dictionary entry outside of an array")),
            b')' => return Err(self.err(at, "unexpected ')'")),
            b'}' => return Err(self.err(at, "unexpected '}'")),
            c => {
                let shown = if c.is_ascii_graphic() {
                    format!("'{}'", c as char)
                } else {
                    format!("byte 0x{c:02x}")
                };
                return Err(self.err(at, format!("unknown type code {shown}")));
            }
        })
    }

    /// `{KV}` after an `a` (self.pos is at the `{`).
    fn dict_entry(&mut self, arrays: usize, structs: usize) -> Result<Sig, SigError> {
        let open = self.pos;
        if structs + 1 > MAX_STRUCT_DEPTH {
            return Err(self.err(open, format!("more than {MAX_STRUCT_DEPTH} nested structs")));
        }
        self.pos += 1;
        let key_at = self.pos;
        if self.s.get(key_at) == Some(&b'}') {
            return Err(self.err(key_at, "dictionary entry must have a key and a value"));
        }
        let key = self.one(arrays, structs + 1)?;
        if !key.is_basic() {
            return Err(self.err(key_at, "dictionary key must be a basic type"));
        }
        if self.s.get(self.pos) == Some(&b'}') {
            return Err(self.err(self.pos, "dictionary entry must have a key and a value"));
        }
        let value = self.one(arrays, structs + 1)?;
        match self.s.get(self.pos) {
            Some(b'}') => {
                self.pos += 1;
                Ok(Sig::Dict(Box::new(key), Box::new(value)))
            }
            None => Err(self.err(open, "dictionary entry is missing its '}'")),
            Some(_) => Err(self.err(
                self.pos,
                "dictionary entry must have exactly two types, a key and a value",
            )),
        }
    }
}

fn check_len(s: &str) -> Result<(), SigError> {
    if s.len() > MAX_SIGNATURE_LEN {
        return Err(SigError {
            signature: s.to_owned(),
            offset: MAX_SIGNATURE_LEN,
            reason: format!("longer than {MAX_SIGNATURE_LEN} bytes ({})", s.len()),
        });
    }
    Ok(())
}

impl Sig {
    /// Parse exactly one complete type, e.g. `a{sv}`.
    pub fn parse(s: &str) -> Result<Sig, SigError> {
        check_len(s)?;
        let mut p = Parser {
            s: s.as_bytes(),
            pos: 0,
        };
        if s.is_empty() {
            return Err(p.err(
                0,
                "expected a single complete type, found an empty signature",
            ));
        }
        let sig = p.one(0, 0)?;
        if p.pos != s.len() {
            return Err(p.err(p.pos, "more than one complete type"));
        }
        Ok(sig)
    }

    /// Parse zero or more complete types, e.g. `ssv` (a method's arguments or a body).
    pub fn parse_list(s: &str) -> Result<Vec<Sig>, SigError> {
        check_len(s)?;
        let mut p = Parser {
            s: s.as_bytes(),
            pos: 0,
        };
        let mut out = Vec::new();
        while p.pos < s.len() {
            out.push(p.one(0, 0)?);
        }
        Ok(out)
    }

    /// Alignment of this type on the wire, in bytes.
    pub fn alignment(&self) -> usize {
        match self {
            Sig::Byte | Sig::Signature | Sig::Variant => 1,
            Sig::I16 | Sig::U16 => 2,
            Sig::Bool | Sig::I32 | Sig::U32 | Sig::Str | Sig::Path | Sig::Fd => 4,
            Sig::Array(_) | Sig::Dict(..) => 4,
            Sig::I64 | Sig::U64 | Sig::Double | Sig::Struct(_) => 8,
        }
    }

    /// Whether this is a basic type (may be a dict key).
    pub fn is_basic(&self) -> bool {
        !matches!(
            self,
            Sig::Variant | Sig::Array(_) | Sig::Dict(..) | Sig::Struct(_)
        )
    }

    /// The type code character of a basic type, or the first character of a container.
    pub fn code(&self) -> char {
        match self {
            Sig::Byte => 'y',
            Sig::Bool => 'b',
            Sig::I16 => 'n',
            Sig::U16 => 'q',
            Sig::I32 => 'i',
            Sig::U32 => 'u',
            Sig::I64 => 'x',
            Sig::U64 => 't',
            Sig::Double => 'd',
            Sig::Str => 's',
            Sig::Path => 'o',
            Sig::Signature => 'g',
            Sig::Fd => 'h',
            Sig::Variant => 'v',
            Sig::Array(_) | Sig::Dict(..) => 'a',
            Sig::Struct(_) => '(',
        }
    }

    fn write_to(&self, out: &mut String) {
        match self {
            Sig::Array(e) => {
                out.push('a');
                e.write_to(out);
            }
            Sig::Dict(k, v) => {
                out.push_str("a{");
                k.write_to(out);
                v.write_to(out);
                out.push('}');
            }
            Sig::Struct(fields) => {
                out.push('(');
                for f in fields {
                    f.write_to(out);
                }
                out.push(')');
            }
            basic => out.push(basic.code()),
        }
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

/// The signature string of a list of types, e.g. `ssv`.
pub fn sig_list_string(sigs: &[Sig]) -> String {
    let mut s = String::new();
    for sig in sigs {
        sig.write_to(&mut s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "y",
            "b",
            "n",
            "q",
            "i",
            "u",
            "x",
            "t",
            "d",
            "s",
            "o",
            "g",
            "h",
            "v",
            "as",
            "a{sv}",
            "(so)",
            "a(sasb)",
            "(i(s(ay)))",
            "aay",
            "a{oa{sa{sv}}}",
            "a{ys}",
        ] {
            let sig = Sig::parse(s).unwrap();
            assert_eq!(sig.to_string(), s);
        }
        let list = Sig::parse_list("ssv").unwrap();
        assert_eq!(list, vec![Sig::Str, Sig::Str, Sig::Variant]);
        assert_eq!(sig_list_string(&list), "ssv");
        assert_eq!(Sig::parse_list("").unwrap(), vec![]);
    }

    #[test]
    fn errors_name_offset() {
        let e = Sig::parse("a{vs}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid signature \"a{vs}\": dictionary key must be a basic type (at 2)"
        );
        let cases = [
            ("", 0),
            ("ss", 1),
            ("a", 1),
            ("()", 0),
            ("(s", 0),
            ("{sv}", 0),
            ("a{s}", 3),
            ("a{svs}", 4),
            ("a{sv", 1),
            ("z", 0),
            ("s)", 1),
            ("a{(s)v}", 2),
        ];
        for (s, at) in cases {
            let e = Sig::parse(s).unwrap_err();
            assert_eq!(e.offset, at, "{s}: {e}");
        }
        assert!(Sig::parse_list("sa").is_err());
        assert!(Sig::parse_list(&"s".repeat(256)).is_err());
        assert!(Sig::parse_list(&"s".repeat(255)).is_ok());
    }

    #[test]
    fn depth_limits() {
        let ok = format!("{}y", "a".repeat(32));
        assert!(Sig::parse(&ok).is_ok());
        let bad = format!("{}y", "a".repeat(33));
        assert!(
            Sig::parse(&bad)
                .unwrap_err()
                .reason
                .contains("nested arrays")
        );
        let ok = format!("{}y{}", "(".repeat(32), ")".repeat(32));
        assert!(Sig::parse(&ok).is_ok());
        let bad = format!("{}y{}", "(".repeat(33), ")".repeat(33));
        assert!(
            Sig::parse(&bad)
                .unwrap_err()
                .reason
                .contains("nested structs")
        );
        // dict entries count as structs
        let bad = format!("{}a{{sy}}{}", "(".repeat(32), ")".repeat(32));
        assert!(Sig::parse(&bad).is_err());
    }

    #[test]
    fn alignment_and_basic() {
        assert_eq!(Sig::parse("(y)").unwrap().alignment(), 8);
        assert_eq!(Sig::parse("a{sv}").unwrap().alignment(), 4);
        assert_eq!(Sig::parse("g").unwrap().alignment(), 1);
        assert!(Sig::Fd.is_basic());
        assert!(!Sig::Variant.is_basic());
    }
}

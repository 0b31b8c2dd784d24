//! The exact, typed D-Bus value.
//!
//! Why not `zbus::Variant`: its dict is a `BTreeMap`, so wire order and duplicate keys are lost,
//! and a one-struct body `(so)` and a two-value body `so` look the same. [`Data`] keeps every
//! value exactly as it travels: arrays and dicts carry their element signature (so an empty `as`
//! is still an `as`), dict entries stay a `Vec` in wire order, and every value knows its [`Sig`].

use super::sig::Sig;

/// One D-Bus value.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Byte(u8),
    Bool(bool),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    Double(f64),
    Str(String),
    Path(String),
    Signature(String),
    /// A file descriptor. Decoded: the actual fd number from the message's fd list (or the raw
    /// index if the list is too short). To encode: the raw fd to send, which is duplicated into
    /// the message's fd list.
    Fd(i32),
    /// `aT` (T not a dict entry); every item must be of type `elem`.
    Array {
        elem: Sig,
        items: Vec<Data>,
    },
    /// `a{KV}` in wire order, duplicates kept.
    Dict {
        key: Sig,
        value: Sig,
        entries: Vec<(Data, Data)>,
    },
    Struct(Vec<Data>),
    Variant(Box<Data>),
}

impl Data {
    /// The strings of an `as`-like array (other items skipped); empty for anything else.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Data::Array { items, .. } => items
                .iter()
                .filter_map(|d| match d {
                    Data::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The complete type of this value.
    pub fn sig(&self) -> Sig {
        match self {
            Data::Byte(_) => Sig::Byte,
            Data::Bool(_) => Sig::Bool,
            Data::I16(_) => Sig::I16,
            Data::U16(_) => Sig::U16,
            Data::I32(_) => Sig::I32,
            Data::U32(_) => Sig::U32,
            Data::I64(_) => Sig::I64,
            Data::U64(_) => Sig::U64,
            Data::Double(_) => Sig::Double,
            Data::Str(_) => Sig::Str,
            Data::Path(_) => Sig::Path,
            Data::Signature(_) => Sig::Signature,
            Data::Fd(_) => Sig::Fd,
            Data::Array { elem, .. } => Sig::Array(Box::new(elem.clone())),
            Data::Dict { key, value, .. } => {
                Sig::Dict(Box::new(key.clone()), Box::new(value.clone()))
            }
            Data::Struct(fields) => Sig::Struct(fields.iter().map(Data::sig).collect()),
            Data::Variant(_) => Sig::Variant,
        }
    }

    /// Whether this value is of type `sig`, without building its signature.
    pub fn has_sig(&self, sig: &Sig) -> bool {
        match (self, sig) {
            (Data::Byte(_), Sig::Byte)
            | (Data::Bool(_), Sig::Bool)
            | (Data::I16(_), Sig::I16)
            | (Data::U16(_), Sig::U16)
            | (Data::I32(_), Sig::I32)
            | (Data::U32(_), Sig::U32)
            | (Data::I64(_), Sig::I64)
            | (Data::U64(_), Sig::U64)
            | (Data::Double(_), Sig::Double)
            | (Data::Str(_), Sig::Str)
            | (Data::Path(_), Sig::Path)
            | (Data::Signature(_), Sig::Signature)
            | (Data::Fd(_), Sig::Fd)
            | (Data::Variant(_), Sig::Variant) => true,
            (Data::Array { elem, .. }, Sig::Array(e)) => elem == &**e,
            (Data::Dict { key, value, .. }, Sig::Dict(k, v)) => key == &**k && value == &**v,
            (Data::Struct(fields), Sig::Struct(sigs)) => {
                fields.len() == sigs.len() && fields.iter().zip(sigs).all(|(f, s)| f.has_sig(s))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_of_values() {
        let d = Data::Struct(vec![
            Data::I32(1),
            Data::Dict {
                key: Sig::Str,
                value: Sig::Variant,
                entries: vec![],
            },
            Data::Array {
                elem: Sig::Byte,
                items: vec![],
            },
        ]);
        assert_eq!(d.sig().to_string(), "(ia{sv}ay)");
        assert!(d.has_sig(&Sig::parse("(ia{sv}ay)").unwrap()));
        assert!(!d.has_sig(&Sig::parse("(ia{sv}ai)").unwrap()));
    }
}

//! Our own D-Bus marshalling: [`Data`] values to and from message-body bytes.
//!
//! Why not zbus's serializer: it works through serde and its dynamic `Variant`, which reorders
//! and deduplicates dicts and cannot tell a one-struct body from a multi-value one. We encode and
//! decode the wire format directly (checked against zbus's own serializer in the
//! tests) and hand zbus the raw body with [`encode_to_message`] (or a whole method call with
//! [`encode_call`]) or read it with [`decode_message`].
//!
//! Layout rules (D-Bus specification, "Marshaling"): every value is aligned to its type's
//! alignment relative to the start of the message (bodies start 8-aligned, so relative to the
//! body works too); padding bytes are zero; strings and object paths are a `u32` length, the
//! bytes and a NUL; signatures a `u8` length, the bytes and a NUL; arrays a `u32` byte length,
//! padding to the element alignment (not counted in the length, present even when empty) and
//! the elements; structs and dict entries are 8-aligned; a variant is a signature of one complete
//! type followed by the value.
//!
//! Decoding never panics on malformed input: every problem is a [`WireError`] naming the byte
//! offset.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::data::Data;
use super::sig::{Sig, sig_list_string};

/// Largest array payload the specification allows (64 MiB).
pub const MAX_ARRAY_LEN: usize = 64 * 1024 * 1024;
/// Deepest nesting of containers (arrays, structs, dict entries, variants) in one message.
pub const MAX_TOTAL_DEPTH: usize = 64;

/// Byte order of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// Why a body could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not a valid body for the signature.
    #[error("malformed message body: {message} (at byte {offset})")]
    Decode { offset: usize, message: String },
    /// The values cannot be sent as they are.
    #[error("cannot encode message body: {message}")]
    Encode { message: String },
}

fn enc_err(message: impl Into<String>) -> WireError {
    WireError::Encode {
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

struct Enc {
    buf: Vec<u8>,
    fds: Vec<OwnedFd>,
}

impl Enc {
    fn pad(&mut self, align: usize) {
        let n = self.buf.len().next_multiple_of(align);
        self.buf.resize(n, 0);
    }

    fn u32(&mut self, v: u32) {
        self.pad(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn string(&mut self, what: &str, s: &str) -> Result<(), WireError> {
        if s.as_bytes().contains(&0) {
            return Err(enc_err(format!("{what} {s:?} contains a NUL byte")));
        }
        let len = u32::try_from(s.len()).map_err(|_| enc_err(format!("{what} is too long")))?;
        self.u32(len);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        Ok(())
    }

    fn signature(&mut self, s: &str) {
        // Callers validated `s` (<= 255 bytes, no NUL).
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }

    fn value(&mut self, d: &Data, depth: usize) -> Result<(), WireError> {
        match d {
            Data::Byte(v) => self.buf.push(*v),
            Data::Bool(v) => self.u32(u32::from(*v)),
            Data::I16(v) => {
                self.pad(2);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::U16(v) => {
                self.pad(2);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::I32(v) => {
                self.pad(4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::U32(v) => self.u32(*v),
            Data::I64(v) => {
                self.pad(8);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::U64(v) => {
                self.pad(8);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::Double(v) => {
                self.pad(8);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Data::Str(s) => self.string("string", s)?,
            Data::Path(p) => {
                if !crate::bus::names::is_object_path(p) {
                    return Err(enc_err(format!("invalid object path {p:?}")));
                }
                self.string("object path", p)?;
            }
            Data::Signature(s) => {
                if s.as_bytes().contains(&0) {
                    return Err(enc_err(format!("signature {s:?} contains a NUL byte")));
                }
                Sig::parse_list(s).map_err(|e| enc_err(e.to_string()))?;
                self.signature(s);
            }
            Data::Fd(raw) => {
                let fd = dup_fd(*raw)?;
                let idx = u32::try_from(self.fds.len()).map_err(|_| enc_err("too many fds"))?;
                self.fds.push(fd);
                self.u32(idx);
            }
            Data::Array { elem, items } => {
                let depth = enter(depth)?;
                self.u32(0);
                let len_at = self.buf.len() - 4;
                self.pad(elem.alignment());
                let start = self.buf.len();
                for (i, item) in items.iter().enumerate() {
                    if !item.has_sig(elem) {
                        return Err(enc_err(format!(
                            "array of {elem} holds a value of type {} at index {i}",
                            item.sig()
                        )));
                    }
                    self.value(item, depth)?;
                }
                self.patch_len(len_at, start)?;
            }
            Data::Dict {
                key,
                value,
                entries,
            } => {
                let depth = enter(depth)?;
                self.u32(0);
                let len_at = self.buf.len() - 4;
                self.pad(8);
                let start = self.buf.len();
                let inner = enter(depth)?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if !k.has_sig(key) || !v.has_sig(value) {
                        return Err(enc_err(format!(
                            "dict a{{{key}{value}}} holds an entry of types {}, {} at index {i}",
                            k.sig(),
                            v.sig()
                        )));
                    }
                    self.pad(8);
                    self.value(k, inner)?;
                    self.value(v, inner)?;
                }
                self.patch_len(len_at, start)?;
            }
            Data::Struct(fields) => {
                if fields.is_empty() {
                    return Err(enc_err("empty struct"));
                }
                let depth = enter(depth)?;
                self.pad(8);
                for f in fields {
                    self.value(f, depth)?;
                }
            }
            Data::Variant(inner) => {
                let depth = enter(depth)?;
                let sig = inner.sig().to_string();
                Sig::parse(&sig).map_err(|e| enc_err(format!("variant: {e}")))?;
                self.signature(&sig);
                self.value(inner, depth)?;
            }
        }
        Ok(())
    }

    fn patch_len(&mut self, len_at: usize, start: usize) -> Result<(), WireError> {
        let len = self.buf.len() - start;
        if len > MAX_ARRAY_LEN {
            return Err(enc_err(format!(
                "array of {len} bytes exceeds the 64 MiB limit"
            )));
        }
        self.buf[len_at..len_at + 4].copy_from_slice(&(len as u32).to_le_bytes());
        Ok(())
    }
}

fn enter(depth: usize) -> Result<usize, WireError> {
    if depth >= MAX_TOTAL_DEPTH {
        return Err(enc_err(format!(
            "values nested more than {MAX_TOTAL_DEPTH} containers deep"
        )));
    }
    Ok(depth + 1)
}

fn dup_fd(raw: i32) -> Result<OwnedFd, WireError> {
    if raw < 0 {
        return Err(enc_err(format!("invalid file descriptor {raw}")));
    }
    // SAFETY: `raw` is non-negative and the BorrowedFd lives only for the F_DUPFD_CLOEXEC below;
    // if it is not an open fd the kernel answers EBADF, reported as an error. We never close it.
    let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
    borrowed
        .try_clone_to_owned()
        .map_err(|e| enc_err(format!("cannot duplicate file descriptor {raw}: {e}")))
}

/// Marshal `args` as a little-endian message body starting at offset 0 (bodies start 8-aligned
/// in a message). File descriptors are duplicated into the returned list, and the body holds
/// their indices into it.
pub fn encode(args: &[Data]) -> Result<(Vec<u8>, Vec<OwnedFd>), WireError> {
    let sigs: Vec<Sig> = args.iter().map(Data::sig).collect();
    Sig::parse_list(&sig_list_string(&sigs)).map_err(|e| enc_err(e.to_string()))?;
    let mut enc = Enc {
        buf: Vec::with_capacity(64),
        fds: Vec::new(),
    };
    for a in args {
        enc.value(a, 0)?;
    }
    Ok((enc.buf, enc.fds))
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Dec<'a> {
    buf: &'a [u8],
    /// End of the innermost array being read (or of the body).
    end: usize,
    pos: usize,
    big: bool,
    fds: &'a [i32],
}

impl<'a> Dec<'a> {
    fn err(&self, offset: usize, message: impl Into<String>) -> WireError {
        WireError::Decode {
            offset,
            message: message.into(),
        }
    }

    fn short(&self, what: &str, need: usize) -> WireError {
        let place = if self.end < self.buf.len() {
            "its array"
        } else {
            "the body"
        };
        self.err(
            self.pos,
            format!(
                "{what} needs {need} bytes but {place} ends {} bytes on",
                self.end - self.pos
            ),
        )
    }

    fn pad(&mut self, align: usize) -> Result<(), WireError> {
        let to = self.pos.next_multiple_of(align);
        if to > self.end {
            return Err(self.short("alignment padding", to - self.pos));
        }
        if let Some(i) = self.buf[self.pos..to].iter().position(|&b| b != 0) {
            return Err(self.err(self.pos + i, "non-zero alignment padding"));
        }
        self.pos = to;
        Ok(())
    }

    fn take(&mut self, what: &str, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.end - self.pos {
            return Err(self.short(what, n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N], WireError> {
        self.pad(N)?;
        let s = self.take(what, N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        if self.big {
            a.reverse();
        }
        // `a` is now little-endian.
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.fixed::<4>(what)?))
    }

    /// The bytes of a string (u32 length) or signature (u8 length), NUL checked, UTF-8 checked.
    fn text(&mut self, what: &str, short_len: bool) -> Result<(&'a str, usize), WireError> {
        let len = if short_len {
            usize::from(self.take(what, 1)?[0])
        } else {
            self.u32(what)? as usize
        };
        let at = self.pos;
        let bytes = self.take(what, len)?;
        let nul = self.take(what, 1)?;
        if nul[0] != 0 {
            return Err(self.err(at + len, format!("{what} is not NUL-terminated")));
        }
        // `contains` searches a word at a time; the position only when there is one.
        if bytes.contains(&0)
            && let Some(i) = bytes.iter().position(|&b| b == 0)
        {
            return Err(self.err(at + i, format!("{what} contains a NUL byte")));
        }
        let s = std::str::from_utf8(bytes)
            .map_err(|e| self.err(at + e.valid_up_to(), format!("{what} is not valid UTF-8")))?;
        Ok((s, at))
    }

    fn value(&mut self, sig: &Sig, depth: usize) -> Result<Data, WireError> {
        Ok(match sig {
            Sig::Byte => Data::Byte(self.take("byte", 1)?[0]),
            Sig::Bool => {
                let at = self.pos.next_multiple_of(4);
                match self.u32("boolean")? {
                    0 => Data::Bool(false),
                    1 => Data::Bool(true),
                    n => return Err(self.err(at, format!("boolean is {n}, not 0 or 1"))),
                }
            }
            Sig::I16 => Data::I16(i16::from_le_bytes(self.fixed("int16")?)),
            Sig::U16 => Data::U16(u16::from_le_bytes(self.fixed("uint16")?)),
            Sig::I32 => Data::I32(i32::from_le_bytes(self.fixed("int32")?)),
            Sig::U32 => Data::U32(self.u32("uint32")?),
            Sig::I64 => Data::I64(i64::from_le_bytes(self.fixed("int64")?)),
            Sig::U64 => Data::U64(u64::from_le_bytes(self.fixed("uint64")?)),
            Sig::Double => Data::Double(f64::from_le_bytes(self.fixed("double")?)),
            Sig::Str => Data::Str(self.text("string", false)?.0.to_owned()),
            Sig::Path => {
                let (p, at) = self.text("object path", false)?;
                if !crate::bus::names::is_object_path(p) {
                    return Err(self.err(at, format!("invalid object path {p:?}")));
                }
                Data::Path(p.to_owned())
            }
            Sig::Signature => {
                let (s, at) = self.text("signature", true)?;
                if let Err(e) = Sig::parse_list(s) {
                    return Err(self.err(at + e.offset, e.to_string()));
                }
                Data::Signature(s.to_owned())
            }
            Sig::Fd => {
                let idx = self.u32("unix fd index")?;
                Data::Fd(self.fds.get(idx as usize).copied().unwrap_or(idx as i32))
            }
            Sig::Variant => {
                let depth = self.enter(depth)?;
                let (s, at) = self.text("variant signature", true)?;
                let inner = Sig::parse(s)
                    .map_err(|e| self.err(at + e.offset, format!("variant signature: {e}")))?;
                Data::Variant(Box::new(self.value(&inner, depth)?))
            }
            Sig::Array(elem) => {
                let depth = self.enter(depth)?;
                let (end, old) = self.array_start(elem.alignment())?;
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(elem, depth)?);
                }
                self.end = old;
                Data::Array {
                    elem: (**elem).clone(),
                    items,
                }
            }
            Sig::Dict(k, v) => {
                let depth = self.enter(depth)?;
                let inner = self.enter(depth)?;
                let (end, old) = self.array_start(8)?;
                let mut entries = Vec::new();
                while self.pos < end {
                    self.pad(8)?;
                    let key = self.value(k, inner)?;
                    let value = self.value(v, inner)?;
                    entries.push((key, value));
                }
                self.end = old;
                Data::Dict {
                    key: (**k).clone(),
                    value: (**v).clone(),
                    entries,
                }
            }
            Sig::Struct(fields) => {
                let depth = self.enter(depth)?;
                self.pad(8)?;
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    out.push(self.value(f, depth)?);
                }
                Data::Struct(out)
            }
        })
    }

    fn enter(&self, depth: usize) -> Result<usize, WireError> {
        if depth >= MAX_TOTAL_DEPTH {
            return Err(self.err(
                self.pos,
                format!("values nested more than {MAX_TOTAL_DEPTH} containers deep"),
            ));
        }
        Ok(depth + 1)
    }

    /// Read an array's length and padding, narrow `self.end` to the array's end; returns
    /// `(array end, previous end)`.
    fn array_start(&mut self, elem_align: usize) -> Result<(usize, usize), WireError> {
        let at = self.pos.next_multiple_of(4);
        let len = self.u32("array length")? as usize;
        if len > MAX_ARRAY_LEN {
            return Err(self.err(at, format!("array length {len} exceeds the 64 MiB limit")));
        }
        self.pad(elem_align)?;
        if len > self.end - self.pos {
            return Err(self.err(
                at,
                format!(
                    "array length {len} runs past the end ({} bytes left)",
                    self.end - self.pos
                ),
            ));
        }
        let old = self.end;
        self.end = self.pos + len;
        Ok((self.end, old))
    }
}

/// Unmarshal a body holding values of types `sigs`. `body` starts at an 8-aligned offset of its
/// message; `fds` is the message's fd list (an `h` value is resolved through it, or stays the raw
/// index if the list is too short). Bytes left over after the last value are an error.
pub fn decode(
    body: &[u8],
    endian: Endian,
    sigs: &[Sig],
    fds: &[i32],
) -> Result<Vec<Data>, WireError> {
    let mut dec = Dec {
        buf: body,
        end: body.len(),
        pos: 0,
        big: endian == Endian::Big,
        fds,
    };
    let mut out = Vec::with_capacity(sigs.len());
    for s in sigs {
        out.push(dec.value(s, 0)?);
    }
    if dec.pos != body.len() {
        return Err(dec.err(
            dec.pos,
            format!(
                "{} trailing bytes after the values of signature \"{}\"",
                body.len() - dec.pos,
                sig_list_string(sigs)
            ),
        ));
    }
    Ok(out)
}

/// Unmarshal one value of type `sig` from the start of `buf` (which starts 8-aligned in its
/// message) and say how many bytes it took; bytes after it are left alone. For reading one
/// header field at a time (the monitor parses headers itself).
pub fn decode_one(buf: &[u8], endian: Endian, sig: &Sig) -> Result<(Data, usize), WireError> {
    let mut dec = Dec {
        buf,
        end: buf.len(),
        pos: 0,
        big: endian == Endian::Big,
        fds: &[],
    };
    let value = dec.value(sig, 0)?;
    Ok((value, dec.pos))
}

// ---------------------------------------------------------------------------------------------
// zbus glue

/// The exact body signature string from a message's raw header (zbus's parsed `Signature`
/// cannot tell `(so)` from `so`), read in place: the header fields are walked, not decoded.
/// `None` if the header cannot be read this way (then the caller falls back to zbus's view).
fn header_signature(msg: &[u8]) -> Option<&str> {
    let big = match msg.first()? {
        b'l' => false,
        b'B' => true,
        _ => return None,
    };
    let u32_at = |pos: usize| -> Option<usize> {
        let b: [u8; 4] = msg.get(pos..pos + 4)?.try_into().ok()?;
        let v = if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        usize::try_from(v).ok()
    };
    // Fixed part: endianness, type, flags, version, body length, serial; then the fields,
    // `a(yv)`: the array's length at 12, its (8-aligned) structs from 16.
    let end = 16usize.checked_add(u32_at(12)?)?;
    let mut pos = 16;
    while pos < end {
        pos = pos.next_multiple_of(8);
        let code = *msg.get(pos)?;
        let sig_len = usize::from(*msg.get(pos + 1)?);
        let value_sig = msg.get(pos + 2..pos + 2 + sig_len)?;
        pos += 2 + sig_len + 1;
        match value_sig {
            b"g" => {
                let len = usize::from(*msg.get(pos)?);
                let text = msg.get(pos + 1..pos + 1 + len)?;
                if code == 8 {
                    return std::str::from_utf8(text).ok();
                }
                pos += 1 + len + 1;
            }
            b"s" | b"o" => {
                pos = pos.next_multiple_of(4);
                let len = u32_at(pos)?;
                pos = pos.checked_add(4 + len + 1)?;
            }
            b"u" => pos = pos.next_multiple_of(4) + 4,
            b"y" => pos += 1,
            // A field of another type: not something we can skip blindly.
            _ => return None,
        }
    }
    // No SIGNATURE field: an empty body.
    Some("")
}

/// Our own serials, far from zbus's process-wide counter (which numbers the messages zbus
/// builds: Hello, and a few of ours): the two never meet on one connection.
static NEXT_SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1 << 31);

/// One method call to send.
pub struct Call<'a> {
    pub dest: &'a str,
    pub path: &'a str,
    pub iface: Option<&'a str>,
    pub member: &'a str,
    /// zbus's header flags (NO_REPLY_EXPECTED, NO_AUTO_START, ALLOW_INTERACTIVE_AUTH).
    pub flags: u8,
}

/// A whole method-call message, header and body, marshalled by us (zbus's serde-based header
/// writer cost more than the rest of a property read). Names must have been checked already.
pub fn encode_call(call: &Call<'_>, args: &[Data]) -> zbus::Result<zbus::Message> {
    let fail = |e: WireError| zbus::Error::Failure(e.to_string());
    let (body, fds) = encode(args).map_err(fail)?;
    let sig = sig_list_string(&args.iter().map(Data::sig).collect::<Vec<_>>());
    let mut serial = NEXT_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if serial == 0 {
        serial = NEXT_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let too_long = || zbus::Error::Failure("the call is too large".into());
    let mut m: Vec<u8> = Vec::with_capacity(128 + body.len());
    m.extend_from_slice(&[b'l', 1, call.flags, 1]);
    m.extend_from_slice(
        &u32::try_from(body.len())
            .map_err(|_| too_long())?
            .to_le_bytes(),
    );
    m.extend_from_slice(&serial.to_le_bytes());
    m.extend_from_slice(&[0; 4]); // the fields' length, filled in below
    fn pad(m: &mut Vec<u8>, align: usize) {
        m.resize(m.len().next_multiple_of(align), 0);
    }
    fn string_field(m: &mut Vec<u8>, code: u8, ty: u8, v: &str) {
        pad(m, 8);
        m.extend_from_slice(&[code, 1, ty, 0]);
        m.extend_from_slice(&(v.len() as u32).to_le_bytes());
        m.extend_from_slice(v.as_bytes());
        m.push(0);
    }
    if call.path.len() > u32::MAX as usize / 2 || sig.len() > 255 {
        return Err(too_long());
    }
    string_field(&mut m, 1, b'o', call.path);
    if let Some(i) = call.iface {
        string_field(&mut m, 2, b's', i);
    }
    string_field(&mut m, 3, b's', call.member);
    string_field(&mut m, 6, b's', call.dest);
    if !sig.is_empty() {
        pad(&mut m, 8);
        m.extend_from_slice(&[8, 1, b'g', 0, sig.len() as u8]);
        m.extend_from_slice(sig.as_bytes());
        m.push(0);
    }
    if !fds.is_empty() {
        pad(&mut m, 8);
        m.extend_from_slice(&[9, 1, b'u', 0]);
        m.extend_from_slice(&(fds.len() as u32).to_le_bytes());
    }
    let fields_len = u32::try_from(m.len() - 16).map_err(|_| too_long())?;
    m[12..16].copy_from_slice(&fields_len.to_le_bytes());
    pad(&mut m, 8);
    m.extend_from_slice(&body);
    let ctxt = zbus::wire::serialized::Context::new(zbus::wire::Endian::Little, 0);
    let fds: Vec<zbus::OwnedFd> = fds.into_iter().map(zbus::OwnedFd::from).collect();
    let data = zbus::wire::serialized::Data::new_fds(m, ctxt, fds);
    // SAFETY: the bytes are a complete message laid out as the D-Bus specification says: the
    // fixed header, the fields (each 8-aligned, with the signature of its value), padding to 8,
    // then the body `encode` produced for exactly the signature written in the SIGNATURE field,
    // and as many fds as UNIX_FDS says. zbus parses and checks the header again.
    unsafe { zbus::Message::from_bytes(data) }
}

/// Build `builder`'s message around our own encoding of `args`, with the exact signature
/// (a single struct argument stays `(…)` in the header, which zbus's `build` would flatten).
pub fn encode_to_message(
    builder: zbus::message::Builder<'_>,
    args: &[Data],
) -> zbus::Result<zbus::Message> {
    let (body, fds) = encode(args).map_err(|e| zbus::Error::Failure(e.to_string()))?;
    let list = sig_list_string(&args.iter().map(Data::sig).collect::<Vec<_>>());
    // zbus writes a body signature without the outer parentheses of a structure, so wrap the
    // list in one: `(` + `(so)` + `)` is written as `(so)`, `(` + `so` + `)` as `so`.
    let signature = if list.is_empty() {
        zbus::Signature::Unit
    } else {
        format!("({list})")
            .parse::<zbus::Signature>()
            .or_else(|_| list.parse::<zbus::Signature>())
            .map_err(|e| zbus::Error::Failure(format!("signature {list:?}: {e}")))?
    };
    let fds = fds.into_iter().map(zbus::OwnedFd::from).collect();
    // SAFETY: `body` was produced by `encode` from `args`, whose signature list is exactly
    // `list` (validated by `encode`): every value is laid out for its type with padding relative
    // to offset 0, and zbus places the body at an 8-aligned offset, so the alignment holds in the
    // message. Each `h` value is an index into `fds`, which travels with the body.
    unsafe { builder.build_raw_body(&body, signature, fds) }
}

/// Decode a message's body: its exact signature (from the raw header), and values. Fd values
/// are the raw fd numbers the message holds (valid while `msg` lives).
pub fn decode_message(msg: &zbus::Message) -> Result<(Vec<Sig>, Vec<Data>), WireError> {
    let owned;
    let sig_str = match header_signature(msg.data().bytes()) {
        Some(s) => s,
        None => {
            owned = msg.body().signature().to_string_no_parens();
            &owned
        }
    };
    let sigs = Sig::parse_list(sig_str).map_err(|e| WireError::Decode {
        offset: 0,
        message: format!("body signature: {e}"),
    })?;
    let body = msg.body();
    let data = body.data();
    let endian = match data.context().endian() {
        zbus::wire::Endian::Big => Endian::Big,
        zbus::wire::Endian::Little => Endian::Little,
    };
    let fds: Vec<i32> = data.fds().iter().map(|f| f.as_raw_fd()).collect();
    let values = decode(data.bytes(), endian, &sigs, &fds)?;
    Ok((sigs, values))
}

/// A string read in place from a message's body (what [`string_body`] finds).
pub struct Text {
    body: zbus::message::Body,
    range: std::ops::Range<usize>,
}

impl Text {
    pub fn as_str(&self) -> &str {
        // Checked as UTF-8 when found; checking again costs a microsecond for 35 KB.
        std::str::from_utf8(&self.body.data().bytes()[self.range.clone()]).unwrap_or_default()
    }
}

/// The body of `msg` when it is exactly one string, read in place and checked as [`decode`]
/// checks a string; `None` when the body is anything else. For large answers (an Introspect
/// answer is 30 KB): decoding copies the text into new memory, and in a one-shot process the
/// page faults of that copy cost more than parsing it.
pub fn string_body(msg: &zbus::Message) -> Result<Option<Text>, WireError> {
    if header_signature(msg.data().bytes()) != Some("s") {
        return Ok(None);
    }
    let body = msg.body();
    let data = body.data();
    let bytes = data.bytes();
    let mut dec = Dec {
        buf: bytes,
        end: bytes.len(),
        pos: 0,
        big: data.context().endian() == zbus::wire::Endian::Big,
        fds: &[],
    };
    let (text, at) = dec.text("string", false)?;
    if dec.pos != bytes.len() {
        return Err(dec.err(
            dec.pos,
            format!("{} trailing bytes after the string", bytes.len() - dec.pos),
        ));
    }
    let range = at..at + text.len();
    Ok(Some(Text { body, range }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// xorshift64*: deterministic pseudo-random numbers without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn basic_sig(r: &mut Rng) -> Sig {
        [
            Sig::Byte,
            Sig::Bool,
            Sig::I16,
            Sig::U16,
            Sig::I32,
            Sig::U32,
            Sig::I64,
            Sig::U64,
            Sig::Double,
            Sig::Str,
            Sig::Path,
            Sig::Signature,
        ][r.below(12) as usize]
            .clone()
    }

    fn rand_sig(r: &mut Rng, depth: u32) -> Sig {
        if depth >= 4 {
            return basic_sig(r);
        }
        match r.below(10) {
            0 => Sig::Array(Box::new(rand_sig(r, depth + 1))),
            1 => Sig::Dict(Box::new(basic_sig(r)), Box::new(rand_sig(r, depth + 1))),
            2 => Sig::Struct(
                (0..1 + r.below(3))
                    .map(|_| rand_sig(r, depth + 1))
                    .collect(),
            ),
            3 => Sig::Variant,
            _ => basic_sig(r),
        }
    }

    fn rand_str(r: &mut Rng) -> String {
        let pool = ["", "a", "hello", "ä€", "with space", "\n\t\"", "x_y"];
        pool[r.below(pool.len() as u64) as usize].to_owned()
    }

    fn rand_data(r: &mut Rng, sig: &Sig, depth: u32) -> Data {
        match sig {
            Sig::Byte => Data::Byte(r.next() as u8),
            Sig::Bool => Data::Bool(r.below(2) == 1),
            Sig::I16 => Data::I16(r.next() as i16),
            Sig::U16 => Data::U16(r.next() as u16),
            Sig::I32 => Data::I32(r.next() as i32),
            Sig::U32 => Data::U32(r.next() as u32),
            Sig::I64 => Data::I64(r.next() as i64),
            Sig::U64 => Data::U64(r.next()),
            Sig::Double => {
                let d = f64::from_bits(r.next());
                Data::Double(if d.is_nan() { 0.25 } else { d })
            }
            Sig::Str => Data::Str(rand_str(r)),
            Sig::Path => Data::Path(["/", "/a", "/org/x_1/y"][r.below(3) as usize].to_owned()),
            Sig::Signature => {
                Data::Signature(["", "s", "a{sv}", "(ii)ay"][r.below(4) as usize].to_owned())
            }
            Sig::Fd => Data::Fd(0),
            Sig::Variant => {
                let inner = rand_sig(r, depth + 1);
                Data::Variant(Box::new(rand_data(r, &inner, depth + 1)))
            }
            Sig::Array(e) => Data::Array {
                elem: (**e).clone(),
                items: (0..r.below(4))
                    .map(|_| rand_data(r, e, depth + 1))
                    .collect(),
            },
            Sig::Dict(k, v) => Data::Dict {
                key: (**k).clone(),
                value: (**v).clone(),
                entries: (0..r.below(4))
                    .map(|_| (rand_data(r, k, depth + 1), rand_data(r, v, depth + 1)))
                    .collect(),
            },
            Sig::Struct(f) => Data::Struct(f.iter().map(|s| rand_data(r, s, depth + 1)).collect()),
        }
    }

    #[test]
    fn random_values_round_trip() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let sigs: Vec<Sig> = (0..r.below(4)).map(|_| rand_sig(&mut r, 0)).collect();
            let values: Vec<Data> = sigs.iter().map(|s| rand_data(&mut r, s, 0)).collect();
            let (bytes, fds) = encode(&values).unwrap();
            assert!(fds.is_empty());
            let back = decode(&bytes, Endian::Little, &sigs, &[]).unwrap();
            assert_eq!(back, values, "signature {}", sig_list_string(&sigs));
            // Every truncation is an error, never a panic.
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut], Endian::Little, &sigs, &[]).is_err());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut r = Rng(42);
        let sigs: Vec<Vec<Sig>> = [
            "a{sv}",
            "v",
            "(i(s(ay)))",
            "a(sasb)",
            "ayasaog",
            "a{oa{sa{sv}}}",
            "x",
        ]
        .iter()
        .map(|s| Sig::parse_list(s).unwrap())
        .collect();
        let mut ok = 0;
        for i in 0..20000 {
            let len = r.below(64) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            // Bias towards plausible input: small lengths and zero bytes.
            for b in bytes.iter_mut() {
                if r.below(2) == 0 {
                    *b %= 4;
                }
            }
            let endian = if i % 2 == 0 {
                Endian::Little
            } else {
                Endian::Big
            };
            if decode(&bytes, endian, &sigs[i % sigs.len()], &[3, 4]).is_ok() {
                ok += 1;
            }
        }
        assert!(ok > 0, "the fuzzer should hit some valid bodies");
    }

    #[test]
    fn malformed_bodies_are_reported() {
        let err = |bytes: &[u8], sig: &str| {
            decode(bytes, Endian::Little, &Sig::parse_list(sig).unwrap(), &[])
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[2, 0, 0, 0], "b").contains("boolean is 2"));
        assert!(
            err(&[1, 0, 0, 0, b'a'], "s").contains("needs 1 bytes but the body ends 0 bytes on")
        );
        assert!(err(&[1, 0, 0, 0, b'a', 1], "s").contains("not NUL-terminated"));
        assert!(err(&[2, 0, 0, 0, b'a', 0, 0], "s").contains("contains a NUL"));
        assert!(err(&[1, 0, 0, 0, 0xff, 0], "s").contains("UTF-8"));
        assert!(err(&[1, 0, 0, 0, b'x', 0], "o").contains("invalid object path"));
        assert!(err(&[1, b'{', 0], "g").contains("invalid signature"));
        assert!(err(&[2, b's', b's', 0], "v").contains("more than one"));
        assert!(err(&[0, 0, 0, 0x10, 0], "ay").contains("64 MiB"));
        assert!(err(&[9, 0, 0, 0, 1], "ay").contains("runs past"));
        assert!(err(&[7, 1], "yq").contains("non-zero alignment padding"));
        assert!(err(&[7, 0], "y").contains("1 trailing bytes"));
        // Array whose last element straddles the declared length.
        assert!(err(&[3, 0, 0, 0, 1, 0, 0, 0, 0, 0], "au").contains("its array ends 3 bytes on"));
        // Nested variants beyond the depth limit.
        let mut deep = Vec::new();
        for _ in 0..70 {
            deep.extend_from_slice(&[1, b'v', 0]);
        }
        assert!(err(&deep, "v").contains("nested more than 64"));
    }

    #[test]
    fn encode_rejects_bad_values() {
        let bad = [
            Data::Path("nope".into()),
            Data::Str("a\0b".into()),
            Data::Signature("a{vs}".into()),
            Data::Array {
                elem: Sig::Str,
                items: vec![Data::U32(1)],
            },
            Data::Struct(vec![]),
            Data::Fd(-1),
            Data::Dict {
                key: Sig::Variant,
                value: Sig::Str,
                entries: vec![],
            },
        ];
        for d in bad {
            assert!(encode(std::slice::from_ref(&d)).is_err(), "{d:?}");
        }
    }

    #[test]
    fn layout_matches_spec() {
        let (b, _) = encode(&[
            Data::Byte(1),
            Data::Array {
                elem: Sig::I64,
                items: vec![],
            },
            Data::Struct(vec![Data::Byte(2)]),
        ])
        .unwrap();
        // y, pad to 4, len 0, pad to 8 (even for an empty array), struct at 8, byte.
        assert_eq!(b, [1, 0, 0, 0, 0, 0, 0, 0, 2]);
        let (b, _) = encode(&[Data::Variant(Box::new(Data::U32(5)))]).unwrap();
        assert_eq!(b, [1, b'u', 0, 0, 5, 0, 0, 0]);
    }

    #[test]
    fn fds_are_duplicated_and_resolved() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let raw = file.as_raw_fd();
        let (bytes, fds) = encode(&[Data::Fd(raw), Data::Fd(raw)]).unwrap();
        assert_eq!(fds.len(), 2);
        assert_eq!(bytes, [0, 0, 0, 0, 1, 0, 0, 0]);
        let list: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
        let back = decode(&bytes, Endian::Little, &[Sig::Fd, Sig::Fd], &list).unwrap();
        assert_eq!(back, vec![Data::Fd(list[0]), Data::Fd(list[1])]);
        // A short fd list leaves the index.
        let back = decode(&bytes, Endian::Little, &[Sig::Fd, Sig::Fd], &[]).unwrap();
        assert_eq!(back, vec![Data::Fd(0), Data::Fd(1)]);
    }

    fn msg() -> zbus::message::Builder<'static> {
        zbus::Message::method_call("/org/x", "M")
    }

    #[test]
    fn a_string_body_is_read_in_place() {
        let xml = format!("<node>{}</node>", "é".repeat(20_000));
        let m = encode_to_message(msg(), &[Data::Str(xml.clone())]).unwrap();
        assert_eq!(string_body(&m).unwrap().unwrap().as_str(), xml);
        // Anything but exactly one string is not read this way.
        let others = [
            vec![],
            vec![Data::U32(1)],
            vec![Data::Str("a".into()), Data::Str("b".into())],
            vec![Data::Path("/a".into())],
        ];
        for other in others {
            let m = encode_to_message(msg(), &other).unwrap();
            assert!(string_body(&m).unwrap().is_none(), "{other:?}");
        }
    }

    #[test]
    fn a_nul_inside_a_string_is_found_where_it_is() {
        // Length 5, "ab\0cd", NUL: the search that skips clean text still names the byte.
        let body = [5, 0, 0, 0, b'a', b'b', 0, b'c', b'd', 0];
        let e = decode(&body, Endian::Little, &[Sig::Str], &[]).unwrap_err();
        assert!(e.to_string().contains("contains a NUL byte"), "{e}");
        assert!(e.to_string().contains('6'), "{e}");
    }

    #[test]
    fn zbus_decodes_what_we_encode() {
        use zbus::OwnedVariant;
        let sv = Data::Dict {
            key: Sig::Str,
            value: Sig::Variant,
            entries: vec![
                (Data::Str("a".into()), Data::Variant(Box::new(Data::U32(1)))),
                (
                    Data::Str("b".into()),
                    Data::Variant(Box::new(Data::Str("x".into()))),
                ),
            ],
        };
        let m = encode_to_message(msg(), std::slice::from_ref(&sv)).unwrap();
        assert_eq!(m.body().signature().to_string(), "a{sv}");
        let (map,): (HashMap<String, OwnedVariant>,) = m.body().deserialize().unwrap();
        assert_eq!(u32::try_from(&map["a"]).unwrap(), 1);
        assert_eq!(<&str>::try_from(&map["b"]).unwrap(), "x");

        let st = Data::Struct(vec![
            Data::I32(5),
            Data::Struct(vec![
                Data::Str("s".into()),
                Data::Struct(vec![Data::Array {
                    elem: Sig::Byte,
                    items: vec![Data::Byte(9)],
                }]),
            ]),
        ]);
        let m = encode_to_message(msg(), std::slice::from_ref(&st)).unwrap();
        type Nested = ((i32, (String, (Vec<u8>,))),);
        let got: Nested = m.body().deserialize().unwrap();
        assert_eq!(got, ((5, ("s".to_owned(), (vec![9],))),));
        // One struct stays one struct in the header signature (zbus alone would write `i(s(ay))`).
        assert_eq!(
            sig_list_string(&decode_message(&m).unwrap().0),
            "(i(s(ay)))"
        );

        let many = [
            Data::Byte(1),
            Data::I16(-2),
            Data::U16(3),
            Data::I32(-4),
            Data::U32(5),
            Data::I64(-6),
            Data::U64(7),
            Data::Double(0.5),
            Data::Bool(true),
            Data::Path("/a/b".into()),
            Data::Signature("a{sv}".into()),
            Data::Array {
                elem: Sig::Str,
                items: vec![],
            },
        ];
        let m = encode_to_message(msg(), &many).unwrap();
        type T = (
            u8,
            i16,
            u16,
            i32,
            u32,
            i64,
            u64,
            f64,
            bool,
            zbus::OwnedObjectPath,
            zbus::Signature,
            Vec<String>,
        );
        let body = m.body();
        let got: T = body.deserialize().unwrap();
        assert_eq!(
            (
                got.0, got.1, got.2, got.3, got.4, got.5, got.6, got.7, got.8
            ),
            (1, -2, 3, -4, 5, -6, 7, 0.5, true)
        );
        assert_eq!(got.9.as_str(), "/a/b");
        assert_eq!(got.10.to_string(), "a{sv}");
        assert!(got.11.is_empty());
        assert_eq!(decode_message(&m).unwrap().1, many);

        let m = encode_to_message(msg(), &[]).unwrap();
        assert!(m.body().is_empty());
        assert_eq!(decode_message(&m).unwrap(), (vec![], vec![]));

        let file = std::fs::File::open("/dev/null").unwrap();
        let m = encode_to_message(msg(), &[Data::Fd(file.as_raw_fd())]).unwrap();
        let (_, v) = decode_message(&m).unwrap();
        let Data::Fd(fd) = v[0] else { panic!("{v:?}") };
        assert_ne!(fd, file.as_raw_fd(), "the message holds its own duplicate");
        assert_eq!(m.body().data().fds()[0].as_raw_fd(), fd);
    }
}

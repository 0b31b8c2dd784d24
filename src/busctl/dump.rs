//! busctl's long form of messages and values, byte for byte: `sd_bus_message_dump()` of
//! systemd 252 (`src/libsystemd/sd-bus/bus-dump.c`).
//!
//! Three uses, three flag sets of the C function:
//! * [`message`]: `busctl monitor` (WITH_HEADER): the `‣ Type=…` line, the header fields
//!   line, `ErrorName=…`, the sender's unique name, then `MESSAGE "sig" { … };` and a blank line,
//!   everything indented by two spaces.
//! * [`reply`]: `busctl call --verbose` (no flags): `MESSAGE "sig" { … };` and a blank line.
//! * [`subtree`]: `busctl get-property --verbose` (SUBTREE_ONLY): the value alone.
//!
//! Values are written as `TYPE value;` one per line, containers as `ARRAY "elem" {` … `};`
//! eight spaces deeper per level. Strings are written raw (busctl does not escape them here),
//! doubles as `%g`. With colour on, busctl's highlight codes are added where it adds them.

use std::fmt::Write as _;

use crate::bus::data::Data;
use crate::bus::monitor::{ERROR, Header, METHOD_CALL, METHOD_RETURN, SIGNAL};
use crate::busctl::format::format_g;

/// systemd's terminal highlight codes (`terminal-util.h`).
const HIGHLIGHT: &str = "\x1B[0;1;39m";
const HIGHLIGHT_RED: &str = "\x1B[0;1;31m";
const HIGHLIGHT_GREEN: &str = "\x1B[0;1;32m";
const NORMAL: &str = "\x1B[0m";

/// Colour codes, or nothing.
#[derive(Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn hl(self) -> &'static str {
        if self.on { HIGHLIGHT } else { "" }
    }
    fn red(self) -> &'static str {
        if self.on { HIGHLIGHT_RED } else { "" }
    }
    fn green(self) -> &'static str {
        if self.on { HIGHLIGHT_GREEN } else { "" }
    }
    fn off(self) -> &'static str {
        if self.on { NORMAL } else { "" }
    }
}

/// `bus_message_type_to_string()`.
pub fn type_name(kind: u8) -> &'static str {
    match kind {
        METHOD_CALL => "method_call",
        METHOD_RETURN => "method_return",
        ERROR => "error",
        SIGNAL => "signal",
        _ => "(unknown)",
    }
}

/// `FORMAT_TIMESTAMP_STYLE(usec, TIMESTAMP_US_UTC)`: `Wed 2026-11-25 20:35:57.936743 UTC`.
pub fn timestamp_us_utc(usec: u64) -> String {
    let mut out = String::with_capacity(36);
    push_timestamp(&mut out, usec);
    out
}

/// [`timestamp_us_utc`] appended to `out`; the date and time of day are computed once per
/// second (a monitor prints thousands of messages a second).
pub fn push_timestamp(out: &mut String, usec: u64) {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> =
            const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let secs = usec / 1_000_000;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            let days = secs / 86_400;
            let rem = secs % 86_400;
            let (y, m, d) = civil_from_days(days as i64);
            last.1 = if y > 9999 {
                "--- XXXX-XX-XX XX:XX:XX".into()
            } else {
                format!(
                    "{} {y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
                    DAYS[(days % 7) as usize],
                    rem / 3600,
                    rem / 60 % 60,
                    rem % 60,
                )
            };
            last.0 = secs;
        }
        out.push_str(&last.1);
    });
    if usec / 1_000_000 <= 253_402_300_799 {
        let _ = write!(out, ".{:06} UTC", usec % 1_000_000);
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The text of an error message's first string argument, as sd-bus reads it into
/// `m->error.message` (`None` when the body does not start with a string).
pub fn error_text(values: &[Data]) -> Option<&str> {
    match values.first() {
        Some(Data::Str(s)) => Some(s),
        _ => None,
    }
}

/// One message as `busctl monitor` prints it. `usec` is the receive time (busctl prints the
/// time it dumps the message). `extra` (lines of our own, e.g. `--pair`'s) goes after the
/// header fields.
pub fn message_with(
    out: &mut String,
    h: &Header<'_>,
    values: &[Data],
    usec: u64,
    color: bool,
    extra: &str,
) {
    let p = Paint { on: color };
    let bullet = match h.kind {
        ERROR => p.red(),
        METHOD_RETURN => p.green(),
        SIGNAL => "",
        _ => p.hl(),
    };
    let _ = write!(
        out,
        "{bullet}‣{} Type={}{}{}  Endian={}  Flags={}  Version={}",
        p.off(),
        p.hl(),
        type_name(h.kind),
        p.off(),
        char::from(h.endian),
        h.flags,
        h.version
    );
    if h.serial == u32::MAX {
        out.push_str(" Cookie=-1");
    } else {
        let _ = write!(out, " Cookie={}", h.serial);
    }
    if let Some(r) = h.reply_serial.filter(|&r| r != 0) {
        let _ = write!(out, "  ReplyCookie={r}");
    }
    out.push_str("  Timestamp=\"");
    push_timestamp(out, usec);
    out.push_str("\"\n");
    let fields = [
        ("Sender", h.sender),
        ("Destination", h.destination),
        ("Path", h.path),
        ("Interface", h.interface),
        ("Member", h.member),
    ];
    let mut any = false;
    for (k, v) in fields {
        if let Some(v) = v {
            let _ = write!(out, "  {k}={}{v}{}", p.hl(), p.off());
            any = true;
        }
    }
    if any {
        out.push('\n');
    }
    if let Some(name) = h.error_name {
        let text = error_text(values).unwrap_or("n/a");
        let _ = writeln!(
            out,
            "  ErrorName={}{name}{}  ErrorMessage={}\"{text}\"{}",
            p.red(),
            p.off(),
            p.red(),
            p.off()
        );
    }
    out.push_str(extra);
    // sd-bus credentials of a received message: only the sender's unique name.
    if let Some(s) = h.sender.filter(|s| s.starts_with(':')) {
        let _ = writeln!(out, "  UniqueName={s}");
    }
    let _ = writeln!(out, "  MESSAGE \"{}\" {{", h.signature);
    for v in values {
        value(out, v, 10, p);
    }
    out.push_str("  };\n\n");
}

/// The synthetic `Disconnected` signal sd-bus hands busctl when the bus goes away.
pub fn disconnected(usec: u64, monotonic: u64, color: bool) -> String {
    let p = Paint { on: color };
    let local = "org.freedesktop.DBus.Local";
    let hl = |v: &str| format!("{}{v}{}", p.hl(), p.off());
    format!(
        "‣{} Type={}  Endian=l  Flags=1  Version=1 Cookie=-1  Timestamp=\"{}\"\n  \
         Sender={}  Path={}  Interface={}  Member={}\n  Monotonic={monotonic}  \
         Realtime={usec}\n  UniqueName={local}  WellKnownNames={local}\n  MESSAGE \"\" {{\n  \
         }};\n\n",
        p.off(),
        hl("signal"),
        timestamp_us_utc(usec),
        hl(local),
        hl("/org/freedesktop/DBus/Local"),
        hl(local),
        hl("Disconnected"),
    )
}

/// `busctl call --verbose`: the reply's values in the long form.
pub fn reply(values: &[Data], color: bool) -> String {
    let p = Paint { on: color };
    let sig: String = values.iter().map(|v| v.sig().to_string()).collect();
    let mut out = format!("MESSAGE \"{sig}\" {{\n");
    for v in values {
        value(&mut out, v, 8, p);
    }
    out.push_str("};\n\n");
    out
}

/// `busctl get-property --verbose`: the property's value alone.
pub fn subtree(v: &Data, color: bool) -> String {
    let mut out = String::new();
    value(&mut out, v, 0, Paint { on: color });
    out
}

fn open(out: &mut String, indent: usize, what: &str, contents: &str) {
    pad(out, indent);
    let _ = writeln!(out, "{what} \"{contents}\" {{");
}

fn close(out: &mut String, indent: usize) {
    pad(out, indent);
    out.push_str("};\n");
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// One value at `indent` spaces.
fn value(out: &mut String, d: &Data, indent: usize, p: Paint) {
    let basic = |out: &mut String, name: &str, v: std::fmt::Arguments<'_>, quoted: bool| {
        pad(out, indent);
        let q = if quoted { "\"" } else { "" };
        let _ = writeln!(out, "{name} {q}{}{v}{}{q};", p.hl(), p.off());
    };
    match d {
        Data::Byte(v) => basic(out, "BYTE", format_args!("{v}"), false),
        Data::Bool(v) => basic(out, "BOOLEAN", format_args!("{v}"), false),
        Data::I16(v) => basic(out, "INT16", format_args!("{v}"), false),
        Data::U16(v) => basic(out, "UINT16", format_args!("{v}"), false),
        Data::I32(v) => basic(out, "INT32", format_args!("{v}"), false),
        Data::U32(v) => basic(out, "UINT32", format_args!("{v}"), false),
        Data::I64(v) => basic(out, "INT64", format_args!("{v}"), false),
        Data::U64(v) => basic(out, "UINT64", format_args!("{v}"), false),
        Data::Double(v) => basic(out, "DOUBLE", format_args!("{}", format_g(*v)), false),
        Data::Str(s) => basic(out, "STRING", format_args!("{s}"), true),
        Data::Path(s) => basic(out, "OBJECT_PATH", format_args!("{s}"), true),
        Data::Signature(s) => basic(out, "SIGNATURE", format_args!("{s}"), true),
        Data::Fd(v) => basic(out, "UNIX_FD", format_args!("{v}"), false),
        Data::Array { elem, items } => {
            open(out, indent, "ARRAY", &elem.to_string());
            for i in items {
                value(out, i, indent + 8, p);
            }
            close(out, indent);
        }
        Data::Dict {
            key,
            value: val,
            entries,
        } => {
            let kv = format!("{key}{val}");
            open(out, indent, "ARRAY", &format!("{{{kv}}}"));
            for (k, v) in entries {
                open(out, indent + 8, "DICT_ENTRY", &kv);
                value(out, k, indent + 16, p);
                value(out, v, indent + 16, p);
                close(out, indent + 8);
            }
            close(out, indent);
        }
        Data::Struct(fields) => {
            let inner: String = fields.iter().map(|f| f.sig().to_string()).collect();
            open(out, indent, "STRUCT", &inner);
            for f in fields {
                value(out, f, indent + 8, p);
            }
            close(out, indent);
        }
        Data::Variant(inner) => {
            open(out, indent, "VARIANT", &inner.sig().to_string());
            value(out, inner, indent + 8, p);
            close(out, indent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::sig::Sig;

    #[test]
    fn timestamps_like_systemd() {
        assert_eq!(timestamp_us_utc(0), "Thu 1970-01-01 00:00:00.000000 UTC");
        assert_eq!(
            timestamp_us_utc(1_795_638_957_936_743),
            "Wed 2026-11-25 20:35:57.936743 UTC"
        );
        assert_eq!(
            timestamp_us_utc(951_825_600_000_001),
            "Tue 2000-02-29 12:00:00.000001 UTC"
        );
    }

    #[test]
    fn reply_and_subtree_layouts() {
        let v = vec![
            Data::Str("a".into()),
            Data::Dict {
                key: Sig::Str,
                value: Sig::Variant,
                entries: vec![(Data::Str("k".into()), Data::Variant(Box::new(Data::U32(7))))],
            },
            Data::Struct(vec![Data::Str("x".into()), Data::Path("/p".into())]),
        ];
        assert_eq!(
            reply(&v, false),
            "MESSAGE \"sa{sv}(so)\" {\n        STRING \"a\";\n        ARRAY \"{sv}\" {\n                DICT_ENTRY \"sv\" {\n                        STRING \"k\";\n                        VARIANT \"u\" {\n                                UINT32 7;\n                        };\n                };\n        };\n        STRUCT \"so\" {\n                STRING \"x\";\n                OBJECT_PATH \"/p\";\n        };\n};\n\n"
        );
        let arr = Data::Array {
            elem: Sig::Str,
            items: vec![Data::Str("a".into())],
        };
        assert_eq!(
            subtree(&arr, false),
            "ARRAY \"s\" {\n        STRING \"a\";\n};\n"
        );
        assert_eq!(subtree(&Data::Double(0.5), false), "DOUBLE 0.5;\n");
        assert_eq!(
            subtree(&Data::U32(1), true),
            "UINT32 \u{1b}[0;1;39m1\u{1b}[0m;\n"
        );
    }
}

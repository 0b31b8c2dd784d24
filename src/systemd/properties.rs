//! Unit properties for StartTransientUnit and SetUnitProperties: which name, which D-Bus type,
//! and how systemd-run's friendly spellings become values.
//!
//! Why no table of types here: every property's type comes from introspecting systemd's own
//! unit interfaces (`org.freedesktop.systemd1.Unit`, `.Service`, ...) of the very unit being
//! made ([`PropertyTable::from_node`]), so a newer systemd's properties just work. What is kept
//! here is only what introspection cannot say, the conventions systemd-run and pystemd follow
//! (bus-unit-util.c, pystemd's unit_signatures.py):
//!
//! * `CPUQuota` (0.1, `"10%"`) is written as `CPUQuotaPerSecUSec`;
//! * `FooSec` (seconds, or a time span such as `"1min"`) is written as `FooUSec`;
//! * `ReadOnlyDirectories` and friends are the old names of `ReadOnlyPaths` ...;
//! * `StandardOutputFileDescriptor` (and Input, Error) pass a file descriptor;
//! * exec commands are read as `a(sasbttttuii)` but written as `a(sasb)`;
//! * text values (`"10M"`, `"yes"`, `"any"`, `"/a:/b"`) parse as systemd-run parses them
//!   ([`from_text`]), which also serves `extra=["MemoryMax=10M"]`.

use crate::bus::data::Data;
use crate::bus::introspect::Node;
use crate::bus::sig::Sig;
use crate::systemd::syntax::{parse_boolean, parse_size};

/// The settable properties of one unit type, with their D-Bus types, from introspection.
#[derive(Clone, Debug, Default)]
pub struct PropertyTable {
    props: Vec<(String, Sig)>,
}

/// How a friendly value is turned into the property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// By the property's type.
    Plain,
    /// A fraction of one CPU (0.1) or a percentage (`"10%"`), written in µs per second.
    CpuQuota,
    /// Seconds (a number) or a time span (`"1min 30s"`), written in µs.
    Seconds,
}

/// Where a property given by the user goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The name sent to systemd.
    pub name: String,
    /// Its type on the wire.
    pub sig: Sig,
    pub how: How,
}

/// `MS_REC`, the bind flag systemd-run sets unless `:norbind` is given.
const MS_REC: u64 = 16384;

impl PropertyTable {
    /// The properties of every `org.freedesktop.systemd1.*` interface of an introspected unit.
    pub fn from_node(node: &Node) -> PropertyTable {
        let mut props = Vec::new();
        for iface in &node.interfaces {
            if !iface.name.starts_with("org.freedesktop.systemd1.") {
                continue;
            }
            for p in &iface.properties {
                if let Ok(sig) = Sig::parse(&p.sig) {
                    props.push((p.name.clone(), sig));
                }
            }
        }
        PropertyTable { props }
    }

    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    fn sig(&self, name: &str) -> Option<&Sig> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    /// The name and type `name` is written as, or why it cannot be set (naming the closest
    /// valid properties).
    pub fn resolve(&self, name: &str) -> Result<Target, String> {
        let plain = |n: &str, sig: Sig| Target {
            name: n.to_string(),
            sig: write_type(sig),
            how: How::Plain,
        };
        if let Some(sig) = self.sig(name) {
            return Ok(plain(name, sig.clone()));
        }
        // A scope's processes, given when it is created (as systemd-run --scope does); write-
        // only, so introspection does not list it.
        if name == "PIDs" {
            return Ok(plain(name, Sig::Array(Box::new(Sig::U32))));
        }
        if name == "CPUQuota"
            && let Some(sig) = self.sig("CPUQuotaPerSecUSec")
        {
            return Ok(Target {
                name: "CPUQuotaPerSecUSec".into(),
                sig: sig.clone(),
                how: How::CpuQuota,
            });
        }
        if let Some(stem) = name.strip_suffix("Sec") {
            let usec = format!("{stem}USec");
            if let Some(sig) = self.sig(&usec) {
                return Ok(Target {
                    name: usec,
                    sig: sig.clone(),
                    how: How::Seconds,
                });
            }
        }
        if let Some(stem) = name.strip_suffix("Directories")
            && let Some(sig) = self.sig(&format!("{stem}Paths"))
        {
            return Ok(plain(name, sig.clone()));
        }
        if let Some(stream) = name.strip_suffix("FileDescriptor")
            && stream.starts_with("Standard")
            && self.sig(stream) == Some(&Sig::Str)
        {
            return Ok(plain(name, Sig::Fd));
        }
        let close = self.closest(name);
        Err(if close.is_empty() {
            format!("unknown unit property '{name}'")
        } else {
            format!(
                "unknown unit property '{name}' (closest: {})",
                close.join(", ")
            )
        })
    }

    /// Up to three property names closest to `name` (friendly spellings included).
    pub fn closest(&self, name: &str) -> Vec<String> {
        let mut names: Vec<String> = self.props.iter().map(|(n, _)| n.clone()).collect();
        if self.sig("CPUQuotaPerSecUSec").is_some() {
            names.push("CPUQuota".into());
        }
        for (n, _) in &self.props {
            if let Some(stem) = n.strip_suffix("USec") {
                names.push(format!("{stem}Sec"));
            }
        }
        let lower = name.to_lowercase();
        let mut scored: Vec<(usize, String)> = names
            .into_iter()
            .map(|n| {
                let l = n.to_lowercase();
                let d = if l.contains(&lower) || lower.contains(&l) {
                    l.len().abs_diff(lower.len()).min(2)
                } else {
                    crate::suggest::edit_distance(&lower, &l)
                };
                (d, n)
            })
            .filter(|(d, _)| *d <= name.len().div_ceil(3).max(2))
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// The type a property is written with: exec commands drop their run-time status fields.
fn write_type(read: Sig) -> Sig {
    match read.to_string().as_str() {
        "a(sasbttttuii)" => Sig::parse("a(sasb)").unwrap_or(read),
        "a(sasasttttuii)" => Sig::parse("a(sasas)").unwrap_or(read),
        _ => read,
    }
}

/// A systemd-run style `VALUE` for `target`: the name actually sent (a percentage of memory
/// goes to `MemoryMaxScale`) and the value.
pub fn from_text(target: &Target, text: &str) -> Result<(String, Data), String> {
    let name = &target.name;
    let bad = |what: &str| format!("{name}: '{text}' is not {what}");
    let t = text.trim();
    match target.how {
        How::CpuQuota => {
            let frac = match t.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
                None => t.parse::<f64>(),
            }
            .map_err(|_| bad("a CPU quota (e.g. 10% or 0.1)"))?;
            return cpu_quota(name, frac).map(|d| (name.clone(), d));
        }
        How::Seconds => {
            let us = match crate::systemd::time::parse_sec(t).map_err(|e| format!("{name}: {e}"))? {
                None => u64::MAX,
                Some(d) => u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            };
            return Ok((name.clone(), Data::U64(us)));
        }
        How::Plain => {}
    }
    if target.sig == Sig::U64
        && let Some(p) = t.strip_suffix('%')
    {
        let pct: f64 = p.trim().parse().map_err(|_| bad("a percentage"))?;
        if !(0.0..=100.0).contains(&pct) {
            return Err(bad("a percentage between 0% and 100%"));
        }
        let scaled = (pct / 100.0 * f64::from(u32::MAX)).round() as u32;
        return Ok((format!("{name}Scale"), Data::U32(scaled)));
    }
    let data = match &target.sig {
        Sig::Bool => Data::Bool(parse_boolean(t).ok_or_else(|| bad("a boolean (yes/no)"))?),
        Sig::Str => Data::Str(text.to_string()),
        Sig::U64 => Data::U64(parse_u64_text(name, t)?),
        Sig::U32 => Data::U32(t.parse().map_err(|_| bad("a number"))?),
        Sig::I32 => Data::I32(t.parse().map_err(|_| bad("a number"))?),
        Sig::I64 => Data::I64(t.parse().map_err(|_| bad("a number"))?),
        Sig::U16 => Data::U16(t.parse().map_err(|_| bad("a number"))?),
        Sig::I16 => Data::I16(t.parse().map_err(|_| bad("a number"))?),
        Sig::Byte => Data::Byte(t.parse().map_err(|_| bad("a number"))?),
        Sig::Double => Data::Double(t.parse().map_err(|_| bad("a number"))?),
        Sig::Fd => Data::Fd(t.parse().map_err(|_| bad("a file descriptor number"))?),
        Sig::Array(elem) => match elem.to_string().as_str() {
            "s" => strings(split_words(name, t)?),
            "y" => Data::Array {
                elem: Sig::Byte,
                items: text.bytes().map(Data::Byte).collect(),
            },
            "(sasb)" => exec_commands(vec![exec_command(name, t)?]),
            "(iayu)" => ip_prefixes(name, t)?,
            "(ssbt)" => {
                let items = split_words(name, t)?
                    .iter()
                    .map(|w| bind_path(name, w))
                    .collect::<Result<Vec<_>, _>>()?;
                Data::Array {
                    elem: (**elem).clone(),
                    items,
                }
            }
            "(ss)" => {
                let items = split_words(name, t)?
                    .iter()
                    .map(|w| {
                        let (a, b) = w.split_once(':').unwrap_or((w, ""));
                        Data::Struct(vec![Data::Str(a.into()), Data::Str(b.into())])
                    })
                    .collect();
                Data::Array {
                    elem: (**elem).clone(),
                    items,
                }
            }
            "(sb)" => {
                let items = split_words(name, t)?
                    .iter()
                    .map(|w| match w.strip_prefix('-') {
                        Some(p) => Data::Struct(vec![Data::Str(p.into()), Data::Bool(true)]),
                        None => Data::Struct(vec![Data::Str(w.clone()), Data::Bool(false)]),
                    })
                    .collect();
                Data::Array {
                    elem: (**elem).clone(),
                    items,
                }
            }
            other => {
                return Err(format!(
                    "{name}: cannot write '{text}' as {}: give the value as a list (a{other})",
                    target.sig
                ));
            }
        },
        other => {
            return Err(format!(
                "{name}: cannot write '{text}' as {other}: give the value in that type"
            ));
        }
    };
    Ok((name.clone(), data))
}

/// A fraction of one CPU as µs per second (`CPUQuotaPerSecUSec`).
pub fn cpu_quota(name: &str, frac: f64) -> Result<Data, String> {
    if !(frac.is_finite() && frac > 0.0) {
        return Err(format!(
            "{name}: the CPU quota must be more than 0 (e.g. 0.1 or '10%')"
        ));
    }
    Ok(Data::U64((frac * 1_000_000.0).round() as u64))
}

/// An unsigned 64-bit value as systemd-run reads it: a number, `infinity`, a size with a
/// 1024-based suffix (`10M`), or for `...USec` a time span (`500ms`).
fn parse_u64_text(name: &str, t: &str) -> Result<u64, String> {
    if t == "infinity" {
        return Ok(u64::MAX);
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    if name.ends_with("USec") || name.ends_with("NSec") {
        let scale = if name.ends_with("NSec") { 1000 } else { 1 };
        return match crate::systemd::time::parse_span(t, 1) {
            Ok(None) => Ok(u64::MAX),
            Ok(Some(d)) => Ok(u64::try_from(d.as_micros()).unwrap_or(u64::MAX) * scale),
            Err(e) => Err(format!("{name}: {e}")),
        };
    }
    parse_size(t)
        .ok_or_else(|| format!("{name}: '{t}' is not a number, a size (e.g. 10M) or infinity"))
}

/// Words split like a shell (quotes group, backslashes escape).
fn split_words(name: &str, t: &str) -> Result<Vec<String>, String> {
    shlex::split(t).ok_or_else(|| format!("{name}: unbalanced quotes in '{t}'"))
}

fn strings(items: Vec<String>) -> Data {
    Data::Array {
        elem: Sig::Str,
        items: items.into_iter().map(Data::Str).collect(),
    }
}

/// One exec command from a command line: `-/bin/false x` ignores failure, like in unit files.
pub fn exec_command(name: &str, t: &str) -> Result<Data, String> {
    let (ignore, rest) = match t.trim_start().strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let argv = split_words(name, rest)?;
    command_data(name, argv, ignore)
}

/// `(path, argv, ignore_failure)`; the path must be absolute, as systemd wants it.
pub fn command_data(name: &str, argv: Vec<String>, ignore: bool) -> Result<Data, String> {
    let Some(path) = argv.first().cloned() else {
        return Err(format!("{name}: the command is empty"));
    };
    let path = if path.starts_with('/') {
        path
    } else {
        find_in_path(&path).ok_or_else(|| {
            format!("{name}: '{path}' is not an absolute path and is not on PATH (give the full path, e.g. /usr/bin/{path})")
        })?
    };
    Ok(Data::Struct(vec![
        Data::Str(path),
        strings(argv),
        Data::Bool(ignore),
    ]))
}

/// `argv0` found on our PATH, as systemd-run does for a bare command name.
fn find_in_path(argv0: &str) -> Option<String> {
    if argv0.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(argv0))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}

/// The `a(sasb)` of several commands.
pub fn exec_commands(items: Vec<Data>) -> Data {
    Data::Array {
        elem: Sig::Struct(vec![Sig::Str, Sig::Array(Box::new(Sig::Str)), Sig::Bool]),
        items,
    }
}

/// `src:dst[:rbind|norbind]` (a single path binds to itself; a leading `-` ignores a missing
/// source).
fn bind_path(name: &str, w: &str) -> Result<Data, String> {
    let (ignore, w) = match w.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, w),
    };
    let mut parts = w.splitn(3, ':');
    let src = parts.next().unwrap_or_default();
    let dst = parts.next().unwrap_or(src);
    let flags = match parts.next() {
        None | Some("rbind") => MS_REC,
        Some("norbind") => 0,
        Some(o) => {
            return Err(format!(
                "{name}: unknown bind option '{o}' (rbind or norbind)"
            ));
        }
    };
    if !src.starts_with('/') || !dst.starts_with('/') {
        return Err(format!(
            "{name}: '{w}' needs absolute paths (SOURCE[:DESTINATION])"
        ));
    }
    Ok(Data::Struct(vec![
        Data::Str(src.into()),
        Data::Str(dst.into()),
        Data::Bool(ignore),
        Data::U64(flags),
    ]))
}

const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;

/// `IPAddressDeny=`/`Allow=` values: `any`, `localhost`, `link-local`, `multicast`, or
/// addresses with an optional prefix length, separated by spaces.
pub fn ip_prefixes(name: &str, t: &str) -> Result<Data, String> {
    let mut items = Vec::new();
    for w in t.split_whitespace() {
        let named: &[(i32, &str, u32)] = match w {
            "any" => &[(AF_INET, "0.0.0.0", 0), (AF_INET6, "::", 0)],
            "localhost" => &[(AF_INET, "127.0.0.0", 8), (AF_INET6, "::1", 128)],
            "link-local" => &[(AF_INET, "169.254.0.0", 16), (AF_INET6, "fe80::", 64)],
            "multicast" => &[(AF_INET, "224.0.0.0", 4), (AF_INET6, "ff00::", 8)],
            _ => &[],
        };
        if !named.is_empty() {
            for (_, addr, len) in named {
                items.push(ip_prefix(name, addr, Some(*len))?);
            }
            continue;
        }
        let (addr, len) = match w.split_once('/') {
            Some((a, l)) => (
                a,
                Some(
                    l.parse::<u32>()
                        .map_err(|_| format!("{name}: bad prefix length in '{w}'"))?,
                ),
            ),
            None => (w, None),
        };
        items.push(ip_prefix(name, addr, len)?);
    }
    Ok(Data::Array {
        elem: Sig::parse("(iayu)").expect("valid signature"),
        items,
    })
}

fn ip_prefix(name: &str, addr: &str, len: Option<u32>) -> Result<Data, String> {
    let ip: std::net::IpAddr = addr.parse().map_err(|_| {
        format!("{name}: '{addr}' is not an IP address, a prefix (10.0.0.0/8) or any/localhost/link-local/multicast")
    })?;
    let (family, bytes, max) = match ip {
        std::net::IpAddr::V4(a) => (AF_INET, a.octets().to_vec(), 32),
        std::net::IpAddr::V6(a) => (AF_INET6, a.octets().to_vec(), 128),
    };
    let len = len.unwrap_or(max);
    if len > max {
        return Err(format!("{name}: prefix length {len} is more than {max}"));
    }
    Ok(Data::Struct(vec![
        Data::I32(family),
        Data::Array {
            elem: Sig::Byte,
            items: bytes.into_iter().map(Data::Byte).collect(),
        },
        Data::U32(len),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> PropertyTable {
        let rows = [
            ("CPUQuotaPerSecUSec", "t"),
            ("RuntimeMaxUSec", "t"),
            ("MemoryMax", "t"),
            ("ExecStart", "a(sasbttttuii)"),
            ("ReadOnlyPaths", "as"),
            ("StandardOutput", "s"),
            ("PrivateTmp", "b"),
            ("IPAddressDeny", "a(iayu)"),
            ("BindPaths", "a(ssbt)"),
            ("Nice", "i"),
        ];
        PropertyTable {
            props: rows
                .iter()
                .map(|(n, s)| (n.to_string(), Sig::parse(s).unwrap()))
                .collect(),
        }
    }

    #[test]
    fn friendly_names_resolve_to_the_real_ones() {
        let t = table();
        let rows = [
            ("CPUQuota", "CPUQuotaPerSecUSec", "t", How::CpuQuota),
            ("RuntimeMaxSec", "RuntimeMaxUSec", "t", How::Seconds),
            ("ExecStart", "ExecStart", "a(sasb)", How::Plain),
            (
                "ReadOnlyDirectories",
                "ReadOnlyDirectories",
                "as",
                How::Plain,
            ),
            (
                "StandardOutputFileDescriptor",
                "StandardOutputFileDescriptor",
                "h",
                How::Plain,
            ),
            ("MemoryMax", "MemoryMax", "t", How::Plain),
        ];
        for (given, name, sig, how) in rows {
            let r = t.resolve(given).unwrap();
            assert_eq!(
                (r.name.as_str(), r.sig.to_string().as_str(), r.how),
                (name, sig, how)
            );
        }
        let e = t.resolve("PrivateTemp").unwrap_err();
        assert!(e.contains("closest: PrivateTmp"), "{e}");
        let e = t.resolve("CPUQuote").unwrap_err();
        assert!(e.contains("CPUQuota"), "{e}");
    }

    #[test]
    fn text_values_parse_like_systemd_run() {
        let t = table();
        let text = |name: &str, v: &str| from_text(&t.resolve(name).unwrap(), v);
        assert_eq!(
            text("CPUQuota", "10%").unwrap(),
            ("CPUQuotaPerSecUSec".into(), Data::U64(100_000))
        );
        assert_eq!(text("CPUQuota", "0.5").unwrap().1, Data::U64(500_000));
        assert_eq!(text("MemoryMax", "10M").unwrap().1, Data::U64(10 << 20));
        assert_eq!(
            text("MemoryMax", "infinity").unwrap().1,
            Data::U64(u64::MAX)
        );
        assert_eq!(text("MemoryMax", "50%").unwrap().0, "MemoryMaxScale");
        assert_eq!(
            text("RuntimeMaxSec", "1min").unwrap().1,
            Data::U64(60_000_000)
        );
        assert_eq!(text("PrivateTmp", "yes").unwrap().1, Data::Bool(true));
        assert_eq!(text("Nice", "5").unwrap().1, Data::I32(5));
        let (_, d) = text("ExecStart", "/bin/sleep 'a b'").unwrap();
        assert_eq!(d.sig().to_string(), "a(sasb)");
        let Data::Array { items, .. } = d else {
            panic!()
        };
        assert_eq!(
            items[0],
            Data::Struct(vec![
                Data::Str("/bin/sleep".into()),
                strings(vec!["/bin/sleep".into(), "a b".into()]),
                Data::Bool(false)
            ])
        );
        let (_, d) = text("IPAddressDeny", "any").unwrap();
        let Data::Array { items, .. } = d else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        let (_, d) = text("IPAddressDeny", "10.1.2.3/8").unwrap();
        assert_eq!(d.sig().to_string(), "a(iayu)");
        let (_, d) = text("BindPaths", "/a:/b /c").unwrap();
        let Data::Array { items, .. } = d else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        for (name, bad) in [
            ("PrivateTmp", "maybe"),
            ("MemoryMax", "lots"),
            ("CPUQuota", "-5%"),
            ("IPAddressDeny", "nowhere"),
            ("ExecStart", "'unclosed"),
        ] {
            assert!(text(name, bad).is_err(), "{name}={bad}");
        }
    }
}

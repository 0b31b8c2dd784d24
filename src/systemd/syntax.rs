//! systemd's syntax for values people type and read: sizes (`10M`, base 1024) and booleans
//! (`yes`, `on`, `1`). Time spans are in [`super::time`].
//!
//! Why one place: unit properties (`MemoryMax="10M"`), busctl's `--size=` and its boolean
//! options, `status` and busctl's argument notation all read or print these, and must agree.

/// Size suffixes, largest first (base 1024).
const SIZE_UNITS: &[(&str, u64)] = &[
    ("E", 1 << 60),
    ("P", 1 << 50),
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
];

/// systemd's `parse_size` with base 1024: `10M`, `1.5G`, `512K`, `100` (bytes).
pub fn parse_size(t: &str) -> Option<u64> {
    let t = t.trim();
    let num_len = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(num_len);
    let unit = unit.trim();
    let unit = unit
        .strip_suffix("iB")
        .or_else(|| unit.strip_suffix('B').filter(|u| !u.is_empty()))
        .unwrap_or(unit);
    let mult = match unit {
        "" | "B" => 1,
        u => SIZE_UNITS.iter().find(|(s, _)| *s == u)?.1,
    };
    let value: f64 = num.parse().ok()?;
    let bytes = value * mult as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// systemd's `parse_boolean`.
pub fn parse_boolean(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// systemd's `format_bytes`: `184.0K`, `10.0M`, `512B`.
pub fn format_bytes(b: u64) -> String {
    for (i, &(suffix, factor)) in SIZE_UNITS.iter().enumerate() {
        if b >= factor {
            // Exactly systemd's rounding (format_bytes_full).
            let tenth = match SIZE_UNITS.get(i + 1) {
                Some(&(_, next)) => (b / next * 10 / 1024) % 10,
                None => (b as u128 * 10 / factor as u128) as u64 % 10,
            };
            return format!("{}.{tenth}{suffix}", b / factor);
        }
    }
    format!("{b}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_booleans() {
        let rows = [
            ("10M", Some(10 << 20)),
            ("1.5M", Some(1_572_864)),
            ("512K", Some(512 << 10)),
            ("100", Some(100)),
            ("4096B", Some(4096)),
            ("1G", Some(1 << 30)),
            ("10MiB", Some(10 << 20)),
            ("1.5K", Some(1536)),
            ("10Q", None),
            ("x", None),
            ("-1", None),
        ];
        for (t, want) in rows {
            assert_eq!(parse_size(t), want, "{t}");
        }
        assert_eq!(format_bytes(188_416), "184.0K");
        assert_eq!(format_bytes(10 << 20), "10.0M");
        assert_eq!(format_bytes(512), "512B");
        assert_eq!(parse_boolean("On"), Some(true));
        assert_eq!(parse_boolean("F"), Some(false));
        assert_eq!(parse_boolean("2"), None);
        assert_eq!(parse_boolean(" 1"), None);
    }
}

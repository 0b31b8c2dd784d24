//! systemd's time spans: `5`, `1.5s`, `500ms`, `1min 30s`, `infinity` (systemd.time(7)).
//!
//! Why our own: busctl's `--timeout=`, systemd-run's `--property=RuntimeMaxSec=` and unit
//! files all take this syntax, and people type it; Rust's parsers know none of it.

use std::time::Duration;

/// Units and their length in microseconds, longest spelling first where they share a prefix.
const UNITS: &[(&str, u128)] = &[
    ("usec", 1),
    ("us", 1),
    ("µs", 1),
    ("msec", 1_000),
    ("ms", 1_000),
    ("seconds", 1_000_000),
    ("second", 1_000_000),
    ("sec", 1_000_000),
    ("s", 1_000_000),
    ("minutes", 60_000_000),
    ("minute", 60_000_000),
    ("min", 60_000_000),
    ("months", 2_629_800_000_000),
    ("month", 2_629_800_000_000),
    ("M", 2_629_800_000_000),
    ("m", 60_000_000),
    ("hours", 3_600_000_000),
    ("hour", 3_600_000_000),
    ("hr", 3_600_000_000),
    ("h", 3_600_000_000),
    ("days", 86_400_000_000),
    ("day", 86_400_000_000),
    ("d", 86_400_000_000),
    ("weeks", 604_800_000_000),
    ("week", 604_800_000_000),
    ("w", 604_800_000_000),
    ("years", 31_557_600_000_000),
    ("year", 31_557_600_000_000),
    ("y", 31_557_600_000_000),
];

/// Parse a time span; a bare number is in `default_unit_us` microseconds (seconds for
/// `parse_sec`). `Ok(None)` is `infinity`. Anything else that is not a span is an error
/// saying what was expected.
pub fn parse_span(text: &str, default_unit_us: u128) -> Result<Option<Duration>, String> {
    let t = text.trim();
    if t == "infinity" {
        return Ok(None);
    }
    let bad = || format!("'{text}' is not a time span (e.g. 5, 1.5s, 500ms, 1min 30s, infinity)");
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num.matches('.').count() > 1 || num == "." {
            return Err(bad());
        }
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let mult = if unit.is_empty() {
            default_unit_us
        } else {
            UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, m)| *m)
                .ok_or_else(bad)?
        };
        rest = rest[unit_len..].trim_start();
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let int: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let mut part = int.checked_mul(mult).ok_or_else(bad)?;
        // The fraction, to the microsecond.
        let mut scale = mult;
        for d in frac.chars().take(12) {
            scale /= 10;
            part += u128::from(d.to_digit(10).ok_or_else(bad)?) * scale;
        }
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    let us = u64::try_from(total).map_err(|_| bad())?;
    Ok(Some(Duration::from_micros(us)))
}

/// `parse_span` with seconds as the default unit (systemd's `parse_sec`).
pub fn parse_sec(text: &str) -> Result<Option<Duration>, String> {
    parse_span(text, 1_000_000)
}

const USEC_PER_SEC: u64 = 1_000_000;
const USEC_PER_MINUTE: u64 = 60 * USEC_PER_SEC;
const USEC_PER_HOUR: u64 = 60 * USEC_PER_MINUTE;
const USEC_PER_DAY: u64 = 24 * USEC_PER_HOUR;
const USEC_PER_WEEK: u64 = 7 * USEC_PER_DAY;
const USEC_PER_MONTH: u64 = 2_629_800 * USEC_PER_SEC;
const USEC_PER_YEAR: u64 = 31_557_600 * USEC_PER_SEC;

/// systemd's `format_timespan`: `1min 30s`, `50ms`, `1.500s`, to `accuracy` µs.
pub fn format_timespan(t: u64, accuracy: u64) -> String {
    const TABLE: &[(&str, u64)] = &[
        ("y", USEC_PER_YEAR),
        ("month", USEC_PER_MONTH),
        ("w", USEC_PER_WEEK),
        ("d", USEC_PER_DAY),
        ("h", USEC_PER_HOUR),
        ("min", USEC_PER_MINUTE),
        ("s", USEC_PER_SEC),
        ("ms", 1000),
        ("us", 1),
    ];
    if t == u64::MAX {
        return "infinity".into();
    }
    if t == 0 {
        return "0".into();
    }
    let accuracy = accuracy.max(1);
    let mut t = t;
    let mut out = String::new();
    for &(suffix, usec) in TABLE {
        if t == 0 {
            break;
        }
        if t < accuracy && !out.is_empty() {
            break;
        }
        if t < usec {
            continue;
        }
        let a = t / usec;
        let mut b = t % usec;
        let sep = if out.is_empty() { "" } else { " " };
        if t < USEC_PER_MINUTE && b > 0 {
            let mut j: i32 = 0;
            let mut cc = usec;
            while cc > 1 {
                j += 1;
                cc /= 10;
            }
            let mut cc = accuracy;
            while cc > 1 {
                b /= 10;
                j -= 1;
                cc /= 10;
            }
            if j > 0 {
                out.push_str(&format!("{sep}{a}.{b:0width$}{suffix}", width = j as usize));
                break;
            }
        }
        out.push_str(&format!("{sep}{a}{suffix}"));
        t = b;
    }
    out
}

/// systemd's `format_timestamp_relative` for a time `d` µs in the past: `8s ago`.
pub fn format_ago(d: u64) -> String {
    let s = |n: u64, unit: &str| format!("{n}{unit}");
    let text = if d >= USEC_PER_YEAR {
        let years = d / USEC_PER_YEAR;
        let months = (d % USEC_PER_YEAR) / USEC_PER_MONTH;
        format!(
            "{years} {} {months} {}",
            if years == 1 { "year" } else { "years" },
            if months == 1 { "month" } else { "months" }
        )
    } else if d >= USEC_PER_MONTH {
        let months = d / USEC_PER_MONTH;
        let days = (d % USEC_PER_MONTH) / USEC_PER_DAY;
        format!(
            "{months} {} {days} {}",
            if months == 1 { "month" } else { "months" },
            if days == 1 { "day" } else { "days" }
        )
    } else if d >= USEC_PER_WEEK {
        let weeks = d / USEC_PER_WEEK;
        let days = (d % USEC_PER_WEEK) / USEC_PER_DAY;
        format!(
            "{weeks} {} {days} {}",
            if weeks == 1 { "week" } else { "weeks" },
            if days == 1 { "day" } else { "days" }
        )
    } else if d >= 2 * USEC_PER_DAY {
        format!("{} days", d / USEC_PER_DAY)
    } else if d >= 25 * USEC_PER_HOUR {
        format!("1 day {}h", (d - USEC_PER_DAY) / USEC_PER_HOUR)
    } else if d >= 6 * USEC_PER_HOUR {
        s(d / USEC_PER_HOUR, "h")
    } else if d >= USEC_PER_HOUR {
        format!(
            "{}h {}min",
            d / USEC_PER_HOUR,
            (d % USEC_PER_HOUR) / USEC_PER_MINUTE
        )
    } else if d >= 5 * USEC_PER_MINUTE {
        s(d / USEC_PER_MINUTE, "min")
    } else if d >= USEC_PER_MINUTE {
        format!(
            "{}min {}s",
            d / USEC_PER_MINUTE,
            (d % USEC_PER_MINUTE) / USEC_PER_SEC
        )
    } else if d >= USEC_PER_SEC {
        s(d / USEC_PER_SEC, "s")
    } else if d >= 1000 {
        s(d / 1000, "ms")
    } else if d > 0 {
        s(d, "us")
    } else {
        return "now".into();
    };
    format!("{text} ago")
}

/// systemd's `format_timestamp` in local time: `Wed 2026-11-25 20:45:37 UTC`.
pub fn format_timestamp(usec: u64) -> String {
    let secs = (usec / USEC_PER_SEC) as nix::libc::time_t;
    // SAFETY: `tm` is plain data that localtime_r fills; `secs` outlives the call.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    if unsafe { nix::libc::localtime_r(&secs, &mut tm) }.is_null() {
        return format!("@{}", usec / USEC_PER_SEC);
    }
    let mut buf = [0u8; 128];
    let fmt = c"%a %Y-%m-%d %H:%M:%S %Z";
    // SAFETY: strftime writes at most buf.len() bytes into buf and reads the NUL-terminated
    // format and the filled `tm`.
    let n = unsafe { nix::libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm) };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_systemd() {
        assert_eq!(format_timespan(1_000, 1_000), "1ms");
        assert_eq!(format_timespan(50_000, 1_000), "50ms");
        assert_eq!(format_timespan(1_500_000, 1_000), "1.500s");
        assert_eq!(format_timespan(90_000_000, 1_000_000), "1min 30s");
        assert_eq!(format_ago(8_000_000), "8s ago");
        assert_eq!(format_ago(175_000_000), "2min 55s ago");
        assert_eq!(format_ago(17_000), "17ms ago");
        let t = format_timestamp(0);
        assert!(t.contains("1970-01-01") || t.contains("1969-12-31"), "{t}");
    }

    #[test]
    fn spans_table() {
        let ms = |n: u64| Ok(Some(Duration::from_millis(n)));
        let rows: &[(&str, Result<Option<Duration>, ()>)] = &[
            ("5", ms(5000).map_err(|_: String| ())),
            ("1.5", ms(1500).map_err(|_: String| ())),
            ("1.5s", ms(1500).map_err(|_: String| ())),
            ("500ms", ms(500).map_err(|_: String| ())),
            ("1min 30s", ms(90_000).map_err(|_: String| ())),
            ("1min30s", ms(90_000).map_err(|_: String| ())),
            ("4min 59s", ms(299_000).map_err(|_: String| ())),
            ("2h", ms(7_200_000).map_err(|_: String| ())),
            (".25", ms(250).map_err(|_: String| ())),
            ("infinity", Ok(None)),
            ("", Err(())),
            ("-5", Err(())),
            ("inf", Err(())),
            ("1e300", Err(())),
            ("5 parsecs", Err(())),
            ("1.2.3", Err(())),
            ("99999999999999999999999999", Err(())),
        ];
        for (text, want) in rows {
            assert_eq!(&parse_sec(text).map_err(|_| ()), want, "{text:?}");
        }
    }
}

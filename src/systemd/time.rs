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

#[cfg(test)]
mod tests {
    use super::*;

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

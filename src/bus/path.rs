//! sd-bus's object path label escaping (`bus_label_escape`), as pystemd's
//! `path_encode`/`path_decode` and systemd's unit paths use it.

/// `("/org/freedesktop/systemd1/unit", "myfirstservice.service")` →
/// `/org/freedesktop/systemd1/unit/myfirstservice_2eservice`.
pub fn encode(prefix: &str, name: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1 + name.len() * 3);
    out.push_str(prefix.trim_end_matches('/'));
    out.push('/');
    if name.is_empty() {
        out.push('_');
        return out;
    }
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()) {
            out.push(b as char);
        } else {
            out.push('_');
            out.push(char::from_digit((b >> 4) as u32, 16).unwrap());
            out.push(char::from_digit((b & 15) as u32, 16).unwrap());
        }
    }
    out
}

/// The inverse of [`encode`]; `None` when `path` is not directly below `prefix`.
pub fn decode(path: &str, prefix: &str) -> Option<String> {
    let rest = path
        .strip_prefix(prefix.trim_end_matches('/'))?
        .strip_prefix('/')?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    if rest == "_" {
        return Some(String::new());
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = rest.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_table() {
        let p = "/org/freedesktop/systemd1/unit";
        let rows = [
            ("myfirstservice.service", "myfirstservice_2eservice"),
            ("session-3.scope", "session_2d3_2escope"),
            ("-.mount", "_2d_2emount"),
            ("a_b", "a_5fb"),
            ("1x", "_31x"),
            ("user@1000.service", "user_401000_2eservice"),
            ("", "_"),
        ];
        for (name, enc) in rows {
            let full = format!("{p}/{enc}");
            assert_eq!(encode(p, name), full);
            assert_eq!(decode(&full, p).as_deref(), Some(name));
        }
        assert_eq!(decode("/other/x", p), None);
        assert_eq!(decode(&format!("{p}/_zz"), p), None);
    }
}

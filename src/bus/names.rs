//! Validity checks for D-Bus names and paths, per the D-Bus specification.
//!
//! Checked before anything reaches the bus: completion must never send a malformed path, and a
//! typo should get a message that names the bad part instead of a protocol error.

fn element_ok(e: &str, allow_digit_start: bool, allow_dash: bool) -> bool {
    !e.is_empty()
        && (allow_digit_start || !e.as_bytes()[0].is_ascii_digit())
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || (allow_dash && b == b'-'))
}

/// A unique (`:1.42`) or well-known (`org.freedesktop.systemd1`) bus name.
pub fn is_bus_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    if let Some(rest) = s.strip_prefix(':') {
        let parts: Vec<&str> = rest.split('.').collect();
        return parts.len() >= 2 && parts.iter().all(|p| element_ok(p, true, true));
    }
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| element_ok(p, false, true))
}

/// An interface name such as `org.freedesktop.systemd1.Unit`.
pub fn is_interface_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| element_ok(p, false, false))
}

/// A member (method, signal, property) name such as `GetUnit`.
pub fn is_member_name(s: &str) -> bool {
    s.len() <= 255 && element_ok(s, false, false)
}

/// An object path such as `/org/freedesktop/systemd1`.
pub fn is_object_path(s: &str) -> bool {
    if s == "/" {
        return true;
    }
    if !s.starts_with('/') || s.ends_with('/') {
        return false;
    }
    s[1..].split('/').all(|e| element_ok(e, true, false))
}

/// `Err` with the one wording of each bad name, naming the bad part and showing a good one.
pub fn check_bus_name(s: &str) -> Result<(), String> {
    if is_bus_name(s) {
        return Ok(());
    }
    Err(format!(
        "invalid service name '{s}' (expected e.g. org.freedesktop.systemd1 or :1.42)"
    ))
}

pub fn check_object_path(s: &str) -> Result<(), String> {
    if is_object_path(s) {
        return Ok(());
    }
    Err(format!(
        "invalid object path '{s}' (expected e.g. /org/freedesktop/systemd1)"
    ))
}

pub fn check_interface_name(s: &str) -> Result<(), String> {
    if is_interface_name(s) {
        return Ok(());
    }
    Err(format!(
        "invalid interface name '{s}' (expected e.g. org.freedesktop.systemd1.Unit)"
    ))
}

pub fn check_member_name(s: &str) -> Result<(), String> {
    if is_member_name(s) {
        return Ok(());
    }
    Err(format!("invalid member name '{s}' (expected e.g. GetUnit)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        let rows: &[(&str, bool, bool, bool, bool)] = &[
            // text, bus, interface, member, path
            ("org.freedesktop.systemd1", true, true, false, false),
            (":1.42", true, false, false, false),
            ("org.a-b.c", true, false, false, false),
            ("GetUnit", false, false, true, false),
            ("/org/freedesktop/systemd1", false, false, false, true),
            ("/", false, false, false, true),
            ("/org/", false, false, false, false),
            ("//", false, false, false, false),
            ("/org/x-y", false, false, false, false),
            ("", false, false, false, false),
            ("1abc.d", false, false, false, false),
            ("org..x", false, false, false, false),
        ];
        for (s, b, i, m, p) in rows {
            assert_eq!(is_bus_name(s), *b, "bus {s}");
            assert_eq!(is_interface_name(s), *i, "iface {s}");
            assert_eq!(is_member_name(s), *m, "member {s}");
            assert_eq!(is_object_path(s), *p, "path {s}");
        }
    }
}

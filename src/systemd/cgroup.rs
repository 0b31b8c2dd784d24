//! Which unit, slice and session a process belongs to, read from its cgroup path (no bus
//! round trip): a port of systemd's `cg_path_get_*()` (src/basic/cgroup-util.c), used by
//! busctl's `list` and `status` and by the shell to find its own unit.

use super::unit::TYPES;

/// The process's path in the systemd (name=systemd or unified) hierarchy.
pub fn systemd_cgroup(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mut unified = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
        if ctrl == "name=systemd" {
            return Some(path.to_string());
        }
        if ctrl.is_empty() {
            unified = Some(path.to_string());
        }
    }
    unified
}

/// `cg_shift_path()`: the cgroup relative to the root of systemd's tree.
pub fn shift<'a>(cgroup: &'a str, root: &str) -> &'a str {
    if root.is_empty() || root == "/" {
        return cgroup;
    }
    match cgroup.strip_prefix(root) {
        Some(rest) if rest.starts_with('/') => rest,
        Some("") => "/",
        _ => cgroup,
    }
}

/// `cg_unescape()`.
pub fn unescape(s: &str) -> &str {
    s.strip_prefix('_').unwrap_or(s)
}

/// A plain or instance unit name (`unit_name_is_valid()`, roughly: a name, a dot, a type).
pub fn valid_unit(name: &str) -> bool {
    let Some((prefix, suffix)) = name.rsplit_once('.') else {
        return false;
    };
    !prefix.is_empty()
        && name.len() <= 255
        && TYPES.contains(&suffix)
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
}

fn valid_slice_name(c: &str) -> bool {
    c.len() >= "x.slice".len() && c.ends_with(".slice") && valid_unit(unescape(c))
}

/// Components of a cgroup path.
fn components(p: &str) -> impl Iterator<Item = &str> {
    p.split('/').filter(|c| !c.is_empty())
}

/// `skip_slices()`: what follows the leading slices.
fn skip_slices(p: &str) -> &str {
    let mut rest = p.trim_start_matches('/');
    while let Some(c) = components(rest).next() {
        if !valid_slice_name(c) {
            break;
        }
        rest = rest[c.len()..].trim_start_matches('/');
    }
    rest
}

/// `cg_path_get_unit()`: the unit a cgroup path belongs to.
pub fn unit(p: &str) -> Option<String> {
    let c = components(skip_slices(p)).next()?;
    let u = unescape(c);
    (c.len() >= 3 && valid_unit(u) && !u.ends_with(".slice")).then(|| u.to_string())
}

/// `cg_path_get_slice()`: the right-most leading slice, `-.slice` when there is none.
pub fn slice(p: &str) -> Option<String> {
    let last = components(p).take_while(|c| valid_slice_name(c)).last();
    Some(last.map_or("-.slice".to_string(), |s| unescape(s).to_string()))
}

/// `skip_user_prefix()`: past the slices and a `user@UID.service` or `session-X.scope`.
pub fn skip_user_prefix(p: &str) -> Option<&str> {
    let e = skip_slices(p);
    let c = components(e).next()?;
    let manager = c
        .strip_prefix("user@")
        .and_then(|r| r.strip_suffix(".service"))
        .is_some_and(|uid| uid.parse::<u32>().is_ok());
    let session = c
        .strip_prefix("session-")
        .and_then(|r| r.strip_suffix(".scope"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()));
    (manager || session).then(|| e[c.len()..].trim_start_matches('/'))
}

/// `cg_path_get_session()`.
pub fn session(p: &str) -> Option<String> {
    let u = unit(p)?;
    let id = u.strip_prefix("session-")?.strip_suffix(".scope")?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_like_systemd() {
        let rows = [
            // path, unit, slice, user unit, user slice, session
            (
                "/init.scope",
                Some("init.scope"),
                "-.slice",
                None,
                None,
                None,
            ),
            (
                "/system.slice/myfirstservice.service",
                Some("myfirstservice.service"),
                "system.slice",
                None,
                None,
                None,
            ),
            (
                "/user.slice/user-1000.slice/session-3.scope",
                Some("session-3.scope"),
                "user-1000.slice",
                None,
                Some("-.slice"),
                Some("3"),
            ),
            (
                "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service",
                Some("user@1000.service"),
                "user-1000.slice",
                Some("x.service"),
                Some("app.slice"),
                None,
            ),
            ("/", None, "-.slice", None, None, None),
        ];
        for (p, u, s, uu, us, sess) in rows {
            assert_eq!(unit(p).as_deref(), u, "unit {p}");
            assert_eq!(slice(p).as_deref(), Some(s), "slice {p}");
            let user = skip_user_prefix(p);
            assert_eq!(user.and_then(unit).as_deref(), uu, "user unit {p}");
            assert_eq!(user.and_then(slice).as_deref(), us, "user slice {p}");
            assert_eq!(session(p).as_deref(), sess, "session {p}");
        }
    }
}

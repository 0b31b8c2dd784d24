//! busctl's `tree`: walk a service's objects from `/` and draw their paths exactly as busctl
//! draws them.

use std::collections::BTreeSet;

use crate::bus::cache::introspect_xml;
use crate::bus::connection::CallError;
use crate::bus::introspect::Node;
use crate::bus::session::Session;

/// What a walk found: the paths that answered (sorted) and busctl's message for each failure.
pub struct Discovery {
    pub paths: Vec<String>,
    pub failures: Vec<String>,
}

/// Introspect `service` from / down. Only Ctrl-C stops the walk; a failing object is noted
/// and the walk goes on, as in busctl.
pub fn discover(s: &Session, service: &str) -> Result<Discovery, CallError> {
    let mut todo = vec!["/".to_string()];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut paths = Vec::new();
    let mut failures = Vec::new();
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let node = match s.block_on(introspect_xml(&s.bus, service, &path)) {
            Ok(xml) => Node::parse(&xml).map_err(|e| e.to_string()),
            Err(CallError::Interrupted) => return Err(CallError::Interrupted),
            Err(e) => Err(super::error_message(&e)),
        };
        match node {
            Ok(node) => {
                for child in &node.children {
                    let p = if path == "/" {
                        format!("/{child}")
                    } else {
                        format!("{path}/{child}")
                    };
                    todo.push(p);
                }
                paths.push(path);
            }
            Err(e) => failures.push(format!(
                "Failed to introspect object {path} of service {service}: {e}"
            )),
        }
    }
    paths.sort();
    Ok(Discovery { paths, failures })
}

fn path_startswith(path: &str, prefix: &str) -> bool {
    if prefix == "/" {
        return path.starts_with('/');
    }
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('/'))
}

/// busctl's `print_tree` over a sorted list of paths.
pub fn render(paths: &[String]) -> String {
    if paths.is_empty() {
        return "No objects discovered.\n".into();
    }
    if paths.len() == 1 && paths[0] == "/" {
        return "Only root object discovered.\n".into();
    }
    let mut out = String::new();
    subtree(&mut out, "", "/", paths);
    out
}

fn subtree(out: &mut String, prefix: &str, path: &str, mut l: &[String]) {
    while let Some(first) = l.first() {
        if first != path {
            break;
        }
        l = &l[1..];
    }
    let vertical = format!("{prefix}│ ");
    let space = format!("{prefix}  ");
    while let Some(cur) = l.first() {
        if !path_startswith(cur, path) {
            break;
        }
        let mut n = 1;
        let mut has_more = false;
        while let Some(next) = l.get(n) {
            if !path_startswith(next, path) {
                break;
            }
            if !path_startswith(next, cur) {
                has_more = true;
                break;
            }
            n += 1;
        }
        out.push_str(prefix);
        out.push_str(if has_more { "├─" } else { "└─" });
        out.push_str(cur);
        out.push('\n');
        subtree(out, if has_more { &vertical } else { &space }, cur, l);
        l = &l[n..];
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn draws_like_busctl() {
        let paths: Vec<String> = [
            "/",
            "/org",
            "/org/freedesktop",
            "/org/freedesktop/LogControl1",
            "/org/freedesktop/systemd1",
            "/org/freedesktop/systemd1/job",
            "/org/freedesktop/systemd1/unit",
            "/org/freedesktop/systemd1/unit/a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            render(&paths),
            "└─/org\n  └─/org/freedesktop\n    ├─/org/freedesktop/LogControl1\n    └─/org/freedesktop/systemd1\n      ├─/org/freedesktop/systemd1/job\n      └─/org/freedesktop/systemd1/unit\n        └─/org/freedesktop/systemd1/unit/a\n"
        );
        assert_eq!(render(&["/".to_string()]), "Only root object discovered.\n");
        assert_eq!(render(&[]), "No objects discovered.\n");
    }
}

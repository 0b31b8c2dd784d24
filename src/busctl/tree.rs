//! busctl's `tree`: walk a service's objects from `/` and draw their paths exactly as busctl
//! draws them.
//!
//! The walk pipelines its Introspect calls on the one connection (up to [`IN_FLIGHT`] at a
//! time, where busctl waits for each answer before asking the next) and reads only the child
//! names out of each answer ([`crate::bus::xml::child_names`]), never a whole document.
//!
//! A service decides what it reports, so the walk is bounded: at most [`MAX_OBJECTS`] objects
//! and [`MAX_DEPTH`] levels, with a note saying what was cut. Drawing is linear in the output
//! (no recursion, no rescans), and the whole walk runs inside one interruptible wait.

use std::collections::HashSet;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::bus::cache::introspect_xml;
use crate::bus::connection::{Bus, CallError};
use crate::bus::names;
use crate::bus::session::Session;
use crate::bus::xml::child_names;

/// Objects walked per service, at most: far beyond any real service (systemd with a thousand
/// units has about 2,000), and small enough that a service inventing children cannot eat the
/// machine.
pub const MAX_OBJECTS: usize = 16_384;
/// Path elements below `/`, at most (systemd's deepest paths have 5).
pub const MAX_DEPTH: usize = 64;
/// Introspect calls waiting for their answer at once.
const IN_FLIGHT: usize = 32;

/// What a walk found: the paths that answered (sorted), busctl's message for each failure
/// (sorted by path), and what the bounds cut, if anything.
pub struct Discovery {
    pub paths: Vec<String>,
    pub failures: Vec<String>,
    pub cut: Option<String>,
}

/// Introspect `service` from / down. Only Ctrl-C stops the walk; a failing object is noted
/// and the walk goes on, as in busctl.
pub fn discover(s: &Session, service: &str) -> Result<Discovery, CallError> {
    s.block_on(walk(&s.bus, service))
}

/// Number of elements of a relative path (`a/b` has 2).
fn elements(rel: &str) -> usize {
    rel.split('/').count()
}

async fn walk(bus: &Bus, service: &str) -> Result<Discovery, CallError> {
    let mut seen: HashSet<String> = HashSet::from(["/".to_string()]);
    let mut todo: Vec<(String, usize)> = vec![("/".to_string(), 0)];
    let mut inflight = FuturesUnordered::new();
    let mut paths = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let (mut too_many, mut too_deep) = (false, false);
    loop {
        while inflight.len() < IN_FLIGHT
            && let Some((path, depth)) = todo.pop()
        {
            inflight.push(async move {
                let r = introspect_xml(bus, service, &path).await;
                (path, depth, r)
            });
        }
        let Some((path, depth, reply)) = inflight.next().await else {
            break;
        };
        let children = reply.map_err(|e| super::error_message(&e)).and_then(|xml| {
            child_names(xml.as_str())
                .map_err(|e| format!("the peer sent malformed introspection data ({e})"))
        });
        match children {
            Ok(children) => {
                for child in children {
                    let child = child.trim_start_matches('/');
                    if child.is_empty() || !names::is_object_path(&format!("/{child}")) {
                        continue;
                    }
                    let d = depth + elements(child);
                    if d > MAX_DEPTH {
                        too_deep = true;
                        continue;
                    }
                    if seen.len() >= MAX_OBJECTS {
                        too_many = true;
                        break;
                    }
                    let p = if path == "/" {
                        format!("/{child}")
                    } else {
                        format!("{path}/{child}")
                    };
                    if seen.insert(p.clone()) {
                        todo.push((p, d));
                    }
                }
                paths.push(path);
            }
            Err(e) => failures.push((path, e)),
        }
    }
    paths.sort_unstable();
    failures.sort_unstable();
    let cut = match (too_many, too_deep) {
        (false, false) => None,
        (true, _) => Some(format!(
            "{service} reports more than {MAX_OBJECTS} objects: only the first {MAX_OBJECTS} were walked"
        )),
        (false, true) => Some(format!(
            "{service} reports objects more than {MAX_DEPTH} levels deep: those were not walked"
        )),
    };
    Ok(Discovery {
        paths,
        failures: failures
            .into_iter()
            .map(|(p, e)| format!("Failed to introspect object {p} of service {service}: {e}"))
            .collect(),
        cut,
    })
}

/// Is `path` below `prefix` (`/` is above everything)?
fn path_startswith(path: &str, prefix: &str) -> bool {
    if prefix == "/" {
        return path.starts_with('/');
    }
    path.strip_prefix(prefix)
        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

/// busctl's `print_tree` over a sorted list of paths, in time linear in its output: each
/// path's parent is the nearest listed path above it (a stack over the sorted list), a path
/// has a sibling after it unless it is its parent's last child.
pub fn render(paths: &[String]) -> String {
    if paths.is_empty() {
        return "No objects discovered.\n".into();
    }
    if paths.len() == 1 && paths[0] == "/" {
        return "Only root object discovered.\n".into();
    }
    // busctl skips the root itself; a repeated path is drawn once.
    let mut list: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "/")
        .collect();
    list.dedup();
    const ROOT: usize = usize::MAX;
    let mut parent = vec![ROOT; list.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if path_startswith(p, list[top]) {
                break;
            }
            stack.pop();
        }
        parent[i] = stack.last().copied().unwrap_or(ROOT);
        stack.push(i);
    }
    // The last child of each parent (and of the root) has no sibling after it.
    let mut last_child = vec![ROOT; list.len()];
    let mut last_top = ROOT;
    for (i, &p) in parent.iter().enumerate() {
        match p {
            ROOT => last_top = i,
            p => last_child[p] = i,
        }
    }
    let has_more = |i: usize| match parent[i] {
        ROOT => last_top != i,
        p => last_child[p] != i,
    };
    // The indentation of each open level, rebuilt along the stack of ancestors.
    let mut out = String::new();
    let mut prefixes: Vec<(usize, String)> = Vec::new();
    for i in 0..list.len() {
        while prefixes
            .last()
            .is_some_and(|(owner, _)| Some(*owner) != (parent[i] != ROOT).then_some(parent[i]))
        {
            prefixes.pop();
        }
        let prefix = prefixes.last().map_or("", |(_, p)| p.as_str());
        out.push_str(prefix);
        out.push_str(if has_more(i) { "├─" } else { "└─" });
        out.push_str(list[i]);
        out.push('\n');
        let child_prefix = format!("{prefix}{}", if has_more(i) { "│ " } else { "  " });
        prefixes.push((i, child_prefix));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{path_startswith, render};

    /// busctl 252's `print_tree`, transliterated (recursive, quadratic): the reference.
    fn busctl_render(paths: &[String]) -> String {
        fn subtree(out: &mut String, prefix: &str, path: &str, mut l: &[String]) {
            while l.first().is_some_and(|f| f == path) {
                l = &l[1..];
            }
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
                let p = format!("{prefix}{}", if has_more { "│ " } else { "  " });
                subtree(out, &p, cur, l);
                l = &l[n..];
            }
        }
        let mut out = String::new();
        subtree(&mut out, "", "/", paths);
        out
    }

    #[test]
    fn linear_drawing_matches_busctls_on_random_trees() {
        // A small deterministic generator: paths from an alphabet of 3 names, 1-5 levels,
        // some with their parents missing (busctl then hangs them under the nearest one).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut paths: Vec<String> = vec!["/".into()];
            for _ in 0..(next() % 40) {
                let depth = 1 + next() % 5;
                let p: String = (0..depth)
                    .map(|_| ["/a", "/b", "/c1"][(next() % 3) as usize])
                    .collect();
                paths.push(p);
            }
            paths.sort();
            paths.dedup();
            if paths.len() > 1 {
                assert_eq!(render(&paths), busctl_render(&paths), "{paths:?}");
            }
        }
    }

    #[test]
    fn a_very_deep_tree_draws_without_recursion() {
        // Regression (issue 12, item 4): drawing recursed once per level and cost depth^3.
        let mut paths = vec!["/".to_string()];
        let mut p = String::new();
        for _ in 0..3000 {
            p.push_str("/d");
            paths.push(p.clone());
        }
        let out = render(&paths);
        assert_eq!(out.lines().count(), 3000);
        assert!(
            out.lines()
                .last()
                .unwrap()
                .starts_with(&" ".repeat(2 * 2999))
        );
    }

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

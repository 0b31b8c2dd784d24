//! `tree`: busctl's object tree, drawn exactly as busctl draws it.

use std::collections::BTreeSet;
use std::io::Write;

use crate::bus::cache::introspect_xml;
use crate::bus::introspect::Node;
use crate::commands::busctl::error_text;
use crate::lang::interp::{Flow, Interp};

pub fn tree(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let services: Vec<String> = if words.is_empty() {
        let s = it.session.clone();
        let mut names: Vec<String> = s
            .block_on(s.bus.list_names(false))
            .map_err(|e| anyhow::anyhow!("Failed to get name list: {}", error_text(&e)))?
            .into_iter()
            .filter(|n| !n.starts_with(':'))
            .collect();
        names.sort();
        names
    } else {
        words.to_vec()
    };
    let many = words.len() != 1;
    let mut failed = None;
    for (n, service) in services.iter().enumerate() {
        if many {
            if n > 0 {
                writeln!(it.out)?;
            }
            writeln!(it.out, "Service {service}:")?;
        }
        let (paths, err) = discover(it, service)?;
        let text = render(&paths);
        it.out.write_all(text.as_bytes())?;
        if err.is_some() && failed.is_none() {
            failed = err;
        }
    }
    match failed {
        Some(_) => Err(anyhow::anyhow!(
            "tree: some objects could not be introspected (see above)"
        )),
        None => Ok(Flow::Continue),
    }
}

/// Introspect from / down; returns the paths that answered and the first failure.
fn discover(it: &mut Interp, service: &str) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let mut todo = vec!["/".to_string()];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut done = Vec::new();
    let mut first_err = None;
    let s = it.session.clone();
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let xml = s.block_on(introspect_xml(&s.bus, service, &path));
        let node = match xml {
            Ok(xml) => Node::parse(&xml).map_err(|e| e.to_string()),
            Err(crate::bus::connection::CallError::Interrupted) => {
                anyhow::bail!("interrupted")
            }
            Err(e) => Err(error_text(&e)),
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
                done.push(path);
            }
            Err(e) => {
                let msg = format!("Failed to introspect object {path} of service {service}: {e}");
                // busctl 252 prints these on stdout, within the tree output.
                writeln!(it.out, "{msg}")?;
                first_err.get_or_insert(msg);
            }
        }
    }
    done.sort();
    Ok((done, first_err))
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

//! A demo's `#>` checkpoints (the format of `demos/README.md`) checked without the
//! presenter's player: the demo runs as a script (a statement marked `#@ tty` or
//! `#@ manual` is left out, as `--play --no-pause` leaves it out without a terminal), and
//! each checkpoint line must match a line of the output, in order (`...` matches anything
//! within a line; `...` alone, any number of lines). Used for the daemon and futures demos.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub struct Demo {
    pub path: PathBuf,
    /// What runs without a terminal.
    pub script: String,
    pub checkpoints: Vec<String>,
    /// Statements left out (they need a terminal or a person).
    pub skipped: usize,
}

/// `demos/NAME`.
pub fn demo_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demos")
        .join(name)
}

#[track_caller]
pub fn load(name: &str) -> Demo {
    let path = demo_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut script = String::new();
    let mut checkpoints = Vec::new();
    let mut skip_next = false;
    let mut skipped = 0;
    for line in text.lines() {
        if line == "#>" {
            checkpoints.push(String::new());
            continue;
        }
        if let Some(c) = line.strip_prefix("#> ") {
            checkpoints.push(c.to_string());
            continue;
        }
        if let Some(marks) = line.strip_prefix("#@") {
            skip_next = marks
                .split_whitespace()
                .any(|m| m == "tty" || m == "manual");
            continue;
        }
        if skip_next && !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            skip_next = false;
            skipped += 1;
            continue;
        }
        script.push_str(line);
        script.push('\n');
    }
    Demo {
        path,
        script,
        checkpoints,
        skipped,
    }
}

/// Does `line` match `pattern` (`...` matches anything within the line)?
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let line = line.trim_end();
    let parts: Vec<&str> = pattern.split("...").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// Every checkpoint of `demo` matches a line of `output`, in order.
#[track_caller]
pub fn assert_checkpoints(demo: &Demo, output: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let mut at = 0;
    for c in &demo.checkpoints {
        // `...` alone: any number of lines, which in-order matching already allows.
        if c == "..." {
            continue;
        }
        match lines[at..].iter().position(|l| line_matches(c, l)) {
            Some(i) => at += i + 1,
            None => panic!(
                "{}: checkpoint {c:?} not found (in order) in the output:\n{output}",
                demo.path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_matches;

    #[test]
    fn ellipses_match_within_a_line() {
        assert!(line_matches("a", "a"));
        assert!(!line_matches("a", "ab"));
        assert!(line_matches(
            "time ... <frame at ...>",
            "time to die 6 <frame at x, line 3>"
        ));
        assert!(line_matches("x...", "xyz"));
        assert!(!line_matches("x...z", "xy"));
    }
}

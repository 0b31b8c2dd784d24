//! The Rust source of the builtins, embedded at build time, for `ppcode print`.
//!
//! Why find functions in the text rather than record their location in [`Builtin`]: every
//! builtin is declared as data through the `pure!`/`eval!`/`attr!` macros (or a `Builtin {
//! name, .., func: Func::Eval(f) }` literal), so the declaration names the function; reading
//! that back from the embedded file keeps the declaration the only place that says it, and
//! family files added later (`signal`, `subprocess`) are found without more work. The source
//! is rustfmt'ed, so a function ends at the first `}` back at the indentation of its `fn`.
//!
//! [`Builtin`]: crate::lang::builtins::Builtin

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_sources.rs"));
}

/// A stretch of an embedded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// `src/lang/builtins/core.rs`.
    pub path: &'static str,
    /// First and last line, 1-based, inclusive.
    pub lines: (usize, usize),
    pub text: String,
}

/// The embedded file at `path`.
pub fn file(path: &str) -> Option<&'static str> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
}

/// Lines `from..=to` (1-based) of a file.
pub fn excerpt(path: &'static str, text: &str, from: usize, to: usize) -> Excerpt {
    let body: Vec<&str> = text.lines().skip(from - 1).take(to + 1 - from).collect();
    Excerpt {
        path,
        lines: (from, to),
        text: body.join("\n"),
    }
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Byte offset just past the bracket closing the one opened at `open` (strings skipped).
fn closing(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The function implementing builtin `name`, as its declaration names it.
fn function_of(text: &str, name: &str) -> Option<String> {
    let lit = format!("\"{name}\"");
    for (at, _) in text.match_indices(&lit) {
        let before = text[..at].trim_end();
        // `eval!(\n "print", [...], "help", b_print)`
        if let Some(open) = before
            .strip_suffix('(')
            .filter(|b| b.ends_with("pure!") || b.ends_with("eval!") || b.ends_with("attr!"))
            .map(|b| b.len())
        {
            let end = closing(text, open)?;
            let args = &text[open + 1..end - 1];
            let last = args
                .trim_end()
                .trim_end_matches(',')
                .rsplit(',')
                .next()?
                .trim();
            if last.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Some(last.to_string());
            }
        }
        // `Builtin { name: "run", ..., func: Func::Eval(b_run) }`
        if before.ends_with("name:") {
            let rest = &text[at..];
            let f = rest.find("Func::")?;
            let open = f + rest[f..].find('(')?;
            let close = open + rest[open..].find(')')?;
            return Some(rest[open + 1..close].trim().to_string());
        }
    }
    None
}

/// `fn f(`, with its doc comments and attributes, through its closing brace.
pub fn function(path: &'static str, text: &str, f: &str) -> Option<Excerpt> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let t = l.trim_start();
        // `pub fn`, `pub(super) fn`, `fn`.
        let t = match t.strip_prefix("pub") {
            Some(r) if r.starts_with('(') => r.split_once(") ").map_or(r, |(_, r)| r),
            Some(r) => r.trim_start(),
            None => t,
        };
        t.strip_prefix("fn ")
            .and_then(|r| r.strip_prefix(f))
            .is_some_and(|r| r.starts_with('(') || r.starts_with('<'))
    })?;
    let indent = lines[start].len() - lines[start].trim_start().len();
    let close = format!("{}}}", " ".repeat(indent));
    let end = (start..lines.len()).find(|&i| lines[i] == close || lines[i].ends_with("{ }"))?;
    let mut first = start;
    while first > 0 {
        let t = lines[first - 1].trim_start();
        if t.starts_with("///") || t.starts_with("#[") {
            first -= 1;
        } else {
            break;
        }
    }
    Some(excerpt(path, text, first + 1, end + 1))
}

/// The Rust source of builtin `name` (its dotted name: `print`, `time.sleep`).
pub fn builtin(name: &str) -> Option<Excerpt> {
    for (path, text) in embedded::FILES {
        if let Some(f) = function_of(text, name) {
            // The function may live in another family file (shared helpers).
            if let Some(e) = function(path, text, &f) {
                return Some(e);
            }
            for (p2, t2) in embedded::FILES {
                if let Some(e) = function(p2, t2, &f) {
                    return Some(e);
                }
            }
        }
    }
    None
}

/// Where `needle` first occurs in the embedded file `path`: its line (1-based).
pub fn line_in(path: &str, needle: &str) -> Option<usize> {
    let text = file(path)?;
    text.find(needle).map(|at| line_of(text, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_shows_its_rust_function() {
        for b in crate::lang::builtins::all() {
            if crate::lang::builtins::menu_demo(b.name).is_some() {
                continue; // shown as the call they run
            }
            let e = builtin(b.name).unwrap_or_else(|| panic!("no source for {}", b.name));
            assert!(e.text.contains("fn "), "{}: {}", b.name, e.text);
            assert!(e.lines.0 <= e.lines.1, "{}", b.name);
        }
        let p = builtin("print").unwrap();
        assert_eq!(p.path, "src/lang/builtins/core.rs");
        assert!(p.text.contains("fn b_print("), "{}", p.text);
        assert!(p.text.trim_end().ends_with('}'), "{}", p.text);
        let first = file(p.path).unwrap().lines().nth(p.lines.0 - 1).unwrap();
        assert!(p.text.starts_with(first));
        let run = builtin("pystemd.run").unwrap();
        assert!(run.text.contains("fn b_run("), "{}", run.text);
        assert_eq!(builtin("no_such_builtin"), None);
    }
}

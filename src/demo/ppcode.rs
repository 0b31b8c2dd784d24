//! `ppcode NAME`: the source of a function, a builtin or a demo, highlighted, with its file
//! and line range (as pystemd-shell's `ppcode` prints it: `>>> # FILE[FIRST:LAST]`).
//!
//! NAME is looked up as the interpreter evaluates a dotted name (`cpu_waste`,
//! `future_cpucap_pool.main`, `pystemd.run`), so any value that knows its source shows it: a
//! function made by `def` or `lambda` (in this session, a script, a demo or a prelude) shows
//! the lines it was defined on; a builtin written in Rust shows its Rust function (embedded
//! at build time); a sandboxing menu demo shows the `run(...)` call it makes. A name that is
//! no value but a demo shows the demo's script.

use std::io::Write;

use crate::lang::builtins;
use crate::lang::demos;
use crate::lang::error::{Error, PyExc};
use crate::lang::highlight;
use crate::lang::interp::Interp;
use crate::lang::parser::indent_width;
use crate::lang::sources;
use crate::lang::value::{Function, Value};

type R<T> = Result<T, Error>;

/// What ppcode shows: a header, then source in one language.
struct Shown {
    file: String,
    lines: (usize, usize),
    /// Lines shown before the source (what a menu demo does), as comments.
    about: Option<String>,
    text: String,
    rust: bool,
}

/// Is `name` a dotted name (`a`, `a.b.c`)?
fn dotted(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|p| {
            let mut c = p.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        })
}

/// The value `name` names in this session, if any.
fn value_of(it: &mut Interp, name: &str) -> R<Option<Value>> {
    let mut parts = name.split('.');
    let root = parts.next().unwrap_or("");
    let mut v = match it.lookup(root) {
        Ok(v) => v,
        Err(_) => match builtins::resolve_dotted(name) {
            // `pystemd.run`: a builtin's dotted name, whole.
            Some(v) => return Ok(Some(v)),
            None => return Ok(None),
        },
    };
    for p in parts {
        v = it.get_attr(&v, p)?;
    }
    Ok(Some(v))
}

fn function(f: &Function) -> Shown {
    let text = &f.source.text;
    let (s, e) = (
        f.def.span.start.min(text.len()),
        f.def.span.end.min(text.len()),
    );
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    let first = crate::lang::span::line_col(text, s).0 + f.source.first_line - 1;
    // The `def` line, then the lines of its block (indented deeper, or blank), within the
    // definition's span.
    let mut lines = text[line_start..].split('\n');
    let head = lines.next().unwrap_or("");
    let indent = indent_width(head);
    let mut body = vec![head];
    let mut at = line_start + head.len() + 1;
    for l in lines {
        if at >= e || (!l.trim().is_empty() && indent_width(l) <= indent) {
            break;
        }
        body.push(l);
        at += l.len() + 1;
    }
    while body.len() > 1 && body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    Shown {
        file: f.source.name.clone(),
        lines: (first, first + body.len() - 1),
        about: None,
        text: body.join("\n").trim_end().to_string(),
        rust: false,
    }
}

fn builtin(b: &builtins::Builtin) -> R<Shown> {
    if let Some(m) = builtins::menu_demo(b.name) {
        return Ok(Shown {
            file: m.declared.path.to_string(),
            lines: m.declared.lines,
            about: Some(format!("{}: {}", b.name, m.about)),
            text: m.call.to_string(),
            rust: false,
        });
    }
    let e = sources::builtin(b.name).ok_or_else(|| {
        Error::new(format!(
            "the source of builtin {} is not in this binary",
            b.name
        ))
    })?;
    Ok(Shown {
        file: e.path.to_string(),
        lines: e.lines,
        about: None,
        text: e.text,
        rust: true,
    })
}

fn demo(d: demos::Builtin) -> Shown {
    Shown {
        file: d.path.to_string(),
        lines: (1, d.text.lines().count()),
        about: None,
        text: d.text.trim_end().to_string(),
        rust: false,
    }
}

/// Find what `name` names.
fn find(it: &mut Interp, name: &str) -> R<Shown> {
    let not_found = || {
        Error::py(
            PyExc::NameError,
            format!("ppcode: '{name}' is no function, builtin or demo (demos lists the demos)"),
        )
    };
    let value = if dotted(name) {
        value_of(it, name)?
    } else {
        None
    };
    match value {
        Some(Value::Function(f)) => Ok(function(&f)),
        Some(Value::Builtin(b)) => builtin(b),
        Some(Value::Bound(_, m)) => Err(Error::type_error(format!(
            "ppcode: {name} is the method {m} of a value, built into the shell: try help {m}"
        ))),
        Some(Value::Method(m)) => Err(Error::type_error(format!(
            "ppcode: {name} is the D-Bus method {}.{}, whose code runs in its service \
             (introspect shows its signature)",
            m.interface.name, m.name
        ))),
        Some(other) => match demos::find(name) {
            Some(d) => Ok(demo(d)),
            None => Err(Error::type_error(format!(
                "ppcode: {name} is not a function, builtin or demo (its type is {})",
                other.type_name()
            ))),
        },
        None => demos::find(name).map(demo).ok_or_else(not_found),
    }
}

/// Print the source `name` names.
pub fn run(it: &mut Interp, name: &str) -> R<Value> {
    let shown = find(it, name)?;
    let color = it.term.color;
    let header = format!(">>> # {}[{}:{}]", shown.file, shown.lines.0, shown.lines.1);
    let mut out = String::new();
    out.push_str(&if color {
        highlight::line(&header, &|_| false)
    } else {
        header
    });
    out.push_str("\n\n");
    if let Some(about) = &shown.about {
        let c = format!("# {about}");
        out.push_str(&if color {
            highlight::line(&c, &|_| false)
        } else {
            c
        });
        out.push('\n');
    }
    let body = if !color {
        shown.text.clone()
    } else if shown.rust {
        highlight::rust(&shown.text)
    } else {
        highlight::source(&shown.text, &it.command_names())
    };
    out.push_str(&body);
    out.push('\n');
    it.out.write_all(out.as_bytes())?;
    Ok(Value::None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_names() {
        for (n, ok) in [
            ("a", true),
            ("a.b_c.d1", true),
            ("_x", true),
            ("", false),
            ("a.", false),
            ("1a", false),
            ("a b", false),
            ("a(1)", false),
        ] {
            assert_eq!(super::dotted(n), ok, "{n}");
        }
    }
}

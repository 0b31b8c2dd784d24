//! The prelude: functions that ship with the shell, written in its own language and embedded
//! in the binary (`cpu_waste`, and the workshop's examples `future_cpucap_pool` and
//! `future_cpucap_process` as modules).
//!
//! Why in our language rather than Rust: they are what the workshop shows (`ppcode cpu_waste`
//! prints their source, with file and lines), and what `pystemd.futures` runs in a worker, so
//! they are ordinary function values, made by `def` from the text below. Each file runs once,
//! on first use of one of its names, in a scope of its own (a module): its functions see that
//! scope first (so `future_cpucap_pool.main` calls its own `run`, not the builtin `run()`),
//! then the shell's globals and builtins.

use std::rc::Rc;

use crate::lang::value::{Function, Scope, Value};

/// One file of the prelude.
pub struct File {
    /// The module its functions make (`""`: names at the top level).
    pub module: &'static str,
    /// Where it is in the repository (what `ppcode` shows as the file).
    pub path: &'static str,
    pub text: &'static str,
}

pub const FILES: &[File] = &[
    File {
        module: "",
        path: "src/lang/prelude/futures.rsh",
        text: include_str!("futures.rsh"),
    },
    File {
        module: "future_cpucap_pool",
        path: "src/lang/prelude/future_cpucap_pool.rsh",
        text: include_str!("future_cpucap_pool.rsh"),
    },
    File {
        module: "future_cpucap_process",
        path: "src/lang/prelude/future_cpucap_process.rsh",
        text: include_str!("future_cpucap_process.rsh"),
    },
];

/// Names the prelude defines at the top level (known without loading it).
pub const ROOT_NAMES: &[&str] = &["cpu_waste", "future_cpucap_pool", "future_cpucap_process"];

/// The usage line and help of prelude function `name` (`cpu_waste`,
/// `future_cpucap_pool.main`), read from its source: its parameters, its docstring and where
/// it is written.
pub fn describe(name: &str) -> Option<(String, String)> {
    use crate::lang::ast::{ExprKind, StmtKind};
    let (module, short) = name.rsplit_once('.').unwrap_or(("", name));
    let file = FILES.iter().find(|f| f.module == module)?;
    let stmts = crate::lang::parser::parse(file.text, &|_| false).ok()?;
    let def = stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Def(d) if d.name == short => Some(d.clone()),
        _ => None,
    })?;
    let text = |e: &crate::lang::ast::Expr| file.text.get(e.span.start..e.span.end).unwrap_or("?");
    let p = &def.params;
    let mut params: Vec<String> = p
        .positional
        .iter()
        .map(|(n, d)| match d {
            Some(d) => format!("{n}={}", text(d)),
            None => n.clone(),
        })
        .collect();
    if let Some(s) = &p.star {
        params.push(format!("*{s}"));
    }
    params.extend(p.kwonly.iter().map(|(n, d)| match d {
        Some(d) => format!("{n}={}", text(d)),
        None => n.clone(),
    }));
    if let Some(s) = &p.starstar {
        params.push(format!("**{s}"));
    }
    let doc = match &def.body {
        crate::lang::ast::FuncBody::Block(b) => b.first().and_then(|s| match &s.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Str(t) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        }),
        crate::lang::ast::FuncBody::Expr(_) => None,
    };
    let line = crate::lang::span::line_col(file.text, def.span.start).0;
    Some((
        format!("{name}({})", params.join(", ")),
        format!(
            "{}Written in rustemd-shell's language: {}, line {line}.",
            doc.map(|d| format!("{d}\n")).unwrap_or_default(),
            file.path
        ),
    ))
}

/// The loaded prelude: one scope per file.
#[derive(Debug)]
pub struct Prelude {
    pub scopes: Vec<(&'static str, Rc<Scope>)>,
}

impl Prelude {
    /// `name` in module `module` (`""`: the top level, where modules are names too).
    pub fn get(&self, module: &str, name: &str) -> Option<Value> {
        if module.is_empty()
            && let Some(f) = FILES.iter().find(|f| f.module == name)
        {
            return Some(Value::Module(f.module));
        }
        self.scopes
            .iter()
            .find(|(m, _)| *m == module)
            .and_then(|(_, s)| s.vars.borrow().get(name).cloned())
    }

    /// If `f` is one of the prelude's functions: its module and name (workers find it by
    /// those).
    pub fn name_of(&self, f: &Rc<Function>) -> Option<(String, String)> {
        for (m, scope) in &self.scopes {
            for (name, v) in scope.vars.borrow().iter() {
                if let Value::Function(g) = v
                    && Rc::ptr_eq(f, g)
                {
                    return Some((m.to_string(), name.clone()));
                }
            }
        }
        None
    }
}

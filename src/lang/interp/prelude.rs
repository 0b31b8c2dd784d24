//! Loading the prelude (`crate::lang::prelude`): each file runs in a scope of its own, as the
//! body of a module, so its `def`s bind there and close over it.

use std::rc::Rc;

use super::{Interp, R};
use crate::lang::error::{Error, PyExc};
use crate::lang::prelude::{FILES, Prelude, ROOT_NAMES};
use crate::lang::value::{Scope, Source, Value};

impl Interp {
    /// The prelude, loaded on first use (by a fresh evaluator of this session, so a name
    /// lookup, which only reads, can trigger it).
    pub fn prelude(&self) -> R<Rc<Prelude>> {
        if let Some(p) = self.prelude.get() {
            return Ok(p.clone());
        }
        let mut fresh = Interp::new(self.session.clone(), self.commands.clone(), self.term);
        let mut scopes = Vec::new();
        for f in FILES {
            let scope = Rc::new(Scope::default());
            let stmts = crate::lang::parser::parse(f.text, &|_| false).map_err(|e| {
                Error::py(
                    PyExc::SyntaxError,
                    format!("the prelude's {} does not parse: {}", f.path, e.message),
                )
            })?;
            fresh.locals = Some(scope.clone());
            fresh.source = Rc::new(Source {
                name: f.path.to_string(),
                text: Rc::from(f.text),
                first_line: 1,
            });
            fresh.exec_block(&stmts)?;
            fresh.locals = None;
            scopes.push((f.module, scope));
        }
        let p = Rc::new(Prelude { scopes });
        let _ = self.prelude.set(p.clone());
        Ok(p)
    }

    /// A top-level name of the prelude (`cpu_waste`, `future_cpucap_pool`), if `name` is one.
    pub(super) fn prelude_root(&self, name: &str) -> Option<Value> {
        if !ROOT_NAMES.contains(&name) {
            return None;
        }
        self.prelude().ok()?.get("", name)
    }

    /// `module.name` of the prelude (`future_cpucap_pool.main`).
    pub fn prelude_value(&self, module: &str, name: &str) -> R<Value> {
        self.prelude()?.get(module, name).ok_or_else(|| {
            Error::py(
                PyExc::AttributeError,
                format!("module '{module}' has no attribute '{name}'"),
            )
        })
    }
}

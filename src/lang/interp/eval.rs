//! Expressions, names and assignment targets.

use std::rc::Rc;

use super::ops::{self, Iter};
use super::{Interp, R, did_you_mean};
use crate::lang::ast::{Arg, BinOp, CompFor, CompKind, Expr, ExprKind, FPart};
use crate::lang::builtins::{self, Args};
use crate::lang::error::{Error, PyExc};
use crate::lang::value::{Scope, Value, check_items};

impl Interp {
    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        let v = match &e.kind {
            ExprKind::None => Value::None,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::FStr(parts) => Value::Str(self.fstring(parts)?),
            ExprKind::Name(n) => self.lookup(n).map_err(|err| err.or_at(e.span))?,
            ExprKind::List(items) => Value::list(self.eval_items(items)?),
            ExprKind::Tuple(items) => Value::tuple(self.eval_items(items)?),
            ExprKind::Set(items) => {
                let items = self.eval_items(items)?;
                Value::set(items).map_err(|err| err.or_at(e.span))?
            }
            ExprKind::Dict(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.eval(k)?;
                    let v = self.eval(v)?;
                    out.push((k, v));
                }
                Value::dict(out).map_err(|err| err.or_at(e.span))?
            }
            ExprKind::Starred(_) => {
                return Err(Error::py(
                    PyExc::SyntaxError,
                    "a starred expression (*x) is only allowed in a call, a list or a tuple",
                )
                .or_at(e.span));
            }
            ExprKind::Attr {
                obj,
                name,
                name_span,
            } => {
                let recv = self.eval(obj)?;
                self.get_attr(&recv, name)
                    .map_err(|err| err.or_at(*name_span))?
            }
            ExprKind::Index { obj, index } => {
                let recv = self.eval(obj)?;
                if let ExprKind::Slice { lower, upper, step } = &index.kind {
                    let (a, b, c) = self.slice_parts(lower, upper, step)?;
                    ops::slice(&recv, a, b, c).map_err(|err| err.or_at(index.span))?
                } else {
                    let key = self.eval(index)?;
                    ops::index(&recv, &key).map_err(|err| err.or_at(index.span))?
                }
            }
            ExprKind::Slice { .. } => {
                return Err(
                    Error::py(PyExc::SyntaxError, "a slice is only allowed in [...]").or_at(e.span),
                );
            }
            ExprKind::Call { func, args } => {
                let f = self.eval(func)?;
                let a = self.eval_args(args)?;
                self.call(&f, a).map_err(|err| err.or_at(e.span))?
            }
            ExprKind::Unary { op, expr } => {
                let v = self.eval(expr)?;
                ops::unary(*op, &v).map_err(|err| err.or_at(e.span))?
            }
            ExprKind::Binary { op, left, right } => match op {
                BinOp::And => {
                    let l = self.eval(left)?;
                    if !l.truthy() { l } else { self.eval(right)? }
                }
                BinOp::Or => {
                    let l = self.eval(left)?;
                    if l.truthy() { l } else { self.eval(right)? }
                }
                _ => {
                    let l = self.eval(left)?;
                    let r = self.eval(right)?;
                    ops::binary(*op, &l, &r).map_err(|err| err.or_at(e.span))?
                }
            },
            ExprKind::Compare { first, rest } => {
                // Each operand is evaluated once (a < f() < c calls f once), left to right,
                // stopping at the first false comparison.
                let mut left = self.eval(first)?;
                for (op, right) in rest {
                    let r = self.eval(right)?;
                    let ok = ops::binary(*op, &left, &r).map_err(|err| err.or_at(e.span))?;
                    if !ok.truthy() {
                        return Ok(ok);
                    }
                    left = r;
                }
                Value::Bool(true)
            }
            ExprKind::IfExp { cond, then, orelse } => {
                if self.eval(cond)?.truthy() {
                    self.eval(then)?
                } else {
                    self.eval(orelse)?
                }
            }
            ExprKind::Lambda(def) => self.make_function(def)?,
            ExprKind::Comp { kind, fors } => self.comprehension(kind, fors)?,
        };
        Ok(v)
    }

    /// Items of a list/tuple/set display, `*x` expanded.
    fn eval_items(&mut self, items: &[Expr]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for x in items {
            match &x.kind {
                ExprKind::Starred(inner) => {
                    let v = self.eval(inner)?;
                    out.extend(self.collect(&v).map_err(|e| e.or_at(inner.span))?);
                    check_items(out.len())?;
                }
                _ => out.push(self.eval(x)?),
            }
        }
        Ok(out)
    }

    pub(super) fn eval_args(&mut self, args: &[Arg]) -> R<Args> {
        let mut a = Args::default();
        for x in args {
            match x {
                Arg::Pos(e) => a.pos.push(self.eval(e)?),
                Arg::Star(e) => {
                    let v = self.eval(e)?;
                    a.pos
                        .extend(self.collect(&v).map_err(|err| err.or_at(e.span))?);
                }
                Arg::Kw(k, _, e) => {
                    let v = self.eval(e)?;
                    a.kw.push((k.clone(), v));
                }
                Arg::StarStar(e) => {
                    let v = self.eval(e)?;
                    let Value::Dict(d) = &v else {
                        return Err(Error::type_error(format!(
                            "argument after ** must be a dict, not {}",
                            v.type_name()
                        ))
                        .or_at(e.span));
                    };
                    for (k, v) in d.borrow().entries() {
                        let Some(k) = k.as_text() else {
                            return Err(Error::type_error("keywords must be strings").or_at(e.span));
                        };
                        if a.kw.iter().any(|(n, _)| *n == k) {
                            return Err(Error::type_error(format!(
                                "got multiple values for keyword argument '{k}'"
                            ))
                            .or_at(e.span));
                        }
                        a.kw.push((k, v.clone()));
                    }
                }
            }
        }
        Ok(a)
    }

    fn slice_parts(
        &mut self,
        lower: &Option<Box<Expr>>,
        upper: &Option<Box<Expr>>,
        step: &Option<Box<Expr>>,
    ) -> R<(Option<i128>, Option<i128>, Option<i128>)> {
        let mut one = |e: &Option<Box<Expr>>| -> R<Option<i128>> {
            match e {
                None => Ok(None),
                Some(e) => match self.eval(e)? {
                    Value::None => Ok(None),
                    Value::Int(i, _) => Ok(Some(i)),
                    Value::Bool(b) => Ok(Some(b as i128)),
                    other => Err(Error::type_error(format!(
                        "slice indices must be integers or None, not {}",
                        other.type_name()
                    ))
                    .or_at(e.span)),
                },
            }
        };
        Ok((one(lower)?, one(upper)?, one(step)?))
    }

    /// An iterator over `v` (lists are read live, as Python does).
    pub fn iter(&self, v: &Value) -> R<Iter> {
        ops::iter(v)
    }

    /// All the items of an iterable, interruptible and bounded.
    pub fn collect(&self, v: &Value) -> R<Vec<Value>> {
        if let Value::List(l) | Value::Tuple(l) = v {
            return Ok(l.borrow().clone());
        }
        let it = ops::iter(v)?;
        let mut out = Vec::new();
        for x in it {
            if out.len() % 4096 == 0 {
                self.check_interrupt()?;
                check_items(out.len() + 1)?;
            }
            out.push(x);
        }
        Ok(out)
    }

    fn comprehension(&mut self, kind: &CompKind, fors: &[CompFor]) -> R<Value> {
        // A comprehension has its own scope: its loop variables do not leak.
        let scope = Rc::new(Scope {
            parent: self.locals.clone(),
            ..Scope::default()
        });
        let saved = self.locals.replace(scope);
        let mut out = Vec::new();
        let r = self.comp_loop(kind, fors, &mut out);
        self.locals = saved;
        r?;
        match kind {
            CompKind::List(_) | CompKind::Gen(_) => Ok(Value::list(out)),
            CompKind::Set(_) => Value::set(out),
            CompKind::Dict(..) => {
                let mut pairs = Vec::with_capacity(out.len());
                for p in out {
                    let mut kv = p.items().unwrap_or_default().into_iter();
                    pairs.push((
                        kv.next().unwrap_or(Value::None),
                        kv.next().unwrap_or(Value::None),
                    ));
                }
                Value::dict(pairs)
            }
        }
    }

    fn comp_loop(&mut self, kind: &CompKind, fors: &[CompFor], out: &mut Vec<Value>) -> R<()> {
        let Some((first, rest)) = fors.split_first() else {
            let v = match kind {
                CompKind::List(e) | CompKind::Set(e) | CompKind::Gen(e) => self.eval(e)?,
                CompKind::Dict(k, v) => {
                    let k = self.eval(k)?;
                    let v = self.eval(v)?;
                    Value::tuple(vec![k, v])
                }
            };
            check_items(out.len() + 1)?;
            out.push(v);
            return Ok(());
        };
        let seq = self.eval(&first.iter)?;
        let it = self.iter(&seq).map_err(|e| e.or_at(first.iter.span))?;
        'items: for item in it {
            self.check_interrupt()?;
            self.assign(&first.target, item)?;
            for c in &first.conds {
                if !self.eval(c)?.truthy() {
                    continue 'items;
                }
            }
            self.comp_loop(kind, rest, out)?;
        }
        Ok(())
    }

    fn fstring(&mut self, parts: &[FPart]) -> R<String> {
        let mut out = String::new();
        for p in parts {
            match p {
                FPart::Lit(s) => out.push_str(s),
                FPart::Field {
                    expr,
                    debug,
                    conversion,
                    spec,
                } => {
                    let v = self.eval(expr)?;
                    if let Some(d) = debug {
                        out.push_str(d);
                    }
                    let spec = self.fstring(spec)?;
                    let v = match conversion {
                        Some('r') | Some('a') => Value::Str(v.repr()),
                        Some(_) => Value::Str(v.to_display()),
                        None if debug.is_some() && spec.is_empty() => Value::Str(v.repr()),
                        None => v,
                    };
                    let text = ops::format_spec(&v, &spec).map_err(|e| e.or_at(expr.span))?;
                    crate::lang::value::check_text(out.len() + text.len())?;
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }

    // ----- names -----

    /// A name's value: the running function's scopes, then the globals, then the builtins.
    pub fn lookup(&self, name: &str) -> R<Value> {
        let mut scope = self.locals.clone();
        if let Some(s) = &scope
            && s.globals.borrow().iter().any(|g| g == name)
        {
            scope = None;
        }
        while let Some(s) = scope {
            if let Some(v) = s.vars.borrow().get(name) {
                return Ok(v.clone());
            }
            scope = s.parent.clone();
        }
        if let Some(v) = self.vars.borrow().get(name) {
            return Ok(v.clone());
        }
        if let Some(v) = self.prelude_root(name) {
            return Ok(v);
        }
        if let Some(v) = builtins::root(name) {
            return Ok(v);
        }
        let mut known: Vec<String> = self.vars.borrow().keys().cloned().collect();
        known.extend(builtins::root_names().map(str::to_string));
        let mut s = self.locals.clone();
        while let Some(sc) = s {
            known.extend(sc.vars.borrow().keys().cloned());
            s = sc.parent.clone();
        }
        Err(Error::py(
            PyExc::NameError,
            format!(
                "name '{name}' is not defined{}",
                did_you_mean(name, known.iter().map(String::as_str))
            ),
        ))
    }

    /// Bind a name where Python would: the function's scope (or the globals at the top
    /// level, or where `global`/`nonlocal` say).
    pub fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        if let Some(s) = &self.locals {
            if s.globals.borrow().iter().any(|g| g == name) {
                self.vars.borrow_mut().insert(name.to_string(), v);
                return Ok(());
            }
            if s.nonlocals.borrow().iter().any(|g| g == name) {
                let mut up = s.parent.clone();
                while let Some(p) = up {
                    if p.vars.borrow().contains_key(name) {
                        p.vars.borrow_mut().insert(name.to_string(), v);
                        return Ok(());
                    }
                    up = p.parent.clone();
                }
                return Err(Error::py(
                    PyExc::NameError,
                    format!("no binding for nonlocal '{name}' found"),
                ));
            }
            s.vars.borrow_mut().insert(name.to_string(), v);
            return Ok(());
        }
        self.vars.borrow_mut().insert(name.to_string(), v);
        Ok(())
    }

    pub(super) fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => self.set_var(n, v),
            ExprKind::Attr {
                obj,
                name,
                name_span,
            } => {
                let recv = self.eval(obj)?;
                self.set_attr(&recv, name, v)
                    .map_err(|e| e.or_at(*name_span))
            }
            ExprKind::Index { obj, index } => {
                let recv = self.eval(obj)?;
                if let ExprKind::Slice { lower, upper, step } = &index.kind {
                    let (a, b, c) = self.slice_parts(lower, upper, step)?;
                    let items = self.collect(&v)?;
                    return ops::set_slice(&recv, a, b, c, items).map_err(|e| e.or_at(index.span));
                }
                let key = self.eval(index)?;
                ops::set_item(&recv, key, v).map_err(|e| e.or_at(target.span))
            }
            ExprKind::Tuple(targets) | ExprKind::List(targets) => {
                let items = self.collect(&v).map_err(|e| e.or_at(target.span))?;
                let star = targets
                    .iter()
                    .position(|t| matches!(t.kind, ExprKind::Starred(_)));
                let n = targets.len();
                match star {
                    None if items.len() != n => Err(Error::value_error(format!(
                        "cannot unpack {} value{} into {n} name{}",
                        items.len(),
                        if items.len() == 1 { "" } else { "s" },
                        if n == 1 { "" } else { "s" },
                    ))
                    .or_at(target.span)),
                    None => {
                        for (t, x) in targets.iter().zip(items) {
                            self.assign(t, x)?;
                        }
                        Ok(())
                    }
                    Some(s) => {
                        if items.len() < n - 1 {
                            return Err(Error::value_error(format!(
                                "not enough values to unpack (expected at least {}, got {})",
                                n - 1,
                                items.len()
                            ))
                            .or_at(target.span));
                        }
                        let after = n - 1 - s;
                        let mut items = items;
                        let tail = items.split_off(items.len() - after);
                        let middle = items.split_off(s);
                        for (t, x) in targets[..s].iter().zip(items) {
                            self.assign(t, x)?;
                        }
                        if let ExprKind::Starred(inner) = &targets[s].kind {
                            self.assign(inner, Value::list(middle))?;
                        }
                        for (t, x) in targets[s + 1..].iter().zip(tail) {
                            self.assign(t, x)?;
                        }
                        Ok(())
                    }
                }
            }
            _ => Err(
                Error::py(PyExc::SyntaxError, "cannot assign to this expression")
                    .or_at(target.span),
            ),
        }
    }

    /// `t op= v`: lists, dicts and sets are updated in place; the target is evaluated once.
    pub(super) fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                let cur = self.lookup(n).map_err(|e| e.or_at(target.span))?;
                let r = self.eval(value)?;
                let new = ops::inplace(op, &cur, &r).map_err(|e| e.or_at(target.span))?;
                self.set_var(n, new)
            }
            ExprKind::Attr {
                obj,
                name,
                name_span,
            } => {
                let recv = self.eval(obj)?;
                let cur = self
                    .get_attr(&recv, name)
                    .map_err(|e| e.or_at(*name_span))?;
                let r = self.eval(value)?;
                let new = ops::inplace(op, &cur, &r).map_err(|e| e.or_at(target.span))?;
                self.set_attr(&recv, name, new)
                    .map_err(|e| e.or_at(*name_span))
            }
            ExprKind::Index { obj, index } => {
                let recv = self.eval(obj)?;
                let key = self.eval(index)?;
                let cur = ops::index(&recv, &key).map_err(|e| e.or_at(index.span))?;
                let r = self.eval(value)?;
                let new = ops::inplace(op, &cur, &r).map_err(|e| e.or_at(target.span))?;
                ops::set_item(&recv, key, new).map_err(|e| e.or_at(target.span))
            }
            _ => Err(
                Error::py(PyExc::SyntaxError, "cannot update this expression").or_at(target.span),
            ),
        }
    }

    pub(super) fn delete(&mut self, target: &Expr) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                let removed = match &self.locals {
                    Some(s) if !s.globals.borrow().iter().any(|g| g == n) => {
                        s.vars.borrow_mut().remove(n)
                    }
                    _ => self.vars.borrow_mut().remove(n),
                };
                match removed {
                    Some(_) => Ok(()),
                    None => Err(
                        Error::py(PyExc::NameError, format!("name '{n}' is not defined"))
                            .or_at(target.span),
                    ),
                }
            }
            ExprKind::Index { obj, index } => {
                let recv = self.eval(obj)?;
                if let ExprKind::Slice { lower, upper, step } = &index.kind {
                    let (a, b, c) = self.slice_parts(lower, upper, step)?;
                    return ops::del_slice(&recv, a, b, c).map_err(|e| e.or_at(index.span));
                }
                let key = self.eval(index)?;
                ops::del_item(&recv, &key).map_err(|e| e.or_at(index.span))
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for t in items {
                    self.delete(t)?;
                }
                Ok(())
            }
            _ => Err(
                Error::py(PyExc::SyntaxError, "cannot delete this expression").or_at(target.span),
            ),
        }
    }
}

//! Statements: assignment, blocks, loops, functions, exceptions, imports, command lines.

use std::io::Write;
use std::rc::Rc;

use super::{Flow, Interp, R};
use crate::lang::ast::{Expr, ExprKind, Handler, Redirect, Stmt, StmtKind};
use crate::lang::builtins::{self, Args};
use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::value::{Function, Value};

impl Interp {
    pub fn exec_block(&mut self, stmts: &[Stmt]) -> R<Flow> {
        self.blocks += 1;
        let r = self.exec_stmts(stmts);
        self.blocks -= 1;
        r
    }

    fn exec_stmts(&mut self, stmts: &[Stmt]) -> R<Flow> {
        for s in stmts {
            match self.exec(s)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    pub fn exec(&mut self, stmt: &Stmt) -> R<Flow> {
        self.at = stmt.span.start;
        let compound = matches!(
            stmt.kind,
            StmtKind::If { .. }
                | StmtKind::While { .. }
                | StmtKind::For { .. }
                | StmtKind::Try { .. }
                | StmtKind::With { .. }
                | StmtKind::Def(_)
        );
        let r = self.exec_inner(stmt);
        if compound {
            r
        } else {
            r.map_err(|e| e.or_at(stmt.span))
        }
    }

    fn exec_inner(&mut self, stmt: &Stmt) -> R<Flow> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let mut v = self.eval(e)?;
                // IPython's autocall, for the menu demos: `n` or `bash_socal` alone runs it.
                if matches!(e.kind, ExprKind::Name(_))
                    && let Value::Builtin(b) = &v
                    && builtins::autocall(b)
                {
                    v = self.call(&v.clone(), Args::default())?;
                }
                // As IPython shows them: the value of an expression statement typed at the top
                // level (in batch mode too), not of one inside a block, so `while True: f()`
                // does not print f's value at every turn.
                if self.locals.is_none() && self.blocks == 0 && !matches!(v, Value::None) {
                    writeln!(self.out, "{}", v.pretty(100))?;
                    self.vars.borrow_mut().insert("_".into(), v);
                }
            }
            StmtKind::Assign { targets, value } => {
                let v = self.eval(value)?;
                for t in targets {
                    self.assign(t, v.clone())?;
                }
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value)?,
            StmtKind::Command {
                name,
                name_span,
                args,
                redirect,
            } => {
                let words: Vec<String> = args.iter().map(|(w, _)| w.clone()).collect();
                self.run_redirected(name, &words, redirect.as_ref())
                    .map_err(|e| e.or_at(*name_span))?;
            }
            StmtKind::Shell(cmd) => self.shell(cmd)?,
            StmtKind::Import { from, modules } => self.import(from.as_deref(), modules)?,
            StmtKind::Pass => {}
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::With { expr, target, body } => {
                let v = self.eval(expr)?;
                if let Value::Object(o) = &v {
                    self.introspect(o).map_err(|e| e.or_at(expr.span))?;
                }
                if let Some(t) = target {
                    self.assign(t, v.clone())?;
                }
                let r = self.exec_block(body);
                // A provided object's exit (a pool waits for its jobs and stops its unit).
                if let Value::Native(n) = &v {
                    let exited = n.exit(self, r.as_ref().err());
                    return r.and_then(|flow| exited.map(|()| flow));
                }
                return r;
            }
            StmtKind::If { branches, orelse } => {
                for (cond, body) in branches {
                    if self.eval(cond)?.truthy() {
                        return self.exec_block(body);
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::While { cond, body, orelse } => {
                loop {
                    self.checkpoint().map_err(|e| e.or_at(cond.span))?;
                    if !self.eval(cond)?.truthy() {
                        break;
                    }
                    match self.exec_block(body)? {
                        Flow::Break => return Ok(Flow::Next),
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Next | Flow::Continue => {}
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => {
                let seq = self.eval(iter)?;
                let it = self.iter(&seq).map_err(|e| e.or_at(iter.span))?;
                for item in it {
                    self.checkpoint().map_err(|e| e.or_at(iter.span))?;
                    self.assign(target, item)?;
                    match self.exec_block(body)? {
                        Flow::Break => return Ok(Flow::Next),
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Next | Flow::Continue => {}
                    }
                }
                return self.exec_block(orelse);
            }
            StmtKind::Def(def) => {
                let f = self.make_function(def)?;
                self.set_var(&def.name, f)?;
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => return self.exec_try(body, handlers, orelse, finally),
            StmtKind::Raise(e) => return Err(self.raise(e.as_ref())?),
            StmtKind::Global(names) => {
                if let Some(scope) = &self.locals {
                    scope.globals.borrow_mut().extend(names.iter().cloned());
                }
            }
            StmtKind::Nonlocal(names) => {
                if let Some(scope) = &self.locals {
                    scope.nonlocals.borrow_mut().extend(names.iter().cloned());
                }
            }
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete(t)?;
                }
            }
            StmtKind::Assert { test, msg } => {
                if !self.eval(test)?.truthy() {
                    let mut e = Error::py(PyExc::AssertionError, "");
                    if let Some(m) = msg {
                        let v = self.eval(m)?;
                        e.message = v.to_display();
                        e.args = vec![v];
                    }
                    return Err(e.or_at(test.span));
                }
            }
        }
        Ok(Flow::Next)
    }

    /// The function a `def` or `lambda` makes: defaults are evaluated now.
    pub(super) fn make_function(&mut self, def: &Rc<crate::lang::ast::FuncDef>) -> R<Value> {
        let mut defaults = Vec::new();
        for (_, d) in &def.params.positional {
            defaults.push(match d {
                Some(e) => Some(self.eval(e)?),
                None => None,
            });
        }
        let mut kw_defaults = Vec::new();
        for (_, d) in &def.params.kwonly {
            kw_defaults.push(match d {
                Some(e) => Some(self.eval(e)?),
                None => None,
            });
        }
        Ok(Value::Function(Rc::new(Function {
            def: def.clone(),
            defaults,
            kw_defaults,
            closure: self.locals.clone(),
            source: self.source.clone(),
        })))
    }

    fn exec_try(
        &mut self,
        body: &[Stmt],
        handlers: &[Handler],
        orelse: &[Stmt],
        finally: &[Stmt],
    ) -> R<Flow> {
        let r = match self.exec_block(body) {
            Ok(Flow::Next) => self.exec_block(orelse),
            Ok(flow) => Ok(flow),
            Err(e) => {
                let mut handled = None;
                for h in handlers {
                    match self.handler_matches(h, &e) {
                        Ok(true) => {
                            handled = Some(self.run_handler(h, e.clone()));
                            break;
                        }
                        Ok(false) => {}
                        Err(m) => {
                            handled = Some(Err(m));
                            break;
                        }
                    }
                }
                handled.unwrap_or(Err(e))
            }
        };
        if finally.is_empty() {
            return r;
        }
        match self.exec_block(finally)? {
            Flow::Next => r,
            // `return`/`break` in `finally` wins over the exception, as in Python.
            other => Ok(other),
        }
    }

    fn run_handler(&mut self, h: &Handler, e: Error) -> R<Flow> {
        let e = Rc::new(e);
        if let Some(n) = &h.name {
            self.set_var(n, Value::Exception(e.clone()))?;
        }
        self.handling.push(e);
        let r = self.exec_block(&h.body);
        self.handling.pop();
        r
    }

    fn handler_matches(&mut self, h: &Handler, e: &Error) -> R<bool> {
        match &h.kind {
            None => Ok(true),
            Some(x) => self.exc_matches(x, e),
        }
    }

    /// Does `except X` catch `e`? X is a class, a tuple of them, or the last part of a D-Bus
    /// error name (`NoSuchUnit`, not defined as a variable).
    fn exc_matches(&mut self, x: &Expr, e: &Error) -> R<bool> {
        match &x.kind {
            ExprKind::Tuple(items) => {
                for i in items {
                    if self.exc_matches(i, e)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            ExprKind::Name(n) if self.lookup(n).is_err() => {
                if n.chars().next().is_some_and(char::is_uppercase) {
                    Ok(e.is_dbus(n))
                } else {
                    Err(Error::py(
                        PyExc::NameError,
                        format!(
                            "name '{n}' is not defined (except takes an exception class, or the \
                             last part of a D-Bus error name such as NoSuchUnit)"
                        ),
                    )
                    .or_at(x.span))
                }
            }
            _ => {
                let v = self.eval(x)?;
                value_matches(&v, e).map_err(|m| m.or_at(x.span))
            }
        }
    }

    /// The error `raise [e]` raises.
    fn raise(&mut self, e: Option<&Expr>) -> R<Error> {
        let Some(x) = e else {
            return Ok(match self.handling.last() {
                Some(e) => (**e).clone(),
                None => Error::py(PyExc::RuntimeError, "no active exception to re-raise"),
            });
        };
        let v = self.eval(x)?;
        let err = match v {
            Value::Exception(e) => (*e).clone(),
            Value::ExcClass(c) => builtins::make_exception(c, Vec::new()),
            other => {
                return Err(Error::type_error(format!(
                    "exceptions must be exception classes or instances, not {}",
                    other.type_name()
                ))
                .or_at(x.span));
            }
        };
        let span = x.span;
        Ok(Error {
            span: Some(span),
            ..err
        })
    }

    fn import(&mut self, from: Option<&str>, modules: &[(String, Option<String>)]) -> R<()> {
        let unavailable = |m: &str| {
            Error::py(
                PyExc::ModuleNotFoundError,
                format!("module {m} is not available in rustemd-shell"),
            )
        };
        if let Some(m) = from {
            if m.starts_with('.') || builtins::resolve_dotted(m).is_none() {
                return Err(unavailable(m));
            }
            for (name, alias) in modules {
                if name == "*" {
                    for n in builtins::module_names(m) {
                        if let Some(v) = builtins::resolve_dotted(&format!("{m}.{n}")) {
                            let v = self.module_value(v)?;
                            self.set_var(n, v)?;
                        }
                    }
                    continue;
                }
                let Some(v) = builtins::resolve_dotted(&format!("{m}.{name}")) else {
                    return Err(Error::py(
                        PyExc::ImportError,
                        format!(
                            "cannot import name '{name}' from {m} (rustemd-shell does not provide it)"
                        ),
                    ));
                };
                let v = self.module_value(v)?;
                self.set_var(alias.as_deref().unwrap_or(name), v)?;
            }
            return Ok(());
        }
        for (name, alias) in modules {
            if builtins::resolve_dotted(name).is_none() {
                return Err(unavailable(name));
            }
            match alias {
                // `import a.b as c` binds c to a.b.
                Some(a) => {
                    let v = builtins::resolve_dotted(name).expect("checked above");
                    let v = self.module_value(v)?;
                    self.set_var(a, v)?;
                }
                // `import a.b` binds a.
                None => {
                    let root = name.split('.').next().unwrap_or(name);
                    if let Some(v) = builtins::resolve_dotted(root) {
                        self.set_var(root, v)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A module attribute that is computed (`from os import environ`) gets its value now.
    fn module_value(&mut self, v: Value) -> R<Value> {
        match v {
            Value::Builtin(b) => match b.func {
                builtins::Func::Attr(f) => f(self),
                _ => Ok(v),
            },
            v => Ok(v),
        }
    }

    /// A command line, its output possibly going to a file or through a host pipeline.
    fn run_redirected(
        &mut self,
        name: &str,
        words: &[String],
        redirect: Option<&Redirect>,
    ) -> R<()> {
        let Some(redirect) = redirect else {
            return self.run_command(name, words);
        };
        self.out.flush()?;
        let plain = crate::term::Term {
            color: false,
            tty: false,
            ..self.term
        };
        match redirect {
            Redirect::File { path, append } => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .append(*append)
                    .truncate(!*append)
                    .open(path)
                    .map_err(|e| Error::os(&e, format!("cannot write {path}")))?;
                let saved =
                    std::mem::replace(&mut self.out, Box::new(std::io::BufWriter::new(file)));
                let term = std::mem::replace(&mut self.term, plain);
                let r = self
                    .run_command(name, words)
                    .and_then(|()| self.out.flush().map_err(|e| Error::os(&e, path)));
                self.out = saved;
                self.term = term;
                r
            }
            Redirect::Pipe(pipeline) => {
                let mut child = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(pipeline)
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| Error::os(&e, "cannot run /bin/sh"))?;
                let stdin = child.stdin.take().expect("piped stdin");
                let saved =
                    std::mem::replace(&mut self.out, Box::new(std::io::BufWriter::new(stdin)));
                let term = std::mem::replace(&mut self.term, plain);
                let r = self.run_command(name, words).and_then(|()| {
                    self.out.flush()?;
                    Ok(())
                });
                // Closing our end lets the pipeline finish.
                self.out = saved;
                self.term = term;
                let _ = child.wait();
                match r {
                    // The pipeline stopped reading (`| head -1`): not an error.
                    Err(e) if e.kind == Kind::BrokenPipe => self.check_interrupt(),
                    r => r.and_then(|()| self.check_interrupt()),
                }
            }
        }
    }

    /// `!cmd`: through `/bin/sh -c`; `!cd DIR` changes our own directory.
    fn shell(&mut self, cmd: &str) -> R<()> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if words.first() == Some(&"cd")
            && words.len() <= 2
            && !cmd.contains([';', '|', '&', '$', '`', '>', '<', '"', '\''])
        {
            let args: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
            return self.run_command("cd", &args);
        }
        self.out.flush()?;
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .spawn()
            .map_err(|e| Error::os(&e, "cannot run /bin/sh"))?;
        // Signal handlers run while it runs; Ctrl-C reaches the command through the
        // terminal, and is seen here once it has ended.
        let status = match builtins::wait_child(self, &mut child, None, false)? {
            builtins::Waited::Exited(st) => st,
            _ => child
                .wait()
                .map_err(|e| Error::os(&e, "cannot wait for /bin/sh"))?,
        };
        self.check_interrupt()?;
        if !status.success() {
            return Err(Error::new(format!("command exited with {status}")));
        }
        Ok(())
    }
}

/// Does the value of an `except` clause catch `e`?
fn value_matches(v: &Value, e: &Error) -> R<bool> {
    match v {
        Value::ExcClass(c) => Ok(e.is_a(*c)),
        Value::Tuple(items) => {
            for i in items.borrow().iter() {
                if value_matches(i, e)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Str(s) => Ok(e.is_dbus(s)),
        other => Err(Error::type_error(format!(
            "except takes exception classes (or D-Bus error names), not a {}",
            other.type_name()
        ))),
    }
}

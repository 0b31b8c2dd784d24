//! The evaluator: runs parsed statements against the live bus.
//!
//! Parse → resolve against introspection → execute. Names resolve to shell values; attribute
//! access on an object resolves an interface from the (cached) introspection, and attribute
//! access on an interface reads a property live or yields a method, whose call converts its
//! arguments by the introspected signature. Command lines go to the [`Commands`] the caller
//! handed in. Nothing here prints errors: they go back to the caller (REPL or batch runner)
//! with their kind and the span they are about.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use std::sync::Arc;

use crate::bus::connection::CallError;
use crate::bus::data::Data;
use crate::bus::introspect::{Interface, Node};
use crate::bus::session::Session;
use crate::bus::sig::Sig;
use crate::lang::ast::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnaryOp};
use crate::lang::builtins::{self, Args, Func};
use crate::lang::command::{Commands, Context};
use crate::lang::convert::{reply_value, to_data};
use crate::lang::error::Error;
use crate::lang::value::{InterfaceRef, MethodRef, ObjectRef, Value};
use crate::term::Term;

pub type Vars = Rc<RefCell<HashMap<String, Value>>>;

pub struct Interp {
    pub session: Rc<Session>,
    pub vars: Vars,
    pub out: Box<dyn Write>,
    pub term: Term,
    commands: Rc<dyn Commands>,
    /// `sys.argv`: the script (or `-c`) and its arguments.
    argv: Vec<String>,
}

type R<T> = Result<T, Error>;

impl Interp {
    pub fn new(session: Rc<Session>, commands: Rc<dyn Commands>, term: Term) -> Self {
        let vars: Vars = Rc::new(RefCell::new(HashMap::new()));
        {
            let mut v = vars.borrow_mut();
            for m in builtins::ROOT_MODULES {
                v.insert(m.to_string(), Value::Module(m));
            }
            for b in builtins::all().filter(|b| !b.name.contains('.')) {
                v.insert(b.name.to_string(), Value::Builtin(b));
            }
            v.insert("_".into(), Value::None);
        }
        Interp {
            session,
            vars,
            out: Box::new(std::io::stdout()),
            term,
            commands,
            argv: Vec::new(),
        }
    }

    pub fn set_argv(&mut self, argv: Vec<String>) {
        self.argv = argv;
    }

    /// Which words start a command line (for the lexer, the highlighter and completion).
    pub fn is_command(&self, word: &str) -> bool {
        self.commands.is_command(word)
    }

    /// Parse and run one input (a line, a pasted block or a file), stopping at the first error.
    pub fn run_source(&mut self, src: &str) -> R<()> {
        let commands = self.commands.clone();
        let stmts = crate::lang::parser::parse(src, &|w| commands.is_command(w))
            .map_err(|e| Error::at(e.message, e.span))?;
        for stmt in &stmts {
            self.exec(stmt)?;
        }
        Ok(())
    }

    /// Run one command line as if typed (the one-shot CLI uses this).
    pub fn run_command(&mut self, name: &str, words: &[String]) -> R<()> {
        let commands = self.commands.clone();
        let mut ctx = Context {
            session: &self.session,
            out: &mut *self.out,
            term: self.term,
        };
        let v = commands.run(&mut ctx, name, words)?;
        if !matches!(v, Value::None) {
            self.vars.borrow_mut().insert("_".into(), v);
        }
        Ok(())
    }

    pub fn exec(&mut self, stmt: &Stmt) -> R<()> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let v = self.eval(e)?;
                if !matches!(v, Value::None) {
                    // Like IPython, a statement's value is shown (in batch mode too).
                    writeln!(self.out, "{}", v.pretty(100))?;
                    self.vars.borrow_mut().insert("_".into(), v);
                }
                Ok(())
            }
            StmtKind::Assign { target, value } => {
                let v = self.eval(value)?;
                self.assign(target, v)
            }
            StmtKind::Command {
                name,
                name_span,
                args,
            } => {
                let words: Vec<String> = args.iter().map(|(w, _)| w.clone()).collect();
                self.run_command(name, &words)
                    .map_err(|e| e.or_at(*name_span))
            }
            StmtKind::Shell(cmd) => {
                self.out.flush()?;
                let status = std::process::Command::new("/bin/sh")
                    .arg("-c")
                    .arg(cmd)
                    .status()
                    .map_err(|e| Error::at(format!("cannot run /bin/sh: {e}"), stmt.span))?;
                if !status.success() {
                    return Err(Error::at(
                        format!("command exited with {status}"),
                        stmt.span,
                    ));
                }
                Ok(())
            }
            StmtKind::Import { from, modules } => {
                self.import(from.as_deref(), modules);
                Ok(())
            }
            StmtKind::Pass => Ok(()),
            StmtKind::With { expr, name, body } => {
                let v = self.eval(expr)?;
                if let Value::Object(o) = &v {
                    self.introspect(o).map_err(|e| e.or_at(expr.span))?;
                }
                if let Some(n) = name {
                    self.vars.borrow_mut().insert(n.clone(), v);
                }
                for s in body {
                    self.exec(s)?;
                }
                Ok(())
            }
        }
    }

    /// `import a.b [as c]` and `from a import b [as c]` bind what we know (pystemd, os, sys and
    /// their functions); anything else is accepted and ignored, so pasted code runs on.
    fn import(&mut self, from: Option<&str>, modules: &[(String, Option<String>)]) {
        for (name, alias) in modules {
            let value = match from {
                Some(m) => builtins::resolve_dotted(&format!("{m}.{name}")),
                // `import a.b` binds `a`; `import a.b as c` binds c to a.b.
                None if alias.is_some() => builtins::resolve_dotted(name),
                None => builtins::resolve_dotted(name.split('.').next().unwrap_or(name)),
            };
            let Some(value) = value else { continue };
            let bound = match (alias, from) {
                (Some(a), _) => a.clone(),
                (None, Some(_)) => name.clone(),
                (None, None) => name.split('.').next().unwrap_or(name).to_string(),
            };
            self.vars.borrow_mut().insert(bound, value);
        }
    }

    fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                self.vars.borrow_mut().insert(n.clone(), v);
                Ok(())
            }
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
                let ExprKind::Name(var) = &obj.kind else {
                    return Err(Error::at(
                        "only a variable can be assigned by index (e.g. d['k'] = 1)",
                        target.span,
                    ));
                };
                let key = self.eval(index)?;
                let mut vars = self.vars.borrow_mut();
                let Some(slot) = vars.get_mut(var) else {
                    return Err(Error::at(format!("name '{var}' is not defined"), obj.span));
                };
                match slot {
                    Value::Dict(entries) => {
                        if let Some(e) = entries.iter_mut().find(|(k, _)| *k == key) {
                            e.1 = v;
                        } else {
                            entries.push((key, v));
                        }
                        Ok(())
                    }
                    Value::List(items) => {
                        let i =
                            list_index(&key, items.len()).map_err(|m| Error::at(m, index.span))?;
                        items[i] = v;
                        Ok(())
                    }
                    other => Err(Error::at(
                        format!("a {} does not support item assignment", other.type_name()),
                        target.span,
                    )),
                }
            }
            _ => Err(Error::at("cannot assign to this expression", target.span)),
        }
    }

    pub fn eval(&mut self, e: &Expr) -> R<Value> {
        let v = match &e.kind {
            ExprKind::None => Value::None,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Int(i) => Value::int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Name(n) => self.lookup(n).map_err(|m| Error::at(m, e.span))?,
            ExprKind::List(items) => Value::List(self.eval_all(items)?),
            ExprKind::Tuple(items) => Value::Tuple(self.eval_all(items)?),
            ExprKind::Dict(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.eval(k)?;
                    let v = self.eval(v)?;
                    if let Some(slot) = out
                        .iter_mut()
                        .find(|(ek, _): &&mut (Value, Value)| *ek == k)
                    {
                        slot.1 = v;
                    } else {
                        out.push((k, v));
                    }
                }
                Value::Dict(out)
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
                let key = self.eval(index)?;
                index_value(&recv, &key).map_err(|m| Error::at(m, index.span))?
            }
            ExprKind::Call { func, args, kwargs } => {
                let f = self.eval(func)?;
                let mut a = Args::default();
                for x in args {
                    a.pos.push(self.eval(x)?);
                }
                for (k, _, x) in kwargs {
                    let v = self.eval(x)?;
                    a.kw.push((k.clone(), v));
                }
                self.call(&f, a).map_err(|err| err.or_at(e.span))?
            }
            ExprKind::Unary { op, expr } => {
                let v = self.eval(expr)?;
                unary(*op, &v).map_err(|m| Error::at(m, e.span))?
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
                    binary(*op, &l, &r).map_err(|m| Error::at(m, e.span))?
                }
            },
        };
        Ok(v)
    }

    fn eval_all(&mut self, items: &[Expr]) -> R<Vec<Value>> {
        items.iter().map(|x| self.eval(x)).collect()
    }

    fn lookup(&self, name: &str) -> Result<Value, String> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Ok(v.clone());
        }
        let known: Vec<String> = self.vars.borrow().keys().cloned().collect();
        Err(format!(
            "name '{name}' is not defined{}",
            did_you_mean(name, known.iter().map(String::as_str))
        ))
    }

    // ----- the bus side -----

    /// Bridge a bus future into the evaluator; bus errors keep their kind.
    pub fn bus<T>(&self, fut: impl std::future::Future<Output = Result<T, CallError>>) -> R<T> {
        self.session.block_on(fut).map_err(Error::from)
    }

    /// The introspection of an object (cached).
    pub fn introspect(&self, o: &ObjectRef) -> R<Arc<Node>> {
        let e = self.session.endpoint(o.target.as_ref());
        self.bus(e.cache.get(&e.bus, &o.service, &o.path))
            .map_err(|e| e.context(format!("cannot introspect {} on {}", o.path, o.service)))
    }

    fn interface_of(&self, i: &InterfaceRef) -> R<(Arc<Node>, usize)> {
        let node = self.introspect(&i.object)?;
        let idx = node
            .interfaces
            .iter()
            .position(|x| x.name == i.name)
            .ok_or_else(|| {
                Error::new(format!(
                    "{} no longer has interface {}",
                    i.object.path, i.name
                ))
            })?;
        Ok((node, idx))
    }

    pub fn get_attr(&mut self, recv: &Value, name: &str) -> R<Value> {
        match recv {
            Value::Module("sys") if name == "argv" => Ok(Value::List(
                self.argv.iter().map(|a| Value::Str(a.clone())).collect(),
            )),
            Value::Module(m) => builtins::module_attr(m, name)
                .ok_or_else(|| Error::new(format!("module '{m}' has no attribute '{name}'"))),
            Value::Object(o) => self.object_attr(o, name),
            Value::Interface(i) => self.interface_attr(i, name),
            other => builtins::value_method(other, name)
                .map(|m| Value::Bound(Box::new(other.clone()), m))
                .ok_or_else(|| {
                    Error::new(format!("a {} has no attribute '{name}'", other.type_name()))
                }),
        }
    }

    fn object_attr(&mut self, o: &Rc<ObjectRef>, name: &str) -> R<Value> {
        match name {
            "path" => return Ok(Value::Path(o.path.clone())),
            "destination" | "service" => return Ok(Value::Str(o.service.clone())),
            "load" | "__enter__" => {
                return Ok(Value::Bound(Box::new(Value::Object(o.clone())), "load"));
            }
            _ => {}
        }
        let node = self.introspect(o)?;
        if name == "interfaces" || name == "_interfaces" {
            return Ok(Value::Dict(
                node.interfaces
                    .iter()
                    .map(|i| {
                        (
                            Value::Str(i.name.clone()),
                            Value::Interface(Rc::new(InterfaceRef {
                                object: o.clone(),
                                name: i.name.clone(),
                            })),
                        )
                    })
                    .collect(),
            ));
        }
        match node.interface_by_short(name) {
            Some(i) => Ok(Value::Interface(Rc::new(InterfaceRef {
                object: o.clone(),
                name: i.name.clone(),
            }))),
            None => {
                let shorts: Vec<&str> = node.interfaces.iter().map(|i| i.short_name()).collect();
                Err(Error::new(format!(
                    "{} has no interface '{name}'{} (it has: {})",
                    o.path,
                    did_you_mean(name, shorts.iter().copied()),
                    shorts.join(", ")
                )))
            }
        }
    }

    fn interface_attr(&mut self, i: &Rc<InterfaceRef>, name: &str) -> R<Value> {
        let (node, idx) = self.interface_of(i)?;
        let iface = &node.interfaces[idx];
        if let Some(p) = iface.property(name) {
            if !p.readable {
                return Err(Error::new(format!("property {name} is write-only")));
            }
            let o = &i.object;
            let args = [Data::Str(i.name.clone()), Data::Str(name.to_string())];
            let e = self.session.endpoint(o.target.as_ref());
            let reply = self.bus(e.bus.call(
                &o.service,
                &o.path,
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &args,
            ))?;
            return Ok(reply_value(&reply.values));
        }
        if iface.method(name).is_some() {
            return Ok(Value::Method(Rc::new(MethodRef {
                interface: i.clone(),
                name: name.to_string(),
            })));
        }
        if iface.signal(name).is_some() {
            return Err(Error::new(format!(
                "{name} is a signal of {}: signals cannot be read or called",
                i.name
            )));
        }
        Err(no_member(iface, name))
    }

    fn set_attr(&mut self, recv: &Value, name: &str, v: Value) -> R<()> {
        let Value::Interface(i) = recv else {
            return Err(Error::new(format!(
                "cannot set attribute '{name}' of a {}",
                recv.type_name()
            )));
        };
        let (node, idx) = self.interface_of(i)?;
        let iface = &node.interfaces[idx];
        let Some(p) = iface.property(name) else {
            return Err(no_member(iface, name));
        };
        if !p.writable {
            return Err(Error::new(format!(
                "property {name} of {} is read-only",
                i.name
            )));
        }
        let sig = Sig::parse(&p.sig).map_err(|e| Error::new(e.to_string()))?;
        let data = to_data(&v, &sig, &format!("value for {name}"))?;
        let o = &i.object;
        let args = [
            Data::Str(i.name.clone()),
            Data::Str(name.to_string()),
            Data::Variant(Box::new(data)),
        ];
        let e = self.session.endpoint(o.target.as_ref());
        self.bus(e.bus.call(
            &o.service,
            &o.path,
            Some("org.freedesktop.DBus.Properties"),
            "Set",
            &args,
        ))?;
        Ok(())
    }

    pub fn call(&mut self, f: &Value, args: Args) -> R<Value> {
        match f {
            Value::Builtin(b) => {
                let bound = args.bind(b)?;
                match b.func {
                    Func::Eval(f) => f(self, bound),
                    Func::Pure(f) => {
                        let v = f(&bound)?;
                        // pystemd's `_autoload=True`: introspect now rather than on first use.
                        if bound.flag("_autoload")
                            && let Value::Object(o) = &v
                        {
                            self.introspect(o)?;
                        }
                        Ok(v)
                    }
                }
            }
            Value::Method(m) => self.call_method(m, args),
            Value::Bound(recv, name) => builtins::call_value_method(self, recv, name, args),
            other => Err(Error::new(format!(
                "a {} is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_method(&mut self, m: &MethodRef, args: Args) -> R<Value> {
        let (node, idx) = self.interface_of(&m.interface)?;
        let iface = &node.interfaces[idx];
        let Some(method) = iface.method(&m.name) else {
            return Err(no_member(iface, &m.name));
        };
        let want = method.inputs.len();
        let mut slots: Vec<Option<Value>> = vec![None; want];
        if args.pos.len() > want {
            return Err(Error::new(format!(
                "{}{} takes {want} argument{}, got {}",
                m.name,
                method.describe(),
                if want == 1 { "" } else { "s" },
                args.pos.len()
            )));
        }
        for (n, v) in args.pos.into_iter().enumerate() {
            slots[n] = Some(v);
        }
        for (k, v) in args.kw {
            let Some(pos) = method
                .inputs
                .iter()
                .position(|a| a.name.as_deref() == Some(&k))
            else {
                let names: Vec<&str> = method
                    .inputs
                    .iter()
                    .filter_map(|a| a.name.as_deref())
                    .collect();
                return Err(Error::new(format!(
                    "{} has no argument '{k}'{}",
                    m.name,
                    did_you_mean(&k, names.iter().copied())
                )));
            };
            if slots[pos].is_some() {
                return Err(Error::new(format!("argument '{k}' given twice")));
            }
            slots[pos] = Some(v);
        }
        let mut data = Vec::with_capacity(want);
        for (n, (slot, arg)) in slots.into_iter().zip(&method.inputs).enumerate() {
            let label = match &arg.name {
                Some(a) => format!("argument {} ({a})", n + 1),
                None => format!("argument {}", n + 1),
            };
            let Some(v) = slot else {
                return Err(Error::new(format!(
                    "{}{}: missing {label}",
                    m.name,
                    method.describe()
                )));
            };
            let sig = Sig::parse(&arg.sig).map_err(|e| Error::new(e.to_string()))?;
            data.push(to_data(&v, &sig, &label)?);
        }
        let o = &m.interface.object;
        let e = self.session.endpoint(o.target.as_ref());
        let reply =
            self.bus(
                e.bus
                    .call(&o.service, &o.path, Some(&m.interface.name), &m.name, &data),
            )?;
        Ok(reply_value(&reply.values))
    }
}

fn no_member(iface: &Interface, name: &str) -> Error {
    Error::new(format!(
        "{} has no member '{name}'{}",
        iface.name,
        did_you_mean(name, iface.member_names())
    ))
}

/// `" (did you mean MainPID?)"` for the closest candidate, or "".
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    if name.chars().count() < 3 {
        return String::new();
    }
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.to_lowercase() == lower {
            0
        } else {
            edit_distance(&lower, &c.to_lowercase())
        };
        if d <= name.len().div_ceil(3) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!(" (did you mean {c}?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn list_index(key: &Value, len: usize) -> Result<usize, String> {
    let Value::Int(i, _) = key else {
        return Err(format!("indices must be integers, not {}", key.type_name()));
    };
    let idx = if *i < 0 { len as i128 + i } else { *i };
    if idx < 0 || idx >= len as i128 {
        return Err(format!("index {i} out of range (length {len})"));
    }
    Ok(idx as usize)
}

fn index_value(recv: &Value, key: &Value) -> Result<Value, String> {
    match recv {
        Value::List(items) | Value::Tuple(items) => {
            Ok(items[list_index(key, items.len())?].clone())
        }
        Value::Bytes(b) => Ok(Value::int(b[list_index(key, b.len())?] as i128)),
        Value::Str(s) | Value::Path(s) | Value::Signature(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Value::Str(chars[list_index(key, chars.len())?].to_string()))
        }
        Value::Dict(entries) => entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                let keys: Vec<String> = entries.iter().filter_map(|(k, _)| k.as_text()).collect();
                format!(
                    "key {} not found{}",
                    key.repr(),
                    did_you_mean(
                        &key.as_text().unwrap_or_default(),
                        keys.iter().map(String::as_str)
                    )
                )
            }),
        other => Err(format!("a {} cannot be indexed", other.type_name())),
    }
}

fn unary(op: UnaryOp, v: &Value) -> Result<Value, String> {
    match (op, v) {
        (UnaryOp::Not, v) => Ok(Value::Bool(!v.truthy())),
        (UnaryOp::Neg, Value::Int(i, _)) => Ok(Value::int(-i)),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Pos, Value::Int(..) | Value::Float(_)) => Ok(v.clone()),
        (_, v) => Err(format!(
            "bad operand type for unary {}: '{}'",
            op.symbol(),
            v.type_name()
        )),
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i, _) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(*b as i32 as f64),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i, _) => Some(*i),
        Value::Bool(b) => Some(*b as i128),
        _ => None,
    }
}

fn binary(op: BinOp, l: &Value, r: &Value) -> Result<Value, String> {
    use BinOp::*;
    let type_err = || {
        format!(
            "unsupported operand types for {}: {} and {}",
            op.symbol(),
            l.type_name(),
            r.type_name()
        )
    };
    match op {
        Eq => return Ok(Value::Bool(l == r)),
        Ne => return Ok(Value::Bool(l != r)),
        Is => return Ok(Value::Bool(l == r)),
        IsNot => return Ok(Value::Bool(l != r)),
        In | NotIn => {
            let found = match r {
                Value::List(items) | Value::Tuple(items) => items.contains(l),
                Value::Dict(entries) => entries.iter().any(|(k, _)| k == l),
                Value::Str(s) | Value::Path(s) => match l.as_text() {
                    Some(sub) => s.contains(&sub),
                    None => return Err(type_err()),
                },
                _ => return Err(type_err()),
            };
            return Ok(Value::Bool(if op == In { found } else { !found }));
        }
        Lt | Le | Gt | Ge => {
            let ord = match (num(l), num(r)) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => match (l.as_text(), r.as_text()) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => return Err(type_err()),
                },
            };
            let Some(ord) = ord else {
                return Ok(Value::Bool(false));
            };
            use std::cmp::Ordering::*;
            let b = match op {
                Lt => ord == Less,
                Le => ord != Greater,
                Gt => ord == Greater,
                _ => ord != Less,
            };
            return Ok(Value::Bool(b));
        }
        _ => {}
    }
    // Arithmetic: integers stay integers where Python's would.
    if let (Some(a), Some(b)) = (int(l), int(r)) {
        let v = match op {
            Add => a.checked_add(b),
            Sub => a.checked_sub(b),
            Mul => a.checked_mul(b),
            Div => {
                if b == 0 {
                    return Err("division by zero".into());
                }
                return Ok(Value::Float(a as f64 / b as f64));
            }
            FloorDiv | Mod => {
                if b == 0 {
                    return Err("division by zero".into());
                }
                // Python floors the quotient; Rust truncates it.
                let mut q = a / b;
                if a % b != 0 && ((a < 0) != (b < 0)) {
                    q -= 1;
                }
                if op == FloorDiv {
                    Some(q)
                } else {
                    Some(a - q * b)
                }
            }
            Pow => {
                if b < 0 {
                    return Ok(Value::Float((a as f64).powf(b as f64)));
                }
                u32::try_from(b).ok().and_then(|e| a.checked_pow(e))
            }
            _ => None,
        };
        return v
            .map(Value::int)
            .ok_or_else(|| "integer overflow".to_string());
    }
    if let (Some(a), Some(b)) = (num(l), num(r)) {
        let v = match op {
            Add => a + b,
            Sub => a - b,
            Mul => a * b,
            Div | FloorDiv | Mod if b == 0.0 => return Err("division by zero".into()),
            Div => a / b,
            FloorDiv => (a / b).floor(),
            Mod => a - (a / b).floor() * b,
            Pow => a.powf(b),
            _ => return Err(type_err()),
        };
        return Ok(Value::Float(v));
    }
    match (op, l, r) {
        (Add, Value::Str(a), Value::Str(b)) => Ok(Value::Str(format!("{a}{b}"))),
        (Add, Value::Bytes(a), Value::Bytes(b)) => Ok(Value::Bytes([a.as_slice(), b].concat())),
        (Add, Value::List(a), Value::List(b)) => Ok(Value::List([a.as_slice(), b].concat())),
        (Add, Value::Tuple(a), Value::Tuple(b)) => Ok(Value::Tuple([a.as_slice(), b].concat())),
        (Mul, Value::Str(s), Value::Int(n, _)) | (Mul, Value::Int(n, _), Value::Str(s)) => {
            Ok(Value::Str(s.repeat((*n).clamp(0, 1 << 20) as usize)))
        }
        (Mod, Value::Str(fmt), arg) => Ok(Value::Str(percent_format(fmt, arg))),
        _ => Err(type_err()),
    }
}

/// Minimal `"%s" % x` support for pasted Python.
fn percent_format(fmt: &str, arg: &Value) -> String {
    let args: Vec<Value> = match arg {
        Value::Tuple(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut it = args.iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => out.push('%'),
                Some('r') => out.push_str(&it.next().map(Value::repr).unwrap_or_default()),
                Some(_) => out.push_str(&it.next().map(Value::to_display).unwrap_or_default()),
                None => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_names() {
        let c = ["MainPID", "ControlPID", "Type"];
        assert_eq!(
            did_you_mean("MainPIX", c.iter().copied()),
            " (did you mean MainPID?)"
        );
        assert_eq!(
            did_you_mean("mainpid", c.iter().copied()),
            " (did you mean MainPID?)"
        );
        assert_eq!(did_you_mean("Zzzzzz", c.iter().copied()), "");
    }

    #[test]
    fn arithmetic_table() {
        use BinOp::*;
        let rows = [
            (Add, Value::int(2), Value::int(3), "5"),
            (Div, Value::int(7), Value::int(2), "3.5"),
            (FloorDiv, Value::int(-7), Value::int(2), "-4"),
            (Mod, Value::int(-7), Value::int(2), "1"),
            (Pow, Value::int(2), Value::int(64), "18446744073709551616"),
            (Sub, Value::Float(1.5), Value::int(1), "0.5"),
            (Add, Value::str("a"), Value::str("b"), "'ab'"),
            (Lt, Value::int(1), Value::Float(1.5), "True"),
            (
                In,
                Value::str("a"),
                Value::List(vec![Value::str("a")]),
                "True",
            ),
        ];
        for (op, l, r, want) in rows {
            assert_eq!(binary(op, &l, &r).unwrap().repr(), want, "{op:?}");
        }
        assert!(binary(Div, &Value::int(1), &Value::int(0)).is_err());
        assert!(binary(Add, &Value::int(1), &Value::str("x")).is_err());
    }
}

//! Calls: builtins, functions made by `def`/`lambda`, D-Bus methods, methods of values,
//! exception classes.

use std::rc::Rc;

use super::{Flow, Interp, MAX_CALLS, R, did_you_mean, no_member};
use crate::bus::sig::Sig;
use crate::lang::ast::FuncBody;
use crate::lang::builtins::{self, Args, Func};
use crate::lang::convert::{reply_value, to_data};
use crate::lang::error::{Error, PyExc};
use crate::lang::parser::stack_addr;
use crate::lang::value::{Function, MethodRef, Scope, Value};

impl Interp {
    pub fn call(&mut self, f: &Value, args: Args) -> R<Value> {
        self.checkpoint()?;
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
                    Func::Attr(_) => Err(Error::type_error(format!(
                        "{} is a value, not a function",
                        b.name
                    ))),
                }
            }
            Value::Method(m) => self.call_method(m, args),
            Value::Bound(recv, name) => builtins::call_value_method(self, recv, name, args),
            Value::Function(func) => self.call_function(func, args),
            Value::ExcClass(c) => {
                if !args.kw.is_empty() {
                    return Err(Error::type_error(format!(
                        "{}() takes no keyword arguments",
                        c.name()
                    )));
                }
                Ok(Value::Exception(Rc::new(builtins::make_exception(
                    *c, args.pos,
                ))))
            }
            other => Err(Error::type_error(format!(
                "a {} is not callable",
                other.type_name()
            ))),
        }
    }

    /// Call a function made by `def` or `lambda`.
    pub fn call_function(&mut self, f: &Rc<Function>, args: Args) -> R<Value> {
        if self.depth >= MAX_CALLS
            || (self.stack_base != 0 && self.stack_base.abs_diff(stack_addr()) > self.stack_budget)
        {
            return Err(Error::py(
                PyExc::RecursionError,
                format!(
                    "maximum recursion depth exceeded calling {}() ({} calls deep)",
                    f.def.name, self.depth
                ),
            ));
        }
        let scope = Rc::new(Scope {
            parent: f.closure.clone(),
            ..Scope::default()
        });
        bind(f, args, &scope)?;
        let saved = self.locals.replace(scope);
        let saved_source = std::mem::replace(&mut self.source, f.source.clone());
        self.depth += 1;
        let r = match &f.def.body {
            FuncBody::Block(b) => self.exec_block(b).map(|flow| match flow {
                Flow::Return(v) => v,
                _ => Value::None,
            }),
            FuncBody::Expr(e) => self.eval(e),
        };
        self.depth -= 1;
        self.source = saved_source;
        self.locals = saved;
        r.map_err(|mut e| {
            // An error inside a function defined in another input: its span would point into
            // text the caller does not show; name the place instead.
            if let Some(span) = e.span
                && !Rc::ptr_eq(&f.source, &self.source)
            {
                let (line, col) = crate::lang::span::line_col(&f.source.text, span.start);
                e.message = format!(
                    "{} (in {}, {} line {}, column {col})",
                    e.message,
                    f.def.name,
                    f.source.name,
                    line + f.source.first_line - 1
                );
                e.span = None;
            }
            e
        })
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
            return Err(Error::type_error(format!(
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
                return Err(Error::type_error(format!(
                    "{} has no argument '{k}'{}",
                    m.name,
                    did_you_mean(&k, names.iter().copied())
                )));
            };
            if slots[pos].is_some() {
                return Err(Error::type_error(format!("argument '{k}' given twice")));
            }
            slots[pos] = Some(v);
        }
        let o = &m.interface.object;
        // systemd's unit property lists are typed by the unit's own introspected properties.
        let props_of = builtins::property_unit(
            &m.interface.name,
            &m.name,
            &o.path,
            slots.first().and_then(Option::as_ref),
        );
        if props_of.is_some() && want == 4 && slots[3].is_none() {
            // StartTransientUnit's auxiliary units may be left out, as with pystemd.
            slots[3] = Some(Value::list(Vec::new()));
        }
        let mut data = Vec::with_capacity(want);
        for (n, (slot, arg)) in slots.into_iter().zip(&method.inputs).enumerate() {
            let label = match &arg.name {
                Some(a) => format!("argument {} ({a})", n + 1),
                None => format!("argument {}", n + 1),
            };
            let Some(v) = slot else {
                return Err(Error::type_error(format!(
                    "{}{}: missing {label}",
                    m.name,
                    method.describe()
                )));
            };
            if &*arg.sig == "a(sv)"
                && let Some(unit) = &props_of
            {
                data.push(builtins::unit_property_list(self, unit, &v)?);
                continue;
            }
            let sig = Sig::parse(&arg.sig).map_err(|e| Error::value_error(e.to_string()))?;
            data.push(to_data(&v, &sig, &label).map_err(Error::type_error)?);
        }
        builtins::confirm_self_stop(&o.service, &o.path, &m.interface.name, &m.name, &data)?;
        let e = self.session.endpoint(o.target.as_ref());
        let reply =
            self.bus(
                e.bus
                    .call(&o.service, &o.path, Some(&m.interface.name), &m.name, &data),
            )?;
        Ok(reply_value(&reply.values))
    }
}

/// Bind a call's arguments to the function's parameters, into `scope`, as Python does.
fn bind(f: &Function, args: Args, scope: &Scope) -> R<()> {
    let p = &f.def.params;
    let name = &f.def.name;
    let npos = p.positional.len();
    let mut slots: Vec<Option<Value>> = vec![None; npos];
    let mut kwonly: Vec<Option<Value>> = vec![None; p.kwonly.len()];
    let mut rest = Vec::new();
    let given = args.pos.len();
    for (i, v) in args.pos.into_iter().enumerate() {
        if i < npos {
            slots[i] = Some(v);
        } else if p.star.is_some() {
            rest.push(v);
        } else {
            return Err(Error::type_error(format!(
                "{name}() takes {npos} positional argument{} but {given} were given",
                if npos == 1 { "" } else { "s" }
            )));
        }
    }
    let mut extra = Vec::new();
    for (k, v) in args.kw {
        let slot = if let Some(i) = p.positional.iter().position(|(n, _)| *n == k) {
            &mut slots[i]
        } else if let Some(i) = p.kwonly.iter().position(|(n, _)| *n == k) {
            &mut kwonly[i]
        } else if p.starstar.is_some() {
            extra.push((Value::Str(k), v));
            continue;
        } else {
            return Err(Error::type_error(format!(
                "{name}() got an unexpected keyword argument '{k}'{}",
                did_you_mean(&k, p.names())
            )));
        };
        if slot.is_some() {
            return Err(Error::type_error(format!(
                "{name}() got multiple values for argument '{k}'"
            )));
        }
        *slot = Some(v);
    }
    let mut vars = scope.vars.borrow_mut();
    for (i, ((pname, _), slot)) in p.positional.iter().zip(slots).enumerate() {
        let v = match slot.or_else(|| f.defaults.get(i).cloned().flatten()) {
            Some(v) => v,
            None => {
                return Err(Error::type_error(format!(
                    "{name}() is missing argument '{pname}'"
                )));
            }
        };
        vars.insert(pname.clone(), v);
    }
    if let Some(s) = &p.star {
        vars.insert(s.clone(), Value::tuple(rest));
    }
    for (i, ((pname, _), slot)) in p.kwonly.iter().zip(kwonly).enumerate() {
        let v = match slot.or_else(|| f.kw_defaults.get(i).cloned().flatten()) {
            Some(v) => v,
            None => {
                return Err(Error::type_error(format!(
                    "{name}() is missing keyword argument '{pname}'"
                )));
            }
        };
        vars.insert(pname.clone(), v);
    }
    if let Some(s) = &p.starstar {
        vars.insert(s.clone(), Value::dict(extra)?);
    }
    Ok(())
}

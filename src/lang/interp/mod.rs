//! The evaluator: runs parsed statements against the live bus.
//!
//! Parse → resolve against introspection → execute. Names resolve to shell values; attribute
//! access on an object resolves an interface from the (cached) introspection, and attribute
//! access on an interface reads a property live or yields a method, whose call converts its
//! arguments by the introspected signature. Command lines go to the [`Commands`] the caller
//! handed in. Nothing here prints errors: they go back to the caller (REPL or batch runner)
//! with their kind and the span they are about.
//!
//! The parts: statements ([`exec`]), expressions ([`eval`]), operators and items ([`ops`]),
//! calls of functions and methods ([`call`]). Scopes are Python's: the globals (`vars`, which
//! completion reads), the scope of each running function (closures keep the scope they were
//! defined in), and the builtins. Ctrl-C is polled at every loop iteration and call
//! ([`Interp::check_interrupt`]); recursion is bounded by depth and by stack use.

mod call;
mod eval;
mod exec;
pub mod ops;
mod prelude;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::bus::connection::CallError;
use crate::bus::data::Data;
use crate::bus::introspect::{Interface, Node};
use crate::bus::session::Session;
use crate::lang::ast::Stmt;
use crate::lang::builtins;
use crate::lang::command::{Commands, Context};
use crate::lang::convert::reply_value;
use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::lexer::Token;
use crate::lang::parser::stack_addr;
use crate::lang::value::{InterfaceRef, MethodRef, ObjectRef, Scope, Source, Value};
use crate::term::{Term, signals};

pub type Vars = Rc<RefCell<HashMap<String, Value>>>;

/// How many calls may be nested (Python's default recursion limit).
const MAX_CALLS: usize = 1000;

/// How a statement ended.
#[derive(Debug)]
pub enum Flow {
    Next,
    Break,
    Continue,
    Return(Value),
}

pub struct Interp {
    pub session: Rc<Session>,
    /// The global variables.
    pub vars: Vars,
    pub out: Box<dyn std::io::Write>,
    pub term: Term,
    commands: Rc<dyn Commands>,
    /// `sys.argv`: the script (or `-c`) and its arguments.
    argv: Vec<String>,
    /// The scope of the running function, `None` at the top level.
    locals: Option<Rc<Scope>>,
    /// How many blocks (bodies of if/while/for/try/with/def) enclose the running statement.
    blocks: usize,
    /// Nested calls.
    depth: usize,
    /// Stack address at the outermost run, and how much stack evaluation may use.
    stack_base: usize,
    pub(crate) stack_budget: usize,
    /// The exceptions being handled (`raise` alone re-raises the last).
    handling: Vec<Rc<Error>>,
    /// The source being run (functions keep the one they were defined in).
    source: Rc<Source>,
    /// Nested `run_script`s.
    scripts: usize,
    /// Where the statement running now starts (for the frame a signal handler is given).
    at: usize,
    /// A signal handler is running (handlers do not interrupt each other).
    in_handler: bool,
    /// Functions written in our language that ship with the shell (`cpu_waste`), loaded on
    /// first use.
    prelude: std::cell::OnceCell<Rc<crate::lang::prelude::Prelude>>,
}

type R<T> = Result<T, Error>;

impl Interp {
    pub fn new(session: Rc<Session>, commands: Rc<dyn Commands>, term: Term) -> Self {
        let vars: Vars = Rc::new(RefCell::new(HashMap::new()));
        {
            let mut v = vars.borrow_mut();
            // The workshop's shell has pystemd (and os, sys) imported already.
            for m in builtins::PRELOADED {
                v.insert(m.to_string(), Value::Module(m));
            }
            v.insert("_".into(), Value::None);
        }
        signals::install_interrupt();
        // The main thread has the process's stack (8 MiB by default); others (tests) 2 MiB.
        let stack_budget = if std::thread::current().name() == Some("main") {
            6 << 20
        } else {
            1 << 20
        };
        Interp {
            session,
            vars,
            out: Box::new(std::io::stdout()),
            term,
            commands,
            argv: Vec::new(),
            locals: None,
            blocks: 0,
            depth: 0,
            stack_base: 0,
            stack_budget,
            handling: Vec::new(),
            source: Rc::new(Source {
                name: "<prompt>".into(),
                text: Rc::from(""),
                first_line: 1,
            }),
            scripts: 0,
            at: 0,
            in_handler: false,
            prelude: std::cell::OnceCell::new(),
        }
    }

    pub fn set_argv(&mut self, argv: Vec<String>) {
        self.argv = argv;
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Which words start a command line (for the lexer, the highlighter and completion):
    /// the commands, except where a variable of that name exists (the variable wins, as
    /// with IPython's automagic).
    pub fn is_command(&self, word: &str) -> bool {
        self.commands.is_command(word) && !self.vars.borrow().contains_key(word)
    }

    /// The command names (to highlight source whole, see [`crate::lang::highlight::source`]).
    pub fn command_names(&self) -> Vec<&'static str> {
        self.commands.names()
    }

    /// Parse and run one input (a line, a pasted block or a file), stopping at the first error.
    #[cfg(test)]
    pub fn run_source(&mut self, src: &str) -> R<()> {
        self.run_named(src, "<prompt>", 1)
    }

    /// Like [`Interp::run_source`], naming where `src` comes from (for functions it defines
    /// and for errors inside them) and the line of that file it starts at.
    pub fn run_named(&mut self, src: &str, name: &str, first_line: usize) -> R<()> {
        let toks = {
            let vars = self.vars.clone();
            let commands = self.commands.clone();
            crate::lang::lexer::lex(src, &|w| {
                commands.is_command(w) && !vars.borrow().contains_key(w)
            })
        };
        self.run_tokens(src, toks, name, first_line)
    }

    /// Run source already lexed (the batch runner lexes scripts incrementally).
    pub fn run_tokens(
        &mut self,
        src: &str,
        toks: Vec<Token>,
        name: &str,
        first_line: usize,
    ) -> R<()> {
        let stmts = crate::lang::parser::parse_tokens(src, toks)
            .map_err(|e| Error::py(PyExc::SyntaxError, e.message).or_at(e.span))?;
        let source = Rc::new(Source {
            name: name.to_string(),
            text: Rc::from(src),
            first_line,
        });
        let outer = self.stack_base == 0;
        if outer {
            self.stack_base = stack_addr();
            signals::clear_interrupt();
        }
        let saved = std::mem::replace(&mut self.source, source);
        let r = self.run_stmts(&stmts);
        self.source = saved;
        if outer {
            self.stack_base = 0;
            self.locals = None;
            self.blocks = 0;
            self.depth = 0;
            self.handling.clear();
        }
        r
    }

    fn run_stmts(&mut self, stmts: &[Stmt]) -> R<()> {
        for stmt in stmts {
            self.exec(stmt)?;
            // A signal that arrived during the statement is handled before the next one.
            if signals::has_pending() && !self.in_handler {
                self.run_signal_handlers(false)?;
            }
        }
        Ok(())
    }

    /// Run a script file in this session (`run_script(FILE)`, `%run FILE`).
    pub fn run_script(&mut self, path: &str) -> R<()> {
        if self.scripts >= 20 {
            return Err(Error::py(
                PyExc::RecursionError,
                "scripts run each other more than 20 deep",
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| Error::os(&e, format!("cannot read {path}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Error::value_error(format!(
                "{path}: line {line}: invalid UTF-8 (statements must be UTF-8 text)"
            ))
        })?;
        let text = crate::lang::transcript::strip(&text);
        self.scripts += 1;
        let r = self.run_named(&text, path, 1).map_err(|e| {
            // The error points into the script, not into the line that ran it.
            match e.span {
                Some(span) if !matches!(e.kind, Kind::Exit(_) | Kind::Interrupted) => {
                    let (line, col) = crate::lang::span::line_col(&text, span.start);
                    let mut e = e;
                    e.span = None;
                    e.message = format!("{} ({path}, line {line}, column {col})", e.message);
                    e
                }
                _ => e,
            }
        });
        self.scripts -= 1;
        r
    }

    /// Run one command line as if typed (the one-shot CLI uses this). `%run FILE ARGS`
    /// runs a script here; other IPython magics (`%cd`, `%env`, …) are the command of that
    /// name.
    pub fn run_command(&mut self, name: &str, words: &[String]) -> R<()> {
        self.check_interrupt()?;
        if let Some(magic) = name.strip_prefix('%') {
            if magic == "run" {
                let Some(path) = words.first() else {
                    return Err(Error::new("usage: %run FILE [ARGS...]"));
                };
                let saved = std::mem::replace(&mut self.argv, words.to_vec());
                let r = self.run_script(path);
                self.argv = saved;
                return r;
            }
            if !self.commands.is_command(magic) {
                return Err(Error::new(format!(
                    "unknown magic %{magic} (rustemd-shell has %run, and its commands: type help)"
                )));
            }
            return self.run_command(magic, words);
        }
        let commands = self.commands.clone();
        if let Some(r) = commands.run_in(self, name, words) {
            let v = r?;
            if !matches!(v, Value::None) {
                self.vars.borrow_mut().insert("_".into(), v);
            }
            return Ok(());
        }
        let mut ctx = Context {
            session: &self.session,
            out: &mut *self.out,
            term: self.term,
            vars: Some(self.vars.clone()),
        };
        let v = commands.run(&mut ctx, name, words).inspect_err(|e| {
            if e.kind == Kind::Interrupted {
                signals::clear_interrupt();
            }
        })?;
        if !matches!(v, Value::None) {
            self.vars.borrow_mut().insert("_".into(), v);
        }
        Ok(())
    }

    /// Ctrl-C since the last check (KeyboardInterrupt), then the handlers of signals that
    /// arrived (`signal.signal`), run here, on the evaluator's thread, as Python runs them
    /// between bytecodes. Loops, calls and waits call this.
    pub fn checkpoint(&mut self) -> R<()> {
        self.check_interrupt()?;
        if signals::has_pending() && !self.in_handler {
            self.run_signal_handlers(false)?;
        }
        Ok(())
    }

    /// Run the handlers of the signals that arrived; `at_prompt`: the prompt was waiting.
    pub fn run_signal_handlers(&mut self, at_prompt: bool) -> R<()> {
        for sig in signals::take_pending() {
            let Some(handler) = builtins::signal_handler(sig) else {
                continue;
            };
            let frame = builtins::signal_frame(self, at_prompt);
            self.in_handler = true;
            let r = self.call(
                &handler,
                builtins::Args {
                    pos: vec![Value::int(sig as i128), frame],
                    kw: Vec::new(),
                },
            );
            self.in_handler = false;
            r?;
        }
        Ok(())
    }

    /// The source being run and the line of the statement running now.
    pub fn position(&self) -> (String, usize) {
        let (line, _) = crate::lang::span::line_col(&self.source.text, self.at);
        (
            self.source.name.clone(),
            line + self.source.first_line.saturating_sub(1),
        )
    }

    /// Ctrl-C since the last check: KeyboardInterrupt.
    pub fn check_interrupt(&self) -> R<()> {
        if signals::take_interrupt() {
            return Err(Error::interrupted());
        }
        Ok(())
    }

    // ----- the bus side -----

    /// Bridge a bus future into the evaluator; bus errors keep their kind.
    pub fn bus<T>(&self, fut: impl std::future::Future<Output = Result<T, CallError>>) -> R<T> {
        self.check_interrupt()?;
        self.session.block_on(fut).map_err(|e| {
            if matches!(e, CallError::Interrupted) {
                signals::clear_interrupt();
            }
            Error::from(e)
        })
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
                Error::py(
                    PyExc::AttributeError,
                    format!("{} no longer has interface {}", i.object.path, i.name),
                )
            })?;
        Ok((node, idx))
    }

    pub fn get_attr(&mut self, recv: &Value, name: &str) -> R<Value> {
        match recv {
            Value::Module(m) => match builtins::module_attr(m, name) {
                Some(Value::Builtin(b)) => match b.func {
                    builtins::Func::Attr(f) => f(self),
                    _ => Ok(Value::Builtin(b)),
                },
                Some(v) => Ok(v),
                None => {
                    let names = builtins::module_names(m);
                    Err(Error::py(
                        PyExc::AttributeError,
                        format!(
                            "module '{m}' has no attribute '{name}'{}",
                            did_you_mean(name, names.iter().copied())
                        ),
                    ))
                }
            },
            Value::Object(o) => self.object_attr(o, name),
            Value::Interface(i) => self.interface_attr(i, name),
            Value::Exception(e) => exception_attr(e, name),
            Value::Function(f) if name == "__name__" => Ok(Value::str(f.def.name.clone())),
            Value::Native(n) => {
                crate::lang::native::attribute(self, recv, n, name).unwrap_or_else(|| {
                    Err(Error::py(
                        PyExc::AttributeError,
                        format!(
                            "a {} has no attribute '{name}'{}",
                            n.type_name(),
                            did_you_mean(name, n.attributes().iter().copied())
                        ),
                    ))
                })
            }
            other => builtins::value_method(other, name)
                .map(|m| Value::Bound(Box::new(other.clone()), m))
                .ok_or_else(|| {
                    let names = builtins::value_method_names(other);
                    Error::py(
                        PyExc::AttributeError,
                        format!(
                            "a {} has no attribute '{name}'{}",
                            other.type_name(),
                            did_you_mean(name, names.iter().copied())
                        ),
                    )
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
            return Value::dict(
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
            );
        }
        // pystemd puts every interface's members on the object too: `unit.Stop`, `unit.Id`.
        if node.interface_by_short(name).is_none()
            && let Some(i) = node
                .interfaces
                .iter()
                .find(|i| i.property(name).is_some() || i.method(name).is_some())
        {
            let iface = Rc::new(InterfaceRef {
                object: o.clone(),
                name: i.name.clone(),
            });
            return self.interface_attr(&iface, name);
        }
        match node.interface_by_short(name) {
            Some(i) => Ok(Value::Interface(Rc::new(InterfaceRef {
                object: o.clone(),
                name: i.name.clone(),
            }))),
            None => {
                let shorts: Vec<&str> = node.interfaces.iter().map(|i| i.short_name()).collect();
                Err(Error::py(
                    PyExc::AttributeError,
                    format!(
                        "{} has no interface '{name}'{} (it has: {})",
                        o.path,
                        did_you_mean(name, shorts.iter().copied()),
                        shorts.join(", ")
                    ),
                ))
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
            return Err(Error::type_error(format!(
                "{name} is a signal of {}: signals cannot be read or called",
                i.name
            )));
        }
        Err(no_member(iface, name))
    }

    fn set_attr(&mut self, recv: &Value, name: &str, v: Value) -> R<()> {
        let Value::Interface(i) = recv else {
            return Err(Error::py(
                PyExc::AttributeError,
                format!("cannot set attribute '{name}' of a {}", recv.type_name()),
            ));
        };
        let (node, idx) = self.interface_of(i)?;
        let iface = &node.interfaces[idx];
        let Some(p) = iface.property(name) else {
            return Err(no_member(iface, name));
        };
        if !p.writable {
            return Err(Error::py(
                PyExc::AttributeError,
                format!("property {name} of {} is read-only", i.name),
            ));
        }
        let sig =
            crate::bus::sig::Sig::parse(&p.sig).map_err(|e| Error::value_error(e.to_string()))?;
        let data = crate::lang::convert::to_data(&v, &sig, &format!("value for {name}"))
            .map_err(Error::type_error)?;
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
}

/// `e.name`, `e.message`, `e.args` of an exception.
fn exception_attr(e: &Rc<Error>, name: &str) -> R<Value> {
    Ok(match name {
        "name" => Value::str(match &e.kind {
            Kind::Dbus(n) => n.clone(),
            _ => e.class_name().to_string(),
        }),
        "message" => Value::str(
            e.dbus_message
                .clone()
                .unwrap_or_else(|| e.display_message()),
        ),
        "args" => {
            if e.args.is_empty() && !e.message.is_empty() {
                Value::tuple(vec![Value::str(e.message.clone())])
            } else {
                Value::tuple(e.args.clone())
            }
        }
        "code" => match e.kind {
            Kind::Exit(c) => Value::int(c as i128),
            _ => Value::None,
        },
        _ => {
            return Err(Error::py(
                PyExc::AttributeError,
                format!("an exception has no attribute '{name}' (it has name, message and args)"),
            ));
        }
    })
}

fn no_member(iface: &Interface, name: &str) -> Error {
    Error::py(
        PyExc::AttributeError,
        format!(
            "{} has no member '{name}'{}",
            iface.name,
            did_you_mean(name, iface.member_names())
        ),
    )
}

pub use crate::suggest::did_you_mean;

#[cfg(test)]
mod tests;

//! Objects the shell provides that are not D-Bus objects: a child process
//! (`subprocess.Popen`), a pool of workers in a unit and its futures (`pystemd.futures`), the
//! handlers `signal.SIG_DFL`/`SIG_IGN`.
//!
//! Why a trait rather than a value variant each: the language has no classes, and these
//! objects only need attributes, methods and a `with` exit; each lives in the family file
//! of its module (`builtins/subprocess.rs`, `builtins/futures/`), and the evaluator knows
//! only this trait.

use std::rc::Rc;

use crate::lang::builtins::Args;
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::Value;

pub trait Native: std::fmt::Debug {
    /// What `type(x)` says.
    fn type_name(&self) -> &'static str;
    fn repr(&self) -> String;
    /// Attribute names, methods included (completion, `dir()`).
    fn attributes(&self) -> &'static [&'static str];
    /// Which of the attributes are methods.
    fn methods(&self) -> &'static [&'static str];
    /// A data attribute (`p.pid`); `None` when there is no such attribute.
    fn get(&self, it: &mut Interp, name: &str) -> Option<Result<Value, Error>>;
    /// Call method `name` (one of [`Native::methods`]).
    fn call(&self, it: &mut Interp, name: &str, args: Args) -> Result<Value, Error>;
    /// Leaving `with X as x:` (`error`: the exception leaving the block, if any).
    fn exit(&self, _it: &mut Interp, _error: Option<&Error>) -> Result<(), Error> {
        Ok(())
    }
    /// For enum-like objects (`signal.SIG_DFL` is 0): the number they equal.
    fn number(&self) -> Option<i128> {
        None
    }
    /// The object itself, for code that knows its type (a view waiting on futures).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A native object as a value.
pub fn value(n: impl Native + 'static) -> Value {
    Value::Native(Rc::new(n))
}

/// The attribute `name` of native `n` (held by `recv`): data, or a method ready to call.
pub fn attribute(
    it: &mut Interp,
    recv: &Value,
    n: &Rc<dyn Native>,
    name: &str,
) -> Option<Result<Value, Error>> {
    if let Some(m) = n.methods().iter().find(|m| **m == name) {
        return Some(Ok(Value::Bound(Box::new(recv.clone()), m)));
    }
    n.get(it, name)
}

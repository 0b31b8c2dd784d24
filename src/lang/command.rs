//! The contract between the language engine and the commands it runs.
//!
//! Why a trait: the engine must not know any concrete command (nushell's engine knows no
//! command either; busctl's sd-bus knows no verb). The caller hands the interpreter an
//! implementation of [`Commands`]; the lexer asks it which words start a command line, and the
//! interpreter hands it each command line with a narrow [`Context`]: the session and the
//! output, nothing else. A command returns a value, which becomes `_`.

use std::io::Write;

use crate::bus::session::Session;
use crate::lang::error::Error;
use crate::lang::interp::{Interp, Vars};
use crate::lang::value::Value;
use crate::term::Term;

/// What a command may use while it runs.
pub struct Context<'a> {
    pub session: &'a Session,
    pub out: &'a mut dyn Write,
    pub term: Term,
    /// The shell's variables, so a command can take a value by name (`status unit`); `None`
    /// for one-shot runs.
    pub vars: Option<Vars>,
}

/// A set of commands the interpreter can run.
pub trait Commands {
    /// Is `word` the first word of a command line?
    fn is_command(&self, word: &str) -> bool;

    /// Run command `name` with its words (options included, unparsed). The value returned
    /// becomes `_` (it is not printed: the command prints what it shows).
    fn run(&self, ctx: &mut Context<'_>, name: &str, words: &[String]) -> Result<Value, Error>;

    /// The command names, for highlighting source whole ([`crate::lang::highlight::source`]).
    fn names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// A command that drives the interpreter itself (a demo played in this session, a value
    /// looked up by `ppcode`) runs here, with the interpreter at hand; `None` when `name` is
    /// not one of those, and [`Commands::run`] runs it. The engine still names no command:
    /// the implementation (a layer above) decides.
    fn run_in(
        &self,
        _it: &mut Interp,
        _name: &str,
        _words: &[String],
    ) -> Option<Result<Value, Error>> {
        None
    }
}

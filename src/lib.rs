//! rustemd-shell: a line-editing REPL for exploring D-Bus and driving systemd.
//!
//! Layers, each with its own module: `lang` (lexer, parser, evaluator, values — the parser does
//! no I/O), `bus` (connection, wire codec, introspection cache, busctl's formats), `commands`
//! (busctl's verbs as data), `repl` (line editing, completion, highlighting), `systemd`
//! (systemd's names and unit helpers). `main.rs` only calls [`run`].

pub mod bus;
pub mod cli;
pub mod commands;
pub mod lang;
pub mod repl;
pub mod session;
pub mod systemd;

/// Run the program with the process's arguments; returns the exit status.
pub fn run() -> i32 {
    cli::main()
}

//! rustemd-shell: a line-editing REPL for exploring D-Bus and driving systemd.
//!
//! Layers call downward only:
//!
//! ```text
//!   cli, repl,     the program's command line; the prompt, batch runs, error reports;
//!   demo           demos played, recorded, source shown (ppcode)
//!       │
//!   commands       busctl's verbs (and ours) declared as data; uses busctl/ for formats
//!       │
//!   lang           lexer, parser, evaluator, values, builtins; defines the Commands contract
//!       │
//!   systemd        systemd's names, cgroups, time spans
//!       │
//!   bus            connection, wire codec, introspection cache, session
//! ```
//!
//! `busctl` (busctl's exact formats) sits beside `systemd`, used by `commands`; `term`
//! (colour, pager) depends on nothing and serves every layer. `main.rs` only calls [`run`].

mod bus;
mod busctl;
mod cli;
mod commands;
mod demo;
mod lang;
mod repl;
mod suggest;
mod systemd;
mod term;

#[cfg(test)]
mod fuzz;

/// Run the program with the process's arguments; returns the exit status.
pub fn run() -> i32 {
    cli::main()
}

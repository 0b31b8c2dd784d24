//! The shell's small command language: a forgiving Python subset (so pystemd
//! and IPython lines can be pasted verbatim) plus busctl-style command lines.
//!
//! Why it is split this way: the [`lexer`] is total and cheap, because the
//! highlighter and completer run it on every keystroke over partial input;
//! the [`parser`] is only run on Enter and reports the first error with a
//! span. Neither does I/O: which words are commands is decided by an
//! `is_command` callback supplied by the caller. The [`interp`]reter runs
//! statements; it defines the [`command`] contract the command table fulfils
//! and never names a command itself. [`attributes`] says what follows a `.`
//! (for evaluation, completion and `dir()` alike).
//! See `GRAMMAR.md` at the repository root for the precise grammar.

pub mod ast;
pub mod attributes;
pub mod builtins;
pub mod command;
pub mod convert;
pub mod demos;
pub mod error;
pub mod highlight;
pub mod interp;
pub mod lexer;
pub mod native;
pub mod parser;
pub mod portable;
pub mod prelude;
pub mod sources;
pub mod span;
pub mod transcript;
pub mod value;

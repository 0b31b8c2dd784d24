//! The shell's small command language: a forgiving Python subset (so pystemd
//! and IPython lines can be pasted verbatim) plus busctl-style command lines.
//!
//! Why it is split this way: the [`lexer`] is total and cheap, because the
//! highlighter and completer run it on every keystroke over partial input;
//! the [`parser`] is only run on Enter and reports the first error with a
//! span. Neither does I/O: which words are commands is decided by an
//! `is_command` callback supplied by the caller (the command registry).
//! See `GRAMMAR.md` at the repository root for the precise grammar.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod span;

pub use ast::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnaryOp};
pub use lexer::{Keyword, Token, TokenKind, is_identifier, lex, statement_tokens};
pub use parser::{MAX_DEPTH, ParseError, parse, parse_tokens};
pub use span::Span;

pub mod builtins;
pub mod convert;
pub mod error;
pub mod interp;
pub mod value;

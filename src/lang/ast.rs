//! Syntax tree produced by [`parse`](super::parser::parse).
//!
//! Why this shape: the language is a small, forgiving Python subset (enough to
//! paste pystemd/IPython lines) plus busctl-style command lines. Nodes carry
//! [`Span`]s so the evaluator can point at the failing sub-expression, and the
//! completer/highlighter can map nodes back to the text. There are no slices,
//! comprehensions, lambdas or blocks: those are parse errors, not silent
//! misreadings.

use super::span::Span;
#[cfg(test)]
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `target = value`; `target` is always a `Name`, `Attr` or `Index`.
    Assign {
        target: Expr,
        value: Expr,
    },
    /// A command line. A leading `busctl` is stripped when followed by a
    /// registered command (`busctl tree X` → name `tree`); otherwise the name
    /// is `busctl` and the remaining words are its args.
    Command {
        name: String,
        name_span: Span,
        args: Vec<(String, Span)>,
    },
    /// `!cmd ...`: the raw text after `!`.
    Shell(String),
    /// `import a.b as c, d` → `from: None, modules: [("a.b", Some("c")), ("d", None)]`;
    /// `from a.b import c as d, e` → `from: Some("a.b"), modules: [("c", Some("d")), ("e", None)]`;
    /// `from a import *` → `modules: [("*", None)]`.
    Import {
        from: Option<String>,
        modules: Vec<(String, Option<String>)>,
    },
    /// `with EXPR [as NAME]: stmt; stmt` (single-line form only).
    With {
        expr: Expr,
        name: Option<String>,
        body: Vec<Stmt>,
    },
    Pass,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Name(String),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Attr {
        obj: Box<Expr>,
        name: String,
        name_span: Span,
    },
    Index {
        obj: Box<Expr>,
        index: Box<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Span, Expr)>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
    Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    In,
    NotIn,
    Is,
    IsNot,
}

impl UnaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Not => "not",
        }
    }
}

impl BinOp {
    /// Python spelling of the operator.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Is => "is",
            BinOp::IsNot => "is not",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::In
                | BinOp::NotIn
                | BinOp::Is
                | BinOp::IsNot
        )
    }
}

impl ExprKind {
    /// Short description for messages ("cannot assign to function call").
    pub fn describe(&self) -> &'static str {
        match self {
            ExprKind::None => "None",
            ExprKind::Bool(_) => "a boolean literal",
            ExprKind::Int(_) | ExprKind::Float(_) => "a number",
            ExprKind::Str(_) => "a string literal",
            ExprKind::Name(_) => "a name",
            ExprKind::List(_) => "a list",
            ExprKind::Tuple(_) => "a tuple",
            ExprKind::Dict(_) => "a dict",
            ExprKind::Attr { .. } => "an attribute",
            ExprKind::Index { .. } => "an item",
            ExprKind::Call { .. } => "a function call",
            ExprKind::Unary { .. } | ExprKind::Binary { .. } => "an operator expression",
        }
    }
}

#[cfg(test)]
impl Expr {
    /// Compact, fully parenthesised S-expression rendering; unambiguous about
    /// precedence, used by tests and debugging (`:ast`-style output).
    pub fn sexpr(&self) -> String {
        let mut s = String::new();
        self.write_sexpr(&mut s);
        s
    }

    fn write_sexpr(&self, o: &mut String) {
        match &self.kind {
            ExprKind::None => o.push_str("None"),
            ExprKind::Bool(b) => o.push_str(if *b { "True" } else { "False" }),
            ExprKind::Int(i) => {
                let _ = write!(o, "{i}");
            }
            ExprKind::Float(f) => {
                let _ = write!(o, "{f:?}");
            }
            ExprKind::Str(s) => {
                let _ = write!(o, "{s:?}");
            }
            ExprKind::Name(n) => o.push_str(n),
            ExprKind::List(items) => {
                o.push('[');
                write_list(o, items);
                o.push(']');
            }
            ExprKind::Tuple(items) => {
                o.push_str("(tuple");
                for e in items {
                    o.push(' ');
                    e.write_sexpr(o);
                }
                o.push(')');
            }
            ExprKind::Dict(items) => {
                o.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        o.push_str(", ");
                    }
                    k.write_sexpr(o);
                    o.push_str(": ");
                    v.write_sexpr(o);
                }
                o.push('}');
            }
            ExprKind::Attr { obj, name, .. } => {
                o.push_str("(. ");
                obj.write_sexpr(o);
                let _ = write!(o, " {name})");
            }
            ExprKind::Index { obj, index } => {
                o.push_str("([] ");
                obj.write_sexpr(o);
                o.push(' ');
                index.write_sexpr(o);
                o.push(')');
            }
            ExprKind::Call { func, args, kwargs } => {
                o.push_str("(call ");
                func.write_sexpr(o);
                for a in args {
                    o.push(' ');
                    a.write_sexpr(o);
                }
                for (k, _, v) in kwargs {
                    let _ = write!(o, " {k}=");
                    v.write_sexpr(o);
                }
                o.push(')');
            }
            ExprKind::Unary { op, expr } => {
                let _ = write!(o, "({} ", op.symbol());
                expr.write_sexpr(o);
                o.push(')');
            }
            ExprKind::Binary { op, left, right } => {
                let _ = write!(o, "({} ", op.symbol());
                left.write_sexpr(o);
                o.push(' ');
                right.write_sexpr(o);
                o.push(')');
            }
        }
    }
}

#[cfg(test)]
fn write_list(o: &mut String, items: &[Expr]) {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        e.write_sexpr(o);
    }
}

#[cfg(test)]
impl Stmt {
    /// S-expression rendering of a statement (see [`Expr::sexpr`]).
    pub fn sexpr(&self) -> String {
        match &self.kind {
            StmtKind::Expr(e) => e.sexpr(),
            StmtKind::Assign { target, value } => {
                format!("(= {} {})", target.sexpr(), value.sexpr())
            }
            StmtKind::Command { name, args, .. } => {
                let mut s = format!("(cmd {name}");
                for (a, _) in args {
                    let _ = write!(s, " {a:?}");
                }
                s.push(')');
                s
            }
            StmtKind::Shell(c) => format!("(! {c:?})"),
            StmtKind::Import { from, modules } => {
                let mut s = match from {
                    Some(f) => format!("(from {f} import"),
                    None => "(import".to_string(),
                };
                for (m, alias) in modules {
                    let _ = write!(s, " {m}");
                    if let Some(a) = alias {
                        let _ = write!(s, " as {a}");
                    }
                    s.push(',');
                }
                if s.ends_with(',') {
                    s.pop();
                }
                s.push(')');
                s
            }
            StmtKind::With { expr, name, body } => {
                let mut s = format!("(with {}", expr.sexpr());
                if let Some(n) = name {
                    let _ = write!(s, " as {n}");
                }
                s.push(':');
                for st in body {
                    let _ = write!(s, " {};", st.sexpr());
                }
                if s.ends_with(';') {
                    s.pop();
                }
                s.push(')');
                s
            }
            StmtKind::Pass => "pass".to_string(),
        }
    }
}

/// Render a statement list as `stmt; stmt` S-expressions.
#[cfg(test)]
pub fn sexpr_all(stmts: &[Stmt]) -> String {
    stmts.iter().map(Stmt::sexpr).collect::<Vec<_>>().join("; ")
}

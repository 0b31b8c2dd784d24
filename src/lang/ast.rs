//! Syntax tree produced by [`parse`](super::parser::parse).
//!
//! Why this shape: the language is a forgiving Python subset (enough to paste pystemd/IPython
//! code and write workshop scripts: blocks, functions, lambdas, comprehensions, exceptions)
//! plus busctl-style command lines. Nodes carry [`Span`]s so the evaluator can point at the
//! failing sub-expression, and the completer/highlighter can map nodes back to the text.
//! Classes and generators are not part of it: they are parse errors, not silent misreadings.

use std::rc::Rc;

use super::span::Span;
#[cfg(test)]
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// Where a command line's output goes instead of ours.
#[derive(Clone, Debug, PartialEq)]
pub enum Redirect {
    /// `| pipeline`: through `/bin/sh -c pipeline`.
    Pipe(String),
    /// `> FILE` (or `>> FILE` with `append`).
    File { path: String, append: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `t1 = t2 = value`; each target is a name, attribute, item, or a tuple/list of targets.
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    /// `target op= value`.
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    /// A command line. A leading `busctl` is kept (`busctl tree X` → name `busctl`, args
    /// `tree X`); the command runner finds the verb.
    Command {
        name: String,
        name_span: Span,
        args: Vec<(String, Span)>,
        redirect: Option<Redirect>,
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
    /// `with EXPR [as TARGET]: body`.
    With {
        expr: Expr,
        target: Option<Expr>,
        body: Vec<Stmt>,
    },
    /// `if c: … elif c: … else: …` (the branches in order).
    If {
        branches: Vec<(Expr, Vec<Stmt>)>,
        orelse: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    Break,
    Continue,
    Pass,
    Def(Rc<FuncDef>),
    Return(Option<Expr>),
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Vec<Stmt>,
        finally: Vec<Stmt>,
    },
    /// `raise [EXC [from CAUSE]]`.
    Raise(Option<Expr>),
    Global(Vec<String>),
    Nonlocal(Vec<String>),
    Del(Vec<Expr>),
    Assert {
        test: Expr,
        msg: Option<Expr>,
    },
}

/// `except [TYPE [as NAME]]: body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Handler {
    pub kind: Option<Expr>,
    pub name: Option<String>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// A parameter list (of a `def` or a `lambda`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    /// Positional-or-keyword parameters, with their default expressions.
    pub positional: Vec<(String, Option<Expr>)>,
    /// `*args` (a bare `*` gives `None` here and only starts the keyword-only ones).
    pub star: Option<String>,
    /// Keyword-only parameters (after `*`/`*args`), with their defaults.
    pub kwonly: Vec<(String, Option<Expr>)>,
    /// `**kwargs`.
    pub starstar: Option<String>,
}

impl Params {
    /// Every name the parameters bind, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.positional
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.star.as_deref())
            .chain(self.kwonly.iter().map(|(n, _)| n.as_str()))
            .chain(self.starstar.as_deref())
    }
}

/// A function: from `def` (a body of statements) or `lambda` (one expression).
#[derive(Clone, Debug, PartialEq)]
pub struct FuncDef {
    pub name: String,
    pub params: Params,
    pub body: FuncBody,
    /// The whole definition (`def …` through the end of its body).
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FuncBody {
    Block(Vec<Stmt>),
    Expr(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// One `for target in iter [if cond]...` clause of a comprehension.
#[derive(Clone, Debug, PartialEq)]
pub struct CompFor {
    pub target: Expr,
    pub iter: Expr,
    pub conds: Vec<Expr>,
}

/// What a comprehension builds.
#[derive(Clone, Debug, PartialEq)]
pub enum CompKind {
    /// `[e for …]`
    List(Box<Expr>),
    /// `{e for …}`
    Set(Box<Expr>),
    /// `{k: v for …}`
    Dict(Box<Expr>, Box<Expr>),
    /// `(e for …)`: evaluated at once into a list (there are no generators).
    Gen(Box<Expr>),
}

/// A piece of an f-string.
#[derive(Clone, Debug, PartialEq)]
pub enum FPart {
    Lit(String),
    Field {
        expr: Box<Expr>,
        /// `{x=}`: the expression's text, shown before its value.
        debug: Option<String>,
        /// `!r`, `!s`, `!a`.
        conversion: Option<char>,
        /// The format spec after `:` (itself made of parts: `{x:>{w}}`).
        spec: Vec<FPart>,
    },
}

/// An argument in a call: `e`, `*e`, `name=e` or `**e`.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Pos(Expr),
    Star(Expr),
    Kw(String, Span, Expr),
    StarStar(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    FStr(Vec<FPart>),
    Name(String),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// `*x` inside a list/tuple display or an assignment target.
    Starred(Box<Expr>),
    Attr {
        obj: Box<Expr>,
        name: String,
        name_span: Span,
    },
    Index {
        obj: Box<Expr>,
        index: Box<Expr>,
    },
    /// `a:b:c` inside `[...]`.
    Slice {
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Arg>,
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
    /// `a < b <= c`: each operand is evaluated once, left to right, stopping at the first
    /// false comparison.
    Compare {
        first: Box<Expr>,
        rest: Vec<(BinOp, Expr)>,
    },
    /// `a if cond else b`.
    IfExp {
        cond: Box<Expr>,
        then: Box<Expr>,
        orelse: Box<Expr>,
    },
    Lambda(Rc<FuncDef>),
    Comp {
        kind: CompKind,
        fors: Vec<CompFor>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
    Pos,
    Invert,
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
    BitAnd,
    BitOr,
    BitXor,
    LShift,
    RShift,
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
            UnaryOp::Invert => "~",
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
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
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

    /// The operator of an augmented assignment (`+=` → `Add`).
    pub fn augmented(op: &str) -> Option<BinOp> {
        Some(match op {
            "+=" => BinOp::Add,
            "-=" => BinOp::Sub,
            "*=" => BinOp::Mul,
            "/=" => BinOp::Div,
            "//=" => BinOp::FloorDiv,
            "%=" => BinOp::Mod,
            "**=" => BinOp::Pow,
            "&=" => BinOp::BitAnd,
            "|=" => BinOp::BitOr,
            "^=" => BinOp::BitXor,
            "<<=" => BinOp::LShift,
            ">>=" => BinOp::RShift,
            _ => return None,
        })
    }
}

impl ExprKind {
    /// Short description for messages ("cannot assign to a function call").
    pub fn describe(&self) -> &'static str {
        match self {
            ExprKind::None => "None",
            ExprKind::Bool(_) => "a boolean literal",
            ExprKind::Int(_) | ExprKind::Float(_) => "a number",
            ExprKind::Str(_) | ExprKind::FStr(_) => "a string literal",
            ExprKind::Name(_) => "a name",
            ExprKind::List(_) => "a list",
            ExprKind::Tuple(_) => "a tuple",
            ExprKind::Set(_) => "a set",
            ExprKind::Dict(_) => "a dict",
            ExprKind::Starred(_) => "a starred expression",
            ExprKind::Attr { .. } => "an attribute",
            ExprKind::Index { .. } => "an item",
            ExprKind::Slice { .. } => "a slice",
            ExprKind::Call { .. } => "a function call",
            ExprKind::Unary { .. } | ExprKind::Binary { .. } | ExprKind::Compare { .. } => {
                "an operator expression"
            }
            ExprKind::IfExp { .. } => "a conditional expression",
            ExprKind::Lambda(_) => "a lambda",
            ExprKind::Comp { .. } => "a comprehension",
        }
    }
}

#[cfg(test)]
impl Expr {
    /// Compact, fully parenthesised S-expression rendering; unambiguous about
    /// precedence, used by tests and debugging.
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
            ExprKind::FStr(parts) => {
                o.push_str("(f");
                write_fparts(o, parts);
                o.push(')');
            }
            ExprKind::Name(n) => o.push_str(n),
            ExprKind::List(items) => {
                o.push('[');
                write_list(o, items);
                o.push(']');
            }
            ExprKind::Set(items) => {
                o.push_str("(set");
                for e in items {
                    o.push(' ');
                    e.write_sexpr(o);
                }
                o.push(')');
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
            ExprKind::Starred(e) => {
                o.push('*');
                e.write_sexpr(o);
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
            ExprKind::Slice { lower, upper, step } => {
                o.push_str("(slice");
                for part in [lower, upper, step] {
                    o.push(' ');
                    match part {
                        Some(e) => e.write_sexpr(o),
                        None => o.push('_'),
                    }
                }
                o.push(')');
            }
            ExprKind::Call { func, args } => {
                o.push_str("(call ");
                func.write_sexpr(o);
                for a in args {
                    o.push(' ');
                    match a {
                        Arg::Pos(e) => e.write_sexpr(o),
                        Arg::Star(e) => {
                            o.push('*');
                            e.write_sexpr(o);
                        }
                        Arg::Kw(k, _, e) => {
                            let _ = write!(o, "{k}=");
                            e.write_sexpr(o);
                        }
                        Arg::StarStar(e) => {
                            o.push_str("**");
                            e.write_sexpr(o);
                        }
                    }
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
            ExprKind::Compare { first, rest } => {
                o.push_str("(cmp ");
                first.write_sexpr(o);
                for (op, e) in rest {
                    let _ = write!(o, " {} ", op.symbol());
                    e.write_sexpr(o);
                }
                o.push(')');
            }
            ExprKind::IfExp { cond, then, orelse } => {
                o.push_str("(if ");
                cond.write_sexpr(o);
                o.push(' ');
                then.write_sexpr(o);
                o.push(' ');
                orelse.write_sexpr(o);
                o.push(')');
            }
            ExprKind::Lambda(f) => {
                let _ = write!(o, "(lambda ({})", f.params.sexpr());
                if let FuncBody::Expr(e) = &f.body {
                    o.push(' ');
                    e.write_sexpr(o);
                }
                o.push(')');
            }
            ExprKind::Comp { kind, fors } => {
                let (name, parts): (&str, Vec<&Expr>) = match kind {
                    CompKind::List(e) => ("listcomp", vec![e]),
                    CompKind::Set(e) => ("setcomp", vec![e]),
                    CompKind::Gen(e) => ("gen", vec![e]),
                    CompKind::Dict(k, v) => ("dictcomp", vec![k, v]),
                };
                let _ = write!(o, "({name}");
                for p in parts {
                    o.push(' ');
                    p.write_sexpr(o);
                }
                for f in fors {
                    o.push_str(" for ");
                    f.target.write_sexpr(o);
                    o.push_str(" in ");
                    f.iter.write_sexpr(o);
                    for c in &f.conds {
                        o.push_str(" if ");
                        c.write_sexpr(o);
                    }
                }
                o.push(')');
            }
        }
    }
}

#[cfg(test)]
fn write_fparts(o: &mut String, parts: &[FPart]) {
    for p in parts {
        o.push(' ');
        match p {
            FPart::Lit(s) => {
                let _ = write!(o, "{s:?}");
            }
            FPart::Field {
                expr,
                debug,
                conversion,
                spec,
            } => {
                o.push('{');
                if let Some(d) = debug {
                    let _ = write!(o, "{d:?}=");
                }
                expr.write_sexpr(o);
                if let Some(c) = conversion {
                    let _ = write!(o, "!{c}");
                }
                if !spec.is_empty() {
                    o.push(':');
                    write_fparts(o, spec);
                }
                o.push('}');
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
impl Params {
    fn sexpr(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let one = |(n, d): &(String, Option<Expr>)| match d {
            Some(d) => format!("{n}={}", d.sexpr()),
            None => n.clone(),
        };
        out.extend(self.positional.iter().map(one));
        if let Some(s) = &self.star {
            out.push(format!("*{s}"));
        } else if !self.kwonly.is_empty() {
            out.push("*".into());
        }
        out.extend(self.kwonly.iter().map(one));
        if let Some(s) = &self.starstar {
            out.push(format!("**{s}"));
        }
        out.join(" ")
    }
}

#[cfg(test)]
fn block_sexpr(stmts: &[Stmt]) -> String {
    stmts.iter().map(Stmt::sexpr).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
impl Stmt {
    /// S-expression rendering of a statement (see [`Expr::sexpr`]).
    pub fn sexpr(&self) -> String {
        match &self.kind {
            StmtKind::Expr(e) => e.sexpr(),
            StmtKind::Assign { targets, value } => {
                let mut s = "(=".to_string();
                for t in targets {
                    let _ = write!(s, " {}", t.sexpr());
                }
                let _ = write!(s, " {})", value.sexpr());
                s
            }
            StmtKind::AugAssign { target, op, value } => {
                format!("({}= {} {})", op.symbol(), target.sexpr(), value.sexpr())
            }
            StmtKind::Command {
                name,
                args,
                redirect,
                ..
            } => {
                let mut s = format!("(cmd {name}");
                for (a, _) in args {
                    let _ = write!(s, " {a:?}");
                }
                match redirect {
                    Some(Redirect::Pipe(p)) => {
                        let _ = write!(s, " | {p:?}");
                    }
                    Some(Redirect::File { path, append }) => {
                        let _ = write!(s, " {} {path:?}", if *append { ">>" } else { ">" });
                    }
                    None => {}
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
            StmtKind::With { expr, target, body } => {
                let mut s = format!("(with {}", expr.sexpr());
                if let Some(n) = target {
                    let _ = write!(s, " as {}", n.sexpr());
                }
                let _ = write!(s, ": {})", block_sexpr(body));
                s
            }
            StmtKind::If { branches, orelse } => {
                let mut s = "(if".to_string();
                for (i, (c, b)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "" } else { " elif" };
                    let _ = write!(s, "{kw} {}: {}", c.sexpr(), block_sexpr(b));
                }
                if !orelse.is_empty() {
                    let _ = write!(s, " else: {}", block_sexpr(orelse));
                }
                s.push(')');
                s
            }
            StmtKind::While { cond, body, orelse } => {
                let mut s = format!("(while {}: {}", cond.sexpr(), block_sexpr(body));
                if !orelse.is_empty() {
                    let _ = write!(s, " else: {}", block_sexpr(orelse));
                }
                s.push(')');
                s
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
            } => {
                let mut s = format!(
                    "(for {} in {}: {}",
                    target.sexpr(),
                    iter.sexpr(),
                    block_sexpr(body)
                );
                if !orelse.is_empty() {
                    let _ = write!(s, " else: {}", block_sexpr(orelse));
                }
                s.push(')');
                s
            }
            StmtKind::Break => "break".into(),
            StmtKind::Continue => "continue".into(),
            StmtKind::Pass => "pass".to_string(),
            StmtKind::Def(f) => {
                let body = match &f.body {
                    FuncBody::Block(b) => block_sexpr(b),
                    FuncBody::Expr(e) => e.sexpr(),
                };
                format!("(def {} ({}): {body})", f.name, f.params.sexpr())
            }
            StmtKind::Return(e) => match e {
                Some(e) => format!("(return {})", e.sexpr()),
                None => "(return)".into(),
            },
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                let mut s = format!("(try: {}", block_sexpr(body));
                for h in handlers {
                    s.push_str(" except");
                    if let Some(k) = &h.kind {
                        let _ = write!(s, " {}", k.sexpr());
                    }
                    if let Some(n) = &h.name {
                        let _ = write!(s, " as {n}");
                    }
                    let _ = write!(s, ": {}", block_sexpr(&h.body));
                }
                if !orelse.is_empty() {
                    let _ = write!(s, " else: {}", block_sexpr(orelse));
                }
                if !finally.is_empty() {
                    let _ = write!(s, " finally: {}", block_sexpr(finally));
                }
                s.push(')');
                s
            }
            StmtKind::Raise(e) => match e {
                Some(e) => format!("(raise {})", e.sexpr()),
                None => "(raise)".into(),
            },
            StmtKind::Global(n) => format!("(global {})", n.join(" ")),
            StmtKind::Nonlocal(n) => format!("(nonlocal {})", n.join(" ")),
            StmtKind::Del(t) => format!(
                "(del {})",
                t.iter().map(Expr::sexpr).collect::<Vec<_>>().join(" ")
            ),
            StmtKind::Assert { test, msg } => match msg {
                Some(m) => format!("(assert {} {})", test.sexpr(), m.sexpr()),
                None => format!("(assert {})", test.sexpr()),
            },
        }
    }
}

/// Render a statement list as `stmt; stmt` S-expressions.
#[cfg(test)]
pub fn sexpr_all(stmts: &[Stmt]) -> String {
    block_sexpr(stmts)
}

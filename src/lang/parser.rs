//! Recursive-descent parser for the shell language.
//!
//! Why hand-written: we want Python's precedence and error messages that say
//! what was expected *and* point at the offending token (the REPL renders a
//! caret under it, see [`ParseError::render`]), with no dependencies. The
//! parser is forgiving where pasted pystemd/IPython code needs it (trailing
//! commas, `true`/`false`, `b"..."` strings, multi-line calls) and strict
//! where guessing would silently change meaning (slices, comprehensions, set
//! literals, chained assignment are reported as unsupported).
//!
//! Robustness: input comes straight from the user, so the parser never panics
//! and bounds both recursion depth and AST height ([`MAX_DEPTH`]); deeper input
//! is an error instead of a stack overflow (in the parser, the evaluator, or
//! when dropping the tree).

use super::ast::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnaryOp};
use super::lexer::{Keyword, Token, TokenKind, lex};
use super::span::{Span, line_col};

/// Maximum bracket/operator nesting and maximum AST height.
pub const MAX_DEPTH: usize = 200;

/// Stack the parser may use before reporting "nested too deeply", whatever
/// [`MAX_DEPTH`] says. Unoptimised builds use ~13 KiB per bracket level, so
/// without this a debug build would overflow a 2 MiB thread (test harness,
/// tokio workers) before reaching `MAX_DEPTH`; release builds use ~2.5 KiB
/// per level and hit `MAX_DEPTH` first.
const STACK_BUDGET: usize = 1 << 20;

/// Address of a local in a fresh frame: a cheap, safe stack-depth probe.
#[inline(never)]
fn stack_addr() -> usize {
    let probe = 0u8;
    std::hint::black_box(&probe) as *const u8 as usize
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Span) -> ParseError {
        ParseError {
            message: message.into(),
            span,
        }
    }
}

/// Lex and parse one input (a REPL line, or a whole file: newlines at bracket
/// depth 0 separate statements like `;`). Empty input gives `Ok(vec![])`.
pub fn parse(line: &str, is_command: &dyn Fn(&str) -> bool) -> Result<Vec<Stmt>, ParseError> {
    parse_tokens(line, lex(line, is_command))
}

/// Parse tokens previously produced by [`lex`] on `line` (avoids lexing
/// twice when the caller already has the tokens).
pub fn parse_tokens(line: &str, mut tokens: Vec<Token>) -> Result<Vec<Stmt>, ParseError> {
    tokens.retain(|t| !matches!(t.kind, TokenKind::Comment(_)));
    if let Some(t) = tokens
        .iter()
        .find(|t| matches!(t.kind, TokenKind::Error(_)))
    {
        let TokenKind::Error(m) = &t.kind else {
            unreachable!()
        };
        return Err(ParseError::new(m.clone(), t.span));
    }
    Parser {
        src: line,
        toks: tokens,
        pos: 0,
        depth: 0,
        last_end: 0,
        stack_base: stack_addr(),
    }
    .program()
}

type PResult<T> = Result<T, ParseError>;

/// An expression plus its height, so AST height can be bounded cheaply.
struct Node {
    e: Expr,
    h: usize,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    last_end: usize,
    stack_base: usize,
}

impl Parser<'_> {
    // ---- token helpers -------------------------------------------------

    fn peek(&self) -> Option<&TokenKind> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn peek_at(&self, n: usize) -> Option<&TokenKind> {
        self.toks.get(self.pos + n).map(|t| &t.kind)
    }

    /// Span of the current token, or an empty span at end of input.
    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::at(self.src.len()), |t| t.span)
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        self.pos += 1;
        self.last_end = t.span.end;
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Op(o)) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> Option<Span> {
        self.is_op(op).then(|| self.bump().span)
    }

    fn is_kw(&self, k: Keyword) -> bool {
        self.peek() == Some(&TokenKind::Keyword(k))
    }

    fn eat_kw(&mut self, k: Keyword) -> bool {
        let yes = self.is_kw(k);
        if yes {
            self.bump();
        }
        yes
    }

    fn at_stmt_end(&self) -> bool {
        matches!(self.peek(), None | Some(TokenKind::Op(";" | "\n")))
    }

    /// Human description of the current token ("name 'x'", "','", ...).
    fn describe(&self) -> String {
        let Some(t) = self.toks.get(self.pos) else {
            return "end of line".into();
        };
        let text = t.span.slice(self.src);
        let short = if text.chars().count() > 24 {
            format!("{}...", text.chars().take(21).collect::<String>())
        } else {
            text.to_string()
        };
        match &t.kind {
            TokenKind::Op("\n") => "end of line".into(),
            TokenKind::Op(o) => format!("'{o}'"),
            TokenKind::Ident(n) => format!("name '{n}'"),
            TokenKind::Int(_) | TokenKind::Float(_) => format!("number {short}"),
            TokenKind::Str(_) => format!("string {short}"),
            TokenKind::Keyword(_) => format!("keyword '{short}'"),
            TokenKind::Bang(_) => "'!'".into(),
            TokenKind::CommandName(w) | TokenKind::Word(w) => format!("word '{w}'"),
            TokenKind::Comment(_) => "comment".into(),
            TokenKind::Error(m) => m.clone(),
        }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        ParseError::new(
            format!("unexpected {}: expected {expected}", self.describe()),
            self.span(),
        )
    }

    fn column(&self, pos: usize) -> String {
        let (l, c) = line_col(self.src, pos);
        if self.src.contains('\n') {
            format!("line {l}, column {c}")
        } else {
            format!("column {c}")
        }
    }

    /// Consume `closer` or explain which bracket is left open.
    fn close(&mut self, closer: &str, open: Span, sep_allowed: bool) -> PResult<Span> {
        match self.eat_op(closer) {
            Some(s) => Ok(s),
            None => Err(self.close_error(closer, open, sep_allowed)),
        }
    }

    fn close_error(&self, closer: &str, open: Span, sep_allowed: bool) -> ParseError {
        let opener = open.slice(self.src);
        let at = self.column(open.start);
        let msg = if self.peek().is_none() {
            format!("expected '{closer}' to close '{opener}' at {at}")
        } else if sep_allowed {
            format!(
                "expected ',' or '{closer}' to close '{opener}' at {at}, found {}",
                self.describe()
            )
        } else {
            format!(
                "expected '{closer}' to close '{opener}' at {at}, found {}",
                self.describe()
            )
        };
        ParseError::new(msg, self.span())
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH || self.stack_base.abs_diff(stack_addr()) > STACK_BUDGET {
            return Err(ParseError::new(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                self.span(),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn node(&self, kind: ExprKind, span: Span, children: &[usize]) -> PResult<Node> {
        let h = 1 + children.iter().copied().max().unwrap_or(0);
        if h > MAX_DEPTH {
            return Err(ParseError::new(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                span,
            ));
        }
        Ok(Node {
            e: Expr { kind, span },
            h,
        })
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.peek() {
            Some(TokenKind::Ident(n)) => {
                let n = n.clone();
                Ok((n, self.bump().span))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    // ---- statements ----------------------------------------------------

    fn program(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), Some(TokenKind::Op(";" | "\n"))) {
                self.bump();
            }
            if self.peek().is_none() {
                return Ok(out);
            }
            out.push(self.statement()?);
            if !self.at_stmt_end() {
                return Err(self.unexpected("an operator, ';' or end of line"));
            }
        }
    }

    fn statement(&mut self) -> PResult<Stmt> {
        let start = self.span().start;
        let kind = match self.peek() {
            Some(TokenKind::CommandName(_)) => self.command(),
            Some(TokenKind::Bang(s)) => {
                let s = s.clone();
                self.bump();
                StmtKind::Shell(s)
            }
            Some(TokenKind::Keyword(Keyword::Import)) => self.import()?,
            Some(TokenKind::Keyword(Keyword::From)) => self.import_from()?,
            Some(TokenKind::Keyword(Keyword::With)) => self.with()?,
            Some(TokenKind::Keyword(Keyword::Pass)) => {
                self.bump();
                StmtKind::Pass
            }
            _ => self.expr_or_assign()?,
        };
        Ok(Stmt {
            kind,
            span: Span::new(start, self.last_end.max(start)),
        })
    }

    fn command(&mut self) -> StmtKind {
        let first = self.bump();
        let TokenKind::CommandName(name) = first.kind else {
            unreachable!()
        };
        let name_span = first.span;
        let mut args = Vec::new();
        // `busctl VERB …`: the verb is the first word; the command runner resolves it (busctl's
        // verbs may differ from ours of the same name).
        while let Some(TokenKind::Word(w) | TokenKind::CommandName(w)) = self.peek() {
            let w = w.clone();
            args.push((w, self.bump().span));
        }
        StmtKind::Command {
            name,
            name_span,
            args,
        }
    }

    fn dotted_name(&mut self, what: &str) -> PResult<String> {
        let (mut name, _) = self.ident(what)?;
        while self.is_op(".") {
            self.bump();
            let (part, _) = self.ident("a name after '.'")?;
            name.push('.');
            name.push_str(&part);
        }
        Ok(name)
    }

    fn alias(&mut self) -> PResult<Option<String>> {
        if self.eat_kw(Keyword::As) {
            Ok(Some(self.ident("a name after 'as'")?.0))
        } else {
            Ok(None)
        }
    }

    fn import(&mut self) -> PResult<StmtKind> {
        self.bump();
        let mut modules = Vec::new();
        loop {
            let m = self.dotted_name("a module name after 'import'")?;
            modules.push((m, self.alias()?));
            if self.eat_op(",").is_none() {
                break;
            }
        }
        Ok(StmtKind::Import {
            from: None,
            modules,
        })
    }

    fn import_from(&mut self) -> PResult<StmtKind> {
        self.bump();
        let mut from = String::new();
        while self.eat_op(".").is_some() {
            from.push('.');
        }
        if from.is_empty() || matches!(self.peek(), Some(TokenKind::Ident(_))) {
            from.push_str(&self.dotted_name("a module name after 'from'")?);
        }
        if !self.eat_kw(Keyword::Import) {
            return Err(self.unexpected("'import' after the module name"));
        }
        let mut modules = Vec::new();
        if self.eat_op("*").is_some() {
            modules.push(("*".to_string(), None));
        } else {
            let open = self.eat_op("(");
            loop {
                let (n, _) = self.ident("a name to import")?;
                modules.push((n, self.alias()?));
                if self.eat_op(",").is_none() || (open.is_some() && self.is_op(")")) {
                    break;
                }
            }
            if let Some(open) = open {
                self.close(")", open, true)?;
            }
        }
        Ok(StmtKind::Import {
            from: Some(from),
            modules,
        })
    }

    fn with(&mut self) -> PResult<StmtKind> {
        self.bump();
        let expr = self.expr()?.e;
        let name = self.alias()?;
        if self.eat_op(":").is_none() {
            return Err(self.unexpected("':' after the 'with' header"));
        }
        if self.at_stmt_end() {
            return Err(ParseError::new(
                "expected a statement after ':' (only single-line 'with' bodies are supported)",
                self.span(),
            ));
        }
        self.enter()?;
        let mut body = Vec::new();
        loop {
            body.push(self.statement()?);
            let mut semi = false;
            while self.eat_op(";").is_some() {
                semi = true;
            }
            match self.peek() {
                None | Some(TokenKind::Op("\n")) => break,
                _ if semi => continue,
                _ => return Err(self.unexpected("an operator, ';' or end of line")),
            }
        }
        self.depth -= 1;
        Ok(StmtKind::With { expr, name, body })
    }

    fn expr_or_assign(&mut self) -> PResult<StmtKind> {
        let target = self.expr_list()?.e;
        let Some(eq) = self.eat_op("=") else {
            return Ok(StmtKind::Expr(target));
        };
        if !matches!(
            target.kind,
            ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Index { .. }
        ) {
            return Err(ParseError::new(
                format!(
                    "cannot assign to {}: only names, attributes (a.b) and items (a[k]) can be assigned",
                    target.kind.describe()
                ),
                target.span,
            ));
        }
        if self.at_stmt_end() {
            return Err(ParseError::new(
                format!("expected a value after '=' at {}", self.column(eq.start)),
                self.span(),
            ));
        }
        let value = self.expr_list()?.e;
        if self.is_op("=") {
            return Err(ParseError::new(
                "chained assignment (a = b = value) is not supported; assign one name at a time",
                self.span(),
            ));
        }
        Ok(StmtKind::Assign { target, value })
    }

    // ---- expressions ---------------------------------------------------

    /// `expr (, expr)* [,]` — a bare tuple when there is a comma.
    fn expr_list(&mut self) -> PResult<Node> {
        let first = self.expr()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let start = first.e.span;
        let mut h = first.h;
        let mut items = vec![first.e];
        while self.eat_op(",").is_some() {
            if self.at_stmt_end() || self.is_op("=") {
                break;
            }
            let n = self.expr()?;
            h = h.max(n.h);
            items.push(n.e);
        }
        self.node(
            ExprKind::Tuple(items),
            start.to(Span::at(self.last_end)),
            &[h],
        )
    }

    fn expr(&mut self) -> PResult<Node> {
        self.enter()?;
        let r = self.binary(1);
        self.depth -= 1;
        r
    }

    /// (operator, precedence, tokens) of a binary operator at the cursor.
    /// Precedence: or 1, and 2, (not 3), comparisons 4, + - 5, * / // % 6,
    /// (unary 7), ** 8.
    fn peek_binop(&self) -> Option<(BinOp, usize, usize)> {
        use TokenKind::{Keyword as K, Op};
        Some(match self.peek()? {
            K(Keyword::Or) => (BinOp::Or, 1, 1),
            K(Keyword::And) => (BinOp::And, 2, 1),
            K(Keyword::In) => (BinOp::In, 4, 1),
            K(Keyword::Not) if self.peek_at(1) == Some(&K(Keyword::In)) => (BinOp::NotIn, 4, 2),
            K(Keyword::Is) if self.peek_at(1) == Some(&K(Keyword::Not)) => (BinOp::IsNot, 4, 2),
            K(Keyword::Is) => (BinOp::Is, 4, 1),
            Op("==") => (BinOp::Eq, 4, 1),
            Op("!=") => (BinOp::Ne, 4, 1),
            Op("<") => (BinOp::Lt, 4, 1),
            Op("<=") => (BinOp::Le, 4, 1),
            Op(">") => (BinOp::Gt, 4, 1),
            Op(">=") => (BinOp::Ge, 4, 1),
            Op("+") => (BinOp::Add, 5, 1),
            Op("-") => (BinOp::Sub, 5, 1),
            Op("*") => (BinOp::Mul, 6, 1),
            Op("/") => (BinOp::Div, 6, 1),
            Op("//") => (BinOp::FloorDiv, 6, 1),
            Op("%") => (BinOp::Mod, 6, 1),
            Op("**") => (BinOp::Pow, 8, 1),
            _ => return None,
        })
    }

    /// Precedence climbing over all binary operators with precedence >= `min`.
    fn binary(&mut self, min: usize) -> PResult<Node> {
        let mut left = self.prefix(min)?;
        // Right operand of the previous comparison, for chains `a < b < c`
        // which mean `a < b and b < c` (note: `b` is evaluated twice).
        let mut chain: Option<Expr> = None;
        while let Some((op, prec, ntok)) = self.peek_binop() {
            if prec < min {
                break;
            }
            for _ in 0..ntok {
                self.bump();
            }
            let right = if op == BinOp::Pow {
                // right-associative, and the exponent may be unary: 2 ** -1
                self.enter()?;
                let r = self.binary(7);
                self.depth -= 1;
                r?
            } else {
                self.binary(prec + 1)?
            };
            let mid = chain.take();
            let keep = op.is_comparison().then(|| right.e.clone());
            left = self.combine(op, left, right, mid)?;
            if let Some(e) = keep {
                chain = Some(e);
            }
        }
        Ok(left)
    }

    /// `left op right`, or for a comparison chain `left and (mid op right)`.
    #[inline(never)]
    fn combine(&self, op: BinOp, left: Node, right: Node, mid: Option<Expr>) -> PResult<Node> {
        let span = left.e.span.to(right.e.span);
        let (h_left, h_right) = (left.h, right.h);
        let right = match mid {
            Some(mid) if op.is_comparison() => {
                let cmp_span = mid.span.to(right.e.span);
                let kind = ExprKind::Binary {
                    op,
                    left: Box::new(mid),
                    right: Box::new(right.e),
                };
                // `mid` was part of `left`, so its height is below left's
                let cmp = self.node(kind, cmp_span, &[h_left, h_right])?;
                return self.node(
                    ExprKind::Binary {
                        op: BinOp::And,
                        left: Box::new(left.e),
                        right: Box::new(cmp.e),
                    },
                    span,
                    &[h_left, cmp.h],
                );
            }
            _ => right,
        };
        self.node(
            ExprKind::Binary {
                op,
                left: Box::new(left.e),
                right: Box::new(right.e),
            },
            span,
            &[h_left, h_right],
        )
    }

    fn prefix(&mut self, min: usize) -> PResult<Node> {
        let (op, operand_prec) = match self.peek() {
            Some(TokenKind::Keyword(Keyword::Not)) if min <= 3 => (UnaryOp::Not, 3),
            Some(TokenKind::Op("-")) if min <= 7 => (UnaryOp::Neg, 7),
            Some(TokenKind::Op("+")) if min <= 7 => (UnaryOp::Pos, 7),
            _ => return self.postfix(),
        };
        let start = self.bump().span;
        self.enter()?;
        let inner = self.binary(operand_prec);
        self.depth -= 1;
        let inner = inner?;
        let span = start.to(inner.e.span);
        self.node(
            ExprKind::Unary {
                op,
                expr: Box::new(inner.e),
            },
            span,
            &[inner.h],
        )
    }

    fn postfix(&mut self) -> PResult<Node> {
        let mut n = self.atom()?;
        loop {
            if self.is_op("(") {
                n = self.call(n)?;
            } else if self.is_op(".") {
                self.bump();
                let (name, name_span) = self.ident("an attribute name after '.'")?;
                let span = n.e.span.to(name_span);
                n = self.node(
                    ExprKind::Attr {
                        obj: Box::new(n.e),
                        name,
                        name_span,
                    },
                    span,
                    &[n.h],
                )?;
            } else if self.is_op("[") {
                let open = self.bump().span;
                let idx = self.subscript()?;
                let close = self.close("]", open, false)?;
                let span = n.e.span.to(close);
                n = self.node(
                    ExprKind::Index {
                        obj: Box::new(n.e),
                        index: Box::new(idx.e),
                    },
                    span,
                    &[n.h, idx.h],
                )?;
            } else {
                return Ok(n);
            }
        }
    }

    fn slice_error(&self) -> ParseError {
        ParseError::new("slices (a[i:j]) are not supported", self.span())
    }

    fn subscript(&mut self) -> PResult<Node> {
        if self.is_op("]") {
            return Err(ParseError::new(
                "expected an index between '[' and ']'",
                self.span(),
            ));
        }
        if self.is_op(":") {
            return Err(self.slice_error());
        }
        let first = self.expr()?;
        if self.is_op(":") {
            return Err(self.slice_error());
        }
        if !self.is_op(",") {
            return Ok(first);
        }
        let start = first.e.span;
        let mut h = first.h;
        let mut items = vec![first.e];
        while self.eat_op(",").is_some() && !self.is_op("]") {
            let n = self.expr()?;
            h = h.max(n.h);
            items.push(n.e);
        }
        self.node(
            ExprKind::Tuple(items),
            start.to(Span::at(self.last_end)),
            &[h],
        )
    }

    fn call(&mut self, func: Node) -> PResult<Node> {
        let open = self.bump().span;
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Span, Expr)> = Vec::new();
        let mut h = func.h;
        while !self.is_op(")") && self.peek().is_some() {
            if let (Some(TokenKind::Ident(name)), Some(TokenKind::Op("="))) =
                (self.peek(), self.peek_at(1))
            {
                let name = name.clone();
                let name_span = self.bump().span;
                self.bump();
                if kwargs.iter().any(|(k, _, _)| *k == name) {
                    return Err(ParseError::new(
                        format!("keyword argument '{name}' repeated"),
                        name_span,
                    ));
                }
                let v = self.expr()?;
                h = h.max(v.h);
                kwargs.push((name, name_span, v.e));
            } else if self.is_op("*") || self.is_op("**") {
                return Err(ParseError::new(
                    "argument unpacking (*args, **kwargs) is not supported",
                    self.span(),
                ));
            } else {
                let a = self.expr()?;
                if !kwargs.is_empty() {
                    return Err(ParseError::new(
                        "positional argument follows keyword argument",
                        a.e.span,
                    ));
                }
                if self.is_op("=") {
                    return Err(ParseError::new(
                        "keyword argument name must be a plain name (name=value)",
                        a.e.span,
                    ));
                }
                h = h.max(a.h);
                args.push(a.e);
            }
            if self.eat_op(",").is_none() {
                break;
            }
        }
        let close = self.close(")", open, true)?;
        let span = func.e.span.to(close);
        self.node(
            ExprKind::Call {
                func: Box::new(func.e),
                args,
                kwargs,
            },
            span,
            &[h],
        )
    }

    /// Comma-separated expressions up to `closer` (trailing comma allowed).
    fn items(&mut self, open: Span, closer: &str) -> PResult<(Vec<Expr>, usize, Span)> {
        let mut items = Vec::new();
        let mut h = 0;
        while !self.is_op(closer) && self.peek().is_some() {
            let n = self.expr()?;
            h = h.max(n.h);
            items.push(n.e);
            if self.eat_op(",").is_none() {
                break;
            }
        }
        let close = self.close(closer, open, true)?;
        Ok((items, h, open.to(close)))
    }

    fn atom(&mut self) -> PResult<Node> {
        let span = self.span();
        let kind = match self.peek() {
            None => {
                return Err(ParseError::new(
                    "unexpected end of line: expected an expression",
                    span,
                ));
            }
            Some(TokenKind::Int(i)) => ExprKind::Int(*i),
            Some(TokenKind::Float(f)) => ExprKind::Float(*f),
            Some(TokenKind::Ident(n)) => ExprKind::Name(n.clone()),
            Some(TokenKind::Keyword(Keyword::True)) => ExprKind::Bool(true),
            Some(TokenKind::Keyword(Keyword::False)) => ExprKind::Bool(false),
            Some(TokenKind::Keyword(Keyword::None)) => ExprKind::None,
            Some(TokenKind::Str(_)) => {
                // adjacent literals concatenate: "a" 'b' == "ab"
                let mut s = String::new();
                let mut end = span;
                while let Some(TokenKind::Str(part)) = self.peek() {
                    s.push_str(part);
                    end = self.bump().span;
                }
                return self.node(ExprKind::Str(s), span.to(end), &[]);
            }
            Some(TokenKind::Op("(")) => return self.paren(),
            Some(TokenKind::Op("[")) => {
                let open = self.bump().span;
                let (items, h, span) = self.items(open, "]")?;
                return self.node(ExprKind::List(items), span, &[h]);
            }
            Some(TokenKind::Op("{")) => return self.dict(),
            _ => return Err(self.unexpected("an expression")),
        };
        self.bump();
        self.node(kind, span, &[])
    }

    fn paren(&mut self) -> PResult<Node> {
        let open = self.bump().span;
        if let Some(close) = self.eat_op(")") {
            return self.node(ExprKind::Tuple(vec![]), open.to(close), &[]);
        }
        let first = self.expr()?;
        if let Some(close) = self.eat_op(")") {
            // parenthesised expression: same node, span includes the parens
            return Ok(Node {
                e: Expr {
                    kind: first.e.kind,
                    span: open.to(close),
                },
                h: first.h,
            });
        }
        if self.eat_op(",").is_none() {
            return Err(self.close_error(")", open, true));
        }
        let (mut rest, h, span) = self.items(open, ")")?;
        rest.insert(0, first.e);
        self.node(ExprKind::Tuple(rest), span, &[h.max(first.h)])
    }

    fn dict(&mut self) -> PResult<Node> {
        let open = self.bump().span;
        let mut pairs = Vec::new();
        let mut h = 0;
        while !self.is_op("}") && self.peek().is_some() {
            let k = self.expr()?;
            if self.eat_op(":").is_none() {
                if pairs.is_empty() && (self.is_op(",") || self.is_op("}")) {
                    return Err(ParseError::new(
                        "set literals ({a, b}) are not supported; use a list [a, b]",
                        open.to(k.e.span),
                    ));
                }
                return Err(self.unexpected("':' after the dict key"));
            }
            let v = self.expr()?;
            h = h.max(k.h).max(v.h);
            pairs.push((k.e, v.e));
            if self.eat_op(",").is_none() {
                break;
            }
        }
        let close = self.close("}", open, true)?;
        self.node(ExprKind::Dict(pairs), open.to(close), &[h])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ast::sexpr_all;

    fn render(e: &ParseError, src: &str) -> String {
        crate::lang::error::render_caret(src, e.span, &e.message)
    }
    use crate::lang::span::line_col;

    fn is_cmd(w: &str) -> bool {
        [
            "list",
            "tree",
            "introspect",
            "get-property",
            "set-property",
            "call",
            "help",
            "exit",
            "quit",
            "monitor",
            "capture",
            "busctl",
        ]
        .contains(&w)
    }

    fn p(line: &str) -> Result<String, String> {
        parse(line, &is_cmd)
            .map(|s| sexpr_all(&s))
            .map_err(|e| render(&e, line))
    }

    #[test]
    fn parse_table() {
        let rows: &[(&str, &str)] = &[
            // --- the pystemd workshop lines ---
            (
                r#"service_path = pystemd.dbuslib.path_encode(b"/org/freedesktop/systemd1/unit", b"myfirstservice.service")"#,
                r#"(= service_path (call (. (. pystemd dbuslib) path_encode) "/org/freedesktop/systemd1/unit" "myfirstservice.service"))"#,
            ),
            (
                r#"sdobject = pystemd.base.SDObject("org.freedesktop.systemd1", service_path, _autoload=True)"#,
                r#"(= sdobject (call (. (. pystemd base) SDObject) "org.freedesktop.systemd1" service_path _autoload=True))"#,
            ),
            (
                r#"sdobject.Properties.Get('org.freedesktop.systemd1.Service', "MainPID")"#,
                r#"(call (. (. sdobject Properties) Get) "org.freedesktop.systemd1.Service" "MainPID")"#,
            ),
            ("type(_)", "(call type _)"),
            (
                "sdobject._interfaces['org.freedesktop.DBus.Peer'].GetMachineId()",
                r#"(call (. ([] (. sdobject _interfaces) "org.freedesktop.DBus.Peer") GetMachineId))"#,
            ),
            (
                r#"sdmanager.Manager.AttachProcessesToUnit("myfirstservice.service", "/", [os.getpid()])"#,
                r#"(call (. (. sdmanager Manager) AttachProcessesToUnit) "myfirstservice.service" "/" [(call (. os getpid))])"#,
            ),
            ("import pystemd.run", "(import pystemd.run)"),
            ("import os", "(import os)"),
            (
                "pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=pystemd.daemon.watchdog_enabled() / 2 )",
                "(call (. (. pystemd daemon) notify) False WATCHDOG=1 WATCHDOG_USEC=(/ (call (. (. pystemd daemon) watchdog_enabled)) 2))",
            ),
            (
                r#"unit = pystemd.run("/usr/bin/stress --cpu 2", extra={"CPUQuota": 0.1})"#,
                r#"(= unit (call (. pystemd run) "/usr/bin/stress --cpu 2" extra={"CPUQuota": 0.1}))"#,
            ),
            (
                r#"with pystemd.base.SDObject("org.freedesktop.systemd1", service_path, _autoload=True) as sdobject: print(sdobject.Service.MainPID)"#,
                r#"(with (call (. (. pystemd base) SDObject) "org.freedesktop.systemd1" service_path _autoload=True) as sdobject: (call print (. (. sdobject Service) MainPID)))"#,
            ),
            (
                "pystemd.run(\n    [\"/usr/bin/env\"],\n    wait=True,\n)\nunit",
                r#"(call (. pystemd run) ["/usr/bin/env"] wait=True); unit"#,
            ),
            // --- command lines ---
            (
                "busctl call  org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice  org.freedesktop.DBus.Properties  Get ss org.freedesktop.systemd1.Service MainPID",
                r#"(cmd busctl "call" "org.freedesktop.systemd1" "/org/freedesktop/systemd1/unit/myfirstservice_2eservice" "org.freedesktop.DBus.Properties" "Get" "ss" "org.freedesktop.systemd1.Service" "MainPID")"#,
            ),
            (
                "introspect org.freedesktop.systemd1 /org/freedesktop/systemd1",
                r#"(cmd introspect "org.freedesktop.systemd1" "/org/freedesktop/systemd1")"#,
            ),
            (
                r#"call x /y z.w Restart s "replace""#,
                r#"(cmd call "x" "/y" "z.w" "Restart" "s" "replace")"#,
            ),
            (
                "get-property a /b c D; list",
                r#"(cmd get-property "a" "/b" "c" "D"); (cmd list)"#,
            ),
            (
                "tree org.freedesktop.systemd1 # comment",
                r#"(cmd tree "org.freedesktop.systemd1")"#,
            ),
            ("list = 3", "(= list 3)"),
            ("call(1)", "(call call 1)"),
            ("help", "(cmd help)"),
            ("help()", "(call help)"),
            ("!ls -l | wc -l; echo x", r#"(! "ls -l | wc -l; echo x")"#),
            (
                "busctl introspect X Y",
                r#"(cmd busctl "introspect" "X" "Y")"#,
            ),
            ("busctl --user tree", r#"(cmd busctl "--user" "tree")"#),
            ("busctl", "(cmd busctl)"),
            (
                "x = 1; tree a\nlist",
                r#"(= x 1); (cmd tree "a"); (cmd list)"#,
            ),
            (
                r#"set-property a /b c D s 'hello world'"#,
                r#"(cmd set-property "a" "/b" "c" "D" "s" "hello world")"#,
            ),
            // --- statements ---
            ("", ""),
            ("   ", ""),
            (";;", ""),
            ("# just a comment", ""),
            ("x = 1  # set x", "(= x 1)"),
            ("a; b;", "a; b"),
            ("\n\na\n\n", "a"),
            ("pass", "pass"),
            ("x.y = 1", "(= (. x y) 1)"),
            ("x[0] = 1", "(= ([] x 0) 1)"),
            ("x = 1, 2", "(= x (tuple 1 2))"),
            ("x = 1,", "(= x (tuple 1))"),
            ("import a.b as c, d", "(import a.b as c, d)"),
            ("from a.b import c as d, e", "(from a.b import c as d, e)"),
            ("from a import (b,\n c,)", "(from a import b, c)"),
            ("from . import x", "(from . import x)"),
            ("from ..a import *", "(from ..a import *)"),
            ("with a: b; c", "(with a: b; c)"),
            (
                "with a as b: list x; c\nd",
                r#"(with a as b: (cmd list "x"); c); d"#,
            ),
            ("with a: pass;", "(with a: pass)"),
            // --- literals ---
            ("None", "None"),
            ("true, false, True", "(tuple True False True)"),
            ("0x10", "16"),
            ("1.5e3", "1500.0"),
            (r#""a" 'b' "c""#, r#""abc""#),
            ("b'\\x00\\n'", r#""\0\n""#),
            ("[]", "[]"),
            ("[1, 2,]", "[1, 2]"),
            ("[[1], []]", "[[1], []]"),
            ("()", "(tuple)"),
            ("(1)", "1"),
            ("(1,)", "(tuple 1)"),
            ("(1, 2)", "(tuple 1 2)"),
            ("(1, 2,)", "(tuple 1 2)"),
            ("a, b", "(tuple a b)"),
            ("{}", "{}"),
            ("{'a': 1, 'b': [2],}", r#"{"a": 1, "b": [2]}"#),
            ("{1: {2: 3}}", "{1: {2: 3}}"),
            // --- calls, attributes, items ---
            ("f()", "(call f)"),
            ("f(1,)", "(call f 1)"),
            ("f(a, b=1,)", "(call f a b=1)"),
            ("f(x)(y)", "(call (call f x) y)"),
            ("a.b.c", "(. (. a b) c)"),
            ("a[1, 2]", "([] a (tuple 1 2))"),
            ("a[(1, 2)]", "([] a (tuple 1 2))"),
            ("a['x'].y[0](z)", r#"(call ([] (. ([] a "x") y) 0) z)"#),
            ("f(a == b)", "(call f (== a b))"),
            // --- precedence ---
            ("1 + 2 * 3", "(+ 1 (* 2 3))"),
            ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
            ("1 - 2 - 3", "(- (- 1 2) 3)"),
            ("a / b // c % d", "(% (// (/ a b) c) d)"),
            ("2 ** 3 ** 2", "(** 2 (** 3 2))"),
            ("-2 ** 2", "(- (** 2 2))"),
            ("2 ** -1", "(** 2 (- 1))"),
            ("2 ** -1 * 3", "(* (** 2 (- 1)) 3)"),
            ("-a * b", "(* (- a) b)"),
            ("- - +a", "(- (- (+ a)))"),
            ("-x.y(1)", "(- (call (. x y) 1))"),
            ("a or b and c", "(or a (and b c))"),
            ("a and b or c", "(or (and a b) c)"),
            ("not a or b", "(or (not a) b)"),
            ("not a == b", "(not (== a b))"),
            ("not not a", "(not (not a))"),
            ("a + 1 == b * 2", "(== (+ a 1) (* b 2))"),
            ("a < b < c", "(and (< a b) (< b c))"),
            ("a < b <= c != d", "(and (and (< a b) (<= b c)) (!= c d))"),
            ("a < b and c > d", "(and (< a b) (> c d))"),
            ("a in b", "(in a b)"),
            ("a not in b", "(not in a b)"),
            ("a is None", "(is a None)"),
            ("a is not None", "(is not a None)"),
            ("not a in b", "(not (in a b))"),
            ("a >= 1 or not b", "(or (>= a 1) (not b))"),
        ];
        let mut bad = Vec::new();
        for (input, want) in rows {
            match p(input) {
                Ok(got) if got == *want => {}
                got => bad.push(format!("{input:?}\n   got: {got:?}\n  want: {want}")),
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// (input, 1-based char column where the error starts or 0 for "any",
    /// message fragment)
    #[test]
    fn error_table() {
        let deep_parens = "(".repeat(10_000);
        let deep_brackets = format!("x = {}1{}", "[".repeat(5000), "]".repeat(5000));
        let deep_neg = format!("{}1", "-".repeat(10_000));
        let deep_not = format!("{}a", "not ".repeat(10_000));
        let long_sum = format!("1{}", " + 1".repeat(5000));
        let long_attr = format!("a{}", ".b".repeat(5000));
        let long_pow = format!("2{}", " ** 2".repeat(5000));
        let deep_with = "with a: ".repeat(5000) + "b";
        let rows: Vec<(&str, usize, &str)> = vec![
            ("f(1, 2", 7, "expected ')' to close '(' at column 2"),
            (
                "f(1 2)",
                5,
                "expected ',' or ')' to close '(' at column 2, found number 2",
            ),
            ("f(1; 2)", 4, "expected ',' or ')' to close '('"),
            ("[1, 2", 6, "expected ']' to close '[' at column 1"),
            ("{'a': 1", 8, "expected '}' to close '{' at column 1"),
            ("x[1", 4, "expected ']' to close '['"),
            (
                "(a b)",
                4,
                "expected ',' or ')' to close '(' at column 1, found name 'b'",
            ),
            (
                "f(\n1,\n",
                1,
                "expected ')' to close '(' at line 1, column 2",
            ),
            ("f(1,", 5, "expected ')' to close '(' at column 2"),
            ("[1,", 4, "expected ']' to close '[' at column 1"),
            ("(1,", 4, "expected ')' to close '(' at column 1"),
            ("{1: 2,", 7, "expected '}' to close '{' at column 1"),
            (", a", 1, "unexpected ',': expected an expression"),
            (
                "a b",
                3,
                "unexpected name 'b': expected an operator, ';' or end of line",
            ),
            ("x = 1 2", 7, "unexpected number 2"),
            ("print 'x'", 7, "unexpected string 'x'"),
            ("x = ", 5, "expected a value after '=' at column 3"),
            ("1 +", 4, "unexpected end of line: expected an expression"),
            (
                "f(a=1, 2)",
                8,
                "positional argument follows keyword argument",
            ),
            ("f(a=1, a=2)", 8, "keyword argument 'a' repeated"),
            ("f(a.b=1)", 3, "keyword argument name must be a plain name"),
            ("f(*a)", 3, "argument unpacking"),
            ("f(**a)", 3, "argument unpacking"),
            ("f(x) = 3", 1, "cannot assign to a function call"),
            ("a, b = 1, 2", 1, "cannot assign to a tuple"),
            ("1 = 2", 1, "cannot assign to a number"),
            ("None = 2", 1, "cannot assign to None"),
            ("a + b = 2", 1, "cannot assign to an operator expression"),
            ("a = b = 1", 7, "chained assignment"),
            ("x = \"abc", 5, "unterminated string: add the closing \""),
            ("x = 'abc", 5, "unterminated string: add the closing '"),
            (
                "call x \"unterminated",
                8,
                "unterminated quote: add the closing \"",
            ),
            ("x = 1 $", 7, "unexpected character '$'"),
            ("é = 1", 1, "unexpected character 'é'"),
            ("\"é\" + $", 7, "unexpected character '$'"),
            (
                "x ! y",
                3,
                "shell escapes (!cmd) are only allowed at the start",
            ),
            ("1abc", 1, "invalid number literal '1abc'"),
            ("0x", 1, "invalid number literal"),
            (
                "99999999999999999999999999999999999999999",
                1,
                "integer literal too large",
            ),
            ("\"\\xZ\"", 1, "invalid \\x escape"),
            ("a[1:2]", 4, "slices (a[i:j]) are not supported"),
            ("a[:2]", 3, "slices"),
            ("a[]", 3, "expected an index"),
            ("{1, 2}", 1, "set literals"),
            (
                "{1: 2, 3}",
                9,
                "unexpected '}': expected ':' after the dict key",
            ),
            ("a == not b", 6, "unexpected keyword 'not'"),
            ("a.1", 2, "unexpected number .1"),
            ("a.", 3, "expected an attribute name after '.'"),
            ("a.None", 3, "expected an attribute name"),
            ("import", 7, "expected a module name after 'import'"),
            ("import a.", 10, "expected a name after '.'"),
            ("from a", 7, "expected 'import' after the module name"),
            ("from a import", 14, "expected a name to import"),
            ("import a as", 12, "expected a name after 'as'"),
            ("with a", 7, "expected ':' after the 'with' header"),
            ("with a as b:", 13, "expected a statement after ':'"),
            ("with a:\n  b", 8, "only single-line 'with' bodies"),
            (
                "x = [i for i in y]",
                8,
                "expected ',' or ']' to close '[' at column 5, found name 'for'",
            ),
            ("lambda: 1", 7, "unexpected ':'"),
            ("x += 1", 4, "unexpected '=': expected an expression"),
            (")", 1, "unexpected ')'"),
            ("a\nb c", 3, "unexpected name 'c'"),
            // column 0: don't care (debug builds stop earlier, see STACK_BUDGET)
            (&deep_parens, 0, "nested too deeply"),
            (&deep_brackets, 0, "nested too deeply"),
            (&deep_neg, 0, "nested too deeply"),
            (&deep_not, 0, "nested too deeply"),
            (&long_sum, 1, "nested too deeply"),
            (&long_attr, 1, "nested too deeply"),
            (&long_pow, 0, "nested too deeply"),
            (&deep_with, 0, "nested too deeply"),
        ];
        let mut bad = Vec::new();
        for (input, col, frag) in &rows {
            let short: String = input.chars().take(40).collect();
            match parse(input, &is_cmd) {
                Ok(s) => bad.push(format!("{short:?}: parsed as {}", sexpr_all(&s))),
                Err(e) => {
                    let got_col = line_col(input, e.span.start).1;
                    if (*col != 0 && got_col != *col) || !e.message.contains(frag) {
                        bad.push(format!(
                            "{short:?}\n   got: col {got_col}: {}\n  want: col {col}: ..{frag}..",
                            e.message
                        ));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn render_puts_carets_under_the_span() {
        let rows: &[(&str, &str)] = &[
            (
                "f(1, 2",
                "f(1, 2\n      ^ expected ')' to close '(' at column 2",
            ),
            (
                "x = abc def",
                "x = abc def\n        ^^^ unexpected name 'def': expected an operator, ';' or end of line",
            ),
            (
                "x = 'éü' $",
                "x = 'éü' $\n         ^ unexpected character '$'",
            ),
            ("\tx $", "\tx $\n\t  ^ unexpected character '$'"),
            (
                "f(a=1, 2)",
                "f(a=1, 2)\n       ^ positional argument follows keyword argument",
            ),
            (
                "f(x) = 3",
                "f(x) = 3\n^^^^ cannot assign to a function call: only names, attributes (a.b) and items (a[k]) can be assigned",
            ),
            (
                "a = 1\nb c\nd",
                "b c\n  ^ unexpected name 'c': expected an operator, ';' or end of line",
            ),
            (
                "x = 'ab",
                "x = 'ab\n    ^^^ unterminated string: add the closing '",
            ),
        ];
        for (input, want) in rows {
            let e = parse(input, &is_cmd).unwrap_err();
            assert_eq!(render(&e, input), *want, "{input:?}");
        }
        // never panics on spans that don't fit the line
        let e = ParseError::new("m", Span::new(50, 3));
        assert_eq!(render(&e, "é"), "é\n ^ m");
        assert_eq!(e.to_string(), "m");
    }

    #[test]
    fn spans_point_into_the_source() {
        let line = "sdobject.Properties.Get('x', k=1)";
        let s = parse(line, &is_cmd).unwrap();
        let StmtKind::Expr(e) = &s[0].kind else {
            panic!()
        };
        assert_eq!(e.span.slice(line), line);
        let ExprKind::Call { func, args, kwargs } = &e.kind else {
            panic!()
        };
        let ExprKind::Attr { name_span, .. } = &func.kind else {
            panic!()
        };
        assert_eq!(name_span.slice(line), "Get");
        assert_eq!(func.span.slice(line), "sdobject.Properties.Get");
        assert_eq!(args[0].span.slice(line), "'x'");
        assert_eq!(kwargs[0].1.slice(line), "k");

        let line = "x; busctl tree 'a b' c # z";
        let s = parse(line, &is_cmd).unwrap();
        assert_eq!(s[1].span.slice(line), "busctl tree 'a b' c");
        let StmtKind::Command {
            name,
            name_span,
            args,
        } = &s[1].kind
        else {
            panic!()
        };
        assert_eq!((name.as_str(), name_span.slice(line)), ("busctl", "busctl"));
        assert_eq!(args[0], ("tree".to_string(), Span::new(10, 14)));
        assert_eq!(args[1], ("a b".to_string(), Span::new(15, 20)));
    }

    #[test]
    fn parser_is_total() {
        use crate::lang::lexer::tests::{TRICKY, random_lines};
        for line in TRICKY {
            for (i, _) in line.char_indices() {
                let _ = parse(&line[..i], &is_cmd);
            }
        }
        for line in random_lines(3000) {
            if let Err(e) = parse(&line, &is_cmd) {
                let _ = render(&e, &line);
            }
        }
    }
}

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
use super::span::{Span, floor_boundary, line_col};

/// Maximum bracket/operator nesting and maximum AST height.
pub const MAX_DEPTH: usize = 200;

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

    /// The physical line containing the error, then a caret line under the
    /// span (in characters, tabs preserved) followed by the message:
    ///
    /// ```text
    /// f(1, 2
    ///       ^ expected ')' to close '(' at column 2
    /// ```
    pub fn render(&self, line: &str) -> String {
        let start = floor_boundary(line, self.span.start);
        let ls = line[..start].rfind('\n').map_or(0, |i| i + 1);
        let le = line[start..].find('\n').map_or(line.len(), |i| start + i);
        let end = floor_boundary(line, self.span.end).clamp(start, le);
        let pad: String = line[ls..start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = "^".repeat(line[start..end].chars().count().max(1));
        format!("{}\n{pad}{carets} {}", &line[ls..le], self.message)
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
    if let Some(t) = tokens.iter().find(|t| matches!(t.kind, TokenKind::Error(_))) {
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
        if self.depth >= MAX_DEPTH {
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
            Some(TokenKind::Keyword(Keyword::From)) => self.from_import()?,
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
        let TokenKind::CommandName(mut name) = first.kind else {
            unreachable!()
        };
        let mut name_span = first.span;
        if name == "busctl"
            && let Some(TokenKind::CommandName(n)) = self.peek()
        {
            name = n.clone();
            name_span = self.bump().span;
        }
        let mut args = Vec::new();
        while let Some(TokenKind::Word(w)) = self.peek() {
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

    fn from_import(&mut self) -> PResult<StmtKind> {
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
        let mut chain: Option<Node> = None;
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
            let span = left.e.span.to(right.e.span);
            left = match chain.take() {
                Some(mid) if op.is_comparison() => {
                    let cmp_span = mid.e.span.to(right.e.span);
                    let cmp = self.node(
                        ExprKind::Binary {
                            op,
                            left: Box::new(mid.e),
                            right: Box::new(right.e.clone()),
                        },
                        cmp_span,
                        &[mid.h, right.h],
                    )?;
                    self.node(
                        ExprKind::Binary {
                            op: BinOp::And,
                            left: Box::new(left.e),
                            right: Box::new(cmp.e),
                        },
                        span,
                        &[left.h, cmp.h],
                    )?
                }
                _ => self.node(
                    ExprKind::Binary {
                        op,
                        left: Box::new(left.e),
                        right: Box::new(right.e.clone()),
                    },
                    span,
                    &[left.h, right.h],
                )?,
            };
            if op.is_comparison() {
                chain = Some(right);
            }
        }
        Ok(left)
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
        while !self.is_op(")") {
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
        while !self.is_op(closer) {
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
        while !self.is_op("}") {
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

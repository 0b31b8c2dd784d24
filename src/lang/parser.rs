//! Recursive-descent parser for the shell language.
//!
//! Why hand-written: we want Python's precedence, Python's blocks and error messages that say
//! what was expected *and* point at the offending token (the REPL renders a caret under it,
//! see [`crate::lang::error::render_caret`]), with no dependencies. The parser is forgiving
//! where pasted pystemd/IPython code needs it (trailing commas, `true`/`false`, `b"..."`
//! strings, multi-line calls) and strict where guessing would silently change meaning
//! (classes, generators and decorators are reported as unsupported, by name).
//!
//! Blocks: there are no INDENT/DEDENT tokens; a statement's indentation is read from the
//! source at its first token (tabs count to the next multiple of 8), so the lexer stays
//! oblivious of blocks and cheap for highlighting.
//!
//! Robustness: input comes straight from the user, so the parser never panics and bounds
//! both recursion depth and AST height ([`MAX_DEPTH`]); deeper input is an error instead of a
//! stack overflow (in the parser, the evaluator, or when dropping the tree).

use std::rc::Rc;

use super::ast::{
    Arg, BinOp, CompFor, CompKind, Expr, ExprKind, FPart, FuncBody, FuncDef, Handler, Params,
    Redirect, Stmt, StmtKind, UnaryOp,
};
use super::lexer::{FStrBody, Keyword, Token, TokenKind, lex, unescape};
use super::span::{Span, line_col};

/// Maximum bracket/operator/block nesting and maximum AST height.
pub const MAX_DEPTH: usize = 200;

/// Stack the parser may use before reporting "nested too deeply", whatever
/// [`MAX_DEPTH`] says. Unoptimised builds use ~13 KiB per bracket level, so
/// without this a debug build would overflow a 2 MiB thread (test harness,
/// tokio workers) before reaching `MAX_DEPTH`; release builds use ~2.5 KiB
/// per level and hit `MAX_DEPTH` first.
const STACK_BUDGET: usize = 1 << 20;

/// Address of a local in a fresh frame: a cheap, safe stack-depth probe.
#[inline(never)]
pub(crate) fn stack_addr() -> usize {
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

/// Lex and parse one input (a REPL line, a block, or a whole file). Empty input gives
/// `Ok(vec![])`.
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
    Parser::new(line, tokens, stack_addr()).program()
}

/// The indentation width of `text` (tabs to the next multiple of 8).
pub fn indent_width(text: &str) -> usize {
    let mut w = 0;
    for c in text.chars() {
        match c {
            ' ' => w += 1,
            '\t' => w = (w / 8 + 1) * 8,
            '\x0c' | '\r' => {}
            _ => break,
        }
    }
    w
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
    /// Enclosing loops in the current function (for `break`/`continue`).
    loops: usize,
    /// Enclosing functions (for `return`).
    funcs: usize,
}

/// Precedences (higher binds tighter).
const P_OR: usize = 1;
const P_AND: usize = 2;
const P_NOT: usize = 3;
const P_CMP: usize = 4;
const P_BITOR: usize = 5;
const P_UNARY: usize = 11;

impl<'a> Parser<'a> {
    fn new(src: &'a str, toks: Vec<Token>, stack_base: usize) -> Parser<'a> {
        Parser {
            src,
            toks,
            pos: 0,
            depth: 0,
            last_end: 0,
            stack_base,
            loops: 0,
            funcs: 0,
        }
    }

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

    fn is_colon(&self) -> bool {
        matches!(
            self.peek(),
            Some(TokenKind::Op(":") | TokenKind::HeaderColon)
        )
    }

    fn at_stmt_end(&self) -> bool {
        matches!(self.peek(), None | Some(TokenKind::Op(";" | "\n")))
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some(TokenKind::Op("\n")))
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
            TokenKind::HeaderColon => "':'".into(),
            TokenKind::Ident(n) => format!("name '{n}'"),
            TokenKind::Int(_) | TokenKind::Float(_) => format!("number {short}"),
            TokenKind::Str(_) | TokenKind::FStr(_) => format!("string {short}"),
            TokenKind::Keyword(_) => format!("keyword '{short}'"),
            TokenKind::Bang(_) => "'!'".into(),
            TokenKind::CommandName(w) | TokenKind::Word(w) => format!("word '{w}'"),
            TokenKind::Pipe(_) => "'|'".into(),
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

    fn line_of(&self, pos: usize) -> usize {
        line_col(self.src, pos).0
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

    fn leave(&mut self) {
        self.depth -= 1;
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

    /// The indentation of the current token's line, if the token is the first on it.
    fn indent_here(&self) -> Option<usize> {
        let start = self.toks.get(self.pos)?.span.start;
        let ls = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.src[ls..start];
        before
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\x0c' | '\r'))
            .then(|| indent_width(before))
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(TokenKind::Op(";" | "\n"))) {
            self.bump();
        }
    }

    // ---- statements ----------------------------------------------------

    fn program(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        self.skip_separators();
        let Some(indent) = self.indent_here() else {
            return Ok(out);
        };
        self.lines(indent, &mut out)?;
        self.skip_separators();
        if self.peek().is_some() {
            return Err(ParseError::new(
                "unindent does not match the indentation of the first line",
                self.span(),
            ));
        }
        Ok(out)
    }

    /// Lines indented exactly `indent`, until a line indented less or the end.
    fn lines(&mut self, indent: usize, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            self.skip_separators();
            if self.peek().is_none() {
                return Ok(());
            }
            let col = self.indent_here().unwrap_or(indent);
            if col < indent {
                return Ok(());
            }
            if col > indent {
                return Err(ParseError::new(
                    "unexpected indent: this line is indented more than the block it is in",
                    self.span(),
                ));
            }
            self.line(indent, out)?;
        }
    }

    /// One logical line: a compound statement, or simple statements separated by `;`.
    fn line(&mut self, indent: usize, out: &mut Vec<Stmt>) -> PResult<()> {
        if let Some(TokenKind::Keyword(k)) = self.peek()
            && k.is_header()
        {
            let k = *k;
            let s = self.compound(k, indent)?;
            out.push(s);
            return Ok(());
        }
        self.simple_line(out)
    }

    /// `stmt; stmt; ...` up to the end of the line.
    fn simple_line(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            if let Some(TokenKind::Keyword(k)) = self.peek()
                && k.is_header()
            {
                return Err(ParseError::new(
                    format!(
                        "'{}' must start its own line (it cannot follow ';' or ':' on the same line)",
                        k.as_str()
                    ),
                    self.span(),
                ));
            }
            out.push(self.simple_statement()?);
            match self.peek() {
                None | Some(TokenKind::Op("\n")) => return Ok(()),
                Some(TokenKind::Op(";")) => {
                    while self.eat_op(";").is_some() {}
                    if self.at_line_end() {
                        return Ok(());
                    }
                }
                _ => return Err(self.unexpected("an operator, ';' or end of line")),
            }
        }
    }

    fn stmt_at(&self, start: usize, kind: StmtKind) -> Stmt {
        Stmt {
            kind,
            span: Span::new(start, self.last_end.max(start)),
        }
    }

    fn simple_statement(&mut self) -> PResult<Stmt> {
        let start = self.span().start;
        let kind = match self.peek() {
            Some(TokenKind::CommandName(_)) => self.command()?,
            Some(TokenKind::Bang(s)) => {
                let s = s.clone();
                self.bump();
                StmtKind::Shell(s)
            }
            Some(TokenKind::Keyword(k)) => match *k {
                Keyword::Import => self.import()?,
                Keyword::From => self.import_from()?,
                Keyword::Pass => {
                    self.bump();
                    StmtKind::Pass
                }
                Keyword::Break | Keyword::Continue => {
                    let k = *k;
                    if self.loops == 0 {
                        return Err(ParseError::new(
                            format!("'{}' outside a loop", k.as_str()),
                            self.span(),
                        ));
                    }
                    self.bump();
                    if k == Keyword::Break {
                        StmtKind::Break
                    } else {
                        StmtKind::Continue
                    }
                }
                Keyword::Return => {
                    if self.funcs == 0 {
                        return Err(ParseError::new("'return' outside a function", self.span()));
                    }
                    self.bump();
                    if self.at_stmt_end() {
                        StmtKind::Return(None)
                    } else {
                        StmtKind::Return(Some(self.expr_list(true)?.e))
                    }
                }
                Keyword::Raise => {
                    self.bump();
                    if self.at_stmt_end() {
                        StmtKind::Raise(None)
                    } else {
                        let e = self.expr()?.e;
                        if self.eat_kw(Keyword::From) {
                            // The cause is read and not kept (there are no tracebacks to chain).
                            self.expr()?;
                        }
                        StmtKind::Raise(Some(e))
                    }
                }
                Keyword::Global | Keyword::Nonlocal => {
                    let k = *k;
                    if k == Keyword::Nonlocal && self.funcs == 0 {
                        return Err(ParseError::new(
                            "'nonlocal' outside a function",
                            self.span(),
                        ));
                    }
                    self.bump();
                    let mut names = vec![self.ident("a name")?.0];
                    while self.eat_op(",").is_some() {
                        names.push(self.ident("a name")?.0);
                    }
                    if k == Keyword::Global {
                        StmtKind::Global(names)
                    } else {
                        StmtKind::Nonlocal(names)
                    }
                }
                Keyword::Del => {
                    self.bump();
                    let mut targets = Vec::new();
                    loop {
                        let t = self.binary(P_BITOR)?.e;
                        check_target(&t, false)?;
                        targets.push(t);
                        if self.eat_op(",").is_none() || self.at_stmt_end() {
                            break;
                        }
                    }
                    StmtKind::Del(targets)
                }
                Keyword::Assert => {
                    self.bump();
                    let test = self.expr()?.e;
                    let msg = match self.eat_op(",") {
                        Some(_) => Some(self.expr()?.e),
                        None => None,
                    };
                    StmtKind::Assert { test, msg }
                }
                Keyword::Yield => {
                    return Err(ParseError::new(
                        "generators (yield) are not supported in rustemd-shell: build a list and return it",
                        self.span(),
                    ));
                }
                Keyword::Async | Keyword::Await => {
                    return Err(ParseError::new(
                        "async and await are not supported in rustemd-shell",
                        self.span(),
                    ));
                }
                _ => self.expr_or_assign()?,
            },
            Some(TokenKind::Op("@")) => {
                return Err(ParseError::new(
                    "decorators (@) are not supported in rustemd-shell",
                    self.span(),
                ));
            }
            _ => self.expr_or_assign()?,
        };
        Ok(self.stmt_at(start, kind))
    }

    fn command(&mut self) -> PResult<StmtKind> {
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
        let mut redirect = None;
        if let Some(TokenKind::Op(op @ (">" | ">>"))) = self.peek() {
            let append = *op == ">>";
            let at = self.bump().span;
            let Some(TokenKind::Word(path)) = self.peek() else {
                return Err(ParseError::new(
                    format!(
                        "expected a file name after '{}'",
                        if append { ">>" } else { ">" }
                    ),
                    if self.at_stmt_end() { at } else { self.span() },
                ));
            };
            redirect = Some(Redirect::File {
                path: path.clone(),
                append,
            });
            self.bump();
        }
        if let Some(TokenKind::Pipe(p)) = self.peek() {
            if redirect.is_some() {
                return Err(ParseError::new(
                    "a command line goes either to a file or through a pipe, not both",
                    self.span(),
                ));
            }
            if p.trim().is_empty() {
                return Err(ParseError::new("expected a command after '|'", self.span()));
            }
            redirect = Some(Redirect::Pipe(p.clone()));
            self.bump();
        }
        if !self.at_stmt_end() {
            return Err(self.unexpected("';' or end of line after the command line"));
        }
        Ok(StmtKind::Command {
            name,
            name_span,
            args,
            redirect,
        })
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
        while let Some(dots) = self.eat_op(".").or_else(|| self.eat_op("...")) {
            from.push_str(dots.slice(self.src));
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

    // ---- compound statements -------------------------------------------

    fn compound(&mut self, k: Keyword, indent: usize) -> PResult<Stmt> {
        let start = self.span().start;
        self.enter()?;
        let r = self.compound_inner(k, indent);
        self.leave();
        Ok(self.stmt_at(start, r?))
    }

    fn compound_inner(&mut self, k: Keyword, indent: usize) -> PResult<StmtKind> {
        let head = self.span();
        let line = self.line_of(head.start);
        match k {
            Keyword::If => {
                self.bump();
                let mut branches = Vec::new();
                let cond = self.expr()?.e;
                let body = self.body(indent, "if", line)?;
                branches.push((cond, body));
                let mut orelse = Vec::new();
                while let Some(l) = self.clause(Keyword::Elif, indent) {
                    let cond = self.expr()?.e;
                    branches.push((cond, self.body(indent, "elif", l)?));
                }
                if let Some(l) = self.clause(Keyword::Else, indent) {
                    orelse = self.body(indent, "else", l)?;
                }
                Ok(StmtKind::If { branches, orelse })
            }
            Keyword::While => {
                self.bump();
                let cond = self.expr()?.e;
                self.loops += 1;
                let body = self.body(indent, "while", line);
                self.loops -= 1;
                let body = body?;
                let orelse = match self.clause(Keyword::Else, indent) {
                    Some(l) => self.body(indent, "else", l)?,
                    None => Vec::new(),
                };
                Ok(StmtKind::While { cond, body, orelse })
            }
            Keyword::For => {
                self.bump();
                let target = self.target_list()?;
                if !self.eat_kw(Keyword::In) {
                    return Err(self.unexpected("'in' after the loop variable"));
                }
                let iter = self.expr_list(true)?.e;
                self.loops += 1;
                let body = self.body(indent, "for", line);
                self.loops -= 1;
                let body = body?;
                let orelse = match self.clause(Keyword::Else, indent) {
                    Some(l) => self.body(indent, "else", l)?,
                    None => Vec::new(),
                };
                Ok(StmtKind::For {
                    target,
                    iter,
                    body,
                    orelse,
                })
            }
            Keyword::Try => {
                self.bump();
                let body = self.body(indent, "try", line)?;
                let mut handlers = Vec::new();
                while let Some(l) = self.clause(Keyword::Except, indent) {
                    let hstart = self.last_end;
                    let mut kind = None;
                    let mut name = None;
                    if !self.is_colon() {
                        kind = Some(self.expr()?.e);
                        name = self.alias()?;
                    }
                    let span = Span::new(hstart, self.last_end);
                    let body = self.body(indent, "except", l)?;
                    handlers.push(Handler {
                        kind,
                        name,
                        body,
                        span,
                    });
                }
                let orelse = match self.clause(Keyword::Else, indent) {
                    Some(l) if !handlers.is_empty() => self.body(indent, "else", l)?,
                    Some(_) => {
                        return Err(ParseError::new(
                            "'else' after 'try' needs an 'except' clause first",
                            head,
                        ));
                    }
                    None => Vec::new(),
                };
                let finally = match self.clause(Keyword::Finally, indent) {
                    Some(l) => self.body(indent, "finally", l)?,
                    None => Vec::new(),
                };
                if handlers.is_empty() && finally.is_empty() {
                    return Err(ParseError::new(
                        "'try' needs an 'except' or 'finally' clause",
                        head,
                    ));
                }
                Ok(StmtKind::Try {
                    body,
                    handlers,
                    orelse,
                    finally,
                })
            }
            Keyword::With => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    let expr = self.expr()?.e;
                    let target = if self.eat_kw(Keyword::As) {
                        let t = self.binary(P_BITOR)?.e;
                        check_target(&t, false)?;
                        Some(t)
                    } else {
                        None
                    };
                    items.push((expr, target));
                    if self.eat_op(",").is_none() {
                        break;
                    }
                }
                if !self.is_colon() {
                    return Err(self.unexpected("':' after the 'with' header"));
                }
                let mut body = self.body(indent, "with", line)?;
                // `with a, b:` is `with a: with b:`.
                while let Some((expr, target)) = items.pop() {
                    if items.is_empty() {
                        return Ok(StmtKind::With { expr, target, body });
                    }
                    let span = expr.span;
                    body = vec![Stmt {
                        kind: StmtKind::With { expr, target, body },
                        span,
                    }];
                }
                unreachable!("with has at least one item")
            }
            Keyword::Def => {
                self.bump();
                let (name, _) = self.ident("a function name after 'def'")?;
                let open = match self.eat_op("(") {
                    Some(s) => s,
                    None => return Err(self.unexpected("'(' after the function name")),
                };
                let params = self.params(Some(open))?;
                if self.eat_op("->").is_some() {
                    self.expr()?; // the return annotation is read and ignored
                }
                let (loops, funcs) = (self.loops, self.funcs);
                self.loops = 0;
                self.funcs += 1;
                let body = self.body(indent, "def", line);
                (self.loops, self.funcs) = (loops, funcs);
                let body = body?;
                Ok(StmtKind::Def(Rc::new(FuncDef {
                    name,
                    params,
                    body: FuncBody::Block(body),
                    span: Span::new(head.start, self.last_end),
                })))
            }
            Keyword::Class => Err(ParseError::new(
                "classes are not supported in rustemd-shell: use functions, dicts and the objects it provides",
                head,
            )),
            Keyword::Elif | Keyword::Else | Keyword::Except | Keyword::Finally => {
                Err(ParseError::new(
                    format!(
                        "'{}' without a matching '{}' before it (at the same indentation)",
                        k.as_str(),
                        match k {
                            Keyword::Elif => "if",
                            Keyword::Else => "if, for, while or try",
                            _ => "try",
                        }
                    ),
                    head,
                ))
            }
            _ => unreachable!("not a header keyword"),
        }
    }

    /// The next line starts with clause keyword `k` at `indent`: consume up to and including
    /// the keyword and return its line number; otherwise consume nothing.
    fn clause(&mut self, k: Keyword, indent: usize) -> Option<usize> {
        let save = (self.pos, self.last_end);
        while self.eat_op("\n").is_some() {}
        if self.is_kw(k) && self.indent_here() == Some(indent) {
            let line = self.line_of(self.span().start);
            self.bump();
            return Some(line);
        }
        (self.pos, self.last_end) = save;
        None
    }

    /// `: body` after a header at `indent`: the rest of the line, or an indented block.
    fn body(&mut self, indent: usize, what: &str, line: usize) -> PResult<Vec<Stmt>> {
        if !matches!(
            self.peek(),
            Some(TokenKind::HeaderColon | TokenKind::Op(":"))
        ) {
            return Err(self.unexpected(&format!("':' at the end of the '{what}' line")));
        }
        self.bump();
        let mut out = Vec::new();
        if !self.at_line_end() {
            self.simple_line(&mut out)?;
            return Ok(out);
        }
        while self.eat_op("\n").is_some() {}
        let missing =
            || format!("expected an indented block after the '{what}' statement on line {line}");
        let Some(col) = self.indent_here() else {
            return Err(ParseError::new(missing(), self.span()));
        };
        if self.peek().is_none() || col <= indent {
            return Err(ParseError::new(missing(), self.span()));
        }
        self.lines(col, &mut out)?;
        Ok(out)
    }

    /// Parameters up to `)` (a `def`), or up to `:` (a `lambda`, `open` is `None`).
    fn params(&mut self, open: Option<Span>) -> PResult<Params> {
        let mut p = Params::default();
        let mut star_seen = false;
        let end = |s: &Self| match open {
            Some(_) => s.is_op(")"),
            None => s.is_colon(),
        };
        let mut seen: Vec<String> = Vec::new();
        let mut check = |name: &str, span: Span| -> PResult<()> {
            if seen.iter().any(|n| n == name) {
                return Err(ParseError::new(
                    format!("duplicate parameter '{name}'"),
                    span,
                ));
            }
            seen.push(name.to_string());
            Ok(())
        };
        while !end(self) && self.peek().is_some() {
            if self.eat_op("**").is_some() {
                let (n, s) = self.ident("a parameter name after '**'")?;
                check(&n, s)?;
                p.starstar = Some(n);
                self.annotation(open.is_some())?;
                self.eat_op(",");
                if !end(self) {
                    return Err(self.unexpected("nothing after the **parameter"));
                }
                break;
            }
            if let Some(at) = self.eat_op("*") {
                if star_seen {
                    return Err(ParseError::new("only one '*' parameter is allowed", at));
                }
                star_seen = true;
                if matches!(self.peek(), Some(TokenKind::Ident(_))) {
                    let (n, s) = self.ident("a parameter name")?;
                    check(&n, s)?;
                    p.star = Some(n);
                    self.annotation(open.is_some())?;
                }
            } else {
                let (n, s) = self.ident("a parameter name")?;
                check(&n, s)?;
                self.annotation(open.is_some())?;
                let default = match self.eat_op("=") {
                    Some(_) => Some(self.expr()?.e),
                    None => None,
                };
                if star_seen {
                    p.kwonly.push((n, default));
                } else {
                    if default.is_none() && p.positional.iter().any(|(_, d)| d.is_some()) {
                        return Err(ParseError::new(
                            "a parameter without a default follows one with a default",
                            s,
                        ));
                    }
                    p.positional.push((n, default));
                }
            }
            if self.eat_op(",").is_none() {
                break;
            }
        }
        match open {
            Some(open) => {
                self.close(")", open, true)?;
            }
            None => {
                if !end(self) {
                    return Err(self.unexpected("',' or ':' in the lambda's parameters"));
                }
            }
        }
        Ok(p)
    }

    /// `: TYPE` after a parameter of a `def` (read and ignored).
    fn annotation(&mut self, allowed: bool) -> PResult<()> {
        if allowed && self.eat_op(":").is_some() {
            self.expr()?;
        }
        Ok(())
    }

    /// Loop targets: `x`, `k, v`, `(a, b), c`, up to `in`.
    fn target_list(&mut self) -> PResult<Expr> {
        let first = self.target_item()?;
        if !self.is_op(",") {
            check_target(&first, false)?;
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",").is_some() && !self.is_kw(Keyword::In) {
            items.push(self.target_item()?);
        }
        let span = items[0].span.to(Span::at(self.last_end));
        let t = Expr {
            kind: ExprKind::Tuple(items),
            span,
        };
        check_target(&t, false)?;
        Ok(t)
    }

    fn target_item(&mut self) -> PResult<Expr> {
        if let Some(at) = self.eat_op("*") {
            let e = self.binary(P_BITOR)?.e;
            let span = at.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Starred(Box::new(e)),
                span,
            });
        }
        Ok(self.binary(P_BITOR)?.e)
    }

    fn expr_or_assign(&mut self) -> PResult<StmtKind> {
        let first = self.expr_list(true)?.e;
        if let Some(TokenKind::Op(op)) = self.peek()
            && let Some(bin) = BinOp::augmented(op)
        {
            let op_span = self.bump().span;
            if !matches!(
                first.kind,
                ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Index { .. }
            ) {
                return Err(ParseError::new(
                    format!(
                        "cannot use '{}' on {}: only names, attributes (a.b) and items (a[k]) can be updated",
                        op_span.slice(self.src),
                        first.kind.describe()
                    ),
                    first.span,
                ));
            }
            if self.at_stmt_end() {
                return Err(ParseError::new(
                    format!("expected a value after '{}'", op_span.slice(self.src)),
                    self.span(),
                ));
            }
            let value = self.expr_list(true)?.e;
            return Ok(StmtKind::AugAssign {
                target: first,
                op: bin,
                value,
            });
        }
        if self.is_op(":") && matches!(first.kind, ExprKind::Name(_) | ExprKind::Attr { .. }) {
            // `x: int = 1`: the annotation is read and ignored.
            self.bump();
            self.expr()?;
            if self.eat_op("=").is_none() {
                return Ok(StmtKind::Pass);
            }
            let value = self.expr_list(true)?.e;
            return Ok(StmtKind::Assign {
                targets: vec![first],
                value,
            });
        }
        if self.is_op(":=") {
            return Err(ParseError::new(
                "assignment expressions (:=) are not supported: assign on a line of its own",
                self.span(),
            ));
        }
        let Some(mut eq) = self.eat_op("=") else {
            if let ExprKind::Starred(_) = first.kind {
                return Err(ParseError::new(
                    "a starred expression (*x) is only allowed in a call, a list, a tuple or an assignment target",
                    first.span,
                ));
            }
            return Ok(StmtKind::Expr(first));
        };
        let mut targets = vec![first];
        loop {
            check_target(targets.last().expect("one target"), false)?;
            if self.at_stmt_end() {
                return Err(ParseError::new(
                    format!("expected a value after '=' at {}", self.column(eq.start)),
                    self.span(),
                ));
            }
            let value = self.expr_list(true)?.e;
            match self.eat_op("=") {
                Some(next) => {
                    eq = next;
                    targets.push(value);
                }
                None => return Ok(StmtKind::Assign { targets, value }),
            }
        }
    }

    // ---- expressions ---------------------------------------------------

    /// `expr (, expr)* [,]` — a bare tuple when there is a comma. With `star`, items may be
    /// `*x`.
    fn expr_list(&mut self, star: bool) -> PResult<Node> {
        let first = self.list_item(star)?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let start = first.e.span;
        let mut h = first.h;
        let mut items = vec![first.e];
        while self.eat_op(",").is_some() {
            if self.at_stmt_end()
                || self.is_op("=")
                || self.is_op(")")
                || self.is_colon()
                || matches!(self.peek(), Some(TokenKind::Op(o)) if BinOp::augmented(o).is_some())
            {
                break;
            }
            let n = self.list_item(star)?;
            h = h.max(n.h);
            items.push(n.e);
        }
        self.node(
            ExprKind::Tuple(items),
            start.to(Span::at(self.last_end)),
            &[h],
        )
    }

    /// An item of a list, tuple or set display: `e` or `*e`.
    fn list_item(&mut self, star: bool) -> PResult<Node> {
        if star && let Some(at) = self.eat_op("*") {
            let n = self.binary(P_BITOR)?;
            let span = at.to(n.e.span);
            return self.node(ExprKind::Starred(Box::new(n.e)), span, &[n.h]);
        }
        self.expr()
    }

    fn expr(&mut self) -> PResult<Node> {
        self.enter()?;
        let r = self.ternary();
        self.leave();
        r
    }

    /// `lambda …: e`, or `a if c else b`, or an `or` expression.
    fn ternary(&mut self) -> PResult<Node> {
        if self.is_kw(Keyword::Lambda) {
            return self.lambda();
        }
        let then = self.binary(P_OR)?;
        if !self.is_kw(Keyword::If) {
            return Ok(then);
        }
        // `x for …` inside a comprehension uses `if` too, but only after `for`.
        self.bump();
        let cond = self.binary(P_OR)?;
        if !self.eat_kw(Keyword::Else) {
            return Err(self.unexpected("'else' in the conditional expression (a if c else b)"));
        }
        let orelse = self.expr()?;
        let span = then.e.span.to(orelse.e.span);
        self.node(
            ExprKind::IfExp {
                cond: Box::new(cond.e),
                then: Box::new(then.e),
                orelse: Box::new(orelse.e),
            },
            span,
            &[then.h, cond.h, orelse.h],
        )
    }

    fn lambda(&mut self) -> PResult<Node> {
        let start = self.bump().span;
        let params = self.params(None)?;
        if !self.is_colon() {
            return Err(self.unexpected("':' after the lambda's parameters"));
        }
        self.bump();
        let (loops, funcs) = (self.loops, self.funcs);
        self.loops = 0;
        self.funcs += 1;
        let body = self.expr();
        (self.loops, self.funcs) = (loops, funcs);
        let body = body?;
        let span = start.to(body.e.span);
        let h = body.h;
        self.node(
            ExprKind::Lambda(Rc::new(FuncDef {
                name: "<lambda>".into(),
                params,
                body: FuncBody::Expr(Box::new(body.e)),
                span,
            })),
            span,
            &[h],
        )
    }

    /// (operator, precedence, tokens) of a binary operator at the cursor.
    fn peek_binop(&self) -> Option<(BinOp, usize, usize)> {
        use TokenKind::{Keyword as K, Op};
        Some(match self.peek()? {
            K(Keyword::Or) => (BinOp::Or, P_OR, 1),
            K(Keyword::And) => (BinOp::And, P_AND, 1),
            K(Keyword::In) => (BinOp::In, P_CMP, 1),
            K(Keyword::Not) if self.peek_at(1) == Some(&K(Keyword::In)) => (BinOp::NotIn, P_CMP, 2),
            K(Keyword::Is) if self.peek_at(1) == Some(&K(Keyword::Not)) => (BinOp::IsNot, P_CMP, 2),
            K(Keyword::Is) => (BinOp::Is, P_CMP, 1),
            Op("==") => (BinOp::Eq, P_CMP, 1),
            Op("!=") => (BinOp::Ne, P_CMP, 1),
            Op("<") => (BinOp::Lt, P_CMP, 1),
            Op("<=") => (BinOp::Le, P_CMP, 1),
            Op(">") => (BinOp::Gt, P_CMP, 1),
            Op(">=") => (BinOp::Ge, P_CMP, 1),
            Op("|") => (BinOp::BitOr, 5, 1),
            Op("^") => (BinOp::BitXor, 6, 1),
            Op("&") => (BinOp::BitAnd, 7, 1),
            Op("<<") => (BinOp::LShift, 8, 1),
            Op(">>") => (BinOp::RShift, 8, 1),
            Op("+") => (BinOp::Add, 9, 1),
            Op("-") => (BinOp::Sub, 9, 1),
            Op("*") => (BinOp::Mul, 10, 1),
            Op("/") => (BinOp::Div, 10, 1),
            Op("//") => (BinOp::FloorDiv, 10, 1),
            Op("%") => (BinOp::Mod, 10, 1),
            Op("**") => (BinOp::Pow, 12, 1),
            _ => return None,
        })
    }

    /// Precedence climbing over all binary operators with precedence >= `min`.
    fn binary(&mut self, min: usize) -> PResult<Node> {
        let mut left = self.prefix(min)?;
        while let Some((op, prec, ntok)) = self.peek_binop() {
            if prec < min {
                break;
            }
            for _ in 0..ntok {
                self.bump();
            }
            if prec == P_CMP {
                left = self.comparison(left, op)?;
                continue;
            }
            let right = if op == BinOp::Pow {
                // right-associative, and the exponent may be unary: 2 ** -1
                self.enter()?;
                let r = self.binary(P_UNARY);
                self.leave();
                r?
            } else {
                self.binary(prec + 1)?
            };
            let span = left.e.span.to(right.e.span);
            left = self.node(
                ExprKind::Binary {
                    op,
                    left: Box::new(left.e),
                    right: Box::new(right.e),
                },
                span,
                &[left.h, right.h],
            )?;
        }
        Ok(left)
    }

    /// `left op right [op right]...`: one node whose operands are each evaluated once.
    #[inline(never)]
    fn comparison(&mut self, left: Node, op: BinOp) -> PResult<Node> {
        let right = self.binary(P_CMP + 1)?;
        let mut h = left.h.max(right.h);
        let mut rest = vec![(op, right.e)];
        while let Some((op, P_CMP, ntok)) = self.peek_binop() {
            for _ in 0..ntok {
                self.bump();
            }
            let r = self.binary(P_CMP + 1)?;
            h = h.max(r.h);
            rest.push((op, r.e));
        }
        let span = left
            .e
            .span
            .to(rest.last().map_or(left.e.span, |(_, e)| e.span));
        if rest.len() == 1 {
            let (op, right) = rest.pop().expect("one comparison");
            return self.node(
                ExprKind::Binary {
                    op,
                    left: Box::new(left.e),
                    right: Box::new(right),
                },
                span,
                &[h],
            );
        }
        self.node(
            ExprKind::Compare {
                first: Box::new(left.e),
                rest,
            },
            span,
            &[h],
        )
    }

    fn prefix(&mut self, min: usize) -> PResult<Node> {
        let (op, operand_prec) = match self.peek() {
            Some(TokenKind::Keyword(Keyword::Not)) if min <= P_NOT => (UnaryOp::Not, P_NOT),
            Some(TokenKind::Op("-")) if min <= P_UNARY => (UnaryOp::Neg, P_UNARY),
            Some(TokenKind::Op("+")) if min <= P_UNARY => (UnaryOp::Pos, P_UNARY),
            Some(TokenKind::Op("~")) if min <= P_UNARY => (UnaryOp::Invert, P_UNARY),
            Some(TokenKind::Keyword(Keyword::Lambda)) if min <= P_OR => return self.lambda(),
            _ => return self.postfix(),
        };
        let start = self.bump().span;
        self.enter()?;
        let inner = self.binary(operand_prec);
        self.leave();
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

    fn subscript(&mut self) -> PResult<Node> {
        if self.is_op("]") {
            return Err(ParseError::new(
                "expected an index between '[' and ']'",
                self.span(),
            ));
        }
        let first = self.subscript_item()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let start = first.e.span;
        let mut h = first.h;
        let mut items = vec![first.e];
        while self.eat_op(",").is_some() && !self.is_op("]") {
            let n = self.subscript_item()?;
            h = h.max(n.h);
            items.push(n.e);
        }
        self.node(
            ExprKind::Tuple(items),
            start.to(Span::at(self.last_end)),
            &[h],
        )
    }

    /// `e`, or a slice `[lower]:[upper][:[step]]`.
    fn subscript_item(&mut self) -> PResult<Node> {
        let start = self.span();
        let slice_end = |s: &Self| s.is_op("]") || s.is_op(",") || s.is_colon();
        let lower = if self.is_colon() {
            None
        } else {
            let e = self.expr()?;
            if !self.is_colon() {
                return Ok(e);
            }
            Some(e)
        };
        self.bump(); // ':'
        let upper = if slice_end(self) {
            None
        } else {
            Some(self.expr()?)
        };
        let step = if self.is_colon() {
            self.bump();
            if slice_end(self) {
                None
            } else {
                Some(self.expr()?)
            }
        } else {
            None
        };
        let h = [&lower, &upper, &step]
            .iter()
            .filter_map(|n| n.as_ref().map(|n| n.h))
            .max()
            .unwrap_or(0);
        let b = |n: Option<Node>| n.map(|n| Box::new(n.e));
        self.node(
            ExprKind::Slice {
                lower: b(lower),
                upper: b(upper),
                step: b(step),
            },
            start.to(Span::at(self.last_end)),
            &[h],
        )
    }

    fn call(&mut self, func: Node) -> PResult<Node> {
        let open = self.bump().span;
        let mut args: Vec<Arg> = Vec::new();
        let mut h = func.h;
        let mut seen_kw = false;
        while !self.is_op(")") && self.peek().is_some() {
            if let (Some(TokenKind::Ident(name)), Some(TokenKind::Op("="))) =
                (self.peek(), self.peek_at(1))
            {
                let name = name.clone();
                let name_span = self.bump().span;
                self.bump();
                if args
                    .iter()
                    .any(|a| matches!(a, Arg::Kw(k, _, _) if *k == name))
                {
                    return Err(ParseError::new(
                        format!("keyword argument '{name}' repeated"),
                        name_span,
                    ));
                }
                let v = self.expr()?;
                h = h.max(v.h);
                args.push(Arg::Kw(name, name_span, v.e));
                seen_kw = true;
            } else if self.eat_op("**").is_some() {
                let v = self.expr()?;
                h = h.max(v.h);
                args.push(Arg::StarStar(v.e));
                seen_kw = true;
            } else if self.eat_op("*").is_some() {
                let v = self.expr()?;
                h = h.max(v.h);
                args.push(Arg::Star(v.e));
            } else {
                let a = self.expr()?;
                if self.is_kw(Keyword::For) {
                    // `f(x for x in xs)`: a generator argument.
                    let g = self.comprehension(a, None, open, ")")?;
                    if !args.is_empty() || !self.is_op(")") {
                        return Err(ParseError::new(
                            "a generator expression must be the only argument unless parenthesized",
                            g.e.span,
                        ));
                    }
                    h = h.max(g.h);
                    args.push(Arg::Pos(g.e));
                    break;
                }
                if seen_kw {
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
                args.push(Arg::Pos(a.e));
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
            },
            span,
            &[h],
        )
    }

    /// Comma-separated items up to `closer` (trailing comma allowed), after a first item.
    fn items_after(
        &mut self,
        first: Node,
        open: Span,
        closer: &str,
    ) -> PResult<(Vec<Expr>, usize, Span)> {
        let mut h = first.h;
        let mut items = vec![first.e];
        while self.eat_op(",").is_some() {
            if self.is_op(closer) || self.peek().is_none() {
                break;
            }
            let n = self.list_item(true)?;
            h = h.max(n.h);
            items.push(n.e);
        }
        let close = self.close(closer, open, true)?;
        Ok((items, h, open.to(close)))
    }

    /// `for target in iter [if cond]... [for ...]` after the element(s) of a comprehension.
    fn comprehension(
        &mut self,
        elt: Node,
        value: Option<Node>,
        open: Span,
        closer: &str,
    ) -> PResult<Node> {
        let mut fors = Vec::new();
        let mut h = elt.h.max(value.as_ref().map_or(0, |v| v.h));
        while self.eat_kw(Keyword::For) {
            let target = self.target_list()?;
            if !self.eat_kw(Keyword::In) {
                return Err(self.unexpected("'in' in the comprehension"));
            }
            let iter = self.binary(P_OR)?;
            h = h.max(iter.h);
            let mut conds = Vec::new();
            while self.eat_kw(Keyword::If) {
                let c = self.binary(P_OR)?;
                h = h.max(c.h);
                conds.push(c.e);
            }
            fors.push(CompFor {
                target,
                iter: iter.e,
                conds,
            });
        }
        // A generator's closing ')' belongs to the call or the parentheses around it.
        let end = if closer == ")" {
            Span::at(self.last_end)
        } else {
            self.close(closer, open, false)?
        };
        let kind = match (closer, value) {
            ("]", _) => CompKind::List(Box::new(elt.e)),
            ("}", Some(v)) => CompKind::Dict(Box::new(elt.e), Box::new(v.e)),
            ("}", None) => CompKind::Set(Box::new(elt.e)),
            _ => CompKind::Gen(Box::new(elt.e)),
        };
        self.node(ExprKind::Comp { kind, fors }, open.to(end), &[h])
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
            Some(TokenKind::Keyword(Keyword::None)) | Some(TokenKind::Op("...")) => ExprKind::None,
            Some(TokenKind::Keyword(Keyword::Yield)) => {
                return Err(ParseError::new(
                    "generators (yield) are not supported in rustemd-shell: build a list and return it",
                    span,
                ));
            }
            Some(TokenKind::Keyword(Keyword::Await)) => {
                return Err(ParseError::new(
                    "async and await are not supported in rustemd-shell",
                    span,
                ));
            }
            Some(TokenKind::Str(_) | TokenKind::FStr(_)) => return self.strings(),
            Some(TokenKind::Op("(")) => return self.paren(),
            Some(TokenKind::Op("[")) => {
                let open = self.bump().span;
                if let Some(close) = self.eat_op("]") {
                    return self.node(ExprKind::List(vec![]), open.to(close), &[]);
                }
                let first = self.list_item(true)?;
                if self.is_kw(Keyword::For) {
                    return self.comprehension(first, None, open, "]");
                }
                let (items, h, span) = self.items_after(first, open, "]")?;
                return self.node(ExprKind::List(items), span, &[h]);
            }
            Some(TokenKind::Op("{")) => return self.brace(),
            _ => return Err(self.unexpected("an expression")),
        };
        self.bump();
        self.node(kind, span, &[])
    }

    /// Adjacent string literals concatenate (`"a" 'b'`, `"a" f"{x}"`).
    fn strings(&mut self) -> PResult<Node> {
        let start = self.span();
        let mut parts: Vec<FPart> = Vec::new();
        let mut any_f = false;
        let mut h = 0;
        let mut end = start;
        loop {
            match self.peek() {
                Some(TokenKind::Str(s)) => {
                    let s = s.clone();
                    end = self.bump().span;
                    match parts.last_mut() {
                        Some(FPart::Lit(prev)) => prev.push_str(&s),
                        _ => parts.push(FPart::Lit(s)),
                    }
                }
                Some(TokenKind::FStr(body)) => {
                    let body = *body;
                    end = self.bump().span;
                    any_f = true;
                    let (more, mh) = self.fstring(body, end)?;
                    h = h.max(mh);
                    for p in more {
                        match (parts.last_mut(), p) {
                            (Some(FPart::Lit(prev)), FPart::Lit(s)) => prev.push_str(&s),
                            (_, p) => parts.push(p),
                        }
                    }
                }
                _ => break,
            }
        }
        let span = start.to(end);
        if !any_f {
            let s = match parts.pop() {
                Some(FPart::Lit(s)) => s,
                _ => String::new(),
            };
            return self.node(ExprKind::Str(s), span, &[]);
        }
        self.node(ExprKind::FStr(parts), span, &[h])
    }

    /// The parts of an f-string body.
    fn fstring(&mut self, body: FStrBody, span: Span) -> PResult<(Vec<FPart>, usize)> {
        let (parts, h, end) = self.fparts(body.start, body.end, body.raw, false, span)?;
        debug_assert_eq!(end, body.end);
        Ok((parts, h))
    }

    /// Literal text and `{fields}` from `i` to `end` (or, in a format spec, to the `}` that
    /// closes the field: its offset is returned).
    fn fparts(
        &mut self,
        mut i: usize,
        end: usize,
        raw: bool,
        in_spec: bool,
        span: Span,
    ) -> PResult<(Vec<FPart>, usize, usize)> {
        let b = self.src.as_bytes();
        let mut parts = Vec::new();
        let mut lit_start = i;
        let mut lit = String::new();
        let mut h = 0;
        let flush = |lit: &mut String, from: usize, to: usize, parts: &mut Vec<FPart>| {
            let chunk = &self.src[from..to];
            match unescape(chunk, raw) {
                Ok(s) => lit.push_str(&s),
                Err(m) => return Err(ParseError::new(m, span)),
            }
            if !lit.is_empty() {
                parts.push(FPart::Lit(std::mem::take(lit)));
            }
            Ok(())
        };
        while i < end {
            match b[i] {
                b'\\' if !raw => i += 2,
                b'{' if b.get(i + 1) == Some(&b'{') && !in_spec => {
                    flush(&mut lit, lit_start, i + 1, &mut parts)?;
                    i += 2;
                    lit_start = i;
                }
                b'}' if in_spec => {
                    flush(&mut lit, lit_start, i, &mut parts)?;
                    return Ok((parts, h, i));
                }
                b'}' if b.get(i + 1) == Some(&b'}') => {
                    flush(&mut lit, lit_start, i + 1, &mut parts)?;
                    i += 2;
                    lit_start = i;
                }
                b'}' => {
                    return Err(ParseError::new(
                        "f-string: a single '}' is not allowed (write '}}' for a brace)",
                        Span::new(i, i + 1),
                    ));
                }
                b'{' => {
                    flush(&mut lit, lit_start, i, &mut parts)?;
                    let (field, fh, next) = self.ffield(i + 1, end, raw, span)?;
                    h = h.max(fh);
                    parts.push(field);
                    i = next;
                    lit_start = i;
                }
                _ => i += 1,
            }
        }
        if in_spec {
            return Err(ParseError::new(
                "f-string: expected '}' to close the field",
                span,
            ));
        }
        flush(&mut lit, lit_start, end.min(self.src.len()), &mut parts)?;
        Ok((parts, h, end))
    }

    /// One `{expr[=][!c][:spec]}` starting after its `{`; returns the offset after its `}`.
    fn ffield(
        &mut self,
        start: usize,
        end: usize,
        raw: bool,
        span: Span,
    ) -> PResult<(FPart, usize, usize)> {
        let b = self.src.as_bytes();
        let mut i = start;
        let mut depth = 0usize;
        let mut expr_end = None;
        let mut debug = None;
        while i < end {
            let c = b[i];
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                b'}' if depth > 0 => depth -= 1,
                b'\'' | b'"' => {
                    if let Some(q) = self.src[i + 1..end].find(c as char) {
                        i += q + 1;
                    }
                }
                b'}' | b':' if depth == 0 => {
                    expr_end = Some(i);
                    break;
                }
                b'!' if depth == 0 && b.get(i + 1) != Some(&b'=') => {
                    expr_end = Some(i);
                    break;
                }
                b'=' if depth == 0
                    && b.get(i + 1) != Some(&b'=')
                    && !matches!(b.get(i.wrapping_sub(1)), Some(b'=' | b'!' | b'<' | b'>')) =>
                {
                    let mut j = i + 1;
                    while j < end && b[j] == b' ' {
                        j += 1;
                    }
                    if matches!(b.get(j), Some(b'}' | b'!' | b':')) {
                        debug = Some(self.src[start..j].to_string());
                        expr_end = Some(i);
                        i = j;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let Some(expr_end) = expr_end else {
            return Err(ParseError::new(
                "f-string: expected '}' to close the field",
                span,
            ));
        };
        if self.src[start..expr_end].trim().is_empty() {
            return Err(ParseError::new(
                "f-string: empty expression in '{}'",
                Span::new(start.saturating_sub(1), i + 1),
            ));
        }
        let expr = self.sub_expr(start, expr_end)?;
        let mut conversion = None;
        if b.get(i) == Some(&b'!') {
            match b.get(i + 1) {
                Some(c @ (b'r' | b's' | b'a')) => conversion = Some(*c as char),
                _ => {
                    return Err(ParseError::new(
                        "f-string: expected 'r', 's' or 'a' after '!'",
                        Span::new(i, i + 2),
                    ));
                }
            }
            i += 2;
        }
        let mut spec = Vec::new();
        let mut h = expr.h;
        if b.get(i) == Some(&b':') {
            let (parts, sh, close) = self.fparts(i + 1, end, raw, true, span)?;
            spec = parts;
            h = h.max(sh);
            i = close;
        }
        if b.get(i) != Some(&b'}') {
            return Err(ParseError::new(
                "f-string: expected '}' to close the field",
                Span::new(i.min(end), (i + 1).min(end)),
            ));
        }
        Ok((
            FPart::Field {
                expr: Box::new(expr.e),
                debug,
                conversion,
                spec,
            },
            h + 1,
            i + 1,
        ))
    }

    /// Parse `src[start..end]` as an expression (an f-string field), spans kept absolute.
    fn sub_expr(&mut self, start: usize, end: usize) -> PResult<Node> {
        let text = &self.src[start..end];
        let mut toks = lex(text, &|_| false);
        toks.retain(|t| !matches!(t.kind, TokenKind::Comment(_) | TokenKind::Op("\n")));
        for t in &mut toks {
            t.span = Span::new(t.span.start + start, t.span.end + start);
            if let TokenKind::FStr(b) = &mut t.kind {
                b.start += start;
                b.end += start;
            }
            if let TokenKind::Error(m) = &t.kind {
                return Err(ParseError::new(m.clone(), t.span));
            }
            if matches!(
                t.kind,
                TokenKind::Bang(_) | TokenKind::CommandName(_) | TokenKind::HeaderColon
            ) {
                return Err(ParseError::new(
                    "f-string: this is not an expression",
                    t.span,
                ));
            }
        }
        let mut sub = Parser::new(self.src, toks, self.stack_base);
        sub.depth = self.depth;
        let n = sub.expr_list(false)?;
        if sub.peek().is_some() {
            return Err(sub.unexpected("'}' after the expression"));
        }
        Ok(n)
    }

    fn paren(&mut self) -> PResult<Node> {
        let open = self.bump().span;
        if let Some(close) = self.eat_op(")") {
            return self.node(ExprKind::Tuple(vec![]), open.to(close), &[]);
        }
        let first = self.list_item(true)?;
        if self.is_kw(Keyword::For) {
            let g = self.comprehension(first, None, open, ")")?;
            let close = self.close(")", open, false)?;
            return Ok(Node {
                e: Expr {
                    kind: g.e.kind,
                    span: open.to(close),
                },
                h: g.h,
            });
        }
        if let Some(close) = self.eat_op(")") {
            if let ExprKind::Starred(_) = first.e.kind {
                return Err(ParseError::new(
                    "a starred expression needs a tuple around it: (*x,)",
                    first.e.span,
                ));
            }
            // parenthesised expression: same node, span includes the parens
            return Ok(Node {
                e: Expr {
                    kind: first.e.kind,
                    span: open.to(close),
                },
                h: first.h,
            });
        }
        if !self.is_op(",") {
            return Err(self.close_error(")", open, true));
        }
        let (items, h, span) = self.items_after(first, open, ")")?;
        self.node(ExprKind::Tuple(items), span, &[h])
    }

    /// `{}` dict, `{k: v, …}`, `{a, b}` set, or their comprehensions.
    fn brace(&mut self) -> PResult<Node> {
        let open = self.bump().span;
        if let Some(close) = self.eat_op("}") {
            return self.node(ExprKind::Dict(vec![]), open.to(close), &[]);
        }
        if self.is_op("**") {
            return Err(ParseError::new(
                "dict unpacking ({**d}) is not supported: use dict(d, key=value) or d.update(...)",
                self.span(),
            ));
        }
        let first = self.list_item(true)?;
        if !self.is_op(":") {
            // a set
            if self.is_kw(Keyword::For) {
                return self.comprehension(first, None, open, "}");
            }
            let (items, h, span) = self.items_after(first, open, "}")?;
            return self.node(ExprKind::Set(items), span, &[h]);
        }
        self.bump();
        let v = self.expr()?;
        if self.is_kw(Keyword::For) {
            return self.comprehension(first, Some(v), open, "}");
        }
        let mut h = first.h.max(v.h);
        let mut pairs = vec![(first.e, v.e)];
        while self.eat_op(",").is_some() {
            if self.is_op("}") || self.peek().is_none() {
                break;
            }
            let k = self.expr()?;
            if self.eat_op(":").is_none() {
                return Err(self.unexpected("':' after the dict key"));
            }
            let v = self.expr()?;
            h = h.max(k.h).max(v.h);
            pairs.push((k.e, v.e));
        }
        let close = self.close("}", open, true)?;
        self.node(ExprKind::Dict(pairs), open.to(close), &[h])
    }
}

/// Can `e` be assigned to? Names, attributes, items, and tuples/lists of those (one `*x`).
fn check_target(e: &Expr, nested: bool) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Index { .. } => Ok(()),
        ExprKind::Starred(inner) if nested => check_target(inner, true),
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            let stars = items
                .iter()
                .filter(|i| matches!(i.kind, ExprKind::Starred(_)))
                .count();
            if stars > 1 {
                return Err(ParseError::new(
                    "only one starred target (*x) is allowed in an assignment",
                    e.span,
                ));
            }
            items.iter().try_for_each(|i| check_target(i, true))
        }
        other => Err(ParseError::new(
            format!(
                "cannot assign to {}: only names, attributes (a.b), items (a[k]) and tuples of them can be assigned",
                other.describe()
            ),
            e.span,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::ast::{Arg, sexpr_all};

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
            ("a < b < c", "(cmp a < b < c)"),
            ("a < b <= c != d", "(cmp a < b <= c != d)"),
            ("a < b and c > d", "(and (< a b) (> c d))"),
            ("a in b", "(in a b)"),
            ("a not in b", "(not in a b)"),
            ("a is None", "(is a None)"),
            ("a is not None", "(is not a None)"),
            ("not a in b", "(not (in a b))"),
            ("a >= 1 or not b", "(or (>= a 1) (not b))"),
            // --- blocks ---
            ("if a:\n    b\n    c\nd", "(if a: b; c); d"),
            (
                "if a: b\nelif c: d\nelse:\n  e",
                "(if a: b elif c: d else: e)",
            ),
            ("while True: f()", "(while True: (call f))"),
            (
                "while x:\n    x -= 1\n    if x: continue\n    break\nelse:\n    y",
                "(while x: (-= x 1); (if x: continue); break else: y)",
            ),
            (
                "for k, v in d.items():\n    print(k)",
                "(for (tuple k v) in (call (. d items)): (call print k))",
            ),
            ("for x in 1, 2: x", "(for x in (tuple 1 2): x)"),
            (
                "def f(a, b=1, *c, d, e=2, **f):\n    return a",
                "(def f (a b=1 *c d e=2 **f): (return a))",
            ),
            ("def f(*, k): pass", "(def f (* k): pass)"),
            (
                "def f(x: int = 1) -> int: return",
                "(def f (x=1): (return))",
            ),
            (
                "try:\n    a\nexcept KeyError as e:\n    b\nexcept (A, B):\n    c\nexcept:\n    d\nelse:\n    e\nfinally:\n    f",
                "(try: a except KeyError as e: b except (tuple A B): c except: d else: e finally: f)",
            ),
            ("try: a\nfinally: b", "(try: a finally: b)"),
            ("with a as b:\n    c\n    d", "(with a as b: c; d)"),
            ("with a as b, c: d", "(with a as b: (with c: d))"),
            (
                "with pystemd.base.SDObject('x', p, _autoload=True) as sdobject:\n    print(sdobject.Service.MainPID)\n",
                r#"(with (call (. (. pystemd base) SDObject) "x" p _autoload=True) as sdobject: (call print (. (. sdobject Service) MainPID)))"#,
            ),
            ("if a:\n\n    # comment\n    b\n\nc", "(if a: b); c"),
            ("if a:\n\tb\n\tc", "(if a: b; c)"),
            ("  x = 1\n  y = 2", "(= x 1); (= y 2)"),
            ("if x: list a", r#"(if x: (cmd list "a"))"#),
            (
                "raise ValueError('x') from e",
                r#"(raise (call ValueError "x"))"#,
            ),
            ("raise", "(raise)"),
            ("global a, b", "(global a b)"),
            ("del a[0], b", "(del ([] a 0) b)"),
            ("assert x, 'm'", r#"(assert x "m")"#),
            ("x: int = 3", "(= x 3)"),
            // --- assignment ---
            ("a, b = 1, 2", "(= (tuple a b) (tuple 1 2))"),
            ("a = b = 1", "(= a b 1)"),
            ("[a, *b] = c", "(= [a, *b] c)"),
            ("x += 1", "(+= x 1)"),
            ("d[k] //= 2", "(//= ([] d k) 2)"),
            ("x |= y", "(|= x y)"),
            // --- expressions ---
            ("a if b else c", "(if b a c)"),
            ("a if b else c if d else e", "(if b a (if d c e))"),
            ("lambda: 1", "(lambda () 1)"),
            (
                "signal.signal(signal.SIGABRT, lambda *x: print(\"time to eventually die\", *x) )",
                r#"(call (. signal signal) (. signal SIGABRT) (lambda (*x) (call print "time to eventually die" *x)))"#,
            ),
            ("lambda a, b=2: a + b", "(lambda (a b=2) (+ a b))"),
            ("f(*a, **k)", "(call f *a **k)"),
            ("f(x=1, *a)", "(call f x=1 *a)"),
            (
                "[x for x in y if x if z]",
                "(listcomp x for x in y if x if z)",
            ),
            (
                "{k: v for k, v in d}",
                "(dictcomp k v for (tuple k v) in d)",
            ),
            ("{x for x in y}", "(setcomp x for x in y)"),
            ("sum(x for x in xs)", "(call sum (gen x for x in xs))"),
            ("(x for x in xs)", "(gen x for x in xs)"),
            (
                "[(a, b) for a in x for b in y]",
                "(listcomp (tuple a b) for a in x for b in y)",
            ),
            ("{1, 2}", "(set 1 2)"),
            ("[*a, 1]", "[*a, 1]"),
            (
                "a[1:2], a[::2], a[:], a[1:]",
                "(tuple ([] a (slice 1 2 _)) ([] a (slice _ _ 2)) ([] a (slice _ _ _)) ([] a (slice 1 _ _)))",
            ),
            ("a[1:2, 3]", "([] a (tuple (slice 1 2 _) 3))"),
            ("a & b | c ^ d", "(| (& a b) (^ c d))"),
            ("1 << 2 + 3", "(<< 1 (+ 2 3))"),
            ("~a ** 2", "(~ (** a 2))"),
            ("not a < b < c", "(not (cmp a < b < c))"),
            (r#"f"a{x}b""#, r#"(f "a" {x} "b")"#),
            (r#"f'{x=}'"#, r#"(f {"x="=x})"#),
            (r#"f'{x = !r:>{w}}'"#, r#"(f {"x = "=x!r: ">" {w}})"#),
            (r#"f"{d['k']}" "s""#, r#"(f {([] d "k")} "s")"#),
            (r#"'a' f'{1}'"#, r#"(f "a" {1})"#),
            (r#"f'{{}}{a!s}'"#, r#"(f "{}" {a!s})"#),
            ("'''a\nb'''", r#""a\nb""#),
            ("...", "None"),
            // --- command lines meet the host ---
            (
                "busctl tree org.freedesktop.systemd1 | grep myfirstservice",
                r#"(cmd busctl "tree" "org.freedesktop.systemd1" | " grep myfirstservice")"#,
            ),
            (
                "busctl call  org.freedesktop.systemd1 /u org.freedesktop.systemd1.Unit Restart s \"replace\" | \\\n  awk '{print $2}' | \\\n  xargs busctl introspect  org.freedesktop.systemd1",
                r#"(cmd busctl "call" "org.freedesktop.systemd1" "/u" "org.freedesktop.systemd1.Unit" "Restart" "s" "replace" | " \\\n  awk '{print $2}' | \\\n  xargs busctl introspect  org.freedesktop.systemd1")"#,
            ),
            ("tree x > /tmp/out", r#"(cmd tree "x" > "/tmp/out")"#),
            (
                "tree x >> 'a b'; list",
                r#"(cmd tree "x" >> "a b"); (cmd list)"#,
            ),
            ("%run a.rsh b", r#"(cmd %run "a.rsh" "b")"#),
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
        let deep_with: String = (0..5000)
            .map(|i| format!("{}if a:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(5000)
            + "b";
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
            ("f(x) = 3", 1, "cannot assign to a function call"),
            ("1 = 2", 1, "cannot assign to a number"),
            ("None = 2", 1, "cannot assign to None"),
            ("a + b = 2", 1, "cannot assign to an operator expression"),
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
            ("a[]", 3, "expected an index"),
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
            (")", 1, "unexpected ')'"),
            ("a\nb c", 3, "unexpected name 'c'"),
            (
                "if x:",
                6,
                "expected an indented block after the 'if' statement on line 1",
            ),
            ("if x:\nprint(1)", 1, "expected an indented block"),
            ("if x:\n    a\n      b", 7, "unexpected indent"),
            ("  a\nb", 1, "unindent does not match"),
            ("if x:\n    a\n  b", 3, "unexpected indent"),
            ("else: x", 1, "'else' without a matching"),
            ("if x: a; else: b", 10, "'else' must start its own line"),
            ("if x: for y in z: pass", 7, "'for' must start its own line"),
            (
                "try:\n    a",
                1,
                "'try' needs an 'except' or 'finally' clause",
            ),
            ("while x", 8, "expected ':' at the end of the 'while' line"),
            ("for x y: z", 7, "expected 'in' after the loop variable"),
            ("break", 1, "'break' outside a loop"),
            ("def f(): pass\ncontinue", 1, "'continue' outside a loop"),
            ("return 1", 1, "'return' outside a function"),
            (
                "def f(a=1, b): pass",
                12,
                "a parameter without a default follows one with a default",
            ),
            ("def f(a, a): pass", 10, "duplicate parameter 'a'"),
            (
                "class A: pass",
                1,
                "classes are not supported in rustemd-shell",
            ),
            ("yield 1", 1, "generators (yield) are not supported"),
            ("x = yield", 5, "generators (yield) are not supported"),
            ("@dec\ndef f(): pass", 1, "decorators (@) are not supported"),
            (
                "async def f(): pass",
                1,
                "async and await are not supported",
            ),
            ("(x := 1)", 4, "expected ',' or ')'"),
            ("x := 1", 3, "assignment expressions (:=) are not supported"),
            ("f(x) += 1", 1, "cannot use '+=' on a function call"),
            ("a, b += 1", 1, "cannot use '+=' on a tuple"),
            ("a, *b, *c = d", 1, "only one starred target"),
            ("*a", 1, "starred expression"),
            (
                "f(x for x in y, 1)",
                2,
                "a generator expression must be the only argument",
            ),
            ("a if b", 7, "expected 'else' in the conditional expression"),
            ("f'{}'", 3, "f-string: empty expression"),
            ("f'{x'", 1, "unterminated string"),
            ("f'}'", 3, "f-string: a single '}' is not allowed"),
            (
                "f'{x!z}'",
                5,
                "f-string: expected 'r', 's' or 'a' after '!'",
            ),
            ("f'{a b}'", 6, "unexpected name 'b'"),
            ("x = '''abc", 5, "unterminated triple-quoted string"),
            ("tree x >", 8, "expected a file name after '>'"),
            ("tree x > f | y", 12, "either to a file or through a pipe"),
            ("tree x |", 8, "expected a command after '|'"),
            ("{**a}", 2, "dict unpacking"),
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
                "x = abc xyz",
                "x = abc xyz\n        ^^^ unexpected name 'xyz': expected an operator, ';' or end of line",
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
                "f(x) = 3\n^^^^ cannot assign to a function call: only names, attributes (a.b), items (a[k]) and tuples of them can be assigned",
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
        let ExprKind::Call { func, args } = &e.kind else {
            panic!()
        };
        let (Arg::Pos(first), Arg::Kw(_, kw_span, _)) = (&args[0], &args[1]) else {
            panic!()
        };
        let ExprKind::Attr { name_span, .. } = &func.kind else {
            panic!()
        };
        assert_eq!(name_span.slice(line), "Get");
        assert_eq!(func.span.slice(line), "sdobject.Properties.Get");
        assert_eq!(first.span.slice(line), "'x'");
        assert_eq!(kw_span.slice(line), "k");

        let line = "x; busctl tree 'a b' c # z";
        let s = parse(line, &is_cmd).unwrap();
        assert_eq!(s[1].span.slice(line), "busctl tree 'a b' c");
        let StmtKind::Command {
            name,
            name_span,
            args,
            ..
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

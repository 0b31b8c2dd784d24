//! Tokenizer for the shell's command language.
//!
//! Why a hand-written, *total* lexer: it runs on every keystroke (syntax
//! highlighting) and on half-typed input (completion), so it must never fail,
//! never panic and be linear-time. Problems are reported in-band as
//! [`TokenKind::Error`] tokens; the parser turns the first one into a
//! [`ParseError`](super::parser::ParseError).
//!
//! Why the lexer (and not the parser) recognises busctl-style command lines:
//! a command line such as `get-property a /b c D` is not made of Python
//! tokens at all (`/b`, `get-property`, quoting rules), so the decision
//! "is this statement a command?" has to be taken before tokenizing it. The
//! decision needs the command registry, which is passed in as the
//! `is_command` callback so this module stays free of data and I/O. For the
//! same reason the lexer knows where statements start: after `;`, after a
//! newline at bracket depth 0, and after the `:` that ends the header of a
//! compound statement (`if x: list` runs the command `list`); that colon is a
//! [`TokenKind::HeaderColon`].
//!
//! Deviation from a strict one-token-per-lexeme model: a newline at bracket
//! depth 0 is emitted as `Op("\n")` (a statement separator just like `;`);
//! newlines inside brackets are plain whitespace. There are no INDENT/DEDENT
//! tokens: the parser reads indentation from the token spans.
//!
//! [`Incremental`] lexes text that arrives a line at a time (scripts, pasted
//! blocks) in linear time, by resuming where the previous line stopped.

use super::span::Span;

/// Reserved words. `true`/`false` are accepted as spellings of
/// [`Keyword::True`]/[`Keyword::False`] (the token span keeps the spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keyword {
    True,
    False,
    None,
    And,
    Or,
    Not,
    Import,
    From,
    As,
    In,
    Is,
    With,
    Pass,
    If,
    Elif,
    Else,
    While,
    For,
    Break,
    Continue,
    Def,
    Return,
    Lambda,
    Try,
    Except,
    Finally,
    Raise,
    Global,
    Nonlocal,
    Del,
    Assert,
    // Reserved so that they are reported as unsupported, never misread.
    Class,
    Yield,
    Async,
    Await,
}

const KEYWORDS: &[(&str, Keyword)] = &[
    ("True", Keyword::True),
    ("False", Keyword::False),
    ("None", Keyword::None),
    ("and", Keyword::And),
    ("or", Keyword::Or),
    ("not", Keyword::Not),
    ("import", Keyword::Import),
    ("from", Keyword::From),
    ("as", Keyword::As),
    ("in", Keyword::In),
    ("is", Keyword::Is),
    ("with", Keyword::With),
    ("pass", Keyword::Pass),
    ("if", Keyword::If),
    ("elif", Keyword::Elif),
    ("else", Keyword::Else),
    ("while", Keyword::While),
    ("for", Keyword::For),
    ("break", Keyword::Break),
    ("continue", Keyword::Continue),
    ("def", Keyword::Def),
    ("return", Keyword::Return),
    ("lambda", Keyword::Lambda),
    ("try", Keyword::Try),
    ("except", Keyword::Except),
    ("finally", Keyword::Finally),
    ("raise", Keyword::Raise),
    ("global", Keyword::Global),
    ("nonlocal", Keyword::Nonlocal),
    ("del", Keyword::Del),
    ("assert", Keyword::Assert),
    ("class", Keyword::Class),
    ("yield", Keyword::Yield),
    ("async", Keyword::Async),
    ("await", Keyword::Await),
];

impl Keyword {
    pub fn from_word(s: &str) -> Option<Keyword> {
        match s {
            "true" => Some(Keyword::True),
            "false" => Some(Keyword::False),
            _ => KEYWORDS.iter().find(|(w, _)| *w == s).map(|(_, k)| *k),
        }
    }

    /// Canonical spelling (`True`, not `true`).
    pub fn as_str(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(w, _)| w)
    }

    /// Does this keyword open a compound statement whose header ends at a `:`?
    pub fn is_header(self) -> bool {
        matches!(
            self,
            Keyword::If
                | Keyword::Elif
                | Keyword::Else
                | Keyword::While
                | Keyword::For
                | Keyword::Try
                | Keyword::Except
                | Keyword::Finally
                | Keyword::With
                | Keyword::Def
                | Keyword::Class
        )
    }
}

/// Where the text of an f-string's body lies (between its quotes), and whether it is raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FStrBody {
    pub start: usize,
    pub end: usize,
    pub raw: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Int(i128),
    Float(f64),
    /// `"..."`, `'...'`, `"""..."""`, with optional `b`/`u`/`r`/`br`/`rb` prefix (bytes are
    /// read as plain strings), escapes decoded.
    Str(String),
    /// `f"..."` (also `rf`, `fr`, triple-quoted): the parser reads the body.
    FStr(FStrBody),
    Keyword(Keyword),
    /// One of the operators (see [`OPERATORS`]), or `"\n"` for a statement-separating
    /// newline (bracket depth 0 only).
    Op(&'static str),
    /// The `:` that ends a compound statement's header (`if x:`): a statement starts after it.
    HeaderColon,
    /// `!cmd ...` at statement start: everything after `!` up to end of line.
    Bang(String),
    /// First word of a command line (and the word after a leading `busctl`).
    CommandName(String),
    /// One unquoted argument of a command line.
    Word(String),
    /// `| pipeline` at the end of a command line: the text after `|` up to the end of the line.
    Pipe(String),
    /// Text after `#` up to (not including) the end of the line.
    Comment(String),
    /// Lexical error; the string is a user-facing message.
    Error(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// `;`, a depth-0 newline, or a header's `:` (a statement starts after each).
    pub fn is_separator(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Op(";") | TokenKind::Op("\n") | TokenKind::HeaderColon
        )
    }
}

/// Operators, longest first (the lexer takes the longest match).
pub const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=",
    "%=", "|=", "&=", "^=", ">>", "<<", "->", ":=", "(", ")", "[", "]", "{", "}", ",", ".", ":",
    ";", "=", "<", ">", "+", "-", "*", "/", "%", "|", "&", "^", "~", "@",
];

/// Characters of a command word (`get-property`, `org.freedesktop.x`).
fn is_cmd_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Tokenize `line` (which may contain newlines when a file is run).
/// Whitespace is not emitted. Never fails: see [`TokenKind::Error`].
pub fn lex(line: &str, is_command: &dyn Fn(&str) -> bool) -> Vec<Token> {
    let mut lx = Lexer::new(line, is_command, Vec::new(), State::default());
    lx.run();
    lx.toks
}

/// What is still open at the end of the input: the REPL asks for another line while
/// anything is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Open {
    /// Unclosed brackets.
    pub depth: usize,
    /// An unterminated triple-quoted string.
    pub triple: bool,
    /// A backslash right before the end.
    pub backslash: bool,
    /// The statement is broken already (a stray closing bracket, a bad token): more lines
    /// cannot fix it, so it is complete (and the parser says what is wrong).
    pub broken: bool,
}

impl Open {
    pub fn any(&self) -> bool {
        !self.broken && (self.depth > 0 || self.triple || self.backslash)
    }
}

/// Tokens and what is open at the end, in one pass.
pub fn lex_open(src: &str, is_command: &dyn Fn(&str) -> bool) -> (Vec<Token>, Open) {
    let mut lx = Lexer::new(src, is_command, Vec::new(), State::default());
    lx.run();
    let open = lx.open();
    (lx.toks, open)
}

/// The tokens of the statement containing byte offset `pos` (separators
/// excluded). Cheap helper for the completer: `pos` right after a `;`
/// belongs to the (possibly empty) next statement.
pub fn statement_tokens(tokens: &[Token], pos: usize) -> &[Token] {
    let start = tokens
        .iter()
        .rposition(|t| t.is_separator() && t.span.end <= pos)
        .map_or(0, |i| i + 1);
    let end = tokens[start..]
        .iter()
        .position(|t| t.is_separator())
        .map_or(tokens.len(), |i| start + i);
    &tokens[start..end]
}

/// Lexing text that grows a line at a time, in linear time overall: each line is lexed
/// once, resuming with the state the previous one left (an unterminated triple-quoted
/// string is lexed again from its start).
#[derive(Default)]
pub struct Incremental {
    src: String,
    toks: Vec<Token>,
    state: State,
    pos: usize,
    open: Open,
}

impl Incremental {
    pub fn new() -> Incremental {
        Incremental::default()
    }

    /// Append `text` (normally one line, with its newline) and lex it. A line ending with a
    /// backslash is lexed with the line that completes it.
    pub fn push(&mut self, text: &str, is_command: &dyn Fn(&str) -> bool) {
        self.src.push_str(text);
        if text.ends_with("\\\n") {
            self.open.backslash = true;
            return;
        }
        self.lex_rest(is_command);
    }

    /// Lex what is still waiting (a last line ending with a backslash).
    pub fn finish(&mut self, is_command: &dyn Fn(&str) -> bool) {
        if self.pos < self.src.len() || self.open.triple {
            self.lex_rest(is_command);
        }
    }

    fn lex_rest(&mut self, is_command: &dyn Fn(&str) -> bool) {
        // A token reaching the old end may continue (a triple-quoted string): redo it.
        let mut pos = self.pos;
        if self.open.triple
            && let Some(t) = self.toks.pop()
        {
            pos = t.span.start;
        }
        let toks = std::mem::take(&mut self.toks);
        let mut lx = Lexer::new(&self.src, is_command, toks, self.state);
        lx.pos = pos;
        lx.run();
        self.open = lx.open();
        self.state = lx.state;
        self.pos = lx.pos;
        self.toks = lx.toks;
    }

    pub fn src(&self) -> &str {
        &self.src
    }

    pub fn tokens(&self) -> &[Token] {
        &self.toks
    }

    pub fn open(&self) -> Open {
        self.open
    }

    /// Take the text and tokens, leaving this empty.
    pub fn take(&mut self) -> (String, Vec<Token>) {
        let out = (
            std::mem::take(&mut self.src),
            std::mem::take(&mut self.toks),
        );
        *self = Incremental::default();
        out
    }
}

/// What the lexer carries from one token to the next.
#[derive(Clone, Copy, Debug, Default)]
struct State {
    depth: usize,
    at_stmt_start: bool,
    started: bool,
    /// Inside a compound statement header: its depth-0 `:` starts a new statement.
    in_header: bool,
    /// `lambda`s at depth 0 in the header whose `:` has not come yet.
    header_lambdas: usize,
    /// A stray closing bracket or an error token in this statement.
    broken: bool,
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    toks: Vec<Token>,
    state: State,
    is_command: &'a dyn Fn(&str) -> bool,
    /// The input ends inside a triple-quoted string.
    open_triple: bool,
    /// The input ends with a backslash (a continuation line follows).
    continued: bool,
}

impl<'a> Lexer<'a> {
    fn new(
        src: &'a str,
        is_command: &'a dyn Fn(&str) -> bool,
        toks: Vec<Token>,
        mut state: State,
    ) -> Lexer<'a> {
        if !state.started {
            state.started = true;
            state.at_stmt_start = true;
        }
        Lexer {
            src,
            b: src.as_bytes(),
            pos: 0,
            toks,
            state,
            is_command,
            open_triple: false,
            continued: false,
        }
    }

    fn open(&self) -> Open {
        Open {
            depth: self.state.depth,
            triple: self.open_triple,
            backslash: self.continued,
            broken: self.state.broken,
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        if matches!(kind, TokenKind::Error(_)) && !self.open_triple {
            self.state.broken = true;
        }
        self.toks.push(Token {
            kind,
            span: Span::new(start, end),
        });
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    /// Byte offset of the end of the physical line containing `from`.
    fn line_end(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |i| from + i)
    }

    fn new_statement(&mut self) {
        self.state.at_stmt_start = true;
        self.state.broken = false;
        self.state.in_header = false;
        self.state.header_lambdas = 0;
        self.state.depth = 0;
    }

    fn run(&mut self) {
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            match c {
                b' ' | b'\t' | b'\r' | 0x0c => {
                    self.pos += 1;
                    continue;
                }
                b'\n' => {
                    if self.state.depth == 0 {
                        self.push(TokenKind::Op("\n"), self.pos, self.pos + 1);
                        self.new_statement();
                    }
                    self.pos += 1;
                    continue;
                }
                b'\\' if self.byte(self.pos + 1) == Some(b'\n') => {
                    self.pos += 2; // explicit line continuation
                    self.continued = self.pos == self.b.len();
                    continue;
                }
                b'\\' if self.pos + 1 == self.b.len() => {
                    self.pos += 1;
                    self.continued = true;
                    continue;
                }
                _ => {}
            }
            if self.state.at_stmt_start {
                self.state.at_stmt_start = false;
                if c == b'!' {
                    self.bang();
                    continue;
                }
                if c == b'%' && self.byte(self.pos + 1).is_some_and(is_ident_start) {
                    // `%run FILE`: an IPython magic is a command line.
                    let end = self.cmd_word_end(self.pos + 1);
                    self.push(
                        TokenKind::CommandName(self.src[self.pos..end].to_string()),
                        self.pos,
                        end,
                    );
                    self.pos = end;
                    self.command_words();
                    continue;
                }
                if self.try_command() {
                    continue;
                }
            }
            self.expr_token();
        }
    }

    fn bang(&mut self) {
        let start = self.pos;
        let end = self.line_end(start);
        let rest = self.src[start + 1..end].to_string();
        self.push(TokenKind::Bang(rest), start, end);
        self.pos = end;
    }

    fn cmd_word_end(&self, from: usize) -> usize {
        let mut e = from;
        while e < self.b.len() && is_cmd_word_byte(self.b[e]) {
            e += 1;
        }
        e
    }

    fn skip_blanks(&self, from: usize) -> usize {
        let mut e = from;
        while matches!(self.byte(e), Some(b' ' | b'\t' | b'\r')) {
            e += 1;
        }
        e
    }

    /// At statement start: decide whether this statement is a command line
    /// and, if so, lex all of it (up to and including its separator).
    fn try_command(&mut self) -> bool {
        let start = self.pos;
        let end = self.cmd_word_end(start);
        if end == start {
            return false;
        }
        // The word must stand alone: `list+1` or `list"x"` are not commands.
        if !matches!(
            self.byte(end),
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'#' | b'|' | b'>')
        ) {
            return false;
        }
        let next = self.skip_blanks(end);
        match self.byte(next) {
            Some(b'=' | b'(' | b'.' | b'[' | b',') => return false,
            Some(b'!' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'^' | b'<' | b'>' | b'|')
                if self.byte(next + 1) == Some(b'=') =>
            {
                return false;
            }
            Some(b'*' | b'/')
                if self.byte(next + 1) == Some(self.b[next])
                    && self.byte(next + 2) == Some(b'=') =>
            {
                return false;
            }
            _ => {}
        }
        let word = &self.src[start..end];
        let is_busctl = word == "busctl";
        if !is_busctl && !(self.is_command)(word) {
            return false;
        }
        self.push(TokenKind::CommandName(word.to_string()), start, end);
        self.pos = end;
        if is_busctl {
            let s2 = self.skip_blanks(end);
            let e2 = self.cmd_word_end(s2);
            if e2 > s2
                && matches!(
                    self.byte(e2),
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|' | b'>')
                )
                && (self.is_command)(&self.src[s2..e2])
            {
                self.push(TokenKind::CommandName(self.src[s2..e2].to_string()), s2, e2);
                self.pos = e2;
            }
        }
        self.command_words();
        true
    }

    /// Shell-like words until an unquoted `;` or newline; `> FILE`, `>> FILE` and
    /// `| pipeline` at the end.
    fn command_words(&mut self) {
        loop {
            self.pos = self.skip_blanks(self.pos);
            let Some(c) = self.byte(self.pos) else { return };
            match c {
                b'\n' | b';' => {
                    let op = if c == b'\n' { "\n" } else { ";" };
                    self.push(TokenKind::Op(op), self.pos, self.pos + 1);
                    self.pos += 1;
                    self.new_statement();
                    return;
                }
                b'#' => self.comment(),
                b'\\' if self.byte(self.pos + 1) == Some(b'\n') => {
                    self.pos += 2;
                    self.continued = self.pos == self.b.len();
                }
                b'\\' if self.pos + 1 == self.b.len() => {
                    self.pos += 1;
                    self.continued = true;
                }
                b'|' => {
                    // The rest of the line, and the next ones while a line ends with '\\'.
                    let start = self.pos;
                    let mut end = self.line_end(start);
                    while self.src[..end].ends_with('\\') && end < self.b.len() {
                        end = self.line_end(end + 1);
                    }
                    let rest = self.src[start + 1..end].to_string();
                    self.push(TokenKind::Pipe(rest), start, end);
                    self.pos = end;
                    self.continued = self.src[..end].ends_with('\\');
                }
                b'>' => {
                    let op = if self.byte(self.pos + 1) == Some(b'>') {
                        ">>"
                    } else {
                        ">"
                    };
                    self.push(TokenKind::Op(op), self.pos, self.pos + op.len());
                    self.pos += op.len();
                }
                _ => self.word(),
            }
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        let mut out = String::new();
        while let Some(ch) = self.char_at(self.pos) {
            match ch {
                ' ' | '\t' | '\r' | '\n' | ';' | '|' | '>' => break,
                '\'' => {
                    let body = self.pos + 1;
                    match self.b[body..]
                        .iter()
                        .position(|&c| c == b'\'' || c == b'\n')
                        .map(|i| body + i)
                    {
                        Some(q) if self.b[q] == b'\'' => {
                            out.push_str(&self.src[body..q]);
                            self.pos = q + 1;
                        }
                        _ => return self.unterminated_word(start, '\''),
                    }
                }
                '"' => {
                    self.pos += 1;
                    loop {
                        match self.char_at(self.pos) {
                            None | Some('\n') => return self.unterminated_word(start, '"'),
                            Some('"') => {
                                self.pos += 1;
                                break;
                            }
                            Some('\\') => match self.byte(self.pos + 1) {
                                Some(e @ (b'"' | b'\\')) => {
                                    out.push(e as char);
                                    self.pos += 2;
                                }
                                _ => {
                                    out.push('\\');
                                    self.pos += 1;
                                }
                            },
                            Some(o) => {
                                out.push(o);
                                self.pos += o.len_utf8();
                            }
                        }
                    }
                }
                '\\' => match self.char_at(self.pos + 1) {
                    None => {
                        out.push('\\');
                        self.pos += 1;
                    }
                    Some('\n') => self.pos += 2,
                    Some(e) => {
                        out.push(e);
                        self.pos += 1 + e.len_utf8();
                    }
                },
                o => {
                    out.push(o);
                    self.pos += o.len_utf8();
                }
            }
        }
        self.push(TokenKind::Word(out), start, self.pos);
    }

    fn unterminated_word(&mut self, start: usize, q: char) {
        let end = self.line_end(start);
        self.push(
            TokenKind::Error(format!("unterminated quote: add the closing {q}")),
            start,
            end,
        );
        self.pos = end;
    }

    fn comment(&mut self) {
        let start = self.pos;
        let end = self.line_end(start);
        self.push(
            TokenKind::Comment(self.src[start + 1..end].to_string()),
            start,
            end,
        );
        self.pos = end;
    }

    fn prev_is_stmt_start(&self) -> bool {
        self.toks
            .iter()
            .rev()
            .find(|t| !matches!(t.kind, TokenKind::Comment(_)))
            .is_none_or(Token::is_separator)
    }

    fn expr_token(&mut self) {
        let start = self.pos;
        let c = self.b[start];
        // String prefixes: b r u f br rb fr rf (any case) directly followed by a quote.
        if c.is_ascii_alphabetic() {
            let mut p = start;
            while p < start + 2
                && matches!(
                    self.byte(p),
                    Some(b'b' | b'B' | b'r' | b'R' | b'u' | b'U' | b'f' | b'F')
                )
            {
                p += 1;
            }
            if p > start && matches!(self.byte(p), Some(b'"' | b'\'')) {
                let prefix = self.src[start..p].to_ascii_lowercase();
                if matches!(
                    prefix.as_str(),
                    "b" | "r" | "u" | "br" | "rb" | "f" | "fr" | "rf"
                ) {
                    self.string(p, prefix.contains('r'), prefix.contains('f'));
                    return;
                }
            }
        }
        if is_ident_start(c) {
            let mut e = start + 1;
            while e < self.b.len() && is_ident_continue(self.b[e]) {
                e += 1;
            }
            let w = &self.src[start..e];
            let kind = match Keyword::from_word(w) {
                Some(k) => {
                    if k.is_header() && self.prev_is_stmt_start() {
                        self.state.in_header = true;
                        self.state.header_lambdas = 0;
                    } else if k == Keyword::Lambda && self.state.in_header && self.state.depth == 0
                    {
                        self.state.header_lambdas += 1;
                    }
                    TokenKind::Keyword(k)
                }
                None => TokenKind::Ident(w.to_string()),
            };
            self.push(kind, start, e);
            self.pos = e;
            return;
        }
        if c.is_ascii_digit()
            || (c == b'.' && self.byte(start + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            self.number();
            return;
        }
        match c {
            b'"' | b'\'' => return self.string(start, false, false),
            b'#' => return self.comment(),
            _ => {}
        }
        let rest = &self.src[start..];
        if let Some(op) = OPERATORS.iter().copied().find(|op| rest.starts_with(op)) {
            let end = start + op.len();
            self.pos = end;
            match op {
                "(" | "[" | "{" => self.state.depth += 1,
                ")" | "]" | "}" => match self.state.depth.checked_sub(1) {
                    Some(d) => self.state.depth = d,
                    None => self.state.broken = true,
                },
                ";" => self.new_statement(),
                ":" if self.state.depth == 0 && self.state.in_header => {
                    if self.state.header_lambdas > 0 {
                        self.state.header_lambdas -= 1;
                    } else {
                        self.push(TokenKind::HeaderColon, start, end);
                        self.new_statement();
                        return;
                    }
                }
                _ => {}
            }
            self.push(TokenKind::Op(op), start, end);
            return;
        }
        let ch = self.char_at(start).unwrap_or('\u{fffd}');
        let end = start + ch.len_utf8();
        let msg = if ch == '!' {
            "unexpected '!': shell escapes (!cmd) are only allowed at the start of a statement"
                .to_string()
        } else {
            format!("unexpected character {ch:?}")
        };
        self.push(TokenKind::Error(msg), start, end);
        self.pos = end;
    }

    fn digits_end(&self, from: usize, ok: impl Fn(u8) -> bool) -> usize {
        let mut e = from;
        while e < self.b.len() && (ok(self.b[e]) || self.b[e] == b'_') {
            e += 1;
        }
        e
    }

    fn number(&mut self) {
        let start = self.pos;
        let radix = match self.src.get(start..start + 2) {
            Some("0x" | "0X") => 16,
            Some("0o" | "0O") => 8,
            Some("0b" | "0B") => 2,
            _ => 10,
        };
        let kind;
        let mut end;
        if radix != 10 {
            end = self.digits_end(start + 2, |c| c.is_ascii_alphanumeric());
            let digits: String = self.src[start + 2..end]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            kind = if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                TokenKind::Error(format!(
                    "invalid number literal '{}'",
                    &self.src[start..end]
                ))
            } else {
                match i128::from_str_radix(&digits, radix) {
                    Ok(v) => TokenKind::Int(v),
                    Err(_) => TokenKind::Error("integer literal too large (max 128 bits)".into()),
                }
            };
        } else {
            let dig = |c: u8| c.is_ascii_digit();
            end = self.digits_end(start, dig);
            let mut float = false;
            if self.byte(end) == Some(b'.') {
                let after = self.byte(end + 1);
                if after.is_some_and(dig) {
                    end = self.digits_end(end + 1, dig);
                    float = true;
                } else if !after.is_some_and(|a| is_ident_start(a) || a == b'.') {
                    end += 1; // `1.`
                    float = true;
                }
            }
            if matches!(self.byte(end), Some(b'e' | b'E')) {
                let mut p = end + 1;
                if matches!(self.byte(p), Some(b'+' | b'-')) {
                    p += 1;
                }
                if self.byte(p).is_some_and(dig) {
                    end = self.digits_end(p, dig);
                    float = true;
                }
            }
            let text: String = self.src[start..end].chars().filter(|&c| c != '_').collect();
            kind = if float {
                match text.parse::<f64>() {
                    Ok(v) => TokenKind::Float(v),
                    Err(_) => TokenKind::Error(format!("invalid number literal '{text}'")),
                }
            } else {
                match text.parse::<i128>() {
                    Ok(v) => TokenKind::Int(v),
                    Err(_) => TokenKind::Error("integer literal too large (max 128 bits)".into()),
                }
            };
        }
        // `1abc`, `12j`, `0x1g`: one bad token rather than two confusing ones.
        if self.byte(end).is_some_and(is_ident_continue) {
            while self.byte(end).is_some_and(is_ident_continue) {
                end += 1;
            }
            let msg = format!("invalid number literal '{}'", &self.src[start..end]);
            self.push(TokenKind::Error(msg), start, end);
        } else {
            self.push(kind, start, end);
        }
        self.pos = end;
    }

    /// A string literal; `q` is the offset of the opening quote, the token starts at
    /// `self.pos` (which includes any prefix).
    fn string(&mut self, q: usize, raw: bool, fstring: bool) {
        let start = self.pos;
        let quote = self.b[q];
        let triple = self.b.get(q..q + 3) == Some(&[quote, quote, quote][..]);
        let body = if triple { q + 3 } else { q + 1 };
        let qlen = if triple { 3 } else { 1 };
        let Some(end) = self.string_end(body, quote, triple, fstring) else {
            let (end, msg) = if triple {
                self.open_triple = true;
                (
                    self.b.len(),
                    format!(
                        "{UNTERMINATED_TRIPLE}: add the closing {}",
                        (quote as char).to_string().repeat(3)
                    ),
                )
            } else {
                (
                    self.line_end(start),
                    format!("unterminated string: add the closing {}", quote as char),
                )
            };
            self.push(TokenKind::Error(msg), start, end);
            self.pos = end;
            return;
        };
        self.pos = end + qlen;
        let kind = if fstring {
            TokenKind::FStr(FStrBody {
                start: body,
                end,
                raw,
            })
        } else {
            match unescape(&self.src[body..end], raw) {
                Ok(s) => TokenKind::Str(s),
                Err(m) => TokenKind::Error(m),
            }
        };
        self.push(kind, start, self.pos);
    }

    /// Offset of the closing quote(s) of a string body starting at `from`.
    fn string_end(&self, from: usize, quote: u8, triple: bool, fstring: bool) -> Option<usize> {
        let mut p = from;
        let mut braces = 0usize;
        while p < self.b.len() {
            let c = self.b[p];
            if braces > 0 {
                // Inside an f-string's replacement field: nested strings and brackets.
                match c {
                    b'{' | b'(' | b'[' => braces += 1,
                    b'}' | b')' | b']' => braces -= 1,
                    b'\'' | b'"' => {
                        let close = self.b[p + 1..].iter().position(|&x| x == c || x == b'\n')?;
                        if self.b[p + 1 + close] != c {
                            return None;
                        }
                        p += close + 1;
                    }
                    b'\n' if !triple => return None,
                    _ => {}
                }
                p += 1;
                continue;
            }
            match c {
                b'\\' => {
                    p += 2;
                    continue;
                }
                b'\n' if !triple => return None,
                b'{' if fstring => {
                    if self.byte(p + 1) == Some(b'{') {
                        p += 2;
                        continue;
                    }
                    braces = 1;
                }
                _ if c == quote => {
                    if !triple {
                        return Some(p);
                    }
                    if self.b.get(p..p + 3) == Some(&[quote, quote, quote][..]) {
                        return Some(p);
                    }
                }
                _ => {}
            }
            p += 1;
        }
        None
    }
}

/// The start of the message of an unterminated triple-quoted string's error token (the REPL
/// asks for more lines while it is open).
const UNTERMINATED_TRIPLE: &str = "unterminated triple-quoted string";

/// Decode the escapes of a string body (`raw`: none).
pub fn unescape(body: &str, raw: bool) -> Result<String, String> {
    if raw || !body.contains('\\') {
        return Ok(body.to_string());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' | '\'' | '"' => out.push(e),
            '\n' => {} // continuation inside a string
            '0'..='7' => {
                let mut v = e as u32 - '0' as u32;
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&(_, d @ '0'..='7')) => {
                            v = v * 8 + (d as u32 - '0' as u32);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let at = i + 2;
                let hex = body
                    .get(at..at + n)
                    .filter(|h| h.bytes().all(|d| d.is_ascii_hexdigit()));
                match hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                {
                    Some(v) => {
                        out.push(v);
                        for _ in 0..n {
                            chars.next();
                        }
                    }
                    None => return Err(format!("invalid \\{e} escape: expected {n} hex digits")),
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const COMMANDS: &[&str] = &[
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
    ];

    fn is_cmd(w: &str) -> bool {
        COMMANDS.contains(&w)
    }

    fn render(toks: &[Token]) -> String {
        toks.iter()
            .map(|t| match &t.kind {
                TokenKind::Ident(s) => format!("Id({s})"),
                TokenKind::Int(i) => format!("Int({i})"),
                TokenKind::Float(f) => format!("Float({f:?})"),
                TokenKind::Str(s) => format!("Str({s:?})"),
                TokenKind::FStr(b) => {
                    format!(
                        "F({}..{}{})",
                        b.start,
                        b.end,
                        if b.raw { " raw" } else { "" }
                    )
                }
                TokenKind::HeaderColon => "HC".to_string(),
                TokenKind::Pipe(s) => format!("Pipe({s:?})"),
                TokenKind::Keyword(k) => format!("Kw({})", k.as_str()),
                TokenKind::Op("\n") => "NL".to_string(),
                TokenKind::Op(o) => format!("Op({o})"),
                TokenKind::Bang(s) => format!("Bang({s:?})"),
                TokenKind::CommandName(s) => format!("Cmd({s})"),
                TokenKind::Word(s) => format!("W({s:?})"),
                TokenKind::Comment(s) => format!("Com({s:?})"),
                TokenKind::Error(m) => format!("Err({m})"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn token_table() {
        let rows: &[(&str, &str)] = &[
            ("", ""),
            ("   ", ""),
            ("x = 3", "Id(x) Op(=) Int(3)"),
            ("a.b_c9(_x)", "Id(a) Op(.) Id(b_c9) Op(() Id(_x) Op())"),
            (
                "== != <= >= < > ** // * / % + - = : ; , . ( ) [ ] { }",
                "Op(==) Op(!=) Op(<=) Op(>=) Op(<) Op(>) Op(**) Op(//) Op(*) Op(/) Op(%) Op(+) Op(-) Op(=) Op(:) Op(;) Op(,) Op(.) Op(() Op()) Op([) Op(]) Op({) Op(})",
            ),
            ("a**-b", "Id(a) Op(**) Op(-) Id(b)"),
            (
                "True False None true false",
                "Kw(True) Kw(False) Kw(None) Kw(True) Kw(False)",
            ),
            (
                "and or not import from as in is with pass",
                "Kw(and) Kw(or) Kw(not) Kw(import) Kw(from) Kw(as) Kw(in) Kw(is) Kw(with) Kw(pass)",
            ),
            ("Truex nonex", "Id(Truex) Id(nonex)"),
            // numbers
            (
                "123 0x1f 0o17 0b101 1_000",
                "Int(123) Int(31) Int(15) Int(5) Int(1000)",
            ),
            (
                "1.5 1e3 .5 1. 2E-2 1_0.2_5",
                "Float(1.5) Float(1000.0) Float(0.5) Float(1.0) Float(0.02) Float(10.25)",
            ),
            ("x.5", "Id(x) Float(0.5)"),
            ("1.real", "Int(1) Op(.) Id(real)"),
            (
                "170141183460469231731687303715884105727",
                "Int(170141183460469231731687303715884105727)",
            ),
            (
                "170141183460469231731687303715884105728",
                "Err(integer literal too large (max 128 bits))",
            ),
            ("0x", "Err(invalid number literal '0x')"),
            ("0b102", "Err(invalid number literal '0b102')"),
            (
                "12abc + 1",
                "Err(invalid number literal '12abc') Op(+) Int(1)",
            ),
            ("1e", "Err(invalid number literal '1e')"),
            // strings
            (r#""a" 'b'"#, r#"Str("a") Str("b")"#),
            (
                r#"b"/org" B'x' u"y" r"\n" Rb'\'' br"q""#,
                r#"Str("/org") Str("x") Str("y") Str("\\n") Str("\\'") Str("q")"#,
            ),
            (
                r#""\n\t\\\'\"\x41\0\101\u00e9\q""#,
                r#"Str("\n\t\\'\"A\0Aé\\q")"#,
            ),
            (r#""é€😀""#, r#"Str("é€😀")"#),
            (
                r#""\xZZ""#,
                r#"Err(invalid \x escape: expected 2 hex digits)"#,
            ),
            (
                r#"x = "abc"#,
                "Id(x) Op(=) Err(unterminated string: add the closing \")",
            ),
            (
                "x = 'abc\ny",
                "Id(x) Op(=) Err(unterminated string: add the closing ') NL Id(y)",
            ),
            (r#""abc\"#, "Err(unterminated string: add the closing \")"),
            ("bar'x'", r#"Id(bar) Str("x")"#),
            // comments
            ("x # hi", r#"Id(x) Com(" hi")"#),
            ("# only", r#"Com(" only")"#),
            ("'#' # c", r##"Str("#") Com(" c")"##),
            // stray characters
            ("a $ b", "Id(a) Err(unexpected character '$') Id(b)"),
            ("é", "Err(unexpected character 'é')"),
            (
                "x ! y",
                "Id(x) Err(unexpected '!': shell escapes (!cmd) are only allowed at the start of a statement) Id(y)",
            ),
            // newlines: separators at depth 0, whitespace inside brackets
            ("a\nb", "Id(a) NL Id(b)"),
            (
                "f(\n 1,\n 2\n)\nx",
                "Id(f) Op(() Int(1) Op(,) Int(2) Op()) NL Id(x)",
            ),
            ("a + \\\n b", "Id(a) Op(+) Id(b)"),
            // command lines
            ("help", "Cmd(help)"),
            ("help ", "Cmd(help)"),
            ("  list", "Cmd(list)"),
            ("list = 3", "Id(list) Op(=) Int(3)"),
            ("list == 3", "Id(list) Op(==) Int(3)"),
            ("list != 3", "Id(list) Op(!=) Int(3)"),
            ("call(1)", "Id(call) Op(() Int(1) Op())"),
            ("call (1)", "Id(call) Op(() Int(1) Op())"),
            ("help.x", "Id(help) Op(.) Id(x)"),
            ("list[0]", "Id(list) Op([) Int(0) Op(])"),
            ("list+1", "Id(list) Op(+) Int(1)"),
            ("listing x", "Id(listing) Id(x)"),
            (
                "introspect org.freedesktop.systemd1 /org/freedesktop/systemd1",
                r#"Cmd(introspect) W("org.freedesktop.systemd1") W("/org/freedesktop/systemd1")"#,
            ),
            (
                r#"call x /y z.w Restart s "replace""#,
                r#"Cmd(call) W("x") W("/y") W("z.w") W("Restart") W("s") W("replace")"#,
            ),
            (
                "get-property a /b c D; list",
                r#"Cmd(get-property) W("a") W("/b") W("c") W("D") Op(;) Cmd(list)"#,
            ),
            (
                "get-property a;list;x=1",
                r#"Cmd(get-property) W("a") Op(;) Cmd(list) Op(;) Id(x) Op(=) Int(1)"#,
            ),
            (
                "tree org.freedesktop.systemd1 # comment",
                r#"Cmd(tree) W("org.freedesktop.systemd1") Com(" comment")"#,
            ),
            ("tree a#b", r#"Cmd(tree) W("a#b")"#),
            ("list#c", r#"Cmd(list) Com("c")"#),
            (
                r#"call a"b c"d 'e f'g "x\"y\\z\q" a\ b \'"#,
                r#"Cmd(call) W("ab cd") W("e fg") W("x\"y\\z\\q") W("a b") W("'")"#,
            ),
            (r#"call ''"" x"#, r#"Cmd(call) W("") W("x")"#),
            (
                r#"call 'a;b' "c;d" e\;f"#,
                r#"Cmd(call) W("a;b") W("c;d") W("e;f")"#,
            ),
            (
                r#"call x "unterminated"#,
                r#"Cmd(call) W("x") Err(unterminated quote: add the closing ")"#,
            ),
            (
                "call x 'y\nlist",
                r#"Cmd(call) W("x") Err(unterminated quote: add the closing ') NL Cmd(list)"#,
            ),
            ("call é ü", r#"Cmd(call) W("é") W("ü")"#),
            ("tree a\nlist b", r#"Cmd(tree) W("a") NL Cmd(list) W("b")"#),
            // busctl prefix
            (
                "busctl call  org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice  org.freedesktop.DBus.Properties  Get ss org.freedesktop.systemd1.Service MainPID",
                r#"Cmd(busctl) Cmd(call) W("org.freedesktop.systemd1") W("/org/freedesktop/systemd1/unit/myfirstservice_2eservice") W("org.freedesktop.DBus.Properties") W("Get") W("ss") W("org.freedesktop.systemd1.Service") W("MainPID")"#,
            ),
            (
                "busctl introspect X Y",
                r#"Cmd(busctl) Cmd(introspect) W("X") W("Y")"#,
            ),
            ("busctl --user tree", r#"Cmd(busctl) W("--user") W("tree")"#),
            ("busctl", "Cmd(busctl)"),
            ("busctl;tree", "Cmd(busctl) Op(;) Cmd(tree)"),
            ("busctl = 1", "Id(busctl) Op(=) Int(1)"),
            // bang
            ("!ls -l | wc -l; echo x", r#"Bang("ls -l | wc -l; echo x")"#),
            ("  ! ls", r#"Bang(" ls")"#),
            (
                "x; !echo 'a'\ny",
                r#"Id(x) Op(;) Bang("echo 'a'") NL Id(y)"#,
            ),
            // with: the body after ':' starts a statement
            (
                "with x as y: list",
                "Kw(with) Id(x) Kw(as) Id(y) HC Cmd(list)",
            ),
            // compound statements: the header's ':' starts a statement
            ("if x: list", "Kw(if) Id(x) HC Cmd(list)"),
            ("else: tree a", r#"Kw(else) HC Cmd(tree) W("a")"#),
            ("while True: f()", "Kw(while) Kw(True) HC Id(f) Op(() Op())"),
            (
                "if d[1:2]: x",
                "Kw(if) Id(d) Op([) Int(1) Op(:) Int(2) Op(]) HC Id(x)",
            ),
            ("if lambda: 1: x", "Kw(if) Kw(lambda) Op(:) Int(1) HC Id(x)"),
            (
                "x = a if b else c",
                "Id(x) Op(=) Id(a) Kw(if) Id(b) Kw(else) Id(c)",
            ),
            (
                "f = lambda *x: x",
                "Id(f) Op(=) Kw(lambda) Op(*) Id(x) Op(:) Id(x)",
            ),
            ("x: int = 1", "Id(x) Op(:) Id(int) Op(=) Int(1)"),
            (
                "def f(a):\n  list",
                "Kw(def) Id(f) Op(() Id(a) Op()) HC NL Cmd(list)",
            ),
            // operators added with the blocks
            (
                "a += 1; b //= 2; c **= 3; d |= e & f ^ ~g << 1 >> 2; x -> y := z ...",
                "Id(a) Op(+=) Int(1) Op(;) Id(b) Op(//=) Int(2) Op(;) Id(c) Op(**=) Int(3) Op(;) Id(d) Op(|=) Id(e) Op(&) Id(f) Op(^) Op(~) Id(g) Op(<<) Int(1) Op(>>) Int(2) Op(;) Id(x) Op(->) Id(y) Op(:=) Id(z) Op(...)",
            ),
            ("list += [1]", "Id(list) Op(+=) Op([) Int(1) Op(])"),
            (
                "list, x = 1, 2",
                "Id(list) Op(,) Id(x) Op(=) Int(1) Op(,) Int(2)",
            ),
            ("tree -x", r#"Cmd(tree) W("-x")"#),
            // triple-quoted strings and f-strings
            ("'''a\nb''' x", r#"Str("a\nb") Id(x)"#),
            (r#""""a"b""""#, r#"Str("a\"b")"#),
            (
                "'''a\n",
                "Err(unterminated triple-quoted string: add the closing ''')",
            ),
            (r#"f"a{x}b""#, "F(2..7)"),
            (r#"rf'{x!r:>{w}}' 1"#, "F(3..13 raw) Int(1)"),
            (r#"f"{d["k"]}" 1"#, "F(2..10) Int(1)"),
            (r#"f"{{x}}""#, "F(2..7)"),
            (r#"f"{x""#, "Err(unterminated string: add the closing \")"),
            ("f'''{x}\n'''", "F(4..8)"),
            // pipes and redirections end a command line
            (
                "tree org.x | grep my; echo",
                r#"Cmd(tree) W("org.x") Pipe(" grep my; echo")"#,
            ),
            (
                "tree a|wc -l\nlist",
                r#"Cmd(tree) W("a") Pipe("wc -l") NL Cmd(list)"#,
            ),
            (
                "tree a > /tmp/x; list >> 'b c'",
                r#"Cmd(tree) W("a") Op(>) W("/tmp/x") Op(;) Cmd(list) Op(>>) W("b c")"#,
            ),
            ("tree 'a|b' \\>", r#"Cmd(tree) W("a|b") W(">")"#),
            (
                "d = {1: list}",
                "Id(d) Op(=) Op({) Int(1) Op(:) Id(list) Op(})",
            ),
            // ';' inside brackets still starts a statement (error recovery)
            ("f(; list", "Id(f) Op(() Op(;) Cmd(list)"),
        ];
        let mut bad = Vec::new();
        for (input, want) in rows {
            let got = render(&lex(input, &is_cmd));
            if got != *want {
                bad.push(format!("{input:?}\n   got: {got}\n  want: {want}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn spans() {
        let rows: &[(&str, &[(usize, usize)])] = &[
            ("x = 3", &[(0, 1), (2, 3), (4, 5)]),
            (r#"call a"b c" 'd'"#, &[(0, 4), (5, 11), (12, 15)]),
            ("é + b'x'", &[(0, 2), (3, 4), (5, 9)]),
            ("a # c", &[(0, 1), (2, 5)]),
            ("!ls", &[(0, 3)]),
            ("x = 'ab\ny", &[(0, 1), (2, 3), (4, 7), (7, 8), (8, 9)]),
            ("busctl tree x", &[(0, 6), (7, 11), (12, 13)]),
        ];
        for (input, want) in rows {
            let got: Vec<_> = lex(input, &is_cmd)
                .iter()
                .map(|t| (t.span.start, t.span.end))
                .collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    #[test]
    fn statement_tokens_finds_the_statement_under_the_cursor() {
        let line = "x = 1; tree a b; f(";
        let toks = lex(line, &is_cmd);
        let text = |pos| {
            statement_tokens(&toks, pos)
                .iter()
                .map(|t| t.span.slice(line))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(text(0), "x = 1");
        assert_eq!(text(5), "x = 1");
        assert_eq!(text(6), "tree a b");
        assert_eq!(text(12), "tree a b");
        assert_eq!(text(line.len()), "f (");
        assert_eq!(text(99), "f (");
    }

    pub(crate) const TRICKY: &[&str] = &[
        r#"service_path = pystemd.dbuslib.path_encode(b"/org/freedesktop/systemd1/unit", b"myfirstservice.service")"#,
        r#"call a"b c"d 'e f'g "x\"y\\z\q" a\ b \'"#,
        "busctl call  org.freedesktop.systemd1 /x  Get ss 'a b' \"c\\\"d\"",
        r#""\x4\u12\U0001F600\777\0 é€😀" 'é'"#,
        "0x1f 0b 0o9 1e+ 1.e5 .5e-3 1__0 9999999999999999999999999999999999999999999",
        "with a(1, [2, {3: 4}]) as b: c; !d; list x",
        "x = 'ab\\\ncd' # é\n  tree é 'ü\n!€\n(\n[\n{\n",
        "é€😀 $ ? ~ ` @ ^ & | \\ \t\r\x0c\0",
        "if x:\n  while y: z\nelse: list | grep q > f\n",
        "f'{a!r:>{w}} {{ }}' rf\"{'x'}\" f'''{\n'''",
        "'''abc\n\\''' \"\"\"",
        "rb'\\'' Br\"\\\" u'\\N{x}' b\"\\xé\"",
    ];

    /// Deterministic xorshift so the test needs no dependency.
    pub(crate) fn random_lines(n: usize) -> Vec<String> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet = b"ab19_.-=()[]{},:;#!\"'\\ \n\txbrueE+*/%<>f|";
        (0..n)
            .map(|i| {
                let mut bytes = Vec::new();
                for _ in 0..(i % 40) {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let r = state as usize;
                    if r.is_multiple_of(3) {
                        bytes.push((r >> 8) as u8); // arbitrary byte, maybe invalid UTF-8
                    } else {
                        bytes.push(alphabet[(r >> 8) % alphabet.len()]);
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
            .collect()
    }

    fn check_total(line: &str) {
        let toks = lex(line, &is_cmd);
        let mut prev_end = 0;
        for t in &toks {
            assert!(
                t.span.start <= t.span.end && t.span.end <= line.len(),
                "{line:?}: {t:?}"
            );
            assert!(
                t.span.start >= prev_end,
                "overlapping tokens in {line:?}: {t:?}"
            );
            assert!(line.is_char_boundary(t.span.start) && line.is_char_boundary(t.span.end));
            prev_end = t.span.end;
        }
    }

    #[test]
    fn lexer_is_total_on_prefixes_and_random_input() {
        for line in TRICKY {
            for (i, _) in line.char_indices().chain([(line.len(), ' ')]) {
                check_total(&line[..i]);
            }
        }
        for line in random_lines(3000) {
            check_total(&line);
        }
    }

    #[test]
    fn incremental_lexing_equals_lexing_the_whole() {
        let mut inputs: Vec<String> = TRICKY.iter().map(|s| s.to_string()).collect();
        inputs.extend(random_lines(2000));
        inputs.push("x = [\n1,\n2]\ny = '''a\nb\nc'''\nz = 1 + \\\n 2\nlist\n".into());
        for src in &inputs {
            let mut inc = Incremental::new();
            for line in src.split_inclusive('\n') {
                inc.push(line, &is_cmd);
            }
            inc.finish(&is_cmd);
            let (whole, open) = lex_open(src, &is_cmd);
            assert_eq!(inc.tokens(), whole.as_slice(), "{src:?}");
            assert_eq!(inc.open(), open, "{src:?}");
        }
    }

    #[test]
    fn open_constructs_ask_for_more() {
        let d = Open::default();
        let rows: &[(&str, Open)] = &[
            ("f(1,", Open { depth: 1, ..d }),
            ("x = '''a", Open { triple: true, ..d }),
            (
                "x = 1 + \\",
                Open {
                    backslash: true,
                    ..d
                },
            ),
            (
                "x = 1 + \\\n",
                Open {
                    backslash: true,
                    ..d
                },
            ),
            ("x = '(' # (", d),
            ("call a ( b", d),
            (
                ")(",
                Open {
                    depth: 1,
                    broken: true,
                    ..d
                },
            ),
            (
                "f('abc",
                Open {
                    depth: 1,
                    broken: true,
                    ..d
                },
            ),
        ];
        for (src, want) in rows {
            assert_eq!(lex_open(src, &is_cmd).1, *want, "{src:?}");
        }
    }
}

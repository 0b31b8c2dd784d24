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
//! `is_command` callback so this module stays free of data and I/O.
//!
//! Deviation from a strict one-token-per-lexeme model: a newline at bracket
//! depth 0 is emitted as `Op("\n")` (a statement separator just like `;`);
//! newlines inside brackets are plain whitespace.

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
}

impl Keyword {
    pub fn from_word(s: &str) -> Option<Keyword> {
        Some(match s {
            "True" | "true" => Keyword::True,
            "False" | "false" => Keyword::False,
            "None" => Keyword::None,
            "and" => Keyword::And,
            "or" => Keyword::Or,
            "not" => Keyword::Not,
            "import" => Keyword::Import,
            "from" => Keyword::From,
            "as" => Keyword::As,
            "in" => Keyword::In,
            "is" => Keyword::Is,
            "with" => Keyword::With,
            "pass" => Keyword::Pass,
            _ => return None,
        })
    }

    /// Canonical spelling (`True`, not `true`).
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::True => "True",
            Keyword::False => "False",
            Keyword::None => "None",
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
            Keyword::Import => "import",
            Keyword::From => "from",
            Keyword::As => "as",
            Keyword::In => "in",
            Keyword::Is => "is",
            Keyword::With => "with",
            Keyword::Pass => "pass",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Int(i128),
    Float(f64),
    /// `"..."`, `'...'`, with optional `b`/`u`/`r`/`br`/`rb` prefix (bytes are
    /// read as plain strings), escapes decoded.
    Str(String),
    Keyword(Keyword),
    /// One of `( ) [ ] { } , . : ; = == != < <= > >= + - * / // % **`, or
    /// `"\n"` for a statement-separating newline (bracket depth 0 only).
    Op(&'static str),
    /// `!cmd ...` at statement start: everything after `!` up to end of line.
    Bang(String),
    /// First word of a command line (and the word after a leading `busctl`).
    CommandName(String),
    /// One unquoted argument of a command line.
    Word(String),
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
    /// `;` or a depth-0 newline.
    pub fn is_separator(&self) -> bool {
        matches!(self.kind, TokenKind::Op(";") | TokenKind::Op("\n"))
    }
}

/// True if `s` would lex as a single [`TokenKind::Ident`]: ASCII
/// `[A-Za-z_][A-Za-z0-9_]*` and not a keyword (so `obj.s` is valid syntax).
pub fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    match b.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return false,
    }
    b.all(|c| c.is_ascii_alphanumeric() || c == b'_') && Keyword::from_word(s).is_none()
}

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
    let mut lx = Lexer {
        src: line,
        b: line.as_bytes(),
        pos: 0,
        toks: Vec::new(),
        depth: 0,
        at_stmt_start: true,
        in_with: false,
        is_command,
    };
    lx.run();
    lx.toks
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

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    toks: Vec<Token>,
    depth: usize,
    at_stmt_start: bool,
    /// Inside a `with` statement header: its depth-0 `:` starts a new statement.
    in_with: bool,
    is_command: &'a dyn Fn(&str) -> bool,
}

impl Lexer<'_> {
    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
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
        self.at_stmt_start = true;
        self.in_with = false;
        self.depth = 0;
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
                    if self.depth == 0 {
                        self.push(TokenKind::Op("\n"), self.pos, self.pos + 1);
                        self.new_statement();
                    }
                    self.pos += 1;
                    continue;
                }
                b'\\' if self.byte(self.pos + 1) == Some(b'\n') => {
                    self.pos += 2; // explicit line continuation
                    continue;
                }
                _ => {}
            }
            if self.at_stmt_start {
                self.at_stmt_start = false;
                if c == b'!' {
                    self.bang();
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
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'#')
        ) {
            return false;
        }
        let next = self.skip_blanks(end);
        match self.byte(next) {
            Some(b'=' | b'(' | b'.' | b'[') => return false,
            Some(b'!') if self.byte(next + 1) == Some(b'=') => return false,
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
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';')
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

    /// Shell-like words until an unquoted `;` or newline.
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
                b'\\' if self.byte(self.pos + 1) == Some(b'\n') => self.pos += 2,
                _ => self.word(),
            }
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        let mut out = String::new();
        while let Some(ch) = self.char_at(self.pos) {
            match ch {
                ' ' | '\t' | '\r' | '\n' | ';' => break,
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
        // String prefixes: b r u br rb (any case) directly followed by a quote.
        if c.is_ascii_alphabetic() {
            let mut p = start;
            while p < start + 2 && matches!(self.byte(p), Some(b'b' | b'B' | b'r' | b'R' | b'u' | b'U'))
            {
                p += 1;
            }
            if p > start && matches!(self.byte(p), Some(b'"' | b'\'')) {
                let prefix = self.src[start..p].to_ascii_lowercase();
                if matches!(prefix.as_str(), "b" | "r" | "u" | "br" | "rb") {
                    self.string(p, prefix.contains('r'));
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
                    if k == Keyword::With && self.prev_is_stmt_start() {
                        self.in_with = true;
                    }
                    TokenKind::Keyword(k)
                }
                None => TokenKind::Ident(w.to_string()),
            };
            self.push(kind, start, e);
            self.pos = e;
            return;
        }
        if c.is_ascii_digit() || (c == b'.' && self.byte(start + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            self.number();
            return;
        }
        match c {
            b'"' | b'\'' => return self.string(start, false),
            b'#' => return self.comment(),
            _ => {}
        }
        let two = self.src.get(start..start + 2).unwrap_or("");
        let op: Option<&'static str> = match two {
            "**" => Some("**"),
            "//" => Some("//"),
            "==" => Some("=="),
            "!=" => Some("!="),
            "<=" => Some("<="),
            ">=" => Some(">="),
            _ => match c {
                b'(' => Some("("),
                b')' => Some(")"),
                b'[' => Some("["),
                b']' => Some("]"),
                b'{' => Some("{"),
                b'}' => Some("}"),
                b',' => Some(","),
                b'.' => Some("."),
                b':' => Some(":"),
                b';' => Some(";"),
                b'=' => Some("="),
                b'<' => Some("<"),
                b'>' => Some(">"),
                b'+' => Some("+"),
                b'-' => Some("-"),
                b'*' => Some("*"),
                b'/' => Some("/"),
                b'%' => Some("%"),
                _ => None,
            },
        };
        if let Some(op) = op {
            let end = start + op.len();
            self.push(TokenKind::Op(op), start, end);
            self.pos = end;
            match op {
                "(" | "[" | "{" => self.depth += 1,
                ")" | "]" | "}" => self.depth = self.depth.saturating_sub(1),
                ";" => self.new_statement(),
                ":" if self.depth == 0 && self.in_with => self.new_statement(),
                _ => {}
            }
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
            let digits: String = self.src[start + 2..end].chars().filter(|&c| c != '_').collect();
            kind = if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                TokenKind::Error(format!("invalid number literal '{}'", &self.src[start..end]))
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

    /// `q` is the offset of the opening quote; the token starts at `self.pos`
    /// (which includes any prefix).
    fn string(&mut self, q: usize, raw: bool) {
        let start = self.pos;
        let quote = self.b[q] as char;
        let mut out = String::new();
        let mut bad: Option<String> = None;
        let mut p = q + 1;
        loop {
            let Some(ch) = self.char_at(p) else { break };
            if ch == '\n' {
                break;
            }
            if ch == quote {
                self.pos = p + 1;
                let kind = match bad {
                    Some(m) => TokenKind::Error(m),
                    None => TokenKind::Str(out),
                };
                self.push(kind, start, self.pos);
                return;
            }
            if ch != '\\' {
                out.push(ch);
                p += ch.len_utf8();
                continue;
            }
            let Some(e) = self.char_at(p + 1) else { break };
            if raw {
                out.push('\\');
                out.push(e);
                p += 1 + e.len_utf8();
                continue;
            }
            p += 1 + e.len_utf8();
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
                        match self.byte(p) {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + (d - b'0') as u32;
                                p += 1;
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
                    let hex = self.src.get(p..p + n).filter(|h| h.bytes().all(|d| d.is_ascii_hexdigit()));
                    match hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) {
                        Some(v) => {
                            out.push(v);
                            p += n;
                        }
                        None => {
                            bad.get_or_insert_with(|| {
                                format!("invalid \\{e} escape: expected {n} hex digits")
                            });
                        }
                    }
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        let end = self.line_end(start);
        self.push(
            TokenKind::Error(format!("unterminated string: add the closing {quote}")),
            start,
            end,
        );
        self.pos = end;
    }
}

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
    #[cfg(test)]
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
            while p < start + 2
                && matches!(self.byte(p), Some(b'b' | b'B' | b'r' | b'R' | b'u' | b'U'))
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
        if c.is_ascii_digit()
            || (c == b'.' && self.byte(start + 1).is_some_and(|d| d.is_ascii_digit()))
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

    /// `q` is the offset of the opening quote; the token starts at `self.pos`
    /// (which includes any prefix).
    fn string(&mut self, q: usize, raw: bool) {
        let start = self.pos;
        let quote = self.b[q] as char;
        let mut out = String::new();
        let mut bad: Option<String> = None;
        let mut p = q + 1;
        while let Some(ch) = self.char_at(p) {
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
                    let hex = self
                        .src
                        .get(p..p + n)
                        .filter(|h| h.bytes().all(|d| d.is_ascii_hexdigit()));
                    match hex
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                    {
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
                "Kw(with) Id(x) Kw(as) Id(y) Op(:) Cmd(list)",
            ),
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
        "rb'\\'' Br\"\\\" u'\\N{x}' b\"\\xé\"",
    ];

    /// Deterministic xorshift so the test needs no dependency.
    pub(crate) fn random_lines(n: usize) -> Vec<String> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet = b"ab19_.-=()[]{},:;#!\"'\\ \n\txbrueE+*/%<>";
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
}

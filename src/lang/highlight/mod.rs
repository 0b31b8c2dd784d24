//! Highlighting the shell's language, the same way everywhere.
//!
//! Why two engines and one table: source shown whole (`ppcode`, the menu demos' calls, a
//! demo's statements) goes through syntect and a `.sublime-syntax` for our language
//! ([`SYNTAX`], the format editors and `bat` read), while the prompt line is coloured on
//! every keystroke, where syntect is too slow (milliseconds to load, fancy-regex per line),
//! so it is coloured from the shell's own lexer (the tokens the parser reads). Both end in
//! the same [`Class`]es, and one table ([`TABLE`]) gives each class its syntax scope and its
//! colour: the syntect theme is built from that table, so a scope's colour cannot differ
//! between the two, and a test (`syntect_and_lexer_agree`) checks that they classify a table
//! of lines byte for byte the same. Whether to colour at all (NO_COLOR, `--color`, a
//! non-terminal) is the caller's decision ([`crate::term::Term`]).
//!
//! syntect is loaded lazily, once per process, with the command names filled in (which words
//! start a command line is the command table's knowledge, given by the caller).

use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use nu_ansi_term::{Color, Style};

use crate::lang::lexer::{Keyword, TokenKind, lex};

/// The `.sublime-syntax` of the language.
pub const SYNTAX: &str = include_str!("rsh.sublime-syntax");

/// What a piece of source is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Plain,
    Keyword,
    Str,
    Number,
    Comment,
    /// The command of a command line (`tree`, `busctl`, `%run`).
    Command,
    /// Text handed to the host's shell: `!cmd`, `| pipeline`.
    Shell,
    /// The name a `def` defines.
    Function,
    Error,
}

/// How a class is painted.
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    pub fg: Color,
    pub bold: bool,
    pub underline: bool,
}

impl Paint {
    pub fn style(self) -> Style {
        let mut s = self.fg.normal();
        if self.bold {
            s = s.bold();
        }
        if self.underline {
            s = s.underline();
        }
        s
    }
}

const fn paint(fg: Color) -> Paint {
    Paint {
        fg,
        bold: false,
        underline: false,
    }
}

/// The one table: each class, the scope the `.sublime-syntax` gives it, the theme selector
/// that colours it (the scope without the language, so Rust source shown by `ppcode` is
/// coloured alike: `string` is a string in both), and its colour.
pub const TABLE: &[(Class, &str, &str, Paint)] = &[
    (
        Class::Keyword,
        "keyword.control.rsh",
        "keyword.control, keyword.other, storage",
        paint(Color::Magenta),
    ),
    (
        Class::Str,
        "string.quoted.rsh",
        "string",
        paint(Color::Green),
    ),
    (
        Class::Number,
        "constant.numeric.rsh",
        "constant.numeric",
        paint(Color::Cyan),
    ),
    (
        Class::Comment,
        "comment.line.rsh",
        "comment",
        paint(Color::DarkGray),
    ),
    (
        Class::Command,
        "support.function.command.rsh",
        "support.function.command",
        Paint {
            fg: Color::Blue,
            bold: true,
            underline: false,
        },
    ),
    (
        Class::Shell,
        "string.unquoted.shell.rsh",
        "string.unquoted.shell",
        paint(Color::Yellow),
    ),
    (
        Class::Function,
        "entity.name.function.rsh",
        "entity.name.function",
        paint(Color::LightBlue),
    ),
    (
        Class::Error,
        "invalid.illegal.rsh",
        "invalid",
        Paint {
            fg: Color::Red,
            bold: false,
            underline: true,
        },
    ),
];

/// The style of a class (`None`: plain).
pub fn style(class: Class) -> Option<Style> {
    TABLE
        .iter()
        .find(|(c, _, _, _)| *c == class)
        .map(|(_, _, _, p)| p.style())
}

/// Classified stretches of a source: byte ranges, in order, not overlapping.
pub type Spans = Vec<(Range<usize>, Class)>;

/// The class of a lexer token (`prev`: the token before it).
fn token_class(kind: &TokenKind, prev: Option<&TokenKind>) -> Class {
    match kind {
        TokenKind::Str(_) | TokenKind::FStr(_) => Class::Str,
        TokenKind::Int(_) | TokenKind::Float(_) => Class::Number,
        TokenKind::Keyword(_) => Class::Keyword,
        TokenKind::CommandName(_) => Class::Command,
        TokenKind::Bang(_) | TokenKind::Pipe(_) => Class::Shell,
        TokenKind::Comment(_) => Class::Comment,
        // A triple-quoted string still being typed is a string, not a mistake.
        TokenKind::Error(m) if m.starts_with("unterminated triple-quoted string") => Class::Str,
        TokenKind::Error(_) => Class::Error,
        TokenKind::Ident(_) if prev == Some(&TokenKind::Keyword(Keyword::Def)) => Class::Function,
        _ => Class::Plain,
    }
}

/// Classes from the shell's lexer (cheap: the prompt line on every keystroke).
pub fn lexer_spans(src: &str, is_command: &dyn Fn(&str) -> bool) -> Spans {
    let toks = lex(src, is_command);
    let mut out = Spans::new();
    let mut prev: Option<&TokenKind> = None;
    for t in &toks {
        let class = token_class(&t.kind, prev);
        prev = Some(&t.kind);
        let (s, e) = (t.span.start.min(src.len()), t.span.end.min(src.len()));
        if class != Class::Plain && s < e {
            out.push((s..e, class));
        }
    }
    out
}

/// `src` with ANSI colours for `spans` (the text itself unchanged, so its display width is).
pub fn paint_spans(src: &str, spans: &[(Range<usize>, Class)]) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut at = 0;
    for (r, class) in spans {
        let (s, e) = (r.start, r.end.min(src.len()));
        if s < at || s >= e || !src.is_char_boundary(s) || !src.is_char_boundary(e) {
            continue;
        }
        out.push_str(&src[at..s]);
        match style(*class) {
            // Line by line, so a pager or a terminal scrolled half-way never bleeds colour.
            Some(st) => {
                for (i, part) in src[s..e].split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    if !part.is_empty() {
                        out.push_str(&st.paint(part).to_string());
                    }
                }
            }
            None => out.push_str(&src[s..e]),
        }
        at = e;
    }
    out.push_str(&src[at..]);
    out
}

/// A prompt line coloured from the lexer.
pub fn line(src: &str, is_command: &dyn Fn(&str) -> bool) -> String {
    paint_spans(src, &lexer_spans(src, is_command))
}

/// Source shown whole (`ppcode`, demos), coloured through the `.sublime-syntax`;
/// `commands` are the words that start a command line.
pub fn source(src: &str, commands: &[&str]) -> String {
    let spans = syntax_spans(src, commands).unwrap_or_else(|_| {
        // The syntax is ours and tested: this is a safety net, not a path we expect.
        lexer_spans(src, &|w| commands.contains(&w))
    });
    paint_spans(src, &spans)
}

/// The loaded syntax, for a list of commands.
struct Loaded {
    commands: Vec<String>,
    set: syntect::parsing::SyntaxSet,
}

/// The theme made from [`TABLE`].
fn theme() -> &'static syntect::highlighting::Theme {
    use std::str::FromStr;
    use syntect::highlighting::{ScopeSelectors, StyleModifier, Theme, ThemeItem, ThemeSettings};
    static THEME: OnceLock<Theme> = OnceLock::new();
    THEME.get_or_init(|| Theme {
        settings: ThemeSettings {
            foreground: Some(marker(Class::Plain)),
            ..ThemeSettings::default()
        },
        scopes: TABLE
            .iter()
            .filter_map(|(class, _, selector, _)| {
                Some(ThemeItem {
                    // The selectors are constants (a test parses them all).
                    scope: ScopeSelectors::from_str(selector).ok()?,
                    style: StyleModifier {
                        foreground: Some(marker(*class)),
                        background: None,
                        font_style: None,
                    },
                })
            })
            .collect(),
        ..Theme::default()
    })
}

static LOADED: Mutex<Option<Arc<Loaded>>> = Mutex::new(None);

/// A theme colour standing for a class (its index in the red channel): the spans are
/// painted from [`TABLE`], never from RGB.
fn marker(class: Class) -> syntect::highlighting::Color {
    syntect::highlighting::Color {
        r: class as u8,
        g: 0,
        b: 0,
        a: 0xff,
    }
}

const CLASSES: &[Class] = &[
    Class::Plain,
    Class::Keyword,
    Class::Str,
    Class::Number,
    Class::Comment,
    Class::Command,
    Class::Shell,
    Class::Function,
    Class::Error,
];

/// A command name as a regex alternative (`get-property` → `get\-property`).
fn regex_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn load(commands: &[&str]) -> Result<Arc<Loaded>, String> {
    use syntect::parsing::{SyntaxDefinition, SyntaxSetBuilder};

    let mut guard = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = guard.as_ref()
        && l.commands
            .iter()
            .map(String::as_str)
            .eq(commands.iter().copied())
    {
        return Ok(l.clone());
    }
    let mut names: Vec<String> = commands.iter().map(|c| regex_escape(c)).collect();
    // Longest first, so `get-property` is not read as `get` followed by more.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let alternation = if names.is_empty() {
        // Matches nothing: no command lines.
        "(?!)".to_string()
    } else {
        names.join("|")
    };
    let yaml = SYNTAX.replacen(
        "  commands: 'list'",
        &format!("  commands: '{alternation}'"),
        1,
    );
    let def = SyntaxDefinition::load_from_str(&yaml, true, None)
        .map_err(|e| format!("rsh.sublime-syntax: {e}"))?;
    let mut b = SyntaxSetBuilder::new();
    b.add(def);
    let set = b.build();
    let loaded = Arc::new(Loaded {
        commands: commands.iter().map(|c| c.to_string()).collect(),
        set,
    });
    *guard = Some(loaded.clone());
    Ok(loaded)
}

/// Classes through syntect and the `.sublime-syntax`.
pub fn syntax_spans(src: &str, commands: &[&str]) -> Result<Spans, String> {
    let l = load(commands)?;
    let syntax = l
        .set
        .syntaxes()
        .first()
        .ok_or("rsh.sublime-syntax defines no syntax")?;
    spans_with(src, syntax, &l.set)
}

/// Rust source (a builtin's, for `ppcode`), coloured by syntect's own Rust syntax through the
/// same table.
pub fn rust(src: &str) -> String {
    use syntect::parsing::SyntaxSet;
    static DEFAULTS: OnceLock<SyntaxSet> = OnceLock::new();
    let set = DEFAULTS.get_or_init(SyntaxSet::load_defaults_newlines);
    match set
        .find_syntax_by_extension("rs")
        .map(|syntax| spans_with(src, syntax, set))
    {
        Some(Ok(spans)) => paint_spans(src, &spans),
        _ => src.to_string(),
    }
}

fn spans_with(
    src: &str,
    syntax: &syntect::parsing::SyntaxReference,
    set: &syntect::parsing::SyntaxSet,
) -> Result<Spans, String> {
    use syntect::easy::HighlightLines;
    use syntect::util::LinesWithEndings;

    let mut h = HighlightLines::new(syntax, theme());
    let mut out = Spans::new();
    let mut at = 0;
    for line in LinesWithEndings::from(src) {
        let parts = h.highlight_line(line, set).map_err(|e| e.to_string())?;
        for (st, text) in parts {
            let class = CLASSES
                .get(usize::from(st.foreground.r))
                .copied()
                .unwrap_or(Class::Plain);
            let r = at..at + text.len();
            at = r.end;
            // The newline itself is never painted.
            let r = if text.ends_with('\n') {
                r.start..r.end - 1
            } else {
                r
            };
            if class == Class::Plain || r.is_empty() {
                continue;
            }
            match out.last_mut() {
                Some((last, c)) if *c == class && last.end == r.start => last.end = r.end,
                _ => out.push((r, class)),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: &[&str] = &[
        "list",
        "tree",
        "call",
        "help",
        "cat",
        "introspect",
        "get-property",
        "status",
    ];

    fn is_cmd(w: &str) -> bool {
        COMMANDS.contains(&w)
    }

    /// One class per byte (newlines excluded), for comparing.
    fn per_byte(src: &str, spans: &Spans) -> Vec<Class> {
        let mut v = vec![Class::Plain; src.len()];
        for (r, c) in spans {
            for b in r.clone() {
                v[b] = *c;
            }
        }
        v
    }

    fn show(src: &str, v: &[Class]) -> String {
        let mut out = String::new();
        let mut last = None;
        for (i, c) in v.iter().enumerate() {
            if Some(*c) != last {
                out.push_str(&format!("\n  {c:?} from byte {i}: "));
                last = Some(*c);
            }
            out.push(src.as_bytes()[i] as char);
        }
        out
    }

    /// Lines where the prompt (lexer) and ppcode (syntect) must colour alike.
    const LINES: &[&str] = &[
        "x = 1",
        "u = unit(\"myfirstservice.service\")",
        "busctl tree org.freedesktop.systemd1 | grep myfirstservice",
        "busctl --user tree x",
        "call org.freedesktop.systemd1 /x a.b Restart s \"replace\" | awk '{print $2}' | xargs busctl introspect org.freedesktop.systemd1",
        "tree x > /tmp/out",
        "list # the peers",
        "list a#b 'c d' \"e;f\" g\\ h; x = 2",
        "!ls -l | wc -l; echo x",
        "%run demos/a.rsh b",
        "def f(a, b=1, *c, **d): return a  # c",
        "while True: n += 1; print(f\"{n=} {d['k']:>{w}}\")",
        "s = r'a\\'b' + b\"x\\\"y\" + 'unterminated",
        "x = 0x1f + 1_000 + 1.5e3 + .5 + 1. + 1abc + 0x1g + 0b102",
        "if a is not None and b in c: pass",
        "signal.signal(signal.SIGABRT, lambda *x: print(\"time to eventually die\", *x))",
        "list = 3; list",
        "list == 3; list[0]; list.x; list(1); list += [1]",
        "print(x) $ ? ` é",
        "d = {1: [2, (3,\n list)]}\nlist",
        "s = \"\"\"a\nlist 'b'\n\"\"\"\nlist",
        "y = \"a\" if x else 'b'",
        "call a / b c s \"unterminated",
        "cat /run/x\nstatus myfirstservice.service",
        "with pystemd.base.SDObject(\"org.freedesktop.systemd1\", p, _autoload=True) as o:\n    print(o.Service.MainPID)",
        "try:\n    manager().Manager.GetUnit(\"nosuch.service\")\nexcept NoSuchUnit as e:\n    print(e.message)",
        "x != y; not x; True; true; None",
        "for k, v in d.items():\n    print(f'{k}: {v!r}')",
        "helper = 1; help",
        "s = '''open",
    ];

    #[test]
    fn syntect_and_lexer_agree() {
        let mut bad = Vec::new();
        for src in LINES {
            let lexed = per_byte(src, &lexer_spans(src, &is_cmd));
            let synt = per_byte(src, &syntax_spans(src, COMMANDS).unwrap());
            let mask = |v: Vec<Class>| -> Vec<Class> {
                v.into_iter()
                    .zip(src.bytes())
                    .map(|(c, b)| if b == b'\n' { Class::Plain } else { c })
                    .collect()
            };
            let (lexed, synt) = (mask(lexed), mask(synt));
            if lexed != synt {
                bad.push(format!(
                    "{src:?}\n lexer:{}\n syntect:{}",
                    show(src, &lexed),
                    show(src, &synt)
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    }

    #[test]
    fn every_class_but_plain_has_one_scope_and_colour() {
        use std::str::FromStr;
        for c in CLASSES {
            let n = TABLE.iter().filter(|(x, _, _, _)| x == c).count();
            assert_eq!(n, usize::from(*c != Class::Plain), "{c:?}");
        }
        for (_, scope, selector, _) in TABLE {
            assert!(SYNTAX.contains(scope), "{scope} is not in the syntax");
            let sel = syntect::highlighting::ScopeSelectors::from_str(selector).unwrap();
            let stack = syntect::parsing::ScopeStack::from_str(scope).unwrap();
            assert!(
                sel.does_match(stack.as_slice()).is_some(),
                "{selector} / {scope}"
            );
        }
        let r = rust("fn f() -> u8 {\n    // c\n    let s = \"x\";\n    1\n}");
        assert!(
            r.contains(&Color::Green.paint("\"x\"").to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&Color::LightBlue.paint("f").to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&Color::DarkGray.paint("// c").to_string()),
            "{r:?}"
        );
    }

    #[test]
    fn painting_keeps_the_text() {
        let src = "busctl tree x | grep y  # z\nprint('a\nb')";
        let painted = source(src, COMMANDS);
        let plain = strip(&painted);
        assert_eq!(plain, src);
        assert!(painted.contains("\x1b[1;34mbusctl"), "{painted:?}");
        let l = line("x = 'a'", &is_cmd);
        assert_eq!(l, format!("x = {}", Color::Green.paint("'a'")));
    }

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}

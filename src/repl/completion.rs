//! TAB completion and hints, from the same lexer the parser uses.
//!
//! The line up to the cursor is lexed; the token under the cursor and what precedes it decide
//! the context: a busctl verb's argument (by the command's declared argument kinds), an
//! attribute after `.` (the chain before the dot is resolved without side effects: variables,
//! modules, pure constructors such as `unit('x')`, interfaces from cached or time-bounded
//! introspection — never a property read or a method call), a keyword argument, a unit name in
//! `unit('…`, or a plain name. Bus lookups are bounded, so TAB never hangs.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::bus::data::Data;
use crate::bus::names;
use crate::bus::session::Session;
use crate::commands::{self, ArgKind, Command, Origin};
use crate::lang::ast::{Arg, Expr, ExprKind, StmtKind};
use crate::lang::attributes::{FETCH_LIMIT, attribute_names, node, object_node, property_hint};
use crate::lang::builtins::{self, Args, Func};
use crate::lang::interp::Vars;
use crate::lang::lexer::{Token, TokenKind, lex};
use crate::lang::value::Value;
use crate::repl::is_command_with;
use crate::systemd;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub display: String,
    pub replacement: String,
}

const LIST_TTL: Duration = Duration::from_secs(5);

type Timed = RefCell<Option<(Instant, Rc<Vec<String>>)>>;

pub struct Completer {
    pub session: Rc<Session>,
    pub vars: Vars,
    /// The prompt, or the command line of a login shell (`rustemd-shell __complete`).
    origin: Origin,
    bus_names: Timed,
    unit_names: Timed,
}

impl Completer {
    pub fn new(session: Rc<Session>, vars: Vars) -> Self {
        Completer {
            session,
            vars,
            origin: Origin::Prompt,
            bus_names: RefCell::new(None),
            unit_names: RefCell::new(None),
        }
    }

    /// A completer for one-shot command lines (`rustemd-shell VERB ...`).
    pub fn for_cli(session: Rc<Session>, vars: Vars) -> Self {
        Completer {
            origin: Origin::Cli,
            ..Completer::new(session, vars)
        }
    }

    fn is_command(&self, word: &str) -> bool {
        match self.origin {
            Origin::Prompt => is_command_with(&self.vars, word),
            Origin::Cli => word == commands::BUSCTL || self.commands().any(|c| c.name == word),
        }
    }

    fn commands(&self) -> impl Iterator<Item = &'static Command> {
        commands::visible(self.origin)
    }

    fn command_names(&self) -> impl Iterator<Item = String> {
        self.commands().map(|c| c.name.to_string())
    }

    /// Candidates for the word ending at `pos`, and where that word starts.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<Candidate>) {
        let pos = floor_char_boundary(line, pos);
        let head = &line[..pos];
        let toks = lex(head, &|w| self.is_command(w));
        let stmt = statement_tokens(&toks);
        // A command name with a dash being typed (`get-pr`) lexes as an expression.
        if let Some(first) = stmt.first() {
            let word = &head[first.span.start..];
            if word.contains('-')
                && word
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            {
                return (first.span.start, prefixed(self.command_names(), word));
            }
        }
        let (start, mut cands) = match stmt.first().map(|t| &t.kind) {
            Some(TokenKind::CommandName(_)) => self.complete_command(head, stmt),
            _ => self.complete_expr(head, stmt),
        };
        cands.sort_by(|a, b| a.replacement.cmp(&b.replacement));
        cands.dedup();
        (start, cands)
    }

    /// Ghost text after the cursor: the rest of a unique completion, or the signature and
    /// flags of the member just typed.
    pub fn hint(&self, line: &str, pos: usize) -> Option<String> {
        if pos != line.len() || line.trim().is_empty() {
            return None;
        }
        let toks = lex(line, &|w| self.is_command(w));
        let stmt = statement_tokens(&toks);
        if let Some(h) = self.member_hint(line, stmt) {
            return Some(h);
        }
        let (start, cands) = self.complete_cached(line);
        let typed = &line[start..];
        if cands.len() == 1 && cands[0].replacement.len() > typed.len() && !typed.is_empty() {
            return cands[0].replacement.strip_prefix(typed).map(str::to_string);
        }
        None
    }

    /// Completion for hints: never touches the bus.
    fn complete_cached(&self, line: &str) -> (usize, Vec<Candidate>) {
        let toks = lex(line, &|w| self.is_command(w));
        let stmt = statement_tokens(&toks);
        match stmt.first().map(|t| &t.kind) {
            Some(TokenKind::CommandName(_)) => (line.len(), Vec::new()),
            _ => {
                let (start, partial, chain) = split_attr(line, stmt);
                if let Some(chain) = chain {
                    let Some(v) = self.resolve_text(&chain, false) else {
                        return (start, Vec::new());
                    };
                    let names = attribute_names(&self.session, &v, false);
                    (start, prefixed(names.into_iter().map(|(n, _)| n), &partial))
                } else if !partial.is_empty() {
                    (
                        start,
                        prefixed(self.plain_names(stmt.len() <= 1).into_iter(), &partial),
                    )
                } else {
                    (start, Vec::new())
                }
            }
        }
    }

    fn member_hint(&self, line: &str, stmt: &[Token]) -> Option<String> {
        // `chain.Member` with Member complete: show its signature.
        let (_, partial, chain) = split_attr(line, stmt);
        let chain = chain?;
        if partial.is_empty() {
            return None;
        }
        let Value::Interface(i) = self.resolve_text(&chain, false)? else {
            return None;
        };
        let node = self
            .session
            .cache
            .cached(&i.object.service, &i.object.path)?;
        let iface = node.interface(&i.name)?;
        if let Some(m) = iface.method(&partial) {
            return Some(format!("  {}", m.describe()));
        }
        if let Some(p) = iface.property(&partial) {
            return Some(format!(
                "  {}",
                property_hint(&p.sig, &p.flags.busctl_text(p.writable))
            ));
        }
        None
    }

    // ----- command lines -----

    fn complete_command(&self, head: &str, stmt: &[Token]) -> (usize, Vec<Candidate>) {
        let mut names: Vec<&str> = Vec::new();
        let mut words: Vec<(String, usize)> = Vec::new();
        for t in stmt {
            match &t.kind {
                TokenKind::CommandName(n) if words.is_empty() => names.push(n),
                TokenKind::Word(w) => words.push((w.clone(), t.span.start)),
                _ => {}
            }
        }
        let touching = stmt.last().is_some_and(|t| t.span.end == head.len())
            && !head.ends_with(char::is_whitespace);
        // Still typing the command name itself.
        if words.is_empty() && touching {
            let start = stmt.last().map_or(head.len(), |t| t.span.start);
            let partial = &head[start..];
            return (start, prefixed(self.command_names(), partial));
        }
        let name = names.last().copied().unwrap_or("");
        let (partial, start) = if touching {
            let (w, s) = words.pop().unwrap_or_default();
            (w, s)
        } else {
            (String::new(), head.len())
        };
        if name == commands::BUSCTL {
            // `busctl <TAB>`: the verbs.
            return (start, prefixed(self.command_names(), &partial));
        }
        let Some(cmd) = commands::find(name) else {
            return (start, Vec::new());
        };
        let (positional, pending_flag) = positional_words(cmd, &words, self.origin);
        if let Some(flag) = pending_flag {
            // The value of `--flag VALUE`.
            return (
                start,
                prefixed(flag.choices.iter().map(|c| c.to_string()), &partial),
            );
        }
        if partial.starts_with('-') && !positional.iter().any(|w| w == "--") {
            return (start, prefixed(self.flag_words(cmd), &partial));
        }
        let words: Vec<(String, usize)> = positional
            .into_iter()
            .filter(|w| w != "--")
            .map(|w| (w, 0))
            .collect();
        let Some(kind) = cmd.arg_kind(words.len()) else {
            return (start, Vec::new());
        };
        let w = |i: usize| words.get(i).map(|(w, _)| w.as_str()).unwrap_or("");
        let items: Vec<String> = match kind {
            ArgKind::Command => self.command_names().collect(),
            ArgKind::Unit => commands::units::loaded(&self.session),
            ArgKind::Choice(words) => words.iter().map(|w| w.to_string()).collect(),
            ArgKind::Text => Vec::new(),
            ArgKind::Service => self.bus_names().to_vec(),
            ArgKind::Path => return (start, self.paths(w(0), &partial)),
            ArgKind::Interface => node(&self.session, w(0), w(1), true)
                .map(|n| n.interfaces.iter().map(|i| i.name.clone()).collect())
                .unwrap_or_default(),
            ArgKind::Method | ArgKind::Property => node(&self.session, w(0), w(1), true)
                .and_then(|n| {
                    let i = n.interface(w(2))?;
                    Some(if kind == ArgKind::Method {
                        i.methods.iter().map(|m| m.name.clone()).collect()
                    } else {
                        i.properties.iter().map(|p| p.name.clone()).collect()
                    })
                })
                .unwrap_or_default(),
            ArgKind::Signature => node(&self.session, w(0), w(1), true)
                .and_then(|n| {
                    let i = n.interface(w(2))?;
                    if cmd.name == "call" {
                        i.method(w(3)).map(|m| m.in_sig())
                    } else {
                        i.property(w(3)).map(|p| p.sig.to_string())
                    }
                })
                .filter(|s| !s.is_empty())
                .into_iter()
                .collect(),
            ArgKind::Values => Vec::new(),
        };
        (start, prefixed(items.into_iter(), &partial))
    }

    /// Object paths below the directory of `partial`, from one (bounded) introspection.
    fn paths(&self, service: &str, partial: &str) -> Vec<Candidate> {
        if !names::is_bus_name(service) {
            return Vec::new();
        }
        let dir = match partial.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => partial[..i].to_string(),
        };
        if !names::is_object_path(&dir) {
            return Vec::new();
        }
        let Some(n) = node(&self.session, service, &dir, true) else {
            return Vec::new();
        };
        let base = if dir == "/" {
            String::new()
        } else {
            dir.clone()
        };
        let mut items: Vec<String> = n.children.iter().map(|c| format!("{base}/{c}")).collect();
        if partial.is_empty() || partial == "/" {
            items.push("/".into());
        }
        prefixed(
            items.into_iter(),
            if partial.is_empty() { "/" } else { partial },
        )
        .into_iter()
        .map(|c| Candidate {
            display: c.display,
            replacement: c.replacement,
        })
        .collect()
    }

    // ----- expressions -----

    fn complete_expr(&self, head: &str, stmt: &[Token]) -> (usize, Vec<Candidate>) {
        // Inside an unterminated string that is the first argument of unit(…): unit names.
        if let Some(last) = stmt.last()
            && last.span.end == head.len()
            && matches!(last.kind, TokenKind::Error(_) | TokenKind::Str(_))
        {
            let text = &head[last.span.start..];
            let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'');
            if let Some(q) = quote
                && is_unit_call(stmt)
            {
                let partial = &text[1..];
                let start = last.span.start + 1;
                let items = self.unit_names();
                let mut c = prefixed(items.iter().cloned(), partial);
                for x in &mut c {
                    x.replacement.push(q);
                }
                return (start, c);
            }
            return (head.len(), Vec::new());
        }
        let (start, partial, chain) = split_attr(head, stmt);
        if let Some(chain) = chain {
            let Some(v) = self.resolve_text(&chain, true) else {
                return (start, Vec::new());
            };
            let names = attribute_names(&self.session, &v, true);
            return (start, prefixed(names.into_iter().map(|(n, _)| n), &partial));
        }
        let mut items = self.plain_names(stmt.len() <= 1);
        items.extend(self.keyword_names(head, stmt));
        (start, prefixed(items.into_iter(), &partial))
    }

    /// `--quiet`, `-q`, `--timeout=`…: what `cmd` accepts here.
    fn flag_words(&self, cmd: &Command) -> impl Iterator<Item = String> {
        let session = match self.origin {
            Origin::Cli => commands::flags::SESSION,
            Origin::Prompt => &[],
        };
        cmd.all_flags()
            .chain(session.iter().copied())
            .map(|f| match f.value {
                Some(_) => format!("--{}=", f.long),
                None => format!("--{}", f.long),
            })
    }

    /// Variables, builtins and (at statement start) command names.
    fn plain_names(&self, at_start: bool) -> Vec<String> {
        let mut items: Vec<String> = self.vars.borrow().keys().cloned().collect();
        items.extend(builtins::root_names().map(str::to_string));
        if at_start {
            items.extend(self.command_names());
        }
        items
    }

    /// `name=` for the innermost open call, from a builtin's params or a method's in-args.
    fn keyword_names(&self, head: &str, stmt: &[Token]) -> Vec<String> {
        let mut depth = 0i32;
        for (i, t) in stmt.iter().enumerate().rev() {
            match &t.kind {
                TokenKind::Op(")") | TokenKind::Op("]") | TokenKind::Op("}") => depth += 1,
                TokenKind::Op("[") | TokenKind::Op("{") => depth -= 1,
                TokenKind::Op("(") => {
                    if depth == 0 {
                        let chain_start = chain_start(stmt, i);
                        let Some(first) = stmt.get(chain_start) else {
                            return Vec::new();
                        };
                        if chain_start >= i {
                            return Vec::new();
                        }
                        let text = &head[first.span.start..t.span.start];
                        return self.params_of(text);
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        Vec::new()
    }

    fn params_of(&self, callee: &str) -> Vec<String> {
        match self.resolve_text(callee, false) {
            Some(Value::Builtin(b)) => b.named_params().map(|p| format!("{p}=")).collect(),
            Some(Value::Method(m)) => node(
                &self.session,
                &m.interface.object.service,
                &m.interface.object.path,
                false,
            )
            .and_then(|n| {
                let i = n.interface(&m.interface.name)?;
                let me = i.method(&m.name)?;
                Some(
                    me.inputs
                        .iter()
                        .filter_map(|a| a.name.as_ref().map(|n| format!("{n}=")))
                        .collect(),
                )
            })
            .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Evaluate an attribute chain without side effects.
    fn resolve_text(&self, text: &str, fetch: bool) -> Option<Value> {
        let stmts = crate::lang::parser::parse(text, &|_| false).ok()?;
        let [stmt] = stmts.as_slice() else {
            return None;
        };
        let StmtKind::Expr(e) = &stmt.kind else {
            return None;
        };
        self.resolve(e, fetch)
    }

    fn resolve(&self, e: &Expr, fetch: bool) -> Option<Value> {
        match &e.kind {
            ExprKind::Name(n) => self
                .vars
                .borrow()
                .get(n)
                .cloned()
                .or_else(|| builtins::root(n))
                .or_else(|| builtins::resolve_dotted(n)),
            ExprKind::Str(s) => Some(Value::Str(s.clone())),
            ExprKind::Attr { obj, name, .. } => {
                let recv = self.resolve(obj, fetch)?;
                match &recv {
                    Value::Module(m) => builtins::module_attr(m, name),
                    Value::Object(o) => {
                        let n = object_node(&self.session, o, fetch)?;
                        let i = n.interface_by_short(name)?;
                        Some(Value::Interface(Rc::new(
                            crate::lang::value::InterfaceRef {
                                object: o.clone(),
                                name: i.name.clone(),
                            },
                        )))
                    }
                    Value::Interface(i) => {
                        let n = object_node(&self.session, &i.object, fetch)?;
                        n.interface(&i.name)?.method(name)?;
                        Some(Value::Method(Rc::new(crate::lang::value::MethodRef {
                            interface: i.clone(),
                            name: name.clone(),
                        })))
                    }
                    _ => None,
                }
            }
            ExprKind::Index { obj, index } => {
                let recv = self.resolve(obj, fetch)?;
                let ExprKind::Str(k) = &index.kind else {
                    return None;
                };
                match recv {
                    Value::Dict(d) => d
                        .borrow()
                        .entries()
                        .iter()
                        .find(|(key, _)| key.as_text().as_deref() == Some(k))
                        .map(|(_, v)| v.clone()),
                    _ => None,
                }
            }
            ExprKind::Call { func, args } => {
                // Only builtins that merely build a value run while completing.
                let Value::Builtin(b) = self.resolve(func, fetch)? else {
                    return None;
                };
                let Func::Pure(f) = b.func else {
                    return None;
                };
                let mut a = Args::default();
                for x in args {
                    match x {
                        Arg::Pos(x) => a.pos.push(self.resolve(x, fetch)?),
                        Arg::Kw(k, _, x) if k != "_autoload" => {
                            a.kw.push((k.clone(), self.resolve(x, fetch)?))
                        }
                        Arg::Kw(..) => {}
                        Arg::Star(_) | Arg::StarStar(_) => return None,
                    }
                }
                f(&a.bind(b).ok()?).ok()
            }
            _ => None,
        }
    }

    // ----- cached lists from the bus -----

    fn bus_names(&self) -> Rc<Vec<String>> {
        self.timed_list(&self.bus_names, || {
            let s = &self.session;
            let mut out = Vec::new();
            for activatable in [false, true] {
                out.extend(s.block_on_within(FETCH_LIMIT, s.bus.list_names(activatable))?);
            }
            Some(out)
        })
    }

    fn unit_names(&self) -> Rc<Vec<String>> {
        self.timed_list(&self.unit_names, || {
            let s = &self.session;
            let r = s.block_on_within(
                FETCH_LIMIT,
                s.bus.call(
                    systemd::SERVICE,
                    systemd::MANAGER_PATH,
                    Some(systemd::MANAGER_IFACE),
                    "ListUnits",
                    &[],
                ),
            )?;
            let Some(Data::Array { items, .. }) = r.values.first() else {
                return Some(Vec::new());
            };
            Some(
                items
                    .iter()
                    .filter_map(|u| match u {
                        Data::Struct(f) => match f.first() {
                            Some(Data::Str(s)) => Some(s.clone()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
            )
        })
    }

    fn timed_list(
        &self,
        slot: &Timed,
        fetch: impl FnOnce() -> Option<Vec<String>>,
    ) -> Rc<Vec<String>> {
        if let Some((at, v)) = &*slot.borrow()
            && at.elapsed() < LIST_TTL
        {
            return v.clone();
        }
        let v = Rc::new(fetch().unwrap_or_default());
        *slot.borrow_mut() = Some((Instant::now(), v.clone()));
        v
    }
}

/// The positional words of a command line (options and their values left out), and the
/// flag whose value is being typed, if the last word is such a flag.
fn positional_words(
    cmd: &Command,
    words: &[(String, usize)],
    origin: Origin,
) -> (Vec<String>, Option<&'static commands::spec::Flag>) {
    let session = match origin {
        Origin::Cli => commands::flags::SESSION,
        Origin::Prompt => &[],
    };
    let flags: Vec<&'static commands::spec::Flag> =
        cmd.all_flags().chain(session.iter().copied()).collect();
    let takes_value = |w: &str| -> Option<&'static commands::spec::Flag> {
        let f = match w.strip_prefix("--") {
            Some(long) if !long.contains('=') => flags.iter().find(|f| f.long == long),
            Some(_) => None,
            None => {
                let c = w.strip_prefix('-')?.chars().last()?;
                flags.iter().find(|f| f.short == Some(c))
            }
        };
        f.copied().filter(|f| f.value.is_some())
    };
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_dashdash = false;
    while i < words.len() {
        let w = &words[i].0;
        if after_dashdash || !w.starts_with('-') || w == "-" {
            out.push(w.clone());
        } else if w == "--" {
            after_dashdash = true;
            out.push(w.clone());
        } else if let Some(f) = takes_value(w) {
            if i + 1 == words.len() {
                return (out, Some(f));
            }
            i += 1;
        }
        i += 1;
    }
    (out, None)
}

/// Tokens of the statement the cursor (at the end of the tokens) is in.
fn statement_tokens(toks: &[Token]) -> &[Token] {
    let toks = crate::lang::lexer::statement_tokens(toks, usize::MAX);
    // A trailing comment means the cursor is in the comment: nothing to complete.
    match toks.last() {
        Some(Token {
            kind: TokenKind::Comment(_),
            ..
        }) => &[],
        _ => toks,
    }
}

/// For an attribute context `chain.partial`, the chain's text; else the partial name.
fn split_attr(head: &str, stmt: &[Token]) -> (usize, String, Option<String>) {
    let n = stmt.len();
    let touching_ident = |t: &Token| {
        matches!(t.kind, TokenKind::Ident(_) | TokenKind::Keyword(_)) && t.span.end == head.len()
    };
    let (partial_start, dot_idx) = match stmt.last() {
        Some(t) if touching_ident(t) => {
            let is_attr = n >= 2 && matches!(stmt[n - 2].kind, TokenKind::Op("."));
            (t.span.start, if is_attr { Some(n - 2) } else { None })
        }
        Some(t) if matches!(t.kind, TokenKind::Op(".")) && t.span.end == head.len() => {
            (head.len(), Some(n - 1))
        }
        _ => (head.len(), None),
    };
    let partial = head[partial_start..].to_string();
    let Some(dot) = dot_idx else {
        return (partial_start, partial, None);
    };
    let cs = chain_start(stmt, dot);
    if cs >= dot {
        return (partial_start, partial, None);
    }
    let chain = head[stmt[cs].span.start..stmt[dot].span.start].to_string();
    (partial_start, partial, Some(chain))
}

/// Index of the first token of the postfix chain that ends just before token `end`.
fn chain_start(stmt: &[Token], end: usize) -> usize {
    let mut i = end;
    let mut depth = 0i32;
    while i > 0 {
        let t = &stmt[i - 1];
        match &t.kind {
            TokenKind::Op(")") | TokenKind::Op("]") => depth += 1,
            TokenKind::Op("(") | TokenKind::Op("[") => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            TokenKind::Ident(_) | TokenKind::Op(".") => {}
            _ if depth > 0 => {}
            _ => break,
        }
        i -= 1;
    }
    i
}

/// Is the open string the first argument of `unit(` / `pystemd.systemd1.Unit(`?
fn is_unit_call(stmt: &[Token]) -> bool {
    let n = stmt.len();
    if n < 3 || !matches!(stmt[n - 2].kind, TokenKind::Op("(")) {
        return false;
    }
    matches!(&stmt[n - 3].kind, TokenKind::Ident(s) if s == "unit" || s == "Unit")
}

fn prefixed(items: impl Iterator<Item = String>, partial: &str) -> Vec<Candidate> {
    items
        .filter(|i| i.starts_with(partial))
        .map(|i| Candidate {
            display: i.clone(),
            replacement: i,
        })
        .collect()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

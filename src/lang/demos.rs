//! Demo scripts: the format of `demos/*.rsh` and the demos built into the binary.
//!
//! A demo is a script in this language whose statements are the steps of a playback, with
//! doctest-style checkpoints (`#> expected output`) after them and marks (`#@ tty`) before
//! them; the format is defined in `demos/README.md` and GRAMMAR.md §10. This module only
//! reads it (no I/O, no terminal): splitting a script into steps ([`parse`]) and comparing
//! output with checkpoints ([`check`]). Playing is the presenter's business (`src/demo/`).
//!
//! Why embedded: `demos`, `demo NAME` and `ppcode NAME` must work wherever the binary runs
//! (a workshop VM, a sandbox), so `build.rs` includes every `demos/*.rsh` at build time.

use crate::lang::lexer::{Keyword, lex_open};
use crate::lang::parser::indent_width;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_demos.rs"));
}

/// The names of the demos built in, sorted (for completion).
pub static NAMES: &[&str] = embedded::NAMES;

/// A demo built into the binary.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// `bus_explore` (the file name without `.rsh`).
    pub name: &'static str,
    /// `demos/bus_explore.rsh`.
    pub path: &'static str,
    pub text: &'static str,
}

/// Every demo in `demos/`, sorted by name.
pub fn builtin() -> impl Iterator<Item = Builtin> {
    embedded::DEMOS
        .iter()
        .map(|(name, path, text)| Builtin { name, path, text })
}

/// The demo called `name`.
pub fn find(name: &str) -> Option<Builtin> {
    builtin().find(|d| d.name == name)
}

/// The names of the demos (for messages).
pub fn names() -> Vec<&'static str> {
    NAMES.to_vec()
}

/// How a step is played (`#@ MARK` before it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// Needs a terminal on stdin and stdout.
    pub tty: bool,
    /// Needs a person: skipped when playing without pauses.
    pub manual: bool,
    /// Run without being typed out.
    pub hidden: bool,
}

/// One statement of a demo, with what surrounds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    /// Blank and comment lines before it (the presenter's narration), as written.
    pub lead: Vec<String>,
    /// The statement's text (one line, or a block), without a final newline.
    pub src: String,
    /// Its first line in the file (1-based).
    pub line: usize,
    /// The expected output, one line per `#>` line; `None` when not checked.
    pub checks: Option<Vec<String>>,
    pub marks: Marks,
}

/// A parsed demo.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    pub title: String,
    pub summary: String,
    /// The header's notes (comment lines after the summary).
    pub notes: Vec<String>,
    /// `#@ tty` in the header: the whole demo needs a terminal.
    pub tty: bool,
    pub steps: Vec<Step>,
    /// Comment lines after the last statement.
    pub tail: Vec<String>,
}

/// Title and summary only (for listing demos without parsing them).
pub fn header(text: &str) -> (String, String) {
    let mut lines = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter(|l| !l.starts_with("#@") && !l.starts_with("#!"));
    let mut next = || {
        lines
            .next()
            .map(|l| l.trim_start_matches('#').trim().to_string())
            .unwrap_or_default()
    };
    let title = next();
    let summary = next();
    (title, summary)
}

/// The marks of a `#@` line, or an error naming the unknown one.
fn marks_of(line: &str, marks: &mut Marks) -> Result<(), String> {
    for m in line.trim_start_matches("#@").split_whitespace() {
        match m {
            "tty" => marks.tty = true,
            "manual" => marks.manual = true,
            "hidden" => marks.hidden = true,
            other => {
                return Err(format!(
                    "unknown mark '{other}' (the marks are tty, manual and hidden)"
                ));
            }
        }
    }
    Ok(())
}

/// The text of a checkpoint line (`#> text` → `text`, `#>` → ``).
fn checkpoint_text(line: &str) -> &str {
    let rest = &line[2..];
    rest.strip_prefix(' ').unwrap_or(rest).trim_end()
}

/// Does a code line continue a compound statement (`else:`, `except E:`)?
fn continues_compound(line: &str) -> bool {
    let word: String = line
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    matches!(
        Keyword::from_word(&word),
        Some(Keyword::Elif | Keyword::Else | Keyword::Except | Keyword::Finally)
    )
}

fn is_code(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// Split a demo into its header and steps. `is_command` says which words start a command
/// line (brackets and strings are not counted inside command lines). Errors name the line.
pub fn parse(text: &str, is_command: &dyn Fn(&str) -> bool) -> Result<Script, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut script = Script::default();
    let mut i = 0;
    // The header: the first comment block.
    let mut n = 0;
    while i < lines.len() && lines[i].starts_with('#') && !lines[i].starts_with("#>") {
        let l = lines[i];
        if l.starts_with("#@") {
            let mut m = Marks::default();
            marks_of(l, &mut m).map_err(|e| format!("line {}: {e}", i + 1))?;
            if m.manual || m.hidden {
                return Err(format!(
                    "line {}: only tty marks a whole demo (in the header)",
                    i + 1
                ));
            }
            script.tty |= m.tty;
        } else if !l.starts_with("#!") {
            let t = l.trim_start_matches('#').trim().to_string();
            match n {
                0 => script.title = t,
                1 => script.summary = t,
                _ => script.notes.push(t),
            }
            n += 1;
        }
        i += 1;
    }
    if script.title.is_empty() {
        return Err("line 1: a demo starts with a comment line giving its title".into());
    }
    let mut lead: Vec<String> = Vec::new();
    let mut marks = Marks::default();
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("#>") {
            let Some(last) = script.steps.last_mut().filter(|_| lead.is_empty()) else {
                return Err(format!(
                    "line {}: a checkpoint (#>) must follow a statement",
                    i + 1
                ));
            };
            last.checks
                .get_or_insert_with(Vec::new)
                .push(checkpoint_text(l).to_string());
            i += 1;
            continue;
        }
        if l.starts_with("#@") {
            marks_of(l, &mut marks).map_err(|e| format!("line {}: {e}", i + 1))?;
            i += 1;
            continue;
        }
        if !is_code(l) {
            lead.push(l.to_string());
            i += 1;
            continue;
        }
        if indent_width(l) > 0 {
            return Err(format!(
                "line {}: a statement starts at column 0 (this line is indented but no block \
                 is open)",
                i + 1
            ));
        }
        // A statement: this line, and the lines that continue it.
        let first = i;
        let mut src = l.to_string();
        let compound = l
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .and_then(Keyword::from_word)
            .is_some_and(Keyword::is_header);
        i += 1;
        loop {
            let open = lex_open(&src, is_command).1;
            // Blank and comment lines belong to the statement only if it goes on after them.
            let mut j = i;
            while j < lines.len()
                && !is_code(lines[j])
                && !lines[j].starts_with("#>")
                && !lines[j].starts_with("#@")
                && !open.any()
            {
                j += 1;
            }
            let Some(next) = lines.get(j) else { break };
            let goes_on = open.any()
                || (is_code(next)
                    && (indent_width(next) > 0 || (compound && continues_compound(next))));
            if !goes_on {
                break;
            }
            for l in &lines[i..=j] {
                src.push('\n');
                src.push_str(l);
            }
            i = j + 1;
        }
        script.steps.push(Step {
            lead: std::mem::take(&mut lead),
            src,
            line: first + 1,
            checks: None,
            marks: std::mem::take(&mut marks),
        });
    }
    if marks != Marks::default() {
        return Err("a mark (#@) at the end is not followed by a statement".into());
    }
    script.tail = lead;
    Ok(script)
}

/// Text as a terminal shows it: colour and other escape sequences removed, carriage returns
/// and other control characters dropped.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters, then one final byte in @..~.
                Some('[') => {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ST.
                Some(']') => {
                    while let Some(d) = chars.next() {
                        if d == '\x07' || (d == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            // Carriage returns and other control characters do not show.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The lines of an output as checkpoints compare them: plain, trailing blanks removed, the
/// final newline not counted.
pub fn output_lines(out: &str) -> Vec<String> {
    let text = plain(out);
    let mut lines: Vec<String> = text.split('\n').map(|l| l.trim_end().to_string()).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Does `got` match the checkpoint line `want` (`...` matches anything within the line)?
pub fn line_matches(want: &str, got: &str) -> bool {
    let parts: Vec<&str> = want.split("...").collect();
    if parts.len() == 1 {
        return want == got;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if got.len() < first.len() + last.len() || !got.starts_with(first) || !got.ends_with(last) {
        return false;
    }
    let mut rest = &got[first.len()..got.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    true
}

/// Do the output lines match the checkpoints? A checkpoint line `...` alone matches any
/// number of whole lines (none too).
pub fn check(want: &[String], got: &[String]) -> bool {
    // memo[i][j]: want[i..] against got[j..] (unknown, false, true).
    let mut memo = vec![vec![None; got.len() + 1]; want.len() + 1];
    fn go(
        want: &[String],
        got: &[String],
        i: usize,
        j: usize,
        memo: &mut Vec<Vec<Option<bool>>>,
    ) -> bool {
        if let Some(r) = memo[i][j] {
            return r;
        }
        let r = if i == want.len() {
            j == got.len()
        } else if want[i] == "..." {
            (j..=got.len()).any(|k| go(want, got, i + 1, k, memo))
        } else {
            j < got.len() && line_matches(&want[i], &got[j]) && go(want, got, i + 1, j + 1, memo)
        };
        memo[i][j] = Some(r);
        r
    }
    go(want, got, 0, 0, &mut memo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(w: &str) -> bool {
        matches!(w, "tree" | "list" | "call")
    }

    const DEMO: &str = "\
# A title
# The summary.
# A note.
#@ tty

# narration
x = 1
#> ...
tree org.x | grep y
#> a
#>
#> b ... c

#@ manual hidden
for i in range(2):
    print(i)

    print(i)  # still the block
else:
    pass
d = {
# a comment inside
  1: 2}
# tail
";

    #[test]
    fn a_demo_splits_into_steps() {
        let s = parse(DEMO, &cmd).unwrap();
        assert_eq!(s.title, "A title");
        assert_eq!(s.summary, "The summary.");
        assert_eq!(s.notes, ["A note."]);
        assert!(s.tty);
        let srcs: Vec<&str> = s.steps.iter().map(|s| s.src.as_str()).collect();
        assert_eq!(
            srcs,
            [
                "x = 1",
                "tree org.x | grep y",
                "for i in range(2):\n    print(i)\n\n    print(i)  # still the block\nelse:\n    pass",
                "d = {\n# a comment inside\n  1: 2}",
            ]
        );
        assert_eq!(s.steps[0].lead, ["", "# narration"]);
        assert_eq!(s.steps[0].line, 7);
        assert_eq!(s.steps[0].checks, Some(vec!["...".to_string()]));
        assert_eq!(
            s.steps[1].checks,
            Some(vec!["a".into(), "".into(), "b ... c".into()])
        );
        assert_eq!(
            s.steps[2].marks,
            Marks {
                manual: true,
                hidden: true,
                tty: false
            }
        );
        assert_eq!(s.steps[2].checks, None);
        assert_eq!(s.steps[2].line, 15);
        assert_eq!(s.tail, ["# tail"]);
    }

    #[test]
    fn bad_demos_say_which_line() {
        let rows = [
            ("x = 1\n", "line 1: a demo starts with a comment line"),
            (
                "# t\n#> x\n",
                "line 2: a checkpoint (#>) must follow a statement",
            ),
            ("# t\nx\n\n#> y\n", "line 4: a checkpoint"),
            ("# t\n#@ loud\nx\n", "line 2: unknown mark 'loud'"),
            ("# t\n  x = 1\n", "line 2: a statement starts at column 0"),
            ("# t\nx\n#@ tty\n", "not followed by a statement"),
        ];
        for (src, want) in rows {
            let e = parse(src, &cmd).unwrap_err();
            assert!(e.contains(want), "{src:?}: {e}");
        }
    }

    #[test]
    fn checkpoints_match_like_doctest() {
        let l = |s: &str| -> Vec<String> { s.lines().map(str::to_string).collect() };
        let rows: &[(&str, &str, bool)] = &[
            ("a\nb", "a\nb", true),
            ("a\nb", "a\nc", false),
            ("a\nb", "a", false),
            ("u ...", "u 17822", true),
            ("...─/org/x", "  ├─/org/x", true),
            ("a...b...c", "aXbYc", true),
            ("a...b...c", "aXcYb", false),
            ("ab...ba", "aba", false),
            ("...", "", true),
            ("...", "x\ny\nz", true),
            ("a\n...\nz", "a\nz", true),
            ("a\n...\nz", "a\nb\nc\nz", true),
            ("a\n...\nz", "a\nb\nc", false),
            ("", "", true),
        ];
        for (want, got, ok) in rows {
            assert_eq!(check(&l(want), &l(got)), *ok, "{want:?} vs {got:?}");
        }
        assert_eq!(
            output_lines("\x1b[1;32mok\x1b[0m  \r\n\x1b]0;t\x07\0x\n"),
            ["ok", "x"]
        );
        assert_eq!(output_lines(""), Vec::<String>::new());
        assert_eq!(output_lines("\n"), [""]);
    }

    #[test]
    fn headers_give_title_and_summary() {
        assert_eq!(
            header("# T\n#@ tty\n# S\n# n\nx\n"),
            ("T".to_string(), "S".to_string())
        );
        assert_eq!(header("x\n"), (String::new(), String::new()));
    }
}

//! Pasted sessions: IPython's `In [4]: ` and `   ...: ` prompts (and the classic `>>> ` /
//! `... `, and our own `rustemd> `) are stripped, so a transcript copied from the workshop
//! text runs as written, at the prompt and in scripts alike.
//!
//! After a prompted line, lines without a prompt are the session's output (`Out[4]: …` and
//! whatever a statement printed) and are dropped, up to the next blank line; blank lines are
//! kept (they end blocks at the prompt), and code after one runs again, so a script may mix
//! plain code and pasted transcripts. Text without any prompt passes unchanged.

use std::borrow::Cow;

/// Strips prompts line by line, remembering whether the text is a transcript.
#[derive(Debug, Default)]
pub struct Stripper {
    active: bool,
}

impl Stripper {
    pub fn new() -> Stripper {
        Stripper::default()
    }

    /// The code on `line`, or `None` for a line of output.
    pub fn line<'a>(&mut self, line: &'a str) -> Option<&'a str> {
        if is_out(line) {
            self.active = true;
            return None;
        }
        if let Some(code) = prompt(line) {
            self.active = true;
            return Some(code);
        }
        if line.trim().is_empty() {
            self.active = false;
            return Some(line);
        }
        if !self.active {
            return Some(line);
        }
        None
    }
}

/// `text` without prompts and output lines (unchanged when it has no prompt).
pub fn strip(text: &str) -> Cow<'_, str> {
    if !text.lines().any(|l| prompt(l).is_some() || is_out(l)) {
        return Cow::Borrowed(text);
    }
    let mut s = Stripper::new();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if let Some(code) = s.line(body) {
            out.push_str(code);
            out.push_str(nl);
        }
    }
    Cow::Owned(out)
}

/// The code after a prompt at the start of `line`, if it has one.
fn prompt(line: &str) -> Option<&str> {
    let t = line.trim_start();
    // In [4]: code
    if let Some(rest) = t.strip_prefix("In [") {
        let close = rest.find("]:")?;
        if !rest[..close].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(one_space(&rest[close + 2..]));
    }
    //    ...: code   (IPython's continuation, also ours)
    if let Some(rest) = t.strip_prefix("...:") {
        return Some(one_space(rest));
    }
    for p in [">>> ", "... ", "rustemd> "] {
        if let Some(rest) = line.strip_prefix(p) {
            return Some(rest);
        }
    }
    if matches!(line, ">>>" | "..." | "rustemd>") {
        return Some("");
    }
    None
}

/// `Out[4]: value`: output, which also marks a transcript.
fn is_out(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("Out[")
        .and_then(|rest| rest.find("]:").map(|c| &rest[..c]))
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

fn one_space(s: &str) -> &str {
    s.strip_prefix(' ').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_lose_prompts_and_output() {
        let rows: &[(&str, &str)] = &[
            ("x = 1\nprint(x)\n", "x = 1\nprint(x)\n"),
            ("In [4]: sdobject.load()", "sdobject.load()"),
            (
                "In [11]: with a as b:\n    ...:     print(b)\n    ...:\n17822\n",
                "with a as b:\n    print(b)\n\n",
            ),
            (
                "In [5]: u.Service.MainPID\nOut[5]: 17822\n\nIn [6]: type(_)\nOut[6]: int\n",
                "u.Service.MainPID\n\ntype(_)\n",
            ),
            ("In [3]: env\nOut[3]:\n{'A': '1',\n 'B': '2'}\n", "env\n"),
            (">>> x = [1,\n... 2]\n>>> x\n[1, 2]\n", "x = [1,\n2]\nx\n"),
            ("rustemd> list\n", "list\n"),
            (
                "x = 1\nIn [2]: x\nOut[2]: 1\n\nprint(x)\n",
                "x = 1\nx\n\nprint(x)\n",
            ),
            ("Int [4]: x\n", "Int [4]: x\n"),
            ("In [a]: x\n", "In [a]: x\n"),
        ];
        for (input, want) in rows {
            assert_eq!(strip(input), *want, "{input:?}");
        }
    }
}

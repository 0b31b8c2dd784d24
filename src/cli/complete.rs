//! `rustemd-shell __complete LINE POS`: the login shell asks, the REPL's completer answers.
//!
//! LINE is the whole command line as the login shell has it (`rustemd-shell --user tree
//! org.fr`), POS the cursor's byte offset. The program name and the options before the verb
//! are dropped (the bus options among them choose the bus to ask); the rest is completed as
//! a command line, and each candidate is printed as the whole word under the cursor, one per
//! line.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use crate::bus::connection::BusTarget;
use crate::bus::session::Session;
use crate::commands::flags::SHELL;
use crate::repl::completion::Completer;

/// How long any one answer may take: the login shell is waiting.
const LIMIT: Duration = Duration::from_secs(2);

pub fn run(words: &[String]) -> i32 {
    let (Some(line), Some(pos)) = (words.first(), words.get(1)) else {
        eprintln!("usage: rustemd-shell __complete LINE POS");
        return 2;
    };
    let pos = pos.parse::<usize>().unwrap_or(line.len()).min(line.len());
    let (target, head) = split(&line[..crate::lang::span::floor_boundary(line, pos)]);
    let session = Session::new(target, LIMIT);
    if head.starts_with('-') && !head.contains(char::is_whitespace) {
        // The program's own options, before any verb.
        for f in SHELL.iter().filter(|f| f.long != "command") {
            let word = match f.value {
                Some(_) => format!("--{}=", f.long),
                None => format!("--{}", f.long),
            };
            if word.starts_with(head) {
                println!("{word}");
            }
        }
        return 0;
    }
    let completer = Completer::for_cli(Rc::new(session), Rc::new(RefCell::new(HashMap::new())));
    let (start, cands) = completer.complete(head, head.len());
    // The whole word under the cursor: what precedes `start` in that word, plus each candidate.
    let word_start = head[..start]
        .rfind(char::is_whitespace)
        .map_or(0, |i| i + 1);
    let prefix = &head[word_start..start];
    for c in cands {
        println!("{prefix}{}", c.replacement);
    }
    0
}

/// The bus the line chooses, and the line from its verb on (program name and options
/// before the verb dropped).
fn split(line: &str) -> (BusTarget, &str) {
    let mut target = BusTarget::System;
    let mut head = skip_word(line);
    loop {
        let trimmed = head.trim_start();
        let Some(word) = trimmed.split_whitespace().next() else {
            break;
        };
        // An option still being typed is completed, not skipped.
        if !word.starts_with('-') || trimmed.len() == word.len() {
            break;
        }
        head = skip_word(head);
        let (long, inline) = match word.split_once('=') {
            Some((l, v)) => (l, Some(v.to_string())),
            None => (word, None),
        };
        let takes_value = SHELL
            .iter()
            .any(|f| f.value.is_some() && long == format!("--{}", f.long));
        let value = match (takes_value, inline) {
            (true, None) => {
                let v = head.split_whitespace().next().map(str::to_string);
                head = skip_word(head);
                v
            }
            (_, v) => v,
        };
        match (long, value) {
            ("--user", _) => target = BusTarget::User,
            ("--system", _) => target = BusTarget::System,
            ("--address", Some(a)) => target = BusTarget::Address(a),
            ("--machine", Some(m)) => target = BusTarget::Machine(m),
            ("--host", Some(h)) => target = BusTarget::Host(h),
            _ => {}
        }
    }
    (target, head.trim_start())
}

/// `line` without its first whitespace-separated word.
fn skip_word(line: &str) -> &str {
    let t = line.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => &t[i..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_before_the_verb_choose_the_bus_and_are_dropped() {
        let rows = [
            ("rustemd-shell tree org", BusTarget::System, "tree org"),
            ("rustemd-shell --user tree", BusTarget::User, "tree"),
            (
                "rustemd-shell --address unix:path=/x call a",
                BusTarget::Address("unix:path=/x".into()),
                "call a",
            ),
            (
                "rustemd-shell --address=unix:path=/y --timeout 5 list",
                BusTarget::Address("unix:path=/y".into()),
                "list",
            ),
            ("rustemd-shell --ti", BusTarget::System, "--ti"),
        ];
        for (line, target, rest) in rows {
            assert_eq!(split(line), (target, rest), "{line}");
        }
    }
}

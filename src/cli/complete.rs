//! `rustemd-shell __complete LINE POS`: the login shell asks, the REPL's completer answers.
//!
//! LINE is the whole command line as the login shell has it (`rustemd-shell --user tree
//! org.fr`), POS the cursor's byte offset. The program name and the session options before
//! the verb are dropped; the rest is completed as a command line, and each candidate is
//! printed as the whole word under the cursor, one per line.

use std::rc::Rc;

use crate::bus::session::Session;
use crate::commands;
use crate::lang::interp::Interp;
use crate::repl::completion::Completer;

pub fn run(session: Rc<Session>, it: &Interp, words: &[String]) -> i32 {
    let (Some(line), Some(pos)) = (words.first(), words.get(1)) else {
        eprintln!("usage: rustemd-shell __complete LINE POS");
        return 2;
    };
    let pos = pos.parse::<usize>().unwrap_or(line.len()).min(line.len());
    let mut head = &line[..crate::lang::span::floor_boundary(line, pos)];
    // Drop the program name, then options until the verb.
    head = skip_word(head);
    loop {
        let trimmed = head.trim_start();
        let Some(word) = trimmed.split_whitespace().next() else {
            break;
        };
        if !word.starts_with('-') || trimmed.len() == word.len() {
            break;
        }
        let takes_value = commands::flags::SHELL
            .iter()
            .any(|f| f.value.is_some() && (word == format!("--{}", f.long)));
        head = skip_word(head);
        if takes_value {
            head = skip_word(head);
        }
    }
    let head = head.trim_start();
    let completer = Completer::for_cli(session, it.vars.clone());
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

/// `line` without its first whitespace-separated word.
fn skip_word(line: &str) -> &str {
    let t = line.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => &t[i..],
        None => "",
    }
}

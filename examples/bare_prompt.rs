//! The start-up limit for `scripts/bench`: a bare rustyline REPL with nothing of ours (no
//! runtime, no bus, no helper, no history file), prompting `rustemd> ` until Ctrl-D.
//!
//! `cargo build --release --example bare_prompt`; the benchmark times spawn to prompt, the
//! RSS at the prompt, and Ctrl-D to exit, against the same for rustemd-shell.
//!
//! Linked as the shell is (build.rs: not position-independent, the unwinder static; the
//! library is named below only for its link options, none of its code is used), so that the
//! comparison is of the code, not of the link options.

extern crate rustemd_shell as _;

fn main() {
    let mut ed = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bare_prompt: {e}");
            std::process::exit(1);
        }
    };
    while let Ok(line) = ed.readline("rustemd> ") {
        let _ = ed.add_history_entry(line.as_str());
    }
}

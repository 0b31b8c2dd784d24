//! `help` and `exit`, generated from the command and builtin declarations.

use std::io::Write;

use crate::commands::{COMMANDS, find};
use crate::lang::builtins::BUILTINS;
use crate::lang::interp::{Flow, Interp};

pub fn help(it: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let mut out = String::new();
    match words.first() {
        None => {
            out.push_str("Commands (busctl's verbs; a leading `busctl` is accepted):\n");
            for c in COMMANDS {
                out.push_str(&format!("  {:<58} {}\n", c.usage, c.summary));
            }
            out.push_str("\nFunctions (pystemd spellings work too, e.g. pystemd.systemd1.Unit):\n");
            for b in BUILTINS.iter().filter(|b| !b.name.contains('.')) {
                out.push_str(&format!("  {:<58} {}\n", b.usage, b.help));
            }
            out.push_str(
                "\nObjects: unit('x.service').Service.MainPID reads a property live; \
                 u.Unit.Restart('replace') calls a method;\n  u.Service.X = v sets one. \
                 `_` is the last result. `!cmd` runs a host command. TAB completes everything.\n\
                 help COMMAND or help FUNCTION for details.\n",
            );
        }
        Some(name) => {
            if let Some(c) = find(name) {
                out.push_str(&format!(
                    "usage: {}\n{}\n\n{}\n",
                    c.usage, c.summary, c.help
                ));
            } else if let Some(b) = BUILTINS.iter().find(|b| b.name == name) {
                out.push_str(&format!("usage: {}\n{}\n", b.usage, b.help));
            } else {
                anyhow::bail!("no command or function named '{name}' (type help for the list)");
            }
        }
    }
    it.out.write_all(out.as_bytes())?;
    Ok(Flow::Continue)
}

pub fn exit(_: &mut Interp, words: &[String]) -> anyhow::Result<Flow> {
    let code = match words.first() {
        Some(w) => w
            .parse()
            .map_err(|_| anyhow::anyhow!("exit: '{w}' is not a status number"))?,
        None => 0,
    };
    Ok(Flow::Exit(code))
}

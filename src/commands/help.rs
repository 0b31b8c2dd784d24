//! `help`, generated from the command and builtin declarations.

use crate::lang::builtins;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, Origin, find, visible};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let mut out = String::new();
    match inv.args.first() {
        None => {
            out.push_str("Commands (busctl's verbs; a leading `busctl` is accepted):\n");
            for c in visible(Origin::Prompt) {
                out.push_str(&format!("  {:<58} {}\n", c.usage(), c.summary));
            }
            out.push_str("\nFunctions (pystemd spellings work too, e.g. pystemd.systemd1.Unit):\n");
            for b in builtins::all().filter(|b| !b.name.contains('.')) {
                out.push_str(&format!("  {:<58} {}\n", b.usage(), b.help));
            }
            for (usage, doc) in crate::lang::prelude::ROOT_NAMES
                .iter()
                .filter_map(|n| crate::lang::prelude::describe(n))
            {
                let first = doc.lines().next().unwrap_or_default();
                out.push_str(&format!("  {usage:<58} {first}\n"));
            }
            out.push_str(
                "\nObjects: unit('x.service').Service.MainPID reads a property live; \
                 u.Unit.Restart('replace') calls a method;\n  u.Service.X = v sets one. \
                 `_` is the last result. `!cmd` runs a host command. TAB completes everything.\n\
                 help COMMAND or help FUNCTION for details; COMMAND --help works too.\n",
            );
        }
        Some(name) => {
            if let Some(c) = find(name) {
                out.push_str(&c.help_text());
            } else if let Some((usage, doc)) = crate::lang::prelude::describe(name) {
                // A function written in our language (the prelude): its own signature.
                out.push_str(&format!("usage: {usage}\n{doc}\n"));
            } else if let Some(b) = builtins::find(name) {
                out.push_str(&format!("usage: {}\n{}\n", b.usage(), b.help));
            } else {
                return Err(Error::new(format!(
                    "no command or function named '{name}' (type help for the list)"
                )));
            }
        }
    }
    ctx.out.write_all(out.as_bytes())?;
    Ok(Value::None)
}

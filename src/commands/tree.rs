//! `tree`: busctl's object tree (`--list`: the paths, one per line). Without SERVICE, every
//! acquired name (`--unique` adds the unique ones).

use crate::bus::connection::CallError;
use crate::busctl::tree::{discover, render};
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;

use super::{Invocation, failed};

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let s = ctx.session;
    let services: Vec<String> = if inv.args.is_empty() {
        let mut names: Vec<String> = s
            .block_on(s.bus.list_names(false))
            .map_err(|e| failed("Failed to get name list", &e))?
            .into_iter()
            .filter(|n| {
                let unique = n.starts_with(':');
                (unique && inv.has("unique"))
                    || (!unique && (inv.has("acquired") || !inv.has("unique")))
            })
            .collect();
        names.sort();
        names
    } else {
        inv.args.clone()
    };
    let many = inv.args.len() != 1;
    let mut failures = false;
    let mut cuts = Vec::new();
    for (n, service) in services.iter().enumerate() {
        if many {
            if n > 0 {
                writeln!(ctx.out)?;
            }
            writeln!(ctx.out, "Service {service}:")?;
        }
        let found = discover(s, service).map_err(|e| match e {
            CallError::Interrupted => Error::interrupted(),
            other => Error::from(other),
        })?;
        // busctl 252 prints these on stdout, before the tree.
        for f in &found.failures {
            writeln!(ctx.out, "{f}")?;
        }
        failures |= !found.failures.is_empty();
        if inv.has("list") {
            for p in &found.paths {
                writeln!(ctx.out, "{p}")?;
            }
        } else {
            ctx.out.write_all(render(&found.paths).as_bytes())?;
        }
        cuts.extend(found.cut);
    }
    if !cuts.is_empty() {
        return Err(Error::new(format!(
            "tree: {}; the tree above is cut there",
            cuts.join("; ")
        )));
    }
    if failures {
        return Err(Error::new(
            "tree: some objects could not be introspected (see above)",
        ));
    }
    Ok(Value::None)
}

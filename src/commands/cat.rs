//! `cat X...`: a unit's fragment and drop-ins as `systemctl cat` prints them (the transient file
//! for units made by `run`), or `cat /path` for a plain file.

use crate::bus::data::Data;
use crate::lang::command::Context;
use crate::lang::error::Error;
use crate::lang::value::Value;
use crate::systemd::transient::{UNIT_IFACE, get};
use crate::systemd::unit_path;

use super::{Invocation, failed, units};

/// The fragment and drop-in files of unit `name`.
fn files(ctx: &Context<'_>, name: &str) -> Result<(Option<String>, Vec<String>), Error> {
    let s = ctx.session;
    let path = unit_path(name);
    let (fragment, dropins) = s
        .block_on(async {
            let f = get(&s.bus, &path, UNIT_IFACE, "FragmentPath").await?;
            let d = get(&s.bus, &path, UNIT_IFACE, "DropInPaths").await?;
            Ok((f, d))
        })
        .map_err(|e| failed(format!("Failed to get the files of {name}"), &e))?;
    let fragment = match fragment {
        Data::Str(s) if !s.is_empty() => Some(s),
        _ => None,
    };
    Ok((fragment, dropins.strings()))
}

/// systemctl's `# /path` header (highlighted on a terminal) and the file's bytes as they are.
fn cat_file(out: &mut Vec<u8>, path: &str, newline: bool, color: bool) -> Result<(), Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::new(format!("Failed to read \"{path}\": {e}")))?;
    if newline {
        out.push(b'\n');
    }
    if color {
        out.extend_from_slice(format!("\x1b[0;1;34m# {path}\x1b[0m\n").as_bytes());
    } else {
        out.extend_from_slice(format!("# {path}\n").as_bytes());
    }
    out.extend_from_slice(&bytes);
    Ok(())
}

pub fn run(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let mut out: Vec<u8> = Vec::new();
    for (i, word) in inv.args.iter().enumerate() {
        if word.starts_with('/') {
            let bytes = std::fs::read(word).map_err(|e| Error::new(format!("cat: {word}: {e}")))?;
            out.extend_from_slice(&bytes);
            continue;
        }
        let name = units::resolve(ctx, word)?;
        let (fragment, dropins) = files(ctx, &name)?;
        if fragment.is_none() && dropins.is_empty() {
            return Err(Error::new(format!("No files found for {name}.")));
        }
        if i > 0 {
            out.push(b'\n');
        }
        if let Some(f) = &fragment {
            cat_file(&mut out, f, false, ctx.term.color)?;
        }
        for (n, d) in dropins.iter().enumerate() {
            cat_file(&mut out, d, fragment.is_some() || n > 0, ctx.term.color)?;
        }
    }
    ctx.out.write_all(&out)?;
    Ok(Value::None)
}

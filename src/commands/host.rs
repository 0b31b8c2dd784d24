//! The IPython-style shell words typed without `!`: `env`, `ls`, `pwd`, `cd` (each also works
//! as `!cmd`; `!cd` changes our directory too). Where a variable has the same name, the
//! variable wins (the lexer asks the interpreter), as with IPython's automagic.
//!
//! Their words are the host command's, not ours: the runner hands them over untouched
//! (`ls -la` is ls's `-l -a`, not our `--full`).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::lang::command::Context;
use crate::lang::error::{Error, PyExc};
use crate::lang::value::Value;

use super::Invocation;

/// Commands whose words all go to the host unparsed.
pub const RAW: &[&str] = &["ls", "cd", "env"];

/// `env`: the environment as a dict (it becomes `_`); `env NAME`: one variable.
pub fn env(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    match inv.args.as_slice() {
        [] => {
            let v = crate::lang::builtins::environ();
            writeln!(ctx.out, "{}", v.pretty(100))?;
            Ok(v)
        }
        [name] if name.contains('=') => Err(Error::new(format!(
            "env: setting variables is not supported here; give them to a host command instead \
             (!{name} COMMAND)"
        ))),
        [name] => match std::env::var_os(name) {
            Some(v) => {
                let v = v.to_string_lossy().into_owned();
                writeln!(ctx.out, "{v}")?;
                Ok(Value::Str(v))
            }
            None => Err(Error::py(
                PyExc::KeyError,
                format!("env: no environment variable {name}"),
            )),
        },
        _ => Err(Error::new("usage: env [NAME]")),
    }
}

/// `pwd`: the working directory (it becomes `_`).
pub fn pwd(ctx: &mut Context<'_>, _: &Invocation) -> Result<Value, Error> {
    let d = std::env::current_dir().map_err(|e| Error::os(&e, "pwd"))?;
    let d = d.to_string_lossy().into_owned();
    writeln!(ctx.out, "{d}")?;
    Ok(Value::Str(d))
}

/// The directory `cd -` goes back to.
static PREVIOUS: Mutex<Option<PathBuf>> = Mutex::new(None);

/// `cd [DIR]`: change the shell's working directory (`~`, `~/x`, `-` as in bash; no DIR is
/// the home directory); prints where it went.
pub fn cd(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let target: PathBuf = match inv.args.as_slice() {
        [] => home().ok_or_else(|| Error::new("cd: HOME is not set"))?,
        [d] if d == "-" => PREVIOUS
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| Error::new("cd: no previous directory"))?,
        [d] if d == "~" => home().ok_or_else(|| Error::new("cd: HOME is not set"))?,
        [d] => match d.strip_prefix("~/") {
            Some(rest) => home()
                .ok_or_else(|| Error::new("cd: HOME is not set"))?
                .join(rest),
            None => PathBuf::from(d),
        },
        _ => return Err(Error::new("usage: cd [DIR]")),
    };
    let before = std::env::current_dir().ok();
    std::env::set_current_dir(&target)
        .map_err(|e| Error::os(&e, format!("cd: {}", target.display())))?;
    if let Ok(mut p) = PREVIOUS.lock() {
        *p = before;
    }
    let now = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    writeln!(ctx.out, "{now}")?;
    Ok(Value::Str(now))
}

/// `ls [ARGS...]`: the host's ls. On a terminal it writes there itself (columns, colours);
/// otherwise its output goes where ours goes (a pipe, a file).
pub fn ls(ctx: &mut Context<'_>, inv: &Invocation) -> Result<Value, Error> {
    ctx.out.flush()?;
    let mut cmd = std::process::Command::new("ls");
    cmd.args(&inv.args);
    let status = if ctx.term.tty {
        cmd.status().map_err(|e| Error::os(&e, "cannot run ls"))?
    } else {
        let out = cmd
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| Error::os(&e, "cannot run ls"))?;
        ctx.out.write_all(&out.stdout)?;
        out.status
    };
    if !status.success() {
        return Err(Error::new(format!("ls exited with {status}")));
    }
    Ok(Value::None)
}

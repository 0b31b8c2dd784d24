//! The `os` module: the process's environment, directory and ids (`os.getpid()` is with the
//! pystemd spellings).

use super::{Bound, Builtin, Func, R};
use crate::lang::error::Error;
use crate::lang::interp::Interp;
use crate::lang::value::Value;

pub static BUILTINS: &[Builtin] = &[
    attr!(
        "os.environ",
        "The environment variables, as a dict (a copy, read when used)",
        os_environ
    ),
    pure!(
        "os.getenv",
        ["key", "default=None"],
        "The value of an environment variable (or the default)",
        os_getenv
    ),
    pure!("os.getcwd", [], "The current working directory", os_getcwd),
    pure!("os.getppid", [], "The parent process's id", os_getppid),
    pure!("os.getuid", [], "The user id this shell runs as", os_getuid),
];

/// The environment as a dict, sorted by name.
pub fn environ() -> Value {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    vars.sort();
    Value::dict_from_bus(
        vars.into_iter()
            .map(|(k, v)| (Value::Str(k), Value::Str(v)))
            .collect(),
    )
}

fn os_environ(_: &mut Interp) -> R<Value> {
    Ok(environ())
}

fn os_getenv(a: &Bound) -> R<Value> {
    let key = a.text(0)?;
    Ok(match std::env::var_os(&key) {
        Some(v) => Value::Str(v.to_string_lossy().into_owned()),
        None => a.named("default").cloned().unwrap_or(Value::None),
    })
}

fn os_getcwd(_: &Bound) -> R<Value> {
    let d = std::env::current_dir().map_err(|e| Error::os(&e, "getcwd"))?;
    Ok(Value::Str(d.to_string_lossy().into_owned()))
}

fn os_getppid(_: &Bound) -> R<Value> {
    Ok(Value::int(std::os::unix::process::parent_id() as i128))
}

fn os_getuid(_: &Bound) -> R<Value> {
    Ok(Value::int(nix::unistd::getuid().as_raw() as i128))
}

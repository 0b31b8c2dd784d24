//! The `sys` module: the script's arguments and the shell's terminal streams.
//!
//! `sys.stdout`, `sys.stderr` and `sys.stdin` are values standing for the shell's own streams
//! (file descriptors 1, 2, 0): they can be written to (`sys.stdout.write(s)`,
//! `print(x, file=sys.stderr)`) and handed to functions that take a stream.

use super::{Bound, Builtin, Func, R};
use crate::lang::interp::Interp;
use crate::lang::value::{Stream, Value};

pub static BUILTINS: &[Builtin] = &[
    attr!("sys.argv", "The script (or -c) and its arguments", sys_argv),
    attr!("sys.stdout", "The shell's standard output", sys_stdout),
    attr!("sys.stderr", "The shell's standard error", sys_stderr),
    attr!("sys.stdin", "The shell's standard input", sys_stdin),
    attr!("sys.platform", "The platform: 'linux'", sys_platform),
    pure!(
        "sys.exit",
        ["status=0"],
        "Leave the shell (raises SystemExit)",
        sys_exit
    ),
];

fn sys_argv(it: &mut Interp) -> R<Value> {
    Ok(Value::list(
        it.argv().iter().map(|a| Value::Str(a.clone())).collect(),
    ))
}

fn sys_stdout(_: &mut Interp) -> R<Value> {
    Ok(Value::Stream(Stream::Stdout))
}

fn sys_stderr(_: &mut Interp) -> R<Value> {
    Ok(Value::Stream(Stream::Stderr))
}

fn sys_stdin(_: &mut Interp) -> R<Value> {
    Ok(Value::Stream(Stream::Stdin))
}

fn sys_platform(_: &mut Interp) -> R<Value> {
    Ok(Value::str("linux"))
}

fn sys_exit(a: &Bound) -> R<Value> {
    super::core::b_exit(a)
}

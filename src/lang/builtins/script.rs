//! Running a script file in the current session: `run_script(FILE, *args)` (also `%run FILE`).

use super::{Bound, Builtin, Func, R};
use crate::lang::interp::Interp;
use crate::lang::value::Value;

pub static BUILTINS: &[Builtin] = &[eval!(
    "run_script",
    ["path", "*args"],
    "Run a script file in this session: its functions and variables stay (sys.argv is the file and args while it runs)",
    run_script
)];

fn run_script(it: &mut Interp, a: Bound) -> R<Value> {
    let path = a.text(0)?;
    let argv = std::iter::once(path.clone())
        .chain(a.rest.iter().map(Value::to_display))
        .collect();
    let saved = it.argv().to_vec();
    it.set_argv(argv);
    let r = it.run_script(&path);
    it.set_argv(saved);
    r.map(|()| Value::None)
}

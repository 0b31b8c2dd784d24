//! rustemd-shell: a line-editing REPL for exploring D-Bus and driving systemd.
pub mod lang;

pub fn run() -> i32 {
    0
}

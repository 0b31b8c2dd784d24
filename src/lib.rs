//! rustemd-shell: a line-editing REPL for exploring D-Bus and driving systemd.
pub fn run() -> i32 {
    0
}

pub mod bus;

//! Signals: Ctrl-C as a flag that long work polls, and the signals that end the program.
//!
//! Why a flag: a SIGINT handler may do nothing but set an atomic. The evaluator checks the
//! flag at every loop iteration and function call (and `time.sleep` while it waits), so
//! Ctrl-C stops CPU-bound work within milliseconds and surfaces as KeyboardInterrupt, whether
//! or not a bus call ran before. Bus calls keep their own Ctrl-C handling (tokio's, on the
//! same signal: both are registered through signal-hook-registry, which chains them).
//!
//! Why a thread for SIGTERM/SIGHUP/SIGQUIT: restoring the terminal and saving history are
//! not async-signal-safe; signal-hook's iterator delivers the signal to a normal thread that
//! may do both before the process exits. This module depends on nothing else in the crate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Make SIGINT set the interrupt flag instead of killing the process. Idempotent.
pub fn install_interrupt() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, flag().clone());
    });
}

/// Read and clear the flag.
pub fn take_interrupt() -> bool {
    #[cfg(test)]
    if test_only::take() {
        return true;
    }
    flag().swap(false, Ordering::Relaxed)
}

pub fn clear_interrupt() {
    flag().store(false, Ordering::Relaxed);
}

/// Interrupts raised by unit tests reach only the thread they name: tests run in parallel
/// threads of one process, and a Ctrl-C meant for one must not stop the others.
#[cfg(test)]
mod test_only {
    use std::sync::Mutex;
    use std::thread::ThreadId;

    static PENDING: Mutex<Vec<ThreadId>> = Mutex::new(Vec::new());

    pub fn raise(t: ThreadId) {
        PENDING.lock().unwrap().push(t);
    }

    pub fn take() -> bool {
        let me = std::thread::current().id();
        let mut p = PENDING.lock().unwrap();
        match p.iter().position(|t| *t == me) {
            Some(i) => {
                p.swap_remove(i);
                true
            }
            None => false,
        }
    }
}

/// As if Ctrl-C were pressed while thread `t` runs (tests only).
#[cfg(test)]
pub fn raise_interrupt(t: std::thread::ThreadId) {
    test_only::raise(t);
}

/// The signals that end an interactive session.
pub const TERMINATING: &[i32] = &[
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

/// Call `handler(signal)` on a thread of its own when SIGTERM, SIGHUP or SIGQUIT arrives; the
/// handler is expected to clean up and exit.
pub fn on_termination(handler: impl Fn(i32) + Send + 'static) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new(TERMINATING)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                handler(sig);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_taken_once() {
        raise_interrupt(std::thread::current().id());
        assert!(take_interrupt());
        assert!(!take_interrupt());
    }
}

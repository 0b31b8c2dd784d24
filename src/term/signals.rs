//! Signals: Ctrl-C as a flag that long work polls, and the signals that end the program.
//!
//! Why a flag: a SIGINT handler may do nothing but set an atomic. The evaluator checks the
//! flag at every loop iteration and function call (and `time.sleep` while it waits), so
//! Ctrl-C stops CPU-bound work within milliseconds and surfaces as KeyboardInterrupt, whether
//! or not a bus call ran before. Bus calls wait on Ctrl-C through a socket ([`listener`]): both
//! actions are registered through signal-hook-registry, which chains them.
//!
//! Why a thread for SIGTERM/SIGHUP/SIGQUIT: restoring the terminal and saving history are
//! not async-signal-safe; signal-hook's iterator delivers the signal to a normal thread that
//! may do both before the process exits. This module depends on nothing else in the crate.
//!
//! Signals handled by the language (`signal.signal(signal.SIGABRT, f)`): the handler runs
//! a function of ours, which only the evaluator's thread may do. So the low-level action only
//! marks the signal pending and writes a byte to two self-pipes: one that the evaluator's
//! waits poll (a `!cmd`, a future's result), and one read by a waker thread, which makes the
//! prompt return while it waits for a line (see [`at_prompt`]). The evaluator runs pending
//! handlers at its next loop iteration, call or wait. Each signal's disposition
//! ([`Disposition`]) is an atomic the action reads, so `SIG_DFL` and `SIG_IGN` work after a
//! handler was set even though signal-hook's action stays installed: `Default` emulates the
//! default action (SIGABRT still dumps core), unless the shell itself owns that signal (the
//! termination thread's SIGTERM/SIGHUP/SIGQUIT).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

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

/// Has Ctrl-C been pressed since the last [`take_interrupt`] (without clearing it)? For work
/// that cannot raise, such as comparing two huge structures: it stops, and the evaluator's
/// next check raises KeyboardInterrupt.
pub fn interrupt_pending() -> bool {
    #[cfg(test)]
    if test_only::pending() {
        return true;
    }
    flag().load(Ordering::Relaxed)
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

    pub fn pending() -> bool {
        let me = std::thread::current().id();
        PENDING.lock().unwrap().contains(&me)
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

pub const SIGINT: i32 = signal_hook::consts::SIGINT;
pub const SIGWINCH: i32 = signal_hook::consts::SIGWINCH;

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
    for &sig in TERMINATING {
        shell_owns(sig);
    }
    std::thread::Builder::new()
        .name("signals".into())
        // It waits, restores the terminal and saves a few lines: a small stack is plenty,
        // and a smaller mapping is set up faster (this runs before the first prompt).
        .stack_size(128 * 1024)
        .spawn(move || {
            for sig in signals.forever() {
                // A handler (or SIG_IGN) set by `signal.signal` takes the signal instead.
                if disposition(sig) == Disposition::Default {
                    handler(sig);
                    break;
                }
            }
        })?;
    Ok(())
}

// ----- signals handled by the language -----

/// What a signal does, as `signal.signal` sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// SIG_DFL: the default action (or the shell's own handling of it).
    Default,
    /// SIG_IGN.
    Ignore,
    /// A function of ours runs.
    Handled,
}

/// Signal numbers go up to SIGRTMAX (64 on Linux).
const NSIG: usize = 65;

const DEFAULT: u8 = 0;
const IGNORE: u8 = 1;
const HANDLED: u8 = 2;

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU8 = AtomicU8::new(DEFAULT);
#[allow(clippy::declare_interior_mutable_const)]
const NO: AtomicBool = AtomicBool::new(false);
static STATE: [AtomicU8; NSIG] = [ZERO; NSIG];
static PENDING: [AtomicBool; NSIG] = [NO; NSIG];
/// Signals the shell handles itself (SIGTERM, SIGHUP, SIGQUIT at an interactive prompt).
static OWNED: [AtomicBool; NSIG] = [NO; NSIG];
static ANY_PENDING: AtomicBool = AtomicBool::new(false);
/// Write ends of the two self-pipes (-1 until the first handler is set).
static WAKE_MAIN: AtomicI32 = AtomicI32::new(-1);
static WAKE_PROMPT: AtomicI32 = AtomicI32::new(-1);
/// The read end the evaluator's waits poll.
static WAKE_MAIN_READ: OnceLock<OwnedFd> = OnceLock::new();
/// Is the interactive prompt waiting for a line?
static AT_PROMPT: AtomicBool = AtomicBool::new(false);
/// The signals whose action is registered (once each, for the life of the process).
static REGISTERED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn shell_owns(sig: i32) {
    if let Some(o) = usize::try_from(sig).ok().and_then(|i| OWNED.get(i)) {
        o.store(true, Ordering::Relaxed);
    }
}

/// The disposition `signal.signal` last set for `sig`.
pub fn disposition(sig: i32) -> Disposition {
    match usize::try_from(sig).ok().and_then(|i| STATE.get(i)) {
        Some(s) => match s.load(Ordering::Relaxed) {
            IGNORE => Disposition::Ignore,
            HANDLED => Disposition::Handled,
            _ => Disposition::Default,
        },
        None => Disposition::Default,
    }
}

/// Signals the language may not take: Ctrl-C keeps its meaning, and the ones a process
/// cannot or must not catch.
pub fn refusal(sig: i32) -> Option<&'static str> {
    use signal_hook::consts::*;
    match sig {
        SIGINT => Some(
            "SIGINT is Ctrl-C in rustemd-shell: it raises KeyboardInterrupt (catch that with \
             try/except KeyboardInterrupt)",
        ),
        SIGKILL | SIGSTOP => Some("SIGKILL and SIGSTOP cannot be caught or ignored"),
        SIGSEGV | SIGBUS | SIGILL | SIGFPE => Some(
            "SIGSEGV, SIGBUS, SIGILL and SIGFPE mean the shell itself crashed; they keep their default action",
        ),
        s if s <= 0 || s as usize >= NSIG => Some("no such signal number"),
        _ => None,
    }
}

/// The action registered for every signal the language touches: async-signal-safe (atomics
/// and write(2) only, or the default action emulated).
fn action(sig: i32) {
    let i = sig as usize;
    match STATE[i].load(Ordering::Relaxed) {
        HANDLED => {
            PENDING[i].store(true, Ordering::SeqCst);
            ANY_PENDING.store(true, Ordering::SeqCst);
            let byte = [sig as u8];
            for w in [&WAKE_MAIN, &WAKE_PROMPT] {
                let fd = w.load(Ordering::Relaxed);
                if fd >= 0 {
                    // SAFETY: write(2) is async-signal-safe; the fd is a non-blocking pipe kept
                    // open for the life of the process (a full pipe just drops the byte: one
                    // pending wake-up is as good as many).
                    unsafe { nix::libc::write(fd, byte.as_ptr().cast(), 1) };
                }
            }
        }
        IGNORE => {}
        _ if OWNED[i].load(Ordering::Relaxed) => {}
        _ => {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
        }
    }
}

/// Set what `sig` does; the disposition it had before. The first call starts the waker thread
/// and the self-pipes.
pub fn set_disposition(sig: i32, d: Disposition) -> std::io::Result<Disposition> {
    if let Some(why) = refusal(sig) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
    }
    setup_wakers()?;
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    let before = if registered.contains(&sig) {
        disposition(sig)
    } else {
        // What the process had before we took it: ignored (SIGPIPE, by Rust) or default.
        let was_ignored = {
            use nix::libc;
            // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only
            // queries the current one.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
            r == 0 && old.sa_sigaction == libc::SIG_IGN
        };
        if was_ignored {
            STATE[sig as usize].store(IGNORE, Ordering::Relaxed);
        }
        // SAFETY: `action` only touches atomics and calls write(2) or signal-hook's default
        // emulation, all async-signal-safe.
        unsafe { signal_hook::low_level::register(sig, move || action(sig)) }?;
        registered.push(sig);
        if was_ignored {
            Disposition::Ignore
        } else {
            Disposition::Default
        }
    };
    let v = match d {
        Disposition::Default => DEFAULT,
        Disposition::Ignore => IGNORE,
        Disposition::Handled => HANDLED,
    };
    STATE[sig as usize].store(v, Ordering::SeqCst);
    Ok(before)
}

fn setup_wakers() -> std::io::Result<()> {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.get().is_some() {
        return Ok(());
    }
    use nix::fcntl::OFlag;
    let flags = OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let (main_r, main_w) = nix::unistd::pipe2(flags).map_err(std::io::Error::from)?;
    let (prompt_r, prompt_w) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
    nix::fcntl::fcntl(&prompt_w, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(std::io::Error::from)?;
    // The write ends live for the whole process (the action may write at any time).
    WAKE_MAIN.store(
        std::os::fd::IntoRawFd::into_raw_fd(main_w),
        Ordering::SeqCst,
    );
    WAKE_PROMPT.store(
        std::os::fd::IntoRawFd::into_raw_fd(prompt_w),
        Ordering::SeqCst,
    );
    let _ = WAKE_MAIN_READ.set(main_r);
    std::thread::Builder::new()
        .name("signal-waker".into())
        .spawn(move || waker(prompt_r))?;
    let _ = DONE.set(());
    Ok(())
}

/// While the prompt waits for a line, a handled signal makes it return: the line editor
/// returns on SIGINT (its own handler catches it while it reads), and the prompt then sees
/// the pending signal, runs its handler and shows the same line again.
fn waker(read: OwnedFd) {
    let mut buf = [0u8; 64];
    loop {
        match nix::unistd::read(&read, &mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        // Repeat in case the editor had not installed its handler yet; stop as soon as the
        // prompt has returned (or the handler ran).
        for _ in 0..20 {
            if !AT_PROMPT.load(Ordering::SeqCst) || !ANY_PENDING.load(Ordering::SeqCst) {
                break;
            }
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGINT);
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
    }
}

/// The interactive prompt is (or is no longer) waiting for a line.
pub fn at_prompt(waiting: bool) {
    AT_PROMPT.store(waiting, Ordering::SeqCst);
}

/// Is a handled signal waiting for its handler?
pub fn has_pending() -> bool {
    ANY_PENDING.load(Ordering::SeqCst)
}

/// The signals waiting for their handlers (in number order), cleared.
pub fn take_pending() -> Vec<i32> {
    if !ANY_PENDING.swap(false, Ordering::SeqCst) {
        return Vec::new();
    }
    if let Some(r) = WAKE_MAIN_READ.get() {
        let mut buf = [0u8; 256];
        while matches!(nix::unistd::read(r, &mut buf), Ok(n) if n > 0) {}
    }
    (1..NSIG)
        .filter(|&i| PENDING[i].swap(false, Ordering::SeqCst))
        .map(|i| i as i32)
        .collect()
}

/// A socket that receives a byte each time `sig` arrives, for an async wait to select on
/// (a bus call's Ctrl-C, a forwarded terminal's new size): signal-hook's action writes the
/// byte, the waiter's runtime reads it. One per signal for the whole process, made on first
/// use: an action may run on any thread at any time, so its socket is never closed.
///
/// Why not tokio's signals: tokio's driver sets up a registry of every signal in each runtime
/// (65 channels, a third of the runtime's start-up in a one-shot process), for the two we need.
pub fn listener(sig: i32) -> std::io::Result<BorrowedFd<'static>> {
    static LISTENERS: Mutex<Vec<(i32, &'static OwnedFd)>> = Mutex::new(Vec::new());
    let mut all = LISTENERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, fd)) = all.iter().find(|(s, _)| *s == sig) {
        return Ok(fd.as_fd());
    }
    let (read, write) = std::os::unix::net::UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    let write: &'static OwnedFd = Box::leak(Box::new(OwnedFd::from(write)));
    signal_hook::low_level::pipe::register_raw(sig, write.as_raw_fd())?;
    let read: &'static OwnedFd = Box::leak(Box::new(OwnedFd::from(read)));
    all.push((sig, read));
    Ok(read.as_fd())
}

/// What a wait can poll to wake when a handled signal arrives (None before any handler).
pub fn wake_fd() -> Option<BorrowedFd<'static>> {
    WAKE_MAIN_READ.get().map(|f| {
        // SAFETY: the OwnedFd lives in a static for the whole process.
        unsafe { BorrowedFd::borrow_raw(f.as_raw_fd()) }
    })
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

//! Playing a demo for an audience: each statement typed out, a pause, then it runs live.
//!
//! A statement is shown after the prompt as the prompt line would colour it, typed a
//! character at a time (`speed` characters a second, on a terminal only), then playback waits
//! for a key: Enter runs it, `b` steps back to the previous statement, `s` skips this one,
//! `q` quits (any key during the typing finishes it). Its output appears as it comes and is
//! kept ([`Capture`]) to be compared with the statement's checkpoints; a mismatch is reported
//! on stderr right after the output. Without pauses (CI), everything runs straight through
//! and the [`Summary`] says whether the demo still does what it says.

use std::io::{BufRead, IsTerminal, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use nu_ansi_term::Color;

use super::capture::Capture;
use crate::lang::demos::{self, Script, Step};
use crate::lang::error::{Error, Kind};
use crate::lang::highlight;
use crate::lang::interp::Interp;
use crate::repl::report;
use crate::term::pty::RawMode;

/// How to play.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Wait for a key before each statement.
    pub pause: bool,
    /// Characters typed per second (0: at once). Only on a terminal.
    pub speed: u32,
}

/// The default typing speed, characters per second.
pub const SPEED: u32 = 40;

/// How a playback went.
#[derive(Debug, Default)]
pub struct Summary {
    pub run: usize,
    pub skipped: usize,
    pub passed: usize,
    /// Statements whose output did not match their checkpoints.
    pub failed: Vec<usize>,
    /// Statements that raised an error no checkpoint expected.
    pub errors: Vec<usize>,
    /// `q`, or the end of the keys.
    pub quit: bool,
    /// `exit(N)` in the demo.
    pub exit: Option<i32>,
    /// Ctrl-C while a statement ran without pauses.
    pub interrupted: bool,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.errors.is_empty() && !self.interrupted
    }

    /// One line for the end of a playback.
    pub fn line(&self, path: &str) -> String {
        let mut parts = vec![format!(
            "{} statement{} run",
            self.run,
            if self.run == 1 { "" } else { "s" }
        )];
        parts.push(format!(
            "{} checkpoint{} passed",
            self.passed,
            if self.passed == 1 { "" } else { "s" }
        ));
        if !self.failed.is_empty() {
            parts.push(format!(
                "{} failed (line {})",
                self.failed.len(),
                join(&self.failed)
            ));
        }
        if !self.errors.is_empty() {
            parts.push(format!(
                "{} unexpected error{} (line {})",
                self.errors.len(),
                if self.errors.len() == 1 { "" } else { "s" },
                join(&self.errors)
            ));
        }
        if self.skipped > 0 {
            parts.push(format!("{} skipped", self.skipped));
        }
        if self.quit {
            parts.push("quit".into());
        }
        format!("{path}: {}", parts.join(", "))
    }
}

fn join(lines: &[usize]) -> String {
    lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a key asks for at a pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Run,
    Back,
    Skip,
    Quit,
}

/// The keys of a person at the terminal (raw mode while waiting), or lines from a pipe
/// (empty: Enter; `b`, `s`, `q`).
struct Keys {
    tty: bool,
}

impl Keys {
    fn wait(&self) -> Key {
        if !self.tty {
            let mut line = String::new();
            return match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => Key::Quit,
                Ok(_) => match line.trim() {
                    "b" | "B" => Key::Back,
                    "s" | "S" => Key::Skip,
                    "q" | "Q" => Key::Quit,
                    _ => Key::Run,
                },
            };
        }
        let stdin = std::io::stdin();
        let _raw = RawMode::enter(stdin.as_fd()).ok();
        let mut b = [0u8; 1];
        loop {
            match nix::unistd::read(stdin.as_fd(), &mut b) {
                Ok(0) => return Key::Quit,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return Key::Quit,
            }
            return match b[0] {
                b'\r' | b'\n' | b' ' => Key::Run,
                b'b' | b'B' => Key::Back,
                b's' | b'S' => Key::Skip,
                // q, Ctrl-C, Ctrl-D
                b'q' | b'Q' | 3 | 4 => Key::Quit,
                _ => continue,
            };
        }
    }

    /// The terminal in raw mode while a line is typed out (so a key is seen at once).
    fn raw(&self) -> Option<RawMode> {
        if !self.tty {
            return None;
        }
        RawMode::enter(std::io::stdin().as_fd()).ok()
    }

    /// A key pressed during the typing (eaten): finish it at once.
    fn pressed(&self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        if !self.tty {
            return false;
        }
        let stdin = std::io::stdin();
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::ZERO).unwrap_or(0) > 0 {
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(stdin.as_fd(), &mut b);
            return true;
        }
        false
    }
}

/// Play `text` (a demo read from `path`) in this interpreter's session.
pub fn play(it: &mut Interp, path: &str, text: &str, opts: Options) -> Result<Summary, Error> {
    let script = {
        let is_cmd = |w: &str| it.is_command(w);
        demos::parse(text, &is_cmd).map_err(|e| Error::value_error(format!("{path}: {e}")))?
    };
    let tty_in = std::io::stdin().is_terminal();
    let tty_out = std::io::stdout().is_terminal();
    let mut p = Player {
        opts,
        keys: Keys {
            tty: tty_in && opts.pause,
        },
        typing: tty_out && opts.speed > 0,
        both_tty: tty_in && tty_out,
        summary: Summary::default(),
    };
    p.title(it, &script)?;
    p.steps(it, path, &script)?;
    for l in &script.tail {
        p.narrate(it, l)?;
    }
    it.out.flush()?;
    Ok(p.summary)
}

struct Player {
    opts: Options,
    keys: Keys,
    /// Type statements out (a terminal, a speed).
    typing: bool,
    /// stdin and stdout are terminals (`#@ tty` statements run).
    both_tty: bool,
    summary: Summary,
}

impl Player {
    fn title(&self, it: &mut Interp, s: &Script) -> Result<(), Error> {
        let head = format!("# {}", s.title);
        let head = if it.term.color {
            Color::White.bold().paint(head).to_string()
        } else {
            head
        };
        writeln!(it.out, "{head}")?;
        if !s.summary.is_empty() {
            self.narrate(it, &format!("# {}", s.summary))?;
        }
        Ok(())
    }

    /// A comment or blank line of the script, as written.
    fn narrate(&self, it: &mut Interp, line: &str) -> Result<(), Error> {
        let shown = if it.term.color {
            highlight::line(line, &|_| false)
        } else {
            line.to_string()
        };
        writeln!(it.out, "{shown}")?;
        Ok(())
    }

    fn steps(&mut self, it: &mut Interp, path: &str, s: &Script) -> Result<(), Error> {
        let mut i = 0;
        while i < s.steps.len() {
            let step = &s.steps[i];
            for l in &step.lead {
                self.narrate(it, l)?;
            }
            if let Some(why) = self.skip_reason(step) {
                self.summary.skipped += 1;
                let first = step.src.lines().next().unwrap_or("");
                self.narrate(it, &format!("# skipped ({why}): {first}"))?;
                i += 1;
                continue;
            }
            if !step.marks.hidden {
                self.show(it, step)?;
            }
            let key = if self.opts.pause && !step.marks.hidden {
                it.out.flush()?;
                self.keys.wait()
            } else {
                Key::Run
            };
            if !step.marks.hidden {
                writeln!(it.out)?;
            }
            match key {
                Key::Quit => {
                    self.summary.quit = true;
                    return Ok(());
                }
                Key::Back => {
                    i = i.saturating_sub(1);
                    continue;
                }
                Key::Skip => {
                    self.summary.skipped += 1;
                    i += 1;
                    continue;
                }
                Key::Run => {}
            }
            if self.run(it, path, step)? {
                return Ok(());
            }
            i += 1;
        }
        Ok(())
    }

    fn skip_reason(&self, step: &Step) -> Option<&'static str> {
        if step.marks.manual && !self.opts.pause {
            return Some("needs a person at the terminal");
        }
        if step.marks.tty && !self.both_tty {
            return Some("needs a terminal");
        }
        None
    }

    /// The statement after the prompt, typed out.
    fn show(&self, it: &mut Interp, step: &Step) -> Result<(), Error> {
        let color = it.term.color;
        let painted = if color {
            let is_cmd = |w: &str| it.is_command(w);
            highlight::line(&step.src, &is_cmd)
        } else {
            step.src.clone()
        };
        let (prompt, cont) = if color {
            (
                format!("{} ", Color::Green.bold().paint("rustemd>")),
                Color::Green.paint(super::CONTINUATION).to_string(),
            )
        } else {
            ("rustemd> ".to_string(), super::CONTINUATION.to_string())
        };
        let mut fast = !self.typing;
        for (n, line) in painted.split('\n').enumerate() {
            if n > 0 {
                writeln!(it.out)?;
            }
            write!(it.out, "{}", if n == 0 { &prompt } else { &cont })?;
            if fast {
                write!(it.out, "{line}")?;
                continue;
            }
            let delay = Duration::from_secs_f64(1.0 / f64::from(self.opts.speed.max(1)));
            let _raw = self.keys.raw();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                let mut piece = c.to_string();
                if c == '\x1b' {
                    // An escape sequence goes out whole and at once.
                    for d in chars.by_ref() {
                        piece.push(d);
                        if d == 'm' {
                            break;
                        }
                    }
                    write!(it.out, "{piece}")?;
                    continue;
                }
                write!(it.out, "{piece}")?;
                if fast {
                    continue;
                }
                it.out.flush()?;
                if self.keys.pressed() {
                    fast = true;
                } else {
                    std::thread::sleep(delay);
                }
            }
        }
        Ok(())
    }

    /// Run one statement and check it; `true` when the playback must end.
    fn run(&mut self, it: &mut Interp, path: &str, step: &Step) -> Result<bool, Error> {
        it.out.flush()?;
        let cap = Capture::start(true).map_err(|e| Error::os(&e, "cannot capture the output"))?;
        let r = it
            .run_named(&step.src, path, step.line)
            .and_then(|()| it.out.flush().map_err(Error::from));
        let mut end = false;
        let mut error = false;
        if let Err(e) = &r {
            match e.kind {
                Kind::Exit(code) => {
                    self.summary.exit = Some(code);
                    end = true;
                }
                Kind::BrokenPipe => end = true,
                _ => {
                    error = true;
                    report::report_at(&step.src, step.line, e, &it.term, it.session.bus.target());
                    if e.kind == Kind::Interrupted && !self.opts.pause {
                        self.summary.interrupted = true;
                        end = true;
                    }
                }
            }
        }
        let out = cap.finish();
        self.summary.run += 1;
        let out = String::from_utf8_lossy(&out);
        match &step.checks {
            Some(want) => {
                let got = demos::output_lines(&out);
                if demos::check(want, &got) {
                    self.summary.passed += 1;
                } else {
                    self.summary.failed.push(step.line);
                    mismatch(it, path, step, want, &got);
                }
            }
            None if error => self.summary.errors.push(step.line),
            None => {}
        }
        Ok(end)
    }
}

/// Expected and got, on stderr.
fn mismatch(it: &Interp, path: &str, step: &Step, want: &[String], got: &[String]) {
    let label = "checkpoint failed:";
    let label = if it.term.color_err {
        Color::Red.bold().paint(label).to_string()
    } else {
        label.to_string()
    };
    let first = step.src.lines().next().unwrap_or("");
    let mut text = format!("{label} {path}, line {}: {first}\n  expected:\n", step.line);
    for l in want {
        text.push_str(&format!("    {l}\n"));
    }
    text.push_str("  got:\n");
    for l in got {
        text.push_str(&format!("    {}\n", report::sanitize(l)));
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

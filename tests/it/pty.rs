//! The interactive shell on a real pseudo-terminal: TAB completion, hints, Ctrl-C, bad input,
//! and the terminal state left behind.
//!
//! Every test spawns the shell (or bash) in its own pty through `expectrl`, with `NO_COLOR=1`,
//! `TERM=xterm`, and `HOME`/`XDG_STATE_HOME` in a fresh temporary directory (the history goes
//! there). Output is read without blocking, stripped of ANSI escapes, and every wait is bounded,
//! so a hung shell fails the test instead of hanging it.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Session;
use expectrl::process::unix::{PtyStream, UnixProcess};

use crate::support::dbus::PrivateBus;
use crate::support::testservice::{ODD_NAME, TEST_NAME, TEST_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_rustemd-shell");
const PROMPT: &str = "rustemd> ";
/// Upper bound for any single wait.
const WAIT: Duration = Duration::from_secs(10);

const TAB: &str = "\t";
const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// Render terminal output into the lines it leaves on screen: a tiny emulator that knows
/// what rustyline and the shell emit (`\r`, `\n`, backspace, cursor left/right/column, erase
/// to end of line); every other escape sequence (colours, modes, OSC titles) is dropped.
fn render(raw: &[u8]) -> Vec<String> {
    render_with_cursor(raw).0
}

/// [`render`], plus the cursor column on the last line.
fn render_with_cursor(raw: &[u8]) -> (Vec<String>, usize) {
    let s = String::from_utf8_lossy(raw);
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let mut col = 0usize;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        let line = lines.last_mut().expect("at least one line");
        match c {
            '\x1b' => match it.next() {
                Some('[') => {
                    let mut params = String::new();
                    let mut fin = '\0';
                    for c in it.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            fin = c;
                            break;
                        }
                        params.push(c);
                    }
                    let n = params.parse::<usize>().unwrap_or(1).max(1);
                    match fin {
                        'C' => col += n,
                        'D' => col = col.saturating_sub(n),
                        'G' => col = n - 1,
                        'K' if params.is_empty() || params == "0" => line.truncate(col),
                        'K' if params == "2" => line.clear(),
                        'J' if params.is_empty() || params == "0" => line.truncate(col),
                        _ => {}
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ESC \.
                    while let Some(c) = it.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' {
                            it.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => col = 0,
            '\n' => {
                lines.push(Vec::new());
                col = 0;
            }
            '\x08' => col = col.saturating_sub(1),
            '\t' => col = (col / 8 + 1) * 8,
            c if c.is_control() => {}
            c => {
                while line.len() < col {
                    line.push(' ');
                }
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    let lines = lines.into_iter().map(|l| l.into_iter().collect()).collect();
    (lines, col)
}

/// The rendered text ends with a new, empty prompt line.
fn is_fresh_prompt(t: &str) -> bool {
    t.contains('\n')
        && t.rsplit('\n')
            .next()
            .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
}

/// The screen lines of already rendered text.
fn screen_lines(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

/// A program running on a pty, with everything it printed so far.
struct Pty {
    session: Session<UnixProcess, PtyStream>,
    raw: Vec<u8>,
    /// Byte offset in `raw` where the next wait starts looking.
    mark: usize,
    /// Keys were sent since the last successful wait (a prompt on screen may be stale).
    sent: bool,
    home: tempfile::TempDir,
}

impl Pty {
    fn spawn_cmd(mut cmd: Command, home: tempfile::TempDir) -> Pty {
        cmd.env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("LC_ALL", "C.UTF-8")
            .env("SYSTEMD_COLORS", "0")
            .env("SYSTEMD_PAGER", "");
        let mut session = Session::spawn(cmd).expect("spawn on a pty");
        // Wide enough that no test line wraps.
        session
            .get_process_mut()
            .set_window_size(250, 50)
            .expect("set the window size");
        Pty {
            session,
            raw: Vec::new(),
            mark: 0,
            sent: false,
            home,
        }
    }

    /// The shell on the shared test bus, waiting at its first prompt.
    fn shell() -> Pty {
        let home = tempfile::Builder::new()
            .prefix("rustemd-pty-")
            .tempdir()
            .expect("tempdir");
        let mut cmd = Command::new(BIN);
        cmd.arg("--address").arg(PrivateBus::shared().address());
        let mut p = Pty::spawn_cmd(cmd, home);
        p.expect_text(PROMPT);
        p
    }

    fn send(&mut self, s: &str) {
        self.session
            .write_all(s.as_bytes())
            .expect("write to the pty");
        self.session.flush().expect("flush the pty");
        self.sent = true;
    }

    /// Type a line and press Enter.
    fn line(&mut self, s: &str) {
        self.send(s);
        self.send("\r");
    }

    /// Read whatever is available now; false once the program is gone (EOF or EIO).
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        loop {
            match self.session.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }

    /// Everything since the mark, rendered (escapes applied or dropped), lines joined by `\n`.
    fn since_mark(&self) -> String {
        render(&self.raw[self.mark..]).join("\n")
    }

    /// Wait (at most `limit`) until `pred` holds on the stripped output since the mark; then
    /// move the mark to the end of what was read. Panics with the output on timeout.
    fn wait_until(&mut self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.wait_until_at(what, limit, |t, _| pred(t))
    }

    /// Like [`Pty::wait_until`]; the predicate also gets the cursor column on the last line.
    fn wait_until_at(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str, usize) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let alive = self.pump();
            let (lines, col) = render_with_cursor(&self.raw[self.mark..]);
            let text = lines.join("\n");
            if pred(&text, col) {
                self.sent = false;
                // Keep the line being edited in view: the next wait starts at its beginning.
                if let Some(nl) = self.raw[self.mark..].iter().rposition(|&b| b == b'\n') {
                    self.mark += nl + 1;
                }
                return text;
            }
            if !alive || Instant::now() >= deadline {
                panic!(
                    "timed out after {limit:?} waiting for {what} (process alive: {alive})\n\
                     --- output since the last match (rendered) ---\n{text}\n---"
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until `needle` appears in the stripped output.
    fn expect_text(&mut self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?}"), WAIT, |t| t.contains(needle))
    }

    /// Wait until one whole output line (after the mark) is exactly `line` (trimmed).
    fn expect_line(&mut self, line: &str) -> String {
        self.wait_until(&format!("the line {line:?}"), WAIT, |t| {
            // Only complete lines count (the last piece may still be growing).
            let lines = screen_lines(t);
            lines[..lines.len() - 1].iter().any(|l| l.trim() == line)
        })
    }

    /// Wait until the line being edited (the last screen line) starts with the prompt and then
    /// `input` as a whole word (a grey hint may follow after whitespace).
    fn expect_input(&mut self, input: &str) -> String {
        let want = format!("{PROMPT}{input}");
        self.wait_until_at(&format!("the edit line {want:?}"), WAIT, |t, col| {
            // What was typed ends at the cursor; a grey hint may follow it.
            let cur = t.rsplit('\n').next().unwrap_or("");
            cur.chars().take(col).collect::<String>() == want
        })
    }

    /// Wait for a fresh prompt (on a new line since the mark) with an empty edit line.
    fn expect_prompt(&mut self) -> String {
        let sent = self.sent;
        self.wait_until("a fresh empty prompt", WAIT, |t| {
            if sent {
                is_fresh_prompt(t)
            } else {
                t.rsplit('\n')
                    .next()
                    .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
            }
        })
    }

    /// `1+1` prints `2`: the shell is alive and evaluating.
    fn assert_alive(&mut self) {
        self.expect_prompt();
        self.line("1+1");
        self.expect_line("2");
        self.expect_prompt();
    }

    /// Ctrl-D at an empty prompt; the shell must exit within the limit.
    fn exit_with_ctrl_d(&mut self) {
        self.send(CTRL_D);
        let deadline = Instant::now() + WAIT;
        while self.pump() {
            assert!(
                Instant::now() < deadline,
                "the shell did not exit after Ctrl-D:\n{}",
                self.since_mark()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

const OBJECT_X: &str = r#"x = object("org.rustemd.Test", "/org/rustemd/Test")"#;

#[test]
fn pty_tab_completes_attribute_chain() {
    let mut p = Pty::shell();
    p.line(OBJECT_X);
    p.expect_prompt();
    p.send("x.Te");
    p.expect_input("x.Te");
    p.send(TAB);
    p.expect_input("x.Test1");
    p.send(".Cou");
    p.expect_input("x.Test1.Cou");
    p.send(TAB);
    p.expect_input("x.Test1.Count");
    p.send("\r");
    // Count is a u32 that other tests may have changed: any number will do.
    let out = p.wait_until("the value of Count", WAIT, |t| {
        let lines = screen_lines(t);
        lines[..lines.len() - 1]
            .iter()
            .skip(1)
            .any(|l| !l.trim().is_empty() && l.trim().chars().all(|c| c.is_ascii_digit()))
    });
    assert!(!out.contains("error:"), "reading Count failed:\n{out}");
    p.exit_with_ctrl_d();
}

#[test]
fn pty_tab_completes_bus_name_in_verb() {
    let mut p = Pty::shell();
    p.send("introspect org.rustemd.Te");
    p.expect_input("introspect org.rustemd.Te");
    p.send(TAB);
    p.expect_input(&format!("introspect {TEST_NAME}"));
    p.send(CTRL_C);
    p.assert_alive();
}

#[test]
fn pty_tab_completes_path_and_member() {
    let mut p = Pty::shell();
    p.send(&format!("introspect {TEST_NAME} {TEST_PATH}/ch"));
    p.send(TAB);
    let text = p.wait_until("the path completed to .../child", WAIT, |t| {
        let lines = screen_lines(t);
        let cur = lines.last().map(String::as_str).unwrap_or("");
        cur.contains(&format!("{TEST_PATH}/child"))
    });
    assert!(
        !text.contains("/chi\n"),
        "unexpected partial completion:\n{text}"
    );
    p.send(CTRL_C);
    p.expect_prompt();

    let prefix = format!("call {TEST_NAME} {TEST_PATH} org.rustemd.Test1 Ech");
    p.send(&prefix);
    p.expect_input(&prefix);
    // First TAB: longest common prefix ("Echo"); second TAB: list or cycle.
    p.send(TAB);
    std::thread::sleep(Duration::from_millis(300));
    p.send(TAB);
    let want = ["EchoDict", "EchoStructs", "EchoVariant"];
    let shown = p.wait_until("the Echo* candidates", WAIT, |t| {
        // Either all three are listed, or the line cycles to one of them.
        want.iter().all(|w| t.contains(w)) || {
            let lines = screen_lines(t);
            let cur = lines.last().map(String::as_str).unwrap_or("");
            want.iter().any(|w| cur.contains(&format!(" {w}")))
        }
    });
    assert!(!shown.contains("EchoNope"), "{shown}");
    p.send(CTRL_C);
    p.assert_alive();
}

#[test]
fn pty_hint_shows_member_signature() {
    let mut p = Pty::shell();
    p.line(OBJECT_X);
    p.expect_prompt();
    // Hints come from the introspection cache only (they must be instant): a TAB fills it.
    p.send("x.Te");
    p.send(TAB);
    p.expect_input("x.Test1");
    p.send(".Count");
    let text = p.wait_until("a hint with the property type", WAIT, |t| {
        let lines = screen_lines(t);
        let cur = lines.last().map(String::as_str).unwrap_or("");
        cur.starts_with(&format!("{PROMPT}x.Test1.Count")) && cur.contains("u property")
    });
    assert!(!text.contains("error:"), "{text}");
    p.send(CTRL_C);
    p.assert_alive();
}

/// Regression: rustyline dropped bytes that arrived in the same read as Enter (keys typed
/// ahead, a pasted block), until its `buffer-redux` feature was enabled.
#[test]
fn pty_typeahead_after_enter_is_not_lost() {
    let mut p = Pty::shell();
    p.send("3+3\r4+4\r5+5\r");
    p.wait_until("the results 6, 8 and 10", WAIT, |t| {
        let lines = screen_lines(t);
        ["6", "8", "10"]
            .iter()
            .all(|w| lines.iter().any(|l| l.trim() == *w))
    });
    p.exit_with_ctrl_d();
}

#[test]
fn pty_ctrl_c_clears_line() {
    let mut p = Pty::shell();
    p.send("abc");
    p.expect_input("abc");
    p.send(CTRL_C);
    p.expect_prompt();
    // If "abc" had survived, this would be "abc1+1": an error, not 2.
    p.line("1+1");
    p.expect_line("2");
    p.exit_with_ctrl_d();
}

#[test]
fn pty_ctrl_c_cancels_slow_call() {
    let mut p = Pty::shell();
    p.line(&format!(
        "call {TEST_NAME} {TEST_PATH} org.rustemd.Test1 Slow u 20000"
    ));
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    p.send(CTRL_C);
    let out = p.wait_until("'interrupted' and the prompt", WAIT, |t| {
        t.contains("interrupted") && is_fresh_prompt(t)
    });
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "Ctrl-C took {took:?} to cancel:\n{out}"
    );
    assert!(out.contains("error:"), "no error line:\n{out}");
    p.assert_alive();
    p.exit_with_ctrl_d();
}

#[test]
fn pty_slow_peer_cannot_freeze_tab() {
    let mut p = Pty::shell();
    // Completing the interface of /slow needs its introspection, which takes 30 s.
    let line = format!("introspect {ODD_NAME} /slow ");
    p.send(&line);
    p.expect_input(&line);
    let start = Instant::now();
    p.send(TAB);
    // Queued while the completer runs; the fresh prompt proves the editor came back.
    p.send(CTRL_C);
    p.wait_until("a fresh prompt after TAB", WAIT, is_fresh_prompt);
    let took = start.elapsed();
    p.assert_alive();
    assert!(
        took < Duration::from_secs(3),
        "TAB on a slow peer froze the editor for {took:?}"
    );

    // The same through an object variable.
    p.expect_prompt();
    p.line(&format!(r#"o = object("{ODD_NAME}", "/slow")"#));
    p.expect_prompt();
    p.send("o.");
    p.expect_input("o.");
    let start = Instant::now();
    p.send(TAB);
    p.send(CTRL_C);
    p.wait_until("a fresh prompt after TAB", WAIT, is_fresh_prompt);
    let took = start.elapsed();
    p.assert_alive();
    assert!(
        took < Duration::from_secs(3),
        "TAB on an object of a slow peer froze the editor for {took:?}"
    );
    p.exit_with_ctrl_d();
}

#[test]
fn pty_bad_input_keeps_shell_going() {
    let mut p = Pty::shell();
    p.line(OBJECT_X);
    p.expect_prompt();
    // "unit(" alone is an unclosed bracket: the editor asks for more; ")" completes it.
    for bad in [")(", "x.Nope", "call a b", "unit(", "nosuchvar + 1"] {
        p.line(bad);
        if bad == "unit(" {
            std::thread::sleep(Duration::from_millis(200));
            p.line(")");
        }
        let out = p.wait_until(&format!("an error for {bad:?}"), WAIT, |t| {
            t.contains("error:") && is_fresh_prompt(t)
        });
        assert!(!out.contains("panicked"), "{bad:?} panicked:\n{out}");
    }
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Tokens of `stty -a`, e.g. "icanon" or "-echo".
fn stty_tokens(out: &str) -> Vec<String> {
    out.split(|c: char| c.is_whitespace() || c == ';')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn pty_terminal_restored_and_history_private() {
    let home = tempfile::Builder::new()
        .prefix("rustemd-pty-")
        .tempdir()
        .expect("tempdir");
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "--noediting"])
        .env("PS1", "BASH$ ")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let mut p = Pty::spawn_cmd(cmd, home);
    p.expect_text("BASH$ ");
    // The pty starts with echo off (expectrl); start from a normal cooked terminal.
    p.line("stty sane; echo READY");
    // Echo is still off for this line, so READY lands right after the prompt.
    p.wait_until("READY", WAIT, |t| {
        let lines = screen_lines(t);
        lines[..lines.len() - 1]
            .iter()
            .any(|l| l.ends_with("READY"))
    });
    p.expect_text("BASH$ ");
    p.line(&format!(
        "'{BIN}' --address '{}'; echo SHELL-EXIT=$?",
        PrivateBus::shared().address()
    ));
    p.expect_prompt();
    p.line("1+1");
    p.expect_line("2");
    p.expect_prompt();
    p.send(CTRL_D);
    p.expect_line("SHELL-EXIT=0");
    p.expect_text("BASH$ ");
    p.line("stty -a; echo STTY-DONE");
    let out = p.expect_line("STTY-DONE");
    let toks = stty_tokens(&out);
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            toks.iter().any(|t| t == flag),
            "terminal left with {flag} off after the shell exited:\n{out}"
        );
    }

    let hist = p.home.path().join("state/rustemd-shell/history");
    let meta = std::fs::metadata(&hist)
        .unwrap_or_else(|e| panic!("no history file at {}: {e}", hist.display()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "history file mode"
    );
    let text = std::fs::read_to_string(&hist).unwrap_or_default();
    assert!(
        text.contains("1+1"),
        "history lacks the typed line:\n{text}"
    );
    p.line("exit");
}

#[test]
fn render_applies_cursor_moves_and_drops_colours() {
    assert_eq!(
        render(b"\x1b[1;32mrustemd>\x1b[0m x\x1b[K\x1b]0;t\x07!"),
        vec!["rustemd> x!"]
    );
    assert_eq!(
        render(b"a\r\n\r\x1b[Krustemd> call\r\x1b[13C\x1b[?2026l org\r\x1b[Krustemd> x.Test1  hint\r\x1b[16C"),
        vec!["a", "rustemd> x.Test1  hint"]
    );
}

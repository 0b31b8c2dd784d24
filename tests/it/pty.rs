//! The interactive shell on a real pseudo-terminal: TAB completion, hints, Ctrl-C, bad input,
//! and the terminal state left behind.
//!
//! Every test spawns the shell (or bash) in its own pty of [`ROWS`] x [`COLS`] through
//! `expectrl`, with `NO_COLOR=1`, `TERM=xterm`, and `HOME`/`XDG_STATE_HOME` in a fresh temporary
//! directory (the history goes there). Everything read from the pty goes through a `vt100`
//! terminal emulator of the same size, and the tests look at its screen: rows, and the cursor.
//! Output is read without blocking and every wait is bounded, so a hung shell fails the test
//! instead of hanging it.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Session;
use expectrl::process::unix::{PtyStream, UnixProcess};

use crate::support::dbus::PrivateBus;
use crate::support::testservice::{ODD_NAME, TEST_NAME, TEST_PATH};
use crate::support::tools;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_rustemd-shell");
pub(crate) const PROMPT: &str = "rustemd> ";
/// Upper bound for any single wait.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Rows of the pty and of its emulated screen.
pub(crate) const ROWS: u16 = 50;
/// Columns of the pty and of its emulated screen: wide enough that no test line wraps.
pub(crate) const COLS: u16 = 250;
/// Rows the emulated screen keeps once they scroll off the top (far more than any test prints).
const SCROLLBACK: usize = 10_000;

const TAB: &str = "\t";
pub(crate) const CTRL_C: &str = "\x03";
const CTRL_D: &str = "\x04";

/// A terminal emulator of the pty's size.
fn new_screen() -> vt100::Parser {
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("a non-zero terminal size");
    vt100::Parser::new(size(ROWS), size(COLS), SCROLLBACK)
}

/// Rows `from..=to` of `screen`'s text, numbered from the first row ever shown: the rows that
/// scrolled off the top come first, then the live screen. Trailing blank cells are not included.
fn screen_rows(screen: &mut vt100::Screen, from: usize, to: usize) -> Vec<String> {
    let scrolled = screen.scrollback_len();
    let (rows, cols) = screen.size();
    let rows = usize::from(rows.get());
    let mut out = Vec::new();
    let mut next = from;
    while next <= to {
        // Scroll the view back so that row `next` is in it (offset 0: the live screen).
        let offset = scrolled.saturating_sub(next);
        screen.set_scrollback(offset);
        let top = scrolled - offset;
        let take = (to + 1 - next).min(rows - (next - top));
        out.extend(screen.rows(0, cols.get()).skip(next - top).take(take));
        next += take;
    }
    screen.set_scrollback(0);
    out
}

/// What a wait looks at: the screen from the mark (see [`Pty`]) down to the cursor.
#[derive(Debug)]
pub(crate) struct View {
    /// The rows from the mark to the cursor's row (the last one).
    pub(crate) rows: Vec<String>,
    /// The cursor's row up to the cursor: on an edit line, what was typed (without the grey
    /// hint that may follow the cursor).
    pub(crate) before_cursor: String,
}

impl View {
    /// The rows joined by `\n`.
    pub(crate) fn text(&self) -> String {
        self.rows.join("\n")
    }

    /// The row of the cursor: the line being edited, or the one being printed.
    pub(crate) fn cursor_row(&self) -> &str {
        self.rows.last().map(String::as_str).unwrap_or("")
    }

    /// The rows above the cursor's row: lines already finished.
    pub(crate) fn finished_rows(&self) -> &[String] {
        &self.rows[..self.rows.len().saturating_sub(1)]
    }

    /// The cursor's row is an empty prompt, below the mark.
    pub(crate) fn is_fresh_prompt(&self) -> bool {
        self.rows.len() > 1 && self.cursor_row().trim_end() == PROMPT.trim_end()
    }
}

/// A program running on a pty, with the terminal screen it drew so far.
pub(crate) struct Pty {
    pub(crate) session: Session<UnixProcess, PtyStream>,
    /// The emulated terminal: every byte read from the pty is fed to it.
    screen: vt100::Parser,
    /// Every byte read from the pty (for failure messages).
    raw: Vec<u8>,
    /// The screen row where the next wait starts looking, numbered as in [`screen_rows`].
    mark: usize,
    /// Keys were sent since the last successful wait (a prompt on screen may be stale).
    sent: bool,
    home: tempfile::TempDir,
}

impl Pty {
    #[track_caller]
    pub(crate) fn spawn_cmd(mut cmd: Command, home: tempfile::TempDir) -> Pty {
        cmd.env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("LC_ALL", "C.UTF-8")
            .env("SYSTEMD_COLORS", "0")
            .env("SYSTEMD_PAGER", "");
        let mut session = Session::spawn(cmd).expect("spawn on a pty");
        session
            .get_process_mut()
            .set_window_size(COLS, ROWS)
            .expect("set the window size");
        Pty {
            session,
            screen: new_screen(),
            raw: Vec::new(),
            mark: 0,
            sent: false,
            home,
        }
    }

    /// The shell on the shared test bus, waiting at its first prompt.
    #[track_caller]
    fn shell() -> Pty {
        let home = tempfile::Builder::new()
            .prefix("rustemd-pty-")
            .tempdir()
            .expect("tempdir");
        Pty::shell_in(home)
    }

    /// The shell at its prompt, with `home` as its HOME (prepared by the test).
    #[track_caller]
    fn shell_in(home: tempfile::TempDir) -> Pty {
        let mut cmd = Command::new(BIN);
        cmd.arg("--address").arg(PrivateBus::shared().address());
        let mut p = Pty::spawn_cmd(cmd, home);
        p.expect_text(PROMPT);
        p
    }

    /// Type `stmt` (a loop that runs until stopped), press Ctrl-C once it runs, and wait
    /// for KeyboardInterrupt and a fresh prompt.
    #[track_caller]
    fn interrupt(&mut self, stmt: &str) {
        self.line(stmt);
        std::thread::sleep(Duration::from_millis(300));
        self.send(CTRL_C);
        self.wait_until("KeyboardInterrupt and the prompt", WAIT, |v| {
            v.text().contains("KeyboardInterrupt") && v.is_fresh_prompt()
        });
    }

    #[track_caller]
    pub(crate) fn send(&mut self, s: &str) {
        self.session
            .write_all(s.as_bytes())
            .expect("write to the pty");
        self.session.flush().expect("flush the pty");
        self.sent = true;
    }

    /// Type a line and press Enter.
    #[track_caller]
    pub(crate) fn line(&mut self, s: &str) {
        self.send(s);
        self.send("\r");
    }

    /// Read whatever is available now into the screen; false once the program is gone (EOF or
    /// EIO).
    #[track_caller]
    pub(crate) fn pump(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        let alive = loop {
            match self.session.try_read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => {
                    self.screen.process(&buf[..n]);
                    self.raw.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break false,
            }
        };
        assert!(
            self.screen.screen().scrollback_len() < SCROLLBACK,
            "more output than the emulated screen keeps ({SCROLLBACK} rows)"
        );
        alive
    }

    /// The screen from the mark down to the cursor; the cursor's absolute row.
    fn view(&mut self) -> (View, usize) {
        let screen = self.screen.screen_mut();
        let (row, col) = screen.cursor_position();
        let before_cursor = screen.contents_between(row, 0, row, col);
        let cursor = screen.scrollback_len() + usize::from(row);
        let rows = screen_rows(screen, self.mark.min(cursor), cursor);
        (
            View {
                rows,
                before_cursor,
            },
            cursor,
        )
    }

    /// Every byte read from the pty so far.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Everything since the mark, as on screen, rows joined by `\n`.
    pub(crate) fn since_mark(&mut self) -> String {
        self.view().0.text()
    }

    /// Wait (at most `limit`) until `pred` holds on the screen since the mark; then move the
    /// mark to the cursor's row (the line being edited stays in view for the next wait). Panics
    /// with the screen on timeout.
    #[track_caller]
    pub(crate) fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&View) -> bool,
    ) -> View {
        let deadline = Instant::now() + limit;
        loop {
            let alive = self.pump();
            let (view, cursor) = self.view();
            if pred(&view) {
                self.sent = false;
                self.mark = cursor;
                return view;
            }
            if !alive || Instant::now() >= deadline {
                let tail = &self.raw[self.raw.len().saturating_sub(2000)..];
                panic!(
                    "timed out after {limit:?} waiting for {what} (process alive: {alive})\n\
                     --- screen since the last match ---\n{}\n\
                     --- cursor row up to the cursor: {:?}\n\
                     --- whole screen ---\n{}\n\
                     --- last bytes read ---\n{:?}\n---",
                    view.text(),
                    view.before_cursor,
                    self.screen.screen().contents(),
                    String::from_utf8_lossy(tail)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until `needle` appears on the screen since the mark.
    #[track_caller]
    pub(crate) fn expect_text(&mut self, needle: &str) -> View {
        self.wait_until(&format!("{needle:?}"), WAIT, |v| v.text().contains(needle))
    }

    /// Wait until one finished row (after the mark) is exactly `line` (trimmed).
    #[track_caller]
    pub(crate) fn expect_line(&mut self, line: &str) -> View {
        self.wait_until(&format!("the line {line:?}"), WAIT, |v| {
            // Only finished rows count (the cursor's row may still be growing).
            v.finished_rows().iter().any(|l| l.trim() == line)
        })
    }

    /// Wait until the line being edited (the cursor's row) holds, up to the cursor, the prompt
    /// and then `input` (a grey hint may follow the cursor).
    #[track_caller]
    fn expect_input(&mut self, input: &str) -> View {
        let want = format!("{PROMPT}{input}");
        self.wait_until(&format!("the edit line {want:?}"), WAIT, |v| {
            v.before_cursor == want
        })
    }

    /// Wait for a fresh prompt (on a new row since the mark) with an empty edit line.
    #[track_caller]
    pub(crate) fn expect_prompt(&mut self) -> View {
        let sent = self.sent;
        self.wait_until("a fresh empty prompt", WAIT, |v| {
            if sent {
                v.is_fresh_prompt()
            } else {
                v.cursor_row().trim_end() == PROMPT.trim_end()
            }
        })
    }

    /// `1+1` prints `2`: the shell is alive and evaluating.
    #[track_caller]
    fn assert_alive(&mut self) {
        self.expect_prompt();
        self.line("1+1");
        self.expect_line("2");
        self.expect_prompt();
    }

    /// Ctrl-D at an empty prompt; the shell must exit within the limit.
    #[track_caller]
    pub(crate) fn exit_with_ctrl_d(&mut self) {
        self.send(CTRL_D);
        let deadline = Instant::now() + WAIT;
        while self.pump() {
            if Instant::now() >= deadline {
                panic!(
                    "the shell did not exit after Ctrl-D:\n{}",
                    self.since_mark()
                );
            }
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
    let out = p.wait_until("the value of Count", WAIT, |v| {
        v.finished_rows()
            .iter()
            .skip(1)
            .any(|l| !l.trim().is_empty() && l.trim().chars().all(|c| c.is_ascii_digit()))
    });
    let out = out.text();
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
    let text = p
        .wait_until("the path completed to .../child", WAIT, |v| {
            v.cursor_row().contains(&format!("{TEST_PATH}/child"))
        })
        .text();
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
    let shown = p
        .wait_until("the Echo* candidates", WAIT, |v| {
            // Either all three are listed, or the line cycles to one of them.
            want.iter().all(|w| v.text().contains(w))
                || want
                    .iter()
                    .any(|w| v.cursor_row().contains(&format!(" {w}")))
        })
        .text();
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
    let text = p
        .wait_until("a hint with the property type", WAIT, |v| {
            let cur = v.cursor_row();
            cur.starts_with(&format!("{PROMPT}x.Test1.Count")) && cur.contains("u property")
        })
        .text();
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
    p.wait_until("the results 6, 8 and 10", WAIT, |v| {
        ["6", "8", "10"]
            .iter()
            .all(|w| v.rows.iter().any(|l| l.trim() == *w))
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
    let out = p
        .wait_until("'interrupted' and the prompt", WAIT, |v| {
            v.text().contains("interrupted") && v.is_fresh_prompt()
        })
        .text();
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
    p.wait_until("a fresh prompt after TAB", WAIT, View::is_fresh_prompt);
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
    p.wait_until("a fresh prompt after TAB", WAIT, View::is_fresh_prompt);
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
        let out = p
            .wait_until(&format!("an error for {bad:?}"), WAIT, |v| {
                v.text().contains("error:") && v.is_fresh_prompt()
            })
            .text();
        assert!(!out.contains("panicked"), "{bad:?} panicked:\n{out}");
    }
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Tokens of `stty -a`, e.g. "icanon" or "-echo".
pub(crate) fn stty_tokens(out: &str) -> Vec<String> {
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
    tools::require("stty", "coreutils");
    let mut cmd = Command::new(tools::require("bash", "bash"));
    cmd.args(["--norc", "--noprofile", "--noediting"])
        .env("PS1", "BASH$ ")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let mut p = Pty::spawn_cmd(cmd, home);
    p.expect_text("BASH$ ");
    // The pty starts with echo off (expectrl); start from a normal cooked terminal.
    p.line("stty sane; echo READY");
    // Echo is still off for this line, so READY lands right after the prompt.
    p.wait_until("READY", WAIT, |v| {
        v.finished_rows().iter().any(|l| l.ends_with("READY"))
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
    let out = p.expect_line("STTY-DONE").text();
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

/// A history written before the shell starts is read when Up goes looking (not before the
/// prompt): the last entry first, escapes decoded, empty and damaged lines skipped (the
/// damage told once, when found), an entry appended by another shell meanwhile not among
/// ours; the oldest entry at Alt-<, Ctrl-R searching back through them.
#[test]
fn pty_up_recalls_entries_of_a_history_file_written_before() {
    let home = tempfile::Builder::new()
        .prefix("rustemd-pty-")
        .tempdir()
        .expect("tempdir");
    let dir = home.path().join("state/rustemd-shell");
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut text = b"#V2\n".to_vec();
    for i in 0..5000 {
        text.extend_from_slice(format!("{i} + 1\n").as_bytes());
    }
    text.extend_from_slice(b"\n\xff\xfe damaged\n");
    // `len('a\\b')`, its two backslashes escaped in the file.
    text.extend_from_slice(br"len('a\\\\b')");
    text.extend_from_slice(b"\n40 + 2\n");
    let hist = dir.join("history");
    std::fs::write(&hist, &text).unwrap();
    std::fs::set_permissions(&hist, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut p = Pty::shell_in(home);
    // Another shell appends after we counted: not one of ours.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&hist)
        .unwrap()
        .write_all(b"'appended later'\n")
        .unwrap();
    const UP: &str = "\x1b[A";
    p.send(UP);
    p.send("\r");
    let v = p.expect_text("is damaged (line 5003: invalid UTF-8)");
    assert!(v.finished_rows().iter().any(|l| l == "42"), "{}", v.text());
    p.expect_prompt();
    // The entry before it, its escapes decoded (the repeated `40 + 2` was not added again).
    p.send(&UP.repeat(2));
    p.send("\r");
    p.expect_line("3");
    p.expect_prompt();
    // Past this session's line, that one and `40 + 2`: the damaged and empty lines are
    // skipped, the entry before them comes.
    p.send(&UP.repeat(4));
    p.send("\r");
    p.expect_line("5000");
    p.expect_prompt();
    // The oldest entry (the slots before it are empty: Up stays on it).
    p.send("\x1b<");
    p.send(UP);
    p.send(" + 10\r");
    p.expect_line("11");
    p.expect_prompt();
    // Ctrl-R: the newest entry with `12 +` (4912 + 1), then the one before it.
    p.send("\x12");
    p.send("12 +");
    p.send("\x12\r");
    p.expect_line("4813");
    p.expect_prompt();
    p.send(CTRL_D);
}

/// The emulated screen applies what rustyline emits (cursor moves, erase to end of line) and
/// keeps no colours, titles or modes in the text.
#[test]
fn screen_applies_cursor_moves_and_drops_colours() {
    let show = |raw: &[u8]| {
        let mut p = new_screen();
        p.process(raw);
        let (row, col) = p.screen().cursor_position();
        (screen_rows(p.screen_mut(), 0, usize::from(row)), col)
    };
    assert_eq!(
        show(b"\x1b[1;32mrustemd>\x1b[0m x\x1b[K\x1b]0;t\x07!"),
        (vec!["rustemd> x!".to_string()], 11)
    );
    assert_eq!(
        show(b"a\r\n\r\x1b[Krustemd> call\r\x1b[13C\x1b[?2026l org\r\x1b[Krustemd> x.Test1  hint\r\x1b[16C"),
        (vec!["a".to_string(), "rustemd> x.Test1  hint".to_string()], 16)
    );
}

/// Rows that scrolled off the top of the screen are still read, in order, from the mark on.
#[test]
fn screen_rows_reach_into_the_scrollback() {
    let mut p = new_screen();
    let total = usize::from(ROWS) * 3 + 7;
    for i in 0..total {
        p.process(format!("line {i}\r\n").as_bytes());
    }
    p.process(PROMPT.as_bytes());
    let screen = p.screen_mut();
    assert_eq!(screen.scrollback_len(), total + 1 - usize::from(ROWS));
    let (row, col) = screen.cursor_position();
    let cursor = screen.scrollback_len() + usize::from(row);
    assert_eq!((cursor, usize::from(col)), (total, PROMPT.len()));
    let mut want: Vec<String> = (3..total).map(|i| format!("line {i}")).collect();
    want.push(PROMPT.to_string());
    assert_eq!(screen_rows(screen, 3, cursor), want);
    // Reading moved the view back: the live screen is in view again.
    assert_eq!(screen.scrollback(), 0);
}

/// Issue 8: a block typed line by line gets `...:` continuation lines, auto-indented, and runs
/// at the empty line; completion works on an indented line and on a name a `def` made.
#[test]
fn pty_block_typed_line_by_line_runs_after_an_empty_line() {
    let mut p = Pty::shell();
    p.line("def double_it(n):");
    p.wait_until("a continuation prompt indented by 4", WAIT, |v| {
        v.before_cursor == "    ...:     "
    });
    p.line("return n * 2");
    p.wait_until(
        "the next continuation line, dedented after return",
        WAIT,
        |v| v.before_cursor == "    ...: ",
    );
    p.line("");
    p.expect_prompt();
    p.line("for i in range(3):");
    p.wait_until("a continuation prompt", WAIT, |v| {
        v.before_cursor == "    ...:     "
    });
    // TAB completes the name the def introduced, inside the block.
    p.send("print(double_");
    p.send(TAB);
    p.wait_until("double_it completed", WAIT, |v| {
        v.before_cursor == "    ...:     print(double_it"
    });
    p.line("(i))");
    p.line("");
    p.wait_until("0, 2 and 4", WAIT, |v| {
        let rows: Vec<&str> = v.finished_rows().iter().map(|r| r.trim()).collect();
        rows.windows(3).any(|w| w == ["0", "2", "4"])
    });
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Issue 8: a pasted IPython transcript (bracketed paste) runs: prompts stripped, output lines
/// ignored.
#[test]
fn pty_pasted_ipython_transcript_runs() {
    let mut p = Pty::shell();
    let transcript =
        "In [1]: def f(x):\r   ...:     return x + 1\r   ...:\r\rIn [2]: f(41)\rOut[2]: 42\r";
    p.send(&format!("\x1b[200~{transcript}\x1b[201~"));
    p.send("\r");
    // The paste ends inside no block: one Enter runs it; an empty line would too.
    p.send("\r");
    p.expect_line("42");
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Issue 12, item 6: Ctrl-C during CPU-bound work, before any bus call (it killed the shell)
/// and after one (it was swallowed for good), raises KeyboardInterrupt and returns to the
/// prompt; the session survives with its variables.
#[test]
fn pty_ctrl_c_stops_while_true_before_and_after_a_bus_call() {
    let mut p = Pty::shell();
    p.line("kept = 'still here'");
    p.expect_prompt();
    for (setup, body) in [
        ("", "n = 1"),
        (OBJECT_X, "n = 1"),
        ("", "n = x.Test1.Const"),
    ] {
        if !setup.is_empty() {
            p.line(setup);
            p.line("x.Test1.Const");
            p.expect_line("'constant'");
            p.expect_prompt();
        }
        p.interrupt(&format!("while True: {body}"));
        p.line("kept");
        p.expect_line("'still here'");
    }
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Regression: a Ctrl-C that stopped work outside any bus call (a CPU-bound loop, once a bus
/// call had run) was heard by tokio only at its next turn, so the next bus call, however
/// much later, failed at once with KeyboardInterrupt.
#[test]
fn ctrl_c_that_stopped_a_loop_does_not_interrupt_the_next_bus_call() {
    let mut p = Pty::shell();
    p.line(OBJECT_X);
    p.line("x.Test1.Slow(3)");
    p.expect_line("3");
    p.expect_prompt();
    p.interrupt("while True: n = 1");
    p.line("x.Test1.Slow(7)");
    p.expect_line("7");
    p.assert_alive();
    p.exit_with_ctrl_d();
}

/// Issue 12, item 7: SIGTERM, SIGHUP or SIGQUIT at the prompt restore the terminal (and
/// SIGTERM/SIGHUP save the history, as bash does).
#[test]
fn pty_termination_signals_at_the_prompt_restore_the_terminal() {
    termination_signals_restore_the_terminal(None);
}

/// Issue 12, item 7, during work: the same signals while a statement runs (a CPU-bound loop,
/// a sleep) end the shell with the terminal as it was.
#[test]
fn pty_termination_signals_during_work_restore_the_terminal() {
    termination_signals_restore_the_terminal(Some("while True: pass"));
    termination_signals_restore_the_terminal(Some("import time; time.sleep(60)"));
}

/// Start the shell under bash on a pty, optionally start `work`, send each terminating
/// signal, and check the terminal modes and the history left behind.
#[track_caller]
fn termination_signals_restore_the_terminal(work: Option<&str>) {
    for (sig, saves) in [("TERM", true), ("HUP", true), ("QUIT", false)] {
        let home = tempfile::Builder::new()
            .prefix("rustemd-pty-")
            .tempdir()
            .expect("tempdir");
        tools::require("stty", "coreutils");
        let mut cmd = Command::new(tools::require("bash", "bash"));
        cmd.args(["--norc", "--noprofile", "--noediting"])
            .env("PS1", "BASH$ ")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        let mut p = Pty::spawn_cmd(cmd, home);
        p.expect_text("BASH$ ");
        p.line("stty sane; echo READY");
        p.wait_until("READY", WAIT, |v| {
            v.finished_rows().iter().any(|l| l.ends_with("READY"))
        });
        p.expect_text("BASH$ ");
        p.line(&format!(
            "'{BIN}' --address '{}'; echo SHELL-EXIT=$?",
            PrivateBus::shared().address()
        ));
        p.expect_prompt();
        p.line("typed_before_the_signal = 1");
        p.expect_prompt();
        p.line("import os; print('PID', os.getpid())");
        let pid: i32 = p
            .expect_text("PID ")
            .text()
            .lines()
            .find_map(|l| l.strip_prefix("PID "))
            .and_then(|n| n.trim().parse().ok())
            .expect("the shell's pid");
        p.expect_prompt();
        if let Some(w) = work {
            p.line(w);
            // Let the statement start before the signal comes.
            std::thread::sleep(Duration::from_millis(300));
        }
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = p.expect_text("SHELL-EXIT=").text();
        let code = 128
            + match sig {
                "HUP" => 1,
                "QUIT" => 3,
                _ => 15,
            };
        assert!(
            exit.contains(&format!("SHELL-EXIT={code}")),
            "SIG{sig} during {work:?}: {exit}"
        );
        p.expect_text("BASH$ ");
        p.line("stty -a; echo STTY-DONE");
        let out = p.expect_line("STTY-DONE").text();
        let toks = stty_tokens(&out);
        for flag in ["icanon", "echo", "isig"] {
            assert!(
                toks.iter().any(|t| t == flag),
                "SIG{sig}: terminal left with {flag} off:\n{out}"
            );
        }
        let hist = p.home.path().join("state/rustemd-shell/history");
        let text = std::fs::read_to_string(&hist).unwrap_or_default();
        assert_eq!(
            text.contains("typed_before_the_signal"),
            saves,
            "SIG{sig}: history saved? {text:?}"
        );
        p.line("exit");
    }
}

/// Issue 12, item 8: typing (and pasting) 16,000 characters with colour on stays interactive:
/// long lines are not re-highlighted on every key (it took 39 s).
#[test]
fn pty_typing_16000_characters_with_colour_on_stays_interactive() {
    let home = tempfile::Builder::new()
        .prefix("rustemd-pty-")
        .tempdir()
        .expect("tempdir");
    let mut cmd = Command::new(BIN);
    cmd.arg("--color=always")
        .arg("--address")
        .arg(PrivateBus::shared().address());
    let mut p = Pty::spawn_cmd(cmd, home);
    p.expect_text(PROMPT);
    let body = "a".repeat(16_000);
    p.send("x = '");
    for chunk in body.as_bytes().chunks(500) {
        p.send(std::str::from_utf8(chunk).expect("ascii"));
        p.pump();
    }
    p.send("'\r");
    p.expect_prompt();
    p.send(&format!("\x1b[200~y = '{body}'\x1b[201~\r"));
    p.expect_prompt();
    p.line("len(x) + len(y)");
    p.expect_line("32000");
    p.exit_with_ctrl_d();
}

#[test]
fn pty_ctrl_c_ends_monitor_and_watch_back_to_the_prompt() {
    use crate::support::testservice::{ECHO_IFACE, ECHO_NAME, ECHO_PATH};
    let mut p = Pty::shell();
    p.line(&format!("monitor {ECHO_NAME}"));
    p.expect_text("Monitoring bus message stream.");
    // Messages show live, while it runs.
    let deadline = Instant::now() + WAIT;
    loop {
        crate::support::dbus::busctl(&[
            "call", ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo", "s", "live",
        ]);
        p.pump();
        if p.view().0.text().contains("STRING \"live\";") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "monitor showed nothing:\n{}",
            p.since_mark()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    p.send(CTRL_C);
    p.expect_prompt();
    p.assert_alive();
    // watch on an object: Ctrl-C ends it too.
    p.line(&format!("watch {TEST_NAME} {TEST_PATH}"));
    p.expect_text("changes (Ctrl-C ends):");
    p.send(CTRL_C);
    // The view redraws itself in place, so look at the cursor's row for the prompt.
    p.wait_until("the prompt after watch", WAIT, |v| {
        v.cursor_row().trim_end() == PROMPT.trim_end()
    });
    p.line("1+1");
    p.expect_line("2");
    p.exit_with_ctrl_d();
}

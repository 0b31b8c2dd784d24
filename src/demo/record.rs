//! `record FILE`: a demo written by doing it once.
//!
//! While a recording is on, every statement run at the prompt (or read from a script or
//! stdin) is appended to FILE with what it printed as its checkpoints (`#>` lines), in the
//! demo format (`demos/README.md`); `record stop` ends it. The statement that starts the
//! recording and the one that stops it are not recorded. The output is captured as playback
//! captures it ([`Capture`]), so what is recorded is what playback will compare.
//!
//! Why process-wide state: one shell has one prompt, and the prompt loop and the batch runner
//! ask [`around`] for every statement; the `record` command turns it on and off.

use std::io::Write;
use std::sync::Mutex;

use super::capture::Capture;
use crate::lang::demos;
use crate::lang::error::Error;

struct Recorder {
    path: String,
    file: std::fs::File,
    statements: usize,
}

static RECORDING: Mutex<Option<Recorder>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<Recorder>> {
    RECORDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Is a recording on?
pub fn active() -> bool {
    lock().is_some()
}

/// Where the recording goes, and how many statements it has.
pub fn status() -> Option<(String, usize)> {
    lock().as_ref().map(|r| (r.path.clone(), r.statements))
}

/// `bus_explore.rsh` → `Bus explore`.
fn title_of(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("demo")
        .replace(['_', '-'], " ");
    let mut c = stem.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Demo".into(),
    }
}

/// Start recording into a new file `path` (never overwritten).
pub fn start(path: &str, title: Option<&str>) -> Result<(), Error> {
    let mut g = lock();
    if let Some(r) = g.as_ref() {
        return Err(Error::new(format!(
            "already recording into {} (record stop ends it)",
            r.path
        )));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(format!(
                    "{path} exists: record writes a new file, choose another name"
                ))
            } else {
                Error::os(&e, format!("cannot create {path}"))
            }
        })?;
    let title = title.map_or_else(|| title_of(path), str::to_string);
    write!(
        file,
        "# {title}\n# Recorded with `record`: what each statement printed is its checkpoint.\n\
         # Where output changes from run to run (PIDs, job numbers), write ... in its place.\n"
    )
    .map_err(|e| Error::os(&e, format!("cannot write {path}")))?;
    *g = Some(Recorder {
        path: path.to_string(),
        file,
        statements: 0,
    });
    Ok(())
}

/// End the recording: its file and statement count.
pub fn stop() -> Option<(String, usize)> {
    lock().take().map(|r| (r.path, r.statements))
}

/// Run `f`, which runs the statements `src`; while recording, write them and their output.
/// [`around`] in the shape the prompt's hook takes ([`crate::repl::Around`]).
pub fn hook(src: &str, run: &mut dyn FnMut() -> Option<i32>) -> Option<i32> {
    around(src, run)
}

pub fn around<T>(src: &str, f: impl FnOnce() -> T) -> T {
    // `record` itself (its status, its stop) is not part of the demo.
    let first = src.split_whitespace().next().unwrap_or("");
    if !active() || first == "record" || first == "%record" {
        return f();
    }
    let cap = Capture::start(true).ok();
    let r = f();
    let out = cap.map(Capture::finish).unwrap_or_default();
    let mut g = lock();
    // `record stop` ended it: not recorded.
    if let Some(rec) = g.as_mut() {
        let mut text = format!("\n{}\n", src.trim_end());
        for l in demos::output_lines(&String::from_utf8_lossy(&out)) {
            if l.is_empty() {
                text.push_str("#>\n");
            } else {
                text.push_str(&format!("#> {l}\n"));
            }
        }
        match rec.file.write_all(text.as_bytes()) {
            Ok(()) => rec.statements += 1,
            Err(e) => {
                let path = rec.path.clone();
                *g = None;
                eprintln!("error: recording stopped: cannot write {path}: {e}");
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(super::title_of("/tmp/bus_explore.rsh"), "Bus explore");
        assert_eq!(super::title_of("x"), "X");
    }
}

//! The interactive history: where it lives, loading it without delaying the prompt, and
//! writing it without touching anything that is not ours.
//!
//! Why our own instead of rustyline's `FileHistory`: that one reads the file before the first
//! prompt (a 10,000-entry history cost 2-6 ms and 1.2 MiB), follows symbolic links (on exit it
//! chmods and rewrites a link's target), and waits without limit for a file lock another
//! process holds. Here:
//!
//! * Before the prompt the file is only opened: rustyline asks the history's length before
//!   it draws, and is told [`MAX_ENTRIES`] slots, the newest entry in the last (indices count
//!   from the end, as Up walks; the slots before the oldest entry are empty). Where each entry
//!   is, is found on first use (Up, a search, saving this session's lines), in one pass
//!   through a small buffer, and its text read back when shown: no allocation per entry,
//!   nothing kept but offsets. Counting the entries before the prompt cost 0.17 ms for
//!   10,000; a thread of its own to read them cost as much as the reading.
//! * The file is opened with `O_NOFOLLOW` and must belong to us; the directory too. A path
//!   from an empty `HOME` or a relative `XDG_STATE_HOME` is no path at all: history is then
//!   off rather than written into the current directory.
//! * Saving takes a lock file beside the history, waiting at most [`LOCK_WAIT`]; then it
//!   appends this session's lines, or, when the file must be trimmed or repaired, writes a
//!   temporary file and renames it over the old one. Nothing new, nothing written.
//! * A damaged file (invalid UTF-8) is reported once, when it is read: its readable lines
//!   are kept and the file is rewritten clean on exit. One neither read nor added to is left
//!   as it is.
//!
//! The file format is rustyline's (`#V2`, one entry a line, `\n` and `\\` escaped), so a
//! history written by earlier versions reads as before.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustyline::history::{History as RlHistory, SearchDirection, SearchResult};

/// Entries kept (the file is trimmed to this on exit).
pub const MAX_ENTRIES: usize = 10_000;
/// How long saving waits for another process's lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_millis(500);
const HEADER: &str = "#V2";
/// A history file this large is not read (offsets are `u32`).
const MAX_FILE: u64 = u32::MAX as u64;

/// `$XDG_STATE_HOME/rustemd-shell/history`, or `$HOME/.local/state/rustemd-shell/history`;
/// `None` when neither names an absolute directory.
pub fn path() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| {
        let p = PathBuf::from(v);
        p.is_absolute().then_some(p)
    };
    let base = std::env::var_os("XDG_STATE_HOME")
        .and_then(abs)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(abs)
                .map(|h| h.join(".local/state"))
        })?;
    Some(base.join("rustemd-shell").join("history"))
}

/// Entries in one buffer: entry `i` is `buf[spans[i].0..spans[i].1]`. The buffer is the file's
/// text itself (read once, not copied); an entry that needed unescaping, and this session's,
/// are appended to it.
/// Offsets are `u32` (half the memory): a history file of 4 GiB or more is not read.
#[derive(Default, Debug)]
struct Store {
    buf: String,
    spans: Vec<(u32, u32)>,
}

/// An offset into a [`Store`]'s buffer or the history file, which never reach 4 GiB (see
/// [`MAX_FILE`]).
fn off(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Store {
    fn len(&self) -> usize {
        self.spans.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        let &(start, end) = self.spans.get(i)?;
        self.buf.get(start as usize..end as usize)
    }
    fn push(&mut self, s: &str) {
        let start = off(self.buf.len());
        self.buf.push_str(s);
        self.spans.push((start, off(self.buf.len())));
    }
    /// Keep only the last `n` entries.
    fn keep_last(&mut self, n: usize) {
        let drop = self.len().saturating_sub(n);
        self.spans.drain(..drop);
    }
}

/// The file's entries, without their text. Nothing is read before the prompt: the file is
/// opened and its size taken, and rustyline is told there are [`MAX_ENTRIES`] slots, the
/// newest entry in the last one (indices count from the end, as Up walks). Where each entry
/// is, is found on first use (Up, a search, saving this session's lines), its text read back
/// (`pread`) when asked for; slots before the oldest entry are empty.
#[derive(Default, Debug)]
struct Index {
    /// The file as it was opened: another shell that saves since renames a new file over
    /// it, so this one stays as it was (one that truncates it makes reads come up short, and
    /// those entries are left out).
    file: Option<File>,
    /// The bytes that are ours: entries another shell appends later are not.
    size: u64,
    /// What one pass over those bytes found: on first use.
    seen: OnceCell<Seen>,
}

/// The file's entries, found on first use.
#[derive(Default, Debug)]
struct Seen {
    /// Byte ranges of the last [`MAX_ENTRIES`] entries, escaped as in the file.
    spans: Vec<(u32, u32)>,
    /// `#V2` format: `\n` and `\\` escaped.
    v2: bool,
    /// The first line that is not UTF-8, if any (1-based).
    bad: Option<usize>,
    /// More than [`MAX_ENTRIES`] entries.
    long: bool,
}

impl Index {
    /// Slots rustyline sees: none for an empty file or none at all.
    fn slots(&self) -> usize {
        if self.file.is_some() && self.size > 0 {
            MAX_ENTRIES
        } else {
            0
        }
    }

    fn seen(&self) -> &Seen {
        self.seen.get_or_init(|| {
            let mut spans = Vec::new();
            let Some(f) = &self.file else {
                return Seen::default();
            };
            // A read that fails now (the disk, a truncation) finds fewer entries; the
            // missing ones read as nothing.
            let scanned = scan(f, self.size, |at, len| {
                spans.push((off(at as usize), off(at as usize + len)));
            });
            let long = spans.len() > MAX_ENTRIES;
            spans.drain(..spans.len().saturating_sub(MAX_ENTRIES));
            let (v2, bad) = scanned.map_or((false, None), |s| (s.v2, s.bad));
            Seen {
                spans,
                v2,
                bad,
                long,
            }
        })
    }

    /// The first slot that holds an entry (`slots()` when none does).
    fn first(&self) -> usize {
        match self.slots() {
            0 => 0,
            n => n - self.seen().spans.len().min(n),
        }
    }

    /// Entries found (at most [`MAX_ENTRIES`]).
    fn count(&self) -> usize {
        self.seen().spans.len()
    }

    fn get(&self, slot: usize) -> Option<String> {
        use std::os::unix::fs::FileExt;
        let seen = self.seen();
        let (start, end) = *seen.spans.get(slot.checked_sub(self.first())?)?;
        let mut raw = vec![0; (end - start) as usize];
        self.file
            .as_ref()?
            .read_exact_at(&mut raw, start.into())
            .ok()?;
        let line = String::from_utf8(raw).ok()?;
        if seen.v2 && line.contains('\\') {
            // A bad escape (not written by us) is shown as it is.
            return Some(unescape(&line).unwrap_or(line));
        }
        Some(line)
    }

    /// The file must be rewritten on exit: damaged, or longer than [`MAX_ENTRIES`].
    fn needs_rewrite(&self) -> bool {
        self.seen.get().is_some_and(|s| s.bad.is_some() || s.long)
    }
}

/// What one pass over a history file saw.
struct Scanned {
    /// It starts with the `#V2` header.
    v2: bool,
    /// The first line that is not UTF-8, if any (1-based).
    bad: Option<usize>,
}

/// Every entry of the first `size` bytes of `f` (a non-empty UTF-8 line after the `#V2`
/// header), in order, as (offset, length), read with `pread` (the file's position is left
/// alone, so a second pass sees the same).
fn scan(f: &File, size: u64, mut entry: impl FnMut(u64, usize)) -> std::io::Result<Scanned> {
    use std::os::unix::fs::FileExt;
    let mut seen = Scanned {
        v2: false,
        bad: None,
    };
    // Small: its pages are new memory, which in a virtual machine costs more than more reads.
    let mut buf = vec![0u8; 16 * 1024];
    let (mut filled, mut base, mut lineno) = (0usize, 0u64, 0usize);
    let mut eof = false;
    while !eof {
        let want = (buf.len() - filled).min((size - base - filled as u64) as usize);
        let n = if want == 0 {
            0
        } else {
            f.read_at(&mut buf[filled..filled + want], base + filled as u64)?
        };
        filled += n;
        eof = n == 0;
        // Complete lines only; the rest waits for the next read (at the end: the last line).
        let cut = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(i) => i + 1,
                None if filled == buf.len() => {
                    buf.resize(buf.len() * 2, 0);
                    continue;
                }
                None => continue,
            }
        };
        let region = &buf[..cut];
        let all_text = std::str::from_utf8(region).is_ok();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', region)
            .chain((eof && cut > 0 && region[cut - 1] != b'\n').then_some(cut));
        for end in ends {
            let line = &region[start..end];
            let at = base + start as u64;
            start = end + 1;
            lineno += 1;
            if at == 0 && line == HEADER.as_bytes() {
                seen.v2 = true;
                continue;
            }
            if line.is_empty() {
                continue;
            }
            if !all_text && std::str::from_utf8(line).is_err() {
                seen.bad.get_or_insert(lineno);
                continue;
            }
            entry(at, line.len());
        }
        buf.copy_within(cut..filled, 0);
        filled -= cut;
        base += cut as u64;
    }
    Ok(seen)
}

/// What reading the file gave.
#[derive(Default, Debug)]
struct Loaded {
    index: Index,
    /// The file was there when we opened it.
    existed: bool,
    /// Why the file is not used, if it is not.
    refused: Option<String>,
}

/// Open `p` for reading if it is a regular file of ours, not a symbolic link.
fn open_ours(p: &Path) -> std::io::Result<Option<File>> {
    let f = match OpenOptions::new()
        .read(true)
        .custom_flags(libc_o_nofollow())
        .open(p)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
            return Err(std::io::Error::other("it is a symbolic link"));
        }
        Err(e) => return Err(e),
    };
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "it belongs to uid {}, not to us",
            m.uid()
        )));
    }
    Ok(Some(f))
}

fn libc_o_nofollow() -> i32 {
    nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC
}

/// The entries of a whole file's bytes (when it is rewritten on exit).
fn parse(bytes: Vec<u8>) -> Store {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        // Damaged: keep the lines that are text.
        Err(e) => return parse_damaged(e.as_bytes()),
    };
    let bytes = text.as_bytes();
    // memchr (SIMD): the newlines, and whether any line has an escape at all.
    let mut store = Store {
        buf: String::new(),
        spans: Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1),
    };
    let any_escape = memchr::memchr(b'\\', bytes).is_some();
    let mut escaped: Vec<(usize, String)> = Vec::new();
    let mut v2 = false;
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (n, end) in ends.enumerate() {
        let line = &text[start..end];
        let at = start;
        start = end + 1;
        if n == 0 && line == HEADER {
            v2 = true;
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if !v2 || !any_escape || memchr::memchr(b'\\', line.as_bytes()).is_none() {
            store.spans.push((off(at), off(end)));
            continue;
        }
        match unescape(line) {
            // Filled in below, once the text is the store's buffer.
            Some(e) => {
                escaped.push((store.spans.len(), e));
                store.spans.push((0, 0));
            }
            // A bad escape (not written by us) is kept as written.
            None => store.spans.push((off(at), off(end))),
        }
    }
    store.buf = text;
    for (i, e) in escaped {
        let start = store.buf.len();
        store.buf.push_str(&e);
        store.spans[i] = (off(start), off(store.buf.len()));
    }
    store
}

/// A file that is not all UTF-8: every line that is, in order.
fn parse_damaged(bytes: &[u8]) -> Store {
    let mut text = Vec::with_capacity(bytes.len());
    for raw in bytes.split(|b| *b == b'\n') {
        if std::str::from_utf8(raw).is_ok() {
            text.extend_from_slice(raw);
            text.push(b'\n');
        }
    }
    parse(text)
}

fn unescape(line: &str) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            '\\' => out.push('\\'),
            _ => return None,
        }
    }
    Some(out)
}

fn escape(entry: &str, out: &mut Vec<u8>) {
    for b in entry.bytes() {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b => out.push(b),
        }
    }
    out.push(b'\n');
}

fn load(p: &Path) -> Loaded {
    let opened = open_ours(p).and_then(|f| match f {
        Some(f) => {
            let size = f.metadata()?.len();
            if size >= MAX_FILE {
                return Err(std::io::Error::other("it is 4 GiB or more"));
            }
            Ok(Some((f, size)))
        }
        None => Ok(None),
    });
    match opened {
        Ok(None) => Loaded::default(),
        Ok(Some((f, size))) => Loaded {
            index: Index {
                file: Some(f),
                size,
                seen: OnceCell::new(),
            },
            existed: true,
            refused: None,
        },
        Err(e) => Loaded {
            refused: Some(format!(
                "warning: history off: {} is not used ({e})",
                p.display()
            )),
            ..Loaded::default()
        },
    }
}

/// The prompt's history (rustyline's `History`), backed by the file at [`path`].
pub struct History {
    path: Option<PathBuf>,
    loaded: OnceCell<Loaded>,
    /// This session's entries.
    new: Store,
    ignore_dups: bool,
    ignore_space: bool,
    max_len: usize,
    /// The refusal, then the damage, was told.
    told: (bool, bool),
}

impl History {
    /// History backed by `path` (none: in memory only).
    pub fn new(path: Option<PathBuf>) -> Self {
        History {
            path,
            loaded: OnceCell::new(),
            new: Store::default(),
            ignore_dups: true,
            ignore_space: false,
            max_len: MAX_ENTRIES,
            told: (false, false),
        }
    }

    fn base(&self) -> &Loaded {
        self.loaded
            .get_or_init(|| self.path.as_deref().map(load).unwrap_or_default())
    }

    /// What to tell the person about the file, each thing once: that it is not used (known
    /// when it is opened, before the first prompt), that it is damaged (known once it is
    /// read: Up, a search, saving). Call it in cooked mode, before each prompt and after
    /// saving.
    pub fn warning(&mut self) -> Option<String> {
        let base = self.base();
        if !self.told.0 && base.refused.is_some() {
            let w = base.refused.clone();
            self.told.0 = true;
            return w;
        }
        let bad = base.index.seen.get().and_then(|s| s.bad);
        if self.told.1 || bad.is_none() {
            return None;
        }
        self.told.1 = true;
        bad.map(|n| {
            format!(
                "warning: the history file {} is damaged (line {n}: invalid UTF-8); its \
                 readable lines are kept and the file is rewritten on exit",
                self.path.as_deref().unwrap_or(Path::new("")).display()
            )
        })
    }

    fn entry(&self, i: usize) -> Option<Cow<'_, str>> {
        let base = &self.base().index;
        match i.checked_sub(base.slots()) {
            None => base.get(i).map(Cow::Owned),
            Some(i) => self.new.get(i).map(Cow::Borrowed),
        }
    }

    fn ignore(&self, line: &str) -> bool {
        self.max_len == 0
            || line.is_empty()
            || (self.ignore_space && line.starts_with(char::is_whitespace))
            || (self.ignore_dups
                && self
                    .len()
                    .checked_sub(1)
                    .and_then(|i| self.entry(i))
                    .as_deref()
                    == Some(line))
    }

    fn search_with(
        &self,
        term: &str,
        start: usize,
        dir: SearchDirection,
        test: impl Fn(&str) -> Option<usize>,
    ) -> Option<SearchResult<'_>> {
        if term.is_empty() || start >= self.len() {
            return None;
        }
        let hit = |idx: usize| {
            let e = self.entry(idx)?;
            test(&e).map(|pos| SearchResult { entry: e, idx, pos })
        };
        // Slots before the oldest entry are empty.
        let first = self.base().index.first();
        match dir {
            SearchDirection::Reverse => (first..=start).rev().find_map(hit),
            SearchDirection::Forward => (start.max(first)..self.len()).find_map(hit),
        }
    }

    /// Write this session's entries (and repair or trim the file when needed).
    pub fn save(&mut self) -> Result<(), String> {
        let Some(p) = self.path.clone() else {
            return Ok(());
        };
        let base = self.base();
        if self.new.len() == 0 && !base.index.needs_rewrite() {
            return Ok(());
        }
        // Whether appending is enough (the file sound, not too long) is known once it is read.
        let _ = base.index.seen();
        let shown = p.display().to_string();
        save_to(&p, base, &self.new).map_err(|e| format!("history not saved to {shown}: {e}"))
    }
}

/// The directory of the history, created private if missing; it must be ours.
fn ours_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let m = std::fs::metadata(dir)?;
    if m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} belongs to uid {}, not to us",
            dir.display(),
            m.uid()
        )));
    }
    Ok(())
}

/// Take the lock beside the history, waiting at most [`LOCK_WAIT`].
fn lock(dir: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc_o_nofollow())
        .open(dir.join("history.lock"))?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; no memory is involved.
        let r = unsafe { nix::libc::flock(f.as_raw_fd(), nix::libc::LOCK_EX | nix::libc::LOCK_NB) };
        if r == 0 {
            return Ok(f);
        }
        if Instant::now() >= deadline {
            return Err(std::io::Error::other(
                "another process holds its lock (history.lock)",
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn save_to(p: &Path, base: &Loaded, new: &Store) -> std::io::Result<()> {
    let dir = p.parent().unwrap_or(Path::new("/"));
    ours_dir(dir)?;
    let _lock = lock(dir)?;
    let mut text = Vec::new();
    let sound = open_ours(p)?.is_some() && base.existed && !base.index.needs_rewrite();
    if sound && base.index.count() + new.len() <= MAX_ENTRIES + MAX_ENTRIES / 10 {
        // Appending is enough: the file is sound and not too long (another shell may have
        // added to it meanwhile; ours go after its).
        for i in 0..new.len() {
            escape(new.get(i).unwrap_or_default(), &mut text);
        }
        let mut a = OpenOptions::new()
            .append(true)
            .custom_flags(libc_o_nofollow())
            .open(p)?;
        return a.write_all(&text);
    }
    // Rewrite: what the file holds now (repaired), then ours, the last MAX_ENTRIES.
    let mut all = match open_ours(p)? {
        Some(mut f) => {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            parse(bytes)
        }
        None => Store::default(),
    };
    for i in 0..new.len() {
        all.push(new.get(i).unwrap_or_default());
    }
    all.keep_last(MAX_ENTRIES);
    text.extend_from_slice(HEADER.as_bytes());
    text.push(b'\n');
    for i in 0..all.len() {
        escape(all.get(i).unwrap_or_default(), &mut text);
    }
    let tmp = dir.join(format!("history.tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc_o_nofollow())
        .open(&tmp)?;
    let written = f.write_all(&text).and_then(|()| std::fs::rename(&tmp, p));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

impl RlHistory for History {
    fn get(
        &self,
        index: usize,
        dir: SearchDirection,
    ) -> rustyline::Result<Option<SearchResult<'_>>> {
        // Before the oldest entry (slots are empty there), forward means the oldest: the first
        // entry (Alt-<) is asked for at 0.
        let index = match dir {
            SearchDirection::Forward => index.max(self.base().index.first()),
            SearchDirection::Reverse => index,
        };
        Ok(self.entry(index).map(|entry| SearchResult {
            entry,
            idx: index,
            pos: 0,
        }))
    }

    fn add(&mut self, line: &str) -> rustyline::Result<bool> {
        if self.ignore(line) {
            return Ok(false);
        }
        self.new.push(line);
        Ok(true)
    }

    fn add_owned(&mut self, line: String) -> rustyline::Result<bool> {
        self.add(&line)
    }

    fn len(&self) -> usize {
        self.base().index.slots() + self.new.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_max_len(&mut self, len: usize) -> rustyline::Result<()> {
        self.max_len = len;
        Ok(())
    }

    fn ignore_dups(&mut self, yes: bool) -> rustyline::Result<()> {
        self.ignore_dups = yes;
        Ok(())
    }

    fn ignore_space(&mut self, yes: bool) {
        self.ignore_space = yes;
    }

    fn save(&mut self, _: &Path) -> rustyline::Result<()> {
        Ok(())
    }

    fn append(&mut self, _: &Path) -> rustyline::Result<()> {
        Ok(())
    }

    fn load(&mut self, _: &Path) -> rustyline::Result<()> {
        Ok(())
    }

    fn clear(&mut self) -> rustyline::Result<()> {
        self.new = Store::default();
        let _ = self.base();
        if let Some(l) = self.loaded.get_mut() {
            l.index = Index::default();
        }
        Ok(())
    }

    fn search(
        &self,
        term: &str,
        start: usize,
        dir: SearchDirection,
    ) -> rustyline::Result<Option<SearchResult<'_>>> {
        Ok(self.search_with(term, start, dir, |e| e.find(term)))
    }

    fn starts_with(
        &self,
        term: &str,
        start: usize,
        dir: SearchDirection,
    ) -> rustyline::Result<Option<SearchResult<'_>>> {
        Ok(self.search_with(term, start, dir, |e| {
            e.starts_with(term).then_some(term.len())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    fn session(p: &Path, lines: &[&str]) -> Result<(), String> {
        let mut h = History::new(Some(p.to_path_buf()));
        for l in lines {
            h.add(l).unwrap();
        }
        h.save()
    }

    /// The entries as Up walks them (from the newest until there is none), oldest first.
    fn entries(p: &Path) -> Vec<String> {
        let h = History::new(Some(p.to_path_buf()));
        let mut out = Vec::new();
        for i in (0..h.len()).rev() {
            match h.get(i, SearchDirection::Reverse).unwrap() {
                Some(r) => out.push(r.entry.into_owned()),
                None => break,
            }
        }
        out.reverse();
        out
    }

    #[test]
    fn round_trip_with_newlines_backslashes_and_dups() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s/rustemd-shell/history");
        session(&p, &["a", "a", "multi\nline", "back\\slash"]).unwrap();
        session(&p, &["b"]).unwrap();
        assert_eq!(entries(&p), ["a", "multi\nline", "back\\slash", "b"]);
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        let dir = std::fs::metadata(p.parent().unwrap()).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        // Search as rustyline asks: indices count from the newest, in the last slot.
        let h = History::new(Some(p.clone()));
        let last = h.len() - 1;
        let r = h
            .search("line", last, SearchDirection::Reverse)
            .unwrap()
            .unwrap();
        assert_eq!((r.idx, r.pos), (last - 2, 6));
        let r = h
            .starts_with("b", 0, SearchDirection::Forward)
            .unwrap()
            .unwrap();
        assert_eq!(r.idx, last - 1);
        assert!(
            h.search("zzz", last, SearchDirection::Reverse)
                .unwrap()
                .is_none()
        );
        // The first entry (Alt-<) is asked for at 0; the slots before it are empty.
        let r = h.get(0, SearchDirection::Forward).unwrap().unwrap();
        assert_eq!((r.entry.as_ref(), r.idx), ("a", last - 3));
        assert!(h.get(last - 4, SearchDirection::Reverse).unwrap().is_none());
    }

    #[test]
    fn history_is_not_read_before_first_use() {
        // Issue 11: the prompt waits for nothing but opening the file.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        session(&p, &["one", "two"]).unwrap();
        let mut h = History::new(Some(p.clone()));
        assert_eq!(h.len(), MAX_ENTRIES);
        assert!(h.warning().is_none());
        assert!(h.base().index.seen.get().is_none(), "read before first use");
        // Up reads it.
        let r = h.get(h.len() - 1, SearchDirection::Reverse).unwrap();
        assert_eq!(r.unwrap().entry, "two");
        assert!(h.base().index.seen.get().is_some());
        // This session's entries come after the slots; a duplicate of the last is not added.
        assert!(!h.add("two").unwrap());
        h.add("three").unwrap();
        assert_eq!(h.len(), MAX_ENTRIES + 1);
        let r = h.get(MAX_ENTRIES, SearchDirection::Reverse).unwrap();
        assert_eq!(r.unwrap().entry, "three");
        // An empty file has no slots; no file neither.
        std::fs::write(&p, "").unwrap();
        assert!(History::new(Some(p.clone())).is_empty());
        assert!(History::new(Some(d.path().join("none"))).is_empty());
    }

    #[test]
    fn history_is_trimmed_to_its_size() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        let many: Vec<String> = (0..MAX_ENTRIES + 3000).map(|i| format!("x{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        session(&p, &refs).unwrap();
        let e = entries(&p);
        assert_eq!(e.len(), MAX_ENTRIES);
        assert_eq!(e.last().unwrap(), &format!("x{}", MAX_ENTRIES + 2999));
    }

    #[test]
    fn history_symlink_is_not_followed() {
        // Regression (issue 12, item 11): on exit the link's target was chmodded and rewritten.
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, "precious\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let p = d.path().join("history");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        let mut h = History::new(Some(p.clone()));
        assert!(h.warning().unwrap().contains("symbolic link"));
        h.add("secret").unwrap();
        let e = h.save().unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        let m = std::fs::metadata(&target).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o644);
    }

    #[test]
    fn history_not_owned_by_us_is_refused() {
        // Regression (issue 12, item 11).
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        std::fs::write(&p, "theirs\n").unwrap();
        nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
        let mut h = History::new(Some(p.clone()));
        assert!(h.warning().unwrap().contains("uid 4242"));
        assert_eq!(h.len(), 0);
        h.add("mine").unwrap();
        assert!(h.save().is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "theirs\n");
    }

    #[test]
    fn history_locked_by_another_process_does_not_hang_save() {
        // Regression (issue 12, item 8): a lock held elsewhere hung start and exit. Loading
        // takes no lock; saving gives up after LOCK_WAIT (were it to wait for ever, this test
        // would hang).
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        session(&p, &["first"]).unwrap();
        // Another process holds the lock (and the history file itself, as rustyline did).
        let mut child = std::process::Command::new("flock")
            .arg(d.path().join("history.lock"))
            .args([
                "flock",
                p.to_str().unwrap(),
                "sh",
                "-c",
                "echo locked; sleep 30",
            ])
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("flock (Debian package util-linux)");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "locked\n");
        assert_eq!(entries(&p), ["first"]);
        let e = session(&p, &["second"]).unwrap_err();
        assert!(e.contains("lock"), "{e}");
        // The lock goes with the whole group (flock, flock, sh, sleep).
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        session(&p, &["third"]).unwrap();
        assert_eq!(entries(&p), ["first", "third"]);
    }

    #[test]
    fn corrupt_history_is_reported_once() {
        // Regression (issue 12, item 11): a damaged file was silently ignored for ever.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        std::fs::write(&p, b"#V2\ngood\n\xff\xfe\nbad\\q\nalso good\n").unwrap();
        // Known once read (Up here), told once.
        let mut h = History::new(Some(p.clone()));
        assert!(h.warning().is_none());
        let r = h.get(h.len() - 1, SearchDirection::Reverse).unwrap();
        assert_eq!(r.unwrap().entry, "also good");
        let w = h.warning().unwrap();
        assert!(w.contains("damaged (line 3: invalid UTF-8)"), "{w}");
        assert!(h.warning().is_none());
        h.save().unwrap();
        let mut again = History::new(Some(p.clone()));
        let _ = again.get(again.len() - 1, SearchDirection::Reverse);
        assert!(again.warning().is_none());
        // A bad escape is not ours to judge: kept as written.
        assert_eq!(entries(&p), ["good", "bad\\q", "also good"]);
    }

    #[test]
    fn corrupt_history_unread_is_found_when_lines_are_saved() {
        // Saving reads the file to know whether appending is enough: a damaged one is
        // repaired then, and told; one neither read nor added to is left as it is.
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history");
        let damaged = b"#V2\ngood\n\xff\n";
        std::fs::write(&p, damaged).unwrap();
        let mut h = History::new(Some(p.clone()));
        h.save().unwrap();
        assert!(h.warning().is_none());
        assert_eq!(std::fs::read(&p).unwrap(), damaged);
        let mut h = History::new(Some(p.clone()));
        h.add("new").unwrap();
        h.save().unwrap();
        assert!(h.warning().unwrap().contains("line 3"));
        assert_eq!(std::fs::read(&p).unwrap(), b"#V2\ngood\nnew\n");
    }

    #[test]
    fn empty_home_or_relative_state_dir_means_no_history() {
        // Regression (issue 12, item 11): history was written into the current directory.
        // SAFETY: this test alone touches these variables, and restores them.
        let saved = (std::env::var_os("HOME"), std::env::var_os("XDG_STATE_HOME"));
        unsafe {
            std::env::set_var("HOME", "");
            std::env::set_var("XDG_STATE_HOME", "relative/dir");
        }
        let none = path();
        unsafe {
            std::env::set_var("HOME", "/home/x");
        }
        let home = path();
        unsafe {
            std::env::set_var("XDG_STATE_HOME", "/state");
        }
        let state = path();
        unsafe {
            match saved.0 {
                Some(v) => std::env::set_var("HOME", v),
                None => std::env::remove_var("HOME"),
            }
            match saved.1 {
                Some(v) => std::env::set_var("XDG_STATE_HOME", v),
                None => std::env::remove_var("XDG_STATE_HOME"),
            }
        }
        assert_eq!(none, None);
        assert_eq!(
            home,
            Some(PathBuf::from("/home/x/.local/state/rustemd-shell/history"))
        );
        assert_eq!(state, Some(PathBuf::from("/state/rustemd-shell/history")));
    }
}

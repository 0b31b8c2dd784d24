//! Where the interactive history lives, and writing it privately.

use std::path::{Path, PathBuf};

use rustyline::history::FileHistory;

/// `$XDG_STATE_HOME/rustemd-shell/history`, or `~/.local/state/rustemd-shell/history`.
pub fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("rustemd-shell").join("history"))
}

/// Append this session's lines, creating the file private (0600) first.
pub fn save<H: rustyline::Helper>(ed: &mut rustyline::Editor<H, FileHistory>, h: &Path) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = h.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Create it private before rustyline writes; tighten an existing file too.
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(h);
    let _ = std::fs::set_permissions(h, std::fs::Permissions::from_mode(0o600));
    let _ = ed.append_history(h);
}

//! The programs the tests run, and what to install when one is missing. A missing tool fails
//! the test that needs it, saying what to install: tests never pass by skipping.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where `program` is: itself when it is a path, else the first match on `PATH`. `None` when
/// there is no such executable file.
pub fn find(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let path = Path::new(program);
    if path.components().count() > 1 {
        return executable(path).then(|| path.to_path_buf());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|d| d.join(program))
        .find(|p| executable(p))
}

/// Why `program` cannot be used, and which Debian package brings it.
pub fn missing(program: &str, package: &str) -> String {
    format!(
        "{program} is not installed, and the tests need it (they never skip): install the \
         Debian package `{package}` (apt-get install {package}), or run scripts/test as root, \
         which installs what is missing"
    )
}

/// The path of `program`; panics, saying to install `package`, when it is missing.
#[track_caller]
pub fn require(program: &str, package: &str) -> PathBuf {
    find(program).unwrap_or_else(|| panic!("{}", missing(program, package)))
}

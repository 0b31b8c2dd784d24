//! Embeds at build time what the binary shows about itself: the demo scripts of `demos/`
//! (`demos`, `demo NAME`, `ppcode NAME`) and the Rust source of the builtins
//! (`src/lang/builtins/*.rs`, for `ppcode print`); and links the binary for a fast start.
//!
//! Why the link options (measured with `perf stat` on one-shot `get-property` in the sandbox;
//! `scripts/bench` shows the effect): a one-shot call is a whole process, and a tenth of it went
//! to the dynamic loader, not to us.
//! - Not position-independent (`-no-pie`): as a PIE, the loader applied 11,858 relocations
//!   (vtables, panic locations, static tables) at every start and so wrote to all 57 pages of
//!   `.data.rel.ro` (57 copy-on-write faults): 0.13 ms of a 1.7 ms call. Linked at a fixed
//!   address those pages are read-only, shared from the page cache. The cost: our own code is
//!   not address-randomized (libraries, stack and heap still are); the shell is safe Rust, its
//!   parsers without `unsafe`. `RUSTEMD_PIE=1` builds a PIE for who prefers it.
//! - The unwinder linked in statically (`libgcc_eh.a`, as `-static-libgcc` does for C++) instead
//!   of `libgcc_s.so`: one library fewer to map, and no `__cpu_indicator_init` at load, whose
//!   `cpuid` instructions each trap to the hypervisor on a VM (3% of a one-shot process).

use std::fmt::Write as _;
use std::path::Path;

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(ext) && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The link options above, for the binary and the benchmark's examples (so that the bare
/// rustyline program it compares our start-up with is linked the same way).
fn link_options() {
    println!("cargo::rerun-if-env-changed=RUSTEMD_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" || std::env::var_os("RUSTEMD_PIE").is_some_and(|v| v == "1") {
        return;
    }
    for kind in ["bins", "examples"] {
        println!("cargo::rustc-link-arg-{kind}=-no-pie");
    }
    // Where the C compiler keeps it; without it (another toolchain), libgcc_s stays.
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let Some(eh) = std::process::Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|p| std::path::PathBuf::from(p.trim()))
        .filter(|p| p.is_absolute() && p.exists())
    else {
        return;
    };
    if let Some(dir) = eh.parent() {
        println!("cargo::rustc-link-search=native={}", dir.display());
        // Ahead of std's `-lgcc_s` on the link line: the unwinder's symbols resolve here,
        // and `--as-needed` then drops libgcc_s.so.
        println!("cargo::rustc-link-lib=static:-bundle,+verbatim=libgcc_eh.a");
    }
}

fn main() {
    link_options();
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let out_dir = Path::new(&out_dir);

    let demos = root.join("demos");
    println!("cargo::rerun-if-changed={}", demos.display());
    let names = files(&demos, ".rsh");
    let mut text = String::from("/// The demos' names, sorted.\npub static NAMES: &[&str] = &[\n");
    for f in &names {
        let _ = writeln!(text, "    {:?},", f.trim_end_matches(".rsh"));
    }
    text.push_str("];\n\n/// (name, path, text) of every demo, by name.\n");
    text.push_str("pub static DEMOS: &[(&str, &str, &str)] = &[\n");
    for f in names {
        let name = f.trim_end_matches(".rsh");
        let full = demos.join(&f);
        println!("cargo::rerun-if-changed={}", full.display());
        let _ = writeln!(
            text,
            "    ({name:?}, \"demos/{f}\", include_str!({:?})),",
            full.display().to_string()
        );
    }
    text.push_str("];\n");
    std::fs::write(out_dir.join("embedded_demos.rs"), text).expect("write embedded_demos.rs");

    let builtins = root.join("src/lang/builtins");
    println!("cargo::rerun-if-changed={}", builtins.display());
    let mut text = String::from("/// (path, text) of the builtins' Rust source files.\n");
    text.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for f in files(&builtins, ".rs") {
        let full = builtins.join(&f);
        println!("cargo::rerun-if-changed={}", full.display());
        let _ = writeln!(
            text,
            "    (\"src/lang/builtins/{f}\", include_str!({:?})),",
            full.display().to_string()
        );
    }
    text.push_str("];\n");
    std::fs::write(out_dir.join("embedded_sources.rs"), text).expect("write embedded_sources.rs");
}

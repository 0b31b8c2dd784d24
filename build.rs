//! Embeds at build time what the binary shows about itself: the demo scripts of `demos/`
//! (`demos`, `demo NAME`, `ppcode NAME`) and the Rust source of the builtins
//! (`src/lang/builtins/*.rs`, for `ppcode print`).

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

fn main() {
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

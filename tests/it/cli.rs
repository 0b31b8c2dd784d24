//! The program's command line and the house rules: options parsed once for argv and prompt
//! lines, typed control flow, exit statuses, broken pipes, completion scripts, the man page,
//! the pager, and the layering of `src/`. Regression tests are named after the bug.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::dbus::PrivateBus;
use crate::support::shell::{BIN, Shell};
use crate::support::testservice::{TEST_IFACE, TEST_NAME, TEST_PATH};

fn addr() -> &'static str {
    PrivateBus::shared().address()
}

fn shell() -> Shell {
    Shell::new().address(addr())
}

#[test]
fn short_option_before_the_service_is_an_option_not_the_service() {
    // `call -q …` used to take `-q` as the service name.
    shell()
        .args(&["call", "-q", TEST_NAME, TEST_PATH, TEST_IFACE, "Multiple"])
        .run()
        .success()
        .stdout_is("");
    shell()
        .input(&format!(
            "call -q {TEST_NAME} {TEST_PATH} {TEST_IFACE} Multiple\nprint(_[0])\n"
        ))
        .run()
        .success()
        .stdout_is("multi\n");
    shell()
        .args(&["call", "-x", TEST_NAME, TEST_PATH, TEST_IFACE, "Multiple"])
        .run()
        .failure()
        .stderr_has("unknown option '-x'");
}

#[test]
fn timeout_values_that_used_to_panic_are_usage_errors() {
    for bad in [
        "--timeout=inf",
        "--timeout=1e300",
        "--timeout=-5",
        "--timeout=1e20",
    ] {
        let r = shell().args(&[bad, "-c", "print(1)"]).run();
        r.no_panic().stderr_has("--timeout");
        assert_eq!(r.code, Some(2), "{bad}: {r:?}");
    }
    shell()
        .args(&["--timeout=infinity", "-c", "print(1)"])
        .run()
        .success()
        .stdout_is("1\n");
    // Per command line too, at the prompt, in systemd's time-span syntax.
    shell()
        .input(&format!(
            "call --timeout=200ms {TEST_NAME} {TEST_PATH} {TEST_IFACE} Slow u 5000\nprint('on')\n"
        ))
        .run()
        .failure()
        .stderr_has("no reply from org.rustemd.Test within 0.2 s")
        .stdout_is("on\n");
}

#[test]
fn c_statements_are_not_dropped_when_arguments_follow() {
    shell()
        .args(&["-c", "print(1); print(sys.argv)", "list", "x"])
        .run()
        .success()
        .stdout_is("1\n['-c', 'list', 'x']\n");
}

#[test]
fn dash_dash_and_verb_help_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.rsh");
    std::fs::write(&f, "print(2 + 2)\n").unwrap();
    shell()
        .args(&["--", f.to_str().unwrap()])
        .run()
        .success()
        .stdout_is("4\n");
    let r = shell().args(&["call", "--help"]).run();
    r.success()
        .stdout_has("usage: call [OPTIONS] SERVICE PATH INTERFACE METHOD [SIGNATURE [ARGUMENT...]]")
        .stdout_has("-q, --quiet");
    shell()
        .input("tree --help\n")
        .run()
        .success()
        .stdout_has("usage: tree [OPTIONS] [SERVICE...]");
}

#[test]
fn help_names_every_option_and_verb_and_the_exit_statuses() {
    let r = Shell::new().args(&["--help"]).run();
    r.success()
        .stdout_has("--address=ADDRESS")
        .stdout_has("--color=WHEN")
        .stdout_has("completions")
        .stdout_has("130");
    Shell::new().args(&["--bogus"]).run().failure();
    assert_eq!(Shell::new().args(&["--bogus"]).run().code, Some(2));
}

#[test]
fn broken_pipe_ends_quietly_with_success() {
    // `rustemd-shell FILE | head -1` used to print "Broken pipe" per statement and exit 1.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("many.rsh");
    let src: String = (0..2000)
        .map(|i| format!("print('line {i}' * 20)\n"))
        .collect();
    std::fs::write(&f, src).unwrap();
    let mut child = Command::new(BIN)
        .arg(&f)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        !err.contains("Broken pipe") && !err.contains("broken pipe"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_in_a_script_is_reported_with_line_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.rsh");
    std::fs::write(&f, b"print(1)\nprint('\xff')\nprint(3)\n").unwrap();
    let r = Shell::new().args(&[f.to_str().unwrap()]).run();
    r.failure()
        .no_panic()
        .stdout_is("1\n")
        .stderr_has("line 2: invalid UTF-8 at byte 8");
    let r = Shell::new().input_bytes(b"print(1)\n\xc3\x28\n").run();
    r.failure()
        .stderr_has("stdin: line 2: invalid UTF-8 at byte 1");
}

#[test]
fn a_dbus_error_text_ending_in_interrupted_is_not_ctrl_c() {
    // Control flow used to be recognised by message text: this ended the batch with 130.
    let r = shell()
        .input(&format!(
            "object('{TEST_NAME}', '{TEST_PATH}').Test1.Fail('the call was interrupted')\nprint('on')\n"
        ))
        .run();
    r.stdout_is("on\n")
        .stderr_has("org.rustemd.Test.Error.Failed: the call was interrupted");
    assert_eq!(r.code, Some(1));
}

#[test]
fn exit_unwinds_from_anywhere_with_its_status() {
    let r = shell().input("print(1)\nx = [exit(4)]\nprint(2)\n").run();
    r.stdout_is("1\n");
    assert_eq!(r.code, Some(4));
    let r = shell().input("exit 3\nprint(2)\n").run();
    assert_eq!(r.code, Some(3));
    let r = shell().input("exit('bye')\n").run();
    r.stderr_has("bye");
    assert_eq!(r.code, Some(1));
    // A text that looks like the old marker is just text.
    shell().input("print('\\x00exit:5')\n").run().success();
}

#[test]
fn session_options_are_refused_at_the_prompt_with_advice() {
    shell()
        .input("busctl --user list\nprint('on')\n")
        .run()
        .failure()
        .stderr_has("give it when starting the shell")
        .stdout_has("on");
    // …and taken after a one-shot verb, as busctl takes them.
    Shell::new()
        .args(&[
            "get-property",
            "--address",
            addr(),
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Count",
        ])
        .run()
        .success();
}

#[test]
fn keyword_arguments_are_the_declared_parameters() {
    shell()
        .input("unit(nmae='x.service')\nprint(unit(name='x.service').path)\n")
        .run()
        .failure()
        .stderr_has("unexpected keyword argument 'nmae' (did you mean name?)")
        .stdout_is("/org/freedesktop/systemd1/unit/x_2eservice\n");
}

/// Run `rustemd-shell __complete LINE POS` against the private bus.
fn complete(line: &str) -> Vec<String> {
    let full = format!("rustemd-shell --address {} {line}", addr());
    let r = Shell::new()
        .args(&["__complete", &full, &full.len().to_string()])
        .run();
    r.success();
    r.stdout.lines().map(str::to_string).collect()
}

#[test]
fn complete_answers_for_verbs_flags_names_and_members() {
    assert!(complete("get-pr").contains(&"get-property".to_string()));
    assert!(complete("completions ").contains(&"fish".to_string()));
    let flags = complete("call -");
    assert!(flags.contains(&"--quiet".to_string()), "{flags:?}");
    assert!(flags.contains(&"--timeout=".to_string()), "{flags:?}");
    assert!(complete("call org.rustemd.T").contains(&TEST_NAME.to_string()));
    let members = complete(&format!("call {TEST_NAME} {TEST_PATH} {TEST_IFACE} Mul"));
    assert_eq!(members, ["Multiple"]);
    // Option values are skipped when counting positions.
    let members = complete(&format!(
        "call --timeout 5 {TEST_NAME} {TEST_PATH} {TEST_IFACE} Mul"
    ));
    assert_eq!(members, ["Multiple"]);
    assert!(complete("--color=").is_empty() || !complete("--color ").is_empty());
}

#[test]
fn bash_completion_script_completes_through_the_binary() {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let script = format!(
        r#"source <(rustemd-shell completions bash)
COMP_LINE="rustemd-shell --address {a} call org.rustemd.T"
COMP_POINT=${{#COMP_LINE}}
COMP_WORDBREAKS=$' \t\n"'"'"'><=;|&(:'
_rustemd_shell
printf '%s\n' "${{COMPREPLY[@]}}"
COMP_LINE="rustemd-shell --address {a} tree :1."
COMP_POINT=${{#COMP_LINE}}
_rustemd_shell
printf 'colon:%s\n' "${{COMPREPLY[@]}}"
"#,
        a = addr()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l == TEST_NAME), "{text}");
    // Unique names are completed after the colon bash splits at.
    assert!(
        text.lines().any(|l| l.starts_with("colon:1.")),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shell in ["zsh", "fish"] {
        Shell::new()
            .args(&["completions", shell])
            .run()
            .success()
            .stdout_has("__complete");
    }
}

#[test]
fn manpage_documents_options_verbs_and_exit_statuses() {
    let r = Shell::new().args(&["manpage"]).run();
    r.success()
        .stdout_has(".TH RUSTEMD\\-SHELL 1")
        .stdout_has(".SH EXIT STATUS")
        .stdout_has("\\-\\-no\\-pager")
        .stdout_has("get\\-property [OPTIONS] SERVICE PATH INTERFACE PROPERTY...");
    // Commands of the program are not commands of the prompt.
    shell()
        .input("manpage\n")
        .run()
        .failure()
        .stderr_has("run `rustemd-shell manpage` in your terminal");
}

/// Every `crate::X` a file under `src/LAYER` names, with the file.
fn imports(layer: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push((name, p.display().to_string()));
            }
        }
    }
    out
}

#[test]
fn layers_call_downward_only() {
    // cli, repl/demo -> commands -> lang -> systemd -> bus; busctl beside systemd; term is a leaf.
    let rules: &[(&str, &[&str])] = &[
        // term (colour, pager, pty, signals) and suggest (did-you-mean) are leaves anyone uses.
        ("term", &["term"]),
        ("bus", &["bus", "term", "suggest"]),
        ("systemd", &["systemd", "bus", "term", "suggest"]),
        ("busctl", &["busctl", "bus", "systemd", "term", "suggest"]),
        ("lang", &["lang", "systemd", "bus", "term", "suggest"]),
        (
            "commands",
            &[
                "commands", "lang", "busctl", "systemd", "bus", "term", "suggest",
            ],
        ),
        (
            "repl",
            &[
                "repl", "commands", "lang", "busctl", "systemd", "bus", "term", "suggest",
            ],
        ),
        // The presenter's tools sit above the prompt: they drive the interpreter and report
        // as the prompt does; the prompt calls `record` only through a hook the program
        // installs (no circle).
        (
            "demo",
            &[
                "demo", "repl", "commands", "lang", "busctl", "systemd", "bus", "term", "suggest",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (layer, allowed) in rules {
        for (name, file) in imports(layer) {
            if !allowed.contains(&name.as_str()) {
                wrong.push(format!("{file} uses crate::{name}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports running up the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn one_shot_verbs_page_long_output_on_a_terminal() {
    use crate::support::tools;
    tools::require("script", "bsdutils");
    // `script` gives the shell a terminal; the pager marks every line it shows.
    let run = |extra: &str| {
        let cmd = format!(
            "{BIN} --address {} introspect {extra} {TEST_NAME} {TEST_PATH} {TEST_IFACE}",
            addr()
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("SYSTEMD_PAGER", "sed 's/^/PAGED:/'")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let paged = run("");
    assert!(
        paged.lines().any(|l| l.starts_with("PAGED:NAME")),
        "{paged}"
    );
    let plain = run("--no-pager");
    assert!(plain.lines().any(|l| l.starts_with("NAME")), "{plain}");
    assert!(!plain.contains("PAGED:"), "{plain}");
}

#[test]
fn peer_error_texts_cannot_drive_the_terminal() {
    // Regression: a peer's error text was printed raw, escape codes included.
    let src = format!(
        "object('{TEST_NAME}', '{TEST_PATH}').Test1.Fail('\\x1b[2J\\x1b]0;pwned\\x07boom')\n"
    );
    let r = shell().input(&src).run();
    r.failure().stderr_has("\\x1b[2J\\x1b]0;pwned\\x07boom");
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains('\x07'),
        "{:?}",
        r.stderr
    );
    let r = shell()
        .args(&[
            "call",
            TEST_NAME,
            TEST_PATH,
            TEST_IFACE,
            "Fail",
            "s",
            "\x1b[31mred",
        ])
        .run();
    r.failure().stderr_has("Call failed: \\x1b[31mred");
}

#[test]
fn the_binary_is_linked_for_a_fast_start() {
    // Issue 11 (build.rs): no PIE, no libgcc_s.so. A change to build.rs that lost either
    // would show only as a slower benchmark; this says which.
    if std::env::var_os("RUSTEMD_PIE").is_some_and(|v| v == "1") {
        return;
    }
    let elf = std::fs::read(BIN).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    // e_type at offset 16, little-endian: 2 is ET_EXEC (fixed address), 3 ET_DYN (PIE).
    assert_eq!(
        u16::from_le_bytes([elf[16], elf[17]]),
        2,
        "{BIN} is position-independent"
    );
    let out = Command::new("ldd").arg(BIN).output().unwrap();
    let libs = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{libs}");
    assert!(libs.contains("libc.so.6"), "{libs}");
    assert!(!libs.contains("libgcc_s"), "{BIN} loads libgcc_s:\n{libs}");
}

#[test]
fn libm_is_not_loaded_at_start_only_by_the_first_float_power() {
    // Issue 11: glibc's libm was linked for three functions (pow, log10 and the ldexp LLVM
    // makes of syntect's exp2) and loaded by every process: 58 µs of each start, 0.3 MiB.
    // ld.so names each library it loads under LD_DEBUG=libs.
    let loads_libm = |src: &str| {
        let r = Shell::new()
            .env("LD_DEBUG", "libs")
            .args(&["-c", src])
            .run();
        r.success();
        r.stderr.contains("libm.so")
    };
    // A debug build still calls what optimization folds away (syntect's exp2, the `pow` of
    // tokio's multi-thread statistics, which the tests' dev-dependencies switch on): the
    // release build is the one that must not load libm (`cargo test --release`).
    let plain = loads_libm("print(2 ** 10, 1.5 * 2, format(999999.5, '.6g'))");
    assert!(cfg!(debug_assertions) || !plain, "libm loaded at start");
    // Float powers are glibc's pow, as Python's are: opened on first use.
    let r = Shell::new()
        .env("LD_DEBUG", "libs")
        .args(&["-c", "print(2.0 ** 0.5, 1e-300 ** -0.74)"])
        .run();
    r.success()
        .stdout_is("1.4142135623730951 9.999999999999938e+221\n");
    assert!(r.stderr.contains("libm.so.6"), "{}", r.stderr);
}

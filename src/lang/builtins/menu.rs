//! The sandboxing menu of pystemd-shell: demo functions that each start an interactive bash in
//! `mys.service` with one family of properties, after stopping the previous `mys` and
//! printing the call they make. `n`, `p` and `r` run the next, previous or same demo; typed
//! alone they run (IPython's autocall, see [`autocall`]).
//!
//! Each demo is data: its call is source text of this shell's language, printed (highlighted on
//! a terminal) and then run exactly as printed, so what people read is what runs. A demo whose
//! effect cannot be enforced where the shell runs says so before running.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use super::{Bound, Builtin, Func, R};
use crate::lang::error::Error;
use crate::lang::highlight;
use crate::lang::interp::Interp;
use crate::lang::sources;
use crate::lang::value::Value;
use crate::systemd::job;

/// The demo unit.
pub const UNIT: &str = "mys.service";

/// Where the chroot demo builds its small root.
pub const CHROOT: &str = "/var/lib/rustemd/chroot";

struct Demo {
    name: &'static str,
    about: &'static str,
    call: &'static str,
    /// Set-up before the call (the chroot's tree).
    prepare: Option<fn() -> Result<(), String>>,
    /// Why the effect would not be enforced here, if it would not.
    caveat: fn() -> Option<String>,
}

fn no_caveat() -> Option<String> {
    None
}

const DEMOS: &[Demo] = &[
    Demo {
        name: "echo",
        about: "a command whose output comes back to this terminal",
        call: "run(['/bin/echo', 'Hi from mys.service!'], stdout=sys.stdout, wait=True, name='mys.service')",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "bash",
        about: "an interactive bash inside a unit (try: systemctl status $$)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "home_system_protect",
        about: "/home hidden, the whole file system read-only (try: touch /usr/x; ls /home)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'ProtectHome': 'true',\n        'ProtectSystem': 'strict',\n    },\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "directories",
        about: "directory-fu: read-only, inaccessible, read-write and bind-mounted paths (try: ls /home; touch /root/x; ls /var/cache/mys)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'ReadOnlyDirectories': ['/root'],\n        'InaccessibleDirectories': ['/home'],\n        'ReadWriteDirectories': ['/var/log'],\n        'BindPaths': [('/usr/share/doc', '/var/cache/mys/doc')],\n        'BindReadOnlyPaths': [('/bin/bash', '/var/cache/mys/bin/bash')],\n    },\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "private",
        about: "a private /tmp, an empty /var/cache/mys, no network and a minimal /dev (try: ip link; cat /proc/net/route; ls /dev)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'PrivateTmp': True,\n        'TemporaryFileSystem': '/var/cache/mys',\n        'PrivateNetwork': True,\n        'PrivateDevices': True,\n    },\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "dynamic_user",
        about: "a user made up for the unit's lifetime (try: id; touch /tmp/x)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'DynamicUser': True,\n    },\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "dynamic_user_show_id",
        about: "id under DynamicUser=yes",
        call: "run(\n    ['/usr/bin/id'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'DynamicUser': True,\n    },\n)",
        prepare: None,
        caveat: no_caveat,
    },
    Demo {
        name: "ip_user",
        about: "BPF firewalling: every address denied but 127.0.0.1 (try: echo > /dev/udp/127.0.0.2/9, then to 127.0.0.1)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'IPAddressDeny': 'any',\n        'IPAddressAllow': '127.0.0.1',\n    },\n)",
        prepare: None,
        caveat: ip_caveat,
    },
    Demo {
        name: "cgroup",
        about: "resource limits: 10% of a CPU, 10M of memory, 5 tasks (try: while :; do :; done & top)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'CPUQuota': '10%',\n        'MemoryMax': '10M',\n        'MemorySwapMax': 0,\n        'TasksMax': 5,\n    },\n)",
        prepare: None,
        caveat: cgroup_caveat,
    },
    Demo {
        name: "chroot",
        about: "a root directory of its own, built on the fly with bash, ls, cat and id (try: ls /)",
        call: "run(\n    ['/bin/bash'],\n    stdin=sys.stdin, stdout=sys.stdout,\n    wait=True, pty=True,\n    name='mys.service',\n    extra={\n        'RootDirectory': '/var/lib/rustemd/chroot',\n        'MountAPIVFS': True,\n    },\n)",
        prepare: Some(build_chroot),
        caveat: no_caveat,
    },
];

/// BPF firewalling needs the cgroup v2 hierarchy (pure or hybrid).
fn ip_caveat() -> Option<String> {
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || Path::new("/sys/fs/cgroup/unified/cgroup.procs").exists();
    (!v2).then(|| {
        "no cgroup v2 hierarchy here: systemd cannot attach the BPF firewall, so \
         IPAddressDeny= is accepted but NOT enforced"
            .to_string()
    })
}

/// On a cgroup v1 (hybrid) machine the cpu and memory controllers must be writable.
fn cgroup_caveat() -> Option<String> {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return None;
    }
    let writable = |ctrl: &str| {
        nix::unistd::access(
            Path::new("/sys/fs/cgroup").join(ctrl).as_path(),
            nix::unistd::AccessFlags::W_OK,
        )
        .is_ok()
            && nix::sys::statvfs::statvfs(Path::new("/sys/fs/cgroup").join(ctrl).as_path())
                .is_ok_and(|s| !s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
    };
    let missing: Vec<&str> = ["cpu", "memory"]
        .into_iter()
        .filter(|c| !writable(c))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the {} cgroup controller{} read-only here: those limits are accepted but NOT \
             enforced",
            missing.join(" and "),
            if missing.len() == 1 { " is" } else { "s are" }
        )
    })
}

/// A small root for the chroot demo: bash, ls, cat and id with their libraries.
fn build_chroot() -> Result<(), String> {
    let root = Path::new(CHROOT);
    let mut files: Vec<String> = Vec::new();
    for prog in ["/bin/bash", "/bin/ls", "/bin/cat", "/usr/bin/id"] {
        files.push(prog.to_string());
        let out = std::process::Command::new("ldd")
            .arg(prog)
            .output()
            .map_err(|e| format!("cannot run ldd (package libc-bin): {e}"))?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
            let path = line
                .split("=>")
                .last()
                .and_then(|r| r.split_whitespace().next())
                .filter(|p| p.starts_with('/'));
            if let Some(p) = path {
                files.push(p.to_string());
            }
        }
    }
    for f in files {
        let src = Path::new(&f);
        let dst = root.join(f.trim_start_matches('/'));
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let real = std::fs::canonicalize(src).map_err(|e| format!("{f}: {e}"))?;
        std::fs::copy(&real, &dst).map_err(|e| format!("copy {f}: {e}"))?;
    }
    for d in ["proc", "sys", "dev", "tmp", "run"] {
        std::fs::create_dir_all(root.join(d)).map_err(|e| format!("{d}: {e}"))?;
    }
    Ok(())
}

/// The demo last run by name, `n`, `p` or `r` (an index into [`DEMOS`]).
static CURSOR: Mutex<Option<usize>> = Mutex::new(None);

/// Print what the demo does, stop the previous `mys`, then run its call.
fn run_demo(it: &mut Interp, idx: usize) -> R<Value> {
    let d = &DEMOS[idx];
    if let Ok(mut c) = CURSOR.lock() {
        *c = Some(idx);
    }
    let color = it.term.color;
    let bold = |t: &str| {
        if color {
            nu_ansi_term::Style::new().bold().paint(t).to_string()
        } else {
            t.to_string()
        }
    };
    writeln!(
        it.out,
        "{} {}",
        bold(&format!("demo {} ({}/{}):", d.name, idx + 1, DEMOS.len())),
        d.about
    )?;
    if let Some(c) = (d.caveat)() {
        let label = if color {
            nu_ansi_term::Color::Yellow
                .bold()
                .paint("note:")
                .to_string()
        } else {
            "note:".to_string()
        };
        writeln!(it.out, "{label} {c}")?;
    }
    writeln!(
        it.out,
        "stopping {UNIT} (left from an earlier demo, if any)"
    )?;
    let s = it.session.clone();
    it.bus(job::stop_and_reset(&s.bus, UNIT))?;
    if let Some(prepare) = d.prepare {
        writeln!(
            it.out,
            "building {CHROOT} (bash, ls, cat, id and their libraries)"
        )?;
        prepare().map_err(|e| Error::new(format!("{}: {e}", d.name)))?;
    }
    let call = if color {
        highlight::source(d.call, &it.command_names())
    } else {
        d.call.to_string()
    };
    writeln!(it.out, ">>> {call}\n")?;
    it.out.flush()?;
    it.run_named(d.call, d.name, 1)?;
    Ok(Value::None)
}

fn step(it: &mut Interp, delta: isize) -> R<Value> {
    let cur = CURSOR.lock().map(|c| *c).unwrap_or(None);
    let idx = match (cur, delta) {
        (None, _) => 0,
        (Some(i), d) => {
            let n = i as isize + d;
            if n < 0 || n as usize >= DEMOS.len() {
                return Err(Error::new(if d > 0 {
                    "that was the last demo (p runs the previous one, r the same)"
                } else {
                    "that was the first demo (n runs the next one)"
                }));
            }
            n as usize
        }
    };
    run_demo(it, idx)
}

fn b_next(it: &mut Interp, _: Bound) -> R<Value> {
    step(it, 1)
}
fn b_prev(it: &mut Interp, _: Bound) -> R<Value> {
    step(it, -1)
}
fn b_again(it: &mut Interp, _: Bound) -> R<Value> {
    step(it, 0)
}

macro_rules! demo_fn {
    ($f:ident, $i:expr) => {
        fn $f(it: &mut Interp, _: Bound) -> R<Value> {
            run_demo(it, $i)
        }
    };
}
demo_fn!(d0, 0);
demo_fn!(d1, 1);
demo_fn!(d2, 2);
demo_fn!(d3, 3);
demo_fn!(d4, 4);
demo_fn!(d5, 5);
demo_fn!(d6, 6);
demo_fn!(d7, 7);
demo_fn!(d8, 8);
demo_fn!(d9, 9);

macro_rules! demo {
    ($name:expr, $f:ident) => {
        Builtin {
            name: $name,
            params: &[],
            help: "Sandboxing demo: prints its run(...) call, stops the previous mys.service, then \
                   runs it (n, p, r: next, previous, same demo)",
            func: Func::Eval($f),
        }
    };
}

/// Every demo under its name and pystemd-shell's `_socal` name, and n/p/r.
pub static BUILTINS: &[Builtin] = &[
    demo!("echo", d0),
    demo!("echo_socal", d0),
    demo!("bash", d1),
    demo!("bash_socal", d1),
    demo!("home_system_protect", d2),
    demo!("home_system_protect_socal", d2),
    demo!("directories", d3),
    demo!("directories_socal", d3),
    demo!("private", d4),
    demo!("private_socal", d4),
    demo!("dynamic_user", d5),
    demo!("dynamic_user_socal", d5),
    demo!("dynamic_user_show_id", d6),
    demo!("dynamic_user_show_id_socal", d6),
    demo!("ip_user", d7),
    demo!("ip_user_socal", d7),
    demo!("cgroup", d8),
    demo!("cgroup_socal", d8),
    demo!("chroot", d9),
    demo!("chroot_socal", d9),
    eval!("n", [], "Run the next sandboxing demo", b_next),
    eval!("p", [], "Run the previous sandboxing demo", b_prev),
    eval!("r", [], "Run the same sandboxing demo again", b_again),
];

/// A menu demo as `ppcode` shows it: what it does, the call it runs (this language's
/// source) and where it is declared.
pub struct Shown {
    pub about: &'static str,
    pub call: &'static str,
    pub declared: sources::Excerpt,
}

/// The menu demo `name` (or its `_socal` name), for `ppcode`.
pub fn shown(name: &str) -> Option<Shown> {
    let base = name.strip_suffix("_socal").unwrap_or(name);
    let d = DEMOS.iter().find(|d| d.name == base)?;
    let path = "src/lang/builtins/menu.rs";
    let text = sources::file(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let at = sources::line_in(path, &format!("name: \"{base}\","))?;
    // The `Demo {` line above, through its `},`.
    let open = (0..at)
        .rev()
        .find(|&i| lines[i].trim_end().ends_with("Demo {"))?;
    let indent = &lines[open][..lines[open].len() - lines[open].trim_start().len()];
    let close = (open..lines.len()).find(|&i| lines[i] == format!("{indent}}},"))?;
    Some(Shown {
        about: d.about,
        call: d.call,
        declared: sources::excerpt(path, text, open + 1, close + 1),
    })
}

/// Builtins that run when their name is typed alone (the menu).
pub fn autocall(b: &Builtin) -> bool {
    // By name (unique among builtins): a static's address is not a stable identity.
    BUILTINS.iter().any(|x| x.name == b.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_has_both_names_and_a_call_that_parses() {
        assert_eq!(DEMOS.len(), 10);
        for (i, d) in DEMOS.iter().enumerate() {
            let socal = format!("{}_socal", d.name);
            for name in [d.name, socal.as_str()] {
                let b = BUILTINS.iter().find(|b| b.name == name).unwrap();
                let Func::Eval(f) = b.func else { panic!() };
                let Func::Eval(g) = BUILTINS[2 * i].func else {
                    panic!()
                };
                assert!(std::ptr::fn_addr_eq(f, g), "{name}");
            }
            crate::lang::parser::parse(d.call, &|_| false)
                .unwrap_or_else(|e| panic!("{}: {}", d.name, e.message));
            assert!(d.call.contains("name='mys.service'"), "{}", d.name);
            let shown = shown(&socal).unwrap();
            assert_eq!(shown.call, d.call);
            assert!(
                shown
                    .declared
                    .text
                    .contains(&format!("name: \"{}\"", d.name)),
                "{}",
                shown.declared.text
            );
        }
    }
}

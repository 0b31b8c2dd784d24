//! Other machines' buses: `-M MACHINE` (a local container) and `-H [USER@]HOST` (over ssh),
//! as D-Bus addresses.
//!
//! Why addresses and not namespace tricks: sd-bus enters a container's namespaces in a forked
//! child, which a tokio process must not do. A container's system bus socket is reachable
//! from the host by path instead: a `scripts/sandbox` sandbox binds it at
//! `/run/rustemd-sandbox/NAME/bus/system_bus_socket`, and any other container's is at
//! `/proc/LEADER/root/run/dbus/system_bus_socket`, LEADER being the container's init as
//! systemd-machined records it in `/run/systemd/machines/NAME`. A remote host is reached the
//! way busctl does it: `ssh -xT HOST systemd-stdio-bridge`, spoken to over its standard input
//! and output (a `unixexec:` address, which zbus runs).

use std::path::{Path, PathBuf};

/// Where `scripts/sandbox` keeps its sandboxes (see README, "The sandbox").
const SANDBOX_STATE: &str = "/run/rustemd-sandbox";
/// Where systemd-machined records its machines (one file per machine, `LEADER=PID`).
const MACHINED_STATE: &str = "/run/systemd/machines";

/// The address of the system bus of local container `machine` (`.host` is this machine).
pub fn machine_address(machine: &str) -> Result<String, String> {
    if machine.contains('@') {
        return Err(format!(
            "-M {machine}: a user's bus inside a container is not supported; -M MACHINE \
             reaches the container's system bus"
        ));
    }
    if machine.is_empty() || machine == ".host" {
        return Ok(system_address());
    }
    if !valid_machine_name(machine) {
        return Err(format!(
            "-M {machine}: not a machine name (letters, digits, '-', '_' and '.')"
        ));
    }
    let sandbox = Path::new(SANDBOX_STATE)
        .join(machine)
        .join("bus/system_bus_socket");
    if sandbox.exists() {
        return Ok(unix_address(&sandbox));
    }
    let state = Path::new(MACHINED_STATE).join(machine);
    if let Ok(text) = std::fs::read_to_string(&state) {
        let leader = text
            .lines()
            .find_map(|l| l.strip_prefix("LEADER="))
            .and_then(|p| p.trim().parse::<u32>().ok())
            .ok_or_else(|| format!("-M {machine}: machined knows no leader process for it"))?;
        let socket = PathBuf::from(format!("/proc/{leader}/root/run/dbus/system_bus_socket"));
        return Ok(unix_address(&socket));
    }
    Err(format!(
        "-M {machine}: no such machine: neither a sandbox ({SANDBOX_STATE}/{machine}, see \
         scripts/sandbox list) nor a container registered with systemd-machined (machinectl list)"
    ))
}

/// busctl's `-H [USER@]HOST[:PORT][/MACHINE]` as an address: ssh to HOST and run
/// systemd-stdio-bridge there (sd-bus's `bus_set_address_system_remote()`).
pub fn host_address(host: &str) -> Result<String, String> {
    let argv = host_command(host)?;
    let mut a = String::from("unixexec:path=ssh");
    for (i, arg) in argv.iter().enumerate() {
        a.push_str(&format!(",argv{}={}", i + 1, escape(arg)));
    }
    Ok(a)
}

/// The arguments of `ssh` for `-H HOST` (connections run it directly: zbus does not undo
/// the address's %-escapes).
pub fn host_command(host: &str) -> Result<Vec<String>, String> {
    let bad = || format!("-H {host}: expected [USER@]HOST[:PORT][/MACHINE]");
    let (rest, machine) = match host.split_once('/') {
        Some((h, m)) if valid_machine_name(m) => (h, Some(m)),
        Some(_) => return Err(bad()),
        None => (host, None),
    };
    let (target, port) = match rest.rsplit_once(':') {
        // An IPv6 address in brackets keeps its colons.
        Some((h, p)) if !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, Some(p))
        }
        Some(_) if !rest.contains('[') => return Err(bad()),
        _ => (rest, None),
    };
    let target = target.replace(['[', ']'], "");
    let host_part = target.rsplit('@').next().unwrap_or("");
    if host_part.is_empty() || target.starts_with('-') || target.matches('@').count() > 1 {
        return Err(bad());
    }
    let mut argv: Vec<String> = vec!["-xT".into()];
    if let Some(p) = port {
        argv.push("-p".into());
        argv.push(p.into());
    }
    argv.push("--".into());
    argv.push(target.clone());
    argv.push("systemd-stdio-bridge".into());
    if let Some(m) = machine {
        argv.push(format!("--machine={m}"));
    }
    Ok(argv)
}

/// The local system bus (`DBUS_SYSTEM_BUS_ADDRESS`, else the standard socket).
pub fn system_address() -> String {
    match std::env::var("DBUS_SYSTEM_BUS_ADDRESS") {
        Ok(a) if !a.is_empty() => a,
        _ => "unix:path=/run/dbus/system_bus_socket".into(),
    }
}

/// The user bus (`DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`).
pub fn user_address() -> String {
    match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        Ok(a) if !a.is_empty() => a,
        _ => {
            let dir = std::env::var("XDG_RUNTIME_DIR")
                .unwrap_or_else(|_| format!("/run/user/{}", nix::unistd::geteuid().as_raw()));
            unix_address(&Path::new(&dir).join("bus"))
        }
    }
}

fn unix_address(path: &Path) -> String {
    format!("unix:path={}", escape(&path.to_string_lossy()))
}

/// Machine names as machined takes them: a hostname, no path tricks.
fn valid_machine_name(m: &str) -> bool {
    !m.is_empty()
        && m.len() <= 64
        && !m.starts_with(['.', '-'])
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !m.contains("..")
}

/// D-Bus address value escaping: bytes outside `[-_/.\0-9A-Za-z]` become `%XX`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.' | b'\\') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_ssh_bridges_like_sd_bus() {
        let rows = [
            (
                "web1",
                "unixexec:path=ssh,argv1=-xT,argv2=--,argv3=web1,argv4=systemd-stdio-bridge",
            ),
            (
                "root@localhost",
                "unixexec:path=ssh,argv1=-xT,argv2=--,argv3=root%40localhost,argv4=systemd-stdio-bridge",
            ),
            (
                "me@h:2222",
                "unixexec:path=ssh,argv1=-xT,argv2=-p,argv3=2222,argv4=--,argv5=me%40h,argv6=systemd-stdio-bridge",
            ),
            (
                "h/box",
                "unixexec:path=ssh,argv1=-xT,argv2=--,argv3=h,argv4=systemd-stdio-bridge,argv5=--machine%3dbox",
            ),
        ];
        for (h, want) in rows {
            assert_eq!(host_address(h).unwrap(), want, "{h}");
        }
        for bad in ["", "@", "-oProxyCommand=x", "a@b@c", "h:x", "h/../x"] {
            assert!(host_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn machines_are_names_not_paths() {
        for bad in ["../etc", "a/b", ".hidden", "a..b", "x y"] {
            let e = machine_address(bad).unwrap_err();
            assert!(e.contains("not a machine name"), "{bad}: {e}");
        }
        assert!(
            machine_address("u@box")
                .unwrap_err()
                .contains("not supported")
        );
        assert_eq!(machine_address(".host").unwrap(), system_address());
        let e = machine_address("no-such-machine-here").unwrap_err();
        assert!(e.contains("no such machine"), "{e}");
    }
}

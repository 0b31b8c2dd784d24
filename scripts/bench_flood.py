#!/usr/bin/env python3
"""Monitor flood for scripts/bench: rustemd-shell's monitor and busctl's, side by side.

Usage: bench_flood.py SHELL [COUNT] [--table]   (inside the machine whose system bus is flooded)

Both monitors watch the same match rule on the system bus, each writing its full dump to a
file on a tmpfs. A raw D-Bus client then sends COUNT (default 100,000) signals as fast as the
socket takes them, and a last "Done" signal. When both monitors have shown "Done" (or went
quiet), each gets SIGINT; their CPU time (user + system, from wait4) and the number of flood
signals each printed are reported as one JSON object (with --table, as markdown rows for
scripts/bench). Benchmarks report; they never fail.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ARGS = [a for a in sys.argv[1:] if a != "--table"]
TABLE = "--table" in sys.argv
SHELL = ARGS[0]
COUNT = int(ARGS[1]) if len(ARGS) > 1 else 100_000
IFACE = "org.rustemd.Flood"
PATH = "/org/rustemd/Flood"
RULE = f"type='signal',interface='{IFACE}'"
SOCKET = "/run/dbus/system_bus_socket"


def pad(b, n):
    return b + b"\0" * (-len(b) % n)


def string(s, at):
    """A D-Bus string at offset `at` (4-aligned already)."""
    e = s.encode()
    return struct.pack("<I", len(e)) + e + b"\0"


def header_field(code, sig, value, at):
    """One (yv) header field starting 8-aligned at offset `at`."""
    out = bytes([code, len(sig)]) + sig.encode() + b"\0"
    if sig in ("s", "o"):
        out = pad(out, 4) + string(value, 0)
    elif sig == "g":
        e = value.encode()
        out += bytes([len(e)]) + e + b"\0"
    elif sig == "u":
        out = pad(out, 4) + struct.pack("<I", value)
    return out


def message(kind, serial, fields, body_sig, body):
    out = b""
    for code, sig, value in fields + ([(8, "g", body_sig)] if body_sig else []):
        out = pad(out, 8) + header_field(code, sig, value, 16 + len(out))
    head = struct.pack("<cBBBIII", b"l", kind, 0 if kind != 4 else 1, 1, len(body), serial, len(out))
    return pad(head + out, 8) + body


def signal_msg(serial, member, n):
    fields = [(1, "o", PATH), (2, "s", IFACE), (3, "s", member)]
    return message(4, serial, fields, "u", struct.pack("<I", n))


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCKET)
    uid = str(os.geteuid()).encode().hex()
    s.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
    if not s.recv(4096).startswith(b"OK"):
        raise SystemExit("flood: authentication refused")
    s.sendall(b"BEGIN\r\n")
    hello = message(1, 1, [(1, "o", "/org/freedesktop/DBus"), (2, "s", "org.freedesktop.DBus"),
                          (3, "s", "Hello"), (6, "s", "org.freedesktop.DBus")], "", b"")
    s.sendall(hello)
    return s


def spawn(argv, out):
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, NO_COLOR="1", SYSTEMD_COLORS="0", LC_ALL="C.UTF-8"))


def wait_started(p, timeout=10):
    """Until the monitor says it is monitoring (busctl's and our stderr line)."""
    deadline = time.time() + timeout
    line = b""
    while time.time() < deadline:
        b = os.read(p.stderr.fileno(), 1)
        if not b:
            break
        line += b
        if b"Monitoring bus message stream." in line:
            return True
    return False


def count(path, word):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if word in line:
                n += 1
    return n


def main():
    tmp = tempfile.mkdtemp(prefix="rustemd-flood-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    ours_out = os.path.join(tmp, "ours.txt")
    theirs_out = os.path.join(tmp, "busctl.txt")
    with open(ours_out, "wb") as fo, open(theirs_out, "wb") as ft:
        ours = spawn([SHELL, "monitor", f"--match={RULE}"], fo)
        theirs = spawn(["busctl", "monitor", f"--match={RULE}"], ft)
        started = wait_started(ours) and wait_started(theirs)
        if not started:
            for p in (ours, theirs):
                p.kill()
            print(json.dumps({"error": "a monitor did not start"}))
            return
        time.sleep(0.3)
        s = connect()
        t0 = time.perf_counter()
        batch = []
        for i in range(COUNT):
            batch.append(signal_msg(i + 2, "Tick", i))
            if len(batch) == 1000:
                s.sendall(b"".join(batch))
                batch = []
        s.sendall(b"".join(batch) + signal_msg(COUNT + 2, "Done", COUNT))
        sent_s = time.perf_counter() - t0
        # Until both showed Done, or nothing moved for 5 s.
        last = (-1, -1)
        quiet_since = time.time()
        while True:
            now = (os.path.getsize(ours_out), os.path.getsize(theirs_out))
            if now != last:
                last, quiet_since = now, time.time()
            if count(ours_out, b"Member=Done") and count(theirs_out, b"Member=Done"):
                break
            if time.time() - quiet_since > 5:
                break
            time.sleep(0.2)
        drained_s = time.perf_counter() - t0
        s.close()
        usage = {}
        for name, p in (("ours", ours), ("busctl", theirs)):
            p.send_signal(signal.SIGINT)
            try:
                _, _, ru = os.wait4(p.pid, 0)
                usage[name] = ru.ru_utime + ru.ru_stime
            except ChildProcessError:
                usage[name] = None
    result = {
        "count": COUNT,
        "send_s": sent_s,
        "drain_s": drained_s,
        "ours_seen": count(ours_out, b"Member=Tick"),
        "busctl_seen": count(theirs_out, b"Member=Tick"),
        "ours_cpu_s": usage["ours"],
        "busctl_cpu_s": usage["busctl"],
    }
    for f in (ours_out, theirs_out):
        os.unlink(f)
    os.rmdir(tmp)
    if not TABLE:
        print(json.dumps(result))
        return
    per = {k: (result[f"{k}_cpu_s"] * 1e6 / result[f"{k}_seen"])
           if result[f"{k}_cpu_s"] and result[f"{k}_seen"] else None for k in ("ours", "busctl")}
    ratio = f"{per['ours'] / per['busctl']:.2f}" if per["ours"] and per["busctl"] else "n/a"
    us = lambda v: "n/a" if v is None else f"{v:.2f} us"
    print(f"| monitor flood: signals shown (of {COUNT:,}) | {result['ours_seen']:,} | "
          f"{result['busctl_seen']:,} | - | all, >= busctl |")
    print(f"| monitor flood: CPU time per message | {us(per['ours'])} | {us(per['busctl'])} | "
          f"{ratio} | ratio <= 1.0 |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Timing harness for scripts/bench: runs inside the machine that has the bus.

Measures rustemd-shell side by side with busctl (and pystemd when given) and prints one JSON
object. Wall-clock medians over repeated runs; benchmarks report, they never fail.
"""
import json
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import time

SHELL = sys.argv[1]
PYSTEMD_PY = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
SD = "org.freedesktop.systemd1"
MANAGER = "/org/freedesktop/systemd1"
IFACE = "org.freedesktop.systemd1.Manager"
PROMPT = b"rustemd> "
ENV = dict(os.environ, NO_COLOR="1", TERM="xterm", HOME="/tmp/rustemd-bench-home")


def median_ms(samples):
    return statistics.median(samples) * 1000.0


def spawn_pty(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, ENV)
    return pid, fd


def read_until(fd, pattern, timeout=10.0):
    """Read from fd until `pattern` (bytes regex) matches; returns (elapsed, data)."""
    start = time.perf_counter()
    data = b""
    while time.perf_counter() - start < timeout:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if re.search(pattern, data):
                return time.perf_counter() - start, data
    return None, data


def close_pty(pid, fd):
    try:
        os.write(fd, b"\x04")
    except OSError:
        pass
    deadline = time.time() + 3
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def startup(n=20):
    times, rss = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        pid, fd = spawn_pty([SHELL])
        elapsed, _ = read_until(fd, re.escape(PROMPT))
        if elapsed is not None:
            times.append(time.perf_counter() - t0)
            time.sleep(0.05)  # let the background connect settle: RSS at an idle prompt
            rss.append(rss_kib(pid))
        close_pty(pid, fd)
    return median_ms(times), statistics.median(rss) / 1024.0


def run_many(argv, n):
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - t0)
    return median_ms(samples)


def one_shot(n=50):
    args = ["get-property", SD, MANAGER, IFACE, "Version"]
    ours = run_many([SHELL] + args, n)
    theirs = run_many(["busctl"] + args, n)
    return ours, theirs


def batch_reads(reads=1000, rounds=5):
    """Per-read cost inside one process: (time with N reads - time with 0) / N."""
    def script(k):
        return "m = manager()\nm.Manager.Version\n" + "m.Manager.Version\n" * k

    def timed(src):
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run([SHELL], input=src.encode(), stdout=subprocess.DEVNULL, check=False)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    base = timed(script(0))
    full = timed(script(reads))
    return (full - base) / reads * 1e6


def tab_latency(rounds=10):
    """TAB on a new object (one introspection) and on an introspected one, on a pty."""
    new, cached = [], []
    for i in range(rounds):
        pid, fd = spawn_pty([SHELL])
        read_until(fd, re.escape(PROMPT))
        # A unit not introspected yet in this process: the first TAB introspects it.
        os.write(fd, b"u = unit('myfirstservice.service')\r")
        read_until(fd, re.escape(PROMPT))
        os.write(fd, b"u.Serv")
        read_until(fd, rb"u\.Serv")
        t0 = time.perf_counter()
        os.write(fd, b"\t")
        e, _ = read_until(fd, rb"ice")
        if e is not None:
            new.append(time.perf_counter() - t0)
        # Same object again: from the cache.
        os.write(fd, b".MainP")
        read_until(fd, rb"MainP")
        t0 = time.perf_counter()
        os.write(fd, b"\t")
        e, _ = read_until(fd, rb"ID")
        if e is not None:
            cached.append(time.perf_counter() - t0)
        os.write(fd, b"\x15")  # Ctrl-U
        close_pty(pid, fd)
    # One introspection round trip, for reference.
    rt = run_many(["busctl", "introspect", "--xml-interface", SD, MANAGER], 10)
    return median_ms(new) if new else None, median_ms(cached) if cached else None, rt


def pystemd_numbers():
    if not PYSTEMD_PY:
        return None
    code = (
        "import time, pystemd.systemd1 as s\n"
        "m = s.Manager(); m.load()\n"
        "m.Manager.Version\n"
        "t = time.perf_counter()\n"
        "for _ in range(1000): m.Manager.Version\n"
        "print((time.perf_counter() - t) / 1000 * 1e6)\n"
    )
    out = subprocess.run([PYSTEMD_PY, "-c", code], capture_output=True, text=True)
    per_read = float(out.stdout.strip()) if out.returncode == 0 else None
    ipy = os.path.join(os.path.dirname(PYSTEMD_PY), "ipython")
    start = None
    if os.path.exists(ipy):
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            pid, fd = spawn_pty([ipy, "--no-banner", "-c", "import pystemd", "-i"])
            e, _ = read_until(fd, rb"In \[", timeout=20)
            if e is not None:
                samples.append(time.perf_counter() - t0)
            close_pty(pid, fd)
        start = median_ms(samples) if samples else None
    return {"per_read_us": per_read, "ipython_pystemd_start_ms": start}


def main():
    os.makedirs(ENV["HOME"], exist_ok=True)
    start_ms, rss_mib = startup()
    ours_one, busctl_one = one_shot()
    per_read_us = batch_reads()
    tab_new, tab_cached, introspect_rt = tab_latency()
    print(json.dumps({
        "start_ms": start_ms,
        "rss_mib": rss_mib,
        "oneshot_ms": ours_one,
        "busctl_oneshot_ms": busctl_one,
        "per_read_us": per_read_us,
        "tab_new_ms": tab_new,
        "tab_cached_ms": tab_cached,
        "busctl_introspect_ms": introspect_rt,
        "pystemd": pystemd_numbers(),
    }))


main()

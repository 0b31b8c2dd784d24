#!/usr/bin/env python3
"""Timing harness for scripts/bench: runs inside the machine that has the bus (as root).

Every measure runs each contender the same number of times, interleaved (one run of each in
turn), so that load from elsewhere hits all of them alike; it reports the median and the
range. It prints one JSON object; scripts/bench turns it into the table. Benchmarks report,
they never fail.

    bench_harness.py CONFIG_JSON

CONFIG_JSON names the binaries: ours, bare (the bare rustyline REPL), sdbus (the C client),
python (a venv with pystemd, or ""), home (a private directory for HOME), quick (fewer rounds).
"""
import json
import os
import pty
import random
import re
import select
import statistics
import subprocess
import sys
import time

CFG = json.loads(sys.argv[1])
OURS, BARE, SDBUS, PY, HOME = CFG["ours"], CFG["bare"], CFG["sdbus"], CFG["python"], CFG["home"]
QUICK = CFG.get("quick", False)
SD = "org.freedesktop.systemd1"
MANAGER = "/org/freedesktop/systemd1"
IFACE = "org.freedesktop.systemd1.Manager"
UNIT = "myfirstservice.service"
UNIT_PATH = "/org/freedesktop/systemd1/unit/myfirstservice_2eservice"
PROMPT = b"rustemd> "
ENV = dict(os.environ, NO_COLOR="1", TERM="xterm", HOME=HOME)
ENV.pop("XDG_STATE_HOME", None)
TMP = os.path.join(HOME, "tmp")
os.makedirs(TMP, mode=0o700, exist_ok=True)


def rounds(n):
    return max(3, n // 3) if QUICK else n


def summary(samples, scale=1000.0):
    """median, min, max of samples (seconds) in ms (or scaled)."""
    if not samples:
        return None
    s = [x * scale for x in samples]
    return {"median": statistics.median(s), "min": min(s), "max": max(s), "n": len(s)}


def run_once(argv, stdin=None):
    """Wall time, user+sys CPU and voluntary context switches of one process."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, ENV, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, stdin or "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
    ])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed with {status}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_nvcsw


def interleaved(contenders, n):
    """contenders: {name: argv}; returns {name: [(wall, cpu, nvcsw), ...]}.

    Each round runs them in a fresh order (seeded, so runs repeat): a process that starts
    right after a pystemd one meets the bus daemon and systemd still busy with that client's
    disconnection and its caches cold, and a fixed order put the same contender there every
    round (ours, measured 0.2 ms slower for it)."""
    out = {k: [] for k in contenders}
    items = list(contenders.items())
    order = random.Random(2026)
    for _ in range(n):
        order.shuffle(items)
        for k, argv in items:
            try:
                out[k].append(run_once(argv))
            except (RuntimeError, OSError) as e:
                print(f"bench: {k}: {e}", file=sys.stderr)
    return out


def walls(samples):
    return summary([w for w, _, _ in samples])


# ----- property reads in one process -----

def script_file(n):
    path = os.path.join(TMP, f"reads{n}.rsh")
    with open(path, "w") as f:
        f.write("m = manager()\n" + "v = m.Manager.Version\n" * n)
    return path


PYSTEMD_FAST = """
import sys
from pystemd.dbuslib import DBus
from pystemd.systemd1 import Manager
n = int(sys.argv[1])
if n:
    with DBus() as bus:
        m = Manager(bus=bus)
        m.load()
        for _ in range(n):
            m.Manager.Version
"""
PYSTEMD_DEFAULT = """
import sys
from pystemd.systemd1 import Manager
n = int(sys.argv[1])
if n:
    m = Manager()
    m.load()
    for _ in range(n):
        m.Manager.Version
"""


def reads_argv(n):
    c = {
        "ours": [OURS, script_file(n)],
        "sdbus": [SDBUS, "reads", str(n)],
    }
    if PY:
        c["pystemd_fast"] = [PY, "-c", PYSTEMD_FAST, str(n)]
        # A connection per read: 10,000 of them would take a minute a run.
        if n <= 100:
            c["pystemd_default"] = [PY, "-c", PYSTEMD_DEFAULT, str(n)]
    return c


def per_read(counts):
    """Per read at N: T(N) - T(0) over N, where T(0) is the same program doing no read, run
    in the same round (one interleaved batch: load that changes between rounds moves both),
    the median of those paired differences. At N = 1 that difference is lost in the noise
    of a process start: the whole process is reported instead (start, connect, introspect,
    one read, exit)."""
    res = {}
    for n, r in counts:
        if n == 1:
            got = interleaved(reads_argv(1), rounds(r))
            res["1"] = {k: walls(v) for k, v in got.items() if v}
            continue
        both = {}
        for k, argv in reads_argv(0).items():
            both[(k, 0)] = argv
        for k, argv in reads_argv(n).items():
            both[(k, n)] = argv
        got = interleaved(both, rounds(r))
        if "floor" not in res:
            res["floor"] = {k: walls(v) for (k, m), v in got.items() if m == 0 and v}
        row = {}
        for (k, m), v in got.items():
            base = got.get((k, 0))
            if m == 0 or not v or not base:
                continue
            if len(v) == len(base):
                ws = [(w - w0) / n for (w, _, _), (w0, _, _) in zip(v, base)]
            else:  # a run failed (said above): rounds no longer pair up
                w0 = statistics.median([w for w, _, _ in base])
                ws = [(w - w0) / n for w, _, _ in v]
            row[k] = summary(ws, 1e6)  # microseconds
            if n >= 1000:
                row[k]["cpu_us"] = statistics.median([c for _, c, _ in v]) / n * 1e6
                row[k]["csw"] = statistics.median([s for _, _, s in v]) / n
        res[str(n)] = row
    return res


# ----- one-shot verbs, tree, list -----

def one_shots():
    verbs = {
        "get-property": (["get-property", SD, MANAGER, IFACE, "Version"], ["get-property"]),
        "call": (["call", SD, MANAGER, IFACE, "GetUnit", "s", UNIT], ["call", UNIT]),
        "introspect": (["introspect", SD, UNIT_PATH], ["introspect", UNIT_PATH]),
        "tree": (["tree", SD], ["tree"]),
        "list": (["list"], ["list"]),
    }
    res = {}
    for verb, (args, cargs) in verbs.items():
        n = 15 if verb in ("tree", "list") else 30
        got = interleaved({
            "ours": [OURS] + args,
            "busctl": ["/usr/bin/busctl"] + args,
            "sdbus": [SDBUS] + cargs,
            "true": ["/bin/true"],
        }, rounds(n))
        res[verb] = {k: walls(v) for k, v in got.items()}
    return res


# ----- interactive start, exit, memory -----

def spawn_pty(argv):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, ENV)
        finally:
            os._exit(127)
    return pid, fd


def read_until(fd, pattern, timeout=10.0):
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
                return True, data
    return False, data


def drain(fd):
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def rss_kib(pid, field="VmRSS"):
    """Resident memory (KiB): VmRSS, or RssAnon, the part that is the process's own (VmRSS
    also counts the pages of its program and libraries it maps from the page cache, shared
    with every other process and as many as the kernel maps around each fault)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def session(argv, prompt, then=None):
    """Start argv on a pty: (spawn-to-prompt s, RSS KiB at the prompt, Ctrl-D-to-exit s)."""
    t0 = time.perf_counter()
    pid, fd = spawn_pty(argv)
    ok, _ = read_until(fd, prompt)
    start = time.perf_counter() - t0 if ok else None
    time.sleep(0.05)  # an idle prompt (the background connect done)
    rss = (rss_kib(pid), rss_kib(pid, "RssAnon"))
    extra = then(pid, fd) if (ok and then) else None
    drain(fd)
    t1 = time.perf_counter()
    os.write(fd, b"\x04")
    exit_s = None
    deadline = t1 + 3
    while time.perf_counter() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            exit_s = time.perf_counter() - t1
            break
        select.select([fd], [], [], 0.0002)
        drain(fd)
    if exit_s is None:  # the Ctrl-D was lost (typed before the editor read): not counted
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    return start, rss, exit_s, extra


def write_history(n):
    d = os.path.join(HOME, ".local/state/rustemd-shell")
    os.makedirs(d, mode=0o700, exist_ok=True)
    with open(os.path.join(d, "history"), "w") as f:
        f.write("#V2\n")
        for i in range(n):
            f.write(f"u = unit('unit-number-{i}.service'); u.Service.MainPID  # {i}\n")
    os.chmod(os.path.join(d, "history"), 0o600)


def startup():
    ipy = os.path.join(os.path.dirname(PY), "ipython") if PY else None
    cont = {"ours": ([OURS], PROMPT), "bare": ([BARE], PROMPT)}
    if ipy and os.path.exists(ipy):
        cont["ipython_pystemd"] = ([ipy, "--no-banner", "--no-confirm-exit", "-c", "import pystemd", "-i"], rb"In \[")
    samples = {k: [] for k in list(cont) + ["ours_history"]}
    for i in range(rounds(30)):
        for k, (argv, prompt) in cont.items():
            if k == "ipython_pystemd" and i >= rounds(5):
                continue
            samples[k].append(session(argv, prompt))
        write_history(10_000)
        samples["ours_history"].append(session([OURS], PROMPT))
        os.remove(os.path.join(HOME, ".local/state/rustemd-shell/history"))
    res = {}
    for k, v in samples.items():
        v = [x for x in v if x[0] is not None]
        res[k] = {
            "start": summary([x[0] for x in v]),
            "rss_mib": summary([x[1][0] for x in v], 1 / 1024),
            "anon_mib": summary([x[1][1] for x in v], 1 / 1024),
            "exit": summary([x[2] for x in v if x[2] is not None]),
        }
    return res


def unit_names(n):
    out = subprocess.run(["busctl", "--json=short", "call", SD, MANAGER, IFACE, "ListUnits"],
                         capture_output=True, text=True, check=True)
    return [u[0] for u in json.loads(out.stdout)["data"][0]][:n]


PYSTEMD_UNITS = """
import json, sys
from pystemd.dbuslib import DBus
from pystemd.systemd1 import Unit
names = json.loads(sys.argv[1])
with DBus() as bus:
    units = []
    for n in names:
        u = Unit(n.encode(), bus=bus)
        u.load()
        u.Unit.Id
        units.append(u)
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            print(int(line.split()[1]))
"""


def memory_100_units():
    names = unit_names(100)

    def introspect_all(pid, fd):
        for i, n in enumerate(names):
            # Each unit is introspected to resolve .Unit; a marker line says it is done.
            os.write(fd, f"x = unit({n!r}).Unit.Id\rprint('MARK{i}')\r".encode())
            ok, _ = read_until(fd, rb"\nMARK%d\r?\n" % i)
            if not ok:
                return None
        return rss_kib(pid)

    ours = []
    for _ in range(rounds(3)):
        _, (rss0, _), _, rss100 = session([OURS], PROMPT, introspect_all)
        if rss100:
            ours.append((rss0, rss100))
    res = {"units": len(names)}
    if ours:
        res["ours_mib"] = statistics.median([b for _, b in ours]) / 1024
        res["ours_per_object_kib"] = statistics.median([(b - a) / len(names) for a, b in ours])
    if PY:
        out = subprocess.run([PY, "-c", PYSTEMD_UNITS, json.dumps(names)], capture_output=True,
                             text=True, env=ENV)
        if out.returncode == 0:
            res["pystemd_mib"] = int(out.stdout.strip()) / 1024
    return res


def main():
    reads = [(1, 31), (100, 31), (10_000, 7)]
    stages = {
        "per_read": lambda: per_read(reads),
        "one_shot": one_shots,
        "startup": startup,
        "memory": memory_100_units,
    }
    only = CFG.get("only") or list(stages)
    out = {}
    for name in only:
        t0 = time.perf_counter()
        out[name] = stages[name]()
        print(f"bench: {name} took {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(json.dumps(out))


main()

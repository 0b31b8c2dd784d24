# Transient units with pystemd.run
# Start a command as a unit, look at it (status, cat), stop it; hand a unit this shell's stdout.
#
# Workshop section "Transient units with pystemd.run".

import pystemd.run
unit = pystemd.run(["/usr/bin/sleep", "infinity"])
unit
#> <unit rustemd....service org.freedesktop.systemd1 at /org/freedesktop/systemd1/unit/rustemd...>

# run() returns when the start job is done: the main process is there. systemd forked it;
# until it executes the command (a moment later) it is named "(sleep)".
unit.Service.MainPID > 0
#> True
import time
while any(cmd.startswith('"(') for path, pid, cmd in unit.Service.GetProcesses()): time.sleep(0.02)
[cmd for path, pid, cmd in unit.Service.GetProcesses()]
#> ['/usr/bin/sleep infinity']
unit.Id.startswith("rustemd") and unit.Id.endswith(".service")
#> True

# Laid out like systemctl status and systemctl cat.
status unit | grep -E 'Loaded|Transient|Active'
#> ...Loaded: loaded (/run/systemd/transient/rustemd....service; transient)
#> ...Transient: yes
#> ...Active: active (running) since ...
cat unit
#> # /run/systemd/transient/rustemd....service
#> # This is a transient unit file, created programmatically via the systemd API. Do not edit.
#> [Unit]
#> Description=rustemd: rustemd....service
#> 
#> [Service]
#> ...
#> ExecStart=
#> ExecStart="/usr/bin/sleep" "infinity"
#> ...

unit.Stop(b"replace")
#> ObjectPath('/org/freedesktop/systemd1/job/...')

# A unit can write to this shell's own stdout, and get an environment.
pystemd.run(["/usr/bin/env"], stdout=sys.stdout, wait=True, env={"FOO": "bar"})
#> ...
#> FOO=bar
#> ...
#> <unit rustemd....service org.freedesktop.systemd1 at /org/freedesktop/systemd1/unit/rustemd...>

# Unit properties go in extra=: 10% of a CPU for a busy loop, then stop it.
busy = pystemd.run(["/bin/sh", "-c", "while :; do :; done"], extra={"CPUQuota": 0.1})
busy.Service.CPUQuotaPerSecUSec
#> 100000
busy.Stop(b"replace")
#> ObjectPath('/org/freedesktop/systemd1/job/...')

# Unit and Manager
# pystemd.systemd1.Unit and Manager: restart a unit, find the unit a process runs in, list its processes.
#
# Workshop section "Specific unit files as Unit".

sdunit = pystemd.systemd1.Unit("myfirstservice.service", _autoload=True)
before = sdunit.Service.MainPID
sdunit.Unit.Restart("replace")
#> ObjectPath('/org/freedesktop/systemd1/job/...')

# The restart job is done at once: a new main process.
import time
time.sleep(0.5)
sdunit.Service.MainPID != before
#> True

sdmanager = pystemd.systemd1.Manager(_autoload=True)
sdmanager.Manager
#> <org.freedesktop.systemd1.Manager of /org/freedesktop/systemd1>

# The unit this shell runs in, from its PID.
import os
sdpath = sdmanager.Manager.GetUnitByPID(os.getpid())
here = pystemd.dbuslib.path_decode(sdpath, b"/org/freedesktop/systemd1/unit")
here.endswith(".scope") or here.endswith(".service")
#> True

# Its processes: this shell is one of them.
any(p[1] == os.getpid() for p in sdmanager.Manager.GetUnitProcesses(here))
#> True

# The short spellings of the shell do the same.
unit("myfirstservice.service").Service.MainPID == sdunit.Service.MainPID
#> True
manager().Manager.GetUnitByPID(pid()) == sdpath
#> True

# Delegate and AttachProcessesToUnit
# Move this very shell into myfirstservice.service, see that stopping it would end us, and move out again.
#
# Workshop section "Get the current unit". At the end myfirstservice runs again without the
# drop-in and the shell lives in a scope of its own.

# Only a unit with Delegate=yes takes processes in: a drop-in and a daemon-reload, as
# `systemctl edit myfirstservice` with [Service] Delegate=true would do.
delegate("myfirstservice.service")
#> myfirstservice.service: wrote /etc/systemd/system/myfirstservice.service.d/50-rustemd-delegate.conf and reloaded systemd (undo: ...)
unit("myfirstservice.service").Service.Delegate
#> True

# The shell's process moves into the unit's cgroup.
sdmanager = pystemd.systemd1.Manager(_autoload=True)
sdmanager.Manager.AttachProcessesToUnit("myfirstservice.service", "/", [os.getpid()])
sdmanager.Manager.GetUnitByPID(os.getpid())
#> ObjectPath('/org/freedesktop/systemd1/unit/myfirstservice_2eservice')

# Stopping the unit now stops the shell too ("Terminated"). On a terminal `stop` asks first.
#@ manual
sdmanager.Manager.StopUnit("myfirstservice.service", "replace")

# Out again: a new scope made with this shell's PID, as systemd-run --scope does.
home = f"rustemd-home-{os.getpid()}.scope"
sdmanager.Manager.StartTransientUnit(home, "fail", {"PIDs": [os.getpid()], "Description": "rustemd: the shell, back from myfirstservice"})
#> ObjectPath('/org/freedesktop/systemd1/job/...')
import time
for i in range(100):
    if path_decode(sdmanager.Manager.GetUnitByPID(os.getpid()), "/org/freedesktop/systemd1/unit") == home:
        break
    time.sleep(0.05)
path_decode(sdmanager.Manager.GetUnitByPID(os.getpid()), "/org/freedesktop/systemd1/unit") == home
#> True

# Now myfirstservice can restart without us, and lose its drop-in.
restart myfirstservice.service
delegate("myfirstservice.service", False)
#> myfirstservice.service: removed /etc/systemd/system/myfirstservice.service.d/50-rustemd-delegate.conf and reloaded systemd
unit("myfirstservice.service").Unit.ActiveState, unit("myfirstservice.service").Service.Delegate
#> ('active', False)

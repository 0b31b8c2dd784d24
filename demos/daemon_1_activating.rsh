# pystemd daemon 1: activating until READY=1
# This shell runs again as daemon-demo-service.service (Type=notify); systemd waits for READY=1.
#
# In the room: scripts/daemon-demo splits the screen (this shell below, `watch
# daemon-demo-service.service` above) and types daemon_demo_service; then type the lines
# quoted below, one by one, in the shell it starts (the prompt shows the unit's state).
# Played straight through, the same lines run as a script inside the same unit.

#@ tty manual
daemon_demo_service

daemon_demo_service(statements="""
    unit("daemon-demo-service.service").ActiveState
    pystemd.daemon.notify(False, status="procastinating")
    wait daemon-demo-service.service StatusText == procastinating --timeout=10
    unit("daemon-demo-service.service").StatusText
    cat /run/systemd/transient/daemon-demo-service.service | grep -E '^(Type|Timeout|Watchdog|NotifyAccess)'
    env NOTIFY_SOCKET
    env WATCHDOG_USEC
    pystemd.daemon.watchdog_enabled()
""")
#> stopping daemon-demo-service.service (left from an earlier demo, if any)
#> >>> run(...)
#>
#> 'activating'
#> 1
#> 'procastinating'
#> Type=notify
#> TimeoutStartSec=5min
#> WatchdogSec=4min 59s
#> NotifyAccess=main
#> /run/systemd/notify
#> 299000000
#> 299000000
#> daemon-demo-service.service ended: protocol (status 0)

# It left without READY=1: systemd calls that a protocol failure.
unit("daemon-demo-service.service").Result
#> 'protocol'

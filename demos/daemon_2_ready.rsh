# pystemd daemon 2: ready, and the watchdog
# READY=1 makes the unit active; the watchdog then wants a ping every WatchdogSec (4min 59s).
#
# In the room: go on in the shell daemon_demo_service started (see daemon_1_activating),
# typing the lines quoted below. The interval may change at runtime, or the watchdog be
# turned off. Exercise: how to clear the status text? (the last line)

daemon_demo_service(statements="""
    pystemd.daemon.notify(False, status="ok, lets go!!", ready=1)
    wait daemon-demo-service.service ActiveState == active --timeout=10
    unit("daemon-demo-service.service").StatusText
    pystemd.daemon.notify(False, WATCHDOG=1)
    pystemd.daemon.watchdog_enabled()
    pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=pystemd.daemon.watchdog_enabled() / 2)
    pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=0)
    pystemd.daemon.notify(False, status="")
""")
#> stopping daemon-demo-service.service (left from an earlier demo, if any)
#> >>> run(...)
#>
#> 1
#> 'ok, lets go!!'
#> 1
#> 299000000
#> 1
#> 1
#> 1
#> daemon-demo-service.service ended: success

unit("daemon-demo-service.service").Result
#> 'success'

# pystemd daemon, step 2: READY=1 makes the unit active; then the watchdog wants a ping at
# least every WatchdogSec (4min 59s), an interval we may change at runtime, or turn off.
# demo: inside daemon_demo_service
pystemd.daemon.notify(False, status="ok, lets go!!", ready=1)
#> 1
wait daemon-demo-service.service ActiveState == active --timeout=10
unit("daemon-demo-service.service").StatusText
#> 'ok, lets go!!'
pystemd.daemon.notify(False, WATCHDOG=1)
#> 1
pystemd.daemon.watchdog_enabled()
#> 299000000
pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=pystemd.daemon.watchdog_enabled() / 2)
#> 1
pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=0)
#> 1
# Exercise: how to clear the status text?
pystemd.daemon.notify(False, status="")
#> 1

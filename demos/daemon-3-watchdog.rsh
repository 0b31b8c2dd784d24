# pystemd daemon, step 3: a watchdog left without pings makes systemd send SIGABRT (and kill
# the unit later); a handler of ours catches it first, and the unit ends with Result=watchdog.
# demo: inside daemon_demo_service
import signal
signal.signal(signal.SIGABRT, lambda *x: print("time to eventually die", *x) )
#> <Handlers.SIG_DFL: 0>
pystemd.daemon.notify(False, status="ok, lets go!!", ready=1)
#> 1
# The workshop hammers the watchdog with a 1 µs interval, until Ctrl-C:
# demo: needs a terminal
while True: pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=1 )
# 40,000 pings in one go (each returns 1):
sum(pystemd.daemon.notify(False, WATCHDOG=1) for i in range(40000))
#> 40000
# Then a 1 µs watchdog, and no more pings:
pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=1)
#> 1
import time
time.sleep(1)
#> time to eventually die 6 <frame at ...>
unit("daemon-demo-service.service").SubState
#> 'stop-watchdog'
unit("daemon-demo-service.service").Result
#> 'watchdog'

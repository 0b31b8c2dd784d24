# pystemd daemon 3: the watchdog fires
# A watchdog left without pings: systemd sends SIGABRT; a handler of ours catches it, and the unit ends with Result=watchdog.
#
# In the room, in the shell daemon_demo_service started: the handler, then the workshop's
#     while True: pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=1 )
# until Ctrl-C; the handler's line shows up (at the prompt, too), the status line says
# deactivating (stop-watchdog), Result: watchdog; exit() leaves. Played straight through:
# 40,000 pings, then a 1 µs watchdog and no more pings.

daemon_demo_service(statements="""
    import signal, time
    signal.signal(signal.SIGABRT, lambda *x: print("time to eventually die", *x) )
    pystemd.daemon.notify(False, status="ok, lets go!!", ready=1)
    sum(pystemd.daemon.notify(False, WATCHDOG=1) for i in range(40000))
    pystemd.daemon.notify(False, WATCHDOG=1, WATCHDOG_USEC=1)
    wait daemon-demo-service.service Result == watchdog --timeout=20
    time.sleep(1)
    unit("daemon-demo-service.service").SubState
""")
#> stopping daemon-demo-service.service (left from an earlier demo, if any)
#> >>> run(...)
#>
#> <Handlers.SIG_DFL: 0>
#> 1
#> 40000
#> ...
#> time to eventually die 6 <frame at ...>
#> ...
#> 'stop-watchdog'
#> daemon-demo-service.service ended: watchdog (status 0)

unit("daemon-demo-service.service").Result
#> 'watchdog'

# pystemd daemon 4: hand the unit to another process
# MAINPID= makes a child of ours the unit's main process (with the watchdog off and READY=1 in one message).
#
# In the room, in a fresh daemon_demo_service: the first three lines quoted below. From then
# on the shell is not the main process, and with NotifyAccess=main systemd ignores what it
# sends; the unit lives as long as sleep does (`exit()` says so; stop the unit to end it).

daemon_demo_service(statements="""
    p = subprocess.Popen(['nohup', 'sleep', 'infinity'])
    pystemd.daemon.notify(False, MainPID=p.pid, watchdog_usec=0, ready=1)
    wait daemon-demo-service.service ActiveState == active --timeout=10
    unit("daemon-demo-service.service").MainPID == p.pid
    p.kill()
    p.wait()
""")
#> stopping daemon-demo-service.service (left from an earlier demo, if any)
#> >>> run(...)
#>
#> ...
#> 1
#> True
#> -9
#> daemon-demo-service.service ended: ...

# The unit ended with its new main process.
unit("daemon-demo-service.service").ActiveState in ("inactive", "failed")
#> True

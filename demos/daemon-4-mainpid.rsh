# pystemd daemon, step 4: hand the unit over to another process (MAINPID=), with the watchdog
# off and READY=1 in the same message.
# demo: inside daemon_demo_service
import subprocess
p = subprocess.Popen(['nohup', 'sleep', 'infinity'])
pystemd.daemon.notify(False, MainPID=p.pid, watchdog_usec=0, ready=1)
#> 1
wait daemon-demo-service.service ActiveState == active --timeout=10
unit("daemon-demo-service.service").MainPID == p.pid
#> True
# This shell is no longer the main process: with NotifyAccess=main systemd ignores what it
# sends now. The unit lives as long as sleep does:
p.kill()
p.wait()
#> -9

# pystemd daemon, step 1: a Type=notify unit is activating until its main process (this shell)
# says READY=1; meanwhile it can say what it is doing (StatusText).
# demo: inside daemon_demo_service
unit("daemon-demo-service.service").ActiveState
#> 'activating'
pystemd.daemon.notify(False, status="procastinating")
#> 1
wait daemon-demo-service.service StatusText == procastinating --timeout=10
unit("daemon-demo-service.service").StatusText
#> 'procastinating'
# How is this possible? The unit file, and what systemd put in our environment:
cat /run/systemd/transient/daemon-demo-service.service
env NOTIFY_SOCKET
#> /run/systemd/notify
env WATCHDOG_USEC
#> 299000000
pystemd.daemon.watchdog_enabled()
#> 299000000

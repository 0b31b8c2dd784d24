# pystemd daemon, step 0: this shell again, as the notify service daemon-demo-service.service.
# Split the screen first: `watch daemon-demo-service.service` on one side, this on the other
# (scripts/daemon-demo does both). Steps 1-4 are typed in the shell it starts.
# demo: needs a terminal
daemon_demo_service

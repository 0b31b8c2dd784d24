# Exploring the bus
# busctl's verbs on systemd: list, tree | grep, introspect, get-property, call, and the job trick.
#
# Workshop section "D-Bus": every line runs with or without the leading busctl, and prints
# what busctl prints.

# Who is on the bus: peers (:1.N) and well-known names. The shell itself is one of the peers.
busctl list | grep -c org.freedesktop.systemd1
#> 1

# systemd's objects: units are objects too.
busctl tree org.freedesktop.systemd1 | grep myfirstservice
#> ...─/org/freedesktop/systemd1/unit/myfirstservice_2eservice

# Introspect: interfaces, methods, properties with their live values, signals.
busctl introspect org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice | grep -E '^(NAME|org.freedesktop.systemd1.Service |.MainPID )'
#> NAME ... TYPE ... SIGNATURE ... RESULT/VALUE ... FLAGS
#> org.freedesktop.systemd1.Service ... interface ... -
#> .MainPID ... property  u ... emits-change

# The MainPID, read directly as a property...
busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice org.freedesktop.systemd1.Service MainPID
#> u ...

# ... or by calling Get of org.freedesktop.DBus.Properties: a variant comes back.
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice org.freedesktop.DBus.Properties Get ss org.freedesktop.systemd1.Service MainPID
#> v u ...

# A method call: Restart answers with a job, which is gone before we can look at it ...
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice org.freedesktop.systemd1.Unit Restart s "replace"
#> o "/org/freedesktop/systemd1/job/..."

# ... unless the next command looks at it at once: the job trick. myfirstservice restarts
# in a blink, so take a unit that needs a second to start (and stop it afterwards).
slow = run(["/bin/sleep", "infinity"], name="slowstart.service", start_pre_cmd=["/bin/sleep", "2"])
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/slowstart_2eservice org.freedesktop.systemd1.Unit Restart s "replace" | awk '{print $2}' | xargs busctl introspect org.freedesktop.systemd1 | grep -E '^(org.freedesktop.systemd1.Job|.JobType|.State)'
#> org.freedesktop.systemd1.Job ... interface ... -
#> .JobType ... property  s ... "start" ... const
#> .State ... property  s ... "running" ... emits-change
clean slowstart.service

# After all those restarts, myfirstservice is running.
busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/myfirstservice_2eservice org.freedesktop.systemd1.Unit ActiveState
#> s "active"

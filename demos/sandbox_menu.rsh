# The sandboxing menu
# One unit per family of sandboxing properties, each running a command that shows the effect.
#
# pystemd-shell's menu (dynamic_user, home_system_protect, private, ...) gives an interactive
# bash in mys.service; here each family runs id, touch or ip instead, so the room sees the
# effect at once (and CI checks it). Type a menu name alone for the interactive bash.

# What a menu demo runs: ppcode shows the call.
ppcode dynamic_user
#> >>> # src/lang/builtins/menu.rs[...]
#> 
#> # dynamic_user: a user made up for the unit's lifetime (try: id; touch /tmp/x)
#> run(
#>     ['/bin/bash'],
#>     stdin=sys.stdin, stdout=sys.stdout,
#>     wait=True, pty=True,
#>     name='mys.service',
#>     extra={
#>         'DynamicUser': True,
#>     },
#> )

# DynamicUser: a user that exists while the unit runs.
run(["/usr/bin/id", "-un"], stdout=sys.stdout, wait=True, name="mys.service", extra={"DynamicUser": True})
#> mys
#> ...

# ProtectSystem=strict and ProtectHome: the file system is read-only, /home is empty.
run(["/bin/sh", "-c", "touch /usr/x || echo refused; ls -A /home | wc -l"], stdout=sys.stdout, stderr=sys.stdout, wait=True, name="mys.service", extra={"ProtectSystem": "strict", "ProtectHome": "true"})
#> touch: cannot touch '/usr/x': Read-only file system
#> refused
#> 0
#> ...

# PrivateNetwork: only a loopback device, no routes.
run(["/bin/sh", "-c", "ls /sys/class/net; cat /proc/net/route | wc -l"], stdout=sys.stdout, wait=True, name="mys.service", extra={"PrivateNetwork": True})
#> lo
#> 1
#> ...

# PrivateTmp: a /tmp of its own, empty.
run(["/bin/sh", "-c", "ls -A /tmp | wc -l"], stdout=sys.stdout, wait=True, name="mys.service", extra={"PrivateTmp": True})
#> 0
#> ...

# The interactive menu: an interactive bash in mys.service with DynamicUser=yes.
#@ tty manual
dynamic_user

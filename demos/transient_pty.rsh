# Shells on a pty
# pystemd.run(..., pty=True): a unit on a new terminal, forwarded to this one.
#@ tty
#
# Workshop section "shells, redirecting stdin/out and extras". Needs a terminal: CI plays it
# in a pty. The interactive bash is for a person (type `systemctl status $$`, then exit).

# The unit's stdin, stdout and stderr are a terminal of its own, forwarded to ours.
#@ tty
pystemd.run(["/bin/sh", "-c", "tty; test -t 0 && echo stdin is a terminal; echo TERM=$TERM"], stdin=sys.stdin, stdout=sys.stdout, pty=True, wait=True)
#> /dev/pts/...
#> stdin is a terminal
#> TERM=...
#> <unit rustemd....service org.freedesktop.systemd1 at /org/freedesktop/systemd1/unit/rustemd...>

# The same with an interactive bash: try `systemctl status $$`, then exit.
#@ tty manual
pystemd.run(["/usr/bin/bash"], stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, pty=True, wait=True, env={"FOO": "bar"})

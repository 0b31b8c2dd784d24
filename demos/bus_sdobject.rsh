# pystemd's SDObject
# The MainPID again, from the shell's language: SDObject, load, _autoload, with, _interfaces.
#
# Workshop section "pystemd SDObject". The shell has pystemd (and os, sys) imported already.

import pystemd
service_path = pystemd.dbuslib.path_encode(b"/org/freedesktop/systemd1/unit", b"myfirstservice.service")
service_path
#> ObjectPath('/org/freedesktop/systemd1/unit/myfirstservice_2eservice')

# An SDObject is an empty shell until it is loaded (it introspects the object).
sdobject = pystemd.base.SDObject("org.freedesktop.systemd1", service_path)
sdobject.load()
pid = sdobject.Service.MainPID
sdobject.Properties.Get('org.freedesktop.systemd1.Service', "MainPID") == pid
#> True

# Values keep their D-Bus type: MainPID is a uint32 on the bus.
type(pid)
#> 'uint32'

# Loaded at once with _autoload=True, or by a with block.
sdobject = pystemd.base.SDObject("org.freedesktop.systemd1", service_path, _autoload=True)
sdobject.Service.MainPID == pid
#> True
with pystemd.base.SDObject("org.freedesktop.systemd1", service_path, _autoload=True) as sdobject:
    print(sdobject.Service.MainPID == pid)
#> True

# Interfaces are attributes by their last name; all of them are in _interfaces (a dict).
sdobject.Service
#> <org.freedesktop.systemd1.Service of /org/freedesktop/systemd1/unit/myfirstservice_2eservice>
sorted(sdobject._interfaces)
#> ['org.freedesktop.DBus.Introspectable',
#>  'org.freedesktop.DBus.Peer',
#>  'org.freedesktop.DBus.Properties',
#>  'org.freedesktop.systemd1.Service',
#>  'org.freedesktop.systemd1.Unit']
len(sdobject._interfaces['org.freedesktop.DBus.Peer'].GetMachineId())
#> 32

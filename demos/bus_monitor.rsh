# Watching the bus
# monitor shows the messages to and from systemd as busctl monitor does; capture writes pcapng.
#
# Workshop section "One more detour of D-Bus before continuing, monitor". Live, run
# `monitor org.freedesktop.systemd1` and `systemctl start myfirstservice` in another terminal.

# A call to systemd in a second, in the background, and monitor shows it.
!(sleep 1; busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.DBus.Peer Ping) >/dev/null 2>&1 &
monitor --short --limit-messages=1 --match="member='Ping'" org.freedesktop.systemd1
#> Monitoring bus message stream.
#> ... method_call ... → org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.DBus.Peer.Ping

# The same traffic as pcapng, for tshark or Wireshark.
!(sleep 1; busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.DBus.Peer Ping) >/dev/null 2>&1 &
capture --limit-messages=1 --match="member='Ping'" org.freedesktop.systemd1 > /tmp/rustemd-demo.pcap
!tshark -r /tmp/rustemd-demo.pcap -T fields -e dbus.interface -e dbus.member 2>/dev/null; rm -f /tmp/rustemd-demo.pcap
#> org.freedesktop.DBus.Peer	Ping

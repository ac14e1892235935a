#!/bin/sh
# Starts CUPS's ippeveprinter (a real IPP Everywhere printer) for the device tests, with the
# private D-Bus and Avahi it needs to start. Run it through
#   unshare --mount --pid --fork --kill-child tests/peers/ippeveprinter.sh DIR PORT [ARGS...]
# so the Avahi pid directory is private to it and everything it started ends with it.
# Avahi is limited to the loopback interface (nothing is announced on a real network), or to
# $AVAHI_INTERFACES when the caller runs this inside a network namespace it made for the test.
set -e
D=$1; PORT=$2; shift 2
mkdir -p "$D/spool"
mkdir -p /run/avahi-daemon
mount -t tmpfs tmpfs /run/avahi-daemon
cat > "$D/dbus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$D/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
cat > "$D/avahi.conf" <<CONF
[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=${AVAHI_INTERFACES:-lo}
enable-dbus=yes
[publish]
publish-workstation=no
CONF
# A printer started again in the same directory finds the last one's bus socket: without
# removing it first, Avahi could connect to the dead socket before the new bus is up, fail, and
# leave ippeveprinter to die for want of it.
rm -f "$D/bus" "$D/avahi.log"
dbus-daemon --config-file="$D/dbus.conf" --nofork --nopidfile 2>"$D/dbus.log" &
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -S "$D/bus" ] && break; sleep 0.1; done
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/bus"
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$D/avahi.conf" >"$D/avahi.log" 2>&1 &
# Up to 10 s: on a loaded machine Avahi takes longer, and ippeveprinter asserts without it.
for _ in $(seq 1 100); do
  grep -q "Server startup complete" "$D/avahi.log" 2>/dev/null && break; sleep 0.1
done
exec ippeveprinter -p "$PORT" -d "$D/spool" "$@"

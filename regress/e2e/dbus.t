#!/bin/bash
# dbus.t -- the D-Bus service org.mozilla.vpn.dbus, as the Mozilla VPN
# client for Linux calls it, against a private dbus-daemon started here
# (bus_private: a system-type bus on a socket of this test, the default
# policy of Debian's system bus, the policy file vpnd ships, its
# activation file); vpnd finds it through DBUS_SYSTEM_BUS_ADDRESS.
# Checked: netmgr, not root, owns the name and the bus sees it as _vpnd;
# the activation file is read; introspection; a call carrying a
# descriptor never reaches netmgr; every method (version, status,
# activate, deactivate, getLogs, cleanupLogs) and both signals, as seen by
# an ordinary user's client; an activate over D-Bus seen by vpnctl status
# and monitor, a socket activate seen by D-Bus status and signalled on the
# bus, one signal per change; a bad jsonConfig (broken, invalid, a key
# twice) answered false with nothing changed and no signal; a caller
# neither root nor in group vpnd refused (false, "", one log line each,
# at most 20 a minute)
# while a member of the group is served; nobody else may own the name;
# SIGTERM with a tunnel up sends disconnected on the bus; after a restart
# the name comes back; the bus going away leaves vpnd serving its socket;
# a vpnd without a bus runs and says so once.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init dbus

command -v dbus-daemon >/dev/null || bail "no dbus-daemon"
command -v busctl >/dev/null || bail "no busctl"
command -v gdbus >/dev/null || bail "no gdbus"
VPNDGID=$(getent group vpnd | cut -d: -f3)
[ -n "$VPNDGID" ] || bail "no group vpnd (scripts/mkuser.sh)"
NAME=org.mozilla.vpn.dbus
ADDR=""

# as USER CMD...: CMD as USER (nobody, or nobody with group vpnd added)
as() {
	local who=$1
	shift
	case $who in
	root) "$@" ;;
	nobody) setpriv --reuid=65534 --regid=65534 --clear-groups "$@" ;;
	member) setpriv --reuid=65534 --regid=65534 --groups="$VPNDGID" "$@" ;;
	esac
}

# bc WHO ARGS...: busctl on the private bus as WHO, bounded
bc() {
	local who=$1
	shift
	as "$who" timeout 10 busctl --address="$ADDR" "$@"
}

# call WHO METHOD [SIG ARGS...]: a method of vpnd's service; prints the
# reply in busctl's form ('s "..."', 'b true', ...)
call() {
	local who=$1 m=$2
	shift 2
	bc "$who" call "$NAME" / "$NAME" "$m" "$@"
}

# jcall WHO METHOD: the string a method returns, as JSON text
jcall() {
	bc "$1" --json=short call "$NAME" / "$NAME" "$2" |
	    "$E2E_PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])'
}

has_name() {
	bc root status "$NAME" >/dev/null 2>&1
}

owner_uid() {
	bc root --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
	    org.freedesktop.DBus GetConnectionUnixUser s "$NAME" |
	    "$E2E_PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])'
}

owner_pid() {
	bc root --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
	    org.freedesktop.DBus GetConnectionUnixProcessID s "$NAME" |
	    "$E2E_PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])'
}

# the signals, as an ordinary user's client sees them (gdbus monitor)
monitor_start() {
	# started directly, not through a function (a subshell): the PID
	# recorded is gdbus's own (setpriv execs it), which the trap kills
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    gdbus monitor --address "$ADDR" --dest "$NAME" \
	    >>"$E2E_TMP/signals" 2>&1 &
	MONPID=$!
	E2E_PIDS="$E2E_PIDS $MONPID"
	# gdbus prints the owner once it watches the name
	wait_for 50 grep -q "owned by\|Monitoring signals" "$E2E_TMP/signals"
}

nsignals() {
	grep -c "$NAME.$1 " "$E2E_TMP/signals"
}

# signals NAME N: at least N signals NAME seen
signals() {
	[ "$(nsignals "$1")" -ge "$2" ]
}

bus_private
ADDR=$BUS_ADDR
client_server "w$$d"
SRV=$(pub_of srv)
DBUS_SYSTEM_BUS_ADDRESS=$ADDR vpnd_start a "$C" -D none ||
    bail "vpnd did not start"
SOCK=$(sock_of a)

# -- the name, its owner, the activation file
wait_for 50 has_name
ok $? "vpnd owns $NAME on the bus"
is "$(owner_uid)" "$(id -u _vpnd)" "the bus sees the owner as _vpnd"
NETMGR=$(child_of "$VPND_PID_a" netmgr)
is "$(owner_pid)" "$NETMGR" "the owner is netmgr"
grep -q 'libsystemd\.so' "/proc/$NETMGR/maps"
ok $? "with a bus, netmgr has mapped libsystemd (dlopen)"
bc root call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    ListActivatableNames | grep -q "\"$NAME\""
ok $? "the activation file names $NAME"
wait_for 30 grep -q "serving $NAME on the system bus" "$E2E_TMP/a/out"
ok $? "vpnd logs that it serves the name"
bc root introspect "$NAME" / "$NAME" >"$E2E_TMP/introspect" 2>&1
missing=""
for m in .version .activate .deactivate .status .getLogs .cleanupLogs \
    .connected .disconnected; do
	grep -q "^\\$m " "$E2E_TMP/introspect" || missing="$missing $m"
done
is "$missing" "" "introspection lists the six methods and two signals"
grep -E '^\.(activate|status|connected) ' "$E2E_TMP/introspect" |
    awk '{print $1, $2, $3, $4}' | LC_ALL=C sort >"$E2E_TMP/sigs"
is "$(cat "$E2E_TMP/sigs")" ".activate method s b
.connected signal s -
.status method - s" "signatures: activate(s)->b, status()->s, connected(s)"

monitor_start
ok $? "an ordinary user's client watches the signals"

# -- no descriptor reaches netmgr: it negotiated none with the bus
"$E2E_PY" - "$ADDR" "$NAME" >"$E2E_TMP/fdcall" 2>&1 <<'PY'
import sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
addr, name = sys.argv[1], sys.argv[2]
c = Gio.DBusConnection.new_for_address_sync(addr,
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
fds = Gio.UnixFDList.new()
fds.append(0)
try:
    c.call_with_unix_fd_list_sync(name, "/", name, "version",
        GLib.Variant("(h)", (0,)), None, Gio.DBusCallFlags.NONE, 5000, fds,
        None)
    print("delivered")
except GLib.Error as e:
    print(e.message)
PY
grep -q "NotSupported.*file descriptors" "$E2E_TMP/fdcall"
ok $? "a call carrying a descriptor is refused by the bus, never \
delivered ($(head -c 120 "$E2E_TMP/fdcall"))"

# -- anyone: version and status
is "$(call nobody version)" 's "1"' "version() as nobody: \"1\""
st=$(jcall nobody status)
is "$(echo "$st" | jget connected state)" "false
disconnected" "status() as nobody: the status object, disconnected"
echo "$st" | grep -q '"type"'
ok $((! $?)) "status(): no \"type\" member"

# -- refused: neither root nor in group vpnd
CONF=$(mozconf cli srv 51820 10.0.0.2 10.8.0.2/32 "" 10.8.0.1/32 |
    sed 's/"type":"activate",//')
nref() { grep -c "D-Bus .* refused: uid 65534" "$E2E_TMP/a/out"; }
is "$(call nobody activate s "$CONF")" "b false" "activate as nobody: false"
is "$(call nobody deactivate)" "b false" "deactivate as nobody: false"
is "$(call nobody getLogs)" 's ""' "getLogs as nobody: empty string"
is "$(call nobody cleanupLogs; echo rc=$?)" "rc=0" \
    "cleanupLogs as nobody: an empty reply"
nref_ge() { [ "$(nref)" -ge "$1" ]; }
wait_for 30 nref_ge 4
is "$(nref)" 4 "one log line per refused call, naming the uid"
# ... up to a bound: any local user can make these lines, and the log
# files are capped, so a stream of them must not push the log's history
# out (at most 20 a minute, then a note of how many were left out)
for i in $(seq 40); do
	call nobody getLogs >/dev/null
done
is "$(call member getLogs 2>/dev/null | head -c 3)" 's "' \
    "40 more refused calls: netmgr still answers a member"
n=$(nref)
[ "$n" -ge 20 ] && [ "$n" -lt 44 ]
ok $? "40 more refused calls within a minute: not a line each ($n lines)"
is "$(ctl a -j status | jget state)" disconnected \
    "nothing changed for the refused activate"
grep -q 'logs cleaned' "$E2E_TMP/a/out"
ok $((! $?)) "the refused cleanupLogs cleaned nothing"

# -- a member of group vpnd (a supplementary group, UnixGroupIDs)
lg=$(jcall member getLogs)
case $lg in *"serving $NAME"*) true ;; *) false ;; esac
ok $? "getLogs as a member of group vpnd: the log"
case $lg in *"|"*) false ;; *$'\n'*) true ;; *) false ;; esac
ok $? "getLogs: lines joined with newlines, not '|'"

# -- a bad jsonConfig: false, nothing changes, no signal
is "$(call root activate s '{"privateKey":')" "b false" \
    "activate with a broken JSON text: false"
is "$(call root activate s '{"privateKey":"x"}')" "b false" \
    "activate with an invalid configuration: false"
is "$(call root activate s "$(echo "$CONF" |
    sed 's/"serverPort":51820,/"serverPort":51820,"serverPort":1,/')")" \
    "b false" "activate with a key given twice: false"
wait_for 30 grep -q 'D-Bus activate failed: .*duplicate key' "$E2E_TMP/a/out"
ok $? "the socket's parser refused it (duplicate key logged)"
is "$(ctl a -j status | jget state)" disconnected "still disconnected"
is "$(nsignals disconnected)" 0 "no disconnected signal for a refused activate"

# -- activate over D-Bus: seen by vpnctl status, signalled on the bus
"$VPNCTL" -s "$SOCK" monitor >"$E2E_TMP/ctlmon" 2>&1 &
E2E_PIDS="$E2E_PIDS $!"
wait_for 50 test -e "$E2E_TMP/ctlmon"
is "$(call root activate s "$CONF")" "b true" "activate as root: true"
wait_for 100 signals connected 1
ok $? "D-Bus: connected signal"
grep -q "$NAME.connected ('$SRV',)" "$E2E_TMP/signals"
ok $? "connected carries the server's public key"
is "$(ctl a -j status | jget state)" connected \
    "vpnctl status sees the tunnel D-Bus activated"
wait_for 50 grep -q "connected" "$E2E_TMP/ctlmon"
ok $? "a socket client (vpnctl monitor) got connected"
wait_for 30 grep -q "activate requested by uid 0, pid [0-9]" "$E2E_TMP/a/out"
ok $? "the D-Bus caller's uid and pid are logged"
st=$(jcall nobody status)
is "$(echo "$st" | jget connected serverIpv4Gateway)" "true
10.8.0.1" "D-Bus status: connected, with the gateway"
ping_ok "$C" 10.8.0.1
ok $? "the tunnel carries traffic"

# -- deactivate over D-Bus
is "$(call root deactivate)" "b true" "deactivate as root: true"
wait_for 100 signals disconnected 1
ok $? "D-Bus: disconnected signal"
wait_for 50 sh -c "[ \"\$($VPNCTL -s $SOCK -j status |
    sed -n 's/.*\"state\":\"\\([a-z]*\\)\".*/\\1/p')\" = disconnected ]"
ok $? "vpnctl status: disconnected"

# -- activate over the socket: D-Bus sees it and is signalled
out=$(client -t 15 "$SOCK" "send:$(mozconf cli srv 51820 10.0.0.2 \
    10.8.0.2/32 "" 10.8.0.1/32)" expect:connected\|error)
is "$(echo "$out" | jget type)" connected "a socket activate connects"
wait_for 100 signals connected 2
ok $? "D-Bus: connected signal for the socket's activate"
is "$(jcall nobody status | jget connected)" true \
    "D-Bus status sees the socket's tunnel"
out=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected)
wait_for 100 signals disconnected 2
ok $? "D-Bus: disconnected signal for the socket's deactivate"
is "$(nsignals connected) $(nsignals disconnected)" "2 2" \
    "one signal each per change, whichever door"

# -- cleanupLogs
is "$(call root cleanupLogs; echo rc=$?)" "rc=0" "cleanupLogs as root"
lg=$(jcall root getLogs)
case $lg in *"serving $NAME"*) false ;; *) true ;; esac
ok $? "getLogs after cleanupLogs: the old lines are gone"

# -- the policy: nobody else may own the name, even while it is free
as nobody timeout 10 gdbus call --address "$ADDR" -d org.freedesktop.DBus \
    -o /org/freedesktop/DBus -m org.freedesktop.DBus.RequestName "$NAME" 4 \
    >"$E2E_TMP/squat" 2>&1
grep -q AccessDenied "$E2E_TMP/squat"
ok $? "nobody may not own $NAME (AccessDenied)"

# -- SIGTERM with the tunnel up takes it down and says so on the bus, as
# the Mozilla daemon does; then a restart: the name comes back
is "$(call root activate s "$CONF")" "b true" "activate again"
wait_for 100 signals connected 3
ok $? "D-Bus: connected signal"
OLD=$NETMGR
kill -TERM "$VPND_PID_a"
wait_gone "$VPND_PID_a" 100
ok $? "vpnd stops on SIGTERM"
wait_for 50 signals disconnected 3
ok $? "D-Bus: disconnected signal for the shutdown"
wait_for 50 sh -c "! busctl --address='$ADDR' status $NAME"
ok $? "the name is released"
DBUS_SYSTEM_BUS_ADDRESS=$ADDR vpnd_start b "$C" -D none ||
    bail "vpnd b did not start"
wait_for 50 has_name
ok $? "after a restart, vpnd owns the name again"
NETMGR=$(child_of "$VPND_PID_b" netmgr)
[ "$(owner_pid)" = "$NETMGR" ] && [ "$NETMGR" != "$OLD" ]
ok $? "the new netmgr owns it"
is "$(call nobody version)" 's "1"' "the new instance answers"

# -- nothing of the test's clients outlives it: gdbus is what the trap kills
[ "$(cat /proc/$MONPID/comm 2>/dev/null)" = gdbus ]
ok $? "the monitor's recorded PID is gdbus itself"

# -- the bus goes away: vpnd carries on with its socket
kill -TERM "$BUS_PID"
wait_gone "$BUS_PID" 50
wait_for 50 grep -q "system bus: lost" "$E2E_TMP/b/out"
ok $? "vpnd logs that the bus is gone"
pid_alive "$VPND_PID_b"
ok $? "vpnd still runs"
is "$(ctl b -j status | jget state)" disconnected "its socket still serves"

# -- no bus at all: vpnd runs without the door, and says so once
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$E2E_TMP/bus/none" vpnd_start c "$(ns_add n)" \
    -D none
ok $? "vpnd starts without a bus"
wait_for 30 grep -q "no system bus" "$E2E_TMP/c/out"
is "$(grep -c "no system bus" "$E2E_TMP/c/out")" 1 "it says so once"
NETMGR=$(child_of "$VPND_PID_c" netmgr)
[ -n "$NETMGR" ] && ! grep -q 'libsystemd\.so' "/proc/$NETMGR/maps"
ok $? "without a bus, netmgr never maps libsystemd"
grep -q 'libsystemd\.so' "/proc/$(child_of "$VPND_PID_c" dnsmgr)/maps"
ok $((! $?)) "nor does dnsmgr without systemd-resolved (-D none)"

e2e_done

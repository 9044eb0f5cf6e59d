#!/bin/bash
# dbus_hostile.t -- local users against the D-Bus service
# org.mozilla.vpn.dbus, on a private dbus-daemon started here with the
# default policy of Debian's system bus and the policy file vpnd ships
# (bus_private, as dbus.t). Checked: org.freedesktop.DBus.Peer's
# GetMachineId (which sd-bus answers by opening a file the sandbox
# forbids) is answered, with a machine id and without one, and netmgr
# lives; wrong signatures and unknown methods are errors; a
# jsonConfig longer than the control protocol's line is refused at once
# and a stream of huge ones does not grow netmgr; a flood of calls from
# an ordinary user does not keep a member of group vpnd out, nor do
# another user's calls holding all the memory kept for calls whose caller
# the bus has not named yet (a member's call waits, it is not refused);
# the private key of a refused activate is not left in netmgr's memory; nobody but
# vpnd may send the interface's signals; uid 0 of a user namespace is
# its real uid.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init dbus_hostile

command -v busctl >/dev/null || bail "no busctl"
command -v gdbus >/dev/null || bail "no gdbus"
NAME=org.mozilla.vpn.dbus
VPNDGID=$(getent group vpnd | cut -d: -f3)
[ -n "$VPNDGID" ] || bail "no group vpnd (scripts/mkuser.sh)"
bus_private
ADDR=$BUS_ADDR

as() {
	local who=$1
	shift
	case $who in
	root) "$@" ;;
	nobody) setpriv --reuid=65534 --regid=65534 --clear-groups "$@" ;;
	member) setpriv --reuid=65534 --regid=65534 --groups="$VPNDGID" "$@" ;;
	esac
}

call() {
	local who=$1 m=$2
	shift 2
	as "$who" timeout 20 busctl --address="$ADDR" call "$NAME" / "$NAME" \
	    "$m" "$@" 2>&1
}

# calls.py ADDR NAME WHAT...: D-Bus calls from Python (Gio), for what
# busctl cannot send: many at once, or arguments of megabytes.
#   flood N STOPFILE same|new: N calls of status at a time, spread over
#	the same four connections, or each time on 16 new ones, again and
#	again until STOPFILE exists; prints how many were answered and how
#	many refused for the limit
#   huge N MB: N activate calls at once, each a jsonConfig of MB MiB;
#	prints the distinct replies ("bus queue full": refused by the bus,
#	whose queue for netmgr is full, when netmgr reads more slowly than
#	they come)
#   fill N: from N new connections, activate calls whose jsonConfigs add
#	up to 2 MiB (32 of 65000 bytes and one of the rest); once the bus
#	has passed them all on (a round trip to the bus driver on each
#	connection) prints "queued", then the distinct replies
#   one JSON: one activate call; "queued" once the bus passed it on,
#	then its answer
cat >"$E2E_TMP/calls.py" <<'PY'
import os, sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
addr, name, what = sys.argv[1], sys.argv[2], sys.argv[3]
def connect():
    return Gio.DBusConnection.new_for_address_sync(addr,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
loop = GLib.MainLoop()
res = {}
left = [0]
def done(conn, r, _):
    try:
        conn.call_finish(r)
        k = "answered"
    except GLib.Error as e:
        k = e.message
        if "full message queue" in k:
            k = "bus queue full"	# the bus's own limit, not netmgr's
        elif "LimitsExceeded" in k:
            k = "limit"
    res[k] = res.get(k, 0) + 1
    left[0] -= 1
    if left[0] == 0:
        loop.quit()
def one_done(conn, r, _):
    try:
        k = "answer %s" % (conn.call_finish(r).unpack(),)
    except GLib.Error as e:
        k = "error " + e.message
    res[k] = 1
    loop.quit()
conns = []
def batch(method, args, n, new=True):
    if new or not conns:
        conns[:] = [connect() for i in range(16 if new else 4)]
    left[0] = n
    for i in range(n):
        c = conns[i % len(conns)]
        c.call(name, "/", name, method, args, None, Gio.DBusCallFlags.NONE,
            20000, None, done, None)
    loop.run()
if what == "flood":
    n, stop, new = int(sys.argv[4]), sys.argv[5], sys.argv[6] == "new"
    while not os.path.exists(stop):
        batch("status", None, n, new)
    print("answered=%d limit=%d" % (res.get("answered", 0),
        res.get("limit", 0)))
elif what in ("fill", "one"):
    if what == "fill":
        conns[:] = [connect() for i in range(int(sys.argv[4]))]
        confs = ["A" * 65000] * 32 + ["A" * (2 * 1024 * 1024 - 32 * 65000)]
    else:
        conns[:] = [connect()]
        confs = [sys.argv[4]]
    left[0] = len(confs)
    for i, conf in enumerate(confs):
        conns[i % len(conns)].call(name, "/", name, "activate",
            GLib.Variant("(s)", (conf,)), None, Gio.DBusCallFlags.NONE,
            20000, None, done if what == "fill" else one_done, None)
    for c in conns:
        c.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
            "org.freedesktop.DBus", "GetId", None, None,
            Gio.DBusCallFlags.NONE, 10000, None)
    print("queued", flush=True)
    loop.run()
    for k in sorted(res):
        print("%s" % k)
else:
    n, mb = int(sys.argv[4]), int(sys.argv[5])
    conf = '{"privateKey":"' + "A" * (mb << 20) + '"}'
    batch("activate", GLib.Variant("(s)", (conf,)), n)
    for k in sorted(res):
        print("%s" % k)
PY
chmod 644 "$E2E_TMP/calls.py"
PY() { as "$1" timeout 60 "$E2E_PY" "$E2E_TMP/calls.py" "$ADDR" "$NAME" \
    "${@:2}"; }

# memhas PID TEXT: how many times TEXT is in the process's writable memory
memhas() {
	"$E2E_PY" - "$1" "$2" <<'PY'
import sys
pid, needle = sys.argv[1], sys.argv[2].encode()
n = 0
with open("/proc/%s/maps" % pid) as maps, \
        open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if "w" not in f[1]:
            continue
        a, b = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(a)
            n += mem.read(b - a).count(needle)
        except (OSError, ValueError, OverflowError):
            pass
print(n)
PY
}

hwm_kb() {
	status_field "$1" VmHWM | awk '{print $1}'
}

N=$(ns_add n)
DBUS_SYSTEM_BUS_ADDRESS=$ADDR vpnd_start a "$N" -D none ||
    bail "vpnd did not start"
wait_for 50 grep -q "serving $NAME on the system bus" "$E2E_TMP/a/out" ||
    bail "vpnd does not serve $NAME"
NETMGR=$(child_of "$VPND_PID_a" netmgr)

# -- org.freedesktop.DBus.Peer, which the policy lets anyone call
out=$(as nobody timeout 10 busctl --address="$ADDR" call "$NAME" / \
    org.freedesktop.DBus.Peer GetMachineId 2>&1)
case $out in 's "'*) true ;; *) false ;; esac
ok $? "Peer.GetMachineId as nobody: answered ($out)"
pid_alive "$NETMGR"
ok $? "netmgr lives after GetMachineId"
is "$(as nobody timeout 10 busctl --address="$ADDR" call "$NAME" / \
    org.freedesktop.DBus.Peer Ping 2>&1; echo rc=$?)" "rc=0" \
    "Peer.Ping as nobody"
is "$(call nobody version)" 's "1"' "version still answers"


# -- calls that do not fit
case $(call member activate i 5) in *"Invalid"*) true ;; *) false ;; esac
ok $? "activate with an int: an error"
case $(call member nosuch) in *"nknown method"*) true ;; *) false ;; esac
ok $? "an unknown method: an error"
case $(call member status s x) in *"Invalid"*) true ;; *) false ;; esac
ok $? "status with an argument: an error"
as nobody timeout 10 busctl --address="$ADDR" introspect "$NAME" /nowhere \
    >/dev/null 2>&1
pid_alive "$NETMGR"
ok $? "Introspect of an unknown path as nobody: netmgr lives"

# -- a jsonConfig longer than a line of the control protocol
big=$(head -c 70000 /dev/zero | tr '\0' A)
case $(call member activate s "{\"privateKey\":\"$big\"}") in
*"longer than 65536 bytes"*) true ;; *) false ;; esac
ok $? "a 70 kB jsonConfig: refused at once as too long"
before=$(hwm_kb "$NETMGR")
out=$(PY nobody huge 24 16)
case $(printf '%s\n' "$out" | grep -v "^bus queue full$") in
*InvalidArgs:\ jsonConfig\ longer\ than\ 65536\ bytes) true ;;
*) false ;;
esac
ok $? "24 calls at once of 16 MiB each: all refused as too long, by \
netmgr or by the bus ($(printf '%s' "$out" | tr '\n' ' '))"
after=$(hwm_kb "$NETMGR")
diag "netmgr VmHWM ${before} kB before, ${after} kB after"
# one message at a time: 16 MiB and sd-bus's copy of the header
[ $((after - before)) -lt $((3 * 16 * 1024)) ]
ok $? "netmgr never held more than one of them (+$((after - before)) kB)"

# -- a flood of one user's calls does not keep out a member: from 16
# connections (more than 4 x 8 calls in progress), then from ever new
# ones (each asked about); with a tunnel up (connecting to a server that
# does not answer), so each status waits for tunworker
veth "$N" eth0 "$(ns_add p)" eth0
ip -n "$N" addr add 10.0.0.1/24 dev eth0
keypair cli
keypair srv
CONF=$(mozconf cli srv 51820 10.0.0.2 10.8.0.2/32 "" 10.8.0.1/32 |
    sed 's/"type":"activate",//')
is "$(call root activate s "$CONF")" "b true" "activate as root: true"
diag "state: $(ctl_state a)"
# flood same|new: as above; the member's calls counted in SERVED, REFUSED
flood() {
	local i p fl r
	rm -f "$E2E_TMP/stop" "$E2E_TMP"/flood?
	fl=""
	for i in 1 2 3 4; do
		PY nobody flood 300 "$E2E_TMP/stop" "$1" \
		    >"$E2E_TMP/flood$i" 2>&1 &
		fl="$fl $!"
	done
	E2E_PIDS="$E2E_PIDS $fl"
	served=0
	refused=0
	for i in $(seq 20); do
		r=$(call member getLogs)
		case $r in
		's "'2*) served=$((served + 1)) ;;
		*) refused=$((refused + 1))
		   diag "member's getLogs: $(printf '%s' "$r" | head -c 200)" ;;
		esac
	done
	: >"$E2E_TMP/stop"
	for p in $fl; do
		wait "$p"
	done
	sed 's/^/# flood: /' "$E2E_TMP"/flood?
	limited=$(sed -n 's/.*limit=\([0-9]*\)/\1/p' "$E2E_TMP"/flood? |
	    awk '{ n += $1 } END { print n + 0 }')
}
for how in same new; do
	flood $how
	[ "$limited" -gt 0 ]
	ok $? "flood ($how connections): refused in part ($limited calls \
over the limit)"
	is "$served $refused" "20 0" "meanwhile a member's 20 getLogs calls: \
all served"
done
pid_alive "$NETMGR"
ok $? "netmgr lives after the floods"

# -- uid 0 in a user namespace is the uid the bus knows (before the
# fills below: their refusals use up the minute's log lines of the kind)
n0=$(grep -c "getLogs refused: uid 65534" "$E2E_TMP/a/out")
is "$(as nobody unshare -U -r timeout 10 busctl --address="$ADDR" call \
    "$NAME" / "$NAME" getLogs 2>&1)" 's ""' \
    "getLogs as root of a user namespace of nobody's: empty"
wait_for 30 sh -c "[ \$(grep -c 'getLogs refused: uid 65534' \
    '$E2E_TMP/a/out') -gt $n0 ]"
ok $? "refused as uid 65534"

# -- another user's activate calls hold all the memory kept for calls
# whose caller the bus has not named yet (2 MiB of jsonConfig), queued
# for netmgr while it is stopped, and a member's activate behind them:
# it waits for room (the bus driver's answers), it is not refused
cfg=$(printf '%1000s' | tr ' ' B)
for round in 1 2 3; do
	kill -STOP "$NETMGR"
	PY nobody fill 6 >"$E2E_TMP/fill" 2>&1 &
	fp=$!
	op=""
	r=1
	E2E_PIDS="$E2E_PIDS $fp"
	# the member's call after all of the others
	if wait_for 100 grep -q queued "$E2E_TMP/fill"; then
		PY member one "{\"privateKey\":\"x\",\"y\":\"$cfg\"}" \
		    >"$E2E_TMP/one" 2>&1 &
		op=$!
		E2E_PIDS="$E2E_PIDS $op"
		wait_for 100 grep -q queued "$E2E_TMP/one" && r=0
	fi
	kill -CONT "$NETMGR"
	[ $r = 0 ] || bail "the calls were not queued: $(cat "$E2E_TMP/fill" \
	    "$E2E_TMP/one" 2>&1)"
	wait "$fp" "$op"
	diag "the other user's: $(sed 1d "$E2E_TMP/fill" | tr '\n' ' ')"
	is "$(sed 1d "$E2E_TMP/one")" "answer (False,)" "round $round: a \
member's activate behind 2 MiB of jsonConfig waiting for the bus: answered"
done
is "$(call root deactivate)" "b true" "deactivate as root: true"
wait_for 50 sh -c "$VPNCTL -s $(sock_of a) -j status | grep -q '\"state\":\"disconnected\"'"
is "$(memhas "$NETMGR" "$(key_of cli)")" 0 \
    "after deactivate, the private key of the activate is not in netmgr's memory"

# -- the private key of a refused activate
KEY=$(head -c 32 /dev/urandom | base64)
is "$(call nobody activate s "{\"privateKey\":\"$KEY\"}")" "b false" \
    "activate as nobody: false"
is "$(memhas "$NETMGR" "$KEY")" 0 "its private key is not in netmgr's memory"
KEY=$(head -c 32 /dev/urandom | base64)
case $(call member activate s "{\"privateKey\":\"$KEY\",\"x\":\"$big\"}") in
*"longer than"*) true ;; *) false ;; esac
ok $? "a too long activate as a member: refused"
is "$(memhas "$NETMGR" "$KEY")" 0 "its private key is not in netmgr's memory"

# -- the signals are vpnd's alone: a client of nobody's that listens to
# the interface from any sender, as one that does not check the sender
# would, hears root's signal and not nobody's, sent before it
cat >"$E2E_TMP/listen.py" <<'PY'
import sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib
c = Gio.DBusConnection.new_for_address_sync(sys.argv[1],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
loop = GLib.MainLoop()
def heard(conn, sender, path, iface, member, args):
    print(member, args.unpack(), flush=True)
    if args.unpack() == ("control",):
        loop.quit()
c.signal_subscribe(None, sys.argv[2], None, None, None,
    Gio.DBusSignalFlags.NONE, heard)
c.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
    "org.freedesktop.DBus", "GetId", None, None, Gio.DBusCallFlags.NONE,
    5000, None)
print("listening", flush=True)
loop.run()
PY
chmod 644 "$E2E_TMP/listen.py"
as nobody timeout 30 "$E2E_PY" "$E2E_TMP/listen.py" "$ADDR" "$NAME" \
    >"$E2E_TMP/heard" 2>&1 &
LISTEN=$!
E2E_PIDS="$E2E_PIDS $LISTEN"
wait_for 50 grep -q listening "$E2E_TMP/heard"
emit() {
	DBUS_SYSTEM_BUS_ADDRESS=$ADDR as "$1" timeout 10 gdbus emit --system \
	    -o "$2" -s "$NAME.$3" ${4:+"$4"}
}
emit nobody / connected "'forged'"
emit nobody /x disconnected
emit root / connected "'control'"
wait_for 100 grep -q control "$E2E_TMP/heard"
ok $? "a listener hears root's signal (the control)"
grep -q "forged\|disconnected" "$E2E_TMP/heard"
ok $((! $?)) "and not the connected and disconnected nobody sent before it"
diag "heard: $(grep -v listening "$E2E_TMP/heard" | tr '\n' ' ')"

pid_alive "$NETMGR"
ok $? "netmgr lives to the end"

# a host without a machine id: sd-bus would look for it at every call;
# a second vpnd, whose mount namespace has an empty /etc/machine-id
: >"$E2E_TMP/no-machine-id"
cat >"$E2E_TMP/vpnd-nomid" <<EOF2
#!/bin/sh
exec unshare -m --propagation private sh -c \
    'mount --bind "\$0" /etc/machine-id && exec "\$@"' \
    "$E2E_TMP/no-machine-id" "$VPND" "\$@"
EOF2
chmod 755 "$E2E_TMP/vpnd-nomid"
N2=$(ns_add m)
kill -TERM "$VPND_PID_a"
wait_gone "$VPND_PID_a" 100 || bail "vpnd a did not stop"
VPND_BIN="$E2E_TMP/vpnd-nomid" DBUS_SYSTEM_BUS_ADDRESS=$ADDR \
    vpnd_start b "$N2" -D none || bail "vpnd b did not start"
wait_for 50 grep -q "serving $NAME" "$E2E_TMP/b/out" ||
    bail "vpnd b does not serve $NAME"
NETMGR=$(child_of "$VPND_PID_b" netmgr)
out=$(as nobody timeout 10 busctl --address="$ADDR" call "$NAME" / \
    org.freedesktop.DBus.Peer GetMachineId 2>&1)
case $out in *"no machine id"*) true ;; *) false ;; esac
ok $? "without a machine id, GetMachineId is an error ($out)"
pid_alive "$NETMGR"
ok $? "and netmgr lives"
e2e_done

#!/bin/bash
# cpulat.t -- vpnd -l: a CPU wake-up latency asked for while the tunnel
# carries packets, and only then. The parent opens /dev/cpu_dma_latency
# and keeps it; tunworker tells it when the first packet after a quiet
# spell moves (IMSG_CPU_HOLD), and when a second has passed since the
# last, or the tunnel is taken down: the parent writes the latency, or -1
# (the kernel's "no request"). A test build can point the parent at a
# file instead (VPND_CPULAT_PATH): each write lands in it as one 32-bit
# integer, so the file is the history of the requests. The real device is
# checked too where there is one and no request of 0 is held already:
# the kernel's aggregate reads back what vpnd asked for, and what it was
# once vpnd is gone.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init cpulat

[ -x "$VPND_TEST" ] || bail "no test build ($VPND_TEST): make TESTHOOKS=1"
VPND_BIN=$VPND_TEST
export VPND_BIN
LAT="$E2E_TMP/cpulat"

# reqs FILE: the requests written so far, comma-separated
reqs() {
	[ -s "$1" ] || return 0
	od -An -v -td4 -w4 "$1" | tr -d ' ' | paste -sd,
}
reqs_are() { [ "$(reqs "$1")" = "$2" ]; }

# fd_to PID PATH: a descriptor of PID open on PATH; prints its flags
fd_to() {
	local f
	for f in /proc/"$1"/fd/*; do
		if [ "$(readlink "$f")" = "$2" ]; then
			awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${f##*/}"
			return 0
		fi
	done
	return 1
}

# pinging NS ADDR: pings every 20 ms in the background (PING)
pinging() {
	ip netns exec "$1" ping -i 0.02 -W 1 -q "$2" >/dev/null 2>&1 &
	PING=$!
	E2E_PIDS="$E2E_PIDS $PING"
}
ping_stop() {
	kill "$PING" 2>/dev/null
	wait "$PING" 2>/dev/null
}

# rx_of SOCK: the bytes received through the tunnel so far (keepalives
# too); rx_past SOCK N: more than N
rx_of() {
	client "$1" 'send:{"type":"status"}' expect:status 2>/dev/null |
	    jget rxBytes
}
rx_past() { [ "$(rx_of "$1")" -gt "$2" ]; }

for bad in -1 100001 abc 1x ""; do
	out=$("$VPND_TEST" -n -l "$bad" 2>&1)
	rc=$?
	[ "$rc" = 2 ] && echo "$out" | grep -q -- "-l: CPU wake-up latency"
	ok $? "-l '$bad': refused, exit 2 ($rc: $(echo "$out" | head -1))"
done

WG="w$$l"
client_server "$WG"
# the server sends keepalives every second: they must not count
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" persistent-keepalive 1 ||
    bail "keepalive"
ACT=$(act4)

: >"$LAT"
VPND_CPULAT_PATH=$LAT vpnd_start c "$C" -l 7 || bail "vpnd -l 7 did not start"
SOCK=$(sock_of c)
TW=$(child_of "$VPND_PID_c" tunworker)
fl=$(fd_to "$VPND_PID_c" "$LAT")
ok $? "the parent holds the latency descriptor (flags $fl)"
# O_WRONLY (01), close-on-exec (02000000), non-blocking (04000)
[ $((0$fl & 3)) = 1 ] && [ $((0$fl & 02000000)) != 0 ] &&
    [ $((0$fl & 04000)) != 0 ]
ok $? "the descriptor is write-only, close-on-exec, non-blocking"
for c in tunworker netmgr dnsmgr; do
	fd_to "$(child_of "$VPND_PID_c" $c)" "$LAT" >/dev/null
	ok $((!$?)) "$c has no such descriptor"
done
grep -q "CPU wake-up latency of 7 us" "$E2E_TMP/c/out"
ok $? "the parent says what it will ask for"
reqs_are "$LAT" ""
ok $? "disconnected: nothing asked"

out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate: connected"
# the handshake and the keepalives are not the tunnel carrying packets:
# two keepalives in (the counter moves twice), and still nothing asked
r0=$(rx_of "$SOCK")
wait_for 50 rx_past "$SOCK" $((${r0:-0} + 32))
ok $? "two keepalives arrived (rx ${r0:-?} -> $(rx_of "$SOCK") bytes)"
reqs_are "$LAT" ""
ok $? "connected, keepalives only: nothing asked ($(reqs "$LAT"))"

pinging "$C" 10.8.0.1
wait_for 50 reqs_are "$LAT" 7
ok $? "packets move: 7 us asked for ($(reqs "$LAT"))"
ping_stop
wait_for 60 reqs_are "$LAT" 7,-1
ok $? "a second after the last packet: withdrawn ($(reqs "$LAT"))"
ping_ok "$C" 10.8.0.1
ok $? "ping after the quiet spell"
wait_for 50 reqs_are "$LAT" 7,-1,7
ok $? "the first packet after it asks again ($(reqs "$LAT"))"
# held while they keep moving, once: not a write per packet
pinging "$C" 10.8.0.1
sleep 3		# a window to count writes in, not a wait for anything
reqs_are "$LAT" 7,-1,7
ok $? "pings for 3 s: one request, held ($(reqs "$LAT"))"
out=$(client -t 20 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected 2>&1)
ok $? "deactivate: disconnected"
reqs_are "$LAT" 7,-1,7,-1
ok $? "deactivated: withdrawn at once, before netmgr says so ($(reqs "$LAT"))"
ping_stop
out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate again: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows again"
new_ask() { reqs "$LAT" | grep -qx '7,-1,7,-1,7\(,-1\)\{0,1\}'; }
wait_for 50 new_ask
ok $? "the new tunnel asks again ($(reqs "$LAT"))"
ctl c down >/dev/null 2>&1
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "vpnd -l 7 stopped"

# without -l: no descriptor, nothing written, traffic as before
: >"$LAT"
VPND_CPULAT_PATH=$LAT vpnd_start d "$C" || bail "vpnd did not start"
out=$(client -t 20 "$(sock_of d)" "send:$ACT" expect:connected 2>&1)
ok $? "without -l: connected"
ping_ok "$C" 10.8.0.1
ok $? "without -l: traffic flows"
fd_to "$VPND_PID_d" "$LAT" >/dev/null
ok $((!$?)) "without -l: the parent has no latency descriptor"
reqs_are "$LAT" ""
ok $? "without -l: nothing asked"
kill -TERM "$VPND_PID_d"
wait_gone "$VPND_PID_d" 50

# a device that cannot be opened: said, and the tunnel works without it
VPND_CPULAT_PATH=$E2E_TMP/none/cpulat vpnd_start e "$C" -l 0 ||
    bail "vpnd -l 0 without the device did not start"
grep -q -- "-l 0: .*/none/cpulat.*No such file" "$E2E_TMP/e/out"
ok $? "no device: vpnd says so and runs on"
out=$(client -t 20 "$(sock_of e)" "send:$ACT" expect:connected 2>&1)
ok $? "no device: connected"
ping_ok "$C" 10.8.0.1
ok $? "no device: traffic flows"
kill -TERM "$VPND_PID_e"
wait_gone "$VPND_PID_e" 50

# a device that takes no write (/dev/full: ENOSPC): said once, the
# descriptor given up, the tunnel unharmed; a FIFO nobody reads cannot
# be opened without blocking, so it is not (vpnd would hang in open)
VPND_CPULAT_PATH=/dev/full vpnd_start h "$C" -l 7 ||
    bail "vpnd -l 7 (/dev/full) did not start"
out=$(client -t 20 "$(sock_of h)" "send:$ACT" expect:connected 2>&1)
ok $? "/dev/full: connected"
ping_ok "$C" 10.8.0.1
ok $? "/dev/full: traffic flows"
wait_for 50 grep -q "CPU latency request: given up: No space left" "$E2E_TMP/h/out"
ok $? "/dev/full: the failed request is said"
fd_to "$VPND_PID_h" /dev/full >/dev/null
ok $((!$?)) "/dev/full: and the descriptor given up"
ping_ok "$C" 10.8.0.1
is "$(grep -c "CPU latency request" "$E2E_TMP/h/out")" 1 "/dev/full: said once"
kill -TERM "$VPND_PID_h"
wait_gone "$VPND_PID_h" 50
mkfifo "$E2E_TMP/fifo"
VPND_CPULAT_PATH=$E2E_TMP/fifo vpnd_start i "$C" -l 7
ok $? "a FIFO with no reader: vpnd starts all the same"
grep -q -- "-l 7: .*fifo.*No such device or address" "$E2E_TMP/i/out"
ok $? "a FIFO with no reader: not opened, and said"
kill -TERM "$VPND_PID_i"
wait_gone "$VPND_PID_i" 50

# the first packet after a quiet spell asks at once, not at the control
# thread's next tick: with protocol time at a fifth of real time
# (VPND_TIME_SCALE, test builds) the idle tick and the linger are 5 s,
# and the request must come well before that tick could
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" persistent-keepalive 0 ||
    bail "keepalive off"
: >"$LAT"
VPND_TIME_SCALE=0.2 VPND_CPULAT_PATH=$LAT vpnd_start g "$C" -l 7 ||
    bail "vpnd -l 7 (slow time) did not start"
out=$(client -t 20 "$(sock_of g)" "send:$ACT" expect:connected 2>&1)
ok $? "slow time: connected"
ping_ok "$C" 10.8.0.1
wait_for 50 reqs_are "$LAT" 7
ok $? "slow time: asked ($(reqs "$LAT"))"
wait_for 150 reqs_are "$LAT" 7,-1
ok $? "slow time: withdrawn after the (5 s) linger ($(reqs "$LAT"))"
ip netns exec "$C" ping -c 1 -W 2 -q 10.8.0.1 >/dev/null 2>&1
ok $? "slow time: one ping"
wait_for 20 reqs_are "$LAT" 7,-1,7
ok $? "slow time: its packet asked within 2 s, before the next 5 s tick ($(reqs "$LAT"))"
kill -TERM "$VPND_PID_g"
wait_gone "$VPND_PID_g" 50

# the real device: the kernel's aggregate (what reading it returns), with
# -l 0, which no other request can be below
qos_now() {
	"$E2E_PY" -c 'import os, struct
fd = os.open("/dev/cpu_dma_latency", os.O_RDONLY)
print(struct.unpack("i", os.read(fd, 4))[0])'
}
qos_is() { [ "$(qos_now)" = "$1" ]; }
Q0=$(qos_now 2>/dev/null)
if [ -z "$Q0" ] || [ "$Q0" = 0 ]; then
	for i in 1 2 3 4; do
		ok 0 "# SKIP no /dev/cpu_dma_latency, or a request of 0 is held (${Q0:-none})"
	done
else
	vpnd_start f "$C" -l 0 || bail "vpnd -l 0 (device) did not start"
	out=$(client -t 20 "$(sock_of f)" "send:$ACT" expect:connected 2>&1)
	pinging "$C" 10.8.0.1
	wait_for 50 qos_is 0
	ok $? "the device: the kernel's CPU latency limit is 0 while packets move (was $Q0)"
	ping_stop
	wait_for 60 qos_is "$Q0"
	ok $? "the device: back to $Q0 after the last packet"
	pinging "$C" 10.8.0.1
	wait_for 50 qos_is 0
	ok $? "the device: 0 again"
	# vpnd killed holding it: the kernel drops the request
	kill -KILL "$VPND_PID_f"
	wait_for 50 qos_is "$Q0"
	ok $? "the device: vpnd killed while asking: the request is gone"
	ping_stop
	kill -TERM "$VPND_PID_f" 2>/dev/null	# gone with its child, maybe
	wait_gone "$VPND_PID_f" 50
fi
e2e_done

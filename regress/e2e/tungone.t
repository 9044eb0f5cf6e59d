#!/bin/bash
# tungone.t -- the tunnel interface is deleted under a connected client
# (ip link del vpn0: an administrator, or another tool): the daemon
# notices (the dead TUN polls as an error at once), reports a backend
# failure and leaves the connected state, its tunworker lives on without
# spinning, and a fresh activate brings the tunnel back. The link set down
# is not gone; a second deletion, after the reactivation, is reported too.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 90 "$@"
e2e_init tungone

WG="w$$g"
client_server "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
ACT=$(act4)
out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows"
TW=$(child_of "$VPND_PID_c" tunworker)
ok $? "tunworker found ($TW)"

# link down is not deletion: still connected, nothing said, no spin
ip -n "$C" link set vpn0 down
ok $? "vpn0 set down"
t0=$(cpu_ticks "$TW")
sleep 1
t1=$(cpu_ticks "$TW")
[ "$(ctl_state c)" = connected ]
ok $? "link down: still connected ($(ctl_state c))"
! grep -q "the tunnel interface is gone" "$E2E_TMP/c/out"
ok $? "link down: not reported gone"
[ $((t1 - t0)) -lt 20 ]
ok $? "link down: tunworker idle ($((t1 - t0)) ticks in 1 s)"
ip -n "$C" link set vpn0 up
ok $? "vpn0 set up again"
wait_for 50 grep -q 'vpn0 is up again' "$E2E_TMP/c/out"
ok $? "its routes restored"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows after the down and up"

# delete_vpn0 N WHAT: vpn0 deleted under a client listening to the
# daemon, which must hear backendFailure, and the log says it N times
delete_vpn0() {
	local n=$1 what=$2 lpid
	client -t 20 "$SOCK" "touch:$E2E_TMP/listening$n" \
	    expect:backendFailure >"$E2E_TMP/fail$n.out" 2>&1 &
	lpid=$!
	E2E_PIDS="$E2E_PIDS $lpid"
	wait_for 50 test -e "$E2E_TMP/listening$n" ||
	    bail "the listener did not connect"
	ip -n "$C" link del vpn0
	ok $? "$what: vpn0 deleted"
	wait $lpid
	ok $? "$what: a listening client hears backendFailure"
	wait_for 50 sh -c "[ \$(grep -c 'the tunnel interface is gone' \
	    '$E2E_TMP/c/out') -ge $n ]"
	ok $? "$what: the log says why"
}

delete_vpn0 1 "first deletion"
wait_for 100 sh -c "[ \"\$(\"$VPNCTL\" -s \"$SOCK\" -j status | \"$E2E_PY\" \"$E2E_CLIENT\" jget state)\" != connected ]"
ok $? "the daemon reports the tunnel no longer connected ($(ctl_state c))"

# the tunworker is the same process, and sleeps: its CPU over a 1 s
# window (a measurement, not a wait for anything)
pid_alive "$TW"
ok $? "tunworker lives on"
t0=$(cpu_ticks "$TW")
sleep 1
t1=$(cpu_ticks "$TW")
[ $((t1 - t0)) -lt 20 ]
ok $? "tunworker idle afterwards ($((t1 - t0)) ticks in 1 s, CLK_TCK $(getconf CLK_TCK))"

out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate again: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows again over a new vpn0"

# the new data path reports its own deletion (said once per data path)
delete_vpn0 2 "second deletion"
out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate a third time: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows over the third vpn0"
[ "$(grep -c 'was set down' "$E2E_TMP/c/out")" -le 1 ]
ok $? "a deletion is not taken for a down ($(grep -c 'was set down' \
    "$E2E_TMP/c/out") said, 1 set down)"
e2e_done

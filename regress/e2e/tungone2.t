#!/bin/bash
# tungone2.t -- vpn0 goes down (ip link set down: must NOT count
# as gone), comes back up, then is deleted twice with a reactivation in
# between: each deletion must be reported (tun_gone_said is per data path).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init tungone2

WG="w$$g"
client_server "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
ACT=$(printf '{"type":"activate","privateKey":"%s","publicKey":"%s","serverPublicKey":"%s","serverPort":51820,"serverIpv4AddrIn":"10.0.0.2","deviceIpv4Address":"10.8.0.2/32","allowedIPAddressRanges":[{"address":"10.8.0.1","range":32,"isIpv6":false}]}' \
    "$(key_of cli)" "$(pub_of cli)" "$(pub_of srv)")
out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows"
TW=$(child_of "$VPND_PID_c" tunworker)

# link down is not deletion: still connected, nothing said, no spin
ip -n "$C" link set vpn0 down
ok $? "vpn0 set down"
t0=$(cpu_ticks "$TW")
sleep 1.5
t1=$(cpu_ticks "$TW")
[ "$(ctl_state c)" = connected ]
ok $? "link down: still connected ($(ctl_state c))"
! grep -q "the tunnel interface is gone" "$E2E_TMP/c/out"
ok $? "link down: not reported gone"
[ $((t1 - t0)) -lt 20 ]
ok $? "link down: tunworker idle ($((t1 - t0)) ticks in 1.5 s)"
ip -n "$C" link set vpn0 up
ok $? "vpn0 set up again"

for round in 1 2; do
	client -t 20 "$SOCK" "touch:$E2E_TMP/listening$round" expect:backendFailure \
	    >"$E2E_TMP/fail$round.out" 2>&1 &
	LPID=$!
	E2E_PIDS="$E2E_PIDS $LPID"
	wait_for 50 test -e "$E2E_TMP/listening$round" || bail "no listener"
	ip -n "$C" link del vpn0
	ok $? "round $round: vpn0 deleted"
	wait $LPID
	ok $? "round $round: a listening client hears backendFailure"
	wait_for 50 sh -c "[ \$(grep -c 'the tunnel interface is gone' '$E2E_TMP/c/out') -ge $round ]"
	ok $? "round $round: the log says it ($(grep -c 'the tunnel interface is gone' "$E2E_TMP/c/out") times)"
	out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
	ok $? "round $round: activate again: connected"
	ping_ok "$C" 10.8.0.1
	ok $? "round $round: traffic flows again"
done
e2e_done

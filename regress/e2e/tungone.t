#!/bin/bash
# tungone.t -- the tunnel interface is deleted under a connected client
# (ip link del vpn0: an administrator, or another tool): the daemon
# notices (the dead TUN polls as an error at once), reports a backend
# failure and leaves the connected state, its tunworker lives on without
# spinning, and a fresh activate brings the tunnel back.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 90 "$@"
e2e_init tungone

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
ok $? "tunworker found ($TW)"

# a client listening while the interface goes
client -t 20 "$SOCK" "touch:$E2E_TMP/listening" expect:backendFailure \
    >"$E2E_TMP/fail.out" 2>&1 &
LPID=$!
E2E_PIDS="$E2E_PIDS $LPID"
wait_for 50 test -e "$E2E_TMP/listening" || bail "the listener did not connect"
ip -n "$C" link del vpn0
ok $? "vpn0 deleted"
wait $LPID
ok $? "a listening client hears backendFailure"
wait_for 100 sh -c "[ \"\$(\"$VPNCTL\" -s \"$SOCK\" -j status | \"$E2E_PY\" \"$E2E_CLIENT\" jget state)\" != connected ]"
ok $? "the daemon reports the tunnel no longer connected ($(ctl_state c))"
wait_for 50 grep -q "the tunnel interface is gone" "$E2E_TMP/c/out"
ok $? "the log says why"

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
e2e_done

#!/bin/bash
# proto.t -- a client speaking exactly the base protocol (newline JSON, no
# "id") drives a full tunnel against a wireguard-go peer; then the
# extension fields (id echo, version, state, peers).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 55 "$@"
e2e_init proto

body() {
	local C S SOCK CONF line st rx0 tx0 rx1 tx1 d m1 m2 srv
	C=$(ns_add c)
	S=$(ns_add s)
	veth "$C" eth0 "$S" eth0
	ip -n "$C" addr add 10.99.0.2/24 dev eth0
	ip -n "$S" addr add 10.99.0.1/24 dev eth0
	keypair cli
	keypair srv
	srv=$(pub_of srv)
	wggo_peer "$S" "wg${E2E_ID}s" srv 51820 10.200.0.1/24 fd00:200::1/64
	ip netns exec "$S" wg set "wg${E2E_ID}s" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32,fd00:200::2/128
	vpnd_start c "$C" || bail "vpnd did not start"
	SOCK=$(sock_of c)

	# -- before: disconnected
	line=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	is "$(echo "$line" | jget connected)" false "status before: connected false"
	is "$(echo "$line" | jget id)" "<none>" "no id in a reply to a request without one"

	# two more clients that only listen: signals go to every client
	client -t 60 "$SOCK" "touch:$E2E_TMP/m1.ready" monitor \
	    >"$E2E_TMP/m1.out" 2>&1 &
	m1=$!
	E2E_PIDS="$E2E_PIDS $m1"
	client -t 60 "$SOCK" "touch:$E2E_TMP/m2.ready" monitor \
	    >"$E2E_TMP/m2.out" 2>&1 &
	m2=$!
	E2E_PIDS="$E2E_PIDS $m2"
	wait_for 50 test -e "$E2E_TMP/m1.ready" -a -e "$E2E_TMP/m2.ready"
	ok $? "two listening clients connected"

	# -- activate, full Mozilla-style config, full tunnel
	CONF=$(mozconf cli srv 51820 10.99.0.1 10.200.0.2/32 fd00:200::2/128 \
	    "0.0.0.0/0,::/0" SingleHop)
	line=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$line" | jget type)" connected "activate -> connected"
	is "$(echo "$line" | jget pubkey)" "$srv" "connected carries the server's pubkey"

	line=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	is "$(echo "$line" | jget connected)" true "status: connected true"
	d=$(echo "$line" | jget date)
	echo "$d" | grep -Eq '^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9][0-9]? [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$'
	ok $? "status: date in the form 'Wed Aug 20 14:22:34 2025' ($d)"
	"$E2E_PY" -c '
import sys, time, calendar
t = time.strptime(sys.argv[1], "%a %b %d %H:%M:%S %Y")
now = time.time()
sys.exit(0 if min(abs(calendar.timegm(t) - now),
    abs(time.mktime(t) - now)) < 120 else 1)' "$d"
	ok $? "status: date is the handshake time (within 2 min of now)"
	is "$(echo "$line" | jget serverIpv4Gateway)" 10.200.0.1 "status: serverIpv4Gateway"
	is "$(echo "$line" | jget deviceIpv4Address)" 10.200.0.2/32 "status: deviceIpv4Address"
	rx0=$(echo "$line" | jget rxBytes)
	tx0=$(echo "$line" | jget txBytes)
	case "$rx0$tx0" in *[!0-9]*|'') false ;; *) true ;; esac
	ok $? "status: rxBytes/txBytes are numbers ($rx0/$tx0)"

	# -- traffic makes the counters grow
	ip netns exec "$C" ping -c 5 -i 0.2 -W 2 -q 10.200.0.1 >/dev/null 2>&1
	ok $? "ping through the tunnel"
	ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 2 -q fd00:200::1 >/dev/null 2>&1
	ok $? "ping6 through the tunnel"
	line=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	rx1=$(echo "$line" | jget rxBytes)
	tx1=$(echo "$line" | jget txBytes)
	[ "$rx1" -ge $((rx0 + 5 * 84)) ] && [ "$tx1" -ge $((tx0 + 5 * 84)) ]
	ok $? "counters grew with traffic (rx $rx0 -> $rx1, tx $tx0 -> $tx1)"

	# -- network state while up (full tunnel: policy rules + table 30320)
	ip -n "$C" -4 addr show dev vpn0 2>/dev/null | grep -q 'inet 10.200.0.2/32'
	ok $? "vpn0 has 10.200.0.2/32"
	ip -n "$C" -6 addr show dev vpn0 2>/dev/null | grep -q 'inet6 fd00:200::2/128'
	ok $? "vpn0 has fd00:200::2/128"
	ip -n "$C" -4 route show table 30320 | grep -q '^default dev vpn0'
	ok $? "IPv4 default route in table 30320"
	ip -n "$C" -6 route show table 30320 | grep -q '^default dev vpn0'
	ok $? "IPv6 default route in table 30320"
	ip -n "$C" -4 rule | grep -q 'not from all fwmark 0x7670 lookup 30320'
	ok $? "IPv4 rule: not fwmark -> table 30320"
	ip -n "$C" -4 rule | grep -q 'lookup main suppress_prefixlength 0'
	ok $? "IPv4 rule: main suppress_prefixlength 0"
	ip -n "$C" -6 rule | grep -q 'not from all fwmark 0x7670 lookup 30320'
	ok $? "IPv6 rule: not fwmark -> table 30320"
	ip -n "$C" -6 rule | grep -q 'lookup main suppress_prefixlength 0'
	ok $? "IPv6 rule: main suppress_prefixlength 0"
	ip netns exec "$C" nft list tables | grep -q 'inet vpnd'
	ok $? "kill switch on for 0/0 (nft table inet vpnd)"

	# -- logs, cleanlogs
	line=$(client "$SOCK" 'send:{"type":"logs"}' expect:logs)
	st=$(echo "$line" | jget logs)
	case $st in *"|"*handshake*) true ;; *) false ;; esac
	ok $? "logs: lines joined with '|', handshake logged"
	is "$(printf '%s' "$st" | wc -l)" 0 "logs: no newline in the logs string"
	line=$(client "$SOCK" 'send:{"type":"cleanlogs"}' expect:logs)
	is "$line" '{"type":"logs","logs":""}' "cleanlogs -> logs \"\""
	st=$(client "$SOCK" 'send:{"type":"logs"}' expect:logs | jget logs)
	case $st in *starting*) false ;; *) true ;; esac
	ok $? "logs after cleanlogs: the old lines are gone"

	# -- extensions: id echo, version, state, peers
	line=$(client "$SOCK" 'send:{"type":"version","id":"v-1"}' expect:version)
	is "$(echo "$line" | jget id protocol)" "v-1
1" "version: id echoed, protocol 1"
	echo "$line" | jget version | grep -Eq '^[0-9]+\.[0-9]+'
	ok $? "version: version string"
	line=$(client "$SOCK" 'send:{"type":"status","id":42,"extra":[1,2]}' \
	    expect:status)
	is "$(echo "$line" | jget id state interface peers.0.publicKey \
	    peers.0.endpoint)" "42
connected
vpn0
$srv
10.99.0.1:51820" "status: numeric id echoed, state/interface/peers; unknown field ignored"
	line=$(client "$SOCK" 'send:{"type":"nosuch","id":"e"}' expect:error)
	is "$(echo "$line" | jget id code request)" "e
unknown-type
nosuch" "error reply echoes id"

	# -- deactivate: disconnected to the requester and both listeners
	line=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' \
	    expect:disconnected)
	is "$line" '{"type":"disconnected"}' "deactivate -> disconnected"
	wait_for 50 grep -q '"disconnected"' "$E2E_TMP/m1.out"
	ok $? "listener 1 got disconnected"
	wait_for 50 grep -q '"disconnected"' "$E2E_TMP/m2.out"
	ok $? "listener 2 got disconnected"
	grep -q "\"connected\",\"pubkey\":\"$srv\"" "$E2E_TMP/m1.out" &&
	    grep -q "\"connected\",\"pubkey\":\"$srv\"" "$E2E_TMP/m2.out"
	ok $? "both listeners also got connected with the pubkey"

	# -- everything gone
	! ip -n "$C" link show vpn0 >/dev/null 2>&1
	ok $? "vpn0 gone"
	is "$(ip -n "$C" -4 route show table 30320 2>/dev/null)$(ip -n "$C" -6 route show table 30320 2>/dev/null)" "" \
	    "table 30320 empty"
	! ip -n "$C" rule | grep -q '3032[01]:' &&
	    ! ip -n "$C" -6 rule | grep -q '3032[01]:'
	ok $? "policy rules gone (v4, v6)"
	! ip netns exec "$C" nft list tables | grep -q vpnd
	ok $? "nft table gone"
	is "$(ip -n "$C" -6 route show | grep -c fd00:200)" 0 "no tunnel routes left in main"
	line=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	is "$(echo "$line" | jget connected state)" "false
disconnected" "status after: disconnected"
	! ping_ok "$C" 10.200.0.1
	ok $? "no traffic to the tunnel address after deactivate"
	pid_alive "$VPND_PID_c"
	ok $? "vpnd still running"
}

body
e2e_done

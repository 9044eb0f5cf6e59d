#!/bin/bash
# switch.t -- server switch while pinging: a full tunnel to wireguard-go
# peer 1, then a second activate that changes only the peer (key and
# endpoint) to peer 2. The interface never goes down (same ifindex, no
# link event taking it down), routes and kill switch stay, peer 2's
# "connected" arrives and the traffic then flows through peer 2.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 55 "$@"
e2e_init switch

# wg_rx NS IFNAME: bytes the wireguard-go peer received from the client
wg_rx() {
	ip netns exec "$1" wg show "$2" transfer | awk '{ s += $2 } END { print s + 0 }'
}

# replies_ge N: the ping loop has at least N replies
replies_ge() {
	[ "$(grep -c 'bytes from' "$E2E_TMP/ping.out")" -ge "$1" ]
}

vpn0_up() {
	ip -n "$C" link show vpn0 2>/dev/null | grep -q '<[^>]*,UP[,>]'
}

body() {
	local S1 S2 SOCK CONF out idx0 idx1 mon mpid ppid pwatch rx1a rx1b \
	    rx2a rx2b tx rx n
	# both servers serve the same tunnel address space
	two_servers 10.200.0
	vpnd_start c "$C" || bail "vpnd did not start"
	SOCK=$(sock_of c)

	client -t 50 "$SOCK" "touch:$E2E_TMP/mon.ready" monitor \
	    >"$E2E_TMP/mon.out" 2>&1 &
	mpid=$!
	E2E_PIDS="$E2E_PIDS $mpid"
	wait_for 50 test -e "$E2E_TMP/mon.ready" || bail "monitor client"

	CONF=$(mozconf cli srv1 51820 10.99.1.1 10.200.0.2/32 \
	    fd00:200::2/128 "0.0.0.0/0,::/0")
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type pubkey)" "connected
$(pub_of srv1)" "activate peer 1 -> connected with peer 1's key"
	idx0=$(ip netns exec "$C" cat /sys/class/net/vpn0/ifindex)

	# watch the link: kernel events, and a poll of its UP flag
	ip -n "$C" monitor link >"$E2E_TMP/linkmon.out" 2>&1 &
	mon=$!
	E2E_PIDS="$E2E_PIDS $mon"
	( while vpn0_up; do sleep 0.05; done; echo down ) \
	    >"$E2E_TMP/pollup.out" 2>&1 &
	pwatch=$!
	E2E_PIDS="$E2E_PIDS $pwatch"

	ip netns exec "$C" ping -i 0.1 -W 1 10.200.0.1 \
	    >"$E2E_TMP/ping.out" 2>&1 &
	ppid=$!
	E2E_PIDS="$E2E_PIDS $ppid"
	wait_for 50 replies_ge 5
	ok $? "ping through peer 1"
	rx1a=$(wg_rx "$S1" "wg${E2E_ID}a")

	# -- switch: only the peer changes
	CONF=$(mozconf cli srv2 51821 10.99.2.1 10.200.0.2/32 \
	    fd00:200::2/128 "0.0.0.0/0,::/0")
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type pubkey)" "connected
$(pub_of srv2)" "activate peer 2 -> connected with peer 2's key"
	rx2a=$(wg_rx "$S2" "wg${E2E_ID}b")
	n=$(grep -c 'bytes from' "$E2E_TMP/ping.out")
	wait_for 50 replies_ge $((n + 10))
	ok $? "pings keep being answered after the switch"
	rx1b=$(wg_rx "$S1" "wg${E2E_ID}a")
	rx2b=$(wg_rx "$S2" "wg${E2E_ID}b")
	[ "$rx2b" -ge $((rx2a + 10 * 84)) ]
	ok $? "traffic flows through peer 2 (its rx $rx2a -> $rx2b)"
	# peer 1 may see a last packet or two in flight at the switch
	n=$(wg_rx "$S1" "wg${E2E_ID}a")
	ip netns exec "$C" ping -c 5 -i 0.1 -W 1 -q 10.200.0.1 >/dev/null 2>&1
	is "$(wg_rx "$S1" "wg${E2E_ID}a")" "$n" "peer 1 gets nothing any more"
	[ "$rx1a" -ge $((5 * 84)) ]
	ok $? "peer 1 had carried the traffic before ($rx1a bytes, $rx1b at the end)"

	kill -INT "$ppid"
	wait_gone "$ppid" 30
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$E2E_TMP/ping.out")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$E2E_TMP/ping.out")
	diag "ping loop over the switch: $tx sent, $rx received"
	[ -n "$tx" ] && [ $((tx - rx)) -le 5 ]
	ok $? "at most 5 pings lost over the switch ($rx/$tx)"

	# -- the interface stayed
	idx1=$(ip netns exec "$C" cat /sys/class/net/vpn0/ifindex)
	is "$idx1" "$idx0" "vpn0 kept its ifindex ($idx0)"
	pid_alive "$pwatch"
	ok $? "vpn0 was UP at every poll (every 50 ms)"
	is "$(grep vpn0 "$E2E_TMP/linkmon.out" | grep -E 'Deleted|state DOWN' ;
	    grep vpn0 "$E2E_TMP/linkmon.out" | grep -Ev '<([^>]*,)?UP[,>]')" "" \
	    "ip monitor link: no event with vpn0 deleted or not UP"
	diag "link events: $(grep -c vpn0 "$E2E_TMP/linkmon.out")"
	ip -n "$C" -4 route show table 30320 | grep -q '^default dev vpn0' &&
	    ip -n "$C" -4 rule | grep -q 'lookup 30320' &&
	    ip netns exec "$C" nft list tables | grep -q 'inet vpnd'
	ok $? "routes, rules and kill switch still in place"
	# the exemption follows the switch: a stale one is a leak path
	ks=$(ip netns exec "$C" nft list table inet vpnd 2>/dev/null)
	echo "$ks" | grep -q '10\.99\.2\.1\b'
	ok $? "the kill switch exempts the new endpoint 10.99.2.1"
	! echo "$ks" | grep -q '10\.99\.1\.1\b'
	ok $? "and no longer the old one 10.99.1.1"
	grep -q disconnected "$E2E_TMP/mon.out"
	ok $((! $?)) "a listening client saw no disconnected"
	is "$(grep -c '"connected"' "$E2E_TMP/mon.out")" 2 \
	    "a listening client saw connected twice (peer 1, peer 2)"
	grep -q "\"connected\",\"pubkey\":\"$(pub_of srv2)\"" "$E2E_TMP/mon.out"
	ok $? "... the second with peer 2's key"

	out=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	is "$(echo "$out" | jget state peers.0.publicKey peers.0.endpoint \
	    peers.1)" "connected
$(pub_of srv2)
10.99.2.1:51821
<none>" "status: one peer, peer 2, at its endpoint"
}

body
e2e_done

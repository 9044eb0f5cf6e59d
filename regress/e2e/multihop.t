#!/bin/bash
# multihop.t -- MultiHopEntry then MultiHopExit on one interface.
#
#   C (vpnd) --veth 10.99.0.0/24-- E (wireguard-go, forwards, NATs)
#                                  E --veth 10.98.0.0/24-- X (wireguard-go)
#
# The client cannot reach X's endpoint 10.98.0.2 except through E's tunnel.
# Entry hop: peer E, allowed 10.98.0.2/32 (X's endpoint). Exit hop: peer X,
# allowed 0.0.0.0/0. E forwards the client's tunnelled packets to X and
# masquerades them (as multihop servers do), so X must see its peer's UDP
# come from E's address 10.98.0.1 -- proof that the exit hop travels inside
# the entry hop; E's nft counter of forwarded UDP to X's port grows too.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 55 "$@"
e2e_init multihop

wg_rx() {
	ip netns exec "$1" wg show "$2" transfer | awk '{ s += $2 } END { print s + 0 }'
}

# fwd_packets: E's counter of UDP forwarded to X's WireGuard port
fwd_packets() {
	ip netns exec "$E" nft list chain inet e2emh e2efwd |
	    sed -n 's/.*udp dport 51821 counter packets \([0-9]*\) .*/\1/p'
}

body() {
	local X SOCK CONF out ex rxe0 rxe1 fw0 fw1 ifidx
	C=$(ns_add c)
	E=$(ns_add e)
	X=$(ns_add x)
	veth "$C" eth0 "$E" eth0
	veth "$E" eth1 "$X" eth0
	ip -n "$C" addr add 10.99.0.2/24 dev eth0
	ip -n "$E" addr add 10.99.0.1/24 dev eth0
	ip -n "$E" addr add 10.98.0.1/24 dev eth1
	ip -n "$X" addr add 10.98.0.2/24 dev eth0
	keypair cli
	keypair entry
	keypair exit

	# E: forwards and masquerades what leaves towards X
	ip netns exec "$E" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$E" nft -f - <<-EOF || bail "nft in E"
	table inet e2emh {
		chain e2efwd {
			type filter hook forward priority 0;
			udp dport 51821 counter
		}
		chain e2epost {
			type nat hook postrouting priority 100;
			oifname "eth1" masquerade
		}
	}
	EOF
	wggo_peer "$E" "wg${E2E_ID}e" entry 51820 10.201.0.1/24
	ip netns exec "$E" wg set "wg${E2E_ID}e" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32
	ip -n "$E" route add 10.200.0.2/32 dev "wg${E2E_ID}e"
	# X: its tunnel serves 10.200.0.0/24; it knows no route to C
	wggo_peer "$X" "wg${E2E_ID}x" exit 51821 10.200.0.1/24
	ip netns exec "$X" wg set "wg${E2E_ID}x" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32

	vpnd_start c "$C" || bail "vpnd did not start"
	SOCK=$(sock_of c)

	! ping_ok "$C" 10.98.0.2
	ok $? "before: the client cannot reach the exit's endpoint"

	client -t 50 "$SOCK" "touch:$E2E_TMP/mon.ready" monitor \
	    >"$E2E_TMP/mon.out" 2>&1 &
	E2E_PIDS="$E2E_PIDS $!"
	wait_for 50 test -e "$E2E_TMP/mon.ready" || bail "monitor client"

	CONF=$(mozconf cli entry 51820 10.99.0.1 10.200.0.2/32 \
	    fd00:200::2/128 "10.98.0.2/32" MultiHopEntry)
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type pubkey)" "connected
$(pub_of entry)" "MultiHopEntry -> connected with the entry's key"
	ifidx=$(ip netns exec "$C" cat /sys/class/net/vpn0/ifindex)
	ping_ok "$C" 10.98.0.2
	ok $? "through the entry hop the exit's endpoint answers"

	fw0=$(fwd_packets)
	rxe0=$(wg_rx "$E" "wg${E2E_ID}e")
	CONF=$(mozconf cli exit 51821 10.98.0.2 10.200.0.2/32 \
	    fd00:200::2/128 "0.0.0.0/0" MultiHopExit)
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type pubkey)" "connected
$(pub_of exit)" "MultiHopExit -> connected with the exit's key"

	ip netns exec "$C" ping -c 10 -i 0.1 -W 2 -q 10.200.0.1 >/dev/null 2>&1
	ok $? "ping the exit's tunnel address through both hops"

	ex=$(ip netns exec "$X" wg show "wg${E2E_ID}x" endpoints |
	    awk '{ print $2 }')
	case $ex in 10.98.0.1:*) true ;; *) false ;; esac
	ok $? "the exit sees its peer at the entry's address ($ex), not 10.99.0.2"
	fw1=$(fwd_packets)
	[ -n "$fw1" ] && [ "$fw1" -ge $((fw0 + 10)) ]
	ok $? "the entry forwarded the exit hop's UDP ($fw0 -> $fw1 packets)"
	rxe1=$(wg_rx "$E" "wg${E2E_ID}e")
	# ten pings, each inside two WireGuard headers: well over 10 * 84
	[ "$rxe1" -ge $((rxe0 + 10 * (84 + 32 + 28))) ]
	ok $? "the entry peer carried the pings, wrapped ($rxe0 -> $rxe1 bytes)"

	if [ -n "${E2E_DEBUG:-}" ]; then
		cat "$E2E_TMP/mon.out" "$E2E_TMP/c/log/vpnd.log"
		ip netns exec "$X" wg show; ip netns exec "$E" wg show
		ip -n "$C" route show table all | grep -v local
		ip -n "$C" rule
		ip netns exec "$C" nstat -az | grep -Ei 'udp|csum|InNoRoutes|InAddrErrors|Drop' | grep -v ' 0 '
		ip netns exec "$C" ss -uanpe
		ip netns exec "$C" nft list ruleset
		client "$SOCK" 'send:{"type":"status"}' expect:status
	fi
	is "$(grep '"connected"' "$E2E_TMP/mon.out" | jget pubkey)" \
	    "$(pub_of entry)
$(pub_of exit)" "a listening client got two connected signals: entry, exit"
	grep -q disconnected "$E2E_TMP/mon.out"
	ok $((! $?)) "and no disconnected in between"
	is "$(ip netns exec "$C" cat /sys/class/net/vpn0/ifindex)" "$ifidx" \
	    "one interface for both hops (same ifindex)"
	out=$(client "$SOCK" 'send:{"type":"status"}' expect:status)
	is "$(echo "$out" | jget state peers.0.publicKey peers.1.publicKey)" \
	    "connected
$(pub_of entry)
$(pub_of exit)" "status: both peers on the interface, entry first"

	out=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' \
	    expect:disconnected)
	is "$out" '{"type":"disconnected"}' "deactivate"
	is "$(ours_left "$C")" "" \
	    "all gone after deactivate (link, routes, policy rules, kill switch)"
	! ip -n "$C" route | grep -q 10.98.0.2
	ok $? "no route to the exit hop left"

	# an exit hop without an entry is refused
	out=$(client "$SOCK" "send:$CONF" expect:error expect:disconnected)
	is "$(echo "$out" | jget code | head -1)" bad-config \
	    "MultiHopExit without an entry -> bad-config"
}

body
e2e_done

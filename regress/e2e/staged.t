#!/bin/bash
# staged.t -- one datagram sent into the tunnel before any session exists
# is kept and delivered once the handshake completes: exactly one arrives
# (no "any of three pings" slack).  The server's handshake port is held
# closed until vpnd has tried (an initiation was dropped), so the datagram
# must wait in vpnd; then the port opens and the next initiation succeeds.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 58 "$@"
e2e_init staged

WG="w$$s"
client_server "$WG"
ip netns exec "$S" nft -f - <<NFT || bail "nft in S"
table inet cnt {
	counter held { }
	counter inner { }
	chain in {
		type filter hook input priority -10; policy accept;
		iifname "$WG" ip saddr 10.8.0.2 udp dport 9999 counter name inner
		udp dport 51820 counter name held drop comment "hold"
	}
}
NFT
cnt() {
	ip netns exec "$S" nft list counter inet cnt "$1" |
	    awk '/packets/ { print $2 }'
}
vpnd_start c "$C" || bail "vpnd did not start"
cat >"$E2E_TMP/c.conf" <<CONF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 10.8.0.1/32
CONF
chmod 600 "$E2E_TMP/c.conf"
ctl c -t 1 up "$E2E_TMP/c.conf" >/dev/null 2>&1
wait_for 50 sh -c "ip -n $C route get 10.8.0.1 | grep -q 'dev vpn0'"
ok $? "the tunnel is set up (route via vpn0), no handshake possible"
is "$(ctl_state c)" connecting "state connecting"

printf 'staged' | ip netns exec "$C" nc -u -w0 10.8.0.1 9999
wait_for 100 sh -c "[ \"\$(ip netns exec $S nft list counter inet cnt held | awk '/packets/ { print \$2 }')\" -ge 1 ]"
ok $? "vpnd tried a handshake for it (an initiation was held back)"
is "$(cnt inner)" 0 "nothing arrived yet"

h=$(ip netns exec "$S" nft -a list chain inet cnt in |
    sed -n 's/.*comment "hold" # handle \([0-9]*\).*/\1/p')
ip netns exec "$S" nft delete rule inet cnt in handle "$h"
ok $? "the server's port opens"
wait_for 150 sh -c "[ \"\$(ip netns exec $S nft list counter inet cnt inner | awk '/packets/ { print \$2 }')\" -ge 1 ]"
ok $? "the staged datagram arrived after the handshake"
wait_for 50 sh -c "\"$VPNCTL\" -s \"$(sock_of c)\" -j status | grep -q '\"state\":\"connected\"'"
ok $? "state connected"
is "$(cnt inner)" 1 "exactly one datagram arrived"
ctl c down >/dev/null
is "$(ours_left "$C")" "" "down: nothing of ours left"
e2e_done

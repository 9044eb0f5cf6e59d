#!/bin/bash
# roam.t -- the client's underlay moves mid-transfer: a second uplink
# takes the default route and the old address goes, while a TCP stream
# runs through a full tunnel with the kill switch. vpnd's parent sees the
# change on rtnetlink, tunworker handshakes again at once from the new
# address, the server (wireguard-go) follows it, the stream completes
# intact, and nothing leaves the client outside the tunnel meanwhile
# (counted at the router). Then an idle tunnel moves back to the first
# uplink under a new address: with no traffic and no keepalive, only the
# handshake vpnd starts on the change can tell the server. The recovery
# times are printed, not judged.
#
#   C eth0 10.0.0.1/24 ---- R eth0 10.0.0.254  (the old uplink)
#   C eth1 10.1.0.1/24 ---- R eth1 10.1.0.254  (the new one)
#                           R eth2 203.0.113.1 ---- S eth0 203.0.113.2
#                                                  (wireguard-go, 10.8.0.1)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init roam
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

WG="w$$r"
C=$(ns_add c)
R=$(ns_add r)
S=$(ns_add s)
veth "$C" eth0 "$R" eth0
veth "$C" eth1 "$R" eth1
veth "$R" eth2 "$S" eth0
ip -n "$C" addr add 10.0.0.1/24 dev eth0
ip -n "$R" addr add 10.0.0.254/24 dev eth0
ip -n "$C" addr add 10.1.0.1/24 dev eth1
ip -n "$R" addr add 10.1.0.254/24 dev eth1
ip -n "$R" addr add 203.0.113.1/24 dev eth2
ip -n "$S" addr add 203.0.113.2/24 dev eth0
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 || bail "forwarding in R"
ip -n "$C" route add default via 10.0.0.254 dev eth0
ip -n "$S" route add default via 203.0.113.1
keypair cli
keypair srv
wggo_peer "$S" "$WG" srv 51820 10.8.0.1/24
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" \
    allowed-ips 10.8.0.2/32 || bail "wg set"

# At the router: everything from C but WireGuard to the server is a leak;
# initiations (WireGuard message type 1) from C's later addresses counted.
ip netns exec "$R" nft -f - <<'EOF' || bail "nft counters in R"
table inet cnt {
	counter wg { }
	counter leak { }
	counter init1 { }
	counter init2 { }
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		ip saddr 10.1.0.1 udp dport 51820 @th,64,8 1 counter name init1
		ip saddr 10.0.0.5 udp dport 51820 @th,64,8 1 counter name init2
		iifname { "eth0", "eth1" } ip daddr 203.0.113.2 udp dport 51820 counter name wg accept
		iifname { "eth0", "eth1" } meta nfproto ipv4 counter name leak
		iifname { "eth0", "eth1" } meta nfproto ipv6 meta l4proto != ipv6-icmp counter name leak
	}
}
EOF
count() {
	ip netns exec "$R" nft list counter inet cnt "$1" |
	    awk '/packets/ { print $2 }'
}

cat >"$E2E_TMP/c.conf" <<CONF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 203.0.113.2:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 0
CONF
chmod 600 "$E2E_TMP/c.conf"

vpnd_start c "$C" || bail "vpnd did not start"
ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null 2>&1
ok $? "connected over the first uplink"
ping_first 50 "$C" 10.8.0.1
ok $? "traffic flows through the tunnel"
ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
ok $? "the kill switch is on"
wgep() {
	ip netns exec "$S" wg show "$WG" endpoints | cut -f2
}
wgep | grep -q '^10\.0\.0\.1:'
ok $? "the server knows the client by its first address"

# A slow TCP stream through the tunnel, C -> S, for 8 s.
cat >"$E2E_TMP/stream.py" <<'EOF'
# stream.py server PORT | client ADDR PORT SECONDS: both print
# "<bytes> <sha256>"
import hashlib, os, socket, sys, time
h = hashlib.sha256(); n = 0
if sys.argv[1] == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(1); s.settimeout(30)
    c, _ = s.accept(); c.settimeout(30)
    while True:
        b = c.recv(65536)
        if not b: break
        h.update(b); n += len(b)
else:
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=30)
    end = time.monotonic() + float(sys.argv[4])
    while time.monotonic() < end:
        b = os.urandom(8192); c.sendall(b); h.update(b); n += len(b)
        time.sleep(0.01)
    c.shutdown(socket.SHUT_WR); c.recv(1)
print(n, h.hexdigest())
EOF
ip netns exec "$S" timeout 60 "$PY" "$E2E_TMP/stream.py" server 5003 \
    >"$E2E_TMP/srv.out" 2>&1 &
SPID=$!
E2E_PIDS="$E2E_PIDS $SPID"
wait_for 50 listening "$S" 5003 || diag "stream server not listening"
ip netns exec "$C" timeout 60 "$PY" "$E2E_TMP/stream.py" client \
    10.8.0.1 5003 8 >"$E2E_TMP/cli.out" 2>&1 &
CPID=$!
E2E_PIDS="$E2E_PIDS $CPID"
wait_for 50 sh -c "ip netns exec $S ss -Htn state established 'sport = :5003' | grep -q ." ||
    diag "stream not established"
lines=$(out_lines c)
leak0=$(count leak)
wg0=$(count wg)

# The move: the second uplink takes the default route, the old address
# goes (as when Wi-Fi gives way to Ethernet).
t0=$(date +%s%N)
ip -n "$C" route replace default via 10.1.0.254 dev eth1 ||
    bail "route replace"
ip -n "$C" addr del 10.0.0.1/24 dev eth0 || bail "addr del"
wait_for 100 sh -c "ip netns exec $S wg show $WG endpoints | grep -q 10.1.0.1:"
ok $? "the server follows the client to its new address"
t1=$(date +%s%N)
ping_first 100 "$C" 10.8.0.1
ok $? "traffic flows again"
t2=$(date +%s%N)
diag "recovery: server saw the new address after $(( (t1 - t0) / 1000000 )) ms," \
    "a ping answered after $(( (t2 - t0) / 1000000 )) ms (real time)"
wait_for 50 sh -c "[ \"\$(ip netns exec $R nft list counter inet cnt init1 | awk '/packets/ { print \$2 }')\" -gt 0 ]"
ok $? "vpnd started a handshake from the new address (an initiation at the router)"
out_since c "$lines" | grep -E 'changed|handshake' | sed 's/^/# /'

wait "$CPID"
crc=$?
wait "$SPID"
ok $((crc)) "the stream's sender finished"
is "$(cat "$E2E_TMP/srv.out")" "$(cat "$E2E_TMP/cli.out")" \
    "the stream arrived whole across the move ($(cut -d' ' -f1 "$E2E_TMP/cli.out") bytes)"

# Back to the first uplink with another address, the tunnel idle: no
# traffic and no keepalive would tell the server; only the handshake
# vpnd starts on the change does.
lines=$(out_lines c)
t0=$(date +%s%N)
ip -n "$C" addr add 10.0.0.5/24 dev eth0 || bail "addr add"
ip -n "$C" route replace default via 10.0.0.254 dev eth0 ||
    bail "route replace"
ip -n "$C" addr del 10.1.0.1/24 dev eth1 || bail "addr del"
wait_for 100 sh -c "[ \"\$(ip netns exec $R nft list counter inet cnt init2 | awk '/packets/ { print \$2 }')\" -gt 0 ]"
ok $? "an idle tunnel: vpnd starts a handshake from the new address"
wait_for 100 sh -c "ip netns exec $S wg show $WG endpoints | grep -q 10.0.0.5:"
ok $? "... and the server learns the new address"
diag "idle move: the server saw the new address after" \
    "$(( ($(date +%s%N) - t0) / 1000000 )) ms (real time)"
out_since c "$lines" | grep -E 'changed|handshake' | sed 's/^/# /'
ping_first 100 "$C" 10.8.0.1
ok $? "traffic flows over the new address"
is "$(count leak)" "$leak0" "no packet left C outside the tunnel (router counter)"
[ "$(count wg)" -gt "$wg0" ]
ok $? "WireGuard itself went on (its counter grew)"
ctl c down >/dev/null 2>&1
ok $? "deactivate"
e2e_done

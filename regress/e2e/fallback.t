#!/bin/bash
# fallback.t -- protocol.md: "IPv4 is preferred when it is reachable". An
# activate with both serverIpv4AddrIn and serverIpv6AddrIn whose peer
# does not answer over IPv4 moves to the IPv6 endpoint and connects; the
# kill switch lets the IPv6 endpoint through.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init fallback

WG="w$$v"
C=$(ns_add c)
S=$(ns_add s)
veth "$C" eth0 "$S" eth0
# IPv4 on C only: the server's IPv4 address leads nowhere
ip -n "$C" addr add 10.0.0.1/24 dev eth0
ip -n "$C" addr add fd00:99::1/64 dev eth0 nodad
ip -n "$S" addr add fd00:99::2/64 dev eth0 nodad
keypair cli
keypair srv
wggo_peer "$S" "$WG" srv 51820 10.8.0.1/24
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" \
    allowed-ips 10.8.0.2/32 || bail "wg set"

cat >"$E2E_TMP/act.json" <<JSON
{"privateKey":"$(key_of cli)","publicKey":"$(pub_of cli)",
 "serverPublicKey":"$(pub_of srv)","serverPort":51820,
 "serverIpv4AddrIn":"10.0.0.2","serverIpv6AddrIn":"fd00:99::2",
 "deviceIpv4Address":"10.8.0.2/32",
 "allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,"isIpv6":false}]}
JSON
vpnd_start c "$C" || bail "vpnd did not start"
t0=$(date +%s)
ctl c -t 15 activate "$E2E_TMP/act.json" >/dev/null
ok $? "connected through the IPv6 endpoint after IPv4 stayed silent"
t1=$(date +%s)
ok $(( t1 - t0 > 12 )) "within the fallback delay ($((t1 - t0)) s)"
grep -q 'trying \[fd00:99::2\]:51820' "$E2E_TMP/c/out"
ok $? "the move is logged"
ip netns exec "$C" nft list table inet vpnd 2>/dev/null |
    grep -q 'fd00:99::2'
ok $? "the kill switch allows the IPv6 endpoint"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows through the tunnel"
ctl c -j status | grep -q '"endpoint":"\[fd00:99::2\]:51820"'
ok $? "status shows the IPv6 endpoint"
e2e_done

#!/bin/bash
# scale.t -- a headless server with 1,000 peers (correctness, no timing).
#
# 1,000 key pairs from build/hsgen; a wg-quick file with 1,000 [Peer]s,
# each with a /32 of its own (and every tenth one a /128 too). vpnd -f
# starts with it; wg(8) (in a mount namespace of its own, where
# /var/run/wireguard is vpnd's UAPI directory) lists every peer with
# exactly its allowed IPs; the kernel holds a route for each; one of
# the peers (wireguard-go in C, the last of the file) completes a
# handshake and pings through; removed with wg set, it no longer gets
# through and the others stay. A file with 1,025 peers is refused with a
# clear error naming the limit, and nothing is set up.
#
#   C (wireguard-go) eth0 10.96.0.2/24 ---- S eth0 10.96.0.1/24 (vpnd)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 180 "$@"
e2e_init scale
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=1000
[ -x "$VPND_BUILD/hsgen" ] || bail "no $VPND_BUILD/hsgen: run make first"

NSS=$(ns_add s)
NSC=$(ns_add c)
veth "$NSC" ca "$NSS" sa
ip -n "$NSC" addr add 10.96.0.2/24 dev ca
ip -n "$NSS" addr add 10.96.0.1/24 dev sa
keypair s
keypair c
umask 077
"$VPND_BUILD/hsgen" keys $((N - 1)) >"$E2E_TMP/keys" || bail "hsgen keys"
echo "$(key_of c) $(pub_of c)" >>"$E2E_TMP/keys"
is "$(wc -l <"$E2E_TMP/keys")" "$N" "$N key pairs"

# peers N: the [Peer] sections of the first N keys, and the expected
# "pubkey allowed-ips" lines of wg show allowed-ips in $E2E_TMP/want
peers() {
	head -n "$1" "$E2E_TMP/keys" | awk -v want="$E2E_TMP/want" '{
		i = NR - 1
		a = sprintf("10.201.%d.%d/32", int(i / 256), i % 256)
		if (i % 10 == 0)
			a = a sprintf(", fd00:201::1:%x/128", i)
		printf "[Peer]\nPublicKey = %s\nAllowedIPs = %s\n", $2, a
		gsub(/,/, "", a)
		print $2 " " a >want
	}'
}
{
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.201.250.1/16\n' \
	    "$(key_of s)"
	printf 'ListenPort = 51820\n'
	peers "$N"
} >"$E2E_TMP/s.conf"
sort "$E2E_TMP/want" >"$E2E_TMP/want.sorted"

vpnd_start s "$NSS" -f "$E2E_TMP/s.conf"
ok $? "vpnd starts with $N peers"
GOT=$("$PY" "$ROOT/scripts/uapi_peers.py" "$E2E_TMP/s/wg/vpn0.sock" "$N" 60)
ok $? "the UAPI socket lists $N peers"
set -- $GOT
is "${2:-}" "$((N + N / 10))" "... with $((N + N / 10)) allowed IPs"

# wg(8) reads /var/run/wireguard only: /run is vpnd's directory's parent
mkdir -p "$E2E_TMP/run"
ln -s "$E2E_TMP/s/wg" "$E2E_TMP/run/wireguard"
wg_s() {
	ip netns exec "$NSS" unshare -m --propagation private sh -c \
	    'mount --bind "$0" /run && exec "$@"' "$E2E_TMP/run" wg "$@"
}
wg_s show vpn0 peers >"$E2E_TMP/peers"
is "$(wc -l <"$E2E_TMP/peers")" "$N" "wg show vpn0 peers: $N peers"
cut -d' ' -f2 "$E2E_TMP/keys" | sort >"$E2E_TMP/pubs"
sort "$E2E_TMP/peers" | cmp -s - "$E2E_TMP/pubs"
ok $? "... every configured key, once"
wg_s show vpn0 allowed-ips | tr -s '\t ' '  ' | sed 's/ $//' |
    sort >"$E2E_TMP/aips"
cmp -s "$E2E_TMP/aips" "$E2E_TMP/want.sorted"
R=$?
ok $R "wg show vpn0 allowed-ips: each peer exactly its allowed IPs"
[ $R = 0 ] || diff "$E2E_TMP/want.sorted" "$E2E_TMP/aips" | head -5 |
    sed 's/^/# /'
is "$(ip -n "$NSS" -4 route show dev vpn0 | grep -c '^10\.201\.[0-9.]* ')" \
    "$N" "a kernel route for each /32"
is "$(ip -n "$NSS" -6 route show dev vpn0 | grep -c '^fd00:201::')" \
    "$((N / 10))" "a kernel route for each /128"
# the parent's watch of the underlay heard the tunnel's own routes go in,
# more notifications than a netlink socket holds by default: they must
# not count as "events lost" (a handshake to every peer). A real change
# afterwards is the marker: its notification comes after any earlier one.
ip -n "$NSS" addr add 10.96.1.1/24 dev sa
wait_for 100 grep -q "tunworker: .*changed.*handshakes\? started" \
    "$E2E_TMP/s/out"
ok $? "an address added to the underlay: tunworker is told"
grep "tunworker: .*changed.*started" "$E2E_TMP/s/out" | sed 's/^/# /'
! grep -q "events lost" "$E2E_TMP/s/out"
ok $? "the tunnel's own $((N + N / 10)) routes were no network change"

# the last peer of the file comes up and carries traffic
WGC="w$$c"
wggo_peer "$NSC" "$WGC" c 0 "10.201.3.231/16"
ip netns exec "$NSC" wg set "$WGC" peer "$(pub_of s)" \
    allowed-ips 10.201.250.1/32 endpoint 10.96.0.1:51820 ||
    bail "wg set $WGC"
ping_first 100 "$NSC" 10.201.250.1
ok $? "peer $N of $N: handshake and ping through the tunnel"

# wg set removes it: tunworker drops it (its session and allowed IPs go
# with it), the other peers stay
wg_s set vpn0 peer "$(pub_of c)" remove
ok $? "wg set: peer $N removed"
GOT=$("$PY" "$ROOT/scripts/uapi_peers.py" "$E2E_TMP/s/wg/vpn0.sock")
is "$GOT" "$((N - 1)) $((N - 1 + N / 10))" \
    "the UAPI socket lists the other $((N - 1)) peers and their allowed IPs"
! ping_ok "$NSC" 10.201.250.1
ok $? "the removed peer's packets no longer get through"

# 1,025 peers: refused, clearly, and nothing is set up
NSX=$(ns_add x)
"$VPND_BUILD/hsgen" keys 1025 >"$E2E_TMP/keys" || bail "hsgen keys"
{
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.201.250.1/16\n' \
	    "$(key_of s)"
	peers 1025
} >"$E2E_TMP/x.conf"
vpnd_spawn x "$NSX" -f "$E2E_TMP/x.conf"
eval "XP=\$VPND_PID_x"
wait_gone "$XP" 100
ok $? "vpnd -f with 1025 peers exits"
isnt_rc=$(exit_status "$XP")
[ "$isnt_rc" != 0 ]
ok $? "... with a failure status ($isnt_rc)"
grep -q "more than 1024 peers" "$E2E_TMP/x/out"
ok $? "... saying the file has more than 1024 peers" ||
    sed 's/^/#   /' "$E2E_TMP/x/out"
! ip -n "$NSX" link show vpn0 >/dev/null 2>&1
ok $? "... and creates no interface"
e2e_done

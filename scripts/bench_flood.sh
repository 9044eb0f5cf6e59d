#!/bin/bash
# bench_flood.sh -- part of `make bench`: does a handshake flood hurt?
#
# vpnd serves in B (ListenPort 51820, two peers). A (vpnd, the
# established tunnel) sends iperf3 through it for $BENCH_TIME seconds,
# first alone, then while F floods B's port over IPv6 with initiations
# that carry a valid mac1 (B's public key is public for a server) from
# thousands of source addresses (scripts/flood.py, $FLOOD_RATE a second).
# During the flood a new honest peer, wireguard-go in F, comes up: the
# time to its first handshake says how many initiations it needed
# (wireguard-go retries every 5 s: one cookie round trip, then the
# initiation with mac2 must pass). Prints one line per measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${BENCH_TIME:=10}"
: "${FLOOD_RATE:=25000}"
export VPND_BUILD
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
e2e_init benchflood >/dev/null
die() { echo "bench: $*" >&2; exit 1; }

keypair a
keypair b
keypair h
NSA=$(ns_add a)
NSB=$(ns_add b)
NSF=$(ns_add f)
veth "$NSA" va "$NSB" vb
veth "$NSF" fa "$NSB" fb
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb
ip -n "$NSF" addr add 10.98.0.2/24 dev fa
ip -n "$NSB" addr add 10.98.0.1/24 dev fb
ip -n "$NSF" addr add fd00:98::2/64 dev fa nodad
ip -n "$NSB" addr add fd00:98::1/64 dev fb nodad
# F may send from (and receive for) any address of 2001:db8::/32
ip -n "$NSF" -6 route add local 2001:db8::/32 dev lo
ip -n "$NSB" -6 route add 2001:db8::/32 via fd00:98::2

cat >"$E2E_TMP/b.conf" <<EOC
[Interface]
PrivateKey = $(key_of b)
Address = 10.200.0.1/24
ListenPort = 51820
MTU = 1420
[Peer]
PublicKey = $(pub_of a)
AllowedIPs = 10.200.0.2/32
[Peer]
PublicKey = $(pub_of h)
AllowedIPs = 10.200.0.3/32
EOC
cat >"$E2E_TMP/a.conf" <<EOC
[Interface]
PrivateKey = $(key_of a)
Address = 10.200.0.2/24
MTU = 1420
[Peer]
PublicKey = $(pub_of b)
Endpoint = 10.99.0.2:51820
AllowedIPs = 10.200.0.1/32
EOC
chmod 600 "$E2E_TMP/a.conf" "$E2E_TMP/b.conf"
vpnd_start b "$NSB" -f "$E2E_TMP/b.conf" >/dev/null || die "vpnd in B"
vpnd_start a "$NSA" >/dev/null || die "vpnd in A"
ctl a -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up"
wait_for 50 ip netns exec "$NSA" ping -c 1 -W 1 10.200.0.1 ||
    die "no ping through the tunnel"

# iperf LABEL: Gbit/s of one TCP stream A -> B through the tunnel
iperf() {
	local spid
	ip netns exec "$NSB" timeout $((BENCH_TIME + 30)) iperf3 -s -1 \
	    -B 10.200.0.1 -p 5201 >/dev/null 2>&1 &
	spid=$!
	E2E_PIDS="$E2E_PIDS $spid"
	wait_for 50 listening "$NSB" 5201 || die "no iperf3 server"
	ip netns exec "$NSA" timeout $((BENCH_TIME + 30)) iperf3 \
	    -c 10.200.0.1 -p 5201 -t "$BENCH_TIME" -J >"$E2E_TMP/$1.json" ||
	    die "iperf3 failed"
	wait "$spid"
	"$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print("%.3f" % (e["bytes"] * 8 / e["seconds"] / 1e9))' "$E2E_TMP/$1.json"
}

echo "bench: flood, baseline iperf3 ${BENCH_TIME} s ..." >&2
BASE=$(iperf base)
echo "bench: flood at $FLOOD_RATE/s, iperf3 ${BENCH_TIME} s ..." >&2
# niced: an attacker's generator does not share the victim's CPUs; here
# it does, and at the same priority it would starve iperf3 and vpnd alike
ip netns exec "$NSF" nice -n 10 "$PY" "$ROOT/scripts/flood.py" "$(pub_of b)" \
    fd00:98::1 51820 "$FLOOD_RATE" $((BENCH_TIME + 20)) 2001:db8:: \
    >"$E2E_TMP/flood.out" 2>&1 &
FPID=$!
E2E_PIDS="$E2E_PIDS $FPID"
# the flood puts B under load before anything is measured
wait_for 100 grep -q "under load" "$E2E_TMP/b/out" ||
    echo "bench: B never reported being under load" >&2
FLOODED=$(iperf flood)

# a new honest peer during the flood
WGH="${E2E_ID}h"
wggo_start "$NSF" "$WGH"
ip netns exec "$NSF" wg set "$WGH" private-key "$E2E_TMP/h.key" \
    peer "$(pub_of b)" allowed-ips 10.200.0.1/32 \
    endpoint 10.98.0.1:51820 || die "wg set"
ip -n "$NSF" addr add 10.200.0.3/24 dev "$WGH"
ip -n "$NSF" link set "$WGH" mtu 1420 up
hs_done() {
	[ "$(ip netns exec "$NSF" wg show "$WGH" latest-handshakes |
	    cut -f2)" != 0 ]
}
T0=$(date +%s.%N)
ip netns exec "$NSF" ping -c 1 -W 1 10.200.0.1 >/dev/null 2>&1 &
wait_for 250 hs_done
HSOK=$?
T1=$(date +%s.%N)
wait "$FPID"
read -r SENT RATE <"$E2E_TMP/flood.out"
HS=$(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}')
TRIES=$(awk -v t="$HS" 'BEGIN {printf "%d", int(t / 5) + 1}')
[ "$HSOK" = 0 ] || TRIES="none within 25 s"
RATIO=$(awk -v a="$FLOODED" -v b="$BASE" 'BEGIN {
	if (b == 0) print "-"; else printf "%.0f%%", 100 * a / b }')
echo "flood: ${RATE:-?} valid-mac1 initiations/s from 4096 IPv6 /48s" \
    "(${SENT:-?} sent)"
echo "flood: established tunnel ${FLOODED} Gbit/s under flood vs" \
    "${BASE} alone (${RATIO})"
echo "flood: new honest peer's first handshake after ${HS} s" \
    "(initiations needed: ${TRIES}; wireguard-go retries every 5 s)"
grep -E "under load" "$E2E_TMP/b/out" | head -2 | sed 's/^/flood: vpnd B: /'

#!/bin/bash
# bench_flood.sh -- part of `make bench`: does a handshake flood hurt?
#
# vpnd serves in B (ListenPort 51820, three peers). A (vpnd, the
# established tunnel) sends iperf3 through it for $BENCH_TIME seconds,
# first alone, then while F floods B's port over IPv6 with initiations
# that carry a valid mac1 (B's public key is public for a server) from
# thousands of source addresses (scripts/flood.c, $FLOOD_RATE a second,
# at the same priority as everything else: it precomputes its messages
# and sends them 64 at a time, so it costs little CPU of the two cores).
# During the flood two new honest peers come up, one after the other:
# vpnd in H, which answers a cookie reply to its pending initiation with
# the initiation again at once (mac2 now valid), and wireguard-go in F,
# which waits for its retransmission (5 s). The time to each one's first
# handshake, and the round-trip time without the flood, say how many
# round trips it took; scripts/hscapture.py, on each honest peer's own
# interface, times its handshake packets (kernel timestamps): from the
# first cookie reply it receives to the handshake response, in
# microseconds and in round trips without the flood, and how many
# initiations it sent (a responder that rate-limited the mac2-valid
# retry would show more than one after the cookie, and a wait of a
# retransmission). Prints one line per measure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${BENCH_TIME:=10}"
: "${FLOOD_RATE:=25000}"
: "${FLOOD_NICE:=0}"
export VPND_BUILD
E2E_ROOT=$ROOT
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
e2e_init benchflood >/dev/null
die() { echo "bench: $*" >&2; exit 1; }

keypair a
keypair b
keypair h
keypair v
NSA=$(ns_add a)
NSB=$(ns_add b)
NSF=$(ns_add f)
NSH=$(ns_add h)
veth "$NSA" va "$NSB" vb
veth "$NSF" fa "$NSB" fb
veth "$NSH" ha "$NSB" hb
ip -n "$NSH" addr add 10.97.0.2/24 dev ha
ip -n "$NSB" addr add 10.97.0.1/24 dev hb
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
[Peer]
PublicKey = $(pub_of v)
AllowedIPs = 10.200.0.4/32
EOC
cat >"$E2E_TMP/h.conf" <<EOC
[Interface]
PrivateKey = $(key_of v)
Address = 10.200.0.4/24
MTU = 1420
[Peer]
PublicKey = $(pub_of b)
Endpoint = 10.97.0.1:51820
AllowedIPs = 10.200.0.1/32
EOC
chmod 600 "$E2E_TMP/h.conf"
cc -O2 -D_GNU_SOURCE -I"$ROOT/tunworker" -o "$E2E_TMP/flood" \
    "$ROOT/scripts/flood.c" "$ROOT/tunworker/blake2s.c" -lsodium ||
    die "cannot build the flooder"
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
# capture NS IFACE TAG: scripts/hscapture.py on IFACE in NS, in the
# background, until the peer's first handshake response (30 s at most);
# its JSON line goes to $E2E_TMP/TAG.cap
capture() {
	ip netns exec "$1" timeout 40 "$PY" "$ROOT/scripts/hscapture.py" \
	    "$2" 51820 "$E2E_TMP/$3.ready" 30 >"$E2E_TMP/$3.cap" \
	    2>"$E2E_TMP/$3.caperr" &
	E2E_PIDS="$E2E_PIDS $!"
	eval "CAP_$3=$!"
	wait_for 50 test -e "$E2E_TMP/$3.ready" ||
	    echo "bench: the capture on $2 did not start" >&2
}
# captured TAG RTT_MS: what the capture TAG saw, in one line
captured() {
	local pid
	eval "pid=\$CAP_$1"
	wait "$pid" 2>/dev/null
	"$PY" - "$E2E_TMP/$1.cap" "$2" "${HSRT:-0}" <<'EOP'
import json, sys
try:
    c = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("no capture"); sys.exit(0)
rtt = float(sys.argv[2] or 0) * 1000
cr = c["cookie_to_response_us"]
if cr is None:
    print("no cookie reply then response (%d initiations sent, %d cookie "
          "replies)" % (c["init"], c["cookies"]))
    sys.exit(0)
hs = float(sys.argv[3] or 0)
print("first cookie reply -> handshake response %d us (%s round trips of "
      "%.0f us; %s handshakes of %.0f us without the flood), "
      "%d initiations sent (%d after the first cookie reply, "
      "the last answered after %s us), %d cookie replies"
      % (cr, "%.1f" % (cr / rtt) if rtt > 0 else "?", rtt,
         "%.1f" % (cr / hs) if hs > 0 else "?", hs, c["init"],
         c["init_after_cookie"], c["retry_to_response_us"], c["cookies"]))
EOP
}

vpnd_start b "$NSB" -f "$E2E_TMP/b.conf" >/dev/null || die "vpnd in B"
vpnd_start a "$NSA" >/dev/null || die "vpnd in A"
vpnd_start hv "$NSH" >/dev/null || die "vpnd in H"
# A's handshake without a flood: the time a handshake round trip takes
# here (initiation sent -> response received)
capture "$NSA" va a
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

wait "$CAP_a" 2>/dev/null
HSRT=$("$PY" -c '
import json, sys
try:
    print(json.load(open(sys.argv[1]))["first_init_to_response_us"] or "")
except (OSError, ValueError):
    pass' "$E2E_TMP/a.cap")
echo "bench: flood, baseline iperf3 ${BENCH_TIME} s ..." >&2
BASE=$(iperf base)
# the round trip H <-> B and F <-> B without a flood, for the handshakes
# below (ms)
RTT=$(ip netns exec "$NSH" ping -c 5 -i 0.2 -q 10.97.0.1 |
    awk -F/ '/^rtt/ { print $5 }')
RTTF=$(ip netns exec "$NSF" ping -c 5 -i 0.2 -q 10.98.0.1 |
    awk -F/ '/^rtt/ { print $5 }')

echo "bench: flood at $FLOOD_RATE/s, iperf3 ${BENCH_TIME} s ..." >&2
# at the same priority as vpnd and iperf3 (FLOOD_NICE=10 to nice it)
ip netns exec "$NSF" nice -n "$FLOOD_NICE" "$E2E_TMP/flood" "$(pub_of b)" \
    fd00:98::1 51820 "$FLOOD_RATE" $((BENCH_TIME + 45)) 2001:db8:: \
    >"$E2E_TMP/flood.out" 2>&1 &
FPID=$!
E2E_PIDS="$E2E_PIDS $FPID"
# the flood puts B under load before anything is measured
wait_for 100 grep -q "under load" "$E2E_TMP/b/out" ||
    echo "bench: B never reported being under load" >&2
fcpu() { awk '{ print $14 + $15 }' "/proc/$FPID/stat" 2>/dev/null; }
F0=$(fcpu)
FLOODED=$(iperf flood)
F1=$(fcpu)

# a new honest vpnd during the flood: up, then the first ping through
hv_ping() { ip netns exec "$NSH" ping -c 1 -W 1 10.200.0.1 >/dev/null 2>&1; }
capture "$NSH" ha hv
V0=$(date +%s.%N)
ctl hv -t 30 up "$E2E_TMP/h.conf" >/dev/null || echo "bench: vpnctl up in H" >&2
wait_for 300 hv_ping
VOK=$?
V1=$(date +%s.%N)
VHS=$(awk -v a="$V0" -v b="$V1" 'BEGIN {printf "%.2f", b - a}')
[ "$VOK" = 0 ] || VHS="none within 30 s"

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
capture "$NSF" fa wg
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
    "(${SENT:-?} sent; flooder at nice ${FLOOD_NICE}, used" \
    "$(awk -v a="${F0:-0}" -v b="${F1:-0}" -v s="$BENCH_TIME" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f%%", 100 * (b - a) / hz / s }')" \
    "of a core during the iperf3 run)"
echo "flood: established tunnel ${FLOODED} Gbit/s under flood vs" \
    "${BASE} alone (${RATIO})"
echo "flood: new honest vpnd peer: first ping through after ${VHS} s" \
    "(round trip without the flood ${RTT:-?} ms; it retries at once on a cookie)"
echo "flood: new honest wireguard-go peer's first handshake after ${HS} s" \
    "(initiations needed: ${TRIES}; wireguard-go retries every 5 s)"
echo "flood: vpnd peer's handshake on its wire: $(captured hv "$RTT")"
echo "flood: wireguard-go peer's handshake on its wire: $(captured wg "$RTTF")"
grep -E "under load" "$E2E_TMP/b/out" | head -2 | sed 's/^/flood: vpnd B: /'

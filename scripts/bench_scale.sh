#!/bin/bash
# bench_scale.sh -- part of `make bench`: one vpnd serving 1,000 peers.
#
# $SCALE_PEERS (1000) key pairs come from build/hsgen (wg genkey is too
# slow for that many), each a [Peer] of a headless wg-quick file with a
# /32 of its own. Measured, $SCALE_RUNS (3) times each, alternating:
#   - start: from starting vpnd -f FILE until its UAPI socket lists every
#     peer (scripts/uapi_peers.py asks every 10 ms), for 1 peer and for
#     $SCALE_PEERS peers
#   - memory: VmRSS and VmHWM of each of vpnd's four processes then, with
#     1 peer and with $SCALE_PEERS, and what one more peer costs each
#   - responder handshakes: hsgen in namespace G sends valid initiations
#     from every peer in turn (increasing timestamps, no replay) for
#     $SCALE_HS_TIME (5) seconds, $SCALE_WINDOW (64) in flight; the
#     responses counted over tunworker's CPU time (every thread) give
#     handshakes per second per core. At this rate vpnd is "under load":
#     hsgen answers its cookie reply, so mac2 is valid as an honest
#     initiator's would be, and G's address is a configured endpoint
#     (peer 1's), so the per-source token bucket admits it.
# Prints "scale: ..." lines. Needs root; touches nothing outside its
# namespaces; the EXIT trap removes everything.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${SCALE_PEERS:=1000}"
: "${SCALE_RUNS:=3}"
: "${SCALE_HS_TIME:=5}"
: "${SCALE_WINDOW:=64}"
export VPND_BUILD
E2E_ROOT=$ROOT
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
e2e_init benchscale >/dev/null
die() { echo "bench: $*" >&2; exit 1; }
HSGEN=$VPND_BUILD/hsgen
[ -x "$HSGEN" ] || die "no $HSGEN: make all"

keypair b
umask 077
"$HSGEN" keys "$SCALE_PEERS" >"$E2E_TMP/peers.keys" || die "hsgen keys"
NSG=$(ns_add g)

# mkconf N FILE: the server's file with the first N peers
mkconf() {
	{
		printf '[Interface]\nPrivateKey = %s\nAddress = 10.200.0.1/24\n' \
		    "$(key_of b)"
		printf 'ListenPort = 51820\nMTU = 1420\n'
		head -n "$1" "$E2E_TMP/peers.keys" | awk '{
			i = NR - 1
			printf "[Peer]\nPublicKey = %s\n", $2
			printf "AllowedIPs = 10.201.%d.%d/32\n", int(i / 256), i % 256
			if (NR == 1)
				print "Endpoint = 10.96.0.2:9"
		}'
	} >"$2"
	chmod 600 "$2"
}
mkconf 1 "$E2E_TMP/one.conf"
mkconf "$SCALE_PEERS" "$E2E_TMP/all.conf"

# mem PID: "rss hwm" in KiB
mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
	    END { print r + 0, h + 0 }' "/proc/$1/status" 2>/dev/null
}

# memline TAG: "parent rss hwm netmgr rss hwm tunworker ... dnsmgr ..."
memline() {
	local p out="" c w
	eval "p=\$VPND_PID_$1"
	out="parent $(mem "$p")"
	for w in netmgr tunworker dnsmgr; do
		c=$(child_of "$p" "$w") || c=
		out="$out $w $( [ -n "$c" ] && mem "$c" || echo "0 0")"
	done
	echo "$out"
}

# start TAG NS CONF N: vpnd -f CONF in NS; sets GOT to "seconds peers
# aips" once its UAPI socket lists N peers (or fails after 30 s)
start() {
	local t0 got
	t0=$(date +%s.%N)
	vpnd_spawn "$1" "$2" -f "$3"
	got=$("$PY" "$ROOT/scripts/uapi_peers.py" "$E2E_TMP/$1/wg/vpn0.sock" \
	    "$4" 30) || { cat "$E2E_TMP/$1/out" >&2; die "$1: $got"; }
	set -- $got
	GOT=$(awk -v a="$t0" -v b="$3" -v p="$1" -v n="$2" \
	    'BEGIN { printf "%.3f %d %d\n", b - a, p, n }')
}

stop() {
	local p
	eval "p=\$VPND_PID_$1"
	kill -TERM "$p" 2>/dev/null
	wait_gone "$p" 100 || die "vpnd $1 did not stop"
	wait "$p" 2>/dev/null
}

echo "bench: scale, $SCALE_PEERS peers ($(uptime | sed 's/.*load/load/'))" >&2
T1="" TN="" M1="" MN=""
for r in $(seq 1 "$SCALE_RUNS"); do
	NS1=$(ns_add "one$r")
	NSN=$(ns_add "all$r")
	start "one$r" "$NS1" "$E2E_TMP/one.conf" 1
	set -- $GOT
	T1="$T1 $1"
	[ -z "$M1" ] && M1=$(memline "one$r")
	stop "one$r"
	start "all$r" "$NSN" "$E2E_TMP/all.conf" "$SCALE_PEERS"
	set -- $GOT
	TN="$TN $1"
	[ "$2 $3" = "$SCALE_PEERS $SCALE_PEERS" ] ||
	    die "UAPI lists $2 peers, $3 allowed IPs"
	[ -z "$MN" ] && MN=$(memline "all$r")
	if [ "$r" != "$SCALE_RUNS" ]; then
		stop "all$r"
		ip netns del "$NS1"
		ip netns del "$NSN"
	fi
done
LOAD1=$(uptime | sed 's/.*load average: //')

# the handshakes, against the last instance
veth "$NSG" ga "$NSN" gb
ip -n "$NSG" addr add 10.96.0.2/24 dev ga
ip -n "$NSN" addr add 10.96.0.1/24 dev gb
eval "BP=\$VPND_PID_all$SCALE_RUNS"
TW=$(child_of "$BP" tunworker) || die "no tunworker"
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
C0=$(cpu "$TW")
HS=$(ip netns exec "$NSG" "$HSGEN" hs "$(pub_of b)" "$E2E_TMP/peers.keys" \
    10.96.0.1 51820 "$SCALE_HS_TIME" "$SCALE_WINDOW") || die "hsgen hs"
C1=$(cpu "$TW")
LOAD2=$(uptime | sed 's/.*load average: //')
MH=$(memline "all$SCALE_RUNS")
set -- $HS
HZ=$(getconf CLK_TCK)

med() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 }
    END { printf "%s", a[int((NR + 1) / 2)] }'; }
echo "scale: start to all peers configured (UAPI lists them): 1 peer" \
    "$(echo "$T1" | med) s, $SCALE_PEERS peers $(echo "$TN" | med) s" \
    "(median of $SCALE_RUNS; each:$TN) (load $LOAD1)"
"$PY" - "$SCALE_PEERS" "$M1" "$MN" "$MH" <<'EOP'
import sys
n = int(sys.argv[1])
def parse(s):
    f = s.split()
    return {f[i]: (int(f[i + 1]), int(f[i + 2])) for i in range(0, len(f), 3)}
one, all_, hs = parse(sys.argv[2]), parse(sys.argv[3]), parse(sys.argv[4])
tot = [0, 0, 0, 0]
for w in ("parent", "netmgr", "tunworker", "dnsmgr"):
    r1, h1 = one[w]
    rn, hn = all_[w]
    rh, hh = hs[w]
    tot = [tot[0] + r1, tot[1] + rn, tot[2] + hh, tot[3] + h1]
    print("scale: %-9s VmRSS %6d KiB with 1 peer, %6d with %d (%+.2f KiB "
          "per extra peer); VmHWM %d / %d, %d after the handshakes"
          % (w, r1, rn, n, (rn - r1) / (n - 1), h1, hn, hh))
print("scale: all four VmRSS %d KiB with 1 peer, %d with %d: %.2f KiB per "
      "extra peer; VmHWM after the handshakes %d KiB"
      % (tot[0], tot[1], n, (tot[1] - tot[0]) / (n - 1), tot[2]))
EOP
set -- $HS
"$PY" - "$1" "$2" "$3" "$4" "$C0" "$C1" "$HZ" "$SCALE_PEERS" "$SCALE_WINDOW" \
    "$LOAD2" <<'EOP'
import sys
resp, cookies, tmo, secs = int(sys.argv[1]), int(sys.argv[2]), \
    int(sys.argv[3]), float(sys.argv[4])
cpu = (float(sys.argv[6]) - float(sys.argv[5])) / float(sys.argv[7])
print("scale: responder handshakes: %d responses in %.1f s = %.0f/s from %s "
      "peers (%s in flight; %d cookie replies answered, %d timed out)"
      % (resp, secs, resp / secs, sys.argv[8], sys.argv[9], cookies, tmo))
print("scale: tunworker CPU %.2f s over the run: %s handshakes per second "
      "per core (load %s)"
      % (cpu, "%.0f" % (resp / cpu) if cpu > 0 else "-", sys.argv[10]))
EOP

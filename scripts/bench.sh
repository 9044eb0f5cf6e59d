#!/bin/bash
# bench.sh -- `make bench`: vpnd against wireguard-go, side by side.
#
# Two network namespaces joined by a veth pair. The same run measures
# vpnd <-> vpnd and then wireguard-go <-> wireguard-go (MTU 1420 both):
#   - iperf3, one TCP stream for $BENCH_TIME seconds (default 10): Gbit/s
#   - CPU seconds per GB moved: utime+stime of every process (all threads)
#     of both daemons, from /proc/PID/stat, before and after the iperf3 run
#   - RTT the tunnel adds: ping through the tunnel minus ping over the bare
#     veth (50 pings, -i 0.01, average)
#   - peak RSS: VmHWM summed over all processes of both daemons
# then the ratios vpnd / wireguard-go, as a table. Needs root. Touches
# nothing outside its namespaces; the EXIT trap removes everything.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${BENCH_TIME:=10}"
export VPND_BUILD
# (other helpers in e2e.sh expect to run from regress/e2e: quiet)
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
for t in iperf3 wireguard-go wg ping python3; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "bench: $t missing (make deps)" >&2
		exit 1
	}
done
e2e_init bench >/dev/null
sh "$ROOT/scripts/mkuser.sh" >/dev/null 2>&1 || true

PORT=51820
HZ=$(getconf CLK_TCK)

die() {
	echo "bench: $*" >&2
	exit 1
}

# cpu_ticks PID...: utime+stime (clock ticks) of the processes, all threads
cpu_ticks() {
	local p t=0 u s
	for p in "$@"; do
		# fields 14 and 15, counted after the ")" closing the comm
		read -r u s <<EOF
$(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12, $13}')
EOF
		t=$((t + u + s))
	done
	echo "$t"
}

# hwm_kb PID...: VmHWM summed
hwm_kb() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# rtt_us NS ADDR: average RTT of 50 pings, in microseconds
rtt_us() {
	ip netns exec "$1" ping -c 50 -i 0.01 -W 1 -q "$2" 2>/dev/null |
	    awk -F/ '/^rtt|^round-trip/ {printf "%d\n", $5 * 1000}'
}

listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
}

# measure LABEL NSA NSB ADDR_B PIDS...: iperf3 A -> B; sets R_<LABEL>_*
measure() {
	local label=$1 nsa=$2 nsb=$3 addr=$4 spid t0 t1 bytes secs veth tun
	shift 4
	ip netns exec "$nsa" ping -c 3 -i 0.2 -W 1 -q "$addr" >/dev/null 2>&1 ||
	    die "$label: no ping through the tunnel"
	veth=$(rtt_us "$nsa" 10.99.0.2)
	tun=$(rtt_us "$nsa" "$addr")
	ip netns exec "$nsb" timeout $((BENCH_TIME + 30)) iperf3 -s -1 \
	    -B "$addr" -p 5201 >/dev/null 2>&1 &
	spid=$!
	E2E_PIDS="$E2E_PIDS $spid"
	wait_for 50 listening "$nsb" 5201 || die "$label: no iperf3 server"
	t0=$(cpu_ticks "$@")
	ip netns exec "$nsa" timeout $((BENCH_TIME + 30)) iperf3 -c "$addr" \
	    -p 5201 -t "$BENCH_TIME" -J >"$E2E_TMP/$label.json" ||
	    die "$label: iperf3 failed"
	t1=$(cpu_ticks "$@")
	wait "$spid"
	read -r bytes secs <<EOF
$("$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(int(e["bytes"]), e["seconds"])' "$E2E_TMP/$label.json")
EOF
	eval "R_${label}_gbps=\$(awk -v b=$bytes -v s=$secs \
	    'BEGIN {printf \"%.3f\", b * 8 / s / 1e9}')"
	eval "R_${label}_cpu=\$(awk -v t=$((t1 - t0)) -v hz=$HZ -v b=$bytes \
	    'BEGIN {printf \"%.3f\", t / hz / (b / 1e9)}')"
	eval "R_${label}_rtt=$((tun - veth))"
	eval "R_${label}_rss=\$(awk -v k=$(hwm_kb "$@") \
	    'BEGIN {printf \"%.1f\", k / 1024}')"
	eval "R_${label}_veth=$veth R_${label}_tun=$tun"
}

keypair a
keypair b

# --- vpnd <-> vpnd --------------------------------------------------------
NSA=$(ns_add a)
NSB=$(ns_add b)
veth "$NSA" va "$NSB" vb
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb
# conf FILE SELF PEER N ENDPOINT|"" LISTENPORT|""
conf() {
	{
		echo "[Interface]"
		echo "PrivateKey = $(key_of "$2")"
		echo "Address = 10.200.0.$4/24"
		echo "MTU = 1420"
		[ -n "$6" ] && echo "ListenPort = $6"
		echo
		echo "[Peer]"
		echo "PublicKey = $(pub_of "$3")"
		[ -n "$5" ] && echo "Endpoint = $5"
		echo "AllowedIPs = 10.200.0.$((3 - $4))/32"
	} >"$1"
	chmod 600 "$1"
}
conf "$E2E_TMP/b.conf" b a 1 "" "$PORT"
conf "$E2E_TMP/a.conf" a b 2 "10.99.0.2:$PORT" ""
vpnd_start b "$NSB" -f "$E2E_TMP/b.conf" >/dev/null || die "vpnd in B"
vpnd_start a "$NSA" >/dev/null || die "vpnd in A"
ctl a -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up failed"
VPIDS=""
for p in "$VPND_PID_a" "$VPND_PID_b"; do
	VPIDS="$VPIDS $p"
	for c in netmgr tunworker dnsmgr; do
		VPIDS="$VPIDS $(child_of "$p" "$c")" || die "no vpnd $c"
	done
done
echo "bench: vpnd <-> vpnd, iperf3 ${BENCH_TIME} s ..." >&2
# shellcheck disable=SC2086
measure vpnd "$NSA" "$NSB" 10.200.0.1 $VPIDS

# tear vpnd down before wireguard-go runs
for p in "$VPND_PID_a" "$VPND_PID_b"; do
	kill -TERM "$p"
	wait_gone "$p" 50 || die "vpnd $p does not stop"
done

# --- wireguard-go <-> wireguard-go ----------------------------------------
NSC=$(ns_add c)
NSD=$(ns_add d)
veth "$NSC" va "$NSD" vb
ip -n "$NSC" addr add 10.99.0.1/24 dev va
ip -n "$NSD" addr add 10.99.0.2/24 dev vb
WGC="${E2E_ID}c"
WGD="${E2E_ID}d"
wggo_start "$NSD" "$WGD"
PD=${E2E_PIDS##* }
wggo_start "$NSC" "$WGC"
PC=${E2E_PIDS##* }
ip netns exec "$NSD" wg set "$WGD" listen-port "$PORT" \
    private-key "$E2E_TMP/b.key" peer "$(pub_of a)" \
    allowed-ips 10.200.0.2/32 || die "wg set $WGD"
ip netns exec "$NSC" wg set "$WGC" private-key "$E2E_TMP/a.key" \
    peer "$(pub_of b)" allowed-ips 10.200.0.1/32 \
    endpoint "10.99.0.2:$PORT" || die "wg set $WGC"
ip -n "$NSD" addr add 10.200.0.1/24 dev "$WGD"
ip -n "$NSC" addr add 10.200.0.2/24 dev "$WGC"
ip -n "$NSD" link set "$WGD" mtu 1420 up
ip -n "$NSC" link set "$WGC" mtu 1420 up
echo "bench: wireguard-go <-> wireguard-go, iperf3 ${BENCH_TIME} s ..." >&2
measure wggo "$NSC" "$NSD" 10.200.0.1 "$PC" "$PD"

# --- the table ------------------------------------------------------------
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}
row() {
	printf '%-34s %12s %14s %12s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
echo
echo "vpnd bench: one TCP stream (iperf3 -t $BENCH_TIME), MTU 1420," \
    "$(nproc) CPUs, $(uname -r)"
printf '%-34s %12s %14s %12s\n' "" "vpnd" "wireguard-go" "vpnd/wg-go"
row "throughput (Gbit/s)" "$R_vpnd_gbps" "$R_wggo_gbps"
row "CPU s per GB (both daemons)" "$R_vpnd_cpu" "$R_wggo_cpu"
row "RTT added by the tunnel (us)" "$R_vpnd_rtt" "$R_wggo_rtt"
row "peak RSS, MiB (both daemons)" "$R_vpnd_rss" "$R_wggo_rss"
echo "(bare veth RTT: ${R_vpnd_veth} us / ${R_wggo_veth} us;" \
    "through the tunnel: ${R_vpnd_tun} us / ${R_wggo_tun} us;" \
    "vpnd RSS counts its 8 processes)"

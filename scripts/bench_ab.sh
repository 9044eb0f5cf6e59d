#!/bin/bash
# bench_ab.sh -- two vpnd builds against each other, interleaved.
#
#	scripts/bench_ab.sh OLD_VPND NEW_VPND [ROUNDS]
#
# The machine's other load moves absolute numbers, so the two binaries
# take turns (A B A B ...) in one run, each time as a fresh vpnd <-> vpnd
# pair in two network namespaces joined by a veth (MTU 1420). Per turn:
#   - RTT the tunnel adds: ping through it minus ping over the bare veth,
#     200 pings 10 ms apart and 25 pings 200 ms apart (an idle wake-up);
#     average and median
#   - idle CPU of both tunworkers over $AB_IDLE seconds (default 10)
#   - one iperf3 TCP stream for $AB_TIME seconds (default 10): Gbit/s,
#     CPU seconds per GB (both daemons, all processes and threads), TCP
#     retransmits
# with the load average. AB_RTT=N measures only the RTT, with both pairs
# up at once and pinged in turn N times (see below). AB_CMD="..." runs that command (bash -c) with
# NS1, NS2, TW_A, TW_B (the tunworkers' PIDs) and AB_LABEL set instead
# of measuring, e.g. a perf record. Needs root, make all; touches nothing outside
# its namespaces (the EXIT trap removes everything). Not a test.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${AB_TIME:=10}"
: "${AB_IDLE:=10}"
export VPND_BUILD
E2E_ROOT=$ROOT
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null

[ $# -ge 2 ] || { echo "usage: $0 OLD_VPND NEW_VPND [ROUNDS]" >&2; exit 2; }
A=$(realpath "$1")
B=$(realpath "$2")
ROUNDS=${3:-2}
[ "$(id -u)" = 0 ] || { echo "bench_ab: needs root" >&2; exit 1; }
e2e_init bench_ab >/dev/null
sh "$ROOT/scripts/mkuser.sh" >/dev/null 2>&1 || true
HZ=$(getconf CLK_TCK)
PORT=51820

die() {
	echo "bench_ab: $*" >&2
	exit 1
}

# rtt NS ADDR COUNT INTERVAL: "average median" RTT in microseconds (the
# median moves less with the machine's other load)
rtt() {
	ip netns exec "$1" ping -c "$3" -i "$4" -W 1 "$2" 2>/dev/null |
	    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
	    awk '{ v[NR] = $1; s += $1 }
		END { if (NR) printf "%d %d\n", s / NR * 1000,
		    v[int((NR + 1) / 2)] * 1000; else print "0 0" }'
}

retrans() {
	ip netns exec "$1" awk '$1 == "Tcp:" && !n { n = split($0, h); next }
	    $1 == "Tcp:" { split($0, v); for (i = 1; i <= n; i++)
		if (h[i] == "RetransSegs") print v[i] }' /proc/net/snmp
}

keypair a
keypair b
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
NS1=$(ns_add ab1)
NS2=$(ns_add ab2)
veth "$NS1" va "$NS2" vb
ip -n "$NS1" addr add 10.99.0.1/24 dev va
ip -n "$NS2" addr add 10.99.0.2/24 dev vb

# turn LABEL BINARY N: one fresh pair, measured
turn() {
	local l=$1 bin=$2 n=$3 pa pb ta tb pids t0 t1 v1 t1r v2 t2r idle
	local v1m t1m v2m t2m
	local r0 r1 bytes secs spid
	rm -rf "$E2E_TMP/a$n" "$E2E_TMP/b$n"
	VPND_BIN=$bin vpnd_start "b$n" "$NS2" -f "$E2E_TMP/b.conf" \
	    >/dev/null || die "vpnd b"
	VPND_BIN=$bin vpnd_start "a$n" "$NS1" >/dev/null || die "vpnd a"
	ctl "a$n" -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up"
	eval "pa=\$VPND_PID_a$n pb=\$VPND_PID_b$n"
	pids="$pa $pb"
	for c in netmgr tunworker dnsmgr; do
		pids="$pids $(child_of "$pa" $c) $(child_of "$pb" $c)"
	done
	ta=$(child_of "$pa" tunworker)
	tb=$(child_of "$pb" tunworker)
	wait_for 100 ip netns exec "$NS1" ping -c 1 -W 1 -q 10.200.0.1 \
	    >/dev/null 2>&1 || die "no ping through the tunnel"
	if [ -n "${AB_CMD:-}" ]; then
		# a profile instead: the command sees the pair's namespaces
		# and the tunworkers' PIDs
		NS1=$NS1 NS2=$NS2 TW_A=$ta TW_B=$tb AB_LABEL=$l bash -c "$AB_CMD"
		for p in $pa $pb; do
			kill -TERM "$p"
			wait_gone "$p" 50 || die "vpnd $p does not stop"
		done
		return
	fi
	read -r v1 v1m <<EOF
$(rtt "$NS1" 10.99.0.2 200 0.01)
EOF
	read -r t1r t1m <<EOF
$(rtt "$NS1" 10.200.0.1 200 0.01)
EOF
	read -r v2 v2m <<EOF
$(rtt "$NS1" 10.99.0.2 25 0.2)
EOF
	read -r t2r t2m <<EOF
$(rtt "$NS1" 10.200.0.1 25 0.2)
EOF
	t0=$(cpu_ticks "$ta" "$tb")
	sleep "$AB_IDLE"	# measuring idle CPU, not synchronising
	t1=$(cpu_ticks "$ta" "$tb")
	idle=$((t1 - t0))
	ip netns exec "$NS2" timeout $((AB_TIME + 30)) iperf3 -s -1 \
	    -B 10.200.0.1 -p 5201 >/dev/null 2>&1 &
	spid=$!
	wait_for 50 listening "$NS2" 5201 || die "no iperf3 server"
	r0=$(( $(retrans "$NS1") + $(retrans "$NS2") ))
	# shellcheck disable=SC2086
	t0=$(cpu_ticks $pids)
	ip netns exec "$NS1" timeout $((AB_TIME + 30)) iperf3 -c 10.200.0.1 \
	    -p 5201 -t "$AB_TIME" -J >"$E2E_TMP/ip.json" || die "iperf3"
	# shellcheck disable=SC2086
	t1=$(cpu_ticks $pids)
	r1=$(( $(retrans "$NS1") + $(retrans "$NS2") ))
	wait "$spid"
	read -r bytes secs <<EOF
$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(int(e["bytes"]), e["seconds"])' "$E2E_TMP/ip.json")
EOF
	printf '%s rtt+ avg %4d med %4d us (%d-%d) idle-rtt+ avg %4d med %4d us' \
	    "$l" $((t1r - v1)) $((t1m - v1m)) "$t1m" "$v1m" $((t2r - v2)) \
	    $((t2m - v2m))
	awk -v b="$bytes" -v s="$secs" -v t=$((t1 - t0)) -v hz="$HZ" \
	    -v i="$idle" -v is="$AB_IDLE" -v r=$((r1 - r0)) \
	    'BEGIN { printf " | %.3f Gbit/s %.2f CPU-s/GB retr %d |" \
		" idle tunworkers %.3f CPU-s/s", b * 8 / s / 1e9,
		t / hz / (b / 1e9), r, i / hz / is }'
	echo " | load $(cut -d' ' -f1-3 /proc/loadavg)"
	for p in $pa $pb; do
		kill -TERM "$p"
		wait_gone "$p" 50 || die "vpnd $p does not stop"
	done
}

# samples NS ADDR COUNT INTERVAL FILE: each RTT (us) appended to FILE
samples() {
	ip netns exec "$1" ping -c "$3" -i "$4" -W 1 "$2" 2>/dev/null |
	    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' |
	    awk '{ printf "%d\n", $1 * 1000 }' >>"$5"
}

# stat FILE: "median mean count"
stat() {
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
	    END { if (NR) printf "%d %d %d\n", v[int((NR + 1) / 2)], s / NR, NR }'
}

# AB_RTT=N: both builds' pairs up at once (A in NS1/NS2, B in two more
# namespaces), pings through each in turn, N times: load that drifts
# weighs on both alike. Then stop.
if [ -n "${AB_RTT:-}" ]; then
	NS3=$(ns_add ab3)
	NS4=$(ns_add ab4)
	veth "$NS3" vc "$NS4" vd
	ip -n "$NS3" addr add 10.99.0.1/24 dev vc
	ip -n "$NS4" addr add 10.99.0.2/24 dev vd
	VPND_BIN=$A vpnd_start rb1 "$NS2" -f "$E2E_TMP/b.conf" >/dev/null ||
	    die "vpnd"
	VPND_BIN=$A vpnd_start ra1 "$NS1" >/dev/null || die "vpnd"
	VPND_BIN=$B vpnd_start rb2 "$NS4" -f "$E2E_TMP/b.conf" >/dev/null ||
	    die "vpnd"
	VPND_BIN=$B vpnd_start ra2 "$NS3" >/dev/null || die "vpnd"
	ctl ra1 -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up"
	ctl ra2 -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up"
	for ns in "$NS1" "$NS3"; do
		wait_for 100 ip netns exec "$ns" ping -c 1 -W 1 -q 10.200.0.1 \
		    >/dev/null 2>&1 || die "no ping through the tunnel"
	done
	i=0
	while [ $i -lt "$AB_RTT" ]; do
		samples "$NS1" 10.99.0.2 20 0.01 "$E2E_TMP/va"
		samples "$NS1" 10.200.0.1 50 0.01 "$E2E_TMP/ta"
		samples "$NS3" 10.99.0.2 20 0.01 "$E2E_TMP/vb"
		samples "$NS3" 10.200.0.1 50 0.01 "$E2E_TMP/tb"
		samples "$NS1" 10.200.0.1 5 0.2 "$E2E_TMP/ia"
		samples "$NS3" 10.200.0.1 5 0.2 "$E2E_TMP/ib"
		i=$((i + 1))
	done
	for l in a b; do
		read -r vm va vn <<EOF
$(stat "$E2E_TMP/v$l")
EOF
		read -r tm ta tn <<EOF
$(stat "$E2E_TMP/t$l")
EOF
		read -r im ia in <<EOF
$(stat "$E2E_TMP/i$l")
EOF
		echo "$l: added RTT median $((tm - vm)) us, mean $((ta - va)) us" \
		    "(tunnel $tm/$ta of $tn, veth $vm/$va of $vn);" \
		    "200 ms apart: median $((im - vm)) us, mean $((ia - va)) us" \
		    "of $in | load $(cut -d' ' -f1-3 /proc/loadavg)"
	done
	exit 0
fi

i=0
while [ $i -lt "$ROUNDS" ]; do
	turn A "$A" $((2 * i))
	turn B "$B" $((2 * i + 1))
	i=$((i + 1))
done

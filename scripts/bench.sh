#!/bin/bash
# bench.sh -- `make bench`: vpnd against wireguard-go, side by side.
#
# Two network namespaces joined by a veth pair. The same run measures
# vpnd <-> vpnd, wireguard-go <-> wireguard-go, and a mixed pair where
# wireguard-go initiates (MTU 1420 everywhere). wireguard-go is the first
# on PATH, or $WIREGUARD_GO.
#   - iperf3 for $BENCH_TIME seconds (default 10): one TCP stream, the
#     same reversed (-R), and four streams (-P 4): Gbit/s
#   - TCP retransmits of each run (RetransSegs of both namespaces)
#   - CPU seconds per GB moved: utime+stime of every process (all threads)
#     of both daemons, from /proc/PID/stat, before and after the iperf3 run
#   - RTT the tunnel adds: ping through the tunnel minus ping over the bare
#     veth (50 pings, -i 0.01, average)
#   - the same RTT with every CPU kept awake by a busy loop of the idle
#     scheduling class (SCHED_IDLE: any other thread preempts it at once):
#     the tunnel's own cost, without what waking a sleeping CPU costs (a
#     halted vCPU of a virtual machine, a deep C-state)
#   - the same RTT with vpnd -l 0 (a pair of its own; vpnd asks the
#     kernel, through /dev/cpu_dma_latency (the parent holds it, tunworker
#     says when), for a CPU wake-up latency of
#     0 while packets move), and wireguard-go with the same request held
#     for it from outside; both bare veth pings under that request too
#   - what one wake-up of an idle process costs on this machine
#     (scripts/wakeup.c): the floor under the RTT a tunnel adds
#   - peak RSS per daemon: VmHWM summed over its processes, and for vpnd
#     each process's share (parent/netmgr/tunworker/dnsmgr)
#   - the mixed pair: wireguard-go sends to vpnd (and -R: vpnd sends to
#     wireguard-go), against wireguard-go receiving from the same sender
# then the ratios vpnd / wireguard-go, as a table. Needs root. Touches
# nothing outside its namespaces; the EXIT trap removes everything.
# The machine's other load shows in the numbers: the three pairings take
# turns $BENCH_ROUNDS times (default 3) and the table gives each figure's
# median over the rounds (peak RSS: the highest), with the one-stream
# throughput of every round under it.
# BENCH_PERF=/path/prefix: perf record -g of each pairing's daemons during
# its one-stream run, into /path/prefix.<pairing>.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${VPND_BUILD:=$ROOT/build}"
: "${BENCH_TIME:=10}"
: "${BENCH_ROUNDS:=3}"
export VPND_BUILD
E2E_ROOT=$ROOT
# (other helpers in e2e.sh expect to run from regress/e2e: quiet)
. "$ROOT/regress/lib/e2e.sh" 2>/dev/null
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
: "${WIREGUARD_GO:=$(command -v wireguard-go)}"
export WIREGUARD_GO
for t in iperf3 "$WIREGUARD_GO" wg ping python3 chrt taskset; do
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

# hwm_kb PID...: VmHWM summed
hwm_kb() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# hwm_split PID...: each process's VmHWM in MiB, joined by "/"
hwm_split() {
	local p out=""
	for p in "$@"; do
		out="$out/$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' \
		    "/proc/$p/status")"
	done
	echo "${out#/}"
}

# rtt_us NS ADDR: average RTT of 50 pings, in microseconds
rtt_us() {
	ip netns exec "$1" ping -c 50 -i 0.01 -W 1 -q "$2" 2>/dev/null |
	    awk -F/ '/^rtt|^round-trip/ {printf "%d\n", $5 * 1000}'
}

listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
}

# tcpstat NS: "RetransSegs TCPOFOQueue RcvbufErrors" of the namespace's
# TCP stack, and its UDP sockets' receive buffer overflows (the tunnel's
# packets dropped before the daemon read them)
tcpstat() {
	ip netns exec "$1" awk '
	    $1 == "Tcp:" && !tn { tn = split($0, th); next }
	    $1 == "Tcp:" { split($0, tv)
		for (i = 1; i <= tn; i++) if (th[i] == "RetransSegs") r = tv[i] }
	    $1 == "Udp:" && !un { un = split($0, uh); next }
	    $1 == "Udp:" { split($0, uv)
		for (i = 1; i <= un; i++) if (uh[i] == "RcvbufErrors") u = uv[i] }
	    $1 == "TcpExt:" && !en { en = split($0, eh); next }
	    $1 == "TcpExt:" { split($0, ev)
		for (i = 1; i <= en; i++) if (eh[i] == "TCPOFOQueue") o = ev[i] }
	    END { printf "%d %d %d\n", r, o, u }' /proc/net/snmp /proc/net/netstat
}

# warm_start, warm_stop: a busy loop of the idle class on every CPU, and
# gone again (by PID)
WARM=""
warm_start() {
	local c
	for c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$c" chrt -i 0 sh -c 'while :; do :; done' &
		WARM="$WARM $!"
	done
	E2E_PIDS="$E2E_PIDS $WARM"
}
warm_stop() {
	# shellcheck disable=SC2086
	kill $WARM 2>/dev/null
	# shellcheck disable=SC2086
	wait $WARM 2>/dev/null
	WARM=""
}

# qos_hold, qos_drop: a request for a CPU wake-up latency of 0 held from
# outside (as tuned's latency profiles do), and dropped (by PID)
QOS=""
HAVE_QOS=0
[ -w /dev/cpu_dma_latency ] && HAVE_QOS=1
qos_hold() {
	rm -f "$E2E_TMP/qos.ok"
	"$PY" -c '
import os, struct, sys, time
fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
os.write(fd, struct.pack("i", 0))
open(sys.argv[1], "w").close()
time.sleep(600)' "$E2E_TMP/qos.ok" &
	QOS=$!
	E2E_PIDS="$E2E_PIDS $QOS"
	wait_for 50 test -e "$E2E_TMP/qos.ok" || die "cannot hold a latency"
}
qos_drop() {
	kill "$QOS" 2>/dev/null
	wait "$QOS" 2>/dev/null
	QOS=""
}

# rtt_lat LABEL NSA ADDR OWN: the added RTT under a latency request of 0,
# R_<LABEL>_rttl; OWN=1: the daemon makes its own (vpnd -l 0) for the
# tunnel's pings, the bare veth's have the outside one
rtt_lat() {
	local veth tun
	[ "$HAVE_QOS" = 1 ] || return 0
	qos_hold
	veth=$(rtt_us "$2" 10.99.0.2)
	[ "$4" = 1 ] && qos_drop
	# the first packets after a quiet spell make the request
	ip netns exec "$2" ping -c 5 -i 0.01 -W 1 -q "$3" >/dev/null 2>&1
	tun=$(rtt_us "$2" "$3")
	[ -n "$QOS" ] && qos_drop
	eval "R_${1}_rttl=$((tun - veth))"
}

# measure LABEL NSA NSB ADDR_B PIDS...: iperf3 A -> B (with $IPERF_ARGS:
# -R, -P 4); sets R_<LABEL>_*
measure() {
	local label=$1 nsa=$2 nsb=$3 addr=$4 spid t0 t1 bytes secs veth tun
	local ra0 oa0 rb0 ob0 ra1 oa1 rb1 ob1 ua0 ub0 ua1 ub1 ppid
	shift 4
	ip netns exec "$nsa" ping -c 3 -i 0.2 -W 1 -q "$addr" >/dev/null 2>&1 ||
	    die "$label: no ping through the tunnel"
	veth=0 tun=0 vethw=0 tunw=0
	if [ -z "${IPERF_ARGS:-}" ]; then
		veth=$(rtt_us "$nsa" 10.99.0.2)
		tun=$(rtt_us "$nsa" "$addr")
		warm_start
		vethw=$(rtt_us "$nsa" 10.99.0.2)
		tunw=$(rtt_us "$nsa" "$addr")
		warm_stop
	fi
	ip netns exec "$nsb" timeout $((BENCH_TIME + 30)) iperf3 -s -1 \
	    -B "$addr" -p 5201 >/dev/null 2>&1 &
	spid=$!
	E2E_PIDS="$E2E_PIDS $spid"
	wait_for 50 listening "$nsb" 5201 || die "$label: no iperf3 server"
	read -r ra0 oa0 ua0 <<EOF
$(tcpstat "$nsa")
EOF
	read -r rb0 ob0 ub0 <<EOF
$(tcpstat "$nsb")
EOF
	t0=$(cpu_ticks "$@")
	ppid=""
	if [ -n "${BENCH_PERF:-}" ] && [ -z "${IPERF_ARGS:-}" ]; then
		# a profile of the daemons' processes during the run
		perf record -q -g -o "$BENCH_PERF.$label" \
		    -p "$(echo "$@" | tr ' ' ,)" >/dev/null 2>&1 &
		ppid=$!
	fi
	# shellcheck disable=SC2086
	ip netns exec "$nsa" timeout $((BENCH_TIME + 30)) iperf3 -c "$addr" \
	    -p 5201 -t "$BENCH_TIME" ${IPERF_ARGS:-} -J \
	    >"$E2E_TMP/$label.json" || die "$label: iperf3 failed"
	t1=$(cpu_ticks "$@")
	if [ -n "$ppid" ]; then
		kill -INT "$ppid"
		wait "$ppid"
	fi
	read -r ra1 oa1 ua1 <<EOF
$(tcpstat "$nsa")
EOF
	read -r rb1 ob1 ub1 <<EOF
$(tcpstat "$nsb")
EOF
	# retransmits by either end; segments the receiver queued out of order
	eval "R_${label}_retr=$((ra1 - ra0 + rb1 - rb0))"
	eval "R_${label}_ofo=$((oa1 - oa0 + ob1 - ob0))"
	eval "R_${label}_udpdrop=$((ua1 - ua0 + ub1 - ub0))"
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
	eval "R_${label}_rttw=$((tunw - vethw))"
	eval "R_${label}_rttl=0"
	eval "R_${label}_rss=\$(awk -v k=$(hwm_kb "$@") \
	    'BEGIN {printf \"%.1f\", k / 1024}')"
	eval "R_${label}_veth=$veth R_${label}_tun=$tun"
}

keypair a
keypair b

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

# nspair TAG: two namespaces joined by a veth; sets NS1 NS2
nspair() {
	NS1=$(ns_add "${1}1")
	NS2=$(ns_add "${1}2")
	veth "$NS1" va "$NS2" vb
	ip -n "$NS1" addr add 10.99.0.1/24 dev va
	ip -n "$NS2" addr add 10.99.0.2/24 dev vb
}

# vpnd_pids PID: vpnd and its three children
vpnd_pids() {
	local c
	echo "$1"
	for c in netmgr tunworker dnsmgr; do
		child_of "$1" "$c" || die "no vpnd $c"
	done
}

# wggo_side NS IFNAME KEY PEERKEY ADDR PEERADDR [ENDPOINT]: sets WPID
wggo_side() {
	wggo_start "$1" "$2"
	WPID=${E2E_PIDS##* }
	if [ -n "${7:-}" ]; then
		ip netns exec "$1" wg set "$2" private-key "$E2E_TMP/$3.key" \
		    peer "$(pub_of "$4")" allowed-ips "$6/32" \
		    endpoint "$7" || die "wg set $2"
	else
		ip netns exec "$1" wg set "$2" listen-port "$PORT" \
		    private-key "$E2E_TMP/$3.key" peer "$(pub_of "$4")" \
		    allowed-ips "$6/32" || die "wg set $2"
	fi
	ip -n "$1" addr add "$5/24" dev "$2"
	ip -n "$1" link set "$2" mtu 1420 up
}

# runs LABEL NS1 NS2 PIDS...: one stream, -R, -P 4
runs() {
	local l=$1 a=$2 b=$3
	shift 3
	echo "bench: $l, iperf3 ${BENCH_TIME} s x3 ..." >&2
	IPERF_ARGS="" measure "$l" "$a" "$b" 10.200.0.1 "$@"
	IPERF_ARGS="-R" measure "${l}R" "$a" "$b" 10.200.0.1 "$@"
	IPERF_ARGS="-P 4" measure "${l}P" "$a" "$b" 10.200.0.1 "$@"
}

conf "$E2E_TMP/b.conf" b a 1 "" "$PORT"
conf "$E2E_TMP/a.conf" a b 2 "10.99.0.2:$PORT" ""

# round: the three pairings once, each in namespaces of its own
round() {
	local r=$1 pa pb pm
	# --- vpnd <-> vpnd --------------------------------------------------------
	nspair "v$r"
	vpnd_start "b$r" "$NS2" -f "$E2E_TMP/b.conf" >/dev/null || die "vpnd in B"
	vpnd_start "a$r" "$NS1" >/dev/null || die "vpnd in A"
	ctl "a$r" -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up failed"
	eval "pa=\$VPND_PID_a$r pb=\$VPND_PID_b$r"
	VA=$(vpnd_pids "$pa")
	VB=$(vpnd_pids "$pb")
	# shellcheck disable=SC2086
	runs vpnd "$NS1" "$NS2" $VA $VB
	# shellcheck disable=SC2086
	R_vpnd_rss1=$(awk -v a="$(hwm_kb $VA)" -v b="$(hwm_kb $VB)" \
	    'BEGIN {printf "%.1f", (a > b ? a : b) / 1024}')
	# where it goes: parent/netmgr/tunworker/dnsmgr of each daemon
	# shellcheck disable=SC2086
	R_vpnd_split="A $(hwm_split $VA), B $(hwm_split $VB)"
	for p in "$pa" "$pb"; do
		kill -TERM "$p"
		wait_gone "$p" 50 || die "vpnd $p does not stop"
	done

	# --- vpnd -l 0 <-> vpnd -l 0: the round trip only --------------------------
	nspair "l$r"
	vpnd_start "k$r" "$NS2" -l 0 -f "$E2E_TMP/b.conf" >/dev/null ||
	    die "vpnd -l 0 in B"
	vpnd_start "l$r" "$NS1" -l 0 >/dev/null || die "vpnd -l 0 in A"
	ctl "l$r" -t 10 up "$E2E_TMP/a.conf" >/dev/null || die "vpnctl up failed"
	ip netns exec "$NS1" ping -c 3 -i 0.2 -W 1 -q 10.200.0.1 >/dev/null 2>&1 ||
	    die "vpnd -l 0: no ping through the tunnel"
	rtt_lat vpnd "$NS1" 10.200.0.1 1
	eval "pa=\$VPND_PID_l$r pb=\$VPND_PID_k$r"
	for p in "$pa" "$pb"; do
		kill -TERM "$p"
		wait_gone "$p" 50 || die "vpnd $p does not stop"
	done

	# --- wireguard-go <-> wireguard-go ----------------------------------------
	nspair "w$r"
	wggo_side "$NS2" "${E2E_ID}d$r" b a 10.200.0.1 10.200.0.2
	PD=$WPID
	wggo_side "$NS1" "${E2E_ID}c$r" a b 10.200.0.2 10.200.0.1 "10.99.0.2:$PORT"
	PC=$WPID
	runs wggo "$NS1" "$NS2" "$PC" "$PD"
	rtt_lat wggo "$NS1" 10.200.0.1 0
	R_wggo_rss1=$(awk -v a="$(hwm_kb "$PC")" -v b="$(hwm_kb "$PD")" \
	    'BEGIN {printf "%.1f", (a > b ? a : b) / 1024}')
	kill -TERM "$PC" "$PD"
	wait_gone "$PC" 50
	wait_gone "$PD" 50

	# --- wireguard-go initiates and sends, vpnd receives (and -R) -------------
	nspair "m$r"
	vpnd_start "m$r" "$NS2" -f "$E2E_TMP/b.conf" >/dev/null || die "vpnd in M"
	eval "pm=\$VPND_PID_m$r"
	wggo_side "$NS1" "${E2E_ID}e$r" a b 10.200.0.2 10.200.0.1 "10.99.0.2:$PORT"
	# shellcheck disable=SC2086
	IPERF_ARGS="" measure mix "$NS1" "$NS2" 10.200.0.1 "$WPID" \
	    $(vpnd_pids "$pm")
	# shellcheck disable=SC2086
	IPERF_ARGS="-R" measure mixR "$NS1" "$NS2" 10.200.0.1 "$WPID" \
	    $(vpnd_pids "$pm")
	kill -TERM "$pm" "$WPID"
	wait_gone "$pm" 50 || die "vpnd $pm does not stop"
	wait_gone "$WPID" 50
	# the round's namespaces go now: the next starts clean
	for ns in v l w m; do
		ip netns del "${E2E_ID}$ns${r}1" 2>/dev/null
		ip netns del "${E2E_ID}$ns${r}2" 2>/dev/null
	done
}

# the figures each round sets, kept per round: R_x becomes the median
FIGS=""
for l in vpnd vpndR vpndP wggo wggoR wggoP mix mixR; do
	for f in gbps cpu rtt rttw rttl retr udpdrop veth tun; do
		FIGS="$FIGS R_${l}_$f"
	done
done
# median LIST: of numbers, the middle one (the lower of the two middle)
median() {
	echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
ACC_rss_vpnd="" ACC_rss_wggo="" ROUNDS_vpnd="" ROUNDS_wggo=""
r=1
while [ "$r" -le "$BENCH_ROUNDS" ]; do
	echo "bench: round $r of $BENCH_ROUNDS" >&2
	round "$r"
	for v in $FIGS; do
		eval "ACC_$v=\"\${ACC_$v:-} \$$v\""
	done
	ACC_rss_vpnd="$ACC_rss_vpnd $R_vpnd_rss1"
	ACC_rss_wggo="$ACC_rss_wggo $R_wggo_rss1"
	ROUNDS_vpnd="$ROUNDS_vpnd $R_vpnd_gbps"
	PRETR_vpnd="${PRETR_vpnd:-} $R_vpndP_retr/$R_vpndP_udpdrop"
	PRETR_wggo="${PRETR_wggo:-} $R_wggoP_retr/$R_wggoP_udpdrop"
	ROUNDS_wggo="$ROUNDS_wggo $R_wggo_gbps"
	r=$((r + 1))
done
for v in $FIGS; do
	eval "$v=\$(median \$ACC_$v)"
done
R_vpnd_rss1=$(echo $ACC_rss_vpnd | tr ' ' '\n' | sort -g | tail -1)
R_wggo_rss1=$(echo $ACC_rss_wggo | tr ' ' '\n' | sort -g | tail -1)

# --- what a wake-up costs here ---------------------------------------------
# two processes bouncing a datagram over the last namespace's loopback,
# 10 ms apart as the pings above: two wake-ups of an idle process a round
# trip (scripts/wakeup.c); a round trip through a user-space tunnel
# needs at least three more than one over the bare veth
cc -O2 -D_GNU_SOURCE -o "$E2E_TMP/wakeup" "$ROOT/scripts/wakeup.c" ||
    die "cannot build the wake-up probe"
NS1=$(ns_add z)
R_wake=$(ip netns exec "$NS1" timeout 60 "$E2E_TMP/wakeup" 100 10000) ||
    die "wake-up probe"

# --- the table ------------------------------------------------------------
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}
row() {
	printf '%-40s %10s %13s %11s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
echo
echo "vpnd bench: iperf3 -t $BENCH_TIME, medians of $BENCH_ROUNDS rounds," \
    "MTU 1420, $(nproc) CPUs," \
    "$(uname -r), $("$WIREGUARD_GO" --version 2>/dev/null | head -1)"
printf '%-40s %10s %13s %11s\n' "" "vpnd" "wireguard-go" "vpnd/wg-go"
row "one TCP stream (Gbit/s)" "$R_vpnd_gbps" "$R_wggo_gbps"
row "  reversed, -R (Gbit/s)" "$R_vpndR_gbps" "$R_wggoR_gbps"
row "  four streams, -P 4 (Gbit/s)" "$R_vpndP_gbps" "$R_wggoP_gbps"
row "CPU s per GB (both daemons, one stream)" "$R_vpnd_cpu" "$R_wggo_cpu"
row "RTT added by the tunnel (us)" "$R_vpnd_rtt" "$R_wggo_rtt"
row "  the same, CPUs kept awake (us)" "$R_vpnd_rttw" "$R_wggo_rttw"
if [ "$HAVE_QOS" = 1 ]; then
	row "  the same, wake-up latency 0 (us)" "$R_vpnd_rttl" "$R_wggo_rttl"
else
	row "  the same, wake-up latency 0 (us)" "-" "-"
fi
row "peak RSS per daemon (MiB)" "$R_vpnd_rss1" "$R_wggo_rss1"
echo "  vpnd parent/netmgr/tunworker/dnsmgr (MiB): $R_vpnd_split"
row "TCP retransmits, one stream" "$R_vpnd_retr" "$R_wggo_retr"
row "TCP retransmits, -R" "$R_vpndR_retr" "$R_wggoR_retr"
row "TCP retransmits, -P 4" "$R_vpndP_retr" "$R_wggoP_retr"
row "wg-go sends, this daemon receives" "$R_mix_gbps" "$R_wggo_gbps"
row "this daemon sends, wg-go receives (-R)" "$R_mixR_gbps" "$R_wggoR_gbps"
echo "(bare veth RTT: ${R_vpnd_veth} us / ${R_wggo_veth} us;" \
    "through the tunnel: ${R_vpnd_tun} us / ${R_wggo_tun} us;" \
    "retransmits in the mixed pair: ${R_mix_retr} / ${R_mixR_retr};" \
    "a vpnd daemon is 4 processes)"
echo "(one stream, each round: vpnd${ROUNDS_vpnd}; wireguard-go${ROUNDS_wggo})"
echo "(-P 4 retransmits/UDP overflows, each round: vpnd${PRETR_vpnd};" \
    "wireguard-go${PRETR_wggo})"
echo "(UDP receive buffer overflows, one stream / -R / -P 4: vpnd" \
    "$R_vpnd_udpdrop / $R_vpndR_udpdrop / $R_vpndP_udpdrop; wireguard-go" \
    "$R_wggo_udpdrop / $R_wggoR_udpdrop / $R_wggoP_udpdrop)"
echo "(a wake-up of an idle process here: $((R_wake / 2)) us, half of a" \
    "two-process UDP ping-pong ${R_wake} us median, 10 ms apart; a" \
    "round trip through vpnd wakes three threads the bare veth's does" \
    "not: the sender's, the peer's receiver, then the sender's receiver)"

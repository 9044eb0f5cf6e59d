#!/bin/bash
# soak.t -- a long run compressed with the test time scale, looking for
# growth: build-test/vpnd with VPND_TIME_SCALE=120 (a rekey every 1 s of
# real time) against two wireguard-go servers. Each cycle: activate
# server 1, ping through it, switch to server 2 in place, ping through
# it until it rekeys and after, deactivate; every 5th cycle the client's underlay address changes
# (the servers see the endpoint roam); every cycle a monitoring client
# connects and is killed mid-stream, and another connects and hangs up
# without a word. Sampled per process (parent and the three children),
# after two warm-up cycles and at the end, with the tunnel down both
# times: open descriptors and threads must not grow at all, RSS by at
# most SOAK_RSS_KB (default 512 KiB: malloc keeps freed pages and
# grows its arenas in steps; a leak of even 1 KiB a cycle exceeds it over
# make soak's 1,000 cycles). SOAK_CYCLES: 15 in make check (< 60 s),
# 1,000 in make soak.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
CYCLES=${SOAK_CYCLES:-15}
e2e_timeout $((60 + CYCLES * 12)) "$@"
e2e_init soak
RSS_TOL=${SOAK_RSS_KB:-512}

[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1"
two_servers 10.200.0
conf() {
	# conf FILE SERVERKEY ENDPOINT
	cat >"$1" <<EOC
[Interface]
PrivateKey = $(key_of cli)
Address = 10.200.0.2/32
[Peer]
PublicKey = $(pub_of "$2")
Endpoint = $3
AllowedIPs = 0.0.0.0/0
EOC
}
conf "$E2E_TMP/s1.conf" srv1 10.99.1.1:51820
conf "$E2E_TMP/s2.conf" srv2 10.99.2.1:51821

export VPND_TIME_SCALE=120
VPND_BIN="$VPND_TEST" vpnd_start c "$C" || bail "vpnd did not start"
unset VPND_TIME_SCALE
SOCK=$(sock_of c)
PROCS=$(vpnd_procs c)
[ "$(echo $PROCS | wc -w)" = 4 ] || bail "not four processes: $PROCS"

# sample: "pid rss_kb fds threads" for each process
sample() {
	local p
	for p in $PROCS; do
		echo "$p $(status_field "$p" VmRSS | cut -d' ' -f1)" \
		    "$(ls "/proc/$p/fd" | wc -l)" \
		    "$(status_field "$p" Threads)"
	done
}

ping1() {
	ip netns exec "$C" ping -c 1 -W 1 -q 10.200.0.1 >/dev/null 2>&1
}

# roam I: every 5th cycle (and the first), while the tunnel is up, the
# client's underlay address towards server 1 changes (.2 <-> .3)
ADDR=2
ip netns exec "$C" sysctl -qw net.ipv4.conf.eth1.promote_secondaries=1
roam() {
	local new=$((5 - ADDR))
	[ $(($1 % 5)) = 0 ] || [ "$1" = 1 ] || return 0
	ip -n "$C" addr add "10.99.1.$new/24" dev eth1 &&
	    ip -n "$C" addr del "10.99.1.$ADDR/24" dev eth1 || return 1
	ADDR=$new
}

# through_rekey: traffic to server 2 until its handshake time changes
# (vpnd rekeys after REKEY_AFTER_TIME, 1 s at this scale), then a ping
lasths2() {
	ip netns exec "$S2" wg show "wg${E2E_ID}b" latest-handshakes | cut -f2
}
hs_changed() {
	[ "$(lasths2)" != "$1" ]
}
through_rekey() {
	local h0 ppid rc
	h0=$(lasths2)
	ip netns exec "$C" ping -q -i 0.1 -w 8 10.200.0.1 >/dev/null 2>&1 &
	ppid=$!
	wait_for 60 hs_changed "$h0"
	rc=$?
	kill "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	[ "$rc" = 0 ] && REKEYS=$((REKEYS + 1)) && wait_for 30 ping1
}

cycle() {
	local i=$1 mpid
	"$VPNCTL" -s "$SOCK" monitor >/dev/null 2>&1 &
	mpid=$!
	ip netns exec "$C" python3 -c "
import socket; s = socket.socket(socket.AF_UNIX); s.connect('$SOCK')" \
	    2>/dev/null
	ctl c -t 10 up "$E2E_TMP/s1.conf" >/dev/null &&
	    roam "$i" &&
	    wait_for 30 ping1 &&
	    ctl c -t 10 up "$E2E_TMP/s2.conf" >/dev/null &&
	    wait_for 30 ping1 &&
	    through_rekey &&
	    ctl c -t 10 down >/dev/null
	local rc=$?
	kill -KILL "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	return $rc
}

T0=$SECONDS
REKEYS=0
cycle 1 && cycle 2
ok $? "two warm-up cycles"
wait_for 50 test "$(ctl_state c)" = disconnected
BEFORE=$(sample)
fails=0
for i in $(seq 3 $((CYCLES + 2))); do
	if ! cycle "$i"; then
		fails=$((fails + 1))
		diag "cycle $i failed"
		[ "$fails" -ge 3 ] && break
	fi
done
is "$fails" 0 "$CYCLES cycles: activate, ping, switch, ping through a rekey, deactivate"
diag "$REKEYS rekeys under traffic"
wait_for 50 test "$(ctl_state c)" = disconnected
AFTER=$(sample)
diag "ran $((SECONDS - T0)) s; pid rss_kb fds threads before / after:"
echo "$BEFORE" | sed 's/^/#   before /'
echo "$AFTER" | sed 's/^/#   after  /'
for p in $PROCS; do
	b=$(echo "$BEFORE" | awk -v p="$p" '$1 == p')
	a=$(echo "$AFTER" | awk -v p="$p" '$1 == p')
	pid_alive "$p"
	ok $? "process $p alive throughout"
	is "$(echo "$a" | cut -d' ' -f3)" "$(echo "$b" | cut -d' ' -f3)" \
	    "process $p: open descriptors did not grow"
	is "$(echo "$a" | cut -d' ' -f4)" "$(echo "$b" | cut -d' ' -f4)" \
	    "process $p: threads did not grow"
	rb=$(echo "$b" | cut -d' ' -f2)
	ra=$(echo "$a" | cut -d' ' -f2)
	[ $((ra - rb)) -le "$RSS_TOL" ]
	ok $? "process $p: RSS ${rb} -> ${ra} KiB (at most +$RSS_TOL)"
done
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "vpnd stops"
is "$(ours_left "$C")" "" "nothing of ours left"
e2e_done

#!/bin/bash
# watchdog.t -- a connected full tunnel whose server stops answering
# (wireguard-go frozen with SIGSTOP while the client sends): vpnd notices
# (no handshake for REKEY_ATTEMPT_TIME), goes back to "connecting" with a
# reason and a `connecting` signal, the kill switch stays (nothing reaches
# the server's LAN address or a third namespace outside the tunnel), the
# status ages of the last handshake and the last packet received grow;
# the server back, vpnd (still retrying) is `connected` again and traffic
# flows. Timers run 20 times faster (test build, VPND_TIME_SCALE=20).
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go)
#   C eth1 192.0.2.1/24, default route ---- I eth0 192.0.2.2/24
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init watchdog
[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: run make TESTHOOKS=1"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

WG="w$$d"
client_server "$WG"
# client_server started wireguard-go last: its PID (ip netns exec execs it)
WGPID=${E2E_PIDS##* }
direct_counter
I=$(ns_add i)
veth "$C" eth1 "$I" eth0
ip -n "$C" addr add 192.0.2.1/24 dev eth1
ip -n "$I" addr add 192.0.2.2/24 dev eth0
ip -n "$C" route add default via 192.0.2.2
ip netns exec "$I" nft -f - <<'EOF' || bail "nft counter in I"
table inet cnt {
	counter fromc { }
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		meta nfproto ipv4 ip saddr 192.0.2.1 counter name fromc
	}
}
EOF
fromc() {
	ip netns exec "$I" nft list counter inet cnt fromc |
	    awk '/packets/ { print $2 }'
}

cat >"$E2E_TMP/c.conf" <<CONF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0
CONF
chmod 600 "$E2E_TMP/c.conf"

VPND_BIN="$VPND_TEST" VPND_TIME_SCALE=20 vpnd_start c "$C" ||
    bail "vpnd did not start"
ctl c -j monitor >"$E2E_TMP/events" 2>&1 &
E2E_PIDS="$E2E_PIDS $!"
ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null 2>&1
ok $? "connected to wireguard-go"
ping_first 50 "$C" 10.8.0.1
ok $? "traffic flows through the tunnel"

# peerfield FIELD: the first peer's FIELD in status ("" when absent)
peerfield() {
	ctl c -j status | "$PY" -c 'import json, sys
p = json.load(sys.stdin).get("peers") or [{}]
print(p[0].get(sys.argv[1], ""))' "$1"
}
topfield() {
	ctl c -j status | "$PY" -c 'import json, sys
print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"
}
hs0=$(peerfield handshakeAgeSec)
rx0=$(peerfield rxAgeSec)
[ -n "$hs0" ] && [ "$hs0" -ge 0 ] && [ -n "$rx0" ] && [ "$rx0" -ge 0 ]
ok $? "status shows the handshake age ($hs0 s) and the receive age ($rx0 s)"

# The server freezes; the client keeps sending (ping) so the watchdog
# has unanswered data, then unanswered initiations.
ip netns exec "$I" nft reset counter inet cnt fromc >/dev/null
kill -STOP "$WGPID"
ip netns exec "$C" ping -i 0.2 -c 600 -W 1 -q 10.8.0.1 >/dev/null 2>&1 &
PING=$!
E2E_PIDS="$E2E_PIDS $PING"
t0=$(date +%s%N)
wait_for 600 sh -c "[ \"\$(\"$VPNCTL\" -s \"$(sock_of c)\" -j status | sed -n 's/.*\"state\":\"\\([a-z]*\\)\".*/\\1/p')\" = connecting ]"
ok $? "a silent server: the state goes back to connecting"
diag "lost noticed after $(( ($(date +%s%N) - t0) / 1000000 )) ms real" \
    "(15 s + 90 s of protocol time at scale 20 is 5250 ms)"
reason=$(topfield stateReason)
case $reason in
*"no handshake with $(pub_of srv) for 90 s"*) r=0 ;;
*) r=1 ;;
esac
ok $r "status gives the reason ($reason)"
wait_for 50 grep -q '"type":"connecting"' "$E2E_TMP/events"
ok $? "clients get a connecting signal"
grep '"type":"connecting"' "$E2E_TMP/events" | grep -q '"reason":"no handshake'
ok $? "... with the reason"
grep -q '"type":"disconnected"' "$E2E_TMP/events"
ok $((! $?)) "... and no disconnected"
ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
ok $? "the kill switch stays"
ip -n "$C" link show vpn0 >/dev/null 2>&1
ok $? "the tunnel interface stays"
rx1=$(peerfield rxAgeSec)
hs1=$(peerfield handshakeAgeSec)
[ -n "$rx1" ] && [ "$rx1" -ge 90 ] && [ "$hs1" -ge "$rx1" ]
ok $? "the ages grew: nothing received for $rx1 s, handshake $hs1 s ago (scaled)"

# nothing leaves outside the tunnel meanwhile
before=$(direct)
send_direct
for i in 1 2 3; do
	printf x | ip netns exec "$C" nc -u -w0 192.0.2.2 9999 2>/dev/null
	printf x | ip netns exec "$C" nc -u -w0 198.18.0.1 9999 2>/dev/null
done
changed() { [ "$(direct)" != "$before" ] || [ "$(fromc)" != 0 ]; }
wait_for 10 changed
ok $((! $?)) "no leak while connecting again"
is "$(direct)/$(fromc)" "$before/0" "(server LAN / third namespace counters)"

# still retrying: the server back, connected again
kill -CONT "$WGPID"
t0=$(date +%s%N)
wait_for 600 sh -c "\"$VPNCTL\" -s \"$(sock_of c)\" -j status | grep -q '\"connected\":true'"
ok $? "the server back: connected again"
diag "reconnected after $(( ($(date +%s%N) - t0) / 1000000 )) ms real"
wait_for 50 sh -c "grep -A100 '\"type\":\"connecting\"' \"$E2E_TMP/events\" | grep -q '\"type\":\"connected\"'"
ok $? "clients get connected again"
is "$(topfield stateReason)" "" "no reason any more"
ping_first 50 "$C" 10.8.0.1
ok $? "traffic flows again"
kill "$PING" 2>/dev/null
ctl c down >/dev/null 2>&1
ok $? "deactivate"
e2e_done

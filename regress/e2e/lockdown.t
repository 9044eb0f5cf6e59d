#!/bin/bash
# lockdown.t -- lockdown ("block connections without VPN"): while it is
# on, nothing leaves the client namespace outside a tunnel -- counted at
# the far side -- while disconnected, after a deactivate, after kill -9
# of every vpnd process, while the restarted daemon has not yet made its
# control socket (the leftover kill switch is swapped for the lockdown
# table first), and after a clean stop; loopback still works; the LAN
# only with allow-lan; a tunnel that did not ask for the kill switch gets
# it; the setting survives restarts, a corrupt setting file means on;
# the Lockdown key of vpnd -f sets it; a uid outside group vpnd may read
# it but not switch it; off lets traffic flow at once.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer,
#                                     also "the LAN")
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24 ("the internet")
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 300 "$@"
e2e_init lockdown

[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1 all"
VPND_BIN="$VPND_TEST"
split_world "w$$l"

ip netns exec "$I" nft -f - <<'EOF' || bail "nft counters in I"
table inet cnt {
	counter out { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 udp dport 9999 counter name out
		ip saddr 192.0.2.1 tcp dport 9998 counter name out
		ip saddr 192.0.2.1 icmp type echo-request counter name out
	}
}
EOF
ip netns exec "$S" nft -f - <<'EOF' || bail "nft counter in S"
table inet cnt {
	counter lan { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.0.0.1 udp dport 9999 counter name lan
	}
}
EOF

cnt() {
	ip netns exec "$1" nft list counter inet cnt "$2" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# leaked: UDP, a TCP SYN and an ICMP echo from C to I; prints how many
# of them arrived.
leaked() {
	local b
	b=$(cnt "$I" out)
	printf x | ip netns exec "$C" nc -u -w0 192.0.2.2 9999 2>/dev/null
	ip netns exec "$C" timeout 5 nc -z -w1 192.0.2.2 9998 \
	    >/dev/null 2>&1
	ip netns exec "$C" timeout 5 ping -n -c 1 -W 1 192.0.2.2 \
	    >/dev/null 2>&1
	echo $(($(cnt "$I" out) - b))
}

# lan: one datagram from C to S on the LAN; prints 1 if it arrived.
lan() {
	local b
	b=$(cnt "$S" lan)
	printf x | ip netns exec "$C" nc -u -w0 10.0.0.2 9999 2>/dev/null
	# the datagram may wait for ARP: a moment (bounded) to arrive
	wait_for 10 lan_moved "$b"
	echo $(($(cnt "$S" lan) - b))
}
lan_moved() {
	[ "$(cnt "$S" lan)" != "$1" ]
}

loopback_ok() {
	ip netns exec "$C" ping -n -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
}

table() {
	ip netns exec "$C" nft list table inet vpnd 2>/dev/null
}

has_table() {
	table >/dev/null
}

setting() {
	ctl c lockdown status 2>&1
}

stopped() {
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]
}

answers() {
	ctl c status >/dev/null 2>&1
}

cat >"$E2E_TMP/part.conf" <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 10.8.0.0/24
EOF
chmod 600 "$E2E_TMP/part.conf"
sed 's/^\[Interface\]$/[Interface]\nLockdown = on allow-lan/' \
    "$E2E_TMP/part.conf" >"$E2E_TMP/headless.conf"
chmod 600 "$E2E_TMP/headless.conf"

vpnd_start c "$C" -D none || bail "vpnd did not start"

# -- off: the default
is "$(setting)" "lockdown: off" "off by default"
has_table
ok "$((! $?))" "off: no table"
[ "$(leaked)" -gt 0 ]
ok $? "off: traffic to I flows"

# -- who may switch it
chmod o+x "$E2E_TMP" "$E2E_TMP/c"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$VPNCTL" -s "$(sock_of c)" lockdown on 2>&1)
rc=$?
is "$rc $out" "1 vpnctl: lockdown: permission denied: lockdown is for root \
and the control group (denied)" "a uid outside group vpnd: lockdown on denied"
is "$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$VPNCTL" -s "$(sock_of c)" lockdown status 2>&1)" "lockdown: off" \
    "... it may read the setting"
is "$(setting)" "lockdown: off" "... and it is still off"
has_table
ok "$((! $?))" "... no table"
is "$(setpriv --reuid=nobody --regid=vpnd --clear-groups \
    "$VPNCTL" -s "$(sock_of c)" lockdown on 2>&1)" "lockdown: on" \
    "a member of group vpnd switches it on"

out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$VPNCTL" -s "$(sock_of c)" lockdown off 2>&1)
rc=$?
is "$rc $out" "1 vpnctl: lockdown: permission denied: lockdown is for root \
and the control group (denied)" "a uid outside group vpnd: lockdown off denied"
is "$(ctl c -j lockdown status)" \
    '{"type":"lockdownStatus","enabled":true,"allowLan":false,"id":1}' \
    "lockdownStatus, raw: still on"

# -- on, disconnected
has_table
ok $? "on: table inet vpnd installed at once"
is "$(leaked)" 0 "on, disconnected: nothing reaches I"
is "$(lan)" 0 "on: nothing reaches the LAN"
loopback_ok
ok $? "on: loopback works"
is "$(ctl c lockdown on --allow-lan)" "lockdown: on, the LAN allowed" \
    "on --allow-lan"
is "$(lan)" 1 "allow-lan: the LAN is reached"
is "$(leaked)" 0 "allow-lan: still nothing reaches I"
is "$(ctl c lockdown on)" "lockdown: on" "on again, without the LAN"
is "$(lan)" 0 "the LAN is closed again"
is "$(ctl c -j lockdown off --bogus 2>&1 | head -1)" \
    "usage: vpnctl [-j] [-s socket] [-t timeout] command [arg]" \
    "vpnctl: a stray argument is a usage error"
out=$(client "$(sock_of c)" 'send:{"type":"lockdown","enable":false,"allowLan":true}' \
    expect:error | jget code)
is "$out" "bad-request" "allowLan without enable refused (bad-request)"
out=$(client "$(sock_of c)" 'send:{"type":"lockdown","enable":"yes"}' \
    expect:error | jget code)
is "$out" "bad-request" "a non-boolean enable refused"
is "$(setting)" "lockdown: on" "... the setting unchanged"

# -- a tunnel: the kill switch even for a partial tunnel
ctl c -t 10 up "$E2E_TMP/part.conf" >/dev/null
ok $? "a partial tunnel comes up in lockdown"
ping_first 20 "$C" 10.8.0.1
ok $? "the tunnel carries traffic"
table | grep -q '"vpn0"'
ok $? "the kill switch with the tunnel's rules replaced the lockdown table"
is "$(leaked)" 0 "connected: nothing reaches I outside the tunnel"
is "$(ctl c lockdown off)" "lockdown: off" "off while connected"
[ "$(leaked)" -gt 0 ]
ok $? "off: the partial tunnel's own choice again, traffic to I flows"
ping_ok "$C" 10.8.0.1
ok $? "the tunnel stays up"
is "$(ctl c lockdown on)" "lockdown: on" "on while connected"
is "$(leaked)" 0 "on while connected: nothing reaches I"
ping_ok "$C" 10.8.0.1
ok $? "... and the tunnel still carries traffic (its endpoint let through)"
ctl c down >/dev/null
ok $? "deactivate"
has_table
ok $? "after deactivate the table stays"
table | grep -q '"vpn0"'
ok "$((! $?))" "... the lockdown table, without the tunnel's rules"
is "$(leaked)" 0 "after deactivate: nothing reaches I"

# -- kill -9 of every process, while connected
ctl c -t 10 up "$E2E_TMP/part.conf" >/dev/null
ok $? "up again"
vpnd_kill9 c all
ok $? "kill -9 of the parent and every child"
is "$(leaked)" 0 "after kill -9: nothing reaches I"

# -- the restart, stopped just before the control socket is made
export VPND_TESTHOOK=parent:9
vpnd_spawn c "$C" -D none
unset VPND_TESTHOOK
wait_for 100 stopped "$VPND_PID_c"
ok $? "the restarted parent stops before its control socket"
answers
ok "$((! $?))" "... which does not answer"
has_table
ok $? "... the table is there"
table | grep -Eq '"vpn0"|10\.0\.0\.2'
ok "$((! $?))" "... swapped for the lockdown table (no tunnel, no endpoint)"
ip -n "$C" link show vpn0 >/dev/null 2>&1
ok "$((! $?))" "... the leftover interface removed"
is "$(leaked)" 0 "... nothing reaches I"
kill -CONT "$VPND_PID_c"
wait_for 100 answers
ok $? "continued: the socket answers"
is "$(setting)" "lockdown: on" "the setting survived the crash"
is "$(leaked)" 0 "nothing reaches I"

# -- a clean stop keeps it; a corrupt setting is on
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "SIGTERM: vpnd stops"
has_table
ok $? "after a clean stop the lockdown table stays"
is "$(leaked)" 0 "stopped: nothing reaches I"
printf 'of\n' >"$E2E_TMP/c/state/lockdown"
vpnd_start c "$C" -D none
ok $? "restart with a corrupt setting file"
is "$(setting)" "lockdown: on" "a corrupt setting is on"
grep -q 'lockdown setting .* is corrupt' "$E2E_TMP/c/out"
ok $? "... and the log says so"
is "$(leaked)" 0 "nothing reaches I"

# -- off at once, and the next start stays off
is "$(ctl c lockdown off)" "lockdown: off" "off"
has_table
ok "$((! $?))" "off: the table is gone"
[ "$(leaked)" -gt 0 ]
ok $? "off: traffic to I flows at once"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
clean_in "$C"
ok $? "off: a clean stop leaves nothing"
vpnd_start c "$C" -D none
is "$(setting)" "lockdown: off" "off survives a restart"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50

# -- the Lockdown key of a headless configuration
vpnd_start c "$C" -D none -f "$E2E_TMP/headless.conf"
ok $? "headless with Lockdown = on allow-lan"
is "$(setting)" "lockdown: on, the LAN allowed" "the key sets it"
is "$(cat "$E2E_TMP/c/state/lockdown")" "on allow-lan" "... saved"
ping_first 20 "$C" 10.8.0.1
ok $? "the headless tunnel comes up"
ctl c down >/dev/null
is "$(leaked)" 0 "headless, deactivated: nothing reaches I"
is "$(lan)" 1 "... the LAN is reached"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
is "$(ctl c status >/dev/null 2>&1; echo $?)" 3 "stopped"

# leave the namespace as we found it: off removes the table
vpnd_start c "$C" -D none
ctl c lockdown off >/dev/null
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
clean_in "$C"
ok $? "nothing of ours left"
e2e_done

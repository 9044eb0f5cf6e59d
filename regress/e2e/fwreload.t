#!/bin/bash
# fwreload.t -- another program's ruleset load does not take the kill
# switch away for good: "nft flush ruleset" (what a reload of
# nftables.service or a firewall manager does) or a deletion of table
# inet vpnd, in lockdown while disconnected and under a connected
# tunnel's kill switch, is noticed and the table goes back at once -- the
# lockdown table, or the kill switch with the tunnel's rules -- and the
# log says so; the third namespace then sees nothing leave, and the
# tunnel still carries traffic. With nothing that needs the table (off,
# no tunnel), a flush brings nothing back.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24 ("the internet")
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 180 "$@"
e2e_init fwreload

split_world "w$$r"

ip netns exec "$I" nft -f - <<'EOF' || bail "nft counters in I"
table inet cnt {
	counter out { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 udp dport 9999 counter name out
		ip saddr 192.0.2.1 icmp type echo-request counter name out
	}
}
EOF
cnt() {
	ip netns exec "$I" nft list counter inet cnt out |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
# leaked: a datagram and an echo request from C to I; how many arrived
leaked() {
	local b
	b=$(cnt)
	printf x | ip netns exec "$C" nc -u -w0 192.0.2.2 9999 2>/dev/null
	ip netns exec "$C" timeout 5 ping -n -c 1 -W 1 192.0.2.2 \
	    >/dev/null 2>&1
	echo $(($(cnt) - b))
}
table() {
	ip netns exec "$C" nft list table inet vpnd 2>/dev/null
}
has_table() {
	table >/dev/null
}
has_tunnel_rules() {
	table | grep -q '"vpn0"'
}
reinstalls() {
	grep -c "was removed by another program" "$E2E_TMP/c/out"
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

vpnd_start c "$C" -D none || bail "vpnd did not start"

# -- off, no tunnel: nothing to put back
ip netns exec "$C" nft flush ruleset
ip netns exec "$C" nft add table inet other
ip netns exec "$C" nft delete table inet other
ctl c status >/dev/null
has_table
ok "$((! $?))" "off, no tunnel: a ruleset change brings no table"
is "$(reinstalls)" 0 "... and the log says nothing"

# -- lockdown, disconnected
is "$(ctl c lockdown on)" "lockdown: on" "lockdown on"
is "$(leaked)" 0 "lockdown: nothing reaches I"
ip netns exec "$C" nft flush ruleset
wait_for 50 has_table
ok $? "lockdown: after 'nft flush ruleset' the table is back"
is "$(leaked)" 0 "... nothing reaches I"
is "$(reinstalls)" 1 "... and the log says so"
ip netns exec "$C" nft delete table inet vpnd
wait_for 50 has_table
ok $? "lockdown: after 'nft delete table inet vpnd' the table is back"
is "$(leaked)" 0 "... nothing reaches I"
is "$(ctl c lockdown status)" "lockdown: on" "the setting is unchanged"

# -- a tunnel that asked for no kill switch gets one in lockdown
ctl c -t 10 up "$E2E_TMP/part.conf" >/dev/null
ok $? "a tunnel comes up"
ping_first 20 "$C" 10.8.0.1
ok $? "the tunnel carries traffic"
ip netns exec "$C" nft flush ruleset
wait_for 50 has_tunnel_rules
ok $? "connected: after a flush the kill switch is back with the tunnel's rules"
is "$(leaked)" 0 "... nothing reaches I outside the tunnel"
ping_ok "$C" 10.8.0.1
ok $? "... the tunnel still carries traffic (its endpoint let through)"
ctl c down >/dev/null
ok $? "deactivate"
has_table && ! has_tunnel_rules
ok $? "the lockdown table again"

# -- off: the table goes and stays gone
is "$(ctl c lockdown off)" "lockdown: off" "lockdown off"
n=$(reinstalls)
ip netns exec "$C" nft add table inet other
ip netns exec "$C" nft delete table inet other
ctl c status >/dev/null
has_table
ok "$((! $?))" "off: no table comes back"
is "$(reinstalls)" "$n" "... nothing reinstalled"
[ "$(leaked)" -gt 0 ]
ok $? "off: traffic to I flows"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
clean_in "$C"
ok $? "nothing of ours left"
e2e_done

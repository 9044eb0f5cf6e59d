#!/bin/bash
# wgtable.t -- wg-quick's Table and FwMark in the file `vpnctl up` reads.
#
#   Table = 1234, FwMark = 0xca6c: every route in table 1234, no policy
#     rules; the UDP sockets carry 0xca6c and the kill switch exempts
#     that mark (so the handshake gets out); the user's own rule into
#     1234 carries traffic through the tunnel; kill -9 of the whole
#     instance, then a start removes it all.
#   Table = auto, FwMark = 51820: the full tunnel in table 51820 behind
#     "not fwmark 0xca6c lookup 51820"; traffic goes through the tunnel;
#     kill -9 of the parent, then a start removes the rules by the mark
#     and table in the state record.
#   Table = off: no route through the interface, no rule; a deactivate
#     leaves nothing.
#   Refused: Table = main with a full tunnel, FwMark = 0; nothing set up.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init wgtable

WG="w$$t"
client_server "$WG"

# conf EXTRA-INTERFACE-LINES: a full tunnel to S
conf() {
	cat <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
$1
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0
EOF
}
conf "$(printf 'Table = 1234\nFwMark = 0xca6c')" >"$E2E_TMP/num.conf"
conf "FwMark = 51820" >"$E2E_TMP/auto.conf"
conf "Table = off" >"$E2E_TMP/off.conf"
conf "Table = main" >"$E2E_TMP/main.conf"
conf "FwMark = 0" >"$E2E_TMP/zero.conf"
chmod 600 "$E2E_TMP"/*.conf

rules() {
	ip -n "$C" rule show; ip -n "$C" -6 rule show
}

# left TABLE: what of ours is in C, with the routes of TABLE and any rule
# that names it or 0xca6c
left() {
	ours_left "$C"
	ip -n "$C" route show table "$1" 2>/dev/null | sed 's/^/route: /'
	rules | grep -E "lookup $1|0xca6c" | sed 's/^/rule: /'
}

vpnd_start c "$C" || bail "vpnd did not start"

# --- Table = 1234, FwMark = 0xca6c
ctl c -t 10 up "$E2E_TMP/num.conf" >/dev/null 2>&1 &
up=$!
wait_for 50 ip -n "$C" link show vpn0
ok $? "Table = 1234: the interface is up"
wait_for 50 sh -c "ip -n $C route show table 1234 2>/dev/null | grep -q '^default dev vpn0'"
ok $? "Table = 1234: the default route is in table 1234"
is "$(ip -n "$C" route show dev vpn0)" "" "Table = 1234: nothing in main"
is "$(rules | grep -cE '^3031[9]:|^30320:')" 0 "Table = 1234: no policy rules"
ip netns exec "$C" nft list table inet vpnd | grep -q 'meta mark 0x0000ca6c'
ok $? "Table = 1234: the kill switch exempts mark 0xca6c"
ip netns exec "$C" ss -uane 2>/dev/null | grep -q 'fwmark:0xca6c'
ok $? "Table = 1234: vpnd's UDP socket carries mark 0xca6c"
# the user routes: their own rule into the table
ip -n "$C" rule add to 10.8.0.1 lookup 1234 priority 1000
ping_first 20 "$C" 10.8.0.1
ok $? "Table = 1234: the user's rule into 1234 reaches the peer through the tunnel"
ip -n "$C" rule del to 10.8.0.1 lookup 1234 priority 1000
wait "$up"
vpnd_kill9 c all
ok $? "Table = 1234: kill -9 of the whole instance"
vpnd_start c "$C"
ok $? "Table = 1234: vpnd starts again"
is "$(left 1234)" "" "Table = 1234: nothing of ours left after the restart"

# --- Table = auto, FwMark = 51820
ctl c -t 10 up "$E2E_TMP/auto.conf" >/dev/null 2>&1
ok $? "FwMark = 51820: connected"
rules | grep -q '^30320:.*not from all fwmark 0xca6c lookup 51820'
ok $? "FwMark = 51820: the rule is not fwmark 0xca6c lookup 51820"
ip -n "$C" route show table 51820 | grep -q '^default dev vpn0'
ok $? "FwMark = 51820: the full tunnel is in table 51820"
is "$(ip -n "$C" route show table 30320 2>/dev/null)" "" \
    "FwMark = 51820: nothing in the default table 30320"
ping_first 20 "$C" 10.8.0.1
ok $? "FwMark = 51820: traffic through the tunnel"
vpnd_kill9 c parent
ok $? "FwMark = 51820: kill -9 of the parent"
rules | grep -q 'fwmark 0xca6c lookup 51820'
ok $? "FwMark = 51820: the rule outlives the crash"
n=$(out_lines c)
vpnd_start c "$C"
ok $? "FwMark = 51820: vpnd starts again"
is "$(left 51820)" "" "FwMark = 51820: rules removed by the recorded table and mark"
out_since c "$n" | grep -q 'leftover IPv4 policy rules (table 51820, mark 0xca6c)'
ok $? "FwMark = 51820: the removal is logged with the recorded table and mark"

# --- Table = off
ctl c -t 10 up "$E2E_TMP/off.conf" >/dev/null 2>&1 &
up=$!
wait_for 50 ip -n "$C" link show vpn0
ok $? "Table = off: the interface is up"
wait_for 50 sh -c "ip netns exec $C nft list table inet vpnd >/dev/null 2>&1"
is "$(ip -n "$C" route show table all dev vpn0 | grep -v 'proto kernel\|^local\|^broadcast\|^multicast\|table local')" "" \
    "Table = off: no route through the interface"
is "$(rules | grep -cE '^3031[9]:|^30320:')" 0 "Table = off: no policy rules"
wait "$up"
ctl c down >/dev/null 2>&1
wait_for 50 clean_in "$C"
ok $? "Table = off: a deactivate leaves nothing"

# --- refused
ctl c -t 10 up "$E2E_TMP/main.conf" >"$E2E_TMP/main.out" 2>&1
ok $((! $?)) "Table = main with a full tunnel: refused"
grep -q "replace the host's default route" "$E2E_TMP/main.out"
ok $? "Table = main: the reason is given"
ctl c -t 10 up "$E2E_TMP/zero.conf" >"$E2E_TMP/zero.out" 2>&1
ok $((! $?)) "FwMark = 0: refused"
grep -q "always carry a mark" "$E2E_TMP/zero.out"
ok $? "FwMark = 0: the reason is given"
is "$(left 1234)" "" "refused files: nothing set up"

kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "vpnd stops"
e2e_done

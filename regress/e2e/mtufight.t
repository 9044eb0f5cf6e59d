#!/bin/bash
# mtufight.t -- another program that keeps changing vpn0's MTU: the
# parent's set-backs are limited (20 in 10 s, then one look when the
# window ends), and while they are, IPv4 comes back at once after a down
# and up below 1280, a server switch that adds IPv6 routes raises the MTU
# first, restores are not tried below 1280 (two errors a time), and a new
# tunnel starts with a fresh window. Every wait polls with a bound, well
# under the 10 s window.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 200 "$@"
e2e_init mtufight

WG="w$$g"
client_server6 "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
LOG="$E2E_TMP/c/out"
act() { act6 "$@"; }
FULL=$FULL6
MORE="$FULL"',{"address":"fd77::","range":64,"isIpv6":true}'
said() { grep -c "$1" "$LOG"; }
mtu() { ip netns exec "$C" cat /sys/class/net/vpn0/mtu 2>/dev/null; }
fresh() {
	client -t 20 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected >/dev/null 2>&1
	client -t 20 "$SOCK" "send:$(act "$1")" expect:connected >/dev/null 2>&1
}
# fight: 30 changes, one ip each, until the limiter says it gave up
fight() {
	local n i=0
	n=$(said 'keeps being changed')
	while [ $i -lt 30 ]; do
		ip -n "$C" link set vpn0 mtu $((1200 + (i % 2) * 10)) || return 1
		i=$((i + 1))
	done
	wait_for 50 sh -c "[ \$(grep -c 'keeps being changed' '$LOG') -gt $n ]"
}
v4() { ip -n "$C" -4 route show table all dev vpn0 | grep -q ^default; }

fresh "$FULL"; ok $? "full tunnel: connected"
fight; ok $? "a fight: the limiter engages"
printf 'link set vpn0 mtu 1200\nlink set vpn0 down\nlink set vpn0 up\n' | ip -n "$C" -batch -
wait_for 50 v4
ok $? "down/up at 1200 while limited: IPv4 default via vpn0 back within 5 s"

fresh "$FULL"; ok $? "again"
fight; ok $? "a fight"
wait_for 20 sh -c "[ \$(ip netns exec $C cat /sys/class/net/vpn0/mtu) -lt 1280 ]"
out=$(client -t 20 "$SOCK" "send:$(act "$MORE")" expect:connected 2>&1)
ok $? "a switch that adds an IPv6 route while limited below 1280: connected"
ip -n "$C" -6 route show table all dev vpn0 | grep -q fd77::
ok $? "with its new route"

fresh "$FULL"; ok $? "again"
e=$(said 'error:')
i=0; while [ $i -lt 500 ]; do printf 'link set vpn0 mtu 1200\nlink set vpn0 mtu 1300\n'; i=$((i+1)); done |
    ip -n "$C" -batch -
wait_for 50 sh -c "[ \$(ip netns exec $C cat /sys/class/net/vpn0/mtu) -ge 1280 ]"
m=$(($(said 'error:') - e))
[ "$m" -le 60 ]
ok $? "500 x (1200,1300): error lines bounded ($m)"

fresh "$FULL"; ok $? "again"
fight; ok $? "a fight"
fresh "$FULL"; ok $? "then a new tunnel at once"
ip -n "$C" link set vpn0 mtu 9000
wait_for 50 sh -c "[ \$(ip netns exec $C cat /sys/class/net/vpn0/mtu) != 9000 ]"
ok $? "the new tunnel's 9000 set back within 5 s ($(mtu))"
e2e_done

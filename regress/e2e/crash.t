#!/bin/bash
# crash.t -- kill -9 of any process, connected or connecting, fails
# closed and never strands the namespace: until vpnd starts again the kill
# switch stays and direct traffic is dropped; the next start removes
# everything of ours before it serves a client, does not re-activate, and
# a new activate works.
# Also SIGTERM, corrupt records, a record naming another table and mark
# (its rules removed by them), an older one-line record, an unwritable
# state dir, a leftover
# interface of ours (removed) and a foreign TUN of the same name that
# vpnd did not mark as its own (left alone). The daemon manages the
# namespace's own resolv.conf (ip netns exec, /etc/netns/NS/resolv.conf,
# no -R), as in a container.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init crash

WG="w$$c"
client_server "$WG"
direct_counter

# conf PORT: a full tunnel with DNS; 51999 has nobody answering.
conf() {
	cat <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
DNS = 10.8.0.1, crash.example
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:$1
AllowedIPs = 0.0.0.0/0, ::/0
EOF
}
conf 51820 >"$E2E_TMP/good.conf"
conf 51999 >"$E2E_TMP/dead.conf"

ORIG="$E2E_TMP/resolv.orig"
STATE="$E2E_TMP/c/state"
printf 'nameserver 10.0.0.53\nsearch crash.lan\n' >"$ORIG"
RC=$(netns_resolv "$C" "$ORIG")
E2E_NO_R=1

start() {
	vpnd_start c "$C" -D file
}

stop() {
	kill -TERM "$VPND_PID_c" 2>/dev/null
	wait_gone "$VPND_PID_c" 50
}

state_is() {
	[ "$(ctl_state c)" = "$1" ]
}

changed() { [ "$(direct)" != "$before" ]; }

# crashed WHAT: between the crash and the next start the host fails
# closed: the kill switch stays and direct traffic is dropped.
crashed() {
	local what=$1

	ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
	ok $? "$what: the kill switch is still there after the crash"
	before=$(direct)
	send_direct
	# nothing may arrive: give it a bounded chance to, polling
	wait_for 10 changed
	ok $((! $?)) "$what: direct UDP is dropped until vpnd starts again"
}

# after_restart WHAT: the checks every restart after a crash must pass.
after_restart() {
	local what=$1 t0 t1 left

	t0=$(date +%s%N)
	start
	ok $? "$what: vpnd starts again"
	t1=$(date +%s%N)
	left=$(ours_left "$C")
	is "$left" "" "$what: nothing of ours left after restart"
	diag "$what: clean and serving $(((t1 - t0) / 1000000)) ms after the start"
	cmp -s "$ORIG" "$RC"
	ok $? "$what: resolv.conf byte-identical"
	ping_ok "$C" 10.0.0.2
	ok $? "$what: direct ping to the neighbour works"
	before=$(direct)
	send_direct
	wait_for 50 changed
	ok $? "$what: direct UDP gets through again"
	is "$(ctl_state c)" disconnected "$what: not re-activated"
	ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
	ok $? "$what: a new activate works"
	ctl c down >/dev/null
}

crashes() {
	local who how left

	start || bail "vpnd did not start"
	for who in parent netmgr tunworker dnsmgr; do
		for how in connected connecting; do
			if [ "$how" = connected ]; then
				ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
			else
				ctl c -t 1 up "$E2E_TMP/dead.conf" \
				    >/dev/null 2>&1
			fi
			if wait_for 30 state_is "$how"; then
				ok 0 "$who/$how: state is $how"
			else
				ok 1 "$who/$how: state is $how"
				tail -5 "$E2E_TMP/c/out" | sed 's/^/#   /'
			fi
			left=$(ours_left "$C")
			echo "$left" | grep -q '^link: ' &&
			    echo "$left" | grep -q '^rule-4: ' &&
			    echo "$left" | grep -q '^nft: '
			ok $? "$who/$how: our set-up is in place (link, rules, kill switch)"
			vpnd_kill9 c "$who"
			ok $? "$who/$how: kill -9 $who, the instance exits"
			crashed "$who/$how"
			after_restart "$who/$how"
		done
	done
}

sigterm() {
	local mon rc

	ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
	ok $? "SIGTERM: connected"
	ctl c -j monitor >"$E2E_TMP/mon.out" 2>&1 &
	mon=$!
	E2E_PIDS="$E2E_PIDS $mon"
	wait_for 30 grep -q '"connected":true' "$E2E_TMP/mon.out"
	ok $? "SIGTERM: a monitoring client is attached"
	kill -TERM "$VPND_PID_c"
	wait_gone "$VPND_PID_c" 50
	wait "$VPND_PID_c"
	rc=$?
	is "$rc" 0 "SIGTERM: vpnd exits 0"
	wait_gone "$mon" 30
	grep -q '"type":"disconnected"' "$E2E_TMP/mon.out"
	ok $? "SIGTERM: the client got disconnected"
	is "$(ours_left "$C")" "" "SIGTERM: everything removed"
	cmp -s "$ORIG" "$RC"
	ok $? "SIGTERM: resolv.conf byte-identical"
	test ! -e "$STATE/net.state" && test ! -e "$STATE/dns/dns.backup"
	ok $? "SIGTERM: no state records left"
}

# leftovers: what a crashed instance would have left, made by hand.
make_leftovers() {
	ip -n "$C" rule add priority 30319 table main suppress_prefixlength 0
	ip -n "$C" rule add priority 30320 not fwmark 0x7670 table 30320
	ip -n "$C" route add 192.0.2.0/24 dev eth0 table 30320
	ip netns exec "$C" nft add table inet vpnd
}

records() {
	local n

	stop
	# net.state truncated (no newline), with leftovers
	printf 'vp' >"$STATE/net.state"
	make_leftovers
	n=$(out_lines c)
	start
	ok $? "truncated net.state: vpnd starts"
	out_since c "$n" | grep -q 'state record .* is corrupt'
	ok $? "truncated net.state: logged as corrupt"
	is "$(ours_left "$C")" "" "truncated net.state: everything removed"
	test ! -e "$STATE/net.state"
	ok $? "truncated net.state: record removed"
	stop

	# net.state garbage: binary, a short first line
	printf '\001\377x\n\200garbage' >"$STATE/net.state"
	make_leftovers
	n=$(out_lines c)
	start
	ok $? "garbage net.state: vpnd starts"
	out_since c "$n" | grep -q 'state record .* is corrupt'
	ok $? "garbage net.state: logged as corrupt"
	is "$(ours_left "$C")" "" "garbage net.state: everything removed"
	stop

	# a record of rules made with another table and mark: removed by
	# the recorded ones, the defaults' leftovers too
	printf 'version=1\nifname=vpn0\ntable=4242\nmark=51820\nnewer=1\n' \
	    >"$STATE/net.state"
	make_leftovers
	ip -n "$C" rule add priority 30320 not fwmark 51820 table 4242
	ip -n "$C" -6 rule add priority 30320 not fwmark 51820 table 4242
	n=$(out_lines c)
	start
	ok $? "record with table 4242, mark 51820: vpnd starts"
	out_since c "$n" | grep -q 'removed 1 leftover IPv6 policy rules (table 4242, mark 0xca6c)'
	ok $? "record with table 4242: its rules removed, and logged"
	out_since c "$n" | grep -q '1 unknown keys skipped'
	ok $? "record with table 4242: an unknown key is skipped, and logged"
	is "$(ours_left "$C"; ip -n "$C" rule show | grep 4242; ip -n "$C" -6 rule show | grep 4242)" "" \
	    "record with table 4242: everything removed"
	test ! -e "$STATE/net.state"
	ok $? "record with table 4242: record removed"
	stop

	# the older one-line record still recovers
	printf 'vpn0\n' >"$STATE/net.state"
	make_leftovers
	n=$(out_lines c)
	start
	ok $? "one-line record: vpnd starts"
	out_since c "$n" | grep -q 'corrupt'
	ok $((! $?)) "one-line record: not taken for corrupt"
	is "$(ours_left "$C")" "" "one-line record: everything removed"
	stop

	# dns.backup garbage and truncated
	for kind in garbage truncated; do
		if [ "$kind" = garbage ]; then
			head -c 300 /dev/urandom >"$STATE/dns/dns.backup"
		else
			: >"$STATE/dns/dns.backup"
		fi
		# as dnsmgr would have written it: its own file
		chown _vpnddns:_vpnddns "$STATE/dns/dns.backup"
		rm -f "$STATE/dns/dns.backup.bad"
		n=$(out_lines c)
		start
		ok $? "$kind dns.backup: vpnd starts"
		out_since c "$n" | grep -q 'dnsmgr: .*DNS recovery'
		ok $? "$kind dns.backup: a clear log line"
		out_since c "$n" | grep 'DNS recovery' | sed 's/^/#   /'
		cmp -s "$ORIG" "$RC"
		ok $? "$kind dns.backup: resolv.conf left untouched"
		test ! -e "$STATE/dns/dns.backup" && test -e "$STATE/dns/dns.backup.bad"
		ok $? "$kind dns.backup: set aside as dns.backup.bad"
		ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
		ok $? "$kind dns.backup: activate works"
		ctl c down >/dev/null
		cmp -s "$ORIG" "$RC"
		ok $? "$kind dns.backup: resolv.conf restored after down"
		stop
	done
}

# An older vpnd (record format 1, in the state directory itself) died
# with our resolv.conf in place: the new one moves the record into
# dnsmgr's directory and restores from it.
legacy_record() {
	local n

	start || bail "restart"
	ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
	ok $? "format 1 record: connected"
	vpnd_kill9 c all
	ok $? "format 1 record: kill -9 of the whole instance"
	"$E2E_PY" -c '
import hashlib, sys
b = open(sys.argv[1], "rb").read()
body = b[83:].replace(b"\nphase written\n", b"\n", 1)
h = hashlib.sha256(body).hexdigest().encode()
open(sys.argv[2], "wb").write(b"vpnd-dns-backup 1 " + h + b"\n" + body)
' "$STATE/dns/dns.backup" "$STATE/dns.backup"
	ok $? "format 1 record: made from the current one"
	rm -f "$STATE/dns/dns.backup"
	n=$(out_lines c)
	start
	ok $? "format 1 record: vpnd starts"
	cmp -s "$ORIG" "$RC"
	ok $? "format 1 record: resolv.conf restored byte-identical"
	out_since c "$n" | grep -q "moved an older vpnd's"
	ok $? "format 1 record: moving it is logged"
	test ! -e "$STATE/dns.backup" && test ! -e "$STATE/dns/dns.backup"
	ok $? "format 1 record: no record left"
	stop
}

unwritable() {
	local n

	chmod 500 "$STATE"
	n=$(out_lines c)
	start
	ok $? "state dir mode 500: vpnd starts (cleanup needs no write)"
	ctl c -t 10 up "$E2E_TMP/good.conf" >"$E2E_TMP/unw.out" 2>&1
	ok $((!$?)) "state dir mode 500: activate is refused"
	grep -q 'cannot record state' "$E2E_TMP/unw.out"
	ok $? "state dir mode 500: the client is told why"
	sed 's/^/#   /' "$E2E_TMP/unw.out"
	out_since c "$n" | grep -q 'cannot record state: Permission denied'
	ok $? "state dir mode 500: a clear log line"
	is "$(ours_left "$C")" "" "state dir mode 500: nothing set up"
	is "$(ctl_state c)" disconnected "state dir mode 500: disconnected"
	cmp -s "$ORIG" "$RC"
	ok $? "state dir mode 500: resolv.conf untouched"
	stop
	chmod 700 "$STATE"
}

leftover_if() {
	local n

	ip -n "$C" tuntap add vpn0 mode tun || bail "tuntap"
	# what vpnd marks its TUN with when it creates it
	ip -n "$C" link set vpn0 mtu 1300 alias "vpnd:$(cat "$STATE/device-id")" up
	n=$(out_lines c)
	start
	ok $? "leftover vpn0 (mtu 1300): vpnd starts"
	out_since c "$n" | grep -q 'removed leftover interface vpn0'
	ok $? "leftover vpn0: removal logged"
	is "$(ours_left "$C")" "" "leftover vpn0: removed at start"
	ctl c -t 10 up "$E2E_TMP/good.conf" >/dev/null
	ok $? "leftover vpn0: activate works afterwards"
	is "$(ip -n "$C" -o link show vpn0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')" \
	    1420 "leftover vpn0: the new vpn0 has our MTU"
	ctl c down >/dev/null
	stop
}

# A TUN called vpn0 that vpnd did not mark is someone else's: a start
# with a record naming it leaves it alone, so does one with another
# installation's mark.
foreign_if() {
	local n alias

	for alias in "" "vpnd:0123456789abcdef0123456789abcdef"; do
		ip -n "$C" tuntap add vpn0 mode tun || bail "tuntap"
		[ -n "$alias" ] && ip -n "$C" link set vpn0 alias "$alias"
		ip -n "$C" link set vpn0 up
		printf 'vpn0\n' >"$STATE/net.state"
		n=$(out_lines c)
		start
		ok $? "foreign vpn0 (alias '$alias'): vpnd starts"
		ip -n "$C" link show vpn0 >/dev/null 2>&1
		ok $? "foreign vpn0 (alias '$alias'): still there"
		out_since c "$n" | grep -q 'vpn0 is not a TUN marked as ours'
		ok $? "foreign vpn0 (alias '$alias'): left alone, and said so"
		stop
		ip -n "$C" link del vpn0
	done
}

body() {
	crashes
	sigterm
	start || bail "restart"
	records
	legacy_record
	unwritable
	leftover_if
	foreign_if
}

body
host_resolv_ok
ok $? "the host's own /etc/resolv.conf is unchanged (sha256)"
e2e_done

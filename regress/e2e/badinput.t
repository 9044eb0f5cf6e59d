#!/bin/bash
# badinput.t -- garbage on the control socket while a tunnel is up and a
# ping runs through it: every bad request gets its documented error code
# (man/vpnctl.8), nothing crashes, the tunnel stays up and carries traffic.
# Then a failed activation (the interface name is taken) rolls back fully.
#
# A client from a uid outside the group (`nobody`) may connect (the socket
# is 0666) and gets the read-only tier: status and version are answered;
# activate, deactivate, logs and cleanlogs get an "error" of code "denied"
# and are not carried out. A uid whose primary group is vpnd gets all.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 58 "$@"
e2e_init badinput

# mutate JSON PYTHON-STATEMENT: the object o changed by the statement
mutate() {
	"$E2E_PY" -c 'import json, sys
o = json.loads(sys.argv[1])
exec(sys.argv[2])
print(json.dumps(o, separators=(",", ":")))' "$1" "$2"
}

# still_up DESC: the tunnel is still connected and carries traffic
still_up() {
	local st
	st=$(client "$SOCK" 'send:{"type":"status"}' expect:status |
	    jget state)
	[ "$st" = connected ] && ping_ok "$C" 10.200.0.1 &&
	    pid_alive "$VPND_PID_c"
	ok $? "  ... tunnel still up and carrying traffic after $1"
}

# bad_activate DESC CODE PYTHON-STATEMENT: activate with the good config
# changed by the statement; expect error CODE, then disconnected
bad_activate() {
	local out
	out=$(client "$SOCK" "send:$(mutate "$CONF" "$3")" expect:error \
	    expect:disconnected)
	is "$(echo "$out" | jget type code request | tr '\n' ' ')" \
	    "error $2 activate disconnected <none> <none> " "$1 -> $2, disconnected"
	still_up "$1"
}

# bad_line DESC CODE ACTION...: expect an error with CODE
bad_line() {
	local desc=$1 code=$2 out
	shift 2
	out=$(client "$SOCK" "$@" expect:error 'send:{"type":"status"}' \
	    expect:status)
	is "$(echo "$out" | jget type code | tr '\n' ' ')" \
	    "error $code status <none> " "$desc -> $code; connection still usable"
	still_up "$desc"
}

all_alive() {
	local m
	pid_alive "$VPND_PID_c" || return 1
	for m in netmgr tunworker dnsmgr; do
		child_of "$VPND_PID_c" "$m" >/dev/null || return 1
	done
}

body() {
	local out wrongpub shortkey pingpid tx rx m
	C=$(ns_add c)
	S=$(ns_add s)
	veth "$C" eth0 "$S" eth0
	ip -n "$C" addr add 10.99.0.2/24 dev eth0
	ip -n "$S" addr add 10.99.0.1/24 dev eth0
	keypair cli
	keypair srv
	keypair other
	wggo_peer "$S" "wg${E2E_ID}s" srv 51820 10.200.0.1/24
	ip netns exec "$S" wg set "wg${E2E_ID}s" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32
	vpnd_start c "$C" || bail "vpnd did not start"
	SOCK=$(sock_of c)
	CONF=$(mozconf cli srv 51820 10.99.0.1 10.200.0.2/32 fd00:200::2/128 \
	    "10.200.0.0/24")

	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type)" connected "tunnel up"
	ip netns exec "$C" ping -i 0.2 -W 1 10.200.0.1 \
	    >"$E2E_TMP/ping.out" 2>&1 &
	pingpid=$!
	E2E_PIDS="$E2E_PIDS $pingpid"
	wait_for 50 grep -q 'bytes from' "$E2E_TMP/ping.out"
	ok $? "ping loop running through the tunnel"

	# -- framing
	bad_line "non-JSON" bad-json 'send:hello world'
	bad_line "truncated JSON" bad-json 'send:{"type":"status"'
	bad_line "a JSON array" bad-json 'send:[1,2,3]'
	bad_line "a JSON string" bad-json 'send:"status"'
	bad_line "trailing garbage" bad-json 'send:{"type":"status"} x'
	bad_line "NUL byte in a line" bad-json 'sendraw:{"type":"st\0"}\n'
	bad_line "object without type" bad-request 'send:{"id":1}'
	bad_line "type not a string" bad-request 'send:{"type":5}'
	bad_line "id neither string nor number" bad-request \
	    'send:{"type":"status","id":[1]}'
	bad_line "unknown type" unknown-type 'send:{"type":"frobnicate"}'
	bad_line "a 1 MiB line" too-long sendbig:1048576
	out=$(client "$SOCK" 'sendraw:nope\n[]\n{"type":"version","id":3}\n' \
	    expect:error expect:error expect:version)
	is "$(echo "$out" | jget type | tr '\n' ' ')" "error error version " \
	    "three lines in one write: answered in order"

	# -- activate with wrong field types
	bad_activate "serverPort as a string" bad-config \
	    'o["serverPort"] = "51820"'
	bad_activate "serverPort out of range" bad-config \
	    'o["serverPort"] = 70000'
	bad_activate "privateKey as a number" bad-config \
	    'o["privateKey"] = 12'
	bad_activate "allowedIPAddressRanges not an array" bad-config \
	    'o["allowedIPAddressRanges"] = "0.0.0.0/0"'
	bad_activate "range as a string" bad-config \
	    'o["allowedIPAddressRanges"][0]["range"] = "24"'
	bad_activate "isIpv6 as a string" bad-config \
	    'o["allowedIPAddressRanges"][0]["isIpv6"] = "false"'
	bad_activate "missing serverPublicKey" bad-config \
	    'del o["serverPublicKey"]'
	# -- bad keys
	shortkey=$(head -c 31 /dev/urandom | base64)
	bad_activate "privateKey of 31 bytes" bad-config \
	    "o['privateKey'] = '$shortkey'"
	bad_activate "serverPublicKey of 33 bytes" bad-config \
	    "o['serverPublicKey'] = '$(head -c 33 /dev/urandom | base64)'"
	bad_activate "privateKey not base64" bad-config \
	    'o["privateKey"] = "!!!!notbase64!!!!notbase64!!!!notbase64!!!!="'
	wrongpub=$(pub_of other)
	bad_activate "publicKey not matching privateKey" bad-config \
	    "o['publicKey'] = '$wrongpub'"
	# -- bad addresses
	bad_activate "deviceIpv4Address 10.200.0.300/32" bad-config \
	    'o["deviceIpv4Address"] = "10.200.0.300/32"'
	bad_activate "deviceIpv4Address prefix /33" bad-config \
	    'o["deviceIpv4Address"] = "10.200.0.2/33"'
	bad_activate "deviceIpv6Address not an address" bad-config \
	    'o["deviceIpv6Address"] = "fd00::zz/128"'
	bad_activate "serverIpv4AddrIn a host name" bad-config \
	    'o["serverIpv4AddrIn"] = "vpn.example.com"'
	bad_activate "allowed range /99" bad-config \
	    'o["allowedIPAddressRanges"][0]["range"] = 99'
	bad_activate "allowed address garbage" bad-config \
	    'o["allowedIPAddressRanges"][0]["address"] = "1.2.3"'
	# -- hopType
	bad_activate "unknown hopType" bad-config 'o["hopType"] = "TripleHop"'

	# -- a uid outside the group: the read-only tier
	is "$(stat -c '%a %U %G' "$SOCK")" "666 root vpnd" \
	    "control socket is 0666 root:vpnd: access is decided per request"
	chmod o+x "$E2E_TMP" "$E2E_TMP/c"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$E2E_PY" "$E2E_CLIENT" "$SOCK" 'send:{"type":"status"}' \
	    expect:status 'send:{"type":"version"}' expect:version 2>&1)
	is "$(echo "$out" | jget type state | tr '\n' ' ')" \
	    "status connected version <none> " \
	    "nobody: status and version are answered"
	for req in activate deactivate logs cleanlogs; do
		out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    "$E2E_PY" "$E2E_CLIENT" -a "$SOCK" \
		    "send:{\"type\":\"$req\"}" expect:error \
		    'send:{"type":"version"}' expect:version 2>&1)
		is "$(echo "$out" | jget type request code | tr '\n' ' ')" \
		    "error $req denied version <none> <none> " \
		    "nobody: $req is denied, the connection stays"
	done
	still_up "the denied client"
	n=$(client "$SOCK" 'send:{"type":"logs"}' expect:logs | jget logs |
	    grep -c handshake || true)
	[ "$n" -gt 0 ]
	ok $? "nobody's cleanlogs was not carried out"
	out=$(setpriv --reuid=nobody --regid=vpnd --clear-groups \
	    "$E2E_PY" "$E2E_CLIENT" "$SOCK" 'send:{"type":"status"}' \
	    expect:status 'send:{"type":"logs"}' 'expect:logs|error' 2>&1)
	is "$(echo "$out" | jget type state | tr '\n' ' ')" \
	    "status connected logs <none> " \
	    "a uid with group vpnd is let in, logs too"

	# -- the ping loop ran all along
	kill -INT "$pingpid"
	wait_gone "$pingpid" 30
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$E2E_TMP/ping.out")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$E2E_TMP/ping.out")
	diag "ping loop: $tx sent, $rx received"
	[ -n "$tx" ] && [ "$tx" -ge 10 ] && [ $((rx * 100)) -ge $((tx * 95)) ]
	ok $? "ping loop lost under 5% while the garbage flowed ($rx/$tx)"
	all_alive
	ok $? "vpnd and all three children alive"

	# -- failed activation rolls back: the interface name is taken
	out=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' \
	    expect:disconnected)
	is "$out" '{"type":"disconnected"}' "deactivate"
	# a veth: always there where these tests run (no dummy module needed)
	ip -n "$C" link add vpn0 type veth peer name vpn0p
	ip -n "$C" link set vpn0 up
	CONF=$(mozconf cli srv 51820 10.99.0.1 10.200.0.2/32 fd00:200::2/128 \
	    "0.0.0.0/0,::/0")
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:error\|connected \
	    expect:disconnected)
	is "$(echo "$out" | jget type | tr '\n' ' ')" "error disconnected " \
	    "activate with vpn0 taken -> error, then disconnected"
	diag "$(echo "$out" | head -1)"
	is "$(ip -n "$C" -d link show vpn0 | grep -c 'veth')" 1 \
	    "the foreign vpn0 is left alone"
	is "$(ip -n "$C" -4 route show table 30320 2>/dev/null)$(ip -n "$C" -6 route show table 30320 2>/dev/null)" \
	    "" "rollback: table 30320 empty"
	! ip -n "$C" rule | grep -q '3032[01]:' &&
	    ! ip -n "$C" -6 rule | grep -q '3032[01]:'
	ok $? "rollback: no policy rules"
	! ip netns exec "$C" nft list tables | grep -q vpnd
	ok $? "rollback: no nft table inet vpnd"
	! ip -n "$C" addr show dev vpn0 | grep -q 10.200.0.2
	ok $? "rollback: no tunnel address on anything"
	is "$(client "$SOCK" 'send:{"type":"status"}' expect:status |
	    jget state)" disconnected "status: disconnected"
	ip -n "$C" link del vpn0
	out=$(client -t 15 "$SOCK" "send:$CONF" expect:connected\|error)
	is "$(echo "$out" | jget type)" connected \
	    "after removing the foreign vpn0, activate works"
	ping_ok "$C" 10.200.0.1
	ok $? "and carries traffic"
}

body
e2e_done

#!/bin/bash
# ksgap.t -- no gap in the kill switch: on a connected full tunnel with
# the kill switch, an activate that changes the DNS server, allowLan, the
# MTU, the listen port or the device address takes the restart path
# (interface down and up again). Through every one of them the table
# inet vpnd stays in place: a poller lists it in a tight loop and records
# every poll (none may miss it), and a probe loop in C that sends UDP and DNS around the tunnel the
# whole time gets nothing to the third namespace I (counters stay 0).
# After each change the tunnel carries traffic again.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24 (counts what arrives)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init ksgap

WG="w$$g"
C=$(ns_add c)
S=$(ns_add s)
I=$(ns_add i)
veth "$C" eth0 "$S" eth0
veth "$C" eth1 "$I" eth0
ip -n "$C" addr add 10.0.0.1/24 dev eth0
ip -n "$S" addr add 10.0.0.2/24 dev eth0
ip -n "$C" addr add 192.0.2.1/24 dev eth1
ip -n "$I" addr add 192.0.2.2/24 dev eth0
keypair cli
keypair srv
wggo_peer "$S" "$WG" srv 51820 10.8.0.1/24
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" \
    allowed-ips 10.8.0.2/32,10.8.0.3/32 || bail "wg set"

ip netns exec "$I" nft -f - <<'EOF' || bail "nft counters in I"
table inet cnt {
	counter probe { }
	counter dns { }
	counter any { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 udp dport 9999 counter name probe
		ip saddr 192.0.2.1 udp dport 53 counter name dns
		ip saddr 192.0.2.1 counter name any
	}
}
EOF

cnt() {
	ip netns exec "$I" nft list counter inet cnt "$1" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# conf FIELDS: an activate object, full tunnel, kill switch on, with the
# given extra JSON fields (which override the defaults before them).
conf() {
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s",' \
	    "$(key_of cli)" "$(pub_of cli)"
	printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)"
	printf '"serverIpv4AddrIn":"10.0.0.2","serverIpv4Gateway":"10.8.0.1",'
	printf '"killSwitch":true,"allowedIPAddressRanges":'
	printf '[{"address":"0.0.0.0","range":0,"isIpv6":false}],%s}\n' "$1"
}

BASE='"deviceIpv4Address":"10.8.0.2/32","dnsServer":"10.8.0.1"'

# The probe loop: UDP to I's port 9999 and DNS queries to I, from
# ordinary sockets, as fast as it goes, until the stop file appears.
cat >"$E2E_TMP/probe.py" <<'EOF'
import os, socket, struct, sys, time
stop, started = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
    b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
n = 0
while not os.path.exists(stop):
    for port, data in ((9999, b"probe"), (53, q)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(data, ("192.0.2.2", port))
        except OSError:
            pass
        s.close()
        n += 1
    if n == 2:
        open(started, "w").close()
    time.sleep(0.001)	# pacing: the machine is shared
print(n, flush=True)
EOF

# The poller: one line per `nft list table inet vpnd`, y or n.
cat >"$E2E_TMP/poll.sh" <<'EOF'
while [ ! -e "$2" ]; do
	if nft list table inet vpnd >/dev/null 2>&1; then
		echo y
	else
		echo n
	fi
done >"$1"
EOF

RC="$E2E_TMP/c/resolv.conf"
mkdir -p "$E2E_TMP/c"
printf 'nameserver 192.0.2.53\n' >"$RC"
vpnd_start c "$C" -D file || bail "vpnd did not start"
SOCK=$(sock_of c)

tunnel_ok() {
	ping_ok "$C" 10.8.0.1
}

out=$(client -t 15 "$SOCK" "send:$(conf "$BASE")" expect:connected\|error)
is "$(echo "$out" | jget type)" connected \
    "full tunnel with the kill switch connects"
tunnel_ok
ok $? "it carries traffic"
ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
ok $? "table inet vpnd is in place"

# change LABEL FIELDS: activate with the change while the poller, the
# monitor and the probes run; then all the checks.
change() {
	local label=$1 fields=$2 ppid qpid polls miss sent out
	rm -f "$E2E_TMP/stop" "$E2E_TMP/polls" \
	    "$E2E_TMP/sent" "$E2E_TMP/probing"
	ip netns exec "$C" sh "$E2E_TMP/poll.sh" "$E2E_TMP/polls" \
	    "$E2E_TMP/stop" &
	ppid=$!
	E2E_PIDS="$E2E_PIDS $ppid"
	ip netns exec "$C" python3 "$E2E_TMP/probe.py" "$E2E_TMP/stop" \
	    "$E2E_TMP/probing" >"$E2E_TMP/sent" &
	qpid=$!
	E2E_PIDS="$E2E_PIDS $qpid"
	# both loops are running before the change starts
	wait_for 50 test -s "$E2E_TMP/polls"
	wait_for 50 test -e "$E2E_TMP/probing"
	c0=$(cnt any)
	n0=$(out_lines c)
	out=$(client -t 20 "$SOCK" "send:$(conf "$fields")" \
	    expect:connected\|error)
	is "$(echo "$out" | jget type)" connected "$label: connected again"
	out_since c "$n0" | grep -q 'restarting the tunnel (the kill switch stays)'
	ok $? "$label: took the restart path"
	touch "$E2E_TMP/stop"
	wait_gone "$ppid" 50
	wait_gone "$qpid" 50
	polls=$(wc -l <"$E2E_TMP/polls")
	miss=$(grep -c '^n' "$E2E_TMP/polls")
	sent=$(cat "$E2E_TMP/sent")
	diag "$label: $polls polls of the ruleset, $sent probes sent"
	[ "$polls" -gt 0 ] && [ "${sent:-0}" -gt 0 ]
	ok $? "$label: the poller and the probes ran throughout"
	is "$miss" 0 "$label: no poll found the table missing"
	is "$(($(cnt any) - c0))" 0 "$label: nothing reached I (zero escape)"
	tunnel_ok
	ok $? "$label: the tunnel carries traffic after the change"
}

change "DNS server" '"deviceIpv4Address":"10.8.0.2/32","dnsServer":"10.8.0.53"'
change "allowLan" "$BASE,\"allowLan\":true"
ip netns exec "$C" nft list table inet vpnd | grep -q 'ip daddr 192.168.0.0/16 accept'
ok $? "allowLan: the new kill switch lets the LAN through"
change "MTU" "$BASE,\"mtu\":1380"
change "listen port" "$BASE,\"listenPort\":51999"
change "device address" '"deviceIpv4Address":"10.8.0.3/32","dnsServer":"10.8.0.1"'

is "$(cnt probe)/$(cnt dns)" "0/0" "over the whole test: no probe, no DNS query reached I"
out=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected)
is "$out" '{"type":"disconnected"}' "deactivate"
is "$(ours_left "$C")" "" "everything removed, the kill switch included"

e2e_done

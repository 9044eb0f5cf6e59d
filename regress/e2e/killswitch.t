#!/bin/bash
# killswitch.t -- the kill switch: while a full tunnel is up,
# nothing leaves the client namespace outside the tunnel (UDP, TCP and
# ICMP echo over IPv4 and IPv6, DNS, IPv6 even for an IPv4-only tunnel,
# traffic C forwards for a host behind it, DNS to a LAN resolver with
# allowLan, DHCP client ports to a host beyond the LAN), counted at the
# far side, also while still connecting; DHCP broadcasts and IPv6
# neighbour discovery still work; the tunnel itself carries traffic;
# after deactivate and after shutdown the firewall is exactly what it was.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer,
#                                     also the "LAN resolver")
#   C eth1 192.0.2.1/24, 2001:db8:1::1/64 ---- I ("internet") .2 / ::2
#   C eth2 198.51.100.1/24 ---- F eth0 198.51.100.2/24 (routes through C)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init killswitch

WG="w$$k"
C=$(ns_add c)
S=$(ns_add s)
I=$(ns_add i)
F=$(ns_add f)
veth "$C" eth0 "$S" eth0
veth "$C" eth1 "$I" eth0
veth "$C" eth2 "$F" eth0
ip -n "$C" addr add 198.51.100.1/24 dev eth2
ip -n "$F" addr add 198.51.100.2/24 dev eth0
ip -n "$F" route add default via 198.51.100.1
ip netns exec "$C" sysctl -qw net.ipv4.ip_forward=1 || bail "ip_forward in C"
ip -n "$C" addr add 10.0.0.1/24 dev eth0
ip -n "$S" addr add 10.0.0.2/24 dev eth0
ip -n "$C" addr add 192.0.2.1/24 dev eth1
ip -n "$I" addr add 192.0.2.2/24 dev eth0
ip -n "$C" addr add 2001:db8:1::1/64 dev eth1 nodad
ip -n "$I" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$I" route add 198.51.100.0/24 via 192.0.2.1 || bail "route in I"
keypair cli
keypair srv
wggo_peer "$S" "$WG" srv 51820 10.8.0.1/24 fd00:8::1/64
ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" \
    allowed-ips 10.8.0.2/32,fd00:8::2/128 || bail "wg set"

# Counters at the far sides: what arrives from C, by kind.
ip netns exec "$I" nft -f - <<'EOF' || bail "nft counters in I"
table inet cnt {
	counter udp4 { }
	counter tcp4 { }
	counter dnsu { }
	counter dnst { }
	counter udp6 { }
	counter tcp6 { }
	counter icmp4 { }
	counter icmp6 { }
	counter fwdu { }
	counter dhcp4 { }
	counter dhcp4b { }
	counter dhcp6 { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 udp dport 9999 counter name udp4
		ip saddr 192.0.2.1 tcp dport 9998 counter name tcp4
		ip saddr 192.0.2.1 udp dport 53 counter name dnsu
		ip saddr 192.0.2.1 tcp dport 53 counter name dnst
		ip6 saddr 2001:db8:1::1 udp dport 9999 counter name udp6
		ip6 saddr 2001:db8:1::1 tcp dport 9998 counter name tcp6
		ip saddr 192.0.2.1 icmp type echo-request counter name icmp4
		ip6 saddr 2001:db8:1::1 icmpv6 type echo-request counter name icmp6
		ip saddr 198.51.100.2 udp dport 9997 counter name fwdu
		ip saddr 192.0.2.1 ip daddr 192.0.2.2 udp sport 68 udp dport 67 counter name dhcp4
		ip daddr 255.255.255.255 udp sport 68 udp dport 67 counter name dhcp4b
		ip6 saddr 2001:db8:1::1 udp sport 546 udp dport 547 counter name dhcp6
	}
}
EOF
ip netns exec "$S" nft -f - <<'EOF' || bail "nft counters in S"
table inet cnt {
	counter lanu { }
	counter landnsu { }
	counter landnst { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.0.0.1 udp dport 9999 counter name lanu
		ip saddr 10.0.0.1 udp dport 53 counter name landnsu
		ip saddr 10.0.0.1 tcp dport 53 counter name landnst
	}
}
EOF

# send.py KIND ADDR PORT: one probe; prints what the sender saw.
cat >"$E2E_TMP/send.py" <<'EOF'
import socket, struct, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
    b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
try:
    if kind == "udp" or kind == "dnsu":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        s.connect((addr, port))
        try:
            s.send(q if kind == "dnsu" else b"probe")
        except PermissionError:
            # dropped or rejected on output: a reject leaves an ICMP
            # unreachable for the socket, a drop leaves nothing
            pass
        s.recv(512)
        print("answer")
    else:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect((addr, port))
        print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error %d" % e.errno)
EOF

send() {
	ip netns exec "$C" timeout 5 python3 "$E2E_TMP/send.py" "$@"
}

# dhcp ADDR SPORT DPORT IFNAME: one datagram from a DHCP client port,
# bound to the interface as DHCP clients do; prints "sent" or the errno.
cat >"$E2E_TMP/dhcp.py" <<'EOF'
import socket, sys
addr, sport, dport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if fam == socket.AF_INET:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[4].encode())
s.bind(("", sport))
try:
    s.sendto(b"dhcp", (addr, dport))
    print("sent")
except OSError as e:
    print("error %d" % e.errno)
EOF
counted() {
	[ "$(cnt "$1" "$2")" -gt 0 ]
}

dhcp() {
	ip netns exec "$C" timeout 5 python3 "$E2E_TMP/dhcp.py" "$@"
}

cnt() {
	# cnt NS NAME: packets the named counter has seen
	ip netns exec "$1" nft list counter inet cnt "$2" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# probe_all: one of each probe to I (the last from F, forwarded by C);
# prints each counter's delta.
PROBES="udp4 tcp4 dnsu dnst udp6 tcp6 icmp4 icmp6 fwdu"
NONE="udp4=0 tcp4=0 dnsu=0 dnst=0 udp6=0 tcp6=0 icmp4=0 icmp6=0 fwdu=0"
probe_all() {
	local k out=""
	local -A b
	for k in $PROBES; do
		b[$k]=$(cnt "$I" "$k")
	done
	send udp 192.0.2.2 9999 >/dev/null
	send tcp 192.0.2.2 9998 >/dev/null
	send dnsu 192.0.2.2 53 >/dev/null
	send tcp 192.0.2.2 53 >/dev/null
	send udp 2001:db8:1::2 9999 >/dev/null
	send tcp 2001:db8:1::2 9998 >/dev/null
	ip netns exec "$C" timeout 5 ping -n -c 1 -W 1 192.0.2.2 \
	    >/dev/null 2>&1
	ip netns exec "$C" timeout 5 ping -n -6 -c 1 -W 1 2001:db8:1::2 \
	    >/dev/null 2>&1
	ip netns exec "$F" timeout 5 python3 "$E2E_TMP/send.py" \
	    udp 192.0.2.2 9997 >/dev/null
	for k in $PROBES; do
		out="$out $k=$(($(cnt "$I" "$k") - b[$k]))"
	done
	echo "${out# }"
}

nd_resolved() {
	# I has C's link-layer address (a neighbour advertisement came)
	ip -n "$I" -6 neigh show 2001:db8:1::1 dev eth0 | grep -q lladdr
}

all_arrive() {
	# every field of a probe_all line is non-zero
	! echo "$1" | grep -q '=0\b'
}

# actjson V6 EXTRA: a JSON activate; V6=1 adds the IPv6 address/range.
actjson() {
	local v6addr="" v6range=""
	if [ "$1" = 1 ]; then
		v6addr='"deviceIpv6Address":"fd00:8::2/128",'
		v6range=',{"address":"::","range":0,"isIpv6":true}'
	fi
	printf '{"privateKey":"%s","publicKey":"%s",' \
	    "$(key_of cli)" "$(pub_of cli)"
	printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)"
	printf '"serverIpv4AddrIn":"10.0.0.2",'
	printf '"deviceIpv4Address":"10.8.0.2/32",%s' "$v6addr"
	printf '"serverIpv4Gateway":"10.8.0.1","dnsServer":"10.8.0.1",'
	printf '"allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,'
	printf '"isIpv6":false}%s]%s}\n' "$v6range" "$2"
}

table_present() {
	ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
}

body() {
	local rs0 r

	rs0=$(ip netns exec "$C" nft list ruleset)
	r=$(probe_all)
	all_arrive "$r"
	ok $? "before vpnd: every probe reaches I directly ($r)"
	send udp 10.0.0.2 9999 >/dev/null
	send dnsu 10.0.0.2 53 >/dev/null
	[ "$(cnt "$S" lanu)" -gt 0 ] && [ "$(cnt "$S" landnsu)" -gt 0 ]
	ok $? "before vpnd: probes reach the LAN host S"

	vpnd_start c "$C" -D file || bail "vpnd did not start"
	table_present
	ok $((!$?)) "no table inet vpnd while disconnected"

	# --- full tunnel, v4 + v6, allowLan ---
	actjson 1 ',"allowLan":true' >"$E2E_TMP/full.json"
	ctl c -t 5 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "full tunnel (0.0.0.0/0, ::/0, allowLan) connects"
	table_present
	ok $? "table inet vpnd exists while up"
	ping_ok "$C" 10.8.0.1
	ok $? "traffic through the tunnel flows (ping S's tunnel address)"
	is "$(probe_all)" "$NONE" \
	    "UDP, TCP, DNS, ICMP echo, IPv6, forwarded: none arrives while up"
	# neighbour discovery on the outside link still works: I's
	# solicitation is answered (the echo behind it is dropped)
	ip -n "$I" neigh flush dev eth0
	ip netns exec "$I" timeout 5 ping -n -6 -c 1 -W 1 2001:db8:1::1 \
	    >/dev/null 2>&1
	wait_for 30 nd_resolved
	ok $? "IPv6 neighbour discovery with C works while up"
	# DHCP's exceptions go only where DHCP goes
	r=$(dhcp 192.0.2.2 68 67 eth1)
	is "$r/$(cnt "$I" dhcp4)" "error 1/0" \
	    "DHCP 68->67 to a host beyond the LAN: dropped (counter 0)"
	r=$(dhcp 2001:db8:1::2 546 547 eth1)
	is "$r/$(cnt "$I" dhcp6)" "error 1/0" \
	    "DHCPv6 546->547 to a global address: dropped (counter 0)"
	r=$(dhcp 255.255.255.255 68 67 eth1)
	wait_for 30 counted "$I" dhcp4b
	ok $? "DHCP 68->67 broadcast still goes out ($r)"
	r="$(cnt "$S" landnsu)/$(cnt "$S" landnst)"
	is "$(send dnsu 10.0.0.2 53)" refused \
	    "DNS to a LAN resolver is rejected (fails fast)"
	is "$(send tcp 10.0.0.2 53)" refused "DNS over TCP to it too"
	is "$(cnt "$S" landnsu)/$(cnt "$S" landnst)" "$r" \
	    "no DNS query reached the LAN resolver while up"
	r=$(cnt "$S" lanu)
	send udp 10.0.0.2 9999 >/dev/null
	[ "$(cnt "$S" lanu)" -gt "$r" ]
	ok $? "other LAN traffic passes with allowLan (DNS block is specific)"

	ctl c down >/dev/null
	ok $? "deactivate"
	table_present
	ok $((!$?)) "table inet vpnd gone after deactivate"
	is "$(ip netns exec "$C" nft list ruleset)" "$rs0" \
	    "nft ruleset equals the one before vpnd started"
	r=$(probe_all)
	all_arrive "$r"
	ok $? "after deactivate direct traffic works again ($r)"

	# --- IPv4-only tunnel: IPv6 still may not leave ---
	actjson 0 '' >"$E2E_TMP/v4.json"
	ctl c -t 5 activate "$E2E_TMP/v4.json" >/dev/null
	ok $? "IPv4-only full tunnel connects"
	ping_ok "$C" 10.8.0.1
	ok $? "the tunnel carries IPv4"
	is "$(probe_all)" "$NONE" \
	    "IPv4-only tunnel: nothing, IPv6 included, reaches I"
	ctl c down >/dev/null
	r=$(probe_all)
	all_arrive "$r"
	ok $? "after deactivate IPv4 and IPv6 reach I again ($r)"

	# --- connecting (the endpoint never answers): nothing leaves ---
	sed 's/"serverPort":51820/"serverPort":51999/' "$E2E_TMP/full.json" \
	    >"$E2E_TMP/dead.json"
	ctl c -t 1 activate "$E2E_TMP/dead.json" >/dev/null 2>&1
	wait_for 30 sh -c "[ \"\$(\"$VPNCTL\" -s \"$(sock_of c)\" -j status | \"$E2E_PY\" \"$E2E_CLIENT\" jget state)\" = connecting ]"
	ok $? "a full tunnel to a dead endpoint stays connecting"
	table_present
	ok $? "table inet vpnd exists while connecting"
	is "$(probe_all)" "$NONE" \
	    "connecting (before any handshake): none arrives at I"
	ctl c down >/dev/null
	r=$(probe_all)
	all_arrive "$r"
	ok $? "after giving up, direct traffic works again ($r)"

	# --- killSwitch:false: no table at all ---
	actjson 1 ',"killSwitch":false' >"$E2E_TMP/noks.json"
	ctl c -t 5 activate "$E2E_TMP/noks.json" >/dev/null
	ok $? "killSwitch:false connects"
	table_present
	ok $((!$?)) "killSwitch:false: no table inet vpnd"
	is "$(ip netns exec "$C" nft list ruleset)" "$rs0" \
	    "killSwitch:false: ruleset unchanged"
	ctl c down >/dev/null

	# --- clean shutdown while up ---
	ctl c -t 5 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "connected again before SIGTERM"
	table_present
	ok $? "table present before SIGTERM"
	kill -TERM "$VPND_PID_c"
	wait_gone "$VPND_PID_c" 50
	ok $? "vpnd exits on SIGTERM"
	table_present
	ok $((!$?)) "table inet vpnd gone after a clean shutdown"
	is "$(ip netns exec "$C" nft list ruleset)" "$rs0" \
	    "after shutdown the nft ruleset equals the start"
	r=$(probe_all)
	all_arrive "$r"
	ok $? "after shutdown direct traffic works ($r)"
}

body
e2e_done

#!/bin/bash
# vpnd2vpnd.t -- two vpnd talking to each other.
#
# Namespace B runs a headless vpnd "server" (ListenPort, no Endpoint),
# namespace A a vpnd "client" driven by vpnctl up. Handshake, ping both ways
# over IPv4 and IPv6 inside the tunnel, a 100 MB TCP transfer with its
# checksum verified, then the preshared key (mismatched: no tunnel; matching:
# tunnel) over an IPv6 underlay.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init vpnd2vpnd
# the system python: pyenv-style shims cost a tenth of a second a call
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PORT=51820
NSA=$(ns_add a)
NSB=$(ns_add b)
veth "$NSA" va "$NSB" vb
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb
ip -n "$NSA" addr add fd00:99::1/64 dev va nodad
ip -n "$NSB" addr add fd00:99::2/64 dev vb nodad

keypair a
keypair b
umask 077
wg genpsk >"$E2E_TMP/psk"
wg genpsk >"$E2E_TMP/psk2"

# conf FILE SELF PEER ADDRNUM PSK|"" ENDPOINT|"" LISTENPORT|""
conf() {
	{
		echo "[Interface]"
		echo "PrivateKey = $(key_of "$2")"
		echo "Address = 10.200.0.$4/24, fd00:200::$4/64"
		echo "MTU = 1420"
		[ -n "$7" ] && echo "ListenPort = $7"
		echo
		echo "[Peer]"
		echo "PublicKey = $(pub_of "$3")"
		[ -n "$5" ] && echo "PresharedKey = $(cat "$5")"
		[ -n "$6" ] && echo "Endpoint = $6"
		echo "AllowedIPs = 10.200.0.$((3 - $4))/32, fd00:200::$((3 - $4))/128"
	} >"$1"
	chmod 600 "$1"
}

vpnd_stop() {
	local pid
	eval "pid=\${VPND_PID_$1}"
	kill -TERM "$pid" 2>/dev/null
	wait_gone "$pid" 50
}

state_is() {
	ctl "$1" -j status | grep -q "\"state\":\"$2\""
}

connected() {
	ctl "$1" -j status | grep -q '"connected":true'
}

pings() {
	ping_ok "$NSA" 10.200.0.1
	ok $? "$1: ping A -> B over IPv4"
	ping_ok "$NSB" 10.200.0.2
	ok $? "$1: ping B -> A over IPv4"
	ping_ok "$NSA" fd00:200::1
	ok $? "$1: ping A -> B over IPv6"
	ping_ok "$NSB" fd00:200::2
	ok $? "$1: ping B -> A over IPv6"
}



# 1. No preshared key, IPv4 underlay.
conf "$E2E_TMP/s1.conf" b a 1 "" "" "$PORT"
conf "$E2E_TMP/c1.conf" a b 2 "" "10.99.0.2:$PORT" ""
# wg-quick hooks in both files: never run, one warning each
for f in s1 c1; do
	sed -i "/^\[Interface\]/a PostUp = touch $E2E_TMP/hook-ran-$f" \
	    "$E2E_TMP/$f.conf"
done
vpnd_start s1 "$NSB" -f "$E2E_TMP/s1.conf"
ok $? "headless server vpnd started in B"
grep -q "s1.conf:2: PostUp is ignored: vpnd never runs hook commands" \
    "$E2E_TMP/s1/out"
ok $? "the headless server warns that it ignores PostUp"
wait_for 50 state_is s1 connecting
ok $? "server waits in state connecting"
vpnd_start c "$NSA"
ok $? "client vpnd started in A"
ctl c -t 10 up "$E2E_TMP/c1.conf" >"$E2E_TMP/up.out" 2>&1
ok $? "vpnctl up: client connected"
grep -q "^connected: $(pub_of b)" "$E2E_TMP/up.out"
ok $? "vpnctl up names the server's public key"
grep -q "c1.conf:2: PostUp is ignored: vpnd never runs hook commands" \
    "$E2E_TMP/up.out"
ok $? "vpnctl up warns that PostUp is ignored"
[ ! -e "$E2E_TMP/hook-ran-s1" ] && [ ! -e "$E2E_TMP/hook-ran-c1" ]
ok $? "no PostUp command ran"
wait_for 30 connected s1
ok $? "server reports connected after the client's handshake"
ctl s1 -j status | grep -q "\"endpoint\":\"10.99.0.1:"
ok $? "server learned the client's endpoint from its handshake"
pings "vpnd <-> vpnd, v4 underlay"
transfer "client -> server over inner IPv4" "$NSA" "$NSB" 10.200.0.1
transfer "server -> client over inner IPv6" "$NSB" "$NSA" fd00:200::2
ctl c -j status | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["peers"][0]
sys.exit(0 if p["rxBytes"] > 100e6 and p["txBytes"] > 100e6 else 1)'
ok $? "client counters count both 100 MB transfers"
ctl c down >/dev/null 2>&1
ok $? "vpnctl down"
vpnd_stop s1
ok $? "server stopped"

# 2. Preshared key, IPv6 underlay.
conf "$E2E_TMP/s2.conf" b a 1 "$E2E_TMP/psk" "" "$PORT"
conf "$E2E_TMP/c2.conf" a b 2 "$E2E_TMP/psk2" "[fd00:99::2]:$PORT" ""
conf "$E2E_TMP/c3.conf" a b 2 "$E2E_TMP/psk" "[fd00:99::2]:$PORT" ""
vpnd_start s2 "$NSB" -f "$E2E_TMP/s2.conf"
ok $? "headless server with a preshared key started"
ctl c -t 3 up "$E2E_TMP/c2.conf" >/dev/null 2>&1
rc=$?
[ "$rc" != 0 ]
ok $? "mismatched preshared key: vpnctl up fails (exit $rc)"
! connected s2
ok $? "mismatched preshared key: server not connected"
! ip netns exec "$NSA" ping -c 2 -i 0.2 -W 1 -q 10.200.0.1 >/dev/null 2>&1
ok $? "mismatched preshared key: no traffic passes"
ctl c down >/dev/null 2>&1
ctl c -t 4 up "$E2E_TMP/c3.conf" >/dev/null 2>&1
ok $? "matching preshared key over the IPv6 underlay: connected"
wait_for 30 connected s2
ok $? "server reports connected"
ctl s2 -j status | grep -q '"endpoint":"\[fd00:99::1\]:'
ok $? "server learned the client's IPv6 endpoint"
pings "vpnd <-> vpnd, v6 underlay + psk"
transfer "psk: client -> server over inner IPv6" "$NSA" "$NSB" fd00:200::1

pid_alive "$VPND_PID_c" && pid_alive "$VPND_PID_s2"
ok $? "both daemons still running"

e2e_done

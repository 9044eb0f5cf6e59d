#!/bin/bash
# interop.t -- vpnd against Debian's wireguard-go.
#
# Namespace A runs vpnd, namespace B runs wireguard-go configured with wg.
# Both sides initiate in turn; ping both ways over IPv4 and IPv6 inside the
# tunnel, over an IPv4 and an IPv6 underlay; 100 MB TCP transfers with their
# checksum verified; preshared key on, off and mismatched; and a rekey under
# traffic with scaled time (build-test/vpnd, VPND_TIME_SCALE=20).
# Takes about 35 s.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init interop
# the system python: pyenv-style shims cost a tenth of a second a call
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# wireguard-go's UAPI socket lives in /var/run/wireguard/<ifname>.sock,
# shared by every namespace: the interface name must be unique.
WGIF="${E2E_ID}w"
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

wggo_start "$NSB" "$WGIF"
ip netns exec "$NSB" wg set "$WGIF" listen-port "$PORT" \
    private-key "$E2E_TMP/b.key" || bail "wg set"
ip -n "$NSB" addr add 10.200.0.1/24 dev "$WGIF"
ip -n "$NSB" addr add fd00:200::1/64 dev "$WGIF" nodad
ip -n "$NSB" link set "$WGIF" mtu 1420 up

# wgb_peer PSKFILE|"" ENDPOINT|"": (re)define A as wireguard-go's only peer
wgb_peer() {
	local args=""
	ip netns exec "$NSB" wg set "$WGIF" peer "$(pub_of a)" remove
	[ -n "$1" ] && args="preshared-key $1"
	[ -n "$2" ] && args="$args endpoint $2"
	# shellcheck disable=SC2086
	ip netns exec "$NSB" wg set "$WGIF" peer "$(pub_of a)" \
	    allowed-ips 10.200.0.2/32,fd00:200::2/128 $args
}

# conf_a FILE PSK|"" ENDPOINT|"" LISTENPORT|"": vpnd's wg-quick file
conf_a() {
	{
		echo "[Interface]"
		echo "PrivateKey = $(key_of a)"
		echo "Address = 10.200.0.2/24, fd00:200::2/64"
		echo "MTU = 1420"
		[ -n "$4" ] && echo "ListenPort = $4"
		echo
		echo "[Peer]"
		echo "PublicKey = $(pub_of b)"
		[ -n "$2" ] && echo "PresharedKey = $(cat "$2")"
		[ -n "$3" ] && echo "Endpoint = $3"
		echo "AllowedIPs = 10.200.0.1/32, fd00:200::1/128"
	} >"$1"
	chmod 600 "$1"
}

# vpnd_stop TAG: SIGTERM the vpnd started as TAG and wait for it (5 s)
vpnd_stop() {
	local pid
	eval "pid=\${VPND_PID_$1}"
	kill -TERM "$pid" 2>/dev/null
	wait_gone "$pid" 50
}

# pings LABEL: ping both ways over IPv4 and IPv6 inside the tunnel
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

connected() {
	ctl "$1" -j status | grep -q '"connected":true'
}



# 1. vpnd initiates, IPv4 underlay, no preshared key.
wgb_peer "" ""
conf_a "$E2E_TMP/a1.conf" "" "10.99.0.2:$PORT" ""
vpnd_start a "$NSA"
ok $? "vpnd started in A"
ctl a -t 10 up "$E2E_TMP/a1.conf" >"$E2E_TMP/up.out" 2>&1
ok $? "v4 underlay, vpnd initiates: vpnctl up returns 0 after connected"
grep -q "connected" "$E2E_TMP/up.out"
ok $? "vpnctl up printed connected"
ip netns exec "$NSB" wg show "$WGIF" endpoints | grep -q "10.99.0.1:"
ok $? "wireguard-go sees vpnd's endpoint on the IPv4 underlay"
pings "v4 underlay, vpnd initiated"
transfer "v4 underlay, A -> B over inner IPv4" "$NSA" "$NSB" 10.200.0.1
ctl a down >/dev/null 2>&1
ok $? "vpnctl down"

# 2. Preshared key: mismatched fails, matching works (IPv6 underlay).
wgb_peer "$E2E_TMP/psk" ""
conf_a "$E2E_TMP/a2.conf" "$E2E_TMP/psk2" "[fd00:99::2]:$PORT" ""
ctl a -t 3 up "$E2E_TMP/a2.conf" >/dev/null 2>&1
isnt_ok=$?
[ "$isnt_ok" != 0 ]
ok $? "mismatched preshared key: no handshake, vpnctl up fails"
! ip netns exec "$NSA" ping -c 2 -i 0.2 -W 1 -q 10.200.0.1 >/dev/null 2>&1
ok $? "mismatched preshared key: no traffic passes"
ctl a down >/dev/null 2>&1
conf_a "$E2E_TMP/a3.conf" "$E2E_TMP/psk" "[fd00:99::2]:$PORT" ""
# the first initiation must not be lost: connected well before the 5 s
# REKEY_TIMEOUT retransmission
ctl a -t 4 up "$E2E_TMP/a3.conf" >/dev/null 2>&1
ok $? "v6 underlay, preshared key, vpnd initiates: connected within 4 s"
ip netns exec "$NSB" wg show "$WGIF" endpoints | grep -q "\[fd00:99::1\]:"
ok $? "wireguard-go sees vpnd's endpoint on the IPv6 underlay"
pings "v6 underlay + psk, vpnd initiated"
ctl a down >/dev/null 2>&1
vpnd_stop a
ok $? "vpnd A stopped"

# 3. wireguard-go initiates: vpnd headless with ListenPort, no Endpoint.
wgb_peer "$E2E_TMP/psk" "10.99.0.1:$PORT"
conf_a "$E2E_TMP/h1.conf" "$E2E_TMP/psk" "" "$PORT"
vpnd_start h1 "$NSA" -f "$E2E_TMP/h1.conf"
ok $? "headless vpnd started with ListenPort $PORT"
ping_first 15 "$NSB" 10.200.0.2
ok $? "v4 underlay + psk: first ping from B triggers wireguard-go's handshake"
wait_for 30 connected h1
ok $? "headless vpnd reports connected"
pings "v4 underlay + psk, wireguard-go initiated"
vpnd_stop h1
ok $? "headless vpnd stopped"

# 4. wireguard-go initiates over the IPv6 underlay, no preshared key.
wgb_peer "" "[fd00:99::1]:$PORT"
conf_a "$E2E_TMP/h2.conf" "" "" "$PORT"
vpnd_start h2 "$NSA" -f "$E2E_TMP/h2.conf"
ok $? "headless vpnd started again"
ping_first 15 "$NSB" fd00:200::2
ok $? "v6 underlay: first ping from B triggers wireguard-go's handshake"
ctl h2 -j status | grep -q '"endpoint":"\[fd00:99::2\]:'"$PORT"
ok $? "vpnd learned wireguard-go's IPv6 endpoint"
pings "v6 underlay, wireguard-go initiated"
transfer "v6 underlay, B -> A over inner IPv6" "$NSB" "$NSA" fd00:200::2
vpnd_stop h2
ok $? "headless vpnd stopped"

# 5. Rekey under traffic: timers 20x faster (REKEY_AFTER_TIME 120 s -> 6 s,
# REJECT_AFTER_TIME 180 s -> 9 s). vpnd initiates every rekey.
if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1): rekey under traffic not covered"
	e2e_done
fi
lasths() {
	ctl r -j status | "$PY" -c \
	    'import json,sys; print(json.load(sys.stdin)["peers"][0]["lastHandshake"])'
}
cat >"$E2E_TMP/stream.py" <<'EOF'
# stream.py server PORT | client ADDR PORT SECONDS: a slow TCP stream;
# both ends print "<bytes> <sha256>".
import hashlib, os, socket, sys, time
h = hashlib.sha256(); n = 0
if sys.argv[1] == "server":
    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(sys.argv[2]))); s.listen(1); s.settimeout(30)
    c, _ = s.accept(); c.settimeout(15)
    while True:
        b = c.recv(65536)
        if not b: break
        h.update(b); n += len(b)
else:
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=15)
    end = time.monotonic() + float(sys.argv[4])
    while time.monotonic() < end:
        b = os.urandom(16384); c.sendall(b); h.update(b); n += len(b)
        time.sleep(0.01)
    c.shutdown(socket.SHUT_WR); c.recv(1)
print(n, h.hexdigest())
EOF
wgb_peer "" ""
conf_a "$E2E_TMP/r.conf" "" "10.99.0.2:$PORT" ""
export VPND_TIME_SCALE=20
VPND_BIN=$VPND_TEST vpnd_start r "$NSA"
ok $? "test-build vpnd started with VPND_TIME_SCALE=20"
unset VPND_TIME_SCALE
ctl r -t 10 up "$E2E_TMP/r.conf" >/dev/null 2>&1
ok $? "scaled-time vpnd connected to wireguard-go"
HS0=$(lasths)
WHS0=$(ip netns exec "$NSB" wg show "$WGIF" latest-handshakes | cut -f2)
ip netns exec "$NSB" timeout 40 "$PY" "$E2E_TMP/stream.py" server 5002 \
    >"$E2E_TMP/srv.out" 2>&1 &
SPID=$!
E2E_PIDS="$E2E_PIDS $SPID"
wait_for 50 listening "$NSB" 5002 || diag "stream server not listening"
ip netns exec "$NSA" timeout 40 "$PY" "$E2E_TMP/stream.py" client \
    10.200.0.1 5002 16 >"$E2E_TMP/cli.out" 2>&1 &
CPID=$!
E2E_PIDS="$E2E_PIDS $CPID"
ip netns exec "$NSA" ping -c 320 -i 0.05 -W 1 -q 10.200.0.1 \
    >"$E2E_TMP/ping.out" 2>&1 &
PPID_=$!
E2E_PIDS="$E2E_PIDS $PPID_"
# sample the handshake time while the traffic runs (bounded: 30 s)
seen=" $HS0 "
i=0
while pid_alive "$PPID_" && [ "$i" -lt 60 ]; do
	h=$(lasths 2>/dev/null)
	case "$seen" in
	*" $h "*) ;;
	*) [ -n "$h" ] && seen="$seen$h " ;;
	esac
	sleep 0.5
	i=$((i + 1))
done
wait "$PPID_"
wait "$CPID"
crc=$?
wait "$SPID"
HS1=$(lasths)
WHS1=$(ip netns exec "$NSB" wg show "$WGIF" latest-handshakes | cut -f2)
nseen=$(echo "$seen" | wc -w)
diag "vpnd handshake times seen: $seen"
[ "$nseen" -ge 2 ] && [ "$HS1" != "$HS0" ]
ok $? "vpnd rekeyed under traffic ($((nseen - 1)) new handshakes in 16 s)"
[ "$WHS1" != "$WHS0" ] && [ "$WHS1" != 0 ]
ok $? "wireguard-go saw the new handshakes ($WHS0 -> $WHS1)"
read -r tx rx <<EOF
$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
    "$E2E_TMP/ping.out")
EOF
diag "ping during rekeys: ${tx:-?} sent, ${rx:-?} received"
[ -n "${tx:-}" ] && [ "$tx" -ge 310 ] && [ $((tx - rx)) -le 2 ]
ok $? "ping across rekeys lost at most 2 of $tx packets"
is "$crc" 0 "TCP stream across rekeys: sender finished"
read -r cn csum <"$E2E_TMP/cli.out"
read -r sn ssum <"$E2E_TMP/srv.out"
[ "${cn:-0}" -gt 1000000 ] && [ "$cn" = "${sn:-}" ] &&
    [ "$csum" = "${ssum:-}" ]
ok $? "TCP stream across rekeys: ${cn:-0} bytes, checksums match"
ping_ok "$NSB" 10.200.0.2
ok $? "after the rekeys: ping B -> A"
pid_alive "$VPND_PID_r"
ok $? "vpnd still running"

e2e_done

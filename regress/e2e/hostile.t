#!/bin/bash
# hostile.t -- hostile traffic at vpnd's listen port leaves a working
# tunnel working.
#
# B runs a headless vpnd (ListenPort 51820), A a wireguard-go peer with a
# working tunnel to it. From a third namespace C:
#  - a wireguard-go with a key vpnd does not know keeps trying to handshake;
#  - initiations whose MAC1 is for another responder key;
#  - a flood of initiations with a valid MAC1 and garbage inside, which must
#    put vpnd under load (answered with cookie replies, never a response);
#  - 20000 junk datagrams of random sizes and contents, some dressed up
#    with WireGuard message types.
# Meanwhile and afterwards: ping through the tunnel works, every vpnd
# process is alive, the daemon answers status, the peer did not roam.
# Once the flood is over vpnd leaves the under-load state, and a fresh
# handshake from A (its peer removed and added again) completes.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init hostile
# the system python: pyenv-style shims cost a tenth of a second a call
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PORT=51820
WGA="${E2E_ID}w"
WGC="${E2E_ID}x"
NSA=$(ns_add a)
NSB=$(ns_add b)
NSC=$(ns_add c)
veth "$NSA" va "$NSB" vb
veth "$NSC" vc "$NSB" vbc
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb
ip -n "$NSC" addr add 10.98.0.1/24 dev vc
ip -n "$NSB" addr add 10.98.0.2/24 dev vbc

keypair a
keypair b
keypair c

# vpnd in B: the server, A is its only peer
{
	echo "[Interface]"
	echo "PrivateKey = $(key_of b)"
	echo "Address = 10.200.0.1/24"
	echo "ListenPort = $PORT"
	echo
	echo "[Peer]"
	echo "PublicKey = $(pub_of a)"
	echo "AllowedIPs = 10.200.0.2/32"
} >"$E2E_TMP/b.conf"
chmod 600 "$E2E_TMP/b.conf"
vpnd_start b "$NSB" -f "$E2E_TMP/b.conf"
ok $? "headless vpnd started in B"

# wireguard-go in A: the legitimate peer
wggo_start "$NSA" "$WGA"
ip netns exec "$NSA" wg set "$WGA" private-key "$E2E_TMP/a.key" \
    peer "$(pub_of b)" allowed-ips 10.200.0.1/32 endpoint "10.99.0.2:$PORT"
ip -n "$NSA" addr add 10.200.0.2/24 dev "$WGA"
ip -n "$NSA" link set "$WGA" mtu 1420 up

ping_ok "$NSA" 10.200.0.1
ok $? "working tunnel: ping A -> B"
ping_ok "$NSB" 10.200.0.2
ok $? "working tunnel: ping B -> A"

PARENT=$VPND_PID_b
PIDS="$PARENT"
for c in netmgr tunworker dnsmgr; do
	p=$(child_of "$PARENT" "$c") || bail "no $c"
	PIDS="$PIDS $p"
done
all_alive() {
	local p
	for p in $PIDS; do
		pid_alive "$p" || return 1
	done
}
all_alive
ok $? "four vpnd processes: $PIDS"

cat >"$E2E_TMP/hostile.py" <<'EOF'
# hostile.py MODE ADDR PORT COUNT [PUBKEY_B64]: send hostile datagrams,
# print how many replies came back, by message type.
#   junk:   random sizes (0..1600) and bytes, a third dressed up with a
#           WireGuard type (1..4) and sizes near the real ones
#   wrongmac: 148-byte initiations with MAC1 for a random responder key
#   mac1:   148-byte initiations with a valid MAC1 for PUBKEY, garbage
#           ephemeral, static and timestamp
import base64, hashlib, os, random, socket, sys, time
mode, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((addr, port))
s.setblocking(False)
replies = {}

def drain():
    while True:
        try:
            b = s.recv(2048)
        except (BlockingIOError, ConnectionRefusedError):
            return
        k = "type%d/%d" % (b[0] if b else -1, len(b))
        replies[k] = replies.get(k, 0) + 1

def mac1key(pub):
    return hashlib.blake2s(b"mac1----" + pub).digest()

def initiation(key):
    m = bytes([1, 0, 0, 0]) + os.urandom(4 + 32 + 48 + 28)
    return m + hashlib.blake2s(m, digest_size=16, key=key).digest() + bytes(16)

if mode == "mac1":
    key = mac1key(base64.b64decode(sys.argv[5]))
sizes = [0, 1, 4, 15, 16, 31, 32, 33, 47, 48, 63, 64, 65, 91, 92, 93,
         147, 148, 149, 1440, 1500, 1600]
sent = 0
for i in range(count):
    if mode == "junk":
        n = random.choice(sizes) if i % 3 == 0 else random.randint(0, 1600)
        b = bytearray(os.urandom(n))
        if i % 3 == 0 and n >= 4:
            b[0] = random.randint(1, 4)
            b[1:4] = b"\0\0\0"
        b = bytes(b)
    elif mode == "wrongmac":
        b = initiation(mac1key(os.urandom(32)))
    else:
        b = initiation(key)
    for tries in range(100):
        try:
            s.send(b)
            sent += 1
            break
        except BlockingIOError:
            drain()
            time.sleep(0.001)
        except ConnectionRefusedError:
            break
    if i % 64 == 0:
        drain()
end = time.monotonic() + 0.5
while time.monotonic() < end:
    drain()
    time.sleep(0.02)
print("sent", sent, "replies", sum(replies.values()),
      " ".join("%s=%d" % kv for kv in sorted(replies.items())))
EOF

# 1. A wireguard-go with a key vpnd does not know, in C, trying hard.
# C counts every datagram from vpnd's port, whoever it is addressed to.
ip netns exec "$NSC" nft -f - <<'NFT' || bail "nft counter in C"
table inet cnt {
	counter fromb { }
	chain in {
		type filter hook input priority -10; policy accept;
		ip saddr 10.98.0.2 udp sport 51820 counter name fromb
	}
}
NFT
fromb() {
	ip netns exec "$NSC" nft list counter inet cnt fromb |
	    awk '/packets/ { print $2 }'
}
wggo_start "$NSC" "$WGC"
ip netns exec "$NSC" wg set "$WGC" private-key "$E2E_TMP/c.key" \
    peer "$(pub_of b)" allowed-ips 10.200.0.0/24 endpoint "10.98.0.2:$PORT"
ip -n "$NSC" addr add 10.200.0.3/24 dev "$WGC"
ip -n "$NSC" link set "$WGC" up
! ip netns exec "$NSC" ping -c 3 -i 0.3 -W 1 -q 10.200.0.1 >/dev/null 2>&1
ok $? "unknown key: pings from C get no answer"
hs=$(ip netns exec "$NSC" wg show "$WGC" latest-handshakes | cut -f2)
is "$hs" 0 "unknown key: wireguard-go in C never completed a handshake"
ip netns exec "$NSC" wg show "$WGC" transfer | awk '{print $2}' >"$E2E_TMP/crx"
is "$(cat "$E2E_TMP/crx")" 0 "unknown key: wireguard-go got nothing for that peer"
is "$(fromb)" 0 "unknown key: no datagram at all from vpnd's port reached C"

# 2. Initiations with MAC1 for another responder: dropped, never answered.
ip netns exec "$NSC" timeout 30 "$PY" "$E2E_TMP/hostile.py" wrongmac \
    10.98.0.2 "$PORT" 2000 >"$E2E_TMP/wrongmac.out" 2>&1
ok $? "2000 initiations with a wrong MAC1 sent"
grep -q "^sent 2000 " "$E2E_TMP/wrongmac.out"
ok $? "wrongmac: all 2000 datagrams left C (none refused)"
diag "$(cat "$E2E_TMP/wrongmac.out")"
grep -q "replies 0 " "$E2E_TMP/wrongmac.out"
ok $? "wrong MAC1: no reply at all"

# 3 and 4 run while A pings through the tunnel.
ip netns exec "$NSA" ping -c 200 -i 0.02 -W 1 -q 10.200.0.1 \
    >"$E2E_TMP/ping.out" 2>&1 &
PINGPID=$!
E2E_PIDS="$E2E_PIDS $PINGPID"

# 3. Valid MAC1, garbage inside: vpnd must go under load and answer with
# cookie replies (64 bytes, type 3), never with a handshake response.
ip netns exec "$NSC" timeout 30 "$PY" "$E2E_TMP/hostile.py" mac1 \
    10.98.0.2 "$PORT" 3000 "$(pub_of b)" >"$E2E_TMP/mac1.out" 2>&1
ok $? "3000 initiations with a valid MAC1 sent"
grep -q "^sent 3000 " "$E2E_TMP/mac1.out"
ok $? "mac1: all 3000 datagrams left C (none refused)"
diag "$(cat "$E2E_TMP/mac1.out")"
grep -q "type3/64=" "$E2E_TMP/mac1.out"
ok $? "under load: vpnd answered with cookie replies"
# Past 100 counted between two of the control thread's ticks the device
# is under load at once (not at the next tick, by when a fast burst has
# all been answered the expensive way): nearly all get a cookie.
ncookie=$(sed -n 's/.*type3\/64=\([0-9]*\).*/\1/p' "$E2E_TMP/mac1.out")
[ "${ncookie:-0}" -ge 2400 ]
ok $? "under load at once: ${ncookie:-0} of 3000 answered with a cookie"
[ "$(fromb)" -gt 0 ]
ok $? "C's counter saw those replies (so its 0 above meant nothing came)"
! grep -q "type2/" "$E2E_TMP/mac1.out"
ok $? "garbage initiations: never a handshake response"

# 4. 20000 junk datagrams.
ip netns exec "$NSC" timeout 30 "$PY" "$E2E_TMP/hostile.py" junk \
    10.98.0.2 "$PORT" 20000 >"$E2E_TMP/junk.out" 2>&1
ok $? "20000 junk datagrams sent"
grep -q "^sent 20000 " "$E2E_TMP/junk.out"
ok $? "junk: all 20000 datagrams left C (none refused)"
diag "$(cat "$E2E_TMP/junk.out")"
! grep -q "type[124]/" "$E2E_TMP/junk.out"
ok $? "junk: never answered with a handshake or data message"

wait "$PINGPID"
read -r tx rx <<EOF
$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' \
    "$E2E_TMP/ping.out")
EOF
diag "ping during the floods: ${tx:-?} sent, ${rx:-?} received"
[ -n "${rx:-}" ] && [ "$rx" -ge $((tx * 3 / 4)) ]
ok $? "meanwhile: ping through the tunnel kept working"

# Afterwards.
all_alive
ok $? "afterwards: all four vpnd processes alive"
timeout 2 "$VPNCTL" -s "$(sock_of b)" -j status >"$E2E_TMP/status" 2>&1
ok $? "afterwards: vpnd answers status"
"$PY" - "$E2E_TMP/status" "$(pub_of a)" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
peers = st["peers"]
ok = (st["connected"] and len(peers) == 1 and
      peers[0]["publicKey"] == sys.argv[2] and
      peers[0]["endpoint"].startswith("10.99.0.1:"))
sys.exit(0 if ok else 1)
EOF
ok $? "afterwards: one peer, A, still at its own endpoint (no roaming to C)"
ping_ok "$NSA" 10.200.0.1
ok $? "afterwards: ping A -> B"
ping_ok "$NSB" 10.200.0.2
ok $? "afterwards: ping B -> A"

# The flood is over: vpnd says so, and A's fresh handshake completes.
load_log() {
	cat "$E2E_TMP/b/out" "$E2E_TMP/b/log" 2>/dev/null
}
load_log | grep -q "under load ("
ok $? "the flood put vpnd under load (its log says so)"
wait_for 100 sh -c "cat '$E2E_TMP/b/out' '$E2E_TMP/b/log' 2>/dev/null |
    grep -q 'no longer under load'"
ok $? "after the flood vpnd logs that it is no longer under load"
# and it is so: valid-mac1 initiations get no cookie reply (nor anything:
# garbage inside) -- not only the log line
ip netns exec "$NSC" timeout 10 "$PY" "$E2E_TMP/hostile.py" mac1 \
    10.98.0.2 "$PORT" 5 "$(pub_of b)" >"$E2E_TMP/after.out" 2>&1
grep -q "replies 0 " "$E2E_TMP/after.out"
ok $? "no longer under load: no cookie reply ($(cat "$E2E_TMP/after.out"))"
a_handshake() {
	[ "$(ip netns exec "$NSA" wg show "$WGA" latest-handshakes |
	    cut -f2)" -gt 0 ]
}
ip netns exec "$NSA" wg set "$WGA" peer "$(pub_of b)" remove
ip netns exec "$NSA" wg set "$WGA" peer "$(pub_of b)" \
    allowed-ips 10.200.0.1/32 endpoint "10.99.0.2:$PORT"
! a_handshake
ok $? "A's peer is new: no handshake yet"
ip netns exec "$NSA" ping -c 1 -W 1 -q 10.200.0.1 >/dev/null 2>&1
wait_for 100 a_handshake
ok $? "a fresh handshake from A completes after the flood"
ping_ok "$NSA" 10.200.0.1
ok $? "and carries traffic: ping A -> B"
hs=$(ip netns exec "$NSC" wg show "$WGC" latest-handshakes | cut -f2)
is "$hs" 0 "afterwards: C still has no handshake"

# 6. A flood, then the tunnel down at once (still under load) and up
# again: the new data path starts with no load judgement of the old one
ip netns exec "$NSC" timeout 30 "$PY" "$E2E_TMP/hostile.py" mac1 \
    10.98.0.2 "$PORT" 500 "$(pub_of b)" >"$E2E_TMP/flood2.out" 2>&1
grep -q "type3/64=" "$E2E_TMP/flood2.out"
ok $? "a second flood: under load again"
ctl b -t 10 down >/dev/null 2>&1
ok $? "the tunnel down at once"
# (vpnctl up needs an endpoint: A's)
{ cat "$E2E_TMP/b.conf"; echo "Endpoint = 10.99.0.1:$(ip netns exec \
    "$NSA" wg show "$WGA" listen-port)"; } \
    >"$E2E_TMP/b2.conf"
chmod 600 "$E2E_TMP/b2.conf"
out=$(ctl b -t 10 up "$E2E_TMP/b2.conf" 2>&1)
ok $? "and up again ($out)"
# probes over its first ticks (each run listens 0.5 s for replies): a
# cookie reply in any would mean under load
for i in 1 2 3; do
	ip netns exec "$NSC" timeout 10 "$PY" "$E2E_TMP/hostile.py" mac1 \
	    10.98.0.2 "$PORT" 5 "$(pub_of b)"
done >"$E2E_TMP/fresh.out" 2>&1
[ "$(grep -c "replies 0 " "$E2E_TMP/fresh.out")" -eq 3 ]
ok $? "the new data path is not under load ($(tr '\n' ' ' \
    <"$E2E_TMP/fresh.out"))"

e2e_done

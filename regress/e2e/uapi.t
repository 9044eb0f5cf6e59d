#!/bin/bash
# uapi.t -- wg(8) on vpnd's interface, over the WireGuard UAPI socket.
#
# A vpnd client in A connected to a headless vpnd server in B. wg(8) reads
# only /var/run/wireguard: each wg and each vpnd that should use the
# default path runs in a private mount namespace with /run bound to a
# directory of the test, so nothing reaches the host's /var/run/wireguard.
# Checked: wg show, wg show dump and wg showconf (keys, endpoint, allowed
# IPs, keepalive, a handshake, traffic both ways); wg set: allowed IPs of
# the peer widened (status and routes follow, traffic goes on), a second
# peer added then removed (routes follow), listen-port changed (the tunnel
# is rebuilt on the new port and carries traffic again), wg syncconf
# from a file (allowed IPs follow it), a route the
# parent's policy refuses and fwmark 254 answered EINVAL with nothing
# changed, a set with no tunnel up answered ENODEV, a deactivate undoing
# what sets added; malformed requests answered
# with an errno; the directory 0700 and the socket 0600; a non-root caller
# refused by netmgr even when the file modes would let it in; a second
# vpnd with the same interface name in another namespace serves no UAPI
# and says why, and leaves the first one's socket alone; the socket gone
# after SIGTERM, left by kill -9 and removed as stale by the next start;
# and once with the default directory.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init uapi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PORT=51820
IF=vpnu$$
IF=${IF:0:15}
RUN=$E2E_TMP/run
W=$RUN/wireguard
mkdir -p "$RUN"
NSA=$(ns_add a)
NSB=$(ns_add b)
NSC=$(ns_add c)
veth "$NSA" va "$NSB" vb
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb

keypair a
keypair b
umask 077
wg genpsk >"$E2E_TMP/psk"

cat >"$E2E_TMP/s.conf" <<EOC
[Interface]
PrivateKey = $(key_of b)
Address = 10.200.0.1/24
ListenPort = $PORT

[Peer]
PublicKey = $(pub_of a)
PresharedKey = $(cat "$E2E_TMP/psk")
AllowedIPs = 10.200.0.2/32
EOC
cat >"$E2E_TMP/c.conf" <<EOC
[Interface]
PrivateKey = $(key_of a)
Address = 10.200.0.2/24

[Peer]
PublicKey = $(pub_of b)
PresharedKey = $(cat "$E2E_TMP/psk")
Endpoint = 10.99.0.2:$PORT
AllowedIPs = 10.200.0.1/32, fd00:200::/64
PersistentKeepalive = 25
EOC
chmod 600 "$E2E_TMP/s.conf" "$E2E_TMP/c.conf"

# in NS, in a mount namespace of its own where /run is the test's $RUN
# (wg(8) looks only in /var/run/wireguard)
inrun() {
	local ns=$1
	shift
	ip netns exec "$ns" unshare -m --propagation private sh -c \
	    'mount --bind "$0" /run && exec "$@"' "$RUN" "$@"
}

wgA() {
	inrun "$NSA" timeout 10 wg "$@"
}

# uapi_raw REQUEST: the reply of the socket to one raw request
uapi_raw() {
	timeout 10 "$PY" - "$W/$IF.sock" "$1" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
while True:
	d = s.recv(65536)
	if not d:
		break
	out += d
sys.stdout.write(out.decode(errors="replace"))
EOP
}

connected() {
	ctl "$1" -j status | grep -q '"connected":true'
}

vpnd_start s "$NSB" -f "$E2E_TMP/s.conf" -i "$IF"
ok $? "server vpnd in B (same interface name, its own UAPI directory)"
vpnd_start c "$NSA" -i "$IF" -W "$W"
ok $? "client vpnd in A"
ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null 2>&1
ok $? "client connected"
ping_first 20 "$NSA" 10.200.0.1
ok $? "traffic through the tunnel"
wait_for 50 connected s

is "$(stat -c %a "$W")" 700 "UAPI directory is 0700"
is "$(stat -c %a:%u "$W/$IF.sock")" 600:0 "UAPI socket is 0600, root's"

wgA show "$IF" >"$E2E_TMP/show" 2>&1
ok $? "wg show $IF"
grep -q "public key: $(pub_of a)" "$E2E_TMP/show"
ok $? "wg show: our public key"
grep -q "peer: $(pub_of b)" "$E2E_TMP/show"
ok $? "wg show: the peer"
grep -q "endpoint: 10.99.0.2:$PORT" "$E2E_TMP/show"
ok $? "wg show: the endpoint"
grep -q "allowed ips: 10.200.0.1/32, fd00:200::/64" "$E2E_TMP/show"
ok $? "wg show: the allowed IPs"
grep -q "latest handshake: " "$E2E_TMP/show"
ok $? "wg show: a handshake"
grep -q "persistent keepalive: every 25 seconds" "$E2E_TMP/show"
ok $? "wg show: the keepalive"
grep -q "preshared key: (hidden)" "$E2E_TMP/show"
ok $? "wg show: a preshared key, hidden"
[ $? = 0 ] || sed 's/^/# /' "$E2E_TMP/show"

wgA show "$IF" dump >"$E2E_TMP/dump" 2>&1
ok $? "wg show $IF dump"
read -r priv pub lport fwmark <<<"$(sed -n 1p "$E2E_TMP/dump")"
is "$priv" "$(key_of a)" "dump: the private key"
is "$pub" "$(pub_of a)" "dump: the public key"
is "$fwmark" 0x7670 "dump: the data plane's fwmark"
read -r ppub psk ep aips hs rx tx ka <<<"$(sed -n 2p "$E2E_TMP/dump")"
is "$ppub" "$(pub_of b)" "dump: peer public key"
is "$psk" "$(cat "$E2E_TMP/psk")" "dump: peer preshared key"
is "$ep" "10.99.0.2:$PORT" "dump: peer endpoint"
is "$aips" "10.200.0.1/32,fd00:200::/64" "dump: peer allowed IPs"
[ "${hs:-0}" -gt 0 ]
ok $? "dump: latest handshake > 0 ($hs)"
[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]
ok $? "dump: transfer both ways (rx $rx, tx $tx)"
is "$ka" 25 "dump: keepalive"
is "$(wc -l <"$E2E_TMP/dump")" 2 "dump: one peer"

# What the Prometheus WireGuard exporters run: every interface in the
# directory, each line prefixed by its name.
wgA show all dump >"$E2E_TMP/alldump" 2>&1
ok $? "wg show all dump"
is "$(sed "s/^$IF\t//" "$E2E_TMP/alldump" | cut -f1-4,8)" \
    "$(cut -f1-4,8 "$E2E_TMP/dump")" \
    "show all dump: the interface's dump, prefixed by its name"
is "$(wgA show interfaces 2>&1)" "$IF" "wg show interfaces: vpnd's interface"

wgA showconf "$IF" >"$E2E_TMP/showconf" 2>&1
ok $? "wg showconf $IF"
grep -qx "PrivateKey = $(key_of a)" "$E2E_TMP/showconf" &&
    grep -qx "PublicKey = $(pub_of b)" "$E2E_TMP/showconf" &&
    grep -qx "Endpoint = 10.99.0.2:$PORT" "$E2E_TMP/showconf" &&
    grep -qx "AllowedIPs = 10.200.0.1/32, fd00:200::/64" \
    "$E2E_TMP/showconf"
ok $? "showconf: keys, endpoint, allowed IPs"

# set: refused whole when the parent's policy would refuse a route
wgA set "$IF" peer "$(pub_of b)" allowed-ips 10.201.0.0/24,169.254.169.254/32 \
    >"$E2E_TMP/set" 2>&1
[ $? != 0 ] && grep -q "Invalid argument" "$E2E_TMP/set"
ok $? "wg set with a link-local route: refused, EINVAL"
ctl c -j status | grep -q '10.201.0.0'
[ $? != 0 ]
ok $? "... and the tunnel is unchanged"
is "$(uapi_raw 'set=1\nfwmark=254\n\n')" "errno=-22" \
    "set fwmark=254 (it would name main as the rules' table): errno=-22"
status_has() { ctl c -j status | grep -q "$1"; }
no_status() { ! ctl c -j status | grep -q "$1"; }
route_in() { ip -n "$NSA" route show "$1" | grep -q "dev $IF"; }
no_route() { ! ip -n "$NSA" route show "$1" | grep -q "dev $IF"; }

# set: the peer's allowed IPs widened
wgA set "$IF" peer "$(pub_of b)" allowed-ips 10.200.0.1/32,fd00:200::/64,10.201.0.0/24
ok $? "wg set peer allowed-ips: accepted"
wait_for 50 status_has '10.201.0.0/24'
ok $? "... status shows the new allowed IPs"
wait_for 50 route_in 10.201.0.0/24
ok $? "... and the route is there"
wgA show "$IF" allowed-ips | grep -q '10.201.0.0/24'
ok $? "... wg show too"
ping_first 20 "$NSA" 10.200.0.1
ok $? "... traffic goes on"
connected c
ok $? "... still connected"

# set: a second peer, then its removal
keypair n
wgA set "$IF" peer "$(pub_of n)" endpoint 10.99.0.9:51820 allowed-ips 10.202.0.0/24
ok $? "wg set: a second peer added"
wait_for 50 route_in 10.202.0.0/24
ok $? "... its route is there"
is "$(wgA show "$IF" peers | wc -l)" 2 "... wg show lists two peers"
wait_for 50 status_has "$(pub_of n)"
ok $? "... and status lists it"
wgA set "$IF" peer "$(pub_of n)" remove
ok $? "wg set peer remove: accepted"
wait_for 50 no_route 10.202.0.0/24
ok $? "... its route is gone"
wait_for 50 no_status "$(pub_of n)"
ok $? "... and status no longer lists it"

# set: listen-port rebuilds the tunnel on the new port
wgA set "$IF" listen-port 40123
ok $? "wg set listen-port 40123: accepted"
lport() { [ "$(wgA show "$IF" listen-port 2>/dev/null)" = 40123 ]; }
wait_for 100 lport
ok $? "... wg show reports port 40123"
# wg show answers from the configuration: the socket follows a moment later
wait_for 50 sh -c "ip netns exec $NSA ss -uanH 'sport = :40123' | grep -q 40123"
ok $? "... vpnd listens there"
ping_first 30 "$NSA" 10.200.0.1
ok $? "... and the rebuilt tunnel carries traffic"
wait_for 50 route_in 10.201.0.0/24
ok $? "... with the allowed IPs the set gave it"

# wg syncconf: the file's peer list, applied as a difference
cat >"$E2E_TMP/sync.conf" <<EOC
[Interface]
PrivateKey = $(key_of a)
ListenPort = 40123

[Peer]
PublicKey = $(pub_of b)
PresharedKey = $(cat "$E2E_TMP/psk")
Endpoint = 10.99.0.2:$PORT
AllowedIPs = 10.200.0.1/32, 10.203.0.0/24
PersistentKeepalive = 25
EOC
wgA syncconf "$IF" "$E2E_TMP/sync.conf"
r=$?
ok $r "wg syncconf: accepted"
[ $r = 0 ] || grep 'uapi' "$E2E_TMP/c/log/vpnd.log" | tail -3 | sed 's/^/# /'
wait_for 50 route_in 10.203.0.0/24
ok $? "... the file's new allowed IPs are routed"
wait_for 50 no_route 10.201.0.0/24
ok $? "... those it left out are not"
ping_first 20 "$NSA" 10.200.0.1
ok $? "... traffic goes on"
is "$(uapi_raw 'set=1\nprivate_key=zz\n\n')" "errno=-22" \
    "set with bad hex: errno=-22"
is "$(uapi_raw 'get=1\nfoo=1\n\n')" "errno=-22" \
    "get with a key: errno=-22"
is "$(uapi_raw 'get=1\x00\n\n')" "errno=-22" "a NUL byte: errno=-22"
is "$(uapi_raw "$(printf 'get=%0400d' 1)\n")" "errno=-90" \
    "an overlong line: errno=-90 (EMSGSIZE)"
connected c
ok $? "client still connected after the malformed requests"

# a non-root caller, let in by the file modes: refused by netmgr
chmod 755 "$RUN" "$W"
chmod 666 "$W/$IF.sock"
inrun "$NSA" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    timeout 10 wg show "$IF" >"$E2E_TMP/nobody" 2>&1
[ $? != 0 ] && ! grep -q "$(pub_of b)" "$E2E_TMP/nobody"
ok $? "a non-root caller gets nothing"
wait_for 30 grep -q "uapi: refused a caller with uid $(id -u nobody)" \
    "$E2E_TMP/c/log/vpnd.log"
ok $? "... and is logged"
chmod 700 "$W"
chmod 600 "$W/$IF.sock"

# the same interface name in another namespace, the same directory
vpnd_start x "$NSC" -i "$IF" -W "$W"
ok $? "a second vpnd with the same interface name starts"
wait_for 30 grep -q "$W/$IF.sock is served by another process" \
    "$E2E_TMP/x/log/vpnd.log"
ok $? "... it serves no UAPI and says why"
kill -TERM "$VPND_PID_x"
wait_gone "$VPND_PID_x" 100
ok $? "... and stops on SIGTERM"
wgA show "$IF" dump 2>/dev/null | head -1 | grep -q "$(pub_of a)"
ok $? "the first vpnd's socket is still served"

ctl c down >/dev/null 2>&1
wait_for 50 no_route 10.203.0.0/24
ok $? "a deactivate removes the route wg syncconf added"
wait_for 50 sh -c "! ip -n $NSA link show $IF >/dev/null 2>&1"
ok $? "... and the interface"

kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 100
ok $? "client vpnd stops on SIGTERM"
[ ! -e "$W/$IF.sock" ]
ok $? "UAPI socket removed on SIGTERM"

vpnd_start c "$NSA" -i "$IF" -W "$W"
ok $? "client vpnd restarted"
wait_for 50 test -S "$W/$IF.sock"
ok $? "UAPI socket back"
NM=$(child_of "$VPND_PID_c" netmgr)
kill -KILL "$VPND_PID_c"
wait_gone "$VPND_PID_c" 100 && wait_gone "$NM" 100
ok $? "kill -9: the parent and netmgr are gone"
test -S "$W/$IF.sock"
ok $? "... the socket is left behind"
vpnd_start c "$NSA" -i "$IF" -W "$W"
ok $? "client vpnd started again"
wait_for 50 grep -q "removing the stale $W/$IF.sock" "$E2E_TMP/c/log/vpnd.log"
ok $? "... removed the stale socket"
wgA show "$IF" >"$E2E_TMP/show2" 2>&1
ok $? "wg show works on the new socket (no tunnel: an empty interface)"
! grep -q "peer:" "$E2E_TMP/show2"
ok $? "... with no peers"
wgA set "$IF" listen-port 1 >"$E2E_TMP/set2" 2>&1
[ $? != 0 ] && grep -q "No such device" "$E2E_TMP/set2"
ok $? "wg set with no tunnel up: ENODEV"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 100
[ ! -e "$W/$IF.sock" ]
ok $? "removed again on SIGTERM"

# the default directory, /var/run/wireguard, inside the mount namespace
D=$E2E_TMP/d
mkdir -p "$D"
ip netns exec "$NSC" unshare -m --propagation private sh -c \
    'mount --bind "$0" /run && exec "$@"' "$RUN" \
    "$VPND" -d -s "$D/sock" -L "$D/log" -S "$D/state" \
    -R "$D/resolv.conf" -i "$IF" >>"$D/out" 2>&1 &
DPID=$!
E2E_PIDS="$E2E_PIDS $DPID"
wait_for 50 test -S "$W/$IF.sock"
ok $? "default directory: $IF.sock in /var/run/wireguard"
inrun "$NSC" timeout 10 wg show "$IF" >/dev/null 2>&1
ok $? "... wg show answers"
kill -TERM "$DPID"
wait_gone "$DPID" 100
[ ! -e "$W/$IF.sock" ]
ok $? "... and it is removed on SIGTERM"

e2e_done

#!/bin/bash
# uapiset.t -- wg set (UAPI set=1) on a full tunnel with its kill switch:
# what a set must not leave behind.
#
# A vpnd client in A (a full tunnel: 0.0.0.0/0 and 10.210.0.0/24 to the
# server, the kill switch on) connected to a headless vpnd server in B.
# Checked: an allowed IP given to a second peer moves there (wg show: the
# first peer no longer has it) and the first does not get it back when
# the second is removed; a listen port held by another socket: the set
# cannot be carried out, and the tunnel comes back as it was before it
# (its port, its peer, traffic) with the kill switch kept; a new private key: the public key
# in wg show follows it; fwmark changed by a set, then kill -9
# and a restart: nothing of vpnd's left (policy rules of either mark,
# routes, nft), nothing else removed.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init uapiset
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PORT=51820
IF=vpns$$
IF=${IF:0:15}
RUN=$E2E_TMP/run
W=$RUN/wireguard
mkdir -p "$RUN"
NSA=$(ns_add a)
NSB=$(ns_add b)
veth "$NSA" va "$NSB" vb
ip -n "$NSA" addr add 10.99.0.1/24 dev va
ip -n "$NSB" addr add 10.99.0.2/24 dev vb
ip -n "$NSB" addr add 10.99.1.2/24 dev vb
ip -n "$NSA" route add default via 10.99.0.2
# not vpnd's: a rule and a route a restart must leave alone
ip -n "$NSA" rule add fwmark 0x51 table 81 pref 1000
ip -n "$NSA" route add 10.98.0.0/24 via 10.99.0.2 table 81

keypair a
keypair b
keypair n
keypair k
umask 077
cat >"$E2E_TMP/s.conf" <<EOC
[Interface]
PrivateKey = $(key_of b)
Address = 10.200.0.1/24
ListenPort = $PORT

[Peer]
PublicKey = $(pub_of a)
AllowedIPs = 10.200.0.2/32
EOC
cat >"$E2E_TMP/c.conf" <<EOC
[Interface]
PrivateKey = $(key_of a)
Address = 10.200.0.2/24
ListenPort = 40100

[Peer]
PublicKey = $(pub_of b)
Endpoint = 10.99.0.2:$PORT
AllowedIPs = 0.0.0.0/0, 10.210.0.0/24
PersistentKeepalive = 25
EOC
chmod 600 "$E2E_TMP/s.conf" "$E2E_TMP/c.conf"

inrun() {
	local ns=$1
	shift
	ip netns exec "$ns" unshare -m --propagation private sh -c \
	    'mount --bind "$0" /run && exec "$@"' "$RUN" "$@"
}
wgA() { inrun "$NSA" timeout 10 wg "$@"; }
connected() { ctl c -j status | grep -q '"connected":true'; }
aips_of() { wgA show "$IF" allowed-ips | awk -v k="$1" '$1 == k { $1 = ""; print }'; }
in_log() { grep -q "$1" "$E2E_TMP/c/log/vpnd.log"; }

vpnd_start s "$NSB" -f "$E2E_TMP/s.conf" -i "$IF"
ok $? "server vpnd in B"
vpnd_start c "$NSA" -i "$IF" -W "$W"
ok $? "client vpnd in A"
ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null 2>&1
ok $? "client connected (full tunnel, kill switch)"
ping_first 20 "$NSA" 10.200.0.1
ok $? "traffic through the tunnel"
ip netns exec "$NSA" nft list table inet vpnd >/dev/null 2>&1
ok $? "the kill switch is up"

# an allowed IP moved to a second peer, then that peer removed
wgA set "$IF" peer "$(pub_of n)" endpoint 10.99.0.9:51820 \
    allowed-ips 10.210.0.0/24
ok $? "wg set: 10.210.0.0/24 given to a second peer"
moved() { [ "$(aips_of "$(pub_of n)")" = " 10.210.0.0/24" ]; }
wait_for 50 moved
ok $? "... the second peer has it"
is "$(aips_of "$(pub_of b)")" " 0.0.0.0/0" "... and the first one no longer"
wgA set "$IF" peer "$(pub_of n)" remove
ok $? "wg set: the second peer removed"
gone_n() { ! wgA show "$IF" peers | grep -q "$(pub_of n)"; }
wait_for 50 gone_n
ok $? "... it is gone"
is "$(aips_of "$(pub_of b)")" " 0.0.0.0/0" \
    "... and the first peer did not get 10.210.0.0/24 back"
ping_first 20 "$NSA" 10.200.0.1
ok $? "traffic goes on"

# a listen port held by someone else: the set comes undone
ip netns exec "$NSA" "$PY" -c '
import socket, time
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("0.0.0.0", 40555))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
b.bind(("::", 40555))
print("bound", flush=True)
time.sleep(120)' >"$E2E_TMP/hog.out" 2>&1 &
HOG=$!
E2E_PIDS="$E2E_PIDS $HOG"
wait_for 50 grep -q bound "$E2E_TMP/hog.out"
ok $? "another process holds UDP port 40555 in A"
out=$(wgA set "$IF" listen-port 40555 2>&1)
r=$?
[ "$r" -ne 0 ]
ok $? "wg set listen-port 40555: fails, once the rebuild is refused (exit $r)"
case $out in *"Address already in use"*) true ;; *) false ;; esac
ok $? "... with the parent's errno: $(printf '%s' "$out" | head -c 120)"
in_log "uapi: the set failed (.*40555.*); back to the configuration before it"
ok $? "... and was undone before the reply (logged)"
wait_for 100 connected
ok $? "... connected again"
is "$(wgA show "$IF" listen-port)" 40100 "... on the port it had before"
is "$(aips_of "$(pub_of b)")" " 0.0.0.0/0" "... with the peer it had"
ping_first 30 "$NSA" 10.200.0.1
ok $? "... carrying traffic"
ip netns exec "$NSA" nft list table inet vpnd >/dev/null 2>&1
ok $? "... under the kill switch"
! in_log "tunnel failed"
ok $? "... the tunnel never failed"
kill "$HOG"

# a new private key: the public key shown follows it (status names
# only the peers)
wgA set "$IF" private-key "$E2E_TMP/k.key"
ok $? "wg set private-key"
newpub() { [ "$(wgA show "$IF" public-key)" = "$(pub_of k)" ]; }
wait_for 100 newpub
ok $? "... wg show: the new public key"

# fwmark changed by a set, then kill -9: a restart removes exactly ours
# (EBUSY while the rebuild for the new key is under way: asked again)
wait_for 100 wgA set "$IF" fwmark 0x5151
ok $? "wg set fwmark 0x5151"
markrule() { ip -n "$NSA" rule show | grep -q 'not from all fwmark 0x5151 lookup 20817'; }
wait_for 100 markrule
ok $? "... the policy rules follow the new mark (table 0x5151 = 20817)"
vpnd_kill9 c parent
ok $? "kill -9 of the client vpnd's parent (its children follow)"
ip -n "$NSA" rule show | grep -q 'fwmark 0x5151'
ok $? "... the rules with the set's mark are left behind"
vpnd_start c "$NSA" -i "$IF" -W "$W"
ok $? "client vpnd restarted"
left=$(ours_left "$NSA" "$IF"; ip -n "$NSA" rule show | grep -E 'fwmark 0x5151|lookup 20817')
is "$left" "" "... nothing of vpnd's left (rules of the set's mark, routes, nft, link)"
ip -n "$NSA" rule show | grep -q 'from all fwmark 0x51 lookup 81'
ok $? "... the host's own rule is still there"
ip -n "$NSA" route show table 81 | grep -q 10.98.0.0/24
ok $? "... and its route"
ip -n "$NSA" route show default | grep -q 'via 10.99.0.2 dev va'
ok $? "... and the main table's default route"

e2e_done

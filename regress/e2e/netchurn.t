#!/bin/bash
# netchurn.t -- only a real move of the underlay counts as a network
# change. vpnd runs in a namespace whose uplink carries an IPv6 address
# and a default route; the parent learns them at start. Then noise that
# is no move: the address's lifetime refreshed fifty times (what every
# router advertisement does), a container's veth pair coming, going up
# and going, the uplink's promiscuous flag toggled. Then one real move:
# the default route goes to another router. The parent must tell
# tunworker exactly once, and for the route alone (its debug line
# "underlay changed (0x1)"); before, every refresh was a re-handshake.
# A message sent to the watcher's netlink port by a local process is not
# read (a forged RTM_NEWROUTE would count as a route change).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 60 "$@"
e2e_init netchurn
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

C=$(ns_add c)
R=$(ns_add r)
veth "$C" eth0 "$R" eth0
ip -n "$C" addr add 10.0.0.1/24 dev eth0
ip -n "$C" -6 addr add 2001:db8::1/64 dev eth0 nodad valid_lft 600 \
    preferred_lft 600 || bail "addr add"
ip -n "$C" route add default via 10.0.0.254 dev eth0 || bail "route"

vpnd_start c "$C" -vv || bail "vpnd did not start"
changed() {
	out_since c "$1" | grep -c 'underlay changed'
}
lines=$(out_lines c)

# Noise: no move of the underlay.
i=0
while [ "$i" -lt 50 ]; do
	ip -n "$C" -6 addr change 2001:db8::1/64 dev eth0 nodad \
	    valid_lft $((600 + i)) preferred_lft 600 || bail "addr change"
	i=$((i + 1))
done
ip -n "$C" link add vx0 type veth peer name vx1 || bail "veth"
ip -n "$C" link set vx0 up
ip -n "$C" link set vx1 up
ip -n "$C" link del vx0
ip -n "$C" link set eth0 promisc on
ip -n "$C" link set eth0 promisc off

# A local process writes a forged RTM_NEWROUTE (a new IPv4 default route
# of the main table) to every netlink port of the parent's.
PARENT=$(eval echo "\$VPND_PID_c")
ip netns exec "$C" "$PY" - "$PARENT" >"$E2E_TMP/forge.out" 2>&1 <<'PYEOF'
import os, socket, struct, sys
# the parent's rtnetlink sockets: its descriptors' inodes in /proc/net/netlink
inodes = set()
d = "/proc/%s/fd" % sys.argv[1]
for fd in os.listdir(d):
    try:
        t = os.readlink(os.path.join(d, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
ports = []
for line in open("/proc/net/netlink").read().splitlines()[1:]:
    f = line.split()
    if f[1] == "0" and f[9] in inodes:
        ports.append(int(f[2]))
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.bind((0, 0))
# rtmsg: family AF_INET, dst_len 0, table main, proto boot, scope
# universe, type unicast; RTA_OIF 2, RTA_GATEWAY 10.0.0.99
rtm = struct.pack("BBBBBBBBI", 2, 0, 0, 0, 254, 3, 0, 1, 0)
attrs = struct.pack("HHI", 8, 4, 2) + struct.pack("HH4s", 8, 5,
    bytes([10, 0, 0, 99]))
body = rtm + attrs
msg = struct.pack("IHHII", 16 + len(body), 24, 0, 1, 0) + body
sent = 0
for p in ports:
    try:
        s.sendto(msg, (p, 0))
        sent += 1
    except OSError as e:
        print("send to %d: %s" % (p, e))
print("sent to %d of %d ports" % (sent, len(ports)))
sys.exit(0 if sent > 0 else 1)
PYEOF
ok $? "a forged RTM_NEWROUTE sent to the parent's netlink port: $(tail -1 "$E2E_TMP/forge.out")"

# The move.
ip -n "$C" route replace default via 10.0.0.253 dev eth0 || bail "replace"
wait_for 100 sh -c "[ \$(tail -n +$((lines + 1)) $E2E_TMP/c/out | grep -c 'underlay changed') -ge 1 ]"
ok $? "the move of the default route is told"
# The noise above came first; had it counted, its notification would
# already be in the log or in the same one with its bits.
out_since c "$lines" | grep 'underlay changed' | sed 's/^/# /'
is "$(changed "$lines")" 1 "told once"
out_since c "$lines" | grep -q 'underlay changed (0x1)'
ok $? "for the default route alone: refreshed lifetimes, another veth, a flag, a forged message are no move"

# An address that comes is a move again (5 s later, the gap after the last).
lines=$(out_lines c)
ip -n "$C" -6 addr add 2001:db8::2/64 dev eth0 nodad || bail "addr add 2"
wait_for 150 sh -c "tail -n +$((lines + 1)) $E2E_TMP/c/out | grep -q 'underlay changed (0x2)'"
ok $? "a new address is told"
[ "$E2E_FAIL" = 0 ] || sed "s/^/#   /" "$E2E_TMP/c/out"
e2e_done

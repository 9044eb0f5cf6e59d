#!/bin/sh
# demo.sh -- a vpnd tunnel between two network namespaces (`make demo`).
#
# Creates two namespaces joined by a veth pair, starts a vpnd in each --
# the "server" headless from a wg-quick file with ListenPort and no
# Endpoint, the "client" driven by `vpnctl up` -- shows the status, pings
# through the tunnel, shows the status again, and removes everything.
# Nothing outside the two namespaces is touched: the daemons get private
# sockets, logs, state and resolv.conf under a temporary directory.
# Needs root (network namespaces); `make demo` builds first.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${VPND_BUILD:-$TOP/build}
VPND=$BUILD/vpnd
VPNCTL=$BUILD/vpnctl
NS_S=vpnd-demo-server-$$
NS_C=vpnd-demo-client-$$
TMP=""
PIDS=""

say() {
	printf '\n== %s\n' "$*"
}

run() {
	printf '$ %s\n' "$*"
	"$@"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

cleanup() {
	set +e
	say "cleaning up"
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	for ns in $NS_C $NS_S; do
		ip netns del "$ns" 2>/dev/null && echo "removed namespace $ns"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}

[ "$(id -u)" = 0 ] || die "run as root (network namespaces need it)"
[ -x "$VPND" ] && [ -x "$VPNCTL" ] || die "no $VPND: run make first"
for t in ip wg ping; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing: run make deps"
done
sh "$TOP/scripts/mkuser.sh" || die "cannot create the _vpnd user"

trap cleanup EXIT
trap 'exit 1' INT TERM HUP
TMP=$(mktemp -d /tmp/vpnd-demo.XXXXXX) || die "mktemp"

say "two network namespaces joined by a veth pair"
run ip netns add "$NS_S" || die "ip netns add"
run ip netns add "$NS_C" || die "ip netns add"
run ip link add veth-s netns "$NS_S" type veth peer name veth-c \
    netns "$NS_C" || die "veth"
for ns in $NS_S $NS_C; do
	ip -n "$ns" link set lo up
done
run ip -n "$NS_S" addr add 192.0.2.1/24 dev veth-s
run ip -n "$NS_C" addr add 192.0.2.2/24 dev veth-c
ip -n "$NS_S" link set veth-s up
ip -n "$NS_C" link set veth-c up

say "keys and configurations (wg-quick format)"
umask 077
wg genkey >"$TMP/server.key"
wg pubkey <"$TMP/server.key" >"$TMP/server.pub"
wg genkey >"$TMP/client.key"
wg pubkey <"$TMP/client.key" >"$TMP/client.pub"
cat >"$TMP/server.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/server.key")
Address = 10.66.0.1/24
ListenPort = 51820

[Peer]
PublicKey = $(cat "$TMP/client.pub")
AllowedIPs = 10.66.0.2/32
EOF
cat >"$TMP/client.conf" <<EOF
[Interface]
PrivateKey = $(cat "$TMP/client.key")
Address = 10.66.0.2/32

[Peer]
PublicKey = $(cat "$TMP/server.pub")
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.66.0.0/24
PersistentKeepalive = 25
EOF
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/; s/^/    /' "$TMP/server.conf"
echo
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/; s/^/    /' "$TMP/client.conf"

# start_vpnd NAME NS [args]: vpnd in the foreground of a background job,
# every path private to the demo
start_vpnd() {
	name=$1
	ns=$2
	shift 2
	mkdir -p "$TMP/$name"
	ip netns exec "$ns" "$VPND" -d -s "$TMP/$name/sock" \
	    -L "$TMP/$name/log" -S "$TMP/$name/state" -W "$TMP/$name/wg" \
	    -R "$TMP/$name/resolv.conf" "$@" >"$TMP/$name/out" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	until "$VPNCTL" -s "$TMP/$name/sock" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			cat "$TMP/$name/out" >&2
			die "vpnd $name did not start"
		fi
		sleep 0.1
	done
}

say "server: vpnd in $NS_S, headless (-f server.conf)"
start_vpnd server "$NS_S" -f "$TMP/server.conf"
echo "started (pid ${PIDS##* })"

say "client: vpnd in $NS_C, driven by vpnctl"
start_vpnd client "$NS_C"
echo "started (pid ${PIDS##* })"
CTL="$VPNCTL -s $TMP/client/sock"

say "vpnctl up client.conf"
run $CTL up "$TMP/client.conf" || die "vpnctl up failed"

say "vpnctl status"
run $CTL status

say "ping the server through the tunnel"
run ip netns exec "$NS_C" ping -c 5 -i 0.2 10.66.0.1 || die "no ping"

say "vpnctl status (the transfer counters grew)"
run $CTL status

say "the server side (its own control socket)"
run "$VPNCTL" -s "$TMP/server/sock" status

say "vpnctl down"
run $CTL down
echo "demo: OK"

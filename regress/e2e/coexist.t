#!/bin/bash
# coexist.t -- one vpnd per network namespace. The kill switch (table
# inet vpnd), the policy rules 30319/30320 and route table 30320 have
# fixed names in a namespace, and a starting vpnd removes them as the
# leftovers of an earlier crash. A second vpnd started in the namespace
# of a running one, with paths of its own (so no pid file in common) --
# by root, or by an ordinary user from a cap_net_admin+ep copy -- must
# refuse to start, naming the running one, and leave the first's full
# tunnel and kill switch exactly in place: no datagram of C leaves
# outside the tunnel (counted in S), and the first still carries traffic.
# After the first stops (even by kill -9), a new one starts as usual;
# root's starts even when an ordinary user squats the lock's name.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init coexist

NRUSER="vpndco$$"
BIN="$E2E_TMP/bin"
HOMEDIR="$E2E_TMP/home"
HAVE_USER=0

no_user_procs() {
	! pgrep -u "$NRUSER" >/dev/null
}
co_cleanup() {
	e2e_cleanup
	if [ "$HAVE_USER" = 1 ]; then
		wait_for 50 no_user_procs
		userdel "$NRUSER" 2>/dev/null
	fi
}
trap co_cleanup EXIT

WG="w$$o"
client_server "$WG"
direct_counter

vpnd_start a "$C" -D none || bail "vpnd a did not start"
out=$(client -t 15 "$(sock_of a)" \
    "send:$(mozconf cli srv 51820 10.0.0.2 10.8.0.2/32 fd00:8::2/128 \
    0.0.0.0/0,::/0)" expect:connected\|error)
is "$(echo "$out" | jget type)" connected "a: a full tunnel connects"
BEFORE=$(ours_left "$C")
echo "$BEFORE" | grep -q "nft: table inet vpnd"
ok $? "a: the kill switch is in place"

# second TAG DESC CMD...: CMD (a second vpnd in C) exits 1 at once,
# saying another vpnd runs here; a's state is untouched and nothing
# leaks.
second() {
	local tag=$1 desc=$2 pid rc
	shift 2
	"$@" >"$E2E_TMP/$tag.out" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	wait_gone "$pid" 100
	ok $? "$desc: exits at once"
	rc=$(exit_status "$pid")
	is "$rc" 1 "$desc: exit status 1"
	grep -q "another vpnd.*runs in this network namespace" \
	    "$E2E_TMP/$tag.out"
	ok $? "$desc: says another vpnd runs here: $(head -1 \
	    "$E2E_TMP/$tag.out")"
	is "$(ours_left "$C")" "$BEFORE" \
	    "$desc: the running one's kill switch, rules and routes stay"
	local before
	before=$(direct)
	send_direct
	is "$(direct)" "$before" "$desc: nothing leaves C outside the tunnel"
	ping_ok "$C" 10.8.0.1
	ok $? "$desc: the running tunnel still carries traffic"
}

mkdir -p "$E2E_TMP/b"
second b "a second vpnd as root" ip netns exec "$C" "$VPND" -d -D none \
    -R "$E2E_TMP/b/resolv.conf" -s "$E2E_TMP/b/sock" -L "$E2E_TMP/b/log" \
    -S "$E2E_TMP/b/state" -W "$E2E_TMP/b/wg"

# The same from an ordinary user with a capability-bearing copy.
if command -v setcap >/dev/null 2>&1 &&
    useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --user-group --groups vpnd "$NRUSER" \
    2>/dev/null; then
	HAVE_USER=1
	chmod 0711 "$E2E_TMP"
	mkdir -m 0755 "$BIN"
	cp "$VPND" "$BIN/vpnd"
	for c in netmgr tunworker dnsmgr; do
		cp "$VPND-$c" "$BIN/vpnd-$c"
	done
	chmod 0755 "$BIN"/vpnd*
	mkdir -m 0700 "$HOMEDIR"
	chown "$NRUSER:$NRUSER" "$HOMEDIR"
fi
if [ "$HAVE_USER" = 1 ] && setcap cap_net_admin+ep "$BIN/vpnd" 2>/dev/null
then
	second u "a user's cap_net_admin copy" \
	    ip netns exec "$C" unshare -m --propagation private sh -c '
	    mount -t tmpfs -o mode=0755 tmpfs /dev/net &&
	    mknod -m 0666 /dev/net/tun c 10 200 && exec "$@"' sh \
	    setpriv --reuid="$NRUSER" --regid="$NRUSER" --init-groups \
	    "$BIN/vpnd" -d -D none -s "$HOMEDIR/sock" -L "$HOMEDIR/log" \
	    -S "$HOMEDIR/state" -W "$HOMEDIR/wg"
else
	for i in 1 2 3 4 5 6; do
		ok 0 "# SKIP no user or no setcap here"
	done
fi

# Once a is gone (kill -9: nothing of it runs), the next one starts and
# removes what a left, as after any crash -- even with the lock's name
# held by an ordinary user (anyone may bind it): root gives way to root
# alone.
vpnd_kill9 a all
ok $? "a: killed (-9), all of its processes gone"
ip netns exec "$C" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$E2E_PY" -c 'import socket, signal
s = socket.socket(socket.AF_UNIX)
s.bind("\0vpnd-netns-lock")
s.listen(1)
print("bound", flush=True)
signal.pause()' >"$E2E_TMP/squat.out" 2>&1 &
E2E_PIDS="$E2E_PIDS $!"
wait_for 50 grep -q bound "$E2E_TMP/squat.out"
ok $? "an ordinary user holds the lock's name"
vpnd_start b "$C" -D none
ok $? "b (root) starts all the same"
grep -q "held by pid [0-9]*, uid 65534, not root: going ahead" \
    "$E2E_TMP/b/out"
ok $? "b says who held the name"
is "$(ours_left "$C")" "" "b: a's leftovers removed"
ctl b down >/dev/null 2>&1

e2e_done

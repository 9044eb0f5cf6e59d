#!/bin/bash
# supervise.t -- supervision, orderly shutdown, the pid file and
# config checking.
#
# 1. kill -9 of each child in turn (a fresh instance each time): the
#    parent logs which child died and why, and the last line of each
#    child that dies of it, exits non-zero promptly, and no process of
#    the instance remains.
# 2. SIGTERM to an idle parent: all four exit, status 0, promptly; the
#    pid file (vpnd.pid next to the socket) held the parent's PID and is
#    removed, and so is the socket. A child that holds its channel open
#    past its end (test hook) does not hold the parent: it goes down all
#    the same and says the child did not exit; the child dies with it.
#    SIGCONT (the children's parent-death signal) changes nothing while
#    the parent lives.
# 3. SIGTERM while a tunnel is up to a wireguard-go peer (vpnctl up): the
#    clients get {"type":"disconnected"}, vpn0, the policy rules, route
#    table and nft table are gone, exit status 0 promptly.
# 4. A second instance with the same socket and pid file refuses to start
#    and leaves the first alone.
# 5. vpnd -n -f FILE: 0 on a good file, "file:line: reason" on a bad one,
#    refusal of a mode-0644 file holding a key.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 55 "$@"
e2e_init supervise

# ns_empty NS: no process runs in NS
ns_empty() {
	[ -z "$(ip netns pids "$1" 2>/dev/null)" ]
}

# okf STATUS DESC FILE: ok, and on failure show FILE as diagnostics
okf() {
	ok "$1" "$2"
	[ "$1" = 0 ] || sed 's/^/#   /' "$3"
}

# all_gone PID...: none of them is alive
all_gone() {
	local p
	for p in "$@"; do
		pid_alive "$p" && return 1
	done
	return 0
}

# --- 1. kill -9 of each child -----------------------------------------

for c in netmgr tunworker dnsmgr; do
	tag="k$c"
	NS=$(ns_add "$tag")
	vpnd_start "$tag" "$NS"
	ok $? "$c: fresh instance started"
	eval "P=\$VPND_PID_$tag"
	procs="$P $(children "$P")"
	victim=$(child_of "$P" "$c")
	ok $? "$c: found the child (pid ${victim:-none})"
	[ -n "$victim" ] || victim=0
	kill -KILL "$victim"
	wait_gone "$P" 100
	ok $? "$c: kill -9 -> the parent exits (bounded wait: 10 s)"
	rc=$(exit_status "$P")
	[ "$rc" != 0 ]
	ok $? "$c: the parent's exit status is non-zero ($rc)"
	# shellcheck disable=SC2086
	wait_for 20 all_gone $procs
	ok $? "$c: none of the four processes remains"
	wait_for 20 ns_empty "$NS"
	ok $? "$c: no process at all is left in the namespace"
	grep -Eq "$c \(pid $victim\) was killed by signal 9" \
	    "$E2E_TMP/$tag/out"
	ok $? "$c: the parent logs that $c was killed by signal 9"
	# the siblings that held a channel to it die of its end and say
	# so; the parent, going down on the death, still writes their
	# last line
	case $c in
	netmgr) sibs="tunworker dnsmgr" ;;
	*) sibs=netmgr ;;
	esac
	for s in $sibs; do
		grep -q "^$s: fatal: .*channel to $c closed" "$E2E_TMP/$tag/out"
		rc=$?
		ok $rc "$c: $s's last line (channel to $c closed) is logged"
		[ "$rc" = 0 ] || sed 's/^/#   /' "$E2E_TMP/$tag/out"
	done
	[ ! -e "$E2E_TMP/$tag/sock" ] && [ ! -e "$E2E_TMP/$tag/vpnd.pid" ]
	ok $? "$c: socket and pid file removed"
	# the log directory got the same story
	grep -Eqs "$c \(pid $victim\) was killed by signal 9" \
	    "$E2E_TMP/$tag/log/vpnd.log"
	ok $? "$c: the log file says so too"
done

# --- 2. SIGTERM, idle; the pid file -----------------------------------

NS=$(ns_add t)
vpnd_start t "$NS"
ok $? "SIGTERM: instance started"
P=$VPND_PID_t
procs="$P $(children "$P")"
is "$(echo "$procs" | wc -w)" 4 "SIGTERM: four processes run"
# SIGCONT is the children's parent-death signal; from job control or
# systemd's stop, while the parent lives, it changes nothing
# shellcheck disable=SC2046
kill -CONT $(children "$P")
ctl t status >/dev/null
ok $? "SIGCONT to the children while the parent lives: status answers"
# shellcheck disable=SC2086
is "$(for p in $procs; do pid_alive "$p" && echo "$p"; done | wc -l)" 4 \
    "SIGCONT to the children while the parent lives: all four run"
PIDFILE="$E2E_TMP/t/vpnd.pid"
wait_for 20 test -s "$PIDFILE"
is "$(cat "$PIDFILE" 2>/dev/null)" "$P" \
    "pid file next to the socket holds the parent's PID"
kill -TERM "$P"
wait_gone "$P" 100
ok $? "SIGTERM: the parent exits (bounded wait: 10 s)"
is "$(exit_status "$P")" 0 "SIGTERM: exit status 0"
# shellcheck disable=SC2086
all_gone $procs
ok $? "SIGTERM: all four processes have exited"
ns_empty "$NS"
ok $? "SIGTERM: nothing left in the namespace"
[ ! -e "$PIDFILE" ]
ok $? "pid file removed at exit"
[ ! -e "$E2E_TMP/t/sock" ]
ok $? "control socket removed at exit"
grep -q "exiting with status 0" "$E2E_TMP/t/out"
ok $? "SIGTERM: the parent logs its exit status"

# --- 2b. a child that holds its channel open past its end -------------
# (test hook: tunworker keeps a copy of its channel and never exits):
# the parent's wait for the children's last lines is bounded, it goes
# down all the same and says the child did not exit. The parent, without
# CAP_KILL, cannot kill a child of another uid: the child dies of the
# parent-death signal it asked the kernel for.

if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1)"
else
	NS=$(ns_add hold)
	VPND_BIN=$VPND_TEST VPND_TESTHOOK=tunworker:11 vpnd_start hold "$NS"
	ok $? "hold: instance started (tunworker holds its channel)"
	eval "P=\$VPND_PID_hold"
	# the socket can be up before tunworker has taken its copy: a
	# SIGTERM before that finds nothing held
	wait_for 50 grep -q "tunworker: testhook: holding the channel$" \
	    "$E2E_TMP/hold/out"
	ok $? "hold: tunworker holds a copy of its channel"
	TW=$(child_of "$P" tunworker)
	kill -TERM "$P"
	wait_gone "$P" 100
	ok $? "hold: SIGTERM -> the parent exits all the same (bounded wait: 10 s)"
	grep -q "tunworker did not exit" "$E2E_TMP/hold/out"
	ok $? "hold: the parent logs that tunworker did not exit"
	[ -n "$TW" ] && wait_gone "$TW" 50
	ok $? "hold: the stuck tunworker (pid ${TW:-?}) died with the parent"
fi

# --- 3. SIGTERM with a tunnel up --------------------------------------

WGIF="${E2E_ID}s"
PORT=51820
NSA=$(ns_add a)
NSB=$(ns_add b)
veth "$NSA" va "$NSB" vb
ip -n "$NSA" addr add 10.98.0.1/24 dev va
ip -n "$NSB" addr add 10.98.0.2/24 dev vb
keypair a
keypair b
wggo_peer "$NSB" "$WGIF" b "$PORT" 10.201.0.1/24
ip netns exec "$NSB" wg set "$WGIF" peer "$(pub_of a)" \
    allowed-ips 10.201.0.2/32
umask 077
# A full tunnel: policy rules, table 30320 and the kill switch too.
cat >"$E2E_TMP/a.conf" <<EOF
[Interface]
PrivateKey = $(key_of a)
Address = 10.201.0.2/24

[Peer]
PublicKey = $(pub_of b)
Endpoint = 10.98.0.2:$PORT
AllowedIPs = 0.0.0.0/0
EOF

vpnd_start up "$NSA"
ok $? "tunnel: vpnd started in A"
P=$VPND_PID_up
procs="$P $(children "$P")"
ctl up -t 10 up "$E2E_TMP/a.conf" >"$E2E_TMP/up.out" 2>&1
okf $? "tunnel: vpnctl up to wireguard-go returns 0" "$E2E_TMP/up.out"
ping_ok "$NSA" 10.201.0.1
ok $? "tunnel: ping through the tunnel"
# SIGCONT, the children's parent-death signal, in a storm while traffic
# flows (job control or a service manager may send it): no child dies,
# no error is logged, packets keep flowing
n0=$(grep -c "error" "$E2E_TMP/up/out")
# shellcheck disable=SC2046
( for i in $(seq 500); do kill -CONT $(children "$P") 2>/dev/null; done ) &
KP=$!
ip netns exec "$NSA" ping -c 50 -i 0.01 -W 1 -q 10.201.0.1 \
    >"$E2E_TMP/storm.out" 2>&1
r=$?
wait "$KP"
[ $r = 0 ] && grep -q " 0% packet loss" "$E2E_TMP/storm.out"
ok $? "tunnel: 50 pings during 500 SIGCONT rounds to the children: none lost"
is "$(for p in $procs; do pid_alive "$p" && echo "$p"; done | wc -l)" 4 \
    "tunnel: after the SIGCONT storm all four processes run"
is "$(grep -c "error" "$E2E_TMP/up/out")" "$n0" \
    "tunnel: and nothing was logged as an error"
ip -n "$NSA" link show vpn0 >/dev/null 2>&1
ok $? "tunnel: vpn0 exists"
ours_left "$NSA" | grep -q '^rule-4: '
ok $? "tunnel: our policy rules are installed"
ours_left "$NSA" | grep -q '^nft: '
ok $? "tunnel: the kill switch table is installed"

# Two clients watching: they must hear that the tunnel went away.
for n in 1 2; do
	client -a -t 20 "$(sock_of up)" 'send:{"type":"status"}' \
	    expect:status "touch:$E2E_TMP/c$n.ready" monitor \
	    >"$E2E_TMP/c$n.out" 2>&1 &
	E2E_PIDS="$E2E_PIDS $!"
	eval "CPID$n=$!"
done
wait_for 50 test -e "$E2E_TMP/c1.ready" -a -e "$E2E_TMP/c2.ready"
ok $? "tunnel: two clients connected"

kill -TERM "$P"
wait_gone "$P" 100
ok $? "tunnel: SIGTERM -> the parent exits (bounded wait: 10 s)"
is "$(exit_status "$P")" 0 "tunnel: exit status 0"
# shellcheck disable=SC2086
all_gone $procs
ok $? "tunnel: all four processes have exited"
for n in 1 2; do
	eval "cp=\$CPID$n"
	wait_gone "$cp" 30
	ok $? "tunnel: client $n saw the connection close"
	jget type <"$E2E_TMP/c$n.out" | grep -qx disconnected
	okf $? "tunnel: client $n got {\"type\":\"disconnected\"}" "$E2E_TMP/c$n.out"
done
left=$(ours_left "$NSA")
is "$left" "" "tunnel: vpn0, rules, table 30320 and nft table are gone"
[ -z "$(ip netns pids "$NSA")" ]
ok $? "tunnel: nothing left running in A"

# --- 4. a second instance on the same socket and pid file -------------

NS1=$(ns_add one)
NS2=$(ns_add two)
vpnd_start one "$NS1"
ok $? "second instance: the first one runs"
P=$VPND_PID_one
SOCK=$(sock_of one)
ip netns exec "$NS2" timeout 10 "$VPND" -d -s "$SOCK" \
    -L "$E2E_TMP/two/log" -S "$E2E_TMP/two/state" -W "$E2E_TMP/two/wg" \
    -R "$E2E_TMP/two/resolv.conf" >"$E2E_TMP/two.out" 2>&1
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ]
ok $? "second instance with the same socket refuses to start ($rc)"
grep -q "already running as pid $P" "$E2E_TMP/two.out"
okf $? "... saying which pid runs" "$E2E_TMP/two.out"
ns_empty "$NS2"
ok $? "... and leaves nothing running"
is "$(cat "$E2E_TMP/one/vpnd.pid" 2>/dev/null)" "$P" \
    "the first instance's pid file is untouched"
ctl one status >/dev/null 2>&1
ok $? "the first instance still serves its socket"
kill -TERM "$P"
wait_gone "$P" 100
is "$(exit_status "$P")" 0 "the first instance stops with status 0"

# --- 5. vpnd -n -f FILE -----------------------------------------------

keypair n
umask 077
cat >"$E2E_TMP/good.conf" <<EOF
[Interface]
PrivateKey = $(key_of n)
Address = 10.9.0.1/24

[Peer]
PublicKey = $(pub_of b)
AllowedIPs = 10.9.0.2/32
Endpoint = 192.0.2.1:51820
EOF
chmod 600 "$E2E_TMP/good.conf"
"$VPND" -n -f "$E2E_TMP/good.conf" >"$E2E_TMP/n.out" 2>&1
ok $? "vpnd -n -f accepts a good file (exit 0)"

cat >"$E2E_TMP/bad.conf" <<EOF
[Interface]
PrivateKey = $(key_of n)
Address = 10.9.0.1/33
EOF
chmod 600 "$E2E_TMP/bad.conf"
"$VPND" -n -f "$E2E_TMP/bad.conf" >"$E2E_TMP/n.out" 2>&1
rc=$?
[ "$rc" != 0 ]
ok $? "vpnd -n -f rejects a bad file (exit $rc)"
grep -q "$E2E_TMP/bad.conf:3: ." "$E2E_TMP/n.out"
okf $? "... with \"file:line: reason\"" "$E2E_TMP/n.out"

cat >"$E2E_TMP/bad2.conf" <<EOF
[Interface]
PrivateKey = $(key_of n)

[Bogus]
EOF
chmod 600 "$E2E_TMP/bad2.conf"
"$VPND" -n -f "$E2E_TMP/bad2.conf" >"$E2E_TMP/n.out" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q "$E2E_TMP/bad2.conf:4: ." "$E2E_TMP/n.out"
okf $? "vpnd -n -f names line 4 for an unknown section" "$E2E_TMP/n.out"

cp "$E2E_TMP/good.conf" "$E2E_TMP/open.conf"
chmod 644 "$E2E_TMP/open.conf"
"$VPND" -n -f "$E2E_TMP/open.conf" >"$E2E_TMP/n.out" 2>&1
rc=$?
[ "$rc" != 0 ]
ok $? "vpnd -n -f refuses a mode-0644 file holding a key (exit $rc)"
grep -q "too open" "$E2E_TMP/n.out"
okf $? "... and says the mode is too open" "$E2E_TMP/n.out"

e2e_done

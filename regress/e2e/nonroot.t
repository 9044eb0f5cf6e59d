#!/bin/bash
# nonroot.t -- vpnd without root: a copy of vpnd with the file capability
# cap_net_admin+ep, started by an ordinary user (created here, removed at
# the end) with private paths under that user's directory and -D none.
#
# 1. Refusals, each one line and nothing created: no capability at all;
#    a user not in group vpnd (added to it then); the DNS backends that
#    need root (auto, file, resolvconf, resolved); a child's executable
#    that is the user's, or root's in a directory of the user's (as a hard
#    link to the capability-bearing copy would put it): the child holds
#    the parent's channel, so its code must be root's.
# 2. The four processes read from /proc: all four run as the user; the
#    parent holds CAP_NET_ADMIN only (effective, permitted; its bounding
#    set is the invoker's: narrowing it needs CAP_SETPCAP), no_new_privs;
#    the children hold no capability, no_new_privs, a seccomp filter, and
#    where the kernel allows unprivileged user namespaces they live in one
#    of their own, chrooted to <statedir>/empty, bounding set empty; each
#    logs the confinement it got (Landlock with no file access where the
#    kernel has it). netmgr's sd-bus works inside it: a private system
#    bus answers its RequestName with the policy's refusal, logged once.
#    The user's environment does not steer the children, whose
#    executables carry no capability: netmgr ignores the user's
#    DBUS_SYSTEM_BUS_ADDRESS (set to a path where nothing listens) as the
#    capability-bearing parent does.
# 3. The socket is the user's (0600); vpnctl as the user brings a full
#    tunnel up to a wireguard-go peer: policy rules, table 30320 and the
#    kill switch are in place, a ping and a 100 MB transfer (sha256) go
#    through, vpnctl down removes everything. Root's vpnctl is refused.
# 4. kill -9 of the whole instance while up fails closed (the kill switch
#    stays, direct UDP is dropped); a restart by the same user removes everything before it
#    serves, a new tunnel comes up, SIGTERM stops it with status 0, and
#    no process of the user is left.
# 5. Seccomp without root: build-test/vpnd, also cap_net_admin+ep, with
#    VPND_TESTHOOK=<child>:1: that child's forbidden call kills it.
# 6. Where the kernel refuses unprivileged user namespaces (made so for
#    one child with VPND_TESTHOOK=<child>:6): that child has no chroot,
#    says so, keeps no capability, and Landlock and seccomp confine it;
#    the tunnel still works.
#
# This machine's /dev/net/tun may be root's alone (most distributions
# make it 0666): the daemon's own mount namespace gets a 0666 node on a
# private tmpfs; the host's /dev is not touched.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init nonroot

if ! command -v setcap >/dev/null 2>&1; then
	echo "1..0 # SKIP no setcap (Debian package libcap2-bin)"
	exit 0
fi

NRUSER="vpndnr$$"
HOMEDIR="$E2E_TMP/home"
BIN="$E2E_TMP/bin"
CAP_NET_ADMIN_ONLY=0000000000001000
NOCAPS=0000000000000000

no_user_procs() {
	! pgrep -u "$NRUSER" >/dev/null
}

nr_cleanup() {
	e2e_cleanup
	# the user's processes all ran in the test's namespaces, which
	# e2e_cleanup emptied; init reaps the orphans in its own time
	wait_for 50 no_user_procs
	userdel "$NRUSER" 2>/dev/null
}
trap nr_cleanup EXIT

useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --user-group "$NRUSER" ||
    bail "useradd $NRUSER"
NRUID=$(id -u "$NRUSER")

chmod 0711 "$E2E_TMP"
mkdir -m 0755 "$BIN"
cp "$VPND" "$BIN/vpnd"
cp "$VPND" "$BIN/vpnd-nocap"
cp "$VPNCTL" "$BIN/vpnctl"
# the children's executables, next to the parent's as in a build tree
for c in netmgr tunworker dnsmgr; do
	cp "$VPND-$c" "$BIN/vpnd-$c"
done
chmod 0755 "$BIN"/*
if ! setcap cap_net_admin+ep "$BIN/vpnd" 2>"$E2E_TMP/setcap.err"; then
	echo "1..0 # SKIP setcap is impossible here: $(cat "$E2E_TMP/setcap.err")"
	exit 0
fi
mkdir -m 0700 "$HOMEDIR"
chown "$NRUSER:$NRUSER" "$HOMEDIR"

# asuser CMD...: run CMD as the test user with its groups.
asuser() {
	setpriv --reuid="$NRUSER" --regid="$NRUSER" --init-groups "$@"
}

USERNS=0
asuser unshare -U true 2>/dev/null && USERNS=1
diag "unprivileged user namespaces: $USERNS"

WG="w$$n"
client_server "$WG"
direct_counter
changed() { [ "$(direct)" != "$before" ]; }
SOCK="$HOMEDIR/sock"
STATE="$HOMEDIR/state"
OUT="$E2E_TMP/out"

# nr_spawn BINARY [vpnd args...]: vpnd as the user in C, in the
# foreground, with its paths under the user's directory. Sets NRPID.
# With NR_BUS set (a bus socket), that socket is the system bus's standard
# path in vpnd's mount namespace: a binary with a file capability ignores
# DBUS_SYSTEM_BUS_ADDRESS, as sd-bus does (secure_getenv).
nr_spawn() {
	local bin=$1
	shift
	ip netns exec "$C" env NR_BUS="${NR_BUS:-}" \
	    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$HOMEDIR/nobus" \
	    unshare -m --propagation private sh -c '
	    mount -t tmpfs -o mode=0755 tmpfs /dev/net &&
	    mknod -m 0666 /dev/net/tun c 10 200 &&
	    if [ -n "$NR_BUS" ]; then
		mount -t tmpfs -o mode=0755 tmpfs /run/dbus &&
		: >/run/dbus/system_bus_socket &&
		mount --bind "$NR_BUS" /run/dbus/system_bus_socket
	    fi && exec "$@"' sh \
	    setpriv --reuid="$NRUSER" --regid="$NRUSER" --init-groups \
	    "$bin" -d -s "$SOCK" -L "$HOMEDIR/log" -S "$STATE" "$@" \
	    >>"$OUT" 2>&1 &
	NRPID=$!
	E2E_PIDS="$E2E_PIDS $NRPID"
}

nr_start() {
	nr_spawn "$BIN/vpnd" -D none
	wait_for 50 asuser "$BIN/vpnctl" -s "$SOCK" status
}

nr_ctl() {
	asuser "$BIN/vpnctl" -s "$SOCK" "$@"
}

# refused WHAT ARGS...: vpnd exits 1 at once with one line, having made
# nothing; prints the line.
refused() {
	local what=$1 n rc
	shift
	: >"$OUT"
	nr_spawn "$@"
	wait_gone "$NRPID" 50
	ok $? "$what: vpnd exits at once"
	rc=$(exit_status "$NRPID")
	is "$rc" 1 "$what: exit status 1"
	n=$(wc -l <"$OUT")
	is "$n" 1 "$what: one line: $(cat "$OUT")"
	[ ! -e "$STATE" ] && [ ! -e "$SOCK" ] && [ ! -e "$HOMEDIR/log" ]
	ok $? "$what: no directory, socket or log made"
}

# --- 1. refusals ------------------------------------------------------

refused "no capability" "$BIN/vpnd-nocap" -D none
grep -q "CAP_NET_ADMIN" "$OUT"
ok $? "no capability: the line names CAP_NET_ADMIN"
# The host's network is at stake: the capability-bearing copy serves the
# members of group vpnd only, whoever may execute it.
refused "not a member of group vpnd" "$BIN/vpnd" -D none
grep -q "only a member of group vpnd" "$OUT"
ok $? "not a member: the line says who may run it"
usermod -a -G vpnd "$NRUSER" || bail "usermod -G vpnd $NRUSER"
for b in auto file resolvconf resolved; do
	refused "-D $b" "$BIN/vpnd" -D "$b"
	grep -q -- "-D $b needs root" "$OUT"
	ok $? "-D $b: the line says it needs root"
done
refused "no -D (auto)" "$BIN/vpnd"
# own DIR: a capability-bearing copy with the children next to it in DIR
own() {
	mkdir -p -m 0755 "$1"
	cp "$VPND" "$1/vpnd"
	for c in netmgr tunworker dnsmgr; do
		cp "$VPND-$c" "$1/vpnd-$c"
	done
	chmod 0755 "$1"/*
	setcap cap_net_admin+ep "$1/vpnd"
}
own "$BIN/own"
chown "$NRUSER" "$BIN/own/vpnd-netmgr"
refused "a child's executable the user's" "$BIN/own/vpnd" -D none
grep -q "$BIN/own/vpnd-netmgr is owned by uid $NRUID, not root\$" "$OUT"
ok $? "a child's executable the user's: the line names it"
own "$HOMEDIR/own"
refused "the children in a directory of the user's" "$HOMEDIR/own/vpnd" \
    -D none
grep -q "$HOMEDIR is owned by uid $NRUID, not root\$" "$OUT"
ok $? "the children in a directory of the user's: the line names it"
rm -rf "$BIN/own" "$HOMEDIR/own"

# --- 2. the four processes --------------------------------------------

: >"$OUT"
# a system bus of the test's own: netmgr talks to it from its sandbox
bus_private
NR_BUS=$BUS_SOCK
nr_start
NR_BUS=""
ok $? "vpnd with cap_net_admin+ep starts as $NRUSER with -D none"
P=$NRPID
ids="$NRUID $NRUID $NRUID $NRUID"
is "$(status_field "$P" Uid)" "$ids" "parent runs as $NRUSER"
for f in CapEff CapPrm; do
	is "$(status_field "$P" "$f")" "$CAP_NET_ADMIN_ONLY" \
	    "parent $f: CAP_NET_ADMIN only"
done
for f in CapInh CapAmb; do
	is "$(status_field "$P" "$f")" "$NOCAPS" "parent $f is empty"
done
is "$(status_field "$P" CapBnd)" "$(status_field $$ CapBnd)" \
    "parent CapBnd is the invoker's (cannot be narrowed without root)"
is "$(status_field "$P" NoNewPrivs)" 1 "parent NoNewPrivs: 1"

is "$(children "$P" | wc -w)" 3 "the parent has exactly three children"
EMPTY=$(readlink -f "$STATE/empty")
for c in netmgr tunworker dnsmgr; do
	pid=$(child_of "$P" "$c")
	ok $? "$c found by its title"
	[ -n "$pid" ] || pid=0
	is "$(status_field "$pid" Uid)" "$ids" "$c runs as $NRUSER"
	for f in CapEff CapPrm CapInh CapAmb; do
		is "$(status_field "$pid" "$f")" "$NOCAPS" "$c $f is zero"
	done
	is "$(status_field "$pid" NoNewPrivs)" 1 "$c NoNewPrivs: 1"
	is "$(status_field "$pid" Seccomp)" 2 "$c Seccomp: 2 (filter)"
	grep -q "^$c: confined without root: uid $NRUID, " "$OUT"
	ok $? "$c logs its confinement"
	# its own uid, but not dumpable: the user cannot attach to it
	is "$(asuser "$E2E_PY" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, int(sys.argv[1]), None, None)	# PTRACE_ATTACH
print("attached" if r == 0 else os.strerror(ctypes.get_errno()))
if r == 0:
    os.waitpid(int(sys.argv[1]), 0)
    libc.ptrace(17, int(sys.argv[1]), None, None)	# PTRACE_DETACH
' "$pid" 2>&1)" "Operation not permitted" "$c: $NRUSER cannot ptrace it"
	if [ "$USERNS" = 1 ]; then
		is "$(status_field "$pid" CapBnd)" "$NOCAPS" \
		    "$c CapBnd is zero (cleared in its own user namespace)"
		[ "$(readlink "/proc/$pid/ns/user")" != \
		    "$(readlink "/proc/$P/ns/user")" ]
		ok $? "$c lives in a user namespace of its own"
		is "$(readlink "/proc/$pid/root")" "$EMPTY" \
		    "$c is chrooted in <statedir>/empty"
		grep -q "^$c: confined .*, user namespace, chroot $STATE/empty" \
		    "$OUT"
		ok $? "$c logs its user namespace and chroot"
	else
		grep -q "^$c: confined .*, no chroot (user namespace refused" \
		    "$OUT"
		ok $? "$c logs that it has no chroot"
	fi
	if grep -q "^$c: confined .*, Landlock ABI" "$OUT"; then
		ok 0 "$c has Landlock with no file access"
	else
		ok 0 "# SKIP the kernel has no Landlock"
	fi
done
is "$(find "$EMPTY" -mindepth 1 | wc -l)" 0 "<statedir>/empty is empty"
# sd-bus ran inside that confinement (authentication, Hello, the
# RequestName reply all came after it): the bus policy lets only _vpnd
# and root own the name, so the answer is a refusal, logged once
wait_for 50 grep -q "^netmgr: .*the bus refused the name org.mozilla.vpn.dbus" \
    "$OUT"
ok $? "netmgr, confined, spoke with the system bus (the name refused: $NRUSER)"
is "$(grep -c "refused the name" "$OUT")" 1 "... said once"
! grep -q "no system bus" "$OUT"
ok $? "netmgr ignored the user's DBUS_SYSTEM_BUS_ADDRESS (secure mode)"
pid_alive "$(child_of "$P" netmgr)"
ok $? "... and netmgr runs on"

# --- 3. a tunnel, driven by the user's vpnctl -------------------------

is "$(stat -c '%U %a' "$SOCK")" "$NRUSER 600" \
    "the control socket is the user's, mode 0600"
"$VPNCTL" -s "$SOCK" status >/dev/null 2>&1
[ $? != 0 ]
ok $? "root's vpnctl is refused (the user's socket is for the user)"

cat >"$HOMEDIR/wg.conf" <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0
EOF
chown "$NRUSER:$NRUSER" "$HOMEDIR/wg.conf"
chmod 0600 "$HOMEDIR/wg.conf"

nr_ctl -t 10 up "$HOMEDIR/wg.conf" >/dev/null
ok $? "vpnctl up as $NRUSER: connected"
left=$(ours_left "$C")
echo "$left" | grep -q "^link: "
ok $? "the tunnel interface is up"
echo "$left" | grep -q "^rule-4: 30320:"
ok $? "policy rule 30320 is in place"
echo "$left" | grep -q "^route-4: default"
ok $? "the default route is in table 30320"
echo "$left" | grep -q "^nft: table inet vpnd"
ok $? "the kill switch (table inet vpnd) is in place"
ping_ok "$C" 10.8.0.1
ok $? "ping through the tunnel"
transfer "through the tunnel" "$C" "$S" 10.8.0.1
nr_ctl down >/dev/null
ok $? "vpnctl down as $NRUSER"
is "$(ours_left "$C")" "" "nothing of ours left after down"

# --- 4. kill -9 and a restart -----------------------------------------

nr_ctl -t 10 up "$HOMEDIR/wg.conf" >/dev/null
ok $? "up again"
all="$P $(children "$P")"
disown "$P" 2>/dev/null
kill -KILL $(children "$P") "$P"
gone=0
for p in $all; do
	wait_gone "$p" 50 || gone=1
done
ok "$gone" "kill -9 of all four processes"
ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
ok $? "fail closed: the kill switch stays after the crash"
before=$(direct)
send_direct
# nothing may arrive: give it a bounded chance to, polling
wait_for 10 changed
ok $((! $?)) "direct UDP is dropped until vpnd starts again"

: >"$OUT"
nr_start
ok $? "$NRUSER starts vpnd again"
P=$NRPID
is "$(ours_left "$C")" "" "the restart removed everything of ours"
before=$(direct)
send_direct
wait_for 50 changed
ok $? "direct UDP gets through again"
nr_ctl -t 10 up "$HOMEDIR/wg.conf" >/dev/null
ok $? "a new tunnel comes up after the restart"
ping_ok "$C" 10.8.0.1
ok $? "ping through it"
kill -TERM "$P"
wait_gone "$P" 50
ok $? "SIGTERM stops it"
is "$(exit_status "$P")" 0 "... with status 0"
is "$(ours_left "$C")" "" "nothing of ours left after SIGTERM"
[ ! -e "$SOCK" ] && [ ! -e "$(dirname "$SOCK")/vpnd.pid" ]
ok $? "socket and pid file removed"
# orphans of the killed instance are reaped by init, in its own time
wait_for 50 no_user_procs
ok $? "no process of $NRUSER is left"

# --- 5. seccomp holds without root -----------------------------------

[ "$E2E_FAIL" = 0 ] || sed 's/^/#   /' "$OUT"
if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1)"
else
	# the test build's parent, with the test build's children next to it
	mkdir -m 0755 "$BIN/test"
	cp "$VPND_TEST" "$BIN/test/vpnd-test"
	for c in netmgr tunworker dnsmgr; do
		cp "$VPND_TEST-$c" "$BIN/test/vpnd-$c"
	done
	chmod 0755 "$BIN/test"/*
	setcap cap_net_admin+ep "$BIN/test/vpnd-test"
	for c in netmgr tunworker dnsmgr; do
		: >"$OUT"
		VPND_TESTHOOK=$c:1 nr_spawn "$BIN/test/vpnd-test" -D none
		# the hook's own line: the parent reads every child's last
		# lines before it exits
		wait_for 50 grep -q "$c: testhook: forbidden syscall" "$OUT"
		ok $? "$c: made to call ptrace"
		wait_gone "$NRPID" 50
		ok $? "$c: the parent exits"
		grep -Eq "$c \(pid [0-9]+\) was killed by signal 31" "$OUT"
		ok $? "$c: killed by SIGSYS, as under root"
		[ "$E2E_FAIL" = 0 ] || sed 's/^/#   /' "$OUT"
	done
	wait_for 50 no_user_procs
	ok $? "no process of $NRUSER is left"
fi

# --- 6. where the kernel refuses user namespaces ----------------------

if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1)"
else
	for c in netmgr tunworker; do
		: >"$OUT"
		VPND_TESTHOOK=$c:6 nr_spawn "$BIN/test/vpnd-test" -D none
		P=$NRPID
		wait_for 50 asuser "$BIN/vpnctl" -s "$SOCK" status
		ok $? "$c without a user namespace: vpnd serves"
		pid=$(child_of "$P" "$c")
		[ -n "$pid" ] || pid=0
		grep -q "^$c: confined without root: uid $NRUID, no chroot (user namespace refused: " \
		    "$OUT"
		ok $? "$c logs that it has no chroot"
		is "$(readlink "/proc/$pid/root")" / "$c is not chrooted"
		is "$(readlink "/proc/$pid/ns/user")" \
		    "$(readlink "/proc/$P/ns/user")" \
		    "$c stays in the parent's user namespace"
		for f in CapEff CapPrm CapInh CapAmb; do
			is "$(status_field "$pid" "$f")" "$NOCAPS" \
			    "$c $f is zero"
		done
		is "$(status_field "$pid" NoNewPrivs)" 1 "$c NoNewPrivs: 1"
		is "$(status_field "$pid" Seccomp)" 2 "$c Seccomp: 2"
		if grep -q "^$c: confined .*, Landlock ABI" "$OUT"; then
			ok 0 "$c has Landlock with no file access instead"
		else
			ok 0 "# SKIP the kernel has no Landlock"
		fi
		nr_ctl -t 10 up "$HOMEDIR/wg.conf" >/dev/null
		ok $? "$c without a user namespace: a tunnel comes up"
		ping_ok "$C" 10.8.0.1
		ok $? "$c without a user namespace: ping through it"
		kill -TERM "$P"
		wait_gone "$P" 50
		ok $? "$c without a user namespace: SIGTERM stops it"
		is "$(ours_left "$C")" "" "... and nothing of ours is left"
		[ "$E2E_FAIL" = 0 ] || sed 's/^/#   /' "$OUT"
	done
fi

e2e_done

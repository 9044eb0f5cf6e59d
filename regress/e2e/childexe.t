#!/bin/bash
# childexe.t -- each child is an executable of its own: vpnd-netmgr,
# vpnd-tunworker, vpnd-dnsmgr, next to the parent's executable (a build
# tree) or in LIBEXECDIR/vpnd. The parent opens and checks them before it
# starts anything and runs exactly those files:
# 1. a copy of the build in a root-owned directory runs, each child from
#    its own file there (/proc/PID/exe); netmgr, dnsmgr and the parent do
#    not map libcrypto, the parent not libsystemd nor libseccomp.
# 2. vpnd refuses to start, naming the file, when a child's executable is
#    writable by others or by its group, owned by another user, a
#    symbolic link, not a regular file, not executable, or in a directory
#    others may write in; and without a child's executable anywhere.
# 3. a child run by hand by an ordinary user, its channel to the parent
#    (fd 3) closed or a file, exits at once with status 2 and one line
#    (it does not wait for ever on a descriptor of its own, deaf to
#    SIGTERM).
# 4. the file is checked and executed by descriptor: a test build's
#    parent, stopped between the check and the children's start, has
#    netmgr's file replaced by another executable that passes every check
#    (root's, 0755): netmgr still runs the file that was checked (its
#    /proc/PID/exe names it deleted) and vpnd serves.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 90 "$@"
e2e_init childexe

N=$(ns_add x)
T="$E2E_TMP"
B="$T/bin"
UID_VPND=$(id -u _vpnd) || bail "no _vpnd user"
: >"$T/resolv.conf"

# fresh: a clean copy of the build's four executables in $B
fresh() {
	rm -rf "$B"
	mkdir -m 0755 "$B"
	cp "$VPND" "$B/vpnd"
	for c in netmgr tunworker dnsmgr; do
		cp "$VPND-$c" "$B/vpnd-$c"
	done
	chmod 0755 "$B"/*
}

# args TAG: private paths for one instance
args() {
	echo -s "$T/$1/sock" -W "$T/$1/wg" -L "$T/$1/log" -S "$T/$1/state" \
	    -R "$T/resolv.conf" -D none
}

# refused LABEL WANT: $B/vpnd exits 1 at once, saying WANT; no child runs
refused() {
	local label=$1 want=$2 pid rc
	rm -f "$T/r.out"
	# shellcheck disable=SC2046
	ip netns exec "$N" "$B/vpnd" -d $(args r) >"$T/r.out" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	if ! wait_gone "$pid" 50; then
		ok 1 "$label: vpnd exits"
		return
	fi
	rc=$(exit_status "$pid")
	is "$rc" 1 "$label: vpnd refuses to start (exit 1)"
	grep -q -- "$want" "$T/r.out"
	ok $? "$label: it says why ($want)"
	[ -z "$(ip netns pids "$N" 2>/dev/null)" ]
	ok $? "$label: nothing of it runs"
	sed 's/^/#   /' "$T/r.out"
}

# maps PID LIB: true if the process maps a library named LIB
maps() {
	grep -q "/$2[.-]" "/proc/$1/maps"
}

# --- 1. the copy runs its own children --------------------------------
fresh
VPND_BIN="$B/vpnd" vpnd_start a "$N" -D none
ok $? "a copy of the build in $B starts"
P=$VPND_PID_a
for c in netmgr tunworker dnsmgr; do
	pid=$(child_of "$P" "$c")
	ok $? "$c runs"
	[ -n "$pid" ] || pid=0
	is "$(readlink "/proc/$pid/exe")" "$B/vpnd-$c" \
	    "$c runs its own executable, $B/vpnd-$c"
done
is "$(readlink "/proc/$P/exe")" "$B/vpnd" "the parent runs $B/vpnd"
for c in netmgr dnsmgr; do
	pid=$(child_of "$P" "$c") || pid=0
	! maps "$pid" libcrypto
	ok $? "$c does not map libcrypto"
done
maps "$(child_of "$P" tunworker)" libcrypto
ok $? "tunworker maps libcrypto (the data path's AEAD)"
for l in libcrypto libsystemd libseccomp; do
	! maps "$P" "$l"
	ok $? "the parent does not map $l"
done
kill -TERM "$P"
wait_gone "$P" 50
ok $? "it stops"

# --- 2. refused -------------------------------------------------------
fresh
chmod 0757 "$B/vpnd-tunworker"
refused "world-writable child" "$B/vpnd-tunworker is writable by others"

fresh
chmod 0775 "$B/vpnd-netmgr"
refused "group-writable child" "$B/vpnd-netmgr is writable by its group"

fresh
chown "$UID_VPND" "$B/vpnd-dnsmgr"
refused "child owned by another user" \
    "$B/vpnd-dnsmgr is owned by uid $UID_VPND"

fresh
mv "$B/vpnd-netmgr" "$B/real-netmgr"
ln -s "$B/real-netmgr" "$B/vpnd-netmgr"
refused "child a symbolic link" "netmgr executable: $B/vpnd-netmgr: "

fresh
rm "$B/vpnd-tunworker"
mkdir "$B/vpnd-tunworker"
refused "child a directory" "$B/vpnd-tunworker is not a regular file"

fresh
chmod 0644 "$B/vpnd-dnsmgr"
refused "child not executable" "$B/vpnd-dnsmgr is not executable"

fresh
chmod 0777 "$B"
refused "world-writable directory" "$B is writable by others"

fresh
rm "$B/vpnd-netmgr"
if [ -e /usr/local/libexec/vpnd/vpnd-netmgr ]; then
	ok 0 "# SKIP an installed vpnd-netmgr answers for the missing one"
	ok 0 "# SKIP"
	ok 0 "# SKIP"
else
	refused "child missing" "libexec/vpnd/vpnd-netmgr"
fi

# --- 3. a child run by hand --------------------------------------------
# by_hand LABEL CHILD FD3: CHILD run as nobody, fd 3 as given ("-" closed)
by_hand() {
	local label=$1 c=$2 pid
	rm -f "$T/h.out"
	if [ "$3" = - ]; then
		ip netns exec "$N" setpriv --reuid=nobody --regid=nogroup \
		    --clear-groups "$VPND-$c" -P "$c" 3>&- >"$T/h.out" 2>&1 &
	else
		ip netns exec "$N" setpriv --reuid=nobody --regid=nogroup \
		    --clear-groups "$VPND-$c" -P "$c" 3<"$3" >"$T/h.out" 2>&1 &
	fi
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	wait_gone "$pid" 50
	ok $? "$c by hand, $label: exits at once"
	is "$(exit_status "$pid")" 2 "$c by hand, $label: status 2"
	is "$(cat "$T/h.out")" \
	    "vpnd-$c: started by vpnd only: fd 3 is not its channel" \
	    "$c by hand, $label: says so in one line"
}
for c in netmgr tunworker dnsmgr; do
	by_hand "fd 3 closed" "$c" -
done
by_hand "fd 3 a file" netmgr /dev/null

# --- 4. the checked file is the one executed ---------------------------
if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1)"
else
	rm -rf "$B"
	mkdir -m 0755 "$B"
	cp "$VPND_TEST" "$B/vpnd"
	for c in netmgr tunworker dnsmgr; do
		cp "$VPND_TEST-$c" "$B/vpnd-$c"
	done
	chmod 0755 "$B"/*
	mkdir -p "$T/s"
	# shellcheck disable=SC2046
	ip netns exec "$N" env VPND_TESTHOOK=parent:9 "$B/vpnd" -d $(args s) \
	    >"$T/s.out" 2>&1 &
	P=$!
	E2E_PIDS="$E2E_PIDS $P"
	stopped() { grep -q '^State:[[:space:]]*T' "/proc/$P/status"; }
	wait_for 100 stopped
	ok $? "the parent stops after checking the children's files"
	# another executable, root's and 0755, takes netmgr's name
	cp "$B/vpnd-tunworker" "$B/new"
	chmod 0755 "$B/new"
	mv "$B/new" "$B/vpnd-netmgr"
	kill -CONT "$P"
	wait_for 100 "$VPNCTL" -s "$T/s/sock" status
	ok $? "vpnd serves once continued"
	pid=$(child_of "$P" netmgr) || pid=0
	is "$(readlink "/proc/$pid/exe")" "$B/vpnd-netmgr (deleted)" \
	    "netmgr runs the file that was checked, not the one now named so"
	kill -TERM "$P"
	wait_gone "$P" 50
	ok $? "it stops"
	[ "$E2E_FAIL" = 0 ] || sed 's/^/#   /' "$T/s.out"
fi

e2e_done

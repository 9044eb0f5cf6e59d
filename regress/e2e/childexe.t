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

e2e_done

#!/bin/bash
# cgroup.t -- where vpnd finds cgroup v2, end to end, without touching
# the host's mounts: vpnd runs in a private mount namespace of its own
# where /sys/fs/cgroup is
#   absent: a tmpfs with no cgroup2 below it: `vpnctl exclude` fails with
#     `unavailable`, naming the reason, and the tunnel otherwise works;
#   hybrid: a tmpfs with cgroup2 mounted at /sys/fs/cgroup/unified;
#   pure:   cgroup2 mounted at /sys/fs/cgroup itself;
#   fakebase: as pure, but with a tmpfs over /sys/fs/cgroup/vpnd: vpnd's
#     own directory is no cgroup, exclude fails with `unavailable`.
# In the two last, with no -C, vpnd makes <cgroup2>/vpnd at start (the
# root of the hierarchy is mode 0555: the parent, down to CAP_NET_ADMIN
# later, could not make its cgroup there) and its cgroup is
# /vpnd/vpnd-exclude; an excluded process is in it and reaches the
# "internet" past the kill switch over IPv4 and IPv6; a normal process
# reaches neither; after deactivate the cgroup is gone.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer)
#   C eth1 192.0.2.1/24 2001:db8:2::1/64 ---- I eth0 192.0.2.2/24 2001:db8:2::2/64
#   the "internet": 203.0.113.2 and 2001:db8:ff::2 on I's lo, reached
#   only by C's default routes, which the full tunnel takes over.
#
# Runs of this test take turns (flock): the cgroup is the host's.
# The trap moves whatever is left in <cgroup2>/vpnd/vpnd-exclude back to
# the root and removes it, and <cgroup2>/vpnd if this test made it.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 300 "$@"
e2e_init cgroup

command -v unshare >/dev/null || bail "no unshare"
command -v flock >/dev/null || bail "no flock"
# <cgroup2>/vpnd is the host's, one for every run: runs of this test (in
# other worktrees, say) take turns
exec 9>>/tmp/vpnd-e2e-cgroup.lock
flock -w 240 9 || bail "another cgroup.t holds /tmp/vpnd-e2e-cgroup.lock"
cg2_find
BASE="$CG2/vpnd"
EXCL="$BASE/vpnd-exclude"
[ -e "$EXCL" ] && bail "$EXCL exists already (another vpnd without -C?)"
BASE_OURS=0
[ -e "$BASE" ] || BASE_OURS=1

excl_cleanup() {
	local p
	if [ -d "$EXCL" ]; then
		for p in $(cat "$EXCL/cgroup.procs" 2>/dev/null); do
			echo "$p" >"$CG2/cgroup.procs" 2>/dev/null
		done
		rmdir "$EXCL" 2>/dev/null
	fi
	[ "$BASE_OURS" = 1 ] && rmdir "$BASE" 2>/dev/null
	return 0
}
trap 'e2e_cleanup; excl_cleanup' EXIT

split_world "w$$x" -i -6

split_probe_py

# probe ADDR: as a normal process of C
probe() {
	ip netns exec "$C" timeout 10 "$E2E_PY" "$E2E_TMP/probe.py" "$1" |
	    cut -d' ' -f1
}
# excluded ADDR: the probe under vpnctl exclude; its result and cgroup
excluded() {
	ip netns exec "$C" timeout 15 "$VPNCTL" -s "$(sock_of c)" \
	    exclude -- "$E2E_PY" "$E2E_TMP/probe.py" "$1" 2>&1
}

printf '{"type":"activate","privateKey":"%s","publicKey":"%s",' \
    "$(key_of cli)" "$(pub_of cli)" >"$E2E_TMP/full.json"
printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)" \
    >>"$E2E_TMP/full.json"
cat >>"$E2E_TMP/full.json" <<'EOF'
"serverIpv4AddrIn":"10.0.0.2","deviceIpv4Address":"10.8.0.2/32",
"deviceIpv6Address":"fd00:8::2/128",
"serverIpv4Gateway":"10.8.0.1","dnsServer":"10.8.0.1",
"allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,"isIpv6":false},
{"address":"::","range":0,"isIpv6":true}]}
EOF

# spawn_in LAYOUT: vpnd in C, with no -C, in a private mount namespace
# where /sys/fs/cgroup is laid out as LAYOUT says (absent, hybrid,
# pure); entered with nsenter (ip netns exec mounts a sysfs of its own
# over /sys). unshare, sh and nsenter exec: the pid is vpnd's.
spawn_in() {
	local dir="$E2E_TMP/c"
	rm -rf "$dir"
	mkdir -p "$dir"
	unshare -m --propagation private sh -c '
		set -e
		case $1 in
		absent)
			mount -t tmpfs -o size=64k,mode=755 vpnd-e2e /sys/fs/cgroup ;;
		hybrid)
			mount -t tmpfs -o size=64k,mode=755 vpnd-e2e /sys/fs/cgroup
			mkdir /sys/fs/cgroup/unified
			mount -t cgroup2 none /sys/fs/cgroup/unified ;;
		pure)
			mount -t cgroup2 none /sys/fs/cgroup ;;
		fakebase)
			mount -t cgroup2 none /sys/fs/cgroup
			mkdir -p /sys/fs/cgroup/vpnd
			mount -t tmpfs -o size=64k,mode=755 vpnd-e2e /sys/fs/cgroup/vpnd ;;
		esac
		shift
		exec "$@"' sh "$1" \
	    nsenter --net="/run/netns/$C" "$VPND" -d -s "$dir/sock" \
	    -L "$dir/log" -S "$dir/state" -W "$dir/wg" -R "$dir/resolv.conf" \
	    -D none >>"$dir/out" 2>&1 &
	VPND_PID_c=$!
	E2E_PIDS="$E2E_PIDS $VPND_PID_c"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd did not start:"
		sed 's/^/#   /' "$dir/out"
		return 1
	fi
	wait_for 50 "$VPNCTL" -s "$dir/sock" status
}

stop_c() {
	kill -TERM "$VPND_PID_c"
	wait_gone "$VPND_PID_c" 50
}

# layout L: the excluded probe is in /vpnd/vpnd-exclude and gets out over
# IPv4 and IPv6; normal ones do not; deactivate removes the cgroup
with_cgroup2() {
	local l=$1 r
	spawn_in "$l" || bail "vpnd did not start ($l)"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "$l: full tunnel with the kill switch connects"
	is "$(probe 203.0.113.2)" timeout \
	    "$l: a normal process does not reach the internet (IPv4)"
	is "$(probe 2001:db8:ff::2)" timeout "$l: ... nor over IPv6"
	r=$(excluded 203.0.113.2)
	is "$r" "refused /vpnd/vpnd-exclude" \
	    "$l: an excluded process reaches the internet (IPv4), in /vpnd/vpnd-exclude"
	r=$(excluded 2001:db8:ff::2)
	is "$r" "refused /vpnd/vpnd-exclude" \
	    "$l: an excluded process reaches the internet (IPv6), in /vpnd/vpnd-exclude"
	[ -d "$EXCL" ]
	ok $? "$l: vpnd/vpnd-exclude is below the root of the cgroup2 hierarchy"
	is "$(probe 2001:db8:ff::2)" timeout \
	    "$l: a normal process still does not (IPv6)"
	ctl c down >/dev/null
	ok $? "$l: deactivate"
	[ ! -e "$EXCL" ]
	ok $? "$l: after deactivate vpnd-exclude is gone"
	stop_c
	ok $? "$l: vpnd stops"
}

body() {
	local r n

	is "$(probe 203.0.113.2)" refused "before vpnd: C reaches the internet (IPv4)"
	is "$(probe 2001:db8:ff::2)" refused "... and over IPv6"

	# absent
	spawn_in absent || bail "vpnd did not start (absent)"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "absent: the tunnel connects without cgroup v2"
	ping_ok "$C" 10.8.0.1
	ok $? "absent: the tunnel carries traffic"
	r=$(excluded 203.0.113.2)
	n=$?
	is "$n" 1 "absent: exclude fails, exit 1"
	echo "$r" | grep -q "unavailable"
	ok $? "absent: ... with unavailable ($r)"
	echo "$r" | grep -q "mounted neither at /sys/fs/cgroup nor at /sys/fs/cgroup/unified"
	ok $? "absent: ... naming the reason"
	is "$(probe 203.0.113.2)" timeout \
	    "absent: nothing got out past the kill switch"
	[ ! -e "$EXCL" ]
	ok $? "absent: no cgroup made"
	ctl c down >/dev/null
	ok $? "absent: deactivate"
	stop_c
	ok $? "absent: vpnd stops"

	with_cgroup2 hybrid
	with_cgroup2 pure

	# fakebase: <mount>/vpnd is not a cgroup
	spawn_in fakebase || bail "vpnd did not start (fakebase)"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "fakebase: the tunnel connects"
	r=$(excluded 203.0.113.2)
	n=$?
	is "$n" 1 "fakebase: exclude fails, exit 1"
	echo "$r" | grep -q "unavailable" &&
	    echo "$r" | grep -q "/sys/fs/cgroup/vpnd: not a cgroup below"
	ok $? "fakebase: ... unavailable, vpnd's directory is no cgroup ($r)"
	is "$(probe 203.0.113.2)" timeout \
	    "fakebase: nothing got out past the kill switch"
	ctl c down >/dev/null
	stop_c
	ok $? "fakebase: vpnd stops"
	is "$(probe 203.0.113.2)" refused "after vpnd: C reaches the internet again"
}

body
e2e_done

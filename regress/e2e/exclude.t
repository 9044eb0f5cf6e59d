#!/bin/bash
# exclude.t -- split tunnelling by app: while a full tunnel is up with the
# kill switch on, a process started with `vpnctl exclude --` reaches the
# "internet" directly (out of C's physical interface, replies back in);
# a normal process does not, before or after; a uid outside root and
# group vpnd is refused, also by the parent itself when netmgr passes
# the request on (a compromised netmgr, test hook); after deactivate and
# after kill -9 of the whole daemon and a restart, nothing stays
# excluded: no table inet vpnd_split, no cgroup of vpnd's, the process
# back in the cgroup it came from. vpnDisabledApps: a process in the
# app's systemd scope (a fake user tree made here) is excluded, one in
# another app's is not; scopes made after the activation are found
# (inotify), every user's who may exclude (root, group vpnd) for root --
# a scope a user outside the group names after the app does not count --
# only the activating user's for a member of group vpnd; a malformed
# entry fails the activation.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24, 203.0.113.2/32 on lo
#   C's default route goes to I: 203.0.113.2 is the "internet", reached
#   only by the default route, which the full tunnel takes over.
#
# The daemon's cgroups go into a cgroup tree this test makes under the
# cgroup2 mount (vpnd -C) and removes in its trap.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 240 "$@"
e2e_init exclude

cg_tree

split_world "w$$x" -i

# what arrives at I's "internet" address, and from where
ip netns exec "$I" nft -f - <<'EOF' || bail "nft counters in I"
table inet cnt {
	counter direct { }
	counter other { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 192.0.2.1 ip daddr 203.0.113.2 tcp dport 9 counter name direct
		ip saddr != 192.0.2.1 ip daddr 203.0.113.2 counter name other
	}
}
EOF
cnt() {
	ip netns exec "$I" nft list counter inet cnt "$1" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

split_probe_py

# setuid.py SOCK: connect as root, become nobody, ask for exclude; prints
# the reply's type and code
cat >"$E2E_TMP/setuid.py" <<'EOF'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
s.sendall(b'{"type":"exclude","id":1}\n')
for line in s.makefile():
    o = json.loads(line)
    if o.get("id") == 1:
        print(o["type"], o.get("code", ""))
        break
EOF

# probe: the probe as a normal process of C, in a cgroup of the test's
# own as deep as vpnd's (so a rule matching any cgroup at that level
# would catch it)
probe() {
	mkdir -p "$CGT/home"
	nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" &&
	    shift && exec "$@"' sh "$CGT/home" timeout 10 "$E2E_PY" \
	    "$E2E_TMP/probe.py" | cut -d' ' -f1
}
# excluded [vpnctl args]: the probe under vpnctl exclude; prints its
# result and its cgroup
excluded() {
	ip netns exec "$C" timeout 15 "$VPNCTL" -s "$(sock_of c)" "$@" \
	    exclude -- "$E2E_PY" "$E2E_TMP/probe.py"
}

actjson() {
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s",' \
	    "$(key_of cli)" "$(pub_of cli)"
	printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)"
	printf '"serverIpv4AddrIn":"10.0.0.2",'
	printf '"deviceIpv4Address":"10.8.0.2/32",'
	printf '"serverIpv4Gateway":"10.8.0.1","dnsServer":"10.8.0.1",'
	printf '"allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,'
	printf '"isIpv6":false}]%s}\n' "${1:-}"
}

# spawn_c: vpnd in C as vpnd_start does it, but entered with nsenter: ip
# netns exec mounts a sysfs of its own over /sys, which hides the cgroup
# mounts below it
spawn_c() {
	local dir="$E2E_TMP/c"
	mkdir -p "$dir"
	nsenter --net="/run/netns/$C" "${VPND_BIN:-$VPND}" -d -s "$dir/sock" \
	    -L "$dir/log" -S "$dir/state" -W "$dir/wg" -R "$dir/resolv.conf" \
	    -D none -C "$CGT" >>"$dir/out" 2>&1 &
	VPND_PID_c=$!
	E2E_PIDS="$E2E_PIDS $VPND_PID_c"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd did not start:"
		sed 's/^/#   /' "$dir/out"
		return 1
	fi
	wait_for 50 "$VPNCTL" -s "$dir/sock" status
}

# probe_in DIR: the probe from the cgroup DIR
probe_in() {
	nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" &&
	    shift && exec "$@"' sh "$1" timeout 10 "$E2E_PY" \
	    "$E2E_TMP/probe.py" | cut -d' ' -f1
}

# in_table DIR: table inet vpnd_split matches the cgroup DIR
in_table() {
	ip netns exec "$C" nft list table inet vpnd_split 2>/dev/null |
	    grep -q "socket cgroupv2 level [0-9]* $(stat -c %i "$1") "
}

# sleeper: `vpnctl exclude -- sleep 60` started from $CGT/home; sets
# SLEEPER (vpnctl's pid, which becomes sleep's)
HOME_CG=""
sleeper() {
	HOME_CG="/${CGT#"$CG2"/}/home"
	mkdir -p "$CGT/home"
	nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" && shift &&
	    exec "$@"' sh "$CGT/home" "$VPNCTL" -s "$(sock_of c)" \
	    exclude -- sleep 60 &
	SLEEPER=$!
	E2E_PIDS="$E2E_PIDS $SLEEPER"
}

# cg_of PID: its cgroup v2 path
cg_of() {
	sed -n 's/^0:://p' "/proc/$1/cgroup"
}

split_left() {
	ip netns exec "$C" nft list table inet vpnd_split >/dev/null 2>&1 &&
	    echo "table inet vpnd_split"
	[ -d "$CGT/vpnd-exclude" ] && echo "cgroup $CGT/vpnd-exclude"
	[ -e "$E2E_TMP/c/state/split.state" ] && echo "split.state"
	return 0
}

body() {
	local r d0 o0 n

	is "$(probe)" refused "before vpnd: a process reaches the internet"
	spawn_c || bail "vpnd did not start"
	r=$(excluded 2>&1)
	is "$?" 1 "exclude while disconnected: refused, exit 1"
	echo "$r" | grep -q "no tunnel is up"
	ok $? "... saying no tunnel is up ($r)"
	ip netns exec "$C" timeout 15 "$VPNCTL" -s "$(sock_of c)" \
	    exclude true >/dev/null 2>&1
	is $? 2 "exclude without -- is a usage error"

	actjson >"$E2E_TMP/full.json"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "full tunnel with the kill switch connects"
	ping_ok "$C" 10.8.0.1
	ok $? "the tunnel carries traffic"
	o0=$(cnt other)
	d0=$(cnt direct)
	is "$(probe)" timeout "while up: a normal process does not reach the internet"
	is "$(cnt direct)/$(cnt other)" "$d0/$o0" "... nothing of it arrives at I"

	r=$(excluded)
	is "$r" "refused /$(basename "$CGT")/vpnd-exclude" \
	    "an excluded process reaches the internet, round trip (in vpnd-exclude)"
	[ "$(cnt direct)" -gt "$d0" ]
	ok $? "... leaving C's physical interface with C's address"
	is "$(probe)" timeout "a normal process still does not, after it"
	grep -q "excluded from the tunnel" "$E2E_TMP/c/out"
	ok $? "the daemon logs the exclusion"

	# a long-lived excluded process, started in a cgroup of its own:
	# undone on deactivate, back where it came from
	sleeper
	wait_for 50 grep -qx "$SLEEPER" "$CGT/vpnd-exclude/cgroup.procs"
	ok $? "an excluded process stays in vpnd-exclude while it runs"
	ctl c down >/dev/null
	ok $? "deactivate"
	is "$(split_left)" "" "after deactivate: no split table, cgroup or record"
	is "$(cg_of "$SLEEPER")" "$HOME_CG" \
	    "the excluded process is back in the cgroup it came from"

	# non-members: netmgr denies; the parent denies on its own too
	# the build tree may be closed to others: a copy they can run
	chmod o+x "$E2E_TMP" "$E2E_TMP/c"
	install -m 755 "$VPNCTL" "$E2E_TMP/vpnctl"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "connected again"
	r=$(ip netns exec "$C" setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups timeout 15 "$E2E_TMP/vpnctl" -s "$(sock_of c)" \
	    exclude -- "$E2E_PY" "$E2E_TMP/probe.py" 2>&1)
	n=$?
	is "$n" 1 "nobody (not in group vpnd): exclude refused, exit 1"
	echo "$r" | grep -q denied
	ok $? "... with denied ($r)"
	is "$(split_left)" "" "... and nothing was excluded"

	# kill -9 of everything while a process is excluded, then restart
	sleeper
	wait_for 50 grep -qx "$SLEEPER" "$CGT/vpnd-exclude/cgroup.procs"
	ok $? "excluded again before the crash"
	vpnd_kill9 c all
	ok $? "kill -9 of every vpnd process"
	[ -n "$(split_left)" ]
	ok $? "the crash left split state behind ($(split_left | tr '\n' ','))"
	spawn_c || bail "vpnd did not restart"
	is "$(split_left)" "" "after the restart: nothing of split tunnelling left"
	is "$(cg_of "$SLEEPER")" "$HOME_CG" \
	    "the excluded process is back where it came from"
	is "$(probe)" refused "disconnected again: direct traffic works"

	# a client that connected as root and then became nobody: the
	# process is no longer the uid it connected with
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "connected again after the restart"
	r=$(ip netns exec "$C" timeout 15 "$E2E_PY" "$E2E_TMP/setuid.py" \
	    "$(sock_of c)")
	is "$r" "error denied" \
	    "a client whose uid changed after it connected: denied"
	is "$(split_left)" "" "... and nothing was excluded"
	ctl c down >/dev/null

	# a forged record naming a cgroup that is not vpnd's: left alone
	kill -TERM "$VPND_PID_c"
	wait_gone "$VPND_PID_c" 50
	ok $? "vpnd stops"
	mkdir "$CGT/victim"
	nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" &&
	    exec sleep 60' sh "$CGT/victim" &
	VICTIM=$!
	E2E_PIDS="$E2E_PIDS $VICTIM"
	wait_for 50 grep -qx "$VICTIM" "$CGT/victim/cgroup.procs"
	printf 'cgroup %s\norigin %s /\n' "$CGT/victim" "$VICTIM" \
	    >"$E2E_TMP/c/state/split.state"

	# the parent's own check: netmgr passes anyone's exclude on
	VPND_BIN=$VPND_TEST VPND_TESTHOOK=netmgr:10 spawn_c ||
	    bail "test vpnd did not start"
	ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
	ok $? "connected (netmgr lets any client's exclude through)"
	[ -d "$CGT/victim" ] && grep -qx "$VICTIM" "$CGT/victim/cgroup.procs"
	ok $? "a record naming a cgroup not vpnd's: that cgroup left alone"
	grep -q "not a cgroup of ours; left alone" "$E2E_TMP/c/out"
	ok $? "... saying so in the log"
	r=$(ip netns exec "$C" setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups timeout 15 "$E2E_TMP/vpnctl" -s "$(sock_of c)" \
	    exclude -- "$E2E_PY" "$E2E_TMP/probe.py" 2>&1)
	n=$?
	is "$n" 1 "nobody past netmgr: the parent refuses, exit 1"
	echo "$r" | grep -q "may not exclude"
	ok $? "... with the parent's denial ($r)"
	grep -q "exclude refused: uid 65534" "$E2E_TMP/c/out"
	ok $? "... and logs it"
	is "$(split_left)" "" "... and nothing was excluded"
	r=$(excluded)
	is "${r%% *}" refused "root past the same netmgr is still excluded"
	ctl c down >/dev/null
	is "$(split_left)" "" "after deactivate: nothing left"

	# --- vpnDisabledApps ---
	U0="$CGT/user.slice/user-0.slice/user@0.service/app.slice"
	mkdir -p "$U0/app-gnome-org.example.Probe-100.scope" \
	    "$U0/app-gnome-org.example.Other-101.scope"
	actjson ',"vpnDisabledApps":["../x.desktop"]' >"$E2E_TMP/badapp.json"
	r=$(ctl c -t 10 activate "$E2E_TMP/badapp.json" 2>&1)
	echo "$r" | grep -q "vpnDisabledApps\[0\]"
	ok $? "a malformed vpnDisabledApps entry fails the activation ($r)"
	actjson ',"vpnDisabledApps":["/usr/share/applications/org.example.Probe.desktop","org.example.Absent"]' \
	    >"$E2E_TMP/apps.json"
	ctl c -t 10 activate "$E2E_TMP/apps.json" >/dev/null
	ok $? "connected with vpnDisabledApps"
	is "$(probe_in "$U0/app-gnome-org.example.Probe-100.scope")" refused \
	    "a process in the app's scope reaches the internet"
	is "$(probe_in "$U0/app-gnome-org.example.Other-101.scope")" timeout \
	    "one in another app's scope does not"
	is "$(probe)" timeout "a normal process does not"
	mkdir "$U0/app-flatpak-org.example.Probe-102.scope"
	wait_for 50 in_table "$U0/app-flatpak-org.example.Probe-102.scope"
	ok $? "a scope started after the activation is found"
	is "$(probe_in "$U0/app-flatpak-org.example.Probe-102.scope")" refused \
	    "... and its process reaches the internet"
	# anyone may name a scope of theirs after an app (systemd-run
	# --user --scope --unit=...): under root's activation a user outside
	# group vpnd, logged in later, does not get out of the tunnel so.
	# Made first: the scope found below proves a scan saw it.
	U1="$CGT/user.slice/user-65534.slice/user@65534.service/app.slice"
	mkdir -p "$U1/app-org.example.Probe-66.scope"
	mkdir -p "$U0/app-graphical.slice/app-org.example.Probe-7f.scope"
	wait_for 50 in_table "$U0/app-graphical.slice/app-org.example.Probe-7f.scope"
	ok $? "root activated: a scope started later in a sub-slice counts too"
	! in_table "$U1/app-org.example.Probe-66.scope"
	ok $? "a scope named after the app by a user outside group vpnd: not in the table"
	is "$(probe_in "$U1/app-org.example.Probe-66.scope")" timeout \
	    "... its process does not reach the internet"
	ctl c down >/dev/null
	is "$(split_left)" "" "after deactivate: nothing left"
	[ -d "$U0/app-gnome-org.example.Probe-100.scope" ]
	ok $? "the scopes themselves are systemd's: left where they are"

	# a member of group vpnd activates: only that uid's scopes count
	U2="$CGT/user.slice/user-65534.slice/user@65534.service/app.slice"
	mkdir -p "$U2/app-gnome-org.example.Probe-9.scope"
	chmod o+r "$E2E_TMP/apps.json"
	ip netns exec "$C" setpriv --reuid=nobody --regid=vpnd --clear-groups \
	    "$E2E_TMP/vpnctl" -s "$(sock_of c)" -t 10 activate \
	    "$E2E_TMP/apps.json" >/dev/null
	ok $? "nobody with group vpnd activates with vpnDisabledApps"
	in_table "$U2/app-gnome-org.example.Probe-9.scope"
	ok $? "... its own app scope is excluded"
	! in_table "$U0/app-gnome-org.example.Probe-100.scope"
	ok $? "... root's is not"
	ctl c down >/dev/null
	is "$(split_left)" "" "after deactivate: nothing left"
}

body
e2e_done

#!/bin/bash
# dbusapps.t -- vpnDisabledApps in an activate over D-Bus (the Mozilla
# client's jsonConfig): an app scope it names is excluded as it is for
# the socket's activate. Root's call: the app's scope of root and of the
# members of group vpnd is excluded (its process reaches the "internet"
# past the kill switch), another user's is not (anyone can name a scope),
# another app's is not, a normal process is not; deactivate over D-Bus
# leaves nothing behind. A member of group vpnd calling over D-Bus: only
# its own uid's scope of the app counts. The bus's credentials are
# the caller's: a jsonConfig cannot name another uid.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24, 203.0.113.2/32 on lo
#
# A private dbus-daemon (bus_private); the daemon's cgroups go into a
# tree this test makes under the cgroup2 mount (vpnd -C), with a fake
# systemd user tree in it; the trap removes it.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init dbusapps

command -v dbus-daemon >/dev/null || bail "no dbus-daemon"
command -v busctl >/dev/null || bail "no busctl"
VPNDGID=$(getent group vpnd | cut -d: -f3)
[ -n "$VPNDGID" ] || bail "no group vpnd (scripts/mkuser.sh)"
NAME=org.mozilla.vpn.dbus

cg_tree

split_world "w$$x" -i

split_probe_py

# probe_in DIR: the probe from the cgroup DIR
probe_in() {
	mkdir -p "$1"
	nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" &&
	    shift && exec "$@"' sh "$1" timeout 10 "$E2E_PY" \
	    "$E2E_TMP/probe.py" | cut -d' ' -f1
}

# in_table DIR: table inet vpnd_split matches the cgroup DIR
in_table() {
	ip netns exec "$C" nft list table inet vpnd_split 2>/dev/null |
	    grep -q "socket cgroupv2 level [0-9]* $(stat -c %i "$1") "
}

split_left() {
	ip netns exec "$C" nft list table inet vpnd_split >/dev/null 2>&1 &&
	    echo "table inet vpnd_split"
	[ -d "$CGT/vpnd-exclude" ] && echo "cgroup $CGT/vpnd-exclude"
	[ -e "$E2E_TMP/c/state/split.state" ] && echo "split.state"
	return 0
}

# call WHO METHOD [SIG ARGS...]: a method of vpnd's service, as root or
# as nobody with group vpnd added
call() {
	local who=$1 m=$2
	shift 2
	case $who in
	root) timeout 15 busctl --address="$BUS_ADDR" call "$NAME" / "$NAME" \
	    "$m" "$@" ;;
	member) setpriv --reuid=65534 --regid=65534 --groups="$VPNDGID" \
	    timeout 15 busctl --address="$BUS_ADDR" call "$NAME" / "$NAME" \
	    "$m" "$@" ;;
	esac
}

# jsonConfig: the socket's activate without "type", full tunnel, kill
# switch on, vpnDisabledApps as given
jsonconf() {
	printf '{"privateKey":"%s","publicKey":"%s",' \
	    "$(key_of cli)" "$(pub_of cli)"
	printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)"
	printf '"serverIpv4AddrIn":"10.0.0.2",'
	printf '"deviceIpv4Address":"10.8.0.2/32",'
	printf '"serverIpv4Gateway":"10.8.0.1","dnsServer":"10.8.0.1",'
	printf '"allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,'
	printf '"isIpv6":false}],"vpnDisabledApps":%s}' "$1"
}

# vpnd in C with -C, entered with nsenter (ip netns exec mounts a sysfs
# of its own over /sys, which hides the cgroup mounts below it)
spawn_c() {
	local dir="$E2E_TMP/c"
	mkdir -p "$dir"
	DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR nsenter --net="/run/netns/$C" \
	    "$VPND" -d -s "$dir/sock" -L "$dir/log" -S "$dir/state" \
	    -W "$dir/wg" -R "$dir/resolv.conf" -D none -C "$CGT" \
	    >>"$dir/out" 2>&1 &
	VPND_PID_c=$!
	E2E_PIDS="$E2E_PIDS $VPND_PID_c"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd did not start:"
		sed 's/^/#   /' "$dir/out"
		return 1
	fi
	wait_for 50 "$VPNCTL" -s "$dir/sock" status
}

state_is() {
	[ "$(ctl_state c)" = "$1" ]
}

has_name() {
	timeout 10 busctl --address="$BUS_ADDR" status "$NAME" >/dev/null 2>&1
}

U0="$CGT/user.slice/user-0.slice/user@0.service/app.slice"
U1="$CGT/user.slice/user-1000.slice/user@1000.service/app.slice"
U2="$CGT/user.slice/user-65534.slice/user@65534.service/app.slice"
PROBE0="$U0/app-gnome-org.example.Probe-100.scope"
OTHER0="$U0/app-gnome-org.example.Other-101.scope"
PROBE1="$U1/app-org.example.Probe-7f.scope"
PROBE2="$U2/app-gnome-org.example.Probe-9.scope"
mkdir -p "$PROBE0" "$OTHER0" "$PROBE1" "$PROBE2" "$CGT/home"
APPS='["/usr/share/applications/org.example.Probe.desktop"]'

bus_private
spawn_c || bail "vpnd did not start"
wait_for 50 has_name
ok $? "vpnd owns $NAME on the private bus"
is "$(probe_in "$CGT/home")" refused "before activate: C reaches the internet"

is "$(call root activate s "$(jsonconf "$APPS")")" "b true" \
    "root: activate over D-Bus with vpnDisabledApps: true"
wait_for 100 state_is connected
ok $? "... connected"
is "$(probe_in "$CGT/home")" timeout \
    "a normal process does not reach the internet (kill switch)"
is "$(probe_in "$PROBE0")" refused \
    "a process in the app's scope reaches the internet past it"
is "$(probe_in "$OTHER0")" timeout "one in another app's scope does not"
! in_table "$PROBE1"
ok $? "root's activate: the scope of a user outside group vpnd does not count"
grep -q "vpnDisabledApps: 1 apps of every user" "$E2E_TMP/c/out"
ok $? "the daemon logs the apps as for the socket"
is "$(call root deactivate)" "b true" "deactivate over D-Bus: true"
wait_for 50 state_is disconnected
ok $? "... disconnected"
is "$(split_left)" "" "after deactivate: no split table, cgroup or record"

is "$(call member activate s "$(jsonconf "$APPS")")" "b true" \
    "a member of group vpnd: activate over D-Bus with vpnDisabledApps"
in_table "$PROBE2"
ok $? "... its own scope of the app is excluded"
! in_table "$PROBE0"
ok $? "... root's is not"
is "$(probe_in "$PROBE0")" timeout "... and root's app process stays inside"
is "$(call member deactivate)" "b true" "the member deactivates"
wait_for 50 state_is disconnected
ok $? "... disconnected"
is "$(split_left)" "" "after deactivate: nothing left"

is "$(call root activate s "$(jsonconf '["../x.desktop"]')")" "b false" \
    "a malformed vpnDisabledApps entry over D-Bus: false"
is "$(ctl_state c)" disconnected "... nothing changed"
e2e_done

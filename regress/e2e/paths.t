#!/bin/bash
# paths.t -- the directories given with -s, -S and -L must be root's
# alone: vpnd refuses, with a message naming the culprit, one owned by
# another user, one writable by others or by the group, one reached
# through a symbolic link, and a sticky world-writable directory itself;
# a sticky root-owned ancestor (/tmp) is fine. The pid file is never
# followed through a symbolic link.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init paths

N=$(ns_add n)
T="$E2E_TMP"
UID_VPND=$(id -u _vpnd) || bail "no _vpnd user"

# refused LABEL WANT ARGS...: vpnd exits 1 at once, saying WANT.
refused() {
	local label=$1 want=$2 pid rc
	shift 2
	rm -f "$T/r.out"
	ip netns exec "$N" "$VPND" -d "$@" >"$T/r.out" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	if ! wait_gone "$pid" 50; then
		ok 1 "$label: vpnd exits"
		return
	fi
	rc=$(exit_status "$pid")
	is "$rc" 1 "$label: vpnd refuses to start (exit 1)"
	grep -q -- "$want" "$T/r.out"
	ok $? "$label: it says why"
	sed 's/^/#   /' "$T/r.out"
}

# args DIR: private paths for one instance, all under DIR
args() {
	echo -s "$1/run/sock" -W "$1/wg" -L "$1/log" -S "$1/state" -R "$T/resolv.conf" \
	    -D none
}

: >"$T/resolv.conf"

mkdir -m 0755 "$T/user"
chown "$UID_VPND" "$T/user"
refused "user-owned directory" "$T/user is owned by uid $UID_VPND" \
    $(args "$T/user")
refused "user-owned, -L only" "log directory (-L): $T/user is owned" \
    -s "$T/ok1/sock" -W "$T/ok1/wg" -L "$T/user/log" -S "$T/ok1/state" \
    -R "$T/resolv.conf" -D none

mkdir -m 0755 "$T/ww"
chmod 0777 "$T/ww"
refused "world-writable directory" "$T/ww is writable by others" \
    -s "$T/ok2/sock" -W "$T/ok2/wg" -L "$T/ok2/log" -S "$T/ww/state" \
    -R "$T/resolv.conf" -D none

mkdir -m 0755 "$T/gw"
chmod 0775 "$T/gw"
refused "group-writable directory" "$T/gw is writable by its group" \
    -s "$T/gw/sock" -W "$T/gw/wg" -L "$T/ok3/log" -S "$T/ok3/state" \
    -R "$T/resolv.conf" -D none

mkdir -m 1777 "$T/sticky"
refused "sticky world-writable directory itself" \
    "$T/sticky is writable by others" \
    -s "$T/sticky/sock" -W "$T/sticky/wg" -L "$T/ok4/log" -S "$T/ok4/state" \
    -R "$T/resolv.conf" -D none

mkdir -m 0755 "$T/real"
ln -s "$T/real" "$T/link"
refused "symbolic link in the path" "$T/link is a symbolic link" \
    -s "$T/ok5/sock" -W "$T/ok5/wg" -L "$T/link/log" -S "$T/ok5/state" \
    -R "$T/resolv.conf" -D none

refused "relative path" "not an absolute path" \
    -s "$T/ok6/sock" -W "$T/ok6/wg" -L "$T/ok6/log" -S "rel/state" \
    -R "$T/resolv.conf" -D none

# A sticky root-owned ancestor is fine (this is /tmp's case too).
mkdir -m 0755 "$T/sticky/mine"
mkdir -m 0755 "$T/sticky/mine/run"
echo "target" >"$T/target"
ln -s "$T/target" "$T/sticky/mine/run/vpnd.pid"
vpnd_spawn s "$N" -s "$T/sticky/mine/run/sock" -D none
wait_for 50 "$VPNCTL" -s "$T/sticky/mine/run/sock" status
ok $? "under a sticky root-owned ancestor: vpnd starts"
is "$(cat "$T/target")" target \
    "a symbolic link as the pid file is not followed"
grep -q "pidfile $T/sticky/mine/run/vpnd.pid" "$T/s/out"
ok $? "... and the refusal is logged"
is "$(stat -c '%U:%G %a %F' "$T/sticky/mine/run/sock")" \
    "root:vpnd 666 socket" "the control socket is root:vpnd 0666 (tiers per request)"
kill -TERM "$VPND_PID_s"
wait_gone "$VPND_PID_s" 50
ok $? "vpnd stops"
rm -f "$T/sticky/mine/run/vpnd.pid"

vpnd_start p "$N" -D none
ok $? "with a fresh pid file: vpnd starts"
wait_for 30 test -s "$T/p/vpnd.pid"
is "$(cat "$T/p/vpnd.pid" 2>/dev/null)" "$VPND_PID_p" \
    "the pid file holds the daemon's pid"
refused "second instance" "already running as pid $VPND_PID_p" \
    -s "$T/p/sock" -W "$T/p/wg" -L "$T/p/log" -S "$T/p/state" -R "$T/resolv.conf" \
    -D none
kill -TERM "$VPND_PID_p"
wait_gone "$VPND_PID_p" 50
ok $? "vpnd stops"
test ! -e "$T/p/vpnd.pid"
ok $? "the pid file is removed at exit"

e2e_done

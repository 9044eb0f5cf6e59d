#!/bin/bash
# stdio.t -- the children do not share the parent's terminal.
#
# vpnd -d on a terminal (a pty made by script(1)): each child's standard
# input and output are /dev/null, and so is its standard error, so a
# compromised child can neither read what is typed there nor write escape
# sequences to it; the parent keeps the terminal. Started with its output
# going to a file instead, the children's standard error still goes there
# (what a child says before its log channel is up is not lost), standard
# input and output are /dev/null.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 40 "$@"
e2e_init stdio

N=$(ns_add n)
D="$E2E_TMP/t"
mkdir -p "$D"

# fd_of PID N: where descriptor N of PID points
fd_of() {
	readlink "/proc/$1/fd/$2" 2>/dev/null
}

# vpnd_parent SOCKDIR: the PID in the pid file next to the socket
vpnd_parent() {
	local p
	p=$(cat "$1/vpnd.pid" 2>/dev/null) || return 1
	[ -n "$p" ] && pid_alive "$p" && echo "$p"
}

# check TAG PARENT WANT2: the parent's fds and its three children's
check() {
	local tag=$1 parent=$2 want2=$3 who c
	for who in netmgr tunworker dnsmgr; do
		c=$(child_of "$parent" "$who")
		ok $? "$tag: $who found"
		is "$(fd_of "$c" 0)" /dev/null "$tag: $who's stdin is /dev/null"
		is "$(fd_of "$c" 1)" /dev/null "$tag: $who's stdout is /dev/null"
		is "$(fd_of "$c" 2)" "$want2" "$tag: $who's stderr"
	done
}

# 1. On a terminal.
script -qfec "ip netns exec $N $VPND -d -s $D/sock -L $D/log -S $D/state -W $D/wg \
    -R $D/resolv.conf" /dev/null </dev/null >"$E2E_TMP/script.out" 2>&1 &
SPID=$!
E2E_PIDS="$E2E_PIDS $SPID"
wait_for 50 test -S "$D/sock"
ok $? "vpnd on a pty: socket up"
wait_for 50 "$VPNCTL" -s "$D/sock" status
P=$(vpnd_parent "$D")
ok $? "vpnd on a pty: parent found ($P)"
TTY=$(fd_of "$P" 2)
case $TTY in
/dev/pts/*) r=0 ;;
*) r=1 ;;
esac
ok $r "the parent's stderr is the pty ($TTY)"
check pty "$P" /dev/null
kill -TERM "$P"
wait_gone "$P" 50
ok $? "vpnd on a pty: SIGTERM ends it"
wait_gone "$SPID" 50
ok $? "script(1) ended"

# 2. Output to a file.
vpnd_start f "$N"
ok $? "vpnd with output to a file: up"
P=$(eval echo "\$VPND_PID_f")
OUT=$(fd_of "$P" 2)
is "$OUT" "$E2E_TMP/f/out" "the parent's stderr is the file"
check file "$P" "$OUT"

e2e_done

#!/bin/bash
# priv.t -- the privileges of the four processes, Landlock and
# seccomp.
#
# 1. vpnd -d in a fresh namespace: /proc/PID/status of the parent (only
#    CAP_NET_ADMIN, no_new_privs) and of each child (no capabilities, not
#    even in the bounding set, no_new_privs, seccomp filter mode);
#    netmgr and tunworker as a non-root uid/gid without groups, chrooted
#    in <statedir>/empty, which is empty; dnsmgr as _vpnddns (a uid of
#    its own) without groups, chrooted in <statedir>/dns, its own 0700
#    directory. What dnsmgr's sandbox denies is probed from inside it by
#    dnsjail.t. Each child runs its own executable, build/vpnd-<name>
#    (childexe.t: which files the parent accepts).
# 2. Seccomp: VPND_TESTHOOK=<proc>:1 makes that child call ptrace; it is
#    killed by SIGSYS, the parent logs it and exits non-zero promptly,
#    and nothing of the instance is left.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 50 "$@"
e2e_init priv

CAP_NET_ADMIN_ONLY=0000000000001000
NOCAPS=0000000000000000

# nonzero_ids "a b c d": true if there are four ids and none is 0
nonzero_ids() {
	local n=0 id
	for id in $1; do
		[ "$id" != 0 ] || return 1
		n=$((n + 1))
	done
	[ "$n" = 4 ]
}

# ns_empty NS: no process runs in NS
ns_empty() {
	[ -z "$(ip netns pids "$1" 2>/dev/null)" ]
}

# --- 1. privileges ----------------------------------------------------

NS=$(ns_add p)
vpnd_start p "$NS"
ok $? "vpnd -d starts in a fresh namespace"
P=$VPND_PID_p
STATE="$E2E_TMP/p/state"

is "$(tr '\0' ' ' <"/proc/$P/cmdline" | awk '{print $1}')" "$VPND" \
    "the parent runs build/vpnd"
for f in CapEff CapPrm CapBnd; do
	is "$(status_field "$P" "$f")" "$CAP_NET_ADMIN_ONLY" \
	    "parent $f holds CAP_NET_ADMIN only"
done
is "$(status_field "$P" CapAmb)" "$NOCAPS" "parent CapAmb is empty"
is "$(status_field "$P" NoNewPrivs)" 1 "parent NoNewPrivs: 1"

is "$(children "$P" | wc -w)" 3 "the parent has exactly three children"
for c in netmgr tunworker dnsmgr; do
	pid=$(child_of "$P" "$c")
	ok $? "$c found by its title \"vpnd: $c\""
	[ -n "$pid" ] || pid=0
	eval "PID_$c=$pid"
	is "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" "$P" \
	    "$c is a child of the parent"
	is "$(readlink "/proc/$pid/exe")" "$VPND-$c" \
	    "$c runs its own executable, build/vpnd-$c"
	for f in CapEff CapPrm CapBnd CapInh CapAmb; do
		is "$(status_field "$pid" "$f")" "$NOCAPS" "$c $f is zero"
	done
	is "$(status_field "$pid" NoNewPrivs)" 1 "$c NoNewPrivs: 1"
	is "$(status_field "$pid" Seccomp)" 2 "$c Seccomp: 2 (filter)"
done

EMPTY=$(readlink -f "$STATE/empty")
for c in netmgr tunworker; do
	eval "pid=\$PID_$c"
	u=$(status_field "$pid" Uid)
	g=$(status_field "$pid" Gid)
	nonzero_ids "$u"
	ok $? "$c Uid is non-zero in all four fields ($u)"
	nonzero_ids "$g"
	ok $? "$c Gid is non-zero in all four fields ($g)"
	is "$(status_field "$pid" Groups)" "" "$c has no supplementary groups"
	is "$(readlink "/proc/$pid/root")" "$EMPTY" \
	    "$c is chrooted in <statedir>/empty"
done
is "$(find "$EMPTY" -mindepth 1 | wc -l)" 0 "<statedir>/empty is empty"
is "$(stat -c %U "$EMPTY")" root "<statedir>/empty belongs to root"
ok "$(stat -c %A "$EMPTY" | grep -c '^d.......w.')" \
    "<statedir>/empty is not writable by others"
DNSUID=$(id -u _vpnddns)
DNSGID=$(id -g _vpnddns)
is "$(status_field "$PID_dnsmgr" Uid)" "$DNSUID $DNSUID $DNSUID $DNSUID" \
    "dnsmgr runs as _vpnddns ($DNSUID) in all four fields"
is "$(status_field "$PID_dnsmgr" Gid)" "$DNSGID $DNSGID $DNSGID $DNSGID" \
    "dnsmgr's gid is _vpnddns's in all four fields"
[ "$DNSUID" != 0 ] && [ "$DNSUID" != "$(id -u _vpnd)" ]
ok $? "_vpnddns is neither root nor _vpnd"
is "$(status_field "$PID_dnsmgr" Groups)" "" \
    "dnsmgr has no supplementary groups"
is "$(readlink "/proc/$PID_dnsmgr/root")" "$(readlink -f "$STATE/dns")" \
    "dnsmgr is chrooted in <statedir>/dns"
is "$(stat -c '%U %a' "$STATE/dns")" "_vpnddns 700" \
    "<statedir>/dns belongs to _vpnddns, mode 700"

kill -TERM "$P"
wait_gone "$P" 100
ok $? "the privilege instance stops on SIGTERM"
is "$(exit_status "$P")" 0 "... with status 0"

# --- 2. seccomp -------------------------------------------------------

if [ ! -x "$VPND_TEST" ]; then
	ok 0 "# SKIP no $VPND_TEST (make TESTHOOKS=1)"
else
	for c in netmgr tunworker dnsmgr; do
		NS=$(ns_add "s$c")
		VPND_BIN=$VPND_TEST VPND_TESTHOOK=$c:1 vpnd_spawn "s$c" "$NS"
		eval "pid=\$VPND_PID_s$c"
		OUT="$E2E_TMP/s$c/out"
		# the hook's own line: the parent reads every child's last
		# lines before it exits
		wait_for 50 grep -q "$c: testhook: forbidden syscall" "$OUT"
		ok $? "$c: made to call ptrace (VPND_TESTHOOK=$c:1)"
		# From the forbidden call on, the parent has 2 s.
		wait_gone "$pid" 100
		ok $? "$c: the parent exits (bounded wait: 10 s)"
		rc=$(exit_status "$pid")
		[ "$rc" != 0 ]
		ok $? "$c: the parent's exit status is non-zero ($rc)"
		grep -Eq "$c \(pid [0-9]+\) was killed by signal 31" "$OUT"
		ok $? "$c: the parent logs \"$c ... killed by signal 31\""
		wait_for 20 ns_empty "$NS"
		ok $? "$c: no process of the instance is left"
		[ ! -e "$E2E_TMP/s$c/sock" ] && [ ! -e "$E2E_TMP/s$c/vpnd.pid" ]
		ok $? "$c: socket and pid file removed"
		if [ "$E2E_FAIL" != 0 ]; then
			sed 's/^/#   /' "$OUT"
		fi
	done
fi

e2e_done

#!/bin/bash
# memcheck.t -- valgrind memcheck over a whole activate -> traffic ->
# rekey -> deactivate cycle: zero errors, nothing definitely or
# indirectly lost. (make memcheck; slow, so not part of make check.)
#
# 1. The parent, the one privileged process, runs under valgrind in a
#    namespace: build-test/vpnd with VPND_TIME_SCALE=120 against
#    wireguard-go; up, ping through two rekeys, down, SIGTERM. Its
#    children are re-executed from the binary itself (fexecve) and
#    confine themselves with seccomp, which valgrind cannot run under:
# 1b. so the test build runs them through valgrind without seccomp (a
#    wrapper named by VPND_TEST_CHILD_WRAP), the same cycle: netmgr,
#    tunworker and dnsmgr as processes; then
# 2. the children's code runs under valgrind in unit form too, through
#    the unit tests that drive it: the WireGuard core through handshakes,
#    data, rekeys and floods, the control socket and protocol, the imsg
#    channel, offloads, the wg-quick parser and the DNS backends.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 900 "$@"
e2e_init memcheck
[ -n "${MEMCHECK_KEEP:-}" ] && trap "cp -r \"\$E2E_TMP\" $MEMCHECK_KEEP; e2e_cleanup" EXIT
command -v valgrind >/dev/null || bail "no valgrind (scripts/deps.sh)"
[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1"

VG="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect"
VG="$VG --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
VG="$VG --num-callers=30"

# verdict LOG NAME: no errors and nothing lost in a valgrind log
verdict() {
	if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|Invalid|uninitialised' "$1"; then
		ok 1 "$2: valgrind clean"
		head -60 "$1" | sed 's/^/#   /'
	else
		ok 0 "$2: valgrind clean"
	fi
}

# --- 1. the parent through a cycle -------------------------------------
WG="w$$m"
client_server "$WG"
client_conf "$E2E_TMP/c.conf" "0.0.0.0/0"
mkdir -p "$E2E_TMP/c"
echo "nameserver 10.0.0.53" >"$E2E_TMP/c/resolv.conf"
lasths() {
	ip netns exec "$S" wg show "$WG" latest-handshakes | cut -f2
}
hs_changed() { [ "$(lasths)" != "$1" ]; }
# MEMCHECK_CHILDREN_ONLY=1: skip this part (1b needs its set-up only)
if [ -z "${MEMCHECK_CHILDREN_ONLY:-}" ]; then
cat >"$E2E_TMP/vg-vpnd" <<EOC
#!/bin/sh
exec $VG --log-file=$E2E_TMP/vg-parent.log $VPND_TEST "\$@"
EOC
chmod +x "$E2E_TMP/vg-vpnd"
export VPND_TIME_SCALE=120
VPND_BIN="$E2E_TMP/vg-vpnd" vpnd_spawn c "$C" -D file
unset VPND_TIME_SCALE
wait_for 300 test -S "$E2E_TMP/c/sock" && wait_for 300 ctl c status
ok $? "vpnd (parent under valgrind) is up"
ctl c -t 30 up "$E2E_TMP/c.conf" >/dev/null
ok $? "activate"
h0=$(lasths)
ip netns exec "$C" ping -q -i 0.1 -w 20 10.8.0.1 >"$E2E_TMP/ping" 2>&1 &
PP=$!
E2E_PIDS="$E2E_PIDS $PP"
wait_for 100 hs_changed "$h0"
ok $? "traffic through a rekey"
h1=$(lasths)
wait_for 100 hs_changed "$h1"
ok $? "and another"
kill "$PP" 2>/dev/null
ping_ok "$C" 10.8.0.1
ok $? "the tunnel carries traffic after the rekeys"
ctl c -t 30 down >/dev/null
ok $? "deactivate"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 300
ok $? "vpnd exits"
is "$(exit_status "$VPND_PID_c")" 0 "exit status 0 (valgrind found nothing)"
verdict "$E2E_TMP/vg-parent.log" "parent, activate to shutdown"
fi

# --- 1b. the children, the real processes, through a cycle --------------
# The test build starts each child through VPND_TEST_CHILD_WRAP (valgrind)
# and, there only, without seccomp, whose lists do not name valgrind's
# own syscalls; chroot and user stay (and Landlock, which valgrind 3.19
# does not know: dnsmgr goes on without it there). Not --quiet: the
# summary says the child's valgrind finished. Same cycle, parent native.
cat >"$E2E_TMP/vg-child" <<EOC
#!/bin/sh
# vg-child VPND -P NAME [-v...]
exec ${VG/--quiet/} --vgdb=no --log-file=$E2E_TMP/vg-child-\$3.log "\$@"
EOC
chmod +x "$E2E_TMP/vg-child"
mkdir -p "$E2E_TMP/k"
echo "nameserver 10.0.0.53" >"$E2E_TMP/k/resolv.conf"
export VPND_TIME_SCALE=120
VPND_TEST_CHILD_WRAP="$E2E_TMP/vg-child" VPND_BIN="$VPND_TEST" \
    vpnd_spawn k "$C" -D file
unset VPND_TIME_SCALE
wait_for 300 test -S "$E2E_TMP/k/sock" && wait_for 300 ctl k status
ok $? "vpnd (children under valgrind) is up"
is "$(grep -c 'testhook: no seccomp under' "$E2E_TMP/k/log/vpnd.log")" 3 \
    "the three children run under the wrapper, without seccomp"
ctl k -t 60 up "$E2E_TMP/c.conf" >/dev/null
ok $? "activate"
h0=$(lasths)
ip netns exec "$C" ping -q -i 0.1 -w 20 10.8.0.1 >"$E2E_TMP/ping" 2>&1 &
PP=$!
E2E_PIDS="$E2E_PIDS $PP"
wait_for 100 hs_changed "$h0"
ok $? "traffic through a rekey"
h1=$(lasths)
wait_for 100 hs_changed "$h1"
ok $? "and another"
kill "$PP" 2>/dev/null
ping_ok "$C" 10.8.0.1
ok $? "the tunnel carries traffic after the rekeys"
ctl k status >/dev/null && ctl k logs >/dev/null
ok $? "status and logs"
ctl k -t 60 down >/dev/null
ok $? "deactivate"
kill -TERM "$VPND_PID_k"
wait_gone "$VPND_PID_k" 300
ok $? "vpnd exits"
is "$(exit_status "$VPND_PID_k")" 0 "exit status 0"
for p in netmgr tunworker dnsmgr; do
	f="$E2E_TMP/vg-child-$p.log"
	# valgrind's summary comes at the child's exit
	wait_for 300 grep -q 'ERROR SUMMARY' "$f"
	ok $? "$p: valgrind finished"
	verdict "$f" "$p, start to shutdown"
done

# --- 2. the children's code in unit form --------------------------------
[ -n "${MEMCHECK_PARENT_ONLY:-}" ] && e2e_done
for t in t_wg_handshake t_wg_hostile t_wg_flood t_ctl_control t_ctl_proto \
    t_imsg t_imsg_backpressure t_offload t_replay t_allowedips \
    t_conf_wgconf t_dns_file t_dns_resolvconf t_dns_resolved t_log; do
	b="$VPND_BUILD/regress/$t"
	if [ ! -x "$b" ]; then
		ok 1 "$t: not built (make unit-bins)"
		continue
	fi
	$VG --log-file="$E2E_TMP/vg-$t.log" "$b" >"$E2E_TMP/$t.tap" 2>&1
	rc=$?
	is "$rc" 0 "$t under valgrind: tests pass, no errors"
	verdict "$E2E_TMP/vg-$t.log" "$t"
done
e2e_done

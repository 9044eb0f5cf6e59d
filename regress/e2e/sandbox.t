#!/bin/bash
# sandbox.t -- the children's seccomp allow-lists and Landlock rules are
# the approved ones in regress/sandbox.approved: adding a syscall or a
# path is a reviewed decision, not an accident.
#
# build-test/vpnd with VPND_SANDBOX_DUMP set prints every entry it
# installs ("sandbox-dump PROC seccomp NAME", "sandbox-dump PROC landlock
# rw|ro PATH") on standard error. The test's private directory becomes
# <dir>. After a reviewed change: make sandbox-approve (writes the file,
# exits non-zero), then commit it. A test run never writes it.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 40 "$@"
e2e_init sandbox

APPROVED="$(dirname "$0")/../sandbox.approved"
[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1"

NS=$(ns_add s)
VPND_SANDBOX_DUMP=1 VPND_BIN="$VPND_TEST" vpnd_start s "$NS"
ok $? "the test build starts with the dump on"
DIR="$E2E_TMP/s"
for c in netmgr tunworker dnsmgr; do
	wait_for 50 grep -q "^sandbox-dump $c seccomp" "$DIR/out"
	ok $? "$c printed its allow-list"
done
kill -TERM "$VPND_PID_s"
wait_gone "$VPND_PID_s" 50
ok $? "vpnd stopped"

# the children print their lists before they confine themselves: complete
grep '^sandbox-dump ' "$DIR/out" | sed "s,$DIR,<dir>,g" |
    sed 's/^sandbox-dump //' | LC_ALL=C sort -u >"$E2E_TMP/got"

if [ "${SANDBOX_APPROVE:-}" = 1 ]; then
	cp "$E2E_TMP/got" "$APPROVED"
	diag "wrote $APPROVED: review the diff, commit it, rerun the test"
	exit 1
fi
[ -s "$E2E_TMP/got" ]
ok $? "entries collected ($(wc -l <"$E2E_TMP/got"))"
if diff -u "$APPROVED" "$E2E_TMP/got" >"$E2E_TMP/diff"; then
	ok 0 "the allow-lists and Landlock rules are the approved ones"
else
	ok 1 "the allow-lists and Landlock rules are the approved ones"
	diag "changed (- approved, + built); if intended: make sandbox-approve"
	sed 's/^/#   /' "$E2E_TMP/diff"
fi
e2e_done

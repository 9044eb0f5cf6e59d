#!/bin/bash
# dbuslograte.t -- refused D-Bus calls are logged at most 20 a minute per
# kind (log_rate, b49b5a1), and those left out are counted: the count must
# reach the log even when the flood stops, not only when another call of
# the same kind comes in a later window (else a user makes 20 harmless
# calls, then hundreds that leave no trace at all, not even a number).
# A non-member makes 60 refused calls; nothing else happens; 70 s later
# the log must say "40 more refused calls of non-members ... not logged".
# Slow on purpose (a window is 60 s).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 150 "$@"
e2e_init dbuslograte

command -v busctl >/dev/null || bail "no busctl"
NAME=org.mozilla.vpn.dbus
bus_private
C=$(ns_add c)
DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR vpnd_start a "$C" -D none ||
    bail "vpnd did not start"
has_name() {
	timeout 10 busctl --address="$BUS_ADDR" status "$NAME" >/dev/null 2>&1
}
wait_for 50 has_name || bail "vpnd does not own $NAME"
nobody_call() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    timeout 10 busctl --address="$BUS_ADDR" call "$NAME" / "$NAME" \
	    "$1" >/dev/null 2>&1
}
for i in $(seq 60); do
	nobody_call getLogs
done
nref() { grep -c "D-Bus .* refused: uid 65534" "$E2E_TMP/a/out"; }
is "$(nref)" 20 "60 refused calls: 20 lines"
note() {
	grep -q "40 more refused calls of non-members in 60 seconds not \
logged" "$E2E_TMP/a/out"
}
# the window ends at most 60 s after the first refused call
wait_for 700 note
ok $? "with no further call, the 40 left out are counted in the log"
pid_alive "$VPND_PID_a"
ok $? "vpnd still runs"
e2e_done

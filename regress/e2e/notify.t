#!/bin/bash
# notify.t -- issue 2/6: under systemd (Type=notify) vpnd says READY=1 on
# $NOTIFY_SOCKET only once the children are up and the earlier
# instance's leftovers are gone, and not before.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init notify

N=$(ns_add n)
PY=$(command -v /usr/bin/python3 || command -v python3)
SOCK="$E2E_TMP/notify.sock"
GOT="$E2E_TMP/notify.got"

# a listener for one datagram, bounded in time
"$PY" - "$SOCK" "$GOT" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
try:
    data = s.recv(4096)
    open(sys.argv[2], "wb").write(data)
except socket.timeout:
    pass
PY
LPID=$!
E2E_PIDS="$E2E_PIDS $LPID"
wait_for 50 test -S "$SOCK" || bail "listener did not start"

# a leftover of an earlier instance that must be gone before READY
ip -n "$N" tuntap add vpn0 mode tun
mkdir -p "$E2E_TMP/a"
NOTIFY_SOCKET="$SOCK" vpnd_start a "$N"
ok $? "vpnd starts with NOTIFY_SOCKET set"
wait_for 50 test -s "$GOT"
ok $? "a notification arrived"
grep -q 'READY=1' "$GOT"
ok $? "it says READY=1 ($(tr '\n' ' ' <"$GOT"))"
ip -n "$N" link show vpn0 >/dev/null 2>&1
ok $((! $?)) "the leftover interface was removed by then"
ctl a status >/dev/null
ok $? "and the control socket answers"
grep -q 'removed leftover interface vpn0' "$E2E_TMP/a/out"
ok $? "the removal is logged"
wait "$LPID" 2>/dev/null
e2e_done

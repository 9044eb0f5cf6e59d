#!/bin/bash
# notify.t -- under systemd (Type=notify) vpnd says READY=1 on
# $NOTIFY_SOCKET only once the children are up and the earlier
# instance's leftovers are gone, and not before: the listener looks at the
# namespace and the control socket the moment the datagram arrives.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init notify

N=$(ns_add n)
PY=$(command -v /usr/bin/python3 || command -v python3)
SOCK="$E2E_TMP/notify.sock"
GOT="$E2E_TMP/notify.got"

# a listener for one datagram, bounded in time
"$PY" - "$SOCK" "$GOT" "$N" "$E2E_TMP/a/sock" <<'PY' &
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
try:
    data = s.recv(4096)
except socket.timeout:
    sys.exit(0)
# what holds at the instant READY=1 arrives, before anything else runs
link = subprocess.run(["ip", "-n", sys.argv[3], "link", "show", "vpn0"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
answer = "none"
try:
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(sys.argv[4])
    c.sendall(b'{"type":"status"}\n')
    answer = c.recv(65536).split(b"\n")[0].decode()
except OSError as e:
    answer = "error " + str(e)
open(sys.argv[2] + ".snap", "w").write(
    "link=%s\nstatus=%s\n" % ("present" if link.returncode == 0
                                else "absent", answer))
open(sys.argv[2], "wb").write(data)
PY
LPID=$!
E2E_PIDS="$E2E_PIDS $LPID"
wait_for 50 test -S "$SOCK" || bail "listener did not start"

# a leftover of an earlier instance that must be gone before READY,
# marked as vpnd marks its TUN (alias vpnd:<device id>)
DEVID=0123456789abcdef0123456789abcdef
mkdir -p -m 0700 "$E2E_TMP/a/state"
echo "$DEVID" >"$E2E_TMP/a/state/device-id"
ip -n "$N" tuntap add vpn0 mode tun
ip -n "$N" link set vpn0 alias "vpnd:$DEVID"
NOTIFY_SOCKET="$SOCK" vpnd_start a "$N"
ok $? "vpnd starts with NOTIFY_SOCKET set"
wait_for 50 test -s "$GOT"
ok $? "a notification arrived"
grep -q 'READY=1' "$GOT"
ok $? "it says READY=1 ($(tr '\n' ' ' <"$GOT"))"
diag "at READY=1: $(tr '\n' ' ' <"$GOT.snap")"
grep -qx 'link=absent' "$GOT.snap"
ok $? "the leftover interface was gone when READY=1 arrived"
grep -q '^status={"type":"status"' "$GOT.snap"
ok $? "and the control socket answered a status at that moment"
grep -q 'removed leftover interface vpn0' "$E2E_TMP/a/out"
ok $? "the removal is logged"
wait "$LPID" 2>/dev/null
e2e_done

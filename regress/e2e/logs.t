#!/bin/bash
# logs.t -- `logs` with megabytes of log files answers with the
# newest part (a client is never dropped for it), lines joined with '|';
# `cleanlogs` empties them but for a line saying who asked; a new start
# begins a new file.  (Rotation past the size cap is t_log's: these few
# lines never reach it.) A child's line with control characters is
# stored and printed escaped.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init logs

N=$(ns_add n)
L="$E2E_TMP/a/log"
mkdir -p "$L"
# three full files of an earlier life: 3 MiB of old lines
for f in vpnd.log vpnd.log.1 vpnd.log.2; do
	yes "2020-01-01T00:00:00.000Z parent: old line from $f" |
	    head -c 1000000 >"$L/$f"
done
vpnd_start a "$N" || bail "vpnd did not start"

PY=$(command -v /usr/bin/python3 || command -v python3)
out=$("$PY" - "$(sock_of a)" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b'{"type":"logs"}\n')
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
r = json.loads(buf)
print(r["type"], len(r["logs"]), "\n" in r["logs"],
      "ready; control socket" in r["logs"],
      r["logs"].split("|")[0][:4])
PY
)
set -- $out
is "${1:-}" logs "a base-protocol logs request gets a logs reply"
[ "${2:-0}" -gt 100000 ] && [ "${2:-0}" -le 600000 ]
ok $? "the newest part of 3 MiB of logs (${2:-0} bytes), not a dropped client"
is "${3:-}" False "no raw newlines: lines are joined with |"
is "${4:-}" True "the newest line (this start's) is in it"
is "${5:-}" 2020 "it starts on a whole line"

is "$(ls "$L"/vpnd.log* | wc -l)" 4 "four files at most"
total=$(cat "$L"/vpnd.log* | wc -c)
[ "$total" -le $((4 * 1048576)) ]
ok $? "total size still within the cap ($total bytes; nothing here writes past it)"

ctl a cleanlogs >/dev/null
ok $? "cleanlogs"
ctl a -j logs | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["logs"])' \
    >"$E2E_TMP/after"
grep -Eq '^[-0-9T:.]+Z netmgr: logs cleaned at the request of uid 0, pid [0-9]+$' \
    "$E2E_TMP/after"
ok $? "after cleanlogs only the line saying who cleaned them is left"
sed 's/^/#   /' "$E2E_TMP/after"

# A child that logs control characters (test build, hook netmgr:8): the
# line is stored escaped, and vpnctl prints it escaped.
if [ -x "$VPND_TEST" ]; then
	# a namespace of its own: a is still running in N (one vpnd a
	# namespace)
	NH=$(ns_add h)
	VPND_BIN="$VPND_TEST" VPND_TESTHOOK=netmgr:8 vpnd_start h "$NH" ||
	    bail "test build did not start"
	want='netmgr: testhook: forged\nparent: fake line\174parent: fake too \033[31mred\\'
	wait_for 50 grep -qF "$want" "$E2E_TMP/h/log/vpnd.log"
	ok $? "the hostile line is stored escaped"
	! grep -q "$(printf '\033')" "$E2E_TMP/h/log/vpnd.log" &&
	    ! grep -q '^parent: fake' "$E2E_TMP/h/log/vpnd.log"
	ok $? "no raw escape, no forged line in the log file"
	ctl h logs >"$E2E_TMP/h.logs"
	grep -qF "$want" "$E2E_TMP/h.logs"
	ok $? "vpnctl logs prints it escaped, on one line"
	! grep -q '^parent: fake' "$E2E_TMP/h.logs"
	ok $? "vpnctl logs shows no forged line"
else
	for i in 1 2 3 4; do
		E2E_N=$((E2E_N + 1))
		echo "ok $E2E_N # SKIP no $VPND_TEST (make TESTHOOKS=1)"
	done
fi
e2e_done

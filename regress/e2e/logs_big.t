#!/bin/bash
# logs_big.t -- `logs` over a 64 MiB log: the parent reads only the newest
# part and sends it a chunk at a time, each when netmgr asks for the
# next, so no process grows with the size of the files: the peak
# resident size (VmHWM) of the parent and of netmgr rises by at most
# 8 MiB over three requests, and the reply is the newest part as always.
# Three clients asking at once are each answered (netmgr asks the parent
# for one at a time).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init logsbig

N=$(ns_add n)
L="$E2E_TMP/a/log"
mkdir -p "$L"
# an earlier life's log of 64 MiB (it becomes vpnd.log.1 at the start)
yes "2020-01-01T00:00:00.000Z parent: an old line of an earlier life" |
    head -c $((64 * 1048576)) >"$L/vpnd.log"
vpnd_start a "$N" || bail "vpnd did not start"
P=$VPND_PID_a
M=$(child_of "$P" netmgr) || bail "no netmgr"

hwm() { status_field "$1" VmHWM | awk '{ print $1 }'; }
p0=$(hwm "$P")
m0=$(hwm "$M")

PY=$(command -v /usr/bin/python3 || command -v python3)
out=$("$PY" - "$(sock_of a)" <<'PY'
import json, socket, sys
# three clients at once: netmgr asks the parent for one at a time
ss = []
for i in (1, 2, 3):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sys.argv[1])
    s.sendall(b'{"type":"logs","id":%d}\n' % i)
    ss.append(s)
got = []
for s in ss:
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(1 << 16)
        if not d:
            break
        buf += d
    got.append(json.loads(buf))
ids = ",".join(str(r.get("id")) for r in got)
r = got[-1]
print(ids, r["type"], len(r["logs"]), r["logs"].split("|")[0][:4],
      "ready; control socket" in r["logs"])
PY
)
set -- $out
is "${1:-}" 1,2,3 "three clients' logs requests at once, each answered"
is "${2:-}" logs "a logs reply"
[ "${3:-0}" -gt 400000 ] && [ "${3:-0}" -le 524288 ]
ok $? "the newest 512 KiB at most (${3:-0} bytes)"
is "${4:-}" 2020 "from a whole line"
is "${5:-}" True "with this start's lines at the end"

p1=$(hwm "$P")
m1=$(hwm "$M")
diag "VmHWM parent ${p0} -> ${p1} kB, netmgr ${m0} -> ${m1} kB (log 64 MiB)"
[ -n "$p0" ] && [ -n "$p1" ] && [ $((p1 - p0)) -le 8192 ]
ok $? "the parent's peak grew by $((p1 - p0)) kB (at most 8 MiB)"
[ -n "$m0" ] && [ -n "$m1" ] && [ $((m1 - m0)) -le 8192 ]
ok $? "netmgr's peak grew by $((m1 - m0)) kB (at most 8 MiB)"

ctl a cleanlogs >/dev/null
ok $? "cleanlogs after them"
[ "$(cat "$L"/vpnd.log* | wc -c)" -lt 65536 ]
ok $? "the big file is gone"
e2e_done

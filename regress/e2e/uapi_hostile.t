#!/bin/bash
# uapi_hostile.t -- the UAPI directory as other daemons leave it.
#
# The directory is shared by every network namespace. Checked: a socket
# of the same name whose listener never accepts (its backlog full) does
# not hang vpnd's start: it is taken as served by another process and
# left alone; a directory of root's with mode 0755 (as wireguard-go
# creates /var/run/wireguard) is used; one that group or others may write
# is refused; sixteen root clients that never finish a request neither
# hold netmgr's event loop (the control socket answers) nor keep the UAPI
# socket from answering once their deadline has passed.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init uapih
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

IF=vpnh$$
IF=${IF:0:15}
NSA=$(ns_add a)
NSB=$(ns_add b)
NSC=$(ns_add c)

# 1. a listener that never accepts, its backlog full
W1=$E2E_TMP/w1
mkdir -m 700 "$W1"
"$PY" - "$W1/$IF.sock" "$E2E_TMP/w1.ready" <<'EOP' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
held = []
while True:
	c = socket.socket(socket.AF_UNIX)
	c.setblocking(False)
	try:
		c.connect(sys.argv[1])
	except BlockingIOError:
		break
	held.append(c)
open(sys.argv[2], "w").close()
while True:
	time.sleep(3600)
EOP
E2E_PIDS="$E2E_PIDS $!"
wait_for 50 test -e "$E2E_TMP/w1.ready"
ok $? "a listener on $IF.sock with its backlog full"
vpnd_spawn f "$NSA" -i "$IF" -W "$W1"
wait_for 20 timeout 5 "$VPNCTL" -s "$E2E_TMP/f/sock" status
ok $? "vpnd starts beside it"
[ $? = 0 ] || diag "parent: $(cat /proc/$VPND_PID_f/wchan 2>/dev/null)"
wait_for 50 grep -q "$W1/$IF.sock is served by another process" \
    "$E2E_TMP/f/log/vpnd.log"
ok $? "... serves no UAPI and says why"
test -S "$W1/$IF.sock"
ok $? "... and leaves the other socket alone"

# 2. a directory of root's, mode 0755: used; group-writable: refused
W2=$E2E_TMP/w2
mkdir -m 755 "$W2"
vpnd_start g "$NSB" -i "$IF" -W "$W2"
ok $? "vpnd with a 0755 UAPI directory"
wait_for 50 test -S "$W2/$IF.sock"
ok $? "... serves $IF.sock there"
is "$(stat -c %a "$W2")" 755 "... and leaves the directory's mode alone"
W3=$E2E_TMP/w3
mkdir "$W3"
chmod 775 "$W3"
vpnd_start h "$NSC" -i "$IF" -W "$W3"
ok $? "vpnd with a group-writable UAPI directory"
wait_for 50 grep -q "uapi: $W3 must be" "$E2E_TMP/h/log/vpnd.log"
ok $? "... refuses to serve in it"
[ ! -e "$W3/$IF.sock" ]
ok $? "... and binds nothing there"
kill -TERM "$VPND_PID_h"
wait_gone "$VPND_PID_h" 100

# 3. sixteen clients that never finish: the event loop is not held
"$PY" - "$W2/$IF.sock" "$E2E_TMP/w2.ready" <<'EOP' &
import socket, sys, time
held = []
for i in range(17):
	c = socket.socket(socket.AF_UNIX)
	try:
		c.connect(sys.argv[1])
		c.send(b"g")
	except OSError:
		pass	# the seventeenth may be closed at once
	held.append(c)
open(sys.argv[2], "w").close()
while True:
	time.sleep(3600)
EOP
SLOW=$!
E2E_PIDS="$E2E_PIDS $SLOW"
wait_for 50 test -e "$E2E_TMP/w2.ready"
ok $? "seventeen clients each sent one byte and hang"
wait_for 50 grep -q "uapi: too many connections" "$E2E_TMP/g/log/vpnd.log"
ok $? "... the seventeenth is turned away"
ctl g status >/dev/null 2>&1
ok $? "... the control socket still answers"
getreq() {
	timeout 5 "$PY" - "$W2/$IF.sock" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(4)
s.connect(sys.argv[1])
s.sendall(b"get=1\n\n")
out = b""
while True:
	d = s.recv(4096)
	if not d:
		break
	out += d
sys.exit(0 if out.endswith(b"errno=0\n\n") else 1)
EOP
}
wait_for 300 getreq
ok $? "get is answered again once their deadline passed"
kill "$SLOW" 2>/dev/null

e2e_done

#!/bin/bash
# busy.t -- what the daemon refuses as "busy" instead of queueing or mixing
# up: an activate while another is being set up, and log requests beyond
# the 64 that may wait for the parent.  The window is held open, not raced:
# the parent (which performs the set-up and reads the log files) is stopped
# with SIGSTOP, and continued once the refusals are in.  Afterwards the
# held activate completes and traffic flows, and every held log request is
# answered.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 58 "$@"
e2e_init busy

WG="w$$b"
client_server "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
PARENT=$VPND_PID_c
PY=$(command -v /usr/bin/python3 || command -v python3)
ACT=$(act4)
resume() { kill -CONT "$PARENT" 2>/dev/null; }

# 1. An activate while the first one's set-up waits for the parent.
kill -STOP "$PARENT"
client -t 30 "$SOCK" "send:$ACT" expect:connected \
    >"$E2E_TMP/first.out" 2>&1 &
FIRST=$!
E2E_PIDS="$E2E_PIDS $FIRST"
wait_for 50 sh -c "[ \"\$(\"$VPNCTL\" -s \"$SOCK\" -j status | \"$E2E_PY\" \"$E2E_CLIENT\" jget state)\" = connecting ]"
ok $? "the first activate is being set up (state connecting)"
out=$(client -t 10 "$SOCK" "send:$ACT" expect:error 2>&1)
is "$(echo "$out" | jget code)" busy "a second activate meanwhile: busy"
echo "$out" | grep -q 'being set up'
ok $? "busy: the message says the tunnel is being set up"
resume
wait "$FIRST"
ok $? "the parent continues: the first activate completes"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows through the tunnel"

# 2. 96 log requests on three clients while the parent cannot answer:
# 64 wait, 32 are refused as busy; after the parent continues, the 64 are
# answered.  A status on a fourth client, answered without the parent,
# shows the 96 were read before the parent is continued.
kill -STOP "$PARENT"
out=$("$PY" - "$SOCK" "$PARENT" <<'PYEOF'
import json, os, signal, socket, sys, time
path, parent = sys.argv[1], int(sys.argv[2])
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s
socks = [conn() for _ in range(3)]
for s in socks:
    s.sendall(b'{"type":"logs"}\n' * 32)
def lines(s, n, deadline):
    buf, got = b"", []
    s.settimeout(0.1)
    while len(got) < n and time.time() < deadline:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
        *done, buf = buf.split(b"\n")
        got += [json.loads(x) for x in done]
    return got
s4 = conn()
s4.sendall(b'{"type":"status"}\n')
st = lines(s4, 1, time.time() + 10)
print("status", st[0]["type"] if st else "none")
os.kill(parent, signal.SIGCONT)
count = {}
deadline = time.time() + 20
for s in socks:
    for o in lines(s, 32, deadline):
        k = o.get("code", o["type"]) if o["type"] == "error" else o["type"]
        count[k] = count.get(k, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(count.items())))
PYEOF
)
resume
diag "$out"
echo "$out" | grep -qx "status status"
ok $? "a status meanwhile is answered without the parent"
echo "$out" | grep -qx "busy=32 logs=64"
ok $? "96 log requests: 64 answered after the parent continues, 32 busy"
ctl c down >/dev/null
is "$(ours_left "$C")" "" "down: nothing of ours left"
e2e_done

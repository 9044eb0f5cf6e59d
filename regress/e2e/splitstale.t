#!/bin/bash
# splitstale.t -- what split tunnelling leaves in conntrack does not open
# the firewall once the exclusion has ended: a connection an excluded
# process made keeps its excluded connection mark after a deactivate,
# but neither the lockdown table (disconnected) nor the kill switch of
# the next tunnel (the process no longer excluded) lets its packets in
# or out; while it is excluded, they pass. Meanwhile nobody (outside
# group vpnd) cannot write itself into vpnd's cgroup, and a control
# connection handed to it excludes the process that connected, not it.
#
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go peer)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24, 203.0.113.2/32 on lo
#   C's default route goes to I: 203.0.113.2 is the "internet".
#
# The daemon's cgroup goes into a cgroup tree this test makes under the
# cgroup2 mount (vpnd -C) and removes in its trap.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 180 "$@"
e2e_init splitstale

cg_tree home

split_world "w$$s" -i

# C: what reaches C from the server's port, before any filter (pre) and
# past vpnd's tables (in, priority 10); what leaves C for it, before
# (out) and past them (post)
ip netns exec "$C" nft -f - <<'EOF' || bail "nft counters in C"
table inet cnt {
	counter pre { }
	counter in { }
	counter out { }
	counter post { }
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		ip saddr 203.0.113.2 tcp sport 7777 counter name pre
	}
	chain in {
		type filter hook input priority 10; policy accept;
		ip saddr 203.0.113.2 tcp sport 7777 counter name in
	}
	chain out {
		type filter hook output priority -400; policy accept;
		ip daddr 203.0.113.2 tcp dport 7777 counter name out
	}
	chain post {
		type filter hook postrouting priority 400; policy accept;
		ip daddr 203.0.113.2 tcp dport 7777 oifname "eth1" counter name post
	}
}
EOF
cnt() {
	ip netns exec "$C" nft list counter inet cnt "$1" |
	    sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# server.py DIR: on 203.0.113.2:7777, one connection; each time DIR/sendN
# appears (N = 1, 2, ...) it sends a line "N"
cat >"$E2E_TMP/server.py" <<'EOF'
import os, socket, sys, time
d = sys.argv[1]
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("203.0.113.2", 7777))
l.listen(1)
open(os.path.join(d, "listening"), "w").close()
c, _ = l.accept()
n = 1
end = time.monotonic() + 150
while time.monotonic() < end:
    if os.path.exists(os.path.join(d, "send%d" % n)):
        c.send(b"%d\n" % n)
        n += 1
    time.sleep(0.05)
EOF
# client.py DIR: connects to the server, says so in DIR/connected, then
# appends every line it receives to DIR/got; each time DIR/sendbackN
# appears it sends a line back
cat >"$E2E_TMP/client.py" <<'EOF'
import os, select, socket, sys, time
d = sys.argv[1]
s = socket.create_connection(("203.0.113.2", 7777), timeout=5,
                             source_address=(sys.argv[2], 0))
open(os.path.join(d, "connected"), "w").close()
n = 1
end = time.monotonic() + 150
while time.monotonic() < end:
    r, _, _ = select.select([s], [], [], 0.05)
    if r:
        b = s.recv(100)
        if not b:
            break
        with open(os.path.join(d, "got"), "a") as f:
            f.write(b.decode())
    if os.path.exists(os.path.join(d, "sendback%d" % n)):
        s.send(b"back%d\n" % n)
        n += 1
EOF
chmod 644 "$E2E_TMP/server.py" "$E2E_TMP/client.py"

spawn_c() {
	local dir="$E2E_TMP/c"
	mkdir -p "$dir"
	nsenter --net="/run/netns/$C" "$VPND" -d -s "$dir/sock" \
	    -L "$dir/log" -S "$dir/state" -W "$dir/wg" -R "$dir/resolv.conf" \
	    -D none -C "$CGT" >>"$dir/out" 2>&1 &
	VPND_PID_c=$!
	E2E_PIDS="$E2E_PIDS $VPND_PID_c"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd did not start:"
		sed 's/^/#   /' "$dir/out"
		return 1
	fi
	wait_for 50 "$VPNCTL" -s "$dir/sock" status
}

actjson() {
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s",' \
	    "$(key_of cli)" "$(pub_of cli)"
	printf '"serverPublicKey":"%s","serverPort":51820,' "$(pub_of srv)"
	printf '"serverIpv4AddrIn":"10.0.0.2",'
	printf '"deviceIpv4Address":"10.8.0.2/32",'
	printf '"serverIpv4Gateway":"10.8.0.1","dnsServer":"10.8.0.1",'
	printf '"allowedIPAddressRanges":[{"address":"0.0.0.0","range":0,'
	printf '"isIpv6":false}]}\n'
}

D="$E2E_TMP/x"
mkdir "$D"
chmod 755 "$D"
got() { cat "$D/got" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
# gt COUNTER N: the counter is past N
gt() { [ "$(cnt "$1")" -gt "$2" ]; }
got_is() { [ "$(got)" = "$1" ]; }

# send N: the server sends line N; waits until C has seen it arrive (pre
# counter grows); prints how many of its packets got past vpnd (in)
send() {
	local p0 i0
	p0=$(cnt pre)
	i0=$(cnt in)
	touch "$D/send$1"
	wait_for 100 gt pre "$p0" || echo "never arrived"
	echo $(($(cnt in) - i0))
}
# sendback N: the client sends line N back; waits until it is on its
# way (out grows); prints how many of its packets left C's eth1 (post)
sendback() {
	local o0 q0
	o0=$(cnt out)
	q0=$(cnt post)
	touch "$D/sendback$1"
	wait_for 100 gt out "$o0" || echo "never sent"
	echo $(($(cnt post) - q0))
}

spawn_c || bail "vpnd did not start"
is "$(ctl c lockdown on)" "lockdown: on" "lockdown on"
actjson >"$E2E_TMP/full.json"
ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
ok $? "full tunnel with the kill switch connects"

ip netns exec "$I" timeout 170 "$E2E_PY" "$E2E_TMP/server.py" "$D" &
E2E_PIDS="$E2E_PIDS $!"
wait_for 50 test -e "$D/listening" || bail "server did not start"
nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" && shift &&
    exec "$@"' sh "$CGT/home" "$VPNCTL" -s "$(sock_of c)" \
    exclude -- "$E2E_PY" "$E2E_TMP/client.py" "$D" 192.0.2.1 &
CLIENT=$!
E2E_PIDS="$E2E_PIDS $CLIENT"
wait_for 100 test -e "$D/connected"
ok $? "an excluded process connects to the internet outside the tunnel"
is "$(send 1)" 1 "excluded: the server's data comes in"
wait_for 50 got_is 1
ok $? "... and the process reads it ($(got))"
[ "$(sendback 1)" -gt 0 ]
ok $? "excluded: its own data goes out eth1"

# -- who else gets in: a uid outside the group cannot put itself into
# vpnd's cgroup, and a connection handed to it excludes its connector
chmod o+x "$E2E_TMP"
r=$(setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c \
    'echo $$ >"$1/cgroup.procs"' sh "$CGT/vpnd-exclude" 2>&1)
n=$?
[ "$n" -ne 0 ]
ok $? "nobody cannot write its pid into vpnd-exclude ($r)"
is "$(cat "$CGT/vpnd-exclude/cgroup.procs" | grep -cvx "$CLIENT")" 0 \
    "... vpnd-exclude holds only the excluded process"
cat >"$E2E_TMP/handoff.py" <<'EOF2'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # the child, holding the root connection, becomes nobody and asks
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    s.sendall(b'{"type":"exclude","id":1}\n')
    ans = "none"
    for line in s.makefile():
        o = json.loads(line)
        if o.get("id") == 1:
            ans = o["type"] + " " + o.get("code", "")
            break
    cg = [l[3:].strip() for l in open("/proc/self/cgroup")
          if l.startswith("0::")][0]
    os.write(w, ("%s|%s" % (ans.strip(), cg)).encode())
    os._exit(0)
os.waitpid(pid, 0)
os.close(w)
child = os.read(r, 4096).decode()
me = [l[3:].strip() for l in open("/proc/self/cgroup")
      if l.startswith("0::")][0]
print("%s|%s" % (child, me))
EOF2
r=$(nsenter --net="/run/netns/$C" sh -c 'echo $$ >"$1/cgroup.procs" && shift &&
    exec "$@"' sh "$CGT/home" timeout 15 "$E2E_PY" "$E2E_TMP/handoff.py" \
    "$(sock_of c)")
is "${r%%|*}" "exclude" "a connection handed to nobody: the request is served"
r=${r#*|}
is "${r%%|*}" "/${CGT#"$CG2"/}/home" "... nobody, who holds it, is not excluded"
is "${r#*|}" "/${CGT#"$CG2"/}/vpnd-exclude" \
    "... the root process that connected is (credentials of the connect)"

# -- deactivate in lockdown: the exclusion ends, the connection stays
ctl c down >/dev/null
ok $? "deactivate (lockdown on)"
[ "$(sed -n 's/^0:://p' "/proc/$CLIENT/cgroup")" = "/${CGT#"$CG2"/}/home" ]
ok $? "the process is back in its own cgroup"
ip netns exec "$C" nft list table inet vpnd | grep -q "ct mark"
ok "$((! $?))" "the lockdown table has no rule for excluded connections"
is "$(send 2)" 0 "lockdown, disconnected: the server's data is dropped"
is "$(got)" 1 "... the process reads nothing more"
is "$(sendback 2)" 0 "lockdown, disconnected: nothing of it goes out"

# -- the next tunnel: the process is not excluded now
ctl c -t 10 activate "$E2E_TMP/full.json" >/dev/null
ok $? "connected again, the process not excluded"
is "$(send 3)" 0 "kill switch: the server's data is dropped"
is "$(sendback 3)" 0 "kill switch: nothing of it goes out eth1"
is "$(got)" 1 "... the process read nothing past the exclusion"
ctl c down >/dev/null
ctl c lockdown off >/dev/null
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
clean_in "$C"
ok $? "nothing of ours left"
e2e_done

#!/bin/bash
# race.t -- requests that arrive while an earlier one is still being set
# up: activate and deactivate back to back on one connection (the
# set-up's reply must not be taken for the tear-down's), and status right
# behind an activate (answered at once, not after the set-up). Nothing of
# ours may remain; each activate is taken (its only possible error is the
# cancellation by the deactivate), and the last stays connecting, since
# no server answers here. The daemon manages
# the namespace's own resolv.conf (ip netns exec, /etc/netns/NS/resolv.conf,
# no -R), as in a container.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init race

N=$(ns_add n)
ip -n "$N" link add d0 type veth peer name d1
ip -n "$N" addr add 10.0.0.1/24 dev d0
ip -n "$N" link set d0 up
ip -n "$N" link set d1 up
printf 'nameserver 10.0.0.53\n' >"$E2E_TMP/resolv.orig"
RC=$(netns_resolv "$N" "$E2E_TMP/resolv.orig")
E2E_NO_R=1
vpnd_start a "$N" -D file || bail "vpnd did not start"
keypair me
keypair srv
PY=$(command -v /usr/bin/python3 || command -v python3)

# $1: what to send after the activate; prints what came back, one a line
burst() {
	"$PY" - "$(sock_of a)" "$(key_of me)" "$(pub_of me)" "$(pub_of srv)" \
	    "$1" <<'PYEOF'
import json, socket, sys, time
sock, priv, pub, spub, then = sys.argv[1:]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
act = {"type": "activate", "privateKey": priv, "publicKey": pub,
       "serverPublicKey": spub, "serverPort": 51820,
       "serverIpv4AddrIn": "10.0.0.2", "deviceIpv4Address": "10.8.0.2/32",
       "dnsServer": "10.8.0.1",
       "allowedIPAddressRanges": [{"address": "0.0.0.0", "range": 0,
                                   "isIpv6": False}]}
t0 = time.time()
s.sendall((json.dumps(act) + "\n" + json.dumps({"type": then}) +
           "\n").encode())
s.settimeout(0.05)
buf = b""
seen = set()
end = time.time() + 5
while time.time() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        d = None
    if d == b"":
        break
    if d:
        buf += d
        lines = buf.split(b"\n")
        buf = lines.pop()
        for line in lines:
            o = json.loads(line)
            print(o["type"], int((time.time() - t0) * 1000), o.get("code", ""), o.get("message", ""), flush=True)
            seen.add(o["type"])
    if then in ("status",) and "status" in seen:
        break
    if then == "deactivate" and "disconnected" in seen:
        break
PYEOF
}

for i in 1 2 3; do
	got=$(burst deactivate)
	echo "$got" | grep -q '^disconnected'
	ok $? "activate+deactivate back to back ($i): disconnected"
	# A refused activate (bad-config, busy) would also end disconnected:
	# the only error allowed is the set-up being cancelled by the
	# deactivate, which proves it was taken and under way.
	! echo "$got" | grep '^error' |
	    grep -qv '^error [0-9]* system deactivated before the set-up finished'
	ok $? "the activate was taken, not refused ($i)"
	is "$(echo "$got" | tail -1 | cut -d' ' -f1)" disconnected \
	    "disconnected is the last message ($i)"
	wait_for 30 sh -c "! ip -n $N link show vpn0 >/dev/null 2>&1"
	left=$(ours_left "$N")
	is "$left" "" "nothing of ours remains ($i)"
	cmp -s "$E2E_TMP/resolv.orig" "$RC"
	ok $? "resolv.conf as before ($i)"
done

got=$(burst status)
! echo "$got" | grep -q '^error'
ok $? "activate then status: the activate was taken, not refused"
ctl a -j status | grep -q '"state":"connecting"'
ok $? "the activate behind the status is still connecting (no server)"
t=$(echo "$got" | awk '$1 == "status" { print $2; exit }')
[ -n "$t" ] && [ "$t" -lt 500 ]
ok $? "status right behind an activate answers in ${t:-?} ms"
ctl a down >/dev/null
wait_for 30 sh -c "! ip -n $N link show vpn0 >/dev/null 2>&1"
is "$(ours_left "$N")" "" "down after that: nothing remains"
is "$(ctl_state a)" disconnected "state disconnected"
host_resolv_ok
ok $? "the host's own /etc/resolv.conf is unchanged (sha256)"
e2e_done

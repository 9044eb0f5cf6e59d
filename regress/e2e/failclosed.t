#!/bin/bash
# failclosed.t -- a full tunnel whose data plane fails while up
# fails closed. Clients get backendFailure and disconnected, status says
# "error", the kill switch stays and blocks direct traffic; a deactivate
# removes it and direct traffic flows again. (Test build: tunworker fails
# on purpose after the first handshake, VPND_TESTHOOK=tunworker:3.)
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init failclosed
[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: run make TESTHOOKS=1"

WG="w$$f"
client_server "$WG"
direct_counter

cat >"$E2E_TMP/c.conf" <<CONF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0
CONF
chmod 600 "$E2E_TMP/c.conf"

VPND_BIN="$VPND_TEST" VPND_TESTHOOK=tunworker:3 vpnd_start c "$C" ||
    bail "vpnd did not start"
ctl c -j monitor >"$E2E_TMP/events" 2>&1 &
MON=$!
E2E_PIDS="$E2E_PIDS $MON"
wait_for 30 test -s "$E2E_TMP/events" || true
ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null 2>&1
wait_for 50 grep -q '"backendFailure"' "$E2E_TMP/events"
ok $? "the injected failure is reported as backendFailure"
wait_for 50 grep -q '"disconnected"' "$E2E_TMP/events"
ok $? "and disconnected follows"
wait_for 50 sh -c "\"$VPNCTL\" -s \"$(sock_of c)\" -j status | grep -q '\"state\":\"error\"'"
ok $? "status says error"
wait_for 50 sh -c "! ip -n $C link show vpn0 >/dev/null 2>&1"
ip netns exec "$C" nft list table inet vpnd >/dev/null 2>&1
ok $? "the kill switch is still there (fail closed)"
ip -n "$C" link show vpn0 >/dev/null 2>&1
ok $((! $?)) "the tunnel interface is gone"
before=$(direct)
changed() { [ "$(direct)" != "$before" ]; }
send_direct
# nothing may arrive: give it a bounded chance to, polling
wait_for 10 changed
ok $((! $?)) "direct traffic is blocked while in error"
is "$(direct)" "$before" "(counter unchanged: $before)"
ctl c down >/dev/null 2>&1
wait_for 50 sh -c "! ip netns exec $C nft list table inet vpnd >/dev/null 2>&1"
ok $? "deactivate removes the kill switch"
is "$(ctl_state c)" disconnected "state disconnected"
send_direct
wait_for 50 sh -c "[ \"\$(ip netns exec $S nft list counter inet cnt direct | awk '/packets/ { print \$2 }')\" -gt ${before:-0} ]"
ok $? "direct traffic flows again"
e2e_done

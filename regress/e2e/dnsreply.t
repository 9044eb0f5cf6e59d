#!/bin/bash
# dnsreply.t -- dnsmgr's answers reach people: netmgr passes the text of a
# failed DNS step to the client (vpnctl prints it on a terminal) and to
# the log. A compromised dnsmgr must not drive that terminal or forge log
# lines through it. The test build's VPND_TESTHOOK=dnsmgr:7 makes dnsmgr
# answer every DNS request with an OSC title, a clear-screen, CR LF and a
# forged "parent:" line, DEL and a C1 CSI; what vpnctl prints and what the
# daemon logs must hold none of those bytes, and still say what failed.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init dnsreply

[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1"
WG="w$$r"
client_server "$WG"

client_conf "$E2E_TMP/c.conf"

mkdir -p "$E2E_TMP/c"
printf 'nameserver 192.0.2.53\n' >"$E2E_TMP/c/resolv.conf"
VPND_BIN=$VPND_TEST VPND_TESTHOOK=dnsmgr:7 vpnd_start c "$C" -D file ||
    bail "vpnd did not start"
ctl c -t 5 up "$E2E_TMP/c.conf" >"$E2E_TMP/said" 2>&1
ok $((! $?)) "the connect fails at the DNS step"
diag "vpnctl: $(cat -v "$E2E_TMP/said")"
grep -q 'DNS: x?\]2;owned' "$E2E_TMP/said"
ok $? "vpnctl says what failed, with the control bytes replaced"
# no ESC, BEL, CR, DEL, and no byte above 0x7e
LC_ALL=C grep -q "$(printf '[\033\007\r\177\200-\377]')" "$E2E_TMP/said"
ok $((! $?)) "vpnctl printed no control byte, DEL or 8-bit byte"
is "$(wc -l <"$E2E_TMP/said")" 1 "on one line"
# netmgr itself replaces them (vpnctl would too): the reply as sent
ctl c -j -t 5 up "$E2E_TMP/c.conf" >"$E2E_TMP/said.json" 2>&1
grep -q 'DNS: x?\]2;owned' "$E2E_TMP/said.json"
ok $? "netmgr's own reply has the control bytes replaced (vpnctl -j)"
wait_for 50 grep -q 'tunnel failed: DNS: x' "$E2E_TMP/c/out"
ok $? "the log has the failure"
LC_ALL=C grep -q "$(printf '[\033\007\r\177\200-\377]')" "$E2E_TMP/c/out"
ok $((! $?)) "the log holds no control byte, DEL or 8-bit byte"
grep -q '^parent: forged' "$E2E_TMP/c/out"
ok $((! $?)) "and no forged parent line"
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "SIGTERM: vpnd exits"
e2e_done

#!/bin/bash
# cycles.t -- 50 activate/deactivate cycles (vpnctl up/down),
# with a kill -9 of the parent at a random instant every 10 cycles and a
# restart; at the end nothing of ours remains. The daemon manages the
# namespace's own resolv.conf (ip netns exec, /etc/netns/NS/resolv.conf,
# no -R), as in a container. Bounded: every vpnctl
# call has a timeout and the loop gives up past a deadline (< 120 s).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_init cycles

WG="w$$y"
client_server "$WG"
cat >"$E2E_TMP/c.conf" <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
DNS = 10.8.0.1, cycles.example
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0, ::/0
EOF

ORIG="$E2E_TMP/resolv.orig"
printf '# cycles\nnameserver 10.0.0.53\nsearch cycles.lan\n' >"$ORIG"
RC=$(netns_resolv "$C" "$ORIG")
E2E_NO_R=1
DEADLINE=$((SECONDS + 100))

body() {
	local i cl delay fails=0 phase phases=""

	vpnd_start c "$C" -D file || bail "vpnd did not start"
	for i in $(seq 1 50); do
		if [ "$SECONDS" -ge "$DEADLINE" ]; then
			ok 1 "cycle $i: deadline passed, giving up"
			return
		fi
		if [ $((i % 10)) -ne 0 ]; then
			ctl c -t 10 up "$E2E_TMP/c.conf" >/dev/null &&
			    ! clean_in "$C" &&
			    ctl c -t 5 down >/dev/null &&
			    clean_in "$C" && cmp -s "$ORIG" "$RC"
			ok $? "cycle $i: up, down, nothing left"
			continue
		fi
		# An up and a down run; the parent dies at a random instant
		# in the first ~0.4 s of it (before, during or after the
		# handshake, or during the teardown). The delay is the
		# randomness of the crash instant, not a synchronisation.
		(ctl c -t 3 up "$E2E_TMP/c.conf" && ctl c -t 3 down) \
		    >/dev/null 2>&1 &
		cl=$!
		delay=$(printf '0.%03d' $((RANDOM % 400)))
		sleep "$delay"
		# which phase the kill hit, as far as a status can tell
		phase=$(ctl c -t 1 -j status 2>/dev/null | jget state)
		vpnd_kill9 c parent
		ok $? "cycle $i: kill -9 parent after ${delay}s (${phase:-?}); instance exits"
		phases="$phases ${phase:-none}"
		wait "$cl" 2>/dev/null
		vpnd_start c "$C" -D file
		ok $? "cycle $i: restart"
		is "$(ours_left "$C")" "" "cycle $i: nothing of ours after restart"
		cmp -s "$ORIG" "$RC"
		ok $? "cycle $i: resolv.conf byte-identical after restart"
		is "$(ctl_state c)" disconnected "cycle $i: not re-activated"
	done

	diag "states seen at the kills:$phases"
	kill -TERM "$VPND_PID_c"
	wait_gone "$VPND_PID_c" 50
	ok $? "final shutdown"
	is "$(ours_left "$C")" "" "at the end: no link, rule, route, nft table"
	cmp -s "$ORIG" "$RC"
	ok $? "at the end: resolv.conf byte-identical"
	test -z "$(ls "$E2E_TMP/c/state" |
	    grep -v -e '^device-id$' -e '^empty$' -e '^dns$')" &&
	    test -z "$(ls "$E2E_TMP/c/state/dns")"
	ok $? "at the end: no state records left"
	ping_ok "$C" 10.0.0.2
	ok $? "at the end: direct connectivity works"
	ok $((SECONDS >= DEADLINE)) "within the time bound"
}

body
host_resolv_ok
ok $? "the host's own /etc/resolv.conf is unchanged (sha256)"
e2e_done

#!/bin/bash
# vpnctl.t -- every vpnctl command, human and -j output, against golden
# files in regress/e2e/golden/vpnctl/ (volatile fields -- times, byte
# counts, ports, device id, keys -- replaced by placeholders first);
# `up` of a wg-quick file with two peers (two wireguard-go namespaces);
# the exit codes 0, 1, 2, 3 of man/vpnctl.8.
#
# A run never writes the golden files: it leaves each normalised output in
# $VPND_BUILD/golden-got/vpnctl/, and `make golden` copies those over the
# golden files (review them with git diff before committing).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 58 "$@"
e2e_init vpnctl

GOLDEN="$(cd "$(dirname "$0")" && pwd)/golden/vpnctl"

# norm: replace what changes from run to run by placeholders
norm() {
	sed -E \
	    -e "s#$(pub_of srv1 | sed 's/[+/]/\\&/g')#<SRV1-PUB>#g" \
	    -e "s#$(pub_of srv2 | sed 's/[+/]/\\&/g')#<SRV2-PUB>#g" \
	    -e "s#$(pub_of cli | sed 's/[+/]/\\&/g')#<CLI-PUB>#g" \
	    -e 's#[A-Za-z0-9+/]{43}=#<KEY>#g' \
	    -e 's#[0-9a-f]{32}#<DEVICE-ID>#g' \
	    -e 's#(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9]?[0-9] [0-9:]{8} [0-9]{4}#<DATE>#g' \
	    -e 's#[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z#<TIME>#g' \
	    -e 's#"(lastHandshake|handshakeAgeSec|rxAgeSec|rxBytes|txBytes|uptimeSec)":[0-9]+#"\1":<N>#g' \
	    -e 's#(latest (handshake|receive): ).*#\1<AGO>#' \
	    -e 's#[0-9]+(\.[0-9]+)? (B|KiB|MiB|GiB|bytes) (received|sent)#<BYTES> \3#g' \
	    -e 's#(uptime: *)[0-9].*#\1<UPTIME>#' \
	    -e 's#vpnd-e2e-vpnctl\.[A-Za-z0-9]+#<TMP>#g' \
	    -e 's#port [0-9]+#port <PORT>#g' \
	    -e 's#(uid [0-9]+, pid )[0-9]+#\1<PID>#g'
}

# golden NAME EXPECTED-RC CMD...: run CMD, compare its normalised stdout,
# then "[stderr]" and its stderr if any, and its exit status with
# golden/vpnctl/NAME
golden() {
	local name=$1 want=$2 rc out
	shift 2
	out=$("$@" 2>"$E2E_TMP/stderr")
	rc=$?
	if [ -s "$E2E_TMP/stderr" ]; then
		out=$(printf '%s\n[stderr]\n' "$out"; cat "$E2E_TMP/stderr")
	fi
	out=$(printf '%s\n' "$out" | norm)
	case ${GF:-} in
	anysrv)	# which of the two peers answers first is a race
		out=$(printf '%s\n' "$out" | sed 's/<SRV[12]-PUB>/<SRV-PUB>/g') ;;
	monitor) # signals and the 1 s status poll interleave as they come:
		# compare as a set; a poll may catch the short "connecting",
		# and whether one sees the final state before the monitor is
		# stopped is a race: each state line counts once
		out=$(printf '%s\n' "$out" | sed 's/<SRV[12]-PUB>/<SRV-PUB>/g' |
		    sed -E 's/"id":[0-9]+/"id":<ID>/' |
		    grep -v connecting |
		    awk '!/^state: |"type":"status"/ || !seen[$0]++' |
		    LC_ALL=C sort) ;;
	esac
	mkdir -p "$VPND_BUILD/golden-got/vpnctl" &&
	    printf '%s\n' "$out" >"$VPND_BUILD/golden-got/vpnctl/$name"
	is "$rc" "$want" "$name: exit status $want"
	if [ -f "$GOLDEN/$name" ] &&
	    [ "$out" = "$(cat "$GOLDEN/$name")" ]; then
		ok 0 "$name: output matches golden/vpnctl/$name"
	else
		ok 1 "$name: output matches golden/vpnctl/$name"
		printf '%s\n' "$out" | diff -u "$GOLDEN/$name" - | sed 's/^/#   /'
	fi
}

body() {
	local S1 S2 SOCK CONF mpid out
	two_servers 10.201.0
	ip -n "$S2" route add 10.200.0.2/32 dev "wg${E2E_ID}b"
	vpnd_start c "$C" || bail "vpnd did not start"
	SOCK=$(sock_of c)

	cat >"$E2E_TMP/wg0.conf" <<-EOF
	# two peers: S1 serves 10.200.0.0/24, S2 serves 10.201.0.0/24
	[Interface]
	PrivateKey = $(key_of cli)
	Address = 10.200.0.2/32, fd00:200::2/128
	DNS = 10.200.0.1, vpn.test

	[Peer]
	PublicKey = $(pub_of srv1)
	Endpoint = 10.99.1.1:51820
	AllowedIPs = 10.200.0.0/24
	PersistentKeepalive = 25

	[Peer]
	PublicKey = $(pub_of srv2)
	Endpoint = 10.99.2.1:51821
	AllowedIPs = 10.201.0.0/24
	EOF
	chmod 600 "$E2E_TMP/wg0.conf"

	golden version 0 ctl c version
	golden version-j 0 ctl c -j version
	golden status-down 0 ctl c status
	golden status-down-j 0 ctl c -j status

	# a monitor runs through up and down
	ctl c monitor >"$E2E_TMP/monitor.out" 2>&1 &
	mpid=$!
	E2E_PIDS="$E2E_PIDS $mpid"
	wait_for 50 grep -q . "$E2E_TMP/monitor.out"
	ctl c -j monitor >"$E2E_TMP/monitor-j.out" 2>&1 &
	E2E_PIDS="$E2E_PIDS $!"
	wait_for 50 grep -q . "$E2E_TMP/monitor-j.out"

	GF=anysrv golden up 0 ctl c up "$E2E_TMP/wg0.conf"
	ping_ok "$C" 10.200.0.1 && ping_ok "$C" 10.201.0.1
	ok $? "traffic to both peers' networks"
	out=$(ctl c -j status)
	is "$(echo "$out" | jget peers.0.publicKey peers.1.publicKey)" \
	    "$(pub_of srv1)
$(pub_of srv2)" "both peers of the wg-quick file are configured"
	wait_for 50 both_handshaken
	ok $? "both peers have a handshake"
	golden status-up 0 ctl c status
	golden status-up-j 0 ctl c -j status

	# the logs as they are: too volatile for a golden file
	out=$(ctl c logs)
	echo "$out" | grep -q 'parent: vpnd [0-9.]* starting' &&
	    echo "$out" | grep -q 'handshake with' &&
	    [ "$(echo "$out" | wc -l)" -ge 5 ]
	ok $? "logs: one log line per output line"
	ctl c -j logs | jget logs | grep -q 'starting|.*handshake with'
	ok $? "logs -j: the lines joined with |"
	golden cleanlogs 0 ctl c cleanlogs
	golden cleanlogs-j 0 ctl c -j cleanlogs
	golden logs-j 0 ctl c -j logs
	golden logs 0 ctl c logs

	golden down 0 ctl c down
	golden down-j 0 ctl c -j down
	wait_for 50 disconnected2 "$E2E_TMP/monitor.out"
	ok $? "monitor: saw both disconnected signals"
	wait_for 50 disconnected2 "$E2E_TMP/monitor-j.out"
	ok $? "monitor -j: saw both disconnected signals"
	kill -TERM "$mpid"
	wait_gone "$mpid" 30
	GF=monitor golden monitor 0 cat "$E2E_TMP/monitor.out"
	GF=monitor golden monitor-j 0 cat "$E2E_TMP/monitor-j.out"
	# the golden compares sets; the signals' order is checked here
	for f in monitor monitor-j; do
		is "$(grep -oE '^(connected|disconnected)|"type":"(connected|disconnected)"' \
		    "$E2E_TMP/$f.out" | sed 's/"type":"//; s/"$//' | tr '\n' ' ')" \
		    "connected connected disconnected disconnected " \
		    "$f: the signals in order (both up, then both down)"
	done

	# -j up, then activate from stdin
	GF=anysrv golden up-j 0 ctl c -j up "$E2E_TMP/wg0.conf"
	ctl c down >/dev/null
	mozconf cli srv1 51820 10.99.1.1 10.200.0.2/32 fd00:200::2/128 \
	    "10.200.0.0/24" >"$E2E_TMP/act.json"
	golden activate-stdin 0 ctl c activate - <"$E2E_TMP/act.json"
	ctl c down >/dev/null

	# -- exit status 1: the daemon said no
	sed 's#"publicKey":"[^"]*"#"publicKey":"'"$(pub_of srv2)"'"#' \
	    "$E2E_TMP/act.json" >"$E2E_TMP/bad.json"
	golden err-badkey 1 ctl c activate "$E2E_TMP/bad.json"
	golden err-badkey-j 1 ctl c -j activate "$E2E_TMP/bad.json"
	# no handshake within -t: a peer that does not answer
	sed 's/10.99.1.1/10.99.1.9/' "$E2E_TMP/act.json" >"$E2E_TMP/dead.json"
	golden err-timeout 1 ctl c -t 2 activate "$E2E_TMP/dead.json"
	ctl c down >/dev/null
	# -- exit status 2: usage, unreadable file
	golden usage-nocmd 2 ctl c
	golden usage-badcmd 2 ctl c frobnicate
	golden usage-up-noarg 2 ctl c up
	golden usage-up-missing 2 ctl c up "$E2E_TMP/no-such.conf"
	printf '[Interface]\nPrivateKey = short\n' >"$E2E_TMP/broken.conf"
	chmod 600 "$E2E_TMP/broken.conf"
	golden usage-up-broken 2 ctl c up "$E2E_TMP/broken.conf"
	# -- exit status 3: no daemon there
	golden unreach 3 "$VPNCTL" -s "$E2E_TMP/nonexistent/sock" status
	golden unreach-j 3 "$VPNCTL" -j -s "$E2E_TMP/nonexistent/sock" status
	pid_alive "$VPND_PID_c"
	ok $? "vpnd still running"
}

disconnected2() {
	[ "$(grep -c disconnected "$1")" -ge 2 ]
}

both_handshaken() {
	local out
	out=$(ctl c -j status)
	[ "$(echo "$out" | jget peers.0.lastHandshake)" -gt 0 ] &&
	    [ "$(echo "$out" | jget peers.1.lastHandshake)" -gt 0 ]
}

body
e2e_done

#!/bin/bash
# policy.t -- the parent's policy on what an activate may install: a
# device address the host already has on another link, or a loopback,
# link-local, multicast or unspecified one, and a route into loopback,
# link-local (cloud metadata) or multicast ranges, or a prefix other than
# the full tunnel around IPv4 link-local (as a route, or as the prefix of
# a device address, which the kernel routes) are refused with an
# error that says why, and nothing is installed; the full tunnel and
# ordinary prefixes still work. Who asked is logged.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 90 "$@"
e2e_init policy

WG="w$$p"
client_server "$WG"
vpnd_start c "$C" -D none || bail "vpnd did not start"
SOCK=$(sock_of c)

# refused DESC WORD ADDR4 ADDR6 RANGES: the activate gets an error whose
# message holds WORD, then disconnected; nothing of ours is left.
refused() {
	local out msg
	out=$(client -t 15 "$SOCK" \
	    "send:$(mozconf cli srv 51820 10.0.0.2 "$3" "$4" "$5")" \
	    expect:error\|connected expect:disconnected)
	is "$(echo "$out" | jget type | tr '\n' ' ')" "error disconnected " \
	    "$1: refused"
	msg=$(echo "$out" | head -1 | jget message)
	case $msg in
	*"$2"*) ok 0 "$1: the error says '$2'" ;;
	*) ok 1 "$1: the error says '$2'"; diag "message: $msg" ;;
	esac
	is "$(ours_left "$C")" "" "$1: nothing installed"
}

V6=fd00:8::2/128
refused "device address 127.0.0.2" loopback 127.0.0.2/32 $V6 0.0.0.0/0
refused "device address of the host's eth0" "already the host's" \
    10.0.0.1/32 $V6 0.0.0.0/0
refused "device address 169.254.1.1" link-local 169.254.1.1/32 $V6 \
    10.8.0.0/24
refused "device address 224.0.0.5" multicast 224.0.0.5/32 $V6 10.8.0.0/24
refused "device address 0.0.0.0" unspecified 0.0.0.0/32 $V6 10.8.0.0/24
refused "device address fe80::2" link-local 10.8.0.2/32 fe80::2/128 \
    10.8.0.0/24
refused "route to cloud metadata" link-local 10.8.0.2/32 $V6 \
    10.8.0.0/24,169.254.169.254/32
refused "route 127.0.0.0/8" loopback 10.8.0.2/32 $V6 \
    10.8.0.0/24,127.0.0.0/8
refused "route 224.0.0.0/4" multicast 10.8.0.2/32 $V6 \
    10.8.0.0/24,224.0.0.0/4
refused "route fe80::/10" link-local 10.8.0.2/32 $V6 10.8.0.0/24,fe80::/10
# A prefix around link-local would carry cloud metadata into the tunnel
# just the same, wherever the host has no more specific route for it.
refused "route 169.0.0.0/8" "covers link-local" 10.8.0.2/32 $V6 \
    10.8.0.0/24,169.0.0.0/8
refused "route 169.254.0.0/15" "covers link-local" 10.8.0.2/32 $V6 \
    10.8.0.0/24,169.254.0.0/15
refused "route 128.0.0.0/1" "covers link-local" 10.8.0.2/32 $V6 \
    0.0.0.0/1,128.0.0.0/1
# A device address's prefix becomes a route of the kernel's own.
refused "device address 169.255.0.1/15" "covers link-local" \
    169.255.0.1/15 $V6 10.8.0.0/24
grep -q 'refused network set-up: route 169.254.169.254/32 is link-local' \
    "$E2E_TMP/c/out"
ok $? "the parent logs what it refused"

out=$(client -t 15 "$SOCK" \
    "send:$(mozconf cli srv 51820 10.0.0.2 10.8.0.2/32 $V6 \
    0.0.0.0/0,::/0,10.8.0.0/24)" expect:connected\|error)
is "$(echo "$out" | jget type)" connected \
    "a full tunnel with an ordinary prefix connects"
ping_ok "$C" 10.8.0.1
ok $? "and carries traffic"
out=$(client -t 15 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected)
is "$out" '{"type":"disconnected"}' "deactivate"
is "$(ours_left "$C")" "" "nothing left after deactivate"
grep -Eq 'netmgr: activate requested by uid 0, pid [0-9]+$' "$E2E_TMP/c/out" &&
    grep -Eq 'netmgr: deactivate requested by uid 0, pid [0-9]+$' \
    "$E2E_TMP/c/out"
ok $? "who asked for activate and deactivate is logged (uid, pid)"

e2e_done

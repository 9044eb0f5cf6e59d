#!/bin/bash
# ksscale.t -- the kill switch with the most peers a file may have.
#
# A headless file with 1,024 peers, each with an endpoint of its own, and
# Lockdown on: vpnd comes up with its kill switch, which accepts each
# endpoint both ways: one rule a direction looking the endpoint up in a
# set (hashed: a packet no longer walks a rule per peer). The batch must
# fit, and so must the kernel's acks for all of its commands: acks it
# drops after committing would make a ruleset in place look failed (the
# tunnel rolled back, the rules left behind).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init ksscale
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=1024
[ -x "$VPND_BUILD/hsgen" ] || bail "no $VPND_BUILD/hsgen: run make first"

NSS=$(ns_add s)
keypair s
umask 077
"$VPND_BUILD/hsgen" keys $N >"$E2E_TMP/keys" || bail "hsgen keys"
{
	printf '[Interface]\nPrivateKey = %s\nAddress = 10.201.250.1/16\n' \
	    "$(key_of s)"
	printf 'ListenPort = 51820\nLockdown = on\n'
	awk '{
		i = NR - 1
		printf "[Peer]\nPublicKey = %s\n", $2
		printf "Endpoint = 10.100.%d.%d:%d\n", int(i / 256), i % 256,
		    1000 + i
		printf "AllowedIPs = 10.201.%d.%d/32\n", int(i / 256), i % 256
	}' "$E2E_TMP/keys"
} >"$E2E_TMP/s.conf"

vpnd_start s "$NSS" -f "$E2E_TMP/s.conf"
ok $? "vpnd starts with $N peers and Lockdown on"
GOT=$("$PY" "$ROOT/scripts/uapi_peers.py" "$E2E_TMP/s/wg/vpn0.sock" "$N" 30)
ok $? "the tunnel comes up with its $N peers ($GOT)" ||
    sed 's/^/#   /' "$E2E_TMP/s/out"
grep -q "kill switch on" "$E2E_TMP/s/out"
ok $? "... with its kill switch"
ip netns exec "$NSS" nft list ruleset >"$E2E_TMP/rules"
is "$(tr ',' '\n' <"$E2E_TMP/rules" |
    grep -c '10\.100\.[0-9]*\.[0-9]* \. [0-9]')" "$N" \
    "the endpoints' set holds each endpoint"
is "$(grep -c 'ip daddr \. udp dport @endpoints4 accept' "$E2E_TMP/rules")" \
    1 "one outgoing rule looks them up"
is "$(grep -c 'ip saddr \. udp sport @endpoints4 accept' "$E2E_TMP/rules")" \
    1 "one incoming rule looks them up"
e2e_done

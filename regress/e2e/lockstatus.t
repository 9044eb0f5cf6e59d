#!/bin/bash
# lockstatus.t -- `status` carries the lockdown setting, as
# {"enabled":bool,"allowLan":bool} under "lockdown", the same as
# lockdownStatus: off after a fresh start, on (and allowLan) after
# `vpnctl lockdown on --allow-lan`, off again after `lockdown off`;
# an ordinary local user (the read-only tier) sees it too.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 60 "$@"
e2e_init lockstatus

C=$(ns_add c)
ip -n "$C" link set lo up
vpnd_start a "$C" -D none || bail "vpnd did not start"
# the build tree may be closed to others: a copy they can run
chmod o+x "$E2E_TMP" "$E2E_TMP/a"
install -m 755 "$VPNCTL" "$E2E_TMP/vpnctl"

# lockdown_of [nobody]: status's lockdown member, "enabled allowLan",
# or "absent"
lockdown_of() {
	local out
	if [ "${1:-}" = nobody ]; then
		out=$(ip netns exec "$C" setpriv --reuid=nobody \
		    --regid=nogroup --clear-groups timeout 10 \
		    "$E2E_TMP/vpnctl" -s "$(sock_of a)" -j status)
	else
		out=$(ctl a -j status)
	fi
	echo "$out" | "$E2E_PY" -c 'import json, sys
o = json.load(sys.stdin).get("lockdown")
print("absent" if o is None else "%s %s" % (
    str(o.get("enabled")).lower(), str(o.get("allowLan")).lower()))'
}

known() { [ "$(lockdown_of)" != absent ]; }
wait_for 50 known
ok $? "status carries lockdown once the setting is known"
is "$(lockdown_of)" "false false" "status after start: lockdown off"
is "$(lockdown_of nobody)" "false false" "... also for an ordinary user"
ctl a lockdown on --allow-lan >/dev/null
ok $? "lockdown on, the LAN allowed"
is "$(lockdown_of)" "true true" "status: lockdown on, allowLan"
is "$(lockdown_of nobody)" "true true" "... also for an ordinary user"
is "$(ctl a -j lockdown status | "$E2E_PY" -c 'import json, sys
o = json.load(sys.stdin); print(o["enabled"], o["allowLan"])')" "True True" \
    "... the same as lockdownStatus"
ctl a lockdown off >/dev/null
ok $? "lockdown off"
is "$(lockdown_of)" "false false" "status: lockdown off again"
e2e_done

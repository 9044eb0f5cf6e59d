#!/bin/sh
# mkuser.sh -- create the vpnd group, the _vpnd user (netmgr, tunworker)
# and the _vpnddns user (dnsmgr, alone: the polkit rule names it) when
# missing.
set -eu
if ! getent group vpnd >/dev/null 2>&1; then
	groupadd --system vpnd
fi
for u in _vpnd _vpnddns; do
	if ! getent passwd "$u" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin --user-group "$u" 2>/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin -g nogroup "$u"
	fi
done

#!/bin/sh
# mkuser.sh -- create the _vpnd user and the vpnd group when missing.
set -eu
if ! getent group vpnd >/dev/null 2>&1; then
	groupadd --system vpnd
fi
if ! getent passwd _vpnd >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group _vpnd 2>/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin -g nogroup _vpnd
fi

#!/bin/sh
# prove-noskip.sh -- prove, with every test file's output read for skips.
#
#	sh regress/lib/prove-noskip.sh [prove options] test ...
#
# Runs prove -v and shows only what matters (file names, failures,
# diagnostics, skips, the summary).  A skip must name what it did not
# cover (`ok N # SKIP reason`, `1..0 # SKIP reason`).  Run as root, where
# every test file can run in full, any skip fails the run: a test that
# quietly covers less is a broken test.  Not as root, skips are listed.
log=$(mktemp "${TMPDIR:-/tmp}/vpnd-prove.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
prove -v "$@" 2>&1 | tee "$log" | awk '
	/^ok [0-9]+/ && !/# *[Ss][Kk][Ii][Pp]/ { next }
	{ print; fflush() }'
rc=$(grep -c '^Result: PASS' "$log")
skips=$(awk '
	/^(\[[0-9:]+\] )?[^ ]+ \.\.+ *$/ { f = $(NF - 1) }
	/^(\[[0-9:]+\] )?[^ ]+ \.\.+ / { f = ($1 ~ /^\[/) ? $2 : $1 }
	/^(\[[0-9:]+\] )?[^ ]+ \.\.+ skipped:/ { print "#   " $0 }
	/^1\.\.0 # *[Ss][Kk][Ii][Pp]/ || /^ok [0-9]+ .*# *[Ss][Kk][Ii][Pp]/ {
		print "#   " f ": " $0 }' "$log")
if [ -n "$skips" ]; then
	echo "# skipped (each names what it did not cover):"
	echo "$skips"
	if [ "$(id -u)" = 0 ]; then
		echo "FAIL: tests were skipped while running as root"
		exit 1
	fi
fi
[ "$rc" -ge 1 ]

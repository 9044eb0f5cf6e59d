#!/bin/bash
# conf.t -- golden tests of the configuration parser, after bgpd's config
# regress: for each NAME.conf here, `vpnd -nv -f NAME.conf` (what it
# prints on stdout and stderr, and its exit status) must equal NAME.ok.
# Files that hold a key must be private to be read: each is copied to a
# temporary directory with mode 0600 first. No output may show a private
# or preshared key of its file.
#
#   conf.t            compare, as TAP
#   conf.t -update    (make golden) rewrite every NAME.ok from the current
#                     output, then exit 1: an update never passes
set -u
here=$(cd "$(dirname "$0")" && pwd)
vpnd=${VPND_BUILD:-$here/../../build}/vpnd
update=0
[ "${1:-}" = -update ] && update=1

tmp=$(mktemp -d /tmp/vpnd-conf.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

confs=("$here"/*.conf)
[ $update -eq 1 ] || echo "1..$((2 * ${#confs[@]}))"
n=0
for c in "${confs[@]}"; do
	n=$((n + 1))
	name=$(basename "$c" .conf)
	install -m 0600 "$c" "$tmp/$name.conf"
	# from the copy's directory, so messages name the file alone
	(cd "$tmp" && timeout 10 "$vpnd" -nv -f "$name.conf" 2>&1
	    echo "exit $?") >"$tmp/$name.out"
	if [ $update -eq 1 ]; then
		cp "$tmp/$name.out" "$here/$name.ok"
		echo "wrote $here/$name.ok"
		continue
	fi
	if diff -u "$here/$name.ok" "$tmp/$name.out" >"$tmp/$name.diff" \
	    2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' "$tmp/$name.diff"
	fi
	n=$((n + 1))
	leak=0
	for k in $(sed -n 's/^[[:space:]]*\(private\|preshared\)key[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\2/Ip' "$c"); do
		grep -qF -- "$k" "$tmp/$name.out" && leak=1
	done
	if [ $leak -eq 0 ]; then
		echo "ok $n - $name: no private or preshared key printed"
	else
		echo "not ok $n - $name: a secret key was printed"
	fi
done
if [ $update -eq 1 ]; then
	echo "golden files rewritten; review them with git diff" >&2
	exit 1
fi
exit 0

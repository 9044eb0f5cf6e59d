#!/bin/bash
# build.t -- the build and the shell: without the libraries, make stops
# before compiling with one line naming the missing Debian packages and
# make deps; the bash completion loads and completes vpnctl's commands
# and vpnd's options.  Needs neither root nor namespaces.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/vpnd-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', expected '$2'"
}

# pkg-config finds nothing: every library is missing
PKG_CONFIG_LIBDIR="$tmp/empty" PKG_CONFIG_PATH= timeout 60 \
    make -s -C "$top" B="$tmp/b" all >"$tmp/out" 2>"$tmp/err"
ok $((! $?)) "make fails without the libraries"
is "$(grep -c . "$tmp/err")" 2 "one line from the check, one from make"
grep -q "^missing build dependencies: .*libsodium-dev.*libjson-c-dev.*make deps" \
    "$tmp/err"
ok $? "the line names the Debian packages and make deps"
[ ! -e "$tmp/b" ]
ok $? "nothing was compiled"
grep -qi "error:" "$tmp/out" "$tmp/err"
ok $((! $?)) "no compiler errors"

# one module missing, the rest there
out=$(sh "$top/scripts/builddeps.sh" libsodium no-such-module-vpnd 2>&1)
ok $((! $?)) "a missing module fails the check"
is "$out" "missing build dependencies: no-such-module-vpnd: run 'make deps' as root (or apt-get install no-such-module-vpnd)" \
    "only the missing one is named"
out=$(PKG_CONFIG="$tmp/no-pkg-config" sh "$top/scripts/builddeps.sh" \
    libsodium 2>&1)
ok $((! $?)) "no pkg-config fails the check"
case $out in *pkg-config*"make deps"*) r=0 ;; *) r=1 ;; esac
ok $r "and says so: $out"
sh "$top/scripts/builddeps.sh" libsodium json-c 2>&1
ok $? "present modules pass"

# bash completion
comp="$top/etc/bash-completion/vpnctl"
complete_words() {
	# $1: the command line up to the cursor, words split on spaces
	bash --norc --noprofile -c '
		. "$1" || exit 1
		read -ra COMP_WORDS <<<"$2"
		case $2 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2
		COMP_POINT=${#2}
		f=$(complete -p "${COMP_WORDS[0]}" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$f" ] || exit 1
		"$f" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD-1]}"
		echo "${COMPREPLY[*]}"' sh "$comp" "$1"
}
bash --norc --noprofile -c '. "$1" && complete -p vpnctl && complete -p vpnd' \
    sh "$comp" >/dev/null 2>&1
ok $? "the completion loads and registers vpnctl and vpnd"
is "$(complete_words "vpnctl st")" "status" "vpnctl st -> status"
is "$(complete_words "vpnctl -j -s /tmp/x d")" "down" \
    "options and their arguments are skipped: vpnctl -j -s /tmp/x d -> down"
is "$(complete_words "vpnctl status ")" "" "nothing after status"
is "$(complete_words "vpnctl exclude ")" "--" "vpnctl exclude -> --"
touch "$tmp/wg0.conf"
is "$(complete_words "vpnctl up $tmp/wg")" "$tmp/wg0.conf" \
    "vpnctl up completes a file name"
is "$(complete_words "vpnd -D res")" "resolved resolvconf" \
    "vpnd -D res -> the DNS backends"
is "$(complete_words "vpnd -")" "-d -n -v -C -D -f -i -L -l -R -r -S -s -W" \
    "vpnd - -> its options"

echo "1..$n"
[ "$fail" = 0 ]

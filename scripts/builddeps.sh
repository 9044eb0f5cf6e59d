#!/bin/sh
# builddeps.sh -- before compiling: are the libraries vpnd builds against
# there?  One line naming the missing Debian packages, and make deps.
# Arguments: pkg-config module names.  PKG_CONFIG names the tool.
set -u
: "${PKG_CONFIG:=pkg-config}"

debpkg() {
	case $1 in
	libevent|libevent_pthreads) echo libevent-dev ;;
	libsodium) echo libsodium-dev ;;
	libcrypto) echo libssl-dev ;;
	libbsd-overlay|libbsd) echo libbsd-dev ;;
	json-c) echo libjson-c-dev ;;
	libcap-ng) echo libcap-ng-dev ;;
	libseccomp) echo libseccomp-dev ;;
	libmnl) echo libmnl-dev ;;
	libnftnl) echo libnftnl-dev ;;
	libsystemd) echo libsystemd-dev ;;
	*) echo "$1" ;;
	esac
}

if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
	echo "missing build dependencies: pkg-config (and probably more): run 'make deps' as root" >&2
	exit 1
fi
missing=""
for m in "$@"; do
	"$PKG_CONFIG" --exists "$m" 2>/dev/null && continue
	p=$(debpkg "$m")
	case " $missing " in
	*" $p "*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "missing build dependencies:$missing: run 'make deps' as root (or apt-get install$missing)" >&2
exit 1

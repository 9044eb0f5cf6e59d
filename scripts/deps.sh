#!/bin/sh
# deps.sh -- install the Debian packages vpnd needs to build and test.
# As root: installs what is missing (apt-get update once). Otherwise: lists
# what is missing and fails.  "deps.sh deb": what building and checking
# the Debian package needs (make deb-deps).
set -u

PKGS="gcc make pkg-config libc6-dev libevent-dev libsodium-dev libssl-dev libbsd-dev
libjson-c-dev libcap-ng-dev libseccomp-dev libmnl-dev libnftnl-dev
libsystemd-dev iproute2 nftables wireguard-go wireguard-tools iperf3 mandoc
perl procps psmisc dbus python3 kmod netcat-openbsd iputils-ping clang
libclang-rt-14-dev valgrind libcap2-bin python3-cryptography systemd
libglib2.0-bin python3-gi"
if [ "${1:-}" = deb ]; then
	PKGS="git dpkg-dev debhelper fakeroot lintian pkg-config libevent-dev
libsodium-dev libssl-dev libbsd-dev libjson-c-dev libcap-ng-dev libseccomp-dev
libmnl-dev libnftnl-dev libsystemd-dev"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# --no-install-recommends: wireguard-tools would otherwise pull in a kernel.
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >/dev/null || exit 1
echo "deps: done"

#!/bin/bash
# deb.t -- the Debian package: dpkg-buildpackage -us -uc -b in a clean
# clone of the repository's committed HEAD builds vpnd_*.deb, which holds
# the daemon (its children in /usr/libexec/vpnd), the client, the manual pages, the systemd unit, the polkit
# rule, the D-Bus policy and activation files, the bash completion and
# the example configuration; its maintainer scripts create the users and the group and purge state and
# logs; lintian reports no error.  Nothing is installed on this machine.
# Run by make deb (not make check: it compiles everything once more and
# needs debhelper and lintian).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/vpnd-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
bail() {
	echo "Bail out! $*"
	exit 1
}

for t in git dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null 2>&1 || bail "no $t: run make deb-deps as root"
done
[ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
    echo "# uncommitted changes are not in the package: it is built from HEAD"

git clone -q "$top" "$tmp/src" 2>"$tmp/clone.err"
ok $? "git clone into a temporary directory"
(cd "$tmp/src" && timeout 600 dpkg-buildpackage -us -uc -b -j2) \
    >"$tmp/build.log" 2>&1
r=$?
ok $r "dpkg-buildpackage -us -uc -b in the clean clone"
[ $r = 0 ] || tail -20 "$tmp/build.log" | sed 's/^/# /'
deb=$(ls "$tmp"/vpnd_*.deb 2>/dev/null | head -1)
[ -n "$deb" ]
ok $? "a vpnd_*.deb was built"
[ -n "$deb" ] || bail "no package to check"

dpkg-deb -c "$deb" >"$tmp/listing"
awk '{ print $6 }' "$tmp/listing" | sed 's,^\./,/,' >"$tmp/contents"
for f in /usr/sbin/vpnd /usr/bin/vpnctl \
    /usr/share/man/man8/vpnd.8.gz /usr/share/man/man8/vpnctl.8.gz \
    /usr/share/man/man5/vpnd.conf.5.gz /lib/systemd/system/vpnd.service \
    /usr/share/polkit-1/rules.d/50-vpnd-resolved.rules \
    /usr/share/dbus-1/system.d/org.mozilla.vpn.dbus.conf \
    /usr/share/dbus-1/system-services/org.mozilla.vpn.dbus.service \
    /usr/share/bash-completion/completions/vpnctl \
    /usr/share/bash-completion/completions/vpnd \
    /etc/vpnd/vpnd.conf.example /usr/share/doc/vpnd/copyright; do
	grep -qx -- "$f" "$tmp/contents"
	ok $? "the package holds $f"
done
grep -q '^-rwxr-xr-x root/root .* \./usr/sbin/vpnd$' "$tmp/listing"
ok $? "vpnd is root's, mode 0755"
for c in netmgr tunworker dnsmgr; do
	grep -q "^-rwxr-xr-x root/root .* \./usr/libexec/vpnd/vpnd-$c\$" \
	    "$tmp/listing"
	ok $? "the package holds /usr/libexec/vpnd/vpnd-$c, root's, mode 0755"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/sbin/vpnd |
    grep -aq '/usr/libexec/vpnd'
ok $? "the packaged vpnd looks for its children in /usr/libexec/vpnd"
dpkg-deb --fsys-tarfile "$deb" |
    tar -xOf - ./lib/systemd/system/vpnd.service >"$tmp/vpnd.service"
grep -q "ExecStart=/usr/sbin/vpnd " "$tmp/vpnd.service"
ok $? "the unit starts /usr/sbin/vpnd"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - \
    ./usr/share/dbus-1/system-services/org.mozilla.vpn.dbus.service \
    >"$tmp/dbus.service"
grep -qx "SystemdService=vpnd.service" "$tmp/dbus.service" &&
    grep -qx "Name=org.mozilla.vpn.dbus" "$tmp/dbus.service"
ok $? "the D-Bus activation file starts vpnd.service for org.mozilla.vpn.dbus"

dpkg-deb -e "$deb" "$tmp/control"
for u in "groupadd --system vpnd" "_vpnd _vpnddns"; do
	grep -q -- "$u" "$tmp/control/postinst"
	ok $? "postinst creates: $u"
done
grep -q 'purge' "$tmp/control/postrm" &&
    grep -q 'rm -rf /var/lib/vpnd /var/log/vpnd' "$tmp/control/postrm"
ok $? "postrm purge removes /var/lib/vpnd and /var/log/vpnd"
sh -n "$tmp/control/postinst" && sh -n "$tmp/control/postrm"
ok $? "the maintainer scripts parse"

lintian --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>"$tmp/lintian.err"
sed 's/^/# /' "$tmp/lintian"
! grep -q '^E: ' "$tmp/lintian"
ok $? "lintian reports no error"

echo "1..$n"
[ "$fail" = 0 ]

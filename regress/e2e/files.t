#!/bin/bash
# files.t -- what make install ships is well formed: the systemd unit
# passes systemd-analyze verify, the rc script parses, the plist and the
# D-Bus policy are XML,
# every manual page is mandoc -Tlint clean, and make install/uninstall
# honour DESTDIR and PREFIX.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${VPND_BUILD:=$top/build}"
tmp=$(mktemp -d /tmp/vpnd-files.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}
is() {
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', expected '$2'"
}

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s,@SBINDIR@,$VPND_BUILD,g" "$top/etc/vpnd.service" \
	    >"$tmp/vpnd.service"
	out=$(systemd-analyze verify --man=no "$tmp/vpnd.service" 2>&1)
	ok $? "systemd-analyze verify vpnd.service"
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	grep -q '^Type=notify' "$tmp/vpnd.service"
	ok $? "the unit is Type=notify (vpnd calls sd_notify READY=1)"
	grep -q '^Restart=on-failure' "$tmp/vpnd.service"
	ok $? "the unit restarts on failure"
else
	skip "no systemd-analyze"
	skip "no systemd-analyze"
	skip "no systemd-analyze"
fi
# the unit starts before the network (lockdown has no window at boot) and
# is ordered after nothing that comes after the network (no cycle)
grep -qx 'Before=network-pre.target' "$top/etc/vpnd.service" &&
    grep -qx 'Wants=network-pre.target' "$top/etc/vpnd.service"
ok $? "the unit is Before= and Wants= network-pre.target"
! grep -E '^(After|Requires|Wants|BindsTo)=.*(network\.target|network-online|nss-lookup)' \
    "$top/etc/vpnd.service" >/dev/null
ok $? "the unit waits for nothing that comes after the network"
# split tunnelling writes the cgroup file system (vpnd/vpnd-exclude)
grep -qx 'ProtectControlGroups=no' "$top/etc/vpnd.service"
ok $? "the unit leaves the cgroup file system writable (split tunnelling)"
# the unit opens only resolv.conf and resolvconf's directory for writing
rw=$(sed -n 's/^ReadWritePaths=//p' "$top/etc/vpnd.service")
[ "$rw" = "/etc/resolv.conf -/run/resolvconf" ]
ok $? "ReadWritePaths= is /etc/resolv.conf and -/run/resolvconf ($rw)"
grep -q '^ProtectSystem=strict' "$top/etc/vpnd.service"
ok $? "ProtectSystem=strict: the rest of /etc stays read-only"

# the polkit rule: resolved's link actions, for _vpnddns only
r="$top/etc/vpnd-resolved.rules"
[ "$(grep -o 'org\.freedesktop\.[a-z0-9.-]*' "$r" | sort | tr '\n' ' ')" = \
    "org.freedesktop.resolve1.revert org.freedesktop.resolve1.set-default-route org.freedesktop.resolve1.set-dns-servers org.freedesktop.resolve1.set-domains " ]
ok $? "the polkit rule names the four resolve1 link actions, no other"
[ "$(grep -o '"_[a-z]*"' "$r")" = '"_vpnddns"' ] &&
    grep -q 'subject.user !== "_vpnddns"' "$r"
ok $? "the polkit rule is for _vpnddns only"
if command -v node >/dev/null 2>&1; then
	cp "$r" "$tmp/rules.js"
	node --check "$tmp/rules.js" 2>/dev/null
	ok $? "the polkit rule parses as JavaScript"
	# what it decides, with a stand-in for polkit: resolved names the
	# link ("interface"); only vpnd's may be changed
	cat >"$tmp/ask.js" <<'EOF2'
var fs = require("fs"), rules = [];
var polkit = { Result: { YES: "yes", NO: "no", NOT_HANDLED: "nh" },
    addRule: function (f) { rules.push(f); } };
new Function("polkit", fs.readFileSync(process.argv[2], "utf8"))(polkit);
var a = { id: "org.freedesktop.resolve1." + process.argv[4],
    lookup: function (k) {
	return k === "interface" && process.argv[5] !== "-" ?
	    process.argv[5] : undefined; } };
var r = rules[0](a, { user: process.argv[3] });
console.log(r === undefined ? "nh" : r);
EOF2
	ask() { node "$tmp/ask.js" "$tmp/rules.js" "$@" 2>&1; }
	is "$(ask _vpnddns set-dns-servers vpn0)" yes \
	    "polkit: _vpnddns may set vpn0's DNS servers"
	is "$(ask _vpnddns set-domains vpn0)/$(ask _vpnddns set-default-route vpn0)/$(ask _vpnddns revert vpn0)" \
	    yes/yes/yes "polkit: and its domains, default route, revert"
	is "$(ask _vpnddns set-dns-servers eth0)/$(ask _vpnddns set-domains eth0)/$(ask _vpnddns set-default-route eth0)/$(ask _vpnddns revert eth0)" \
	    nh/nh/nh/nh "polkit: nothing on another link (eth0)"
	is "$(ask _vpnddns set-dns-servers -)" yes \
	    "polkit: a resolved that names no link: allowed (dnsmgr checks)"
	is "$(ask _vpnddns set-llmnr vpn0)/$(ask _vpnddns set-dnssec vpn0)" \
	    nh/nh "polkit: no other resolve1 action"
	is "$(ask _vpnd set-dns-servers vpn0)/$(ask root set-dns-servers vpn0)" \
	    nh/nh "polkit: no other user"
fi

sh -n "$top/etc/vpnd.rc"
ok $? "the rc script parses"

if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' \
	    "$top/etc/org.vpnd.plist"
	ok $? "the launchd plist is well-formed XML"
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' \
	    "$top/etc/org.mozilla.vpn.dbus.conf"
	ok $? "the D-Bus policy is well-formed XML"
else
	skip "no python3"
fi

for m in "$top"/man/*.[0-9]; do
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
	ok $? "mandoc -Tlint $(basename "$m")"
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
done

# the example configuration is one vpnd accepts, with keys filled in
if command -v wg >/dev/null 2>&1; then
	k=$(wg genkey)
	p=$(echo "$k" | wg pubkey)
	sed -e "s,^PrivateKey *=.*,PrivateKey = $k," \
	    -e "s,^PublicKey *=.*,PublicKey = $p," \
	    -e "s,^PresharedKey *=.*,PresharedKey = $k," \
	    "$top/etc/vpnd.conf.example" >"$tmp/example.conf"
	chmod 600 "$tmp/example.conf"
	"$VPND_BUILD/vpnd" -n -f "$tmp/example.conf" >/dev/null 2>&1
	ok $? "vpnd -n accepts etc/vpnd.conf.example (keys filled in)"
else
	skip "no wg(8) to make keys: etc/vpnd.conf.example not checked"
fi

make -s -C "$top" B="$VPND_BUILD" install DESTDIR="$tmp/root" \
    PREFIX=/opt/vpnd UNITDIR=/lib/systemd/system >/dev/null 2>&1
ok $? "make install DESTDIR=... PREFIX=/opt/vpnd"
for f in opt/vpnd/sbin/vpnd opt/vpnd/bin/vpnctl \
    opt/vpnd/share/man/man8/vpnd.8 opt/vpnd/share/man/man8/vpnctl.8 \
    opt/vpnd/share/man/man5/vpnd.conf.5 lib/systemd/system/vpnd.service \
    opt/vpnd/share/vpnd/vpnd.rc etc/vpnd/vpnd.conf.example \
    usr/share/polkit-1/rules.d/50-vpnd-resolved.rules \
    usr/share/dbus-1/system.d/org.mozilla.vpn.dbus.conf \
    usr/share/dbus-1/system-services/org.mozilla.vpn.dbus.service \
    opt/vpnd/share/bash-completion/completions/vpnctl \
    opt/vpnd/share/bash-completion/completions/vpnd; do
	test -e "$tmp/root/$f"
	ok $? "installed $f"
done
grep -q "ExecStart=/opt/vpnd/sbin/vpnd" \
    "$tmp/root/lib/systemd/system/vpnd.service"
ok $? "the unit names the installed binary"
make -s -C "$top" B="$VPND_BUILD" uninstall DESTDIR="$tmp/root" \
    PREFIX=/opt/vpnd UNITDIR=/lib/systemd/system >/dev/null 2>&1
ok $? "make uninstall"
left=$(find "$tmp/root" -type f | wc -l)
ok "$left" "uninstall removed every file ($left left)"

echo "1..$n"
[ "$fail" = 0 ]

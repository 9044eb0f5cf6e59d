#!/bin/bash
# dnspath.t -- resolv.conf reached through another user's directory, as
# on systems where /etc/resolv.conf is a symlink into a DNS daemon's own
# runtime directory. The parent opens the file as root for dnsmgr; that
# user must not be able to turn the open toward a file of root's. Here the
# managed path (-R) is a root symlink to u/stub, u/ a directory of
# "nobody"'s. nobody replaces its stub with a symlink to a root-only
# "shadow" (the parent, uid 0 without CAP_DAC_OVERRIDE, may open that as
# its owner), and a connect with DNS must leave that file as it was: the
# DNS step is refused, and says why. Then a missing resolv.conf: created
# by the parent, removed again at down and by the recovery after kill -9.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init dnspath

WG="w$$p"
client_server "$WG"

cat >"$E2E_TMP/c.conf" <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
DNS = 10.8.0.1, example.test
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = 0.0.0.0/0, ::/0
EOF

# nobody must reach u/ to swap its own file
chmod 711 "$E2E_TMP"
mkdir -p "$E2E_TMP/c" "$E2E_TMP/u"
chmod 755 "$E2E_TMP/c"
chmod 755 "$E2E_TMP/u"
chown nobody "$E2E_TMP/u"
ORIG="$E2E_TMP/resolv.orig"
printf 'nameserver 192.0.2.53\nsearch lan.example\n' >"$ORIG"
STUB="$E2E_TMP/u/stub"
setpriv --reuid=65534 --regid=65534 --clear-groups \
    sh -c "umask 022; cat >'$STUB'" <"$ORIG" || bail "stub as nobody"
SHADOW="$E2E_TMP/c/shadow"
printf 'root:$6$secret:19000:0:99999:7:::\n' >"$SHADOW"
chmod 600 "$SHADOW"
cp "$SHADOW" "$E2E_TMP/shadow.orig"
ln -s ../u/stub "$E2E_TMP/c/resolv.conf"

# --- that user points its file at root's ---
setpriv --reuid=65534 --regid=65534 --clear-groups \
    sh -c "rm -f '$STUB' && ln -s '$SHADOW' '$STUB'" ||
    bail "swap as nobody"
is "$(stat -c %U "$STUB")" nobody "nobody's symlink now points at shadow"
vpnd_start c "$C" -D file || bail "vpnd did not start"
out=$(ctl c -t 5 up "$E2E_TMP/c.conf" 2>&1)
diag "connect: $out"
diag "shadow while connected: $(head -c 200 "$SHADOW" | tr "\n" "|")"
case $out in
*"DNS: "*"Operation not permitted"*) ok 0 "the parent refuses to open it";;
*) ok 1 "the parent refuses to open it";;
esac
cmp -s "$E2E_TMP/shadow.orig" "$SHADOW"
ok $? "shadow is unchanged"
is "$(stat -c '%a %U' "$SHADOW")" "600 root" "and keeps its mode and owner"
ctl c down >/dev/null
kill -TERM "$VPND_PID_c"
wait_gone "$VPND_PID_c" 50
ok $? "SIGTERM: vpnd exits"
cmp -s "$E2E_TMP/shadow.orig" "$SHADOW"
ok $? "shadow is unchanged after it all"

# --- a missing resolv.conf: the parent creates it and removes only that
# file, also after kill -9 of the whole instance (its note in its own
# state directory says which file it made); the host's own file, emptied,
# is never removed (t_dnsops drives that with a hostile dnsmgr) ---
M="$E2E_TMP/m/resolv.conf"
NOTE="$E2E_TMP/m/state/resolv.created"
mkdir -p "$E2E_TMP/m"
vpnd_start m "$C" -D file || bail "vpnd m did not start"
ctl m -t 5 up "$E2E_TMP/c.conf" >/dev/null
ok $? "missing resolv.conf: connects"
grep -qx 'nameserver 10.8.0.1' "$M"
ok $? "the created file names the tunnel's resolver"
test -s "$NOTE"
ok $? "the parent noted the file it created"
ctl m down >/dev/null
test ! -e "$M" && test ! -e "$NOTE"
ok $? "down: the file it created is gone, and the note"
ctl m -t 5 up "$E2E_TMP/c.conf" >/dev/null
ok $? "connected again"
vpnd_kill9 m all
ok $? "kill -9 of the whole instance"
test -e "$M" && test -s "$NOTE"
ok $? "the file and the note outlive the crash"
vpnd_start m "$C" -D file
ok $? "vpnd starts again"
wait_for 50 test ! -e "$M"
ok $? "the recovery removes the file the parent had created"
test ! -e "$NOTE"
ok $? "and the note"
kill -TERM "$VPND_PID_m"
wait_gone "$VPND_PID_m" 50
ok $? "SIGTERM: vpnd exits"
e2e_done

#!/bin/bash
# dnsjail.t -- what a compromised dnsmgr can do, tried from inside the
# real sandbox: build-test/vpnd with VPND_TESTHOOK=dnsmgr:4 makes dnsmgr,
# once confined, try each probe of dnsmgr/dns_probe.c and log the result.
# Every one must fail: create, write, rename, remove, chmod, chown or link
# files beside the managed resolv.conf (a root-owned 0644 "passwd", a
# root-only "shadow"), in the state directory, in /tmp and /etc; connect
# to a UNIX socket that is not the bus (a 0777 one) or an abstract one;
# signal or prlimit a root process and another uid's process outside vpnd;
# create namespaces; exec; TIOCSTI; chroot; ptrace; TCP; and, with the
# resolv.conf descriptor the parent hands over: fchmod, fchown, a name
# opened relative to it, a reopen through /proc/self/fd, a hard link of it
# into the state directory. A probe seccomp
# forbids kills dnsmgr (SIGSYS, as the parent logs): the daemon is started
# again from the next probe. All of it twice: with Landlock, and with
# Landlock left off (VPND_TESTHOOK=dnsmgr:5), where the user, the chroot
# and seccomp must be enough. The system bus dnsmgr connects to
# (DBUS_SYSTEM_BUS_ADDRESS, a listener here) sees _vpnddns, not root
# (and netmgr, which connects for its D-Bus service, as _vpnd).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 240 "$@"
e2e_init dnsjail

[ -x "$VPND_TEST" ] || bail "no $VPND_TEST: make TESTHOOKS=1"
NPROBES=$(grep -c '^	"' "$(dirname "$0")/../../dnsmgr/dns_probe.c")
NAME="vpnd-probe-$$"
P="$E2E_TMP/p"
trap 'rm -f "/tmp/$NAME" "/etc/$NAME"; e2e_cleanup' EXIT

# The targets, all root's: a stand-in /etc beside the managed resolv.conf,
# the state directory, sockets.
umask 022
mkdir -p "$P/etc" "$P/state" "$P/run"
# the bus socket must be reachable by _vpnddns, as the real one is
chmod 711 "$E2E_TMP"
chmod 700 "$P/state"
printf 'nameserver 192.0.2.1\n' >"$P/etc/resolv.conf"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$P/etc/passwd"
printf 'root:$6$secret:19000:0:99999:7:::\n' >"$P/etc/shadow"
chmod 600 "$P/etc/shadow"
printf '127.0.0.1 localhost\n' >"$P/etc/hosts"
printf 'state\n' >"$P/state/victim"
chmod 600 "$P/state/victim"
snapshot() {
	(cd "$P" && find etc state/victim -maxdepth 1 -printf '%p %m %u\n' |
	    sort && cat etc/passwd etc/shadow etc/hosts state/victim) |
	    sha256sum
}

# Listeners: the "system bus", another pathname socket (mode 0777, so
# only the sandbox can keep dnsmgr out), an abstract socket. Each accepted
# connection is logged with the peer's uid.
cat >"$E2E_TMP/listen.py" <<'EOF'
import os, select, socket, struct, sys
p, name, log = sys.argv[1], sys.argv[2], sys.argv[3]
socks = {}
for tag, addr in (("bus", p + "/run/bus.sock"),
                  ("other", p + "/run/other.sock"),
                  ("abstract", "\0vpnd-probe-" + name)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(addr)
    if not addr.startswith("\0"):
        os.chmod(addr, 0o777)
    s.listen(16)
    socks[s] = tag
open(log, "a").write("ready\n")
while True:
    r, _, _ = select.select(list(socks), [], [])
    for s in r:
        c, _ = s.accept()
        cred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid, uid, gid = struct.unpack("3i", cred)
        with open(log, "a") as f:
            f.write("%s uid=%d\n" % (socks[s], uid))
        c.close()
EOF
"$E2E_PY" "$E2E_TMP/listen.py" "$P" "$NAME" "$E2E_TMP/conns" &
E2E_PIDS="$E2E_PIDS $!"
wait_for 50 grep -q ready "$E2E_TMP/conns" || bail "listeners"

# Victims outside vpnd: root, and another uid (nobody).
sleep 600 &
VROOT=$!
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 600 &
VOTHER=$!
E2E_PIDS="$E2E_PIDS $VROOT $VOTHER"
wait_for 50 sh -c "[ \"\$(stat -c %u /proc/$VOTHER)\" = 65534 ]" ||
    bail "victim as nobody"

N=$(ns_add j)
SNAP=$(snapshot)
DNSUID=$(id -u _vpnddns)
RUN=0

# jail_start HOOK FROM: the test build with dnsmgr's probes from FROM on.
jail_start() {
	RUN=$((RUN + 1))
	VPND_BIN=$VPND_TEST VPND_TESTHOOK=dnsmgr:$1 \
	    VPND_TEST_PROBE_DIR=$P VPND_TEST_PROBE_NAME=$NAME \
	    VPND_TEST_PROBE_FROM=$2 VPND_TEST_VICTIMS="$VROOT $VOTHER" \
	    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$P/run/bus.sock" \
	    vpnd_spawn "r$RUN" "$N" -R "$P/etc/resolv.conf" -S "$P/state" \
	    -D resolved
	eval "JPID=\$VPND_PID_r$RUN"
	JOUT="$E2E_TMP/r$RUN/out"
}

# jail_stop: SIGTERM if still running, wait until the instance is gone.
jail_stop() {
	kill -TERM "$JPID" 2>/dev/null
	wait_gone "$JPID" 50 || kill -KILL "$JPID" 2>/dev/null
	wait_for 50 sh -c "[ -z \"\$(ip netns pids $N)\" ]"
}

ended() {
	pid_gone "$JPID" || grep -q 'dnsmgr: probes done' "$JOUT"
}

# probes MODE HOOK: every probe, starting again after each SIGSYS.
probes() {
	local mode=$1 hook=$2 from=0 last line res i dpid st

	# the sandboxed dnsmgr as it runs, before any probe
	jail_start "$hook" "$NPROBES"
	wait_for 100 grep -q 'dnsmgr: probes done' "$JOUT"
	ok $? "$mode: dnsmgr is up and ran no probe"
	dpid=$(child_of "$JPID" dnsmgr)
	is "$(status_field "$dpid" Uid)" \
	    "$DNSUID $DNSUID $DNSUID $DNSUID" "$mode: dnsmgr runs as _vpnddns"
	for st in CapEff CapPrm CapBnd; do
		is "$(status_field "$dpid" $st)" 0000000000000000 \
		    "$mode: dnsmgr $st is zero"
	done
	is "$(status_field "$dpid" NoNewPrivs)" 1 "$mode: NoNewPrivs"
	is "$(status_field "$dpid" Seccomp)" 2 "$mode: seccomp filter"
	is "$(readlink "/proc/$dpid/root")" "$P/state/dns" \
	    "$mode: chrooted in its state directory"
	if [ "$mode" = "no Landlock" ]; then
		grep -q 'testhook: Landlock left off' "$JOUT"
		ok $? "$mode: the hook left Landlock off"
	fi
	jail_stop

	while [ "$from" -lt "$NPROBES" ] && [ "$RUN" -lt 100 ]; do
		jail_start "$hook" "$from"
		wait_for 100 ended
		ok $? "$mode: run from probe $from ends (done or killed)"
		jail_stop
		last=-1
		for i in $(seq "$from" $((NPROBES - 1))); do
			line=$(grep "dnsmgr: probe $i " "$JOUT" | tail -1)
			case $line in
			*": trying")
				grep -Eq 'dnsmgr \(pid [0-9]+\) was killed by signal 31' "$JOUT"
				ok $? "$mode: ${line#*dnsmgr: probe } -> killed by seccomp (SIGSYS)"
				last=$i
				break ;;
			*": denied ("*)
				ok 0 "$mode: ${line#*dnsmgr: probe }"
				last=$i ;;
			*)
				ok 1 "$mode: probe $i: ${line:-no result}"
				sed 's/^/#   /' "$JOUT"
				last=$i
				break ;;
			esac
		done
		[ "$last" -ge "$from" ] || break
		from=$((last + 1))
	done
	is "$from" "$NPROBES" "$mode: all $NPROBES probes ran"
}

probes "Landlock" 4
probes "no Landlock" 5

is "$(snapshot)" "$SNAP" "the target files are unchanged (names, modes, owners, bytes)"
[ ! -e "/tmp/$NAME" ] && [ ! -e "/etc/$NAME" ] &&
    [ ! -e "$P/etc/evil" ] && [ ! -e "$P/state/evil" ]
ok $? "no file was created in /tmp, /etc, beside resolv.conf or in the state directory"
pid_alive "$VROOT" && pid_alive "$VOTHER"
ok $? "both victims outside vpnd are still alive"
is "$(grep -c '^other\|^abstract' "$E2E_TMP/conns")" 0 \
    "no connection reached the other UNIX sockets"
grep -qx "bus uid=$DNSUID" "$E2E_TMP/conns"
ok $? "dnsmgr connected to the system bus it was given"
# netmgr connects too (its D-Bus service), as _vpnd
is "$(sed -n 's/^bus uid=//p' "$E2E_TMP/conns" | grep -vx "$(id -u _vpnd)" |
    sort -u)" "$DNSUID" \
    "the bus sees dnsmgr as _vpnddns ($DNSUID), never as root"
e2e_done

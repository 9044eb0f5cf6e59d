#!/bin/bash
# dnsnobus.t -- dnsmgr with the resolved backend but nothing to reach it
# with: libsystemd not loadable (a libsystemd.so.0 without its symbols,
# found first through LD_LIBRARY_PATH, which a root-run daemon's dlopen()
# honours), or no system bus when dnsmgr connected before its sandbox. A
# connect then fails at the DNS step with a message and vpnd keeps
# running; dnsmgr neither calls through sdl's NULL table (SIGSEGV) nor
# connects inside its sandbox (seccomp: SIGSYS), which took the whole
# daemon down.
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init dnsnobus

WG="w$$b"
client_server "$WG"
mkdir -p "$E2E_TMP/stub"
echo 'int vpnd_stub_nothing_here;' >"$E2E_TMP/stub/s.c"
cc -shared -fPIC -Wl,-soname,libsystemd.so.0 \
    -o "$E2E_TMP/stub/libsystemd.so.0" "$E2E_TMP/stub/s.c" ||
    bail "stub library"
client_conf "$E2E_TMP/c.conf"

# try TAG WHAT: a connect through vpnd TAG fails at the DNS step, said so
try() {
	local tag=$1 pid
	eval "pid=\$VPND_PID_$tag"
	ctl "$tag" -t 10 up "$E2E_TMP/c.conf" >"$E2E_TMP/said.$tag" 2>&1
	ok $((! $?)) "$2: the connect fails"
	grep -q 'DNS: .*resolved backend is unavailable' "$E2E_TMP/said.$tag"
	ok $? "$2: vpnctl says why ($(cat "$E2E_TMP/said.$tag"))"
	grep -q 'killed by signal' "$E2E_TMP/$tag/out"
	ok $((! $?)) "$2: no child killed by a signal"
	pid_alive "$pid"
	ok $? "$2: vpnd still runs"
	is "$(ctl_state "$tag")" disconnected "$2: disconnected"
	kill -TERM "$pid"
	wait_gone "$pid" 50
	ok $? "$2: SIGTERM: vpnd exits"
}

mkdir -p "$E2E_TMP/c" "$E2E_TMP/d"
printf 'nameserver 192.0.2.53\n' >"$E2E_TMP/c/resolv.conf"
printf 'nameserver 192.0.2.53\n' >"$E2E_TMP/d/resolv.conf"
LD_LIBRARY_PATH="$E2E_TMP/stub" vpnd_start c "$C" -D resolved ||
    bail "vpnd c did not start"
grep -q 'no D-Bus library' "$E2E_TMP/c/out"
ok $? "no libsystemd: dnsmgr said so at start"
try c "no libsystemd"

DBUS_SYSTEM_BUS_ADDRESS="unix:path=$E2E_TMP/nobus.sock" \
    vpnd_start d "$C" -D resolved || bail "vpnd d did not start"
grep -q 'system bus: .*resolved backend is unavailable' "$E2E_TMP/d/out"
ok $? "no bus: dnsmgr said so at start"
try d "no bus"
e2e_done

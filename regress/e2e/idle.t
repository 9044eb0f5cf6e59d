#!/bin/bash
# idle.t -- an idle daemon sleeps. Disconnected, none of vpnd's four
# processes wakes: tunworker's timer tick stops with its data path.
# Connected with no traffic, no packet thread wakes, and tunworker's
# control thread about once a second (WireGuard's timers: it sleeps until
# the next is due, at most 1 s, where it ticked every 100 ms). After a deactivate it
# sleeps again; an activate ticks again and carries traffic. Each count
# is of context switches over a 2 s window (a measurement, not a wait).
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 90 "$@"
e2e_init idle

# switches WHICH PID...: context switches so far of the processes'
# threads; WHICH is all, main (the thread whose id is the pid) or others
switches() {
	local which=$1 p t n=0
	shift
	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			case $which in
			main) [ "${t##*/}" = "$p" ] || continue ;;
			others) [ "${t##*/}" != "$p" ] || continue ;;
			esac
			n=$((n + $(awk '/ctxt_switches/ { s += $2 } END { print s }' \
			    "$t/status" 2>/dev/null || echo 0)))
		done
	done
	echo "$n"
}

tick() { timerfds "$1"; }
# tick_armed PID / tick_idle PID: one timerfd on CLOCK_BOOTTIME (7), and
# it is pending / not
tick_armed() {
	tick "$1" | grep -qx '7 [0-9]* [0-9]*' &&
	    ! tick "$1" | grep -qx '7 0 0' && [ "$(tick "$1" | wc -l)" = 1 ]
}
tick_idle() {
	[ "$(tick "$1")" = "7 0 0" ]
}

# window WHICH PID...: the switches in the next 2 s
window() {
	local a b
	a=$(switches "$@")
	sleep 2
	b=$(switches "$@")
	echo $((b - a))
}

WG="w$$i"
client_server "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
TW=$(child_of "$VPND_PID_c" tunworker)
ok $? "tunworker found ($TW)"
ALL="$VPND_PID_c $(child_of "$VPND_PID_c" netmgr) $TW $(child_of "$VPND_PID_c" dnsmgr)"
ACT=$(act4)

# shellcheck disable=SC2086
n=$(window all $ALL)
[ "$n" -le 4 ]
ok $? "disconnected: vpnd's four processes sleep ($n wake-ups in 2 s)"

out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows"
n=$(window others "$TW")
m=$(window main "$TW")
[ "$n" -le 4 ]
ok $? "connected, idle: no packet thread wakes ($n wake-ups in 2 s)"
[ "$m" -ge 1 ] && [ "$m" -le 6 ]
ok $? "connected, idle: the control thread ticks, about once a second ($m wake-ups in 2 s)"
# WireGuard's deadlines are CLOCK_BOOTTIME; a tick timed on a clock that
# stops during a suspend would act on them up to a second after resume
# (between an expiry and its re-arm the timer reads 0 0 for microseconds)
wait_for 50 tick_armed "$TW"
ok $? "connected: the tick is a pending timerfd on CLOCK_BOOTTIME ($(tick "$TW" | paste -sd,))"

out=$(client -t 20 "$SOCK" 'send:{"type":"deactivate"}' expect:disconnected 2>&1)
ok $? "deactivate: disconnected"
# netmgr says disconnected only after tunworker's reset: the tick went
# with the data path, not left pending (up to a second) for the next one
tick_idle "$TW"
ok $? "deactivate: the reset disarmed the tick at once ($(tick "$TW" | paste -sd,))"
# the reset disarmed the tick: once the count stands still
wait_for 50 sh -c "a=\$(awk '/ctxt_switches/ {s+=\$2} END {print s}' /proc/$TW/task/*/status); sleep 0.3; b=\$(awk '/ctxt_switches/ {s+=\$2} END {print s}' /proc/$TW/task/*/status); [ \$a = \$b ]"
ok $? "deactivated: tunworker's wake-ups stop"
n=$(window all "$TW")
[ "$n" -le 2 ]
ok $? "deactivated: tunworker sleeps ($n wake-ups in 2 s)"
tick_idle "$TW"
ok $? "deactivated: the tick's timerfd is disarmed ($(tick "$TW" | paste -sd,))"

out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate again: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows again"
m=$(window main "$TW")
[ "$m" -ge 1 ]
ok $? "reconnected: the control thread ticks again ($m wake-ups in 2 s)"
wait_for 50 tick_armed "$TW"
ok $? "reconnected: the tick's timerfd is pending again"
e2e_done

#!/bin/bash
# tickrace.t -- the tick's expiry and netmgr's reset in one epoll
# batch, reset first: libevent still calls tw_tick_fd for the timerfd it
# saw readable, after tw_reset disarmed it. tw_tick_fd's read must not
# block (TFD_NONBLOCK) and must not tick (EAGAIN: "a re-arm since took it
# back"). Made deterministic by stopping tunworker (a process this test
# started): netmgr's IMSG_WG_RESET is queued on tunworker's socket first
# (seen in ss's Recv-Q), the timerfd expires after it (seen in fdinfo:
# it_value 0 0 while stopped means expired, nothing can disarm it), then
# SIGCONT: epoll returns the socket before the timerfd.
# VPND_BUILD=$PWD/build prove regress/e2e/tickrace.t
set -u
. "$(dirname "$0")/../lib/e2e.sh"
e2e_timeout 120 "$@"
e2e_init tickrace

# tick PID: "SECONDS NANOSECONDS" left on the process's timerfd
tick() { timerfds "$1" | awk '{ print $2, $3 }'; }
# tick_left_ms PID: milliseconds left
tick_left_ms() {
	tick "$1" | awk '{ print $1 * 1000 + int($2 / 1000000) }'
}
# long_tick PID: at least 600 ms left (an idle tick just re-armed)
long_tick() { [ "$(tick_left_ms "$1")" -ge 600 ]; }
expired() { [ "$(tick "$1")" = "0 0" ]; }
# recvq PID: bytes queued on the process's unix sockets, summed
recvq() {
	ip netns exec "$C" ss -xpH 2>/dev/null |
	    awk -v p="pid=$1," 'index($0, p) { s += $3 } END { print s + 0 }'
}
queued() { [ "$(recvq "$1")" -gt 0 ]; }

WG="w$$s"
client_server "$WG"
vpnd_start c "$C" || bail "vpnd did not start"
SOCK=$(sock_of c)
TW=$(child_of "$VPND_PID_c" tunworker)
ok $? "tunworker found ($TW)"
ACT=$(act4)

for round in 1 2 3; do
	out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
	ok $? "round $round: connected"
	ping_ok "$C" 10.8.0.1
	ok $? "round $round: traffic flows"
	# idle: the tick sleeps about a second; catch one just re-armed
	wait_for 100 long_tick "$TW"
	ok $? "round $round: a long tick pending ($(tick_left_ms "$TW") ms)"
	kill -STOP "$TW"
	q0=$(recvq "$TW")
	client -t 30 "$SOCK" 'send:{"type":"deactivate"}' \
	    expect:disconnected >"$E2E_TMP/deact.$round" 2>&1 &
	cpid=$!
	wait_for 50 queued "$TW"
	ok $? "round $round: netmgr's reset queued for the stopped tunworker (Recv-Q $q0 -> $(recvq "$TW"))"
	left=$(tick_left_ms "$TW")
	[ "$left" -gt 0 ]
	ok $? "round $round: ... before the tick expired ($left ms left)"
	wait_for 30 expired "$TW"
	ok $? "round $round: the tick expired, unread, behind the reset"
	kill -CONT "$TW"
	wait "$cpid"
	ok $? "round $round: deactivate: disconnected"
	# a control thread blocked in read() would answer nothing more
	out=$(client -t 20 "$SOCK" 'send:{"type":"status"}' expect:status 2>&1)
	ok $? "round $round: the control socket still answers"
	[ "$(tick "$TW")" = "0 0" ]
	ok $? "round $round: the tick stays disarmed ($(tick "$TW"))"
	# the main thread is not blocked: its state is S in epoll, not read
	wchan=$(cat /proc/"$TW"/wchan 2>/dev/null)
	case $wchan in *epoll*|*ep_poll*) r=0 ;; *) r=1 ;; esac
	[ $r = 0 ] || wait_for 20 sh -c "grep -q poll /proc/$TW/wchan"
	ok $? "round $round: tunworker's control thread waits in epoll ($(cat /proc/"$TW"/wchan))"
done
out=$(client -t 20 "$SOCK" "send:$ACT" expect:connected 2>&1)
ok $? "activate after the races: connected"
ping_ok "$C" 10.8.0.1
ok $? "traffic flows after the races"
e2e_done

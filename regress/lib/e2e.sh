# e2e.sh -- shared helpers for the end-to-end tests (sourced by sh/bash).
#
# Every test: . "$(dirname "$0")/../lib/e2e.sh"; e2e_init name
# then ns_add/veth/vpnd_start/...; ok/is/...; e2e_done.
# Everything a test creates -- namespaces, processes, files -- is
# recorded and removed by the EXIT trap; processes are killed by PID only.
# Traffic goes only to addresses inside the namespaces the test made.

: "${VPND_BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
VPND="$VPND_BUILD/vpnd"
VPNCTL="$VPND_BUILD/vpnctl"
VPND_TEST="$(dirname "$VPND_BUILD")/build-test/vpnd"
E2E_NS=""
E2E_PIDS=""
E2E_N=0
E2E_FAIL=0

e2e_init() {
	E2E_NAME=$1
	E2E_ID="v$$"
	E2E_TMP=$(mktemp -d "/tmp/vpnd-e2e-$1.XXXXXX")
	trap e2e_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 0
	fi
	if ! ip netns add "${E2E_ID}probe" 2>/dev/null; then
		echo "1..0 # SKIP network namespaces unavailable"
		exit 0
	fi
	ip netns del "${E2E_ID}probe"
	[ -x "$VPND" ] || bail "no $VPND: run make first"
	# the unprivileged user the children run as
	sh "$(dirname "$0")/../../scripts/mkuser.sh" >/dev/null 2>&1 || true
}

e2e_cleanup() {
	local p ns
	set +e
	for p in $E2E_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $E2E_PIDS; do
		wait_gone "$p" 30 || kill -KILL "$p" 2>/dev/null
	done
	for ns in $E2E_NS; do
		# what a killed daemon may have left is in the namespace only
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$E2E_TMP"
}

bail() {
	echo "Bail out! $*"
	exit 1
}

diag() {
	echo "# $*"
}

ok() {
	# ok CONDITION_EXIT_STATUS DESCRIPTION   (use: cmd; ok $? "desc")
	E2E_N=$((E2E_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $E2E_N - $2"
	else
		echo "not ok $E2E_N - $2"
		E2E_FAIL=$((E2E_FAIL + 1))
	fi
}

is() {
	# is GOT WANT DESCRIPTION
	E2E_N=$((E2E_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $E2E_N - $3"
	else
		echo "not ok $E2E_N - $3"
		echo "#   got: '$1'"
		echo "#   expected: '$2'"
		E2E_FAIL=$((E2E_FAIL + 1))
	fi
}

e2e_done() {
	echo "1..$E2E_N"
	[ "$E2E_FAIL" = 0 ]
	exit $?
}

# wait_for TENTHS CMD...: poll CMD every 0.1 s, at most TENTHS times.
wait_for() {
	local n=$1 i=0
	shift
	while [ "$i" -lt "$n" ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

pid_alive() {
	kill -0 "$1" 2>/dev/null &&
	    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

pid_gone() {
	! pid_alive "$1"
}

# wait_gone PID TENTHS
wait_gone() {
	wait_for "$2" pid_gone "$1"
}

# ns_add NAME: a namespace with lo up; NAME gets the test's prefix.
# Prints the full name.
ns_add() {
	local ns="${E2E_ID}$1"
	ip netns add "$ns" || bail "ip netns add $ns"
	E2E_NS="$E2E_NS $ns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
	    bail "veth $2/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# vpnd_start TAG NS [vpnd args...]: start vpnd -d in NS with private
# paths under $E2E_TMP/TAG; waits for its socket. Sets VPND_PID_<TAG>.
# VPND_BIN overrides the binary (build-test/vpnd for test hooks).
vpnd_start() {
	local tag=$1 ns=$2 dir pid
	shift 2
	dir="$E2E_TMP/$tag"
	mkdir -p "$dir"
	ip netns exec "$ns" "${VPND_BIN:-$VPND}" -d -s "$dir/sock" \
	    -L "$dir/log" -S "$dir/state" -R "$dir/resolv.conf" "$@" \
	    >>"$dir/out" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	eval "VPND_PID_$tag=$pid"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd $tag did not start:"
		sed 's/^/#   /' "$dir/out"
		return 1
	fi
	# the socket exists before the children are ready: wait for status
	wait_for 50 "$VPNCTL" -s "$dir/sock" status
}

sock_of() {
	echo "$E2E_TMP/$1/sock"
}

ctl() {
	# ctl TAG vpnctl-args...
	local tag=$1
	shift
	"$VPNCTL" -s "$E2E_TMP/$tag/sock" "$@"
}

# children PID: the PIDs of a process's children
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null
}

# child_of PID NAME: the child whose title is "vpnd: NAME"
child_of() {
	local c
	for c in $(children "$1"); do
		if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null |
		    grep -q "vpnd: $2"; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# keypair NAME: writes $E2E_TMP/NAME.key and NAME.pub
keypair() {
	umask 077
	wg genkey >"$E2E_TMP/$1.key"
	wg pubkey <"$E2E_TMP/$1.key" >"$E2E_TMP/$1.pub"
}

key_of() { cat "$E2E_TMP/$1.key"; }
pub_of() { cat "$E2E_TMP/$1.pub"; }

# wggo_start NS IFNAME: wireguard-go in the foreground, tracked by PID.
wggo_start() {
	local pid
	ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$2" \
	    >>"$E2E_TMP/wggo-$1-$2.log" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	wait_for 50 ip -n "$1" link show "$2" || bail "wireguard-go $2"
}

# ping_ok NS ADDR: three quick pings, true if any answered.
ping_ok() {
	ip netns exec "$1" ping -c 3 -i 0.2 -W 1 -q "$2" >/dev/null 2>&1
}

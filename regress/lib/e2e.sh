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
	# the host's own resolv.conf, which no test may touch (host_resolv_ok)
	E2E_HOST_RESOLV=$(sha256sum </etc/resolv.conf 2>/dev/null)
	# the unprivileged user the children run as
	# (vpnd refuses to start without it)
	sh "${E2E_ROOT:-$(dirname "$0")/../..}/scripts/mkuser.sh" >"$E2E_TMP/mkuser.out" 2>&1 ||
	    bail "scripts/mkuser.sh failed: $(cat "$E2E_TMP/mkuser.out")"
	id _vpnd >/dev/null 2>&1 || bail "no user _vpnd after mkuser.sh"
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
	# ns_add runs in $(...) subshells: the list lives in a file
	for ns in $E2E_NS $(cat "$E2E_TMP/.namespaces" 2>/dev/null); do
		# what a killed daemon may have left is in the namespace only
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# /etc/netns/<ours> made by netns_resolv; /etc/netns itself only
	# if it is empty (another test may be using it)
	for ns in $(cat "$E2E_TMP/.netnsdirs" 2>/dev/null); do
		case $ns in
		/etc/netns/"$E2E_ID"*) rm -rf "$ns" ;;
		esac
	done
	[ -s "$E2E_TMP/.netnsdirs" ] && rmdir /etc/netns 2>/dev/null
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
	echo "$ns" >>"$E2E_TMP/.namespaces"
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
	local dir="$E2E_TMP/$1"

	vpnd_spawn "$@"
	if ! wait_for 50 test -S "$dir/sock"; then
		diag "vpnd $1 did not start:"
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
	ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 \
	    "${WIREGUARD_GO:-wireguard-go}" -f "$2" \
	    >>"$E2E_TMP/wggo-$1-$2.log" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	wait_for 50 ip -n "$1" link show "$2" || bail "wireguard-go $2"
	# its UAPI socket comes after the link: without it, wg set would
	# ask the kernel ("Protocol not supported")
	wait_for 50 test -S "/var/run/wireguard/$2.sock" ||
	    bail "wireguard-go $2: no UAPI socket"
}

# ping_ok NS ADDR: three quick pings, true if any answered.
ping_ok() {
	ip netns exec "$1" ping -c 3 -i 0.2 -W 1 -q "$2" >/dev/null 2>&1
}

# ping_first TRIES NS ADDR: one ping after another (each waits 1 s for its
# answer) until one is answered, at most TRIES: traffic that has to
# trigger a handshake first (and a headless set-up that may still be
# finishing).
ping_first() {
	wait_for "$1" ip netns exec "$2" ping -c 1 -W 1 -q "$3"
}

# --- control-protocol helpers (proto.t, badinput.t, switch.t, multihop.t,
# vpnctl.t) ---

E2E_CLIENT="$(cd "$(dirname "$0")/../lib" && pwd)/client.py"
# the system's python3: a wrapper (pyenv shims) costs 0.5 s a call and
# is not usable by other uids
E2E_PY=/usr/bin/python3
[ -x "$E2E_PY" ] || E2E_PY=python3

# client [-a] [-t SECS] SOCK ACTION...: the scripted JSON-lines client
# (regress/lib/client.py); prints the messages it was told to expect.
client() {
	"$E2E_PY" "$E2E_CLIENT" "$@"
}

# jget FIELD... < json-lines: each line's (dotted) field, one per line.
jget() {
	"$E2E_PY" "$E2E_CLIENT" jget "$@"
}

# wggo_peer NS IFNAME KEY PORT ADDR... : a wireguard-go peer in NS with
# private key KEY (a keypair name), listening on PORT, its interface
# holding the addresses ADDR... and up. Peers are added with `wg set`.
# The IFNAME must be unique on the host (wireguard-go's UAPI sockets live
# in the shared /var/run/wireguard): use e.g. "wg${E2E_ID}a".
wggo_peer() {
	local ns=$1 ifn=$2 key=$3 port=$4 a
	shift 4
	wggo_start "$ns" "$ifn"
	ip netns exec "$ns" wg set "$ifn" private-key "$E2E_TMP/$key.key" \
	    listen-port "$port" || bail "wg set $ifn"
	for a in "$@"; do
		ip -n "$ns" addr add "$a" dev "$ifn" || bail "addr $a"
	done
	ip -n "$ns" link set "$ifn" up
}

# mozconf CLIENTKEY SERVERKEY PORT ENDPOINT4 ADDR4 ADDR6 RANGES [HOP]:
# a base-protocol activate object (one line, no "id"). RANGES is a
# comma-separated list of prefixes, e.g. "0.0.0.0/0,::/0".
mozconf() {
	local r ranges="" sep="" a p v6
	for r in $(echo "$7" | tr ',' ' '); do
		a=${r%/*}
		p=${r#*/}
		case $a in *:*) v6=true ;; *) v6=false ;; esac
		ranges="$ranges$sep{\"address\":\"$a\",\"range\":$p,\"isIpv6\":$v6}"
		sep=,
	done
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s",' \
	    "$(key_of "$1")" "$(pub_of "$1")"
	printf '"serverPublicKey":"%s","serverPort":%s,' "$(pub_of "$2")" "$3"
	printf '"serverIpv4AddrIn":"%s","deviceIpv4Address":"%s",' "$4" "$5"
	printf '"deviceIpv6Address":"%s","serverIpv4Gateway":"%s",' "$6" \
	    "${5%.*}.1"
	printf '"dnsServer":"%s","allowedIPAddressRanges":[%s],' "${5%.*}.1" \
	    "$ranges"
	printf '"hopType":"%s"}\n' "${8:-SingleHop}"
}

# --- crash-safety and no-leak helpers (dns.t, killswitch.t, crash.t,
# cycles.t) ---

# vpnd_procs TAG: the PIDs of vpnd TAG's parent and of its children.
vpnd_procs() {
	local p
	eval "p=\${VPND_PID_$1:-}"
	[ -n "$p" ] || return 1
	echo "$p" $(children "$p")
}

# vpnd_kill9 TAG WHO: SIGKILL to WHO (parent, netmgr, tunworker, dnsmgr,
# or all: every process of the instance, children first), then wait at
# most 5 s until every process of the instance is gone. 0 if they are.
vpnd_kill9() {
	local tag=$1 who=$2 all p parent
	eval "parent=\${VPND_PID_$tag:-}"
	all=$(vpnd_procs "$tag") || return 1
	# no "Killed" job notice on stderr: the shell reaps it quietly
	disown "$parent" 2>/dev/null
	case $who in
	parent) kill -KILL "$parent" ;;
	all) kill -KILL $(children "$parent") "$parent" ;;
	*) p=$(child_of "$parent" "$who") || return 1
	   kill -KILL "$p" ;;
	esac
	for p in $all; do
		wait_gone "$p" 50 || return 1
	done
	return 0
}

# ours_left NS [IFNAME]: what of vpnd's network state is in NS -- the
# interface, policy rules 30319/30320, routes in table 30320, the nft
# table inet vpnd -- one item a line; nothing when all is clean.
ours_left() {
	local ns=$1 ifn=${2:-vpn0} f
	ip -n "$ns" -o link show "$ifn" 2>/dev/null | sed 's/^/link: /'
	for f in -4 -6; do
		ip -n "$ns" "$f" rule show 2>/dev/null |
		    grep -E '^3031[9]:|^30320:' | sed "s/^/rule$f: /"
		ip -n "$ns" "$f" route show table 30320 2>/dev/null |
		    sed "s/^/route$f: /"
	done
	ip netns exec "$ns" nft list table inet vpnd >/dev/null 2>&1 &&
	    echo "nft: table inet vpnd"
	return 0
}

# clean_in NS [IFNAME]: true if nothing of ours is in NS.
clean_in() {
	[ -z "$(ours_left "$@")" ]
}

# out_lines TAG: how many lines vpnd TAG's stderr holds so far;
# out_since TAG N: the lines after the first N.
out_lines() {
	wc -l <"$E2E_TMP/$1/out" 2>/dev/null || echo 0
}
out_since() {
	tail -n "+$(($2 + 1))" "$E2E_TMP/$1/out" 2>/dev/null
}

# ctl_state TAG: the daemon's state field (disconnected, connecting, ...)
ctl_state() {
	ctl "$1" -j status 2>/dev/null |
	    sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'
}

# e2e_timeout SECS "$@": call first thing (before e2e_init): re-runs the
# test under timeout(1) so its whole run is bounded; on expiry the test
# gets SIGTERM and its EXIT trap cleans up.
e2e_timeout() {
	local secs=$1
	shift
	if [ -z "${E2E_TIMED:-}" ]; then
		E2E_TIMED=1 exec timeout -k 10 "$secs" "$0" "$@"
	fi
}

# netns_resolv NS FILE: NS gets a resolv.conf of its own, the way
# containers do: ip netns exec bind-mounts /etc/netns/NS/resolv.conf over
# /etc/resolv.conf in the daemon's mount namespace (a rename onto it gives
# EBUSY). Copies FILE there (mode 644) and prints its path. With
# E2E_NO_R=1, vpnd_spawn gives the daemon no -R: it manages
# /etc/resolv.conf, which is that file. Removed by the EXIT trap.
netns_resolv() {
	local d="/etc/netns/$1" i
	[ -e "$d" ] && bail "$d exists"
	echo "$d" >>"$E2E_TMP/.netnsdirs"
	for i in 1 2 3; do
		mkdir -p "$d" 2>/dev/null && break
	done
	cp "$2" "$d/resolv.conf" && chmod 644 "$d/resolv.conf" ||
	    bail "$d/resolv.conf"
	echo "$d/resolv.conf"
}

# host_resolv_ok: the host's /etc/resolv.conf is what it was at the start.
host_resolv_ok() {
	[ "$(sha256sum </etc/resolv.conf 2>/dev/null)" = "$E2E_HOST_RESOLV" ]
}

# vpnd_spawn TAG NS [vpnd args...]: like vpnd_start (same private paths
# under $E2E_TMP/TAG, same VPND_BIN, sets VPND_PID_<TAG>) but does not
# wait for the socket: for instances expected to die or refuse at once.
vpnd_spawn() {
	local tag=$1 ns=$2 dir pid
	shift 2
	dir="$E2E_TMP/$tag"
	mkdir -p "$dir"
	[ "${E2E_NO_R:-0}" = 1 ] || set -- -R "$dir/resolv.conf" "$@"
	ip netns exec "$ns" "${VPND_BIN:-$VPND}" -d -s "$dir/sock" \
	    -L "$dir/log" -S "$dir/state" -W "$dir/wg" "$@" >>"$dir/out" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	eval "VPND_PID_$tag=$pid"
}

# status_field PID FIELD: a field of /proc/PID/status, white space
# squeezed ("Uid" -> "0 0 0 0"); empty if the field is empty.
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ +/, ""); print; exit }' \
	    "/proc/$1/status" 2>/dev/null
}

# exit_status PID: reap a process this shell started and print its
# exit status; call after wait_gone so it does not block.
exit_status() {
	local rc=0
	wait "$1" 2>/dev/null || rc=$?
	echo "$rc"
}

# listening NS PORT: a TCP listener on PORT in NS
listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
}

# transfer LABEL FROM_NS TO_NS TO_ADDR: 100 MB over TCP, sha256 compared
# (two assertions). The random file is made once per test.
transfer() {
	local lpid got
	if [ ! -s "$E2E_TMP/blob" ]; then
		head -c 100M /dev/urandom >"$E2E_TMP/blob" ||
		    bail "no 100 MB file"
		BLOBSUM=$(sha256sum <"$E2E_TMP/blob" | cut -d' ' -f1)
	fi
	rm -f "$E2E_TMP/recv"
	ip netns exec "$3" timeout 40 nc -l "$4" 5001 >"$E2E_TMP/recv" &
	lpid=$!
	E2E_PIDS="$E2E_PIDS $lpid"
	wait_for 50 listening "$3" 5001 || diag "receiver not listening"
	ip netns exec "$2" timeout 40 nc -N -w 10 "$4" 5001 \
	    <"$E2E_TMP/blob"
	ok $? "$1: sender finished"
	wait "$lpid"
	got=$(sha256sum <"$E2E_TMP/recv" | cut -d' ' -f1)
	is "$got" "$BLOBSUM" "$1: 100 MB arrived intact (sha256)"
}

# client_server WGIF: the usual pair. C (the client, eth0 10.0.0.1/24)
# and S (the server, eth0 10.0.0.2/24) joined by a veth; keys cli and srv;
# in S a wireguard-go WGIF on port 51820 with 10.8.0.1/24 that knows cli
# at 10.8.0.2/32. Sets C and S.
client_server() {
	C=$(ns_add c)
	S=$(ns_add s)
	veth "$C" eth0 "$S" eth0
	ip -n "$C" addr add 10.0.0.1/24 dev eth0
	ip -n "$S" addr add 10.0.0.2/24 dev eth0
	keypair cli
	keypair srv
	wggo_peer "$S" "$1" srv 51820 10.8.0.1/24
	ip netns exec "$S" wg set "$1" peer "$(pub_of cli)" \
	    allowed-ips 10.8.0.2/32 || bail "wg set"
}

# act4: an activate of client_server's tunnel (10.8.0.2, to the server's
# 10.8.0.1 only)
act4() {
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s","serverPublicKey":"%s","serverPort":51820,"serverIpv4AddrIn":"10.0.0.2","deviceIpv4Address":"10.8.0.2/32","allowedIPAddressRanges":[{"address":"10.8.0.1","range":32,"isIpv6":false}]}' \
	    "$(key_of cli)" "$(pub_of cli)" "$(pub_of srv)"
}

# client_server6 WG: client_server, and the tunnel of both families: the
# server has fd00:8::1 and allows the client 10.8.0.2 and fd00:8::2
client_server6() {
	client_server "$1"
	ip -n "$S" addr add fd00:8::1/64 dev "$1" || bail "server IPv6"
	ip netns exec "$S" wg set "$1" peer "$(pub_of cli)" \
	    allowed-ips 10.8.0.2/32,fd00:8::2/128 || bail "wg set"
}

# act6 RANGES: an activate of client_server6's tunnel (10.8.0.2 and
# fd00:8::2) carrying RANGES (JSON); FULL6 is all of both families
act6() {
	printf '{"type":"activate","privateKey":"%s","publicKey":"%s","serverPublicKey":"%s","serverPort":51820,"serverIpv4AddrIn":"10.0.0.2","deviceIpv4Address":"10.8.0.2/32","deviceIpv6Address":"fd00:8::2/128","allowedIPAddressRanges":[%s]}' \
	    "$(key_of cli)" "$(pub_of cli)" "$(pub_of srv)" "$1"
}
FULL6='{"address":"0.0.0.0","range":0,"isIpv6":false},{"address":"::","range":0,"isIpv6":true}'

# timerfds PID: "CLOCKID SECONDS NANOSECONDS" of the process's timerfds
# (the clock and what is left of the pending expiry), a line each
timerfds() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[timerfd]" ] ||
		    continue
		awk '/^clockid:/ { c = $2 }
		    /^it_value:/ { gsub(/[(),]/, " "); v = $2 " " $3 }
		    END { print c, v }' /proc/"$1"/fdinfo/"${f##*/}"
	done
}

# client_conf FILE [ALLOWEDIPS]: C's configuration for client_server's S
# (address 10.8.0.2/32, DNS 10.8.0.1; AllowedIPs everything by default)
client_conf() {
	cat >"$1" <<EOF
[Interface]
PrivateKey = $(key_of cli)
Address = 10.8.0.2/32
DNS = 10.8.0.1
[Peer]
PublicKey = $(pub_of srv)
Endpoint = 10.0.0.2:51820
AllowedIPs = ${2:-0.0.0.0/0, ::/0}
EOF
}

# direct_counter: after client_server, S counts the UDP that C sends it
# outside the tunnel (from C's underlay address to port 9999). direct
# prints the count; send_direct sends three such datagrams from C.
direct_counter() {
	ip netns exec "$S" nft -f - <<'NFT' || bail "nft counter in S"
table inet cnt {
	counter direct { }
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.0.0.1 udp dport 9999 counter name direct
	}
}
NFT
}

direct() {
	ip netns exec "$S" nft list counter inet cnt direct |
	    awk '/packets/ { print $2 }'
}

send_direct() {
	local i
	for i in 1 2 3; do
		printf x | ip netns exec "$C" nc -u -w0 10.0.0.2 9999 \
		    2>/dev/null
	done
}

# two_servers NET2: a client C with two servers S1 (10.99.1.1, wireguard-go
# wg<id>a on 51820 with 10.200.0.1/24) and S2 (10.99.2.1, wg<id>b on 51821
# with NET2.1/24), each on its own veth (C eth1 10.99.1.2, eth2 10.99.2.2);
# keys cli, srv1, srv2; both servers know cli at 10.200.0.2/32.
two_servers() {
	C=$(ns_add c)
	S1=$(ns_add s1)
	S2=$(ns_add s2)
	veth "$C" eth1 "$S1" eth0
	veth "$C" eth2 "$S2" eth0
	ip -n "$C" addr add 10.99.1.2/24 dev eth1
	ip -n "$S1" addr add 10.99.1.1/24 dev eth0
	ip -n "$C" addr add 10.99.2.2/24 dev eth2
	ip -n "$S2" addr add 10.99.2.1/24 dev eth0
	keypair cli
	keypair srv1
	keypair srv2
	wggo_peer "$S1" "wg${E2E_ID}a" srv1 51820 10.200.0.1/24
	wggo_peer "$S2" "wg${E2E_ID}b" srv2 51821 "$1.1/24"
	ip netns exec "$S1" wg set "wg${E2E_ID}a" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32
	ip netns exec "$S2" wg set "wg${E2E_ID}b" peer "$(pub_of cli)" \
	    allowed-ips 10.200.0.2/32
}

# --- the split-tunnel world (exclude.t, splitstale.t, dbusapps.t,
# cgroup.t, lockdown.t, fwreload.t) ---

# split_probe_py: $E2E_TMP/probe.py [ADDR], the split-tunnel tests' probe:
# a TCP connect to ADDR (203.0.113.2 by default) port 9, where nothing
# listens: a reset ("refused") proves the way out and the way back;
# prints that and this process's cgroup, as /proc/self/cgroup says it
split_probe_py() {
	cat >"$E2E_TMP/probe.py" <<'EOF'
import socket, sys
a = sys.argv[1] if len(sys.argv) > 1 else "203.0.113.2"
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(1.5)
try:
    s.connect((a, 9))
    r = "connected"
except ConnectionRefusedError:
    r = "refused"
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error %d" % e.errno
cg = [l[3:].strip() for l in open("/proc/self/cgroup") if l.startswith("0::")]
print(r, cg[0] if cg else "?")
EOF
	chmod 644 "$E2E_TMP/probe.py"
}

# split_world WG [-i] [-6]: a client C, a wireguard-go server S and a
# third namespace I; sets C, S, I and WG; keys cli and srv.
#   C (vpnd) eth0 10.0.0.1/24 ---- S eth0 10.0.0.2/24 (wireguard-go WG on
#     51820 with 10.8.0.1/24; it knows cli at 10.8.0.2/32)
#   C eth1 192.0.2.1/24 ---- I eth0 192.0.2.2/24
# -i: the "internet", 203.0.113.2/32 on I's lo, reached only by C's
# default route (via I), which a full tunnel takes over.
# -6: also C eth1 2001:db8:2::1/64, I eth0 2001:db8:2::2/64 and, with -i,
# 2001:db8:ff::2/128 on I's lo and C's IPv6 default route via I.
split_world() {
	local o inet=0 v6=0
	WG=$1
	shift
	for o in "$@"; do
		case $o in
		-i) inet=1 ;;
		-6) v6=1 ;;
		*) bail "split_world: unknown option $o" ;;
		esac
	done
	C=$(ns_add c)
	S=$(ns_add s)
	I=$(ns_add i)
	veth "$C" eth0 "$S" eth0
	veth "$C" eth1 "$I" eth0
	ip -n "$C" addr add 10.0.0.1/24 dev eth0
	ip -n "$S" addr add 10.0.0.2/24 dev eth0
	ip -n "$C" addr add 192.0.2.1/24 dev eth1
	ip -n "$I" addr add 192.0.2.2/24 dev eth0
	if [ "$v6" = 1 ]; then
		ip -n "$C" addr add 2001:db8:2::1/64 dev eth1 nodad
		ip -n "$I" addr add 2001:db8:2::2/64 dev eth0 nodad
	fi
	if [ "$inet" = 1 ]; then
		ip -n "$I" addr add 203.0.113.2/32 dev lo
		ip -n "$C" route add default via 192.0.2.2 ||
		    bail "default route in C"
	fi
	if [ "$inet" = 1 ] && [ "$v6" = 1 ]; then
		ip -n "$I" addr add 2001:db8:ff::2/128 dev lo nodad
		ip -n "$C" -6 route add default via 2001:db8:2::2 ||
		    bail "IPv6 default route in C"
	fi
	keypair cli
	keypair srv
	wggo_peer "$S" "$WG" srv 51820 10.8.0.1/24
	ip netns exec "$S" wg set "$WG" peer "$(pub_of cli)" \
	    allowed-ips 10.8.0.2/32 || bail "wg set"
}

# cg2_find: CG2, where cgroup v2 is mounted (/sys/fs/cgroup or
# /sys/fs/cgroup/unified); bails out without it.
cg2_find() {
	local d
	CG2=""
	for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		if [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ]; then
			CG2=$d
			break
		fi
	done
	[ -n "$CG2" ] || bail "no cgroup2 mount at /sys/fs/cgroup(/unified)"
}

# cg_tree [SUBDIR...]: CGT, a cgroup tree of the test's own under the
# cgroup2 mount (vpnd -C "$CGT"), made now with its SUBDIRs; the trap
# moves every process still in it back to the root and removes it.
cg_tree() {
	local d
	cg2_find
	CGT="$CG2/vpnd-e2e-$$"
	trap 'e2e_cleanup; cg_tree_cleanup' EXIT
	mkdir "$CGT" || bail "mkdir $CGT"
	for d in "$@"; do
		mkdir "$CGT/$d" || bail "mkdir $CGT/$d"
	done
}

# every process still in the tree goes back to the root; then rmdir,
# deepest first
cg_tree_cleanup() {
	local d p
	[ -d "$CGT" ] || return 0
	for d in $(find "$CGT" -depth -type d 2>/dev/null); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
			echo "$p" >"$CG2/cgroup.procs" 2>/dev/null
		done
		rmdir "$d" 2>/dev/null
	done
}

# --- D-Bus (dbus.t, nonroot.t) ---

# bus_private: a private dbus-daemon of the system type for vpnd's D-Bus
# service, started here and tracked by PID: the default policy of
# Debian's system bus, the policy file vpnd ships
# (etc/org.mozilla.vpn.dbus.conf) and its activation file in the service
# directory, listening on $E2E_TMP/bus/bus.sock, which _vpnd and other
# users can reach ($E2E_TMP becomes 0711). Sets BUS_ADDR (for
# DBUS_SYSTEM_BUS_ADDRESS), BUS_SOCK and BUS_PID.
bus_private() {
	local etc dir="$E2E_TMP/bus"
	etc="$(cd "$(dirname "$0")/../../etc" && pwd)"
	command -v dbus-daemon >/dev/null || bail "no dbus-daemon"
	BUS_SOCK="$dir/bus.sock"
	BUS_ADDR="unix:path=$BUS_SOCK"
	chmod 711 "$E2E_TMP"
	mkdir -p "$dir/services"
	chmod 755 "$dir"
	cp "$etc/org.mozilla.vpn.dbus.service" "$dir/services/"
	cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>$BUS_ADDR</listen>
  <servicedir>$dir/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>$etc/org.mozilla.vpn.dbus.conf</include>
</busconfig>
EOF
	rm -f "$BUS_SOCK"
	dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile \
	    >>"$dir/out" 2>&1 &
	BUS_PID=$!
	E2E_PIDS="$E2E_PIDS $BUS_PID"
	wait_for 50 test -S "$BUS_SOCK" ||
	    bail "dbus-daemon did not start: $(cat "$dir/out")"
}

# cpu_ticks PID...: utime+stime (clock ticks) of the processes, all
# threads (the benchmarks' CPU per byte)
cpu_ticks() {
	local p t=0 u s
	for p in "$@"; do
		# fields 14 and 15, counted after the ")" closing the comm
		read -r u s <<EOF
$(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12, $13}')
EOF
		t=$((t + u + s))
	done
	echo "$t"
}

/*
 * t_sys_nft.c -- the nftables kill switch, checked with real packets.
 *
 * This process moves into a private network namespace; a child moves
 * into a second one, and a veth pair joins them:
 *
 *	us: vk0 198.51.100.1/24 192.168.77.1/24  (10.64.0.2/32 on lo)
 *	peer: vk1 198.51.100.2 (the endpoint) .3 (not one), 192.168.77.2
 *	    (a LAN resolver) .3 (the tunnel's resolver, here on the LAN)
 *
 * The peer echoes every UDP datagram and accepts TCP on port 53.  A
 * packet the kill switch drops on output makes sendto() fail with EPERM
 * at once; one that passes comes back as an echo, proving the input
 * chain lets the reply in.  Every wait is a poll() with a bound.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "sys.h"
#include "tap.h"

#define WAIT_MS		3000	/* bound for any reply, ARP included */
#define PEER_LIFE_MS	60000	/* the peer gives up on its own */

static char	*run(const char *);
static int	 count(const char *, const char *);
static struct sockaddr_in sin4(const char *, uint16_t);
static struct prefix addr(const char *);
static int	 sock(bool);
static int	 xfer(int, const char *, uint16_t);
static int	 readable(int, int);
static int	 tcp_to(const char *, uint16_t);
static int	 bind_udp(const char *, uint16_t);
static int	 dhcp_sock(void);
static int	 send_to(int, const char *, uint16_t);
static __dead void peer(int, int);

static char *
run(const char *cmd)
{
	FILE	*f;
	char	*out;
	size_t	 n;

	if ((out = calloc(1, 65536)) == NULL)
		abort();
	if ((f = popen(cmd, "r")) == NULL)
		return out;
	n = fread(out, 1, 65535, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static int
count(const char *hay, const char *needle)
{
	int	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static struct sockaddr_in
sin4(const char *a, uint16_t port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, a, &sin.sin_addr);
	return sin;
}

static struct prefix
addr(const char *a)
{
	struct prefix	p;

	memset(&p, 0, sizeof(p));
	if (strchr(a, ':') != NULL) {
		p.af = AF_INET6;
		p.plen = 128;
		inet_pton(AF_INET6, a, p.addr);
	} else {
		p.af = AF_INET;
		p.plen = 32;
		inet_pton(AF_INET, a, p.addr);
	}
	return p;
}

/* A marked socket comes from udp_open(), the daemon's own. */
static int
sock(bool marked)
{
	if (marked)
		return udp_open(AF_INET, 0, VPND_FWMARK, NULL);
	return socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int
readable(int fd, int ms)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/*
 * 1: sent and echoed back; 0: sent, no echo in time; -errno: sendto()
 * failed (EPERM: dropped or rejected by the output chain).
 */
static int
xfer(int fd, const char *dst, uint16_t port)
{
	struct sockaddr_in	sin = sin4(dst, port);
	char			buf[64];

	if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1)
		return -errno;
	while (readable(fd, WAIT_MS))
		if (recv(fd, buf, sizeof(buf), 0) == 4 &&
		    memcmp(buf, "ping", 4) == 0)
			return 1;
	return 0;
}

/* 0 connected, else the errno of the failed connect (bounded wait). */
static int
tcp_to(const char *dst, uint16_t port)
{
	struct sockaddr_in	sin = sin4(dst, port);
	struct pollfd		pfd;
	socklen_t		sl;
	int			fd, err = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS)
			err = errno;
		else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, WAIT_MS) != 1)
				err = ETIMEDOUT;
			else {
				sl = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
			}
		}
	}
	close(fd);
	return err;
}

static int
bind_udp(const char *a, uint16_t port)
{
	struct sockaddr_in	sin = sin4(a, port);
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What a DHCP client opens: unmarked, port 68, on the link. */
static int
dhcp_sock(void)
{
	int	fd, one = 1;

	if ((fd = bind_udp("0.0.0.0", 68)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof(one)) == -1 || setsockopt(fd, SOL_SOCKET,
	    SO_BINDTODEVICE, "vk0", 4) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 0 sent, -errno if sendto() failed (EPERM: the output chain). */
static int
send_to(int fd, const char *dst, uint16_t port)
{
	struct sockaddr_in	sin = sin4(dst, port);

	if (sendto(fd, "dhcp", 4, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1)
		return -errno;
	return 0;
}

/*
 * The far side, in its own namespace.  Commands on cmd: 's' sends a
 * spoofed datagram to our tunnel address, then a control one to our
 * LAN-side address, both from the endpoint's port.  EOF ends it.
 */
static __dead void
peer(int cmd, int rep)
{
	struct pollfd		 pfd[5];
	struct sockaddr_in	 from, to;
	socklen_t		 fl;
	char			 buf[2048], c = 'r';
	ssize_t			 n;
	int			 i, t, one = 1, elapsed = 0;

	if (unshare(CLONE_NEWNET) == -1 || write(rep, &c, 1) != 1 ||
	    read(cmd, &c, 1) != 1)
		_exit(1);
	if (system("ip link set lo up && ip link set vk1 up && "
	    "ip addr add 198.51.100.2/24 dev vk1 && "
	    "ip addr add 198.51.100.3/24 dev vk1 && "
	    "ip addr add 192.168.77.2/24 dev vk1 && "
	    "ip addr add 192.168.77.3/24 dev vk1 && "
	    "ip route add 10.64.0.0/24 via 198.51.100.1") != 0)
		_exit(1);
	pfd[0].fd = bind_udp("0.0.0.0", 51820);
	pfd[1].fd = bind_udp("0.0.0.0", 5353);
	pfd[2].fd = bind_udp("0.0.0.0", 53);
	pfd[3].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	to = sin4("0.0.0.0", 53);
	setsockopt(pfd[3].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (pfd[0].fd == -1 || pfd[1].fd == -1 || pfd[2].fd == -1 ||
	    pfd[3].fd == -1 || bind(pfd[3].fd, (struct sockaddr *)&to,
	    sizeof(to)) == -1 || listen(pfd[3].fd, 16) == -1)
		_exit(1);
	pfd[4].fd = cmd;
	for (i = 0; i < 5; i++)
		pfd[i].events = POLLIN;
	c = 'k';
	if (write(rep, &c, 1) != 1)
		_exit(1);
	while (elapsed < PEER_LIFE_MS) {
		if (poll(pfd, 5, 100) == -1)
			_exit(1);
		elapsed += 100;		/* a bound, not a clock */
		for (i = 0; i < 3; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			fl = sizeof(from);
			n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(pfd[i].fd, buf, (size_t)n, 0,
				    (struct sockaddr *)&from, fl);
		}
		if (pfd[3].revents & POLLIN) {
			if ((t = accept(pfd[3].fd, NULL, NULL)) != -1)
				close(t);
		}
		if (pfd[4].revents & (POLLIN | POLLHUP)) {
			if (read(cmd, &c, 1) != 1)
				_exit(0);
			to = sin4("10.64.0.2", 4000);
			sendto(pfd[0].fd, "spoof", 5, 0,
			    (struct sockaddr *)&to, sizeof(to));
			to = sin4("198.51.100.1", 4000);
			sendto(pfd[0].fd, "control", 7, 0,
			    (struct sockaddr *)&to, sizeof(to));
		}
	}
	_exit(0);
}

int
main(void)
{
	struct sockaddr_storage	 ep[2], *many;
	struct sockaddr_in	*sin;
	struct prefix		 dns[2], tun[2];
	struct ks_params	 ks;
	char			 cmdline[256], c, buf[64], *out;
	int			 cmd[2], rep[2], m, u, sp, ctl, st, i, d;
	pid_t			 pid;

	if (geteuid() != 0)
		skip_all("needs root for a network namespace");
	if (unshare(CLONE_NEWNET) == -1)
		skip_all("unshare(CLONE_NEWNET): %s", strerror(errno));
	if (nl_link_set_up(nl_link_index("lo"), true) == -1)
		skip_all("cannot bring lo up: %s", strerror(errno));
	if (nft_ks_present() == -1)
		skip_all("nf_tables unavailable: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	plan(79);

	is_int(nft_ks_present(), 0, "no table at first");
	ok(nft_ks_remove() == 0, "removing an absent table is fine");

	/* Hostile parameters never reach the kernel. */
	memset(&ks, 0, sizeof(ks));
	errno = 0;
	ok(nft_ks_install(NULL) == -1 && errno == EINVAL, "NULL refused");
	ks.ifname = "bad name";
	errno = 0;
	ok(nft_ks_install(&ks) == -1 && errno == EINVAL, "bad ifname refused");
	ks.ifname = "vpn0";
	ks.nendpoints = 1;
	errno = 0;
	ok(nft_ks_install(&ks) == -1 && errno == EINVAL,
	    "count without array refused");
	memset(ep, 0, sizeof(ep));
	ep[0].ss_family = AF_UNIX;
	ks.endpoints = ep;
	errno = 0;
	ok(nft_ks_install(&ks) == -1 && errno == EINVAL,
	    "endpoint of a bad family refused");
	is_int(nft_ks_present(), 0, "nothing installed by failures");

	/* The two namespaces. */
	if (pipe2(cmd, O_CLOEXEC) == -1 || pipe2(rep, O_CLOEXEC) == -1)
		abort();
	fflush(stdout);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		peer(cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	ok(read(rep[0], &c, 1) == 1 && c == 'r', "peer namespace ready");
	snprintf(cmdline, sizeof(cmdline),
	    "ip link add vk0 type veth peer name vk1 && "
	    "ip link set vk1 netns %d && ip link set vk0 up && "
	    "ip addr add 198.51.100.1/24 dev vk0 && "
	    "ip addr add 192.168.77.1/24 dev vk0 && "
	    "ip addr add 10.64.0.2/32 dev lo && "
	    "ip route add 224.0.0.0/4 dev vk0", (int)pid);
	ok(system(cmdline) == 0, "veth pair set up");
	c = 'g';
	ok(write(cmd[1], &c, 1) == 1 && read(rep[0], &c, 1) == 1 && c == 'k',
	    "peer configured and listening");

	m = sock(true);
	u = sock(false);
	ok(m >= 0 && u >= 0, "marked and unmarked sockets");
	is_int(xfer(u, "198.51.100.3", 51820), 1,
	    "before the kill switch: anything goes");
	sp = bind_udp("10.64.0.2", 4000);
	ctl = bind_udp("198.51.100.1", 4000);
	c = 's';
	ok(sp >= 0 && ctl >= 0 && write(cmd[1], &c, 1) == 1,
	    "peer sends spoofed then control datagrams");
	ok(readable(ctl, WAIT_MS) && recv(ctl, buf, sizeof(buf), 0) == 7,
	    "control datagram arrives");
	ok(readable(sp, WAIT_MS) && recv(sp, buf, sizeof(buf), 0) == 5,
	    "without the kill switch the spoofed one arrives too");

	/* Kill switch, LAN not allowed. */
	memset(ep, 0, sizeof(ep));
	sin = (struct sockaddr_in *)&ep[0];
	*sin = sin4("198.51.100.2", 51820);
	ep[1].ss_family = AF_INET6;
	((struct sockaddr_in6 *)&ep[1])->sin6_port = htons(51821);
	inet_pton(AF_INET6, "2001:db8::2",
	    &((struct sockaddr_in6 *)&ep[1])->sin6_addr);
	dns[0] = addr("192.168.77.3");
	dns[1] = addr("fd64::1");
	tun[0] = addr("10.64.0.2");
	tun[1] = addr("fd64::2");
	memset(&ks, 0, sizeof(ks));
	ks.ifname = "vpn0";
	ks.endpoints = ep;
	ks.nendpoints = 2;
	ks.dns = dns;
	ks.ndns = 2;
	ks.tunaddrs = tun;
	ks.ntunaddrs = 2;
	ks.allow_lan = false;
	ok(nft_ks_install(&ks) == 0, "kill switch installed");
	is_int(nft_ks_present(), 1, "present");
	out = run("nft list table inet vpnd");
	ok(strstr(out, "type filter hook output priority filter; "
	    "policy drop;") != NULL, "output chain, policy drop");
	ok(strstr(out, "type filter hook input priority filter; "
	    "policy drop;") != NULL, "input chain, policy drop");
	ok(strstr(out, "type filter hook forward priority filter; "
	    "policy drop;") != NULL, "forward chain, policy drop");
	ok(strstr(out, "type filter hook prerouting priority raw; "
	    "policy accept;") != NULL, "prerouting chain at raw");
	ok(strstr(out, "iifname != \"vpn0\" ip daddr 10.64.0.2 "
	    "fib saddr type != local drop") != NULL, "anti-spoofing rule");
	ok(strstr(out, "ip daddr 192.168.0.0/16 accept") == NULL,
	    "no LAN rule");
	ok(strstr(out, "ip daddr 255.255.255.255 udp sport 68 udp dport 67 "
	    "accept") != NULL && count(out, "udp sport 68 udp dport 67 "
	    "accept") == 5, "DHCPv4: to broadcast and the LAN ranges only");
	ok(strstr(out, "ip6 daddr ff02::1:2 udp sport 546 udp dport 547 "
	    "accept") != NULL && strstr(out, "ip6 daddr fe80::/10 udp sport "
	    "546 udp dport 547 accept") != NULL && count(out, "udp sport 546 "
	    "udp dport 547 accept") == 2,
	    "DHCPv6: to ff02::1:2 and link-local only");
	ok(strstr(out, "meta mark 0x00007670 ip6 daddr . udp dport "
	    "@endpoints6 accept") != NULL &&
	    strstr(out, "ip6 saddr . udp sport @endpoints6 accept") !=
	    NULL && strstr(out, "elements = { 2001:db8::2 . 51821 }") !=
	    NULL, "v6 endpoint rules, both directions, one set");
	ok(strstr(out, "meta mark 0x00007670 ip daddr . udp dport "
	    "@endpoints4 accept") != NULL &&
	    strstr(out, "ip saddr . udp sport @endpoints4 accept") !=
	    NULL && strstr(out, "elements = { 198.51.100.2 . 51820 }") !=
	    NULL, "v4 endpoint rules, both directions, one set");
	ok(strstr(out, "iifname != \"vpn0\" ip6 daddr fd64::2 "
	    "fib saddr type != local drop") != NULL &&
	    strstr(out, "meta nfproto ipv6 udp dport 53 reject") != NULL,
	    "v6 anti-spoofing and DNS rules");
	free(out);

	is_int(xfer(m, "198.51.100.2", 51820), 1,
	    "marked UDP to the endpoint passes, its reply comes in");
	is_int(xfer(u, "198.51.100.2", 51820), -EPERM,
	    "unmarked UDP to the endpoint dropped");
	is_int(xfer(m, "198.51.100.3", 51820), -EPERM,
	    "marked UDP to a non-endpoint dropped");
	is_int(xfer(m, "198.51.100.2", 5353), -EPERM,
	    "marked UDP to the endpoint's host, other port, dropped");
	is_int(xfer(u, "192.168.77.2", 5353), -EPERM, "LAN dropped");
	d = dhcp_sock();
	ok(d >= 0, "a DHCP client socket (port 68, vk0)");
	is_int(send_to(d, "198.51.100.3", 67), -EPERM,
	    "DHCP 68->67 to a host beyond the LAN dropped");
	is_int(send_to(d, "255.255.255.255", 67), 0,
	    "DHCP 68->67 broadcast passes");
	is_int(send_to(d, "192.168.77.2", 67), 0,
	    "DHCP 68->67 to a LAN server (renewal) passes");
	is_int(send_to(d, "255.255.255.255", 68), -EPERM,
	    "from port 68 to another port dropped");
	close(d);
	is_int(xfer(u, "192.168.77.3", 53), -EPERM,
	    "even the tunnel's resolver outside the tunnel, LAN not allowed");

	/* Anti-spoofing: the control datagram is the barrier. */
	c = 's';
	ok(write(cmd[1], &c, 1) == 1, "peer sends them again");
	ok(readable(ctl, WAIT_MS) && recv(ctl, buf, sizeof(buf), 0) == 7,
	    "control datagram from the endpoint arrives");
	ok(recv(sp, buf, sizeof(buf), 0) == -1 && errno == EAGAIN,
	    "datagram to the tunnel address from outside dropped");

	/* Replace in one transaction, now with the LAN. */
	ks.allow_lan = true;
	ok(nft_ks_install(&ks) == 0, "re-installed with allow_lan");
	out = run("nft list table inet vpnd");
	is_int(count(out, "oifname \"lo\" accept"), 1,
	    "replaced, not appended to");
	is_int(count(out, "ip daddr 192.168.0.0/16 accept"), 2,
	    "LAN rule, for our own traffic and forwarded traffic");
	ok(strstr(out, "meta nfproto ipv4 udp dport 53 reject") != NULL &&
	    strstr(out, "tcp dport 53 reject with tcp reset") != NULL && strstr(out, "192.168.77.3") == NULL,
	    "DNS reject rules, with no exemption off the tunnel");
	free(out);
	is_int(xfer(u, "192.168.77.2", 5353), 1, "LAN now passes");
	is_int(xfer(u, "192.168.77.2", 53), -EPERM,
	    "UDP DNS to a LAN resolver rejected despite allow_lan");
	is_int(tcp_to("192.168.77.2", 53), ECONNREFUSED,
	    "TCP DNS to a LAN resolver reset at once");
	/*
	 * The tunnel's resolver reached off the tunnel (a LAN route, a
	 * reconnect) would be a cleartext leak: rejected too. Inside the
	 * tunnel it is accepted by the tunnel-interface rule.
	 */
	is_int(xfer(u, "192.168.77.3", 53), -EPERM,
	    "UDP DNS to the tunnel's resolver off the tunnel rejected");
	is_int(tcp_to("192.168.77.3", 53), ECONNREFUSED,
	    "TCP DNS to the tunnel's resolver off the tunnel reset");
	is_int(xfer(u, "198.51.100.3", 51820), -EPERM,
	    "beyond the LAN still dropped");
	/* multicast: the LAN's scopes only */
	is_int(send_to(u, "224.0.0.251", 5353), 0, "mDNS (224.0.0.251) passes");
	is_int(send_to(u, "239.255.255.250", 1900), 0,
	    "SSDP (239.255.255.250, admin-scoped) passes");
	is_int(send_to(u, "224.0.1.1", 123), -EPERM,
	    "globally scoped multicast (224.0.1.1) dropped");
	is_int(send_to(u, "233.252.0.1", 5000), -EPERM,
	    "GLOP multicast (233.252.0.1) dropped");
	out = run("nft list table inet vpnd");
	ok(strstr(out, "ip6 daddr ff02::/16 accept") != NULL &&
	    strstr(out, "ip6 daddr ff00::/8") == NULL &&
	    strstr(out, "ip daddr 224.0.0.0/4") == NULL,
	    "IPv6 link-local multicast allowed, no blanket multicast rule");
	free(out);

	/* Lockdown: the same table swapped in, without the tunnel. */
	ok(nft_lockdown_install(false) == 0, "lockdown table swapped in");
	out = run("nft list table inet vpnd");
	is_int(count(out, "oifname \"lo\" accept"), 1,
	    "lockdown: replaced, not appended to");
	ok(strstr(out, "vpn0") == NULL && strstr(out, "0x00007670") == NULL &&
	    strstr(out, "198.51.100.2") == NULL && strstr(out, "fib") == NULL,
	    "lockdown: no tunnel, endpoint or anti-spoofing rule");
	ok(strstr(out, "ip daddr 192.168.0.0/16 accept") == NULL,
	    "lockdown: no LAN rule");
	ok(strstr(out, "meta nfproto ipv4 udp dport 53 reject") != NULL &&
	    count(out, "udp sport 68 udp dport 67 accept") == 5,
	    "lockdown: DNS rejected, DHCP as the kill switch has it");
	free(out);
	is_int(xfer(m, "198.51.100.2", 51820), -EPERM,
	    "lockdown: even marked UDP to the old endpoint dropped");
	is_int(xfer(u, "192.168.77.2", 5353), -EPERM, "lockdown: LAN dropped");
	ok(nft_lockdown_install(true) == 0, "lockdown with the LAN");
	is_int(xfer(u, "192.168.77.2", 5353), 1, "lockdown: the LAN passes");
	is_int(xfer(u, "198.51.100.3", 51820), -EPERM,
	    "lockdown: beyond the LAN dropped");
	ok(nft_ks_install(&ks) == 0, "the kill switch swapped back in");

	/*
	 * 100,000 endpoints (one set, elements over 391 messages, 432 acks),
	 * the real one last and twice: it passes both ways, nothing else
	 * does.
	 */
	if ((many = calloc(100001, sizeof(*many))) == NULL)
		abort();
	for (i = 0; i < 99999; i++)
		*(struct sockaddr_in *)&many[i] = sin4(i % 2 ? "198.51.100.50" :
		    "198.51.100.51", (uint16_t)(1 + i / 2));
	many[99999] = ep[0];
	many[100000] = ep[0];
	ks.endpoints = many;
	ks.nendpoints = 100001;
	ok(nft_ks_install(&ks) == 0, "100,001 endpoints, one twice: "
	    "installed");
	out = run("nft list set inet vpnd endpoints4 | tr ',' '\\n' | "
	    "grep -c '[0-9] \\. [0-9]'");
	is_int(atoi(out), 100000, "100,000 keys in the set");
	free(out);
	is_int(xfer(m, "198.51.100.2", 51820), 1,
	    "100,001 endpoints: marked UDP to the last one and back passes");
	is_int(xfer(m, "198.51.100.2", 5353), -EPERM,
	    "100,001 endpoints: another port of its address is dropped");
	ks.endpoints = ep;
	ks.nendpoints = 2;
	free(many);
	ok(nft_ks_install(&ks) == 0, "back to two endpoints");

	/* Too big for one batch: refused whole, the old table stays. */
	if ((many = calloc(200000, sizeof(*many))) == NULL)
		abort();
	for (i = 0; i < 200000; i++)
		*(struct sockaddr_in *)&many[i] = sin4(i % 2 ? "198.51.100.9" :
		    "198.51.100.10", (uint16_t)(1 + i / 2 % 60000));
	ks.endpoints = many;
	ks.nendpoints = 200000;
	errno = 0;
	ok(nft_ks_install(&ks) == -1 && errno == E2BIG,
	    "an oversized ruleset is refused with E2BIG");
	free(many);
	out = run("nft list table inet vpnd");
	ok(strstr(out, "ip daddr 192.168.0.0/16 accept") != NULL,
	    "previous kill switch still in place");
	free(out);

	ok(nft_ks_remove() == 0, "removed");
	is_int(nft_ks_present(), 0, "absent after removal");
	is_int(xfer(u, "198.51.100.3", 51820), 1,
	    "without the kill switch traffic flows again");

	close(cmd[1]);		/* the peer exits on EOF */
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "peer exited cleanly");
	close(rep[0]);
	close(m);
	close(u);
	if (sp >= 0)
		close(sp);
	if (ctl >= 0)
		close(ctl);
	return done_testing();
}

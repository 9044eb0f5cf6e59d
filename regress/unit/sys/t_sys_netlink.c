/*
 * t_sys_netlink.c -- TUN, links, addresses, routes, rules and marked UDP
 * sockets, in a private network namespace of this process.  The kernel's
 * view is checked with getifaddrs(3), ioctls and ip(8), not with our own
 * code.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sys.h"
#include "tap.h"

#define SUPPRESS_RULE	"30319:\tfrom all lookup main suppress_prefixlength 0"

struct seen {
	int	n;
	int	idx[8];
	char	name[8][IFNAMSIZ];
};

static char	*run(const char *);
static int	 count(const char *, const char *);
static struct prefix pfx(const char *, int);
static int	 has_addr(const char *, const struct prefix *);
static int	 ifioctl(const char *, unsigned long, struct ifreq *);
static void	 seen_cb(const char *, int, void *);

/* Output of a shell command run in our namespace; never NULL. */
static char *
run(const char *cmd)
{
	FILE	*f;
	char	*out;
	size_t	 n = 0;

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

static struct prefix
pfx(const char *a, int plen)
{
	struct prefix	p;

	memset(&p, 0, sizeof(p));
	if (strchr(a, ':') != NULL) {
		p.af = AF_INET6;
		inet_pton(AF_INET6, a, p.addr);
	} else {
		p.af = AF_INET;
		inet_pton(AF_INET, a, p.addr);
	}
	p.plen = (uint8_t)plen;
	return p;
}

static int
has_addr(const char *ifname, const struct prefix *p)
{
	struct ifaddrs	*ifa, *i;
	const void	*a;
	int		 found = 0;

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) != 0 ||
		    i->ifa_addr->sa_family != p->af)
			continue;
		if (p->af == AF_INET)
			a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else
			a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (memcmp(a, p->addr, p->af == AF_INET ? 4 : 16) == 0)
			found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

static int
ifioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int	s, rv;

	memset(ifr, 0, sizeof(*ifr));
	strlcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name));
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rv = ioctl(s, req, ifr);
	close(s);
	return rv;
}

static void
seen_cb(const char *name, int idx, void *arg)
{
	struct seen	*s = arg;

	if (s->n < 8) {
		strlcpy(s->name[s->n], name, IFNAMSIZ);
		s->idx[s->n] = idx;
	}
	s->n++;
}

int
main(void)
{
	struct ifreq	 ifr;
	struct prefix	 a4, a6, r4, r6, d4, d6, bad;
	struct seen	 seen;
	char		*out, *rules0, *rules60;
	int		 fd, fd1, q, idx, idx1, lo, v, s4, s6, i, n;
	uint16_t	 p4, p6;
	socklen_t	 sl;

	if (geteuid() != 0)
		skip_all("needs root for a network namespace");
	if (unshare(CLONE_NEWNET) == -1)
		skip_all("unshare(CLONE_NEWNET): %s", strerror(errno));
	plan(84);

	lo = nl_link_index("lo");
	ok(lo > 0, "lo has an index");
	ok(nl_link_set_up(lo, true) == 0, "lo up");
	rules0 = run("ip -4 rule show");
	rules60 = run("ip -6 rule show");

	/* TUN */
	fd = tun_create("vpn0", &idx);
	ok(fd >= 0 && idx > 0, "tun_create vpn0 (fd %d, index %d)", fd, idx);
	is_int(nl_link_index("vpn0"), idx, "nl_link_index finds it");
	ok((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, "tun fd non-blocking");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "tun fd close-on-exec");
	errno = 0;
	ok(tun_create("vpn0", &i) == -1 && errno == EEXIST,
	    "duplicate TUN name rejected with EEXIST");
	errno = 0;
	ok(tun_create("lo", &i) == -1 && errno == EEXIST,
	    "name of a non-TUN link rejected with EEXIST");
	errno = 0;
	ok(tun_create("vpn%d", &i) == -1 && errno == EINVAL,
	    "template name rejected");
	errno = 0;
	ok(tun_create("abcdefghijklmnop", &i) == -1 && errno == EINVAL,
	    "16-character name rejected");
	errno = 0;
	ok(tun_create("", &i) == -1 && errno == EINVAL, "empty name rejected");
	errno = 0;
	ok(tun_create("a b", &i) == -1 && errno == EINVAL,
	    "name with a space rejected");
	q = tun_open_queue("vpn0");
	ok(q >= 0, "second queue opened");
	errno = 0;
	ok(tun_open_queue("nope0") == -1 && errno == ENODEV,
	    "queue of an absent TUN: ENODEV, nothing created");
	is_int(nl_link_index("nope0"), 0, "nope0 still absent");

	/* MTU and link state */
	ok(nl_link_set_mtu(idx, 1420) == 0, "set MTU 1420");
	ok(ifioctl("vpn0", SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 1420,
	    "kernel reports MTU 1420");
	errno = 0;
	ok(nl_link_set_mtu(idx, 100) == -1 && errno == EINVAL,
	    "MTU 100 rejected");
	errno = 0;
	ok(nl_link_set_mtu(idx, 1 << 20) == -1 && errno == EINVAL,
	    "MTU 1M rejected");
	errno = 0;
	ok(nl_link_set_mtu(0, 1420) == -1 && errno == EINVAL,
	    "ifindex 0 rejected");
	errno = 0;
	ok(nl_link_set_mtu(99999, 1420) == -1 && errno == ENODEV,
	    "absent ifindex: ENODEV from the kernel");
	ok(nl_link_set_up(idx, true) == 0, "link up");
	ok(ifioctl("vpn0", SIOCGIFFLAGS, &ifr) == 0 &&
	    (ifr.ifr_flags & IFF_UP), "kernel reports IFF_UP");

	/* Addresses */
	a4 = pfx("10.77.0.2", 24);
	a6 = pfx("fd77::2", 64);
	ok(nl_addr_add(idx, &a4) == 0, "add 10.77.0.2/24");
	ok(nl_addr_add(idx, &a6) == 0, "add fd77::2/64");
	ok(has_addr("vpn0", &a4), "getifaddrs sees 10.77.0.2");
	ok(has_addr("vpn0", &a6), "getifaddrs sees fd77::2");
	/* only that address: the kernel's link-local one may be in DAD */
	out = run("ip -6 -o addr show dev vpn0 to fd77::2/128");
	ok(strstr(out, "fd77::2/64") != NULL && strstr(out, "tentative") ==
	    NULL, "v6 address is not tentative (nodad)");
	free(out);
	errno = 0;
	ok(nl_addr_add(idx, &a4) == -1 && errno == EEXIST,
	    "adding it twice: EEXIST");
	bad = a4;
	bad.af = AF_UNIX;
	errno = 0;
	ok(nl_addr_add(idx, &bad) == -1 && errno == EINVAL,
	    "bad address family rejected");
	bad = a4;
	bad.plen = 33;
	errno = 0;
	ok(nl_addr_add(idx, &bad) == -1 && errno == EINVAL,
	    "v4 prefix length 33 rejected");
	errno = 0;
	ok(nl_addr_add(idx, NULL) == -1 && errno == EINVAL, "NULL rejected");

	/* Routes */
	r4 = pfx("10.78.1.5", 16);	/* host bits set: masked */
	r6 = pfx("2001:db8:1::", 48);
	ok(nl_route_add(idx, &r4, RT_TABLE_MAIN) == 0, "route 10.78/16 main");
	ok(nl_route_add(idx, &r6, RT_TABLE_MAIN) == 0,
	    "route 2001:db8:1::/48 main");
	errno = 0;
	ok(nl_route_add(idx, &r4, RT_TABLE_MAIN) == -1 && errno == EEXIST,
	    "same route again: EEXIST");
	d4 = pfx("0.0.0.0", 0);
	d6 = pfx("::", 0);
	ok(nl_route_add(idx, &d4, VPND_TABLE) == 0, "v4 default in our table");
	ok(nl_route_add(idx, &d6, VPND_TABLE) == 0, "v6 default in our table");
	out = run("ip -4 route show table main");
	ok(strstr(out, "10.78.0.0/16 dev vpn0") != NULL,
	    "main has 10.78.0.0/16 dev vpn0");
	free(out);
	out = run("ip -6 route show table main");
	ok(strstr(out, "2001:db8:1::/48 dev vpn0") != NULL,
	    "main has 2001:db8:1::/48 dev vpn0");
	free(out);
	out = run("ip -4 route show table 30320");
	ok(strstr(out, "default dev vpn0") != NULL, "table 30320 v4 default");
	free(out);
	out = run("ip -6 route show table 30320");
	ok(strstr(out, "default dev vpn0") != NULL, "table 30320 v6 default");
	free(out);
	errno = 0;
	ok(nl_route_add(idx, &r4, 0) == -1 && errno == EINVAL,
	    "table 0 rejected");
	is_int(nl_route_flush_table(AF_INET, VPND_TABLE), 1, "flush v4 table: 1 route");
	is_int(nl_route_flush_table(AF_INET6, VPND_TABLE), 1, "flush v6 table: 1 route");
	out = run("ip -4 route show table 30320; ip -6 route show table 30320");
	is_str(out, "", "our table is empty");
	free(out);
	ok(nl_route_flush_table(AF_INET, VPND_TABLE) == 0,
	    "flushing an empty table is fine");
	out = run("ip -4 route show table main");
	ok(strstr(out, "10.78.0.0/16 dev vpn0") != NULL,
	    "flush left the main table alone");
	free(out);
	ok(nl_route_del(idx, &r4, RT_TABLE_MAIN) == 0, "delete 10.78/16");
	ok(nl_route_del(idx, &r6, RT_TABLE_MAIN) == 0, "delete v6 route");
	out = run("ip route show table main; ip -6 route show table main");
	ok(strstr(out, "10.78.") == NULL && strstr(out, "2001:db8:1") == NULL,
	    "routes gone from main");
	free(out);
	errno = 0;
	ok(nl_route_del(idx, &r4, RT_TABLE_MAIN) == -1 && errno == ESRCH,
	    "deleting an absent route: ESRCH");

	/* Policy rules */
	ok(nl_rules_add(AF_INET, VPND_TABLE, VPND_FWMARK) == 0 && nl_rules_add(AF_INET6, VPND_TABLE, VPND_FWMARK) == 0,
	    "rules added, both families");
	ok(nl_rules_add(AF_INET, VPND_TABLE, VPND_FWMARK) == 0, "adding again is fine");
	out = run("ip -4 rule show");
	is_int(count(out, SUPPRESS_RULE),
	    1, "v4 suppress rule, once");
	is_int(count(out, "30320:\tnot from all fwmark 0x7670 lookup 30320"),
	    1, "v4 not-fwmark rule, once");
	free(out);
	out = run("ip -6 rule show");
	is_int(count(out, SUPPRESS_RULE),
	    1, "v6 suppress rule");
	is_int(count(out, "30320:\tnot from all fwmark 0x7670 lookup 30320"),
	    1, "v6 not-fwmark rule");
	free(out);
	ok(nl_rules_del(AF_INET, VPND_TABLE, VPND_FWMARK) == 2 && nl_rules_del(AF_INET6, VPND_TABLE, VPND_FWMARK) == 2,
	    "rules deleted, two per family");
	out = run("ip -4 rule show");
	is_str(out, rules0, "v4 rules exactly as before");
	free(out);
	out = run("ip -6 rule show");
	is_str(out, rules60, "v6 rules exactly as before");
	free(out);
	ok(nl_rules_del(AF_INET, VPND_TABLE, VPND_FWMARK) == 0, "deleting absent rules is fine");
	errno = 0;
	ok(nl_rules_add(AF_UNIX, VPND_TABLE, VPND_FWMARK) == -1 && errno == EINVAL, "bad family");

	/* UDP sockets */
	s4 = udp_open(AF_INET, 0, VPND_FWMARK, &p4);
	ok(s4 >= 0 && p4 != 0, "v4 socket on port %u", p4);
	sl = sizeof(v);
	ok(getsockopt(s4, SOL_SOCKET, SO_MARK, &v, &sl) == 0 &&
	    v == VPND_FWMARK, "SO_MARK is VPND_FWMARK");
	sl = sizeof(v);
	v = 0;
	if (getsockopt(s4, SOL_SOCKET, SO_RCVBUF, &v, &sl) == -1)
		v = -1;
	ok(v >= VPND_SOCKBUF, "receive buffer %d", v);
	ok((fcntl(s4, F_GETFL) & O_NONBLOCK) && (fcntl(s4, F_GETFD) &
	    FD_CLOEXEC), "non-blocking, close-on-exec");
	sl = sizeof(v);
	ok(getsockopt(s4, IPPROTO_IP, IP_MTU_DISCOVER, &v, &sl) == 0 &&
	    v == IP_PMTUDISC_DONT, "v4 socket sends without DF");
	s6 = udp_open(AF_INET6, p4, VPND_FWMARK, &p6);
	ok(s6 >= 0 && p6 == p4, "v6 socket shares the port");
	sl = sizeof(v);
	ok(getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &v, &sl) == 0 && v == 1,
	    "v6 socket is v6-only");
	errno = 0;
	ok(udp_open(AF_INET, p4, VPND_FWMARK, NULL) == -1 && errno == EADDRINUSE,
	    "port in use: EADDRINUSE");
	errno = 0;
	ok(udp_open(AF_UNIX, 0, VPND_FWMARK, NULL) == -1 && errno == EAFNOSUPPORT,
	    "bad family");

	/* Listing and leftover deletion */
	fd1 = tun_create("vpn1", &idx1);
	ok(fd1 >= 0, "second TUN vpn1");
	memset(&seen, 0, sizeof(seen));
	ok(nl_link_list("vpn", seen_cb, &seen) == 0, "list prefix vpn");
	n = 0;
	for (i = 0; i < seen.n && i < 8; i++)
		if ((strcmp(seen.name[i], "vpn0") == 0 && seen.idx[i] == idx) ||
		    (strcmp(seen.name[i], "vpn1") == 0 && seen.idx[i] == idx1))
			n++;
	ok(seen.n == 2 && n == 2, "exactly vpn0 and vpn1, right indexes");
	memset(&seen, 0, sizeof(seen));
	ok(nl_link_list("zz", seen_cb, &seen) == 0 && seen.n == 0,
	    "no match, no call");
	errno = 0;
	ok(nl_link_del("vpn1", "vpnd:0123") == -1 && errno == EPERM &&
	    nl_link_index("vpn1") == idx1,
	    "an unmarked TUN is not deleted as ours");
	ok(nl_link_set_alias(idx1, "vpnd:0123") == 0, "TUN marked");
	errno = 0;
	ok(nl_link_del("vpn1", "vpnd:0124") == -1 && errno == EPERM &&
	    nl_link_index("vpn1") == idx1,
	    "a TUN marked by another installation is not deleted");
	errno = 0;
	ok(nl_link_set_alias(idx1, "") == -1 && errno == EINVAL,
	    "an empty mark is refused");
	ok(nl_link_del("vpn1", "vpnd:0123") == 0, "leftover vpn1 deleted");
	is_int(nl_link_index("vpn1"), 0, "vpn1 gone");
	errno = 0;
	ok(nl_link_del("lo", NULL) == -1 && errno == EPERM,
	    "refuses to delete a link that is not a TUN");
	errno = 0;
	ok(nl_link_del("nope0", NULL) == -1 && errno == ENODEV,
	    "absent: ENODEV");

	close(fd1);
	close(s4);
	close(s6);
	close(q);
	close(fd);
	is_int(nl_link_index("vpn0"), 0, "TUN vanishes with its last fd");
	free(rules0);
	free(rules60);
	return done_testing();
}

/*
 * t_netwatch.c -- which rtnetlink notifications are a change of the
 * underlay: a default route of the main table, a global address or a
 * link other than loopback and the tunnel; not what vpnd does to its own
 * interface and route table, not other routes, not link-scope addresses.
 * Truncated and malformed messages are skipped without reading past
 * them.  What was seen is remembered: an address whose lifetime a router
 * advertisement refreshed, a default route announced again, a link's
 * statistics are no change; a link counts only if a default route leaves
 * through it.  Only the kernel is listened to, and tunworker accepts only
 * reasons it knows.
 */
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "parent.h"
#include "tap.h"
#include "vpnd.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP	0x10000
#endif

#define TUNIDX	7
#define TUNNAME	"vpn0"

static char	 buf[8192] __attribute__((aligned(4)));
static uint16_t	 nlflags;	/* of the next message built */

static struct nlmsghdr *
msg(uint16_t type)
{
	struct nlmsghdr	*nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = nlflags;
	return nlh;
}

static uint32_t	 link_keep(uint16_t, int, const char *, unsigned int);

/* what netwatch_set_tunlink's hook heard: calls, the last index and up */
static int	 heard, heard_index, heard_up, heard_mtu;

static void
hear(int ifindex, bool up, int mtu)
{
	heard++;
	heard_index = ifindex;
	heard_up = up;
	heard_mtu = mtu;
}

static uint32_t
route_gw(uint16_t type, int af, uint8_t dst_len, uint8_t table, int tattr,
    uint8_t rtype, uint32_t oif, uint8_t gw)
{
	struct nlmsghdr	*nlh = msg(type);
	struct rtmsg	*rtm;

	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = af;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = table;
	rtm->rtm_type = rtype;
	if (tattr)
		mnl_attr_put_u32(nlh, RTA_TABLE, tattr);
	if (gw != 0) {
		uint8_t	 a[16] = { 0 };

		a[0] = 10;
		a[3] = gw;
		mnl_attr_put(nlh, RTA_GATEWAY, af == AF_INET6 ? 16 : 4, a);
	}
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	return netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

static uint32_t
route(uint16_t type, int af, uint8_t dst_len, uint8_t table, int tattr,
    uint8_t rtype)
{
	netwatch_reset();
	return route_gw(type, af, dst_len, table, tattr, rtype, 3, 0);
}

static uint8_t	 ifaflags;	/* of the next address message */

static uint32_t
addr_a(uint16_t type, int af, int index, uint8_t scope, uint8_t last)
{
	struct nlmsghdr	*nlh = msg(type);
	struct ifaddrmsg *ifa;

	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = af;
	ifa->ifa_index = index;
	ifa->ifa_scope = scope;
	ifa->ifa_prefixlen = af == AF_INET6 ? 64 : 24;
	ifa->ifa_flags = ifaflags;
	if (last != 0) {
		uint8_t	 a[16] = { 0x20, 0x01, 0x0d, 0xb8 };

		a[af == AF_INET6 ? 15 : 3] = last;
		mnl_attr_put(nlh, IFA_ADDRESS, af == AF_INET6 ? 16 : 4, a);
	}
	return netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

static uint32_t
addr(uint16_t type, int af, int index, uint8_t scope)
{
	netwatch_reset();
	return addr_a(type, af, index, scope, 0);
}

static uint32_t
link_(uint16_t type, int index, const char *name, unsigned int flags)
{
	netwatch_reset();
	/* a default route leaves through the interface tried */
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST,
	    (uint32_t)index, 1);
	return link_keep(type, index, name, flags);
}

static uint32_t
link_keep(uint16_t type, int index, const char *name, unsigned int flags)
{
	struct nlmsghdr	*nlh = msg(type);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = index;
	ifi->ifi_flags = flags;
	if (name != NULL)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

/* the tunnel up, with an IFLA_MTU of size bytes (2 or 4) */
static void
tun_mtu(int size, uint32_t mtu)
{
	struct nlmsghdr	*nlh = msg(RTM_NEWLINK);
	struct ifinfomsg *ifi;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = TUNIDX;
	ifi->ifi_flags = IFF_UP;
	if (size == 2)
		mnl_attr_put_u16(nlh, IFLA_MTU, (uint16_t)mtu);
	else
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

int
main(void)
{
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;
	struct sockaddr_nl sa;
	size_t		 len;
	uint32_t	 why;
	int		 i;

	plan(91);

	/* routes */
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST),
	    NETCHG_ROUTE, "a new IPv4 default route in main");
	is_int(route(RTM_DELROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST), NETCHG_ROUTE, "an IPv6 default route goes");
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_UNSPEC,
	    RT_TABLE_MAIN, RTN_UNICAST), NETCHG_ROUTE,
	    "main named by RTA_TABLE");
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_UNSPEC, 0x7670,
	    RTN_UNICAST), 0, "the full tunnel's own table: not the underlay");
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0x7670,
	    RTN_UNICAST), 0, "RTA_TABLE wins over rtm_table");
	is_int(route(RTM_NEWROUTE, AF_INET, 24, RT_TABLE_MAIN, 0,
	    RTN_UNICAST), 0, "a route that is not a default route");
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_LOCAL, 0, RTN_LOCAL),
	    0, "the local table");
	is_int(route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0,
	    RTN_UNREACHABLE), 0, "an unreachable default is no path");
	is_int(route(RTM_NEWROUTE, AF_PACKET, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST), 0, "an unknown family");

	/* addresses */
	is_int(addr(RTM_NEWADDR, AF_INET, 3, RT_SCOPE_UNIVERSE), NETCHG_ADDR,
	    "a global IPv4 address on another interface");
	is_int(addr(RTM_DELADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE),
	    NETCHG_ADDR, "an IPv6 address goes");
	is_int(addr(RTM_NEWADDR, AF_INET, TUNIDX, RT_SCOPE_UNIVERSE), 0,
	    "the tunnel's own address");
	is_int(addr(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_LINK), 0,
	    "a link-local address");
	is_int(addr(RTM_NEWADDR, AF_INET, 1, RT_SCOPE_HOST), 0,
	    "a host-scope address");

	/* links */
	is_int(link_(RTM_NEWLINK, 3, "eth1", IFF_UP), NETCHG_LINK,
	    "another interface changed");
	is_int(link_(RTM_DELLINK, 3, "eth1", 0), NETCHG_LINK,
	    "another interface went");
	is_int(link_(RTM_NEWLINK, TUNIDX, TUNNAME, IFF_UP), 0,
	    "the tunnel, by index");
	is_int(link_(RTM_NEWLINK, 99, TUNNAME, IFF_UP), 0,
	    "the tunnel, by name (a new or a gone device)");
	is_int(link_(RTM_NEWLINK, 1, "lo", IFF_UP | IFF_LOOPBACK), 0,
	    "loopback");

	/* what is known is no change: a refreshed address lifetime */
	netwatch_reset();
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 5),
	    NETCHG_ADDR, "a new IPv6 address");
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 5), 0,
	    "the same address again (a router advertisement refreshed its "
	    "lifetime): no change");
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 6),
	    NETCHG_ADDR, "another address on the same interface");
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 4, RT_SCOPE_UNIVERSE, 5),
	    NETCHG_ADDR, "the same address on another interface");
	is_int(addr_a(RTM_DELADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 5),
	    NETCHG_ADDR, "the address goes");
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 5),
	    NETCHG_ADDR, "and comes back");
	for (i = 0, why = 0; i < 1000; i++)
		why |= addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 6);
	is_int(why, 0, "a thousand refreshes: no change");
	is_int(addr_a(RTM_NEWADDR, AF_INET, TUNIDX, RT_SCOPE_UNIVERSE, 9), 0,
	    "the tunnel's own address is not remembered either");
	ifaflags = IFA_F_TENTATIVE;
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 7),
	    NETCHG_ADDR, "a new address, duplicate detection running");
	ifaflags = 0;
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 7),
	    NETCHG_ADDR, "the same address usable (detection over): a change");
	is_int(addr_a(RTM_NEWADDR, AF_INET6, 3, RT_SCOPE_UNIVERSE, 7), 0,
	    "and then refreshed: no change");

	/* default routes */
	netwatch_reset();
	is_int(route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), NETCHG_ROUTE, "a default route via a router");
	is_int(route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), 0, "announced again: no change");
	is_int(route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 2), NETCHG_ROUTE, "via another router");
	is_int(route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 4, 1), NETCHG_ROUTE, "through another interface");
	is_int(route_gw(RTM_DELROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), NETCHG_ROUTE, "the first goes");
	is_int(route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), NETCHG_ROUTE, "and comes back");

	/* ip route replace: the route it replaced is gone */
	netwatch_reset();
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 3, 1);
	nlflags = NLM_F_REPLACE;
	is_int(route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 4, 2), NETCHG_ROUTE, "replaced by one via another "
	    "uplink");
	is_int(route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), NETCHG_ROUTE, "and back to the first: a change "
	    "again");
	nlflags = 0;

	/* links: only one a default route leaves through */
	netwatch_reset();
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 3,
	    1);
	is_int(link_keep(RTM_NEWLINK, 3, "eth0", IFF_UP | IFF_RUNNING |
	    IFF_LOWER_UP), NETCHG_LINK, "the uplink, first seen");
	is_int(link_keep(RTM_NEWLINK, 3, "eth0", IFF_UP | IFF_RUNNING |
	    IFF_LOWER_UP | IFF_PROMISC), 0,
	    "the uplink again, nothing that matters changed");
	is_int(link_keep(RTM_NEWLINK, 3, "eth0", IFF_UP), NETCHG_LINK,
	    "the uplink loses its carrier");
	is_int(link_keep(RTM_NEWLINK, 9, "veth9", 0), 0,
	    "a container's veth appears");
	is_int(link_keep(RTM_NEWLINK, 9, "veth9", IFF_UP | IFF_RUNNING |
	    IFF_LOWER_UP), 0, "and goes up: not the underlay");
	is_int(link_keep(RTM_DELLINK, 9, "veth9", 0), 0, "and goes");
	is_int(link_keep(RTM_NEWLINK, 3, "eth0", 0), NETCHG_LINK,
	    "the uplink goes down");
	is_int(route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0,
	    RTN_UNICAST, 3, 1), NETCHG_ROUTE, "its default route (dropped "
	    "silently with the link) back: a change");
	is_int(link_keep(RTM_DELLINK, 3, "eth0", 0), NETCHG_LINK,
	    "the uplink goes");

	/* the debounce: settle, cap, and a gap after each notification */
	is_int((int)netwatch_delay(10000, 10000, 0), 300, "a burst settles");
	is_int((int)netwatch_delay(11900, 10000, 0), 100,
	    "a long burst is told at its cap");
	is_int((int)netwatch_delay(12500, 10000, 0), 0, "... at once past it");
	is_int((int)netwatch_delay(20000, 20000, 18000), 3000,
	    "not sooner than 5 s after the last notification");
	is_int((int)netwatch_delay(30000, 30000, 18000), 300,
	    "later, settled as usual");
	/* a link flapping every 301 ms for a simulated minute */
	{
		uint64_t	 t, first = 0, last = 0, due = 0;
		int		 fires = 0;

		for (t = 100000; t < 160000; t += 301) {
			if (due != 0 && due <= t) {
				fires++;
				last = due;
				due = 0;
			}
			if (due == 0)
				first = t;
			due = t + netwatch_delay(t, first, last);
		}
		ok(fires <= 13, "a link flapping 3 times a second for a minute: "
		    "%d notifications (at most 13)", fires);
	}

	/* only the kernel is listened to */
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	ok(netwatch_from_kernel(&sa, sizeof(sa)), "the kernel (port 0)");
	sa.nl_pid = 4242;
	ok(!netwatch_from_kernel(&sa, sizeof(sa)),
	    "a local process's port is not the kernel");
	sa.nl_pid = 0;
	ok(!netwatch_from_kernel(&sa, sizeof(sa) - 1), "a short address");
	sa.nl_family = AF_UNIX;
	ok(!netwatch_from_kernel(&sa, sizeof(sa)), "another family");

	/* what tunworker accepts of IMSG_NET_CHANGED */
	ok(!netchg_valid(0), "no reason: refused");
	ok(netchg_valid(NETCHG_ROUTE), "one reason");
	ok(netchg_valid(NETCHG_ALL), "every reason");
	ok(!netchg_valid(NETCHG_ALL + 1), "an unknown bit: refused");
	ok(!netchg_valid(0x80000000U | NETCHG_LINK),
	    "a known and an unknown bit: refused");

	/* several messages in one buffer: the bits add up */
	netwatch_reset();
	nlh = msg(RTM_NEWADDR);
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh,
	    sizeof(struct ifaddrmsg)))->ifa_family = AF_INET;
	len = nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(buf + len);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	len += nlh->nlmsg_len;
	is_int(netwatch_parse(buf, len, TUNIDX, TUNNAME),
	    NETCHG_ADDR | NETCHG_ROUTE, "two messages: address and route");

	/* malformed */
	netwatch_reset();
	is_int(netwatch_parse(buf, 3, TUNIDX, TUNNAME), 0,
	    "shorter than a header");
	/* a default route's rtmsg right after a header that does not hold it */
	nlh = msg(RTM_NEWROUTE);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	nlh->nlmsg_len = sizeof(*nlh) + 2;	/* payload too short */
	is_int(netwatch_parse(buf, sizeof(buf), TUNIDX, TUNNAME), 0,
	    "a route message without its whole rtmsg is not read");
	nlh = msg(RTM_NEWROUTE);
	nlh->nlmsg_len = 4000;			/* beyond the buffer given */
	is_int(netwatch_parse(buf, 64, TUNIDX, TUNNAME), 0,
	    "a length beyond the buffer");
	route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST);
	netwatch_reset();
	nlh = (struct nlmsghdr *)buf;
	/* the last attribute claims more than the message holds */
	((struct nlattr *)(buf + nlh->nlmsg_len - 8))->nla_len = 200;
	is_int(netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME),
	    NETCHG_ROUTE, "an attribute longer than its message is not read "
	    "(the fixed part still counts)");
	link_(RTM_NEWLINK, 3, "eth1234", IFF_UP);	/* 8 bytes: no padding */
	nlh = (struct nlmsghdr *)buf;
	/* the name loses its NUL: not read as a string; the link went down */
	buf[nlh->nlmsg_len - 1] = 'x';
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_flags = 0;
	why = netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
	is_int(why, NETCHG_LINK, "a name without its NUL is not read");
	is_int(netwatch_parse(buf, 0, TUNIDX, TUNNAME), 0, "empty");
	/* a length of 2 GiB or more: negative as an int */
	netwatch_reset();
	route(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST);
	netwatch_reset();
	nlh = (struct nlmsghdr *)buf;
	len = nlh->nlmsg_len;
	nlh->nlmsg_len = 0x80000010U;
	is_int(netwatch_parse(buf, len, TUNIDX, TUNNAME), 0,
	    "a length of 2 GiB is not taken as negative (nothing read, no jump "
	    "out of the buffer)");
	/*
	 * After an overrun the underlay is learnt again from a dump: the
	 * same links, addresses and default routes in another order are no
	 * change; one thing more, less or different is.
	 */
	netwatch_reset();
	ifaflags = 0;
	link_keep(RTM_NEWLINK, 4, "eth0", IFF_UP | IFF_RUNNING);
	link_keep(RTM_NEWLINK, 5, "wlan0", IFF_UP);
	addr_a(RTM_NEWADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 7);
	addr_a(RTM_NEWADDR, AF_INET6, 5, RT_SCOPE_UNIVERSE, 8);
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 1);
	route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 5,
	    2);
	netwatch_snap();
	ok(netwatch_snap_same(), "snap: what is known equals its copy");
	netwatch_reset();
	route_gw(RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 5,
	    2);
	addr_a(RTM_NEWADDR, AF_INET6, 5, RT_SCOPE_UNIVERSE, 8);
	link_keep(RTM_NEWLINK, 5, "wlan0", IFF_UP);
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 1);
	addr_a(RTM_NEWADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 7);
	link_keep(RTM_NEWLINK, 4, "eth0", IFF_UP | IFF_RUNNING);
	ok(netwatch_snap_same(), "snap: the same learnt in another order: "
	    "no change");
	/* the tunnel's own routes and addresses never count */
	route_gw(RTM_NEWROUTE, AF_INET, 0, 51, 51, RTN_UNICAST, TUNIDX, 0);
	addr_a(RTM_NEWADDR, AF_INET, TUNIDX, RT_SCOPE_UNIVERSE, 9);
	ok(netwatch_snap_same(), "snap: plus the tunnel's own: no change");
	addr_a(RTM_NEWADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 10);
	ok(!netwatch_snap_same(), "snap: one address more: a change");
	addr_a(RTM_DELADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 10);
	ok(netwatch_snap_same(), "snap: and gone again: no change");
	addr_a(RTM_DELADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 7);
	addr_a(RTM_NEWADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 11);
	ok(!netwatch_snap_same(), "snap: an address swapped for another: a "
	    "change");
	addr_a(RTM_DELADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 11);
	addr_a(RTM_NEWADDR, AF_INET, 4, RT_SCOPE_UNIVERSE, 7);
	ok(netwatch_snap_same(), "snap: swapped back: no change");
	route_gw(RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 1);
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 3);
	ok(!netwatch_snap_same(), "snap: another gateway: a change");
	route_gw(RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 3);
	route_gw(RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, 0, RTN_UNICAST, 4, 1);
	link_keep(RTM_NEWLINK, 5, "wlan0", IFF_UP | IFF_RUNNING |
	    IFF_LOWER_UP);
	ok(!netwatch_snap_same(), "snap: a carrier came: a change");
	link_keep(RTM_NEWLINK, 5, "wlan0", IFF_UP);
	ok(netwatch_snap_same(), "snap: and went: no change");
	ifaflags = IFA_F_TENTATIVE;
	addr_a(RTM_NEWADDR, AF_INET6, 5, RT_SCOPE_UNIVERSE, 8);
	ifaflags = 0;
	ok(!netwatch_snap_same(), "snap: an address tentative again: a "
	    "change");
	netwatch_reset();
	ok(!netwatch_snap_same(), "snap: nothing known any more: a change");

	/* the tunnel's own link is told to the hook, and only it */
	netwatch_set_tunlink(hear);
	link_(RTM_NEWLINK, TUNIDX, TUNNAME, IFF_UP | IFF_RUNNING);
	ok(heard == 1 && heard_index == TUNIDX && heard_up,
	    "tunlink: the tunnel up, by index");
	link_(RTM_NEWLINK, TUNIDX, NULL, IFF_RUNNING);
	ok(heard == 2 && heard_index == TUNIDX && !heard_up,
	    "tunlink: down (IFF_UP gone, IFF_RUNNING left)");
	link_(RTM_NEWLINK, 99, TUNNAME, IFF_UP);
	ok(heard == 3 && heard_index == 99 && heard_up,
	    "tunlink: by name, another index (netops checks the index)");
	link_(RTM_DELLINK, TUNIDX, TUNNAME, 0);
	link_(RTM_NEWLINK, 3, "eth1", 0);
	link_(RTM_NEWLINK, 1, "lo", IFF_LOOPBACK);
	ok(heard == 3, "tunlink: not a deletion, another link, loopback");
	ok(heard_mtu == 0, "tunlink: no IFLA_MTU, MTU 0");
	tun_mtu(4, 9000);
	ok(heard == 4 && heard_mtu == 9000, "tunlink: its MTU told");
	tun_mtu(2, 9000);
	ok(heard == 5 && heard_mtu == 0, "tunlink: an MTU of the wrong size: "
	    "not said");
	tun_mtu(4, 0x80000000U);
	ok(heard == 6 && heard_mtu == 0, "tunlink: an MTU above INT32_MAX: "
	    "not said");
	netwatch_set_tunlink(NULL);
	link_(RTM_NEWLINK, TUNIDX, TUNNAME, 0);
	ok(heard == 6, "tunlink: no hook, nobody told");

	return done_testing();
}

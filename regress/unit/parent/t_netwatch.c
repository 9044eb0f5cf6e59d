/*
 * t_netwatch.c -- which rtnetlink notifications are a change of the
 * underlay: a default route of the main table, a global address or a
 * link other than loopback and the tunnel; not what vpnd does to its own
 * interface and route table, not other routes, not link-scope addresses.
 * Truncated and malformed messages are skipped without reading past
 * them.
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

#define TUNIDX	7
#define TUNNAME	"vpn0"

static char	 buf[8192] __attribute__((aligned(4)));

static struct nlmsghdr *
msg(uint16_t type)
{
	struct nlmsghdr	*nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	return nlh;
}

static uint32_t
route(uint16_t type, int af, uint8_t dst_len, uint8_t table, int tattr,
    uint8_t rtype)
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
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	return netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

static uint32_t
addr(uint16_t type, int af, int index, uint8_t scope)
{
	struct nlmsghdr	*nlh = msg(type);
	struct ifaddrmsg *ifa;

	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = af;
	ifa->ifa_index = index;
	ifa->ifa_scope = scope;
	return netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
}

static uint32_t
link_(uint16_t type, int index, const char *name, unsigned int flags)
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

int
main(void)
{
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;
	size_t		 len;
	uint32_t	 why;

	plan(26);

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

	/* several messages in one buffer: the bits add up */
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
	nlh = (struct nlmsghdr *)buf;
	/* the last attribute claims more than the message holds */
	((struct nlattr *)(buf + nlh->nlmsg_len - 8))->nla_len = 200;
	is_int(netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME),
	    NETCHG_ROUTE, "an attribute longer than its message is not read "
	    "(the fixed part still counts)");
	link_(RTM_NEWLINK, 3, "eth1234", IFF_UP);	/* 8 bytes: no padding */
	nlh = (struct nlmsghdr *)buf;
	/* the name loses its NUL: not read as a string */
	buf[nlh->nlmsg_len - 1] = 'x';
	why = netwatch_parse(buf, nlh->nlmsg_len, TUNIDX, TUNNAME);
	is_int(why, NETCHG_LINK, "a name without its NUL is not read");
	is_int(netwatch_parse(buf, 0, TUNIDX, TUNNAME), 0, "empty");
	return done_testing();
}

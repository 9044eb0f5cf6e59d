/*
 * netwatch.c -- the parent watches the underlay: rtnetlink notifications
 * of links, addresses and default routes of the main table.  A burst of
 * them (a roam swaps the default route and drops the old address in a
 * few messages) settles for NETWATCH_SETTLE_MS, then tunworker is told
 * once (IMSG_NET_CHANGED) and handshakes again at once.
 *
 * What vpnd itself changes is not a change of the underlay: the tunnel
 * interface's own links and addresses, routes outside the main table
 * (the full tunnel's table) and routes that are not a default route are
 * left out, so setting the tunnel up never triggers it.  The UDP sockets
 * are bound to the wildcard address and the kill switch names endpoints
 * by address, port and mark, never by interface, so neither needs
 * updating when the path moves.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <event.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "imsgev.h"
#include "log.h"
#include "parent.h"
#include "vpnd.h"

#define NETWATCH_SETTLE_MS	300	/* quiet this long: the burst is over */
#define NETWATCH_MAX_MS		2000	/* ... but tell at most this late */
#define NETWATCH_BUFSZ		(64 * 1024)

static void	 netwatch_read(int, short, void *);
static void	 netwatch_fire(int, short, void *);
static void	 netwatch_note(uint32_t);
static uint32_t	 nw_link(const struct nlmsghdr *, int, const char *);
static uint32_t	 nw_addr(const struct nlmsghdr *, int);
static uint32_t	 nw_route(const struct nlmsghdr *);
static int	 nw_link_attr(const struct nlattr *, void *);
static int	 nw_route_attr(const struct nlattr *, void *);
static uint64_t	 nw_now_ms(void);

static struct mnl_socket *nw_sock;
static struct event	 nw_ev, nw_timer;
static struct imsgev	*nw_tun;
static char		 nw_ifname[IFNAMSIZ];
static uint32_t		 nw_why;		/* NETCHG_* pending */
static uint64_t		 nw_first;		/* ms: first of the burst */

int
netwatch_init(const char *ifname, struct imsgev *tunworker)
{
	unsigned int	 groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			    RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			    RTMGRP_IPV6_ROUTE;
	int		 fd;

	strlcpy(nw_ifname, ifname, sizeof(nw_ifname));
	nw_tun = tunworker;
	if ((nw_sock = mnl_socket_open2(NETLINK_ROUTE,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nw_sock, groups, MNL_SOCKET_AUTOPID) == -1) {
		mnl_socket_close(nw_sock);
		nw_sock = NULL;
		return -1;
	}
	fd = mnl_socket_get_fd(nw_sock);
	event_set(&nw_ev, fd, EV_READ | EV_PERSIST, netwatch_read, NULL);
	event_add(&nw_ev, NULL);
	evtimer_set(&nw_timer, netwatch_fire, NULL);
	return 0;
}

static uint64_t
nw_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
netwatch_read(int fd, short ev, void *arg)
{
	static char		 buf[NETWATCH_BUFSZ];
	struct sockaddr_nl	 sa;
	socklen_t		 salen;
	ssize_t			 n;
	uint32_t		 why = 0;
	int			 i, tunidx;

	tunidx = (int)if_nametoindex(nw_ifname);	/* 0: no tunnel */
	for (i = 0; i < 64; i++) {
		salen = sizeof(sa);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa,
		    &salen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			/* ENOBUFS: the kernel dropped some; anything moved */
			if (errno == ENOBUFS)
				why |= NETCHG_OVERRUN;
			else
				log_warn("%s: recvfrom", __func__);
			continue;
		}
		/* only the kernel speaks on these groups */
		if (salen != sizeof(sa) || sa.nl_family != AF_NETLINK ||
		    sa.nl_pid != 0)
			continue;
		why |= netwatch_parse(buf, (size_t)n, tunidx, nw_ifname);
	}
	if (why != 0)
		netwatch_note(why);
}

/* Debounce: settle after the last event, but no later than the cap. */
static void
netwatch_note(uint32_t why)
{
	struct timeval	 tv;
	uint64_t	 now = nw_now_ms(), wait = NETWATCH_SETTLE_MS;

	if (nw_why == 0)
		nw_first = now;
	nw_why |= why;
	if (now - nw_first + wait > NETWATCH_MAX_MS)
		wait = now - nw_first >= NETWATCH_MAX_MS ? 0 :
		    NETWATCH_MAX_MS - (now - nw_first);
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(&nw_timer, &tv);
}

static void
netwatch_fire(int fd, short ev, void *arg)
{
	struct imsg_net_changed	 nc;

	memset(&nc, 0, sizeof(nc));
	nc.why = nw_why & NETCHG_ALL;
	nw_why = 0;
	if (nc.why == 0 || nw_tun == NULL)
		return;
	log_debug("underlay changed (0x%x): telling tunworker", nc.why);
	imsgev_compose(nw_tun, IMSG_NET_CHANGED, 0, -1, &nc, sizeof(nc));
}

/*
 * What a buffer of rtnetlink notifications says changed (NETCHG_*), or
 * 0. Every message is checked for length before it is read; one that does
 * not fit ends the walk. tunidx (0: none) and ifname are the tunnel's.
 */
uint32_t
netwatch_parse(const void *buf, size_t len, int tunidx, const char *ifname)
{
	const struct nlmsghdr	*nlh = buf;
	int			 rem;
	uint32_t		 why = 0;

	if (len > INT32_MAX)
		return 0;
	rem = (int)len;
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		switch (nlh->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			why |= nw_link(nlh, tunidx, ifname);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			why |= nw_addr(nlh, tunidx);
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			why |= nw_route(nlh);
			break;
		case NLMSG_OVERRUN:
			why |= NETCHG_OVERRUN;
			break;
		default:
			break;
		}
	}
	return why;
}

static int
nw_link_attr(const struct nlattr *a, void *arg)
{
	const char	**name = arg;

	if (mnl_attr_get_type(a) == IFLA_IFNAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* Another interface than loopback and the tunnel came, went or changed. */
static uint32_t
nw_link(const struct nlmsghdr *nlh, int tunidx, const char *ifname)
{
	const struct ifinfomsg	*ifi;
	const char		*name = NULL;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), nw_link_attr, &name) !=
	    MNL_CB_OK)
		return 0;
	if ((ifi->ifi_flags & IFF_LOOPBACK) != 0 ||
	    (tunidx != 0 && ifi->ifi_index == tunidx) ||
	    (name != NULL && strcmp(name, ifname) == 0))
		return 0;
	return NETCHG_LINK;
}

/* A global address of another interface than the tunnel. */
static uint32_t
nw_addr(const struct nlmsghdr *nlh, int tunidx)
{
	const struct ifaddrmsg	*ifa;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    ifa->ifa_scope >= RT_SCOPE_LINK ||
	    (tunidx != 0 && (int)ifa->ifa_index == tunidx))
		return 0;
	return NETCHG_ADDR;
}

static int
nw_route_attr(const struct nlattr *a, void *arg)
{
	uint32_t	*table = arg;

	if (mnl_attr_get_type(a) == RTA_TABLE &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*table = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* A default route of the main table: where the underlay's traffic goes. */
static uint32_t
nw_route(const struct nlmsghdr *nlh)
{
	const struct rtmsg	*rtm;
	uint32_t		 table;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	table = rtm->rtm_table;
	if (mnl_attr_parse(nlh, sizeof(*rtm), nw_route_attr, &table) !=
	    MNL_CB_OK)
		return 0;
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    table != RT_TABLE_MAIN || rtm->rtm_dst_len != 0 ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	return NETCHG_ROUTE;
}

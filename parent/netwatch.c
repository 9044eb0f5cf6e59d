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
#include "sysnl.h"
#include "vpnd.h"

#define NETWATCH_SETTLE_MS	300	/* quiet this long: the burst is over */
#define NETWATCH_MAX_MS		2000	/* ... but tell at most this late */
#define NETWATCH_GAP_MS		5000	/* and at most once in REKEY_TIMEOUT */
#define NETWATCH_BUFSZ		(64 * 1024)
#define NETWATCH_RCVBUF		(4 * 1024 * 1024)
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP		0x10000	/* linux/if.h: the carrier */
#endif
#define NW_MAXADDR		128
#define NW_MAXROUTE		32
#define NW_MAXLINK		128

/* What is known of the underlay: a repeat of it is no change. */
struct nw_addrkey {
	int		 index;
	uint8_t		 family, plen;
	uint8_t		 addr[16];
};

struct nw_routekey {
	int		 oif;
	uint32_t	 prio;
	uint8_t		 family;
	uint8_t		 gw[16];
};

struct nw_linkstate {
	int		 index;
	unsigned int	 state;		/* IFF_UP | IFF_RUNNING | IFF_LOWER_UP */
};

static void	 netwatch_read(int, short, void *);
static void	 netwatch_fire(int, short, void *);
static void	 netwatch_note(uint32_t);
static int	 nw_dump(void);
static int	 nw_learn_cb(const struct nlmsghdr *, void *);
static int	 nw_tunidx_now(void);
static uint32_t	 nw_msg(const struct nlmsghdr *, int, const char *);
static uint32_t	 nw_link(const struct nlmsghdr *, int, const char *);
static uint32_t	 nw_addr(const struct nlmsghdr *, int);
static uint32_t	 nw_route(const struct nlmsghdr *);
static int	 nw_link_attr(const struct nlattr *, void *);
static int	 nw_addr_attr(const struct nlattr *, void *);
static int	 nw_route_attr(const struct nlattr *, void *);
static bool	 nw_carries_default(int);
static void	 nw_forget_routes(int);
static uint64_t	 nw_now_ms(void);

static void		(*nw_tunlink)(int, bool, int);	/* the tunnel's link */
static struct mnl_socket *nw_sock;
static struct event	 nw_ev, nw_timer;
static struct imsgev	*nw_tun;
static char		 nw_ifname[IFNAMSIZ];
static uint32_t		 nw_why;		/* NETCHG_* pending */
static uint64_t		 nw_first;		/* ms: first of the burst */
static uint64_t		 nw_last;		/* ms: last told, 0: never */
static struct nw_addrkey nw_addrs[NW_MAXADDR];
static bool		 nw_addr_tent[NW_MAXADDR];	/* DAD not over */
static struct nw_routekey nw_routes[NW_MAXROUTE];
static struct nw_linkstate nw_links[NW_MAXLINK];
static size_t		 nw_naddr, nw_nroute, nw_nlink;

/* What was known before the kernel dropped notifications. */
static struct {
	struct nw_addrkey	 addrs[NW_MAXADDR];
	bool			 tent[NW_MAXADDR];
	struct nw_routekey	 routes[NW_MAXROUTE];
	struct nw_linkstate	 links[NW_MAXLINK];
	size_t			 naddr, nroute, nlink;
} nw_before;

int
netwatch_init(const char *ifname, struct imsgev *tunworker)
{
	unsigned int	 groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			    RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			    RTMGRP_IPV6_ROUTE;
	int		 fd, rcvbuf = NETWATCH_RCVBUF;

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
	/*
	 * Room for the notifications of a tunnel's own thousand routes
	 * (the default holds a few hundred): CAP_NET_ADMIN may exceed
	 * rmem_max. Without it, an overrun costs a dump.
	 */
	fd = mnl_socket_get_fd(nw_sock);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	/* subscribed first: what moves during the dump is not missed */
	(void)nw_dump();
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

	tunidx = nw_tunidx_now();
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
		if (!netwatch_from_kernel(&sa, salen))
			continue;
		why |= netwatch_parse(buf, (size_t)n, tunidx, nw_ifname);
	}
	if (why != 0)
		netwatch_note(why);
}

static int
nw_tunidx_now(void)
{
	return (int)if_nametoindex(nw_ifname);	/* 0: no tunnel */
}

/*
 * Debounce: settle after the last event, but no later than the cap; and
 * never sooner than NETWATCH_GAP_MS after the last notification, so a
 * flapping link or a stream of forged router advertisements costs each
 * peer at most one handshake per REKEY_TIMEOUT.
 */
static void
netwatch_note(uint32_t why)
{
	struct timeval	 tv;
	uint64_t	 now = nw_now_ms(), wait;

	if (nw_why == 0)
		nw_first = now;
	nw_why |= why;
	wait = netwatch_delay(now, nw_first, nw_last);
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(&nw_timer, &tv);
}

/* ms from now to tell; first: the burst's first event; last: 0 or told */
uint64_t
netwatch_delay(uint64_t now, uint64_t first, uint64_t last)
{
	uint64_t	 wait = NETWATCH_SETTLE_MS;

	if (now - first + wait > NETWATCH_MAX_MS)
		wait = now - first >= NETWATCH_MAX_MS ? 0 :
		    NETWATCH_MAX_MS - (now - first);
	if (last != 0 && now + wait < last + NETWATCH_GAP_MS)
		wait = last + NETWATCH_GAP_MS - now;
	return wait;
}

static void
netwatch_fire(int fd, short ev, void *arg)
{
	struct imsg_net_changed	 nc;

	memset(&nc, 0, sizeof(nc));
	nc.why = nw_why & NETCHG_ALL;
	nw_why = 0;
	if (nc.why & NETCHG_OVERRUN) {
		/*
		 * What was missed is unknown: learn the underlay again, here
		 * and so at most once per NETWATCH_GAP_MS however often the
		 * kernel drops messages (a dump of a large table is costly).
		 * Often what was lost is vpnd's own (a thousand routes of the
		 * tunnel's table): if the underlay is as it was, nothing moved.
		 */
		netwatch_snap();
		nw_naddr = nw_nroute = nw_nlink = 0;
		/* the tunnel's down and up may be lost too: the dump tells */
		if (nw_tunlink != NULL)
			nw_tunlink(0, false, 0);
		if (nw_dump() == 0 && netwatch_snap_same()) {
			nc.why &= ~NETCHG_OVERRUN;
			log_debug("netlink notifications were lost; the "
			    "underlay is as it was");
		}
	}
	if (nc.why == 0 || nw_tun == NULL)
		return;
	nw_last = nw_now_ms();
	log_debug("underlay changed (0x%x): telling tunworker", nc.why);
	imsgev_compose(nw_tun, IMSG_NET_CHANGED, 0, -1, &nc, sizeof(nc));
}


/*
 * Only the kernel speaks on the notification groups: a message from any
 * other port (a local process can send to our port id) is not read.
 */
bool
netwatch_from_kernel(const struct sockaddr_nl *sa, socklen_t salen)
{
	return salen == sizeof(*sa) && sa->nl_family == AF_NETLINK &&
	    sa->nl_pid == 0;
}

/*
 * fn hears of the tunnel's own link, up or down, as each notification of
 * it is read (or a dump shows it), with its MTU (0: not said); index 0:
 * notifications were lost, the dump that follows shows the link as it
 * is. NULL: nobody.
 */
void
netwatch_set_tunlink(void (*fn)(int ifindex, bool up, int mtu))
{
	nw_tunlink = fn;
}

/* Forget what is known of the underlay (and of the last notification). */
void
netwatch_reset(void)
{
	nw_naddr = nw_nroute = nw_nlink = 0;
	memset(nw_addrs, 0, sizeof(nw_addrs));
	memset(nw_routes, 0, sizeof(nw_routes));
	memset(nw_links, 0, sizeof(nw_links));
	nw_last = 0;
	nw_why = 0;
}

/* Keep what is known now, for netwatch_snap_same(). */
void
netwatch_snap(void)
{
	memcpy(nw_before.addrs, nw_addrs, sizeof(nw_addrs));
	memcpy(nw_before.tent, nw_addr_tent, sizeof(nw_addr_tent));
	memcpy(nw_before.routes, nw_routes, sizeof(nw_routes));
	memcpy(nw_before.links, nw_links, sizeof(nw_links));
	nw_before.naddr = nw_naddr;
	nw_before.nroute = nw_nroute;
	nw_before.nlink = nw_nlink;
}

/*
 * Whether what is known now is what netwatch_snap() kept, in any order.
 * Entries are unique and their keys zeroed before filling: a count and a
 * search each way suffice. A full table may have left something out:
 * never the same.
 */
bool
netwatch_snap_same(void)
{
	size_t	 i, j;

	if (nw_naddr != nw_before.naddr || nw_nroute != nw_before.nroute ||
	    nw_nlink != nw_before.nlink || nw_naddr == NW_MAXADDR ||
	    nw_nroute == NW_MAXROUTE || nw_nlink == NW_MAXLINK)
		return false;
	for (i = 0; i < nw_naddr; i++) {
		for (j = 0; j < nw_naddr; j++)
			if (memcmp(&nw_addrs[i], &nw_before.addrs[j],
			    sizeof(nw_addrs[i])) == 0 &&
			    nw_addr_tent[i] == nw_before.tent[j])
				break;
		if (j == nw_naddr)
			return false;
	}
	for (i = 0; i < nw_nroute; i++) {
		for (j = 0; j < nw_nroute; j++)
			if (memcmp(&nw_routes[i], &nw_before.routes[j],
			    sizeof(nw_routes[i])) == 0)
				break;
		if (j == nw_nroute)
			return false;
	}
	for (i = 0; i < nw_nlink; i++) {
		for (j = 0; j < nw_nlink; j++)
			if (nw_links[i].index == nw_before.links[j].index &&
			    nw_links[i].state == nw_before.links[j].state)
				break;
		if (j == nw_nlink)
			return false;
	}
	return true;
}

static int
nw_learn_cb(const struct nlmsghdr *nlh, void *arg)
{
	nw_msg(nlh, nw_tunidx_now(), nw_ifname);
	return MNL_CB_OK;
}

/*
 * Learn the links, addresses and routes there are now, so that only a
 * difference from them counts. A failed dump leaves the tables as they
 * are: what was never seen counts once when it is first announced.
 */
static int
nw_dump(void)
{
	static const uint16_t	 types[] = { RTM_GETLINK, RTM_GETADDR,
				    RTM_GETROUTE };
	char			 req[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct rtgenmsg		*g;
	size_t			 i;
	int			 rv = 0;

	if ((nl = sysnl_open(NETLINK_ROUTE)) == NULL) {
		log_warn("%s: netlink", __func__);
		return -1;
	}
	for (i = 0; i < nitems(types); i++) {
		memset(req, 0, sizeof(req));
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = types[i];
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->rtgen_family = AF_UNSPEC;
		if (sysnl_talk(nl, nlh, nw_learn_cb, NULL) == -1) {
			log_warn("%s: dump %u", __func__, types[i]);
			rv = -1;
		}
	}
	mnl_socket_close(nl);
	return rv;
}

/*
 * What a buffer of rtnetlink notifications says changed (NETCHG_*), or
 * 0. Every message is checked for length before it is read; one that does
 * not fit ends the walk. tunidx (0: none) and ifname are the tunnel's.
 * What is known of the underlay is kept between calls: a notification
 * that repeats it (an IPv6 address whose lifetime a router advertisement
 * refreshed, a default route announced again) is no change.
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
	/*
	 * mnl_nlmsg_ok() compares the length as an int: one of 2 GiB or more
	 * passes as negative and mnl_nlmsg_next() jumps out of the buffer.
	 */
	for (; mnl_nlmsg_ok(nlh, rem) && nlh->nlmsg_len <= (uint32_t)rem;
	    nlh = mnl_nlmsg_next(nlh, &rem))
		why |= nw_msg(nlh, tunidx, ifname);
	return why;
}

static uint32_t
nw_msg(const struct nlmsghdr *nlh, int tunidx, const char *ifname)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return nw_link(nlh, tunidx, ifname);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return nw_addr(nlh, tunidx);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return nw_route(nlh);
	case NLMSG_OVERRUN:
		return NETCHG_OVERRUN;
	default:
		return 0;
	}
}

struct nw_linkattrs {
	const char	*name;		/* IFLA_IFNAME, or NULL */
	int		 mtu;		/* IFLA_MTU, or 0 */
};

static int
nw_link_attr(const struct nlattr *a, void *arg)
{
	struct nw_linkattrs	*la = arg;

	if (mnl_attr_get_type(a) == IFLA_IFNAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		la->name = mnl_attr_get_str(a);
	else if (mnl_attr_get_type(a) == IFLA_MTU &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0 &&
	    mnl_attr_get_u32(a) <= INT32_MAX)
		la->mtu = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* Does a known default route leave through this interface? */
static bool
nw_carries_default(int ifindex)
{
	size_t	 i;

	for (i = 0; i < nw_nroute; i++)
		if (nw_routes[i].oif == ifindex)
			return true;
	return false;
}

/* The kernel drops an interface's IPv4 routes silently when it goes down. */
static void
nw_forget_routes(int ifindex)
{
	size_t	 i = 0;

	while (i < nw_nroute)
		if (nw_routes[i].oif == ifindex)
			nw_routes[i] = nw_routes[--nw_nroute];
		else
			i++;
}

/*
 * Another interface than loopback and the tunnel: it counts when one that
 * carries a default route goes, or goes up or down (carrier included).
 * Interfaces coming and going elsewhere (a container's veth, a bridge)
 * are not the underlay; their addresses and routes count on their own.
 */
static uint32_t
nw_link(const struct nlmsghdr *nlh, int tunidx, const char *ifname)
{
	const struct ifinfomsg	*ifi;
	struct nw_linkattrs	 la = { NULL, 0 };
	const char		*name;
	unsigned int		 state;
	size_t			 i;
	bool			 dflt;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), nw_link_attr, &la) !=
	    MNL_CB_OK)
		return 0;
	name = la.name;
	if ((ifi->ifi_flags & IFF_LOOPBACK) != 0)
		return 0;
	if ((tunidx != 0 && ifi->ifi_index == tunidx) ||
	    (name != NULL && strcmp(name, ifname) == 0)) {
		if (nw_tunlink != NULL && nlh->nlmsg_type == RTM_NEWLINK)
			nw_tunlink(ifi->ifi_index,
			    (ifi->ifi_flags & IFF_UP) != 0, la.mtu);
		return 0;
	}
	state = ifi->ifi_flags & (IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
	dflt = nw_carries_default(ifi->ifi_index);
	for (i = 0; i < nw_nlink; i++)
		if (nw_links[i].index == ifi->ifi_index)
			break;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (i < nw_nlink)
			nw_links[i] = nw_links[--nw_nlink];
		nw_forget_routes(ifi->ifi_index);
		return dflt ? NETCHG_LINK : 0;
	}
	if (i == nw_nlink) {
		if (nw_nlink == NW_MAXLINK)
			return dflt ? NETCHG_LINK : 0;	/* not kept */
		nw_links[nw_nlink].index = ifi->ifi_index;
		nw_links[nw_nlink++].state = state;
		return dflt ? NETCHG_LINK : 0;
	}
	if (nw_links[i].state == state)
		return 0;		/* statistics, a name, a queue length */
	nw_links[i].state = state;
	if ((state & IFF_UP) == 0)
		nw_forget_routes(ifi->ifi_index);
	return dflt ? NETCHG_LINK : 0;
}

struct nw_attrs {
	const void	*addr;		/* IFA_LOCAL, else IFA_ADDRESS */
	size_t		 alen;
	const void	*gw;		/* RTA_GATEWAY */
	size_t		 gwlen;
	uint32_t	 table, oif, prio;
	bool		 local;
};

static int
nw_addr_attr(const struct nlattr *a, void *arg)
{
	struct nw_attrs	*at = arg;
	uint16_t	 type = mnl_attr_get_type(a), len;

	len = mnl_attr_get_payload_len(a);
	if ((type != IFA_LOCAL && type != IFA_ADDRESS) ||
	    (len != 4 && len != 16) || (type == IFA_ADDRESS && at->local))
		return MNL_CB_OK;
	at->addr = mnl_attr_get_payload(a);
	at->alen = len;
	at->local = type == IFA_LOCAL;
	return MNL_CB_OK;
}

/* A global address of another interface than the tunnel came or went. */
static uint32_t
nw_addr(const struct nlmsghdr *nlh, int tunidx)
{
	const struct ifaddrmsg	*ifa;
	struct nw_attrs		 at;
	struct nw_addrkey	 k;
	size_t			 i;
	bool			 tent;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    ifa->ifa_scope >= RT_SCOPE_LINK ||
	    (tunidx != 0 && (int)ifa->ifa_index == tunidx))
		return 0;
	memset(&at, 0, sizeof(at));
	if (mnl_attr_parse(nlh, sizeof(*ifa), nw_addr_attr, &at) !=
	    MNL_CB_OK)
		return 0;
	memset(&k, 0, sizeof(k));
	k.index = ifa->ifa_index;
	k.family = ifa->ifa_family;
	k.plen = ifa->ifa_prefixlen;
	if (at.addr != NULL)
		memcpy(k.addr, at.addr, at.alen);
	for (i = 0; i < nw_naddr; i++)
		if (memcmp(&nw_addrs[i], &k, sizeof(k)) == 0)
			break;
	tent = (ifa->ifa_flags & IFA_F_TENTATIVE) != 0;
	if (nlh->nlmsg_type == RTM_DELADDR) {
		if (i < nw_naddr) {
			nw_naddr--;
			nw_addrs[i] = nw_addrs[nw_naddr];
			nw_addr_tent[i] = nw_addr_tent[nw_naddr];
		}
		return NETCHG_ADDR;
	}
	if (i < nw_naddr) {
		if (nw_addr_tent[i] == tent)
			return 0;		/* known: a lifetime refreshed */
		/* duplicate address detection is over: usable from now */
		nw_addr_tent[i] = tent;
		return NETCHG_ADDR;
	}
	if (nw_naddr < NW_MAXADDR) {
		nw_addr_tent[nw_naddr] = tent;
		nw_addrs[nw_naddr++] = k;
	}
	return NETCHG_ADDR;
}

static int
nw_route_attr(const struct nlattr *a, void *arg)
{
	struct nw_attrs	*at = arg;
	uint16_t	 len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			at->table = mnl_attr_get_u32(a);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			at->oif = mnl_attr_get_u32(a);
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			at->prio = mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (len == 4 || len == 16) {
			at->gw = mnl_attr_get_payload(a);
			at->gwlen = len;
		}
		break;
	}
	return MNL_CB_OK;
}

/* A default route of the main table (where the underlay's traffic goes). */
static uint32_t
nw_route(const struct nlmsghdr *nlh)
{
	const struct rtmsg	*rtm;
	struct nw_attrs		 at;
	struct nw_routekey	 k;
	size_t			 i;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	memset(&at, 0, sizeof(at));
	at.table = rtm->rtm_table;
	if (mnl_attr_parse(nlh, sizeof(*rtm), nw_route_attr, &at) !=
	    MNL_CB_OK)
		return 0;
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    at.table != RT_TABLE_MAIN || rtm->rtm_dst_len != 0 ||
	    rtm->rtm_type != RTN_UNICAST)
		return 0;
	memset(&k, 0, sizeof(k));
	k.family = rtm->rtm_family;
	k.oif = (int)at.oif;
	k.prio = at.prio;
	if (at.gw != NULL)
		memcpy(k.gw, at.gw, at.gwlen);
	for (i = 0; i < nw_nroute; i++)
		if (memcmp(&nw_routes[i], &k, sizeof(k)) == 0)
			break;
	if (nlh->nlmsg_type == RTM_DELROUTE) {
		if (i < nw_nroute)
			nw_routes[i] = nw_routes[--nw_nroute];
		return NETCHG_ROUTE;
	}
	if (i < nw_nroute)
		return 0;		/* known: announced again */
	if (nlh->nlmsg_flags & NLM_F_REPLACE) {
		/* it took the place of the one with its metric */
		for (i = 0; i < nw_nroute; )
			if (nw_routes[i].family == k.family &&
			    nw_routes[i].prio == k.prio)
				nw_routes[i] = nw_routes[--nw_nroute];
			else
				i++;
	}
	if (nw_nroute < NW_MAXROUTE)
		nw_routes[nw_nroute++] = k;
	return NETCHG_ROUTE;
}

/*
 * netlink.c -- links, addresses, routes and policy rules over rtnetlink
 * (libmnl).  Runs in the parent with CAP_NET_ADMIN only.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "config.h"
#include "compat.h"
#include "sys.h"
#include "sysnl.h"

#define NL_REQSZ	1024		/* every request we build fits */
#define NL_FLUSH_ROUNDS	8		/* dumps raced by other changes */
#define NL_MAX_ITEMS	65536		/* what one dump may collect */

struct link_info {
	const char	*want;		/* the name asked about */
	int		 index;
	bool		 is_tun;
	char		 alias[VPND_IFALIASZ];	/* "" if none */
	int		 mtu;		/* IFLA_MTU, 0 if none */
};

struct link_ent {
	char		 name[IFNAMSIZ];
	int		 index;
};

struct link_list {
	const char	*prefix;
	struct link_ent	*ents;
	size_t		 n, cap;
};

struct route_list {
	int		 af;
	uint32_t	 table;
	struct nlmsghdr	**msgs;
	size_t		 n, cap;
};

static int	 nl_route(struct nlmsghdr *);
static int	 prefix_ok(const struct prefix *);
static size_t	 prefix_alen(const struct prefix *);
static int	 link_get(const char *, struct link_info *);
static int	 link_attr_cb(const struct nlattr *, void *);
static int	 link_kind_cb(const struct nlattr *, void *);
static int	 link_get_cb(const struct nlmsghdr *, void *);
static int	 link_list_cb(const struct nlmsghdr *, void *);
static int	 link_setflags(int, int, unsigned int, unsigned int);
static int	 addr_req(int, int, const struct prefix *, uint16_t);
static int	 route_req(int, int, const struct prefix *, uint32_t,
		    uint16_t);
static int	 route_attr_cb(const struct nlattr *, void *);
static int	 route_dump_cb(const struct nlmsghdr *, void *);
static void	 route_list_free(struct route_list *);
static int	 rule_req(int, int, uint16_t, bool, uint32_t, uint32_t);
static int	 rules_del_one(int, bool, uint32_t, uint32_t);
static bool	 rule_table_ok(uint32_t);

/*
 * Between nl_hold() and nl_release(), the requests share one socket (a
 * thousand peers' routes need not open a thousand); a request that fails
 * closes it, so no answer of its can be left for the next one to read.
 */
static struct mnl_socket	*nl_held;

void
nl_hold(void)
{
	if (nl_held == NULL)
		nl_held = sysnl_open(NETLINK_ROUTE);
}

void
nl_release(void)
{
	if (nl_held != NULL)
		mnl_socket_close(nl_held);
	nl_held = NULL;
}

/* Open, talk once, close: every rtnetlink request goes through here. */
static int
nl_route(struct nlmsghdr *nlh)
{
	struct mnl_socket	*nl;
	int			 rv, save;

	if ((nl = nl_held) == NULL &&
	    (nl = sysnl_open(NETLINK_ROUTE)) == NULL)
		return -1;
	rv = sysnl_talk(nl, nlh, NULL, NULL);
	save = errno;
	if (nl != nl_held || rv == -1) {
		mnl_socket_close(nl);
		if (nl == nl_held)
			nl_held = NULL;
	}
	errno = save;
	return rv;
}

static int
prefix_ok(const struct prefix *p)
{
	if (p == NULL)
		return 0;
	if (p->af == AF_INET)
		return p->plen <= 32;
	if (p->af == AF_INET6)
		return p->plen <= 128;
	return 0;
}

static size_t
prefix_alen(const struct prefix *p)
{
	return p->af == AF_INET ? 4 : 16;
}

/* Attributes of an RTM_NEWLINK: only the ones we read, type-checked. */
static int
link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr	**tb = data;
	int			  type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel: skip it */
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(attr) > IFNAMSIZ)
			return MNL_CB_ERROR;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_IFALIAS:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:		/* checked where it is used */
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
link_kind_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr	**kind = data;

	if (mnl_attr_get_type(attr) != IFLA_INFO_KIND)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	*kind = attr;
	return MNL_CB_OK;
}

static int
link_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_info	*li = arg;
	const struct ifinfomsg	*ifi;
	const struct nlattr	*tb[IFLA_MAX + 1] = { 0 }, *kind = NULL;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0 ||
	    tb[IFLA_IFNAME] == NULL || ifi->ifi_index <= 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	/* The kernel answered about some other link: never act on it. */
	if (strcmp(mnl_attr_get_str(tb[IFLA_IFNAME]), li->want) != 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (tb[IFLA_LINKINFO] != NULL) {
		if (mnl_attr_parse_nested(tb[IFLA_LINKINFO], link_kind_cb,
		    &kind) < 0) {
			errno = EPROTO;
			return MNL_CB_ERROR;
		}
		if (kind != NULL && strcmp(mnl_attr_get_str(kind), "tun") == 0)
			li->is_tun = true;
	}
	/* A longer alias than any we set cannot be our mark: leave it "". */
	if (tb[IFLA_IFALIAS] != NULL &&
	    mnl_attr_get_payload_len(tb[IFLA_IFALIAS]) <= sizeof(li->alias))
		strlcpy(li->alias, mnl_attr_get_str(tb[IFLA_IFALIAS]),
		    sizeof(li->alias));
	if (tb[IFLA_MTU] != NULL &&
	    mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) == 0 &&
	    mnl_attr_get_u32(tb[IFLA_MTU]) <= INT32_MAX)
		li->mtu = (int)mnl_attr_get_u32(tb[IFLA_MTU]);
	li->index = ifi->ifi_index;
	return MNL_CB_OK;
}

static int
link_get(const char *name, struct link_info *li)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct mnl_socket	*nl;
	int			 rv, save;

	memset(li, 0, sizeof(*li));
	if (!sysnl_ifname_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	li->want = name;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if ((nl = sysnl_open(NETLINK_ROUTE)) == NULL)
		return -1;
	rv = sysnl_talk(nl, nlh, link_get_cb, li);
	save = errno;
	mnl_socket_close(nl);
	if (rv == 0 && li->index == 0) {
		save = EPROTO;		/* acked but no answer */
		rv = -1;
	}
	errno = save;
	return rv;
}

int
nl_link_index(const char *name)
{
	struct link_info	li;

	if (link_get(name, &li) == -1) {
		if (errno == ENODEV)
			return 0;
		return -1;
	}
	return li.index;
}

/*
 * Our TUN's MTU: name is a TUN of index ifindex marked mark. 0: not ours
 * (or gone); -1: error.
 */
int
nl_link_ours_mtu(const char *name, int ifindex, const char *mark)
{
	struct link_info	li;

	if (link_get(name, &li) == -1)
		return errno == ENODEV ? 0 : -1;
	if (li.index != ifindex || !li.is_tun || strcmp(li.alias, mark) != 0)
		return 0;
	return li.mtu > 0 ? li.mtu : 1;	/* ours, of an MTU not said */
}

/* 1: name is a TUN of index ifindex marked mark (ours); 0: not; -1: error */
int
nl_link_ours(const char *name, int ifindex, const char *mark)
{
	int	mtu = nl_link_ours_mtu(name, ifindex, mark);

	return mtu > 0 ? 1 : mtu;
}

static int
link_setflags(int ifindex, int mtu, unsigned int flags, unsigned int change)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;

	if (ifindex <= 0) {
		errno = EINVAL;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	return nl_route(nlh);
}

int
nl_link_set_mtu(int ifindex, int mtu)
{
	if (mtu < CONF_MIN_MTU || mtu > CONF_MAX_MTU) {
		errno = EINVAL;
		return -1;
	}
	return link_setflags(ifindex, mtu, 0, 0);
}

int
nl_link_set_up(int ifindex, bool up)
{
	return link_setflags(ifindex, 0, up ? IFF_UP : 0, IFF_UP);
}

int
nl_link_set_alias(int ifindex, const char *alias)
{
	char			 buf[NL_REQSZ];
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;

	if (ifindex <= 0 || alias == NULL || alias[0] == '\0' ||
	    strlen(alias) >= VPND_IFALIASZ) {
		errno = EINVAL;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nl_route(nlh);
}

int
nl_link_del(const char *name, const char *mark)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct link_info	 li;

	if (link_get(name, &li) == -1)
		return -1;
	/* Cleanup after a crash must never take down a real interface. */
	if (!li.is_tun) {
		errno = EPERM;
		return -1;
	}
	/* ... nor someone else's TUN that merely has our name. */
	if (mark != NULL && strcmp(li.alias, mark) != 0) {
		errno = EPERM;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	/*
	 * The kernel deletes by index and ignores the name when the index
	 * is set: a link that took this index between the look-up and here
	 * would go instead. Only a holder of CAP_NET_ADMIN could arrange
	 * that, and indexes are not reused at once.
	 */
	ifi->ifi_index = li.index;
	return nl_route(nlh);
}

static int
link_list_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_list	*ll = arg;
	const struct ifinfomsg	*ifi;
	const struct nlattr	*tb[IFLA_MAX + 1] = { 0 };
	struct link_ent		*ents;
	const char		*name;
	size_t			 ncap;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0 ||
	    tb[IFLA_IFNAME] == NULL || ifi->ifi_index <= 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	name = mnl_attr_get_str(tb[IFLA_IFNAME]);
	if (strncmp(name, ll->prefix, strlen(ll->prefix)) != 0)
		return MNL_CB_OK;
	if (ll->n == ll->cap) {
		if (ll->cap >= NL_MAX_ITEMS) {
			errno = E2BIG;
			return MNL_CB_ERROR;
		}
		ncap = ll->cap == 0 ? 8 : ll->cap * 2;
		if ((ents = reallocarray(ll->ents, ncap, sizeof(*ents))) ==
		    NULL)
			return MNL_CB_ERROR;
		ll->ents = ents;
		ll->cap = ncap;
	}
	strlcpy(ll->ents[ll->n].name, name, sizeof(ll->ents[ll->n].name));
	ll->ents[ll->n].index = ifi->ifi_index;
	ll->n++;
	return MNL_CB_OK;
}

/*
 * The names are collected first and handed to cb after the dump, so cb
 * may delete links without disturbing the dump.
 */
int
nl_link_list(const char *prefix,
    void (*cb)(const char *name, int ifindex, void *), void *arg)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct mnl_socket	*nl;
	struct link_list	 ll = { .prefix = prefix };
	size_t			 i;
	int			 round, rv = -1, save = 0;

	if (prefix == NULL || cb == NULL || strlen(prefix) >= IFNAMSIZ) {
		errno = EINVAL;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	for (round = 0; round < NL_FLUSH_ROUNDS; round++) {
		if ((nl = sysnl_open(NETLINK_ROUTE)) == NULL) {
			save = errno;
			rv = -1;
			break;
		}
		rv = sysnl_talk(nl, nlh, link_list_cb, &ll);
		save = errno;
		mnl_socket_close(nl);
		if (rv == 0 || save != EINTR)
			break;
		ll.n = 0;	/* the dump was interrupted: start over */
	}
	if (rv == 0)
		for (i = 0; i < ll.n; i++)
			cb(ll.ents[i].name, ll.ents[i].index, arg);
	free(ll.ents);
	errno = save;
	return rv;
}

static int
addr_req(int type, int ifindex, const struct prefix *p, uint16_t flags)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;

	if (ifindex <= 0 || !prefix_ok(p)) {
		errno = EINVAL;
		return -1;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->af;
	ifa->ifa_prefixlen = p->plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	if (p->af == AF_INET6) {
		/* No duplicate address detection: usable at once. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	mnl_attr_put(nlh, IFA_LOCAL, prefix_alen(p), p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, prefix_alen(p), p->addr);
	return nl_route(nlh);
}

int
nl_addr_add(int ifindex, const struct prefix *p)
{
	return addr_req(RTM_NEWADDR, ifindex, p, NLM_F_CREATE | NLM_F_EXCL);
}

int
nl_addr_del(int ifindex, const struct prefix *p)
{
	return addr_req(RTM_DELADDR, ifindex, p, 0);
}

static int
route_req(int type, int ifindex, const struct prefix *p, uint32_t table,
    uint16_t flags)
{
	char		 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;
	uint8_t		 dst[16];
	size_t		 alen, i;
	unsigned int	 bits;

	if (ifindex <= 0 || !prefix_ok(p) || table == RT_TABLE_UNSPEC ||
	    table == RT_TABLE_LOCAL) {
		errno = EINVAL;
		return -1;
	}
	/* The kernel refuses a v4 route with host bits; clear them. */
	alen = prefix_alen(p);
	memset(dst, 0, sizeof(dst));
	for (i = 0, bits = p->plen; i < alen && bits > 0; i++) {
		dst[i] = bits >= 8 ? p->addr[i] :
		    p->addr[i] & (uint8_t)(0xff << (8 - bits));
		bits = bits >= 8 ? bits - 8 : 0;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->af;
	rtm->rtm_dst_len = p->plen;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = RTPROT_STATIC;
		rtm->rtm_scope = p->af == AF_INET ? RT_SCOPE_LINK :
		    RT_SCOPE_UNIVERSE;
	} else {
		/* Match whoever added it and whatever its scope. */
		rtm->rtm_protocol = RTPROT_UNSPEC;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_route(nlh);
}

int
nl_route_add(int ifindex, const struct prefix *p, uint32_t table)
{
	return route_req(RTM_NEWROUTE, ifindex, p, table,
	    NLM_F_CREATE | NLM_F_EXCL);
}

int
nl_route_del(int ifindex, const struct prefix *p, uint32_t table)
{
	return route_req(RTM_DELROUTE, ifindex, p, table, 0);
}

static int
route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr	**tb = data;

	if (mnl_attr_get_type(attr) != RTA_TABLE)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[RTA_TABLE] = attr;
	return MNL_CB_OK;
}

static int
route_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_list	*rl = arg;
	const struct rtmsg	*rtm;
	const struct nlattr	*tb[RTA_MAX + 1] = { 0 };
	struct nlmsghdr		**msgs;
	uint32_t		 table;
	size_t			 ncap;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	table = tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(tb[RTA_TABLE]) :
	    rtm->rtm_table;
	if (rtm->rtm_family != rl->af || table != rl->table ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return MNL_CB_OK;
	if (rl->n == rl->cap) {
		if (rl->cap >= NL_MAX_ITEMS) {
			errno = E2BIG;
			return MNL_CB_ERROR;
		}
		ncap = rl->cap == 0 ? 8 : rl->cap * 2;
		if ((msgs = reallocarray(rl->msgs, ncap, sizeof(*msgs))) ==
		    NULL)
			return MNL_CB_ERROR;
		rl->msgs = msgs;
		rl->cap = ncap;
	}
	if ((rl->msgs[rl->n] = malloc(nlh->nlmsg_len)) == NULL)
		return MNL_CB_ERROR;
	memcpy(rl->msgs[rl->n], nlh, nlh->nlmsg_len);
	rl->n++;
	return MNL_CB_OK;
}

static void
route_list_free(struct route_list *rl)
{
	size_t	i;

	for (i = 0; i < rl->n; i++)
		free(rl->msgs[i]);
	free(rl->msgs);
	rl->msgs = NULL;
	rl->n = rl->cap = 0;
}

/*
 * Dump the family's routes, delete those in table, and dump again until
 * the table is empty: deleting while other changes race the dump may
 * leave some behind on the first pass.
 */
int
nl_route_flush_table(int af, uint32_t table)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh, *del;
	struct rtmsg		*rtm;
	struct mnl_socket	*nl;
	struct route_list	 rl = { 0 };
	size_t			 i;
	int			 round, rv = -1, save, removed = 0;

	if ((af != AF_INET && af != AF_INET6) || table == RT_TABLE_UNSPEC ||
	    table == RT_TABLE_LOCAL) {
		errno = EINVAL;
		return -1;
	}
	rl.af = af;
	rl.table = table;
	for (round = 0; round < NL_FLUSH_ROUNDS; round++) {
		/* Fresh socket: an interrupted dump leaves messages. */
		if ((nl = sysnl_open(NETLINK_ROUTE)) == NULL)
			return -1;
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = af;
		if (sysnl_talk(nl, nlh, route_dump_cb, &rl) == -1) {
			if (errno == EINTR) {	/* dump interrupted */
				route_list_free(&rl);
				mnl_socket_close(nl);
				continue;
			}
			goto out;
		}
		if (rl.n == 0) {
			rv = removed;
			goto out;
		}
		for (i = 0; i < rl.n; i++) {
			del = rl.msgs[i];
			del->nlmsg_type = RTM_DELROUTE;
			del->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
			if (sysnl_talk(nl, del, NULL, NULL) == -1) {
				if (errno != ESRCH && errno != ENOENT)
					goto out;
			} else
				removed++;
		}
		route_list_free(&rl);
		mnl_socket_close(nl);
	}
	errno = EAGAIN;
	return -1;
 out:
	save = errno;
	route_list_free(&rl);
	mnl_socket_close(nl);
	errno = save;
	return rv;
}

/* The tunnel rule looks up a table of its own, never a kernel one. */
static bool
rule_table_ok(uint32_t table)
{
	return table != RT_TABLE_UNSPEC && table != RT_TABLE_DEFAULT &&
	    table != RT_TABLE_MAIN && table != RT_TABLE_LOCAL;
}

static int
rule_req(int af, int type, uint16_t flags, bool tunnel, uint32_t table,
    uint32_t mark)
{
	char			 buf[NL_REQSZ] = { 0 };
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = af;
	frh->action = FR_ACT_TO_TBL;
	if (tunnel) {
		frh->table = table < 256 ? table : RT_TABLE_UNSPEC;
		frh->flags = FIB_RULE_INVERT;
		mnl_attr_put_u32(nlh, FRA_PRIORITY, VPND_RULE_PRIO_TUNNEL);
		mnl_attr_put_u32(nlh, FRA_TABLE, table);
		mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
	} else {
		frh->table = RT_TABLE_MAIN;
		mnl_attr_put_u32(nlh, FRA_PRIORITY, VPND_RULE_PRIO_SUPPRESS);
		mnl_attr_put_u32(nlh, FRA_TABLE, RT_TABLE_MAIN);
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	}
	return nl_route(nlh);
}

/*
 * The suppress rule goes in first and comes out last: alone, it changes
 * nothing (main without its default route, then main again at 32766),
 * whereas the tunnel rule alone would send even the LAN into the tunnel.
 */
int
nl_rules_add(int af, uint32_t table, uint32_t mark)
{
	int	save;

	if ((af != AF_INET && af != AF_INET6) || !rule_table_ok(table) ||
	    mark == 0) {
		errno = EINVAL;
		return -1;
	}
	if (rule_req(af, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, false, 0,
	    0) == -1 && errno != EEXIST)
		return -1;
	if (rule_req(af, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, true, table,
	    mark) == -1 && errno != EEXIST) {
		save = errno;
		(void)rules_del_one(af, false, 0, 0);
		errno = save;
		return -1;
	}
	return 0;
}

/* Delete every copy (an older instance may have added one twice). */
static int
rules_del_one(int af, bool tunnel, uint32_t table, uint32_t mark)
{
	int	i;

	for (i = 0; i < 64; i++) {
		if (rule_req(af, RTM_DELRULE, 0, tunnel, table, mark) == -1) {
			if (errno == ENOENT)
				return i;	/* how many were there */
			return -1;
		}
	}
	errno = ELOOP;
	return -1;
}

int
nl_rules_del(int af, uint32_t table, uint32_t mark)
{
	int	rv = 0, save = 0, n;

	if ((af != AF_INET && af != AF_INET6) || !rule_table_ok(table) ||
	    mark == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((n = rules_del_one(af, true, table, mark)) == -1) {
		save = errno;
		rv = -1;
	} else
		rv += n;
	if ((n = rules_del_one(af, false, 0, 0)) == -1) {
		if (rv != -1)
			save = errno;
		rv = -1;
	} else if (rv != -1)
		rv += n;
	errno = save;
	return rv;
}

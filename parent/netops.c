/*
 * netops.c -- the network set-up the parent performs for netmgr.
 *
 * netmgr describes the whole set-up (NET_BEGIN, then addresses, routes,
 * endpoints and resolvers, then NET_COMMIT); the parent validates every
 * item, performs it in order, rolls back on the first failure, and
 * remembers exactly what it added so that NET_DOWN, a crash of a child or
 * shutdown remove exactly that. A record in the state directory, written
 * before anything is created, lets the next start clean up after a crash:
 * the interface (whose routes go with it), and the policy rules by the
 * table and mark they were made with.
 *
 * In lockdown (lockdown.c) the kill switch is never removed, only
 * replaced, in one transaction, by the lockdown table (ks_release()),
 * and every tunnel gets the kill switch, whatever it asked for.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appid.h"
#include "config.h"
#include "imsgev.h"
#include "lockdown.h"
#include "log.h"
#include "parent.h"
#include "sys.h"
#include "vpnd.h"

#define NET_MAX_ROUTES		8192
#define NET_MAX_ENDPOINTS	CONF_MAX_PEERS
#define NET_STATE_FILE		"net.state"
#define NET_LINK_SETTLE_MS	100	/* a down then, the link still there */
#define NET_IPV6_MIN_MTU	1280	/* IPV6_MIN_MTU */
#define NET_MTU_BURST		20	/* MTU set-backs in a window, at most */
#define NET_MTU_WINDOW_MS	10000

struct netstate {
	int			 active;
	char			 ifname[IFNAMSIZ];
	int			 ifindex;
	int			 mtu;
	uint32_t		 flags;
	uint16_t		 port;
	int			 table_mode;	/* enum conf_table */
	uint32_t		 table;		/* auto: the rules'; num: all */
	uint32_t		 mark;		/* our sockets' mark */
	struct prefix		 addrs[CONF_MAX_ADDRS];
	size_t			 naddrs;
	struct prefix		*routes;
	size_t			 nroutes;
	struct prefix		 dns[CONF_MAX_DNS];
	size_t			 ndns;
	int			 rules4, rules6, ks;
	int			 offload;
	size_t			 neps;
	/* last: copies and clears touch only the neps in use (net_copy) */
	struct sockaddr_storage	 eps[NET_MAX_ENDPOINTS];
};
#define NETSTATE_HEAD	offsetof(struct netstate, eps)

static void	 net_clear(struct netstate *);
static void	 net_copy(struct netstate *, const struct netstate *);
static int	 net_valid_prefix(const struct prefix *);
static int	 net_policy_addr(const struct prefix *, char *, size_t);
static int	 net_up(struct netstate *, char *, size_t);
static int	 net_update(struct netstate *, struct netstate *, char *,
		    size_t);
static void	 net_down(struct netstate *, int);
static int	 net_routes_do(struct netstate *, const struct netstate *,
		    sa_family_t, char *, size_t);
static int	 net_routes(struct netstate *, const struct netstate *,
		    sa_family_t, char *, size_t);
static int	 net_firewall(struct netstate *, char *, size_t);
static int	 net_rules(struct netstate *, char *, size_t);
static void	 net_reply(struct imsgev *, int, int, int, const char *, ...)
		    __attribute__((__format__(printf, 5, 6)));
static void	 net_reset(struct netstate *);
static int	 state_write(const struct netstate *);
static void	 state_remove(void);
static int	 state_read(struct net_staterec *);
static int	 state_ifname_ok(const char *);
static uint32_t	 route_table(const struct netstate *, const struct prefix *);
static void	 recover_link(const char *, int, void *);
static int	 ks_release(void);
static void	 net_link_said(int, short, void *);
static void	 net_mtu_back(int);
static void	 net_mtu_later(int, short, void *);
static uint64_t	 net_mono_ms(void);
static void	 net_mtu_ipv6(const struct netstate *);
static int	 net_has_ipv6(const struct netstate *);
static void	 net_restore4(void);

static struct netstate	 cur, pend;
static int		 pend_open, pend_bad;
/* The kill switch stays after a failure (fail closed) until a deactivate. */
static int		 ks_orphan;
static char		 pend_err[256];
static char		 statefile[PATH_MAX];
static struct imsgev	*iev_tun;
static const char	*vpnd_ifname = VPND_IFNAME;
/*
 * The tunnel's link as netwatch last saw it: link_index's, seen up since
 * it was made (its creation announces it down), down now.
 */
static int		 link_index, link_seen_up, link_down;
/* notifications were lost: the next state netwatch reports is taken as is */
static int		 link_unsure;
static struct event	 link_ev;	/* net_link_said */
/* MTU set-backs in the window that began at mtu_win (ms); then mtu_ev */
static uint64_t		 mtu_win;
static int		 mtu_n;
static struct event	 mtu_ev;
static char		 tun_mark[VPND_IFALIASZ];

/* devid: this installation's device id, which marks the TUN as ours. */
void
netops_init(const char *statedir, const char *ifname, const char *devid)
{
	snprintf(statefile, sizeof(statefile), "%s/%s", statedir,
	    NET_STATE_FILE);
	vpnd_ifname = ifname;
	snprintf(tun_mark, sizeof(tun_mark), "vpnd:%s", devid);
}

void
netops_set_tunworker(struct imsgev *tunworker)
{
	iev_tun = tunworker;
}

static void
net_reset(struct netstate *ns)
{
	free(ns->routes);
	net_clear(ns);
}

/*
 * A state is 129 KiB, nearly all of it room for 1,024 endpoints: copied
 * or cleared whole, every page of it would stay resident in the parent
 * for a tunnel of one peer.
 */
static void
net_clear(struct netstate *ns)
{
	memset(ns, 0, NETSTATE_HEAD);
}

static void
net_copy(struct netstate *to, const struct netstate *from)
{
	memcpy(to, from, NETSTATE_HEAD);
	memcpy(to->eps, from->eps, from->neps * sizeof(from->eps[0]));
}

static int
net_valid_prefix(const struct prefix *p)
{
	if (p->af == AF_INET)
		return p->plen <= 32;
	if (p->af == AF_INET6)
		return p->plen <= 128;
	return 0;
}

/* The policy, with the host's addresses of the moment. */
static int
net_policy_addr(const struct prefix *p, char *err, size_t errlen)
{
	struct prefix	*host;
	size_t		 nhost;
	int		 rv;

	if (policy_host_addrs(vpnd_ifname, &host, &nhost) == -1) {
		snprintf(err, errlen, "cannot list the host's addresses: %s",
		    strerror(errno));
		return -1;
	}
	rv = policy_check_addr(p, host, nhost, err, errlen);
	free(host);
	return rv;
}

static void
net_reply(struct imsgev *iev, int ok, int err, int ifindex,
    const char *fmt, ...)
{
	struct imsg_result	 r;
	va_list			 ap;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	r.err = err;
	r.ifindex = ifindex;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
		va_end(ap);
	}
	imsgev_compose(iev, IMSG_NET_RESULT, 0, -1, &r, sizeof(r));
}

#define PEND_FAIL(...) do {						\
	if (!pend_bad)							\
		snprintf(pend_err, sizeof(pend_err), __VA_ARGS__);	\
	pend_bad = 1;							\
} while (0)

void
netops_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_net_begin	 b;
	struct prefix		 p, *np;
	struct sockaddr_storage	 ss;
	char			 err[256], app[APPID_MAX + 1];
	uint32_t		 type = imsg_get_type(imsg), keep, uid;

	if (type != IMSG_NET_BEGIN && type != IMSG_NET_DOWN && !pend_open) {
		log_warnx("%s: message %u outside a set-up", __func__, type);
		net_reply(iev, 0, EINVAL, 0, "protocol error");
		return;
	}
	switch (type) {
	case IMSG_NET_BEGIN:
		if (imsg_get_data(imsg, &b, sizeof(b)) == -1)
			fatalx("%s: bad NET_BEGIN", __func__);
		net_reset(&pend);
		pend_open = 1;
		pend_bad = 0;
		pend_err[0] = '\0';
		b.ifname[sizeof(b.ifname) - 1] = '\0';
		if (strcmp(b.ifname, vpnd_ifname) != 0)
			PEND_FAIL("interface %s is not ours", b.ifname);
		if (b.mtu < CONF_MIN_MTU || b.mtu > CONF_MAX_MTU)
			PEND_FAIL("MTU %d out of range", b.mtu);
		strlcpy(pend.ifname, b.ifname, sizeof(pend.ifname));
		split_pend_begin();
		pend.mtu = b.mtu;
		pend.port = b.listen_port;
		pend.flags = b.flags;
		if (policy_check_routing(b.table_mode, b.table, b.mark, err,
		    sizeof(err)) == -1) {
			PEND_FAIL("%s", err);
			break;
		}
		pend.table_mode = b.table_mode;
		pend.mark = b.mark;
		/* wg-quick's auto: the mark numbers the table too */
		pend.table = b.table_mode == CONF_TABLE_AUTO ? b.mark :
		    b.table_mode == CONF_TABLE_NUM ? b.table : 0;
		break;
	case IMSG_NET_ADDR:
		if (imsg_get_data(imsg, &p, sizeof(p)) == -1)
			fatalx("%s: bad NET_ADDR", __func__);
		if (!net_valid_prefix(&p))
			PEND_FAIL("bad interface address");
		else if (net_policy_addr(&p, err, sizeof(err)) == -1)
			PEND_FAIL("%s", err);
		else if (pend.naddrs == nitems(pend.addrs))
			PEND_FAIL("too many interface addresses");
		else
			pend.addrs[pend.naddrs++] = p;
		break;
	case IMSG_NET_ROUTE:
		if (imsg_get_data(imsg, &p, sizeof(p)) == -1)
			fatalx("%s: bad NET_ROUTE", __func__);
		if (!net_valid_prefix(&p)) {
			PEND_FAIL("bad route prefix");
			break;
		}
		if (policy_check_route(&p, err, sizeof(err)) == -1) {
			PEND_FAIL("%s", err);
			break;
		}
		if (p.plen == 0 && pend.table_mode == CONF_TABLE_NUM &&
		    pend.table == CONF_TABLE_MAIN) {
			PEND_FAIL("a full tunnel in table main would replace "
			    "the host's default route");
			break;
		}
		if (pend.nroutes == NET_MAX_ROUTES) {
			PEND_FAIL("too many routes");
			break;
		}
		if ((np = reallocarray(pend.routes, pend.nroutes + 1,
		    sizeof(*np))) == NULL) {
			PEND_FAIL("out of memory");
			break;
		}
		pend.routes = np;
		prefix_mask(&p);
		pend.routes[pend.nroutes++] = p;
		if (p.plen == 0)
			pend.flags |= p.af == AF_INET ? NET_F_FULL4 :
			    NET_F_FULL6;
		break;
	case IMSG_NET_ENDPOINT:
		if (imsg_get_data(imsg, &ss, sizeof(ss)) == -1)
			fatalx("%s: bad NET_ENDPOINT", __func__);
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			PEND_FAIL("bad endpoint");
		else if (pend.neps == nitems(pend.eps))
			PEND_FAIL("too many endpoints");
		else
			pend.eps[pend.neps++] = ss;
		break;
	case IMSG_NET_DNS:
		if (imsg_get_data(imsg, &p, sizeof(p)) == -1)
			fatalx("%s: bad NET_DNS", __func__);
		if (!net_valid_prefix(&p))
			PEND_FAIL("bad resolver address");
		else if (pend.ndns == nitems(pend.dns))
			PEND_FAIL("too many resolvers");
		else
			pend.dns[pend.ndns++] = p;
		break;
	case IMSG_NET_SPLIT_UID:
		if (imsg_get_data(imsg, &uid, sizeof(uid)) == -1)
			fatalx("%s: bad NET_SPLIT_UID", __func__);
		split_pend_uid((uid_t)uid);
		break;
	case IMSG_NET_SPLIT_APP:
		if (imsg_get_data(imsg, app, sizeof(app)) == -1)
			fatalx("%s: bad NET_SPLIT_APP", __func__);
		app[sizeof(app) - 1] = '\0';
		if (split_pend_app(app, err, sizeof(err)) == -1)
			PEND_FAIL("%s", err);
		break;
	case IMSG_NET_COMMIT:
		pend_open = 0;
		if (pend_bad) {
			log_warnx("refused network set-up: %s", pend_err);
			net_reply(iev, 0, EINVAL, 0, "%s", pend_err);
			net_reset(&pend);
			return;
		}
		if (pend.flags & NET_F_UPDATE) {
			if (!cur.active || strcmp(cur.ifname, pend.ifname)) {
				net_reply(iev, 0, EINVAL, 0, "nothing to "
				    "update");
				net_reset(&pend);
				return;
			}
			if (net_update(&cur, &pend, err, sizeof(err)) == -1) {
				net_reply(iev, 0, errno, 0, "%s", err);
				return;
			}
			split_pend_commit();
			net_reply(iev, 1, 0, cur.ifindex, NULL);
			return;
		}
		if (cur.active) {
			net_reply(iev, 0, EBUSY, 0, "a tunnel is up");
			net_reset(&pend);
			return;
		}
		if (net_up(&pend, err, sizeof(err)) == -1) {
			net_reply(iev, 0, errno, 0, "%s", err);
			net_reset(&pend);
			return;
		}
		if (pend.ks)
			ks_orphan = 0;	/* replaced in one transaction */
		else if (ks_orphan) {
			if (ks_release() == -1)
				log_warn("removing the kill switch");
			ks_orphan = 0;
		}
		net_copy(&cur, &pend);	/* takes the routes array */
		net_clear(&pend);
		split_pend_commit();
		net_reply(iev, 1, 0, cur.ifindex, NULL);
		return;
	case IMSG_NET_DOWN:
		/* Optional flags: NETDOWN_KEEP_KS leaves the firewall up. */
		keep = 0;
		if (imsg_get_len(imsg) == sizeof(keep) &&
		    imsg_get_data(imsg, &keep, sizeof(keep)) == -1)
			fatalx("%s: bad NET_DOWN", __func__);
		else if (imsg_get_len(imsg) != 0 &&
		    imsg_get_len(imsg) != sizeof(keep))
			fatalx("%s: bad NET_DOWN", __func__);
		pend_open = 0;
		net_reset(&pend);
		/* a rebuild or the error state keeps them, deactivate not */
		if (!(keep & NETDOWN_KEEP_KS))
			split_down();
		if (cur.active)
			net_down(&cur, keep & NETDOWN_KEEP_KS);
		else if (ks_orphan && !(keep & NETDOWN_KEEP_KS)) {
			if (ks_release() == -1)
				log_warn("removing the kill switch");
			else
				log_info(lockdown_on() ? "kill switch replaced "
				    "by the lockdown table" :
				    "kill switch removed");
			ks_orphan = 0;
		}
		net_reset(&cur);
		if (!ks_orphan)
			state_remove();
		net_reply(iev, 1, 0, 0, NULL);
		return;
	}
}

/*
 * Bring the interface up as pend describes; on failure undo everything
 * done so far and return -1 with errno and a message.
 */
static int
net_up(struct netstate *ns, char *err, size_t errlen)
{
	struct imsg_tun	 t;
	char		 buf[INET6_ADDRSTRLEN + 8];
	uint16_t	 port;
	size_t		 i;
	int		 fd, fd6, saved, orphan_before;

	orphan_before = ks_orphan;
	if (state_write(ns) == -1) {
		snprintf(err, errlen, "cannot record state: %s",
		    strerror(errno));
		return -1;
	}
	if ((fd = tun_create_offload(ns->ifname, &ns->ifindex,
	    &ns->offload)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot create %s: %s", ns->ifname,
		    saved == EEXIST ? "an interface of that name exists" :
		    strerror(saved));
		state_remove();
		errno = saved;
		return -1;
	}
	ns->active = 1;
	/* what netwatch saw was another's */
	link_index = link_seen_up = link_down = link_unsure = 0;
	mtu_win = mtu_n = 0;		/* a fresh window of set-backs */
	if (event_initialized(&mtu_ev))
		evtimer_del(&mtu_ev);
	log_info("created %s (index %d)", ns->ifname, ns->ifindex);
	if (nl_link_set_alias(ns->ifindex, tun_mark) == -1) {
		snprintf(err, errlen, "marking %s as ours: %s", ns->ifname,
		    strerror(errno));
		goto fail;
	}
	if (nl_link_set_mtu(ns->ifindex, ns->mtu) == -1) {
		snprintf(err, errlen, "MTU %d: %s", ns->mtu, strerror(errno));
		goto fail;
	}
	for (i = 0; i < ns->naddrs; i++)
		if (nl_addr_add(ns->ifindex, &ns->addrs[i]) == -1) {
			snprintf(err, errlen, "address %s: %s",
			    prefix_fmt(&ns->addrs[i], buf, sizeof(buf)),
			    strerror(errno));
			goto fail;
		}
	if (nl_link_set_up(ns->ifindex, true) == -1) {
		snprintf(err, errlen, "link up: %s", strerror(errno));
		goto fail;
	}
	if (net_routes(ns, NULL, AF_UNSPEC, err, errlen) == -1 ||
	    net_rules(ns, err, errlen) == -1 ||
	    net_firewall(ns, err, errlen) == -1)
		goto fail;

	/* Marked UDP sockets, one per family on one port. */
	port = ns->port;
	if ((fd6 = udp_open(AF_INET, port, ns->mark, &port)) == -1) {
		snprintf(err, errlen, "UDP port %u: %s", ns->port,
		    strerror(errno));
		goto fail;
	}
	imsgev_compose(iev_tun, IMSG_UDP_FD, AF_INET, fd6, NULL, 0);
	if ((fd6 = udp_open(AF_INET6, port, ns->mark, NULL)) == -1)
		log_warn("IPv6 UDP socket on port %u", port);
	else
		imsgev_compose(iev_tun, IMSG_UDP_FD, AF_INET6, fd6, NULL, 0);
	ns->port = port;

	memset(&t, 0, sizeof(t));
	strlcpy(t.ifname, ns->ifname, sizeof(t.ifname));
	t.ifindex = ns->ifindex;
	t.mtu = ns->mtu;
	t.vnet_hdr = ns->offload;
	imsgev_compose(iev_tun, IMSG_TUN_FD, 0, fd, &t, sizeof(t));
	log_info("%s up: mtu %d, %zu addresses, %zu routes, port %u%s%s",
	    ns->ifname, ns->mtu, ns->naddrs, ns->nroutes, port,
	    ns->ks ? ", kill switch on" : "",
	    ns->offload ? ", TSO offload" : "");
	return 0;

 fail:
	saved = errno;
	log_warnx("set-up of %s failed: %s; rolling back", ns->ifname, err);
	close(fd);
	/* in the error state the host stays blocked after a failed retry */
	net_down(ns, orphan_before);
	if (!ks_orphan)
		state_remove();
	errno = saved;
	return -1;
}

/* Table = N: every route there; auto: the full tunnel's in our own. */
static uint32_t
route_table(const struct netstate *ns, const struct prefix *p)
{
	if (ns->table_mode == CONF_TABLE_NUM)
		return ns->table;
	return p->plen == 0 ? ns->table : CONF_TABLE_MAIN;
}

/*
 * Routes of ns not in old are added; with old, old's extra ones go. af:
 * only routes of that family are added (AF_UNSPEC: all).
 * Table = off: none at all, the user routes.
 */
static int
net_routes(struct netstate *ns, const struct netstate *old, sa_family_t af,
    char *err, size_t errlen)
{
	int	 rv;

	nl_hold();
	rv = net_routes_do(ns, old, af, err, errlen);
	nl_release();
	return rv;
}

static int
net_routes_do(struct netstate *ns, const struct netstate *old,
    sa_family_t af, char *err, size_t errlen)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	size_t		 i, j;
	uint32_t	 table;

	if (ns->table_mode == CONF_TABLE_OFF)
		return 0;
	for (i = 0; i < ns->nroutes; i++) {
		if (af != AF_UNSPEC && ns->routes[i].af != af)
			continue;
		if (old != NULL) {
			for (j = 0; j < old->nroutes; j++)
				if (memcmp(&old->routes[j], &ns->routes[i],
				    sizeof(struct prefix)) == 0)
					break;
			if (j < old->nroutes)
				continue;
		}
		table = route_table(ns, &ns->routes[i]);
		if (nl_route_add(ns->ifindex, &ns->routes[i], table) == -1 &&
		    errno != EEXIST) {
			snprintf(err, errlen, "route %s: %s",
			    prefix_fmt(&ns->routes[i], buf, sizeof(buf)),
			    strerror(errno));
			return -1;
		}
	}
	if (old == NULL)
		return 0;
	for (j = 0; j < old->nroutes; j++) {
		for (i = 0; i < ns->nroutes; i++)
			if (memcmp(&old->routes[j], &ns->routes[i],
			    sizeof(struct prefix)) == 0)
				break;
		if (i < ns->nroutes)
			continue;
		table = route_table(old, &old->routes[j]);
		(void)nl_route_del(old->ifindex, &old->routes[j], table);
	}
	return 0;
}

/* Only Table = auto has policy rules, and only for a full tunnel. */
static int
net_rules(struct netstate *ns, char *err, size_t errlen)
{
	int	auto_ = ns->table_mode == CONF_TABLE_AUTO;
	int	want4 = auto_ && (ns->flags & NET_F_FULL4);
	int	want6 = auto_ && (ns->flags & NET_F_FULL6);

	if (want4 && !ns->rules4) {
		if (nl_rules_add(AF_INET, ns->table, ns->mark) == -1) {
			snprintf(err, errlen, "IPv4 policy rules: %s",
			    strerror(errno));
			return -1;
		}
		ns->rules4 = 1;
	} else if (!want4 && ns->rules4) {
		(void)nl_rules_del(AF_INET, ns->table, ns->mark);
		ns->rules4 = 0;
	}
	if (want6 && !ns->rules6) {
		if (nl_rules_add(AF_INET6, ns->table, ns->mark) == -1) {
			snprintf(err, errlen, "IPv6 policy rules: %s",
			    strerror(errno));
			return -1;
		}
		ns->rules6 = 1;
	} else if (!want6 && ns->rules6) {
		(void)nl_rules_del(AF_INET6, ns->table, ns->mark);
		ns->rules6 = 0;
	}
	return 0;
}

/*
 * The kill switch goes: removed, or in lockdown replaced by the lockdown
 * table in the same transaction, never leaving a moment without one.
 */
static int
ks_release(void)
{
	const struct lockdown	*ld = lockdown_get();

	if (ld->on)
		return nft_lockdown_install(ld->allow_lan);
	return nft_ks_remove();
}

static int
net_firewall(struct netstate *ns, char *err, size_t errlen)
{
	struct ks_params	 kp;

	/* in lockdown every tunnel has the kill switch */
	if (!(ns->flags & NET_F_KILLSWITCH) && !lockdown_on()) {
		if (ns->ks && ks_release() == -1)
			log_warn("removing the kill switch");
		ns->ks = 0;
		return 0;
	}
	memset(&kp, 0, sizeof(kp));
	kp.ifname = ns->ifname;
	kp.endpoints = ns->eps;
	kp.nendpoints = ns->neps;
	kp.dns = ns->dns;
	kp.ndns = ns->ndns;
	kp.tunaddrs = ns->addrs;
	kp.ntunaddrs = ns->naddrs;
	kp.allow_lan = !!(ns->flags & NET_F_ALLOWLAN);
	kp.mark = ns->mark;
	if (nft_ks_install(&kp) == -1) {
		snprintf(err, errlen, "kill switch: %s", strerror(errno));
		return -1;
	}
	ns->ks = 1;
	return 0;
}

/*
 * Server switch: the interface stays; routes, rules and the firewall
 * move to what nw describes. The kill switch is replaced in one
 * transaction, so nothing leaks in between.
 */
static int
net_update(struct netstate *ns, struct netstate *nw, char *err,
    size_t errlen)
{
	struct prefix	 addrs[CONF_MAX_ADDRS], *routes;
	size_t		 naddrs;

	/* the MTU is the link's and tunworker's buffers': not in place */
	if (nw->table_mode != ns->table_mode || nw->table != ns->table ||
	    nw->mark != ns->mark || nw->mtu != ns->mtu) {
		snprintf(err, errlen, "the table, mark or MTU cannot change "
		    "in place");
		net_reset(nw);
		errno = EINVAL;
		return -1;
	}
	nw->ifindex = ns->ifindex;
	nw->port = ns->port;
	nw->rules4 = ns->rules4;
	nw->rules6 = ns->rules6;
	nw->ks = ns->ks;
	nw->active = 1;
	nw->flags &= ~NET_F_UPDATE;
	/* a tunnel of IPv6 on a link below 1280 (left so, or a fight): 1280 */
	if (net_has_ipv6(nw))
		net_mtu_ipv6(ns);
	/* a link set down has no routes; its new ones come when it is up */
	if (net_firewall(nw, err, errlen) == -1 ||
	    (!link_down && net_routes(nw, ns, AF_UNSPEC, err, errlen) == -1) ||
	    net_rules(nw, err, errlen) == -1) {
		log_warnx("server switch on %s failed: %s", ns->ifname, err);
		/*
		 * What the attempt installed is what is there now: ns must
		 * know it, so the tear-down that follows removes it.
		 */
		ns->ks = nw->ks;
		ns->rules4 = nw->rules4;
		ns->rules6 = nw->rules6;
		net_reset(nw);
		return -1;
	}
	routes = ns->routes;
	memcpy(addrs, ns->addrs, sizeof(addrs));
	naddrs = ns->naddrs;
	net_copy(ns, nw);
	memcpy(ns->addrs, addrs, sizeof(ns->addrs));
	ns->naddrs = naddrs;
	free(routes);
	net_clear(nw);
	log_info("%s updated: %zu routes, %zu endpoints", ns->ifname,
	    ns->nroutes, ns->neps);
	return 0;
}

static void
net_down(struct netstate *ns, int keep_ks)
{
	size_t	i;

	if (keep_ks) {
		if (ns->ks || ks_orphan) {
			log_info("kill switch left in place: traffic stays "
			    "blocked until a deactivate or the next start");
			ks_orphan = 1;
		}
	} else {
		if ((ns->ks || ks_orphan) && ks_release() == -1)
			log_warn("removing the kill switch");
		ks_orphan = 0;
	}
	ns->ks = 0;
	if (ns->rules4)
		(void)nl_rules_del(AF_INET, ns->table, ns->mark);
	if (ns->rules6)
		(void)nl_rules_del(AF_INET6, ns->table, ns->mark);
	ns->rules4 = ns->rules6 = 0;
	/* our own table; a file's goes with the interface's routes */
	(void)nl_route_flush_table(AF_INET, VPND_TABLE);
	(void)nl_route_flush_table(AF_INET6, VPND_TABLE);
	if (nl_link_index(ns->ifname) > 0 &&
	    ns->table_mode != CONF_TABLE_OFF) {
		nl_hold();
		for (i = 0; i < ns->nroutes; i++)
			if (route_table(ns, &ns->routes[i]) != VPND_TABLE)
				(void)nl_route_del(ns->ifindex,
				    &ns->routes[i],
				    route_table(ns, &ns->routes[i]));
		nl_release();
	}
	if (nl_link_index(ns->ifname) > 0) {
		if (nl_link_del(ns->ifname, tun_mark) == -1 &&
		    errno != ENODEV)
			log_warn("deleting %s", ns->ifname);
	}
	if (ns->active)
		log_info("%s removed", ns->ifname);
	ns->active = 0;
	if (event_initialized(&mtu_ev))
		evtimer_del(&mtu_ev);
}

/*
 * The tunnel's link went up or down (netwatch read it). Set down (by an
 * administrator: ip link set vpn0 down), the kernel drops every route
 * through it, in every table, and its IPv6 addresses; when it is up again
 * they are put back, so the tunnel carries what it did before. While it
 * is down nothing goes through it: the kill switch, if on, still holds.
 * Policy rules, the firewall and the IPv4 addresses stay through a down.
 */
void
netops_tun_link(int ifindex, bool up, int mtu)
{
	static const struct timeval tv = { 0, NET_LINK_SETTLE_MS * 1000 };
	char	 err[256], buf[INET6_ADDRSTRLEN + 8];
	size_t	 i, nadd = 0;
	int	 was_down, low6, now;

	if (!cur.active)
		return;
	if (ifindex == 0) {
		/*
		 * Notifications were lost (ENOBUFS): a down and its up may be
		 * among them. What the dump that follows shows is the state.
		 */
		link_unsure = 1;
		return;
	}
	if (ifindex != cur.ifindex)
		return;
	/*
	 * Below IPv6's minimum the kernel dropped the link's IPv6
	 * addresses and every IPv6 route through it, with no down: put
	 * back at the next notification that finds the link up at 1280 or
	 * more (the raise's, below).
	 */
	low6 = mtu > 0 && mtu < NET_IPV6_MIN_MTU && net_has_ipv6(&cur);
	if (low6)
		link_unsure = 1;	/* IPv6 went: back at 1280 or more */
	if ((mtu > cur.mtu && cur.mtu > 0) || low6)
		net_mtu_back(mtu);
	if (link_index != ifindex) {
		link_index = ifindex;
		link_seen_up = link_down = 0;
	}
	if (!up) {
		/* its creation announces it down: only a down after an up */
		if ((link_seen_up || link_unsure) && !link_down) {
			link_unsure = 0;
			link_down = 1;
			if (!event_initialized(&link_ev))
				evtimer_set(&link_ev, net_link_said, NULL);
			evtimer_add(&link_ev, &tv);
		}
		return;
	}
	link_seen_up = 1;
	if (!link_down && !link_unsure)
		return;
	if (low6) {
		net_restore4();	/* IPv6 cannot be put back below 1280: not yet */
		return;
	}
	/* the notification may be old: below 1280 now, the restore would fail */
	if (net_has_ipv6(&cur) && (now = nl_link_ours_mtu(cur.ifname,
	    cur.ifindex, tun_mark)) > 1 && now < NET_IPV6_MIN_MTU)
		return;
	was_down = link_down;
	link_down = link_unsure = 0;
	/* a link that took the index (ip link add ... index N) is not ours */
	if (nl_link_ours(cur.ifname, cur.ifindex, tun_mark) != 1) {
		log_warnx("%s (index %d) is up, but it is not our TUN: "
		    "nothing restored", cur.ifname, cur.ifindex);
		return;
	}
	for (i = 0; i < cur.naddrs; i++) {
		if (nl_addr_add(cur.ifindex, &cur.addrs[i]) == 0)
			nadd++;
		else if (errno != EEXIST && mtu_n >= NET_MTU_BURST)
			log_debug("%s is up again: address %s: %s",
			    cur.ifname, prefix_fmt(&cur.addrs[i], buf,
			    sizeof(buf)), strerror(errno));
		else if (errno != EEXIST)
			log_warn("%s is up again: address %s", cur.ifname,
			    prefix_fmt(&cur.addrs[i], buf, sizeof(buf)));
	}
	if (net_routes(&cur, NULL, AF_UNSPEC, err, sizeof(err)) == -1) {
		/* a fight over the MTU (limited above): not a line each */
		if (mtu_n >= NET_MTU_BURST)
			log_debug("%s is up again, but its routes are not: %s",
			    cur.ifname, err);
		else
			log_warnx("%s is up again, but its routes are not: %s",
			    cur.ifname, err);
		link_unsure = 1;	/* tried again at the next up or dump */
		return;
	}
	if (!was_down) {
		log_debug("%s: notifications were lost; its routes and "
		    "addresses checked (%zu addresses added back)", cur.ifname,
		    nadd);
		return;
	}
	log_info("%s is up again: %zu routes restored, %zu addresses added "
	    "back", cur.ifname, cur.table_mode == CONF_TABLE_OFF ? 0 :
	    cur.nroutes, nadd);
}

/* The link is up below 1280: its IPv4 addresses and routes, now. */
static void
net_restore4(void)
{
	char	 err[256];
	size_t	 i;

	if (nl_link_ours(cur.ifname, cur.ifindex, tun_mark) != 1)
		return;
	for (i = 0; i < cur.naddrs; i++)
		if (cur.addrs[i].af == AF_INET)
			(void)nl_addr_add(cur.ifindex, &cur.addrs[i]);
	if (net_routes(&cur, NULL, AF_INET, err, sizeof(err)) == -1)
		log_debug("%s: IPv4 routes below 1280: %s", cur.ifname, err);
}

/* Does the tunnel carry IPv6: an address or a route of it? */
static int
net_has_ipv6(const struct netstate *ns)
{
	size_t	i;

	for (i = 0; i < ns->naddrs; i++)
		if (ns->addrs[i].af == AF_INET6)
			return 1;
	for (i = 0; i < ns->nroutes; i++)
		if (ns->routes[i].af == AF_INET6)
			return 1;
	return 0;
}

/*
 * Another changed the tunnel's MTU where it does harm; set back:
 * - raised (ip link set vpn0 mtu 9000): tunworker's buffers hold packets
 *   of the MTU it was set up with, and a larger one would be lost without
 *   a word (no ICMP "fragmentation needed": a black hole for TCP). Back to
 *   the tunnel's MTU.
 * - lowered below IPv6's minimum (1280) on a tunnel that carries IPv6:
 *   the kernel drops the link's IPv6 addresses and routes, and without
 *   the kill switch IPv6 then leaves outside the tunnel. Up to 1280, the
 *   lowest MTU IPv6 allows; the next notification puts them back.
 * Any other lower MTU is left: it does no harm.
 */
static void
net_mtu_back(int notified)
{
	struct timeval	 tv;
	uint64_t now = net_mono_ms(), left;
	int	 mtu, want;

	/*
	 * Another that keeps setting the MTU (a tool that manages it too)
	 * would make this a fight without end: NET_MTU_BURST set-backs in
	 * a window, then one look when the window ends (mtu_ev).
	 */
	if (mtu_win == 0 || now - mtu_win >= NET_MTU_WINDOW_MS) {
		mtu_win = now;
		mtu_n = 0;
	}
	if (mtu_n >= NET_MTU_BURST) {
		if (!event_initialized(&mtu_ev))
			evtimer_set(&mtu_ev, net_mtu_later, NULL);
		if (!evtimer_pending(&mtu_ev, NULL)) {
			/* at the window's end, when a set-back is allowed */
			left = mtu_win + NET_MTU_WINDOW_MS - now + 1;
			tv.tv_sec = left / 1000;
			tv.tv_usec = (left % 1000) * 1000;
			log_warnx("%s's MTU keeps being changed by another: "
			    "set back %d times in %d s, again in %llu ms",
			    cur.ifname, mtu_n, NET_MTU_WINDOW_MS / 1000,
			    (unsigned long long)left);
			evtimer_add(&mtu_ev, &tv);
		}
		return;
	}

	/*
	 * The notification's MTU may be old (read late, or the TUN's
	 * creation at 1500): only the link's MTU now counts, or a later MTU
	 * of an administrator would be undone.
	 */
	if ((mtu = nl_link_ours_mtu(cur.ifname, cur.ifindex, tun_mark)) <= 1)
		return;		/* not ours, gone, or no MTU said */
	if (mtu > cur.mtu)
		want = cur.mtu;
	else if (mtu < NET_IPV6_MIN_MTU && net_has_ipv6(&cur))
		want = NET_IPV6_MIN_MTU;
	else
		return;
	mtu_n++;
	if (nl_link_set_mtu(cur.ifindex, want) == -1) {
		log_warn("%s's MTU was set to %d; setting it to %d",
		    cur.ifname, mtu, want);
		return;
	}
	if (want == cur.mtu)
		log_warnx("%s's MTU was raised to %d; the tunnel carries at "
		    "most %d: set back", cur.ifname, mtu, cur.mtu);
	else
		log_warnx("%s's MTU was lowered to %d, below IPv6's minimum "
		    "(the kernel drops a link's IPv6 there): set to %d",
		    cur.ifname, mtu, want);
}

static uint64_t
net_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The window of set-backs is over: one look at the MTU as it is now. */
static void
net_mtu_later(int fd, short ev, void *arg)
{
	if (cur.active)
		net_mtu_back(0);
}

/*
 * A tunnel that starts to carry IPv6 (a server switch in place) on a
 * link an administrator left below 1280, which a tunnel without IPv6
 * may keep: its IPv6 addresses and routes need 1280 first.
 */
static void
net_mtu_ipv6(const struct netstate *ns)
{
	int	 mtu;

	if ((mtu = nl_link_ours_mtu(ns->ifname, ns->ifindex, tun_mark)) <= 1 ||
	    mtu >= NET_IPV6_MIN_MTU)
		return;
	if (nl_link_set_mtu(ns->ifindex, NET_IPV6_MIN_MTU) == -1)
		log_warn("%s: MTU %d for IPv6", ns->ifname, NET_IPV6_MIN_MTU);
	else
		log_warnx("%s's MTU %d raised to %d: the tunnel now carries "
		    "IPv6", ns->ifname, mtu, NET_IPV6_MIN_MTU);
}

/*
 * Said a moment after the down, once the link is known to be there
 * still: a TUN deleted (its last descriptor closed: tunworker letting go
 * of it before the tear-down, or ip link del) announces a down first.
 */
static void
net_link_said(int fd, short ev, void *arg)
{
	if (!cur.active || !link_down || link_index != cur.ifindex ||
	    nl_link_ours(cur.ifname, link_index, tun_mark) != 1)
		return;
	log_warnx("%s was set down: the kernel dropped its routes; they "
	    "are restored when it is up again", cur.ifname);
}

/*
 * At exit. After a failure (keep_ks) the kill switch stays, so the host
 * fails closed until the next start removes it; a clean stop removes all.
 */
void
netops_teardown(int keep_ks)
{
	split_down();
	if (cur.active) {
		net_down(&cur, keep_ks);
		net_reset(&cur);
	} else if (ks_orphan && !keep_ks) {
		if (ks_release() == -1)
			log_warn("removing the kill switch");
		ks_orphan = 0;
	}
	if (!ks_orphan)
		state_remove();
}

/*
 * The lockdown setting changed from old (lockdown.c saved it): the
 * firewall follows at once. On: a tunnel without the kill switch gets
 * it; with no tunnel the lockdown table goes in (a kill switch kept after
 * a failure stays; a deactivate swaps it). Off: the kill switch goes
 * where only lockdown held it, the tunnel's own choice again.
 */
int
netops_lockdown(const struct lockdown *old, char *err, size_t errlen)
{
	const struct lockdown	*ld = lockdown_get();

	if (cur.active) {
		if (ld->on && !cur.ks)
			return net_firewall(&cur, err, errlen);
		if (!ld->on && cur.ks && !(cur.flags & NET_F_KILLSWITCH))
			return net_firewall(&cur, err, errlen);
		return 0;
	}
	if (ks_orphan)
		return 0;
	if (ld->on) {
		if (nft_lockdown_install(ld->allow_lan) == -1) {
			snprintf(err, errlen, "lockdown table: %s",
			    strerror(errno));
			return -1;
		}
	} else if (old->on && nft_ks_remove() == -1) {
		snprintf(err, errlen, "removing the lockdown table: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * nftables changed (nft_watch_read()): whoever loaded a ruleset may have
 * removed table inet vpnd with it ("flush ruleset" does, as a firewall
 * reload does). Where it must be -- a tunnel's kill switch, one kept
 * after a failure, lockdown -- and is not, it goes back at once: a
 * tunnel's with its rules, otherwise the lockdown table (a kept kill
 * switch without the LAN).
 */
void
netops_fw_check(void)
{
	char	 err[256];
	int	 rv;

	if (!(cur.active && cur.ks) && !ks_orphan && !lockdown_on())
		return;
	/*
	 * Only when surely gone: a reinstall is a change too, and a
	 * failing query must not feed itself (an error is not "gone").
	 */
	if (nft_ks_present() != 0)
		return;
	log_warnx("table inet %s was removed by another program: "
	    "installing it again", VPND_NFT_TABLE);
	if (cur.active && cur.ks)
		rv = net_firewall(&cur, err, sizeof(err));
	else if ((rv = nft_lockdown_install(lockdown_on() &&
	    lockdown_get()->allow_lan)) == -1)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	if (rv == -1)
		log_warnx("table inet %s: %s", VPND_NFT_TABLE, err);
}

int
netops_state_format(const struct net_staterec *r, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, "version=1\nifname=%s\ntable=%u\nmark=%u\n",
	    r->ifname, r->table, r->mark);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

static int
state_write(const struct netstate *ns)
{
	struct net_staterec	 r;
	char			 tmp[PATH_MAX + 8], buf[NET_STATE_MAX];
	int			 fd, n, len;

	memset(&r, 0, sizeof(r));
	strlcpy(r.ifname, ns->ifname, sizeof(r.ifname));
	/* the rules' table; Table = off or N makes none */
	r.table = ns->table_mode == CONF_TABLE_AUTO ? ns->table : VPND_TABLE;
	r.mark = ns->mark;
	if ((len = netops_state_format(&r, buf, sizeof(buf))) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", statefile);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	n = write(fd, buf, len);
	if (n != len || fsync(fd) == -1) {
		close(fd);
		(void)unlink(tmp);
		if (n != -1 && n != len)
			errno = EIO;
		return -1;
	}
	close(fd);
	return rename(tmp, statefile);
}

static int
state_ifname_ok(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && n < IFNAMSIZ && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* A table or mark: decimal, 1..UINT32_MAX, no sign, no leading zero. */
static int
state_u32(const char *v, uint32_t *out)
{
	unsigned long long	 n = 0;
	size_t			 i, len = strlen(v);

	if (len == 0 || len > 10 || v[0] == '0' ||
	    strspn(v, "0123456789") != len)
		return -1;
	for (i = 0; i < len; i++)
		n = n * 10 + (v[i] - '0');
	if (n > UINT32_MAX)
		return -1;
	*out = n;
	return 0;
}

/*
 * Strict: a record that is not exactly what netops_state_format() or
 * the older one-line format writes is corrupt (-1 with a reason), and
 * the caller removes everything of ours it knows. Unknown keys of the
 * right shape are counted, for a newer vpnd's record.
 */
int
netops_state_parse(const char *buf, size_t len, struct net_staterec *r,
    char *err, size_t errlen)
{
	char		 copy[NET_STATE_MAX + 1], *line, *next, *eq;
	unsigned int	 seen = 0, bit;
	size_t		 klen;
	int		 lineno = 0;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > NET_STATE_MAX || buf[len - 1] != '\n' ||
	    memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "empty, truncated or binary");
		return -1;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (strchr(copy, '=') == NULL) {
		/* the older format: the interface name, alone */
		copy[len - 1] = '\0';
		if (!state_ifname_ok(copy)) {
			snprintf(err, errlen, "bad interface name");
			return -1;
		}
		strlcpy(r->ifname, copy, sizeof(r->ifname));
		r->table = VPND_TABLE;
		r->mark = VPND_FWMARK;
		return 0;
	}
	for (line = copy; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		lineno++;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errlen, "line %d: no key=value", lineno);
			return -1;
		}
		*eq++ = '\0';
		klen = strlen(line);
		if (klen == 0 || klen > 32 ||
		    strspn(line, "abcdefghijklmnopqrstuvwxyz_") != klen) {
			snprintf(err, errlen, "line %d: bad key", lineno);
			return -1;
		}
		if (lineno == 1) {
			if (strcmp(line, "version") != 0 ||
			    strcmp(eq, "1") != 0) {
				snprintf(err, errlen, "not version=1 first");
				return -1;
			}
			r->version = 1;
			continue;
		}
		if (strcmp(line, "ifname") == 0) {
			bit = 1;
			if (!state_ifname_ok(eq))
				goto bad;
			strlcpy(r->ifname, eq, sizeof(r->ifname));
		} else if (strcmp(line, "table") == 0) {
			bit = 2;
			if (state_u32(eq, &r->table) == -1 ||
			    r->table == 253 || r->table == 254 ||
			    r->table == 255)
				goto bad;
		} else if (strcmp(line, "mark") == 0) {
			bit = 4;
			if (state_u32(eq, &r->mark) == -1)
				goto bad;
		} else {
			r->unknown++;
			continue;
		}
		if (seen & bit) {
			snprintf(err, errlen, "%s given twice", line);
			return -1;
		}
		seen |= bit;
		continue;
 bad:
		snprintf(err, errlen, "bad %s", line);
		return -1;
	}
	if (seen != 7) {
		snprintf(err, errlen, "%s missing", !(seen & 1) ? "ifname" :
		    !(seen & 2) ? "table" : "mark");
		return -1;
	}
	return 0;
}

static void
state_remove(void)
{
	if (unlink(statefile) == -1 && errno != ENOENT)
		log_warn("%s", statefile);
}

static void
recover_link(const char *name, int ifindex, void *arg)
{
	int	*failed = arg;

	if (nl_link_del(name, tun_mark) == -1) {
		if (errno == EPERM) {
			log_info("%s is not a TUN marked as ours (%s); left "
			    "alone", name, tun_mark);
			return;
		}
		log_warn("cannot remove leftover interface %s", name);
		*failed = 1;
		return;
	}
	log_info("removed leftover interface %s", name);
}

/* 1: a record read, 0: none, -1: a corrupt one (logged). */
static int
state_read(struct net_staterec *r)
{
	char	 buf[NET_STATE_MAX + 1], err[128];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(statefile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("state record %s", statefile);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == -1)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	else if (n > NET_STATE_MAX)
		snprintf(err, sizeof(err), "too long");
	if (n == -1 || n > NET_STATE_MAX ||
	    netops_state_parse(buf, n, r, err, sizeof(err)) == -1) {
		log_warnx("state record %s is corrupt (%s); removing "
		    "everything of ours", statefile, err);
		return -1;
	}
	if (r->unknown > 0)
		log_info("state record %s: %d unknown keys skipped", statefile,
		    r->unknown);
	return 1;
}

/*
 * At start, before any client: remove what an earlier instance left: the
 * interface the record names and ours by the default name, the policy
 * rules by the recorded table and mark and by the defaults, our own
 * table, the kill switch. Returns -1 if something of ours could not be
 * removed.
 */
int
netops_recover(void)
{
	struct net_staterec	 r;
	const char		*ifname = vpnd_ifname;
	int			 failed = 0, af, cnt, k, nk;
	uint32_t		 tables[2], marks[2];

	/*
	 * Lockdown: the lockdown table replaces whatever is there, a
	 * leftover kill switch included, in one transaction, before
	 * anything else is touched; it stays. Without it vpnd does not
	 * start (what is there stays too).
	 */
	if (lockdown_on()) {
		if (nft_lockdown_install(lockdown_get()->allow_lan) == -1) {
			log_warn("lockdown: cannot install table inet %s",
			    VPND_NFT_TABLE);
			return -1;
		}
		log_info("lockdown: table inet %s in place%s", VPND_NFT_TABLE,
		    lockdown_get()->allow_lan ? ", the LAN allowed" : "");
	}
	tables[0] = VPND_TABLE;
	marks[0] = VPND_FWMARK;
	nk = 1;
	if (state_read(&r) == 1) {
		if (strcmp(r.ifname, ifname) != 0 &&
		    nl_link_index(r.ifname) > 0)
			recover_link(r.ifname, 0, &failed);
		if (r.table != VPND_TABLE || r.mark != VPND_FWMARK) {
			tables[1] = r.table;
			marks[1] = r.mark;
			nk = 2;
		}
	}
	if (nl_link_index(ifname) > 0)
		recover_link(ifname, 0, &failed);
	for (af = AF_INET; af != -1; af = af == AF_INET ? AF_INET6 : -1) {
		for (k = 0; k < nk; k++) {
			if ((cnt = nl_rules_del(af, tables[k], marks[k])) ==
			    -1)
				log_warn("removing leftover policy rules");
			else if (cnt > 0)
				log_info("removed %d leftover IPv%d policy "
				    "rules (table %u, mark 0x%x)", cnt,
				    af == AF_INET ? 4 : 6, tables[k],
				    marks[k]);
		}
		if ((cnt = nl_route_flush_table(af, VPND_TABLE)) == -1 &&
		    errno != ENOENT && errno != ESRCH)
			log_warn("flushing route table %u", VPND_TABLE);
		else if (cnt > 0)
			log_info("removed %d leftover IPv%d routes from table "
			    "%u", cnt, af == AF_INET ? 4 : 6, VPND_TABLE);
	}
	/* in lockdown the table was swapped above and stays */
	switch (lockdown_on() ? 0 : nft_ks_present()) {
	case 1:
		if (nft_ks_remove() == -1) {
			log_warn("cannot remove the leftover kill switch");
			failed = 1;
		} else
			log_info("removed leftover kill switch (table inet "
			    "%s)", VPND_NFT_TABLE);
		break;
	case -1:
		log_debug("nftables unavailable");
		break;
	}
	if (split_recover() == -1)
		failed = 1;
	if (!failed)
		state_remove();
	return failed ? -1 : 0;
}

int
netops_active(void)
{
	return cur.active;
}

/* The bypass mark of the tunnel in force (its policy rules'). */
uint32_t
netops_mark(void)
{
	return cur.mark != 0 ? cur.mark : VPND_FWMARK;
}

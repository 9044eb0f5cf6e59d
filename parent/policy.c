/*
 * policy.c -- what the parent lets netmgr install, beyond a well-formed
 * request.
 *
 * A member of group vpnd chooses the tunnel's addresses and routes, and
 * netmgr may be compromised; the parent, which holds CAP_NET_ADMIN, must
 * not let either take over the host's own network with them:
 *	- a device address must be an ordinary unicast address that no
 *	  other link of the host has (else the host would black-hole it);
 *	- a route must not lie inside the loopback, link-local (cloud
 *	  metadata at 169.254.169.254) or multicast ranges.
 * A route that covers such a range without lying inside it is allowed
 * where that changes nothing: the local table wins for loopback, link-local
 * IPv6 is looked up on the link it is scoped to, multicast has no unicast
 * secret to steal. Not around IPv4 link-local, though: 169.0.0.0/8 or
 * 128.0.0.0/1 take cloud metadata into the tunnel wherever the host has no
 * more specific route for it, exactly as 169.254.169.254/32 would. Only
 * the full tunnel (0.0.0.0/0, installed behind the policy rules) may cover
 * it; split the rest of the space around 169.254.0.0/16. The prefix of a
 * device address is held to the same rule, for the kernel routes it.
 *
 * Table and mark (a wg-quick file's Table and FwMark): a member of group
 * vpnd already chooses which unicast prefixes go into the tunnel, so a
 * table or a mark gives netmgr nothing it did not have, with three
 * limits: the kernel's own tables are never touched (unspecified 0,
 * default 253, local 255; with Table = auto the mark names the rules'
 * table, so it must not be 253-255 either, nor main), a full tunnel never
 * goes into main (it would replace the host's default route instead of
 * sitting behind the policy rules), and the mark is never 0 (the kill
 * switch lets only marked packets, ours, out to a peer's endpoint; the
 * mark is set on vpnd's own UDP sockets only, never on other traffic).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "compat.h"
#include "parent.h"

struct policy_range {
	struct prefix	 p;
	const char	*what;
};

/* Never a device address, never the target of a route. */
static const struct policy_range forbidden[] = {
	{ { AF_INET, 8, { 127 } }, "loopback" },
	{ { AF_INET, 16, { 169, 254 } }, "link-local" },
	{ { AF_INET, 4, { 224 } }, "multicast" },
	{ { AF_INET6, 128, { [15] = 1 } }, "loopback" },
	{ { AF_INET6, 10, { 0xfe, 0x80 } }, "link-local" },
	{ { AF_INET6, 8, { 0xff } }, "multicast" },
	/* the kernel would route these to IPv4 */
	{ { AF_INET6, 96, { [10] = 0xff, [11] = 0xff } }, "IPv4-mapped" },
};

/* No prefix but the full tunnel may cover these. */
static const struct policy_range uncovered[] = {
	{ { AF_INET, 16, { 169, 254 } }, "link-local" },
};

/* Never a device address (a route to them is only the full tunnel). */
static const struct policy_range bad_local[] = {
	{ { AF_INET, 32, { 0 } }, "unspecified" },
	{ { AF_INET, 32, { 255, 255, 255, 255 } }, "broadcast" },
	{ { AF_INET6, 128, { 0 } }, "unspecified" },
};

static const char *
policy_forbidden(const struct prefix *p, const struct policy_range *r,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (prefix_contains(&r[i].p, p))
			return r[i].what;
	return NULL;
}

/* What a prefix other than the full tunnel covers and must not. */
static const char *
policy_covered(const struct prefix *p)
{
	size_t	i;

	if (p->plen == 0)
		return NULL;
	for (i = 0; i < nitems(uncovered); i++)
		if (prefix_contains(p, &uncovered[i].p))
			return uncovered[i].what;
	return NULL;
}

/*
 * host[] holds the addresses of the host's other links (not the tunnel's
 * own). Returns 0, or -1 with a reason in err.
 */
int
policy_check_addr(const struct prefix *p, const struct prefix *host,
    size_t nhost, char *err, size_t errlen)
{
	struct prefix	 a;
	const char	*what;
	char		 buf[INET6_ADDRSTRLEN + 8];
	size_t		 i;

	if ((p->af != AF_INET || p->plen > 32) &&
	    (p->af != AF_INET6 || p->plen > 128)) {
		snprintf(err, errlen, "bad interface address");
		return -1;
	}
	/* The address itself, whatever the prefix length says. */
	a = *p;
	a.plen = p->af == AF_INET ? 32 : 128;
	if ((what = policy_forbidden(&a, forbidden, nitems(forbidden))) ==
	    NULL)
		what = policy_forbidden(&a, bad_local, nitems(bad_local));
	if (what != NULL) {
		snprintf(err, errlen, "interface address %s is %s",
		    prefix_fmt(p, buf, sizeof(buf)), what);
		return -1;
	}
	/* The route the kernel adds for the address's prefix. */
	if (p->plen == 0) {
		snprintf(err, errlen, "interface address %s has no prefix",
		    prefix_fmt(p, buf, sizeof(buf)));
		return -1;
	}
	a = *p;
	prefix_mask(&a);
	if ((what = policy_covered(&a)) != NULL) {
		snprintf(err, errlen, "interface address %s covers %s",
		    prefix_fmt(p, buf, sizeof(buf)), what);
		return -1;
	}
	for (i = 0; i < nhost; i++) {
		if (host[i].af != p->af)
			continue;
		if (memcmp(host[i].addr, p->addr, p->af == AF_INET ? 4 : 16)
		    == 0) {
			snprintf(err, errlen, "interface address %s is "
			    "already the host's on another link",
			    prefix_fmt(p, buf, sizeof(buf)));
			return -1;
		}
	}
	return 0;
}

int
policy_check_route(const struct prefix *p, char *err, size_t errlen)
{
	const char	*what;
	char		 buf[INET6_ADDRSTRLEN + 8];

	if ((p->af != AF_INET || p->plen > 32) &&
	    (p->af != AF_INET6 || p->plen > 128)) {
		snprintf(err, errlen, "bad route prefix");
		return -1;
	}
	if ((what = policy_forbidden(p, forbidden, nitems(forbidden))) !=
	    NULL) {
		snprintf(err, errlen, "route %s is %s",
		    prefix_fmt(p, buf, sizeof(buf)), what);
		return -1;
	}
	if ((what = policy_covered(p)) != NULL) {
		snprintf(err, errlen, "route %s covers %s",
		    prefix_fmt(p, buf, sizeof(buf)), what);
		return -1;
	}
	return 0;
}

int
policy_check_routing(uint32_t mode, uint32_t table, uint32_t mark,
    char *err, size_t errlen)
{
	if (mark == 0) {
		snprintf(err, errlen, "mark 0: our sockets must carry a mark");
		return -1;
	}
	switch (mode) {
	case CONF_TABLE_AUTO:
		if (mark >= 253 && mark <= 255) {
			snprintf(err, errlen, "mark %u would name the kernel's "
			    "table %u", mark, mark);
			return -1;
		}
		return 0;
	case CONF_TABLE_OFF:
		return 0;
	case CONF_TABLE_NUM:
		if (table == 0 || table == 253 || table == 255) {
			snprintf(err, errlen, "table %u is the kernel's own",
			    table);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "bad table mode %u", mode);
	return -1;
}

/*
 * The addresses of every link of the host but the one named skip (the
 * tunnel), in the network namespace the parent runs in, in a new array
 * the caller frees. Returns 0 or -1.
 */
int
policy_host_addrs(const char *skip, struct prefix **out, size_t *nout)
{
	struct ifaddrs		*ifa, *i;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	struct prefix		*v;
	size_t			 n = 0, cap = 0;

	*out = NULL;
	*nout = 0;
	if (getifaddrs(&ifa) == -1)
		return -1;
	for (i = ifa; i != NULL; i = i->ifa_next)
		cap++;
	if ((v = calloc(cap + 1, sizeof(*v))) == NULL) {
		freeifaddrs(ifa);
		return -1;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (skip != NULL &&
		    strcmp(i->ifa_name, skip) == 0))
			continue;
		switch (i->ifa_addr->sa_family) {
		case AF_INET:
			sin = (struct sockaddr_in *)i->ifa_addr;
			v[n].af = AF_INET;
			v[n].plen = 32;
			memcpy(v[n].addr, &sin->sin_addr, 4);
			n++;
			break;
		case AF_INET6:
			sin6 = (struct sockaddr_in6 *)i->ifa_addr;
			v[n].af = AF_INET6;
			v[n].plen = 128;
			memcpy(v[n].addr, &sin6->sin6_addr, 16);
			n++;
			break;
		}
	}
	freeifaddrs(ifa);
	*out = v;
	*nout = n;
	return 0;
}

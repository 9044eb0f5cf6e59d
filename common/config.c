/*
 * config.c -- the life cycle of a struct tunnel_conf.
 *
 * The struct holds the private key and the peers' preshared keys, so every
 * path that lets go of memory (free, and the moves done by growing arrays)
 * clears it first.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "config.h"

/* Peers grow in small steps: most tunnels have one or two. */
#define PEER_GROW	4
#define AIP_GROW	8

static void	 peer_clear(struct peer_conf *);

void
conf_init(struct tunnel_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->killswitch = -1;
	conf->hop = HOP_SINGLE;
}

static void
peer_clear(struct peer_conf *peer)
{
	/* Allowed IPs are not secret; the keys around them are. */
	free(peer->aips);
	peer->aips = NULL;
	peer->naips = 0;
	explicit_bzero(peer, sizeof(*peer));
}

void
conf_free(struct tunnel_conf *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->npeers; i++)
		peer_clear(&conf->peers[i]);
	/* The peers were cleared one by one; only the shell is left. */
	free(conf->peers);
	explicit_bzero(conf, sizeof(*conf));
	conf_init(conf);
}

struct peer_conf *
conf_add_peer(struct tunnel_conf *conf)
{
	struct peer_conf	*peers, *peer;
	size_t			 cap, ncap;

	if (conf->npeers >= CONF_MAX_PEERS) {
		errno = E2BIG;
		return NULL;
	}
	cap = (conf->npeers + PEER_GROW - 1) / PEER_GROW * PEER_GROW;
	if (conf->npeers == cap) {
		ncap = MINIMUM(cap + PEER_GROW, (size_t)CONF_MAX_PEERS);
		/*
		 * recallocarray clears the old block before freeing it, so a
		 * preshared key never stays behind in freed memory.
		 */
		peers = recallocarray(conf->peers, cap, ncap, sizeof(*peers));
		if (peers == NULL)
			return NULL;
		conf->peers = peers;
	}
	peer = &conf->peers[conf->npeers++];
	memset(peer, 0, sizeof(*peer));
	peer->endpoint.ss_family = AF_UNSPEC;
	return peer;
}

int
peer_add_aip(struct peer_conf *peer, const struct prefix *p)
{
	struct prefix	*aips, m;
	size_t		 i, cap;

	if ((p->af != AF_INET || p->plen > 32) &&
	    (p->af != AF_INET6 || p->plen > 128)) {
		errno = EINVAL;
		return -1;
	}
	/* Routes ignore host bits, as wg(8) does. */
	m = *p;
	prefix_mask(&m);
	/* A repeated prefix routes nowhere new; keep the list minimal. */
	for (i = 0; i < peer->naips; i++) {
		if (peer->aips[i].af == m.af &&
		    peer->aips[i].plen == m.plen &&
		    memcmp(peer->aips[i].addr, m.addr, sizeof(m.addr)) == 0)
			return 0;
	}
	if (peer->naips >= CONF_MAX_AIPS) {
		errno = E2BIG;
		return -1;
	}
	cap = (peer->naips + AIP_GROW - 1) / AIP_GROW * AIP_GROW;
	if (peer->naips == cap) {
		aips = reallocarray(peer->aips, cap + AIP_GROW,
		    sizeof(*aips));
		if (aips == NULL)
			return -1;
		peer->aips = aips;
	}
	peer->aips[peer->naips++] = m;
	return 0;
}

/*
 * A full tunnel sends the whole address family into the tunnel: some peer
 * allows the default route.  AF_UNSPEC asks about either family.
 */
bool
conf_is_full_tunnel(const struct tunnel_conf *conf, int af)
{
	const struct peer_conf	*peer;
	size_t			 i, j;

	for (i = 0; i < conf->npeers; i++) {
		peer = &conf->peers[i];
		for (j = 0; j < peer->naips; j++) {
			if (peer->aips[j].plen != 0)
				continue;
			if (af == AF_UNSPEC || peer->aips[j].af == af)
				return true;
		}
	}
	return false;
}

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
#include <stdio.h>
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
	/*
	 * The capacity doubles from PEER_GROW (a thousand peers are copied
	 * ten times, not 250): it is a function of npeers alone, the next
	 * power of two from PEER_GROW up, capped at CONF_MAX_PEERS.
	 */
	for (cap = conf->npeers == 0 ? 0 : PEER_GROW; cap < conf->npeers;
	    cap *= 2)
		;
	cap = MINIMUM(cap, (size_t)CONF_MAX_PEERS);
	if (conf->npeers == cap) {
		ncap = MINIMUM(cap == 0 ? PEER_GROW : cap * 2,
		    (size_t)CONF_MAX_PEERS);
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

/* Decimal, or hex after 0x; 1..UINT32_MAX; 0 for none. */
static int
conf_u32(const char *s, uint32_t *out)
{
	unsigned long long	 n = 0;
	const char		*c = s;
	int			 base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		c += 2;
	}
	if (*c == '\0' || strlen(c) > 10)
		return -1;
	for (; *c != '\0'; c++) {
		if (*c >= '0' && *c <= '9')
			d = *c - '0';
		else if (base == 16 && *c >= 'a' && *c <= 'f')
			d = *c - 'a' + 10;
		else if (base == 16 && *c >= 'A' && *c <= 'F')
			d = *c - 'A' + 10;
		else
			return -1;
		n = n * base + d;
		if (n > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

int
conf_parse_table(const char *s, int *mode, uint32_t *table, char *err,
    size_t errlen)
{
	uint32_t	 n;

	*table = 0;
	if (strcmp(s, "auto") == 0) {
		*mode = CONF_TABLE_AUTO;
		return 0;
	}
	if (strcmp(s, "off") == 0) {
		*mode = CONF_TABLE_OFF;
		return 0;
	}
	if (strcmp(s, "main") == 0) {
		*mode = CONF_TABLE_NUM;
		*table = CONF_TABLE_MAIN;
		return 0;
	}
	if (strspn(s, "0123456789") != strlen(s) || conf_u32(s, &n) == -1 ||
	    n == 0) {
		snprintf(err, errlen, "bad Table \"%.32s\" (off, auto, main "
		    "or 1..4294967295)", s);
		return -1;
	}
	if (n == 253 || n == 255) {
		snprintf(err, errlen, "Table %u is the kernel's %s table", n,
		    n == 253 ? "default" : "local");
		return -1;
	}
	*mode = CONF_TABLE_NUM;
	*table = n;
	return 0;
}

int
conf_parse_fwmark(const char *s, uint32_t *mark, char *err, size_t errlen)
{
	if (strcmp(s, "off") == 0 || (conf_u32(s, mark) == 0 && *mark == 0)) {
		snprintf(err, errlen, "FwMark %s: vpnd's sockets always carry a "
		    "mark (leave FwMark out for 0x%x)", s, CONF_DEFAULT_FWMARK);
		return -1;
	}
	if (conf_u32(s, mark) == -1) {
		snprintf(err, errlen, "bad FwMark \"%.32s\" (1..0xffffffff)", s);
		return -1;
	}
	return 0;
}

uint32_t
conf_fwmark(const struct tunnel_conf *conf)
{
	return conf->fwmark != 0 ? conf->fwmark : CONF_DEFAULT_FWMARK;
}

int
conf_check_routing(const struct tunnel_conf *conf, char *err, size_t errlen)
{
	uint32_t	 mark = conf_fwmark(conf);

	if (conf->table_mode == CONF_TABLE_AUTO && (mark == 253 ||
	    mark == 254 || mark == 255)) {
		snprintf(err, errlen, "FwMark %u with Table = auto would name "
		    "the kernel's table %u", mark, mark);
		return -1;
	}
	if (conf->table_mode == CONF_TABLE_NUM &&
	    conf->table == CONF_TABLE_MAIN && conf_is_full_tunnel(conf,
	    AF_UNSPEC)) {
		snprintf(err, errlen, "Table = main with a full tunnel would "
		    "replace the host's default route; use Table = auto");
		return -1;
	}
	if (conf->table_mode != CONF_TABLE_AUTO &&
	    conf->table_mode != CONF_TABLE_OFF &&
	    conf->table_mode != CONF_TABLE_NUM) {
		snprintf(err, errlen, "bad Table");
		return -1;
	}
	return 0;
}

/*
 * uapi_proto.c -- the UAPI text protocol: a strict parser of requests
 * and the printer of the "get" reply. No I/O here.
 *
 * A request is "get=1\n\n", or "set=1\n" and key=value lines up to an
 * empty line. A line longer than any valid one, a NUL byte, an unknown
 * operation: UAPI_BAD (errno EINVAL or EMSGSIZE), and the connection is
 * closed. A set line that is well framed but wrong (unknown key, bad hex,
 * a number out of range) makes the request's errno EINVAL.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "uapi.h"
#include "vpnd.h"

static int	 parse_line(struct uapi_parser *);
static int	 set_line(struct uapi_parser *, const char *, const char *);
static int	 parse_hexkey(const char *, uint8_t [WG_KEY_LEN]);
static int	 parse_uint(const char *, unsigned long long, unsigned long long *);
static void	 buf_hexkey(struct uapi_buf *, const char *,
		    const uint8_t [WG_KEY_LEN]);

void
uapi_parser_init(struct uapi_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static void
set_free(struct uapi_set *set)
{
	size_t	 i;

	for (i = 0; i < set->npeers; i++)
		free(set->peers[i].aips);
	freezero(set->peers, set->npeers * sizeof(*set->peers));
	explicit_bzero(set, sizeof(*set));
}

void
uapi_parser_clear(struct uapi_parser *p)
{
	set_free(&p->set);
	explicit_bzero(p, sizeof(*p));
}

int
uapi_parse(struct uapi_parser *p, const char *buf, size_t len, size_t *used)
{
	size_t	 i;
	int	 r;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\0') {
			*used = i + 1;
			p->err = EINVAL;
			return UAPI_BAD;
		}
		if (buf[i] != '\n') {
			if (p->len == sizeof(p->line) - 1) {
				*used = i + 1;
				p->err = EMSGSIZE;
				return UAPI_BAD;
			}
			p->line[p->len++] = buf[i];
			continue;
		}
		p->line[p->len] = '\0';
		r = parse_line(p);
		explicit_bzero(p->line, p->len);
		p->len = 0;
		if (r != UAPI_MORE) {
			*used = i + 1;
			return r;
		}
	}
	*used = len;
	return UAPI_MORE;
}

static int
parse_line(struct uapi_parser *p)
{
	char	*eq;

	if (p->nlines++ == 0) {
		if (strcmp(p->line, "get=1") == 0)
			p->op = UAPI_OP_GET;
		else if (strcmp(p->line, "set=1") == 0)
			p->op = UAPI_OP_SET;
		else {
			p->err = EINVAL;
			return UAPI_BAD;
		}
		return UAPI_MORE;
	}
	if (p->line[0] == '\0')
		return UAPI_DONE;
	if (p->op == UAPI_OP_GET) {
		/* get takes nothing but the empty line */
		p->err = EINVAL;
		return UAPI_BAD;
	}
	if (p->nlines > UAPI_SET_LINES_MAX) {
		p->err = E2BIG;
		return UAPI_BAD;
	}
	if (p->err != 0)
		return UAPI_MORE;	/* read to the end, answer once */
	if ((eq = strchr(p->line, '=')) == NULL || eq == p->line) {
		p->err = EINVAL;
		return UAPI_MORE;
	}
	*eq = '\0';
	switch (set_line(p, p->line, eq + 1)) {
	case -1:
		p->err = EINVAL;
		break;
	case -2:
		p->err = E2BIG;
		break;
	}
	return UAPI_MORE;
}

/*
 * One key=value of a set request, checked as an activate checks it, and
 * recorded: 0, -1 (EINVAL) or -2 (E2BIG, past the limits of an activate).
 */
static int
set_line(struct uapi_parser *p, const char *key, const char *val)
{
	struct uapi_set		*set = &p->set;
	struct uapi_peer_set	*ps = NULL, *np;
	struct prefix		*na;
	uint8_t			 k[WG_KEY_LEN];
	struct sockaddr_storage	 ss;
	struct prefix		 pfx;
	unsigned long long	 n;
	int			 r;

	if (p->in_peer)
		ps = &set->peers[set->npeers - 1];
	if (strcmp(key, "private_key") == 0 ||
	    strcmp(key, "public_key") == 0 ||
	    strcmp(key, "preshared_key") == 0) {
		r = parse_hexkey(val, k);
		if (r == -1)
			goto bad;
		if (strcmp(key, "public_key") == 0) {
			if (set->npeers == UAPI_SET_PEERS_MAX) {
				explicit_bzero(k, sizeof(k));
				return -2;
			}
			if ((np = recallocarray(set->peers, set->npeers,
			    set->npeers + 1, sizeof(*np))) == NULL) {
				explicit_bzero(k, sizeof(k));
				return -2;
			}
			set->peers = np;
			memcpy(np[set->npeers++].pubkey, k, WG_KEY_LEN);
			p->in_peer = 1;
		} else if (strcmp(key, "preshared_key") == 0 && ps != NULL) {
			memcpy(ps->psk, k, WG_KEY_LEN);
			ps->has_psk = 1;
		} else if (strcmp(key, "private_key") == 0 && ps == NULL) {
			memcpy(set->privkey, k, WG_KEY_LEN);
			set->has_privkey = 1;
		} else
			goto bad;
		explicit_bzero(k, sizeof(k));
		return 0;
	}
	if (strcmp(key, "listen_port") == 0) {
		if (ps != NULL || parse_uint(val, UINT16_MAX, &n) == -1)
			return -1;
		set->has_port = 1;
		set->port = (uint16_t)n;
		return 0;
	}
	if (strcmp(key, "fwmark") == 0) {
		if (ps != NULL || parse_uint(val, UINT32_MAX, &n) == -1)
			return -1;
		set->has_fwmark = 1;
		set->fwmark = (uint32_t)n;
		return 0;
	}
	if (strcmp(key, "replace_peers") == 0) {
		if (ps != NULL || strcmp(val, "true") != 0)
			return -1;
		set->replace_peers = 1;
		return 0;
	}
	if (ps == NULL)
		return -1;
	if (strcmp(key, "remove") == 0 || strcmp(key, "update_only") == 0 ||
	    strcmp(key, "replace_allowed_ips") == 0) {
		if (strcmp(val, "true") != 0)
			return -1;
		if (key[0] == 'r' && key[2] == 'm')
			ps->remove = 1;
		else if (key[0] == 'u')
			ps->update_only = 1;
		else
			ps->replace_aips = 1;
		return 0;
	}
	if (strcmp(key, "persistent_keepalive_interval") == 0) {
		if (parse_uint(val, UINT16_MAX, &n) == -1)
			return -1;
		ps->has_keepalive = 1;
		ps->keepalive = (uint16_t)n;
		return 0;
	}
	if (strcmp(key, "protocol_version") == 0)
		return strcmp(val, "1") == 0 ? 0 : -1;
	if (strcmp(key, "endpoint") == 0) {
		if (endpoint_parse(val, &ss) == -1)
			return -1;
		ps->has_endpoint = 1;
		ps->endpoint = ss;
		return 0;
	}
	if (strcmp(key, "allowed_ip") == 0) {
		if (strchr(val, '/') == NULL || prefix_parse(val, &pfx) == -1)
			return -1;
		if (ps->naips == CONF_MAX_AIPS)
			return -2;
		if ((na = reallocarray(ps->aips, ps->naips + 1,
		    sizeof(*na))) == NULL)
			return -2;
		prefix_mask(&pfx);
		ps->aips = na;
		ps->aips[ps->naips++] = pfx;
		return 0;
	}
	return -1;
 bad:
	explicit_bzero(k, sizeof(k));
	return -1;
}

static int
parse_hexkey(const char *s, uint8_t k[WG_KEY_LEN])
{
	size_t	 i;
	int	 hi, lo;

	if (strlen(s) != 2 * WG_KEY_LEN)
		return -1;
	for (i = 0; i < WG_KEY_LEN; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
#define HEXVAL(c) ((c) >= '0' && (c) <= '9' ? (c) - '0' : \
		    (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10 : \
		    (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10 : -1)
		if (HEXVAL(hi) == -1 || HEXVAL(lo) == -1)
			return -1;
		k[i] = (uint8_t)(HEXVAL(hi) << 4 | HEXVAL(lo));
#undef HEXVAL
	}
	return 0;
}

/* Decimal digits only, no sign, no leading zeros beyond "0", <= max. */
static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long	 n = 0;
	const char		*c;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (c = s; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		if (n > (max - (unsigned long long)(*c - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned long long)(*c - '0');
	}
	*out = n;
	return 0;
}

void
uapi_buf_printf(struct uapi_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*n;
	size_t	 cap;
	int	 len;

	if (b->failed)
		return;
	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0) {
		b->failed = 1;
		return;
	}
	if (b->len + (size_t)len + 1 > b->cap) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap < b->len + (size_t)len + 1)
			cap *= 2;
		if ((n = malloc(cap)) == NULL) {
			b->failed = 1;
			return;
		}
		if (b->data != NULL) {
			memcpy(n, b->data, b->len);
			explicit_bzero(b->data, b->cap);
			free(b->data);
		}
		b->data = n;
		b->cap = cap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)len;
}

void
uapi_buf_free(struct uapi_buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static void
buf_hexkey(struct uapi_buf *b, const char *name, const uint8_t k[WG_KEY_LEN])
{
	char	 hex[2 * WG_KEY_LEN + 1];
	size_t	 i;

	for (i = 0; i < WG_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	uapi_buf_printf(b, "%s=%s\n", name, hex);
	explicit_bzero(hex, sizeof(hex));
}

void
uapi_get_format(struct uapi_buf *b, const struct tunnel_conf *conf,
    uint32_t fwmark, const struct imsg_wg_stats *stats, size_t nstats)
{
	const struct peer_conf		*pc;
	const struct imsg_wg_stats	*st;
	const struct sockaddr_storage	*ep;
	char				 s[INET6_ADDRSTRLEN + 16];
	size_t				 i, j;

	if (conf == NULL) {
		uapi_buf_printf(b, "errno=0\n\n");
		return;
	}
	if (conf->has_privkey)
		buf_hexkey(b, "private_key", conf->privkey);
	if (conf->listen_port != 0)
		uapi_buf_printf(b, "listen_port=%u\n", conf->listen_port);
	if (fwmark != 0)
		uapi_buf_printf(b, "fwmark=%u\n", fwmark);
	for (i = 0; i < conf->npeers; i++) {
		pc = &conf->peers[i];
		st = NULL;
		for (j = 0; j < nstats; j++)
			if (memcmp(stats[j].pubkey, pc->pubkey,
			    WG_KEY_LEN) == 0)
				st = &stats[j];
		buf_hexkey(b, "public_key", pc->pubkey);
		if (pc->has_psk)
			buf_hexkey(b, "preshared_key", pc->psk);
		uapi_buf_printf(b, "protocol_version=1\n");
		ep = st != NULL && st->endpoint.ss_family != AF_UNSPEC ?
		    &st->endpoint : &pc->endpoint;
		if (ep->ss_family != AF_UNSPEC &&
		    endpoint_fmt(ep, s, sizeof(s)) != NULL)
			uapi_buf_printf(b, "endpoint=%s\n", s);
		uapi_buf_printf(b, "last_handshake_time_sec=%lld\n"
		    "last_handshake_time_nsec=%u\n",
		    st != NULL && st->last_handshake > 0 ?
		    (long long)st->last_handshake : 0LL,
		    st != NULL && st->last_handshake > 0 &&
		    st->last_handshake_nsec < 1000000000 ?
		    st->last_handshake_nsec : 0);
		uapi_buf_printf(b, "tx_bytes=%llu\nrx_bytes=%llu\n",
		    st != NULL ? (unsigned long long)st->tx_bytes : 0ULL,
		    st != NULL ? (unsigned long long)st->rx_bytes : 0ULL);
		uapi_buf_printf(b, "persistent_keepalive_interval=%u\n",
		    pc->keepalive);
		for (j = 0; j < pc->naips; j++)
			uapi_buf_printf(b, "allowed_ip=%s\n",
			    prefix_fmt(&pc->aips[j], s, sizeof(s)));
	}
	uapi_buf_printf(b, "errno=0\n\n");
}

/* parent/policy.c: the parent's own route check, pure; asked first here
 * so that a set the parent would refuse is refused whole. */
int	 policy_check_route(const struct prefix *, char *, size_t);

#define UAPI_MAX_ROUTES	8192	/* the parent's limit on one set-up */

static int
peer_copy(struct tunnel_conf *dst, const struct peer_conf *src)
{
	struct peer_conf	*pc;
	size_t			 i;

	if ((pc = conf_add_peer(dst)) == NULL)
		return -1;
	memcpy(pc->pubkey, src->pubkey, WG_KEY_LEN);
	memcpy(pc->psk, src->psk, WG_KEY_LEN);
	pc->has_psk = src->has_psk;
	pc->endpoint = src->endpoint;
	pc->keepalive = src->keepalive;
	for (i = 0; i < src->naips; i++)
		if (peer_add_aip(pc, &src->aips[i]) == -1)
			return -1;
	return 0;
}

static void
peer_remove(struct tunnel_conf *c, size_t j)
{
	free(c->peers[j].aips);
	memmove(&c->peers[j], &c->peers[j + 1],
	    (c->npeers - j - 1) * sizeof(c->peers[0]));
	c->npeers--;
	explicit_bzero(&c->peers[c->npeers], sizeof(c->peers[0]));
}

/*
 * An allowed IP belongs to one peer: given to another, it leaves every
 * other peer that has exactly it, as wg(8) and the kernel move it. Left
 * on both, the old owner would keep its inbound authority for the range
 * in the status and get again the range the moment the new owner goes.
 */
static void
aip_take(struct tunnel_conf *c, size_t owner, const struct prefix *p)
{
	struct prefix	 m = *p;
	struct peer_conf *pc;
	size_t		 i, k;

	prefix_mask(&m);
	for (i = 0; i < c->npeers; i++) {
		if (i == owner)
			continue;
		pc = &c->peers[i];
		for (k = 0; k < pc->naips; k++)
			if (pc->aips[k].af == m.af &&
			    pc->aips[k].plen == m.plen &&
			    memcmp(pc->aips[k].addr, m.addr,
			    sizeof(m.addr)) == 0)
				break;
		if (k == pc->naips)
			continue;
		memmove(&pc->aips[k], &pc->aips[k + 1],
		    (pc->naips - k - 1) * sizeof(pc->aips[0]));
		pc->naips--;
	}
}

int
uapi_set_apply(const struct uapi_set *s, const struct tunnel_conf *cur,
    struct tunnel_conf *out, char *err, size_t errlen)
{
	const struct uapi_peer_set	*ps;
	struct peer_conf		*pc;
	char				 why[128];
	size_t				 i, j, k, nroutes = 0;
	int				 e = EINVAL;

	conf_init(out);
	memcpy(out, cur, sizeof(*out));
	out->peers = NULL;
	out->npeers = 0;
	snprintf(err, errlen, "more than %d peers or %d allowed IPs a peer",
	    CONF_MAX_PEERS, CONF_MAX_AIPS);
	if (!s->replace_peers)
		for (i = 0; i < cur->npeers; i++)
			if (peer_copy(out, &cur->peers[i]) == -1) {
				e = E2BIG;
				goto fail;
			}
	if (s->has_privkey) {
		if (key_is_zero(s->privkey)) {
			snprintf(err, errlen, "a private key of zeros");
			goto fail;
		}
		memcpy(out->privkey, s->privkey, WG_KEY_LEN);
		out->has_privkey = true;
	}
	if (s->has_port)
		out->listen_port = s->port;
	/*
	 * 0 is what wg setconf and syncconf send for a file without FwMark:
	 * vpnd's own mark then, for its sockets always carry one.
	 */
	if (s->has_fwmark)
		out->fwmark = s->fwmark;
	for (i = 0; i < s->npeers; i++) {
		ps = &s->peers[i];
		for (j = 0; j < out->npeers; j++)
			if (memcmp(out->peers[j].pubkey, ps->pubkey,
			    WG_KEY_LEN) == 0)
				break;
		if (ps->remove) {
			if (j < out->npeers)
				peer_remove(out, j);
			continue;
		}
		if (j == out->npeers) {
			if (ps->update_only)
				continue;
			if ((pc = conf_add_peer(out)) == NULL) {
				snprintf(err, errlen, "more than %d peers",
				    CONF_MAX_PEERS);
				e = E2BIG;
				goto fail;
			}
			memcpy(pc->pubkey, ps->pubkey, WG_KEY_LEN);
		} else
			pc = &out->peers[j];
		if (ps->has_psk) {
			memcpy(pc->psk, ps->psk, WG_KEY_LEN);
			pc->has_psk = !key_is_zero(ps->psk);
		}
		if (ps->has_endpoint)
			pc->endpoint = ps->endpoint;
		if (ps->has_keepalive)
			pc->keepalive = ps->keepalive;
		if (ps->replace_aips) {
			free(pc->aips);
			pc->aips = NULL;
			pc->naips = 0;
		}
		for (k = 0; k < ps->naips; k++) {
			if (peer_add_aip(pc, &ps->aips[k]) == -1) {
				snprintf(err, errlen, "more than %d allowed "
				    "IPs for a peer", CONF_MAX_AIPS);
				e = E2BIG;
				goto fail;
			}
			aip_take(out, (size_t)(pc - out->peers),
			    &ps->aips[k]);
		}
	}
	/* What an activate would meet at the parent. */
	for (i = 0; i < out->npeers; i++)
		for (k = 0; k < out->peers[i].naips; k++) {
			if (policy_check_route(&out->peers[i].aips[k], why,
			    sizeof(why)) == -1) {
				snprintf(err, errlen, "%s", why);
				goto fail;
			}
			nroutes++;
		}
	if (nroutes > UAPI_MAX_ROUTES) {
		snprintf(err, errlen, "more than %d routes", UAPI_MAX_ROUTES);
		e = E2BIG;
		goto fail;
	}
	if (conf_check_routing(out, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	err[0] = '\0';
	return 0;
 fail:
	conf_free(out);
	return e;
}

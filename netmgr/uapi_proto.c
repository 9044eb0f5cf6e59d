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

void
uapi_parser_clear(struct uapi_parser *p)
{
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
	if (set_line(p, p->line, eq + 1) == -1)
		p->err = EINVAL;
	return UAPI_MORE;
}

/* One key=value of a set request, checked as an activate checks it. */
static int
set_line(struct uapi_parser *p, const char *key, const char *val)
{
	uint8_t			 k[WG_KEY_LEN];
	struct sockaddr_storage	 ss;
	struct prefix		 pfx;
	unsigned long long	 n;
	int			 r;

	if (strcmp(key, "private_key") == 0 ||
	    strcmp(key, "public_key") == 0 ||
	    strcmp(key, "preshared_key") == 0) {
		r = parse_hexkey(val, k);
		explicit_bzero(k, sizeof(k));
		if (r == -1)
			return -1;
		if (strcmp(key, "public_key") == 0)
			p->in_peer = 1;
		else if (strcmp(key, "preshared_key") == 0 && !p->in_peer)
			return -1;
		else if (strcmp(key, "private_key") == 0 && p->in_peer)
			return -1;
		return 0;
	}
	if (strcmp(key, "listen_port") == 0)
		return p->in_peer ? -1 : parse_uint(val, UINT16_MAX, &n);
	if (strcmp(key, "fwmark") == 0)
		return p->in_peer ? -1 : parse_uint(val, UINT32_MAX, &n);
	if (strcmp(key, "replace_peers") == 0)
		return !p->in_peer && strcmp(val, "true") == 0 ? 0 : -1;
	if (!p->in_peer)
		return -1;
	if (strcmp(key, "remove") == 0 || strcmp(key, "update_only") == 0 ||
	    strcmp(key, "replace_allowed_ips") == 0)
		return strcmp(val, "true") == 0 ? 0 : -1;
	if (strcmp(key, "persistent_keepalive_interval") == 0)
		return parse_uint(val, UINT16_MAX, &n);
	if (strcmp(key, "protocol_version") == 0)
		return strcmp(val, "1") == 0 ? 0 : -1;
	if (strcmp(key, "endpoint") == 0)
		return endpoint_parse(val, &ss);
	if (strcmp(key, "allowed_ip") == 0)
		return strchr(val, '/') == NULL ? -1 : prefix_parse(val, &pfx);
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

/*
 * addr.c -- one strict parser and one printer for addresses, prefixes and
 * endpoints.
 *
 * inet_pton(3) already refuses trailing junk; on top of it we refuse what
 * it lets through elsewhere (strtol-style prefix lengths with signs, spaces
 * or leading zeros, unbracketed IPv6 endpoints, port 0), because these
 * strings arrive from files and sockets we do not control.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "config.h"

/* "[" v6 "]:" 65535 NUL, with room to spare; longer input is junk. */
#define ENDPOINT_MAXLEN	(INET6_ADDRSTRLEN + 8)

static int	 number_parse(const char *, size_t, long long, long long,
		    long long *);
static int	 af_bits(sa_family_t);

static int
af_bits(sa_family_t af)
{
	switch (af) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return -1;
	}
}

/*
 * Decimal digits only, no sign, no space, no leading zero: strtonum alone
 * would take " +24".
 */
static int
number_parse(const char *s, size_t len, long long min, long long max,
    long long *out)
{
	char		 buf[8];
	const char	*errstr;
	size_t		 i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	if (len > 1 && s[0] == '0')
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtonum(buf, min, max, &errstr);
	if (errstr != NULL)
		return -1;
	return 0;
}

int
addr_parse(const char *s, struct prefix *p)
{
	struct prefix	 tmp;
	size_t		 len;

	if (s == NULL)
		return -1;
	len = strnlen(s, INET6_ADDRSTRLEN);
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, tmp.addr) != 1)
			return -1;
		tmp.af = AF_INET6;
		tmp.plen = 128;
	} else {
		if (inet_pton(AF_INET, s, tmp.addr) != 1)
			return -1;
		tmp.af = AF_INET;
		tmp.plen = 32;
	}
	*p = tmp;
	return 0;
}

int
prefix_parse(const char *s, struct prefix *p)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	struct prefix	 tmp;
	long long	 plen;
	size_t		 alen;

	if (s == NULL)
		return -1;
	if ((slash = strchr(s, '/')) == NULL)
		return addr_parse(s, p);
	alen = slash - s;
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (addr_parse(buf, &tmp) == -1)
		return -1;
	if (number_parse(slash + 1, strnlen(slash + 1, 8), 0, tmp.plen,
	    &plen) == -1)
		return -1;
	tmp.plen = plen;
	*p = tmp;
	return 0;
}

void
prefix_mask(struct prefix *p)
{
	int	 bits, i;

	if ((bits = af_bits(p->af)) == -1)
		return;
	for (i = 0; i < 16; i++) {
		if (i * 8 >= p->plen)
			p->addr[i] = 0;
		else if ((i + 1) * 8 > p->plen)
			p->addr[i] &= 0xff << (8 - (p->plen - i * 8));
	}
}

const char *
addr_fmt(const struct prefix *p, char *buf, size_t len)
{
	char	 tmp[INET6_ADDRSTRLEN];

	if (af_bits(p->af) == -1 ||
	    inet_ntop(p->af, p->addr, tmp, sizeof(tmp)) == NULL)
		strlcpy(tmp, "?", sizeof(tmp));
	strlcpy(buf, tmp, len);
	return buf;
}

const char *
prefix_fmt(const struct prefix *p, char *buf, size_t len)
{
	char	 tmp[INET6_ADDRSTRLEN];

	addr_fmt(p, tmp, sizeof(tmp));
	snprintf(buf, len, "%s/%u", tmp, (unsigned int)p->plen);
	return buf;
}

int
endpoint_parse(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	struct prefix		 a;
	char			 host[INET6_ADDRSTRLEN];
	const char		*colon, *h;
	size_t			 len, hlen;
	long long		 port;

	if (s == NULL)
		return -1;
	len = strnlen(s, ENDPOINT_MAXLEN);
	if (len == 0 || len >= ENDPOINT_MAXLEN)
		return -1;
	if (s[0] == '[') {
		/* IPv6 needs brackets: "::1:80" has no clear port. */
		if ((colon = strchr(s, ']')) == NULL || colon[1] != ':')
			return -1;
		h = s + 1;
		hlen = colon - h;
		colon++;
	} else {
		if ((colon = strchr(s, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			return -1;
		h = s;
		hlen = colon - s;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (addr_parse(host, &a) == -1)
		return -1;
	/* "[1.2.3.4]:80" is not how anyone writes IPv4. */
	if ((s[0] == '[') != (a.af == AF_INET6))
		return -1;
	if (number_parse(colon + 1, strlen(colon + 1), 1, 65535,
	    &port) == -1)
		return -1;

	memset(ss, 0, sizeof(*ss));
	if (a.af == AF_INET) {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a.addr, sizeof(sin->sin_addr));
	} else {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a.addr, sizeof(sin6->sin6_addr));
	}
	return 0;
}

const char *
endpoint_fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 tmp[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &sin->sin_addr, tmp,
		    sizeof(tmp)) == NULL)
			break;
		snprintf(buf, len, "%s:%u", tmp, ntohs(sin->sin_port));
		return buf;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, tmp,
		    sizeof(tmp)) == NULL)
			break;
		snprintf(buf, len, "[%s]:%u", tmp, ntohs(sin6->sin6_port));
		return buf;
	default:
		break;
	}
	strlcpy(buf, "(none)", len);
	return buf;
}

socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	switch (ss->ss_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

/* Whether b lies inside a (b may be a itself). */
bool
prefix_contains(const struct prefix *a, const struct prefix *b)
{
	int	 bytes, rest;

	if (a->af != b->af || af_bits(a->af) == -1 || a->plen > b->plen ||
	    a->plen > af_bits(a->af))
		return false;
	bytes = a->plen / 8;
	rest = a->plen % 8;
	if (memcmp(a->addr, b->addr, bytes) != 0)
		return false;
	if (rest != 0 && ((a->addr[bytes] ^ b->addr[bytes]) &
	    (0xff << (8 - rest)) & 0xff) != 0)
		return false;
	return true;
}

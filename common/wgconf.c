/*
 * wgconf.c -- the wg-quick(8) configuration format.
 *
 * We read the same files wg-quick reads, so a user's existing wg0.conf
 * works unchanged: Table and FwMark are honoured (config.c checks them);
 * the hook keys and SaveConfig are accepted, not acted on, and each draws
 * one warning (wgconf_warning): vpnd never runs a hook command.  Everything else is strict: an unknown key or a
 * bad value is an error with its line, never a silent default, because a
 * typo in AllowedIPs would otherwise route traffic around the tunnel.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "lockdown.h"

#define WGCONF_MAX_LINE		4096
#define WGCONF_MAX_FILE		(1024 * 1024)

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
};

struct pstate {
	const char		*name;
	int			 lineno;
	enum section		 sec;
	int			 seclineno;	/* where the [Peer] began */
	bool			 has_pubkey;
	bool			 has_interface;
	struct tunnel_conf	*conf;
	struct peer_conf	*peer;
	char			*err;
	size_t			 errlen;
};

typedef int	(*listfn)(struct pstate *, const char *);

static int	 perr(struct pstate *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static char	*trim(char *);
static int	 parse_number(const char *, long long, long long,
		    long long *);
static bool	 valid_hostname(const char *);
static int	 parse_list(struct pstate *, char *, listfn);
static int	 add_address(struct pstate *, const char *);
static int	 add_dns(struct pstate *, const char *);
static int	 add_aip(struct pstate *, const char *);
static int	 parse_endpoint(struct pstate *, const char *);
static int	 parse_key(struct pstate *, const char *, const char *,
		    uint8_t [WG_KEY_LEN]);
static int	 end_peer(struct pstate *);
static int	 parse_section(struct pstate *, char *);
static int	 parse_interface_key(struct pstate *, const char *, char *);
static int	 parse_peer_key(struct pstate *, const char *, char *);
static int	 parse_line(struct pstate *, char *);

/* wg-quick's own keys: accepted, not acted on, and said so. */
static const struct {
	const char	*key;
	const char	*why;
} ignored_keys[WGCONF_NIGNORED] = {
	{ "PreUp", "vpnd never runs hook commands" },
	{ "PostUp", "vpnd never runs hook commands" },
	{ "PreDown", "vpnd never runs hook commands" },
	{ "PostDown", "vpnd never runs hook commands" },
	{ "SaveConfig", "vpnd never writes the configuration file" },
};

static int
perr(struct pstate *ps, const char *fmt, ...)
{
	char	 reason[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ps->err != NULL && ps->errlen > 0)
		snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name,
		    ps->lineno, reason);
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Decimal only: no sign, space or hex that strtonum would let through. */
static int
parse_number(const char *s, long long min, long long max, long long *out)
{
	const char	*errstr, *p;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (p = s; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	*out = strtonum(s, min, max, &errstr);
	return errstr == NULL ? 0 : -1;
}

/*
 * RFC 1123 names, plus '_' which real search domains do contain.  An
 * all-digit last label is a mistyped address ("10.0.0.256"), not a name.
 */
static bool
valid_hostname(const char *s)
{
	size_t	 len, label = 0;
	bool	 digits = true;

	len = strlen(s);
	if (len == 0 || len >= CONF_DOMAIN_LEN)
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
		if (!isdigit((unsigned char)*s))
			digits = false;
		if (++label > 63)
			return false;
	}
	return label > 0 && !digits;
}

static int
parse_list(struct pstate *ps, char *value, listfn fn)
{
	char	*item, *next;

	for (item = value; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		item = trim(item);
		if (*item == '\0')
			return perr(ps, "empty item in a list");
		if (fn(ps, item) == -1)
			return -1;
	}
	return 0;
}

static int
add_address(struct pstate *ps, const char *s)
{
	struct tunnel_conf	*conf = ps->conf;

	if (conf->naddrs >= CONF_MAX_ADDRS)
		return perr(ps, "more than %d addresses", CONF_MAX_ADDRS);
	if (prefix_parse(s, &conf->addrs[conf->naddrs]) == -1)
		return perr(ps, "bad Address \"%s\"", s);
	conf->naddrs++;
	return 0;
}

static int
add_dns(struct pstate *ps, const char *s)
{
	struct tunnel_conf	*conf = ps->conf;
	struct prefix		 a;

	if (addr_parse(s, &a) == 0) {
		if (conf->ndns >= CONF_MAX_DNS)
			return perr(ps, "more than %d DNS servers",
			    CONF_MAX_DNS);
		conf->dns[conf->ndns++] = a;
		return 0;
	}
	/* wg-quick's rule: what is not an address is a search domain. */
	if (!valid_hostname(s))
		return perr(ps, "bad DNS server or search domain \"%s\"", s);
	if (conf->nsearch >= CONF_MAX_SEARCH)
		return perr(ps, "more than %d search domains",
		    CONF_MAX_SEARCH);
	strlcpy(conf->search[conf->nsearch++], s, CONF_DOMAIN_LEN);
	return 0;
}

static int
add_aip(struct pstate *ps, const char *s)
{
	struct prefix	 p;

	if (prefix_parse(s, &p) == -1)
		return perr(ps, "bad AllowedIPs \"%s\"", s);
	if (peer_add_aip(ps->peer, &p) == -1) {
		if (errno == E2BIG)
			return perr(ps, "more than %d AllowedIPs",
			    CONF_MAX_AIPS);
		return perr(ps, "AllowedIPs: %s", strerror(errno));
	}
	return 0;
}

static int
parse_endpoint(struct pstate *ps, const char *s)
{
	struct addrinfo	 hints, *res, *ai, *pick;
	char		 host[CONF_DOMAIN_LEN];
	const char	*colon;
	long long	 port;
	size_t		 hlen;
	int		 error;

	if (endpoint_parse(s, &ps->peer->endpoint) == 0)
		return 0;
	/* Not numeric: "name:port", resolved once, now. */
	if (s[0] == '[' || (colon = strrchr(s, ':')) == NULL)
		return perr(ps, "bad Endpoint \"%s\"", s);
	hlen = colon - s;
	if (hlen == 0 || hlen >= sizeof(host))
		return perr(ps, "bad Endpoint \"%s\"", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!valid_hostname(host) ||
	    parse_number(colon + 1, 1, 65535, &port) == -1 ||
	    (colon[1] == '0'))
		return perr(ps, "bad Endpoint \"%s\"", s);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICSERV;
	if ((error = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		return perr(ps, "Endpoint \"%s\": %s", host,
		    gai_strerror(error));
	/* IPv4 first: it is the family most likely to be reachable. */
	pick = NULL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (pick == NULL || (pick->ai_family != AF_INET &&
		    ai->ai_family == AF_INET))
			pick = ai;
	}
	if (pick == NULL || pick->ai_addrlen > sizeof(ps->peer->endpoint)) {
		freeaddrinfo(res);
		return perr(ps, "Endpoint \"%s\": no usable address", host);
	}
	memset(&ps->peer->endpoint, 0, sizeof(ps->peer->endpoint));
	memcpy(&ps->peer->endpoint, pick->ai_addr, pick->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int
parse_key(struct pstate *ps, const char *what, const char *s,
    uint8_t key[WG_KEY_LEN])
{
	/* Never echo the text: it may be a secret with a typo in it. */
	if (key_from_base64(key, s) == -1)
		return perr(ps, "bad %s: not a base64 32-byte key", what);
	return 0;
}

static int
end_peer(struct pstate *ps)
{
	struct tunnel_conf	*conf = ps->conf;
	size_t			 i;
	int			 lineno;

	if (ps->sec != SEC_PEER)
		return 0;
	lineno = ps->lineno;
	ps->lineno = ps->seclineno;
	if (!ps->has_pubkey)
		return perr(ps, "[Peer] without PublicKey");
	for (i = 0; i + 1 < conf->npeers; i++)
		if (memcmp(conf->peers[i].pubkey, ps->peer->pubkey,
		    WG_KEY_LEN) == 0)
			return perr(ps, "duplicate peer PublicKey");
	ps->lineno = lineno;
	return 0;
}

static int
parse_section(struct pstate *ps, char *line)
{
	char	*name, *end;

	if ((end = strchr(line, ']')) == NULL || *trim(end + 1) != '\0')
		return perr(ps, "bad section header");
	*end = '\0';
	name = trim(line + 1);
	if (end_peer(ps) == -1)
		return -1;
	if (strcasecmp(name, "Interface") == 0) {
		ps->sec = SEC_INTERFACE;
		ps->has_interface = true;
	} else if (strcasecmp(name, "Peer") == 0) {
		if ((ps->peer = conf_add_peer(ps->conf)) == NULL) {
			if (errno == E2BIG)
				return perr(ps, "more than %d peers",
				    CONF_MAX_PEERS);
			return perr(ps, "%s", strerror(errno));
		}
		ps->sec = SEC_PEER;
		ps->seclineno = ps->lineno;
		ps->has_pubkey = false;
	} else
		return perr(ps, "unknown section [%s]", name);
	return 0;
}

static int
parse_interface_key(struct pstate *ps, const char *key, char *value)
{
	struct tunnel_conf	*conf = ps->conf;
	struct lockdown		 ld;
	long long		 n;
	char			 why[128];

	if (strcasecmp(key, "PrivateKey") == 0) {
		if (parse_key(ps, "PrivateKey", value, conf->privkey) == -1)
			return -1;
		conf->has_privkey = true;
	} else if (strcasecmp(key, "Address") == 0) {
		return parse_list(ps, value, add_address);
	} else if (strcasecmp(key, "ListenPort") == 0) {
		if (parse_number(value, 0, 65535, &n) == -1)
			return perr(ps, "bad ListenPort \"%s\"", value);
		conf->listen_port = n;
	} else if (strcasecmp(key, "MTU") == 0) {
		if (parse_number(value, CONF_MIN_MTU, CONF_MAX_MTU, &n) == -1)
			return perr(ps, "bad MTU \"%s\" (%d..%d)", value,
			    CONF_MIN_MTU, CONF_MAX_MTU);
		conf->mtu = n;
	} else if (strcasecmp(key, "DNS") == 0) {
		return parse_list(ps, value, add_dns);
	} else if (strcasecmp(key, "Lockdown") == 0) {
		/* vpnd's own: the daemon's setting, not the tunnel's */
		if (lockdown_parse_word(value, &ld) == -1)
			return perr(ps, "bad Lockdown \"%s\" (off, on, "
			    "on allow-lan)", value);
		conf->lockdown = !ld.on ? LOCKDOWN_KEY_OFF : ld.allow_lan ?
		    LOCKDOWN_KEY_ON_LAN : LOCKDOWN_KEY_ON;
	} else if (strcasecmp(key, "Table") == 0) {
		if (conf_parse_table(value, &conf->table_mode, &conf->table,
		    why, sizeof(why)) == -1)
			return perr(ps, "%s", why);
	} else if (strcasecmp(key, "FwMark") == 0) {
		if (conf_parse_fwmark(value, &conf->fwmark, why,
		    sizeof(why)) == -1)
			return perr(ps, "%s", why);
	} else
		return perr(ps, "unknown key \"%s\" in [Interface]", key);
	return 0;
}

static int
parse_peer_key(struct pstate *ps, const char *key, char *value)
{
	struct peer_conf	*peer = ps->peer;
	long long		 n;

	if (strcasecmp(key, "PublicKey") == 0) {
		if (parse_key(ps, "PublicKey", value, peer->pubkey) == -1)
			return -1;
		ps->has_pubkey = true;
	} else if (strcasecmp(key, "PresharedKey") == 0) {
		if (parse_key(ps, "PresharedKey", value, peer->psk) == -1)
			return -1;
		peer->has_psk = true;
	} else if (strcasecmp(key, "AllowedIPs") == 0) {
		/* An empty list is legal: a peer that routes nothing. */
		if (*value == '\0')
			return 0;
		return parse_list(ps, value, add_aip);
	} else if (strcasecmp(key, "Endpoint") == 0) {
		return parse_endpoint(ps, value);
	} else if (strcasecmp(key, "PersistentKeepalive") == 0) {
		if (strcasecmp(value, "off") == 0)
			peer->keepalive = 0;
		else if (parse_number(value, 0, 65535, &n) == -1)
			return perr(ps, "bad PersistentKeepalive \"%s\"",
			    value);
		else
			peer->keepalive = n;
	} else
		return perr(ps, "unknown key \"%s\" in [Peer]", key);
	return 0;
}

static int
parse_line(struct pstate *ps, char *line)
{
	char	*eq, *key, *value, *hash;
	size_t	 i;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	line = trim(line);
	if (*line == '\0')
		return 0;
	if (*line == '[')
		return parse_section(ps, line);
	if ((eq = strchr(line, '=')) == NULL)
		return perr(ps, "expected \"Key = value\"");
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '\0')
		return perr(ps, "missing key before '='");

	for (i = 0; i < nitems(ignored_keys); i++)
		if (strcasecmp(key, ignored_keys[i].key) == 0)
			break;
	switch (ps->sec) {
	case SEC_NONE:
		return perr(ps, "key \"%s\" outside a section", key);
	case SEC_INTERFACE:
		if (i < nitems(ignored_keys)) {
			if (ps->conf->ignored_line[i] == 0)
				ps->conf->ignored_line[i] = ps->lineno;
			return 0;
		}
		return parse_interface_key(ps, key, value);
	case SEC_PEER:
		return parse_peer_key(ps, key, value);
	}
	return perr(ps, "internal error");
}

/*
 * conf is initialised here; on error it is freed again (keys zeroed) and
 * err says "name:line: reason".
 */
int
wgconf_parse(const char *buf, size_t len, const char *name,
    struct tunnel_conf *conf, char *err, size_t errlen)
{
	struct pstate	 ps;
	char		 line[WGCONF_MAX_LINE + 2];
	const char	*p, *end, *nl;
	size_t		 llen;
	int		 rv = -1;

	conf_init(conf);
	memset(&ps, 0, sizeof(ps));
	ps.name = name != NULL ? name : "(config)";
	ps.conf = conf;
	ps.err = err;
	ps.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		ps.lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		llen = nl - p;
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (llen > WGCONF_MAX_LINE) {
			perr(&ps, "line longer than %d bytes",
			    WGCONF_MAX_LINE);
			goto out;
		}
		if (memchr(p, '\0', llen) != NULL) {
			perr(&ps, "NUL byte");
			goto out;
		}
		memcpy(line, p, llen);
		line[llen] = '\0';
		if (parse_line(&ps, line) == -1)
			goto out;
	}
	if (end_peer(&ps) == -1)
		goto out;
	ps.lineno = MAXIMUM(ps.lineno, 1);
	if (!ps.has_interface) {
		perr(&ps, "no [Interface] section");
		goto out;
	}
	if (!conf->has_privkey) {
		perr(&ps, "no PrivateKey in [Interface]");
		goto out;
	}
	if (conf_check_routing(conf, line, sizeof(line)) == -1) {
		perr(&ps, "%s", line);
		goto out;
	}
	rv = 0;
 out:
	/* The line may have held a key. */
	explicit_bzero(line, sizeof(line));
	if (rv == -1)
		conf_free(conf);
	return rv;
}

/*
 * The file must be ours before we trust the keys in it: anyone who can
 * read it can impersonate us, anyone who can write it can route us.
 */
int
wgconf_load(const char *path, struct tunnel_conf *conf, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 cap, len = 0;
	ssize_t		 n;
	int		 fd, rv = -1;
	size_t		 i;
	bool		 secret;

	conf_init(conf);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > WGCONF_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    WGCONF_MAX_FILE);
		goto out;
	}
	/* One byte more than the limit shows a file that grew meanwhile. */
	cap = WGCONF_MAX_FILE + 1;
	cap = MINIMUM(cap, (size_t)st.st_size + 4096);
	if ((buf = malloc(cap)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > WGCONF_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %d "
				    "bytes", path, WGCONF_MAX_FILE);
				goto out;
			}
			/* Grown behind our back: stop at the limit. */
			snprintf(err, errlen, "%s: changed while read", path);
			goto out;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > WGCONF_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    WGCONF_MAX_FILE);
		goto out;
	}
	if (wgconf_parse(buf, len, path, conf, err, errlen) == -1)
		goto out;

	secret = conf->has_privkey;
	for (i = 0; i < conf->npeers; i++)
		secret |= conf->peers[i].has_psk;
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s: mode %04o is too open; chmod 600 "
		    "it", path, (unsigned int)(st.st_mode & 07777));
		conf_free(conf);
		goto out;
	}
	if (secret && st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by root or "
		    "uid %u", path, (unsigned int)st.st_uid,
		    (unsigned int)geteuid());
		conf_free(conf);
		goto out;
	}
	rv = 0;
 out:
	if (buf != NULL)
		freezero(buf, cap);
	close(fd);
	return rv;
}

int
wgconf_warning(const struct tunnel_conf *conf, const char *name,
    size_t *iter, char *buf, size_t len)
{
	size_t	 i;

	for (i = *iter; i < nitems(ignored_keys); i++) {
		if (conf->ignored_line[i] == 0)
			continue;
		*iter = i + 1;
		snprintf(buf, len, "%s:%d: %s is ignored: %s",
		    name != NULL ? name : "(config)", conf->ignored_line[i],
		    ignored_keys[i].key, ignored_keys[i].why);
		return 1;
	}
	*iter = i;
	return 0;
}

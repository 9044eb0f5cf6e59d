/*
 * proto_activate.c -- the activate request: JSON to struct tunnel_conf
 * (netmgr) and back (vpnctl up), and the wiping of its key strings.
 *
 * The activate rules are docs/protocol.md "The activate configuration" and
 * "Extensions": every field is type-checked, keys are decoded and their
 * length checked, addresses parsed strictly. Unknown fields are ignored so
 * newer clients keep working.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "compat.h"
#include "config.h"
#include "proto.h"

#define DEFAULT_KEEPALIVE	25

struct perr {
	const char	*code;
	char		*buf;
	size_t		 len;
};

static int	 fail(struct perr *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static int	 wrap(struct perr *, const char *);
static int	 get(struct json_object *, const char *, enum json_type,
		    struct json_object **, struct perr *);
static int	 get_int(struct json_object *, const char *, long long,
		    long long, long long *, struct perr *);
static int	 get_bool(struct json_object *, const char *, bool *,
		    struct perr *);
static int	 get_string(struct json_object *, const char *,
		    const char **, struct perr *);
static int	 get_key(struct json_object *, const char *,
		    uint8_t [WG_KEY_LEN], struct perr *);
static int	 parse_addr_field(struct json_object *, const char *, int,
		    bool, struct prefix *, struct perr *);
static int	 parse_ranges(struct json_object *, struct peer_conf *,
		    struct perr *);
static int	 parse_dns(struct json_object *, struct tunnel_conf *,
		    const struct proto_activate_extra *, struct perr *);
static int	 add_dns(struct tunnel_conf *, const struct prefix *,
		    struct perr *);
static int	 parse_search(struct json_object *, struct tunnel_conf *,
		    struct perr *);
static int	 parse_peers(struct json_object *, struct tunnel_conf *,
		    uint16_t, struct perr *);
static int	 parse_apps(struct json_object *, struct proto_activate_extra *,
		    struct perr *);
static bool	 valid_domain(const char *);
static void	 set_port(struct sockaddr_storage *, uint16_t);
static void	 scrub_string(struct json_object *);

static int
fail(struct perr *pe, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(pe->buf, pe->len, fmt, ap);
	va_end(ap);
	if (pe->code == NULL)
		pe->code = "bad-config";
	return -1;
}

/* Prefix the message already in pe with where it happened. */
static int
wrap(struct perr *pe, const char *where)
{
	char	 tmp[PROTO_ERRLEN];

	strlcpy(tmp, pe->buf, sizeof(tmp));
	return fail(pe, "%s: %s", where, tmp);
}

/* 1 present with the right type, 0 absent (or null), -1 wrong type. */
static int
get(struct json_object *o, const char *key, enum json_type t,
    struct json_object **out, struct perr *pe)
{
	struct json_object	*v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (t == json_type_double) {
		/* "a number": JSON does not tell integers from doubles. */
		if (!json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double))
			return fail(pe, "%s: not a number", key);
	} else if (!json_object_is_type(v, t))
		return fail(pe, "%s: not a%s %s", key,
		    t == json_type_int || t == json_type_array ||
		    t == json_type_object ? "n" : "",
		    t == json_type_string ? "string" :
		    t == json_type_boolean ? "boolean" :
		    t == json_type_array ? "array" :
		    t == json_type_object ? "object" : "integer");
	*out = v;
	return 1;
}

static int
get_int(struct json_object *o, const char *key, long long min,
    long long max, long long *val, struct perr *pe)
{
	struct json_object	*v;
	double			 d;
	long long		 n;
	int			 r;

	if ((r = get(o, key, json_type_double, &v, pe)) != 1)
		return r;
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!isfinite(d) || d != floor(d) || d < (double)min ||
		    d > (double)max)
			return fail(pe, "%s: not an integer in %lld-%lld",
			    key, min, max);
		n = (long long)d;
	} else {
		errno = 0;
		n = json_object_get_int64(v);
		/* json-c clamps a huge literal; errno says it did. */
		if (errno == ERANGE || n < min || n > max)
			return fail(pe, "%s: out of range %lld-%lld",
			    key, min, max);
	}
	*val = n;
	return 1;
}

static int
get_bool(struct json_object *o, const char *key, bool *val, struct perr *pe)
{
	struct json_object	*v;
	int			 r;

	if ((r = get(o, key, json_type_boolean, &v, pe)) != 1)
		return r;
	*val = json_object_get_boolean(v);
	return 1;
}

static int
get_string(struct json_object *o, const char *key, const char **val,
    struct perr *pe)
{
	struct json_object	*v;
	int			 r;

	*val = NULL;
	if ((r = get(o, key, json_type_string, &v, pe)) != 1)
		return r;
	/* An embedded NUL would make the C string lie about the JSON one. */
	if (strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return fail(pe, "%s: contains a NUL character", key);
	*val = json_object_get_string(v);
	return 1;
}

static int
get_key(struct json_object *o, const char *key, uint8_t k[WG_KEY_LEN],
    struct perr *pe)
{
	const char	*s;
	int		 r;

	if ((r = get_string(o, key, &s, pe)) != 1)
		return r;
	if (strlen(s) != WG_KEY_B64_LEN || key_from_base64(k, s) == -1) {
		explicit_bzero(k, WG_KEY_LEN);
		return fail(pe, "%s: not a base64 %d-byte key", key,
		    WG_KEY_LEN);
	}
	return 1;
}

/* A string field holding an address of family af (prefix allowed). */
static int
parse_addr_field(struct json_object *o, const char *key, int af,
    bool allow_prefix, struct prefix *p, struct perr *pe)
{
	const char	*s;
	int		 r;

	if ((r = get_string(o, key, &s, pe)) != 1)
		return r;
	/* Mozilla's clients send "" for an absent optional address. */
	if (*s == '\0')
		return 0;
	if ((allow_prefix ? prefix_parse(s, p) : addr_parse(s, p)) == -1)
		return fail(pe, "%s: bad %s \"%.64s\"", key,
		    allow_prefix ? "address or prefix" : "address", s);
	if (p->af != af)
		return fail(pe, "%s: \"%.64s\" is not an IPv%d address", key,
		    s, af == AF_INET ? 4 : 6);
	return 1;
}

static int
parse_ranges(struct json_object *o, struct peer_conf *peer, struct perr *pe)
{
	struct json_object	*arr, *el;
	struct prefix		 p;
	const char		*addr;
	long long		 range;
	size_t			 i, n;
	bool			 v6;
	int			 r;
	char			 key[64];

	if ((r = get(o, "allowedIPAddressRanges", json_type_array, &arr,
	    pe)) == -1)
		return -1;
	if (r == 0)
		return fail(pe, "allowedIPAddressRanges: missing");
	n = json_object_array_length(arr);
	if (n > CONF_MAX_AIPS)
		return fail(pe, "allowedIPAddressRanges: more than %d",
		    CONF_MAX_AIPS);
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		snprintf(key, sizeof(key), "allowedIPAddressRanges[%zu]", i);
		if (el == NULL || !json_object_is_type(el, json_type_object))
			return fail(pe, "%s: not an object", key);
		pe->buf[0] = '\0';
		if (get_string(el, "address", &addr, pe) != 1 ||
		    get_int(el, "range", 0, 128, &range, pe) != 1 ||
		    get_bool(el, "isIpv6", &v6, pe) != 1) {
			if (pe->buf[0] == '\0')
				fail(pe, "address, range and isIpv6 are "
				    "required");
			return wrap(pe, key);
		}
		if (addr_parse(addr, &p) == -1)
			return fail(pe, "%s: bad address \"%.64s\"", key, addr);
		if (v6 != (p.af == AF_INET6))
			return fail(pe, "%s: isIpv6 is %s but \"%.64s\" is "
			    "IPv%d", key, v6 ? "true" : "false", addr,
			    p.af == AF_INET ? 4 : 6);
		if (range > (p.af == AF_INET ? 32 : 128))
			return fail(pe, "%s: range %lld too long for IPv%d",
			    key, range, p.af == AF_INET ? 4 : 6);
		p.plen = (uint8_t)range;
		prefix_mask(&p);
		if (peer_add_aip(peer, &p) == -1) {
			pe->code = "system";
			return fail(pe, "%s: cannot add", key);
		}
	}
	return 0;
}

static int
add_dns(struct tunnel_conf *conf, const struct prefix *p, struct perr *pe)
{
	size_t	 i;

	for (i = 0; i < conf->ndns; i++)
		if (conf->dns[i].af == p->af &&
		    memcmp(conf->dns[i].addr, p->addr, sizeof(p->addr)) == 0)
			return 0;
	if (conf->ndns >= CONF_MAX_DNS)
		return fail(pe, "more than %d DNS servers", CONF_MAX_DNS);
	conf->dns[conf->ndns++] = *p;
	return 0;
}

static int
parse_dns(struct json_object *o, struct tunnel_conf *conf,
    const struct proto_activate_extra *ex, struct perr *pe)
{
	struct json_object	*arr, *el;
	struct prefix		 p;
	const char		*s;
	size_t			 i, n;
	int			 r;

	if ((r = get_string(o, "dnsServer", &s, pe)) == -1)
		return -1;
	if ((r = get(o, "dnsServers", json_type_array, &arr, pe)) == -1)
		return -1;
	if (r == 1) {
		/* The extension is the whole list; dnsServer repeats it. */
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			el = json_object_array_get_idx(arr, i);
			if (el == NULL ||
			    !json_object_is_type(el, json_type_string) ||
			    addr_parse(json_object_get_string(el), &p) == -1)
				return fail(pe, "dnsServers[%zu]: not an "
				    "address", i);
			if (add_dns(conf, &p, pe) == -1)
				return -1;
		}
		return 0;
	}
	if (s == NULL || *s == '\0')
		return 0;
	if (addr_parse(s, &p) == -1)
		return fail(pe, "dnsServer: bad address \"%.64s\"", s);
	if (add_dns(conf, &p, pe) == -1)
		return -1;
	/*
	 * The gateway as resolver means "the provider's DNS", which also
	 * answers on the IPv6 gateway; anything else is the user's choice
	 * and is used alone.
	 */
	if (ex->has_gw4 && p.af == AF_INET &&
	    memcmp(p.addr, ex->gw4.addr, 4) == 0 && ex->has_gw6) {
		p = ex->gw6;
		p.plen = 128;
		if (add_dns(conf, &p, pe) == -1)
			return -1;
	}
	return 0;
}

static bool
valid_domain(const char *s)
{
	size_t	 len;

	/* "~example.com" is a routing-only domain for systemd-resolved. */
	if (*s == '~')
		s++;
	len = strlen(s);
	if (len == 0 || len >= CONF_DOMAIN_LEN - 1)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return false;
	return true;
}

static int
parse_search(struct json_object *o, struct tunnel_conf *conf,
    struct perr *pe)
{
	struct json_object	*arr, *el;
	const char		*s;
	size_t			 i, n;
	int			 r;

	if ((r = get(o, "searchDomains", json_type_array, &arr, pe)) != 1)
		return r;
	n = json_object_array_length(arr);
	if (n > CONF_MAX_SEARCH)
		return fail(pe, "searchDomains: more than %d",
		    CONF_MAX_SEARCH);
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		if (el == NULL || !json_object_is_type(el, json_type_string))
			return fail(pe, "searchDomains[%zu]: not a string", i);
		s = json_object_get_string(el);
		if (strlen(s) != (size_t)json_object_get_string_len(el) ||
		    !valid_domain(s))
			return fail(pe, "searchDomains[%zu]: bad domain", i);
		strlcpy(conf->search[conf->nsearch++], s, CONF_DOMAIN_LEN);
	}
	return 0;
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int
parse_peers(struct json_object *o, struct tunnel_conf *conf,
    uint16_t keepalive, struct perr *pe)
{
	struct json_object	*arr, *el, *aips, *a;
	struct peer_conf	*peer;
	struct prefix		 p;
	const char		*s;
	long long		 n;
	size_t			 i, j, cnt, na;
	char			 key[48];
	int			 r;

	if ((r = get(o, "peers", json_type_array, &arr, pe)) != 1)
		return r;
	cnt = json_object_array_length(arr);
	if (cnt + conf->npeers > CONF_MAX_PEERS)
		return fail(pe, "peers: more than %d", CONF_MAX_PEERS);
	for (i = 0; i < cnt; i++) {
		el = json_object_array_get_idx(arr, i);
		snprintf(key, sizeof(key), "peers[%zu]", i);
		if (el == NULL || !json_object_is_type(el, json_type_object))
			return fail(pe, "%s: not an object", key);
		if ((peer = conf_add_peer(conf)) == NULL) {
			pe->code = "system";
			return fail(pe, "%s: cannot add", key);
		}
		if ((r = get_key(el, "publicKey", peer->pubkey, pe)) != 1)
			return r == 0 ? fail(pe, "%s: publicKey missing", key) :
			    wrap(pe, key);
		if ((r = get_key(el, "presharedKey", peer->psk, pe)) == -1)
			return wrap(pe, key);
		peer->has_psk = r == 1;
		if ((r = get_string(el, "endpoint", &s, pe)) == -1)
			return wrap(pe, key);
		if (r == 1 && endpoint_parse(s, &peer->endpoint) == -1)
			return fail(pe, "%s: endpoint: bad host:port "
			    "\"%.64s\"", key, s);
		peer->keepalive = keepalive;
		if ((r = get_int(el, "persistentKeepalive", 0, 65535, &n,
		    pe)) == -1)
			return wrap(pe, key);
		if (r == 1)
			peer->keepalive = (uint16_t)n;
		if ((r = get(el, "allowedIps", json_type_array, &aips,
		    pe)) == -1)
			return wrap(pe, key);
		na = r == 1 ? json_object_array_length(aips) : 0;
		if (na > CONF_MAX_AIPS)
			return fail(pe, "%s: allowedIps: more than %d", key,
			    CONF_MAX_AIPS);
		for (j = 0; j < na; j++) {
			a = json_object_array_get_idx(aips, j);
			if (a == NULL ||
			    !json_object_is_type(a, json_type_string) ||
			    prefix_parse(json_object_get_string(a), &p) == -1)
				return fail(pe, "%s: allowedIps[%zu]: not an "
				    "addr/prefix", key, j);
			prefix_mask(&p);
			if (peer_add_aip(peer, &p) == -1) {
				pe->code = "system";
				return fail(pe, "%s: cannot add", key);
			}
		}
	}
	return 0;
}

static int
parse_apps(struct json_object *o, struct proto_activate_extra *ex,
    struct perr *pe)
{
	struct json_object	*arr, *el;
	size_t			 i, n;
	int			 r;

	if ((r = get(o, "vpnDisabledApps", json_type_array, &arr, pe)) != 1)
		return r;
	n = json_object_array_length(arr);
	if (n > APPID_MAX_APPS)
		return fail(pe, "vpnDisabledApps: more than %d entries",
		    APPID_MAX_APPS);
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		if (el == NULL || !json_object_is_type(el, json_type_string))
			return fail(pe, "vpnDisabledApps[%zu]: not a string",
			    i);
		if (appid_parse(json_object_get_string(el),
		    ex->disabled_apps[i], sizeof(ex->disabled_apps[i])) == -1)
			return fail(pe, "vpnDisabledApps[%zu]: not a "
			    "desktop-file ID or the absolute path of a "
			    ".desktop file", i);
	}
	ex->ndisabled_apps = n;
	return 0;
}

int
proto_parse_activate(struct json_object *o, struct tunnel_conf *conf,
    struct proto_activate_extra *ex, const char **code, char *err,
    size_t errlen)
{
	char			 msg[PROTO_ERRLEN], why[128];
	struct perr		 pe = { NULL, msg, sizeof(msg) };
	struct peer_conf	*peer;
	struct prefix		 a4, a6;
	uint8_t			 pub[WG_KEY_LEN], derived[WG_KEY_LEN];
	const char		*s;
	long long		 port, n;
	uint16_t		 keepalive = DEFAULT_KEEPALIVE;
	bool			 b;
	int			 r, r4, r6, rv = -1;

	memset(ex, 0, sizeof(*ex));
	msg[0] = '\0';
	*code = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		fail(&pe, "not an object");
		goto out;
	}

	if ((r = get_key(o, "privateKey", conf->privkey, &pe)) != 1) {
		if (r == 0)
			fail(&pe, "privateKey: missing");
		goto out;
	}
	conf->has_privkey = true;
	if ((r = get_key(o, "publicKey", pub, &pe)) != 1) {
		if (r == 0)
			fail(&pe, "publicKey: missing");
		goto out;
	}
	if (key_public_from_private(derived, conf->privkey) == -1 ||
	    memcmp(derived, pub, WG_KEY_LEN) != 0) {
		fail(&pe, "publicKey: does not match privateKey");
		goto out;
	}

	if ((peer = conf_add_peer(conf)) == NULL) {
		pe.code = "system";
		fail(&pe, "cannot add a peer");
		goto out;
	}
	if ((r = get_key(o, "serverPublicKey", peer->pubkey, &pe)) != 1) {
		if (r == 0)
			fail(&pe, "serverPublicKey: missing");
		goto out;
	}
	if ((r = get_int(o, "serverPort", 1, 65535, &port, &pe)) != 1) {
		if (r == 0)
			fail(&pe, "serverPort: missing");
		goto out;
	}

	/* The endpoint: IPv4 preferred, IPv6 kept as the fallback. */
	if ((r4 = parse_addr_field(o, "serverIpv4AddrIn", AF_INET, false,
	    &a4, &pe)) == -1)
		goto out;
	if ((r6 = parse_addr_field(o, "serverIpv6AddrIn", AF_INET6, false,
	    &a6, &pe)) == -1)
		goto out;
	if (r4 == 0 && r6 == 0) {
		fail(&pe, "serverIpv4AddrIn or serverIpv6AddrIn required");
		goto out;
	}
	if (r6 == 1) {
		struct sockaddr_in6 *sin6;

		sin6 = (struct sockaddr_in6 *)(r4 == 1 ? &ex->alt_endpoint :
		    &peer->endpoint);
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a6.addr, 16);
		sin6->sin6_port = htons((uint16_t)port);
	}
	if (r4 == 1) {
		struct sockaddr_in *sin;

		sin = (struct sockaddr_in *)&peer->endpoint;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a4.addr, 4);
		set_port(&peer->endpoint, (uint16_t)port);
	}

	if ((r4 = parse_addr_field(o, "deviceIpv4Address", AF_INET, true,
	    &a4, &pe)) == -1)
		goto out;
	if ((r6 = parse_addr_field(o, "deviceIpv6Address", AF_INET6, true,
	    &a6, &pe)) == -1)
		goto out;
	if (r4 == 0 && r6 == 0) {
		fail(&pe, "deviceIpv4Address or deviceIpv6Address required");
		goto out;
	}
	if (r4 == 1)
		conf->addrs[conf->naddrs++] = a4;
	if (r6 == 1)
		conf->addrs[conf->naddrs++] = a6;

	if ((r = parse_addr_field(o, "serverIpv4Gateway", AF_INET, false,
	    &ex->gw4, &pe)) == -1)
		goto out;
	ex->has_gw4 = r == 1;
	if ((r = parse_addr_field(o, "serverIpv6Gateway", AF_INET6, false,
	    &ex->gw6, &pe)) == -1)
		goto out;
	ex->has_gw6 = r == 1;

	if (parse_ranges(o, peer, &pe) == -1)
		goto out;

	if ((r = get_string(o, "hopType", &s, &pe)) == -1)
		goto out;
	if (r == 0 || strcmp(s, "SingleHop") == 0)
		conf->hop = HOP_SINGLE;
	else if (strcmp(s, "MultiHopEntry") == 0)
		conf->hop = HOP_MULTI_ENTRY;
	else if (strcmp(s, "MultiHopExit") == 0)
		conf->hop = HOP_MULTI_EXIT;
	else {
		fail(&pe, "hopType: unknown \"%.32s\"", s);
		goto out;
	}

	if (parse_dns(o, conf, ex, &pe) == -1 ||
	    parse_apps(o, ex, &pe) == -1)
		goto out;

	/* Extensions. */
	if ((r = get_key(o, "presharedKey", peer->psk, &pe)) == -1)
		goto out;
	peer->has_psk = r == 1;
	if ((r = get_int(o, "mtu", CONF_MIN_MTU, CONF_MAX_MTU, &n,
	    &pe)) == -1)
		goto out;
	if (r == 1)
		conf->mtu = (int)n;
	if ((r = get_int(o, "persistentKeepalive", 0, 65535, &n, &pe)) == -1)
		goto out;
	if (r == 1)
		keepalive = (uint16_t)n;
	peer->keepalive = keepalive;
	if ((r = get_int(o, "listenPort", 0, 65535, &n, &pe)) == -1)
		goto out;
	if (r == 1)
		conf->listen_port = (uint16_t)n;
	if (parse_search(o, conf, &pe) == -1)
		goto out;
	if ((r = get_bool(o, "killSwitch", &b, &pe)) == -1)
		goto out;
	if (r == 1)
		conf->killswitch = b;
	if ((r = get_bool(o, "allowLan", &b, &pe)) == -1)
		goto out;
	if (r == 1)
		conf->allowlan = b;
	/* wg-quick's Table and FwMark, written as there */
	if ((r = get_string(o, "table", &s, &pe)) == -1)
		goto out;
	if (r == 1 && conf_parse_table(s, &conf->table_mode, &conf->table,
	    why, sizeof(why)) == -1) {
		fail(&pe, "table: %s", why);
		goto out;
	}
	if ((r = get_int(o, "fwmark", 1, UINT32_MAX, &n, &pe)) == -1)
		goto out;
	if (r == 1)
		conf->fwmark = (uint32_t)n;
	if (parse_peers(o, conf, keepalive, &pe) == -1)
		goto out;
	if (conf_check_routing(conf, why, sizeof(why)) == -1) {
		fail(&pe, "%s", why);
		goto out;
	}
	rv = 0;
 out:
	explicit_bzero(pub, sizeof(pub));
	explicit_bzero(derived, sizeof(derived));
	if (rv == -1)
		*code = pe.code != NULL ? pe.code : "bad-config";
	if (errlen > 0)
		strlcpy(err, rv == -1 ? msg : "", errlen);
	return rv;
}

struct json_object *
proto_activate_json(const struct tunnel_conf *conf,
    const struct proto_activate_extra *ex, char *err, size_t errlen)
{
	struct json_object	*o, *arr, *el, *peers;
	const struct peer_conf	*pc, *peer;
	const struct sockaddr_storage *ep;
	uint8_t			 pub[WG_KEY_LEN];
	char			 buf[64];
	size_t			 i, j;
	bool			 have4 = false, have6 = false;

	if (!conf->has_privkey) {
		snprintf(err, errlen, "no private key");
		return NULL;
	}
	if (conf->npeers == 0) {
		snprintf(err, errlen, "no peer");
		return NULL;
	}
	peer = &conf->peers[0];
	ep = &peer->endpoint;
	if (ep->ss_family != AF_INET && ep->ss_family != AF_INET6) {
		snprintf(err, errlen, "the first peer has no endpoint");
		return NULL;
	}
	if ((o = proto_msg("activate")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	proto_json_str(o, "hopType", conf->hop == HOP_MULTI_ENTRY ?
	    "MultiHopEntry" : conf->hop == HOP_MULTI_EXIT ? "MultiHopExit" :
	    "SingleHop");
	proto_json_key(o, "privateKey", conf->privkey);
	if (key_public_from_private(pub, conf->privkey) == 0)
		proto_json_key(o, "publicKey", pub);
	explicit_bzero(pub, sizeof(pub));
	proto_json_key(o, "serverPublicKey", peer->pubkey);
	if (ep->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ep;

		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		proto_json_str(o, "serverIpv4AddrIn", buf);
		json_object_object_add(o, "serverPort",
		    json_object_new_int(ntohs(sin->sin_port)));
	} else {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ep;

		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		proto_json_str(o, "serverIpv6AddrIn", buf);
		json_object_object_add(o, "serverPort",
		    json_object_new_int(ntohs(sin6->sin6_port)));
	}
	/* The base protocol has one address per family. */
	for (i = 0; i < conf->naddrs; i++) {
		if (conf->addrs[i].af == AF_INET && !have4) {
			proto_json_str(o, "deviceIpv4Address",
			    prefix_fmt(&conf->addrs[i], buf, sizeof(buf)));
			have4 = true;
		} else if (conf->addrs[i].af == AF_INET6 && !have6) {
			proto_json_str(o, "deviceIpv6Address",
			    prefix_fmt(&conf->addrs[i], buf, sizeof(buf)));
			have6 = true;
		}
	}
	if (ex != NULL && ex->has_gw4)
		proto_json_str(o, "serverIpv4Gateway",
		    addr_fmt(&ex->gw4, buf, sizeof(buf)));
	if (ex != NULL && ex->has_gw6)
		proto_json_str(o, "serverIpv6Gateway",
		    addr_fmt(&ex->gw6, buf, sizeof(buf)));
	arr = json_object_new_array();
	for (i = 0; i < peer->naips; i++) {
		el = json_object_new_object();
		proto_json_str(el, "address",
		    addr_fmt(&peer->aips[i], buf, sizeof(buf)));
		json_object_object_add(el, "range",
		    json_object_new_int(peer->aips[i].plen));
		json_object_object_add(el, "isIpv6", json_object_new_boolean(
		    peer->aips[i].af == AF_INET6));
		json_object_array_add(arr, el);
	}
	json_object_object_add(o, "allowedIPAddressRanges", arr);
	if (conf->ndns > 0) {
		proto_json_str(o, "dnsServer",
		    addr_fmt(&conf->dns[0], buf, sizeof(buf)));
		arr = json_object_new_array();
		for (i = 0; i < conf->ndns; i++)
			json_object_array_add(arr, json_object_new_string(
			    addr_fmt(&conf->dns[i], buf, sizeof(buf))));
		json_object_object_add(o, "dnsServers", arr);
	}
	if (conf->nsearch > 0) {
		arr = json_object_new_array();
		for (i = 0; i < conf->nsearch; i++)
			json_object_array_add(arr,
			    json_object_new_string(conf->search[i]));
		json_object_object_add(o, "searchDomains", arr);
	}
	if (peer->has_psk)
		proto_json_key(o, "presharedKey", peer->psk);
	if (conf->mtu != 0)
		json_object_object_add(o, "mtu",
		    json_object_new_int(conf->mtu));
	json_object_object_add(o, "persistentKeepalive",
	    json_object_new_int(peer->keepalive));
	if (conf->listen_port != 0)
		json_object_object_add(o, "listenPort",
		    json_object_new_int(conf->listen_port));
	if (conf->killswitch != -1)
		json_object_object_add(o, "killSwitch",
		    json_object_new_boolean(conf->killswitch != 0));
	if (conf->allowlan)
		json_object_object_add(o, "allowLan",
		    json_object_new_boolean(true));
	if (conf->table_mode == CONF_TABLE_OFF)
		proto_json_str(o, "table", "off");
	else if (conf->table_mode == CONF_TABLE_NUM) {
		snprintf(buf, sizeof(buf), "%u", conf->table);
		proto_json_str(o, "table", buf);
	}
	if (conf->fwmark != 0)
		json_object_object_add(o, "fwmark",
		    json_object_new_int64(conf->fwmark));
	if (conf->npeers > 1) {
		peers = json_object_new_array();
		for (i = 1; i < conf->npeers; i++) {
			pc = &conf->peers[i];
			el = json_object_new_object();
			proto_json_key(el, "publicKey", pc->pubkey);
			if (pc->has_psk)
				proto_json_key(el, "presharedKey", pc->psk);
			if (pc->endpoint.ss_family != AF_UNSPEC)
				proto_json_str(el, "endpoint", endpoint_fmt(
				    &pc->endpoint, buf, sizeof(buf)));
			arr = json_object_new_array();
			for (j = 0; j < pc->naips; j++)
				json_object_array_add(arr,
				    json_object_new_string(prefix_fmt(
				    &pc->aips[j], buf, sizeof(buf))));
			json_object_object_add(el, "allowedIps", arr);
			json_object_object_add(el, "persistentKeepalive",
			    json_object_new_int(pc->keepalive));
			json_object_array_add(peers, el);
		}
		json_object_object_add(o, "peers", peers);
	}
	return o;
}

static void
scrub_string(struct json_object *v)
{
	int	 len;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return;
	/*
	 * json-c gives no way to wipe a string it owns; its storage is ours
	 * to overwrite for its length, and the object is freed right after.
	 */
	if ((len = json_object_get_string_len(v)) > 0)
		explicit_bzero((char *)(uintptr_t)json_object_get_string(v),
		    (size_t)len);
}

void
proto_scrub(struct json_object *o)
{
	struct json_object	*v, *arr;
	size_t			 i, n;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	if (json_object_object_get_ex(o, "privateKey", &v))
		scrub_string(v);
	if (json_object_object_get_ex(o, "presharedKey", &v))
		scrub_string(v);
	if (json_object_object_get_ex(o, "peers", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(arr, i);
			if (v != NULL &&
			    json_object_is_type(v, json_type_object) &&
			    json_object_object_get_ex(v, "presharedKey", &v))
				scrub_string(v);
		}
	}
}

void
proto_put_secret(struct json_object *o)
{
	proto_scrub(o);
	json_object_put(o);
}

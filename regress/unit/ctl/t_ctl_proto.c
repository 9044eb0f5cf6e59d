/*
 * t_ctl_proto.c -- activate parsing and status formatting (netmgr/proto.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "compat.h"
#include "config.h"
#include "proto.h"
#include "tap.h"

#define PRIV	"WLjGGrgqQDaQxWIufP5ugubxdDK3YqmHfSs15ubnJ2U="
#define PUB	"ueFkGqw7pOxVbf2a59WuQAyPusmIrSdFOUSOJ7g/V3o="
#define SPUB	"XWfzCowMnPY45YNaQTSaMpRNkTW8N3EYaVu+GZExLUU="
#define P2PUB	"ztafOpKs51HR/BurFBIe7Wn4LY/oyKFgtpJxLDSR6Q8="
#define PSK	"DfySw4LeNZ+ULc/JhnMV7MbWy4Hht0zOMuIWO+mook8="
#define PSK2	"ouCEkZyuxVjr61XfMSbQErAKiorCdZHh6zWsVZXrSMY="
#define PSK3	"bZ2mGWaUC8Mx8vKQxR0N3cSEjEY9vT3v0pZ0oVYlF0A="
#define P3PUB	"4M0tm4ZiZPdyvLXP59Tuvv82ePsTso3d1DYmsRZJA20="

/* A Mozilla-like activate, as in the reference notes' example session. */
static const char *base_json =
    "{\"type\":\"activate\",\"hopType\":\"SingleHop\","
    "\"privateKey\":\"" PRIV "\",\"publicKey\":\"" PUB "\","
    "\"deviceIpv4Address\":\"10.66.12.34/32\","
    "\"deviceIpv6Address\":\"fc00:bbbb:bbbb:bb01::3:abcd/128\","
    "\"serverPublicKey\":\"" SPUB "\","
    "\"serverIpv4AddrIn\":\"185.65.134.82\","
    "\"serverIpv6AddrIn\":\"2a03:1b20:1:f011::a04f\","
    "\"serverPort\":51820,"
    "\"serverIpv4Gateway\":\"10.64.0.1\","
    "\"serverIpv6Gateway\":\"fc00:bbbb:bbbb:bb01::1\","
    "\"dnsServer\":\"10.64.0.1\","
    "\"allowedIPAddressRanges\":["
    "{\"address\":\"0.0.0.0\",\"range\":0,\"isIpv6\":false},"
    "{\"address\":\"::\",\"range\":0,\"isIpv6\":true},"
    "{\"address\":\"10.64.0.1\",\"range\":32,\"isIpv6\":false},"
    "{\"address\":\"10.124.0.0\",\"range\":20,\"isIpv6\":false}],"
    "\"vpnDisabledApps\":[],\"obfuscationMethod\":\"NoObfuscation\","
    "\"lwoVersion\":1}";

static int	 parse(struct json_object *, struct tunnel_conf *,
		    struct proto_activate_extra *, const char **, char *);
static void	 bad(const char *, const char *, const char *, const char *);
static void	 test_valid(void);
static void	 test_extensions(void);
static void	 test_bad(void);
static void	 test_roundtrip(void);
static void	 same_conf(const struct tunnel_conf *, const struct tunnel_conf *);
static void	 test_status(void);
static void	 test_dates(void);
static void	 check_keys(struct json_object *, const char *const *, size_t,
		    const char *);

static int
parse(struct json_object *o, struct tunnel_conf *conf,
    struct proto_activate_extra *ex, const char **code, char *err)
{
	conf_init(conf);
	return proto_parse_activate(o, conf, ex, code, err, PROTO_ERRLEN);
}

static void
test_valid(void)
{
	struct json_object		*o;
	struct tunnel_conf		 conf;
	struct proto_activate_extra	 ex;
	struct prefix			 p;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const char			*code = "unset";
	char				 err[PROTO_ERRLEN], buf[64];
	uint8_t				 k[WG_KEY_LEN];

	o = json_tokener_parse(base_json);
	ok(o != NULL, "base config is JSON");
	is_int(parse(o, &conf, &ex, &code, err), 0, "valid config accepted");
	ok(code == NULL, "no error code");
	is_str(err, "", "no message");
	ok(conf.has_privkey, "private key set");
	key_from_base64(k, PRIV);
	is_mem(conf.privkey, k, WG_KEY_LEN, "private key decoded");
	is_int(conf.npeers, 1, "one peer");
	key_from_base64(k, SPUB);
	is_mem(conf.peers[0].pubkey, k, WG_KEY_LEN, "peer key");
	sin = (const struct sockaddr_in *)&conf.peers[0].endpoint;
	is_int(sin->sin_family, AF_INET, "IPv4 endpoint preferred");
	is_int(ntohs(sin->sin_port), 51820, "endpoint port");
	is_str(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)),
	    "185.65.134.82", "endpoint address");
	sin6 = (const struct sockaddr_in6 *)&ex.alt_endpoint;
	is_int(sin6->sin6_family, AF_INET6, "IPv6 endpoint kept as fallback");
	is_int(ntohs(sin6->sin6_port), 51820, "fallback port");
	is_int(conf.naddrs, 2, "two device addresses");
	is_str(prefix_fmt(&conf.addrs[0], buf, sizeof(buf)), "10.66.12.34/32",
	    "device IPv4");
	is_str(prefix_fmt(&conf.addrs[1], buf, sizeof(buf)),
	    "fc00:bbbb:bbbb:bb01::3:abcd/128", "device IPv6");
	ok(ex.has_gw4 && ex.has_gw6, "both gateways");
	is_str(addr_fmt(&ex.gw4, buf, sizeof(buf)), "10.64.0.1", "gateway 4");
	is_int(conf.peers[0].naips, 4, "four allowed ranges");
	is_str(prefix_fmt(&conf.peers[0].aips[3], buf, sizeof(buf)),
	    "10.124.0.0/20", "range 4");
	is_str(prefix_fmt(&conf.peers[0].aips[1], buf, sizeof(buf)),
	    "::/0", "range 2");
	is_int(conf.ndns, 2, "DNS = v4 gateway brings the v6 gateway");
	is_str(addr_fmt(&conf.dns[1], buf, sizeof(buf)),
	    "fc00:bbbb:bbbb:bb01::1", "second resolver");
	is_int(conf.hop, HOP_SINGLE, "SingleHop");
	is_int(conf.peers[0].keepalive, 25, "default keepalive 25");
	ok(!conf.peers[0].has_psk, "no psk");
	is_int(conf.killswitch, -1, "kill switch left to the default");
	is_int(conf.mtu, 0, "mtu default");
	conf_free(&conf);

	/* A custom resolver is used alone. */
	json_object_object_add(o, "dnsServer",
	    json_object_new_string("9.9.9.9"));
	is_int(parse(o, &conf, &ex, &code, err), 0, "custom DNS accepted");
	is_int(conf.ndns, 1, "custom DNS used alone");
	conf_free(&conf);

	/* IPv6-only endpoint; multihop; empty strings mean absent. */
	json_object_object_del(o, "serverIpv4AddrIn");
	json_object_object_add(o, "hopType",
	    json_object_new_string("MultiHopEntry"));
	json_object_object_add(o, "serverIpv4Gateway",
	    json_object_new_string(""));
	json_object_object_add(o, "serverPort", json_object_new_double(443.0));
	is_int(parse(o, &conf, &ex, &code, err), 0, "v6-only accepted: %s",
	    err);
	is_int(conf.peers[0].endpoint.ss_family, AF_INET6, "v6 endpoint");
	is_int(ntohs(((struct sockaddr_in6 *)&conf.peers[0].endpoint)->
	    sin6_port), 443, "integral double port");
	is_int(ex.alt_endpoint.ss_family, AF_UNSPEC, "no fallback");
	is_int(conf.hop, HOP_MULTI_ENTRY, "MultiHopEntry");
	ok(!ex.has_gw4, "empty gateway is absent");
	conf_free(&conf);

	/* Bare device address; empty allowed ranges; unknown fields. */
	json_object_object_add(o, "deviceIpv4Address",
	    json_object_new_string("10.0.0.2"));
	json_object_object_add(o, "allowedIPAddressRanges",
	    json_object_new_array());
	json_object_object_add(o, "futureField", json_object_new_int(7));
	is_int(parse(o, &conf, &ex, &code, err), 0, "variants accepted");
	is_int(conf.addrs[0].plen, 32, "bare address is a /32");
	is_int(conf.peers[0].naips, 0, "empty ranges");
	conf_free(&conf);
	prefix_parse("10.0.0.0/8", &p);
	json_object_put(o);
}

static void
test_extensions(void)
{
	struct json_object		*o;
	struct tunnel_conf		 conf;
	struct proto_activate_extra	 ex;
	const char			*code;
	char				 err[PROTO_ERRLEN], buf[64];

	o = json_tokener_parse(base_json);
	json_object_object_add(o, "presharedKey", json_object_new_string(PSK));
	json_object_object_add(o, "mtu", json_object_new_int(1380));
	json_object_object_add(o, "persistentKeepalive", json_object_new_int(0));
	json_object_object_add(o, "listenPort", json_object_new_int(51000));
	json_object_object_add(o, "dnsServers", json_tokener_parse(
	    "[\"1.1.1.1\",\"2606:4700:4700::1111\"]"));
	json_object_object_add(o, "searchDomains", json_tokener_parse(
	    "[\"corp.example\",\"~.\"]"));
	json_object_object_del(o, "searchDomains");
	json_object_object_add(o, "searchDomains", json_tokener_parse(
	    "[\"corp.example\",\"~lan\"]"));
	json_object_object_add(o, "killSwitch", json_object_new_boolean(0));
	json_object_object_add(o, "allowLan", json_object_new_boolean(1));
	json_object_object_add(o, "peers", json_tokener_parse(
	    "[{\"publicKey\":\"" P2PUB "\",\"presharedKey\":\"" PSK "\","
	    "\"endpoint\":\"[2001:db8::1]:51821\","
	    "\"allowedIps\":[\"192.168.7.0/24\",\"fd00:7::/64\"],"
	    "\"persistentKeepalive\":10},"
	    "{\"publicKey\":\"" PUB "\",\"allowedIps\":[\"10.9.9.9/32\"]}]"));
	is_int(parse(o, &conf, &ex, &code, err), 0, "extensions accepted: %s",
	    err);
	ok(conf.peers[0].has_psk, "psk on the primary peer");
	is_int(conf.mtu, 1380, "mtu");
	is_int(conf.peers[0].keepalive, 0, "keepalive off");
	is_int(conf.listen_port, 51000, "listen port");
	is_int(conf.ndns, 2, "dnsServers replaces dnsServer");
	is_str(addr_fmt(&conf.dns[0], buf, sizeof(buf)), "1.1.1.1", "dns 1");
	is_int(conf.nsearch, 2, "two search domains");
	is_str(conf.search[1], "~lan", "routing domain");
	is_int(conf.killswitch, 0, "kill switch off");
	ok(conf.allowlan, "allow lan");
	is_int(conf.npeers, 3, "primary plus two peers");
	is_str(endpoint_fmt(&conf.peers[1].endpoint, buf, sizeof(buf)),
	    "[2001:db8::1]:51821", "peer endpoint");
	is_int(conf.peers[1].naips, 2, "peer allowed ips");
	is_int(conf.peers[1].keepalive, 10, "peer keepalive");
	ok(conf.peers[1].has_psk, "peer psk");
	is_int(conf.peers[2].keepalive, 0, "peer inherits keepalive");
	is_int(conf.peers[2].endpoint.ss_family, AF_UNSPEC, "no endpoint");
	conf_free(&conf);

	proto_scrub(o);
	{
		struct json_object *v;

		json_object_object_get_ex(o, "privateKey", &v);
		ok(json_object_get_string(v)[0] == '\0',
		    "scrub wipes the private key");
	}
	json_object_put(o);
}

/* Set key to the JSON value val (NULL: delete it) and expect a refusal. */
static void
bad(const char *key, const char *val, const char *frag, const char *name)
{
	struct json_object		*o, *v;
	struct tunnel_conf		 conf;
	struct proto_activate_extra	 ex;
	const char			*code = NULL;
	char				 err[PROTO_ERRLEN];
	int				 r;

	o = json_tokener_parse(base_json);
	if (val == NULL)
		json_object_object_del(o, key);
	else {
		v = json_tokener_parse(val);
		if (v == NULL && strcmp(val, "null") != 0)
			diag("bad literal %s", val);
		json_object_object_add(o, key, v);
	}
	r = parse(o, &conf, &ex, &code, err);
	is_int(r, -1, "%s: refused", name);
	is_str(code != NULL ? code : "(null)", "bad-config", "%s: code", name);
	ok(strstr(err, frag) != NULL, "%s: message \"%s\" has \"%s\"", name,
	    err, frag);
	conf_free(&conf);
	json_object_put(o);
}

static void
test_bad(void)
{
	struct tunnel_conf		 conf;
	struct proto_activate_extra	 ex;
	struct json_object		*o;
	const char			*code;
	char				 err[PROTO_ERRLEN];

	/* Wrong types. */
	bad("privateKey", "42", "privateKey: not a string", "int key");
	bad("serverPort", "\"51820\"", "serverPort: not a number",
	    "string port");
	bad("serverPort", "51820.5", "serverPort", "fractional port");
	bad("serverPort", "0", "serverPort", "port 0");
	bad("serverPort", "65536", "serverPort", "port 65536");
	bad("serverPort", "99999999999999999999999", "serverPort",
	    "huge port");
	bad("allowedIPAddressRanges", "{}", "not an array", "ranges object");
	bad("allowedIPAddressRanges", "[1]", "not an object", "range int");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0\",\"range\":\"8\",\"isIpv6\":false}]",
	    "range: not a number", "range string");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0\",\"range\":8,\"isIpv6\":0}]",
	    "isIpv6: not a boolean", "isIpv6 int");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0\",\"range\":8}]",
	    "required", "isIpv6 missing");
	bad("deviceIpv4Address", "[]", "not a string", "address array");
	bad("dnsServer", "1", "dnsServer: not a string", "dns int");
	bad("vpnDisabledApps", "[1]", "vpnDisabledApps[0]", "app int");
	bad("vpnDisabledApps", "[\"firefox\",\"../x.desktop\"]",
	    "vpnDisabledApps[1]: not a desktop-file ID", "app a relative path");
	bad("vpnDisabledApps", "[\"a b\"]", "vpnDisabledApps[0]",
	    "app with a space");
	bad("killSwitch", "\"yes\"", "killSwitch: not a boolean", "ks string");
	bad("hopType", "1", "hopType: not a string", "hop int");

	/* Keys. */
	bad("privateKey", "\"" "AAAA" "\"", "privateKey: not a base64",
	    "short key");
	bad("privateKey", "\"WLjGGrgqQDaQxWIufP5ugubxdDK3YqmHfSs15ubnJ2U\"",
	    "privateKey: not a base64", "unpadded key");
	bad("serverPublicKey",
	    "\"XWfzCowMnPY45YNaQTSaMpRNkTW8N3EYaVu+GZExLU!=\"",
	    "serverPublicKey: not a base64", "not base64");
	bad("serverPublicKey", "\"" SPUB SPUB "\"", "not a base64",
	    "double-length key");
	bad("publicKey", "\"" SPUB "\"", "does not match", "wrong publicKey");
	bad("presharedKey", "\"abc\"", "presharedKey", "bad psk");

	/* Addresses. */
	bad("deviceIpv4Address", "\"10.0.0.300/32\"", "deviceIpv4Address",
	    "bad octet");
	bad("deviceIpv4Address", "\"10.0.0.1/33\"", "deviceIpv4Address",
	    "bad prefix length");
	bad("deviceIpv4Address", "\"fd00::1/128\"", "not an IPv4",
	    "v6 in v4 field");
	bad("deviceIpv6Address", "\"fd00::1/129\"", "deviceIpv6Address",
	    "v6 prefix 129");
	bad("serverIpv4AddrIn", "\"185.65.134.82/32\"", "serverIpv4AddrIn",
	    "prefix as endpoint");
	bad("serverIpv4AddrIn", "\" 185.65.134.82\"", "serverIpv4AddrIn",
	    "leading space");
	bad("serverIpv4Gateway", "\"gateway\"", "serverIpv4Gateway",
	    "gateway name");
	bad("dnsServer", "\"1.2.3\"", "dnsServer", "short dns");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0\",\"range\":33,\"isIpv6\":false}]",
	    "too long", "v4 range 33");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0/8\",\"range\":8,\"isIpv6\":false}]",
	    "bad address", "prefix in address");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"10.0.0.0\",\"range\":8,\"isIpv6\":true}]",
	    "isIpv6 is true", "inconsistent isIpv6");
	bad("allowedIPAddressRanges",
	    "[{\"address\":\"::\",\"range\":0,\"isIpv6\":false}]",
	    "isIpv6 is false", "inconsistent isIpv6 (v6)");
	bad("searchDomains", "[\"bad domain\"]", "searchDomains[0]",
	    "domain with space");
	bad("dnsServers", "[\"1.1.1.1\",7]", "dnsServers[1]", "dns int");

	/* Ranges of the extensions. */
	bad("mtu", "1279", "mtu", "mtu too small");
	bad("mtu", "9001", "mtu", "mtu too big");
	bad("persistentKeepalive", "65536", "persistentKeepalive",
	    "keepalive too big");
	bad("persistentKeepalive", "-1", "persistentKeepalive",
	    "negative keepalive");
	bad("peers", "[{\"allowedIps\":[]}]", "peers[0]: publicKey missing",
	    "peer without key");
	bad("peers", "[{\"publicKey\":\"" P2PUB "\",\"endpoint\":\"host\"}]",
	    "peers[0]: endpoint", "peer bad endpoint");
	bad("peers", "[{\"publicKey\":\"" P2PUB "\",\"allowedIps\":"
	    "[\"10.0.0.0/40\"]}]", "allowedIps[0]", "peer bad aip");

	/* hopType. */
	bad("hopType", "\"TripleHop\"", "hopType: unknown", "unknown hopType");

	/* Missing required fields. */
	bad("privateKey", NULL, "privateKey: missing", "no privateKey");
	bad("publicKey", NULL, "publicKey: missing", "no publicKey");
	bad("serverPublicKey", NULL, "serverPublicKey: missing",
	    "no serverPublicKey");
	bad("serverPort", NULL, "serverPort: missing", "no serverPort");
	bad("allowedIPAddressRanges", NULL, "allowedIPAddressRanges: missing",
	    "no ranges");

	o = json_tokener_parse(base_json);
	json_object_object_del(o, "serverIpv4AddrIn");
	json_object_object_del(o, "serverIpv6AddrIn");
	code = NULL;
	is_int(parse(o, &conf, &ex, &code, err), -1, "no endpoint refused");
	ok(strstr(err, "serverIpv4AddrIn or serverIpv6AddrIn") != NULL,
	    "no endpoint message: %s", err);
	conf_free(&conf);
	json_object_object_del(o, "deviceIpv4Address");
	json_object_object_del(o, "deviceIpv6Address");
	json_object_object_add(o, "serverIpv4AddrIn",
	    json_object_new_string("1.2.3.4"));
	is_int(parse(o, &conf, &ex, &code, err), -1, "no device address");
	ok(strstr(err, "deviceIpv4Address or deviceIpv6Address") != NULL,
	    "no device address message: %s", err);
	conf_free(&conf);
	json_object_put(o);

	o = json_object_new_array();
	is_int(parse(o, &conf, &ex, &code, err), -1, "array refused");
	is_str(code, "bad-config", "array code");
	conf_free(&conf);
	json_object_put(o);
}

/* Every field of two configurations, value by value. */
static void
same_conf(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	char	 x[64], y[64];
	size_t	 i, j;

	is_mem(b->privkey, a->privkey, WG_KEY_LEN, "same private key");
	is_int(b->listen_port, a->listen_port, "same listen port");
	is_int(b->mtu, a->mtu, "same mtu");
	is_int(b->killswitch, a->killswitch, "same killSwitch");
	is_int(b->allowlan, a->allowlan, "same allowLan");
	is_int(b->hop, a->hop, "same hop type");
	is_int(b->naddrs, a->naddrs, "same address count");
	for (i = 0; i < a->naddrs && i < b->naddrs; i++)
		is_str(prefix_fmt(&b->addrs[i], y, sizeof(y)),
		    prefix_fmt(&a->addrs[i], x, sizeof(x)), "address %zu", i);
	is_int(b->ndns, a->ndns, "same DNS count");
	for (i = 0; i < a->ndns && i < b->ndns; i++)
		is_str(prefix_fmt(&b->dns[i], y, sizeof(y)),
		    prefix_fmt(&a->dns[i], x, sizeof(x)), "DNS %zu", i);
	is_int(b->nsearch, a->nsearch, "same search domain count");
	for (i = 0; i < a->nsearch && i < b->nsearch; i++)
		is_str(b->search[i], a->search[i], "search domain %zu", i);
	is_int(b->npeers, a->npeers, "same peer count");
	for (i = 0; i < a->npeers && i < b->npeers; i++) {
		is_mem(b->peers[i].pubkey, a->peers[i].pubkey, WG_KEY_LEN,
		    "peer %zu key", i);
		is_int(b->peers[i].has_psk, a->peers[i].has_psk,
		    "peer %zu has a PSK as before", i);
		is_mem(b->peers[i].psk, a->peers[i].psk, WG_KEY_LEN,
		    "peer %zu PSK", i);
		is_str(endpoint_fmt(&b->peers[i].endpoint, y, sizeof(y)),
		    endpoint_fmt(&a->peers[i].endpoint, x, sizeof(x)),
		    "peer %zu endpoint", i);
		is_int(b->peers[i].keepalive, a->peers[i].keepalive,
		    "peer %zu keepalive", i);
		is_int(b->peers[i].naips, a->peers[i].naips,
		    "peer %zu allowed IP count", i);
		for (j = 0; j < a->peers[i].naips && j < b->peers[i].naips;
		    j++)
			is_str(prefix_fmt(&b->peers[i].aips[j], y, sizeof(y)),
			    prefix_fmt(&a->peers[i].aips[j], x, sizeof(x)),
			    "peer %zu allowed IP %zu", i, j);
	}
}

/*
 * vpnctl up sends proto_activate_json(conf): parsed back it must be the
 * same configuration, field by field (keys, PSKs of every peer, allowed
 * IP values, resolvers, search domains, port, flags).
 */
static void
test_roundtrip(void)
{
	struct json_object		*o, *o2;
	struct tunnel_conf		 conf, conf2;
	struct proto_activate_extra	 ex, ex2;
	const char			*code;
	char				 err[PROTO_ERRLEN];

	o = json_tokener_parse(base_json);
	json_object_object_add(o, "peers", json_tokener_parse(
	    "[{\"publicKey\":\"" P2PUB "\",\"presharedKey\":\"" PSK "\","
	    "\"endpoint\":\"192.0.2.1:51821\","
	    "\"allowedIps\":[\"192.168.7.0/24\",\"fd00:7::/48\"],"
	    "\"persistentKeepalive\":10},"
	    "{\"publicKey\":\"" P3PUB "\",\"presharedKey\":\"" PSK3 "\","
	    "\"endpoint\":\"[2001:db8::9]:51822\","
	    "\"allowedIps\":[\"192.168.9.0/25\",\"192.168.9.128/26\"],"
	    "\"persistentKeepalive\":0}]"));
	json_object_object_add(o, "presharedKey",
	    json_object_new_string(PSK2));
	json_object_object_add(o, "mtu", json_object_new_int(1400));
	json_object_object_add(o, "listenPort", json_object_new_int(51999));
	json_object_object_add(o, "killSwitch", json_object_new_boolean(0));
	json_object_object_add(o, "allowLan", json_object_new_boolean(1));
	json_object_object_add(o, "dnsServers", json_tokener_parse(
	    "[\"10.64.0.1\",\"10.64.0.2\",\"fc00:bbbb::53\"]"));
	json_object_object_add(o, "searchDomains", json_tokener_parse(
	    "[\"corp.example\",\"lab.example\"]"));
	is_int(parse(o, &conf, &ex, &code, err), 0, "roundtrip source: %s",
	    err);
	ok(conf.npeers == 3 && conf.ndns == 3 && conf.nsearch == 2 &&
	    conf.peers[0].has_psk && conf.peers[2].has_psk,
	    "roundtrip source has three peers with PSKs, resolvers, domains");
	o2 = proto_activate_json(&conf, &ex, err, sizeof(err));
	ok(o2 != NULL, "activate JSON from conf");
	is_int(parse(o2, &conf2, &ex2, &code, err), 0,
	    "it parses back: %s", err);
	same_conf(&conf, &conf2);
	conf_free(&conf);
	conf_free(&conf2);
	proto_put_secret(o2);
	json_object_put(o);

	conf_init(&conf);
	ok(proto_activate_json(&conf, NULL, err, sizeof(err)) == NULL,
	    "no key, no JSON");
	conf_free(&conf);
}

static void
check_keys(struct json_object *o, const char *const *want, size_t n,
    const char *name)
{
	size_t	 i, cnt = 0;

	json_object_object_foreach(o, key, val) {
		(void)val;
		for (i = 0; i < n; i++)
			if (strcmp(key, want[i]) == 0)
				break;
		ok(i < n, "%s: expected field %s", name, key);
		cnt++;
	}
	is_int(cnt, n, "%s: %zu fields", name, n);
}

static void
test_status(void)
{
	static const char *const off_keys[] = {
		"type", "version", "features", "connected", "state"
	};
	static const char *const on_keys[] = {
		"type", "version", "features", "connected", "state",
		"serverIpv4Gateway", "deviceIpv4Address", "date", "txBytes",
		"rxBytes", "deviceIpv6Address", "serverIpv6Gateway",
		"handshakeTime", "uptimeSec", "interface", "peers"
	};
	static const char *const peer_keys[] = {
		"publicKey", "endpoint", "allowedIps", "lastHandshake",
		"handshakeAgeSec", "rxAgeSec", "rxBytes", "txBytes"
	};
	struct proto_status		 st;
	struct proto_peer_status	 ps;
	struct prefix			 aips[2];
	struct json_object		*o, *v, *p;

	memset(&st, 0, sizeof(st));
	st.state = "disconnected";
	o = proto_status_json(&st);
	check_keys(o, off_keys, nitems(off_keys), "disconnected");
	is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"type\":\"status\",\"version\":\"" VPND_VERSION "\","
	    "\"features\":[],\"connected\":false,\"state\":\"disconnected\"}",
	    "disconnected status, exactly");
	json_object_put(o);

	memset(&ps, 0, sizeof(ps));
	key_from_base64(ps.pubkey, SPUB);
	endpoint_parse("185.65.134.82:51820", &ps.endpoint);
	prefix_parse("0.0.0.0/0", &aips[0]);
	prefix_parse("::/0", &aips[1]);
	ps.aips = aips;
	ps.naips = 2;
	ps.last_handshake = 1755699754;
	ps.handshake_age_ms = 65999;
	ps.rx_age_ms = 1500;
	ps.rx_bytes = 90311;
	ps.tx_bytes = 48213;
	st.state = "connected";
	st.connected = true;
	st.ifname = "vpn0";
	prefix_parse("10.66.12.34/32", &st.addr4);
	prefix_parse("fc00:bbbb:bbbb:bb01::3:abcd/128", &st.addr6);
	addr_parse("10.64.0.1", &st.gw4);
	addr_parse("fc00:bbbb:bbbb:bb01::1", &st.gw6);
	st.has_addr4 = st.has_addr6 = st.has_gw4 = st.has_gw6 = true;
	st.first_handshake = 1755699754;	/* Wed Aug 20 14:22:34 2025 UTC */
	st.uptime = 12;
	st.rx_bytes = 90311;
	st.tx_bytes = 48213;
	st.peers = &ps;
	st.npeers = 1;
	o = proto_status_json(&st);
	check_keys(o, on_keys, nitems(on_keys), "connected");
	json_object_object_get_ex(o, "connected", &v);
	ok(json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v), "connected is true");
	json_object_object_get_ex(o, "date", &v);
	is_str(json_object_get_string(v), "Wed Aug 20 14:22:34 2025",
	    "date in Qt TextDate form");
	json_object_object_get_ex(o, "handshakeTime", &v);
	is_str(json_object_get_string(v), "2025-08-20T14:22:34Z",
	    "handshakeTime ISO 8601");
	json_object_object_get_ex(o, "txBytes", &v);
	ok(json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 48213, "txBytes number");
	json_object_object_get_ex(o, "rxBytes", &v);
	ok(json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 90311, "rxBytes number");
	json_object_object_get_ex(o, "deviceIpv4Address", &v);
	is_str(json_object_get_string(v), "10.66.12.34/32", "device v4");
	json_object_object_get_ex(o, "serverIpv4Gateway", &v);
	is_str(json_object_get_string(v), "10.64.0.1", "gateway v4");
	json_object_object_get_ex(o, "uptimeSec", &v);
	is_int(json_object_get_int64(v), 12, "uptime");
	json_object_object_get_ex(o, "peers", &v);
	ok(json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) == 1, "one peer");
	p = json_object_array_get_idx(v, 0);
	check_keys(p, peer_keys, nitems(peer_keys), "peer");
	json_object_object_get_ex(p, "publicKey", &v);
	is_str(json_object_get_string(v), SPUB, "peer key");
	json_object_object_get_ex(p, "endpoint", &v);
	is_str(json_object_get_string(v), "185.65.134.82:51820", "endpoint");
	json_object_object_get_ex(p, "allowedIps", &v);
	is_str(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), "[\"0.0.0.0/0\",\"::/0\"]",
	    "allowed ips");
	json_object_object_get_ex(p, "lastHandshake", &v);
	is_int(json_object_get_int64(v), 1755699754, "lastHandshake");
	json_object_object_get_ex(p, "handshakeAgeSec", &v);
	is_int(json_object_get_int64(v), 65, "handshakeAgeSec: whole seconds");
	json_object_object_get_ex(p, "rxAgeSec", &v);
	is_int(json_object_get_int64(v), 1, "rxAgeSec");
	json_object_put(o);

	/* Never: no age fields; a reason shows as stateReason. */
	ps.handshake_age_ms = ps.rx_age_ms = -1;
	st.reason = "no handshake with x for 90 s";
	o = proto_status_json(&st);
	json_object_object_get_ex(o, "peers", &v);
	p = json_object_array_get_idx(v, 0);
	ok(!json_object_object_get_ex(p, "handshakeAgeSec", NULL) &&
	    !json_object_object_get_ex(p, "rxAgeSec", NULL),
	    "no handshake, nothing received: no age fields");
	ok(json_object_object_get_ex(o, "stateReason", &v) &&
	    strcmp(json_object_get_string(v), st.reason) == 0,
	    "stateReason");
	json_object_put(o);
	st.reason = NULL;
	ps.handshake_age_ms = ps.rx_age_ms = 0;

	/* Counters past INT64_MAX are clamped, not wrapped negative. */
	st.tx_bytes = UINT64_MAX;
	o = proto_status_json(&st);
	json_object_object_get_ex(o, "txBytes", &v);
	ok(json_object_get_int64(v) == INT64_MAX, "huge counter clamped");
	json_object_put(o);
}

static void
test_dates(void)
{
	char	 buf[PROTO_DATE_LEN];

	is_str(proto_fmt_date(1754402554, buf, sizeof(buf)),
	    "Tue Aug 5 14:02:34 2025", "day is not padded, like Qt");
	is_str(proto_fmt_iso8601(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z",
	    "epoch ISO");

	{
		struct json_object *o = proto_version_json(), *v;

		json_object_object_get_ex(o, "protocol", &v);
		is_int(json_object_get_int(v), PROTO_VERSION, "version protocol");
		json_object_put(o);
	}
}

int
main(void)
{
	/* The Qt date is local time; pin it so the test is deterministic. */
	setenv("TZ", "UTC", 1);
	tzset();
	plan(319);
	test_valid();
	test_extensions();
	test_bad();
	test_roundtrip();
	test_status();
	test_dates();
	return done_testing();
}

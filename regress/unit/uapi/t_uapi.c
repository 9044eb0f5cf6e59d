/*
 * t_uapi.c -- the WireGuard UAPI text protocol as netmgr parses and
 * prints it: whole requests, requests in pieces, and malformed input
 * (overlong lines, NUL bytes, unknown operations and keys, bad hex,
 * numbers out of range, a get without its empty line, a set of many
 * allowed_ip lines and one of too many lines); the get reply for a
 * configuration with counters, and for no tunnel at all.
 *
 * A set is recorded as read and applied to a copy of a configuration:
 * peers added, updated (update_only skips an unknown one), removed,
 * replaced all at once; allowed IPs added or replaced; endpoint,
 * keepalive, preshared key (zeros remove it), listen port, private key,
 * fwmark (0 is the default mark); an allowed IP given to a second peer
 * moves there, as in wg(8). Refused whole, the configuration it
 * started from untouched: a private key of zeros, a route the parent
 * refuses, a mark naming the kernel's table, too many peers or allowed
 * IPs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"
#include "uapi.h"
#include "vpnd.h"

#define K1	"e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2	"c15a3d7c0c2a2b7d2a8ac0a5d2f6a3f2b0a9b2b0c8d1c4e5f6a7b8c9d0e1f203"

static int	 run(const char *, size_t, struct uapi_parser *, size_t *);
static int	 req(const char *, int *err);

/* Feeds buf whole; returns the parser's verdict. */
static int
run(const char *buf, size_t len, struct uapi_parser *p, size_t *used)
{
	uapi_parser_init(p);
	return uapi_parse(p, buf, len, used);
}

/* A set or get request as a string: verdict, and errno in *err. */
static int
req(const char *s, int *err)
{
	struct uapi_parser	 p;
	size_t			 used;
	int			 r;

	r = run(s, strlen(s), &p, &used);
	*err = p.err;
	uapi_parser_clear(&p);
	return r;
}

/* A set applied to cur: the errno; out holds the result when 0. */
static int
apply(const char *s, const struct tunnel_conf *cur, struct tunnel_conf *out)
{
	struct uapi_parser	 p;
	char			 err[256];
	size_t			 used;
	int			 r;

	if (run(s, strlen(s), &p, &used) != UAPI_DONE || p.err != 0) {
		r = p.err != 0 ? p.err : -1;
		uapi_parser_clear(&p);
		conf_init(out);
		return r;
	}
	r = uapi_set_apply(&p.set, cur, out, err, sizeof(err));
	if (r != 0)
		diag("refused: %s", err);
	uapi_parser_clear(&p);
	return r;
}

static void
base_conf(struct tunnel_conf *c)
{
	struct peer_conf	*pc;
	struct prefix		 pfx;

	conf_init(c);
	c->has_privkey = true;
	memset(c->privkey, 7, WG_KEY_LEN);
	c->listen_port = 51820;
	pc = conf_add_peer(c);
	unhex(K1, pc->pubkey, WG_KEY_LEN);
	prefix_parse("10.0.0.0/8", &pfx);
	peer_add_aip(pc, &pfx);
	pc->keepalive = 25;
}

static void
test_apply(void)
{
	struct tunnel_conf	 cur, out;
	char			 buf[64];
	uint8_t			 k2[WG_KEY_LEN];

	base_conf(&cur);
	unhex(K2, k2, WG_KEY_LEN);

	is_int(apply("set=1\npublic_key=" K2 "\nendpoint=192.0.2.1:51820\n"
	    "allowed_ip=10.9.0.0/16\n\n", &cur, &out), 0, "a peer added");
	ok(out.npeers == 2 && memcmp(out.peers[1].pubkey, k2, WG_KEY_LEN) ==
	    0 && out.peers[1].naips == 1, "... with its allowed IP");
	is_str(endpoint_fmt(&out.peers[1].endpoint, buf, sizeof(buf)),
	    "192.0.2.1:51820", "... and endpoint");
	ok(cur.npeers == 1, "the configuration applied to is untouched");
	conf_free(&out);

	is_int(apply("set=1\npublic_key=" K1 "\nallowed_ip=10.1.0.0/16\n"
	    "persistent_keepalive_interval=0\npreshared_key=" K2 "\n\n",
	    &cur, &out), 0, "a peer updated");
	ok(out.npeers == 1 && out.peers[0].naips == 2 &&
	    out.peers[0].keepalive == 0 && out.peers[0].has_psk,
	    "... allowed IP added, keepalive off, preshared key set");
	conf_free(&out);

	is_int(apply("set=1\npublic_key=" K1 "\nreplace_allowed_ips=true\n"
	    "allowed_ip=10.2.0.0/16\npreshared_key=" "0000000000000000000000"
	    "000000000000000000000000000000000000000000\n\n", &cur, &out), 0,
	    "allowed IPs replaced");
	ok(out.peers[0].naips == 1 && out.peers[0].aips[0].addr[1] == 2 &&
	    !out.peers[0].has_psk, "... one left; a zero preshared key "
	    "removes it");
	conf_free(&out);

	is_int(apply("set=1\npublic_key=" K2 "\nupdate_only=true\n"
	    "allowed_ip=10.9.0.0/16\n\n", &cur, &out), 0,
	    "update_only of an unknown peer");
	is_int(out.npeers, 1, "... adds nothing");
	conf_free(&out);

	is_int(apply("set=1\npublic_key=" K1 "\nremove=true\n\n", &cur,
	    &out), 0, "a peer removed");
	is_int(out.npeers, 0, "... none left");
	conf_free(&out);

	is_int(apply("set=1\nreplace_peers=true\npublic_key=" K2 "\n"
	    "allowed_ip=10.9.0.0/16\n\n", &cur, &out), 0, "peers replaced");
	ok(out.npeers == 1 && memcmp(out.peers[0].pubkey, k2, WG_KEY_LEN) ==
	    0, "... by the one given");
	conf_free(&out);

	is_int(apply("set=1\nlisten_port=40000\nfwmark=51820\nprivate_key="
	    K2 "\n\n", &cur, &out), 0, "interface keys");
	ok(out.listen_port == 40000 && out.fwmark == 51820 &&
	    memcmp(out.privkey, k2, WG_KEY_LEN) == 0,
	    "... port, mark and private key");
	conf_free(&out);

	is_int(apply("set=1\nprivate_key=" "0000000000000000000000000000000000"
	    "000000000000000000000000000000\n\n", &cur, &out), EINVAL,
	    "a private key of zeros: EINVAL");
	is_int(apply("set=1\nfwmark=0\n\n", &cur, &out), 0,
	    "fwmark 0 (what wg setconf sends without FwMark)");
	is_int(conf_fwmark(&out), CONF_DEFAULT_FWMARK, "... is the default");
	conf_free(&out);
	/* wg set wg0 peer K2 allowed-ips 10.0.0.0/8: moved, not shared */
	is_int(apply("set=1\npublic_key=" K2 "\nallowed_ip=10.0.0.0/8\n"
	    "allowed_ip=10.9.0.0/16\n\n", &cur, &out), 0,
	    "an allowed IP of one peer given to another");
	ok(out.npeers == 2 && out.peers[0].naips == 0 &&
	    out.peers[1].naips == 2, "... moves: the first peer loses it");
	conf_free(&out);
	is_int(apply("set=1\npublic_key=" K2 "\nallowed_ip=10.0.0.0/8\n"
	    "public_key=" K2 "\nremove=true\n\n", &cur, &out), 0,
	    "moved to a peer, then that peer removed");
	ok(out.npeers == 1 && out.peers[0].naips == 0,
	    "... the first peer does not get it back");
	conf_free(&out);
	is_int(apply("set=1\npublic_key=" K2 "\nallowed_ip=10.0.0.0/9\n\n",
	    &cur, &out), 0, "a narrower prefix given to another peer");
	ok(out.peers[0].naips == 1 && out.peers[1].naips == 1,
	    "... leaves the wider one where it was");
	conf_free(&out);
	is_int(apply("set=1\nfwmark=254\n\n", &cur, &out), EINVAL,
	    "fwmark naming main (Table = auto): EINVAL");
	is_int(apply("set=1\npublic_key=" K2 "\nallowed_ip=10.3.0.0/16\n"
	    "allowed_ip=169.254.169.254/32\n\n", &cur, &out), EINVAL,
	    "a route the parent refuses (link-local): EINVAL");
	is_int(apply("set=1\npublic_key=" K2 "\nallowed_ip=127.0.0.0/8\n\n",
	    &cur, &out), EINVAL, "a loopback route: EINVAL");
	ok(cur.npeers == 1 && cur.peers[0].naips == 1 &&
	    cur.listen_port == 51820, "refusals leave the configuration");
	conf_free(&cur);
}

/* More peers than an activate takes: E2BIG. */
static void
test_apply_limits(void)
{
	struct tunnel_conf	 cur, out;
	char			*s;
	size_t			 i, len = 200 * (CONF_MAX_PEERS + 2);

	base_conf(&cur);
	if ((s = malloc(len)) == NULL)
		abort();
	strlcpy(s, "set=1\n", len);
	for (i = 0; i < CONF_MAX_PEERS; i++)
		snprintf(s + strlen(s), len - strlen(s), "public_key="
		    "%064zx\nallowed_ip=10.%zu.%zu.0/24\n", i + 1, i / 256,
		    i % 256);
	strlcat(s, "\n", len);
	is_int(apply(s, &cur, &out), E2BIG, "%d new peers on top of one: "
	    "E2BIG", CONF_MAX_PEERS);
	free(s);
	conf_free(&cur);
}

static void
test_framing(void)
{
	struct uapi_parser	 p;
	const char		*get = "get=1\n\ntrailing";
	char			 big[UAPI_LINE_MAX + 16];
	size_t			 used, i;
	int			 r = UAPI_MORE, err;

	r = run(get, strlen(get), &p, &used);
	is_int(r, UAPI_DONE, "get=1 and an empty line: a whole request");
	is_int(p.op, UAPI_OP_GET, "... a get");
	is_int(used, 7, "... what follows it is not consumed");

	uapi_parser_init(&p);
	for (i = 0; i < 7 && (r = uapi_parse(&p, get + i, 1, &used)) ==
	    UAPI_MORE; i++)
		;
	ok(r == UAPI_DONE && i == 6, "get=1 byte by byte: done at the "
	    "last byte");

	is_int(req("get=1\n", &err), UAPI_MORE, "get without its empty "
	    "line waits for more");
	is_int(req("get=1", &err), UAPI_MORE, "a line without its newline "
	    "waits for more");
	is_int(req("get=2\n\n", &err), UAPI_BAD, "get=2 is malformed");
	is_int(err, EINVAL, "... EINVAL");
	is_int(req("delete=1\n\n", &err), UAPI_BAD, "an unknown operation "
	    "is malformed");
	is_int(req("\n", &err), UAPI_BAD, "an empty first line is "
	    "malformed");
	is_int(req("get=1\nprivate_key=" K1 "\n\n", &err), UAPI_BAD,
	    "get with a key is malformed");

	r = run("get=1\0\n\n", 8, &p, &used);
	is_int(r, UAPI_BAD, "a NUL byte is malformed");
	is_int(p.err, EINVAL, "... EINVAL");
	is_int(used, 6, "... stopped at the NUL");

	memset(big, 'a', sizeof(big));
	r = run(big, sizeof(big), &p, &used);
	is_int(r, UAPI_BAD, "an overlong line is malformed");
	is_int(p.err, EMSGSIZE, "... EMSGSIZE");
	ok(used < sizeof(big), "... stopped before its end");
	memcpy(big, "set=1\nallowed_ip=", 17);
	r = run(big, sizeof(big), &p, &used);
	is_int(r, UAPI_BAD, "an overlong set line is malformed");
}

static void
test_set(void)
{
	char	*s;
	size_t	 i, len;
	int	 err, r;

	is_int(req("set=1\nprivate_key=" K1 "\nlisten_port=51820\n"
	    "fwmark=0\nreplace_peers=true\npublic_key=" K2 "\n"
	    "preshared_key=" K1 "\nendpoint=192.0.2.1:51820\n"
	    "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
	    "allowed_ip=10.0.0.0/8\nallowed_ip=::/0\nprotocol_version=1\n"
	    "public_key=" K1 "\nremove=true\n\n", &err), UAPI_DONE,
	    "a valid set is a whole request");
	is_int(err, 0, "... valid");
	is_int(req("set=1\npublic_key=" K2 "\nendpoint=[2001:db8::1]:1\n"
	    "update_only=true\n\n", &err), UAPI_DONE, "IPv6 endpoint");
	is_int(err, 0, "... valid");
	req("set=1\nprivate_key=" "E84B5A6D2717C1003A13B431570353DBACA9146C"
	    "F150C5F8575680FEBA52027A\n\n", &err);
	is_int(err, 0, "upper-case hex is hex");

#define BAD(what, body) do {						\
	r = req("set=1\n" body "\n\n", &err);				\
	ok(r == UAPI_DONE && err == EINVAL, "set: %s: EINVAL", what);	\
} while (0)
	BAD("short key", "private_key=" "e84b");
	BAD("long key", "private_key=" K1 "00");
	BAD("non-hex key", "private_key=" "g84b5a6d2717c1003a13b431570353db"
	    "aca9146cf150c5f8575680feba52027a");
	BAD("base64 key", "private_key=6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/"
	    "rpSAno=");
	BAD("unknown key", "frobnicate=1");
	BAD("no '='", "private_key");
	BAD("empty key", "=1");
	BAD("port 65536", "listen_port=65536");
	BAD("huge port", "listen_port=99999999999999999999999999999");
	BAD("negative port", "listen_port=-1");
	BAD("port with a sign", "listen_port=+1");
	BAD("leading zero", "listen_port=0012");
	BAD("empty number", "listen_port=");
	BAD("fwmark 2^32", "fwmark=4294967296");
	BAD("replace_peers=yes", "replace_peers=yes");
	BAD("peer key before public_key", "endpoint=192.0.2.1:1");
	BAD("preshared_key before public_key", "preshared_key=" K1);
	BAD("private_key in a peer", "public_key=" K1 "\nprivate_key=" K2);
	BAD("listen_port in a peer", "public_key=" K1 "\nlisten_port=1");
	BAD("keepalive 65536", "public_key=" K1
	    "\npersistent_keepalive_interval=65536");
	BAD("bad endpoint", "public_key=" K1 "\nendpoint=192.0.2.1");
	BAD("host-name endpoint", "public_key=" K1 "\nendpoint=example.org:1");
	BAD("allowed_ip without length", "public_key=" K1
	    "\nallowed_ip=10.0.0.1");
	BAD("allowed_ip /33", "public_key=" K1 "\nallowed_ip=10.0.0.0/33");
	BAD("allowed_ip garbage", "public_key=" K1 "\nallowed_ip=x/8");
	BAD("protocol_version=2", "public_key=" K1 "\nprotocol_version=2");
#undef BAD
	r = req("set=1\nfrobnicate=1\nprivate_key=" K1 "\n\n", &err);
	ok(r == UAPI_DONE && err == EINVAL, "one bad line spoils the "
	    "request, read to its end");

	/* Allowed IPs a peer: as many as an activate takes, E2BIG past. */
	len = 64 + 30 * 20000;
	if ((s = malloc(len)) == NULL)
		abort();
	strlcpy(s, "set=1\npublic_key=" K1 "\n", len);
	for (i = 0; i < CONF_MAX_AIPS; i++)
		snprintf(s + strlen(s), len - strlen(s),
		    "allowed_ip=10.%zu.%zu.0/24\n", i / 256 % 256, i % 256);
	strlcat(s, "\n", len);
	r = req(s, &err);
	ok(r == UAPI_DONE && err == 0, "%d allowed_ip lines: valid",
	    CONF_MAX_AIPS);
	strlcpy(s, "set=1\npublic_key=" K1 "\n", len);
	for (i = 0; i < 20000; i++)
		snprintf(s + strlen(s), len - strlen(s),
		    "allowed_ip=10.%zu.%zu.0/24\n", i / 256 % 256, i % 256);
	strlcat(s, "\n", len);
	r = req(s, &err);
	ok(r == UAPI_DONE && err == E2BIG, "20000 allowed_ip lines for one "
	    "peer: E2BIG, read to the end");
	free(s);
	len = 8 + 2 * (UAPI_SET_LINES_MAX + 2);
	if ((s = malloc(len)) == NULL)
		abort();
	strlcpy(s, "set=1\n", len);
	for (i = 6; i < len - 1; i += 2)
		memcpy(s + i, "x\n", 2);
	s[len - 1] = '\0';
	r = req(s, &err);
	ok(r == UAPI_BAD && err == E2BIG, "more than %d lines: E2BIG",
	    UAPI_SET_LINES_MAX);
	free(s);
}

static void
test_get(void)
{
	struct tunnel_conf	 c;
	struct peer_conf	*pc;
	struct prefix		 pfx;
	struct imsg_wg_stats	 st;
	struct uapi_buf		 b;
	size_t			 i;
	int			 okall;

	memset(&b, 0, sizeof(b));
	uapi_get_format(&b, NULL, 0x7670, NULL, 0);
	ok(b.data != NULL && strcmp(b.data, "errno=0\n\n") == 0,
	    "no tunnel: an empty device");
	uapi_buf_free(&b);

	conf_init(&c);
	unhex(K1, c.privkey, sizeof(c.privkey));
	c.has_privkey = true;
	c.listen_port = 51820;
	pc = conf_add_peer(&c);
	unhex(K2, pc->pubkey, sizeof(pc->pubkey));
	unhex(K1, pc->psk, sizeof(pc->psk));
	pc->has_psk = true;
	endpoint_parse("192.0.2.1:51820", &pc->endpoint);
	pc->keepalive = 25;
	prefix_parse("10.0.0.0/8", &pfx);
	peer_add_aip(pc, &pfx);
	prefix_parse("fd00::/64", &pfx);
	peer_add_aip(pc, &pfx);
	pc = conf_add_peer(&c);
	unhex(K1, pc->pubkey, sizeof(pc->pubkey));

	memset(&st, 0, sizeof(st));
	unhex(K2, st.pubkey, sizeof(st.pubkey));
	st.rx_bytes = 1234;
	st.tx_bytes = 18446744073709551615ULL;
	st.last_handshake = 1700000000;
	endpoint_parse("[2001:db8::1]:4500", &st.endpoint);

	uapi_get_format(&b, &c, 0x7670, &st, 1);
	is_str(b.data, "private_key=" K1 "\nlisten_port=51820\n"
	    "fwmark=30320\n"
	    "public_key=" K2 "\npreshared_key=" K1 "\nprotocol_version=1\n"
	    "endpoint=[2001:db8::1]:4500\n"
	    "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=0\n"
	    "tx_bytes=18446744073709551615\nrx_bytes=1234\n"
	    "persistent_keepalive_interval=25\n"
	    "allowed_ip=10.0.0.0/8\nallowed_ip=fd00::/64\n"
	    "public_key=" K1 "\nprotocol_version=1\n"
	    "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
	    "tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n"
	    "errno=0\n\n", "get: every field, counters from tunworker's "
	    "endpoint");
	uapi_buf_free(&b);

	/* A full peer: the buffer grows across many reallocations. */
	for (i = 0; i < CONF_MAX_AIPS; i++) {
		pfx.af = AF_INET6;
		pfx.plen = 128;
		memset(pfx.addr, 0, sizeof(pfx.addr));
		pfx.addr[0] = 0xfd;
		pfx.addr[14] = (uint8_t)(i >> 8);
		pfx.addr[15] = (uint8_t)i;
		peer_add_aip(pc, &pfx);
	}
	uapi_get_format(&b, &c, 0, NULL, 0);
	okall = !b.failed && b.len > 1024 * 20 &&
	    strcmp(b.data + b.len - 9, "errno=0\n\n") == 0 &&
	    strstr(b.data, "fwmark") == NULL &&
	    strstr(b.data, "allowed_ip=fd00::3ff/128\n") != NULL;
	ok(okall, "get: %d allowed IPs, %zu bytes, complete", CONF_MAX_AIPS,
	    b.len);
	uapi_buf_free(&b);
	conf_free(&c);
}

int
main(void)
{
	plan_no_plan();
	test_framing();
	test_set();
	test_apply();
	test_apply_limits();
	test_get();
	return done_testing();
}

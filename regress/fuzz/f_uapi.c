/*
 * f_uapi.c -- the WireGuard UAPI request parser (netmgr's UAPI socket).
 * The first byte picks a chunk size: the input is fed whole and again in
 * chunks of that size, as reads deliver it, and both must agree on the
 * verdict, the operation, the errno and the bytes consumed. A valid set
 * is recorded alike both ways and applied to a configuration of one peer:
 * the result keeps to an activate's limits, or the set is refused with an
 * errno and nothing is left allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "uapi.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 try_apply(const struct uapi_parser *,
		    const struct uapi_parser *);

static int
feed(struct uapi_parser *p, const char *d, size_t n, size_t chunk,
    size_t *total)
{
	size_t	 off = 0, len, used;
	int	 r = UAPI_MORE;

	*total = 0;
	while (off < n) {
		len = n - off < chunk ? n - off : chunk;
		used = (size_t)-1;
		r = uapi_parse(p, d + off, len, &used);
		if (used > len || used == 0)
			abort();
		if (r == UAPI_MORE && used != len)
			abort();
		off += used;
		*total = off;
		if (r != UAPI_MORE)
			break;
	}
	if (p->len >= sizeof(p->line))
		abort();
	return r;
}

static void
try_apply(const struct uapi_parser *a, const struct uapi_parser *b)
{
	static struct tunnel_conf	 cur;
	static int			 init;
	struct peer_conf		*pc;
	struct prefix			 pfx;
	struct tunnel_conf		 out;
	char				 err[256];
	size_t				 i, naips = 0;

	if (a->set.npeers != b->set.npeers ||
	    a->set.has_privkey != b->set.has_privkey ||
	    a->set.port != b->set.port || a->set.fwmark != b->set.fwmark)
		abort();
	if (!init) {
		conf_init(&cur);
		cur.has_privkey = true;
		memset(cur.privkey, 7, WG_KEY_LEN);
		if ((pc = conf_add_peer(&cur)) == NULL)
			abort();
		memset(pc->pubkey, 0xe8, WG_KEY_LEN);
		if (prefix_parse("10.0.0.0/8", &pfx) == -1 ||
		    peer_add_aip(pc, &pfx) == -1)
			abort();
		init = 1;
	}
	if (uapi_set_apply(&a->set, &cur, &out, err, sizeof(err)) != 0) {
		if (out.peers != NULL || out.npeers != 0)
			abort();
		return;
	}
	if (out.npeers > CONF_MAX_PEERS || (out.has_privkey &&
	    key_is_zero(out.privkey)))
		abort();
	for (i = 0; i < out.npeers; i++) {
		if (out.peers[i].naips > CONF_MAX_AIPS)
			abort();
		naips += out.peers[i].naips;
	}
	if (naips > 8192 || cur.npeers != 1)
		abort();
	conf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct uapi_parser	 a, b;
	size_t			 chunk, ua, ub;
	int			 ra, rb;

	if (n < 1)
		return 0;
	chunk = (size_t)d[0] % 17 + 1;
	d++;
	n--;
	uapi_parser_init(&a);
	uapi_parser_init(&b);
	ra = feed(&a, (const char *)d, n, n == 0 ? 1 : n, &ua);
	rb = feed(&b, (const char *)d, n, chunk, &ub);
	if (ra != rb || ua != ub || a.op != b.op || a.err != b.err)
		abort();
	if (ra == UAPI_BAD && a.err == 0)
		abort();
	if (ra == UAPI_DONE && a.op == UAPI_OP_GET && a.err != 0)
		abort();
	if (ra == UAPI_DONE && a.op == UAPI_OP_SET && a.err == 0)
		try_apply(&a, &b);
	uapi_parser_clear(&a);
	uapi_parser_clear(&b);
	return 0;
}

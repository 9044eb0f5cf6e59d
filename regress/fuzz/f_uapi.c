/*
 * f_uapi.c -- the WireGuard UAPI request parser (netmgr's UAPI socket).
 * The first byte picks a chunk size: the input is fed whole and again in
 * chunks of that size, as reads deliver it, and both must agree on the
 * verdict, the operation, the errno and the bytes consumed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
	uapi_parser_clear(&a);
	uapi_parser_clear(&b);
	return 0;
}

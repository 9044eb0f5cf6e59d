/*
 * f_offload.c -- TSO segmentation of what the TUN hands us (first byte
 * odd), or GRO coalescing of a sequence of packets (first byte even; each
 * packet a 2-byte length then its bytes), every buffer of its exact size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static volatile uint32_t sink;
static struct gro	 g;

static void
emit(void *arg, uint8_t *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sink += p[i];
}

/*
 * Finish the train: gather its vectors (each must lie inside a buffer
 * the train still holds, or its head), then free the buffers it hands
 * back; any other buffer was freed when the train did not take it.
 */
static void
finish(void)
{
	struct iovec	*iov;
	size_t		 len, sum = 0;
	int		 cnt, i;

	if ((cnt = gro_finish(&g, &iov, &len)) == 0) {
		if (g.nref != 0)
			abort();
		return;
	}
	if (cnt != g.nref + 1)
		abort();
	for (i = 0; i < cnt; i++) {
		emit(NULL, iov[i].iov_base, iov[i].iov_len);
		sum += iov[i].iov_len;
	}
	if (sum != len)
		abort();
	for (i = 0; i < g.nref; i++)
		free(g.ref[i]);
	g.nref = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint8_t	*buf;
	size_t	 off, len;

	if (n < 1)
		return 0;
	if (d[0] & 1) {
		if ((buf = malloc(n)) == NULL)
			abort();
		memcpy(buf, d + 1, n - 1);
		(void)offload_tso(buf, n - 1, emit, NULL);
		free(buf);
		return 0;
	}
	memset(&g, 0, sizeof(g));
	for (off = 1; off + 2 <= n; off += len) {
		len = (size_t)d[off] << 8 | d[off + 1];
		off += 2;
		if (len > n - off)
			len = n - off;
		if ((buf = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(buf, d + off, len);
		if (gro_append(&g, buf, len, buf))
			continue;
		finish();
		if (!gro_start(&g, buf, len, buf))
			free(buf);
	}
	finish();
	return 0;
}

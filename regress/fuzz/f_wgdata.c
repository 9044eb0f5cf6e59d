/*
 * f_wgdata.c -- data over a live session: the input is the inner packet
 * A encrypts; B must decrypt it inside its buffer, trimmed to the IP
 * length (padding at most to 16), or drop it by its allowed IPs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t_wg_harness.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct h_node	*A, *B;
static struct wg_peer	*ab;
static uint8_t		 out[70000], pkt[70000], into[70000];

static void
setup(void)
{
	struct sockaddr_storage	 dst;
	struct wg_peer		*p;
	uint8_t			*plain;
	size_t			 olen, plen;

	A = h_node_new("10.0.0.1");
	B = h_node_new("10.0.0.2");
	ab = h_link(A, B, true, "0.0.0.0/0");
	h_link(B, A, true, "10.9.0.0/24");
	h_aip(B, wg_peer_lookup(B->dev, A->pub), "fd00::/64");
	wg_peer_initiate(ab);
	h_pump();
	/* a keepalive from A confirms the session at B */
	if (wg_encrypt(ab, NULL, 0, out, &olen, &dst) != WG_OK)
		abort();
	memcpy(pkt, out, olen);
	(void)wg_input(B->dev, pkt, olen, &A->addr, &plain, &plen, &p);
	h_drop_queue();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sockaddr_storage	 dst;
	struct wg_peer		*p;
	uint8_t			*plain;
	size_t			 olen, plen;

	if (A == NULL)
		setup();
	if (n > 65000)
		return 0;
	if (wg_encrypt(ab, d, n, out, &olen, &dst) != WG_OK)
		return 0;
	memcpy(pkt, out, olen);
	if (n & 1) {
		/* udp-rx's GRO path: decrypted into another buffer */
		if (wg_input_to(B->dev, pkt, olen, into, sizeof(into),
		    &A->addr, &plain, &plen, &p) == WG_DATA) {
			/* the IP length may reach into the zero padding */
			if (plen > ((n + 15) & ~(size_t)15) ||
			    memcmp(plain, d, plen < n ? plen : n) != 0)
				abort();
			if (plain != into + WG_DATA_HDR_LEN ||
			    memcmp(pkt, out, olen) != 0)
				abort();
		}
	} else if (wg_input(B->dev, pkt, olen, &A->addr, &plain, &plen,
	    &p) == WG_DATA) {
		if (plen > ((n + 15) & ~(size_t)15))
			abort();
		if (plain < pkt || plain + plen > pkt + olen)
			abort();
	}
	h_drop_queue();
	return 0;
}

/*
 * f_wgmsg.c -- every WireGuard message type as the Internet may send it.
 * Input byte 0 picks the message, byte 1 flags, the rest is its body:
 *   0  raw datagram to B, any length
 *   1  initiation to B, with a valid mac1 (so the Noise code is reached)
 *   2  response to A's pending initiation, with a valid mac1
 *   3  cookie reply to A's pending initiation
 *   4  data message for B's live session (its receiver index)
 * Flag 1 puts B under load (mac2 and the rate limiter); flag 2 keeps the
 * fuzzed receiver/sender index instead of the live one; flag 4 takes the
 * message as udp-rx's GRO path does (wg_input_to): read at an odd address
 * of a receive buffer, a data message decrypted into a buffer of exactly
 * its length; the message is left as it was, and the other buffer is
 * written only by a data message (its plaintext, or the zeros of a wipe).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "t_wg_harness.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct h_node	*A, *B;
static struct wg_peer	*ab;
static uint8_t		 buf[H_PKTLEN], rxbuf[H_PKTLEN + 1];
static int		 gro_path;

static void
session(void)
{
	wg_peer_initiate(ab);
	h_pump();
}

static void
setup(void)
{
	A = h_node_new("10.0.0.1");
	B = h_node_new("10.0.0.2");
	ab = h_link(A, B, true, "10.9.0.2/32");
	h_link(B, A, true, "10.9.0.1/32");
	session();
}

static void
deliver(struct h_node *from, struct h_node *to, size_t len)
{
	struct wg_peer	*p;
	uint8_t		*plain;
	size_t		 plen;

	uint8_t		*dst;
	size_t		 i;
	int		 r;

	if (!gro_path) {
		if (wg_input(to->dev, buf, len, &from->addr, &plain, &plen,
		    &p) == WG_DATA && (plain < buf || plain + plen > buf + len))
			abort();
		return;
	}
	memcpy(rxbuf + 1, buf, len);
	if ((dst = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memset(dst, 0xee, len);
	r = wg_input_to(to->dev, rxbuf + 1, len, dst, len, &from->addr,
	    &plain, &plen, &p);
	if (memcmp(rxbuf + 1, buf, len) != 0)
		abort();
	if (r == WG_DATA && (plain != dst + WG_DATA_HDR_LEN ||
	    plen + WG_DATA_OVERHEAD > len))
		abort();
	for (i = 0; i < len; i++)
		if (dst[i] != 0xee && (len < 4 || buf[0] != 4 ||
		    i < WG_DATA_HDR_LEN || i + NOISE_AUTHTAG_LEN >= len ||
		    (r != WG_DATA && dst[i] != 0)))
			abort();
	free(dst);
}

/* A's fresh initiation; returns its sender index. */
static uint32_t
a_initiates(void)
{
	struct h_pkt	*q;
	uint32_t	 idx = 0;

	h_drop_queue();
	wg_peer_initiate(ab);
	if ((q = h_peek()) != NULL && q->len == WG_MSG_INIT_LEN)
		memcpy(&idx, q->buf + 4, 4);
	h_drop_queue();
	return idx;
}

/* B's receiver index for data from A: a keepalive's header says it. */
static uint32_t
b_index(void)
{
	struct sockaddr_storage	 dst;
	uint8_t			 out[64];
	size_t			 olen;
	uint32_t		 idx = 0;

	if (wg_encrypt(ab, NULL, 0, out, &olen, &dst) == WG_OK)
		memcpy(&idx, out + 4, 4);
	else
		session();
	h_drop_queue();
	return idx;
}

static void
macs(struct h_node *to, size_t len)
{
	struct cookie_maker	 cm;

	cookie_maker_init(&cm, to->pub);
	cookie_add_macs(&cm, buf, len, h_clock);
	cookie_maker_clear(&cm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint32_t	 idx;
	uint8_t		 kind, flags;
	size_t		 len;

	if (A == NULL)
		setup();
	if (n < 2 || n - 2 > sizeof(buf))
		return 0;
	kind = d[0] % 5;
	flags = d[1];
	d += 2;
	n -= 2;
	wg_device_set_under_load(B->dev, flags & 1);
	gro_path = flags & 4;
	memset(buf, 0, sizeof(buf));
	switch (kind) {
	case 0:
		memcpy(buf, d, n);
		deliver(A, B, n);
		break;
	case 1:
		len = WG_MSG_INIT_LEN;
		memcpy(buf, d, MINIMUM(n, len));
		buf[0] = 1;
		buf[1] = buf[2] = buf[3] = 0;
		macs(B, len);
		deliver(A, B, len);
		break;
	case 2:
		len = WG_MSG_RESP_LEN;
		idx = a_initiates();
		memcpy(buf, d, MINIMUM(n, len));
		buf[0] = 2;
		buf[1] = buf[2] = buf[3] = 0;
		if (!(flags & 2))
			memcpy(buf + 8, &idx, 4);
		macs(A, len);
		deliver(B, A, len);
		break;
	case 3:
		len = WG_MSG_COOKIE_LEN;
		idx = a_initiates();
		memcpy(buf, d, MINIMUM(n, len));
		buf[0] = 3;
		buf[1] = buf[2] = buf[3] = 0;
		if (!(flags & 2))
			memcpy(buf + 4, &idx, 4);
		deliver(B, A, len);
		break;
	case 4:
		idx = b_index();
		len = MAXIMUM(n, WG_DATA_OVERHEAD);
		memcpy(buf, d, n);
		buf[0] = 4;
		buf[1] = buf[2] = buf[3] = 0;
		if (!(flags & 2))
			memcpy(buf + 4, &idx, 4);
		deliver(A, B, len);
		break;
	}
	h_drop_queue();
	h_advance(1000000);
	return 0;
}

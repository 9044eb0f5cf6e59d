/*
 * t_wg_hostile.c -- every malformed, forged, replayed or random datagram
 * is dropped, nothing crashes or reads past the datagram (each one is
 * delivered in a heap buffer of its exact size, for ASan), and the
 * session works afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_wg_harness.h"
#include "tap.h"

#define SEC	1000000000ULL

static struct h_node	*A, *B;
static struct wg_peer	*AB, *BA;

static int	 deliver(struct h_node *, struct h_node *, const uint8_t *,
		    size_t);
static int	 all_truncated(struct h_node *, struct h_node *,
		    const uint8_t *, size_t, size_t);
static int	 all_flips(struct h_node *, struct h_node *, const uint8_t *,
		    size_t, size_t);
static size_t	 take(uint8_t *);
static uint32_t	 rnd(uint32_t);
static void	 rnd_fill(uint8_t *, size_t);

/*
 * The junk is seeded and the seed printed: VPND_TEST_SEED=N reproduces a
 * failing run.
 */
static uint64_t		 rnd_state;

static uint32_t
rnd(uint32_t n)
{
	/* xorshift64* */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (uint32_t)((rnd_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

static void
rnd_fill(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = rnd(256);
}
static bool	 works(void);

static int
deliver(struct h_node *from, struct h_node *to, const uint8_t *pkt,
    size_t len)
{
	struct wg_peer	*peer;
	uint8_t		*buf, *plain;
	size_t		 plainlen;
	int		 r;

	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	if (len > 0)
		memcpy(buf, pkt, len);
	r = wg_input(to->dev, buf, len, &from->addr, &plain, &plainlen,
	    &peer);
	if (r == WG_DATA && (plain < buf || plain + plainlen > buf + len))
		r = -2;
	free(buf);
	return r;
}

/* How many of the lengths from..len-1 were not dropped. */
static int
all_truncated(struct h_node *from, struct h_node *to, const uint8_t *pkt,
    size_t from_len, size_t len)
{
	size_t	 l;
	int	 bad = 0;

	for (l = from_len; l < len; l++)
		if (deliver(from, to, pkt, l) != WG_DROP)
			bad++;
	h_drop_queue();
	return bad;
}

/* Flip each bit of bytes [0, upto): how many were not dropped. */
static int
all_flips(struct h_node *from, struct h_node *to, const uint8_t *pkt,
    size_t len, size_t upto)
{
	uint8_t	 m[H_PKTLEN];
	size_t	 i;
	int	 b, bad = 0;

	for (i = 0; i < upto; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(m, pkt, len);
			m[i] ^= 1 << b;
			if (deliver(from, to, m, len) != WG_DROP)
				bad++;
		}
	}
	h_drop_queue();
	return bad;
}

/* Take the next queued datagram off the wire. */
static size_t
take(uint8_t *buf)
{
	struct h_pkt	*q = h_peek();
	size_t		 len;

	if (q == NULL)
		return 0;
	len = q->len;
	memcpy(buf, q->buf, len);
	h_qhead = (h_qhead + 1) % H_QLEN;
	return len;
}

static bool
works(void)
{
	int	 a = A->ev_done, b = B->got[WG_DATA], c = A->got[WG_DATA];

	h_drop_queue();
	h_advance(SEC);
	wg_peer_initiate(AB);
	h_pump();
	if (A->ev_done != a + 1)
		return false;
	if (h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 64, 7) != WG_OK)
		return false;
	h_pump();
	if (h_send_ip(B, BA, "10.9.0.2", "10.9.0.1", 64, 8) != WG_OK)
		return false;
	h_pump();
	return B->got[WG_DATA] == b + 1 && A->got[WG_DATA] == c + 1;
}

int
main(void)
{
	uint8_t		 init[H_PKTLEN], resp[H_PKTLEN], cookie[H_PKTLEN];
	uint8_t		 data[H_PKTLEN], junk[H_PKTLEN], *big;
	size_t		 ilen, rlen, clen, dlen, n;
	uint32_t	 le;
	int		 i, bad;

	plan(43);
	h_reset();
	A = h_node_new("192.0.2.1");
	B = h_node_new("192.0.2.2");
	AB = h_link(A, B, true, "10.9.0.2/32");
	BA = h_link(B, A, false, "10.9.0.1/32");

	/* Initiation: a valid one, held back. */
	wg_peer_initiate(AB);
	ilen = take(init);
	is_int(ilen, WG_MSG_INIT_LEN, "captured an initiation");
	is_int(all_truncated(A, B, init, 0, ilen), 0,
	    "initiation truncated to 0..147: all dropped");
	memcpy(junk, init, ilen);
	junk[ilen] = 0;
	is_int(deliver(A, B, junk, ilen + 1), WG_DROP,
	    "initiation oversized: dropped");
	is_int(all_flips(A, B, init, ilen, ilen - 16), 0,
	    "initiation bit flips before mac2: all dropped");
	memcpy(junk, init, ilen);
	junk[ilen - 20] ^= 0xff;
	is_int(deliver(A, B, junk, ilen), WG_DROP, "bad mac1: dropped");
	is_int(deliver(A, B, init, ilen), WG_HANDLED,
	    "the untouched initiation still works");
	is_int(deliver(A, B, init, ilen), WG_DROP,
	    "replayed initiation (same timestamp): dropped");
	h_advance(SEC);
	is_int(deliver(A, B, init, ilen), WG_DROP,
	    "replayed initiation later: dropped");
	is_int(all_flips(A, B, init, ilen, ilen), 0,
	    "initiation bit flips in every byte after use: all dropped");

	/* Response: B answered the initiation above. */
	h_drop_queue();
	h_advance(SEC);
	wg_peer_initiate(AB);
	h_step();
	rlen = take(resp);
	is_int(rlen, WG_MSG_RESP_LEN, "captured a response");
	is_int(all_truncated(B, A, resp, 0, rlen), 0,
	    "response truncated to 0..91: all dropped");
	is_int(deliver(B, A, resp, rlen + 1), WG_DROP,
	    "response oversized: dropped");
	is_int(all_flips(B, A, resp, rlen, rlen - 16), 0,
	    "response bit flips before mac2: all dropped");
	is_int(A->ev_done, 0, "no session from forged responses");
	is_int(deliver(B, A, resp, rlen), WG_HANDLED,
	    "the untouched response still completes");
	is_int(A->ev_done, 1, "session up");
	is_int(deliver(B, A, resp, rlen), WG_DROP, 
	    "replayed response: dropped");
	is_int(all_flips(B, A, resp, rlen, rlen), 0,
	    "response bit flips in every byte after use: all dropped");
	h_pump();

	/* Cookie reply. */
	wg_device_set_under_load(B->dev, true);
	h_advance(SEC);
	wg_peer_initiate(AB);
	h_step();
	clen = take(cookie);
	is_int(clen, WG_MSG_COOKIE_LEN, "captured a cookie reply");
	is_int(all_truncated(B, A, cookie, 0, clen), 0,
	    "cookie truncated to 0..63: all dropped");
	is_int(deliver(B, A, cookie, clen + 1), WG_DROP,
	    "cookie oversized: dropped");
	is_int(all_flips(B, A, cookie, clen, clen), 0,
	    "cookie bit flips in every byte: all dropped");
	is_int(deliver(B, A, cookie, clen), WG_HANDLED,
	    "the untouched cookie is taken");
	is_int(deliver(B, A, cookie, clen), WG_DROP, 
	    "replayed cookie: dropped");
	wg_device_set_under_load(B->dev, false);
	h_drop_queue();

	/* Transport. */
	ok(works(), "session works before transport abuse");
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 100, 3), WG_OK,
	    "encrypted a data packet");
	dlen = take(data);
	is_int(dlen, 16 + 112 + 16, "padded to 16, plus header and tag");
	is_int(all_truncated(A, B, data, 0, dlen), 0,
	    "transport truncated to 0..len-1: all dropped");
	is_int(all_flips(A, B, data, dlen, dlen), 0,
	    "transport bit flips in every byte: all dropped");
	is_int(deliver(A, B, data, dlen), WG_DATA, "the untouched one: data");
	is_int(deliver(A, B, data, dlen), WG_DROP, 
	    "replayed transport: dropped");
	memcpy(junk, data, dlen);
	le = htole32(0x5a5a5a5a);
	memcpy(junk + 4, &le, 4);
	is_int(deliver(A, B, junk, dlen), WG_DROP,
	    "unknown receiver index: dropped");
	if ((big = calloc(1, WG_PKT_MAX + 64)) == NULL)
		abort();
	memcpy(big, data, dlen);
	is_int(deliver(A, B, big, WG_PKT_MAX + 1), WG_DROP,
	    "oversized transport: dropped");
	free(big);

	wg_peer_test_set_send_counter(AB, 20000);
	h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 1);
	is_int(h_step(), WG_DATA, "counter jumps ahead: accepted");
	wg_peer_test_set_send_counter(AB, 5);
	h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 1);
	is_int(h_step(), WG_DROP, "counter behind the window: dropped");
	wg_peer_test_set_send_counter(AB, 20000 - 100);
	h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 1);
	is_int(h_step(), WG_DATA, "counter inside the window: accepted");

	/* Inner packets that lie about their length. */
	{
		uint8_t	 in[64], out[128];
		size_t	 outlen;
		struct sockaddr_storage dst;

		h_ip4(in, 40, "10.9.0.1", "10.9.0.2", 0);
		in[2] = 0;
		in[3] = 200;	/* longer than the packet */
		wg_encrypt(AB, in, 40, out, &outlen, &dst);
		is_int(deliver(A, B, out, outlen), WG_DROP,
		    "inner length beyond the packet: dropped");
		in[0] = 0x75;	/* IP version 7 */
		in[3] = 40;
		wg_encrypt(AB, in, 40, out, &outlen, &dst);
		is_int(deliver(A, B, out, outlen), WG_DROP,
		    "inner IP version 7: dropped");
		wg_encrypt(AB, in, 10, out, &outlen, &dst);
		is_int(deliver(A, B, out, outlen), WG_DROP,
		    "inner packet too short: dropped");
	}

	/* Random junk, some of it with plausible types and sizes. */
	if (getenv("VPND_TEST_SEED") != NULL)
		rnd_state = strtoull(getenv("VPND_TEST_SEED"), NULL, 10);
	else
		randombytes_buf(&rnd_state, sizeof(rnd_state));
	rnd_state |= 1;
	diag("junk seed %llu (VPND_TEST_SEED to repeat)",
	    (unsigned long long)rnd_state);
	bad = 0;
	for (i = 0; i < 5000; i++) {
		static const size_t sizes[] = { 148, 92, 64, 32, 48, 1450 };

		n = rnd(1500);
		if (i % 2 == 0)
			n = sizes[rnd(nitems(sizes))];
		rnd_fill(junk, n);
		if (n >= 4 && i % 3 != 0) {
			junk[0] = 1 + rnd(4);
			junk[1] = junk[2] = junk[3] = 0;
		}
		if (deliver(A, B, junk, n) != WG_DROP ||
		    deliver(B, A, junk, n) != WG_DROP)
			bad++;
	}
	h_drop_queue();
	is_int(bad, 0, "5000 random datagrams both ways: all dropped");
	/* Data headers that name live indices but carry junk. */
	bad = 0;
	for (i = 0; i < 2000; i++) {
		n = 32 + rnd(200);
		rnd_fill(junk, n);
		memcpy(junk, data, 8);
		if (deliver(A, B, junk, n) != WG_DROP)
			bad++;
	}
	is_int(bad, 0, "2000 forged packets on a live index: all dropped");

	ok(works(), "a fresh handshake and data still work afterwards");
	is_int(deliver(A, B, NULL, 0), WG_DROP, "empty datagram: dropped");
	h_reset();
	return done_testing();
}

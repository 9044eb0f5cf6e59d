/*
 * t_wg_flood.c -- floods do not hurt: only a handshake message of the
 * right length with a valid mac1 counts towards "under load"; the
 * per-source rate-limit table cannot be filled to lock a new source out
 * (it evicts), IPv6 is aggregated by /64 and /48, and a configured
 * endpoint is always admitted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "t_wg_harness.h"
#include "tap.h"

#define SEC	1000000000ULL

static void
src4(struct sockaddr_storage *ss, uint32_t a)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(a);
	sin->sin_port = htons(51820);
}

/* 2001:db8:<p48>:<p64>::<host> */
static void
src6(struct sockaddr_storage *ss, uint32_t p48, uint16_t p64, uint16_t host)
{
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	uint8_t			*a = s6->sin6_addr.s6_addr;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = p48 >> 8;
	a[5] = p48 & 0xff;
	a[6] = p64 >> 8;
	a[7] = p64 & 0xff;
	a[14] = host >> 8;
	a[15] = host & 0xff;
	s6->sin6_port = htons(51820);
}

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
	memcpy(buf, pkt, len);
	r = wg_input(to->dev, buf, len, &from->addr, &plain, &plainlen,
	    &peer);
	free(buf);
	return r;
}

static void
load_signal(void)
{
	struct h_node	*A, *B;
	struct wg_peer	*AB;
	uint8_t		 junk[WG_MSG_INIT_LEN], init[H_PKTLEN];
	size_t		 ilen;
	int		 i, n;

	A = h_node_new("10.0.0.1");
	B = h_node_new("10.0.0.2");
	AB = h_link(A, B, true, "10.9.0.2/32");
	h_link(B, A, false, "10.9.0.1/32");
	(void)wg_device_handshakes_take(B->dev);

	memset(junk, 0, sizeof(junk));
	junk[0] = 1;
	for (i = 0; i < 150; i++)
		(void)deliver(A, B, junk, 1);
	is_int(wg_device_handshakes_take(B->dev), 0,
	    "150 one-byte datagrams starting with 1: no load");
	junk[0] = 2;
	for (i = 0; i < 150; i++)
		(void)deliver(A, B, junk, 1 + i % (WG_MSG_RESP_LEN - 1));
	is_int(wg_device_handshakes_take(B->dev), 0,
	    "150 short datagrams starting with 2: no load");
	junk[0] = 1;
	for (i = 0, n = 0; i < 150; i++) {
		randombytes_buf(junk + 4, sizeof(junk) - 4);
		n += deliver(A, B, junk, sizeof(junk)) != WG_DROP;
	}
	is_int(n, 0, "150 initiation-sized junk datagrams dropped");
	is_int(wg_device_handshakes_take(B->dev), 0,
	    "150 initiation-sized datagrams with a bad mac1: no load");

	/* A real initiation counts, once. */
	wg_peer_initiate(AB);
	ok(h_qlen() == 1, "A sent an initiation");
	ilen = h_peek()->len;
	memcpy(init, h_peek()->buf, ilen);
	h_drop_queue();
	(void)deliver(A, B, init, ilen);
	is_int(wg_device_handshakes_take(B->dev), 1,
	    "an initiation with a valid mac1 counts");
	init[ilen - 20] ^= 1;		/* inside mac1 */
	(void)deliver(A, B, init, ilen);
	is_int(wg_device_handshakes_take(B->dev), 0,
	    "the same with mac1 flipped does not");
	h_drop_queue();
	h_reset();
}

static void
table_flood(void)
{
	struct cookie_checker	 cc;
	struct sockaddr_storage	 ss;
	uint64_t		 now = 1000 * SEC;
	int			 i, refused, admitted;

	/* The review's scenario: an attacker fills the table from /64s. */
	if (cookie_checker_init(&cc) == -1)
		abort();
	for (i = 0; i < 2 * RATELIMIT_SLOTS; i++) {
		src6(&ss, i >> 8, i & 0xff, 1);	/* 256 /64s per /48 */
		(void)ratelimit_allow(&cc.cc_rl, &ss, now);
	}
	ok(cc.cc_rl.rl_evictions > 0, "the table filled up and evicted");
	refused = 0;
	for (i = 0; i < 1000; i++) {
		src4(&ss, 0xc6336400 + i);
		refused += !ratelimit_allow(&cc.cc_rl, &ss, now + 1000);
	}
	is_int(refused, 0, "full table: 0 of 1000 fresh IPv4 sources "
	    "refused");
	refused = 0;
	for (i = 0; i < 1000; i++) {
		src6(&ss, 0xf000 + i, 0, 1);
		refused += !ratelimit_allow(&cc.cc_rl, &ss, now + 2000);
	}
	is_int(refused, 0, "full table: 0 of 1000 fresh IPv6 /48s refused");

	/* One source: the burst, then refused, then the rate. */
	src4(&ss, 0x0a000001);
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(&cc.cc_rl, &ss, now + 3000);
	is_int(admitted, RATELIMIT_BURST, "one source at once: the burst "
	    "(%d) admitted", RATELIMIT_BURST);
	ok(ratelimit_allow(&cc.cc_rl, &ss,
	    now + 3000 + SEC / RATELIMIT_PER_SECOND),
	    "one more after 1/%d s", RATELIMIT_PER_SECOND);

	/* IPv6 hosts of one /64 share a bucket. */
	admitted = 0;
	for (i = 0; i < 100; i++) {
		src6(&ss, 0xa000, 7, i);
		admitted += ratelimit_allow(&cc.cc_rl, &ss, now + 4000);
	}
	is_int(admitted, RATELIMIT_BURST,
	    "100 hosts of one /64: one burst admitted");

	/* /64s of one /48 share an aggregate bucket. */
	admitted = 0;
	for (i = 0; i < 1000; i++) {
		src6(&ss, 0xb000, i, 1);
		admitted += ratelimit_allow(&cc.cc_rl, &ss, now + 5000);
	}
	is_int(admitted, RATELIMIT_BURST * RATELIMIT_AGG48,
	    "1000 /64s of one /48: %d admitted",
	    RATELIMIT_BURST * RATELIMIT_AGG48);

	/* A configured endpoint is always admitted. */
	src6(&ss, 0xb000, 4000, 9);
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(&cc.cc_rl, &ss, now + 5000);
	is_int(admitted, 0, "a fresh /64 in the exhausted /48: refused");
	is_int(ratelimit_admit_add(&cc.cc_rl, &ss), 0, "admit it");
	is_int(ratelimit_admit_add(&cc.cc_rl, &ss), 0, "admit it twice");
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(&cc.cc_rl, &ss, now + 5000);
	is_int(admitted, 100, "the admitted address: 100 of 100");
	ratelimit_admit_del(&cc.cc_rl, &ss);
	ok(ratelimit_allow(&cc.cc_rl, &ss, now + 5000),
	    "still admitted while one reference remains");
	ratelimit_admit_del(&cc.cc_rl, &ss);
	ok(!ratelimit_allow(&cc.cc_rl, &ss, now + 5000),
	    "refused again once removed");
	ratelimit_admit_del(&cc.cc_rl, &ss);	/* unknown: harmless */
	cookie_checker_free(&cc);
}

/* Through the device: a peer's configured endpoint, not its roamed one. */
static void
device_admit(void)
{
	struct h_node		*A, *B;
	struct wg_peer		*BA;
	struct ratelimit	*rl;
	struct sockaddr_storage	 ep;
	int			 i, admitted;

	A = h_node_new("10.0.0.1");
	B = h_node_new("10.0.0.2");
	BA = h_link(B, A, true, "10.9.0.1/32");
	rl = &B->dev->d_cookie.cc_rl;
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(rl, &A->addr, 1000 * SEC);
	is_int(admitted, 100, "a peer's configured endpoint: 100 of 100");
	src4(&ep, 0x0a0000fe);
	wg_peer_set_endpoint(BA, &ep);
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(rl, &A->addr, 1000 * SEC);
	is_int(admitted, RATELIMIT_BURST,
	    "after reconfiguration the old address is rate limited");
	admitted = 0;
	for (i = 0; i < 100; i++)
		admitted += ratelimit_allow(rl, &ep, 1000 * SEC);
	is_int(admitted, 100, "and the new one admitted");
	wg_peer_remove(B->dev, BA);
	is_int(rl->rl_nadmit, 0, "removing the peer removes its admission");
	h_reset();
}

int
main(void)
{
	plan(24);
	load_signal();
	table_flood();
	device_admit();
	return done_testing();
}

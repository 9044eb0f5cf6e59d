/*
 * t_wg_cookie.c -- the DoS defences, on a fake clock: a cookie (and so
 * mac2) is bound to the source address and port it was issued to, the
 * responder's cookie secret rotates every COOKIE_SECRET_MAX_AGE, and the
 * per-source token bucket refuses handshakes beyond its burst while other
 * sources (another IPv4 host, another IPv6 /64) still pass.  Both the
 * cookie layer alone and a device under load are driven.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cookie.h"
#include "t_wg_harness.h"
#include "tap.h"

#define SEC	1000000000ULL
#define T0	(500 * SEC)

static void	 sa4(struct sockaddr_storage *, const char *, uint16_t);
static void	 sa6(struct sockaddr_storage *, const char *, uint16_t);
static void	 get_cookie(struct cookie_checker *, struct cookie_maker *,
		    uint8_t *, size_t, const struct sockaddr_storage *,
		    uint64_t);
static void	 test_mac2_binding(void);
static void	 test_rotation(void);
static void	 test_ratelimit(void);
static void	 test_ratelimit_full(void);
static void	 test_ratelimit_agg(void);
static struct wg_peer *ab_pair(struct h_node **, struct h_node **);
static void	 test_device_binding(void);
static void	 test_load_trip(void);
static void	 test_device_ratelimit(void);
static void	 test_cookie_retry_once(void);
static void	 test_cookie_retry_bound(void);

static void
sa4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		abort();
}

static void
sa6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		abort();
}

/* The maker sends msg from src, the checker answers with a cookie. */
static void
get_cookie(struct cookie_checker *cc, struct cookie_maker *cm, uint8_t *msg,
    size_t len, const struct sockaddr_storage *src, uint64_t now)
{
	struct wg_msg_cookie	 c;

	cookie_add_macs(cm, msg, len, now);
	cookie_create_reply(cc, &c, 7, msg + len - 2 * NOISE_COOKIE_LEN, src,
	    now);
	if (cookie_consume_reply(cm, &c, now) == -1)
		abort();
	cookie_add_macs(cm, msg, len, now);
}

/* 8 tests */
/* A fresh harness: A dials B (192.0.2.1 to 192.0.2.2); A's peer B. */
static struct wg_peer *
ab_pair(struct h_node **A, struct h_node **B)
{
	struct wg_peer	*AB;

	h_reset();
	*A = h_node_new("192.0.2.1");
	*B = h_node_new("192.0.2.2");
	AB = h_link(*A, *B, true, "10.9.0.2/32");
	h_link(*B, *A, false, "10.9.0.1/32");
	return AB;
}

static void
test_mac2_binding(void)
{
	struct cookie_checker	 cc;
	struct cookie_maker	 cm;
	struct sockaddr_storage	 a, b, a2, v6, v6b;
	uint8_t			 pub[32], msg[WG_MSG_INIT_LEN];
	uint8_t			 zero[NOISE_COOKIE_LEN];

	randombytes_buf(pub, sizeof(pub));
	randombytes_buf(msg, sizeof(msg));
	memset(zero, 0, sizeof(zero));
	if (cookie_checker_init(&cc) == -1)
		abort();
	cookie_checker_update(&cc, pub);
	cookie_maker_init(&cm, pub);
	sa4(&a, "198.51.100.1", 40000);
	sa4(&b, "198.51.100.2", 40000);
	sa4(&a2, "198.51.100.1", 40001);
	sa6(&v6, "2001:db8::1", 40000);
	sa6(&v6b, "2001:db8::1", 40001);

	cookie_add_macs(&cm, msg, sizeof(msg), T0);
	ok(memcmp(msg + sizeof(msg) - NOISE_COOKIE_LEN, zero,
	    NOISE_COOKIE_LEN) == 0, "binding: no cookie yet: mac2 is zero");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a, T0), -1,
	    "binding: a zero mac2 is refused");
	get_cookie(&cc, &cm, msg, sizeof(msg), &a, T0);
	is_int(cookie_check_mac1(&cc, msg, sizeof(msg)), 0,
	    "binding: mac1 checks");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a, T0), 0,
	    "binding: mac2 from the source the cookie was issued to passes");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &b, T0), -1,
	    "binding: the same mac2 from another address is refused");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a2, T0), -1,
	    "binding: the same mac2 from another port is refused");

	get_cookie(&cc, &cm, msg, sizeof(msg), &v6, T0);
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &v6, T0), 0,
	    "binding: IPv6: mac2 from its own source passes");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &v6b, T0), -1,
	    "binding: IPv6: from another port refused");
	cookie_checker_free(&cc);
}

/* 7 tests */
static void
test_rotation(void)
{
	struct cookie_checker	 cc;
	struct cookie_maker	 cm;
	struct sockaddr_storage	 a;
	uint8_t			 pub[32], msg[WG_MSG_INIT_LEN];
	uint8_t			 secret[32];

	randombytes_buf(pub, sizeof(pub));
	randombytes_buf(msg, sizeof(msg));
	if (cookie_checker_init(&cc) == -1)
		abort();
	cookie_checker_update(&cc, pub);
	cookie_maker_init(&cm, pub);
	sa4(&a, "198.51.100.1", 40000);

	get_cookie(&cc, &cm, msg, sizeof(msg), &a, T0);
	memcpy(secret, cc.cc_secret, sizeof(secret));
	/* a reading of now older than the secret's birth: not aged */
	get_cookie(&cc, &cm, msg, sizeof(msg), &a, T0 - 1);
	ok(memcmp(secret, cc.cc_secret, sizeof(secret)) == 0,
	    "rotation: a stale clock does not replace the secret");
	cookie_add_macs(&cm, msg, sizeof(msg), T0 - 2);
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a, T0), 0,
	    "rotation: a stale clock still adds the cookie (mac2)");
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a,
	    T0 + COOKIE_SECRET_MAX_AGE - SEC), 0,
	    "rotation: a cookie still passes just before the secret's age");
	ok(memcmp(secret, cc.cc_secret, sizeof(secret)) == 0,
	    "rotation: the secret is kept until then");
	/* The maker's clock stays at T0: only the responder has aged. */
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a,
	    T0 + COOKIE_SECRET_MAX_AGE), -1,
	    "rotation: after COOKIE_SECRET_MAX_AGE the responder refuses it");
	ok(memcmp(secret, cc.cc_secret, sizeof(secret)) != 0,
	    "rotation: the secret was replaced");
	get_cookie(&cc, &cm, msg, sizeof(msg), &a, T0 + COOKIE_SECRET_MAX_AGE);
	is_int(cookie_check_mac2(&cc, msg, sizeof(msg), &a,
	    T0 + COOKIE_SECRET_MAX_AGE), 0,
	    "rotation: a cookie from the new secret passes");
	sodium_memzero(secret, sizeof(secret));
	cookie_checker_free(&cc);
}

/* 17 tests */
static void
test_ratelimit(void)
{
	struct cookie_checker	 cc;
	struct sockaddr_storage	 a, b, a2, v6, v6same, v6other;
	struct sockaddr_un	*sun;
	int			 i, n;

	if (cookie_checker_init(&cc) == -1)
		abort();
	sa4(&a, "198.51.100.1", 40000);
	sa4(&a2, "198.51.100.1", 40999);
	sa4(&b, "198.51.100.2", 40000);
	sa6(&v6, "2001:db8:1:2::1", 40000);
	sa6(&v6same, "2001:db8:1:2:ffff::9", 40000);
	sa6(&v6other, "2001:db8:1:3::1", 40000);

	for (i = n = 0; i < RATELIMIT_BURST; i++)
		n += ratelimit_allow(&cc.cc_rl, &a, T0);
	is_int(n, RATELIMIT_BURST, "ratelimit: a burst of %d passes",
	    RATELIMIT_BURST);
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0),
	    "ratelimit: one more in the same instant is refused");
	ok(!ratelimit_allow(&cc.cc_rl, &a2, T0),
	    "ratelimit: another port of the same host is refused too");
	ok(ratelimit_allow(&cc.cc_rl, &b, T0),
	    "ratelimit: another host still passes");
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0 + SEC / RATELIMIT_PER_SECOND - 1),
	    "ratelimit: no token before 1/%d s", RATELIMIT_PER_SECOND);
	ok(ratelimit_allow(&cc.cc_rl, &a, T0 + SEC / RATELIMIT_PER_SECOND),
	    "ratelimit: one token after 1/%d s", RATELIMIT_PER_SECOND);
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0 + SEC / RATELIMIT_PER_SECOND),
	    "ratelimit: and only one");
	/* another thread's older reading of now refills nothing */
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0),
	    "ratelimit: a stale clock refills no token");
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0 + SEC / RATELIMIT_PER_SECOND +
	    SEC / RATELIMIT_PER_SECOND - 1),
	    "ratelimit: nor does it move the bucket's time back");
	for (i = n = 0; i < 100; i++)
		n += ratelimit_allow(&cc.cc_rl, &a,
		    T0 + SEC / RATELIMIT_PER_SECOND + i * SEC / 100);
	ok(n >= RATELIMIT_PER_SECOND - 1 && n <= RATELIMIT_PER_SECOND + 1,
	    "ratelimit: 100 tries over one second: %d pass (rate %d/s)", n,
	    RATELIMIT_PER_SECOND);

	for (i = n = 0; i < RATELIMIT_BURST; i++)
		n += ratelimit_allow(&cc.cc_rl, &v6, T0);
	is_int(n, RATELIMIT_BURST, "ratelimit: IPv6: a burst passes");
	ok(!ratelimit_allow(&cc.cc_rl, &v6, T0),
	    "ratelimit: IPv6: one more is refused");
	ok(!ratelimit_allow(&cc.cc_rl, &v6same, T0),
	    "ratelimit: IPv6: another address in the same /64 is refused");
	ok(ratelimit_allow(&cc.cc_rl, &v6other, T0),
	    "ratelimit: IPv6: another /64 passes");

	/* An idle source starts afresh. */
	for (i = n = 0; i < RATELIMIT_BURST; i++)
		n += ratelimit_allow(&cc.cc_rl, &v6, T0 + 3 * SEC);
	is_int(n, RATELIMIT_BURST, "ratelimit: after idling, a full burst");

	memset(&a, 0, sizeof(a));
	sun = (struct sockaddr_un *)&a;
	sun->sun_family = AF_UNIX;
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0),
	    "ratelimit: an unknown family is refused");
	memset(&a, 0, sizeof(a));
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0),
	    "ratelimit: AF_UNSPEC is refused");
	cookie_checker_free(&cc);
}

/*
 * RATELIMIT_PROBE hosts that hash to one slot fill its neighbourhood; a
 * further host hashing there evicts the least recently used one (a flood
 * can make sources forget their history, never shut one out), and the
 * others keep their buckets.  5 tests.
 */
static void
test_ratelimit_full(void)
{
	struct cookie_checker	 cc;
	struct sockaddr_storage	 hosts[RATELIMIT_PROBE + 1];
	uint8_t			 key[RATELIMIT_KEYLEN], h[8];
	uint64_t		 slot, want = 0;
	uint32_t		 ip;
	int			 found = 0, i, n;
	char			 buf[INET_ADDRSTRLEN];

	if (cookie_checker_init(&cc) == -1)
		abort();
	/* the key as cookie.c builds it: family, prefix length, address */
	for (ip = 0x0a000001; found < RATELIMIT_PROBE + 1 &&
	    ip < 0x0b000000; ip++) {
		memset(key, 0, sizeof(key));
		key[0] = AF_INET;
		key[1] = 32;
		key[2] = ip >> 24;
		key[3] = ip >> 16;
		key[4] = ip >> 8;
		key[5] = ip;
		crypto_shorthash(h, key, sizeof(key), cc.cc_rl.rl_hashkey);
		memcpy(&slot, h, sizeof(slot));
		slot &= RATELIMIT_SLOTS - 1;
		if (found == 0)
			want = slot;
		else if (slot != want)
			continue;
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip >> 24,
		    (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
		sa4(&hosts[found++], buf, 1);
	}
	is_int(found, RATELIMIT_PROBE + 1,
	    "full: found %d hosts sharing one slot", RATELIMIT_PROBE + 1);
	for (i = n = 0; i < RATELIMIT_PROBE; i++)
		n += ratelimit_allow(&cc.cc_rl, &hosts[i], T0 + i);
	is_int(n, RATELIMIT_PROBE, "full: the first %d each get a bucket",
	    RATELIMIT_PROBE);
	for (i = 1; i < RATELIMIT_BURST; i++)
		ratelimit_allow(&cc.cc_rl, &hosts[1], T0 + RATELIMIT_PROBE);
	ok(!ratelimit_allow(&cc.cc_rl, &hosts[1], T0 + RATELIMIT_PROBE),
	    "full: host 1 spends its burst");
	ok(ratelimit_allow(&cc.cc_rl, &hosts[RATELIMIT_PROBE],
	    T0 + RATELIMIT_PROBE) && cc.cc_rl.rl_evictions == 1,
	    "full: one more host passes, evicting the least recently used");
	ok(!ratelimit_allow(&cc.cc_rl, &hosts[1], T0 + RATELIMIT_PROBE),
	    "full: host 1 (recently used) keeps its spent bucket");
	cookie_checker_free(&cc);
}

/*
 * Beyond the /64: one /48 may cost RATELIMIT_AGG48 times one /64, so a
 * host that spreads over many /64s is capped too; a configured endpoint
 * is always admitted.  5 tests.
 */
static void
test_ratelimit_agg(void)
{
	struct cookie_checker	 cc;
	struct sockaddr_storage	 a;
	char			 buf[INET6_ADDRSTRLEN];
	int			 i, n, agg = RATELIMIT_BURST * RATELIMIT_AGG48;

	if (cookie_checker_init(&cc) == -1)
		abort();
	for (i = n = 0; i < agg; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:2:%x::1", i);
		sa6(&a, buf, 1);
		n += ratelimit_allow(&cc.cc_rl, &a, T0);
	}
	is_int(n, agg, "aggregate: %d /64s of one /48 pass at once", agg);
	snprintf(buf, sizeof(buf), "2001:db8:2:%x::1", agg);
	sa6(&a, buf, 1);
	ok(!ratelimit_allow(&cc.cc_rl, &a, T0),
	    "aggregate: a fresh /64 of that /48 is refused");
	sa6(&a, "2001:db8:3::1", 1);
	ok(ratelimit_allow(&cc.cc_rl, &a, T0),
	    "aggregate: another /48 passes");

	sa4(&a, "198.51.100.77", 51820);
	if (ratelimit_admit_add(&cc.cc_rl, &a) == -1)
		abort();
	for (i = n = 0; i < 3 * RATELIMIT_BURST; i++)
		n += ratelimit_allow(&cc.cc_rl, &a, T0);
	is_int(n, 3 * RATELIMIT_BURST,
	    "admitted: a configured endpoint is never limited");
	ratelimit_admit_del(&cc.cc_rl, &a);
	for (i = n = 0; i < 3 * RATELIMIT_BURST; i++)
		n += ratelimit_allow(&cc.cc_rl, &a, T0 + SEC);
	is_int(n, RATELIMIT_BURST, "admitted: once removed, the burst holds");
	cookie_checker_free(&cc);
}

/*
 * A device under load: the initiator answers a cookie reply to its
 * pending initiation with the initiation again at once, mac2 now valid,
 * and the handshake completes within two round trips. Its mac2 stops
 * counting once it moves to another address or port: a new cookie reply,
 * and again the retry passes. 6 tests.
 */
static void
test_device_binding(void)
{
	struct h_node	*A, *B;
	struct wg_peer	*AB;

	AB = ab_pair(&A, &B);
	wg_device_set_under_load(B->dev, true);

	wg_peer_initiate(AB);
	h_pump();
	ok(B->sent[3] == 1 && A->sent[1] == 2 && B->sent[2] == 1 &&
	    A->ev_done == 1,
	    "device: under load, a cookie reply, the retry at once, a response");
	/* a later initiation: a later timestamp, or it is a replay */
	h_advance(WG_SEC(1));
	h_set_addr(A, "192.0.2.3", 51820);
	wg_peer_initiate(AB);
	h_pump();
	ok(B->sent[3] == 2 && B->sent[2] == 2,
	    "device: its mac2 from another address: a new cookie reply, then "
	    "the retry passes");
	ok(AB->p_cookie.cm_cookie_valid, "device: the new cookie is taken");
	h_advance(WG_SEC(1));
	h_set_addr(A, "192.0.2.3", 40000);
	wg_peer_initiate(AB);
	h_pump();
	ok(B->sent[3] == 3 && B->sent[2] == 3,
	    "device: its mac2 from another port: the same");
	h_advance(WG_SEC(1));
	wg_peer_initiate(AB);
	h_pump();
	ok(B->sent[3] == 3 && B->sent[2] == 4,
	    "device: with the cookie for this address and port, a response "
	    "and no cookie reply");
	is_int(A->ev_done, 4, "device: and every handshake completes");
}

/*
 * The load trip: more valid-mac1 handshakes than it between two takes of
 * the count put the device under load at once, in the thread that counts
 * them (the control thread's tick may be a second away); a take starts
 * the count again; responses count but do not trip it. 5 tests.
 */
static void
test_load_trip(void)
{
	struct h_node	*A, *B;
	struct wg_peer	*AB;
	int		 i;

	AB = ab_pair(&A, &B);
	wg_device_set_load_trip(B->dev, 2);
	for (i = 0; i < 2; i++) {
		wg_peer_initiate(AB);
		h_pump();
		h_advance(REKEY_TIMEOUT + WG_SEC(1));
	}
	ok(B->sent[2] == 2 && B->sent[3] == 0,
	    "load trip: up to it, responses and no cookie reply");
	(void)wg_device_handshakes_take(B->dev);
	wg_peer_initiate(AB);
	h_pump();
	h_advance(REKEY_TIMEOUT + WG_SEC(1));
	ok(B->sent[2] == 3 && B->sent[3] == 0,
	    "load trip: a take starts the count again");
	wg_peer_initiate(AB);
	h_pump();
	h_advance(REKEY_TIMEOUT + WG_SEC(1));
	wg_peer_initiate(AB);
	h_pump();
	ok(B->sent[3] == 1, "load trip: past it, under load at once: a cookie "
	    "reply (%d)", B->sent[3]);
	is_int(A->ev_done, 5, "load trip: and every handshake completes");

	/*
	 * Responses do not trip it: they answer initiations of its own (a
	 * hub dialling many peers at once gets as many back at once).
	 */
	AB = ab_pair(&A, &B);
	wg_device_set_load_trip(A->dev, 2);
	for (i = 0; i < 4; i++) {
		wg_peer_initiate(AB);
		h_pump();
		h_advance(REKEY_TIMEOUT + WG_SEC(1));
	}
	ok(A->sent[3] == 0 && A->ev_done == 4,
	    "load trip: four responses past a trip of two: no cookie reply, "
	    "all complete (%d, %d)", A->sent[3], A->ev_done);
}

/*
 * The retry on a cookie is one per initiation sent of the initiator's own
 * accord: a cookie reply to the retry (a responder that keeps answering
 * with cookies) gets no answer, so cookie replies cannot make a peer
 * send more initiations than its timers would. 3 tests.
 */
static void
test_cookie_retry_once(void)
{
	struct h_node		*A, *B;
	struct wg_peer		*AB, *peer;
	struct wg_msg_cookie	 c;
	struct h_pkt		*q;
	uint8_t			*plain;
	size_t			 plen;
	uint32_t		 sender;
	int			 i;

	AB = ab_pair(&A, &B);
	for (i = 0; i < 3; i++) {
		/* what A just sent: drop it, answer with a cookie reply */
		if (i == 0)
			wg_peer_initiate(AB);
		if (h_qhead == h_qtail)
			break;
		q = &h_q[h_qhead];
		h_qhead = (h_qhead + 1) % H_QLEN;
		memcpy(&sender, q->buf + 4, sizeof(sender));
		cookie_create_reply(&B->dev->d_cookie, &c, le32toh(sender),
		    q->buf + q->len - 2 * NOISE_COOKIE_LEN, &A->addr, h_clock);
		(void)wg_input(A->dev, (uint8_t *)&c, sizeof(c), &B->addr,
		    &plain, &plen, &peer);
	}
	is_int(A->sent[1], 2,
	    "cookie retry: an initiation and one retry, whatever the replies");
	is_int(h_qhead == h_qtail, 1, "cookie retry: nothing else sent");
	h_advance(REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MS * 1000000ULL + 1);
	h_tick_all();
	ok(A->sent[1] == 3 && h_qtail != h_qhead,
	    "cookie retry: the timers retransmit as before");
	h_reset();
}

/*
 * The retry answers only a reply bound to the initiation in flight: one
 * made for another message's mac1 (forged by someone who knows the
 * responder's public key, or stale) decrypts to nothing and sends
 * nothing; the bound one is answered once; the same reply again is not.
 * 6 tests.
 */
static void
test_cookie_retry_bound(void)
{
	struct h_node		*A, *B;
	struct wg_peer		*AB, *peer;
	struct wg_msg_cookie	 c;
	struct h_pkt		*q;
	uint8_t			*plain, other[NOISE_COOKIE_LEN];
	size_t			 plen;
	uint32_t		 sender;

	AB = ab_pair(&A, &B);
	wg_peer_initiate(AB);
	ok(h_qhead != h_qtail && A->sent[1] == 1, "cookie bound: one initiation");
	q = &h_q[h_qhead];
	h_qhead = (h_qhead + 1) % H_QLEN;
	memcpy(&sender, q->buf + 4, sizeof(sender));
	randombytes_buf(other, sizeof(other));
	cookie_create_reply(&B->dev->d_cookie, &c, le32toh(sender), other,
	    &A->addr, h_clock);
	is_int(wg_input(A->dev, (uint8_t *)&c, sizeof(c), &B->addr, &plain,
	    &plen, &peer), WG_DROP,
	    "cookie bound: a reply made for another message's mac1 is refused");
	is_int(A->sent[1], 1, "cookie bound: ... and nothing is sent again");
	cookie_create_reply(&B->dev->d_cookie, &c, le32toh(sender),
	    q->buf + q->len - 2 * NOISE_COOKIE_LEN, &A->addr, h_clock);
	is_int(wg_input(A->dev, (uint8_t *)&c, sizeof(c), &B->addr, &plain,
	    &plen, &peer), WG_HANDLED, "cookie bound: the initiation's reply "
	    "is taken");
	is_int(A->sent[1], 2, "cookie bound: ... and answered at once");
	(void)wg_input(A->dev, (uint8_t *)&c, sizeof(c), &B->addr, &plain,
	    &plen, &peer);
	is_int(A->sent[1], 2, "cookie bound: the same reply again: nothing");
	h_reset();
}

/*
 * A device under load: handshakes with a valid mac2 from one host beyond
 * its burst are dropped; another host still gets through.  4 tests.
 */
static void
test_device_ratelimit(void)
{
	struct h_node	*B, *S[6], *C;
	struct wg_peer	*p[6], *pc;
	char		 aip[32];
	int		 i;

	h_reset();
	B = h_node_new("192.0.2.2");
	for (i = 0; i < 6; i++) {
		S[i] = h_node_new("192.0.2.10");
		h_set_addr(S[i], "192.0.2.10", 40001 + i);
		p[i] = h_link(S[i], B, true, "10.9.0.2/32");
		snprintf(aip, sizeof(aip), "10.9.0.%d/32", 10 + i);
		h_link(B, S[i], false, aip);
	}
	C = h_node_new("192.0.2.20");
	pc = h_link(C, B, true, "10.9.0.2/32");
	h_link(B, C, false, "10.9.0.20/32");
	wg_device_set_under_load(B->dev, true);

	/* each gets a cookie and retries at once, now with a valid mac2 */
	for (i = 0; i < 6; i++)
		wg_peer_initiate(p[i]);
	wg_peer_initiate(pc);
	h_pump();
	is_int(B->sent[3], 7, "device ratelimit: seven cookie replies");
	is_int(B->sent[2], RATELIMIT_BURST + 1,
	    "device ratelimit: of the retries, %d from one host answered and "
	    "the other host's", RATELIMIT_BURST);
	is_int(B->got[WG_DROP], 6 - RATELIMIT_BURST,
	    "device ratelimit: the rest dropped");
	is_int(C->ev_done, 1,
	    "device ratelimit: another host still completes a handshake");
	h_reset();
}

int
main(void)
{
	if (sodium_init() == -1)
		abort();
	plan(8 + 7 + 17 + 5 + 5 + 6 + 5 + 3 + 6 + 4);
	test_mac2_binding();
	test_rotation();
	test_ratelimit();
	test_ratelimit_full();
	test_ratelimit_agg();
	test_device_binding();
	test_load_trip();
	test_cookie_retry_once();
	test_cookie_retry_bound();
	test_device_ratelimit();
	return done_testing();
}

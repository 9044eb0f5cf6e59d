/*
 * t_wg_handshake.c -- two (or four) devices in one process: handshakes,
 * transport, timers, cookies, roaming and allowed IPs, on a fake clock.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "t_wg_harness.h"
#include "tap.h"

#define SEC	1000000000ULL

static struct h_node	*A, *B;
static struct wg_peer	*AB, *BA;	/* A's peer B, B's peer A */

static void	 pair(bool);
static void	 count_peer(struct wg_peer *, void *);
static bool	 handshake(void);
static void	 test_rx_rekey(void);
static void	 test_aips_owner(void);
static int	 seal_check(const uint8_t *, size_t, size_t);
static void	 test_padding(void);
static int	 seal_inplace(size_t, size_t, size_t);
static bool	 ping(struct h_node *, struct wg_peer *, struct h_node *,
		    const char *, const char *, size_t);

static void
count_peer(struct wg_peer *p, void *arg)
{
	(*(int *)arg)++;
}

/* A knows B's endpoint; B learns A's from the handshake. */
static void
pair(bool psk)
{
	uint8_t	 k[32];

	h_reset();
	A = h_node_new("192.0.2.1");
	B = h_node_new("192.0.2.2");
	AB = h_link(A, B, true, "10.9.0.2/32");
	BA = h_link(B, A, false, "10.9.0.1/32");
	if (psk) {
		randombytes_buf(k, sizeof(k));
		wg_peer_set_psk(AB, k);
		wg_peer_set_psk(BA, k);
	}
}

static bool
handshake(void)
{
	int	 da = A->ev_done, db = B->ev_done;

	wg_peer_initiate(AB);
	h_pump();
	return A->ev_done == da + 1 && B->ev_done == db + 1;
}

static bool
ping(struct h_node *from, struct wg_peer *p, struct h_node *to,
    const char *src, const char *dst, size_t len)
{
	uint8_t	 want[H_PKTLEN];
	int	 before = to->got[WG_DATA];

	if (h_send_ip(from, p, src, dst, len, 0xa5) != WG_OK)
		return false;
	h_pump();
	h_ip4(want, len, src, dst, 0xa5);
	return to->got[WG_DATA] == before + 1 && to->rxlen == len &&
	    memcmp(to->rx, want, len) == 0;
}

static void
test_basic(bool psk)
{
	struct wg_peer_stats	 st;
	struct noise_keypair	*ka, *kb;
	struct sockaddr_storage	 dst;
	uint8_t			 in[100], out[200];
	size_t			 outlen;
	const char		*w = psk ? "psk" : "no psk";

	pair(psk);
	h_ip4(in, 60, "10.9.0.1", "10.9.0.2", 1);
	is_int(wg_encrypt(AB, in, 60, out, &outlen, &dst), WG_NOKEY,
	    "%s: no session yet: WG_NOKEY", w);
	is_int(A->sent[1], 1, "%s: ... and an initiation went out", w);
	ok(h_peek() != NULL && h_peek()->len == WG_MSG_INIT_LEN,
	    "%s: initiation is 148 bytes", w);
	h_step();
	ok(h_peek() != NULL && h_peek()->len == WG_MSG_RESP_LEN &&
	    h_same_addr(&h_peek()->dst, &A->addr),
	    "%s: 92-byte response to the initiator's address", w);
	h_pump();
	is_int(A->ev_done, 1, "%s: initiator completed", w);
	is_int(B->ev_done, 1, "%s: responder confirmed by keepalive", w);
	is_int(B->got[WG_KEEPALIVE], 1, "%s: confirmation keepalive", w);

	ka = &AB->p_kp[AB->p_current];
	kb = &BA->p_kp[BA->p_current];
	ok(memcmp(ka->kp_send, kb->kp_recv, 32) == 0 &&
	    memcmp(ka->kp_recv, kb->kp_send, 32) == 0 &&
	    memcmp(ka->kp_send, ka->kp_recv, 32) != 0,
	    "%s: identical transport keys, one per direction", w);
	ok(ka->kp_initiator && !kb->kp_initiator, "%s: roles", w);
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 84), "%s: A -> B data", w);
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 1400), "%s: B -> A data",
	    w);
	ok(A->rxpeer == AB, "%s: peer reported", w);
	wg_peer_get_stats(BA, &st);
	ok(h_same_addr(&st.endpoint, &A->addr),
	    "%s: responder learnt the endpoint", w);
	is_int(st.handshakes, 1, "%s: one handshake counted", w);
	ok(st.rx_bytes > 0 && st.tx_bytes > 0 && st.last_handshake.tv_sec > 0,
	    "%s: stats", w);

	/* The other way round, on the learnt endpoint. */
	wg_peer_initiate(BA);
	h_pump();
	is_int(A->ev_done, 2, "%s: reverse handshake done (A)", w);
	is_int(B->ev_done, 2, "%s: reverse handshake done (B)", w);
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 33), "%s: A -> B after",
	    w);
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 20), "%s: B -> A after",
	    w);
}

static void
test_bad_keys(void)
{
	uint8_t	 k1[32], k2[32];
	struct wg_peer	*wrong;
	struct h_node	*C;

	pair(false);
	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	wg_peer_set_psk(AB, k1);
	wg_peer_set_psk(BA, k2);
	wg_peer_initiate(AB);
	h_step();
	is_int(h_step(), WG_DROP, "psk mismatch: response dropped");
	h_pump();
	ok(A->ev_done == 0 && B->ev_done == 0, "psk mismatch: no session");
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_NOKEY,
	    "psk mismatch: still no key");
	h_drop_queue();

	/* A thinks B has C's key: B cannot check mac1, drops it. */
	pair(false);
	C = h_node_new("192.0.2.3");
	wg_peer_remove(A->dev, AB);
	wrong = wg_peer_add(A->dev, C->pub);
	wg_peer_set_endpoint(wrong, &B->addr);
	wg_peer_initiate(wrong);
	is_int(h_step(), WG_DROP, "wrong responder key: dropped");
	ok(h_peek() == NULL && B->sent[2] == 0, "wrong responder key: silent");
	ok(wg_peer_lookup(A->dev, C->pub) == wrong &&
	    wg_peer_lookup(A->dev, B->pub) == NULL, "peer lookup by key");
}

static void
test_rekey(void)
{
	pair(false);
	ok(handshake(), "rekey: first handshake");
	h_advance(REKEY_AFTER_TIME + SEC);
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_OK,
	    "rekey: old keys still send after REKEY_AFTER_TIME");
	is_int(A->sent[1], 2, "rekey: ... and trigger an initiation");
	h_pump();
	is_int(A->ev_done, 2, "rekey: new session");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "rekey: data flows");

	/* The responder never rekeys on time; it stops at REJECT. */
	pair(false);
	ok(handshake(), "reject: handshake");
	h_advance(REJECT_AFTER_TIME + SEC);
	is_int(h_send_ip(B, BA, "10.9.0.2", "10.9.0.1", 40, 0), WG_NOKEY,
	    "reject: keys unusable after REJECT_AFTER_TIME");
	is_int(B->sent[1], 1, "reject: responder initiates instead");
}

/*
 * The initiator that only receives rekeys when data arrives on a session
 * about to be rejected (REJECT - KEEPALIVE - REKEY_TIMEOUT), once.
 */
/*
 * A clock reading older than the keys: a packet thread read the time,
 * then a handshake completed on another thread before it took the peer's
 * lock. The keys' age is then 0, not 2^64: they send and receive, and
 * nobody initiates again.  7 tests.
 */
static void
test_stale_clock(void)
{
	pair(false);
	ok(handshake(), "stale clock: handshake");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "stale clock: confirm");
	h_clock -= SEC;
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_OK,
	    "stale clock: the initiator's new keys send");
	is_int(h_step(), WG_DATA, "stale clock: the responder takes it");
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40),
	    "stale clock: the responder sends, the initiator takes it");
	ok(A->sent[1] == 1 && B->sent[1] == 0,
	    "stale clock: nobody initiates again");
	h_clock += SEC;
	/* nor was the initiator's last-minute rekey spent by it */
	h_advance(REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT);
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40) && A->sent[1] == 2,
	    "stale clock: the rekey before REJECT_AFTER_TIME still comes");
}

static void
test_rx_rekey(void)
{
	uint64_t	 edge = REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT -
			    REKEY_TIMEOUT;

	pair(false);
	ok(handshake(), "rx rekey: handshake");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "rx rekey: confirm");
	h_advance(edge - SEC);
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40),
	    "rx rekey: data to A just before the edge");
	is_int(A->sent[1], 1, "rx rekey: no initiation yet");
	h_advance(SEC);
	if (h_send_ip(B, BA, "10.9.0.2", "10.9.0.1", 40, 0xa5) != WG_OK)
		abort();
	is_int(h_step(), WG_DATA, "rx rekey: data at the edge accepted");
	is_int(A->sent[1], 2, "rx rekey: ... and A initiates");
	h_pump();
	is_int(A->ev_done, 2, "rx rekey: new session");
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40), "rx rekey: data flows");
	is_int(A->sent[1], 2, "rx rekey: no further initiation on the new session");
}

static void
test_keepalive(void)
{
	struct h_pkt	*q;
	int		 n;

	pair(false);
	ok(handshake(), "keepalive: handshake");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "keepalive: data");
	/* the control thread may sleep until then, and not past it */
	is_int((int)((wg_device_tick(B->dev) - h_clock) / SEC),
	    (int)(KEEPALIVE_TIMEOUT / SEC),
	    "keepalive: B's next deadline is its keepalive's");
	n = B->sent[4];
	h_advance(KEEPALIVE_TIMEOUT - SEC);
	h_tick_all();
	is_int(B->sent[4], n, "keepalive: not before KEEPALIVE_TIMEOUT");
	h_advance(SEC + SEC / 10);
	wg_device_tick(B->dev);
	q = h_peek();
	ok(B->sent[4] == n + 1 && q != NULL && q->len == 32,
	    "keepalive: B answers after KEEPALIVE_TIMEOUT with 32 bytes");
	n = A->got[WG_KEEPALIVE];
	h_pump();
	is_int(A->got[WG_KEEPALIVE], n + 1, "keepalive: A authenticates it");

	/* Data answered by data needs no keepalive. */
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "keepalive: data 2");
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40), "keepalive: reply");
	n = B->sent[4];
	h_run(KEEPALIVE_TIMEOUT + SEC);
	is_int(B->sent[4], n, "keepalive: none when B replied");

	/* A sent data and heard nothing: a new handshake after 15 s. */
	n = A->sent[1];
	B->mute = true;
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "keepalive: data 3");
	h_run(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + SEC);
	ok(A->sent[1] > n, "new handshake after KEEPALIVE+REKEY_TIMEOUT "
	    "without an answer");
	B->mute = false;

	pair(false);
	ok(handshake(), "persistent: handshake");
	n = A->sent[4];
	wg_peer_set_keepalive(AB, 25);
	ok(A->sent[4] == n + 1 && h_peek() != NULL && h_peek()->len == 32,
	    "persistent: one keepalive at once");
	h_pump();
	h_run(24 * SEC);
	is_int(A->sent[4], n + 1, "persistent: quiet before the interval");
	h_run(2 * SEC);
	is_int(A->sent[4], n + 2, "persistent: another after 25 s");
	h_run(25 * SEC);
	is_int(A->sent[4], n + 3, "persistent: and again");
}

static void
test_give_up(void)
{
	struct h_node	*D;
	struct wg_peer	*p;
	uint64_t	 t0;
	int		 i, n;

	pair(false);
	D = h_node_new("192.0.2.4");
	D->mute = true;
	p = h_link(A, D, true, "10.9.0.4/32");
	wg_peer_initiate(p);
	is_int(A->sent[1], 1, "retry: first initiation");
	h_advance(REKEY_TIMEOUT - SEC / 10);
	h_tick_all();
	is_int(A->sent[1], 1, "retry: none before REKEY_TIMEOUT");
	h_advance(SEC / 2);
	h_tick_all();
	is_int(A->sent[1], 2, "retry: after REKEY_TIMEOUT + jitter");
	t0 = h_clock;
	for (i = 0; i < 2000 && A->ev_lost == 0; i++)
		h_run(SEC / 10);
	is_int(A->ev_lost, 1, "watchdog: WG_EV_PEER_LOST");
	ok(h_clock - t0 >= REKEY_ATTEMPT_TIME - REKEY_TIMEOUT - SEC &&
	    h_clock - t0 <= REKEY_ATTEMPT_TIME + SEC,
	    "watchdog: REKEY_ATTEMPT_TIME after the first initiation (%llu s)",
	    (unsigned long long)((h_clock - t0) / SEC));
	n = A->sent[1];
	h_run(300 * SEC);
	is_int(A->ev_expired, 0, "a dialled peer: no give up");
	ok(A->sent[1] >= n + 300 / 30 && A->sent[1] <= n + 300 / 10,
	    "a dialled peer: retries go on, backing off (%d in 300 s)",
	    A->sent[1] - n);
	is_int(A->ev_lost, 1, "watchdog: said once");

	/* B only knows A from A's packets: it gives up as the paper says */
	pair(false);
	ok(handshake(), "give up: handshake");
	A->mute = true;
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40), "give up: data to A");
	n = B->sent[1];
	t0 = h_clock;
	for (i = 0; i < 3000 && B->ev_expired == 0; i++)
		h_run(SEC / 10);
	is_int(B->ev_expired, 1, "give up: WG_EV_KEYS_EXPIRED");
	is_int(B->sent[1] - n, MAX_TIMER_HANDSHAKES + 2,
	    "give up: after the first initiation and its retries");
	ok(h_clock - t0 >= KEEPALIVE_TIMEOUT + REKEY_TIMEOUT +
	    REKEY_ATTEMPT_TIME && h_clock - t0 <= KEEPALIVE_TIMEOUT +
	    REKEY_TIMEOUT + REKEY_ATTEMPT_TIME + 25 * SEC,
	    "give up: KEEPALIVE + REKEY_TIMEOUT, then about "
	    "REKEY_ATTEMPT_TIME (%llu s)",
	    (unsigned long long)((h_clock - t0) / SEC));
	n = B->sent[1];
	h_run(20 * SEC);
	is_int(B->sent[1], n, "give up: no more initiations");
	A->mute = false;
}

static void
test_zero_keys(void)
{
	pair(false);
	ok(handshake(), "zero: handshake");
	ok(wg_peer_test_has_keys(AB) && wg_peer_test_has_keys(BA),
	    "zero: keys present");
	h_run(3 * REJECT_AFTER_TIME - 10 * SEC);
	ok(wg_peer_test_has_keys(AB), "zero: still there before 3 x REJECT");
	h_run(11 * SEC);
	ok(!wg_peer_test_has_keys(AB) && !wg_peer_test_has_keys(BA),
	    "zero: all keys zeroed after 3 x REJECT_AFTER_TIME");
	ok(A->ev_expired >= 1 && B->ev_expired >= 1,
	    "zero: WG_EV_KEYS_EXPIRED raised");
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_NOKEY,
	    "zero: no key afterwards");
}

static void
test_reject_messages(void)
{
	int	 n;

	pair(false);
	ok(handshake(), "messages: handshake");
	wg_peer_test_set_send_counter(AB, REJECT_AFTER_MESSAGES - 1);
	/* Past the one-initiation-per-REKEY_TIMEOUT limit. */
	h_advance(REKEY_TIMEOUT + SEC);
	n = A->sent[1];
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_OK,
	    "messages: the last allowed nonce is used");
	ok(A->sent[1] == n + 1 && h_qlen() == 2,
	    "messages: past REKEY_AFTER_MESSAGES: rekey");
	h_qhead = (h_qhead + 1) % H_QLEN;	/* lose the initiation */
	is_int(h_step(), WG_DATA, "messages: receiver accepts that nonce");
	is_int(h_send_ip(A, AB, "10.9.0.1", "10.9.0.2", 40, 0), WG_NOKEY,
	    "messages: REJECT_AFTER_MESSAGES reached: WG_NOKEY");
}

static void
test_cookie(void)
{
	struct h_pkt	*q;

	pair(false);
	wg_device_set_under_load(B->dev, true);
	wg_peer_initiate(AB);
	is_int(h_step(), WG_HANDLED, "cookie: under load, init answered");
	q = h_peek();
	ok(q != NULL && q->len == WG_MSG_COOKIE_LEN && B->sent[2] == 0,
	    "cookie: with a 64-byte cookie reply, no response");
	is_int(h_step(), WG_HANDLED, "cookie: initiator takes the cookie");
	ok(AB->p_cookie.cm_cookie_valid, "cookie: stored");
	h_run(REKEY_TIMEOUT + SEC / 2);
	is_int(A->ev_done, 1, "cookie: retry with mac2 completes");
	is_int(B->sent[3], 1, "cookie: only one cookie reply");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "cookie: data");

	/* A stale cookie is not used: the reply comes again. */
	h_advance(COOKIE_SECRET_MAX_AGE);
	wg_peer_initiate(AB);
	h_pump();
	is_int(B->sent[3], 2, "cookie: expired cookie, new reply");
	wg_device_set_under_load(B->dev, false);
	wg_peer_initiate(AB);
	h_pump();
	is_int(A->ev_done, 2, "cookie: not under load, plain handshake");
}

static void
test_roam_and_spoof(void)
{
	struct wg_peer_stats	 st;

	pair(false);
	ok(handshake(), "roam: handshake");
	h_set_addr(A, "198.51.100.7", 40000);
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 40), "roam: data from new");
	wg_peer_get_stats(BA, &st);
	ok(h_same_addr(&st.endpoint, &A->addr), "roam: endpoint followed");
	ok(ping(B, BA, A, "10.9.0.2", "10.9.0.1", 40),
	    "roam: reply reaches the new address");

	is_int(h_send_ip(A, AB, "10.9.0.77", "10.9.0.2", 40, 0), WG_OK,
	    "spoof: encrypts");
	is_int(h_step(), WG_DROP, "spoof: source outside allowed IPs dropped");
	is_int(h_send_ip(A, AB, "10.9.0.2", "10.9.0.2", 40, 0), WG_OK,
	    "spoof: encrypts 2");
	is_int(h_step(), WG_DROP, "spoof: receiver's own address dropped");
}

static void
test_multi(void)
{
	struct h_node	*H, *S[3];
	struct wg_peer	*hp[3], *sp[3];
	char		 addr[32], pfx[32];
	int		 i, good = 0;

	h_reset();
	H = h_node_new("192.0.2.10");
	for (i = 0; i < 3; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", 11 + i);
		S[i] = h_node_new(addr);
		snprintf(pfx, sizeof(pfx), "10.8.0.%d/32", 2 + i);
		hp[i] = h_link(H, S[i], false, pfx);
		sp[i] = h_link(S[i], H, true, "10.8.0.0/24");
		wg_peer_initiate(sp[i]);
	}
	h_pump();
	is_int(H->ev_done, 3, "multi: three sessions at the hub");
	for (i = 0; i < 3; i++) {
		uint8_t	 pkt[60];

		snprintf(addr, sizeof(addr), "10.8.0.%d", 2 + i);
		h_ip4(pkt, sizeof(pkt), "10.8.0.1", addr, 0);
		if (wg_route(H->dev, pkt, sizeof(pkt)) == hp[i] &&
		    ping(H, hp[i], S[i], "10.8.0.1", addr, 60) &&
		    ping(S[i], sp[i], H, addr, "10.8.0.1", 60) &&
		    H->rxpeer == hp[i])
			good++;
	}
	is_int(good, 3, "multi: routed both ways for each peer");
	ok(wg_route(H->dev, (const uint8_t *)"\x45", 1) == NULL,
	    "multi: short packet has no route");
	i = 0;
	is_int(wg_device_foreach_peer(H->dev, count_peer, &i), 3,
	    "multi: foreach returns three");
	is_int(i, 3, "multi: foreach visits three peers");
}

#define THR	4
#define PERTHR	2000
static uint64_t		 nonces[THR * PERTHR];
static int		 thr_bad;
static pthread_mutex_t	 thr_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
crypt_thread(void *arg)
{
	int			 t = (int)(intptr_t)arg, i, r, bad = 0;
	uint8_t			 in[128], out[256], *plain;
	size_t			 outlen, plainlen;
	struct sockaddr_storage	 dst, src = A->addr;
	struct wg_peer		*peer;

	for (i = 0; i < PERTHR; i++) {
		h_ip4(in, 100, "10.9.0.1", "10.9.0.2", t);
		if (wg_encrypt(AB, in, 100, out, &outlen, &dst) != WG_OK) {
			bad++;
			continue;
		}
		memcpy(&nonces[t * PERTHR + i], out + 8, 8);
		r = wg_input(B->dev, out, outlen, &src, &plain, &plainlen,
		    &peer);
		if (r != WG_DATA || plainlen != 100 || plain[30] != t)
			bad++;
	}
	pthread_mutex_lock(&thr_lock);
	thr_bad += bad;
	pthread_mutex_unlock(&thr_lock);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_threads(void)
{
	pthread_t	 th[THR];
	int		 i, dup = 0;

	pair(false);
	ok(handshake(), "threads: handshake");
	for (i = 0; i < THR; i++)
		pthread_create(&th[i], NULL, crypt_thread, (void *)(intptr_t)i);
	for (i = 0; i < THR; i++)
		pthread_join(th[i], NULL);
	is_int(thr_bad, 0, "threads: %d packets encrypted and decrypted "
	    "concurrently", THR * PERTHR);
	qsort(nonces, THR * PERTHR, sizeof(nonces[0]), cmp_u64);
	for (i = 1; i < THR * PERTHR; i++)
		if (nonces[i] == nonces[i - 1])
			dup++;
	is_int(dup, 0, "threads: no nonce used twice");
}

/* The peer routing to ipv4 dst in d (NULL: none). */
static struct wg_peer *
route4(struct wg_device *d, const char *dst)
{
	uint8_t	 pkt[20] = { 0x45 };

	if (inet_pton(AF_INET, dst, pkt + 16) != 1)
		abort();
	return wg_route(d, pkt, sizeof(pkt));
}

static struct wg_peer *
aip_peer(struct wg_device *d, uint8_t tag, const char *aip)
{
	struct wg_peer	*p;
	struct prefix	 pf;
	uint8_t		 k[WG_KEY_LEN];

	memset(k, tag, sizeof(k));
	if ((p = wg_peer_add(d, k)) == NULL)
		abort();
	if (aip != NULL && (prefix_parse(aip, &pf) == -1 ||
	    wg_peer_add_allowedip(d, p, &pf) == -1))
		abort();
	return p;
}

/*
 * Clearing or removing a peer takes exactly its allowed IPs out of the
 * routing, also when it never had any (a new peer skips the walk) and
 * when another peer took one of its prefixes over.
 */
static void
test_aips_owner(void)
{
	struct wg_device	*d;
	struct wg_peer		*p, *q, *r, *t;
	struct prefix		 pf;

	pair(false);
	d = A->dev;
	p = aip_peer(d, 0x51, "10.77.0.0/16");
	q = aip_peer(d, 0x52, "10.78.0.0/16");
	ok(route4(d, "10.77.1.1") == p && route4(d, "10.78.1.1") == q,
	    "each peer routes its allowed IPs");
	wg_peer_clear_allowedips(d, p);
	ok(route4(d, "10.77.1.1") == NULL, "cleared: its prefix routes nowhere");
	ok(route4(d, "10.78.1.1") == q, "... the other peer's still routes");
	prefix_parse("10.77.0.0/16", &pf);
	ok(wg_peer_add_allowedip(d, p, &pf) == 0 &&
	    route4(d, "10.77.1.1") == p, "added again: routes again");
	r = aip_peer(d, 0x53, NULL);
	wg_peer_clear_allowedips(d, r);
	wg_peer_remove(d, r);
	ok(route4(d, "10.77.1.1") == p && route4(d, "10.78.1.1") == q,
	    "a peer without allowed IPs cleared and removed: routing unchanged");
	/* q takes p's prefix over; clearing p leaves it q's */
	t = aip_peer(d, 0x54, "10.79.0.0/16");
	prefix_parse("10.79.0.0/16", &pf);
	ok(wg_peer_add_allowedip(d, q, &pf) == 0 &&
	    route4(d, "10.79.1.1") == q, "a prefix taken over by another peer");
	wg_peer_clear_allowedips(d, t);
	ok(route4(d, "10.79.1.1") == q, "... stays its new owner's");
	wg_peer_remove(d, p);
	ok(route4(d, "10.77.1.1") == NULL, "removed: its prefix routes nowhere");
	wg_peer_remove(d, q);
	wg_peer_remove(d, t);
	ok(route4(d, "10.78.1.1") == NULL && route4(d, "10.79.1.1") == NULL,
	    "all removed: nothing routes");
}

/*
 * The datagram out (outlen bytes) opened with A's sending key: 0 when it
 * holds pkt (len bytes) and zero padding to want bytes; 2 wrong length,
 * 3 does not open, 4 not the packet, 5 padding not zero. plain: want
 * bytes of room.
 */
static int
sealed_opens(const uint8_t *out, size_t outlen, const uint8_t *pkt,
    size_t len, size_t want, uint8_t *plain)
{
	struct noise_keypair	*ka = &AB->p_kp[AB->p_current];
	uint8_t			 nonce[12] = { 0 };
	size_t			 i;

	if (outlen != WG_DATA_OVERHEAD + want)
		return 2;
	memcpy(nonce + 4, out + 8, 8);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL,
	    out + WG_DATA_HDR_LEN, want, out + WG_DATA_HDR_LEN + want, NULL, 0,
	    nonce, ka->kp_send) != 0)
		return 3;
	if (memcmp(plain, pkt, len) != 0)
		return 4;
	for (i = len; i < want; i++)
		if (plain[i] != 0)
			return 5;
	return 0;
}

/*
 * One packet sealed by wg_encrypt from a buffer of its own, opened here
 * with libsodium and A's send key: 0 when the datagram is the header,
 * the packet, zero padding to want bytes and a valid tag, in a buffer
 * of exactly that size (ASan: nothing written past it).
 */
static int
seal_check(const uint8_t *pkt, size_t len, size_t want)
{
	struct sockaddr_storage	 dst;
	uint8_t			*out, *plain;
	size_t			 outlen = 0;
	int			 bad;

	if ((out = malloc(WG_DATA_OVERHEAD + want)) == NULL ||
	    (plain = malloc(want + 1)) == NULL)
		abort();
	if (wg_encrypt(AB, pkt, len, out, &outlen, &dst) != WG_OK)
		bad = 1;
	else
		bad = sealed_opens(out, outlen, pkt, len, want, plain);
	free(out);
	free(plain);
	return bad;
}

/*
 * In place or overlapping: the packet copied to off bytes into a buffer
 * that also receives the datagram (wg.h allows out == ippkt given the
 * room). 0 when it opens to the packet and zero padding to want bytes.
 */
static int
seal_inplace(size_t len, size_t want, size_t off)
{
	struct sockaddr_storage	 dst;
	uint8_t			*b, *pkt, *plain;
	size_t			 outlen = 0;
	int			 bad;

	if ((b = malloc(off + len + WG_DATA_OVERHEAD + 16)) == NULL ||
	    (pkt = malloc(len + 1)) == NULL || (plain = malloc(want + 1)) ==
	    NULL)
		abort();
	randombytes_buf(pkt, len);
	memset(b, 0xaa, off + len + WG_DATA_OVERHEAD + 16);
	memcpy(b + off, pkt, len);
	if (wg_encrypt(AB, b + off, len, b, &outlen, &dst) != WG_OK)
		bad = 1;
	else
		bad = sealed_opens(b, outlen, pkt, len, want, plain);
	free(b);
	free(pkt);
	free(plain);
	return bad;
}

/*
 * Sealed from where the packet lies: at every length up to past the
 * MTU, and the largest, the padding on the wire is zeros, not the bytes
 * after the packet in its buffer, the tag covers packet and padding,
 * and nothing past the packet is read (ASan: exact-size buffers).
 */
static void
test_padding(void)
{
	static const size_t	 big[] = { 9000, 16385, WG_PKT_MAX -
				    WG_DATA_OVERHEAD - WG_PAD_MULTIPLE };
	struct sockaddr_storage	 dst;
	uint8_t			*buf, *exact, out[64];
	size_t			 len, want, outlen, i, n = 0;
	int			 bad_junk = 0, bad_exact = 0, r;
	const int		 mtu = 1420;

	pair(false);
	ok(handshake(), "padding: handshake");
	wg_device_set_mtu(A->dev, mtu);
	if ((buf = malloc(WG_PKT_MAX + 64)) == NULL)
		abort();
	for (i = 0; i < 1501 + nitems(big); i++) {
		len = i < 1501 ? i : big[i - 1501];
		want = (len + 15) & ~(size_t)15;
		if (len <= (size_t)mtu && want > (size_t)mtu)
			want = mtu;
		/* the packet, then old bytes in its buffer after it */
		randombytes_buf(buf, len);
		memset(buf + len, 0xaa, 64);
		if ((r = seal_check(buf, len, want)) != 0 && bad_junk++ == 0)
			diag("junk after %zu bytes: failure %d", len, r);
		/* the packet at the very end of its allocation */
		if ((exact = malloc(len > 0 ? len : 1)) == NULL)
			abort();
		memcpy(exact, buf, len);
		if ((r = seal_check(exact, len, want)) != 0 && bad_exact++ == 0)
			diag("end of buffer %zu bytes: failure %d", len, r);
		free(exact);
		n++;
	}
	is_int(bad_junk, 0, "padding: %zu lengths (0..1500, %zu, %zu, %zu): "
	    "zero padding on the wire, not the bytes after the packet", n,
	    big[0], big[1], big[2]);
	is_int(bad_exact, 0, "padding: a packet at the end of its buffer is "
	    "sealed without reading or writing past it");
	/* the packet where the datagram goes, or overlapping it */
	for (i = 0, n = 0; i <= 1500; i++) {
		want = (i + 15) & ~(size_t)15;
		if (i <= (size_t)mtu && want > (size_t)mtu)
			want = mtu;
		if ((r = seal_inplace(i, want, 0)) != 0 && n++ == 0)
			diag("in place %zu bytes: failure %d", i, r);
		if ((r = seal_inplace(i, want, WG_DATA_HDR_LEN)) != 0 &&
		    n++ == 0)
			diag("behind the header %zu bytes: failure %d", i, r);
		if ((r = seal_inplace(i, want, 7)) != 0 && n++ == 0)
			diag("overlapping %zu bytes: failure %d", i, r);
	}
	is_int(n, 0, "padding: in place, behind the header, or overlapping "
	    "the datagram: sealed as from a buffer of its own");
	ok(wg_encrypt(AB, buf, big[2] + 1, out, &outlen, &dst) == WG_DROP,
	    "padding: one byte more than the largest: dropped");
	free(buf);
}

/*
 * wg_input_to: the plaintext decrypted from the received packet into
 * another buffer (udp-rx's GRO path), the packet itself left as it was.
 */
static void
test_input_to(void)
{
	uint8_t			 in[128], out[256], keep[256], dst[256];
	uint8_t			*plain;
	size_t			 outlen, plainlen;
	struct sockaddr_storage	 to, src;
	struct wg_peer		*peer;
	int			 r;

	pair(false);
	ok(handshake(), "input_to: handshake");
	src = A->addr;
	h_ip4(in, 100, "10.9.0.1", "10.9.0.2", 7);
	ok(wg_encrypt(AB, in, 100, out, &outlen, &to) == WG_OK,
	    "input_to: sealed");
	memcpy(keep, out, outlen);
	r = wg_input_to(B->dev, out, outlen, dst, outlen - 1, &src, &plain,
	    &plainlen, &peer);
	ok(r == WG_DROP, "input_to: a buffer one byte short: dropped");
	r = wg_input_to(B->dev, out, outlen, out + 4, outlen, &src, &plain,
	    &plainlen, &peer);
	ok(r == WG_DROP && memcmp(out, keep, outlen) == 0,
	    "input_to: a buffer overlapping the packet: dropped, untouched");
	memset(dst, 0xee, sizeof(dst));
	r = wg_input_to(B->dev, out, outlen, dst, sizeof(dst), &src, &plain,
	    &plainlen, &peer);
	ok(r == WG_DATA && plain == dst + WG_DATA_HDR_LEN && plainlen == 100 &&
	    memcmp(plain, in, 100) == 0,
	    "input_to: decrypted into the other buffer (the refusals before "
	    "did not spend the counter)");
	ok(memcmp(out, keep, outlen) == 0 && dst[outlen] == 0xee,
	    "input_to: the received packet as it was, nothing past its length "
	    "written");
	r = wg_input_to(B->dev, out, outlen, dst, sizeof(dst), &src, &plain,
	    &plainlen, &peer);
	ok(r == WG_DROP, "input_to: the same packet again: a replay, dropped");
}

/*
 * One queued datagram through wg_input_to as udp-rx's GRO path gives it:
 * read where it was received (an odd address in a larger buffer), a
 * data message decrypted into dst. touched counts a received packet
 * changed, and a dst written by anything but a data message.
 */
static uint8_t	 to_rx[H_PKTLEN + 64];

static int
step_to(uint8_t *dst, size_t dstlen, int *touched)
{
	struct h_pkt		*q;
	struct h_node		*to;
	struct wg_peer		*peer;
	struct sockaddr_storage	 src;
	uint8_t			*plain, *pkt = to_rx + 1;
	size_t			 plainlen, i;
	int			 r;

	if ((q = h_pop(&to)) == NULL)
		return -1;
	memcpy(pkt, q->buf, q->len);
	memset(dst, 0xee, dstlen);
	src = q->from->addr;
	r = wg_input_to(to->dev, pkt, q->len, dst, dstlen, &src, &plain,
	    &plainlen, &peer);
	to->got[r]++;
	if (memcmp(pkt, q->buf, q->len) != 0)
		(*touched)++;
	if (r == WG_DATA) {
		memcpy(to->rx, plain, plainlen);
		to->rxlen = plainlen;
		to->rxpeer = peer;
	} else
		for (i = 0; i < dstlen; i++)
			if (dst[i] != 0xee) {
				(*touched)++;
				break;
			}
	return r;
}

static void
pump_to(uint8_t *dst, size_t dstlen, int *touched)
{
	int	 guard = 0;

	while (h_peek() != NULL && guard++ < 1000)
		step_to(dst, dstlen, touched);
}

/*
 * Every message wg_input takes, through wg_input_to into another buffer
 * (udp-rx's GRO path): initiation, response, keepalive and, under load,
 * cookie reply and the retry with mac2 do what they do through wg_input,
 * read from where they were received, the other buffer left alone. A
 * buffer that overlaps the packet only where no plaintext goes (its
 * header over the packet's) is refused all the same.
 */
static void
test_input_to_all(void)
{
	uint8_t			 dst[H_PKTLEN], in[128], out[256], keep[256];
	uint8_t			*plain, *pkt;
	size_t			 outlen, plainlen;
	struct sockaddr_storage	 to, src;
	struct wg_peer		*peer;
	int			 touched = 0, r;

	pair(false);
	wg_peer_initiate(AB);
	pump_to(dst, sizeof(dst), &touched);
	ok(A->ev_done == 1 && B->ev_done == 1 && A->got[WG_HANDLED] == 1 &&
	    B->got[WG_HANDLED] == 1 && B->got[WG_KEEPALIVE] == 1,
	    "input_to all: initiation, response, keepalive as wg_input");
	ok(ping(A, AB, B, "10.9.0.1", "10.9.0.2", 84),
	    "input_to all: and the session carries data");
	h_advance(SEC);
	wg_device_set_under_load(B->dev, true);
	wg_peer_initiate(AB);
	pump_to(dst, sizeof(dst), &touched);
	ok(B->sent[3] == 1 && A->sent[1] == 3 && A->ev_done == 2 &&
	    A->got[WG_HANDLED] == 3,
	    "input_to all: under load a cookie reply, the retry, a response");
	wg_device_set_under_load(B->dev, false);
	is_int(touched, 0, "input_to all: no packet changed, no other buffer "
	    "written by a handshake message or a keepalive");

	/*
	 * dst's header over the packet's last bytes, dst's plaintext past
	 * the packet: the two plaintext and ciphertext ranges apart, but not
	 * the buffers (wg_input_to's own check, not aead's).
	 */
	src = A->addr;
	h_ip4(in, 100, "10.9.0.1", "10.9.0.2", 7);
	ok(wg_encrypt(AB, in, 100, out, &outlen, &to) == WG_OK,
	    "input_to all: sealed");
	pkt = to_rx + 1;
	memcpy(pkt, out, outlen);
	memcpy(keep, out, outlen);
	r = wg_input_to(B->dev, pkt, outlen, pkt + outlen - WG_DATA_HDR_LEN,
	    outlen, &src, &plain, &plainlen, &peer);
	ok(r == WG_DROP, "input_to all: a buffer whose header overlaps the "
	    "packet's tag: refused");
	/* dst's plaintext ending over the packet's header */
	pkt = to_rx + 1 + outlen;
	memcpy(pkt, keep, outlen);
	r = wg_input_to(B->dev, pkt, outlen, pkt - outlen + 2 *
	    WG_DATA_HDR_LEN, outlen, &src, &plain, &plainlen, &peer);
	ok(r == WG_DROP && memcmp(pkt, keep, outlen) == 0,
	    "input_to all: a buffer whose plaintext would end over the "
	    "packet's header: refused, the packet as it was");
	r = wg_input_to(B->dev, pkt, outlen, dst, sizeof(dst), &src, &plain,
	    &plainlen, &peer);
	ok(r == WG_DATA && plainlen == 100 && memcmp(plain, in, 100) == 0,
	    "input_to all: and its counter not spent by the refusals");
}

int
main(void)
{
	plan(127 + 9 + 5 + 7 + 8 + 7);
	test_basic(false);
	test_basic(true);
	test_bad_keys();
	test_rekey();
	test_rx_rekey();
	test_stale_clock();
	test_keepalive();
	test_give_up();
	test_zero_keys();
	test_reject_messages();
	test_cookie();
	test_roam_and_spoof();
	test_multi();
	test_threads();
	test_input_to();
	test_input_to_all();
	test_aips_owner();
	test_padding();
	h_reset();
	return done_testing();
}

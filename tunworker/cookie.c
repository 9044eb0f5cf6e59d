/*
 * cookie.c -- DoS mitigation: mac1 proves knowledge of our public key,
 * mac2 proves the sender can receive at its source address, and the token
 * bucket caps the handshakes one source may cost us while under load.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blake2s.h"
#include "cookie.h"
#include "wgtime.h"

#define LABEL_MAC1		"mac1----"
#define LABEL_COOKIE		"cookie--"
#define RATELIMIT_COST		(WG_SEC(1) / RATELIMIT_PER_SECOND)
#define RATELIMIT_MAX		(RATELIMIT_COST * RATELIMIT_BURST)
#define RATELIMIT_IDLE		WG_SEC(1)
#define RATELIMIT_TABLE_SIZE	(RATELIMIT_SLOTS * \
				    sizeof(struct ratelimit_entry))

static void	 cookie_label_key(uint8_t out[NOISE_SYMMETRIC_KEY_LEN],
		    const char *, const uint8_t pub[NOISE_PUBLIC_KEY_LEN]);
static void	 cookie_mac(uint8_t out[NOISE_COOKIE_LEN], const uint8_t *key,
		    size_t keylen,
		    const uint8_t *, size_t);
static size_t	 cookie_src(const struct sockaddr_storage *, uint8_t [18]);

static void
cookie_label_key(uint8_t out[NOISE_SYMMETRIC_KEY_LEN], const char *label,
    const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	noise_hash(out, (const uint8_t *)label, 8, pub, NOISE_PUBLIC_KEY_LEN);
}

static void
cookie_mac(uint8_t out[NOISE_COOKIE_LEN], const uint8_t *key, size_t keylen,
    const uint8_t *in, size_t inlen)
{
	blake2s(out, NOISE_COOKIE_LEN, in, inlen, key, keylen);
}

/* The source address and port as the cookie covers them; 0 if unknown. */
static size_t
cookie_src(const struct sockaddr_storage *ss, uint8_t out[18])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (ss->ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		memcpy(out, &sin->sin_addr, 4);
		memcpy(out + 4, &sin->sin_port, 2);
		return 6;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(out, &sin6->sin6_addr, 16);
		memcpy(out + 16, &sin6->sin6_port, 2);
		return 18;
	default:
		return 0;
	}
}

int
cookie_checker_init(struct cookie_checker *cc)
{
	memset(cc, 0, sizeof(*cc));
	/*
	 * 2 MiB, touched only under load: mapped on its own so an idle
	 * device costs no resident memory and freeing returns it all
	 * (from malloc, calloc would zero it in the heap and keep it).
	 */
	cc->cc_rl.rl_table = mmap(NULL, RATELIMIT_TABLE_SIZE,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cc->cc_rl.rl_table == MAP_FAILED) {
		cc->cc_rl.rl_table = NULL;
		return -1;
	}
	randombytes_buf(cc->cc_rl.rl_hashkey, sizeof(cc->cc_rl.rl_hashkey));
	pthread_mutex_init(&cc->cc_lock, NULL);
	pthread_mutex_init(&cc->cc_rl.rl_lock, NULL);
	return 0;
}

void
cookie_checker_free(struct cookie_checker *cc)
{
	pthread_mutex_destroy(&cc->cc_lock);
	pthread_mutex_destroy(&cc->cc_rl.rl_lock);
	if (cc->cc_rl.rl_table != NULL)
		munmap(cc->cc_rl.rl_table, RATELIMIT_TABLE_SIZE);
	free(cc->cc_rl.rl_admit);
	sodium_memzero(cc, sizeof(*cc));
}

void
cookie_checker_update(struct cookie_checker *cc,
    const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	pthread_mutex_lock(&cc->cc_lock);
	cookie_label_key(cc->cc_mac1_key, LABEL_MAC1, pub);
	cookie_label_key(cc->cc_cookie_key, LABEL_COOKIE, pub);
	pthread_mutex_unlock(&cc->cc_lock);
}

void
cookie_maker_init(struct cookie_maker *cm,
    const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	memset(cm, 0, sizeof(*cm));
	cookie_label_key(cm->cm_mac1_key, LABEL_MAC1, pub);
	cookie_label_key(cm->cm_cookie_key, LABEL_COOKIE, pub);
}

void
cookie_maker_clear(struct cookie_maker *cm)
{
	sodium_memzero(cm->cm_cookie, sizeof(cm->cm_cookie));
	cm->cm_cookie_valid = false;
	cm->cm_mac1_valid = false;
}

void
cookie_add_macs(struct cookie_maker *cm, uint8_t *msg, size_t len,
    uint64_t now)
{
	uint8_t	*mac1 = msg + len - 2 * NOISE_COOKIE_LEN;
	uint8_t	*mac2 = msg + len - NOISE_COOKIE_LEN;

	cookie_mac(mac1, cm->cm_mac1_key, NOISE_SYMMETRIC_KEY_LEN, msg,
	    mac1 - msg);
	/* Kept: a cookie reply to this message is sealed to its mac1. */
	memcpy(cm->cm_last_mac1, mac1, NOISE_COOKIE_LEN);
	cm->cm_mac1_valid = true;

	if (cm->cm_cookie_valid &&
	    wg_since(cm->cm_cookie_birth, now) <
	    COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY)
		cookie_mac(mac2, cm->cm_cookie, NOISE_COOKIE_LEN, msg,
		    mac2 - msg);
	else
		memset(mac2, 0, NOISE_COOKIE_LEN);
}

int
cookie_check_mac1(struct cookie_checker *cc, const uint8_t *msg, size_t len)
{
	uint8_t	 mac[NOISE_COOKIE_LEN];
	size_t	 off = len - 2 * NOISE_COOKIE_LEN;

	if (len < 2 * NOISE_COOKIE_LEN)
		return -1;
	pthread_mutex_lock(&cc->cc_lock);
	cookie_mac(mac, cc->cc_mac1_key, NOISE_SYMMETRIC_KEY_LEN, msg, off);
	pthread_mutex_unlock(&cc->cc_lock);
	return sodium_memcmp(mac, msg + off, NOISE_COOKIE_LEN) == 0 ? 0 : -1;
}

/* Called with cc_lock held: tau = MAC(R_m, source ip || port). */
static void	 cookie_make(struct cookie_checker *,
		    uint8_t [NOISE_COOKIE_LEN],
		    const struct sockaddr_storage *, uint64_t);

static void
cookie_make(struct cookie_checker *cc, uint8_t out[NOISE_COOKIE_LEN],
    const struct sockaddr_storage *src, uint64_t now)
{
	uint8_t	 a[18];
	size_t	 alen;

	if (!cc->cc_secret_set ||
	    wg_since(cc->cc_secret_birth, now) >= COOKIE_SECRET_MAX_AGE) {
		randombytes_buf(cc->cc_secret, sizeof(cc->cc_secret));
		cc->cc_secret_birth = now;
		cc->cc_secret_set = true;
	}
	alen = cookie_src(src, a);
	cookie_mac(out, cc->cc_secret, sizeof(cc->cc_secret), a, alen);
}

int
cookie_check_mac2(struct cookie_checker *cc, const uint8_t *msg, size_t len,
    const struct sockaddr_storage *src, uint64_t now)
{
	uint8_t	 cookie[NOISE_COOKIE_LEN], mac[NOISE_COOKIE_LEN];
	size_t	 off = len - NOISE_COOKIE_LEN;
	int	 ret;

	if (len < 2 * NOISE_COOKIE_LEN)
		return -1;
	pthread_mutex_lock(&cc->cc_lock);
	cookie_make(cc, cookie, src, now);
	pthread_mutex_unlock(&cc->cc_lock);
	cookie_mac(mac, cookie, sizeof(cookie), msg, off);
	ret = sodium_memcmp(mac, msg + off, NOISE_COOKIE_LEN) == 0 ? 0 : -1;
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

void
cookie_create_reply(struct cookie_checker *cc, struct wg_msg_cookie *m,
    uint32_t receiver, const uint8_t mac1[NOISE_COOKIE_LEN],
    const struct sockaddr_storage *src, uint64_t now)
{
	uint8_t	 cookie[NOISE_COOKIE_LEN];

	m->type = htole32(WG_MSG_TYPE_COOKIE);
	m->receiver = htole32(receiver);
	randombytes_buf(m->nonce, sizeof(m->nonce));
	pthread_mutex_lock(&cc->cc_lock);
	cookie_make(cc, cookie, src, now);
	crypto_aead_xchacha20poly1305_ietf_encrypt(m->cookie_enc, NULL,
	    cookie, sizeof(cookie), mac1, NOISE_COOKIE_LEN, NULL, m->nonce,
	    cc->cc_cookie_key);
	pthread_mutex_unlock(&cc->cc_lock);
	sodium_memzero(cookie, sizeof(cookie));
}

int
cookie_consume_reply(struct cookie_maker *cm, const struct wg_msg_cookie *m,
    uint64_t now)
{
	uint8_t	 cookie[NOISE_COOKIE_LEN];

	if (!cm->cm_mac1_valid)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL,
	    m->cookie_enc, sizeof(m->cookie_enc), cm->cm_last_mac1,
	    NOISE_COOKIE_LEN, m->nonce, cm->cm_cookie_key) != 0)
		return -1;
	memcpy(cm->cm_cookie, cookie, sizeof(cookie));
	cm->cm_cookie_birth = now;
	cm->cm_cookie_valid = true;
	/* One reply per message we sent: a replayed reply is useless. */
	cm->cm_mac1_valid = false;
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}

/*
 * The rate-limit key of src: IPv4 by address, IPv6 by its /64 (what one
 * host can be expected to own) or, with plen 48, by its /48.  For the
 * admit list, plen 128 keeps the whole address.  0 if not IP.
 */
static int
ratelimit_key(const struct sockaddr_storage *src, int plen,
    uint8_t key[RATELIMIT_KEYLEN])
{
	memset(key, 0, RATELIMIT_KEYLEN);
	key[0] = (uint8_t)src->ss_family;
	if (src->ss_family == AF_INET) {
		key[1] = 32;
		memcpy(key + 2,
		    &((const struct sockaddr_in *)src)->sin_addr, 4);
	} else if (src->ss_family == AF_INET6) {
		key[1] = (uint8_t)plen;
		memcpy(key + 2,
		    &((const struct sockaddr_in6 *)src)->sin6_addr, plen / 8);
	} else
		return 0;
	return 1;
}

/* One token bucket; cost divides a source's rate. Under rl_lock. */
static bool
ratelimit_bucket(struct ratelimit *rl, const uint8_t key[RATELIMIT_KEYLEN],
    uint64_t cost, uint64_t now)
{
	struct ratelimit_entry	*e, *victim = NULL, *oldest = NULL;
	uint8_t			 h[8];
	uint64_t		 slot, tokens;
	int			 i;

	crypto_shorthash(h, key, RATELIMIT_KEYLEN, rl->rl_hashkey);
	memcpy(&slot, h, sizeof(slot));
	for (i = 0; i < RATELIMIT_PROBE; i++) {
		e = &rl->rl_table[(slot + i) & (RATELIMIT_SLOTS - 1)];
		if (e->re_used && wg_since(e->re_last, now) > RATELIMIT_IDLE)
			e->re_used = false;
		if (e->re_used &&
		    memcmp(e->re_key, key, RATELIMIT_KEYLEN) == 0) {
			tokens = e->re_tokens + wg_since(e->re_last, now);
			if (tokens > RATELIMIT_MAX)
				tokens = RATELIMIT_MAX;
			if (now > e->re_last)
				e->re_last = now;
			if (tokens < cost) {
				e->re_tokens = tokens;
				return false;
			}
			e->re_tokens = tokens - cost;
			return true;
		}
		if (!e->re_used && victim == NULL)
			victim = e;
		if (e->re_used && (oldest == NULL ||
		    e->re_last < oldest->re_last))
			oldest = e;
	}
	/*
	 * A full neighbourhood: evict the least recently used.  A flood can
	 * then only make sources forget their history, never shut out one.
	 */
	if (victim == NULL) {
		victim = oldest;
		rl->rl_evictions++;
	}
	memcpy(victim->re_key, key, RATELIMIT_KEYLEN);
	victim->re_used = true;
	victim->re_last = now;
	victim->re_tokens = RATELIMIT_MAX - cost;
	return true;
}

static int
ratelimit_admit_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RATELIMIT_KEYLEN);
}

static struct ratelimit_admit *
ratelimit_admit_find(struct ratelimit *rl, const uint8_t *key)
{
	if (rl->rl_nadmit == 0)
		return NULL;
	return bsearch(key, rl->rl_admit, rl->rl_nadmit,
	    sizeof(*rl->rl_admit), ratelimit_admit_cmp);
}

int
ratelimit_admit_add(struct ratelimit *rl, const struct sockaddr_storage *ss)
{
	struct ratelimit_admit	*a;
	uint8_t			 key[RATELIMIT_KEYLEN];
	size_t			 i, ncap;
	int			 ret = 0;

	if (!ratelimit_key(ss, 128, key))
		return 0;
	pthread_mutex_lock(&rl->rl_lock);
	if ((a = ratelimit_admit_find(rl, key)) != NULL) {
		a->ra_refs++;
		goto out;
	}
	if (rl->rl_nadmit == rl->rl_admitcap) {
		ncap = rl->rl_admitcap ? rl->rl_admitcap * 2 : 8;
		if ((a = reallocarray(rl->rl_admit, ncap,
		    sizeof(*a))) == NULL) {
			ret = -1;
			goto out;
		}
		rl->rl_admit = a;
		rl->rl_admitcap = ncap;
	}
	for (i = rl->rl_nadmit; i > 0 &&
	    memcmp(rl->rl_admit[i - 1].ra_key, key, RATELIMIT_KEYLEN) > 0; i--)
		rl->rl_admit[i] = rl->rl_admit[i - 1];
	memcpy(rl->rl_admit[i].ra_key, key, RATELIMIT_KEYLEN);
	rl->rl_admit[i].ra_refs = 1;
	rl->rl_nadmit++;
out:
	pthread_mutex_unlock(&rl->rl_lock);
	return ret;
}

void
ratelimit_admit_del(struct ratelimit *rl, const struct sockaddr_storage *ss)
{
	struct ratelimit_admit	*a;
	uint8_t			 key[RATELIMIT_KEYLEN];
	size_t			 i;

	if (!ratelimit_key(ss, 128, key))
		return;
	pthread_mutex_lock(&rl->rl_lock);
	if ((a = ratelimit_admit_find(rl, key)) != NULL && --a->ra_refs == 0) {
		i = a - rl->rl_admit;
		memmove(a, a + 1, (rl->rl_nadmit - i - 1) * sizeof(*a));
		rl->rl_nadmit--;
	}
	pthread_mutex_unlock(&rl->rl_lock);
}

bool
ratelimit_allow(struct ratelimit *rl, const struct sockaddr_storage *src,
    uint64_t now)
{
	uint8_t	 key[RATELIMIT_KEYLEN];
	bool	 allow;

	if (!ratelimit_key(src, 128, key))
		return false;
	pthread_mutex_lock(&rl->rl_lock);
	if (ratelimit_admit_find(rl, key) != NULL) {
		allow = true;
		goto out;
	}
	(void)ratelimit_key(src, 64, key);
	allow = ratelimit_bucket(rl, key, RATELIMIT_COST, now);
	if (allow && src->ss_family == AF_INET6) {
		(void)ratelimit_key(src, 48, key);
		allow = ratelimit_bucket(rl, key,
		    RATELIMIT_COST / RATELIMIT_AGG48, now);
	}
out:
	pthread_mutex_unlock(&rl->rl_lock);
	return allow;
}

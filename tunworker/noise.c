/*
 * noise.c -- the WireGuard handshake (Noise IKpsk2) and transport AEAD.
 *
 * Every consume function works on copies of the chaining key and hash and
 * commits them to the handshake only once the whole message checked out,
 * so a forged message never disturbs a handshake in flight.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "blake2s.h"
#include "noise.h"
#include "wgtime.h"

#define NOISE_CONSTRUCTION	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER	"WireGuard v1 zx2c4 Jason@zx2c4.com"
#define TAI64_BASE		0x400000000000000aULL
#define TAI64N_WHITENER		0xffffffU

static void	 noise_kdf1(uint8_t ck[NOISE_HASH_LEN], const uint8_t *,
		    size_t);
static void	 noise_kdf2(uint8_t ck[NOISE_HASH_LEN],
		    uint8_t k[NOISE_SYMMETRIC_KEY_LEN], const uint8_t *,
		    size_t);
static void	 noise_mix_hash(uint8_t h[NOISE_HASH_LEN], const uint8_t *,
		    size_t);
static int	 noise_dh(uint8_t out[NOISE_PUBLIC_KEY_LEN],
		    const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
		    const uint8_t pub[NOISE_PUBLIC_KEY_LEN]);
static void	 noise_aead_seal(uint8_t *dst,
		    const uint8_t k[NOISE_SYMMETRIC_KEY_LEN],
		    const uint8_t *src, size_t len,
		    const uint8_t h[NOISE_HASH_LEN]);
static int	 noise_aead_open(uint8_t *dst,
		    const uint8_t k[NOISE_SYMMETRIC_KEY_LEN],
		    const uint8_t *src, size_t len,
		    const uint8_t h[NOISE_HASH_LEN]);
static void	 noise_initial(uint8_t ck[NOISE_HASH_LEN],
		    uint8_t h[NOISE_HASH_LEN],
		    const uint8_t responder_pub[NOISE_PUBLIC_KEY_LEN]);
static void	 noise_nonce(uint8_t n[12], uint64_t);
static void	 noise_ephemeral(uint8_t [NOISE_PUBLIC_KEY_LEN]);

void
noise_hash(uint8_t out[NOISE_HASH_LEN], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	struct blake2s_state	 s;

	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

static void
noise_kdf1(uint8_t ck[NOISE_HASH_LEN], const uint8_t *in, size_t inlen)
{
	blake2s_kdf(ck, NULL, NULL, ck, NOISE_HASH_LEN, in, inlen);
}

static void
noise_kdf2(uint8_t ck[NOISE_HASH_LEN], uint8_t k[NOISE_SYMMETRIC_KEY_LEN],
    const uint8_t *in, size_t inlen)
{
	blake2s_kdf(ck, k, NULL, ck, NOISE_HASH_LEN, in, inlen);
}

static void
noise_mix_hash(uint8_t h[NOISE_HASH_LEN], const uint8_t *in, size_t inlen)
{
	noise_hash(h, h, NOISE_HASH_LEN, in, inlen);
}

static int
noise_dh(uint8_t out[NOISE_PUBLIC_KEY_LEN],
    const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
    const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	/* libsodium refuses an all-zero result: a low-order point. */
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, NOISE_PUBLIC_KEY_LEN);
		return -1;
	}
	return 0;
}

static void
noise_nonce(uint8_t n[12], uint64_t counter)
{
	uint64_t	 le = htole64(counter);

	memset(n, 0, 4);
	memcpy(n + 4, &le, 8);
}

static void
noise_aead_seal(uint8_t *dst, const uint8_t k[NOISE_SYMMETRIC_KEY_LEN],
    const uint8_t *src, size_t len, const uint8_t h[NOISE_HASH_LEN])
{
	uint8_t	 n[12];

	noise_nonce(n, 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, h,
	    NOISE_HASH_LEN, NULL, n, k);
}

static int
noise_aead_open(uint8_t *dst, const uint8_t k[NOISE_SYMMETRIC_KEY_LEN],
    const uint8_t *src, size_t len, const uint8_t h[NOISE_HASH_LEN])
{
	uint8_t	 n[12];

	noise_nonce(n, 0);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, src,
	    len, h, NOISE_HASH_LEN, n, k) != 0)
		return -1;
	return 0;
}

static void
noise_initial(uint8_t ck[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
    const uint8_t responder_pub[NOISE_PUBLIC_KEY_LEN])
{
	static const char construction[] = NOISE_CONSTRUCTION;
	static const char identifier[] = NOISE_IDENTIFIER;

	blake2s(ck, NOISE_HASH_LEN, (const uint8_t *)construction,
	    sizeof(construction) - 1, NULL, 0);
	noise_hash(h, ck, NOISE_HASH_LEN, (const uint8_t *)identifier,
	    sizeof(identifier) - 1);
	noise_mix_hash(h, responder_pub, NOISE_PUBLIC_KEY_LEN);
}

/*
 * A known-answer test fixes the next ephemeral key and the next timestamp;
 * each fixed value is used once, then randomness and the clock again.
 */
static const uint8_t	*test_ephemeral;
static const uint8_t	*test_timestamp;

void
noise_test_fix_ephemeral(const uint8_t e[NOISE_PUBLIC_KEY_LEN])
{
	test_ephemeral = e;
}

void
noise_test_fix_timestamp(const uint8_t ts[NOISE_TIMESTAMP_LEN])
{
	test_timestamp = ts;
}

static void
noise_ephemeral(uint8_t e[NOISE_PUBLIC_KEY_LEN])
{
	if (test_ephemeral != NULL) {
		memcpy(e, test_ephemeral, NOISE_PUBLIC_KEY_LEN);
		test_ephemeral = NULL;
	} else
		randombytes_buf(e, NOISE_PUBLIC_KEY_LEN);
}

void
noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN])
{
	struct timespec	 ts;
	uint64_t	 sec;
	uint32_t	 nsec;

	if (test_timestamp != NULL) {
		memcpy(out, test_timestamp, NOISE_TIMESTAMP_LEN);
		test_timestamp = NULL;
		return;
	}
	wg_realtime(&ts);
	sec = htobe64(TAI64_BASE + (uint64_t)ts.tv_sec);
	/* Coarse nanoseconds, so the stamp does not leak precise time. */
	nsec = htobe32((uint32_t)ts.tv_nsec & ~TAI64N_WHITENER);
	memcpy(out, &sec, 8);
	memcpy(out + 8, &nsec, 4);
}

int
noise_local_set_private(struct noise_local *l,
    const uint8_t priv[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t	 pub[NOISE_PUBLIC_KEY_LEN];

	if (crypto_scalarmult_base(pub, priv) != 0)
		return -1;
	memcpy(l->l_private, priv, NOISE_PUBLIC_KEY_LEN);
	memcpy(l->l_public, pub, NOISE_PUBLIC_KEY_LEN);
	l->l_has_identity = true;
	return 0;
}

void
noise_remote_init(struct noise_remote *r,
    const uint8_t pub[NOISE_PUBLIC_KEY_LEN],
    const struct noise_local *l)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->r_public, pub, NOISE_PUBLIC_KEY_LEN);
	noise_remote_precompute(r, l);
}

void
noise_remote_precompute(struct noise_remote *r, const struct noise_local *l)
{
	noise_handshake_clear(&r->r_hs);
	r->r_ss_ok = l->l_has_identity &&
	    noise_dh(r->r_ss, l->l_private, r->r_public) == 0;
}

void
noise_remote_set_psk(struct noise_remote *r, const uint8_t *psk)
{
	if (psk == NULL)
		sodium_memzero(r->r_psk, sizeof(r->r_psk));
	else
		memcpy(r->r_psk, psk, sizeof(r->r_psk));
}

void
noise_handshake_clear(struct noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
	hs->hs_state = HS_ZEROED;
}

int
noise_create_initiation(const struct noise_local *l, struct noise_remote *r,
    uint32_t local_index, struct wg_msg_init *m)
{
	struct noise_handshake	*hs = &r->r_hs;
	uint8_t			 ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t			 k[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 dh[NOISE_PUBLIC_KEY_LEN];
	uint8_t			 ts[NOISE_TIMESTAMP_LEN];
	int			 i, ret = -1;

	if (!l->l_has_identity || !r->r_ss_ok)
		return -1;
	noise_initial(ck, h, r->r_public);

	noise_ephemeral(hs->hs_e);
	if (crypto_scalarmult_base(m->ephemeral, hs->hs_e) != 0)
		goto out;
	noise_kdf1(ck, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	noise_mix_hash(h, m->ephemeral, NOISE_PUBLIC_KEY_LEN);

	if (noise_dh(dh, hs->hs_e, r->r_public) == -1)
		goto out;
	noise_kdf2(ck, k, dh, NOISE_PUBLIC_KEY_LEN);
	noise_aead_seal(m->static_enc, k, l->l_public, NOISE_PUBLIC_KEY_LEN, h);
	noise_mix_hash(h, m->static_enc, sizeof(m->static_enc));

	noise_kdf2(ck, k, r->r_ss, NOISE_PUBLIC_KEY_LEN);
	/*
	 * The responder drops a stamp not newer than the last one, and a
	 * test clock or a quick re-initiation can repeat a whitened stamp.
	 */
	noise_tai64n(ts);
	if (memcmp(ts, r->r_ts_sent, sizeof(ts)) <= 0) {
		memcpy(ts, r->r_ts_sent, sizeof(ts));
		for (i = sizeof(ts) - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(r->r_ts_sent, ts, sizeof(ts));
	noise_aead_seal(m->ts_enc, k, ts, sizeof(ts), h);
	noise_mix_hash(h, m->ts_enc, sizeof(m->ts_enc));

	m->type = htole32(WG_MSG_TYPE_INIT);
	m->sender = htole32(local_index);
	memset(m->mac1, 0, sizeof(m->mac1));
	memset(m->mac2, 0, sizeof(m->mac2));

	hs->hs_state = HS_CREATED_INITIATION;
	hs->hs_local_index = local_index;
	memcpy(hs->hs_ck, ck, NOISE_HASH_LEN);
	memcpy(hs->hs_hash, h, NOISE_HASH_LEN);
	ret = 0;
out:
	if (ret == -1)
		noise_handshake_clear(hs);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(dh, sizeof(dh));
	return ret;
}

int
noise_consume_initiation_begin(const struct noise_local *l,
    const struct wg_msg_init *m, struct noise_init_state *st)
{
	uint8_t	 k[NOISE_SYMMETRIC_KEY_LEN], dh[NOISE_PUBLIC_KEY_LEN];
	int	 ret = -1;

	if (!l->l_has_identity)
		return -1;
	noise_initial(st->is_ck, st->is_hash, l->l_public);
	memcpy(st->is_remote_e, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	noise_kdf1(st->is_ck, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	noise_mix_hash(st->is_hash, m->ephemeral, NOISE_PUBLIC_KEY_LEN);

	if (noise_dh(dh, l->l_private, m->ephemeral) == -1)
		goto out;
	noise_kdf2(st->is_ck, k, dh, NOISE_PUBLIC_KEY_LEN);
	if (noise_aead_open(st->is_remote_static, k, m->static_enc,
	    sizeof(m->static_enc), st->is_hash) == -1)
		goto out;
	noise_mix_hash(st->is_hash, m->static_enc, sizeof(m->static_enc));
	st->is_sender = le32toh(m->sender);
	ret = 0;
out:
	if (ret == -1)
		sodium_memzero(st, sizeof(*st));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(dh, sizeof(dh));
	return ret;
}

int
noise_consume_initiation_finish(const struct noise_local *l,
    struct noise_remote *r, struct noise_init_state *st,
    const struct wg_msg_init *m, uint64_t now)
{
	static const uint8_t	 zero_ts[NOISE_TIMESTAMP_LEN];
	struct noise_handshake	*hs = &r->r_hs;
	uint8_t			 k[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 ts[NOISE_TIMESTAMP_LEN];
	int			 ret = -1;

	if (!r->r_ss_ok)
		goto out;
	noise_kdf2(st->is_ck, k, r->r_ss, NOISE_PUBLIC_KEY_LEN);
	if (noise_aead_open(ts, k, m->ts_enc, sizeof(m->ts_enc),
	    st->is_hash) == -1)
		goto out;
	noise_mix_hash(st->is_hash, m->ts_enc, sizeof(m->ts_enc));

	/* Replay: the stamp must grow. Flood: at most 50 a second. */
	if (memcmp(ts, r->r_ts_recv, sizeof(ts)) <= 0)
		goto out;
	if (memcmp(r->r_ts_recv, zero_ts, sizeof(zero_ts)) != 0 &&
	    wg_since(r->r_last_init_recv, now) <
	    WG_SEC(1) / INITIATIONS_PER_SECOND)
		goto out;

	memcpy(r->r_ts_recv, ts, sizeof(ts));
	r->r_last_init_recv = now;
	noise_handshake_clear(hs);
	hs->hs_state = HS_CONSUMED_INITIATION;
	hs->hs_remote_index = st->is_sender;
	memcpy(hs->hs_remote_e, st->is_remote_e, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->hs_ck, st->is_ck, NOISE_HASH_LEN);
	memcpy(hs->hs_hash, st->is_hash, NOISE_HASH_LEN);
	ret = 0;
out:
	(void)l;
	sodium_memzero(st, sizeof(*st));
	sodium_memzero(k, sizeof(k));
	return ret;
}

int
noise_create_response(struct noise_remote *r, uint32_t local_index,
    struct wg_msg_resp *m)
{
	struct noise_handshake	*hs = &r->r_hs;
	uint8_t			 ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t			 k[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 tau[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 dh[NOISE_PUBLIC_KEY_LEN];
	int			 ret = -1;

	if (hs->hs_state != HS_CONSUMED_INITIATION)
		return -1;
	memcpy(ck, hs->hs_ck, NOISE_HASH_LEN);
	memcpy(h, hs->hs_hash, NOISE_HASH_LEN);

	noise_ephemeral(hs->hs_e);
	if (crypto_scalarmult_base(m->ephemeral, hs->hs_e) != 0)
		goto out;
	noise_kdf1(ck, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	noise_mix_hash(h, m->ephemeral, NOISE_PUBLIC_KEY_LEN);

	if (noise_dh(dh, hs->hs_e, hs->hs_remote_e) == -1)
		goto out;
	noise_kdf1(ck, dh, NOISE_PUBLIC_KEY_LEN);
	if (noise_dh(dh, hs->hs_e, r->r_public) == -1)
		goto out;
	noise_kdf1(ck, dh, NOISE_PUBLIC_KEY_LEN);

	blake2s_kdf(ck, tau, k, ck, NOISE_HASH_LEN, r->r_psk,
	    NOISE_SYMMETRIC_KEY_LEN);
	noise_mix_hash(h, tau, NOISE_SYMMETRIC_KEY_LEN);
	noise_aead_seal(m->empty_enc, k, NULL, 0, h);
	noise_mix_hash(h, m->empty_enc, sizeof(m->empty_enc));

	m->type = htole32(WG_MSG_TYPE_RESP);
	m->sender = htole32(local_index);
	m->receiver = htole32(hs->hs_remote_index);
	memset(m->mac1, 0, sizeof(m->mac1));
	memset(m->mac2, 0, sizeof(m->mac2));

	hs->hs_state = HS_CREATED_RESPONSE;
	hs->hs_local_index = local_index;
	memcpy(hs->hs_ck, ck, NOISE_HASH_LEN);
	memcpy(hs->hs_hash, h, NOISE_HASH_LEN);
	ret = 0;
out:
	if (ret == -1)
		noise_handshake_clear(hs);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(tau, sizeof(tau));
	sodium_memzero(dh, sizeof(dh));
	return ret;
}

int
noise_consume_response(const struct noise_local *l, struct noise_remote *r,
    const struct wg_msg_resp *m)
{
	struct noise_handshake	*hs = &r->r_hs;
	uint8_t			 ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t			 k[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 tau[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t			 dh[NOISE_PUBLIC_KEY_LEN];
	int			 ret = -1;

	if (hs->hs_state != HS_CREATED_INITIATION ||
	    le32toh(m->receiver) != hs->hs_local_index)
		return -1;
	memcpy(ck, hs->hs_ck, NOISE_HASH_LEN);
	memcpy(h, hs->hs_hash, NOISE_HASH_LEN);

	noise_kdf1(ck, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	noise_mix_hash(h, m->ephemeral, NOISE_PUBLIC_KEY_LEN);
	if (noise_dh(dh, hs->hs_e, m->ephemeral) == -1)
		goto out;
	noise_kdf1(ck, dh, NOISE_PUBLIC_KEY_LEN);
	if (noise_dh(dh, l->l_private, m->ephemeral) == -1)
		goto out;
	noise_kdf1(ck, dh, NOISE_PUBLIC_KEY_LEN);

	blake2s_kdf(ck, tau, k, ck, NOISE_HASH_LEN, r->r_psk,
	    NOISE_SYMMETRIC_KEY_LEN);
	noise_mix_hash(h, tau, NOISE_SYMMETRIC_KEY_LEN);
	if (noise_aead_open(NULL, k, m->empty_enc, sizeof(m->empty_enc),
	    h) == -1)
		goto out;
	noise_mix_hash(h, m->empty_enc, sizeof(m->empty_enc));

	hs->hs_state = HS_CONSUMED_RESPONSE;
	hs->hs_remote_index = le32toh(m->sender);
	memcpy(hs->hs_ck, ck, NOISE_HASH_LEN);
	memcpy(hs->hs_hash, h, NOISE_HASH_LEN);
	ret = 0;
out:
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(tau, sizeof(tau));
	sodium_memzero(dh, sizeof(dh));
	return ret;
}

int
noise_derive_keypair(struct noise_handshake *hs, struct noise_keypair *kp,
    uint64_t now)
{
	uint8_t	 t1[NOISE_SYMMETRIC_KEY_LEN], t2[NOISE_SYMMETRIC_KEY_LEN];

	if (hs->hs_state != HS_CREATED_RESPONSE &&
	    hs->hs_state != HS_CONSUMED_RESPONSE)
		return -1;
	blake2s_kdf(t1, t2, NULL, hs->hs_ck, NOISE_HASH_LEN, NULL, 0);
	noise_keypair_clear(kp);
	kp->kp_initiator = hs->hs_state == HS_CONSUMED_RESPONSE;
	if (kp->kp_initiator) {
		memcpy(kp->kp_send, t1, NOISE_SYMMETRIC_KEY_LEN);
		memcpy(kp->kp_recv, t2, NOISE_SYMMETRIC_KEY_LEN);
	} else {
		memcpy(kp->kp_send, t2, NOISE_SYMMETRIC_KEY_LEN);
		memcpy(kp->kp_recv, t1, NOISE_SYMMETRIC_KEY_LEN);
	}
	kp->kp_local_index = hs->hs_local_index;
	kp->kp_remote_index = hs->hs_remote_index;
	kp->kp_birth = now;
	kp->kp_send_counter = 0;
	replay_init(&kp->kp_replay);
	kp->kp_valid = true;
	noise_handshake_clear(hs);
	sodium_memzero(t1, sizeof(t1));
	sodium_memzero(t2, sizeof(t2));
	return 0;
}

void
noise_keypair_clear(struct noise_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
	kp->kp_valid = false;
}

void
noise_seal(const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint64_t counter,
    uint8_t *buf, size_t len)
{
	uint8_t	 n[12];

	noise_nonce(n, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + len,
	    NULL, buf, len, NULL, 0, NULL, n, key);
}

int
noise_open(const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint64_t counter,
    uint8_t *buf, size_t len)
{
	uint8_t	 n[12];

	if (len < NOISE_AUTHTAG_LEN)
		return -1;
	noise_nonce(n, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf,
	    len - NOISE_AUTHTAG_LEN, buf + len - NOISE_AUTHTAG_LEN, NULL, 0,
	    n, key) != 0)
		return -1;
	return 0;
}

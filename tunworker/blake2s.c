/*
 * blake2s.c -- BLAKE2s after RFC 7693 Appendix C, with HMAC and HKDF.
 *
 * libsodium only has BLAKE2b, and the privsep worker should not need one
 * more library for 200 lines of code.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "blake2s.h"

static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t	 load32(const uint8_t *);
static void	 store32(uint8_t *, uint32_t);
static uint32_t	 ror32(uint32_t, int);
static void	 blake2s_compress(struct blake2s_state *, int);

static uint32_t
load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
store32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t
ror32(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

#define G(a, b, c, d, x, y) do {				\
	v[a] = v[a] + v[b] + (x); v[d] = ror32(v[d] ^ v[a], 16);	\
	v[c] = v[c] + v[d];       v[b] = ror32(v[b] ^ v[c], 12);	\
	v[a] = v[a] + v[b] + (y); v[d] = ror32(v[d] ^ v[a], 8);	\
	v[c] = v[c] + v[d];       v[b] = ror32(v[b] ^ v[c], 7);	\
} while (0)

static void
blake2s_compress(struct blake2s_state *s, int last)
{
	uint32_t	 v[16], m[16];
	int		 i;

	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (i = 0; i < 16; i++)
		m[i] = load32(s->buf + 4 * i);
	for (i = 0; i < 10; i++) {
		const uint8_t *sg = blake2s_sigma[i];

		G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	sodium_memzero(v, sizeof(v));
	sodium_memzero(m, sizeof(m));
}

void
blake2s_init(struct blake2s_state *s, size_t outlen)
{
	blake2s_init_key(s, outlen, NULL, 0);
}

void
blake2s_init_key(struct blake2s_state *s, size_t outlen, const uint8_t *key,
    size_t keylen)
{
	int	 i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 8; i++)
		s->h[i] = blake2s_iv[i];
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000 ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen > 0) {
		memcpy(s->buf, key, keylen);
		/* A key is a whole zero-padded first block. */
		s->buflen = BLAKE2S_BLOCK_SIZE;
	}
}

void
blake2s_update(struct blake2s_state *s, const uint8_t *in, size_t inlen)
{
	size_t	 n;

	while (inlen > 0) {
		/*
		 * Compress a full buffer only when more input follows: the
		 * last block must go through final() with the flag set.
		 */
		if (s->buflen == BLAKE2S_BLOCK_SIZE) {
			s->t[0] += BLAKE2S_BLOCK_SIZE;
			if (s->t[0] < BLAKE2S_BLOCK_SIZE)
				s->t[1]++;
			blake2s_compress(s, 0);
			s->buflen = 0;
		}
		n = BLAKE2S_BLOCK_SIZE - s->buflen;
		if (n > inlen)
			n = inlen;
		memcpy(s->buf + s->buflen, in, n);
		s->buflen += n;
		in += n;
		inlen -= n;
	}
}

void
blake2s_final(struct blake2s_state *s, uint8_t *out)
{
	uint8_t	 full[BLAKE2S_HASH_SIZE];
	int	 i;

	s->t[0] += s->buflen;
	if (s->t[0] < s->buflen)
		s->t[1]++;
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_SIZE - s->buflen);
	blake2s_compress(s, 1);
	for (i = 0; i < 8; i++)
		store32(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(s, sizeof(*s));
}

void
blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
    const uint8_t *key, size_t keylen)
{
	struct blake2s_state	 s;

	blake2s_init_key(&s, outlen, key, keylen);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
}

void
blake2s_hmac(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *key,
    size_t keylen, const uint8_t *in, size_t inlen)
{
	struct blake2s_state	 s;
	uint8_t			 k[BLAKE2S_BLOCK_SIZE];
	uint8_t			 ih[BLAKE2S_HASH_SIZE];
	int			 i;

	memset(k, 0, sizeof(k));
	if (keylen > BLAKE2S_BLOCK_SIZE)
		blake2s(k, BLAKE2S_HASH_SIZE, key, keylen, NULL, 0);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		k[i] ^= 0x36;
	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, ih);

	for (i = 0; i < BLAKE2S_BLOCK_SIZE; i++)
		k[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, BLAKE2S_HASH_SIZE);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, ih, sizeof(ih));
	blake2s_final(&s, out);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(ih, sizeof(ih));
}

void
blake2s_kdf(uint8_t *o1, uint8_t *o2, uint8_t *o3, const uint8_t *key,
    size_t keylen, const uint8_t *in, size_t inlen)
{
	uint8_t	 prk[BLAKE2S_HASH_SIZE];
	uint8_t	 t[BLAKE2S_HASH_SIZE + 1];

	blake2s_hmac(prk, key, keylen, in, inlen);

	t[0] = 1;
	blake2s_hmac(t, prk, sizeof(prk), t, 1);
	memcpy(o1, t, BLAKE2S_HASH_SIZE);
	if (o2 != NULL) {
		t[BLAKE2S_HASH_SIZE] = 2;
		blake2s_hmac(t, prk, sizeof(prk), t, sizeof(t));
		memcpy(o2, t, BLAKE2S_HASH_SIZE);
	}
	if (o3 != NULL) {
		t[BLAKE2S_HASH_SIZE] = 3;
		blake2s_hmac(t, prk, sizeof(prk), t, sizeof(t));
		memcpy(o3, t, BLAKE2S_HASH_SIZE);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

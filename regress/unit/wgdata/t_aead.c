/*
 * t_aead.c -- the transport AEAD over libcrypto (tunworker/aead.c) agrees
 * byte for byte with libsodium's ChaCha20-Poly1305 (IETF) and with
 * RFC 8439: the section 2.8.2 vector, then a random packet of every
 * length from 0 to 1500 bytes sealed with WireGuard's nonce (0^32 ||
 * little-endian counter) under both, each opening the other's; a tag or
 * ciphertext with one bit flipped is refused and leaves nothing
 * decrypted; a slot refuses a generation it was not keyed for, and
 * holds no context once cleared. Two threads seal and open on one slot
 * while a third keys it again and clears it: whatever is sealed is
 * sealed with the keys of the generation asked for (never a newer one),
 * and TSan (make tsan) sees no race.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "aead.h"
#include "tap.h"

#define MAXLEN	1500

static const char rfc_key[] =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char rfc_nonce[] = "070000004041424344454647";
static const char rfc_ad[] = "50515253c0c1c2c3c4c5c6c7";
static const char rfc_pt[] = "Ladies and Gentlemen of the class of '99: "
    "If I could offer you only one tip for the future, sunscreen would "
    "be it.";
static const char rfc_ct[] =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
static const char rfc_tag[] = "1ae10b594f09e26a7e902ecbd0600691";

static void
wg_nonce(uint8_t n[12], uint64_t counter)
{
	memset(n, 0, 4);
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(counter >> (8 * i));
}

#define ROUNDS	2000

static struct aead_slot	 race;
static _Atomic uint32_t	 race_gen;
static _Atomic int	 race_stop;

static void
gen_key(uint8_t k[32], uint32_t gen)
{
	memset(k, 0x5a, 32);
	memcpy(k, &gen, sizeof(gen));
}

/* Seal (or open, arg != NULL) with the generation last published. */
static void *
racer(void *arg)
{
	uint8_t		 buf[64 + 16], k[32], n[12], out[64];
	uint64_t	 ctr = 0;
	uint32_t	 g;
	intptr_t	 bad = 0;

	while (!atomic_load(&race_stop)) {
		g = atomic_load(&race_gen);
		memset(buf, 0xa5, 64);
		ctr++;
		if (arg == NULL) {
			if (aead_slot_seal(&race, g, ctr, buf, 64) != 0)
				continue;	/* rekeyed meanwhile: refused */
			gen_key(k, g);
			wg_nonce(n, ctr);
			if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			    out, NULL, buf, 64, buf + 64, NULL, 0, n, k) != 0)
				bad++;
		} else {
			gen_key(k, g);
			wg_nonce(n, ctr);
			crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf,
			    buf + 64, NULL, buf, 64, NULL, 0, NULL, n, k);
			if (aead_slot_open(&race, g, ctr, buf, 64 + 16) == 0 &&
			    buf[0] != 0xa5)
				bad++;
		}
	}
	return (void *)bad;
}

/*
 * Past one chunk of keystream (aead.c makes 2,048 bytes a call, the
 * first 64 of them the Poly1305 key): lengths on and around the
 * boundaries, and the largest IP packet, as libsodium seals them, in
 * place and out of place with padding, and opened back both ways.
 */
static int
long_test(void)
{
	static const size_t	 lens[] = { 1983, 1984, 1985, 2047, 2048,
	    2049, 3000, 4031, 4032, 4033, 4095, 4096, 4097, 9000, 65535 };
	static uint8_t		 pt[65536 + AEAD_PAD_MAX], a[65536 + 128],
				 b[65536 + 128], d[65536 + 128];
	struct aead_slot	 s;
	uint8_t			 k[32], n[12];
	size_t			 i, len, pad;
	int			 bad = 0;

	randombytes_buf(k, sizeof(k));
	aead_slot_init(&s);
	if (aead_slot_key(&s, 1, k, k) != 0)
		return -1;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		len = lens[i];
		pad = i % 4 == 0 ? 0 : (16 - len % 16) % 16 + i % 2;
		randombytes_buf(pt, len);
		memset(pt + len, 0, pad);
		wg_nonce(n, 1000 + i);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(b,
		    b + len + pad, NULL, pt, len + pad, NULL, 0, NULL, n, k);
		memcpy(a, pt, len + pad);
		if (aead_slot_seal(&s, 1, 1000 + i, a, len + pad) != 0 ||
		    memcmp(a, b, len + pad + 16) != 0)
			bad |= 1;
		memset(d, 0xee, sizeof(d));
		if (aead_slot_seal_pad(&s, 1, 1000 + i, d, pt, len, pad) != 0 ||
		    memcmp(d, b, len + pad + 16) != 0 ||
		    d[len + pad + 16] != 0xee)
			bad |= 2;
		memset(d, 0xee, sizeof(d));
		if (aead_slot_open_to(&s, 1, 1000 + i, d, b,
		    len + pad + 16) != 0 || memcmp(d, pt, len + pad) != 0 ||
		    d[len + pad] != 0xee)
			bad |= 4;
		if (aead_slot_open(&s, 1, 1000 + i, b, len + pad + 16) != 0 ||
		    memcmp(b, pt, len + pad) != 0)
			bad |= 8;
		/* the last byte of ciphertext flipped: refused */
		memcpy(b, a, len + pad + 16);
		b[len + pad - 1] ^= 0x80;
		if (aead_slot_open_to(&s, 1, 1000 + i, d, b,
		    len + pad + 16) != -1)
			bad |= 16;
	}
	aead_slot_destroy(&s);
	return bad;
}

static int
race_test(void)
{
	pthread_t	 t[2];
	uint8_t		 k[32];
	uint32_t	 g;
	void		*r0, *r1;

	aead_slot_init(&race);
	gen_key(k, 1);
	aead_slot_key(&race, 1, k, k);
	atomic_store(&race_gen, 1);
	if (pthread_create(&t[0], NULL, racer, NULL) != 0 ||
	    pthread_create(&t[1], NULL, racer, (void *)1) != 0)
		return -1;
	for (g = 2; g < ROUNDS; g++) {
		gen_key(k, g);
		if (g % 7 == 0)
			aead_slot_clear(&race);
		aead_slot_key(&race, g, k, k);
		atomic_store(&race_gen, g);
	}
	atomic_store(&race_stop, 1);
	pthread_join(t[0], &r0);
	pthread_join(t[1], &r1);
	aead_slot_destroy(&race);
	return (int)((intptr_t)r0 + (intptr_t)r1);
}

int
main(void)
{
	static uint8_t	 a[MAXLEN + 16], b[MAXLEN + 16], pt[MAXLEN];
	uint8_t		 key[32], nonce[12], ad[12], ct[sizeof(rfc_pt)];
	uint8_t		 tag[16], tag2[16], skey[32], rkey[32], zero[MAXLEN];
	struct aead_slot s, r;
	struct aead_ctx	*c;
	size_t		 len, ptlen = sizeof(rfc_pt) - 1;
	uint64_t	 ctr;
	int		 bad_seal = 0, bad_open = 0, bad_sodium = 0, bad_tamper = 0;
	int		 bad_wipe = 0, bad_pad = 0, bad_to = 0, bad_to_wipe = 0;
	int		 bad_to_src = 0;
	static uint8_t	 d[MAXLEN + AEAD_PAD_MAX + 16];
	static uint8_t	 e[MAXLEN + AEAD_PAD_MAX + 16];
	size_t		 pad;

	if (sodium_init() == -1)
		return 1;
	plan(28);
	ok(aead_init() == 0, "libcrypto has ChaCha20-Poly1305");

	/* RFC 8439, 2.8.2 */
	unhex(rfc_key, key, sizeof(key));
	unhex(rfc_nonce, nonce, sizeof(nonce));
	unhex(rfc_ad, ad, sizeof(ad));
	unhex(rfc_ct, ct, ptlen);
	unhex(rfc_tag, tag2, sizeof(tag2));
	memcpy(a, rfc_pt, ptlen);
	c = aead_ctx_new(key);
	ok(c != NULL && aead_ctx_seal(c, nonce, ad, sizeof(ad), a, ptlen,
	    tag) == 0, "RFC 8439 2.8.2: sealed");
	ok(memcmp(a, ct, ptlen) == 0 && memcmp(tag, tag2, 16) == 0,
	    "RFC 8439 2.8.2: ciphertext and tag as the RFC has them");
	aead_ctx_free(c);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(b, b + ptlen, NULL,
	    (const uint8_t *)rfc_pt, ptlen, ad, sizeof(ad), NULL, nonce, key);
	ok(memcmp(b, ct, ptlen) == 0 && memcmp(b + ptlen, tag2, 16) == 0,
	    "RFC 8439 2.8.2: libsodium agrees");
	c = aead_ctx_new(key);
	ok(c != NULL && aead_ctx_open(c, nonce, ad, sizeof(ad), a, ptlen,
	    tag) == 0 && memcmp(a, rfc_pt, ptlen) == 0,
	    "RFC 8439 2.8.2: opened to the plaintext");
	memcpy(a, ct, ptlen);
	ad[0] ^= 1;
	ok(aead_ctx_open(c, nonce, ad, sizeof(ad), a, ptlen, tag) == -1,
	    "RFC 8439 2.8.2: other associated data is refused");
	aead_ctx_free(c);

	/* every length, WireGuard's nonce, slots both ways */
	randombytes_buf(skey, sizeof(skey));
	randombytes_buf(rkey, sizeof(rkey));
	aead_slot_init(&s);
	aead_slot_init(&r);
	/* s sends with skey; r receives with it */
	ok(aead_slot_key(&s, 7, skey, rkey) == 0 &&
	    aead_slot_key(&r, 9, rkey, skey) == 0, "two slots keyed");
	memset(zero, 0, sizeof(zero));
	for (len = 0; len <= MAXLEN; len++) {
		ctr = len * 0x0101010101ULL + (len % 3 == 0 ? UINT64_MAX -
		    8192 - len : 0);
		randombytes_buf(pt, len);
		memcpy(a, pt, len);
		if (aead_slot_seal(&s, 7, ctr, a, len) != 0)
			bad_seal++;
		wg_nonce(nonce, ctr);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(b, b + len,
		    NULL, pt, len, NULL, 0, NULL, nonce, skey);
		if (memcmp(a, b, len + 16) != 0)
			bad_sodium++;
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(b, NULL,
		    b, len, a + len, NULL, 0, nonce, skey) != 0 ||
		    memcmp(b, pt, len) != 0)
			bad_sodium++;
		memcpy(b, a, len + 16);
		if (aead_slot_open(&r, 9, ctr, a, len + 16) != 0 ||
		    memcmp(a, pt, len) != 0)
			bad_open++;
		/* one bit flipped: in the tag, or in the ciphertext */
		memcpy(a, b, len + 16);
		/* any byte of ciphertext or tag ((len * 7) % len was always 0) */
		a[(len * 7 + 3) % (len + 16)] ^= 0x10;
		if (aead_slot_open(&r, 9, ctr, a, len + 16) != -1)
			bad_tamper++;
		else if (memcmp(a, zero, len) != 0)
			bad_wipe++;
		memcpy(a, b, len + 16);
		if (aead_slot_open(&r, 9, ctr + 1, a, len + 16) != -1)
			bad_tamper++;
		/* opened from where it is into another buffer */
		memset(d, 0xee, sizeof(d));
		memcpy(e, b, len + 16);
		if (aead_slot_open_to(&r, 9, ctr, d, b, len + 16) != 0 ||
		    memcmp(d, pt, len) != 0 || d[len] != 0xee)
			bad_to++;
		if (memcmp(e, b, len + 16) != 0)
			bad_to_src++;
		b[(len * 5 + 1) % (len + 16)] ^= 0x04;
		memset(d, 0xee, sizeof(d));
		if (aead_slot_open_to(&r, 9, ctr, d, b, len + 16) != -1)
			bad_to++;
		else if (memcmp(d, zero, len) != 0 || d[len] != 0xee)
			bad_to_wipe++;
		b[(len * 5 + 1) % (len + 16)] ^= 0x04;
		/* every byte of the tag, each bit position in turn */
		for (size_t j = 0; j < 16; j++) {
			memcpy(a, b, len + 16);
			a[len + j] ^= (uint8_t)(1 << ((j + len) % 8));
			if (aead_slot_open(&r, 9, ctr, a, len + 16) != -1)
				bad_tamper++;
		}
		/* sealed from where it is, zero padding after it */
		pad = len % 3 == 0 ? 0 : (16 - len % 16) % 16 + len % 2;
		memset(d, 0xee, sizeof(d));
		if (aead_slot_seal_pad(&s, 7, ctr, d, pt, len, pad) != 0)
			bad_pad++;
		memcpy(e, pt, len);
		memset(e + len, 0, pad);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(e, e + len +
		    pad, NULL, e, len + pad, NULL, 0, NULL, nonce, skey);
		if (memcmp(d, e, len + pad + 16) != 0 ||
		    d[len + pad + 16] != 0xee)
			bad_pad++;
	}
	is_int(bad_seal, 0, "0..%d bytes: every seal succeeds", MAXLEN);
	is_int(bad_sodium, 0,
	    "0..%d bytes: ciphertext and tag as libsodium's, which opens them",
	    MAXLEN);
	is_int(bad_open, 0, "0..%d bytes: the receiving slot opens them",
	    MAXLEN);
	is_int(bad_tamper, 0,
	    "a flipped bit, or another counter, is refused at every length");
	is_int(bad_wipe, 0, "and a refused packet leaves nothing decrypted");
	is_int(bad_to, 0, "0..%d bytes: opened into another buffer, exactly "
	    "len bytes written; one bit flipped refused", MAXLEN);
	is_int(bad_to_src, 0, "... the received packet left as it was");
	is_int(bad_to_wipe, 0, "... a refused packet leaves nothing decrypted "
	    "in the other buffer");
	/* a good packet at a + 8, opened to a: would verify, if allowed */
	randombytes_buf(a + 8, 64);
	ok(aead_slot_seal(&s, 7, 1, a + 8, 64) == 0 &&
	    aead_slot_open_to(&r, 9, 1, a, a + 8, 64 + 16) == -1,
	    "overlapping buffers (not the same): refused");
	ok(aead_slot_open(&r, 9, 0, a, 15) == -1, "shorter than a tag: refused");
	/* over INT_MAX: refused before anything is read (a is far smaller) */
	c = aead_ctx_new(skey);
	ok(c != NULL &&
	    aead_ctx_open(c, nonce, NULL, 0, a, (size_t)INT_MAX + 1, tag) == -1 &&
	    aead_ctx_open_to(c, nonce, NULL, 0, a, a, SIZE_MAX - 15, tag) == -1 &&
	    aead_ctx_open(c, nonce, a, (size_t)INT_MAX + 1, a, 16, tag) == -1 &&
	    aead_ctx_seal(c, nonce, NULL, 0, a, (size_t)INT_MAX + 1, tag) == -1 &&
	    aead_ctx_seal(c, nonce, a, (size_t)INT_MAX + 1, a, 16, tag) == -1 &&
	    aead_ctx_seal_pad(c, nonce, tag2, d, (size_t)INT_MAX + 1, 0,
	    tag) == -1,
	    "lengths over INT_MAX: refused, nothing read");
	aead_ctx_free(c);
	is_int(bad_pad, 0, "0..%d bytes sealed out of place with zero "
	    "padding: as libsodium seals packet and padding", MAXLEN);
	ok(aead_slot_seal_pad(&s, 7, 1, a + 8, a, 32, 0) == -1 &&
	    aead_slot_seal_pad(&s, 7, 1, a, a + 8, 32, 0) == -1 &&
	    aead_slot_seal_pad(&s, 7, 1, b, a, 32, AEAD_PAD_MAX + 1) == -1,
	    "out of place: overlapping buffers, or too much padding, refused");

	/* a packet that would open: refused for another generation */
	memset(a, 0x3c, 32);
	ok(aead_slot_seal(&s, 7, 5, a, 32) == 0 &&
	    aead_slot_open(&r, 8, 5, a, 48) == -1,
	    "a good packet, opened for another generation: refused");
	memset(a, 0, 16);
	ok(aead_slot_seal(&s, 8, 1, a, 0) == -1 &&
	    aead_slot_open(&r, 8, 1, a, 16) == -1,
	    "another generation: refused both ways");
	ok(aead_slot_seal_pad(&s, 8, 1, b, a, 32, 0) == -1 &&
	    aead_slot_seal_pad(&s, 8, 1, b, a, 32, 16) == -1,
	    "another generation: refused out of place too (a replaced "
	    "keypair's counter never sealed under its successor's key)");
	aead_slot_clear(&s);
	ok(s.a_send == NULL && s.a_recv == NULL &&
	    aead_slot_seal(&s, 7, 1, a, 0) == -1,
	    "cleared: no context left, nothing sealed");
	ok(aead_slot_key(&s, 10, skey, rkey) == 0 &&
	    aead_slot_seal(&s, 10, 1, a, 0) == 0, "keyed again: seals");
	ok(crypto_aead_chacha20poly1305_ietf_decrypt_detached(b, NULL, a, 0,
	    a, NULL, 0, (wg_nonce(nonce, 1), nonce), skey) == 0,
	    "a keepalive (no payload): libsodium verifies its tag");
	aead_slot_destroy(&s);
	aead_slot_destroy(&r);
	is_int(long_test(), 0, "1,983 to 65,535 bytes (past the first "
	    "2,048 bytes of keystream): as libsodium seals them, opened back, "
	    "a flipped last byte refused");
	is_int(race_test(), 0, "sealing and opening while the slot is keyed "
	    "again %d times: only with the generation asked for", ROUNDS);
	return done_testing();
}

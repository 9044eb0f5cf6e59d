/*
 * aead.c -- ChaCha20-Poly1305 (RFC 8439) for transport data, built from
 * libcrypto's ChaCha20 and Poly1305 (AVX-512/AVX2 code paths, IFMA
 * Poly1305 where the CPU has them). Not through libcrypto's combined
 * ChaCha20-Poly1305 cipher: that one runs the ChaCha20 core three times
 * a packet (the Poly1305 key block, the whole blocks, the last partial
 * block), and its short calls cost what 4 blocks do. Here one call makes
 * the key block and the packet's keystream together, and the tag is
 * checked before anything is decrypted: about 0.75 against 1.0 us per
 * 1,420-byte packet on the machine measured. The handshake and cookies
 * stay on libsodium. regress/unit/wgdata/t_aead.c checks byte for byte
 * against libsodium and RFC 8439.
 */
#include <sys/types.h>

#include <endian.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aead.h"
#include "compat.h"

/*
 * Keystream made per call: a multiple of 1,024 bytes, what libcrypto's
 * 16-block AVX-512 loop does at once. The first call's first 64 bytes
 * are block 0, whose first 32 bytes are the Poly1305 key.
 */
#define AEAD_CHUNK	2048
#define AEAD_BLOCK	64

struct aead_ctx {
	EVP_CIPHER_CTX	*ac_chacha;	/* keyed once; IV per packet */
	EVP_MAC_CTX	*ac_poly;	/* keyed per packet from block 0 */
};

static EVP_CIPHER	*aead_cipher;
static EVP_MAC		*aead_mac;
static pthread_once_t	 aead_once = PTHREAD_ONCE_INIT;
static int		 aead_ok;
static const uint8_t	 aead_zero[AEAD_CHUNK];

static void
aead_load(void)
{
	/*
	 * No openssl.cnf (it could name engines or providers to load from
	 * files the chroot does not have); the default provider is built
	 * in. The CPU features are probed here, before the sandbox.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ATEXIT, NULL) != 1)
		return;
	if ((aead_cipher = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL)) == NULL)
		return;
	if ((aead_mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL)
		return;
	aead_ok = 1;
}

int
aead_init(void)
{
	pthread_once(&aead_once, aead_load);
	return aead_ok ? 0 : -1;
}

struct aead_ctx *
aead_ctx_new(const uint8_t key[AEAD_KEY_LEN])
{
	struct aead_ctx	*c;

	if (aead_init() == -1 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->ac_chacha = EVP_CIPHER_CTX_new()) == NULL ||
	    (c->ac_poly = EVP_MAC_CTX_new(aead_mac)) == NULL ||
	    EVP_CipherInit_ex2(c->ac_chacha, aead_cipher, key, NULL, 1,
	    NULL) != 1) {
		aead_ctx_free(c);
		return NULL;
	}
	return c;
}

void
aead_ctx_free(struct aead_ctx *c)
{
	if (c == NULL)
		return;
	/* both cleanse the key state they free */
	EVP_CIPHER_CTX_free(c->ac_chacha);
	EVP_MAC_CTX_free(c->ac_poly);
	free(c);
}

/*
 * The next n bytes of keystream (n a multiple of 64, at most
 * AEAD_CHUNK), libcrypto's ChaCha20 over zeros.
 */
static int
aead_stream(struct aead_ctx *c, uint8_t *ks, size_t n)
{
	int	 m;

	return EVP_CipherUpdate(c->ac_chacha, ks, &m, aead_zero,
	    (int)n) == 1 && (size_t)m == n ? 0 : -1;
}

static size_t
aead_round(size_t n)
{
	n = (n + AEAD_BLOCK - 1) & ~(size_t)(AEAD_BLOCK - 1);
	return n < AEAD_CHUNK ? n : AEAD_CHUNK;
}

/* The next chunk of keystream for left more bytes: its length, or -1. */
static ssize_t
aead_next(struct aead_ctx *c, uint8_t ks[AEAD_CHUNK], size_t left)
{
	size_t	 n = aead_round(left);

	return aead_stream(c, ks, n) == -1 ? -1 : (ssize_t)n;
}

/*
 * dst = src ^ ks for n bytes, 64 at a time (dst may be src): one
 * AVX-512 or two AVX2 operations where the CPU has them (VPND_CLONES).
 */
VPND_CLONES
static void
aead_xor(uint8_t *dst, const uint8_t *src, const uint8_t *ks, size_t n)
{
	typedef uint8_t v64 __attribute__((vector_size(64)));
	v64	 a, b;
	size_t	 i = 0;

	for (; i + sizeof(v64) <= n; i += sizeof(v64)) {
		memcpy(&a, src + i, sizeof(a));
		memcpy(&b, ks + i, sizeof(b));
		a ^= b;
		memcpy(dst + i, &a, sizeof(a));
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ ks[i];
}

/*
 * Set the nonce (block counter 0), make the first chunk of keystream
 * into ks for a message of len bytes and key Poly1305 with block 0.
 * Returns the keystream bytes after block 0 that ks holds, or -1.
 */
static ssize_t
aead_start(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    uint8_t ks[AEAD_CHUNK], size_t len)
{
	uint8_t	 iv[16];
	size_t	 n;

	memset(iv, 0, 4);		/* the block counter, little-endian */
	memcpy(iv + 4, nonce, AEAD_NONCE_LEN);
	n = aead_round(AEAD_BLOCK + len);
	if (EVP_CipherInit_ex2(c->ac_chacha, NULL, NULL, iv, 1, NULL) != 1 ||
	    aead_stream(c, ks, n) == -1 ||
	    EVP_MAC_init(c->ac_poly, ks, 32, NULL) != 1)
		return -1;
	return (ssize_t)(n - AEAD_BLOCK);
}

static int
aead_mac_pad(struct aead_ctx *c, size_t len)
{
	size_t	 r = len % 16;

	return r == 0 || EVP_MAC_update(c->ac_poly, aead_zero, 16 - r) == 1 ?
	    0 : -1;
}

static int
aead_mac_ad(struct aead_ctx *c, const uint8_t *ad, size_t adlen)
{
	if (adlen == 0)
		return 0;
	return EVP_MAC_update(c->ac_poly, ad, adlen) == 1 ?
	    aead_mac_pad(c, adlen) : -1;
}

/* Pad the ciphertext, then the two lengths; the tag into tag. */
static int
aead_mac_end(struct aead_ctx *c, size_t adlen, size_t len,
    uint8_t tag[AEAD_TAG_LEN])
{
	uint64_t	 l[2];
	size_t		 n;

	l[0] = htole64((uint64_t)adlen);
	l[1] = htole64((uint64_t)len);
	if (aead_mac_pad(c, len) == -1 ||
	    EVP_MAC_update(c->ac_poly, (uint8_t *)l, sizeof(l)) != 1 ||
	    EVP_MAC_final(c->ac_poly, tag, &n, AEAD_TAG_LEN) != 1 ||
	    n != AEAD_TAG_LEN)
		return -1;
	return 0;
}

/*
 * Encrypt src[0 .. len) then pad zeros (src NULL: all zeros) into dst,
 * feeding Poly1305 the ciphertext as it is made.
 */
static int
aead_seal_body(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *dst, const uint8_t *src,
    size_t len, size_t pad, uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t		 ks[AEAD_CHUNK];
	const uint8_t	*k;
	size_t		 off = 0, have, n, d, total = len + pad;
	ssize_t		 first, next;
	int		 r = -1;

	if ((first = aead_start(c, nonce, ks, total)) == -1 ||
	    aead_mac_ad(c, ad, adlen) == -1)
		goto out;
	k = ks + AEAD_BLOCK;
	have = (size_t)first;
	while (off < total) {
		if (have == 0) {
			if ((next = aead_next(c, ks, total - off)) == -1)
				goto out;
			have = (size_t)next;
			k = ks;
		}
		n = total - off < have ? total - off : have;
		/* d bytes of the packet, then n - d of padding (zeros) */
		d = off >= len ? 0 : len - off < n ? len - off : n;
		aead_xor(dst + off, src + off, k, d);
		memcpy(dst + off + d, k + d, n - d);
		if (EVP_MAC_update(c->ac_poly, dst + off, n) != 1)
			goto out;
		off += n;
		k += n;
		have -= n;
	}
	r = aead_mac_end(c, adlen, total, tag);
 out:
	/* block 0 keyed Poly1305; the rest only repeats the packet */
	OPENSSL_cleanse(ks, AEAD_BLOCK);
	return r;
}

int
aead_ctx_seal(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
    uint8_t tag[AEAD_TAG_LEN])
{
	if (len > INT_MAX || adlen > INT_MAX)
		return -1;
	return aead_seal_body(c, nonce, ad, adlen, buf, buf, len, 0, tag);
}

int
aead_ctx_seal_pad(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    uint8_t *dst, const uint8_t *src, size_t len, size_t pad,
    uint8_t tag[AEAD_TAG_LEN])
{
	if (len > INT_MAX || pad > AEAD_PAD_MAX ||
	    ((uintptr_t)dst < (uintptr_t)src + len &&
	    (uintptr_t)src < (uintptr_t)dst + len + pad))
		return -1;
	/* the cipher reads the packet where it is, writes dst */
	return aead_seal_body(c, nonce, NULL, 0, dst, src, len, pad, tag);
}

int
aead_ctx_open(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
    const uint8_t tag[AEAD_TAG_LEN])
{
	return aead_ctx_open_to(c, nonce, ad, adlen, buf, buf, len, tag);
}

int
aead_ctx_open_to(struct aead_ctx *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t		 ks[AEAD_CHUNK], t[AEAD_TAG_LEN];
	const uint8_t	*k;
	size_t		 off = 0, have, n;
	ssize_t		 first, next;

	if (len > INT_MAX || adlen > INT_MAX || (dst != src &&
	    (uintptr_t)dst < (uintptr_t)src + len &&
	    (uintptr_t)src < (uintptr_t)dst + len))
		return -1;
	if ((first = aead_start(c, nonce, ks, len)) == -1 ||
	    aead_mac_ad(c, ad, adlen) == -1 ||
	    (len > 0 && EVP_MAC_update(c->ac_poly, src, len) != 1) ||
	    aead_mac_end(c, adlen, len, t) == -1)
		goto bad;
	/* the tag first, in constant time: nothing unauthentic decrypted */
	if (CRYPTO_memcmp(t, tag, AEAD_TAG_LEN) != 0)
		goto bad;
	k = ks + AEAD_BLOCK;
	have = (size_t)first;
	while (off < len) {
		if (have == 0) {
			if ((next = aead_next(c, ks, len - off)) == -1)
				goto bad;
			have = (size_t)next;
			k = ks;
		}
		n = len - off < have ? len - off : have;
		aead_xor(dst + off, src + off, k, n);
		off += n;
		k += n;
		have -= n;
	}
	OPENSSL_cleanse(ks, AEAD_BLOCK);
	return 0;
 bad:
	/*
	 * A forger chose this counter: leave neither its keystream nor the
	 * tag its ciphertext should have had, and nothing of the packet
	 * where its plaintext would be.
	 */
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(t, sizeof(t));
	OPENSSL_cleanse(dst, len);
	return -1;
}

void
aead_slot_init(struct aead_slot *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->a_send_mtx, NULL);
	pthread_mutex_init(&a->a_recv_mtx, NULL);
}

void
aead_slot_destroy(struct aead_slot *a)
{
	aead_slot_clear(a);
	pthread_mutex_destroy(&a->a_send_mtx);
	pthread_mutex_destroy(&a->a_recv_mtx);
}

/* Lock order: the peer's p_lock, then a_send_mtx, then a_recv_mtx. */
void
aead_slot_clear(struct aead_slot *a)
{
	pthread_mutex_lock(&a->a_send_mtx);
	pthread_mutex_lock(&a->a_recv_mtx);
	aead_ctx_free(a->a_send);
	aead_ctx_free(a->a_recv);
	a->a_send = a->a_recv = NULL;
	pthread_mutex_unlock(&a->a_recv_mtx);
	pthread_mutex_unlock(&a->a_send_mtx);
}

int
aead_slot_key(struct aead_slot *a, uint32_t gen,
    const uint8_t send[AEAD_KEY_LEN], const uint8_t recv[AEAD_KEY_LEN])
{
	struct aead_ctx	*s, *r;

	s = aead_ctx_new(send);
	r = aead_ctx_new(recv);
	aead_slot_clear(a);
	if (s == NULL || r == NULL) {
		aead_ctx_free(s);
		aead_ctx_free(r);
		return -1;
	}
	pthread_mutex_lock(&a->a_send_mtx);
	pthread_mutex_lock(&a->a_recv_mtx);
	a->a_send = s;
	a->a_recv = r;
	a->a_gen = gen;
	pthread_mutex_unlock(&a->a_recv_mtx);
	pthread_mutex_unlock(&a->a_send_mtx);
	return 0;
}

static void
aead_nonce(uint8_t n[AEAD_NONCE_LEN], uint64_t counter)
{
	uint64_t	le = htole64(counter);

	memset(n, 0, 4);
	memcpy(n + 4, &le, 8);
}

int
aead_slot_seal(struct aead_slot *a, uint32_t gen, uint64_t counter,
    uint8_t *buf, size_t len)
{
	uint8_t	 n[AEAD_NONCE_LEN];
	int	 r = -1;

	aead_nonce(n, counter);
	pthread_mutex_lock(&a->a_send_mtx);
	if (a->a_send != NULL && a->a_gen == gen)
		r = aead_ctx_seal(a->a_send, n, NULL, 0, buf, len, buf + len);
	pthread_mutex_unlock(&a->a_send_mtx);
	return r;
}

int
aead_slot_seal_pad(struct aead_slot *a, uint32_t gen, uint64_t counter,
    uint8_t *dst, const uint8_t *src, size_t len, size_t pad)
{
	uint8_t	 n[AEAD_NONCE_LEN];
	int	 r = -1;

	aead_nonce(n, counter);
	pthread_mutex_lock(&a->a_send_mtx);
	if (a->a_send != NULL && a->a_gen == gen)
		r = aead_ctx_seal_pad(a->a_send, n, dst, src, len, pad,
		    dst + len + pad);
	pthread_mutex_unlock(&a->a_send_mtx);
	return r;
}

int
aead_slot_open(struct aead_slot *a, uint32_t gen, uint64_t counter,
    uint8_t *buf, size_t len)
{
	return aead_slot_open_to(a, gen, counter, buf, buf, len);
}

int
aead_slot_open_to(struct aead_slot *a, uint32_t gen, uint64_t counter,
    uint8_t *dst, const uint8_t *src, size_t len)
{
	uint8_t	 n[AEAD_NONCE_LEN];
	int	 r = -1;

	if (len < AEAD_TAG_LEN)
		return -1;
	aead_nonce(n, counter);
	pthread_mutex_lock(&a->a_recv_mtx);
	if (a->a_recv != NULL && a->a_gen == gen)
		r = aead_ctx_open_to(a->a_recv, n, NULL, 0, dst, src,
		    len - AEAD_TAG_LEN, src + len - AEAD_TAG_LEN);
	pthread_mutex_unlock(&a->a_recv_mtx);
	return r;
}

/*
 * aead.c -- ChaCha20-Poly1305 for transport data over libcrypto's EVP
 * (AVX-512/AVX2 code paths, IFMA Poly1305 where the CPU has them), which
 * seals MTU-sized packets about 1.5 times as fast per CPU-second as
 * libsodium on the machines measured. The handshake and cookies stay on
 * libsodium. regress/unit/wgdata/t_aead.c checks byte for byte against
 * libsodium and RFC 8439.
 */
#include <sys/types.h>

#include <endian.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aead.h"

static EVP_CIPHER	*aead_cipher;
static pthread_once_t	 aead_once = PTHREAD_ONCE_INIT;
static int		 aead_ok;

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
	if ((aead_cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305",
	    NULL)) == NULL)
		return;
	aead_ok = 1;
}

int
aead_init(void)
{
	pthread_once(&aead_once, aead_load);
	return aead_ok ? 0 : -1;
}

EVP_CIPHER_CTX *
aead_ctx_new(const uint8_t key[AEAD_KEY_LEN], int enc)
{
	EVP_CIPHER_CTX	*c;

	if (aead_init() == -1 || (c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex2(c, aead_cipher, key, NULL, enc, NULL) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

int
aead_ctx_seal(EVP_CIPHER_CTX *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
    uint8_t tag[AEAD_TAG_LEN])
{
	int	 n, f;

	if (len > INT_MAX || adlen > INT_MAX)
		return -1;
	if (EVP_CipherInit_ex2(c, NULL, NULL, nonce, 1, NULL) != 1)
		return -1;
	if (adlen > 0 && EVP_CipherUpdate(c, NULL, &n, ad, (int)adlen) != 1)
		return -1;
	n = 0;
	if (len > 0 && EVP_CipherUpdate(c, buf, &n, buf, (int)len) != 1)
		return -1;
	if (EVP_CipherFinal_ex(c, buf + n, &f) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN,
	    tag) != 1)
		return -1;
	return 0;
}

int
aead_ctx_seal_pad(EVP_CIPHER_CTX *c, const uint8_t nonce[AEAD_NONCE_LEN],
    uint8_t *dst, const uint8_t *src, size_t len, size_t pad,
    uint8_t tag[AEAD_TAG_LEN])
{
	static const uint8_t	 zero[AEAD_PAD_MAX];
	int			 n = 0, m = 0, f;

	if (len > INT_MAX || pad > sizeof(zero) ||
	    ((uintptr_t)dst < (uintptr_t)src + len &&
	    (uintptr_t)src < (uintptr_t)dst + len + pad))
		return -1;
	if (EVP_CipherInit_ex2(c, NULL, NULL, nonce, 1, NULL) != 1)
		return -1;
	/* the cipher reads the packet where it is, writes dst */
	if (len > 0 && EVP_CipherUpdate(c, dst, &n, src, (int)len) != 1)
		return -1;
	if (pad > 0 && EVP_CipherUpdate(c, dst + n, &m, zero,
	    (int)pad) != 1)
		return -1;
	if (EVP_CipherFinal_ex(c, dst + n + m, &f) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN,
	    tag) != 1)
		return -1;
	return 0;
}

int
aead_ctx_open(EVP_CIPHER_CTX *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
    const uint8_t tag[AEAD_TAG_LEN])
{
	return aead_ctx_open_to(c, nonce, ad, adlen, buf, buf, len, tag);
}

int
aead_ctx_open_to(EVP_CIPHER_CTX *c, const uint8_t nonce[AEAD_NONCE_LEN],
    const uint8_t *ad, size_t adlen, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t tag[AEAD_TAG_LEN])
{
	uint8_t	 t[AEAD_TAG_LEN];
	int	 n, f;

	if (len > INT_MAX || adlen > INT_MAX || (dst != src &&
	    (uintptr_t)dst < (uintptr_t)src + len &&
	    (uintptr_t)src < (uintptr_t)dst + len))
		return -1;
	memcpy(t, tag, sizeof(t));	/* the ctrl takes a non-const */
	if (EVP_CipherInit_ex2(c, NULL, NULL, nonce, 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN,
	    t) != 1)
		return -1;
	if (adlen > 0 && EVP_CipherUpdate(c, NULL, &n, ad, (int)adlen) != 1)
		goto bad;
	n = 0;
	if (len > 0 && EVP_CipherUpdate(c, dst, &n, src, (int)len) != 1)
		goto bad;
	/* the tag check, constant-time inside libcrypto */
	if (EVP_CipherFinal_ex(c, dst + n, &f) != 1)
		goto bad;
	return 0;
 bad:
	/* what was decrypted is not authentic: leave none of it */
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
	/* EVP_CIPHER_CTX_free cleanses the key schedule it frees */
	EVP_CIPHER_CTX_free(a->a_send);
	EVP_CIPHER_CTX_free(a->a_recv);
	a->a_send = a->a_recv = NULL;
	pthread_mutex_unlock(&a->a_recv_mtx);
	pthread_mutex_unlock(&a->a_send_mtx);
}

int
aead_slot_key(struct aead_slot *a, uint32_t gen,
    const uint8_t send[AEAD_KEY_LEN], const uint8_t recv[AEAD_KEY_LEN])
{
	EVP_CIPHER_CTX	*s, *r;

	s = aead_ctx_new(send, 1);
	r = aead_ctx_new(recv, 0);
	aead_slot_clear(a);
	if (s == NULL || r == NULL) {
		EVP_CIPHER_CTX_free(s);
		EVP_CIPHER_CTX_free(r);
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

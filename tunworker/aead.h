/*
 * aead.h -- the transport data AEAD (ChaCha20-Poly1305, RFC 8439) from
 * OpenSSL's libcrypto ChaCha20 and Poly1305, with contexts kept per
 * keypair slot.
 */
#ifndef VPND_AEAD_H
#define VPND_AEAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_LEN	32
#define AEAD_NONCE_LEN	12
#define AEAD_TAG_LEN	16

/*
 * One keypair slot's two contexts, each keyed once when the keypair is
 * installed (no allocation per packet) and freed when it is dropped. A
 * context is used by one thread at a time: each direction has its mutex
 * (tun-rx, udp-rx's staged flush and the timers all seal). gen is the
 * slot's generation at keying: a packet that read another generation
 * under the peer's lock is refused rather than sealed with newer keys.
 */
struct aead_ctx;

struct aead_slot {
	pthread_mutex_t	 a_send_mtx, a_recv_mtx;
	struct aead_ctx	*a_send, *a_recv;
	uint32_t	 a_gen;
};

/*
 * Load libcrypto's ChaCha20 and Poly1305 without reading any configuration
 * file: call before the sandbox (chroot, seccomp). 0 or -1.
 */
int	 aead_init(void);

void	 aead_slot_init(struct aead_slot *);
void	 aead_slot_destroy(struct aead_slot *);
/* Contexts for a new keypair of generation gen; -1 (nothing kept). */
int	 aead_slot_key(struct aead_slot *, uint32_t gen,
	    const uint8_t send[AEAD_KEY_LEN], const uint8_t recv[AEAD_KEY_LEN]);
/* Free the contexts (libcrypto cleanses the key state). */
void	 aead_slot_clear(struct aead_slot *);
/*
 * WireGuard transport: nonce 0^32 || counter (little-endian), no AD,
 * in place, the tag after len bytes. -1: the slot holds no keys of
 * generation gen (or the tag does not verify, for open).
 */
int	 aead_slot_seal(struct aead_slot *, uint32_t gen, uint64_t counter,
	    uint8_t *buf, size_t len);
int	 aead_slot_open(struct aead_slot *, uint32_t gen, uint64_t counter,
	    uint8_t *buf, size_t len);
/*
 * Open src[0 .. len) (the tag its last AEAD_TAG_LEN bytes) into dst:
 * the plaintext, len - AEAD_TAG_LEN bytes, written where it is wanted
 * instead of over a copy. dst is src, or does not overlap it; wiped if
 * the tag does not verify.
 */
int	 aead_slot_open_to(struct aead_slot *, uint32_t gen,
	    uint64_t counter, uint8_t *dst, const uint8_t *src, size_t len);
/*
 * Seal src[0 .. len) followed by pad zero bytes into dst (len + pad
 * bytes of ciphertext, then the tag): no copy of the packet first. src
 * and dst must not overlap; pad is at most AEAD_PAD_MAX.
 */
#define AEAD_PAD_MAX	64
int	 aead_slot_seal_pad(struct aead_slot *, uint32_t gen,
	    uint64_t counter, uint8_t *dst, const uint8_t *src, size_t len,
	    size_t pad);

/*
 * The primitive under both, on a keyed context: any nonce and AD, in
 * place. open verifies the tag before it decrypts anything (compared in
 * constant time, CRYPTO_memcmp) and wipes buf if it does not match. 0
 * or -1.
 */
int	 aead_ctx_seal(struct aead_ctx *, const uint8_t nonce[AEAD_NONCE_LEN],
	    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
	    uint8_t tag[AEAD_TAG_LEN]);
int	 aead_ctx_seal_pad(struct aead_ctx *,
	    const uint8_t nonce[AEAD_NONCE_LEN], uint8_t *dst,
	    const uint8_t *src, size_t len, size_t pad,
	    uint8_t tag[AEAD_TAG_LEN]);
int	 aead_ctx_open(struct aead_ctx *, const uint8_t nonce[AEAD_NONCE_LEN],
	    const uint8_t *ad, size_t adlen, uint8_t *buf, size_t len,
	    const uint8_t tag[AEAD_TAG_LEN]);
int	 aead_ctx_open_to(struct aead_ctx *,
	    const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *ad,
	    size_t adlen, uint8_t *dst, const uint8_t *src, size_t len,
	    const uint8_t tag[AEAD_TAG_LEN]);
/* A context keyed with key (either direction); NULL on failure. */
struct aead_ctx *aead_ctx_new(const uint8_t key[AEAD_KEY_LEN]);
/* Free it; libcrypto cleanses the key state. NULL is allowed. */
void	 aead_ctx_free(struct aead_ctx *);

#endif /* VPND_AEAD_H */

/*
 * blake2s.h -- BLAKE2s (RFC 7693) and the HMAC/KDF WireGuard builds on it.
 */
#ifndef VPND_BLAKE2S_H
#define VPND_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK_SIZE	64
#define BLAKE2S_HASH_SIZE	32
#define BLAKE2S_KEY_SIZE	32

struct blake2s_state {
	uint32_t	 h[8];
	uint32_t	 t[2];
	uint32_t	 f[2];
	uint8_t		 buf[BLAKE2S_BLOCK_SIZE];
	size_t		 buflen;
	size_t		 outlen;
};

/* outlen 1..32, keylen 0..32; key may be NULL when keylen is 0. */
void	 blake2s_init(struct blake2s_state *, size_t outlen);
void	 blake2s_init_key(struct blake2s_state *, size_t outlen,
	    const uint8_t *key, size_t keylen);
void	 blake2s_update(struct blake2s_state *, const uint8_t *, size_t);
/* Writes outlen bytes and zeroes the state. */
void	 blake2s_final(struct blake2s_state *, uint8_t *out);
void	 blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
	    const uint8_t *key, size_t keylen);

/* RFC 2104 HMAC over BLAKE2s-256; any key length. */
void	 blake2s_hmac(uint8_t out[BLAKE2S_HASH_SIZE], const uint8_t *key,
	    size_t keylen, const uint8_t *in, size_t inlen);
/*
 * WireGuard's HKDF: writes tau1..tau3 to o1..o3; o2 and o3 may be NULL
 * for KDF1/KDF2.
 */
void	 blake2s_kdf(uint8_t *o1, uint8_t *o2, uint8_t *o3,
	    const uint8_t *key, size_t keylen, const uint8_t *in, size_t inlen);

#endif /* VPND_BLAKE2S_H */

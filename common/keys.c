/*
 * keys.c -- WireGuard keys as base64 text, and the public half of a private
 * key.
 *
 * libsodium's base64 codec runs in constant time and refuses non-canonical
 * padding bits, so a key has exactly one spelling and its text does not
 * leak through timing while we decode it.
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "compat.h"
#include "config.h"

int
key_from_base64(uint8_t key[WG_KEY_LEN], const char *s)
{
	uint8_t		 tmp[WG_KEY_LEN];
	const char	*end;
	size_t		 len;

	if (s == NULL)
		return -1;
	/* 32 bytes are 43 characters and one '=' of padding, no more. */
	if (strnlen(s, WG_KEY_B64_LEN + 1) != WG_KEY_B64_LEN ||
	    s[WG_KEY_B64_LEN - 1] != '=')
		return -1;
	if (sodium_base642bin(tmp, sizeof(tmp), s, WG_KEY_B64_LEN, NULL,
	    &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != WG_KEY_LEN || end != s + WG_KEY_B64_LEN) {
		sodium_memzero(tmp, sizeof(tmp));
		return -1;
	}
	memcpy(key, tmp, WG_KEY_LEN);
	sodium_memzero(tmp, sizeof(tmp));
	return 0;
}

void
key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_B64_LEN + 1, key, WG_KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
key_public_from_private(uint8_t pub[WG_KEY_LEN],
    const uint8_t priv[WG_KEY_LEN])
{
	/* Picks the fastest implementation; safe to call again. */
	if (sodium_init() == -1)
		return -1;
	/* The scalar is clamped inside, as X25519 and WireGuard require. */
	if (crypto_scalarmult_base(pub, priv) != 0)
		return -1;
	return 0;
}

bool
key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN) == 1;
}

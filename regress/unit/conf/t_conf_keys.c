/*
 * t_conf_keys.c -- base64 key text and X25519 public keys (RFC 7748 6.1).
 */
#include <string.h>

#include "config.h"
#include "tap.h"

#define ALICE_PRIV	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define ALICE_PUB	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define ALICE_PRIV_HEX \
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB_HEX \
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV_HEX \
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB_HEX \
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"

static const char *bad_keys[] = {
	"",
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",	/* no padding */
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",	/* too long */
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==",	/* 31 bytes */
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= ",
	" dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=",
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",	/* non-canonical */
	"//////////////////////////////////////////9=",	/* non-canonical */
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L-o=",	/* url alphabet */
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L o=",
	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR2=LCo=",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
};

int
main(void)
{
	uint8_t	 key[WG_KEY_LEN], want[WG_KEY_LEN], pub[WG_KEY_LEN];
	uint8_t	 orig[WG_KEY_LEN];
	char	 b64[WG_KEY_B64_LEN + 1];
	size_t	 i;

	plan(38);

	unhex(ALICE_PRIV_HEX, want, sizeof(want));
	ok(key_from_base64(key, ALICE_PRIV) == 0, "decode a private key");
	is_mem(key, want, WG_KEY_LEN, "decoded bytes");
	key_to_base64(b64, key);
	is_str(b64, ALICE_PRIV, "encode round trip");
	is_int(strlen(b64), WG_KEY_B64_LEN, "44 characters");

	ok(key_public_from_private(pub, key) == 0, "public from private");
	unhex(ALICE_PUB_HEX, want, sizeof(want));
	is_mem(pub, want, WG_KEY_LEN, "RFC 7748 Alice public key");
	key_to_base64(b64, pub);
	is_str(b64, ALICE_PUB, "public key as text");

	unhex(BOB_PRIV_HEX, key, sizeof(key));
	unhex(BOB_PUB_HEX, want, sizeof(want));
	ok(key_public_from_private(pub, key) == 0 &&
	    memcmp(pub, want, WG_KEY_LEN) == 0, "RFC 7748 Bob public key");

	ok(key_from_base64(key,
	    "//////////////////////////////////////////8=") == 0,
	    "all-ones key decodes");
	memset(want, 0xff, sizeof(want));
	is_mem(key, want, WG_KEY_LEN, "all-ones bytes");

	memset(orig, 0x5a, sizeof(orig));
	for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		memcpy(key, orig, sizeof(key));
		ok(key_from_base64(key, bad_keys[i]) == -1,
		    "refuse \"%s\"", bad_keys[i]);
		is_mem(key, orig, WG_KEY_LEN, "output untouched on error");
	}
	ok(key_from_base64(key, NULL) == -1, "refuse NULL");

	memset(key, 0, sizeof(key));
	ok(key_is_zero(key), "zero key is zero");
	key[31] = 1;
	ok(!key_is_zero(key), "non-zero key is not zero");
	ok(key_from_base64(key,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") == 0 &&
	    key_is_zero(key), "all-zero key text decodes to zero");

	return done_testing();
}

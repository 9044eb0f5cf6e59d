/*
 * t_wg_blake2s.c -- BLAKE2s, HMAC-BLAKE2s and WireGuard's KDF against
 * published vectors (RFC 7693, the BLAKE2 KAT, wireguard-go kdf_test.go).
 */
#include <stdint.h>
#include <string.h>

#include "blake2s.h"
#include "noise.h"
#include "tap.h"

static void	 selftest_seq(uint8_t *, size_t, uint32_t);
static void	 test_kdf(const char *, const char *, const char *,
		    const char *, const char *);

/* RFC 7693 Appendix E: a Fibonacci generator for inputs and keys. */
static void
selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t	 t, a = 0xDEAD4BAD * seed, b = 1;
	size_t		 i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (t >> 24) & 0xff;
	}
}

static void
test_kdf(const char *key, const char *in, const char *t0, const char *t1,
    const char *t2)
{
	uint8_t	 k[64], i[64], w0[32], w1[32], w2[32], o0[32], o1[32],
		 o2[32];
	size_t	 klen, ilen;

	klen = unhex(key, k, sizeof(k));
	ilen = unhex(in, i, sizeof(i));
	unhex(t0, w0, sizeof(w0));
	unhex(t1, w1, sizeof(w1));
	unhex(t2, w2, sizeof(w2));

	blake2s_kdf(o0, o1, o2, k, klen, i, ilen);
	is_mem(o0, w0, 32, "KDF3(%s) t0", key);
	is_mem(o1, w1, 32, "KDF3(%s) t1", key);
	is_mem(o2, w2, 32, "KDF3(%s) t2", key);
	memset(o0, 0, 32);
	memset(o1, 0, 32);
	blake2s_kdf(o0, o1, NULL, k, klen, i, ilen);
	is_mem(o0, w0, 32, "KDF2(%s) t0", key);
	is_mem(o1, w1, 32, "KDF2(%s) t1", key);
	memset(o0, 0, 32);
	blake2s_kdf(o0, NULL, NULL, k, klen, i, ilen);
	is_mem(o0, w0, 32, "KDF1(%s) t0", key);
}

int
main(void)
{
	static const size_t	 md_len[4] = { 16, 20, 28, 32 };
	static const size_t	 in_len[6] = { 0, 3, 64, 65, 255, 1024 };
	struct blake2s_state	 s, g;
	uint8_t			 in[1024], md[32], key[32], want[32];
	uint8_t			 one[32], two[32];
	size_t			 i, j;
	static const char	 fox[] =
	    "The quick brown fox jumps over the lazy dog";

	plan(29);

	blake2s(md, 32, (const uint8_t *)"abc", 3, NULL, 0);
	unhex("508c5e8c327c14e2e1a72ba34eeb452f"
	    "37458b209ed63a294d999b4c86675982", want, 32);
	is_mem(md, want, 32, "RFC 7693 B: BLAKE2s-256(\"abc\")");

	blake2s_init(&g, 32);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 6; j++) {
			selftest_seq(in, in_len[j], in_len[j]);
			blake2s(md, md_len[i], in, in_len[j], NULL, 0);
			blake2s_update(&g, md, md_len[i]);
			selftest_seq(key, md_len[i], md_len[i]);
			blake2s(md, md_len[i], in, in_len[j], key,
			    md_len[i]);
			blake2s_update(&g, md, md_len[i]);
		}
	}
	blake2s_final(&g, md);
	unhex("6a411f08ce25adcdfb02aba641451cec"
	    "53c598b24f4fc787fbdc88797f4c1dfe", want, 32);
	is_mem(md, want, 32, "RFC 7693 E: self-test grand hash");

	/* BLAKE2 KAT: key 00..1f, inputs 00.. of 0..255 bytes. */
	for (i = 0; i < 32; i++)
		key[i] = i;
	for (i = 0; i < 256; i++)
		in[i] = i;
	blake2s(md, 32, in, 0, key, 32);
	unhex("48a8997da407876b3d79c0d92325ad3b"
	    "89cbb754d86ab71aee047ad345fd2c49", want, 32);
	is_mem(md, want, 32, "keyed KAT, empty input");
	blake2s(md, 32, in, 1, key, 32);
	unhex("40d15fee7c328830166ac3f918650f80"
	    "7e7e01e177258cdc0a39b11f598066f1", want, 32);
	is_mem(md, want, 32, "keyed KAT, 1 byte");
	blake2s(md, 32, in, 255, key, 32);
	unhex("3fb735061abc519dfe979e54c1ee5bfa"
	    "d0a9d858b3315bad34bde999efd724dd", want, 32);
	is_mem(md, want, 32, "keyed KAT, 255 bytes");
	blake2s_init(&g, 32);
	for (i = 0; i < 256; i++) {
		blake2s(md, 32, in, i, key, 32);
		blake2s_update(&g, md, 32);
	}
	blake2s_final(&g, md);
	unhex("2582f7b18a91f66ef22aa9455384ada6"
	    "9b2590306a6470ee8588df75ee982f02", want, 32);
	is_mem(md, want, 32, "keyed KAT, all 256 lengths");

	/* Streaming in odd pieces equals one shot, across block edges. */
	blake2s(one, 32, in, 200, key, 32);
	blake2s_init_key(&s, 32, key, 32);
	blake2s_update(&s, in, 1);
	blake2s_update(&s, in + 1, 63);
	blake2s_update(&s, in + 64, 0);
	blake2s_update(&s, in + 64, 65);
	blake2s_update(&s, in + 129, 71);
	blake2s_final(&s, two);
	is_mem(two, one, 32, "streaming update equals one shot");

	blake2s_hmac(md, (const uint8_t *)"key", 3, (const uint8_t *)fox,
	    sizeof(fox) - 1);
	unhex("f93215bb90d4af4c3061cd932fb169fb"
	    "8bb8a91d0b4022baea1271e1323cd9a0", want, 32);
	is_mem(md, want, 32, "HMAC-BLAKE2s, short key");
	memset(in, 'k', 100);
	blake2s_hmac(md, in, 100, (const uint8_t *)"msg", 3);
	unhex("94f0613f2424774d172ae7a4d2326cfa"
	    "3634c04f56654cce54df8e6ce7ca8fa4", want, 32);
	is_mem(md, want, 32, "HMAC-BLAKE2s, key longer than a block");

	test_kdf("746573742d6b6579", "746573742d696e707574",
	    "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
	    "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
	    "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24");
	test_kdf("776972656775617264", "776972656775617264",
	    "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
	    "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
	    "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160");
	test_kdf("", "",
	    "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
	    "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
	    "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e");

	blake2s(md, 32,
	    (const uint8_t *)"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", 37,
	    NULL, 0);
	unhex("60e26daef327efc02ec335e2a025d2d0"
	    "16eb4206f87277f52d38d1988b78cd36", want, 32);
	is_mem(md, want, 32, "C0 = HASH(CONSTRUCTION)");
	noise_hash(one, md, 32,
	    (const uint8_t *)"WireGuard v1 zx2c4 Jason@zx2c4.com", 34);
	unhex("2211b361081ac566691243db458ad532"
	    "2d9c6c662293e8b70ee19c65ba079ef3", want, 32);
	is_mem(one, want, 32, "H0 = HASH(C0 || IDENTIFIER)");

	return done_testing();
}

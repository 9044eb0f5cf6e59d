/*
 * f_dnsrec.c -- the DNS backup record decoder, past its integrity hash
 * (the harness computes it), then encoded again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dns_local.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char		*magic = "vpnd-dns-backup 2 ";
	size_t			 ml = strlen(magic), hl = ml + 65, i, ol;
	uint8_t			 sum[32], *b, *o;
	char			 err[256];
	struct dns_record	 r;

	if ((b = malloc(hl + n)) == NULL)
		abort();
	crypto_hash_sha256(sum, d, n);
	memcpy(b, magic, ml);
	for (i = 0; i < 32; i++)
		snprintf((char *)b + ml + 2 * i, 3, "%02x", sum[i]);
	b[hl - 1] = '\n';
	memcpy(b + hl, d, n);
	if (dns_record_decode(b, hl + n, &r, err, sizeof(err)) == 0) {
		if (dns_record_encode(&r, &o, &ol) == 0)
			free(o);
		dns_record_free(&r);
	}
	free(b);
	return 0;
}

/* f_wgconf.c -- the wg-quick file parser (vpnd -f, vpnctl up). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct tunnel_conf	 c;
	char			 err[512];

	if (wgconf_parse((const char *)d, n, "fuzz", &c, err,
	    sizeof(err)) == 0)
		conf_free(&c);
	return 0;
}

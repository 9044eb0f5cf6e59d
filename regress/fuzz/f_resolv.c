/*
 * f_resolv.c -- resolv.conf as dnsmgr reads it to tell whether
 * systemd-resolved owns it. The input is written to a private file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_local.h"
#include "dnsconf.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[64], path[96];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct dns_resolv rv;
	FILE	*f;

	if (dir[0] == '\0') {
		strlcpy(dir, "/tmp/f_resolv.XXXXXX", sizeof(dir));
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/resolv.conf", dir);
		atexit(cleanup);
	}
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (n > 0 && fwrite(d, n, 1, f) != 1)
		abort();
	fclose(f);
	/* as dnsmgr gets it: a descriptor from the parent */
	memset(&rv, 0, sizeof(rv));
	rv.path = path;
	if (resolv_open(path, RESOLV_OPEN, &rv.fd, rv.target,
	    sizeof(rv.target), &rv.created) == -1)
		abort();
	(void)dns_resolved_detect(&rv);
	close(rv.fd);
	return 0;
}

/*
 * f_resolv.c -- resolv.conf as dnsmgr reads it to tell whether
 * systemd-resolved owns it. dnsmgr gets the file as a descriptor from the
 * parent: the harness opens a private file that way once (resolv_open(),
 * whose result does not depend on the text), then serves each input
 * through a memfd, a regular file in memory, so a run costs no file
 * system round trip.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns_local.h"
#include "dnsconf.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[64], path[96];
static int	 mfd = -1;
static struct dns_resolv rv0;

static void
setup(void)
{
	FILE	*f;

	strlcpy(dir, "/tmp/f_resolv.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fclose(f);
	memset(&rv0, 0, sizeof(rv0));
	rv0.path = path;
	if (resolv_open(path, RESOLV_OPEN, &rv0.fd, rv0.target,
	    sizeof(rv0.target), &rv0.created) == -1)
		abort();
	close(rv0.fd);
	unlink(path);
	rmdir(dir);
	if ((mfd = memfd_create("resolv.conf", MFD_CLOEXEC)) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct dns_resolv rv;

	if (mfd == -1)
		setup();
	if (ftruncate(mfd, 0) == -1 ||
	    (n > 0 && pwrite(mfd, d, n, 0) != (ssize_t)n))
		abort();
	rv = rv0;
	rv.fd = mfd;
	(void)dns_resolved_detect(&rv);
	return 0;
}

/*
 * f_netwatch.c -- the parent's rtnetlink notification parser: the input
 * (after its first byte) is a buffer of netlink messages as recvfrom()
 * would return it, copied to an aligned buffer of its exact size. What
 * the parser remembers of the underlay carries from one input to the
 * next (bounded tables), unless the first byte's low bit asks to forget.
 */
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parent.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* the tunnel's link as netops would hear of it: an MTU is never negative */
static void
tunlink(int ifindex, bool up, int mtu)
{
	if (mtu < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	void	*buf;

	if (n < 1)
		return 0;
	netwatch_set_tunlink(tunlink);
	if (d[0] & 1)
		netwatch_reset();
	if ((buf = malloc(n - 1 ? n - 1 : 1)) == NULL)
		abort();
	memcpy(buf, d + 1, n - 1);
	(void)netwatch_parse(buf, n - 1, d[0] >> 4, "vpn0");
	free(buf);
	return 0;
}

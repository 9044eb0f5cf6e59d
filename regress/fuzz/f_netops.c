/*
 * f_netops.c -- what a compromised netmgr may send the root parent while
 * setting up a tunnel: a sequence of NET_BEGIN / ADDR / ROUTE / ENDPOINT /
 * DNS messages, composed and read back through a real imsg channel and
 * decoded by the parent's netops_dispatch(). COMMIT and DOWN would touch
 * the host's network and are left out; a wrong size is fatal by design.
 * Input: records of one selector byte, then the payload bytes (zero
 * padded to the message's fixed size).
 *
 * Speed: the host's address list (getifaddrs(), a netlink dump the policy
 * makes for every NET_ADDR) is read once and served from memory; it does
 * not change while the harness runs. The messages of one input go through
 * the channel in one write and one read, and the replies are drained
 * once: the dispatcher sees the same messages in the same order.
 */
#include <ifaddrs.h>
#include <dlfcn.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "config.h"
#include "imsgev.h"
#include "log.h"
#include "parent.h"
#include "vpnd.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct imsgev	 iev;
static struct imsgbuf	 peer;
static int		 sv[2];

static struct ifaddrs	*host_ifa;

/* The real list once; then the same list, never freed. */
int
getifaddrs(struct ifaddrs **ifap)
{
	int	(*real)(struct ifaddrs **);

	if (host_ifa == NULL) {
		real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT,
		    "getifaddrs");
		if (real == NULL || real(&host_ifa) == -1)
			return -1;
	}
	*ifap = host_ifa;
	return 0;
}

void
freeifaddrs(struct ifaddrs *ifa)
{
	if (ifa != host_ifa)
		abort();
}

static void
quiet(int pri, const char *proc, const char *line)
{
}

static void
setup(void)
{
	event_init();
	log_set_sink(quiet);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1 ||
	    imsgev_init(&iev, sv[0], PROC_NETMGR, false, netops_dispatch,
	    NULL, NULL) == -1 || imsgbuf_init(&peer, sv[1]) == -1)
		abort();
	(void)imsgbuf_set_maxsize(&peer, VPND_MAX_IMSG);
}

static void
drain(void)
{
	char	 junk[4096];

	(void)imsgbuf_flush(&iev.ibuf);
	while (read(sv[1], junk, sizeof(junk)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const struct {
		uint32_t	 type;
		size_t		 size;
	} kinds[] = {
		{ IMSG_NET_BEGIN, sizeof(struct imsg_net_begin) },
		{ IMSG_NET_ADDR, sizeof(struct prefix) },
		{ IMSG_NET_ROUTE, sizeof(struct prefix) },
		{ IMSG_NET_ENDPOINT, sizeof(struct sockaddr_storage) },
		{ IMSG_NET_DNS, sizeof(struct prefix) },
	};
	uint8_t		 payload[sizeof(struct sockaddr_storage)];
	struct imsg	 imsg;
	size_t		 off = 0, k, take;
	ssize_t		 r;
	int		 count = 0;

	if (iev.active == false)
		setup();
	/* every input starts a fresh set-up, as netmgr would */
	memset(payload, 0, sizeof(payload));
	{
		struct imsg_net_begin	 b;

		memset(&b, 0, sizeof(b));
		strlcpy(b.ifname, VPND_IFNAME, sizeof(b.ifname));
		b.mtu = 1420;
		b.mark = CONF_DEFAULT_FWMARK;
		if (imsg_compose(&peer, IMSG_NET_BEGIN, 0, 0, -1, &b,
		    sizeof(b)) == -1)
			abort();
	}
	while (off < n && count++ < 64) {
		k = d[off++] % nitems(kinds);
		memset(payload, 0, sizeof(payload));
		take = MINIMUM(kinds[k].size, n - off);
		memcpy(payload, d + off, take);
		off += take;
		if (imsg_compose(&peer, kinds[k].type, 0, 0, -1, payload,
		    kinds[k].size) == -1)
			abort();
	}
	/* at most 65 messages of at most 144 bytes: one write, one read */
	if (imsgbuf_flush(&peer) == -1)
		abort();
	if ((r = imsgbuf_read(&iev.ibuf)) == -1 || r == 0)
		abort();
	while ((r = imsgbuf_get(&iev.ibuf, &imsg)) > 0) {
		netops_dispatch(&iev, &imsg);
		imsg_free(&imsg);
	}
	if (r == -1)
		abort();
	drain();
	return 0;
}

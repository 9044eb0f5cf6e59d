/*
 * f_child.c -- what the children take from each other and from the
 * parent: every message type, any length, through each child's own
 * receivers (the functions its event loop calls), on one channel each:
 *   0 netmgr <- parent     1 netmgr <- tunworker     2 netmgr <- dnsmgr
 *   3 tunworker <- parent  4 tunworker <- netmgr
 *   5 dnsmgr <- parent     6 dnsmgr <- netmgr
 * A child that stops on bad input does so through fatal(); anything else
 * (a crash, a read past the message, a leak, UB) is a finding. State
 * carries over from message to message within the process, as in a
 * child. Left out: the start-up messages that carry the child's sockets
 * and start its event loop (SOCKET_IPC, CONTROLFD, UAPIFD, START,
 * SHUTDOWN); the parent's TUN and UDP descriptors to tunworker are not
 * attached (packet threads on /dev/null would spin). dnsmgr runs with the
 * file backend on a private directory and no way to reach a parent, so
 * nothing of the host's is touched. Input: see fz_imsg.h.
 */
#include <stdio.h>

#include "dnsbackend.h"
#include "dnsmgr.h"
#include "fz_imsg.h"
#include "netmgr.h"
#include "tunworker.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	int		 proc;		/* the sender */
	bool		 fdpass;
	imsgev_fn	*fn;
} rx[] = {
	{ PROC_PARENT, true, netmgr_dispatch_parent },
	{ PROC_TUNWORKER, false, netmgr_dispatch_tun },
	{ PROC_DNSMGR, false, netmgr_dispatch_dns },
	{ PROC_PARENT, true, tw_dispatch_parent },
	{ PROC_NETMGR, false, tw_dispatch_netmgr },
	{ PROC_PARENT, true, dnsmgr_dispatch_parent },
	{ PROC_NETMGR, false, dnsmgr_dispatch_netmgr },
};
#define NRX	(sizeof(rx) / sizeof(rx[0]))

static struct fz_chan	 ch[NRX];
static struct vpnd_env	 env;
static const char	*dir;

static void
setup(void)
{
	size_t	 i;

	fz_init();
	dir = fz_mkdir("f_child");
	memset(&env, 0, sizeof(env));
	strlcpy(env.ifname, "lo", sizeof(env.ifname));
	strlcpy(env.statedir, dir, sizeof(env.statedir));
	snprintf(env.resolvconf, sizeof(env.resolvconf), "%s/resolv.conf",
	    dir);
	env.dns_backend = DNS_FILE;
	netmgr_state_init(&env);
	tunworker_state_init();
	dnsmgr_state_init(&env);
	for (i = 0; i < NRX; i++)
		fz_chan_init(&ch[i], rx[i].proc, rx[i].fdpass, rx[i].fn);
}

static int
left_out(size_t r, uint32_t type)
{
	switch (type) {
	case IMSG_SOCKET_IPC:
	case IMSG_CONTROLFD:
	case IMSG_UAPIFD:
	case IMSG_START:
	case IMSG_SHUTDOWN:
		return rx[r].proc == PROC_PARENT;
	default:
		return 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t	 payload[FZ_MAXLEN];
	static int	 ready;
	size_t		 off = 0, len, take, r;
	uint32_t	 type;
	int		 count = 0, lowfd;
	bool		 withfd;

	if (!ready) {
		setup();
		ready = 1;
	}
	lowfd = fz_lowest_fd();
	while (n - off >= 4 && count++ < FZ_RECORDS) {
		r = d[off] % NRX;
		type = d[off + 1] % FZ_NTYPES;
		withfd = (d[off + 2] & 1) && rx[r].fdpass &&
		    rx[r].fn != tw_dispatch_parent;
		len = ((size_t)(d[off + 2] >> 1) << 8 | d[off + 3]) %
		    (FZ_MAXLEN + 1);
		off += 4;
		if (left_out(r, type))
			continue;
		memset(payload, 0, len);
		take = MINIMUM(len, n - off);
		memcpy(payload, d + off, take);
		off += take;
		(void)fz_send(&ch[r], rx[r].fn, type, payload, len, withfd,
		    NULL, NULL);
	}
	if (fz_lowest_fd() != lowfd) {
		fprintf(stderr, "a descriptor stayed open\n");
		abort();
	}
	return 0;
}

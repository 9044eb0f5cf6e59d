/*
 * f_parent.c -- what a compromised child may send the root parent: every
 * message type, any length, with or without a descriptor, on netmgr's,
 * tunworker's or dnsmgr's channel, through the parent's own receiver
 * (parent_imsg(), which parent_dispatch() calls). Checked beyond "no
 * crash": a message that is not that child's to send is refused (-1),
 * whatever its payload; a refused or handled message leaves no
 * descriptor open. Left out: NET_COMMIT, NET_DOWN, LOCKDOWN_SET and EXCLUDE
 * (they change the host's network or cgroups) and netmgr's SHUTDOWN_DONE
 * (the parent exits). dnsmgr's
 * requests work on a private directory; no resolvconf program is set.
 * Input: see fz_imsg.h.
 */
#include <stdio.h>

#include "fz_imsg.h"
#include "logfile.h"
#include "parent.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fz_chan		 ch[PROC_MAX];
static struct parent_opts	 opts;
static const char		*dir;

static void
unused_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	abort();
}

static void
setup(void)
{
	int	 i;

	fz_init();
	dir = fz_mkdir("f_parent");
	memset(&opts, 0, sizeof(opts));
	strlcpy(opts.env.ifname, VPND_IFNAME, sizeof(opts.env.ifname));
	strlcpy(opts.env.statedir, dir, sizeof(opts.env.statedir));
	snprintf(opts.env.resolvconf, sizeof(opts.env.resolvconf),
	    "%s/resolv.conf", dir);
	parent_imsg_init(&opts);
	netops_init(dir, VPND_IFNAME, "fuzz");
	if (logfile_open(dir) == -1)
		abort();
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		fz_chan_init(&ch[i], i, true, unused_dispatch);
}

/* May this child send this type at all? (What the parent must refuse.) */
static int
allowed(int proc, uint32_t type)
{
	switch (type) {
	case IMSG_LOG:
	case IMSG_READY:
		return 1;
	case IMSG_DNS_OPEN:
	case IMSG_DNS_RESOLVCONF:
		return proc == PROC_DNSMGR;
	case IMSG_CPU_HOLD:
		return proc == PROC_TUNWORKER;
	case IMSG_NET_BEGIN:
	case IMSG_NET_ADDR:
	case IMSG_NET_ROUTE:
	case IMSG_NET_ENDPOINT:
	case IMSG_NET_DNS:
	case IMSG_NET_SPLIT_UID:
	case IMSG_NET_SPLIT_APP:
	case IMSG_LOGS_GET:
	case IMSG_LOGS_NEXT:
	case IMSG_LOGS_CLEAN:
	case IMSG_LOCKDOWN_SET:
	case IMSG_EXCLUDE:
		return proc == PROC_NETMGR;
	default:
		return 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static uint8_t	 payload[FZ_MAXLEN];
	static int	 ready;
	size_t		 off = 0, len, take;
	uint32_t	 type;
	int		 proc, count = 0, rv, fatal_path, lowfd;
	bool		 withfd;

	if (!ready) {
		setup();
		ready = 1;
	}
	lowfd = fz_lowest_fd();
	while (n - off >= 4 && count++ < FZ_RECORDS) {
		proc = PROC_NETMGR + d[off] % (PROC_MAX - PROC_NETMGR);
		type = d[off + 1] % FZ_NTYPES;
		withfd = d[off + 2] & 1;
		len = ((size_t)(d[off + 2] >> 1) << 8 | d[off + 3]) %
		    (FZ_MAXLEN + 1);
		off += 4;
		if (type == IMSG_NET_COMMIT || type == IMSG_NET_DOWN ||
		    type == IMSG_LOCKDOWN_SET || type == IMSG_EXCLUDE ||
		    (type == IMSG_SHUTDOWN_DONE && proc == PROC_NETMGR))
			continue;
		memset(payload, 0, len);
		take = MINIMUM(len, n - off);
		memcpy(payload, d + off, take);
		off += take;
		rv = 0;
		fatal_path = fz_send(&ch[proc], NULL, type, payload, len,
		    withfd, &rv, parent_imsg);
		if (!fatal_path && rv == 0 && !allowed(proc, type)) {
			fprintf(stderr, "parent took message %u from %s\n",
			    type, vpnd_proc_names[proc]);
			abort();
		}
	}
	/*
	 * A logs read holds the snapshot's descriptors until netmgr has
	 * asked for the last chunk: legitimate state across messages, one
	 * read at a time. End it so each input starts and ends clean.
	 */
	logfile_reader_close();
	if (fz_lowest_fd() != lowfd) {
		fprintf(stderr, "a descriptor stayed open\n");
		abort();
	}
	return 0;
}

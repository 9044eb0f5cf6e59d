/*
 * sysnl.c -- netlink conversations for the parent's system operations.
 *
 * Each operation opens its own socket: the parent does few of them, a
 * private socket means a private port id, and no stale reply of an
 * earlier, failed conversation can ever be read as the answer to a new
 * one.  libmnl's mnl_cb_run() checks every message's length, sequence
 * number and port id and turns NLMSG_ERROR into errno; batches, which
 * are answered by several acks, are checked here by hand the same way.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <net/if.h>
#include <linux/netlink.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "sysnl.h"

#define SYSNL_TIMEOUT	5	/* seconds; the kernel answers at once */

static uint32_t	sysnl_lastseq;

struct mnl_socket *
sysnl_open(int bus)
{
	struct mnl_socket	*nl;
	struct timeval		 tv = { .tv_sec = SYSNL_TIMEOUT };
	int			 one = 1, save;

	if ((nl = mnl_socket_open2(bus, SOCK_CLOEXEC)) == NULL)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	/* A kernel that never answers must not hang the parent. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)) == -1)
		goto fail;
	/* Errors need not echo our (possibly large) request back. */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
 fail:
	save = errno;
	mnl_socket_close(nl);
	errno = save;
	return NULL;
}

int
sysnl_ifname_ok(const char *name)
{
	size_t	i;

	if (name == NULL)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= IFNAMSIZ - 1)
			return 0;
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("_=+.-", name[i]) == NULL)
			return 0;
	}
	return i > 0;
}

uint32_t
sysnl_seq(void)
{
	if (sysnl_lastseq == 0)
		sysnl_lastseq = (uint32_t)time(NULL);
	/* Leave room for a batch of consecutive numbers; never use 0. */
	sysnl_lastseq += 1 << 16;
	if (sysnl_lastseq == 0)
		sysnl_lastseq = 1 << 16;
	return sysnl_lastseq;
}

/*
 * Send one request and read the answer up to its ACK (non-dump requests
 * must carry NLM_F_ACK) or NLMSG_DONE (dumps), passing each data message
 * to cb.
 */
int
sysnl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
    void *arg)
{
	char		*buf;
	uint32_t	 seq, portid;
	ssize_t		 n;
	int		 ret, save;

	seq = nlh->nlmsg_seq = sysnl_seq();
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	if ((buf = malloc(SYSNL_BUFSZ)) == NULL)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, SYSNL_BUFSZ);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			ret = -1;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, arg);
		if (ret <= MNL_CB_STOP)
			break;
	}
	save = errno;
	free(buf);
	errno = save;
	return ret == MNL_CB_STOP ? 0 : -1;
}

/*
 * Send an nfnetlink batch: begin (numbered seq), nacks messages that all
 * carry NLM_F_ACK (seq + 1 ...), end.  The kernel answers each message
 * (it does not stop at the first failure), so read exactly nacks answers
 * and return the first error.  An error about begin or end (nf_tables
 * missing, say) is the only answer there will be.
 */
int
sysnl_batch(struct mnl_socket *nl, const void *batch, size_t len,
    uint32_t seq, uint32_t nacks)
{
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*err;
	char			*buf;
	uint32_t		 portid, got = 0, rel;
	ssize_t			 n;
	int			 rem, rv = 0, firsterr = 0, save;

	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, batch, len) == -1)
		return -1;
	if ((buf = malloc(SYSNL_BUFSZ)) == NULL)
		return -1;
	while (got < nacks) {
		n = mnl_socket_recvfrom(nl, buf, SYSNL_BUFSZ);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			rv = -1;
			goto out;
		}
		rem = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rem);
		    nlh = mnl_nlmsg_next(nlh, &rem)) {
			rel = nlh->nlmsg_seq - seq;	/* wraps safely */
			if (!mnl_nlmsg_portid_ok(nlh, portid) ||
			    rel > nacks + 1) {
				errno = EPROTO;
				rv = -1;
				goto out;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;	/* not asked for; ignore */
			if (nlh->nlmsg_len <
			    mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
				errno = EBADMSG;
				rv = -1;
				goto out;
			}
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error > 0 || err->error < -4095) {
				errno = EBADMSG;
				rv = -1;
				goto out;
			}
			if (rel == 0 || rel == nacks + 1) {
				errno = err->error != 0 ? -err->error : EPROTO;
				rv = -1;
				goto out;
			}
			if (err->error != 0 && firsterr == 0)
				firsterr = -err->error;
			got++;
		}
		if (rem != 0) {		/* a truncated message */
			errno = EBADMSG;
			rv = -1;
			goto out;
		}
	}
	if (firsterr != 0) {
		errno = firsterr;
		rv = -1;
	}
 out:
	save = errno;
	free(buf);
	errno = save;
	return rv;
}

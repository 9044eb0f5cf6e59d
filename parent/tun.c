/*
 * tun.c -- the TUN device: multi-queue, no packet information header, so
 * tunworker can read and write bare IP packets on one fd per thread.
 */
#include <sys/types.h>
#include <sys/ioctl.h>

#include <net/if.h>
#include <linux/if_tun.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sys.h"
#include "sysnl.h"

#define TUN_PATH	"/dev/net/tun"
#define TUN_FLAGS	(IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)

static int	tun_attach(const char *);

/* Create the device, or attach one more queue to it if it exists. */
static int
tun_attach(const char *name)
{
	struct ifreq	ifr;
	int		fd, save;

	if ((fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = TUN_FLAGS;
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		goto fail;
	/* The kernel may pick another name; we must get exactly ours. */
	if (strncmp(ifr.ifr_name, name, sizeof(ifr.ifr_name)) != 0) {
		errno = EEXIST;
		goto fail;
	}
	return fd;
 fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

int
tun_create(const char *name, int *ifindex)
{
	int	fd, idx, save;

	if (!sysnl_ifname_ok(name) || ifindex == NULL) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * TUNSETIFF on an existing multi-queue TUN would attach to it, so
	 * look first: whatever holds the name, it is not ours to reuse.
	 */
	if ((idx = nl_link_index(name)) == -1)
		return -1;
	if (idx != 0) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = tun_attach(name)) == -1)
		return -1;
	if ((idx = nl_link_index(name)) <= 0) {
		save = idx == 0 ? ENODEV : errno;
		close(fd);
		errno = save;
		return -1;
	}
	*ifindex = idx;
	return fd;
}

int
tun_open_queue(const char *name)
{
	int	idx;

	if (!sysnl_ifname_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	/* Without this check TUNSETIFF would quietly create a new device. */
	if ((idx = nl_link_index(name)) == -1)
		return -1;
	if (idx == 0) {
		errno = ENODEV;
		return -1;
	}
	return tun_attach(name);
}

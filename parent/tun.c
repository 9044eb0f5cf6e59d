/*
 * tun.c -- the TUN device: multi-queue, no packet information header, so
 * tunworker can read and write bare IP packets on one fd per thread.
 */
#include <sys/types.h>
#include <sys/ioctl.h>

#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sys.h"
#include "sysnl.h"

#define TUN_PATH	"/dev/net/tun"
#define TUN_FLAGS	(IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)

static int	tun_attach(const char *, int);

/* Create the device, or attach one more queue to it if it exists. */
static int
tun_attach(const char *name, int extra)
{
	struct ifreq	ifr;
	int		fd, save;

	if ((fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = TUN_FLAGS | extra;
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
	return tun_create_offload(name, ifindex, NULL);
}

/*
 * With offload != NULL, ask for IFF_VNET_HDR and TSO/checksum offload, so
 * the kernel hands tunworker whole TCP segments of up to 64 KiB that it
 * splits itself: one read instead of forty. *offload says whether that
 * worked; every read and write on the fd then carries a virtio_net_hdr.
 */
int
tun_create_offload(const char *name, int *ifindex, int *offload)
{
	int	fd, idx, save, hdrsz = sizeof(struct virtio_net_hdr);

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
	if (offload != NULL)
		*offload = 0;
	/* IFF_TUN_EXCL: never attach to a device someone made meanwhile */
	if ((fd = tun_attach(name, IFF_TUN_EXCL |
	    (offload != NULL ? IFF_VNET_HDR : 0))) == -1)
		return -1;
	if (offload != NULL) {
		if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) == 0 &&
		    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 |
		    TUN_F_TSO6) == 0)
			*offload = 1;
		else {
			/* no offload: a plain device, without the header */
			close(fd);
			return tun_create_offload(name, ifindex, NULL);
		}
	}
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
	return tun_attach(name, 0);
}

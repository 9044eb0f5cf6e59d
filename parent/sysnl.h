/*
 * sysnl.h -- the netlink plumbing shared by netlink.c and nft.c: one
 * request, one validated conversation.  Internal to the parent.
 */
#ifndef VPND_SYSNL_H
#define VPND_SYSNL_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#define SYSNL_BUFSZ	(32 * 1024)	/* a dump message fits */

struct mnl_socket *sysnl_open(int bus);
uint32_t sysnl_seq(void);
int	 sysnl_talk(struct mnl_socket *, struct nlmsghdr *, mnl_cb_t,
	    void *);
/* [a-zA-Z0-9_=+.-]{1,15}, as wg-quick allows; no '%' templates. */
int	 sysnl_ifname_ok(const char *);
int	 sysnl_batch(struct mnl_socket *, const void *, size_t, uint32_t,
	    uint32_t);

#endif /* VPND_SYSNL_H */

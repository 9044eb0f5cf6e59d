/*
 * tunworker.h -- the entry point of "vpnd -P tunworker", the re-exec
 * the parent starts.
 *
 * tunworker -- the WireGuard data plane: the protocol and the packet
 * threads between the tun device and the UDP sockets.
 */
#ifndef VPND_TUNWORKER_H
#define VPND_TUNWORKER_H

#include "compat.h"

__dead void	 tunworker_main(int verbose);

/* Its receivers, one per channel, and the state they need first. */
struct imsgev;
struct imsg;
void	 tunworker_state_init(void);
void	 tw_dispatch_parent(struct imsgev *, struct imsg *);
void	 tw_dispatch_netmgr(struct imsgev *, struct imsg *);

#endif /* VPND_TUNWORKER_H */

/*
 * dnsmgr.h -- the entry point of "vpnd -P dnsmgr", the re-exec
 * the parent starts.
 *
 * dnsmgr -- sets and restores the system's DNS for the tunnel.
 */
#ifndef VPND_DNSMGR_H
#define VPND_DNSMGR_H

#include "compat.h"

__dead void	 dnsmgr_main(int verbose);

/* Its receivers, one per channel, and the state they need first. */
struct imsgev;
struct imsg;
struct vpnd_env;
void	 dnsmgr_state_init(const struct vpnd_env *);
void	 dnsmgr_dispatch_parent(struct imsgev *, struct imsg *);
void	 dnsmgr_dispatch_netmgr(struct imsgev *, struct imsg *);

#endif /* VPND_DNSMGR_H */

/*
 * netmgr.h -- the entry point of "vpnd -P netmgr", the re-exec
 * the parent starts.
 *
 * netmgr -- the control plane: serves the control socket and drives
 * the tunnel's set-up through the parent, tunworker and dnsmgr.
 */
#ifndef VPND_NETMGR_H
#define VPND_NETMGR_H

#include "compat.h"

__dead void	 netmgr_main(int verbose);

/* Its receivers, one per channel, and the state they need first. */
struct imsgev;
struct imsg;
struct vpnd_env;
void	 netmgr_state_init(const struct vpnd_env *);
void	 netmgr_dispatch_parent(struct imsgev *, struct imsg *);
void	 netmgr_dispatch_tun(struct imsgev *, struct imsg *);
void	 netmgr_dispatch_dns(struct imsgev *, struct imsg *);

#endif /* VPND_NETMGR_H */

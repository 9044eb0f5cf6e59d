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

#endif /* VPND_NETMGR_H */

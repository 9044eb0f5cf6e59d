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

#endif /* VPND_DNSMGR_H */

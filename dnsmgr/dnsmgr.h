/*
 * dnsmgr.h -- the entry point the parent's exec of "vpnd -P dnsmgr" calls.
 *
 * dnsmgr -- sets and restores the system's DNS for the tunnel.
 */
#ifndef VPND_DNSMGR_H
#define VPND_DNSMGR_H

#include "compat.h"

__dead void	 dnsmgr_main(int verbose);

#endif /* VPND_DNSMGR_H */

/*
 * allowedips.h -- cryptokey routing: which peer owns an inner address.
 *
 * A path-compressed binary trie per address family; longest prefix wins.
 * Owners are opaque (a peer).  No locking inside: the caller holds a
 * rwlock, readers for aip_lookup, the writer for everything else.
 */
#ifndef VPND_ALLOWEDIPS_H
#define VPND_ALLOWEDIPS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct aip_table;

struct aip_table *aip_new(void);
void	 aip_free(struct aip_table *);
/*
 * Host bits are masked off.  Inserting a prefix that is already present
 * moves it to the new owner (WireGuard semantics).  0, or -1 with errno
 * ENOMEM, or EINVAL for a bad family, length or NULL owner.
 */
int	 aip_insert(struct aip_table *, const struct prefix *, void *owner);
/* Removes the prefix only if owner owns it; -1 ENOENT otherwise. */
int	 aip_remove(struct aip_table *, const struct prefix *, void *owner);
void	 aip_remove_owner(struct aip_table *, void *owner);
/* addr is 4 or 16 bytes in network order; NULL if nothing matches. */
void	*aip_lookup(const struct aip_table *, sa_family_t af,
	    const uint8_t *addr);
/*
 * Calls cb for each prefix of owner (of every owner if owner is NULL), in
 * address order, a prefix before the ones inside it; returns the count.
 * cb must not change the table.
 */
size_t	 aip_walk(const struct aip_table *, void *owner,
	    void (*cb)(const struct prefix *, void *arg), void *arg);
size_t	 aip_count(const struct aip_table *);

#endif /* VPND_ALLOWEDIPS_H */

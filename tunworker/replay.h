/*
 * replay.h -- the anti-replay window for transport data counters.
 *
 * A ring of bits as in RFC 6479 and the Linux WireGuard module: one word of
 * the ring is always being recycled, so of the REPLAY_RING_BITS bits,
 * REPLAY_WINDOW_BITS are usable (8128 where a long has 64 bits).
 */
#ifndef VPND_REPLAY_H
#define VPND_REPLAY_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define REPLAY_RING_BITS	8192
#define REPLAY_LONG_BITS	(sizeof(unsigned long) * CHAR_BIT)
#define REPLAY_RING_WORDS	(REPLAY_RING_BITS / REPLAY_LONG_BITS)
#define REPLAY_WINDOW_BITS	(REPLAY_RING_BITS - REPLAY_LONG_BITS)

struct replay {
	uint64_t	 r_top;		/* highest counter seen + 1; 0: none */
	unsigned long	 r_map[REPLAY_RING_WORDS];
};

void	 replay_init(struct replay *);
/*
 * Call after the packet authenticated: true if counter is fresh (and
 * record it), false if replayed, too old, or >= limit (pass
 * REJECT_AFTER_MESSAGES).  No locking inside; the caller serialises.
 */
bool	 replay_accept(struct replay *, uint64_t counter, uint64_t limit);

#endif /* VPND_REPLAY_H */

/*
 * replay.c -- the anti-replay sliding window (RFC 6479).
 *
 * Counters are kept off by one (r_top is the highest counter plus one) so
 * that a zeroed struct means "nothing received" and counter 0 is still
 * fresh.  Moving forward clears whole words rather than single bits, which
 * is why one word of the ring is not part of the usable window.
 */
#include <string.h>

#include "compat.h"
#include "replay.h"

void
replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool
replay_accept(struct replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t	 c, index, cur, n, i;
	unsigned long	 bit;

	if (__predict_false(counter >= limit))
		return false;
	/* counter < limit <= UINT64_MAX, so this cannot wrap. */
	c = counter + 1;

	/* Too old: more than REPLAY_WINDOW_BITS below the highest. */
	if (__predict_false(r->r_top > REPLAY_WINDOW_BITS &&
	    c < r->r_top - REPLAY_WINDOW_BITS))
		return false;

	index = c / REPLAY_LONG_BITS;
	if (__predict_true(c > r->r_top)) {
		/* Forget the words we slide over; a big jump clears all. */
		cur = r->r_top / REPLAY_LONG_BITS;
		n = MINIMUM(index - cur, (uint64_t)REPLAY_RING_WORDS);
		for (i = 1; i <= n; i++)
			r->r_map[(cur + i) % REPLAY_RING_WORDS] = 0;
		r->r_top = c;
	}
	index %= REPLAY_RING_WORDS;
	bit = 1UL << (c % REPLAY_LONG_BITS);
	if (r->r_map[index] & bit)
		return false;
	r->r_map[index] |= bit;
	return true;
}

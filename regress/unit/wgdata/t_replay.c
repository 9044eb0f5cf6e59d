/*
 * t_replay.c -- the anti-replay window: the Linux WireGuard module's
 * counter self-test sequence, edges of the window, the message limit, and
 * a random walk checked against a plain set-based model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "tap.h"

/* 2^64 - 2^13 - 1, from the WireGuard paper. */
#define REJECT_AFTER_MESSAGES	(UINT64_MAX - (1ULL << 13))
#define W			((uint64_t)REPLAY_WINDOW_BITS)

static struct replay	 r;
static int		 seq;

#define T(c, want) do {							\
	seq++;								\
	is_int(replay_accept(&r, (c), REJECT_AFTER_MESSAGES), (want),	\
	    "step %d: counter %llu %s", seq, (unsigned long long)(c),	\
	    (want) ? "accepted" : "refused");				\
} while (0)

static uint64_t
rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^
	    (uint64_t)random();
}

static void
model_check(uint64_t base, uint64_t spread, int rounds, const char *what)
{
	/* The model: a bitmap over [base, base + spread) plus the top. */
	uint8_t		*seen;
	uint64_t	 c, top = 0;
	int		 i, have = 0, bad = 0, acc = 0;
	bool		 want, got;

	if ((seen = calloc(spread, 1)) == NULL)
		abort();
	replay_init(&r);
	for (i = 0; i < rounds; i++) {
		/* Mostly near the top, sometimes anywhere. */
		if (have && random() % 4 != 0) {
			c = top + (random() % 300) - 200;
			if (c < base || c >= base + spread)
				c = base;
		} else
			c = base + rnd64() % spread;
		want = !seen[c - base] && (!have || c + W >= top);
		got = replay_accept(&r, c, REJECT_AFTER_MESSAGES);
		if (got != want) {
			if (bad++ < 5)
				diag("%s: counter %llu top %llu got %d want %d",
				    what, (unsigned long long)c,
				    (unsigned long long)top, got, want);
		}
		if (want) {
			acc++;
			seen[c - base] = 1;
			if (!have || c > top)
				top = c;
			have = 1;
		}
	}
	ok(bad == 0, "%s: %d random counters agree with the model (%d new)",
	    what, rounds, acc);
	free(seen);
}

int
main(void)
{
	uint64_t	 i;
	int		 allok;

	plan(61);

	ok(REPLAY_WINDOW_BITS >= 2048, "window of at least 2048 packets");
	if (sizeof(unsigned long) == 8)
		is_int(REPLAY_WINDOW_BITS, 8128,
		    "8128 usable with 64-bit longs");
	is_int(sizeof(r.r_map) * 8, REPLAY_RING_BITS, "8192-bit ring");

	/* The sequence from the Linux module's counter self-test. */
	replay_init(&r);
	T(0, true);
	T(1, true);
	T(1, false);
	T(9, true);
	T(8, true);
	T(7, true);
	T(7, false);
	T(W, true);
	T(W - 1, true);
	T(W - 1, false);
	T(W - 2, true);
	T(2, true);
	T(2, false);
	T(W + 16, true);
	T(3, false);		/* now beyond the window edge */
	T(W + 16, false);
	T(W * 4, true);
	T(W * 4 - (W - 1), true);
	T(10, false);
	T(W * 4 - W, true);	/* exactly at the edge */
	T(W * 4 - W, false);
	T(W * 4 - W - 1, false);/* one beyond the edge */
	T(W * 4 - W + 1, false);	/* seen four steps ago */
	T(W * 4 - W + 2, true);
	T(W * 4 - W + 2, false);
	T(0, false);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES - 1, true);
	T(REJECT_AFTER_MESSAGES, false);
	T(REJECT_AFTER_MESSAGES - 1, false);
	T(REJECT_AFTER_MESSAGES - 2, true);
	T(REJECT_AFTER_MESSAGES + 1, false);
	T(REJECT_AFTER_MESSAGES + 2, false);
	T(REJECT_AFTER_MESSAGES - 2, false);
	T(REJECT_AFTER_MESSAGES - 3, true);
	T(0, false);
	T(UINT64_MAX, false);

	/* A full window received backwards, then the oldest edge. */
	replay_init(&r);
	for (i = 1, allok = 1; i <= W; i++)
		allok &= replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "1..W in order");
	T(0, true);
	T(0, false);

	replay_init(&r);
	for (i = 2, allok = 1; i <= W + 1; i++)
		allok &= replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "2..W+1 in order");
	T(1, true);
	T(0, false);

	replay_init(&r);
	for (i = W + 1, allok = 1; i-- > 0;)
		allok &= replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "W..0 in reverse, every one fresh");

	replay_init(&r);
	for (i = W + 2, allok = 1; i-- > 1;)
		allok &= replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "W+1..1 in reverse");
	T(0, false);

	replay_init(&r);
	for (i = W + 1, allok = 1; i > 0; i--)
		allok &= replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "W+1..1 in reverse, again");
	T(W + 2, true);
	T(0, false);

	/* Duplicates of the whole window are all refused. */
	replay_init(&r);
	for (i = 0; i < 5000; i++)
		replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	for (i = 0, allok = 1; i < 5000; i++)
		allok &= !replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	ok(allok, "every duplicate refused");

	/* A big jump clears the map: old bits must not alias. */
	replay_init(&r);
	for (i = 0; i < 64; i++)
		replay_accept(&r, i, REJECT_AFTER_MESSAGES);
	T(REPLAY_RING_BITS * 1000 + 5, true);
	for (i = 0, allok = 1; i < W; i++)
		allok &= replay_accept(&r, REPLAY_RING_BITS * 1000 + 5 - W + i,
		    REJECT_AFTER_MESSAGES);
	ok(allok, "after a jump the ring's words read fresh");

	/* The limit is a parameter: a small one is honoured. */
	replay_init(&r);
	ok(replay_accept(&r, 9, 10), "limit 10: counter 9 accepted");
	ok(!replay_accept(&r, 10, 10), "limit 10: counter 10 refused");
	ok(!replay_accept(&r, 0, 0), "limit 0 refuses everything");

	srandom(6479);
	model_check(0, 40000, 200000, "dense near zero");
	model_check(1ULL << 40, 1 << 20, 200000, "sparse, high counters");
	model_check(REJECT_AFTER_MESSAGES - 30000, 30000, 100000,
	    "at the message limit");

	return done_testing();
}

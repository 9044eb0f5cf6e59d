/*
 * t_wg_timers.c -- the watchdog in the protocol timers: data sent and
 * nothing back starts a handshake after KEEPALIVE_TIMEOUT +
 * REKEY_TIMEOUT; an initiation unanswered for REKEY_ATTEMPT_TIME says
 * "lost" once; a peer we dial keeps retrying with a backoff that stops
 * growing at TIMER_BACKOFF_MAX, one we do not dial gives up as the
 * whitepaper says; a completed handshake resets all of it. And the
 * resume-from-suspend test on the two clocks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"
#include "tap.h"
#include "timers.h"
#include "wgtime.h"

#define TICK	(100 * WG_NSEC_PER_MSEC)
#define JITTER	((uint64_t)REKEY_TIMEOUT_JITTER_MS * WG_NSEC_PER_MSEC)

struct run {
	uint64_t	 lost_at;	/* 0: not said */
	int		 nlost;
	int		 nretry;
	int		 ngiveup;
	uint64_t	 retry_at[64];
};

/*
 * Tick from *now to until, doing what wg_device_tick does: a retry is an
 * initiation sent again (the attempt count kept).
 */
static void
run_until(struct wg_timers *t, uint64_t *now, uint64_t until, struct run *r)
{
	int	 act;

	for (; *now < until; *now += TICK) {
		act = timers_expired(t, *now);
		if (act & TIMER_ACT_RETRY) {
			if (r->nretry < (int)nitems(r->retry_at))
				r->retry_at[r->nretry] = *now;
			r->nretry++;
			timers_handshake_initiated(t, *now);
		}
		if (act & TIMER_ACT_GIVE_UP)
			r->ngiveup++;
		if (act & TIMER_ACT_LOST) {
			if (r->nlost++ == 0)
				r->lost_at = *now;
		}
	}
}

/*
 * A counting random source (xorshift64*: deterministic, a test's), to
 * see how often the timers ask libsodium, i.e. make a getrandom(2).
 */
static uint64_t	 rb_state = 0x9e3779b97f4a7c15ULL;
static int	 rb_calls;

static uint32_t
rb_next(void)
{
	rb_state ^= rb_state >> 12;
	rb_state ^= rb_state << 25;
	rb_state ^= rb_state >> 27;
	return (uint32_t)((rb_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static const char *rb_name(void) { return "count"; }
static uint32_t rb_random(void) { rb_calls++; return rb_next(); }
static void rb_stir(void) { }
static uint32_t rb_uniform(const uint32_t n) { rb_calls++; return rb_next() % n; }
static void
rb_buf(void * const buf, const size_t size)
{
	size_t	 i;

	rb_calls++;
	for (i = 0; i < size; i++)
		((uint8_t *)buf)[i] = (uint8_t)rb_next();
}
static int rb_close(void) { return 0; }
static randombytes_implementation rb_count = {
	rb_name, rb_random, rb_stir, rb_uniform, rb_buf, rb_close
};

/* A fresh peer at time base that sends its first initiation then. */
static void
start(struct wg_timers *t, bool persist, uint64_t base)
{
	memset(t, 0, sizeof(*t));
	t->t_persist = persist;
	timers_init(t);
	timers_handshake_initiated(t, base);
}

int
main(void)
{
	struct wg_timers	 t;
	struct wg_resume	 rs;
	struct run		 r;
	uint64_t		 base = WG_SEC(1000), now, d = 0;
	int			 i, act, first = 0;
	bool			 grows = true;

	uint64_t		 lo = UINT64_MAX, hi = 0, v, prev = UINT64_MAX;
	int			 same = 0;

	randombytes_set_implementation(&rb_count);
	plan(34);

	/*
	 * Data sent after each answer: a fresh deadline each time, with its
	 * own jitter, but not a call into the random source each time.
	 */
	memset(&t, 0, sizeof(t));
	timers_init(&t);
	for (i = 0; i < 6400; i++) {
		timers_data_sent(&t, base);
		v = t.t_new_handshake - base - (KEEPALIVE_TIMEOUT +
		    REKEY_TIMEOUT);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		same += v == prev;
		prev = v;
		timers_any_authenticated_packet_received(&t, base);
	}
	ok(lo < 10 * WG_NSEC_PER_MSEC && hi >= JITTER - 10 * WG_NSEC_PER_MSEC,
	    "6,400 deadlines spread over the jitter (%llu..%llu ms)",
	    (unsigned long long)(lo / WG_NSEC_PER_MSEC),
	    (unsigned long long)(hi / WG_NSEC_PER_MSEC));
	ok(hi < JITTER, "none past REKEY_TIMEOUT_JITTER_MS");
	/* chance makes about 6,400 / 334 = 19; one word per fill, 6,300 */
	ok(same < 64, "each deadline its own word: %d of 6,400 the same as "
	    "the one before", same);
	ok(rb_calls <= 101, "the random source asked %d times for 6,400 "
	    "deadlines (a pool of 64 words)", rb_calls);

	/* the retry delays */
	is_int(timers_retry_delay(0) / WG_NSEC_PER_SEC, 5,
	    "first attempts: REKEY_TIMEOUT");
	is_int(timers_retry_delay(MAX_TIMER_HANDSHAKES) / WG_NSEC_PER_SEC,
	    5, "the last standard attempt: REKEY_TIMEOUT");
	is_int(timers_retry_delay(MAX_TIMER_HANDSHAKES + 1) /
	    WG_NSEC_PER_SEC, 10, "past them: doubled");
	is_int(timers_retry_delay(MAX_TIMER_HANDSHAKES + 2) /
	    WG_NSEC_PER_SEC, 20, "then doubled again");
	is_int(timers_retry_delay(MAX_TIMER_HANDSHAKES + 3),
	    TIMER_BACKOFF_MAX, "capped at TIMER_BACKOFF_MAX");
	is_int(timers_retry_delay(UINT32_MAX), TIMER_BACKOFF_MAX,
	    "a huge count stays capped");

	/* data sent, nothing received: a new handshake after 15 s */
	memset(&t, 0, sizeof(t));
	timers_init(&t);
	now = base;
	timers_data_sent(&t, now);
	for (; now < base + WG_SEC(20); now += TICK) {
		act = timers_expired(&t, now);
		if ((act & TIMER_ACT_INITIATE) && first == 0)
			first = 1, d = now - base;
	}
	ok(first && d >= KEEPALIVE_TIMEOUT + REKEY_TIMEOUT &&
	    d <= KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + JITTER + TICK,
	    "data without an answer: an initiation after KEEPALIVE_TIMEOUT + "
	    "REKEY_TIMEOUT (%llu ms)",
	    (unsigned long long)(first ? d / WG_NSEC_PER_MSEC : 0));
	memset(&t, 0, sizeof(t));
	timers_init(&t);
	now = base;
	timers_data_sent(&t, now);
	timers_any_authenticated_packet_received(&t, now + WG_SEC(1));
	act = 0;
	for (; now < base + WG_SEC(20); now += TICK)
		act |= timers_expired(&t, now);
	ok(!(act & TIMER_ACT_INITIATE), "an answer in time: no initiation");

	/* a dialled peer that never answers */
	start(&t, true, base);
	memset(&r, 0, sizeof(r));
	now = base;
	run_until(&t, &now, base + REKEY_ATTEMPT_TIME - TICK, &r);
	is_int(r.nlost, 0, "not lost before REKEY_ATTEMPT_TIME");
	run_until(&t, &now, base + REKEY_ATTEMPT_TIME + TICK, &r);
	is_int(r.nlost, 1, "lost at REKEY_ATTEMPT_TIME");
	ok(r.lost_at >= base + REKEY_ATTEMPT_TIME &&
	    r.lost_at <= base + REKEY_ATTEMPT_TIME + TICK,
	    "... within a tick of it");
	run_until(&t, &now, base + WG_SEC(600), &r);
	is_int(r.nlost, 1, "said once, however long it lasts");
	is_int(r.ngiveup, 0, "a dialled peer never gives up");
	ok(r.nretry > (int)MAX_TIMER_HANDSHAKES + 5,
	    "it keeps retrying (%d retries in 600 s)", r.nretry);
	for (i = (int)MAX_TIMER_HANDSHAKES + 1; i < r.nretry - 1 &&
	    i + 1 < (int)nitems(r.retry_at); i++) {
		d = r.retry_at[i + 1] - r.retry_at[i];
		if (d < timers_retry_delay(i + 1) ||
		    d > timers_retry_delay(i + 1) + JITTER + TICK)
			grows = false;
	}
	ok(grows, "past the standard attempts, each wait is the backoff");
	d = r.retry_at[r.nretry - 1] - r.retry_at[r.nretry - 2];
	ok(d <= TIMER_BACKOFF_MAX + JITTER + TICK,
	    "and never longer than TIMER_BACKOFF_MAX (%llu s)",
	    (unsigned long long)(d / WG_NSEC_PER_SEC));
	/* a new initiation (not a retry: a network change) starts over */
	t.t_handshake_attempts = 0;
	timers_handshake_initiated(&t, now);
	ok(t.t_retransmit_handshake - now <= REKEY_TIMEOUT + JITTER,
	    "a new initiation restarts the backoff");

	/* recovery: a handshake resets the watchdog; a new loss is said */
	timers_handshake_complete(&t, now);
	ok(t.t_attempt_since == 0 && !t.t_lost && t.t_handshake_attempts == 0,
	    "a completed handshake clears the watchdog");
	memset(&r, 0, sizeof(r));
	base = now + WG_SEC(200);
	now = base;
	timers_handshake_initiated(&t, now);
	run_until(&t, &now, base + REKEY_ATTEMPT_TIME + TICK, &r);
	is_int(r.nlost, 1, "the next loss is said again");

	/* answered just in time: not lost */
	start(&t, true, base);
	memset(&r, 0, sizeof(r));
	now = base;
	run_until(&t, &now, base + REKEY_ATTEMPT_TIME - WG_SEC(1), &r);
	timers_handshake_complete(&t, now);
	run_until(&t, &now, base + REKEY_ATTEMPT_TIME + WG_SEC(10), &r);
	is_int(r.nlost, 0, "a handshake inside REKEY_ATTEMPT_TIME: not lost");

	/* a peer we do not dial (a server's client) gives up */
	start(&t, false, base);
	memset(&r, 0, sizeof(r));
	now = base;
	run_until(&t, &now, base + WG_SEC(600), &r);
	is_int(r.ngiveup, 1, "a peer without a configured endpoint gives up");
	is_int(r.nretry, (int)MAX_TIMER_HANDSHAKES + 1,
	    "after the standard number of retries");

	/*
	 * A reading of now older than what another thread stored: an age
	 * of 0, not 2^64 (no retry at once, no lost peer).
	 */
	memset(&t, 0, sizeof(t));
	timers_init(&t);
	timers_handshake_initiated(&t, base);
	ok(!timers_may_initiate(&t, base - 1),
	    "stale clock: a handshake just sent is not yet due again");
	ok(timers_may_initiate(&t, base + REKEY_TIMEOUT),
	    "and is after REKEY_TIMEOUT");
	act = timers_expired(&t, base - 1);
	ok(!(act & TIMER_ACT_LOST) && !t.t_lost,
	    "stale clock: the watchdog does not call the peer lost");

	/* resume from suspend: the boot clock ran ahead of the monotonic */
	memset(&rs, 0, sizeof(rs));
	is_int(wg_resume_check(&rs, WG_SEC(100), WG_SEC(50)), 0,
	    "first check primes");
	is_int(wg_resume_check(&rs, WG_SEC(101), WG_SEC(51)), 0,
	    "clocks in step: awake");
	is_int(wg_resume_check(&rs, WG_SEC(103), WG_SEC(52)), 0,
	    "a gap below WG_SUSPEND_MIN: awake");
	is_int(wg_resume_check(&rs, WG_SEC(200), WG_SEC(53)), 1,
	    "the boot clock 95 s ahead: resumed");
	is_int(wg_resume_check(&rs, WG_SEC(201), WG_SEC(54)), 0,
	    "said once");
	return done_testing();
}

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

#define IDLE_MAX	WG_SEC(1)	/* tunworker's TICK_IDLE */

struct sim {
	int	 wakes, late, events;
	int	 nact[8];		/* by bit of TIMER_ACT_* */
};

/* A random span in [0, max): rb_next's 32 bits scaled. */
static uint64_t
rb_span(uint64_t max)
{
	return ((uint64_t)rb_next() * max) >> 32;
}

/* What a packet thread can do to a peer's timers; dead: no answers. */
static void
sim_event(struct wg_timers *t, uint64_t now, bool dead)
{
	switch (rb_next() % (dead ? 3 : 7)) {
	case 0:
		timers_data_sent(t, now);
		timers_any_authenticated_packet_sent(t, now);
		timers_any_authenticated_packet_traversal(t, now);
		break;
	case 1:
		timers_any_authenticated_packet_traversal(t, now);
		break;
	case 2:
		if (timers_may_initiate(t, now))
			timers_handshake_initiated(t, now);
		break;
	case 3:
		timers_data_received(t, now);
		timers_any_authenticated_packet_received(t, now);
		timers_any_authenticated_packet_traversal(t, now);
		break;
	case 4:
		timers_any_authenticated_packet_received(t, now);
		break;
	case 5:
		timers_handshake_complete(t, now);
		timers_session_derived(t, now);
		break;
	default:
		timers_data_sent(t, now);
		break;
	}
}

/*
 * The control thread as tunworker runs it when idle: at each wake-up the
 * due timers act (as wg_device_tick does), then it sleeps until the next
 * deadline, at least a tick and at most IDLE_MAX; the packet threads'
 * events fall at their own times in between. Whatever they do, nothing
 * may have been due a tick before a wake-up: a copy of the timers asked
 * at wake - TICK has nothing to do.
 */
static void
sim_run(struct sim *sm, bool dead, bool persist, uint16_t keepalive,
    uint64_t base, uint64_t span)
{
	struct wg_timers	 t, probe;
	uint64_t		 wake = base, ev, d;
	int			 act, b;

	memset(&t, 0, sizeof(t));
	t.t_persist = persist;
	t.t_persistent_interval = keepalive;
	timers_init(&t);
	ev = base + rb_span(WG_SEC(4));
	while (wake < base + span) {
		for (; ev <= wake; ev += 1 + rb_span(WG_SEC(4))) {
			sim_event(&t, ev, dead);
			sm->events++;
		}
		probe = t;
		if (timers_expired(&probe, wake - TICK) != 0)
			sm->late++;
		act = timers_expired(&t, wake);
		for (b = 0; b < 8; b++)
			if (act & (1 << b))
				sm->nact[b]++;
		if (act & (TIMER_ACT_RETRY | TIMER_ACT_INITIATE))
			timers_handshake_initiated(&t, wake);
		if (act & TIMER_ACT_KEEPALIVE) {
			timers_any_authenticated_packet_sent(&t, wake);
			if (act & TIMER_ACT_KEEPALIVE_AGAIN)
				timers_keepalive_again(&t, wake);
		}
		sm->wakes++;
		d = timers_sleep(wake, timers_next(&t), IDLE_MAX);
		wake += d < TICK ? TICK : d;
	}
}

static int
bit(int act)
{
	int	 b;

	for (b = 0; b < 8; b++)
		if (act == (1 << b))
			return b;
	return 0;
}

static void
idle_sleep(uint64_t base)
{
	struct sim	 live, dead;
	struct wg_timers t;
	uint64_t	 hour = WG_SEC(3600);
	int		 i;

	/* timers_next: the earliest deadline armed, 0 with none */
	memset(&t, 0, sizeof(t));
	timers_init(&t);
	is_int((int)(timers_next(&t) != 0), 0, "no timer armed: no deadline");
	timers_data_received(&t, base);
	ok(timers_next(&t) == base + KEEPALIVE_TIMEOUT,
	    "data received: the keepalive's deadline");
	timers_handshake_initiated(&t, base + WG_SEC(1));
	ok(timers_next(&t) >= base + WG_SEC(1) + REKEY_TIMEOUT &&
	    timers_next(&t) < base + WG_SEC(1) + REKEY_TIMEOUT + JITTER,
	    "an initiation sent: its retry, earlier than the keepalive");
	t.t_retransmit_handshake = 0;
	t.t_send_keepalive = 0;
	ok(timers_next(&t) == base + WG_SEC(1) + REKEY_ATTEMPT_TIME,
	    "only the watchdog left: REKEY_ATTEMPT_TIME after the first try");
	t.t_lost = true;
	ok(timers_next(&t) == 0, "the peer said lost: no watchdog deadline");
	ok(timers_sleep(base, base + WG_SEC(5), IDLE_MAX) == IDLE_MAX &&
	    timers_sleep(base, base + TICK, IDLE_MAX) == TICK &&
	    timers_sleep(base, base - 1, IDLE_MAX) == 0 &&
	    timers_sleep(base, 0, IDLE_MAX) == IDLE_MAX,
	    "timers_sleep: until the deadline, within the most, 0 when due");

	memset(&live, 0, sizeof(live));
	memset(&dead, 0, sizeof(dead));
	for (i = 0; i < 16; i++) {
		sim_run(&live, false, i & 1, i % 3 ? 0 : 1 + i % 25, base,
		    hour);
		sim_run(&dead, true, i & 1, i % 3 ? 0 : 1 + i % 25, base,
		    hour);
	}
	diag("idle sleep, 16 simulated hours each: live peer %d wake-ups, "
	    "%d events, %d keepalives, %d initiations; dead peer %d wake-ups, "
	    "%d retries, %d lost, %d give-ups", live.wakes, live.events,
	    live.nact[bit(TIMER_ACT_KEEPALIVE)],
	    live.nact[bit(TIMER_ACT_INITIATE)], dead.wakes,
	    dead.nact[bit(TIMER_ACT_RETRY)], dead.nact[bit(TIMER_ACT_LOST)],
	    dead.nact[bit(TIMER_ACT_GIVE_UP)]);
	ok(live.nact[bit(TIMER_ACT_KEEPALIVE)] > 0 &&
	    live.nact[bit(TIMER_ACT_INITIATE)] > 0 &&
	    dead.nact[bit(TIMER_ACT_RETRY)] > 0 &&
	    dead.nact[bit(TIMER_ACT_LOST)] > 0 &&
	    dead.nact[bit(TIMER_ACT_GIVE_UP)] > 0,
	    "the simulation makes every kind of timer act");
	is_int(live.late + dead.late, 0,
	    "idle sleep: no timer acts more than a tick late (live %d, "
	    "dead %d wake-ups late)", live.late, dead.late);
	ok(live.wakes < 16 * 3600 * 2 && dead.wakes < 16 * 3600 * 2,
	    "idle sleep: under two wake-ups a second (a 100 ms tick: 10)");
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
	plan(43);

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

	idle_sleep(base);
	return done_testing();
}

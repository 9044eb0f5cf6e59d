/*
 * timers.c -- when to retransmit, rekey, keep alive and forget keys.
 *
 * The same state machine as the Linux module and wireguard-go, but with
 * deadlines polled by a 100 ms tick instead of kernel timers: a deadline
 * fires at most one tick late, well inside the protocol's tolerances.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"
#include "timers.h"
#include "wgtime.h"

static uint64_t	 timers_jitter(void);
static uint64_t	 timers_at(uint64_t now, uint64_t delay);

/*
 * Spread retries so two peers do not keep colliding. Data sent after an
 * answer arms a new deadline, so this runs about once a packet received
 * under load: the random words come from a per-thread pool refilled 64
 * at a time, not a getrandom(2) each (libsodium makes one a call).
 */
#define JITTER_POOL	64

static _Thread_local uint32_t	 jitter_pool[JITTER_POOL];
static _Thread_local unsigned	 jitter_left;

static uint64_t
timers_jitter(void)
{
	uint32_t	 r;

	if (jitter_left == 0) {
		randombytes_buf(jitter_pool, sizeof(jitter_pool));
		jitter_left = JITTER_POOL;
	}
	r = jitter_pool[--jitter_left];
	jitter_pool[jitter_left] = 0;
	/* [0, REKEY_TIMEOUT_JITTER_MS): bias below 1e-7 */
	return ((uint64_t)r * REKEY_TIMEOUT_JITTER_MS >> 32) *
	    WG_NSEC_PER_MSEC;
}

static uint64_t
timers_at(uint64_t now, uint64_t delay)
{
	uint64_t	 t = now + delay;

	return t == 0 ? 1 : t;
}

/* After a keepalive that asked for another (KEEPALIVE_AGAIN) went out. */
void
timers_keepalive_again(struct wg_timers *t, uint64_t now)
{
	t->t_send_keepalive = timers_at(now, KEEPALIVE_TIMEOUT);
}

void
timers_init(struct wg_timers *t)
{
	uint16_t	 interval = t->t_persistent_interval;
	bool		 persist = t->t_persist;

	memset(t, 0, sizeof(*t));
	t->t_persistent_interval = interval;
	t->t_persist = persist;
}

/*
 * REKEY_TIMEOUT while the standard attempts last; past them (only a
 * dialled peer gets there) twice as long each time, up to
 * TIMER_BACKOFF_MAX: a dead server is not hammered, and a network change
 * restarts the count (a new, not a retried, initiation) for a quick reconnect.
 */
uint64_t
timers_retry_delay(unsigned int attempts)
{
	unsigned int	 n;
	uint64_t	 d = REKEY_TIMEOUT;

	if (attempts <= MAX_TIMER_HANDSHAKES)
		return d;
	for (n = attempts - MAX_TIMER_HANDSHAKES; n > 0; n--)
		if ((d *= 2) >= TIMER_BACKOFF_MAX)
			return TIMER_BACKOFF_MAX;
	return d;
}


/* We sent data: expect an answer within KEEPALIVE_TIMEOUT + REKEY_TIMEOUT. */
void
timers_data_sent(struct wg_timers *t, uint64_t now)
{
	if (t->t_new_handshake == 0)
		t->t_new_handshake = timers_at(now,
		    KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + timers_jitter());
}

/* We got data: answer with a keepalive if we have nothing to say. */
void
timers_data_received(struct wg_timers *t, uint64_t now)
{
	if (t->t_send_keepalive == 0)
		t->t_send_keepalive = timers_at(now, KEEPALIVE_TIMEOUT);
	else
		t->t_need_another_keepalive = true;
}

void
timers_any_authenticated_packet_sent(struct wg_timers *t, uint64_t now)
{
	t->t_send_keepalive = 0;
}

void
timers_any_authenticated_packet_received(struct wg_timers *t, uint64_t now)
{
	t->t_new_handshake = 0;
}

void
timers_any_authenticated_packet_traversal(struct wg_timers *t, uint64_t now)
{
	if (t->t_persistent_interval > 0)
		t->t_persistent_keepalive = timers_at(now,
		    WG_SEC(t->t_persistent_interval));
}

void
timers_handshake_initiated(struct wg_timers *t, uint64_t now)
{
	t->t_last_sent_handshake = now;
	t->t_sent_handshake = true;
	if (t->t_attempt_since == 0)
		t->t_attempt_since = now;
	t->t_retransmit_handshake = timers_at(now,
	    timers_retry_delay(t->t_handshake_attempts) + timers_jitter());
}

void
timers_handshake_complete(struct wg_timers *t, uint64_t now)
{
	t->t_retransmit_handshake = 0;
	t->t_handshake_attempts = 0;
	t->t_sent_lastminute_handshake = false;
	t->t_attempt_since = 0;
	t->t_lost = false;
}

void
timers_session_derived(struct wg_timers *t, uint64_t now)
{
	t->t_zero_key_material = timers_at(now, 3 * REJECT_AFTER_TIME);
}

bool
timers_may_initiate(const struct wg_timers *t, uint64_t now)
{
	return !t->t_sent_handshake ||
	    wg_since(t->t_last_sent_handshake, now) >= REKEY_TIMEOUT;
}

static uint64_t
timers_min(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

uint64_t
timers_next(const struct wg_timers *t)
{
	uint64_t	 n = 0;

	n = timers_min(n, t->t_retransmit_handshake);
	n = timers_min(n, t->t_send_keepalive);
	n = timers_min(n, t->t_new_handshake);
	n = timers_min(n, t->t_zero_key_material);
	n = timers_min(n, t->t_persistent_keepalive);
	if (t->t_attempt_since != 0 && !t->t_lost)
		n = timers_min(n, timers_at(t->t_attempt_since,
		    REKEY_ATTEMPT_TIME));
	return n;
}

uint64_t
timers_sleep(uint64_t now, uint64_t next, uint64_t max)
{
	uint64_t	 d;

	if (next == 0)
		return max;
	d = wg_since(now, next);
	return d < max ? d : max;
}

int
timers_expired(struct wg_timers *t, uint64_t now)
{
	int	 act = 0;

	if (t->t_retransmit_handshake != 0 &&
	    now >= t->t_retransmit_handshake) {
		t->t_retransmit_handshake = 0;
		if (t->t_handshake_attempts > MAX_TIMER_HANDSHAKES &&
		    !t->t_persist) {
			t->t_send_keepalive = 0;
			act |= TIMER_ACT_GIVE_UP;
			if (t->t_zero_key_material == 0)
				t->t_zero_key_material = timers_at(now,
				    3 * REJECT_AFTER_TIME);
		} else {
			if (t->t_handshake_attempts < UINT_MAX)
				t->t_handshake_attempts++;
			act |= TIMER_ACT_RETRY;
		}
	}
	/*
	 * The watchdog: an initiation unanswered for REKEY_ATTEMPT_TIME
	 * means the peer is gone (said once until a handshake completes).
	 */
	if (t->t_attempt_since != 0 && !t->t_lost &&
	    wg_since(t->t_attempt_since, now) >= REKEY_ATTEMPT_TIME) {
		t->t_lost = true;
		act |= TIMER_ACT_LOST;
	}
	if (t->t_send_keepalive != 0 && now >= t->t_send_keepalive) {
		t->t_send_keepalive = 0;
		act |= TIMER_ACT_KEEPALIVE;
		if (t->t_need_another_keepalive) {
			/* re-armed by the caller once the keepalive is out */
			t->t_need_another_keepalive = false;
			act |= TIMER_ACT_KEEPALIVE_AGAIN;
		}
	}
	if (t->t_new_handshake != 0 && now >= t->t_new_handshake) {
		t->t_new_handshake = 0;
		act |= TIMER_ACT_INITIATE;
	}
	if (t->t_zero_key_material != 0 && now >= t->t_zero_key_material) {
		t->t_zero_key_material = 0;
		act |= TIMER_ACT_ZERO_KEYS;
	}
	if (t->t_persistent_keepalive != 0 &&
	    now >= t->t_persistent_keepalive) {
		t->t_persistent_keepalive = 0;
		if (t->t_persistent_interval > 0)
			act |= TIMER_ACT_KEEPALIVE;
	}
	return act;
}

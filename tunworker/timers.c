/*
 * timers.c -- when to retransmit, rekey, keep alive and forget keys.
 *
 * The same state machine as the Linux module and wireguard-go, but with
 * deadlines polled by a 100 ms tick instead of kernel timers: a deadline
 * fires at most one tick late, well inside the protocol's tolerances.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"
#include "timers.h"
#include "wgtime.h"

static uint64_t	 timers_jitter(void);
static uint64_t	 timers_at(uint64_t now, uint64_t delay);

static uint64_t
timers_jitter(void)
{
	/* Spread retries so two peers do not keep colliding. */
	return (uint64_t)randombytes_uniform(REKEY_TIMEOUT_JITTER_MS) *
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

	memset(t, 0, sizeof(*t));
	t->t_persistent_interval = interval;
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
	t->t_retransmit_handshake = timers_at(now,
	    REKEY_TIMEOUT + timers_jitter());
}

void
timers_handshake_complete(struct wg_timers *t, uint64_t now)
{
	t->t_retransmit_handshake = 0;
	t->t_handshake_attempts = 0;
	t->t_sent_lastminute_handshake = false;
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
	    now - t->t_last_sent_handshake >= REKEY_TIMEOUT;
}

int
timers_expired(struct wg_timers *t, uint64_t now)
{
	int	 act = 0;

	if (t->t_retransmit_handshake != 0 &&
	    now >= t->t_retransmit_handshake) {
		t->t_retransmit_handshake = 0;
		if (t->t_handshake_attempts > MAX_TIMER_HANDSHAKES) {
			t->t_send_keepalive = 0;
			act |= TIMER_ACT_GIVE_UP;
			if (t->t_zero_key_material == 0)
				t->t_zero_key_material = timers_at(now,
				    3 * REJECT_AFTER_TIME);
		} else {
			t->t_handshake_attempts++;
			act |= TIMER_ACT_RETRY;
		}
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

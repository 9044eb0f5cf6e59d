/*
 * timers.h -- the per-peer protocol timers of whitepaper section 6, as
 * deadlines in wg_now() nanoseconds (0: not pending). The hooks are
 * called under the peer's lock by the code that sends and receives;
 * timers_expired() runs from wg_device_tick() and says what to do.
 */
#ifndef VPND_TIMERS_H
#define VPND_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

struct wg_timers {
	uint64_t	 t_retransmit_handshake;
	uint64_t	 t_send_keepalive;
	uint64_t	 t_new_handshake;
	uint64_t	 t_zero_key_material;
	uint64_t	 t_persistent_keepalive;
	uint64_t	 t_last_sent_handshake;
	bool		 t_sent_handshake;	/* t_last_sent_handshake set */
	unsigned int	 t_handshake_attempts;
	bool		 t_need_another_keepalive;
	bool		 t_sent_lastminute_handshake;
	uint16_t	 t_persistent_interval;	/* seconds, 0 = off */
	/*
	 * The watchdog: when the first initiation still unanswered went
	 * out (0: none pending), whether TIMER_ACT_LOST was said for it,
	 * and whether the peer has a configured endpoint (we dial it: keep
	 * retrying with backoff instead of giving up).
	 */
	uint64_t	 t_attempt_since;
	bool		 t_lost;
	bool		 t_persist;
};

/* Retries past REKEY_ATTEMPT_TIME of a dialled peer back off to this. */
#define TIMER_BACKOFF_MAX	(30 * 1000000000ULL)	/* ns */

#define TIMER_ACT_RETRY		0x01	/* resend the initiation */
#define TIMER_ACT_INITIATE	0x02	/* start a new handshake */
#define TIMER_ACT_KEEPALIVE	0x04
#define TIMER_ACT_GIVE_UP	0x08	/* REKEY_ATTEMPT_TIME passed */
#define TIMER_ACT_ZERO_KEYS	0x10
#define TIMER_ACT_KEEPALIVE_AGAIN 0x20	/* arm another keepalive after it */
#define TIMER_ACT_LOST		0x40	/* no handshake for REKEY_ATTEMPT_TIME */

void	 timers_init(struct wg_timers *);
void	 timers_data_sent(struct wg_timers *, uint64_t now);
void	 timers_data_received(struct wg_timers *, uint64_t now);
void	 timers_any_authenticated_packet_sent(struct wg_timers *, uint64_t);
void	 timers_any_authenticated_packet_received(struct wg_timers *,
	    uint64_t);
void	 timers_any_authenticated_packet_traversal(struct wg_timers *,
	    uint64_t);
void	 timers_handshake_initiated(struct wg_timers *, uint64_t now);
void	 timers_handshake_complete(struct wg_timers *, uint64_t now);
void	 timers_session_derived(struct wg_timers *, uint64_t now);
/* May an initiation go out now? Rate limit of one per REKEY_TIMEOUT. */
bool	 timers_may_initiate(const struct wg_timers *, uint64_t now);
int	 timers_expired(struct wg_timers *, uint64_t now);
/*
 * The earliest deadline timers_expired() has to act on (0: none): the
 * control thread need not tick before it. Every timer a packet thread
 * arms is a second or more ahead.
 */
uint64_t timers_next(const struct wg_timers *);
/* From now, until next (0: none), but at most max: how long to sleep. */
uint64_t timers_sleep(uint64_t now, uint64_t next, uint64_t max);
/* The delay before the next retransmission after that many attempts. */
uint64_t timers_retry_delay(unsigned int attempts);

void	 timers_keepalive_again(struct wg_timers *, uint64_t);

#endif /* VPND_TIMERS_H */

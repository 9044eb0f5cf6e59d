/*
 * wgtime.h -- the clocks of the WireGuard core.
 *
 * wg_now() is monotonic nanoseconds, for every protocol deadline;
 * wg_realtime() is the wall clock, for TAI64N and last-handshake stats.
 * Built with -DVPND_TESTHOOKS, wg_time_scale speeds monotonic time up (an
 * end-to-end test can let REKEY_AFTER_TIME pass in a second) and
 * wg_time_offset adds a jump in nanoseconds; otherwise time is real and
 * the two variables do not exist.
 */
#ifndef VPND_WGTIME_H
#define VPND_WGTIME_H

#include <stdint.h>
#include <time.h>

#define WG_NSEC_PER_SEC		1000000000ULL
#define WG_NSEC_PER_MSEC	1000000ULL

uint64_t	 wg_now(void);
/* A span of wg_now() nanoseconds in real ones (scaled time: shorter). */
uint64_t	 wg_real_ns(uint64_t);
void		 wg_realtime(struct timespec *);

/*
 * now - then, or 0 when then is the later: several threads read the
 * clock, so a time another thread stored (a keypair's birth, a handshake
 * sent) can be newer than this thread's reading of now. An age must
 * never wrap to 2^64 (expired keys, a refilled rate limit).
 */
static inline uint64_t
wg_since(uint64_t then, uint64_t now)
{
	return now > then ? now - then : 0;
}

/*
 * Resume from suspend: CLOCK_BOOTTIME counts the time asleep,
 * CLOCK_MONOTONIC does not, so the gap between them grows by the length
 * of the sleep. wg_resumed() (from a periodic timer) is true once after
 * the gap grew by WG_SUSPEND_MIN or more since its last call;
 * wg_resume_check() is its arithmetic.
 */
#define WG_SUSPEND_MIN		(2 * WG_NSEC_PER_SEC)

struct wg_resume {
	uint64_t	 gap;		/* boot - mono at the last check */
	int		 primed;
};

int		 wg_resume_check(struct wg_resume *, uint64_t boot,
		    uint64_t mono);
int		 wg_resumed(struct wg_resume *);

#ifdef VPND_TESTHOOKS
extern double	 wg_time_scale;
extern uint64_t	 wg_time_offset;
#endif

#endif /* VPND_WGTIME_H */

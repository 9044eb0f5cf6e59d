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
void		 wg_realtime(struct timespec *);

#ifdef VPND_TESTHOOKS
extern double	 wg_time_scale;
extern uint64_t	 wg_time_offset;
#endif

#endif /* VPND_WGTIME_H */

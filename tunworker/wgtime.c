/*
 * wgtime.c -- monotonic and wall clocks, with test-only acceleration.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "wgtime.h"

#ifdef VPND_TESTHOOKS
double		 wg_time_scale = 1.0;
uint64_t	 wg_time_offset;
#endif

static uint64_t	 wg_mono_raw(void);

static uint64_t
wg_mono_raw(void)
{
	struct timespec	 ts;

	/* boot time: it goes on during suspend, so keys age as they should */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * WG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
wg_now(void)
{
#ifdef VPND_TESTHOOKS
	static _Atomic uint64_t	 base;
	uint64_t		 raw = wg_mono_raw(), zero = 0, b;

	/*
	 * Scale the time since first use, so scaled time stays monotonic.
	 * A first reading that lost the race to set base can be older than
	 * it: zero elapsed, not a wrapped difference.
	 */
	atomic_compare_exchange_strong(&base, &zero, raw);
	b = atomic_load(&base);
	if (raw < b)
		raw = b;
	return b + (uint64_t)((double)(raw - b) * wg_time_scale) +
	    wg_time_offset;
#else
	return wg_mono_raw();
#endif
}

uint64_t
wg_real_ns(uint64_t ns)
{
#ifdef VPND_TESTHOOKS
	return (uint64_t)((double)ns / wg_time_scale);
#else
	return ns;
#endif
}

void
wg_realtime(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
#ifdef VPND_TESTHOOKS
	ts->tv_sec += wg_time_offset / WG_NSEC_PER_SEC;
#endif
}

int
wg_resume_check(struct wg_resume *r, uint64_t boot, uint64_t mono)
{
	uint64_t	 gap = boot > mono ? boot - mono : 0;
	int		 slept;

	slept = r->primed && gap > r->gap && gap - r->gap >= WG_SUSPEND_MIN;
	r->gap = gap;
	r->primed = 1;
	return slept;
}

int
wg_resumed(struct wg_resume *r)
{
	struct timespec	 b, m;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return wg_resume_check(r,
	    (uint64_t)b.tv_sec * WG_NSEC_PER_SEC + (uint64_t)b.tv_nsec,
	    (uint64_t)m.tv_sec * WG_NSEC_PER_SEC + (uint64_t)m.tv_nsec);
}

/*
 * proc.h -- what every child does the same way: its first steps (log,
 * title, signals, event loop, the channel to the parent on fd 3) and
 * sending its log lines to the parent.
 */
#ifndef VPND_PROC_H
#define VPND_PROC_H

#include <event.h>

#include "imsgev.h"

/*
 * Log set-up, process title, signals ignored (the parent decides), the
 * event base, and iev as the channel to the parent; from then on log
 * lines go to the parent, and fatal() flushes them first. Log lines from
 * threads other than the caller's are dropped: only the event loop's
 * thread may touch the channel.
 */
struct event_base *proc_child_init(const char *name, int verbose,
	    struct imsgev *iev, imsgev_fn *, imsgev_close_fn *);

/* The syscalls every child needs, plus extra; for sandbox_seccomp(). */
void	 proc_seccomp(const char *const *extra, size_t nextra);

/* _vpnd, no capabilities, chroot <statedir>/empty, nnp, seccomp. */
void	 proc_jail(const char *statedir, const char *const *extra,
	    size_t nextra);

#ifdef VPND_TESTHOOKS
void	 proc_testhook(int hook, int proc);
#endif

#endif /* VPND_PROC_H */

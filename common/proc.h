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

/*
 * The first message on the parent channel, read synchronously: it must be
 * IMSG_ENV of exactly sizeof(struct vpnd_env); its strings come back
 * NUL-terminated and the log verbosity is set from it. Anything else is
 * fatal. Messages that arrived with it wait for the event loop, which is
 * entered only after confinement, so nothing is served unconfined.
 */
struct vpnd_env;
void	 proc_recv_env(struct imsgev *parent, struct vpnd_env *);

/*
 * IMSG_SOCKET_IPC: the channel to sibling proc (the message's id must
 * say so) on iev, which must not be open yet. Fatal otherwise.
 */
void	 proc_sibling(struct imsg *, int proc, struct imsgev *iev,
	    imsgev_fn *, imsgev_close_fn *);

/* Tell the parent this child is confined and wired up. */
void	 proc_ready(void);

/* The syscalls every child needs, plus extra; for sandbox_seccomp(). */
void	 proc_seccomp(const char *const *extra, size_t nextra);

/* _vpnd, no capabilities, chroot <statedir>/empty, nnp, seccomp. */
void	 proc_jail(const char *statedir, const char *const *extra,
	    size_t nextra);

#ifdef VPND_TESTHOOKS
void	 proc_testhook(int hook, int proc);
void	 proc_testhook_hold(void);
#endif

#endif /* VPND_PROC_H */

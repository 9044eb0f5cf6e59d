/*
 * proc.c -- the steps every child takes alike.
 */
#include <sys/types.h>

#include <sys/syscall.h>

#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "vpnd.h"

static struct imsgev	*proc_parent;
static pthread_t	 proc_thread;

static void
proc_log_sink(int pri, const char *proc, const char *line)
{
	struct log_msg	lm;

	if (!pthread_equal(pthread_self(), proc_thread))
		return;
	memset(&lm, 0, sizeof(lm));
	lm.pri = pri;
	strlcpy(lm.proc, proc, sizeof(lm.proc));
	strlcpy(lm.line, line, sizeof(lm.line));
	if (imsgev_compose(proc_parent, IMSG_LOG, 0, -1, &lm, sizeof(lm))
	    == -1)
		fprintf(stderr, "%s: %s\n", proc, line);
}

static void
proc_flush_parent(void)
{
	log_set_sink(NULL);
	/* another thread must not touch the event loop's channel */
	if (pthread_equal(pthread_self(), proc_thread))
		imsgev_flush(proc_parent);
}

struct event_base *
proc_child_init(const char *name, int verbose, struct imsgev *iev,
    imsgev_fn *dispatch, imsgev_close_fn *closed)
{
	struct event_base	*base;

	log_init(0, LOG_DAEMON);
	log_procinit(name);
	log_setverbose(verbose);
	sandbox_proctitle(name);
	tzset();		/* before any chroot hides the zone files */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	proc_thread = pthread_self();
	proc_parent = iev;

	base = event_init();
	if (imsgev_init(iev, VPND_PARENT_FD, PROC_PARENT, true, dispatch,
	    closed, NULL) == -1)
		fatal("parent channel");
	log_set_sink(proc_log_sink);
	log_set_fatal_hook(proc_flush_parent);
	return base;
}

void
proc_seccomp(const char *const *extra, size_t nextra)
{
	const char	*calls[256];
	size_t		 n = 0, i;

	for (i = 0; i < sandbox_nbase_syscalls && n < nitems(calls); i++)
		calls[n++] = sandbox_base_syscalls[i];
	for (i = 0; i < nextra && n < nitems(calls); i++)
		calls[n++] = extra[i];
	if (n < sandbox_nbase_syscalls + nextra)
		fatalx("%s: too many syscalls", __func__);
	sandbox_seccomp(calls, n);
}

/*
 * The unprivileged children's confinement: _vpnd (or nobody) with no
 * groups and no capabilities, chrooted to <statedir>/empty, no new
 * privileges, and the syscalls listed.
 */
void
proc_jail(const char *statedir, const char *const *extra, size_t nextra)
{
	char	dir[512];
	uid_t	uid;
	gid_t	gid;

	if (sandbox_lookup_user(VPND_USER, &uid, &gid) == -1)
		fatalx("no unprivileged user to run as");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/empty", statedir) >=
	    sizeof(dir))
		fatalx("%s: state directory path too long", __func__);
	sandbox_chroot(dir);
	sandbox_drop(uid, gid, true);
	sandbox_no_new_privs();
	proc_seccomp(extra, nextra);
}

#ifdef VPND_TESTHOOKS
/* Test builds: the misbehaviour a sandbox test asks of this child. */
void
proc_testhook(int hook, int proc)
{
	if (hook == TESTHOOK_FORBIDDEN_SYSCALL + 100 * proc) {
		log_info("testhook: forbidden syscall");
		imsgev_flush(proc_parent);
		(void)syscall(SYS_ptrace, 0, 0, 0, 0);
	}
}
#endif

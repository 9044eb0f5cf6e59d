/*
 * proc.c -- the steps every child takes alike.
 */
#include <sys/types.h>
#include <sys/prctl.h>

#include <sys/syscall.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "vpnd.h"

static void	 proc_jail_unpriv(const char *, const char *const *, size_t);
static void	 proc_die_with_parent(void);
static void	 proc_parent_died(int);

static struct imsgev	*proc_parent;
static pthread_t	 proc_thread;
static const char	*proc_name;
static pid_t		 proc_ppid;	/* the parent that started us */
#ifdef VPND_TESTHOOKS
static int		 proc_hook;	/* env.testhook */
static int		 proc_held_fd = -1;	/* TESTHOOK_HOLD_CHANNEL */
static int		 proc_hooked(int);
#endif

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
	proc_ppid = getppid();
	proc_parent = iev;
	proc_name = name;

	base = event_init();
	if (imsgev_init(iev, VPND_PARENT_FD, PROC_PARENT, true, dispatch,
	    closed, NULL) == -1)
		fatal("parent channel");
	log_set_sink(proc_log_sink);
	log_set_fatal_hook(proc_flush_parent);
	return base;
}

void
proc_recv_env(struct imsgev *iev, struct vpnd_env *env)
{
	struct imsg	 imsg;
	struct pollfd	 pfd;
	ssize_t		 n;

	for (;;) {
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: bad message from the parent", __func__);
		if (n > 0)
			break;
		pfd.fd = iev->ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("%s: poll", __func__);
		}
		if ((n = imsgbuf_read(&iev->ibuf)) == -1)
			fatal("%s: read from the parent", __func__);
		if (n == 0)
			exit(0);	/* the parent is gone: nothing to do */
	}
	if (imsg_get_type(&imsg) != IMSG_ENV ||
	    imsg_get_data(&imsg, env, sizeof(*env)) == -1)
		fatalx("%s: the first message is not IMSG_ENV", __func__);
	imsg_free(&imsg);
	env->ifname[sizeof(env->ifname) - 1] = '\0';
	env->sockpath[sizeof(env->sockpath) - 1] = '\0';
	env->uapidir[sizeof(env->uapidir) - 1] = '\0';
	env->logdir[sizeof(env->logdir) - 1] = '\0';
	env->statedir[sizeof(env->statedir) - 1] = '\0';
	env->resolvconf[sizeof(env->resolvconf) - 1] = '\0';
	env->resolvconf_prog[sizeof(env->resolvconf_prog) - 1] = '\0';
	log_setverbose(env->verbose);
#ifdef VPND_TESTHOOKS
	proc_hook = env->testhook;
#endif
	/* What came along with it is served by the event loop's first turn. */
	event_active(&iev->ev, EV_TIMEOUT, 1);
}

void
proc_sibling(struct imsg *imsg, int proc, struct imsgev *iev,
    imsgev_fn *dispatch, imsgev_close_fn *closed)
{
	int	 fd;

	if (imsg_get_id(imsg) != (uint32_t)proc || iev->active ||
	    (fd = imsg_get_fd(imsg)) == -1)
		fatalx("bad IMSG_SOCKET_IPC");
	if (imsgev_init(iev, fd, proc, false, dispatch, closed, NULL) == -1)
		fatal("%s channel", vpnd_proc_names[proc]);
}

void
proc_ready(void)
{
	imsgev_compose(proc_parent, IMSG_READY, 0, -1, NULL, 0);
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
	sandbox_seccomp(calls, n, NULL, 0);
}

/*
 * The unprivileged children's confinement: _vpnd with no
 * groups and no capabilities, chrooted to <statedir>/empty, no new
 * privileges, and the syscalls listed.
 */
void
proc_jail(const char *statedir, const char *const *extra, size_t nextra)
{
	char	dir[512];
	uid_t	uid;
	gid_t	gid;

	if (geteuid() != 0) {
		proc_jail_unpriv(statedir, extra, nextra);
		return;
	}
	if (sandbox_lookup_user(VPND_USER, &uid, &gid) == -1)
		fatalx("no dedicated unprivileged user to run as");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/empty", statedir) >=
	    sizeof(dir))
		fatalx("%s: state directory path too long", __func__);
	sandbox_chroot(dir);
	sandbox_drop(uid, gid, true);
	proc_die_with_parent();
	sandbox_no_new_privs();
	proc_seccomp(extra, nextra);
}

/*
 * Die with the parent. It keeps only CAP_NET_ADMIN, so it cannot kill a
 * child that runs as another user: a child stuck past the parent's end
 * would outlive it, holding its sockets and TUN. The kernel sends the
 * parent-death signal with the dying parent's credentials, so SIGKILL
 * would be refused too; SIGCONT is the one signal a process may send to
 * any other of its session. The handler exits only once the parent is
 * gone (a shell's job control sends SIGCONT as well). Set after the last
 * change of credentials, which clears it; a parent already gone by then
 * is seen in getppid().
 */
static void
proc_die_with_parent(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = proc_parent_died;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGCONT, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
	if (prctl(PR_SET_PDEATHSIG, SIGCONT, 0, 0, 0) == -1)
		fatal("%s: PR_SET_PDEATHSIG", __func__);
	if (getppid() != proc_ppid)
		fatalx("%s: the parent is gone", __func__);
}

/* SIGCONT: after the parent's end, whatever this process was doing. */
static void
proc_parent_died(int sig)
{
	(void)sig;
	if (getppid() != proc_ppid)
		_exit(3);
}

/* Whether /proc/self/status, open on fd, names a tracer (or cannot say). */
static int
proc_traced(int fd)
{
	char	 buf[4096], *p;
	ssize_t	 n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nTracerPid:")) == NULL)
		return 1;
	p += strlen("\nTracerPid:");
	p += strspn(p, " \t");
	return !(p[0] == '0' && (p[1] == '\n' || p[1] == '\0'));
}

/*
 * The same confinement without root, from what an unprivileged process
 * may use: the invoking user's identity (there is no other to switch
 * to), chrooted to <statedir>/empty inside a user namespace of its own
 * where the kernel allows one, no capability (the parent's file
 * capability never reached us: it was dropped and no_new_privs set
 * before the exec),
 * Landlock with no file access at all, no new privileges, the syscalls
 * listed. What it got goes to the log.
 */
static void
proc_jail_unpriv(const char *statedir, const char *const *extra,
    size_t nextra)
{
	char	 dir[512], ns[600];
	int	 userns = -1, uerr = 0, abi, sfd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/empty", statedir) >=
	    sizeof(dir))
		fatalx("%s: state directory path too long", __func__);
	/* The parent's file capability must not have come along. */
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		fatalx("%s: started with capabilities: the parent's file "
		    "capability came along", __func__);
#ifdef VPND_TESTHOOKS
	if (proc_hooked(TESTHOOK_NO_USERNS)) {
		log_info("testhook: no user namespace");
		userns = 0;
		uerr = EPERM;
	}
#endif
	/* read after the chroot, where /proc is out of reach */
	if ((sfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("%s: /proc/self/status", __func__);
	if (userns == -1) {
		userns = sandbox_userns_chroot(dir) == 0;
		uerr = errno;
	}
	/*
	 * Our own uid, so the invoking user could ptrace us and take our
	 * channel to the parent: nobody may attach from now on (after the
	 * uid_map was written: it needs a dumpable process), and nobody
	 * attached before.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	if (proc_traced(sfd))
		fatalx("%s: traced by another process: refusing to run",
		    __func__);
	close(sfd);
	if (userns)
		(void)snprintf(ns, sizeof(ns), "user namespace, chroot %s",
		    dir);
	else
		(void)snprintf(ns, sizeof(ns), "no chroot (user namespace "
		    "refused: %s)", strerror(uerr));
	sandbox_drop_unpriv(userns);
	proc_die_with_parent();
	sandbox_no_new_privs();
	abi = sandbox_landlock_none();
	proc_seccomp(extra, nextra);
	if (abi > 0)
		log_info("confined without root: uid %u, %s, no capabilities, "
		    "Landlock ABI %d with no file access, no_new_privs, "
		    "seccomp", (unsigned int)getuid(), ns, abi);
	else
		log_info("confined without root: uid %u, %s, no capabilities, "
		    "no Landlock, no_new_privs, seccomp",
		    (unsigned int)getuid(), ns);
}

#ifdef VPND_TESTHOOKS
/* Test builds: whether the environment asks this child for hook. */
static int
proc_hooked(int hook)
{
	int	i;

	for (i = 0; i < PROC_MAX; i++)
		if (proc_name != NULL &&
		    strcmp(proc_name, vpnd_proc_names[i]) == 0)
			return proc_hook == hook + 100 * i;
	return 0;
}

/* Test builds: the misbehaviour a sandbox test asks of this child. */
void
proc_testhook(int hook, int proc)
{
	if (hook == TESTHOOK_FORBIDDEN_SYSCALL + 100 * proc) {
		log_info("testhook: forbidden syscall");
		imsgev_flush(proc_parent);
		(void)syscall(SYS_ptrace, 0, 0, 0, 0);
	}
	/* a child that keeps its channel open after its end */
	if (hook == TESTHOOK_HOLD_CHANNEL + 100 * proc) {
		log_info("testhook: holding the channel");
		proc_held_fd = fcntl(proc_parent->ibuf.fd, F_DUPFD_CLOEXEC, 0);
	}
	/* what a compromised child could send to forge lines or a tty */
	if (hook == TESTHOOK_HOSTILE_LOG + 100 * proc)
		log_info("testhook: forged\nparent: fake line|parent: "
		    "fake too \033[31mred\\");
}

/* Test builds: the channel has ended; a holding child never exits. */
void
proc_testhook_hold(void)
{
	if (proc_held_fd == -1)
		return;
	log_info("testhook: holding the channel past its end");
	for (;;)
		sleep(1);
}
#endif

/*
 * dnsmgr.c -- points the system resolver at the tunnel's DNS and restores
 * it exactly afterwards, also after a crash (from its record in the state
 * directory). Keeps uid 0 (resolv.conf and systemd-resolved need root's
 * identity) but no capability at all, under Landlock and seccomp.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <sys/syscall.h>
#include <event.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "dnsmgr.h"
#include "imsgev.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "vpnd.h"

#define DNS_WATCH_SEC	2	/* how often to look at resolv.conf */

static void	 dnsmgr_dispatch_parent(struct imsgev *, struct imsg *);
static void	 dnsmgr_dispatch_netmgr(struct imsgev *, struct imsg *);
static void	 dnsmgr_closed(struct imsgev *);
static void	 dnsmgr_sandbox(void);
static void	 recover_log(const char *);
static void	 reply(int, const char *);
static void	 dnsmgr_watch(int, short, void *);

static struct imsgev	 iev_parent, iev_netmgr;
static struct event	 ev_watch;
static int		 replaced_logged;
static struct vpnd_env	 env;
static struct dns_paths	 paths;
static int		 have_env, applied;
static char		 resolvdir[PATH_MAX], progdir[PATH_MAX];

void
dnsmgr_main(int verbose)
{
	(void)proc_child_init("dnsmgr", verbose, &iev_parent,
	    dnsmgr_dispatch_parent, dnsmgr_closed);
	evtimer_set(&ev_watch, dnsmgr_watch, NULL);
	event_dispatch();
	exit(0);
}



static void
recover_log(const char *msg)
{
	log_info("%s", msg);
}

/*
 * While our resolv.conf is in place, look every few seconds whether
 * another program (NetworkManager, a DHCP client) replaced it, and say so
 * once: the restore will leave their file alone.
 */
static void
dnsmgr_watch(int fd, short ev, void *arg)
{
	struct timeval	tv = { DNS_WATCH_SEC, 0 };

	if (!applied)
		return;
	if (dns_check(&paths) == 0 && !replaced_logged) {
		log_warnx("%s was replaced by another program; vpnd's DNS "
		    "settings are no longer in effect, and the other "
		    "program's file will be left in place", paths.resolv_conf);
		replaced_logged = 1;
	}
	evtimer_add(&ev_watch, &tv);
}

/*
 * pledge("stdio rpath wpath cpath fattr proc exec unix") and
 * unveil(resolv.conf's directory, the state directory, rwc) in Linux
 * terms: root's identity without any capability, Landlock limiting writes
 * to those two places, and a seccomp list for file I/O, D-Bus and running
 * resolvconf(8).
 */
static void
dnsmgr_sandbox(void)
{
	static const char *const extra[] = {
		"open", "openat", "creat", "unlink", "unlinkat", "rename",
		"renameat", "renameat2", "fsync", "fdatasync", "fchmod",
		"fchmodat", "fchown", "fchownat", "chmod", "chown", "lchown",
		"mkdir", "mkdirat", "readlink", "readlinkat", "symlink",
		"symlinkat", "getdents64", "ftruncate", "statfs", "fstatfs",
		"access", "faccessat", "faccessat2", "utimensat", "chdir",
		"fchdir", "getcwd", "umask", "stat", "lstat", "flock",
		"socket", "connect", "getsockopt", "setsockopt",
		"getsockname", "getpeername", "shutdown", "sendmmsg",
		"recvmmsg", "clone", "clone3", "fork", "vfork", "execve",
		"execveat", "wait4", "waitid", "set_robust_list", "rseq",
		"set_tid_address", "arch_prctl", "ioctl", "getpgrp",
		"setpgid", "getpgid", "getsid", "setsid", "sysinfo",
		"sched_getaffinity", "capget", "fadvise64", "getresuid",
		"getresgid", "getgroups", "alarm", "pause", "rt_sigsuspend",
		"rt_sigtimedwait", "memfd_create", "timerfd_create",
		"timerfd_settime", "close_range", "getrusage",
	};
	char		 tmp[PATH_MAX], *d;

	/*
	 * Without root the parent allows only the "none" backend: nothing
	 * to write, so the same jail as the other children.
	 */
	if (geteuid() != 0) {
		proc_jail(env.statedir, extra, nitems(extra));
		return;
	}
	strlcpy(tmp, paths.resolv_conf, sizeof(tmp));
	d = dirname(tmp);
	strlcpy(resolvdir, d, sizeof(resolvdir));
	strlcpy(tmp, paths.resolvconf_prog, sizeof(tmp));
	d = dirname(tmp);
	strlcpy(progdir, d, sizeof(progdir));
	{
		const struct landlock_path	 lp[] = {
			{ resolvdir, true },
			{ progdir, false },
			{ env.statedir, true },
			{ "/run/resolvconf", true },
			{ "/dev/null", true },
			{ "/usr", false },
			{ "/bin", false },
			{ "/sbin", false },
			{ "/lib", false },
			{ "/lib64", false },
			{ "/etc/resolvconf", false },
			{ "/etc/ld.so.cache", false },
			{ "/run/systemd/resolve", false },
			{ "/proc", false },
		};
		(void)sandbox_landlock(lp, nitems(lp));
	}
	sandbox_drop(0, 0, false);
	sandbox_no_new_privs();
	proc_seccomp(extra, nitems(extra));
}

static void
dnsmgr_closed(struct imsgev *iev)
{
	char	err[256];

	/* Whatever happened, the system gets its resolver back. */
	err[0] = '\0';
	if (applied && dns_restore(&paths, err, sizeof(err)) == -1)
		log_warnx("DNS restore: %s", err);
	else if (applied && err[0] != '\0')
		log_warnx("DNS: %s", err);
	if (iev->proc == PROC_PARENT)
		exit(0);
	fatalx("channel to %s closed", vpnd_proc_names[iev->proc]);
}

static void
dnsmgr_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	char		 err[256];
	int		 fd, hook;

	switch (imsg_get_type(imsg)) {
	case IMSG_ENV:
		if (have_env || imsg_get_data(imsg, &env, sizeof(env)) == -1)
			fatalx("bad IMSG_ENV");
		env.statedir[sizeof(env.statedir) - 1] = '\0';
		env.resolvconf[sizeof(env.resolvconf) - 1] = '\0';
		have_env = 1;
		log_setverbose(env.verbose);
		dns_paths_default(&paths);
		env.resolvconf_prog[sizeof(env.resolvconf_prog) - 1] = '\0';
		paths.resolv_conf = env.resolvconf;
		paths.resolvconf_prog = env.resolvconf_prog;
		paths.statedir = env.statedir;
		dnsmgr_sandbox();
		/* A crashed instance's DNS comes back before anything else. */
		{
			char		 rec[PATH_MAX];
			struct stat	 st;
			int		 had;

			snprintf(rec, sizeof(rec), "%s/%s", env.statedir,
			    DNS_BACKUP_NAME);
			had = lstat(rec, &st) == 0;
			if (dns_recover(&paths, recover_log, err,
			    sizeof(err)) == -1)
				log_warnx("DNS recovery: %s", err);
			else if (had)
				log_info("DNS restored from %s, left by an "
				    "earlier instance", rec);
		}
		break;
	case IMSG_SOCKET_IPC:
		if (!have_env || iev_netmgr.active ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		if (imsgev_init(&iev_netmgr, fd, PROC_NETMGR, false,
		    dnsmgr_dispatch_netmgr, dnsmgr_closed, NULL) == -1)
			fatal("netmgr channel");
		imsgev_compose(&iev_parent, IMSG_READY, 0, -1, NULL, 0);
		break;
	case IMSG_START:
#ifdef VPND_TESTHOOKS
		if (env.testhook == TESTHOOK_WRITE_OUTSIDE + 100 * PROC_DNSMGR) {
			fd = open("/tmp/vpnd-landlock-probe", O_WRONLY |
			    O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			log_info("testhook: write outside: %s", fd == -1 ?
			    strerror(errno) : "allowed");
			if (fd != -1) {
				close(fd);
				unlink("/tmp/vpnd-landlock-probe");
			}
		}
		proc_testhook(env.testhook, PROC_DNSMGR);
#endif
		(void)hook;
		break;
	default:
		fatalx("unexpected message %u from the parent",
		    imsg_get_type(imsg));
	}
}

static void
reply(int ok, const char *msg)
{
	struct imsg_result	r;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	if (msg != NULL)
		strlcpy(r.msg, msg, sizeof(r.msg));
	imsgev_compose(&iev_netmgr, IMSG_DNS_RESULT, 0, -1, &r, sizeof(r));
}

static void
dnsmgr_dispatch_netmgr(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_dns		 d;
	struct dns_config	 dc;
	enum dns_backend	 used;
	char			 err[256];
	size_t			 i;

	switch (imsg_get_type(imsg)) {
	case IMSG_DNS_SET:
		if (imsg_get_data(imsg, &d, sizeof(d)) == -1 ||
		    d.nservers > CONF_MAX_DNS || d.ndomains > CONF_MAX_SEARCH)
			fatalx("bad IMSG_DNS_SET");
		memset(&dc, 0, sizeof(dc));
		memcpy(dc.ifname, d.ifname, sizeof(dc.ifname));
		dc.ifname[sizeof(dc.ifname) - 1] = '\0';
		dc.ifindex = d.ifindex;
		for (i = 0; i < d.nservers; i++)
			dc.servers[i] = d.servers[i];
		dc.nservers = d.nservers;
		for (i = 0; i < d.ndomains; i++) {
			d.domains[i][CONF_DOMAIN_LEN - 1] = '\0';
			strlcpy(dc.domains[i], d.domains[i], CONF_DOMAIN_LEN);
		}
		dc.ndomains = d.ndomains;
		if (applied && dns_restore(&paths, err, sizeof(err)) == -1)
			log_warnx("DNS restore before re-apply: %s", err);
		applied = 0;
		if (dns_apply(&paths, env.dns_backend, &dc, &used, err,
		    sizeof(err)) == -1) {
			log_warnx("DNS: %s", err);
			reply(0, err);
			break;
		}
		applied = used != DNS_NONE;
		replaced_logged = 0;
		if (used == DNS_FILE) {
			struct timeval	tv = { DNS_WATCH_SEC, 0 };

			evtimer_add(&ev_watch, &tv);
		}
		log_info("DNS for %s set through %s (%zu servers, %zu "
		    "domains)", dc.ifname, dns_backend_name(used),
		    dc.nservers, dc.ndomains);
		reply(1, NULL);
		break;
	case IMSG_DNS_RESTORE:
		if (imsg_get_len(imsg) != 0)
			fatalx("bad IMSG_DNS_RESTORE");
		err[0] = '\0';
		if (dns_restore(&paths, err, sizeof(err)) == -1) {
			log_warnx("DNS restore: %s", err);
			applied = 0;
			reply(0, err);
			break;
		}
		if (err[0] != '\0')
			log_warnx("DNS: %s", err);	/* replaced by another */
		else if (applied)
			log_info("DNS restored");
		applied = 0;
		reply(1, NULL);
		break;
	default:
		fatalx("unexpected message %u from netmgr",
		    imsg_get_type(imsg));
	}
}

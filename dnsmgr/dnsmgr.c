/*
 * dnsmgr.c -- points the system resolver at the tunnel's DNS and restores
 * it exactly afterwards, also after a crash (from its record in its state
 * directory).
 *
 * It runs as its own user (_vpnddns), chrooted to its state directory
 * <statedir>/dns, with no capability, under Landlock and seccomp, and
 * holds only descriptors: the parent opens resolv.conf for it at each use
 * (the one file it manages, named by the parent's own options) and runs
 * resolvconf(8) for it; systemd-resolved is reached over a system bus
 * connection made as _vpnddns before the sandbox closes, and authorises
 * that user through vpnd's polkit rule.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "dns.h"
#include "dnsmgr.h"
#include "imsgev.h"
#include "log.h"
#include "sdl.h"
#include "proc.h"
#include "sandbox.h"
#include "vpnd.h"

#define DNS_WATCH_SEC	2	/* how often to look at resolv.conf */
/* The parent answers at once, or after resolvconf's own deadline. */
#define DNSMGR_RPC_MS	(RESOLVCONF_TIMEOUT_MS + 5000)

static void	 dnsmgr_paths(void);
static void	 dnsmgr_sandbox(void);
static void	 dnsmgr_recover(void);
static int	 dnsmgr_wait(uint32_t, struct imsg *);
static int	 dnsmgr_open_resolv(const struct dns_paths *, int,
		    struct dns_resolv *);
static int	 dnsmgr_resolvconf(const struct dns_paths *, int,
		    const struct dns_config *, char *, size_t);
static void	 dnsmgr_bus_connect(const struct passwd *);
static void	 dnsmgr_closed(struct imsgev *);
static void	 dnsmgr_recover_log(const char *);
static void	 dnsmgr_reply(int, const char *);
static void	 dnsmgr_watch(int, short, void *);
static int	 dnsmgr_link_check(const struct imsg_dns *, char *, size_t);
#ifdef VPND_TESTHOOKS
static void	 dnsmgr_flush(void);
static int	 dnsmgr_probe_fd(void);
#endif

static struct imsgev	 iev_parent, iev_netmgr;
static struct event	 ev_watch;
static int		 replaced_logged;
static struct vpnd_env	 env;
static struct dns_paths	 paths;
static int		 applied;
static char		 marker_dir[PATH_MAX];

/*
 * A child's life, top to bottom: the environment from the parent,
 * confinement, then the crash recovery, and only then the event loop.
 */
void
dnsmgr_main(int verbose)
{
	(void)proc_child_init("dnsmgr", verbose, &iev_parent,
	    dnsmgr_dispatch_parent, dnsmgr_closed);
	proc_recv_env(&iev_parent, &env);
	dnsmgr_state_init(&env);
	dnsmgr_sandbox();
	dnsmgr_recover();
	evtimer_set(&ev_watch, dnsmgr_watch, NULL);
	event_dispatch();
	exit(0);
}

/* What the receivers need before the first message (the fuzz harness). */
void
dnsmgr_state_init(const struct vpnd_env *e)
{
	if (e != &env)
		env = *e;
	dnsmgr_paths();
}

/* What the DNS code is given: descriptors from the parent, no paths. */
static void
dnsmgr_paths(void)
{
	if (env.dns_backend < DNS_AUTO || env.dns_backend > DNS_NONE)
		fatalx("bad DNS backend %d", env.dns_backend);
	dns_paths_default(&paths);
	paths.resolv_conf = env.resolvconf;	/* for messages only */
	paths.resolvconf_prog = env.resolvconf_prog;
	/* Inside the chroot the state directory is "/". */
	paths.statedir = "/";
	(void)snprintf(marker_dir, sizeof(marker_dir), "%s/%s", env.statedir,
	    VPND_DNS_SUBDIR);
	paths.marker_dir = marker_dir;
	/* connected before the sandbox, or not at all */
	paths.bus_only = 1;
	paths.open_resolv = dnsmgr_open_resolv;
	paths.resolvconf = dnsmgr_resolvconf;
}

/*
 * Waits for the parent's answer of type want, dispatching what else comes
 * (once the sandbox is up).  0 with the message (imsg_free it), -1 if the
 * channel closed or the parent did not answer in time.
 */
static int
dnsmgr_wait(uint32_t want, struct imsg *imsg)
{
	struct imsgbuf	*ibuf = &iev_parent.ibuf;
	struct pollfd	 pfd;
	int		 n;

	for (;;) {
		while ((n = imsgbuf_get(ibuf, imsg)) > 0) {
			if (imsg_get_type(imsg) == want)
				return 0;
			dnsmgr_dispatch_parent(&iev_parent, imsg);
			imsg_free(imsg);
		}
		if (n == -1 || !iev_parent.active)
			return -1;
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, DNSMGR_RPC_MS)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if ((n = imsgbuf_read(ibuf)) == 0)
			return -1;
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

static int
dnsmgr_open_resolv(const struct dns_paths *p, int op, struct dns_resolv *rv)
{
	struct imsg_dns_file	 f;
	struct imsg		 imsg;

	if (imsgev_compose(&iev_parent, IMSG_DNS_OPEN, 0, -1, &op,
	    sizeof(op)) == -1)
		goto gone;
	imsgev_flush(&iev_parent);
	if (dnsmgr_wait(IMSG_DNS_FILE, &imsg) == -1)
		goto gone;
	if (imsg_get_data(&imsg, &f, sizeof(f)) == -1)
		fatalx("bad IMSG_DNS_FILE");
	rv->fd = imsg_get_fd(&imsg);
	imsg_free(&imsg);
	f.target[sizeof(f.target) - 1] = '\0';
	(void)strlcpy(rv->target, f.target, sizeof(rv->target));
	rv->created = f.created != 0;
	if (op == RESOLV_REMOVE) {
		if (rv->fd != -1)
			fatalx("a descriptor with IMSG_DNS_FILE for a removal");
		rv->err = f.err;
		return f.err == 0 ? 0 : -1;
	}
	if (rv->fd == -1) {
		rv->err = f.err > 0 ? f.err : EIO;
		return -1;
	}
	return 0;
 gone:
	rv->err = EPIPE;
	return -1;
}

static int
dnsmgr_resolvconf(const struct dns_paths *p, int op,
    const struct dns_config *cfg, char *err, size_t errlen)
{
	struct imsg_dns_rc	 rc;
	struct imsg_result	 r;
	struct imsg		 imsg;
	size_t			 i;

	memset(&rc, 0, sizeof(rc));
	rc.op = op;
	if (cfg != NULL) {
		(void)strlcpy(rc.dns.ifname, cfg->ifname,
		    sizeof(rc.dns.ifname));
		rc.dns.ifindex = cfg->ifindex;
		for (i = 0; i < cfg->nservers && i < CONF_MAX_DNS; i++)
			rc.dns.servers[i] = cfg->servers[i];
		rc.dns.nservers = i;
		for (i = 0; i < cfg->ndomains && i < CONF_MAX_SEARCH; i++)
			(void)strlcpy(rc.dns.domains[i], cfg->domains[i],
			    sizeof(rc.dns.domains[i]));
		rc.dns.ndomains = i;
	}
	if (imsgev_compose(&iev_parent, IMSG_DNS_RESOLVCONF, 0, -1, &rc,
	    sizeof(rc)) == -1)
		goto gone;
	imsgev_flush(&iev_parent);
	if (dnsmgr_wait(IMSG_DNS_RC_RESULT, &imsg) == -1)
		goto gone;
	if (imsg_get_data(&imsg, &r, sizeof(r)) == -1)
		fatalx("bad IMSG_DNS_RC_RESULT");
	imsg_free(&imsg);
	r.msg[sizeof(r.msg) - 1] = '\0';
	if (!r.ok) {
		(void)snprintf(err, errlen, "%s", r.msg[0] != '\0' ? r.msg :
		    "resolvconf failed");
		return -1;
	}
	return 0;
 gone:
	(void)snprintf(err, errlen, "no answer from the parent");
	return -1;
}

/*
 * The system bus, as _vpnddns: the bus and polkit see that user (the
 * peer credentials of the socket are those of connect()), not root.
 * Only when systemd-resolved may be used; a failure only means that
 * backend will not work.
 */
static void
dnsmgr_bus_connect(const struct passwd *pw)
{
	struct dns_resolv	 rv;
	sd_bus			*bus = NULL;
	char			 err[256];
	int			 r, want;

	want = env.dns_backend == DNS_RESOLVED;
	if (env.dns_backend == DNS_AUTO) {
		(void)dns_resolv_open(&paths, RESOLV_OPEN, &rv);
		want = dns_resolved_detect(&rv);
		dns_resolv_close(&rv);
	}
	if (!want)
		return;
	/* libsystemd is mapped only here, for this backend */
	if (sdl_load(err, sizeof(err)) == -1) {
		log_warnx("no D-Bus library (%s); the resolved backend is "
		    "unavailable", err);
		return;
	}
	if (setgroups(0, NULL) == -1 || setegid(pw->pw_gid) == -1 ||
	    seteuid(pw->pw_uid) == -1)
		fatal("%s: drop to %s", __func__, VPND_DNS_USER);
	if ((r = sd_bus_open_system(&bus)) < 0)
		log_warnx("system bus: %s; the resolved backend is "
		    "unavailable", strerror(-r));
	else
		paths.bus = bus;
	if (seteuid(0) == -1 || setegid(0) == -1)
		fatal("%s: back to root", __func__);
}

/*
 * pledge("stdio") plus what its descriptors give, in Linux terms:
 * _vpnddns with no group and no capability, chrooted to its own state
 * directory, Landlock granting nothing but that directory (and scoping
 * signals and abstract sockets to itself), no new privileges, and a
 * seccomp list with no open of anything new outside it, no chmod, chown,
 * link, exec, socket, connect, kill, prlimit or namespaces.
 */
static void
dnsmgr_sandbox(void)
{
	static const char *const extra[] = {
		/* its record, in its state directory */
		"openat", "unlinkat", "renameat", "renameat2", "fsync",
		"fdatasync", "ftruncate",
		/* sd-bus on its connection (made before: no socket, connect) */
		"getsockopt", "setsockopt", "getsockname", "getpeername",
		"shutdown",
	};
	static const unsigned long ioctls[] = {
		SIOCGIFINDEX,	/* the link's index (dns_ifindex) */
		FIONREAD,	/* sd-bus */
	};
	const char	*calls[256];
	char		 dir[PATH_MAX];
	struct passwd	*pw;
	struct stat	 st;
	size_t		 n = 0, i;
	int		 dfd, s, noll = 0;

	/* What the sandbox forbids making later. */
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	dns_set_ifsock(s);
	/*
	 * Without root the parent allows only the "none" backend: nothing
	 * to write, so the same jail as the other children.
	 */
	if (geteuid() != 0) {
		proc_jail(env.statedir, extra, nitems(extra));
		return;
	}
	if ((pw = getpwnam(VPND_DNS_USER)) == NULL)
		fatalx("user %s not found; create it with scripts/mkuser.sh",
		    VPND_DNS_USER);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", env.statedir,
	    VPND_DNS_SUBDIR) >= sizeof(dir))
		fatalx("state directory path too long");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(dfd, &st) == -1)
		fatal("%s", dir);
	if (st.st_uid != pw->pw_uid || (st.st_mode & 077) != 0)
		fatalx("%s must be owned by %s, mode 0700", dir,
		    VPND_DNS_USER);

	dnsmgr_bus_connect(pw);

	if (fchdir(dfd) == -1 || chroot(".") == -1 || chdir("/") == -1)
		fatal("chroot %s", dir);
	close(dfd);
	sandbox_drop(pw->pw_uid, pw->pw_gid, true);
#ifdef VPND_TESTHOOKS
	noll = env.testhook == TESTHOOK_DNS_PROBES_NOLL + 100 * PROC_DNSMGR;
	if (noll)
		log_info("testhook: Landlock left off");
#endif
	if (!noll) {
		const struct landlock_path	 lp[] = { { "/", true } };

		(void)sandbox_landlock(lp, nitems(lp));
	}
	sandbox_no_new_privs();
	for (i = 0; i < sandbox_nbase_syscalls; i++)
		calls[n++] = sandbox_base_syscalls[i];
	for (i = 0; i < nitems(extra) && n < nitems(calls); i++)
		calls[n++] = extra[i];
	sandbox_seccomp(calls, n, ioctls, nitems(ioctls));
}

/* A crashed instance's DNS comes back before anything else. */
static void
dnsmgr_recover(void)
{
	char		 rec[PATH_MAX], err[256];
	struct stat	 st;
	int		 had;

	(void)snprintf(rec, sizeof(rec), "/%s", DNS_BACKUP_NAME);
	had = lstat(rec, &st) == 0;
	if (dns_recover(&paths, dnsmgr_recover_log, err, sizeof(err)) == -1)
		log_warnx("DNS recovery: %s", err);
	else if (had)
		log_info("DNS restored from %s/%s, left by an earlier "
		    "instance", marker_dir, DNS_BACKUP_NAME);
}

static void
dnsmgr_recover_log(const char *msg)
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

void
dnsmgr_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_IPC:
		proc_sibling(imsg, PROC_NETMGR, &iev_netmgr,
		    dnsmgr_dispatch_netmgr, dnsmgr_closed);
		proc_ready();
		break;
	case IMSG_START:
#ifdef VPND_TESTHOOKS
		if (env.testhook == TESTHOOK_DNS_PROBES + 100 * PROC_DNSMGR ||
		    env.testhook == TESTHOOK_DNS_PROBES_NOLL +
		    100 * PROC_DNSMGR) {
			dns_probes(dnsmgr_flush, dnsmgr_probe_fd);
		}
		proc_testhook(env.testhook, PROC_DNSMGR);
#endif
		break;
	default:
		fatalx("unexpected message %u from the parent",
		    imsg_get_type(imsg));
	}
}

#ifdef VPND_TESTHOOKS
static void
dnsmgr_flush(void)
{
	imsgev_flush(&iev_parent);
}

/* For the probes: resolv.conf as the parent hands it over. */
static int
dnsmgr_probe_fd(void)
{
	struct dns_resolv	 rv;

	if (dns_resolv_open(&paths, RESOLV_OPEN, &rv) == -1)
		return -1;
	return rv.fd;
}
#endif

static void
dnsmgr_reply(int ok, const char *msg)
{
	struct imsg_result	r;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	if (msg != NULL)
		strlcpy(r.msg, msg, sizeof(r.msg));
	imsgev_compose(&iev_netmgr, IMSG_DNS_RESULT, 0, -1, &r, sizeof(r));
}

/*
 * The link must be vpnd's own: the name the parent gave us, and the
 * index that name has now.  A compromised netmgr must not set the
 * resolvers of another link (which would outlive the tunnel).
 */
static int
dnsmgr_link_check(const struct imsg_dns *d, char *err, size_t errlen)
{
	unsigned int	 idx;

	if (strcmp(d->ifname, env.ifname) != 0) {
		(void)snprintf(err, errlen, "DNS for interface %s refused: "
		    "vpnd's is %s", d->ifname, env.ifname);
		return -1;
	}
	/* With "none" nothing is configured (and, without root, no ioctl). */
	if (env.dns_backend == DNS_NONE)
		return 0;
	if ((idx = dns_ifindex(env.ifname)) == 0 || (int)idx != d->ifindex) {
		(void)snprintf(err, errlen, "DNS for interface index %d "
		    "refused: %s has index %u", d->ifindex, env.ifname, idx);
		return -1;
	}
	return 0;
}

void
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
		d.ifname[sizeof(d.ifname) - 1] = '\0';
#ifdef VPND_TESTHOOKS
		if (env.testhook == TESTHOOK_DNS_HOSTILE_REPLY +
		    100 * PROC_DNSMGR) {
			/* a terminal title, a clear screen, a forged line */
			dnsmgr_reply(0, "x\033]2;owned\007\033[2J\r\n"
			    "parent: forged\177\302\233");
			break;
		}
#endif
		if (dnsmgr_link_check(&d, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			dnsmgr_reply(0, err);
			break;
		}
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
			dnsmgr_reply(0, err);
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
		dnsmgr_reply(1, NULL);
		break;
	case IMSG_DNS_RESTORE:
		if (imsg_get_len(imsg) != 0)
			fatalx("bad IMSG_DNS_RESTORE");
		err[0] = '\0';
		if (dns_restore(&paths, err, sizeof(err)) == -1) {
			log_warnx("DNS restore: %s", err);
			applied = 0;
			dnsmgr_reply(0, err);
			break;
		}
		if (err[0] != '\0')
			log_warnx("DNS: %s", err);	/* replaced by another */
		else if (applied)
			log_info("DNS restored");
		applied = 0;
		dnsmgr_reply(1, NULL);
		break;
	default:
		fatalx("unexpected message %u from netmgr",
		    imsg_get_type(imsg));
	}
}

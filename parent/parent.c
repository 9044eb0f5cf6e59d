/*
 * parent.c -- the privileged parent: spawns and supervises the children,
 * owns the log files, and performs validated network requests for netmgr.
 * After start-up it holds only CAP_NET_ADMIN.
 */
#include <sys/types.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cap-ng.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "confmsg.h"
#include "dnsbackend.h"
#include "imsgev.h"
#include "lockdown.h"
#include "log.h"
#include "logfile.h"
#include "parent.h"
#include "sandbox.h"
#include "sys.h"
#include "vpnd.h"

#ifndef VPND_LIBEXECDIR		/* the Makefile sets it from LIBEXECDIR */
#define VPND_LIBEXECDIR	"/usr/local/libexec/vpnd"
#endif

#define CHILD_WAIT_MS	1000	/* how long children get to exit */
#define DRAIN_MS	500	/* how long their last lines get to arrive */
#define SHUTDOWN_MS	1500	/* how long netmgr gets to take it down */
/*
 * -l: changes of the request in one second past which tunworker is not
 * following the tunnel's traffic (it withdraws a second after the last
 * packet: two changes a second at most, a deactivate and an activate
 * more). Each change wakes every idle CPU (wake_up_all_idle_cpus).
 */
#define CPULAT_CHANGES_MAX	16

extern char	**environ;

static void	 parent_sink(int, const char *, const char *);
static void	 parent_dispatch(struct imsgev *, struct imsg *);
static void	 parent_closed(struct imsgev *);
static void	 parent_nftwatch(int, short, void *);
static void	 parent_sig(int, short, void *);
static void	 parent_shutdown_timeout(int, short, void *);
static void	 parent_ready(void);
static void	 notify_ready(void);
static __dead void parent_exit(int);
static void	 parent_drain(int);
static int	 drain_until(const struct timespec *);
static void	 timespec_add_ms(struct timespec *, long);
static int	 parent_log(struct imsgev *, struct imsg *);
static void	 child_status(int, pid_t, int);
static void	 child_stdio(void);
static void	 child_exe_open(int, const char *);
static char	**child_environ(void);
static pid_t	 start_child(int, int);
static int	 control_open(const char *, gid_t *);
static void	 drop_privileges(void);
static int	 cpulat_open(int);
static int	 cpulat_hold(struct imsg *);
static bool	 unpriv_member(void);
static void	 unpriv_check(struct parent_opts *);
static int	 mkpath(const char *, mode_t);
static bool	 dir_is_empty(const char *);
static int	 pidfile_lock(const char *, pid_t *);
static int	 netns_lock(pid_t *, uid_t *);
static int	 pidfile_write_pid(int);
static void	 device_id(const char *, char *, size_t);
static void	 send_headless(void);
static void	 logs_send(struct imsgev *);

static struct parent_opts *popts;
static struct imsgev	 iev_child[PROC_MAX];
static pid_t		 child_pid[PROC_MAX];
static int		 nready;
static int		 child_ready[PROC_MAX];
static int		 shutting_down;
static struct event	 ev_sigterm, ev_sigint, ev_sigchld, ev_sighup;
static struct event	 ev_shutdown;
static struct event	 ev_nftwatch;
static int		 pidfd = -1;	/* locked while we run */
static int		 cpulat_fd = -1;	/* -l: /dev/cpu_dma_latency */
static int32_t		 cpulat_us;
static bool		 cpulat_held;
static bool		 cpulat_told;	/* tunworker knows -l is on */
static time_t		 cpulat_sec;	/* the second being counted */
static int		 cpulat_changes;	/* the changes in it */
static int		 nsfd = -1;	/* this namespace is ours while we run */
static char		 pidpath[PATH_MAX];
static char		 child_exe[PROC_MAX][PATH_MAX];
static int		 child_exe_fd[PROC_MAX];	/* for fexecve */
static char		 devid[65];
static struct tunnel_conf headless;
static int		 have_headless;


int
parent_main(struct parent_opts *opts)
{
	struct passwd	*pw;
	struct lockdown	 ldconf;
	char		 ebuf[512], path[PATH_MAX], *p;
	int		 sp[PROC_MAX][2], ipc[2], ctlfd, uapifd, nftwfd, i;
	gid_t		 ctlgid;
	pid_t		 other;
	uid_t		 ouid;
	ssize_t		 n;
	size_t		 wi;

	popts = opts;
	log_init(opts->env.foreground, LOG_DAEMON);
	log_procinit("parent");
	log_setverbose(opts->env.verbose);

	if (opts->noaction) {
		if (opts->conffile == NULL)
			errx(2, "-n needs -f file");
		conf_init(&headless);
		if (wgconf_load(opts->conffile, &headless, ebuf,
		    sizeof(ebuf)) == -1)
			errx(1, "%s", ebuf);
		for (wi = 0; wgconf_warning(&headless, opts->conffile, &wi,
		    ebuf, sizeof(ebuf));)
			warnx("%s", ebuf);
		if (opts->env.verbose > 0) {
			print_config(stdout, &headless);
			fflush(stdout);
		}
		conf_free(&headless);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	if (geteuid() != 0)
		unpriv_check(opts);
	else {
		/* The children run as a user of their own, never a shared one. */
		if ((pw = getpwnam(VPND_USER)) == NULL)
			errx(1, "user %s does not exist: create it with "
			    "scripts/mkuser.sh (or make install)", VPND_USER);
		if (pw->pw_uid == 0)
			errx(1, "user %s must not have uid 0", VPND_USER);
	}
	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 1)) == -1)
		err(1, "readlink /proc/self/exe");
	path[n] = '\0';
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		child_exe_open(i, path);

	/* Headless configuration: read it while we may, refuse it early. */
	if (opts->conffile != NULL) {
		conf_init(&headless);
		if (wgconf_load(opts->conffile, &headless, ebuf,
		    sizeof(ebuf)) == -1)
			errx(1, "%s", ebuf);
		for (wi = 0; wgconf_warning(&headless, opts->conffile, &wi,
		    ebuf, sizeof(ebuf));)
			log_warnx("%s", ebuf);
		have_headless = 1;
	}

	if (mkpath(opts->env.logdir, 0750) == -1)
		err(1, "log directory %s", opts->env.logdir);
	if (secure_dir(opts->env.logdir, ebuf, sizeof(ebuf)) == -1)
		errx(1, "log directory (-L): %s", ebuf);
	if (mkpath(opts->env.statedir, 0700) == -1)
		err(1, "state directory %s", opts->env.statedir);
	if (secure_dir(opts->env.statedir, ebuf, sizeof(ebuf)) == -1)
		errx(1, "state directory (-S): %s", ebuf);
	dnsops_init(opts->env.statedir);
	split_init(opts->env.statedir, opts->env.sockpath, opts->cgroot);
	/* The empty root of the chrooted children. */
	snprintf(path, sizeof(path), "%s/empty", opts->env.statedir);
	if (mkpath(path, 0755) == -1 || chmod(path, 0755) == -1)
		err(1, "%s", path);
	if (!dir_is_empty(path))
		errx(1, "%s must be empty", path);
	strlcpy(path, opts->env.sockpath, sizeof(path));
	if ((p = strrchr(path, '/')) == NULL || p[1] == '\0')
		errx(1, "control socket (-s) %s: not an absolute path to a "
		    "file", opts->env.sockpath);
	if (p == path)
		p[1] = '\0';		/* in "/" */
	else
		*p = '\0';
	if (mkpath(path, 0755) == -1)
		err(1, "socket directory %s", path);
	if (secure_dir(path, ebuf, sizeof(ebuf)) == -1)
		errx(1, "control socket directory (-s): %s", ebuf);
	strlcat(path, p == path ? VPND_PIDFILE : "/" VPND_PIDFILE,
	    sizeof(path));
	if ((pidfd = pidfile_lock(path, &other)) == -1) {
		if (errno == EEXIST)
			errx(1, "already running as pid %d", (int)other);
		warn("pidfile %s", path);
	} else
		strlcpy(pidpath, path, sizeof(pidpath));
	/*
	 * Any local user can bind the name: root gives way only to root, so
	 * that nobody keeps the system's vpnd from starting that way.
	 */
	if ((nsfd = netns_lock(&other, &ouid)) == -1) {
		if (errno != EADDRINUSE)
			err(1, "network namespace lock");
		if (other > 0 && (ouid == 0 || geteuid() != 0))
			errx(1, "another vpnd (pid %d, uid %u) runs in this "
			    "network namespace", (int)other,
			    (unsigned int)ouid);
		if (geteuid() != 0)
			errx(1, "another vpnd (or a process holding its lock) "
			    "runs in this network namespace");
		if (other > 0)
			warnx("the lock of this network namespace is held by "
			    "pid %d, uid %u, not root: going ahead", (int)other,
			    (unsigned int)ouid);
		else
			warnx("the lock of this network namespace is held by a "
			    "process that does not answer: going ahead");
	}
	if (!opts->env.foreground && daemon(0, 0) == -1)
		err(1, "daemon");
	/* listen() again: the credentials a second one reads are now ours */
	if (nsfd != -1 && listen(nsfd, 1) == -1)
		err(1, "network namespace lock");
	if (logfile_open(opts->env.logdir) == -1)
		warn("log file in %s", opts->env.logdir);
	log_set_sink(parent_sink);
	log_info("vpnd %s starting", VPND_VERSION);

	/*
	 * Lockdown first: recovery swaps what is there for its table. A
	 * Lockdown key in the configuration file sets it.
	 */
	if (have_headless && headless.lockdown != 0) {
		ldconf.on = headless.lockdown != LOCKDOWN_KEY_OFF;
		ldconf.allow_lan = headless.lockdown == LOCKDOWN_KEY_ON_LAN;
		lockdown_init(opts->env.statedir, &ldconf);
	} else
		lockdown_init(opts->env.statedir, NULL);

	/* Remove whatever an earlier instance left, before serving anyone. */
	/* The device id marks our TUN: recovery needs it. */
	device_id(opts->env.statedir, devid, sizeof(devid));
	netops_init(opts->env.statedir, opts->ifname, devid);
	if (netops_recover() == -1) {
		log_warnx("cleanup of an earlier instance failed; exiting");
		exit(1);
	}

#ifdef VPND_TESTHOOKS
	/* a test probes the moment before the socket exists, then SIGCONTs */
	if (opts->env.testhook == TESTHOOK_STOP_BEFORE_CONTROL)
		(void)raise(SIGSTOP);
#endif
	if ((ctlfd = control_open(opts->env.sockpath, &ctlgid)) == -1)
		fatal("control socket %s", opts->env.sockpath);
	uapifd = uapisock_open(opts->env.uapidir, opts->ifname);

	event_init();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&ev_sigterm, SIGTERM, parent_sig, NULL);
	signal_set(&ev_sigint, SIGINT, parent_sig, NULL);
	signal_set(&ev_sigchld, SIGCHLD, parent_sig, NULL);
	signal_set(&ev_sighup, SIGHUP, parent_sig, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sigchld, NULL);
	signal_add(&ev_sighup, NULL);
	/*
	 * Another program's ruleset load ("flush ruleset", a firewall
	 * reload) takes table inet vpnd with it: put it back at once.
	 */
	if ((nftwfd = nft_watch_open()) == -1)
		log_warn("watching nftables for the kill switch's removal");
	else {
		event_set(&ev_nftwatch, nftwfd, EV_READ | EV_PERSIST,
		    parent_nftwatch, NULL);
		event_add(&ev_nftwatch, NULL);
		netops_fw_check();
	}

	cpulat_fd = cpulat_open(opts->cpu_latency);
	for (i = PROC_NETMGR; i < PROC_MAX; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sp[i]) == -1)
			fatal("socketpair");
		child_pid[i] = start_child(i, sp[i][1]);
		close(sp[i][1]);
		if (imsgev_init(&iev_child[i], sp[i][0], i, true,
		    parent_dispatch, parent_closed, NULL) == -1)
			fatal("imsgev_init");
		/* A child that asks and never reads must not grow us. */
		imsgev_set_pause(&iev_child[i], IMSGEV_QPAUSE);
		imsgev_compose(&iev_child[i], IMSG_ENV, 0, -1, &popts->env,
		    sizeof(popts->env));
	}
	/* netmgr drives tunworker and dnsmgr over channels of their own. */
	for (i = PROC_TUNWORKER; i < PROC_MAX; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    ipc) == -1)
			fatal("socketpair");
		imsgev_compose(&iev_child[PROC_NETMGR], IMSG_SOCKET_IPC, i,
		    ipc[0], NULL, 0);
		imsgev_compose(&iev_child[i], IMSG_SOCKET_IPC, PROC_NETMGR,
		    ipc[1], NULL, 0);
	}
	imsgev_compose(&iev_child[PROC_NETMGR], IMSG_CONTROLFD, 0, ctlfd,
	    &ctlgid, sizeof(ctlgid));
	if (uapifd != -1)
		imsgev_compose(&iev_child[PROC_NETMGR], IMSG_UAPIFD, 0,
		    uapifd, NULL, 0);
	imsgev_compose(&iev_child[PROC_NETMGR], IMSG_DEVICE_ID, 0, -1, devid,
	    sizeof(devid));
	lockdown_announce(&iev_child[PROC_NETMGR]);
	netops_set_tunworker(&iev_child[PROC_TUNWORKER]);
	/* tunworker says when the tunnel carries packets (IMSG_CPU_HOLD) */
	if (cpulat_fd != -1) {
		imsgev_compose(&iev_child[PROC_TUNWORKER], IMSG_CPU_LATENCY,
		    0, -1, NULL, 0);
		cpulat_told = true;
	}
	/* the underlay moving makes tunworker handshake again at once */
	if (netwatch_init(opts->ifname, &iev_child[PROC_TUNWORKER]) == -1)
		log_warn("cannot watch the network for changes");
	netwatch_set_tunlink(netops_tun_link);

	drop_privileges();
	event_dispatch();
	parent_exit(1);
}

/*
 * -l: the request for a CPU wake-up latency, held while tunworker says the
 * tunnel carries packets. Opening the device asks for nothing yet; the
 * kernel drops the request when the descriptor closes, at our exit
 * whatever its cause. The device is root's: without root, or without the
 * device (a container), vpnd runs on, and says why it cannot keep the
 * promise. The descriptor stays here: tunworker can ask for the latency
 * the administrator gave, or for none, not for another.
 */
static int
cpulat_open(int us)
{
	const char	*path = VPND_CPULAT_PATH;
	int		 fd;

	if (us < 0)
		return -1;
#ifdef VPND_TESTHOOKS
	/* test builds: a file or FIFO that records the requests */
	if (getenv("VPND_CPULAT_PATH") != NULL)
		path = getenv("VPND_CPULAT_PATH");
#endif
	/* non-blocking: a FIFO (test builds) neither hangs us nor tunworker */
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		log_warn("-l %d: %s; the CPUs' idle states stay as they are",
		    us, path);
		return -1;
	}
	cpulat_us = us;
	log_info("-l: CPU wake-up latency of %d us asked for while the "
	    "tunnel carries packets", us);
	return fd;
}

/* tunworker: the tunnel carries packets (1), or has been quiet (0). */
static int
cpulat_hold(struct imsg *imsg)
{
	struct timespec	ts;
	uint8_t		hold;
	int32_t		v;

	/* only what tunworker was told it may say (a gone device: ignored) */
	if (imsg_get_data(imsg, &hold, sizeof(hold)) == -1 || hold > 1 ||
	    !cpulat_told)
		return -1;
	if (cpulat_fd == -1 || (hold != 0) == cpulat_held)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != cpulat_sec) {
		cpulat_sec = ts.tv_sec;
		cpulat_changes = 0;
	}
	if (++cpulat_changes > CPULAT_CHANGES_MAX) {
		/* closing withdraws it: a quiet tunnel is the safe side */
		log_warnx("CPU latency request: tunworker changes it more "
		    "than %d times a second; given up", CPULAT_CHANGES_MAX);
		close(cpulat_fd);
		cpulat_fd = -1;
		return 0;
	}
	v = hold ? cpulat_us : -1;	/* -1: PM_QOS_DEFAULT_VALUE, none */
	if (write(cpulat_fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
		log_warn("CPU latency request: given up");
		close(cpulat_fd);
		cpulat_fd = -1;
		return 0;
	}
	cpulat_held = hold != 0;
	log_debug("CPU latency: %s", hold ? "requested" : "withdrawn");
	return 0;
}

/* Whether the real user is in group vpnd (primary or supplementary). */
static bool
unpriv_member(void)
{
	struct group	*gr;
	gid_t		*groups;
	bool		 found = false;
	int		 i, n;

	if ((gr = getgrnam(VPND_GROUP)) == NULL)
		return false;
	if (getgid() == gr->gr_gid)
		return true;
	if ((n = getgroups(0, NULL)) <= 0 ||
	    (groups = calloc(n, sizeof(*groups))) == NULL)
		return false;
	if ((n = getgroups(n, groups)) != -1)
		for (i = 0; i < n && !found; i++)
			found = groups[i] == gr->gr_gid;
	free(groups);
	return found;
}

/*
 * Started by an ordinary user from a binary with the file capability
 * cap_net_admin+ep: everything the parent does needs CAP_NET_ADMIN and
 * files it owns, except what only root's identity may do. Refuse that
 * here, in one line, rather than fail half-way through.
 */
static void
unpriv_check(struct parent_opts *opts)
{
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN))
		errx(1, "need root privileges, or CAP_NET_ADMIN as a file "
		    "capability (setcap cap_net_admin+ep %s)", "vpnd");
	/*
	 * The tunnel, its routes and the kill switch are the host's
	 * network's, not the user's: the same power as group vpnd gives,
	 * and for members of that group only, whoever may execute this copy
	 * of the binary (installed 0755, it would be every local user).
	 */
	if (!unpriv_member())
		errx(1, "without root, only a member of group %s may run "
		    "vpnd (it controls the host's network); install the "
		    "capability-bearing copy mode 0750, group %s", VPND_GROUP,
		    VPND_GROUP);
	if (opts->env.dns_backend != DNS_NONE)
		errx(1, "-D %s needs root (resolv.conf, resolvconf and "
		    "systemd-resolved are root's); without root use -D none",
		    dns_backend_names[opts->env.dns_backend]);
}

static void
drop_privileges(void)
{
	if (geteuid() != 0) {
		/*
		 * Nothing but CAP_NET_ADMIN, effective and permitted. The
		 * bounding set stays as inherited: changing it needs
		 * CAP_SETPCAP, and with no_new_privs no exec could use it.
		 */
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE |
		    CAPNG_PERMITTED, CAP_NET_ADMIN) != 0 ||
		    capng_apply(CAPNG_SELECT_CAPS) != 0)
			fatalx("%s: capng", __func__);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			fatal("PR_SET_NO_NEW_PRIVS");
		log_info("running without root as uid %u: the parent keeps "
		    "CAP_NET_ADMIN only", (unsigned int)getuid());
		return;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_NET_ADMIN) != 0)
		fatalx("capng_update");
	if (capng_apply(CAPNG_SELECT_BOTH) != 0)
		fatalx("capng_apply");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	log_debug("parent keeps CAP_NET_ADMIN only");
}

/*
 * A child reads nothing from our standard input and writes nothing to our
 * standard output. Its standard error stays where ours goes (a pipe, the
 * journal) for what it says before its log channel is up, except on a
 * terminal: there a compromised child could read keystrokes or write
 * escape sequences, and its lines reach the terminal through us, escaped.
 */
static void
child_stdio(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    (isatty(STDERR_FILENO) && dup2(fd, STDERR_FILENO) == -1))
		fatal("dup2 /dev/null");
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Each child is an executable of its own that links only the libraries
 * that child needs. It is vpnd-<name> next to our own executable (a build
 * tree) if that name exists there, else VPND_LIBEXECDIR/vpnd-<name>, and
 * must pass secure_exec(). The descriptor stays open: the children run
 * exactly the files found now, even if they are replaced meanwhile (an
 * upgrade in place).
 */
static void
child_exe_open(int proc, const char *self)
{
	struct stat	 st;
	const char	*name = vpnd_proc_names[proc], *slash;
	char		 ebuf[PATH_MAX + 128];
	int		 fd, len;

	slash = strrchr(self, '/');
	len = snprintf(child_exe[proc], sizeof(child_exe[proc]),
	    "%.*s/vpnd-%s", slash == NULL ? 1 : (int)(slash - self),
	    slash == NULL ? "." : self, name);
	if (len < 0 || (size_t)len >= sizeof(child_exe[proc]))
		errx(1, "%s: path too long", self);
	if (lstat(child_exe[proc], &st) == -1) {
		if (errno != ENOENT)
			err(1, "%s", child_exe[proc]);
		len = snprintf(child_exe[proc], sizeof(child_exe[proc]),
		    "%s/vpnd-%s", VPND_LIBEXECDIR, name);
		if (len < 0 || (size_t)len >= sizeof(child_exe[proc]))
			errx(1, "%s: path too long", VPND_LIBEXECDIR);
		if (access(child_exe[proc], F_OK) == -1 && errno == ENOENT)
			errx(1, "%s executable: no vpnd-%s next to %s, nor %s",
			    name, name, self, child_exe[proc]);
	}
	if ((fd = secure_exec(child_exe[proc], ebuf, sizeof(ebuf))) == -1)
		errx(1, "%s executable: %s", name, ebuf);
	/* well above VPND_PARENT_FD, which dup2 takes in the child */
	if ((child_exe_fd[proc] = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		err(1, "fcntl");
	close(fd);
	log_debug("%s runs %s", name, child_exe[proc]);
}

/*
 * The environment a child starts with (called in the forked child). Run
 * from a file with a capability, vpnd is in secure mode (AT_SECURE): the
 * dynamic linker dropped the invoker's LD_* variables, and what libraries
 * read with secure_getenv() (sd-bus: DBUS_SYSTEM_BUS_ADDRESS) is not
 * seen. The children's executables carry no capability, so their exec is
 * not secure: the invoker's environment would steer them (netmgr onto a
 * bus of the invoker's choosing). In secure mode they get none of it,
 * apart from vpnd's own test variables in a test build.
 */
static char **
child_environ(void)
{
	static char	*env[32];
#ifdef VPND_TESTHOOKS
	char		**e;
	size_t		  n = 0;
#endif

	if (getauxval(AT_SECURE) == 0)
		return environ;
#ifdef VPND_TESTHOOKS
	for (e = environ; *e != NULL && n < nitems(env) - 1; e++)
		if (strncmp(*e, "VPND_", 5) == 0)
			env[n++] = *e;
#endif
	return env;
}

static pid_t
start_child(int proc, int fd)
{
	char	*argv[10];
	int	 argc = 0;
	pid_t	 pid;
#ifdef VPND_TESTHOOKS
	char	*wrap;
#endif

	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		return pid;
	}
	if (fd == VPND_PARENT_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			fatal("fcntl");
	} else if (dup2(fd, VPND_PARENT_FD) == -1)
		fatal("dup2");
	child_stdio();
	argv[argc++] = "vpnd";	/* the title: "vpnd: <name>" */
	argv[argc++] = "-P";
	argv[argc++] = (char *)vpnd_proc_names[proc];
	if (popts->env.verbose > 0)
		argv[argc++] = "-v";
	if (popts->env.verbose > 1)
		argv[argc++] = "-v";
	argv[argc] = NULL;
	/*
	 * A child gains nothing from the exec. Without root the binary
	 * carries a file capability: the exec keeps what was permitted
	 * before it, so the parent's CAP_NET_ADMIN is dropped here, and
	 * no_new_privs then withholds what the file would grant.
	 */
	if (geteuid() != 0) {
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_apply(CAPNG_SELECT_CAPS) != 0)
			fatalx("%s: capng_apply", __func__);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
#ifdef VPND_TESTHOOKS
	if ((wrap = getenv(VPND_TEST_CHILD_WRAP)) != NULL) {
		memmove(argv + 2, argv + 1, argc * sizeof(argv[0]));
		argv[0] = wrap;
		argv[1] = child_exe[proc];
		execv(wrap, argv);
		fatal("execv %s", wrap);
	}
#endif
	fexecve(child_exe_fd[proc], argv, child_environ());
	fatal("fexecve %s", child_exe[proc]);
}

/*
 * Every line, ours or a child's, is escaped: a compromised child must not
 * forge lines (newline, the '|' of logs replies) nor reach the terminal
 * of whoever reads the logs.
 */
static void
parent_sink(int pri, const char *proc, const char *line)
{
	char	buf[4 * 1024 + 128], vline[4 * 1024 + 1], vproc[4 * 16 + 1];

	log_vis(vline, sizeof(vline), line, LOG_VIS_PIPE);
	log_vis(vproc, sizeof(vproc), proc, LOG_VIS_PIPE);
	snprintf(buf, sizeof(buf), "%s: %s%s%s", vproc,
	    pri <= LOG_WARNING ? log_priname(pri) : "",
	    pri <= LOG_WARNING ? ": " : "", vline);
	logfile_write(buf);
	if (popts->env.foreground) {
		fprintf(stderr, "%s\n", buf);
		fflush(stderr);
	}
}

static void
parent_ready(void)
{
	int	i;

	if (pidfd != -1 && pidfile_write_pid(pidfd) == -1)
		log_warn("pidfile %s", pidpath);
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		imsgev_compose(&iev_child[i], IMSG_START, 0, -1, NULL, 0);
	if (have_headless)
		send_headless();
	notify_ready();
	log_info("ready; control socket %s", popts->env.sockpath);
}

/*
 * systemd's readiness notification (Type=notify): one datagram,
 * "READY=1", to the socket $NOTIFY_SOCKET names ('@' for the abstract
 * name space), as sd_notify(3) sends it. Done here so the parent does not
 * load libsystemd and what it pulls in for this one line.
 */
static void
notify_ready(void)
{
	struct sockaddr_un	 sun;
	struct msghdr		 msg;
	struct iovec		 iov;
	const char		*e;
	char			 line[] = "READY=1";
	size_t			 len;
	int			 s;

	if ((e = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	len = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || len < 2 ||
	    len >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET: not a socket path; not notified");
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, e, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return;
	}
	iov.iov_base = line;
	iov.iov_len = sizeof(line) - 1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sun;
	msg.msg_namelen = offsetof(struct sockaddr_un, sun_path) + len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (sendmsg(s, &msg, MSG_NOSIGNAL) == -1)
		log_warn("NOTIFY_SOCKET %s", e);
	close(s);
}

static void
send_headless(void)
{
	conf_send(&iev_child[PROC_NETMGR], &conf_seq_headless, &headless);
	/* The keys now live in netmgr and tunworker only. */
	conf_free(&headless);
	have_headless = 0;
}

/*
 * One chunk of the logs, or their end: netmgr asks for each chunk once it
 * has taken the last, so the parent holds one chunk whatever the logs'
 * size, and only what netmgr will keep is read at all.
 */
static void
logs_send(struct imsgev *iev)
{
	char	 buf[VPND_LOGS_CHUNK];
	ssize_t	 n;

	if ((n = logfile_reader_read(buf, sizeof(buf))) > 0) {
		imsgev_compose(iev, IMSG_LOGS_DATA, 0, -1, buf, n);
		return;
	}
	logfile_reader_close();
	imsgev_compose(iev, IMSG_LOGS_END, 0, -1, NULL, 0);
}

static void
parent_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	if (parent_imsg(iev, imsg) == 0)
		return;
	log_warnx("unexpected message %u from %s; stopping",
	    imsg_get_type(imsg), vpnd_proc_names[iev->proc]);
	parent_exit(1);
}

/* A child's log line: 0 if it was well formed and has been written. */
static int
parent_log(struct imsgev *iev, struct imsg *imsg)
{
	struct log_msg	 lm;

	if (imsg_get_data(imsg, &lm, sizeof(lm)) == -1)
		return -1;
	/*
	 * Labelled with the channel it came on, never with the name in
	 * the message: a child may not speak as another process (the
	 * parent, say) in the log.
	 */
	lm.line[sizeof(lm.line) - 1] = '\0';
	if (lm.pri < LOG_EMERG || lm.pri > LOG_DEBUG)
		lm.pri = LOG_ERR;
	parent_sink(lm.pri, vpnd_proc_names[iev->proc], lm.line);
	return 0;
}

/*
 * Every message a child sends the parent: 0 if it was that child's to
 * send and has been handled, -1 if not (the caller stops everything).
 */
int
parent_imsg(struct imsgev *iev, struct imsg *imsg)
{
	uint32_t		 type = imsg_get_type(imsg);

	if (iev->proc <= PROC_PARENT || iev->proc >= PROC_MAX)
		return -1;
	switch (type) {
	case IMSG_LOG:
		return parent_log(iev, imsg);
	case IMSG_READY:
		/* once per child, or the START would come too early */
		if (imsg_get_len(imsg) != 0 || child_ready[iev->proc])
			return -1;
		child_ready[iev->proc] = 1;
		log_debug("%s is ready", vpnd_proc_names[iev->proc]);
		if (++nready == PROC_MAX - 1)
			parent_ready();
		return 0;
	default:
		break;
	}
	if (iev->proc == PROC_TUNWORKER && type == IMSG_CPU_HOLD)
		return cpulat_hold(imsg);
	if (iev->proc == PROC_DNSMGR)
		return dnsops_dispatch(iev, &popts->env, imsg);
	if (iev->proc != PROC_NETMGR)
		return -1;
	switch (type) {
	case IMSG_NET_BEGIN:
	case IMSG_NET_ADDR:
	case IMSG_NET_ROUTE:
	case IMSG_NET_ENDPOINT:
	case IMSG_NET_DNS:
	case IMSG_NET_SPLIT_UID:
	case IMSG_NET_SPLIT_APP:
	case IMSG_NET_COMMIT:
	case IMSG_NET_DOWN:
		netops_dispatch(iev, imsg);
		return 0;
	case IMSG_EXCLUDE:
		split_exclude(iev, imsg);
		return 0;
	case IMSG_LOGS_GET:
		if (imsg_get_len(imsg) != 0)
			return -1;
		if (logfile_reader_open(VPND_LOGS_MAX) == -1)
			log_warn("reading the logs");
		logs_send(iev);
		return 0;
	case IMSG_LOGS_NEXT:
		/* only while a read is going on */
		if (imsg_get_len(imsg) != 0 || !logfile_reader_active())
			return -1;
		logs_send(iev);
		return 0;
	case IMSG_LOGS_CLEAN:
		logfile_reader_close();
		logfile_clean();
		imsgev_compose(iev, IMSG_LOGS_END, 0, -1, NULL, 0);
		return 0;
	case IMSG_LOCKDOWN_SET:
		if (lockdown_dispatch(iev, imsg) == -1)
			return -1;
		return 0;
	case IMSG_SHUTDOWN_DONE:
		log_info("tunnel down; exiting");
		parent_exit(0);
	default:
		return -1;
	}
}

/* For the fuzz harness: the options parent_main() would have set. */
void
parent_imsg_init(struct parent_opts *opts)
{
	popts = opts;
}

static void
parent_nftwatch(int fd, short ev, void *arg)
{
	int	rv;

	if ((rv = nft_watch_read(fd)) == 1)
		netops_fw_check();
	else if (rv == -1) {
		log_warn("watching nftables");
		event_del(&ev_nftwatch);
		close(fd);
	}
}

static void
parent_closed(struct imsgev *iev)
{
	if (shutting_down)
		return;
	/* SIGCHLD will say why; make sure we go down even if it is late. */
	log_warnx("channel to %s closed", vpnd_proc_names[iev->proc]);
	parent_exit(1);
}

static void
parent_shutdown_timeout(int fd, short ev, void *arg)
{
	log_warnx("netmgr did not finish the shutdown in time");
	parent_exit(0);
}

static void
parent_sig(int sig, short ev, void *arg)
{
	struct timeval	 tv;
	pid_t		 pid;
	int		 status, i, failed = 0;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (shutting_down)
			return;
		shutting_down = 1;
		log_info("received %s; shutting down", sig == SIGTERM ?
		    "SIGTERM" : "SIGINT");
		imsgev_compose(&iev_child[PROC_NETMGR], IMSG_SHUTDOWN, 0, -1,
		    NULL, 0);
		tv.tv_sec = SHUTDOWN_MS / 1000;
		tv.tv_usec = (SHUTDOWN_MS % 1000) * 1000;
		evtimer_set(&ev_shutdown, parent_shutdown_timeout, NULL);
		evtimer_add(&ev_shutdown, &tv);
		return;
	case SIGHUP:
		log_info("SIGHUP ignored: reconfigure through the control "
		    "socket");
		return;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = PROC_NETMGR; i < PROC_MAX; i++)
				if (child_pid[i] == pid)
					break;
			if (i == PROC_MAX)
				continue;
			child_pid[i] = 0;
			child_status(i, pid, status);
			failed = 1;
		}
		if (failed)
			parent_exit(1);
		return;
	}
}

/* Say which child ended and why. */
static void
child_status(int i, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) was killed by signal %d (%s)",
		    vpnd_proc_names[i], pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    shutting_down)
		log_debug("%s (pid %d) exited", vpnd_proc_names[i], pid);
	else
		log_warnx("%s (pid %d) exited with status %d",
		    vpnd_proc_names[i], pid, WEXITSTATUS(status));
}

/*
 * Going down: write the last lines every child sends before its channel
 * ends, so a child that dies while the parent goes down on another's
 * death still has its say. After a failure the children first get
 * DRAIN_MS / 2 to die of it on their own (a sibling of a dead child
 * learns of the death from their channel; were the parent's end first,
 * it would take that as an orderly exit); then the end of each channel
 * tells every child to exit, and what each says before its end is
 * written. Only log lines count now; bounded by DRAIN_MS in all,
 * whatever a child does.
 */
static void
parent_drain(int failed)
{
	struct timespec	 now, end;
	int		 i;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return;
	if (failed) {
		end = now;
		timespec_add_ms(&end, DRAIN_MS / 2);
		if (drain_until(&end) == 0)
			return;
		timespec_add_ms(&now, DRAIN_MS);
	} else
		timespec_add_ms(&now, DRAIN_MS);
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		if (iev_child[i].active)
			(void)shutdown(iev_child[i].ibuf.fd, SHUT_WR);
	(void)drain_until(&now);
}

static void
timespec_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Read the children's channels until each has ended or *end has come;
 * only log lines are written. The number of channels still open.
 */
static int
drain_until(const struct timespec *end)
{
	struct pollfd	 pfd[PROC_MAX];
	struct imsgev	*iev;
	struct imsg	 imsg;
	struct timespec	 now;
	long		 ms;
	int		 i, n, np, bad, idx[PROC_MAX];

	for (;;) {
		for (np = 0, i = PROC_NETMGR; i < PROC_MAX; i++) {
			iev = &iev_child[i];
			if (!iev->active)
				continue;
			imsgev_flush(iev);
			event_del(&iev->ev);
			pfd[np].fd = iev->ibuf.fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (np == 0 || clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			return np;
		ms = (end->tv_sec - now.tv_sec) * 1000 +
		    (end->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return np;
		if (poll(pfd, np, (int)ms) == -1 && errno != EINTR)
			return np;
		for (i = 0; i < np; i++) {
			if (pfd[i].revents == 0)
				continue;
			iev = &iev_child[idx[i]];
			/* end of channel, or a broken one: it has had its say */
			if (imsgbuf_read(&iev->ibuf) != 1) {
				imsgev_clear(iev);
				continue;
			}
			bad = 0;
			while ((n = imsgbuf_get(&iev->ibuf, &imsg)) == 1) {
				/* only lines now: the rest is of no use */
				bad = imsg_get_type(&imsg) == IMSG_LOG &&
				    parent_log(iev, &imsg) == -1;
				imsg_free(&imsg);
				if (bad)
					break;
			}
			if (n == -1 || bad)
				imsgev_clear(iev);
		}
	}
}

static __dead void
parent_exit(int code)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 i, status, waited, alive;
	pid_t		 pid;

	shutting_down = 1;
	/* A failure fails closed: the kill switch stays until next start. */
	netops_teardown(code != 0);
	parent_drain(code != 0);
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		imsgev_clear(&iev_child[i]);
	/* Children exit when their channel closes; give them a moment. */
	for (waited = 0; waited < CHILD_WAIT_MS; waited += 10) {
		alive = 0;
		for (i = PROC_NETMGR; i < PROC_MAX; i++) {
			if (child_pid[i] == 0)
				continue;
			pid = waitpid(child_pid[i], &status, WNOHANG);
			if (pid == child_pid[i]) {
				/* Often the channel closed before SIGCHLD. */
				child_status(i, pid, status);
				child_pid[i] = 0;
			} else if (pid == -1 && errno == ECHILD)
				child_pid[i] = 0;
			else
				alive++;
		}
		if (alive == 0)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = PROC_NETMGR; i < PROC_MAX; i++)
		if (child_pid[i] != 0) {
			log_warnx("%s did not exit", vpnd_proc_names[i]);
			/* EPERM for a child of another uid: no CAP_KILL */
			if (kill(child_pid[i], SIGKILL) == -1)
				log_warn("cannot kill %s (pid %d)",
				    vpnd_proc_names[i], (int)child_pid[i]);
		}
	(void)unlink(popts->env.sockpath);
	uapisock_remove();
	if (pidfd != -1) {
		(void)unlink(pidpath);
		close(pidfd);
	}
	log_info("exiting with status %d", code);
	logfile_close();
	exit(code);
}

static int
control_open(const char *path, gid_t *gidp)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	gid_t			 gid = 0;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	/* A stale socket from a crashed instance; the pidfile lock says
	 * no other instance is running. */
	if (unlink(path) == -1 && errno != ENOENT) {
		close(fd);
		return -1;
	}
	/*
	 * As root, any local user may connect: what each may ask is decided
	 * per request by netmgr, from the peer's credentials. Without root
	 * the socket is the invoking user's alone, from the start.
	 */
	old = umask(geteuid() != 0 ? 0177 : 0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	if (geteuid() != 0) {
		/* Without root: the invoking user's socket (0600, umask). */
		if (listen(fd, 16) == -1) {
			(void)unlink(path);
			close(fd);
			return -1;
		}
		*gidp = getgid();
		return fd;
	}
	if ((gr = getgrnam(VPND_GROUP)) != NULL)
		gid = gr->gr_gid;
	else
		log_info("group %s does not exist; the control socket is "
		    "for root only", VPND_GROUP);
	/*
	 * bind() made it 0666 (umask); the group is set without following
	 * a symbolic link, in a directory only root may write in.
	 */
	if (fchownat(AT_FDCWD, path, 0, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    listen(fd, 16) == -1) {
		(void)unlink(path);
		close(fd);
		return -1;
	}
	*gidp = gid;
	return fd;
}

static int
mkpath(const char *dir, mode_t mode)
{
	char		 path[PATH_MAX], *p;
	struct stat	 st;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return -1;
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * One vpnd per network namespace. The kill switch (table inet vpnd), the
 * policy rules and the route table have fixed names in a namespace, and
 * a starting vpnd removes them as an earlier crash's leftovers: a second
 * one, with a pid file of its own (other paths, or another user's
 * capability-bearing copy), would take the running one's kill switch and
 * routes away under it. An abstract UNIX socket lives in the network
 * namespace and goes with its holder, kill -9 included. -1 with
 * EADDRINUSE when it is held; *opid and *ouid then name the holder if it
 * answers (0 otherwise).
 */
static int
netns_lock(pid_t *opid, uid_t *ouid)
{
	struct sockaddr_un	 sun;
	struct ucred		 cred;
	socklen_t		 slen, clen = sizeof(cred);
	int			 fd, cfd;

	*opid = 0;
	*ouid = 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* sun_path[0] stays NUL: the abstract name space */
	memcpy(sun.sun_path + 1, VPND_NETNS_LOCK, strlen(VPND_NETNS_LOCK));
	slen = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(VPND_NETNS_LOCK);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	/* listening only so that a second one can ask who holds it */
	if (bind(fd, (struct sockaddr *)&sun, slen) == 0) {
		if (listen(fd, 1) == -1) {
			close(fd);
			return -1;
		}
		return fd;
	}
	close(fd);
	if (errno != EADDRINUSE)
		return -1;
	if ((cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) != -1) {
		if (connect(cfd, (struct sockaddr *)&sun, slen) == 0 &&
		    getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ==
		    0 && clen == sizeof(cred)) {
			*opid = cred.pid;
			*ouid = cred.uid;
		}
		close(cfd);
	}
	errno = EADDRINUSE;
	return -1;
}

/*
 * The pid file: opened without following a symbolic link (its directory
 * is root's alone), locked for as long as we run. -1 with EEXIST and
 * *other set when another instance holds the lock.
 */
static int
pidfile_lock(const char *path, pid_t *other)
{
	char		 buf[32];
	const char	*errstr;
	ssize_t		 n;
	int		 fd, save;

	*other = -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0644)) == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		save = errno;
		if (save == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			*other = (pid_t)strtonum(buf, 1, INT_MAX, &errstr);
			save = EEXIST;
		}
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

static int
pidfile_write_pid(int fd)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n)
		return -1;
	return 0;
}

/* Whether dir has no entries (false if it cannot be read): a chroot must be. */
static bool
dir_is_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n == 0;
}

static void
device_id(const char *statedir, char *out, size_t outlen)
{
	char		 path[PATH_MAX], tmp[PATH_MAX], buf[80];
	unsigned char	 rnd[16];
	ssize_t		 n;
	size_t		 i;
	int		 fd;

	snprintf(path, sizeof(path), "%s/device-id", statedir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n == 33 || n == 32) {
			buf[32] = '\0';
			for (i = 0; i < 32; i++)
				if (strchr("0123456789abcdef", buf[i]) == NULL)
					break;
			if (i == 32) {
				strlcpy(out, buf, outlen);
				return;
			}
		}
		log_warnx("%s is malformed; generating a new one", path);
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("%s: getrandom", __func__);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	strlcpy(out, buf, outlen);
	snprintf(tmp, sizeof(tmp), "%s/.device-id.tmp", statedir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1) {
		log_warn("%s", tmp);
		return;
	}
	buf[32] = '\n';
	if (write(fd, buf, 33) != 33 || fsync(fd) == -1 ||
	    rename(tmp, path) == -1)
		log_warn("%s", path);
	close(fd);
	log_info("generated device id %.32s", out);
}

/*
 * vpnd.c -- command line of the parent (vpnd) and the entry point of each
 * child's own executable: compiled once more per child with VPND_CHILD
 * set to its name (vpnd-netmgr, vpnd-tunworker, vpnd-dnsmgr), so that
 * each links only the code and the libraries that child needs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "vpnd.h"

extern char	**environ;

#ifdef VPND_CHILD
#define CHILD_netmgr	1
#define CHILD_tunworker	2
#define CHILD_dnsmgr	3
#define CHILD_(n)	CHILD_##n
#define CHILD(n)	CHILD_(n)

#if CHILD(VPND_CHILD) == CHILD_netmgr
#include "netmgr.h"
#define CHILD_NAME	"netmgr"
#define CHILD_MAIN	netmgr_main
#elif CHILD(VPND_CHILD) == CHILD_tunworker
#include "tunworker.h"
#define CHILD_NAME	"tunworker"
#define CHILD_MAIN	tunworker_main
#elif CHILD(VPND_CHILD) == CHILD_dnsmgr
#include "dnsmgr.h"
#define CHILD_NAME	"dnsmgr"
#define CHILD_MAIN	dnsmgr_main
#else
#error "VPND_CHILD: netmgr, tunworker or dnsmgr"
#endif

/*
 * The channel the parent hands over: a UNIX stream socket on fd 3. Run by
 * hand, fd 3 may be closed (the child's own event base would then take
 * that number and wait on itself for ever, deaf to SIGTERM) or anything
 * else: refuse at once.
 */
static int
parent_channel(void)
{
	struct stat	 st;
	socklen_t	 len;
	int		 v;

	if (fstat(VPND_PARENT_FD, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	len = sizeof(v);
	if (getsockopt(VPND_PARENT_FD, SOL_SOCKET, SO_DOMAIN, &v, &len) == -1 ||
	    v != AF_UNIX)
		return -1;
	len = sizeof(v);
	if (getsockopt(VPND_PARENT_FD, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_STREAM)
		return -1;
	return 0;
}

/*
 * Started by the parent only: "vpnd -P <name> [-v...]", the parent
 * channel on fd 3.
 */
int
main(int argc, char *argv[])
{
	const char	*role = NULL;
	int		 ch, verbose = 0;

	if (parent_channel() == -1)
		errx(2, "started by vpnd only: fd %d is not its channel",
		    VPND_PARENT_FD);
	setproctitle_init(argc, argv, environ);
	while ((ch = getopt(argc, argv, "P:v")) != -1) {
		switch (ch) {
		case 'P':
			role = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			errx(2, "started by vpnd only, as -P " CHILD_NAME);
		}
	}
	if (optind != argc || role == NULL || strcmp(role, CHILD_NAME) != 0)
		errx(2, "started by vpnd only, as -P " CHILD_NAME);
	CHILD_MAIN(verbose);
}

#else /* the parent */

#include "dnsbackend.h"
#include "parent.h"

static __dead void	usage(void);

static __dead void
usage(void)
{
	fprintf(stderr, "usage: vpnd [-dnv] [-C cgroupdir] [-D backend] "
	    "[-f file] [-i ifname]\n"
	    "            [-L logdir] [-l latency] [-R resolv.conf] "
	    "[-r resolvconf]\n"
	    "            [-S statedir] [-s socket] [-W uapidir]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct parent_opts	 opts;
	const char		*role = NULL, *errstr;
	int			 ch;

	setproctitle_init(argc, argv, environ);

	memset(&opts, 0, sizeof(opts));
	strlcpy(opts.env.sockpath, VPND_SOCKET, sizeof(opts.env.sockpath));
	strlcpy(opts.env.uapidir, VPND_UAPIDIR, sizeof(opts.env.uapidir));
	strlcpy(opts.env.logdir, VPND_LOGDIR, sizeof(opts.env.logdir));
	strlcpy(opts.env.statedir, VPND_STATEDIR, sizeof(opts.env.statedir));
	strlcpy(opts.env.resolvconf, "/etc/resolv.conf",
	    sizeof(opts.env.resolvconf));
	strlcpy(opts.env.resolvconf_prog, "/sbin/resolvconf",
	    sizeof(opts.env.resolvconf_prog));
	strlcpy(opts.ifname, VPND_IFNAME, sizeof(opts.ifname));
	strlcpy(opts.env.ifname, VPND_IFNAME, sizeof(opts.env.ifname));
	opts.env.time_scale = 1.0;
	opts.cpu_latency = -1;

	while ((ch = getopt(argc, argv, "C:D:df:i:L:l:nP:R:r:S:s:vW:")) != -1) {
		switch (ch) {
		case 'C':
			if (optarg[0] != '/' || strlen(optarg) >= PATH_MAX / 2)
				errx(2, "-C: not an absolute path");
			opts.cgroot = optarg;
			break;
		case 'D':
			opts.env.dns_backend = dns_backend_lookup(optarg);
			if (opts.env.dns_backend == -1)
				errx(2, "-D: unknown DNS backend %s "
				    "(auto, resolved, resolvconf, file, none)",
				    optarg);
			break;
		case 'd':
			opts.env.foreground = 1;
			break;
		case 'f':
			opts.conffile = optarg;
			break;
		case 'i':
			if (strlen(optarg) >= IFNAMSIZ || *optarg == '\0')
				errx(2, "-i: bad interface name");
			strlcpy(opts.ifname, optarg, sizeof(opts.ifname));
			strlcpy(opts.env.ifname, optarg,
			    sizeof(opts.env.ifname));
			break;
		case 'L':
			if (strlcpy(opts.env.logdir, optarg,
			    sizeof(opts.env.logdir)) >= sizeof(opts.env.logdir))
				errx(2, "-L: path too long");
			break;
		case 'l':
			opts.cpu_latency = strtonum(optarg, 0, CPULAT_MAX_US,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-l: CPU wake-up latency %s is %s "
				    "(0 to %d microseconds)", optarg, errstr,
				    CPULAT_MAX_US);
			break;
		case 'n':
			opts.noaction = 1;
			break;
		case 'P':
			role = optarg;
			break;
		case 'R':
			if (strlcpy(opts.env.resolvconf, optarg,
			    sizeof(opts.env.resolvconf)) >=
			    sizeof(opts.env.resolvconf))
				errx(2, "-R: path too long");
			break;
		case 'r':
			if (strlcpy(opts.env.resolvconf_prog, optarg,
			    sizeof(opts.env.resolvconf_prog)) >=
			    sizeof(opts.env.resolvconf_prog))
				errx(2, "-r: path too long");
			break;
		case 'S':
			if (strlcpy(opts.env.statedir, optarg,
			    sizeof(opts.env.statedir)) >=
			    sizeof(opts.env.statedir))
				errx(2, "-S: path too long");
			break;
		case 's':
			if (strlcpy(opts.env.sockpath, optarg,
			    sizeof(opts.env.sockpath)) >=
			    sizeof(opts.env.sockpath))
				errx(2, "-s: path too long");
			break;
		case 'v':
			opts.env.verbose++;
			break;
		case 'W':
			if (strlcpy(opts.env.uapidir, optarg,
			    sizeof(opts.env.uapidir)) >=
			    sizeof(opts.env.uapidir))
				errx(2, "-W: path too long");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();

#ifdef VPND_TESTHOOKS
	/*
	 * Test builds only: VPND_TESTHOOK=proc:hook makes that child misbehave
	 * (see vpnd.h), VPND_TIME_SCALE=n runs WireGuard's timers n times
	 * faster. A normal build has neither.
	 */
	if (role == NULL) {
		const char	*th = getenv("VPND_TESTHOOK");
		const char	*ts = getenv("VPND_TIME_SCALE");
		char		 pname[16];
		int		 hook, i;

		if (th != NULL && sscanf(th, "%15[a-z]:%d", pname, &hook) == 2)
			for (i = 0; i < PROC_MAX; i++)
				if (strcmp(pname, vpnd_proc_names[i]) == 0)
					opts.env.testhook = hook + 100 * i;
		/* finite, and within what a sleep in real time can hold */
		if (ts != NULL && ((opts.env.time_scale = strtod(ts, NULL)) <
		    1e-3 || opts.env.time_scale > 1e4 ||
		    !isfinite(opts.env.time_scale)))
			opts.env.time_scale = 1.0;
	}
#endif
	if (role != NULL)
		errx(2, "-P %s: the children are executables of their own "
		    "(vpnd-netmgr, vpnd-tunworker, vpnd-dnsmgr)", role);
	return parent_main(&opts);
}

#endif /* VPND_CHILD */

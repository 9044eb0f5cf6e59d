/*
 * dns_resolvconf.c -- hand the tunnel's resolvers to resolvconf(8):
 * "resolvconf -a IFNAME" with resolv.conf lines on stdin, and
 * "resolvconf -d IFNAME" to take them back.  resolvconf keeps its own
 * per-interface state, so the record only needs the interface name.
 *
 * The program runs with an empty environment but PATH, no descriptors but
 * stdin/stdout/stderr, and a deadline: a hung helper must not hang dnsmgr.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "dns_local.h"

/*
 * The record's name: Debian's resolvconf orders records by name
 * (interface-order), and tun.* comes right after loopback, so the
 * tunnel's resolvers come first -- as wg-quick names its records.
 */
#define RC_PREFIX	"tun."

static int	 run_prog(const char *, const char *, const char *,
		    const char *, size_t, char *, size_t);
static int	 reap(pid_t, int, int *);
static int	 write_all(int, const char *, size_t);

bool
dns_resolvconf_available(const struct dns_paths *p)
{
	if (p == NULL || p->resolvconf_prog == NULL ||
	    p->resolvconf_prog[0] != '/')
		return false;
	return access(p->resolvconf_prog, X_OK) == 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
	}
	return 0;
}

/* Waits at most ms for pid; kills it after that.  0 with *status, or -1. */
static int
reap(pid_t pid, int ms, int *status)
{
	struct timespec	 now, end;
	pid_t		 r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			break;
		(void)poll(NULL, 0, 5);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	errno = ETIMEDOUT;
	return -1;
}

static int
run_prog(const char *prog, const char *flag, const char *ifname,
    const char *in, size_t inlen, char *err, size_t errlen)
{
	static char	 pathenv[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char		*const envp[] = { pathenv, NULL };
	struct sigaction sa, osa;
	pid_t		 pid;
	int		 fds[2], status, werr = 0;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		dns_err(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		dns_err(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	case 0:
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		{
			char	*argv[4];

			argv[0] = (char *)prog;
			argv[1] = (char *)flag;
			argv[2] = (char *)ifname;
			argv[3] = NULL;
			execve(prog, argv, envp);
		}
		_exit(127);
	}
	close(fds[0]);

	/* If the helper exits without reading, EPIPE rather than death. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, &osa);
	if (write_all(fds[1], in, inlen) == -1)
		werr = errno;
	close(fds[1]);
	(void)sigaction(SIGPIPE, &osa, NULL);

	if (reap(pid, DNS_RUN_TIMEOUT_MS, &status) == -1) {
		dns_err(err, errlen, "%s %s %s: %s", prog, flag, ifname,
		    strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (werr != 0) {
			dns_err(err, errlen, "%s %s %s: stdin: %s", prog, flag,
			    ifname, strerror(werr));
			return -1;
		}
		return 0;
	}
	if (WIFEXITED(status))
		dns_err(err, errlen, "%s %s %s: exit status %d", prog, flag,
		    ifname, WEXITSTATUS(status));
	else
		dns_err(err, errlen, "%s %s %s: killed by signal %d", prog,
		    flag, ifname, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

int
dns_resolvconf_apply(const struct dns_paths *p, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	struct dns_record r;
	char		 conf[8192], e2[256], rcname[32];
	size_t		 len;

	if (cfg->ifname[0] == '\0' || cfg->ifname[0] == '-') {
		dns_err(err, errlen, "resolvconf needs an interface name");
		return -1;
	}
	if (dns_format_conf(cfg, NULL, conf, sizeof(conf), &len) == -1) {
		dns_err(err, errlen, "resolv.conf contents too long");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.backend = DNS_RESOLVCONF;
	(void)strlcpy(r.ifname, cfg->ifname, sizeof(r.ifname));
	snprintf(rcname, sizeof(rcname), "%s%s", RC_PREFIX, cfg->ifname);
	r.ifindex = cfg->ifindex;
	r.orig = DNS_ORIG_ABSENT;
	if (dns_record_write(p, &r, err, errlen) == -1)
		return -1;
	dns_point("record");
	if (run_prog(p->resolvconf_prog, "-a", rcname, conf, len, err,
	    errlen) == -1) {
		/* -a may have stored part of it before failing. */
		(void)run_prog(p->resolvconf_prog, "-d", rcname, "", 0,
		    e2, sizeof(e2));
		(void)dns_record_remove(p, e2, sizeof(e2));
		return -1;
	}
	dns_point("renamed");
	return 0;
}

int
dns_resolvconf_restore(const struct dns_paths *p, const struct dns_record *r,
    struct dns_note *note, char *err, size_t errlen)
{
	char	rcname[32];

	if (r->ifname[0] == '\0' || r->ifname[0] == '-') {
		dns_err(err, errlen, "DNS record: no interface name");
		return -1;
	}
	if (!dns_resolvconf_available(p)) {
		dns_err(err, errlen, "resolvconf program not available to "
		    "remove %s", r->ifname);
		return -1;
	}
	snprintf(rcname, sizeof(rcname), "%s%s", RC_PREFIX, r->ifname);
	return run_prog(p->resolvconf_prog, "-d", rcname, "", 0, err,
	    errlen);
}

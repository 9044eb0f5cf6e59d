/*
 * dnsconf.c -- resolver lists as text, and running resolvconf(8).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"

static int	 reap(pid_t, int, int *);
static int	 write_all(int, const char *, size_t);

/*
 * Resolver names end up in files and in resolvconf(8), a root shell
 * script that has built shell code from them: host-name characters only
 * (letters, digits, '-', '.', '_'), after one '~' for a routing domain,
 * as the control protocol and wg-quick files already require.
 */
bool
dnsconf_domain_ok(const char *d, size_t max)
{
	size_t	 i, n;

	n = strnlen(d, max);
	if (n == max)
		return false;
	i = d[0] == '~' ? 1 : 0;
	if (i == n)
		return false;
	for (; i < n; i++) {
		unsigned char c = d[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '.' &&
		    c != '_')
			return false;
	}
	return true;
}

int
dnsconf_lines(const struct prefix *servers, size_t nservers,
    const char (*domains)[CONF_DOMAIN_LEN], size_t ndomains, char *buf,
    size_t len, size_t *offp)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i, off = *offp, nsearch;
	int	 n;

#define APPEND(...) do {						\
	n = snprintf(buf + off, len - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= len - off)				\
		return -1;						\
	off += n;							\
} while (0)

	if (off >= len)
		return -1;
	for (i = 0; i < nservers; i++) {
		if ((servers[i].af != AF_INET && servers[i].af != AF_INET6) ||
		    inet_ntop(servers[i].af, servers[i].addr, a,
		    sizeof(a)) == NULL)
			return -1;
		APPEND("nameserver %s\n", a);
	}
	/*
	 * "~name" is a routing-only domain (systemd-resolved's notation):
	 * it means nothing to resolv.conf, so it is left out there.
	 */
	for (i = 0, nsearch = 0; i < ndomains; i++) {
		if (domains[i][0] == '~')
			continue;
		if (nsearch++ == 0)
			APPEND("search");
		APPEND(" %s", domains[i]);
	}
	if (nsearch > 0)
		APPEND("\n");
#undef APPEND
	*offp = off;
	return 0;
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

int
resolvconf_run(const char *prog, const char *flag, const char *name,
    const char *in, size_t inlen, int ms, char *err, size_t errlen)
{
	static char	 pathenv[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char		*const envp[] = { pathenv, NULL };
	struct sigaction sa, osa;
	pid_t		 pid;
	int		 fds[2], status, werr = 0;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	case 0:
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		signal(SIGPIPE, SIG_DFL);
		/*
		 * No capability: under no_new_privs (the parent's) root's
		 * exec cannot gain what the permitted set lacks.
		 */
		capng_clear(CAPNG_SELECT_CAPS);
		if (capng_apply(CAPNG_SELECT_CAPS) != 0)
			_exit(126);
		{
			char	*argv[4];

			argv[0] = (char *)prog;
			argv[1] = (char *)flag;
			argv[2] = (char *)name;
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

	if (reap(pid, ms, &status) == -1) {
		snprintf(err, errlen, "%s %s %s: %s", prog, flag, name,
		    strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (werr != 0) {
			snprintf(err, errlen, "%s %s %s: stdin: %s", prog,
			    flag, name, strerror(werr));
			return -1;
		}
		return 0;
	}
	if (WIFEXITED(status))
		snprintf(err, errlen, "%s %s %s: exit status %d", prog, flag,
		    name, WEXITSTATUS(status));
	else
		snprintf(err, errlen, "%s %s %s: killed by signal %d", prog,
		    flag, name, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

/*
 * Who, besides root (and whoever runs us), can decide what a name in the
 * directory dirst names: its owner when that is someone else, or, in a
 * sticky directory, the owner of the entry.  A directory that its group
 * or everyone may write without the sticky bit is anyone's: refused.
 * *ctl is the one outsider that may have steered the walk so far (-1 for
 * none); a second one is refused too.
 */
static int
walk_ctl(const struct stat *dirst, const struct stat *st, uid_t self,
    long long *ctl)
{
	uid_t	 who[2];
	size_t	 i, n = 0;

	if ((dirst->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (dirst->st_mode & S_ISVTX) == 0)
		return -1;
	if (dirst->st_uid != 0 && dirst->st_uid != self)
		who[n++] = dirst->st_uid;
	if (st->st_uid != 0 && st->st_uid != self)
		who[n++] = st->st_uid;
	for (i = 0; i < n; i++) {
		if (*ctl == -1)
			*ctl = who[i];
		else if (*ctl != (long long)who[i])
			return -1;
	}
	return 0;
}

/*
 * Opens path for reading and writing as root would, but follows a
 * symlink, and accepts the file, only as far as what led there was
 * root's: once a directory or a link of another user U (a daemon's
 * runtime directory, say) is on the way, the file must be U's own, with
 * one link.  Otherwise U could point root's open (and what dnsmgr writes
 * through it) at /etc/shadow, or at a device whose open does something.
 * Every check is on what was actually opened (O_PATH, no following), so
 * a name swapped in between is caught.  The descriptor, or -1 with errno.
 */
static int
resolv_walk(const char *path)
{
	char		 buf[PATH_MAX], link[PATH_MAX], rest[PATH_MAX];
	char		*comp, *next;
	struct stat	 dirst, st, fst;
	long long	 ctl = -1;
	uid_t		 self = geteuid();
	ssize_t		 n;
	int		 dfd, fd, nlinks = 0, saved;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((dfd = open(buf[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	comp = buf;
	for (;;) {
		while (*comp == '/')
			comp++;
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0) {
			if (next == NULL)
				goto notreg;
			comp = next;
			continue;
		}
		if (fstat(dfd, &dirst) == -1 ||
		    (fd = openat(dfd, comp, O_PATH | O_NOFOLLOW |
		    O_CLOEXEC)) == -1)
			goto fail;
		if (fstat(fd, &st) == -1)
			goto failfd;
		if (walk_ctl(&dirst, &st, self, &ctl) == -1) {
			errno = EPERM;
			goto failfd;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++nlinks > 40) {
				errno = ELOOP;
				goto failfd;
			}
			if ((n = readlinkat(fd, "", link,
			    sizeof(link) - 1)) == -1)
				goto failfd;
			close(fd);
			link[n] = '\0';
			/* The link's target, then what was left of path. */
			if ((size_t)snprintf(rest, sizeof(rest), "%s%s%s",
			    link, next != NULL ? "/" : "", next != NULL ?
			    next : "") >= sizeof(rest)) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			(void)strlcpy(buf, rest, sizeof(buf));
			comp = buf;
			if (buf[0] == '/') {
				close(dfd);
				if ((dfd = open("/", O_PATH | O_DIRECTORY |
				    O_CLOEXEC)) == -1)
					return -1;
			}
			continue;
		}
		if (next != NULL && *next != '\0') {
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				goto failfd;
			}
			close(dfd);
			dfd = fd;
			comp = next;
			continue;
		}
		/* The last name: a regular file, never a device's open. */
		close(fd);
		if (!S_ISREG(st.st_mode))
			goto notreg;
		if (ctl != -1 && (st.st_uid != (uid_t)ctl ||
		    st.st_nlink != 1)) {
			errno = EPERM;
			goto fail;
		}
		if ((fd = openat(dfd, comp, O_RDWR | O_NOFOLLOW | O_NOCTTY |
		    O_NONBLOCK | O_CLOEXEC)) == -1)
			goto fail;
		if (fstat(fd, &fst) == -1)
			goto failfd;
		if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
			errno = EAGAIN;		/* swapped under us */
			goto failfd;
		}
		close(dfd);
		return fd;
	}
 notreg:
	errno = EINVAL;
	goto fail;
 failfd:
	saved = errno;
	close(fd);
	errno = saved;
 fail:
	saved = errno;
	close(dfd);
	errno = saved;
	return -1;
}

int
resolv_open(const char *path, int op, int *fdp, char *target, size_t tlen,
    int *created)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, saved;

	*fdp = -1;
	*created = 0;
	if (tlen > 0)
		target[0] = '\0';
	if (lstat(path, &st) == -1) {
		if (errno != ENOENT || op != RESOLV_CREATE)
			return -1;
		if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_NOCTTY | O_CLOEXEC, 0644)) == -1)
			return -1;
		if (fchmod(fd, 0644) == -1) {
			saved = errno;
			close(fd);
			(void)unlink(path);
			errno = saved;
			return -1;
		}
		*created = 1;
		*fdp = fd;
		return 0;
	}
	if (op == RESOLV_REMOVE) {
		if (!S_ISREG(st.st_mode) || st.st_size != 0) {
			errno = ENOTEMPTY;
			return -1;
		}
		return unlink(path);
	}
	if (S_ISLNK(st.st_mode) && tlen > 0) {
		if ((n = readlink(path, target, tlen - 1)) == -1)
			return -1;
		target[n] = '\0';
	}
	if ((fd = resolv_walk(path)) == -1)
		return -1;
	*fdp = fd;
	return 0;
}

/*
 * logfile.c -- size-capped, rotated log files written by the parent only.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logfile.h"

static char	 lf_dir[PATH_MAX / 2];
static int	 lf_fd = -1;
static size_t	 lf_size;

static void
lf_path(char *buf, size_t len, int n)
{
	if (n == 0)
		snprintf(buf, len, "%s/%s", lf_dir, LOGFILE_NAME);
	else
		snprintf(buf, len, "%s/%s.%d", lf_dir, LOGFILE_NAME, n);
}

static void
lf_rotate(void)
{
	char	from[PATH_MAX], to[PATH_MAX];
	int	n;

	if (lf_fd != -1) {
		close(lf_fd);
		lf_fd = -1;
	}
	for (n = LOGFILE_KEEP - 1; n > 0; n--) {
		lf_path(from, sizeof(from), n - 1);
		lf_path(to, sizeof(to), n);
		(void)rename(from, to);
	}
}

static int
lf_reopen(void)
{
	char		path[PATH_MAX];
	struct stat	st;

	lf_path(path, sizeof(path), 0);
	lf_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	if (lf_fd == -1)
		return -1;
	lf_size = fstat(lf_fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

int
logfile_open(const char *dir)
{
	char		path[PATH_MAX];
	struct stat	st;

	if (strlen(dir) >= sizeof(lf_dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strlcpy(lf_dir, dir, sizeof(lf_dir));
	lf_path(path, sizeof(path), 0);
	/* One file per start: keep the last run's log as vpnd.log.1. */
	if (stat(path, &st) == 0 && st.st_size > 0)
		lf_rotate();
	return lf_reopen();
}

void
logfile_write(const char *line)
{
	char		 buf[1200], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	int		 n;

	if (lf_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(buf, sizeof(buf), "%s.%03ldZ %s\n", ts,
	    now.tv_nsec / 1000000, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		n = sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	if (lf_size + n > LOGFILE_MAX) {
		lf_rotate();
		if (lf_reopen() == -1)
			return;
	}
	if (write(lf_fd, buf, n) == n)
		lf_size += n;
}

int
logfile_read(void (*cb)(const char *, size_t, void *), void *arg)
{
	char	path[PATH_MAX], buf[8192];
	ssize_t	n;
	int	fd, i;

	for (i = LOGFILE_KEEP - 1; i >= 0; i--) {
		lf_path(path, sizeof(path), i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			cb(buf, n, arg);
		close(fd);
	}
	return 0;
}

int
logfile_clean(void)
{
	char	path[PATH_MAX];
	int	i;

	for (i = LOGFILE_KEEP - 1; i > 0; i--) {
		lf_path(path, sizeof(path), i);
		(void)unlink(path);
	}
	if (lf_fd != -1 && ftruncate(lf_fd, 0) == 0)
		lf_size = 0;
	return 0;
}

void
logfile_close(void)
{
	if (lf_fd != -1)
		close(lf_fd);
	lf_fd = -1;
}

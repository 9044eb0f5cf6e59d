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

#include "compat.h"
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

static struct {
	int	 active;
	int	 fd[LOGFILE_KEEP];	/* oldest first */
	off_t	 left[LOGFILE_KEEP];	/* bytes still to read in each */
	int	 n, i;
	int	 to_nl;			/* cut in a line: drop up to its end */
} rd;

void
logfile_reader_close(void)
{
	int	i;

	for (i = rd.i; i < rd.n; i++)
		close(rd.fd[i]);
	memset(&rd, 0, sizeof(rd));
}

int
logfile_reader_open(size_t tail)
{
	char		path[PATH_MAX];
	struct stat	st;
	off_t		total = 0, skip;
	int		fd, i;

	logfile_reader_close();
	for (i = LOGFILE_KEEP - 1; i >= 0; i--) {
		lf_path(path, sizeof(path), i);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size == 0) {
			close(fd);
			continue;
		}
		rd.fd[rd.n] = fd;
		rd.left[rd.n++] = st.st_size;
		total += st.st_size;
	}
	rd.active = 1;
	skip = total > (off_t)tail ? total - (off_t)tail : 0;
	rd.to_nl = skip > 0;
	while (skip > 0 && rd.i < rd.n) {
		if (skip >= rd.left[rd.i]) {
			skip -= rd.left[rd.i];
			close(rd.fd[rd.i++]);
			continue;
		}
		if (lseek(rd.fd[rd.i], skip, SEEK_SET) == -1) {
			logfile_reader_close();
			return -1;
		}
		rd.left[rd.i] -= skip;
		skip = 0;
	}
	return 0;
}

int
logfile_reader_active(void)
{
	return rd.active;
}

ssize_t
logfile_reader_read(char *buf, size_t len)
{
	ssize_t	 n;
	char	*nl;

	while (rd.i < rd.n) {
		n = read(rd.fd[rd.i], buf, MINIMUM((off_t)len, rd.left[rd.i]));
		if (n <= 0) {
			close(rd.fd[rd.i++]);
			continue;
		}
		rd.left[rd.i] -= n;
		if (rd.left[rd.i] == 0)
			close(rd.fd[rd.i++]);
		if (rd.to_nl) {
			if ((nl = memchr(buf, '\n', n)) == NULL)
				continue;
			rd.to_nl = 0;
			n -= nl + 1 - buf;
			memmove(buf, nl + 1, n);
			if (n == 0)
				continue;
		}
		return n;
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

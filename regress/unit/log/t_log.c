/*
 * t_log.c -- the log API (common/log.c) and the parent's log files
 * (parent/logfile.c): sinks, verbosity, rotation at the size cap, one file
 * per start, reading back oldest first, cleaning.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "logfile.h"
#include "tap.h"

static char	 got[8][1100];
static int	 got_pri[8];
static size_t	 got_len[8];	/* the line as the sink got it */
static int	 ngot;

static void
sink(int pri, const char *proc, const char *line)
{
	if (ngot < 8) {
		got_len[ngot] = strlen(line);
		snprintf(got[ngot], sizeof(got[0]), "%s|%s", proc, line);
		got_pri[ngot++] = pri;
	}
}

static const struct {
	const char	*in;
	int		 flags;
	const char	*out;
} vis_cases[] = {
	{ "plain text, 10.0.0.1/32", 0, "plain text, 10.0.0.1/32" },
	{ "two\nlines", 0, "two\\nlines" },
	{ "cr\r tab\t", 0, "cr\\r tab\\t" },
	{ "\033[2Jclear", 0, "\\033[2Jclear" },
	{ "bell\007 del\177", 0, "bell\\007 del\\177" },
	{ "back\\slash", 0, "back\\\\slash" },
	{ "back\\slash", LOG_VIS_RAW_BACKSLASH, "back\\slash" },
	{ "a|b", 0, "a|b" },
	{ "a|b", LOG_VIS_PIPE, "a\\174b" },
	{ "caf\303\251", 0, "caf\\303\\251" },
	{ "", 0, "" },
};

static void
test_vis(void)
{
	char	 buf[64], small[6];
	size_t	 i, n;

	for (i = 0; i < nitems(vis_cases); i++) {
		n = log_vis(buf, sizeof(buf), vis_cases[i].in,
		    vis_cases[i].flags);
		is_str(buf, vis_cases[i].out, "log_vis case %zu", i);
		is_int(n, strlen(vis_cases[i].out), "log_vis length %zu", i);
	}
	/* Truncated only at a whole escape, always terminated. */
	n = log_vis(small, sizeof(small), "ab\ncd", 0);
	is_str(small, "ab\\nc", "truncated after a whole escape");
	is_int(n, 6, "the full length is returned");
	n = log_vis(small, sizeof(small), "abcd\n", 0);
	is_str(small, "abcd", "an escape that does not fit is left out");

}

struct rd {
	char	*buf;
	size_t	 len;
};

static void
collect(const char *p, size_t n, void *arg)
{
	struct rd	*r = arg;

	r->buf = realloc(r->buf, r->len + n + 1);
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

/* The newest `tail` bytes through the reader, in chunks of `chunk`. */
static int
logfile_read(struct rd *r, size_t tail, size_t chunk)
{
	char	 buf[8192];
	ssize_t	 n;

	if (logfile_reader_open(tail) == -1)
		return -1;
	while ((n = logfile_reader_read(buf, chunk)) > 0)
		collect(buf, n, r);
	logfile_reader_close();
	return 0;
}

static int
nfiles(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, LOGFILE_NAME,
		    strlen(LOGFILE_NAME)) == 0)
			n++;
	closedir(d);
	return n;
}

static off_t
total_size(const char *dir)
{
	char		path[512];
	struct stat	st;
	off_t		sum = 0;
	int		i;

	for (i = 0; i < LOGFILE_KEEP + 2; i++) {
		if (i == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, LOGFILE_NAME);
		else
			snprintf(path, sizeof(path), "%s/%s.%d", dir,
			    LOGFILE_NAME, i);
		if (stat(path, &st) == 0)
			sum += st.st_size;
	}
	return sum;
}

int
main(void)
{
	char		 dir[] = "/tmp/t_log.XXXXXX", line[900], cmd[600];
	struct rd	 r = { NULL, 0 };
	int		 i;

	/* the API and its sink */
	log_procinit("testproc");
	log_set_sink(sink);
	log_setverbose(0);
	log_info("hello %d", 42);
	log_debug("hidden at verbosity 0");
	errno = ENOENT;
	log_warn("open %s", "x");
	log_warnx("plain");
	is_int(ngot, 3, "debug suppressed at verbosity 0");
	is_str(got[0], "testproc|hello 42", "info reaches the sink with proc");
	is_int(got_pri[0], LOG_INFO, "info priority");
	ok(strstr(got[1], "open x: No such file") != NULL,
	    "log_warn appends errno's text");
	is_int(got_pri[1], LOG_ERR, "warn priority");
	is_str(got[2], "testproc|plain", "log_warnx");
	log_setverbose(2);
	log_debug("shown");
	is_str(got[3], "testproc|shown", "debug shown at verbosity 2");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	log_info("%s%s", line, line);
	is_int(got_len[4], 1023,
	    "an overlong line reaches the sink cut at 1023 bytes");

	/* lines another user can cause: a bounded number a window */
	{
		struct log_rate	lr;
		int		n0 = ngot, passed = 0, k;

		memset(&lr, 0, sizeof(lr));
		for (k = 0; k < 1000; k++)
			passed += log_rate_at(&lr, 5000 + k / 100, "probes");
		is_int(passed, LOG_RATE_BURST,
		    "1,000 lines in 10 s: the first LOG_RATE_BURST pass");
		is_int(ngot, n0, "nothing logged by the limiter meanwhile");
		ok(log_rate_at(&lr, 5000 + LOG_RATE_SEC, "probes") == 1,
		    "a new window: the line passes");
		is_int(ngot, n0 + 1, "and one note is logged before it");
		ok(ngot > n0 && strstr(got[n0], "980 more probes in 60 "
		    "seconds not logged") != NULL, "the note counts the "
		    "left-out lines");
		ok(log_rate_at(&lr, 100, "probes") == 1 && ngot == n0 + 1,
		    "a clock that went back starts a window, nothing left "
		    "out");
		for (k = 0; k < LOG_RATE_BURST + 5; k++)
			(void)log_rate_at(&lr, 100, "probes");
		ok(log_rate_at(&lr, 100 + LOG_RATE_SEC - 1, "probes") == 0,
		    "within the window: left out");

		/*
		 * A flood that stops: the timer's flush counts what was
		 * left out without waiting for a later line, once.
		 */
		ngot = 0;
		memset(&lr, 0, sizeof(lr));
		for (k = 0; k < LOG_RATE_BURST + 7; k++)
			(void)log_rate_at(&lr, 9000, "stops");
		log_rate_flush(&lr, "stops");
		ok(ngot == 1 && strstr(got[0], "7 more stops in 60 seconds "
		    "not logged") != NULL, "flush: the lines left out are "
		    "counted at once");
		log_rate_flush(&lr, "stops");
		is_int(ngot, 1, "a second flush: nothing more to count");
		ok(log_rate_at(&lr, 9000 + LOG_RATE_SEC, "stops") == 1 &&
		    ngot == 1, "the next window: not counted twice");
		memset(&lr, 0, sizeof(lr));
		log_rate_flush(&lr, "stops");
		is_int(ngot, 1, "flush with nothing left out: no line");
	}
	log_set_sink(NULL);

	/* log files */
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp");
	ok(logfile_open(dir) == 0, "open in an empty dir");
	logfile_write("first line");
	logfile_write("second line");
	logfile_read(&r, 1 << 30, 8192);
	ok(r.buf != NULL && strstr(r.buf, "first line\n") != NULL &&
	    strstr(r.buf, "second line\n") != NULL, "lines read back");
	ok(r.buf != NULL && strstr(r.buf, "first") < strstr(r.buf, "second"),
	    "in order");
	ok(r.buf != NULL && r.buf[4] == '-' && strchr(r.buf, 'Z') != NULL,
	    "lines carry an ISO 8601 UTC time stamp");
	logfile_close();

	/* a new start begins a new file and keeps the old one */
	ok(logfile_open(dir) == 0, "reopen");
	is_int(nfiles(dir), 2, "the last run's log is kept as vpnd.log.1");
	logfile_write("third line");
	free(r.buf);
	r.buf = NULL;
	r.len = 0;
	logfile_read(&r, 1 << 30, 8192);
	ok(r.buf != NULL && strstr(r.buf, "first") < strstr(r.buf, "third"),
	    "reading goes oldest file first");

	/* only the newest part, from a whole line, in small chunks */
	free(r.buf);
	r.buf = NULL;
	r.len = 0;
	logfile_read(&r, 50, 7);
	ok(r.buf != NULL && strncmp(r.buf, "20", 2) == 0 &&
	    strstr(r.buf, "third line\n") != NULL && r.len <= 50 &&
	    strstr(r.buf, "first") == NULL,
	    "a tail cut in a line starts at the next whole line (%zu bytes)",
	    r.len);
	ok(logfile_reader_open(1 << 30) == 0, "a reader opens");
	logfile_write("fourth line");
	free(r.buf);
	r.buf = NULL;
	r.len = 0;
	{
		char	 b[64];
		ssize_t	 n;

		while ((n = logfile_reader_read(b, sizeof(b))) > 0)
			collect(b, n, &r);
	}
	logfile_reader_close();
	ok(r.buf != NULL && strstr(r.buf, "third line") != NULL &&
	    strstr(r.buf, "fourth") == NULL,
	    "the reader reads the files as they were when it opened");
	is_int(logfile_reader_active(), 0, "closed, no reader is active");

	/* rotation keeps the total under the cap */
	for (i = 0; i < 20000; i++)
		logfile_write(line);
	is_int(nfiles(dir), LOGFILE_KEEP, "rotation keeps LOGFILE_KEEP files");
	ok(total_size(dir) <= (off_t)LOGFILE_KEEP * LOGFILE_MAX,
	    "total size is capped (%lld bytes)", (long long)total_size(dir));

	/* cleaning */
	logfile_clean();
	is_int(nfiles(dir), 1, "clean leaves only the current file");
	is_int(total_size(dir), 0, "and it is empty");
	logfile_write("after clean");
	free(r.buf);
	r.buf = NULL;
	r.len = 0;
	logfile_read(&r, 1 << 30, 8192);
	ok(r.buf != NULL && strstr(r.buf, "after clean") != NULL &&
	    strstr(r.buf, "first") == NULL, "logging goes on after a clean");
	logfile_close();
	free(r.buf);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	test_vis();
	return done_testing();
}

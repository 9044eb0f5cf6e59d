/*
 * log.c -- OpenBSD-style logging with a pluggable sink.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 verbose;
static const char	*procname = "vpnd";
static log_sink_fn	*sink;
static void		(*fatal_hook)(void);
static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;

static void	stderr_sink(int, const char *, const char *);

void
log_init(int foreground, int facility)
{
	(void)foreground;
	(void)facility;
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		procname = name;
}

void
log_setverbose(int v)
{
	verbose = v;
}

int
log_getverbose(void)
{
	return verbose;
}

const char *
log_procname(void)
{
	return procname;
}

void
log_set_sink(log_sink_fn *fn)
{
	pthread_mutex_lock(&log_mtx);
	sink = fn;
	pthread_mutex_unlock(&log_mtx);
}

void
log_set_fatal_hook(void (*fn)(void))
{
	fatal_hook = fn;
}

const char *
log_priname(int pri)
{
	switch (pri) {
	case LOG_CRIT:
		return "fatal";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void
stderr_sink(int pri, const char *proc, const char *line)
{
	fprintf(stderr, "%s: %s\n", proc, line);
	fflush(stderr);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 line[1024];
	int	 saved_errno = errno;

	if (pri == LOG_DEBUG && verbose < 2)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	pthread_mutex_lock(&log_mtx);
	if (sink != NULL)
		sink(pri, procname, line);
	else
		stderr_sink(pri, procname, line);
	pthread_mutex_unlock(&log_mtx);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *emsg, ...)
{
	char	*nfmt;
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, emsg);
	if (emsg == NULL)
		logit(LOG_ERR, "%s", strerror(saved_errno));
	else if (asprintf(&nfmt, "%s: %s", emsg, strerror(saved_errno)) == -1)
		vlog(LOG_ERR, emsg, ap);
	else {
		vlog(LOG_ERR, nfmt, ap);
		free(nfmt);
	}
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	ap;

	if (verbose > 1) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static __dead void
vfatalc(int code, const char *emsg, va_list ap)
{
	char		 s[1024];
	const char	*sep;

	if (emsg != NULL) {
		(void)vsnprintf(s, sizeof(s), emsg, ap);
		sep = ": ";
	} else {
		s[0] = '\0';
		sep = "";
	}
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s", procname, s, sep,
		    strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s%s%s", procname, sep, s);
	if (fatal_hook != NULL)
		fatal_hook();
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}

/*
 * Escape what could forge a log line or drive a terminal, as strnvis(3)
 * with VIS_CSTYLE | VIS_OCTAL does: \n \r \t, other control characters,
 * DEL and every byte above 0x7e as \ooo (ESC is \033), and -- unless
 * LOG_VIS_RAW_BACKSLASH, for text escaped before -- the backslash as \\.
 * With LOG_VIS_PIPE the '|' that joins lines in a logs reply is escaped
 * too. The result is always terminated and truncated at a whole escape;
 * returns the length it would have had.
 */
size_t
log_vis(char *dst, size_t dstlen, const char *src, int flags)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			 esc[5];
	size_t			 n = 0, elen;
	int			 full = 0;

	for (; *s != '\0'; s++) {
		esc[0] = '\\';
		elen = 2;
		switch (*s) {
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\\':
			if (flags & LOG_VIS_RAW_BACKSLASH)
				elen = 1;
			else
				esc[1] = '\\';
			break;
		default:
			if (*s < 0x20 || *s > 0x7e ||
			    (*s == '|' && (flags & LOG_VIS_PIPE))) {
				esc[1] = '0' + ((*s >> 6) & 7);
				esc[2] = '0' + ((*s >> 3) & 7);
				esc[3] = '0' + (*s & 7);
				elen = 4;
			} else {
				esc[0] = (char)*s;
				elen = 1;
			}
		}
		if (!full && dstlen > 0 && n + elen < dstlen)
			memcpy(dst + n, esc, elen);
		else if (dstlen > 0 && !full) {
			dst[n] = '\0';
			full = 1;
		}
		n += elen;
	}
	if (dstlen > 0 && !full)
		dst[n] = '\0';
	return n;
}

/*
 * Whether a line of this kind may be logged now; "what" names the kind
 * in the note on left-out lines.
 */
int
log_rate(struct log_rate *lr, const char *what)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		ts.tv_sec = 0;
	return log_rate_at(lr, ts.tv_sec, what);
}

/* The same at "now", in seconds (tests). */
int
log_rate_at(struct log_rate *lr, long long now, const char *what)
{
	if (lr->lr_n == 0 || now - lr->lr_start >= LOG_RATE_SEC ||
	    now < lr->lr_start) {
		log_rate_flush(lr, what);
		lr->lr_start = now;
		lr->lr_n = 0;
		lr->lr_dropped = 0;
	}
	if (lr->lr_n < LOG_RATE_BURST) {
		lr->lr_n++;
		return 1;
	}
	lr->lr_dropped++;
	return 0;
}

void
log_rate_flush(struct log_rate *lr, const char *what)
{
	if (lr->lr_dropped > 0)
		log_warnx("%lu more %s in %d seconds not logged",
		    lr->lr_dropped, what, LOG_RATE_SEC);
	lr->lr_dropped = 0;
}

/*
 * log.h -- OpenBSD's log.c API. Lines go to a sink: stderr before the
 * daemon is wired up, then (in children) the parent over imsg, and (in the
 * parent) the log files and, in the foreground, stderr.
 */
#ifndef VPND_LOG_H
#define VPND_LOG_H

#include <stdarg.h>
#include <syslog.h>

#include "compat.h"

typedef void log_sink_fn(int pri, const char *proc, const char *line);

void	 log_init(int foreground, int facility);
void	 log_procinit(const char *);
void	 log_setverbose(int);
int	 log_getverbose(void);
const char *log_procname(void);
void	 log_set_sink(log_sink_fn *);	/* NULL: stderr */
void	 log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	 logit(int, const char *, ...) __attribute__((__format__(printf, 2, 3)));
void	 vlog(int, const char *, va_list) __attribute__((__format__(printf, 2, 0)));
__dead void fatal(const char *, ...) __attribute__((__format__(printf, 1, 2)));
__dead void fatalx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
/* Called by fatal() before exit, e.g. to flush the parent channel. */
void	 log_set_fatal_hook(void (*)(void));
/* Format one line as written to files and stderr: "proc: text". */
const char *log_priname(int);

/*
 * Lines another user can cause at will (a refused D-Bus call) are logged
 * at most LOG_RATE_BURST times in a LOG_RATE_SEC window, one struct
 * log_rate for each kind of line; the first line of a later window says
 * how many were left out. Zero-initialised.
 */
#define LOG_RATE_SEC		60
#define LOG_RATE_BURST		20
struct log_rate {
	long long	lr_start;	/* window start, monotonic seconds */
	unsigned int	lr_n;		/* lines logged in the window */
	unsigned long	lr_dropped;	/* lines left out in it */
};
int	 log_rate(struct log_rate *, const char *);
int	 log_rate_at(struct log_rate *, long long, const char *);
/*
 * The note on the lines left out so far, if any, now: for a timer armed
 * when one is left out (log_rate() returned 0), so that a flood that
 * stops is still counted rather than only when a later line comes.
 */
void	 log_rate_flush(struct log_rate *, const char *);

/* Escape control characters (strnvis-style) for a log file or a tty. */
#define LOG_VIS_PIPE		0x1	/* also '|', the logs separator */
#define LOG_VIS_RAW_BACKSLASH	0x2	/* leave '\\' alone */
size_t	 log_vis(char *, size_t, const char *, int);

#endif /* VPND_LOG_H */

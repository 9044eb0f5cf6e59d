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

/* Escape control characters (strnvis-style) for a log file or a tty. */
#define LOG_VIS_PIPE		0x1	/* also '|', the logs separator */
#define LOG_VIS_RAW_BACKSLASH	0x2	/* leave '\\' alone */
size_t	 log_vis(char *, size_t, const char *, int);

#endif /* VPND_LOG_H */

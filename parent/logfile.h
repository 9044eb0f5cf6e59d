/*
 * logfile.h -- the parent's log files: <logdir>/vpnd.log, rotated at a
 * size cap into vpnd.log.1 .. vpnd.log.N, a new file at every start.
 */
#ifndef VPND_LOGFILE_H
#define VPND_LOGFILE_H

#include <stddef.h>

#define LOGFILE_NAME		"vpnd.log"
#define LOGFILE_MAX		(1024 * 1024)	/* bytes per file */
#define LOGFILE_KEEP		4		/* files in all */

int	 logfile_open(const char *dir);		/* rotates what is there */
void	 logfile_write(const char *line);	/* appends line + '\n' */
/* Calls cb for each chunk of the files' text, oldest first. */
int	 logfile_read(void (*cb)(const char *, size_t, void *), void *);
int	 logfile_clean(void);
void	 logfile_close(void);

#endif /* VPND_LOGFILE_H */

/*
 * logfile.h -- the parent's log files: <logdir>/vpnd.log, rotated at a
 * size cap into vpnd.log.1 .. vpnd.log.N, a new file at every start.
 */
#ifndef VPND_LOGFILE_H
#define VPND_LOGFILE_H

#include <sys/types.h>

#include <stddef.h>

#define LOGFILE_NAME		"vpnd.log"
#define LOGFILE_MAX		(1024 * 1024)	/* bytes per file */
#define LOGFILE_KEEP		4		/* files in all */

int	 logfile_open(const char *dir);		/* rotates what is there */
void	 logfile_write(const char *line);	/* appends line + '\n' */
/*
 * One reader at a time over the files as they are when it opens (a file
 * rotated or growing meanwhile does not move it): oldest first, only the
 * newest `tail` bytes, from a whole line when that cuts one. It holds the
 * files' descriptors and no text: read() fills the caller's buffer and
 * returns 0 at the end.
 */
int	 logfile_reader_open(size_t tail);
int	 logfile_reader_active(void);
ssize_t	 logfile_reader_read(char *, size_t);
void	 logfile_reader_close(void);
int	 logfile_clean(void);
void	 logfile_close(void);

#endif /* VPND_LOGFILE_H */

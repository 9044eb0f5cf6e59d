/*
 * fz_imsg.h -- for the receiver harnesses: a real imsg channel into a
 * receiver's imsgev, messages of any type, any length and, where the
 * channel passes descriptors, with a descriptor attached, handed to the
 * receiver's own dispatch function one at a time. A receiver that stops
 * on bad input does so through fatal()/fatalx(); the harness returns from
 * that through the fatal hook, as if the process had exited, and goes on.
 *
 * Input: records of
 *   byte 0   which receiver (modulo the harness's count)
 *   byte 1   the message type (modulo FZ_NTYPES: every type, and beyond)
 *   byte 2   bit 0: attach a descriptor; bits 1-7 and byte 3: the length
 *            (modulo FZ_MAXLEN + 1)
 *   then the payload (zero-padded when the input ends first).
 * The seeds name types by their number in enum imsg_type: a type added
 * before the end of the enum renumbers the ones after it, and the seeds
 * that mean a particular type (regress/fuzz/seeds/f_parent/dnsopen-*,
 * f_child/dnsset-*) must follow.
 */
#ifndef FZ_IMSG_H
#define FZ_IMSG_H

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "imsgev.h"
#include "log.h"
#include "vpnd.h"

#define FZ_NTYPES	(IMSG_TYPE_END + 2)
#define FZ_MAXLEN	4096
#define FZ_RECORDS	32

struct fz_chan {
	struct imsgev	 iev;		/* the receiver's end */
	struct imsgbuf	 peer;		/* the sender's end */
	int		 sv[2];
};

static jmp_buf	 fz_jmp;
static int	 fz_in_dispatch;
static int	 fz_fatals;

static void
fz_quiet(int pri, const char *proc, const char *line)
{
}

/* fatal()'s hook: the receiver would exit here; return to the harness */
static void
fz_fatal_hook(void)
{
	if (!fz_in_dispatch)
		abort();
	fz_fatals++;
	longjmp(fz_jmp, 1);
}

static void
fz_init(void)
{
	event_init();
	log_set_sink(fz_quiet);
	log_set_fatal_hook(fz_fatal_hook);
}

static void
fz_chan_init(struct fz_chan *c, int proc, bool fdpass, imsgev_fn *fn)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->sv) == -1 ||
	    imsgev_init(&c->iev, c->sv[0], proc, fdpass, fn, NULL, NULL) ==
	    -1 || imsgbuf_init(&c->peer, c->sv[1]) == -1)
		abort();
	(void)imsgbuf_set_maxsize(&c->peer, VPND_MAX_IMSG);
	if (fdpass)
		imsgbuf_allow_fdpass(&c->peer);
}

/* What the receiver wrote back: read and dropped. */
static void
fz_chan_drain(struct fz_chan *c)
{
	char	 junk[8192];

	(void)imsgbuf_flush(&c->iev.ibuf);
	while (read(c->sv[1], junk, sizeof(junk)) > 0)
		;
}

/*
 * One message through the channel into fn. Returns 1 if the receiver
 * took the fatal path, 0 if fn returned.
 */
static int
fz_send(struct fz_chan *c, imsgev_fn *fn, uint32_t type, const void *data,
    size_t len, bool withfd, int *rv, int (*fn_rv)(struct imsgev *,
    struct imsg *))
{
	struct imsg	 imsg;
	ssize_t		 r;
	int		 fd = -1, fatal_path = 0;

	if (withfd && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	if (imsg_compose(&c->peer, type, 0, 0, fd, data, len) == -1)
		abort();
	if (imsgbuf_flush(&c->peer) == -1)
		abort();
	if ((r = imsgbuf_read(&c->iev.ibuf)) == -1 || r == 0)
		abort();
	while ((r = imsgbuf_get(&c->iev.ibuf, &imsg)) > 0) {
		fz_in_dispatch = 1;
		if (setjmp(fz_jmp) == 0) {
			if (fn_rv != NULL)
				*rv = fn_rv(&c->iev, &imsg);
			else
				fn(&c->iev, &imsg);
		} else
			fatal_path = 1;
		fz_in_dispatch = 0;
		imsg_free(&imsg);	/* closes a descriptor not taken */
	}
	if (r == -1)
		abort();
	fz_chan_drain(c);
	return fatal_path;
}

/* The lowest free descriptor: it must not climb across inputs. */
static int
fz_lowest_fd(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	close(fd);
	return fd;
}

static int
fz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)remove(path);
	return 0;
}

/* The harness's private directory, at exit. */
static char	 fz_dir[64];

static void
fz_rmdir(void)
{
	if (fz_dir[0] != '\0')
		(void)nftw(fz_dir, fz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* A private directory, removed at exit. */
static const char *
fz_mkdir(const char *name)
{
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/%s.XXXXXX", name);
	if (mkdtemp(fz_dir) == NULL)
		abort();
	atexit(fz_rmdir);
	return fz_dir;
}

#endif /* FZ_IMSG_H */

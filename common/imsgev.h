/*
 * imsgev.h -- an imsg channel driven by libevent, as in OpenBSD daemons.
 */
#ifndef VPND_IMSGEV_H
#define VPND_IMSGEV_H

#include <sys/types.h>
#include <event.h>
#include <stdbool.h>
#include <stdint.h>

#include "imsg.h"

struct imsgev;
/* Called once per complete message; the callee must not imsg_free. */
typedef void imsgev_fn(struct imsgev *, struct imsg *);
/* Called when the channel closes or breaks. */
typedef void imsgev_close_fn(struct imsgev *);

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	short		 events;
	imsgev_fn	*dispatch;
	imsgev_close_fn	*closed;
	void		*data;
	int		 proc;		/* enum vpnd_proc of the peer */
	bool		 active;
	uint32_t	 qpause;	/* 0, or stop reading at this queue */
};

/*
 * Backpressure for a channel whose peer we do not trust: while qpause or
 * more messages wait to be sent, nothing more is read or dispatched from
 * the peer, so a peer that asks and never reads costs at most qpause
 * messages plus what one request produces.
 */
#define IMSGEV_QPAUSE		256

int	 imsgev_init(struct imsgev *, int fd, int proc, bool fdpass,
	    imsgev_fn *, imsgev_close_fn *, void *);
void	 imsgev_add(struct imsgev *);
void	 imsgev_clear(struct imsgev *);	/* stop events, free, close fd */
int	 imsgev_compose(struct imsgev *, uint32_t type, uint32_t id, int fd,
	    const void *, size_t);
/* Write everything queued now (blocking-ish, for shutdown paths). */
void	 imsgev_flush(struct imsgev *);
void	 imsgev_set_pause(struct imsgev *, uint32_t qpause);
bool	 imsgev_paused(struct imsgev *);

#endif /* VPND_IMSGEV_H */

/*
 * t_imsg_backpressure.c -- a child that asks and never reads cannot grow
 * the parent: with a pause set, an imsgev stops reading and dispatching
 * while its send queue is full, and resumes when the peer reads, losing
 * nothing. The dispatcher answers each request the way the parent
 * answers a `logs` request: many chunks at once.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>

#include "compat.h"
#include "imsgev.h"
#include "tap.h"
#include "vpnd.h"

#define NREQ		1000
#define NCHUNK		64	/* replies per request */
#define CHUNK		1024
#define REQ		1
#define DATA		2
#define DEADLINE_MS	20000

static size_t	 ndispatched;
static bool	 closed;

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
dispatch(struct imsgev *iev, struct imsg *imsg)
{
	static uint8_t	 chunk[CHUNK];
	int		 i;

	if (imsg_get_type(imsg) != REQ)
		return;
	ndispatched++;
	for (i = 0; i < NCHUNK; i++)
		if (imsgev_compose(iev, DATA, 0, -1, chunk,
		    sizeof(chunk)) == -1)
			abort();
}

static void
on_closed(struct imsgev *iev)
{
	closed = true;
}

/* Read and count what the parent sent; -1 on a broken channel. */
static int
child_read(struct imsgbuf *ib, size_t *ndata)
{
	struct imsg	 imsg;
	ssize_t		 n;

	if ((n = imsgbuf_read(ib)) == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	while ((n = imsgbuf_get(ib, &imsg)) > 0) {
		if (imsg_get_type(&imsg) == DATA)
			(*ndata)++;
		imsg_free(&imsg);
	}
	return n == -1 ? -1 : 0;
}

static void
run(bool pause)
{
	struct event_base	*base;
	struct imsgev		 iev;
	struct imsgbuf		 child;
	int			 sv[2], i, idle;
	size_t			 maxq = 0, q, ndata = 0, stalled;
	long			 end;

	ndispatched = 0;
	closed = false;
	base = event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	if (imsgev_init(&iev, sv[0], PROC_NETMGR, false, dispatch, on_closed,
	    NULL) == -1 || imsgbuf_init(&child, sv[1]) == -1)
		abort();
	if (pause)
		imsgev_set_pause(&iev, IMSGEV_QPAUSE);

	/* The child sends every request and reads nothing. */
	for (i = 0; i < NREQ; i++)
		if (imsg_compose(&child, REQ, 0, 0, -1, NULL, 0) == -1)
			abort();
	end = now_ms() + DEADLINE_MS;
	idle = 0;
	while (now_ms() < end && idle < 200 &&
	    (pause || ndispatched < NREQ)) {
		size_t	 before = ndispatched;

		if (imsgbuf_queuelen(&child) > 0 && imsgbuf_write(&child) == -1 &&
		    errno != EAGAIN)
			abort();
		event_base_loop(base, EVLOOP_NONBLOCK);
		q = imsgbuf_queuelen(&iev.ibuf);
		maxq = MAXIMUM(maxq, q);
		idle = ndispatched == before && imsgbuf_queuelen(&child) == 0 ?
		    idle + 1 : 0;
	}
	stalled = ndispatched;
	if (!pause) {
		/* Without backpressure, every request was answered into memory. */
		is_int(stalled, NREQ, "no pause: all %d requests dispatched "
		    "without the child reading", NREQ);
		ok(maxq > (size_t)NREQ * NCHUNK / 2,
		    "no pause: the send queue grew to %zu messages", maxq);
		goto out;
	}
	ok(stalled < NREQ, "pause: dispatching stopped (%zu of %d) while the "
	    "child did not read", stalled, NREQ);
	ok(maxq <= IMSGEV_QPAUSE + NCHUNK, "pause: queue never above %d + "
	    "one request's replies (max %zu)", IMSGEV_QPAUSE, maxq);

	/* Now the child reads: everything arrives, nothing is lost. */
	end = now_ms() + DEADLINE_MS;
	while (ndata < (size_t)NREQ * NCHUNK && now_ms() < end && !closed) {
		if (imsgbuf_queuelen(&child) > 0 && imsgbuf_write(&child) == -1 &&
		    errno != EAGAIN)
			abort();
		event_base_loop(base, EVLOOP_NONBLOCK);
		maxq = MAXIMUM(maxq, imsgbuf_queuelen(&iev.ibuf));
		if (child_read(&child, &ndata) == -1)
			break;
		poll(NULL, 0, 0);
	}
	is_int(ndispatched, NREQ, "pause: every request dispatched once the "
	    "child reads");
	is_int(ndata, NREQ * NCHUNK, "pause: every reply arrived");
	ok(maxq <= IMSGEV_QPAUSE + NCHUNK, "pause: still bounded (max %zu)",
	    maxq);
	ok(!closed, "the channel stayed open");
out:
	imsgev_clear(&iev);
	imsgbuf_clear(&child);
	close(sv[1]);
	event_base_free(base);
}

int
main(void)
{
	plan(8);
	run(false);
	run(true);
	return done_testing();
}

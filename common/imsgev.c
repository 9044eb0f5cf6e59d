/*
 * imsgev.c -- glue between imsgbuf and libevent.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "imsgev.h"
#include "log.h"
#include "vpnd.h"

static void	imsgev_handler(int, short, void *);

const char *const vpnd_proc_names[PROC_MAX] = {
	"parent", "netmgr", "tunworker", "dnsmgr"
};

int
imsgev_init(struct imsgev *iev, int fd, int proc, bool fdpass,
    imsgev_fn *dispatch, imsgev_close_fn *closed, void *data)
{
	int	 fl;

	memset(iev, 0, sizeof(*iev));
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		return -1;
	if (fdpass)
		imsgbuf_allow_fdpass(&iev->ibuf);
	if (imsgbuf_set_maxsize(&iev->ibuf, VPND_MAX_IMSG) == -1) {
		imsgbuf_clear(&iev->ibuf);
		return -1;
	}
	iev->dispatch = dispatch;
	iev->closed = closed;
	iev->data = data;
	iev->proc = proc;
	iev->active = true;
	iev->events = EV_READ;
	event_set(&iev->ev, fd, iev->events, imsgev_handler, iev);
	event_add(&iev->ev, NULL);
	return 0;
}

void
imsgev_set_pause(struct imsgev *iev, uint32_t qpause)
{
	iev->qpause = qpause;
}

bool
imsgev_paused(struct imsgev *iev)
{
	return iev->qpause > 0 &&
	    imsgbuf_queuelen(&iev->ibuf) >= iev->qpause;
}

void
imsgev_add(struct imsgev *iev)
{
	if (!iev->active)
		return;
	iev->events = imsgev_paused(iev) ? 0 : EV_READ;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		iev->events |= EV_WRITE;
	event_del(&iev->ev);
	event_set(&iev->ev, iev->ibuf.fd, iev->events, imsgev_handler, iev);
	event_add(&iev->ev, NULL);
}

void
imsgev_clear(struct imsgev *iev)
{
	if (!iev->active)
		return;
	iev->active = false;
	event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	int	 r;

	if (!iev->active) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return -1;
	}
	r = imsg_compose(&iev->ibuf, type, id, 0, fd, data, len);
	if (r != -1)
		imsgev_add(iev);
	return r;
}

void
imsgev_flush(struct imsgev *iev)
{
	if (iev->active)
		(void)imsgbuf_flush(&iev->ibuf);
}

static void
imsgev_closed(struct imsgev *iev)
{
	imsgev_close_fn	*fn = iev->closed;

	imsgev_clear(iev);
	if (fn != NULL)
		fn(iev);
}

static void
imsgev_handler(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	int		 n;

	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			if (errno != EPIPE)
				log_warn("%s: write to %s", __func__,
				    vpnd_proc_names[iev->proc]);
			imsgev_closed(iev);
			return;
		}
	}
	if (event & EV_READ) {
		if ((n = imsgbuf_read(&iev->ibuf)) == -1) {
			log_warn("%s: read from %s", __func__,
			    vpnd_proc_names[iev->proc]);
			imsgev_closed(iev);
			return;
		}
		if (n == 0) {
			imsgev_closed(iev);
			return;
		}
	}
	for (;;) {
		if (!iev->active)
			return;
		/* What was read waits until the replies drain. */
		if (imsgev_paused(iev))
			break;
		if ((n = imsgbuf_get(&iev->ibuf, &imsg)) == -1) {
			/* A channel that lies is fatal for that channel. */
			log_warn("%s: bad message from %s", __func__,
			    vpnd_proc_names[iev->proc]);
			imsgev_closed(iev);
			return;
		}
		if (n == 0)
			break;
		iev->dispatch(iev, &imsg);
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

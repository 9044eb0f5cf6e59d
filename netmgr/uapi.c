/*
 * uapi.c -- netmgr's server of the WireGuard UAPI socket: root only (the
 * peer's credentials at accept), one request per connection, a bounded
 * number of connections, each with a deadline. "get" waits for fresh
 * counters from tunworker (query.c asks; the same request serves status);
 * "set" for the parent to have carried it out, so a set the system
 * refuses (and tunnel.c undoes) is answered with that errno.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "query.h"
#include "tunnel.h"
#include "uapi.h"
#include "vpnd.h"

#define UAPI_MAX_CONNS		16
#define UAPI_TIMEOUT_SEC	10	/* to send a request and read a reply */

struct uapi_conn {
	int			 fd;
	int			 waiting;	/* get: for the counters */
	int			 setting;	/* set: for its outcome */
	struct event		 ev;
	struct event		 ev_timeout;
	struct uapi_parser	 p;
	struct uapi_buf		 out;
	size_t			 off;
};

static void	 uapi_accept(int, short, void *);
static void	 uapi_read(int, short, void *);
static void	 uapi_write(int, short, void *);
static void	 uapi_timeout(int, short, void *);
static void	 uapi_reply(struct uapi_conn *);
static void	 uapi_set_reply(struct uapi_conn *, int);
static void	 uapi_on_set(int);
static void	 uapi_close(struct uapi_conn *);

static struct event_base	*base;
static struct event		 ev_listen;
static struct uapi_conn		*conns[UAPI_MAX_CONNS];

void
uapi_init(struct event_base *eb, int fd)
{
	base = eb;
	tunnel_set_uapi_hook(uapi_on_set);
	event_set(&ev_listen, fd, EV_READ | EV_PERSIST, uapi_accept, NULL);
	event_base_set(base, &ev_listen);
	if (event_add(&ev_listen, NULL) == -1)
		fatal("uapi: event_add");
}

static void
uapi_accept(int lfd, short ev, void *arg)
{
	struct uapi_conn	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	struct timeval		 tv = { UAPI_TIMEOUT_SEC, 0 };
	size_t			 i;
	int			 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("uapi: accept");
		return;
	}
	memset(&cred, 0, sizeof(cred));
	cred.uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != 0) {
		log_warnx("uapi: refused a caller with uid %u, pid %d: root "
		    "only", (unsigned int)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	for (i = 0; i < nitems(conns); i++)
		if (conns[i] == NULL)
			break;
	if (i == nitems(conns) || (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("uapi: too many connections");
		close(fd);
		return;
	}
	conns[i] = c;
	c->fd = fd;
	uapi_parser_init(&c->p);
	event_set(&c->ev, fd, EV_READ | EV_PERSIST, uapi_read, c);
	event_base_set(base, &c->ev);
	evtimer_set(&c->ev_timeout, uapi_timeout, c);
	event_base_set(base, &c->ev_timeout);
	event_add(&c->ev, NULL);
	evtimer_add(&c->ev_timeout, &tv);
}

static void
uapi_read(int fd, short ev, void *arg)
{
	struct uapi_conn	*c = arg;
	char			 buf[4096];
	ssize_t			 n;
	size_t			 used;
	int			 r;

	if ((n = read(fd, buf, sizeof(buf))) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		uapi_close(c);
		return;
	}
	if (n == 0) {
		uapi_close(c);
		return;
	}
	r = uapi_parse(&c->p, buf, (size_t)n, &used);
	explicit_bzero(buf, sizeof(buf));
	if (r == UAPI_MORE)
		return;
	/* One request per connection: what follows it is ignored. */
	event_del(&c->ev);
	if (r == UAPI_BAD || c->p.op == UAPI_OP_SET) {
		if (r == UAPI_BAD)
			log_warnx("uapi: malformed request (%s)",
			    strerror(c->p.err));
		else if (c->p.err != 0)
			log_warnx("uapi: set refused: %s", strerror(c->p.err));
		else if ((c->p.err = tunnel_uapi_set(&c->p.set)) ==
		    EINPROGRESS) {
			c->setting = 1;		/* uapi_on_set() answers */
			return;
		}
		uapi_set_reply(c, c->p.err);
		return;
	}
	c->waiting = 1;
	query_refresh();
}

/* negative, as wireguard-go answers and wg(8) reads it */
static void
uapi_set_reply(struct uapi_conn *c, int err)
{
	uapi_buf_printf(&c->out, "errno=%d\n\n", -err);
	uapi_reply(c);
}

/* tunnel.c: the set being carried out is set up, or undone (err). */
static void
uapi_on_set(int err)
{
	size_t	i;

	for (i = 0; i < nitems(conns); i++)
		if (conns[i] != NULL && conns[i]->setting) {
			conns[i]->setting = 0;
			uapi_set_reply(conns[i], err);
		}
}

/* Counters came (or did not in time): answer every waiting get. */
void
uapi_on_stats(void)
{
	const struct imsg_wg_stats	*st;
	const struct tunnel_conf	*conf;
	size_t				 i, n;

	for (i = 0; i < nitems(conns); i++) {
		if (conns[i] == NULL || !conns[i]->waiting)
			continue;
		conns[i]->waiting = 0;
		query_stats(&st, &n);
		conf = tunnel_conf_in_force();
		uapi_get_format(&conns[i]->out, conf, conf != NULL ?
		    conf_fwmark(conf) : 0, st, n);
		uapi_reply(conns[i]);
	}
}

static void
uapi_reply(struct uapi_conn *c)
{
	if (c->out.failed) {
		log_warnx("uapi: out of memory");
		uapi_close(c);
		return;
	}
	event_set(&c->ev, c->fd, EV_WRITE | EV_PERSIST, uapi_write, c);
	event_base_set(base, &c->ev);
	event_add(&c->ev, NULL);
}

static void
uapi_write(int fd, short ev, void *arg)
{
	struct uapi_conn	*c = arg;
	ssize_t			 n;

	n = write(fd, c->out.data + c->off, c->out.len - c->off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		uapi_close(c);
		return;
	}
	c->off += (size_t)n;
	if (c->off == c->out.len)
		uapi_close(c);
}

static void
uapi_timeout(int fd, short ev, void *arg)
{
	uapi_close(arg);
}

static void
uapi_close(struct uapi_conn *c)
{
	size_t	 i;

	for (i = 0; i < nitems(conns); i++)
		if (conns[i] == c)
			conns[i] = NULL;
	event_del(&c->ev);
	evtimer_del(&c->ev_timeout);
	close(c->fd);
	uapi_parser_clear(&c->p);
	uapi_buf_free(&c->out);
	free(c);
}

/*
 * control.c -- the control socket server: one JSON object per line.
 *
 * Shaped after OpenBSD's bgpd/vmd control.c: every client is checked with
 * its peer credentials (root and the acl may ask everything, others only
 * the read-only tier, as bgpd's restricted clients), every client has its own input buffer and output
 * queue, and a client that does not read is cut off at a high-water mark
 * rather than allowed to block the daemon or anyone else.
 *
 * Input is read with read(2) into one fixed buffer per client instead of
 * an evbuffer, so an activate line (which carries a private key) can be
 * wiped once parsed. Replies are kept in request order with a queue of
 * slots: a slot is opened for each request and filled when the answer
 * comes, possibly later; signals and errors are pre-filled slots.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <json-c/json.h>

#include "compat.h"
#include "control.h"
#include "proto.h"

#define CTL_INBUF	(CTL_LINE_MAX + 1)	/* a full line and its '\n' */
#define CTL_JSON_DEPTH	32

struct ctl_slot {
	TAILQ_ENTRY(ctl_slot)	 entry;
	struct json_object	*req;	/* NULL once answered */
	char			*out;	/* the line to send; NULL: nothing */
	size_t			 outlen;
	bool			 done;
	bool			 secret;	/* req holds keys: wipe it */
	size_t			 cost;	/* counted in the conn's queued */
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	TAILQ_HEAD(, ctl_slot)	 slots;
	unsigned int		 id;
	int			 fd;
	pid_t			 pid;	/* SO_PEERCRED at accept, as uid */
	struct event		 rev, wev;
	struct evbuffer		*out;
	char			*in;
	size_t			 inlen;
	size_t			 npending;	/* slots not yet answered */
	size_t			 queued;	/* bytes held in slots */
	uid_t			 uid;
	bool			 overflow;	/* over the backlog: drop */
	int			 inuse;	/* inside its own callback */
	bool			 discard;	/* skipping a too-long line */
	bool			 reading;
	bool			 eof;
	bool			 dead;
	bool			 admin;	/* root or in the acl: every request */
	ctl_sink_fn		*sink;	/* a local client: lines go here */
	void			*sink_arg;
};

#ifdef VPND_TESTHOOKS
bool	 control_testhook_exclude_any;
#endif

static struct {
	struct event_base	*base;
	int			 fd;
	struct event		 ev;
	struct event		 pause;
	bool			 running;
	struct ctl_acl		 acl;
	ctl_request_fn		*fn;
	void			*arg;
	TAILQ_HEAD(, ctl_conn)	 conns;
	size_t			 nconns;
	unsigned int		 next_id;
} ctl;

static void	 control_accept(int, short, void *);
static void	 control_resume(int, short, void *);
static void	 control_refuse(int, const char *, const char *);
static bool	 control_allowed(int);
static void	 conn_read(int, short, void *);
static void	 conn_write(int, short, void *);
static void	 conn_lines(struct ctl_conn *);
static void	 conn_line(struct ctl_conn *, char *, size_t);
static struct json_object *conn_parse(struct ctl_conn *, char *, size_t);
static int	 conn_flush_local(struct ctl_conn *);
static void	 conn_dispatch(struct ctl_conn *, struct json_object *);
static void	 conn_close(struct ctl_conn *);
static void	 conn_free(struct ctl_conn *);
static int	 conn_flush(struct ctl_conn *);
static void	 conn_push(struct ctl_conn *, const char *, size_t);
static void	 tokener_free(struct json_tokener *);
static void	 tokener_scrub(struct json_tokener *);
static void	 scrub_deep(struct json_object *, int);
static int	 key_canon(const char *, size_t, char *, size_t);
static long	 key_hex4(const char *, size_t);
static void	 slot_count(struct ctl_conn *, struct ctl_slot *, size_t);
static size_t	 uid_nconns(uid_t);
static void	 conn_enqueue(struct ctl_conn *, struct json_object *);
static void	 conn_fail(struct ctl_conn *, const char *, const char *,
		    const char *, ...) __attribute__((__format__(printf, 4, 5)));
static struct ctl_slot *conn_slot(struct ctl_conn *, struct json_object *);
static void	 slot_release(struct ctl_slot *);
static char	*serialize(struct json_object *, size_t *);
static const char *req_type(struct json_object *);
static struct json_object *req_strip(struct json_object *);

int
control_acl_group(const char *group, struct ctl_acl *acl)
{
	struct group	*gr;
	struct passwd	*pw;
	char		**m;

	memset(acl, 0, sizeof(*acl));
	if ((gr = getgrnam(group)) == NULL)
		return -1;
	acl->gids[acl->ngids++] = gr->gr_gid;
	for (m = gr->gr_mem; *m != NULL && acl->nuids < CTL_ACL_MAX; m++)
		if ((pw = getpwnam(*m)) != NULL)
			acl->uids[acl->nuids++] = pw->pw_uid;
	return 0;
}

int
control_init(struct event_base *base, int fd, const struct ctl_acl *acl,
    ctl_request_fn *fn, void *arg)
{
	if (ctl.running)
		control_shutdown();
	memset(&ctl, 0, sizeof(ctl));
	TAILQ_INIT(&ctl.conns);
	ctl.base = base;
	ctl.fd = fd;
	ctl.fn = fn;
	ctl.arg = arg;
	if (acl != NULL)
		ctl.acl = *acl;
	ctl.acl.nuids = MINIMUM(ctl.acl.nuids, CTL_ACL_MAX);
	ctl.acl.ngids = MINIMUM(ctl.acl.ngids, CTL_ACL_MAX);
	ctl.next_id = 1;
	if (event_assign(&ctl.ev, base, fd, EV_READ | EV_PERSIST,
	    control_accept, NULL) == -1 ||
	    evtimer_assign(&ctl.pause, base, control_resume, NULL) == -1)
		return -1;
	if (event_add(&ctl.ev, NULL) == -1)
		return -1;
	ctl.running = true;
	return 0;
}

void
control_shutdown(void)
{
	struct ctl_conn	*c;

	if (!ctl.running)
		return;
	while ((c = TAILQ_FIRST(&ctl.conns)) != NULL)
		conn_close(c);
	event_del(&ctl.ev);
	event_del(&ctl.pause);
	ctl.running = false;
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
static void
control_resume(int fd, short ev, void *arg)
{
	event_add(&ctl.ev, NULL);
}

static bool
control_allowed(int fd)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	size_t		 i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred))
		return false;
	if (cred.uid == 0)
		return true;
	for (i = 0; i < ctl.acl.nuids; i++)
		if (ctl.acl.uids[i] == cred.uid)
			return true;
	for (i = 0; i < ctl.acl.ngids; i++)
		if (ctl.acl.gids[i] == cred.gid)
			return true;
	return false;
}

/* Tell a client we will not serve it, best effort, and hang up. */
static void
control_refuse(int fd, const char *code, const char *msg)
{
	struct json_object	*o;
	char			*s;
	size_t			 len;

	if ((o = proto_error("", code, msg)) != NULL) {
		if ((s = serialize(o, &len)) != NULL) {
			/* A fresh socket's buffer takes one short line. */
			(void)send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			free(s);
		}
		json_object_put(o);
	}
	close(fd);
}

static void
control_accept(int lfd, short ev, void *arg)
{
	struct ctl_conn		*c;
	struct timeval		 tv = { 1, 0 };
	struct ucred		 cred;
	socklen_t		 credlen = sizeof(cred);
	int			 fd;
	bool			 admin;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			event_del(&ctl.ev);
			evtimer_add(&ctl.pause, &tv);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == -1 ||
	    credlen != sizeof(cred)) {
		control_refuse(fd, "denied", "permission denied");
		return;
	}
	if (!(admin = control_allowed(fd)) && !ctl.acl.others) {
		control_refuse(fd, "denied", "permission denied");
		return;
	}
	/* One user cannot hold every place: a cap per uid but root's. */
	if (cred.uid != 0 && uid_nconns(cred.uid) >= CTL_MAX_PER_UID) {
		control_refuse(fd, "busy", "too many clients for this user");
		return;
	}
	/*
	 * A few places past the limit are kept for root and the group, so
	 * idle clients of other users cannot lock the administrator out.
	 */
	if (ctl.nconns >= CTL_MAX_CLIENTS + (admin ? CTL_ROOT_RESERVE : 0)) {
		control_refuse(fd, "busy", "too many clients");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(CTL_INBUF)) == NULL ||
	    (c->out = evbuffer_new()) == NULL) {
		if (c != NULL) {
			free(c->in);
			free(c);
		}
		control_refuse(fd, "system", "out of memory");
		return;
	}
	TAILQ_INIT(&c->slots);
	c->fd = fd;
	c->uid = cred.uid;
	c->admin = admin;
	c->pid = cred.pid;
	c->id = ctl.next_id++;
	event_assign(&c->rev, ctl.base, fd, EV_READ | EV_PERSIST, conn_read,
	    c);
	event_assign(&c->wev, ctl.base, fd, EV_WRITE | EV_PERSIST,
	    conn_write, c);
	if (event_add(&c->rev, NULL) == -1) {
		evbuffer_free(c->out);
		free(c->in);
		free(c);
		control_refuse(fd, "system", "cannot watch the connection");
		return;
	}
	c->reading = true;
	TAILQ_INSERT_TAIL(&ctl.conns, c, entry);
	ctl.nconns++;
}

static void
conn_read(int fd, short ev, void *arg)
{
	struct ctl_conn	*c = arg;
	ssize_t		 n;

	n = read(fd, c->in + c->inlen, CTL_INBUF - c->inlen);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c);
		return;
	}
	if (n == 0) {
		/* Half-closed: still answer what was asked, then hang up. */
		c->eof = true;
		event_del(&c->rev);
		c->reading = false;
		conn_flush(c);
		return;
	}
	c->inlen += (size_t)n;
	c->inuse++;
	conn_lines(c);
	if (!c->dead)
		conn_flush(c);
	if (--c->inuse == 0 && c->dead)
		conn_free(c);
}

static void
conn_lines(struct ctl_conn *c)
{
	char	*nl;
	size_t	 start = 0, len, limit;

	/*
	 * The read-only tier's requests are short; a long line costs a
	 * parse of up to 80 ms (64 KiB of empty objects) to anyone.
	 */
	limit = c->admin ? CTL_LINE_MAX : CTL_RO_LINE_MAX;
	while (!c->dead &&
	    (nl = memchr(c->in + start, '\n', c->inlen - start)) != NULL) {
		len = nl - (c->in + start);
		if (c->discard)
			c->discard = false;
		else if (len > limit)
			conn_fail(c, "", "too-long", "line longer than %zu "
			    "bytes", limit);
		else
			conn_line(c, c->in + start, len);
		start += len + 1;
	}
	if (c->dead)
		return;
	if (start > 0) {
		memmove(c->in, c->in + start, c->inlen - start);
		/* What moved may have been a key; leave no copy behind. */
		explicit_bzero(c->in + c->inlen - start, start);
		c->inlen -= start;
	}
	if (c->inlen > limit) {
		/* No '\n' within the limit: the line is over it. */
		if (!c->discard)
			conn_fail(c, "", "too-long",
			    "line longer than %zu bytes", limit);
		c->discard = true;
		explicit_bzero(c->in, c->inlen);
		c->inlen = 0;
	}
}

static void
conn_line(struct ctl_conn *c, char *line, size_t len)
{
	struct json_object	*o;

	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len == 0)
		return;
	if ((o = conn_parse(c, line, len)) != NULL)
		conn_dispatch(c, o);
}

/*
 * A line (without its '\n') to a JSON object, or NULL once the client
 * was told why not.
 */
static struct json_object *
conn_parse(struct ctl_conn *c, char *line, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 end;
	char			 dup[80];

	if (memchr(line, '\0', len) != NULL) {
		conn_fail(c, "", "bad-json", "NUL byte in line");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(CTL_JSON_DEPTH)) == NULL) {
		conn_fail(c, "", "system", "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT
#ifdef JSON_TOKENER_VALIDATE_UTF8
	    | JSON_TOKENER_VALIDATE_UTF8
#endif
	    );
	/*
	 * json-c keeps the last of duplicate keys and frees the others
	 * without wiping them: a second "privateKey" would leave the first
	 * in freed heap. Refuse them before json-c sees the line.
	 */
	if (control_json_dupkey(line, len, dup, sizeof(dup))) {
		tokener_free(tok);
		conn_fail(c, "", "bad-json", "duplicate key \"%.64s\"",
		    dup);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    end != len) {
		if (o != NULL) {
			scrub_deep(o, 0);	/* it may hold keys */
			json_object_put(o);
		}
		tokener_scrub(tok);	/* what a half-done parse built */
		tokener_free(tok);
		conn_fail(c, "", "bad-json", "not a JSON object");
		return NULL;
	}
	tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		scrub_deep(o, 0);
		json_object_put(o);
		conn_fail(c, "", "bad-json", "not a JSON object");
		return NULL;
	}
	return o;
}

static void
conn_dispatch(struct ctl_conn *c, struct json_object *o)
{
	struct json_object	*t, *id, *reply;
	struct ctl_slot		*s;
	const struct proto_request *r;
	const char		*type;
	bool			 secret;

	if (!json_object_object_get_ex(o, "type", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		json_object_put(o);
		conn_fail(c, "", "bad-request", "no string \"type\"");
		return;
	}
	type = json_object_get_string(t);
	if (json_object_object_get_ex(o, "id", &id) && id != NULL &&
	    !json_object_is_type(id, json_type_string) &&
	    !json_object_is_type(id, json_type_int) &&
	    !json_object_is_type(id, json_type_double)) {
		conn_fail(c, type, "bad-request",
		    "\"id\" must be a string or a number");
		json_object_put(o);
		return;
	}
	if ((r = proto_request_find(type)) == NULL) {
		if ((s = conn_slot(c, o)) != NULL)
			control_error(c, o, NULL, "unknown-type",
			    "unknown request type \"%.64s\"", type);
		json_object_put(o);
		return;
	}
	/*
	 * A request that reads nothing but its type and id is held as just
	 * those while it waits: a line of 64 KiB can parse to 17 MB of
	 * objects, and any local user may keep requests waiting.
	 */
	if (!(r->flags & PROTO_REQ_BODY)) {
		if ((o = req_strip(o)) == NULL) {
			conn_fail(c, r->type, "system", "out of memory");
			return;
		}
		type = r->type;
	}
	secret = (r->flags & PROTO_REQ_SECRET) != 0;
	if ((s = conn_slot(c, o)) == NULL) {
		if (secret)
			proto_scrub(o);
		json_object_put(o);
		return;
	}
	s->secret = secret;
	if ((r->flags & PROTO_REQ_ADMIN) && !c->admin
#ifdef VPND_TESTHOOKS
	    /* a compromised netmgr: the parent must check on its own */
	    && !(control_testhook_exclude_any &&
	    r->req == PROTO_REQ_EXCLUDE)
#endif
	    )
		control_error(c, o, NULL, "denied", "permission denied: "
		    "%s is for root and the control group", r->type);
	else if (r->req == PROTO_REQ_VERSION)
		control_reply(c, o, proto_version_json());
	else if (ctl.fn != NULL)
		ctl.fn(c, r, o, ctl.arg);
	else if ((reply = proto_error(type, "system", "not ready")) != NULL)
		control_reply(c, o, reply);
	json_object_put(o);
}

/* Open a slot for a request; the slot holds its own reference. */
static struct ctl_slot *
conn_slot(struct ctl_conn *c, struct json_object *req)
{
	struct ctl_slot	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		conn_fail(c, req_type(req), "system", "out of memory");
		return NULL;
	}
	s->req = json_object_get(req);
	TAILQ_INSERT_TAIL(&c->slots, s, entry);
	c->npending++;
	if (c->npending >= CTL_MAX_PENDING && c->reading) {
		/* Stop taking requests until some are answered. */
		event_del(&c->rev);
		c->reading = false;
	}
	return s;
}

/*
 * Lines queued behind a pending request (errors for bad lines, signals)
 * count toward the client's backlog, slot and all: a client over it is
 * dropped at the next flush.  Replies to requests are bounded by
 * CTL_MAX_PENDING instead.
 */
static void
slot_count(struct ctl_conn *c, struct ctl_slot *s, size_t n)
{
	s->cost += n;
	c->queued += n;
	if (c->queued + evbuffer_get_length(c->out) > CTL_MAX_BACKLOG)
		c->overflow = true;
}

static size_t
uid_nconns(uid_t uid)
{
	struct ctl_conn	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &ctl.conns, entry)
		if (c->uid == uid && c->sink == NULL)
			n++;
	return n;
}

static void
slot_release(struct ctl_slot *s)
{
	if (s->req == NULL)
		return;
	if (s->secret)
		proto_scrub(s->req);
	json_object_put(s->req);
	s->req = NULL;
}

/* A new object with only req's "type" and "id"; req is released. */
static struct json_object *
req_strip(struct json_object *req)
{
	struct json_object	*o, *v;

	if ((o = json_object_new_object()) != NULL) {
		if (json_object_object_get_ex(req, "type", &v))
			json_object_object_add(o, "type", json_object_get(v));
		if (json_object_object_get_ex(req, "id", &v) && v != NULL)
			json_object_object_add(o, "id", json_object_get(v));
	}
	json_object_put(req);
	return o;
}

static const char *
req_type(struct json_object *req)
{
	struct json_object	*t;

	if (req != NULL && json_object_object_get_ex(req, "type", &t) &&
	    json_object_is_type(t, json_type_string))
		return json_object_get_string(t);
	return "";
}

static char *
serialize(struct json_object *o, size_t *lenp)
{
	const char	*js;
	char		*s;
	size_t		 len;

	js = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (js == NULL)
		return NULL;
	len = strlen(js);
	if ((s = malloc(len + 2)) == NULL)
		return NULL;
	memcpy(s, js, len);
	s[len++] = '\n';
	s[len] = '\0';
	*lenp = len;
	return s;
}

/* Queue an already serialised line behind whatever is still pending. */
static void
conn_push(struct ctl_conn *c, const char *line, size_t len)
{
	struct ctl_slot	*s;

	if (c->dead)
		return;
	/* The caller flushes, which drops a client marked overflow. */
	if (c->overflow)
		return;
	if (TAILQ_EMPTY(&c->slots) && c->sink == NULL) {
		if (evbuffer_add(c->out, line, len) == -1)
			c->overflow = true;
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->out = malloc(len)) == NULL) {
		free(s);
		c->overflow = true;
		return;
	}
	memcpy(s->out, line, len);
	s->outlen = len;
	s->done = true;
	TAILQ_INSERT_TAIL(&c->slots, s, entry);
	slot_count(c, s, sizeof(*s) + len);
}

/* Takes ownership of o. */
static void
conn_enqueue(struct ctl_conn *c, struct json_object *o)
{
	char	*s;
	size_t	 len;

	if (o == NULL)
		return;
	if (!c->dead && (s = serialize(o, &len)) != NULL) {
		conn_push(c, s, len);
		free(s);
	}
	json_object_put(o);
}

static void
conn_fail(struct ctl_conn *c, const char *request, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_enqueue(c, proto_error(request, code, msg));
	conn_flush(c);
}

/*
 * Move answered slots to the output buffer, write what the socket takes,
 * and drop the client when too much is left. -1: the client is gone.
 */
static int
conn_flush(struct ctl_conn *c)
{
	struct ctl_slot	*s;
	struct iovec	 iov[16];
	struct msghdr	 msg;
	ssize_t		 n;
	int		 niov;

	if (c->dead)
		return -1;
	if (c->sink != NULL)
		return conn_flush_local(c);
	if (c->overflow) {
		conn_close(c);
		return -1;
	}
	while ((s = TAILQ_FIRST(&c->slots)) != NULL && s->done) {
		TAILQ_REMOVE(&c->slots, s, entry);
		c->queued -= s->cost;
		if (s->out != NULL &&
		    evbuffer_add(c->out, s->out, s->outlen) == -1) {
			free(s->out);
			free(s);
			conn_close(c);
			return -1;
		}
		free(s->out);
		free(s);
	}
	while (evbuffer_get_length(c->out) > 0) {
		niov = evbuffer_peek(c->out, -1, NULL, iov, nitems(iov));
		if (niov <= 0)
			break;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = MINIMUM((size_t)niov, nitems(iov));
		/* MSG_NOSIGNAL: a client that hung up must not kill us. */
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return -1;
		}
		evbuffer_drain(c->out, (size_t)n);
	}
	if (evbuffer_get_length(c->out) + c->queued > CTL_MAX_BACKLOG) {
		conn_close(c);
		return -1;
	}
	if (evbuffer_get_length(c->out) > 0) {
		if (!event_pending(&c->wev, EV_WRITE, NULL))
			event_add(&c->wev, NULL);
	} else if (event_pending(&c->wev, EV_WRITE, NULL))
		event_del(&c->wev);
	if (c->eof && TAILQ_EMPTY(&c->slots) &&
	    evbuffer_get_length(c->out) == 0) {
		conn_close(c);
		return -1;
	}
	if (!c->reading && !c->eof && c->npending < CTL_MAX_PENDING) {
		event_add(&c->rev, NULL);
		c->reading = true;
	}
	return 0;
}

/*
 * A local client: the answered lines, in order, to its sink (without the
 * '\n'). The sink may close the client (control_local_close()).
 */
static int
conn_flush_local(struct ctl_conn *c)
{
	struct ctl_slot	*s;

	c->inuse++;
	while (!c->dead && (s = TAILQ_FIRST(&c->slots)) != NULL && s->done) {
		TAILQ_REMOVE(&c->slots, s, entry);
		c->queued -= s->cost;
		if (s->out != NULL && s->outlen > 0)
			c->sink(c, s->out, s->outlen - 1, c->sink_arg);
		free(s->out);
		free(s);
	}
	c->overflow = false;
	if (--c->inuse == 0 && c->dead) {
		conn_free(c);
		return -1;
	}
	return c->dead ? -1 : 0;
}

static void
conn_write(int fd, short ev, void *arg)
{
	conn_flush(arg);
}

static void
conn_close(struct ctl_conn *c)
{
	struct ctl_slot	*s;

	if (c->dead)
		return;
	c->dead = true;
	TAILQ_REMOVE(&ctl.conns, c, entry);
	if (c->sink == NULL) {
		ctl.nconns--;
		event_del(&c->rev);
		event_del(&c->wev);
		close(c->fd);
	}
	c->fd = -1;
	while ((s = TAILQ_FIRST(&c->slots)) != NULL) {
		TAILQ_REMOVE(&c->slots, s, entry);
		slot_release(s);
		free(s->out);
		free(s);
	}
	if (c->inuse == 0)
		conn_free(c);
}

static void
conn_free(struct ctl_conn *c)
{
	if (c->in != NULL)	/* local clients have none */
		freezero(c->in, CTL_INBUF);
	evbuffer_free(c->out);
	free(c);
}

void
control_reply(struct ctl_conn *c, struct json_object *req,
    struct json_object *obj)
{
	struct json_object	*v;
	struct ctl_slot		*s;

	if (obj == NULL)
		return;
	if (c == NULL || !control_conn_alive(c)) {
		json_object_put(obj);
		return;
	}
	if (req == NULL) {
		control_send(c, obj);
		return;
	}
	TAILQ_FOREACH(s, &c->slots, entry)
		if (!s->done && s->req == req)
			break;
	if (s == NULL) {
		/* Answered twice, or not a request of this client. */
		json_object_put(obj);
		return;
	}
	if (!json_object_object_get_ex(obj, "type", &v))
		json_object_object_add(obj, "type",
		    json_object_new_string(req_type(req)));
	if (json_object_object_get_ex(req, "id", &v) && v != NULL)
		json_object_object_add(obj, "id", json_object_get(v));
	s->out = serialize(obj, &s->outlen);
	json_object_put(obj);
	s->done = true;
	slot_release(s);
	c->npending--;
	conn_flush(c);
}

void
control_error(struct ctl_conn *c, struct json_object *req,
    const char *request_type, const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (request_type == NULL)
		request_type = req_type(req);
	control_reply(c, req, proto_error(request_type, code, msg));
}

void
control_noreply(struct ctl_conn *c, struct json_object *req)
{
	struct ctl_slot	*s;

	if (c == NULL || req == NULL || !control_conn_alive(c))
		return;
	TAILQ_FOREACH(s, &c->slots, entry)
		if (!s->done && s->req == req)
			break;
	if (s == NULL)
		return;
	s->done = true;
	slot_release(s);
	c->npending--;
	conn_flush(c);
}

void
control_send(struct ctl_conn *c, struct json_object *obj)
{
	if (obj == NULL)
		return;
	if (c == NULL || !control_conn_alive(c)) {
		json_object_put(obj);
		return;
	}
	conn_enqueue(c, obj);
	conn_flush(c);
}

void
control_conn_cred(struct ctl_conn *c, uid_t *uid, pid_t *pid)
{
	*uid = c->uid;
	*pid = c->pid;
}

int
control_conn_fd(struct ctl_conn *c)
{
	return c->fd;
}

/*
 * json-c copies every string through the tokener's buffer and frees it
 * without clearing: an activate's private key would stay in freed heap.
 */
static void
tokener_free(struct json_tokener *tok)
{
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		explicit_bzero(tok->pb->buf, tok->pb->size);
	json_tokener_free(tok);
}

/* Every string under o, keys' values and array elements alike. */
static void
scrub_deep(struct json_object *o, int depth)
{
	struct json_object	*v;
	size_t			 i, n;
	int			 len;

	if (o == NULL || depth > CTL_JSON_DEPTH)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		if ((len = json_object_get_string_len(o)) > 0)
			explicit_bzero((char *)(uintptr_t)
			    json_object_get_string(o), (size_t)len);
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, val) {
			(void)k;
			scrub_deep(val, depth + 1);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if ((v = json_object_array_get_idx(o, i)) != NULL)
				scrub_deep(v, depth + 1);
		break;
	default:
		break;
	}
}

/*
 * A parse that failed half-way leaves what it built on the tokener's
 * stack, which json_tokener_free() releases unwiped: wipe it first.
 */
static void
tokener_scrub(struct json_tokener *tok)
{
	int	i;

	if (tok->stack == NULL)
		return;
	for (i = 0; i <= tok->depth && i < tok->max_depth; i++) {
		scrub_deep(tok->stack[i].current, 0);
		if (tok->stack[i].obj_field_name != NULL)
			explicit_bzero(tok->stack[i].obj_field_name,
			    strlen(tok->stack[i].obj_field_name));
	}
}

/* Four hex digits at s (n bytes left) as a number; -1 if they are not. */
static long
key_hex4(const char *s, size_t n)
{
	const char	*hex = "0123456789abcdef", *p;
	long		 u = 0;
	size_t		 k;

	if (n < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		if (s[k] == '\0' || (p = strchr(hex, s[k] | 0x20)) == NULL)
			return -1;
		u = u * 16 + (p - hex);
	}
	return u;
}

/*
 * The key that starts at s (after its opening quote), n bytes up to its
 * closing quote, decoded as json-c decodes it: "priv\u0061teKey" is
 * "privateKey", "\u00e9" is the UTF-8 of U+00E9, a surrogate pair is its
 * character and a lone surrogate U+FFFD. -1 if it does not fit.
 */
static int
key_canon(const char *s, size_t n, char *out, size_t outlen)
{
	size_t		 i, o = 0;
	long		 u, lo;
	char		 ch;

	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '\\' && i + 1 < n) {
			ch = s[++i];
			switch (ch) {
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				if ((u = key_hex4(s + i + 1, n - i - 1)) == -1)
					return -1;
				i += 4;
				if (u < 0x80) {
					ch = (char)u;
					break;
				}
				if (u >= 0xd800 && u <= 0xdbff && i + 2 < n &&
				    s[i + 1] == '\\' && s[i + 2] == 'u' &&
				    (lo = key_hex4(s + i + 3, n - i - 3)) >=
				    0xdc00 && lo <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (lo - 0xdc00);
					i += 6;
				} else if (u >= 0xd800 && u <= 0xdfff)
					u = 0xfffd;
				if (o + 5 >= outlen)
					return -1;
				if (u < 0x800) {
					out[o++] = (char)(0xc0 | (u >> 6));
				} else if (u < 0x10000) {
					out[o++] = (char)(0xe0 | (u >> 12));
					out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
				} else {
					out[o++] = (char)(0xf0 | (u >> 18));
					out[o++] = (char)(0x80 | ((u >> 12) & 0x3f));
					out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
				}
				out[o++] = (char)(0x80 | (u & 0x3f));
				continue;
			default:	/* " \ / */
				break;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

#define DUP_MAX_KEYS	256		/* per object; more is refused */

struct dup_frame {
	bool	 object;
	bool	 want_key;
	size_t	 nkeys;
	size_t	 key_off[DUP_MAX_KEYS], key_len[DUP_MAX_KEYS];
	uint32_t key_hash[DUP_MAX_KEYS];
};

/* FNV-1a of a decoded key, up to its NUL as strcmp() compares it. */
static uint32_t
key_hash(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * Whether some object in the JSON text line holds the same key twice
 * (keys compared after key_canon()); the key goes to dup. Text that is
 * not JSON is left to the parser, except that an object with more keys
 * than DUP_MAX_KEYS, or nesting deeper than the parser allows, counts
 * as a duplicate: it cannot be checked.
 */
bool
control_json_dupkey(const char *line, size_t len, char *dup, size_t duplen)
{
	static struct dup_frame	 st[CTL_JSON_DEPTH + 1];
	struct dup_frame	*f = NULL;
	char			 a[256], b[256];
	size_t			 i, j, k, start, depth = 0;
	uint32_t		 h;

	if (duplen > 0)
		dup[0] = '\0';
	for (i = 0; i < len; i++) {
		switch (line[i]) {
		case '{':
		case '[':
			if (depth == nitems(st)) {
				strlcpy(dup, "(too deep)", duplen);
				return true;
			}
			f = &st[depth++];
			f->object = line[i] == '{';
			f->want_key = f->object;
			f->nkeys = 0;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			f = depth > 0 ? &st[depth - 1] : NULL;
			break;
		case ',':
			if (f != NULL && f->object)
				f->want_key = true;
			break;
		case '"':
			start = ++i;
			while (i < len && line[i] != '"')
				i += line[i] == '\\' ? 2 : 1;
			if (i > len)
				i = len;
			if (f == NULL || !f->object || !f->want_key)
				break;
			f->want_key = false;
			if (f->nkeys == DUP_MAX_KEYS) {
				strlcpy(dup, "(too many keys)", duplen);
				return true;
			}
			if (key_canon(line + start, i - start, a,
			    sizeof(a)) == -1)
				continue;	/* the parser will judge it */
			/*
			 * Each key is decoded once; another is decoded again
			 * only when its hash is the same (all pairs decoded
			 * cost 30 ms for a line of 255 long keys).
			 */
			h = key_hash(a);
			for (k = 0; k < f->nkeys; k++) {
				if (f->key_hash[k] != h)
					continue;
				j = f->key_off[k];
				if (key_canon(line + j, f->key_len[k], b,
				    sizeof(b)) == 0 && strcmp(a, b) == 0) {
					strlcpy(dup, a, duplen);
					explicit_bzero(a, sizeof(a));
					explicit_bzero(b, sizeof(b));
					return true;
				}
			}
			f->key_hash[f->nkeys] = h;
			f->key_off[f->nkeys] = start;
			f->key_len[f->nkeys++] = i - start;
			break;
		default:
			break;
		}
	}
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return false;
}

void
control_broadcast(struct json_object *obj)
{
	struct ctl_conn	*c, *next;
	char		*s;
	size_t		 len;

	if (obj == NULL)
		return;
	if ((s = serialize(obj, &len)) != NULL) {
		for (c = TAILQ_FIRST(&ctl.conns); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			/* pushing may close c: keep it until we are done */
			c->inuse++;
			conn_push(c, s, len);
			if (!c->dead)
				conn_flush(c);
			if (--c->inuse == 0 && c->dead)
				conn_free(c);
		}
		free(s);
	}
	json_object_put(obj);
}

/*
 * Local clients: another door of netmgr's (the D-Bus service) speaking
 * the protocol for its callers. Not counted among the socket's clients.
 */
struct ctl_conn *
control_local_new(uid_t uid, pid_t pid, bool admin, ctl_sink_fn *sink,
    void *arg)
{
	struct ctl_conn	*c;

	if (!ctl.running || sink == NULL)
		return NULL;
	/* no input buffer: a request comes whole (control_local_request) */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->out = evbuffer_new()) == NULL) {
		free(c);
		return NULL;
	}
	TAILQ_INIT(&c->slots);
	c->fd = -1;
	c->uid = uid;
	c->pid = pid;
	c->admin = admin;
	c->sink = sink;
	c->sink_arg = arg;
	c->id = ctl.next_id++;
	TAILQ_INSERT_TAIL(&ctl.conns, c, entry);
	return c;
}

/*
 * One request from a local client: type, and the members of the JSON
 * object in json (NULL: none), parsed and checked exactly as a line on
 * the socket is. A "type" inside json is replaced by type. The client
 * may be gone when this returns (its sink closed it).
 */
void
control_local_request(struct ctl_conn *c, const char *type, const char *json,
    size_t len)
{
	struct json_object	*o;
	size_t			 limit;
	char			*copy;

	if (c == NULL || c->sink == NULL || c->dead)
		return;
	c->inuse++;
	limit = !c->admin ? CTL_RO_LINE_MAX : CTL_LINE_MAX;
	if (json == NULL) {
		if ((o = json_object_new_object()) == NULL)
			conn_fail(c, type, "system", "out of memory");
	} else if (len > limit) {
		o = NULL;
		conn_fail(c, type, "too-long", "longer than %zu bytes",
		    limit);
	} else if ((copy = malloc(len + 1)) == NULL) {
		o = NULL;
		conn_fail(c, type, "system", "out of memory");
	} else {
		/* the text is copied: json-c needs it writable, we wipe it */
		memcpy(copy, json, len);
		copy[len] = '\0';
		o = conn_parse(c, copy, len);
		freezero(copy, len + 1);
	}
	if (o != NULL) {
		json_object_object_add(o, "type", json_object_new_string(type));
		conn_dispatch(c, o);
	}
	if (--c->inuse == 0 && c->dead)
		conn_free(c);
}

void
control_local_close(struct ctl_conn *c)
{
	if (c != NULL && c->sink != NULL)
		conn_close(c);
}

bool
control_conn_alive(struct ctl_conn *c)
{
	struct ctl_conn	*x;

	TAILQ_FOREACH(x, &ctl.conns, entry)
		if (x == c)
			return !c->dead;
	return false;
}

unsigned int
control_conn_id(struct ctl_conn *c)
{
	return c->id;
}

struct ctl_conn *
control_conn_find(unsigned int id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl.conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

size_t
control_nclients(void)
{
	return ctl.nconns;
}

/*
 * control.h -- netmgr's control socket: JSON lines from clients.
 *
 * control.c owns framing, access checks, per-client buffers and reply
 * order; it knows nothing about tunnels. Any local user may connect; what
 * a client may ask is decided per request (proto.h's table): root and the
 * acl below get every request, everyone else the read-only tier, and a
 * request outside it is answered with an error of code "denied".
 *
 * Each well-formed request goes to one callback, which must answer it
 * exactly once, now or later, with control_reply(), control_error() or
 * control_noreply(): replies leave in request order, so an unanswered
 * request holds back the ones after it.
 */
#ifndef VPND_CONTROL_H
#define VPND_CONTROL_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct json_object;
struct ctl_conn;

#define CTL_MAX_CLIENTS		64
#define CTL_ROOT_RESERVE	4	/* for root and acl past the limit */
#define CTL_MAX_PER_UID		16	/* clients of one uid but 0 */
#define CTL_LINE_MAX		(64 * 1024)	/* bytes, without the '\n' */
#define CTL_RO_LINE_MAX		1024	/* the same for the read-only tier */
/* Unsent output per client, replies queued behind a pending one included. */
#define CTL_MAX_BACKLOG		(1024 * 1024)
#define CTL_MAX_PENDING		32	/* unanswered requests per client */
#define CTL_ACL_MAX		64

struct proto_request;

/*
 * Who may ask everything, besides uid 0. netmgr is chrooted and cannot read
 * /etc/passwd or /etc/group, so the set is resolved beforehand (see
 * control_acl_group()): the peer's uid is in uids, or the primary gid it
 * reports through SO_PEERCRED is in gids. Supplementary groups are not
 * visible through SO_PEERCRED; the group's listed members are in uids.
 */
struct ctl_acl {
	uid_t		 uids[CTL_ACL_MAX];
	size_t		 nuids;
	gid_t		 gids[CTL_ACL_MAX];
	size_t		 ngids;
	bool		 others;	/* everyone else: the read-only tier;
					 * false: refused at connect */
};

/*
 * The request callback. r is the request's row in proto.h's table; req
 * stays valid until it is answered or the client goes away. Requests
 * handled by control.c itself (version), unknown ones and ones the client
 * may not ask never reach it.
 */
typedef void ctl_request_fn(struct ctl_conn *, const struct proto_request *r,
    struct json_object *req, void *arg);

/*
 * Fill acl from a group name, before chroot: its gid, and the uids of
 * its listed members. -1 if the group does not exist (acl then empty:
 * root alone).
 */
int	 control_acl_group(const char *group, struct ctl_acl *);

/* listen_fd: a listening, non-blocking UNIX stream socket. acl copied. */
int	 control_init(struct event_base *, int listen_fd,
	    const struct ctl_acl *, ctl_request_fn *, void *arg);
void	 control_shutdown(void);

/*
 * Answer req: adds "type" (the request's) if absent, echoes the request's
 * "id" if it had one. Takes ownership of obj. req NULL: like
 * control_send().
 */
void	 control_reply(struct ctl_conn *, struct json_object *req,
	    struct json_object *obj);
/* Answer req with an error; request_type NULL: the request's type. */
void	 control_error(struct ctl_conn *, struct json_object *req,
	    const char *request_type, const char *code, const char *fmt, ...)
	    __attribute__((__format__(printf, 5, 6)));
/* Mark req answered with nothing on the wire (a successful activate). */
void	 control_noreply(struct ctl_conn *, struct json_object *req);

/* A signal to every client / to one client, no id; takes ownership. */
void	 control_broadcast(struct json_object *);
void	 control_send(struct ctl_conn *, struct json_object *);

/*
 * Deferred replies: keep control_conn_id() and look the client up again
 * with control_conn_find() when the answer is ready (NULL: gone). Ids are
 * never reused in a run. control_conn_alive() says whether a pointer still
 * names a live client; prefer ids across event loop turns.
 */
bool	 control_conn_alive(struct ctl_conn *);
unsigned int control_conn_id(struct ctl_conn *);
struct ctl_conn *control_conn_find(unsigned int);
size_t	 control_nclients(void);
/*
 * Whether an object in the JSON text holds a key twice (its name, made
 * printable, goes to dup). Exposed for the tests.
 */
bool	 control_json_dupkey(const char *, size_t, char *dup, size_t duplen);
/* The client's uid and pid (SO_PEERCRED, taken at accept). */
void	 control_conn_cred(struct ctl_conn *, uid_t *, pid_t *);
/* The client's connection, for the parent to read its credentials. */
int	 control_conn_fd(struct ctl_conn *);

/*
 * Local clients: another door of netmgr (the D-Bus service) asks on behalf
 * of its callers, with the caller's uid and pid and the tier it decided
 * (admin: every request). What a socket client would be sent -- replies,
 * errors, signals -- goes to sink, one line at a time without its '\n',
 * in the same order. The sink may call control_local_close().
 * control_local_request() parses json (the members of one object; NULL:
 * none) exactly as a line from the socket, sets "type", and dispatches it.
 */
typedef void ctl_sink_fn(struct ctl_conn *, const char *line, size_t len,
    void *arg);
struct ctl_conn *control_local_new(uid_t, pid_t, bool admin, ctl_sink_fn *,
	    void *arg);
void	 control_local_request(struct ctl_conn *, const char *type,
	    const char *json, size_t len);
void	 control_local_close(struct ctl_conn *);

#ifdef VPND_TESTHOOKS
/* TESTHOOK_EXCLUDE_ANY: exclude passes the tier check (to the parent) */
extern bool	 control_testhook_exclude_any;
#endif

#endif /* VPND_CONTROL_H */

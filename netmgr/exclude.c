/*
 * exclude.c -- the exclude request.
 *
 * netmgr does not name the process: it hands the parent a duplicate of
 * the client's connection, and the parent reads the peer's credentials
 * from it and checks them itself (parent/split.c).  Answers come back in
 * order of the tokens sent; a client gone meanwhile is simply skipped.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "exclude.h"
#include "imsgev.h"
#include "log.h"
#include "proto.h"
#include "vpnd.h"

#define EXCLUDE_MAX_WAIT	16

struct pending {
	uint32_t		 token;
	unsigned int		 conn;
	struct json_object	*req;
};

static struct imsgev	*iev_parent;
static struct pending	 waiting[EXCLUDE_MAX_WAIT];
static size_t		 nwaiting;
static uint32_t		 next_token = 1;

void
exclude_init(struct imsgev *parent)
{
	iev_parent = parent;
}

void
exclude_request(struct ctl_conn *c, struct json_object *req)
{
	uid_t	uid;
	pid_t	pid;
	int	fd;

	control_conn_cred(c, &uid, &pid);
	log_info("exclude requested by uid %u, pid %d", (unsigned int)uid,
	    (int)pid);
	if (nwaiting == nitems(waiting)) {
		control_error(c, req, NULL, "busy", "too many exclude "
		    "requests in flight");
		return;
	}
	/* a local client (D-Bus) has no connection to read */
	if (control_conn_fd(c) == -1) {
		control_error(c, req, NULL, "unavailable", "exclude is "
		    "served to clients of the control socket only");
		return;
	}
	if ((fd = fcntl(control_conn_fd(c), F_DUPFD_CLOEXEC, 0)) == -1) {
		control_error(c, req, NULL, "system", "dup: %s",
		    strerror(errno));
		return;
	}
	waiting[nwaiting].token = next_token;
	waiting[nwaiting].conn = control_conn_id(c);
	waiting[nwaiting].req = req;
	nwaiting++;
	imsgev_compose(iev_parent, IMSG_EXCLUDE, next_token++, fd, NULL, 0);
}

void
exclude_on_result(struct imsg *imsg)
{
	struct imsg_result	 r;
	struct ctl_conn		*c;
	struct pending		 p;
	const char		*code;
	size_t			 i;

	if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
		fatalx("bad IMSG_EXCLUDE_RESULT");
	r.msg[sizeof(r.msg) - 1] = '\0';
	for (i = 0; i < nwaiting; i++)
		if (waiting[i].token == imsg_get_id(imsg))
			break;
	if (i == nwaiting)
		fatalx("IMSG_EXCLUDE_RESULT for no request");
	p = waiting[i];
	memmove(&waiting[i], &waiting[i + 1],
	    (nwaiting - i - 1) * sizeof(waiting[0]));
	nwaiting--;
	if ((c = control_conn_find(p.conn)) == NULL)
		return;
	if (r.ok) {
		control_reply(c, p.req, proto_msg("exclude"));
		return;
	}
	switch (r.err) {
	case EACCES:
		code = "denied";
		break;
	case ENOTCONN:
	case EOPNOTSUPP:
		code = "unavailable";
		break;
	default:
		code = "system";
		break;
	}
	control_error(c, p.req, NULL, code, "%s", r.msg[0] != '\0' ? r.msg :
	    strerror(r.err));
}

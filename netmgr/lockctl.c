/*
 * lockctl.c -- the lockdown requests of the control socket. The setting
 * lives in the parent (lockdown.c there), which tells netmgr what it is
 * at start and after every change; netmgr passes an admin's change on and
 * answers in request order when the parent has made it.
 */
#include <sys/types.h>

#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "control.h"
#include "imsgev.h"
#include "lockctl.h"
#include "log.h"
#include "proto.h"
#include "vpnd.h"

#define MAX_LOCKDOWN_WAIT	16	/* root and the group only */

struct lockdown_req {
	unsigned int		 conn;
	struct json_object	*req;
};

static struct imsgev		*iev_parent;
static struct lockdown_req	 waiting[MAX_LOCKDOWN_WAIT];
static size_t			 nwaiting;
static bool			 known, on, allow_lan;

void
ldctl_init(struct imsgev *parent)
{
	iev_parent = parent;
}

/* The setting as the parent last said it, for status. */
bool
ldctl_known(bool *onp, bool *lanp)
{
	*onp = on;
	*lanp = allow_lan;
	return known;
}

/* lockdownStatus: from what the parent last said. */
void
ldctl_status(struct ctl_conn *c, struct json_object *req)
{
	if (!known) {
		control_error(c, req, NULL, "system", "the lockdown setting "
		    "is not known yet");
		return;
	}
	control_reply(c, req, proto_lockdown_json("lockdownStatus", on,
	    allow_lan));
}

/* lockdown: checked here, then by the parent, which saves and applies it. */
void
ldctl_request(struct ctl_conn *c, struct json_object *req)
{
	struct imsg_lockdown	 m;
	char			 err[PROTO_ERRLEN];
	bool			 en, lan;
	uid_t			 uid;
	pid_t			 pid;

	if (proto_parse_lockdown(req, &en, &lan, err, sizeof(err)) == -1) {
		control_error(c, req, NULL, "bad-request", "%s", err);
		return;
	}
	if (nwaiting == MAX_LOCKDOWN_WAIT) {
		control_error(c, req, NULL, "busy", "too many lockdown "
		    "requests in flight");
		return;
	}
	control_conn_cred(c, &uid, &pid);
	log_info("lockdown %s requested by uid %u, pid %d",
	    !en ? "off" : lan ? "on allow-lan" : "on", (unsigned int)uid,
	    (int)pid);
	memset(&m, 0, sizeof(m));
	m.on = en;
	m.allow_lan = lan;
	waiting[nwaiting].conn = control_conn_id(c);
	waiting[nwaiting].req = req;
	nwaiting++;
	imsgev_compose(iev_parent, IMSG_LOCKDOWN_SET, 0, -1, &m,
	    sizeof(m));
}

/*
 * IMSG_LOCKDOWN_STATE: the first comes unasked, at start; each later one
 * answers the oldest request.
 */
void
ldctl_on_state(struct imsg *imsg)
{
	struct imsg_lockdown_state	 s;
	struct ctl_conn			*c;
	struct json_object		*req;
	size_t				 i;

	if (imsg_get_data(imsg, &s, sizeof(s)) == -1 || s.on > 1 ||
	    s.allow_lan > 1)
		fatalx("bad IMSG_LOCKDOWN_STATE");
	s.msg[sizeof(s.msg) - 1] = '\0';
	for (i = 0; s.msg[i] != '\0'; i++)
		if ((unsigned char)s.msg[i] < ' ' ||
		    (unsigned char)s.msg[i] >= 0x7f)
			s.msg[i] = '?';
	on = s.on != 0;
	allow_lan = s.allow_lan != 0;
	if (!known) {
		known = true;
		return;
	}
	if (nwaiting == 0)
		fatalx("unexpected IMSG_LOCKDOWN_STATE");
	req = waiting[0].req;
	c = control_conn_find(waiting[0].conn);
	nwaiting--;
	memmove(waiting, waiting + 1, nwaiting * sizeof(waiting[0]));
	if (c == NULL)
		return;
	if (!s.ok)
		control_error(c, req, NULL, "system", "lockdown: %s", s.msg);
	else
		control_reply(c, req, proto_lockdown_json("lockdown", on,
		    allow_lan));
}

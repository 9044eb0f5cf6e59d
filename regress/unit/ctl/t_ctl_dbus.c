/*
 * t_ctl_dbus.c -- the D-Bus door's own logic, without a bus: the caller's
 * credentials as GetConnectionCredentials returns them (well-formed,
 * malformed, missing), the decision who may ask everything, the texts
 * the methods return, and control.c's local clients, which carry every
 * call: the socket's parser, tiers and limits apply to them.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "compat.h"
#include "control.h"
#include "dbus.h"
#include "proto.h"
#include "tap.h"
#define SDL_NO_REDIRECT
#include "sdl.h"

static sd_bus	*bus;
static int	 sv[2];

/* One entry of the a{sv}: a key and a variant of signature sig. */
struct ent {
	const char	*key;
	const char	*sig;	/* "u", "au", "s" */
	uint32_t	 u;
	const uint32_t	*au;
	size_t		 nau;
	const char	*s;
};

/* A sealed message holding a{sv} of ents, read from its start. */
static sd_bus_message *
creds_msg(const struct ent *e, size_t n)
{
	sd_bus_message	*m = NULL;
	size_t		 i, j;

	if (sd_bus_message_new_method_call(bus, &m, "a.b", "/", "a.b", "c") <
	    0 || sd_bus_message_open_container(m, 'a', "{sv}") < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (sd_bus_message_open_container(m, 'e', "sv") < 0 ||
		    sd_bus_message_append(m, "s", e[i].key) < 0 ||
		    sd_bus_message_open_container(m, 'v', e[i].sig) < 0)
			return NULL;
		if (strcmp(e[i].sig, "u") == 0)
			sd_bus_message_append(m, "u", e[i].u);
		else if (strcmp(e[i].sig, "s") == 0)
			sd_bus_message_append(m, "s", e[i].s);
		else {
			sd_bus_message_open_container(m, 'a', "u");
			for (j = 0; j < e[i].nau; j++)
				sd_bus_message_append(m, "u", e[i].au[j]);
			sd_bus_message_close_container(m);
		}
		if (sd_bus_message_close_container(m) < 0 ||
		    sd_bus_message_close_container(m) < 0)
			return NULL;
	}
	if (sd_bus_message_close_container(m) < 0 ||
	    sd_bus_message_seal(m, 1, 0) < 0 ||
	    sd_bus_message_rewind(m, true) < 0)
		return NULL;
	return m;
}

static int
parse(const struct ent *e, size_t n, struct dbus_creds *cr)
{
	sd_bus_message	*m;
	int		 r;

	if ((m = creds_msg(e, n)) == NULL)
		return -2;
	r = dbus_creds_parse(m, cr);
	sd_bus_message_unref(m);
	return r;
}

static void
test_creds(void)
{
	static const uint32_t	 groups[] = { 100, 995, 7 };
	static uint32_t		 many[DBUS_MAX_GIDS + 5];
	struct dbus_creds	*cr;
	struct ctl_acl		 acl;
	size_t			 i;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		abort();
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", 1000, NULL, 0, NULL },
			{ "LinuxSecurityLabel", "s", 0, NULL, 0, "unconfined" },
			{ "UnixGroupIDs", "au", 0, groups, 3, NULL },
			{ "ProcessID", "u", 4242, NULL, 0, NULL },
		};
		is_int(parse(e, nitems(e), cr), 0, "creds: parsed");
		ok(cr->has_uid && cr->uid == 1000, "creds: uid 1000");
		ok(cr->has_pid && cr->pid == 4242, "creds: pid 4242");
		ok(cr->has_gids && cr->ngids == 3 && cr->gids[1] == 995,
		    "creds: three groups, in order");
	}
	{
		const struct ent e[] = {
			{ "ProcessID", "u", 1, NULL, 0, NULL },
		};
		is_int(parse(e, nitems(e), cr), 0, "creds without a uid: "
		    "parsed");
		ok(!cr->has_uid, "... has no uid");
		memset(&acl, 0, sizeof(acl));
		ok(!dbus_creds_admin(cr, &acl), "... so it is not admin");
	}
	{
		const struct ent e[] = {
			{ "UnixUserID", "s", 0, NULL, 0, "0" },
		};
		is_int(parse(e, nitems(e), cr), -1,
		    "a uid that is not a u: refused");
	}
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", 1000, NULL, 0, NULL },
			{ "UnixUserID", "u", 0, NULL, 0, NULL },
		};
		is_int(parse(e, nitems(e), cr), -1, "the uid twice: refused");
	}
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", UINT32_MAX, NULL, 0, NULL },
		};
		is_int(parse(e, nitems(e), cr), -1, "uid -1: refused");
	}
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", 5, NULL, 0, NULL },
			{ "UnixGroupIDs", "u", 995, NULL, 0, NULL },
		};
		is_int(parse(e, nitems(e), cr), -1,
		    "groups that are not an au: refused");
	}
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", 5, NULL, 0, NULL },
			{ "UnixGroupIDs", "au", 0, groups, 1, NULL },
			{ "UnixGroupIDs", "au", 0, groups, 3, NULL },
		};
		is_int(parse(e, nitems(e), cr), -1, "the groups twice: "
		    "refused");
	}
	for (i = 0; i < nitems(many); i++)
		many[i] = 1000 + i;
	many[nitems(many) - 1] = 995;
	{
		const struct ent e[] = {
			{ "UnixUserID", "u", 5, NULL, 0, NULL },
			{ "UnixGroupIDs", "au", 0, many, nitems(many), NULL },
		};
		is_int(parse(e, nitems(e), cr), 0, "more groups than kept: "
		    "parsed");
		ok(cr->ngids == DBUS_MAX_GIDS && cr->gids_truncated,
		    "... %d kept, the rest noted", DBUS_MAX_GIDS);
		memset(&acl, 0, sizeof(acl));
		acl.gids[acl.ngids++] = 995;
		ok(!dbus_creds_admin(cr, &acl), "... a group past those kept "
		    "gives nothing");
	}
	{
		sd_bus_message	*m = NULL;

		/* not an a{sv} at all */
		if (sd_bus_message_new_method_call(bus, &m, "a.b", "/", "a.b",
		    "c") < 0 || sd_bus_message_append(m, "u", 0) < 0 ||
		    sd_bus_message_seal(m, 2, 0) < 0 ||
		    sd_bus_message_rewind(m, true) < 0)
			abort();
		is_int(dbus_creds_parse(m, cr), -1, "a u instead of a{sv}: "
		    "refused");
		sd_bus_message_unref(m);
	}

	/* who may ask everything */
	memset(&acl, 0, sizeof(acl));
	acl.uids[acl.nuids++] = 1001;
	acl.gids[acl.ngids++] = 995;
	memset(cr, 0, sizeof(*cr));
	cr->has_uid = true;
	cr->uid = 0;
	ok(dbus_creds_admin(cr, &acl), "admin: uid 0");
	cr->uid = 1001;
	ok(dbus_creds_admin(cr, &acl), "admin: a uid listed in the group");
	cr->uid = 1002;
	ok(!dbus_creds_admin(cr, &acl), "not admin: another uid, no groups");
	cr->has_gids = true;
	cr->gids[cr->ngids++] = 100;
	ok(!dbus_creds_admin(cr, &acl), "not admin: groups without vpnd's");
	cr->gids[cr->ngids++] = 995;
	ok(dbus_creds_admin(cr, &acl), "admin: vpnd's gid among the groups");
	cr->has_uid = false;
	ok(!dbus_creds_admin(cr, &acl), "not admin: the groups without a uid");
	free(cr);
}

static void
test_texts(void)
{
	char	*t;

	t = dbus_status_text("{\"type\":\"status\",\"id\":3,\"connected\":"
	    "false,\"state\":\"disconnected\"}", 0);
	is_str(t, "{\"connected\":false,\"state\":\"disconnected\"}",
	    "status(): the object without type and id");
	free(t);
	ok(dbus_status_text("{\"type\":\"error\",\"code\":\"busy\"}", 0) ==
	    NULL, "status(): an error is no status");
	t = dbus_logs_text("{\"type\":\"logs\",\"logs\":\"a|b \\\\174|c\"}", 0);
	is_str(t, "a\nb \\174\nc", "getLogs(): '|' joins become newlines, "
	    "an escaped one stays escaped");
	free(t);
	ok(dbus_logs_text("{\"type\":\"status\"}", 0) == NULL,
	    "getLogs(): a status is no logs reply");
}

/* control.c's local clients */
static char	 got[8][256];
static int	 ngot;
static int	 nreq;
static char	 req_type_seen[32];
static bool	 close_in_sink;

static void
sink(struct ctl_conn *c, const char *line, size_t len, void *arg)
{
	if (ngot < (int)nitems(got))
		snprintf(got[ngot++], sizeof(got[0]), "%.*s", (int)len, line);
	if (close_in_sink)
		control_local_close(c);
}

static void
handler(struct ctl_conn *c, const struct proto_request *r,
    struct json_object *req, void *arg)
{
	nreq++;
	snprintf(req_type_seen, sizeof(req_type_seen), "%s", r->type);
	if (r->req == PROTO_REQ_STATUS)
		control_reply(c, req, proto_msg("status"));
	else if (r->req == PROTO_REQ_ACTIVATE)
		control_error(c, req, NULL, "bad-config", "test refuses");
	else
		control_noreply(c, req);
}

static void
req(const char *type, struct ctl_conn *c, const char *json)
{
	control_local_request(c, type, json, strlen(json));
}

static void
reset(void)
{
	ngot = 0;
	nreq = 0;
	req_type_seen[0] = '\0';
	memset(got, 0, sizeof(got));
}

static void
test_local(void)
{
	struct event_base	*base;
	struct ctl_acl		 acl;
	struct ctl_conn		*c, *ro;
	char			*big;
	unsigned int		 id;
	int			 lfd;

	if ((base = event_base_new()) == NULL ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		abort();
	memset(&acl, 0, sizeof(acl));
	ok(control_local_new(0, 1, true, sink, NULL) == NULL,
	    "local client: none before the control socket is served");
	if (control_init(base, lfd, &acl, handler, NULL) == -1)
		abort();
	c = control_local_new(0, 42, true, sink, NULL);
	ok(c != NULL, "local client: made");
	is_int(control_nclients(), 0, "local client: not counted among the "
	    "socket's clients");

	reset();
	control_local_request(c, "status", NULL, 0);
	ok(nreq == 1 && ngot == 1 && strstr(got[0], "\"type\":\"status\"") !=
	    NULL, "status: handled, the reply to the sink (%s)", got[0]);

	reset();
	req("activate", c, "{\"type\":\"deactivate\",\"privateKey\":\"x\"}");
	is_str(req_type_seen, "activate", "a \"type\" inside the JSON is "
	    "replaced by the call's");
	ok(ngot == 1 && strstr(got[0], "\"code\":\"bad-config\"") != NULL,
	    "the handler's error reaches the sink");

	reset();
	req("activate", c, "{\"a\":1,\"a\":2}");
	ok(nreq == 0 && ngot == 1 && strstr(got[0], "duplicate key") != NULL,
	    "a key twice: bad-json, as on the socket, never dispatched");

	reset();
	req("activate", c, "[1,2]");
	ok(nreq == 0 && ngot == 1 && strstr(got[0], "bad-json") != NULL,
	    "not an object: bad-json");

	reset();
	req("activate", c, "{\"a\":1} x");
	ok(nreq == 0 && ngot == 1 && strstr(got[0], "bad-json") != NULL,
	    "trailing garbage: bad-json");

	reset();
	if ((big = malloc(CTL_LINE_MAX + 2)) == NULL)
		abort();
	memset(big, ' ', CTL_LINE_MAX + 1);
	big[0] = '{';
	big[CTL_LINE_MAX] = '}';
	control_local_request(c, "activate", big, CTL_LINE_MAX + 1);
	ok(nreq == 0 && ngot == 1 && strstr(got[0], "too-long") != NULL,
	    "longer than 64 KiB: too-long, not parsed");
	free(big);

	reset();
	ro = control_local_new(65534, 7, false, sink, NULL);
	req("activate", ro, "{}");
	ok(nreq == 0 && ngot == 1 && strstr(got[0], "denied") != NULL,
	    "the read-only tier: activate denied by control.c too");
	reset();
	control_local_request(ro, "status", NULL, 0);
	ok(nreq == 1 && ngot == 1, "the read-only tier: status served");

	reset();
	control_broadcast(proto_msg("disconnected"));
	is_int(ngot, 2, "a signal reaches every local client");

	/* a sink that closes its client at once */
	reset();
	close_in_sink = true;
	id = control_conn_id(ro);
	control_local_request(ro, "status", NULL, 0);
	close_in_sink = false;
	ok(ngot == 1 && control_conn_find(id) == NULL,
	    "a sink may close its client from inside (gone after)");

	control_local_close(c);
	reset();
	control_broadcast(proto_msg("disconnected"));
	is_int(ngot, 0, "a closed local client hears nothing");
	control_shutdown();
	close(lfd);
	event_base_free(base);
}

int
main(void)
{
	char	err[256];

	plan(41);
	/* the code under test calls libsystemd through sdl */
	if (sdl_load(err, sizeof(err)) == -1)
		{ printf("Bail out! %s\n", err); exit(1); }
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, sv[0], sv[0]) < 0 ||
	    sd_bus_start(bus) < 0)
		abort();
	test_creds();
	test_texts();
	test_local();
	sd_bus_close_unref(bus);
	close(sv[1]);
	return done_testing();
}

/*
 * f_dbus.c -- the D-Bus door's own input handling, without a bus. The
 * first byte chooses:
 *
 * 0: the rest is a jsonConfig, given to a local client of control.c as
 *    dbus.c gives it (control_local_request()), with the activate
 *    validated as tunnel.c does: every request is answered exactly once
 *    (an error line, or the handler ran and answered), nothing leaks.
 * 1: the rest describes the a{sv} the bus driver returns for
 *    GetConnectionCredentials (keys, variant types and values chosen by
 *    the bytes), parsed by dbus_creds_parse(): a parse that succeeds has
 *    a uid other than -1 and at most DBUS_MAX_GIDS groups, and
 *    dbus_creds_admin() agrees with a plain reading of the rule.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "compat.h"
#include "config.h"
#include "control.h"
#include "dbus.h"
#include "proto.h"
#define SDL_NO_REDIRECT
#include "sdl.h"

#define ACL_GID		995u

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct event_base	*base;
static sd_bus			*bus;
static int			 nlines, nhandled;

static void
sink(struct ctl_conn *c, const char *line, size_t len, void *arg)
{
	nlines++;
}

static void
handler(struct ctl_conn *c, const struct proto_request *r,
    struct json_object *req, void *arg)
{
	struct tunnel_conf		 nc;
	struct proto_activate_extra	 ex;
	const char			*code = "bad-config";
	char				 err[PROTO_ERRLEN];

	nhandled++;
	if (r->req != PROTO_REQ_ACTIVATE)
		abort();
	conf_init(&nc);
	memset(&ex, 0, sizeof(ex));
	if (proto_parse_activate(req, &nc, &ex, &code, err, sizeof(err)) ==
	    -1)
		control_error(c, req, NULL, code, "%s", err);
	else
		control_noreply(c, req);
	conf_free(&nc);
}

static void
setup(void)
{
	static int	 sv[2];
	struct ctl_acl	 acl;
	int		 lfd;

	if (base != NULL)
		return;
	memset(&acl, 0, sizeof(acl));
	if ((base = event_base_new()) == NULL ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    control_init(base, lfd, &acl, handler, NULL) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, sv[0], sv[0]) < 0 ||
	    sd_bus_start(bus) < 0)
		abort();
}

static void
fuzz_config(const uint8_t *d, size_t n)
{
	struct ctl_conn	*c;

	if ((c = control_local_new(0, 1, true, sink, NULL)) == NULL)
		abort();
	nlines = nhandled = 0;
	control_local_request(c, "activate", (const char *)d, n);
	/* answered once: an error line, or handled (error or nothing) */
	if (nhandled > 1 || (nhandled == 0 && nlines != 1) || nlines > 1)
		abort();
	control_local_close(c);
}

static uint32_t
take32(const uint8_t **d, size_t *n)
{
	uint32_t	 v = 0;
	size_t		 i;

	for (i = 0; i < 4 && *n > 0; i++, (*d)++, (*n)--)
		v = v << 8 | **d;
	return v;
}

static void
fuzz_creds(const uint8_t *d, size_t n)
{
	static const char *const keys[] = {
		"UnixUserID", "UnixGroupIDs", "ProcessID", "LinuxSecurityLabel",
		"",
	};
	static const char *const sigs[] = { "u", "au", "s", "as", "i", "ay" };
	struct dbus_creds	*cr;
	struct ctl_acl		 acl;
	sd_bus_message		*m = NULL;
	size_t			 i, k;
	bool			 admin;

	if (sd_bus_message_new_method_call(bus, &m, "a.b", "/", "a.b", "c") <
	    0 || sd_bus_message_open_container(m, 'a', "{sv}") < 0)
		abort();
	for (k = 0; n >= 2 && k < 64; k++) {
		const char	*key = keys[d[0] % nitems(keys)];
		const char	*sig = sigs[d[1] % nitems(sigs)];
		uint8_t		 cnt = d[1] >> 3;

		d += 2;
		n -= 2;
		if (sd_bus_message_open_container(m, 'e', "sv") < 0 ||
		    sd_bus_message_append(m, "s", key) < 0 ||
		    sd_bus_message_open_container(m, 'v', sig) < 0)
			abort();
		if (strcmp(sig, "u") == 0 || strcmp(sig, "i") == 0)
			sd_bus_message_append_basic(m, sig[0],
			    &(uint32_t){ take32(&d, &n) });
		else if (strcmp(sig, "s") == 0)
			sd_bus_message_append(m, "s", "x");
		else {
			sd_bus_message_open_container(m, 'a', sig + 1);
			for (i = 0; i < cnt; i++)
				if (sig[1] == 'u')
					sd_bus_message_append(m, "u",
					    (uint32_t)(n > 0 ? ACL_GID +
					    (d[0] & 3u) : i * 13));
				else if (sig[1] == 'y')
					sd_bus_message_append(m, "y",
					    (uint8_t)i);
				else
					sd_bus_message_append(m, "s", "y");
			sd_bus_message_close_container(m);
		}
		if (sd_bus_message_close_container(m) < 0 ||
		    sd_bus_message_close_container(m) < 0)
			abort();
	}
	if (sd_bus_message_close_container(m) < 0 ||
	    sd_bus_message_seal(m, 1, 0) < 0 ||
	    sd_bus_message_rewind(m, true) < 0)
		abort();
	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		abort();
	if (dbus_creds_parse(m, cr) == 0) {
		if (cr->has_uid && cr->uid == (uid_t)-1)
			abort();
		if (cr->ngids > DBUS_MAX_GIDS)
			abort();
		memset(&acl, 0, sizeof(acl));
		acl.gids[acl.ngids++] = ACL_GID;
		admin = cr->has_uid && cr->uid == 0;
		for (i = 0; cr->has_uid && i < cr->ngids; i++)
			admin |= cr->gids[i] == ACL_GID;
		if (dbus_creds_admin(cr, &acl) != admin)
			abort();
	}
	free(cr);
	sd_bus_message_unref(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char	err[256];

	if (n < 1 || n > 70000)
		return 0;
	/* the code under test calls libsystemd through sdl */
	if (sdl_load(err, sizeof(err)) == -1)
		abort();
	setup();
	if (d[0] & 1)
		fuzz_creds(d + 1, n - 1);
	else
		fuzz_config(d + 1, n - 1);
	return 0;
}

/*
 * f_ctlreq.c -- the lockdown and split-tunnelling inputs. The first byte
 * chooses:
 *
 * 0: the rest is a control-socket line, parsed strictly as netmgr does;
 *    an object whose "type" is a known request is looked up, and a
 *    lockdown request's body parsed: a parse that succeeds never has the
 *    LAN without lockdown and reads exactly the booleans the object has;
 *    the reply built from it says the same. exclude and lockdownStatus
 *    carry no body: their table entry says so.
 * 1: the rest is the lockdown setting file: what parses is exactly one of
 *    "off\n", "on\n", "on allow-lan\n", and the word says it back.
 * 2: the rest, up to a NUL, is a cgroup path a process would be moved
 *    back to: what split_origin_ok() takes is absolute, printable, with
 *    no empty, "." or ".." component.
 */
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "lockdown.h"
#include "parent.h"
#include "proto.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_lockdown(struct json_object *o)
{
	struct json_object	*v, *r, *e, *l;
	char			 err[PROTO_ERRLEN];
	bool			 en, lan, want_lan = false;

	if (proto_parse_lockdown(o, &en, &lan, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		return;
	}
	if (lan && !en)
		abort();
	if (!json_object_object_get_ex(o, "enable", &v) ||
	    !json_object_is_type(v, json_type_boolean) ||
	    json_object_get_boolean(v) != en)
		abort();
	if (json_object_object_get_ex(o, "allowLan", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			abort();
		want_lan = json_object_get_boolean(v);
	}
	if (lan != want_lan)
		abort();
	if ((r = proto_lockdown_json("lockdown", en, lan)) == NULL)
		return;
	if (!json_object_object_get_ex(r, "enabled", &e) ||
	    !json_object_object_get_ex(r, "allowLan", &l) ||
	    json_object_get_boolean(e) != en ||
	    json_object_get_boolean(l) != (en && lan))
		abort();
	json_object_put(r);
}

static void
check_line(const uint8_t *data, size_t size)
{
	struct json_tokener		*tok;
	struct json_object		*o, *t;
	const struct proto_request	*r;

	if ((tok = json_tokener_new_ex(32)) == NULL)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (o == NULL)
		return;
	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "type", &t) &&
	    json_object_is_type(t, json_type_string) &&
	    (r = proto_request_find(json_object_get_string(t))) != NULL) {
		switch (r->req) {
		case PROTO_REQ_LOCKDOWN:
			if (!(r->flags & PROTO_REQ_ADMIN) ||
			    !(r->flags & PROTO_REQ_BODY))
				abort();
			check_lockdown(o);
			break;
		case PROTO_REQ_EXCLUDE:
			if (!(r->flags & PROTO_REQ_ADMIN) ||
			    (r->flags & PROTO_REQ_BODY))
				abort();
			break;
		case PROTO_REQ_LOCKDOWN_STATUS:
			if (r->flags & (PROTO_REQ_ADMIN | PROTO_REQ_BODY))
				abort();
			break;
		default:
			break;
		}
	}
	/* any object, whatever its type, through the lockdown parser too */
	if (json_object_is_type(o, json_type_object))
		check_lockdown(o);
	json_object_put(o);
}

static void
check_file(const uint8_t *data, size_t size)
{
	struct lockdown	 ld;
	char		 want[LOCKDOWN_FILE_MAX + 2];

	memset(&ld, 0xa5, sizeof(ld));
	if (lockdown_parse_file((const char *)data, size, &ld) == -1)
		return;
	snprintf(want, sizeof(want), "%s\n", lockdown_word(&ld));
	if (strlen(want) != size || memcmp(want, data, size) != 0)
		abort();
	if (ld.allow_lan && !ld.on)
		abort();
}

static void
check_origin(const uint8_t *data, size_t size)
{
	char		*p, *c, *s;
	size_t		 i;

	if ((p = malloc(size + 1)) == NULL)
		return;
	memcpy(p, data, size);
	p[size] = '\0';
	if (split_origin_ok(p)) {
		if (p[0] != '/')
			abort();
		for (i = 0; p[i] != '\0'; i++)
			if ((unsigned char)p[i] <= ' ' ||
			    (unsigned char)p[i] >= 0x7f)
				abort();
		/* "/" alone is the root; otherwise no empty component */
		if (strcmp(p, "/") != 0) {
			if ((s = strdup(p + 1)) == NULL) {
				free(p);
				return;
			}
			for (c = s; c != NULL; ) {
				char *n = strchr(c, '/');

				if (n != NULL)
					*n++ = '\0';
				if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
					abort();
				if (*c == '\0' && n != NULL)
					abort();
				c = n;
			}
			free(s);
		}
	}
	free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_line(data + 1, size - 1);
		break;
	case 1:
		check_file(data + 1, size - 1);
		break;
	default:
		check_origin(data + 1, size - 1);
		break;
	}
	return 0;
}

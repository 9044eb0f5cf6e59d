/*
 * f_activate.c -- a control-protocol line, as netmgr reads it (strict JSON,
 * depth 32, no NUL), into a request; an activate is validated, rebuilt
 * with proto_activate_json() and must validate again to the same tunnel.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "proto.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct json_object *
parse(const char *s, size_t n)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	if ((tok = json_tokener_new_ex(32)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct json_object		*o, *j, *o2, *t;
	struct tunnel_conf		 c, c2;
	struct proto_activate_extra	 ex, ex2;
	const char			*code, *s;
	char				 err[256];

	if (n > 65536 || memchr(d, 0, n) != NULL)
		return 0;
	if ((o = parse((const char *)d, n)) == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "type", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		json_object_put(o);
		return 0;
	}
	conf_init(&c);
	memset(&ex, 0, sizeof(ex));
	if (proto_parse_activate(o, &c, &ex, &code, err, sizeof(err)) == 0 &&
	    (j = proto_activate_json(&c, &ex, err, sizeof(err))) != NULL) {
		s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
		if ((o2 = parse(s, strlen(s))) == NULL)
			abort();	/* we wrote what we cannot read */
		conf_init(&c2);
		memset(&ex2, 0, sizeof(ex2));
		if (proto_parse_activate(o2, &c2, &ex2, &code, err,
		    sizeof(err)) == -1)
			abort();	/* the round trip must validate */
		if (c2.npeers != c.npeers || c2.naddrs != c.naddrs ||
		    memcmp(c2.privkey, c.privkey, sizeof(c.privkey)) != 0)
			abort();
		conf_free(&c2);
		proto_scrub(o2);
		json_object_put(o2);
		proto_put_secret(j);
	}
	conf_free(&c);
	proto_scrub(o);
	json_object_put(o);
	return 0;
}

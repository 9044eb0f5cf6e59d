/*
 * f_dupkey.c -- the control socket's duplicate-key check against json-c
 * itself: when the check lets a line through and json-c parses it (as
 * netmgr does: strict, UTF-8 validated, depth 32), json-c must have kept
 * every member, that is as many as the line has colons outside strings.
 * Fewer would mean json-c merged two keys the check thought different,
 * and freed the first value without wiping it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "control.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
members(struct json_object *o, int depth)
{
	size_t	 n = 0, i, len;

	if (depth > 64)
		abort();
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + members(v, depth + 1);
		}
		break;
	}
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += members(json_object_array_get_idx(o, i),
			    depth + 1);
		break;
	default:
		break;
	}
	return n;
}

/* Colons outside strings: one per member in valid JSON. */
static size_t
colons(const char *s, size_t n)
{
	size_t	 i, c = 0;
	bool	 in = false;

	for (i = 0; i < n; i++) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = false;
		} else if (s[i] == '"')
			in = true;
		else if (s[i] == ':')
			c++;
	}
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	const char		*s = (const char *)d;
	char			 dup[80];

	if (n > CTL_LINE_MAX || memchr(d, 0, n) != NULL)
		return 0;
	if (control_json_dupkey(s, n, dup, sizeof(dup)))
		return 0;
	if ((tok = json_tokener_new_ex(32)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == n &&
	    members(o, 0) != colons(s, n))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
	return 0;
}

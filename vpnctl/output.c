/*
 * output.c -- vpnctl's human-readable output of daemon messages.
 *
 * Only reads the JSON it is given and never trusts its shape: a field of
 * the wrong type is shown as absent, so a strange daemon cannot crash us.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "compat.h"
#include "output.h"

#define LABEL_WIDTH	16

static const char *get_str(struct json_object *, const char *);
static const char *get_raw(struct json_object *, const char *);
static bool	 get_num(struct json_object *, const char *, int64_t *);
static void	 line(FILE *, int, const char *, const char *);
static const char *ago(int64_t, char *, size_t);
static void	 print_peer(FILE *, struct json_object *, time_t);
static void	 print_list(FILE *, int, const char *, struct json_object *);

static const char *
get_raw(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Text from the daemon made safe for a terminal: C0 controls, DEL and the
 * C1 controls (raw or UTF-8 encoded: a terminal may take either as CSI)
 * become '?', so a daemon, or a child that put text in its reply, cannot
 * move the cursor, clear the screen or forge lines. The result lives until
 * the eighth call after it; NULL stays NULL.
 */
const char *
output_text(const char *raw)
{
	static char		 ring[8][1024];
	static size_t		 next;
	const unsigned char	*s = (const unsigned char *)raw;
	char			*d;
	size_t			 n = 0;

	if (s == NULL)
		return NULL;
	d = ring[next++ % nitems(ring)];
	for (; *s != '\0' && n < sizeof(ring[0]) - 1; s++) {
		if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			d[n++] = '?';
			s++;
		} else if (*s < 0x20 || *s == 0x7f || (*s >= 0x80 &&
		    *s <= 0x9f))
			d[n++] = '?';
		else
			d[n++] = (char)*s;
	}
	d[n] = '\0';
	return d;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	return output_text(get_raw(o, key));
}

static void
line(FILE *fp, int indent, const char *label, const char *value)
{
	int	 w;

	w = LABEL_WIDTH - indent - (int)strlen(label) - 1;
	fprintf(fp, "%*s%s:%*s%s\n", indent, "", label, w > 0 ? w : 1, "",
	    value);
}

static bool
get_num(struct json_object *o, const char *key, int64_t *n)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double)))
		return false;
	*n = json_object_get_int64(v);
	return true;
}

const char *
output_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double	 d = n;
	size_t	 i;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	for (i = 0, d /= 1024; d >= 1024 && i < nitems(units) - 1; i++)
		d /= 1024;
	snprintf(buf, len, "%.2f %s", d, units[i]);
	return buf;
}

const char *
output_duration(int64_t secs, char *buf, size_t len)
{
	static const struct {
		const char	*name;
		int64_t		 secs;
	} parts[] = {
		{ "year", 365 * 24 * 3600 }, { "day", 24 * 3600 },
		{ "hour", 3600 }, { "minute", 60 }, { "second", 1 },
	};
	size_t	 i, off = 0;
	int64_t	 n;

	buf[0] = '\0';
	if (secs <= 0) {
		snprintf(buf, len, "0 seconds");
		return buf;
	}
	for (i = 0; i < nitems(parts) && off < len; i++) {
		if ((n = secs / parts[i].secs) == 0)
			continue;
		secs %= parts[i].secs;
		off += snprintf(buf + off, len - off, "%s%" PRId64 " %s%s",
		    off > 0 ? ", " : "", n, parts[i].name, n == 1 ? "" : "s");
	}
	return buf;
}

static void
print_list(FILE *fp, int indent, const char *label, struct json_object *arr)
{
	struct json_object	*v;
	char			 buf[1024];
	size_t			 i, n, off = 0;

	buf[0] = '\0';
	n = json_object_array_length(arr);
	for (i = 0; i < n && off < sizeof(buf); i++) {
		v = json_object_array_get_idx(arr, i);
		if (v == NULL || !json_object_is_type(v, json_type_string))
			continue;
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    off > 0 ? ", " : "",
		    output_text(json_object_get_string(v)));
	}
	line(fp, indent, label, n == 0 ? "(none)" : buf);
}

/* "Now" or "3 minutes, 2 seconds ago" */
static const char *
ago(int64_t secs, char *buf, size_t len)
{
	char	 b[64];

	if (secs <= 0)
		snprintf(buf, len, "Now");
	else
		snprintf(buf, len, "%s ago", output_duration(secs, b,
		    sizeof(b)));
	return buf;
}

static void
print_peer(FILE *fp, struct json_object *p, time_t now)
{
	struct json_object	*v;
	const char		*s;
	char			 b1[64], b2[64], buf[256];
	int64_t			 hs, age, rx = 0, tx = 0;

	line(fp, 0, "peer", (s = get_str(p, "publicKey")) != NULL ? s : "?");
	if ((s = get_str(p, "endpoint")) != NULL)
		line(fp, 2, "endpoint", s);
	if (json_object_object_get_ex(p, "allowedIps", &v) &&
	    json_object_is_type(v, json_type_array))
		print_list(fp, 2, "allowed ips", v);
	/*
	 * Like wg(8): no handshake line until there was one. The daemon's
	 * age (a monotonic clock) wins over the wall-clock time.
	 */
	if (get_num(p, "handshakeAgeSec", &age) && age >= 0)
		fprintf(fp, "  latest handshake: %s\n",
		    ago(age, buf, sizeof(buf)));
	else if (get_num(p, "lastHandshake", &hs) && hs > 0)
		fprintf(fp, "  latest handshake: %s\n",
		    ago(now - hs, buf, sizeof(buf)));
	if (get_num(p, "rxAgeSec", &age) && age >= 0)
		fprintf(fp, "  latest receive: %s\n",
		    ago(age, buf, sizeof(buf)));
	if (get_num(p, "rxBytes", &rx) | get_num(p, "txBytes", &tx)) {
		snprintf(buf, sizeof(buf), "%s received, %s sent",
		    output_bytes(rx < 0 ? 0 : rx, b1, sizeof(b1)),
		    output_bytes(tx < 0 ? 0 : tx, b2, sizeof(b2)));
		line(fp, 2, "transfer", buf);
	}
}

void
output_status(FILE *fp, struct json_object *o, time_t now)
{
	struct json_object	*v, *peers;
	const char		*s, *a4, *a6;
	char			 buf[256], b1[64], b2[64];
	int64_t			 n, rx = 0, tx = 0;
	size_t			 i;
	bool			 connected = false;

	if (json_object_object_get_ex(o, "connected", &v) &&
	    json_object_is_type(v, json_type_boolean))
		connected = json_object_get_boolean(v);
	/* A base-protocol daemon has no "state"; derive it. */
	if ((s = get_str(o, "state")) == NULL)
		s = connected ? "connected" : "disconnected";
	line(fp, 0, "state", s);
	if ((s = get_str(o, "stateReason")) != NULL)
		line(fp, 0, "reason", s);
	if ((s = get_str(o, "interface")) != NULL)
		line(fp, 0, "interface", s);
	a4 = get_str(o, "deviceIpv4Address");
	a6 = get_str(o, "deviceIpv6Address");
	if ((a4 != NULL && *a4 != '\0') || (a6 != NULL && *a6 != '\0')) {
		snprintf(buf, sizeof(buf), "%s%s%s",
		    a4 != NULL ? a4 : "",
		    a4 != NULL && *a4 != '\0' && a6 != NULL && *a6 != '\0' ?
		    ", " : "", a6 != NULL ? a6 : "");
		line(fp, 0, "address", buf);
	}
	a4 = get_str(o, "serverIpv4Gateway");
	a6 = get_str(o, "serverIpv6Gateway");
	if ((a4 != NULL && *a4 != '\0') || (a6 != NULL && *a6 != '\0')) {
		snprintf(buf, sizeof(buf), "%s%s%s",
		    a4 != NULL ? a4 : "",
		    a4 != NULL && *a4 != '\0' && a6 != NULL && *a6 != '\0' ?
		    ", " : "", a6 != NULL ? a6 : "");
		line(fp, 0, "gateway", buf);
	}
	if ((s = get_str(o, "date")) != NULL && *s != '\0')
		line(fp, 0, "since", s);
	if (get_num(o, "uptimeSec", &n))
		line(fp, 0, "uptime", output_duration(n, buf, sizeof(buf)));
	if (json_object_object_get_ex(o, "peers", &peers) &&
	    json_object_is_type(peers, json_type_array)) {
		for (i = 0; i < json_object_array_length(peers); i++) {
			v = json_object_array_get_idx(peers, i);
			if (v != NULL &&
			    json_object_is_type(v, json_type_object))
				print_peer(fp, v, now);
		}
	} else if (connected &&
	    (get_num(o, "rxBytes", &rx) | get_num(o, "txBytes", &tx))) {
		/* A base daemon only has the totals. */
		snprintf(buf, sizeof(buf), "%s received, %s sent",
		    output_bytes(rx < 0 ? 0 : rx, b1, sizeof(b1)),
		    output_bytes(tx < 0 ? 0 : tx, b2, sizeof(b2)));
		line(fp, 0, "transfer", buf);
	}
}

void
output_logs(FILE *fp, struct json_object *o)
{
	const char	*s;

	/*
	 * Whatever the daemon sends, nothing reaches the terminal raw: the
	 * daemon escapes its lines already (backslashes included), so only
	 * what escaped that is escaped here.
	 */
	if ((s = get_raw(o, "logs")) == NULL || *s == '\0')
		return;
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputc('\n', fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (*s == '\r')
			fputs("\\r", fp);
		else if (*s == '\t')
			fputs("\\t", fp);
		else if (*(const unsigned char *)s < 0x20 ||
		    *(const unsigned char *)s > 0x7e)
			fprintf(fp, "\\%03o", *(const unsigned char *)s);
		else
			fputc(*s, fp);
	}
	fputc('\n', fp);
}

void
output_error(FILE *fp, struct json_object *o)
{
	const char	*req, *code, *msg;

	req = get_str(o, "request");
	code = get_str(o, "code");
	msg = get_str(o, "message");
	fprintf(fp, "vpnctl: %s%s%s (%s)\n",
	    req != NULL && *req != '\0' ? req : "",
	    req != NULL && *req != '\0' ? ": " : "",
	    msg != NULL && *msg != '\0' ? msg : "failed",
	    code != NULL ? code : "no code");
}

void
output_event(FILE *fp, struct json_object *o)
{
	const char	*type, *s;
	int64_t		 n;

	if ((type = get_str(o, "type")) == NULL)
		return;
	if (strcmp(type, "connected") == 0)
		fprintf(fp, "connected: %s\n",
		    (s = get_str(o, "pubkey")) != NULL ? s : "?");
	else if (strcmp(type, "disconnected") == 0)
		fprintf(fp, "disconnected\n");
	else if (strcmp(type, "connecting") == 0)
		fprintf(fp, "connecting: %s\n",
		    (s = get_str(o, "reason")) != NULL ? s : "?");
	else if (strcmp(type, "backendFailure") == 0)
		fprintf(fp, "backend failure: error code %" PRId64 "\n",
		    get_num(o, "errorCode", &n) ? n : -1);
	else if (strcmp(type, "status") == 0)
		fprintf(fp, "state: %s\n", (s = get_str(o, "state")) != NULL ?
		    s : "?");
	else if (strcmp(type, "error") == 0)
		output_error(fp, o);
	else
		fprintf(fp, "%s\n", type);
}

void
output_version(FILE *fp, struct json_object *o)
{
	const char	*s;
	int64_t		 n;

	fprintf(fp, "vpnd %s", (s = get_str(o, "version")) != NULL ? s : "?");
	if (get_num(o, "protocol", &n))
		fprintf(fp, ", protocol %" PRId64, n);
	fputc('\n', fp);
}

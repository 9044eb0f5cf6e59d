/*
 * t_ctl_output.c -- vpnctl's human output against golden files.
 *
 * Each case is a daemon message and the text vpnctl must print for it in
 * regress/unit/ctl/golden/<name>.ok (the tests run from the repo root).
 * A run never writes the golden files: it leaves what it printed in
 * golden-got/ctl/ beside the test binary, and `make golden` copies that
 * over the golden files (and fails, so a regeneration is never mistaken
 * for a pass).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <libgen.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "compat.h"
#include "output.h"
#include "tap.h"

#define GOLDEN	"regress/unit/ctl/golden/"
#define NOW	1755699766	/* 12 s after the handshake below */
#define SPUB	"XWfzCowMnPY45YNaQTSaMpRNkTW8N3EYaVu+GZExLUU="
#define P2PUB	"ztafOpKs51HR/BurFBIe7Wn4LY/oyKFgtpJxLDSR6Q8="

enum what { STATUS, LOGS, ERROR, EVENT };

static const struct {
	const char	*name;
	enum what	 what;
	const char	*json;
} cases[] = {
	{ "status_disconnected", STATUS,
	  "{\"type\":\"status\",\"version\":\"0.1.0\",\"features\":[],"
	  "\"connected\":false,\"state\":\"disconnected\"}" },
	{ "status_connected", STATUS,
	  "{\"type\":\"status\",\"version\":\"0.1.0\",\"features\":[],"
	  "\"connected\":true,\"state\":\"connected\","
	  "\"serverIpv4Gateway\":\"10.64.0.1\","
	  "\"deviceIpv4Address\":\"10.66.12.34/32\","
	  "\"date\":\"Wed Aug 20 14:22:34 2025\",\"txBytes\":348160,"
	  "\"rxBytes\":1268777,\"deviceIpv6Address\":\"fc00::3/128\","
	  "\"serverIpv6Gateway\":\"fc00::1\","
	  "\"handshakeTime\":\"2025-08-20T14:22:34Z\",\"uptimeSec\":3725,"
	  "\"interface\":\"vpn0\",\"peers\":[{\"publicKey\":\"" SPUB "\","
	  "\"endpoint\":\"10.99.0.1:51820\","
	  "\"allowedIps\":[\"0.0.0.0/0\",\"::/0\"],"
	  "\"lastHandshake\":1755699754,\"rxBytes\":1268777,"
	  "\"txBytes\":348160},{\"publicKey\":\"" P2PUB "\","
	  "\"allowedIps\":[],\"lastHandshake\":0,\"rxBytes\":512,"
	  "\"txBytes\":0}]}" },
	{ "status_connecting", STATUS,
	  "{\"type\":\"status\",\"version\":\"0.1.0\",\"features\":[],"
	  "\"connected\":false,\"state\":\"connecting\","
	  "\"interface\":\"vpn0\",\"peers\":[{\"publicKey\":\"" SPUB "\","
	  "\"endpoint\":\"[2001:db8::1]:51820\","
	  "\"allowedIps\":[\"10.0.0.0/8\"],\"lastHandshake\":0,"
	  "\"rxBytes\":0,\"txBytes\":148}]}" },
	/* A base-protocol daemon: no state, no peers, only totals. */
	{ "status_base", STATUS,
	  "{\"type\":\"status\",\"version\":\"2.40.0\","
	  "\"features\":[\"splitTunnel\"],\"connected\":true,"
	  "\"serverIpv4Gateway\":\"10.64.0.1\","
	  "\"deviceIpv4Address\":\"10.66.12.34/32\","
	  "\"date\":\"Wed Aug 20 14:22:34 2025\",\"txBytes\":48213,"
	  "\"rxBytes\":3221225472}" },
	/* Wrong types everywhere: shown as absent, never a crash. */
	{ "status_hostile", STATUS,
	  "{\"type\":\"status\",\"connected\":\"yes\",\"state\":7,"
	  "\"interface\":[],\"peers\":[1,{\"publicKey\":5,"
	  "\"allowedIps\":[3,\"1.2.3.0/24\"],\"rxBytes\":-5}]}" },
	{ "logs", LOGS,
	  "{\"type\":\"logs\",\"logs\":\"first line|second line|third\"}" },
	/* Raw control characters never reach the terminal. */
	{ "logs_hostile", LOGS,
	  "{\"type\":\"logs\",\"logs\":\"netmgr: a\\nparent: forged|"
	  "\\u001b[2Jclear\\u0007|already \\\\033 escaped|caf\\u00e9\"}" },
	/* Terminal controls in any field become '?': ESC, BEL, CR, DEL, C1. */
	{ "status_controls", STATUS,
	  "{\"type\":\"status\",\"state\":\"connected\\u001b[2J\","
	  "\"interface\":\"vpn0\\r\\nstate:          disconnected\","
	  "\"peers\":[{\"publicKey\":\"k\\u0007\\u007f\","
	  "\"endpoint\":\"\\u009b31m1.2.3.4:5\","
	  "\"allowedIps\":[\"10.0.0.0/8\\u001b]0;x\\u0007\"],"
	  "\"rxBytes\":1,\"txBytes\":2}]}" },
	{ "error_controls", ERROR,
	  "{\"type\":\"error\",\"request\":\"activate\","
	  "\"code\":\"system\\u001b[1m\",\"message\":\"DNS: \\u001b[2J"
	  "caf\\u00e9\\nparent: forged\"}" },
	{ "error", ERROR,
	  "{\"type\":\"error\",\"request\":\"activate\","
	  "\"code\":\"bad-config\",\"message\":\"serverPort: missing\"}" },
	{ "events", EVENT, NULL },
};

static const char *events[] = {
	"{\"type\":\"connected\",\"pubkey\":\"" SPUB "\"}",
	"{\"type\":\"disconnected\"}",
	"{\"type\":\"backendFailure\",\"errorCode\":1}",
	"{\"type\":\"status\",\"state\":\"connecting\"}",
};

static char	*render(size_t);
static char	*slurp(const char *);

static char *
render(size_t i)
{
	struct json_object	*o;
	char			*buf = NULL;
	size_t			 len = 0, j;
	FILE			*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	if (cases[i].what == EVENT) {
		for (j = 0; j < nitems(events); j++) {
			o = json_tokener_parse(events[j]);
			output_event(fp, o);
			json_object_put(o);
		}
	} else {
		o = json_tokener_parse(cases[i].json);
		if (o == NULL)
			diag("%s: bad JSON in the test", cases[i].name);
		switch (cases[i].what) {
		case STATUS:
			output_status(fp, o, NOW);
			break;
		case LOGS:
			output_logs(fp, o);
			break;
		default:
			output_error(fp, o);
			break;
		}
		json_object_put(o);
	}
	fclose(fp);
	return buf;
}

static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = calloc(1, len + 1);
	if (buf != NULL && fread(buf, 1, len, fp) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

int
main(int argc, char *argv[])
{
	char	 path[256], b[64], gotdir[256], self[256], *got, *want;
	size_t	 i;
	FILE	*fp;

	plan(34);
	/* What this run printed, for `make golden`; never the golden dir. */
	strlcpy(self, argv[0], sizeof(self));
	snprintf(gotdir, sizeof(gotdir), "%s/golden-got", dirname(self));
	mkdir(gotdir, 0755);
	strlcat(gotdir, "/ctl", sizeof(gotdir));
	mkdir(gotdir, 0755);
	for (i = 0; i < nitems(cases); i++) {
		snprintf(path, sizeof(path), GOLDEN "%s.ok", cases[i].name);
		got = render(i);
		if ((size_t)snprintf(self, sizeof(self), "%s/%s.ok", gotdir,
		    cases[i].name) < sizeof(self) &&
		    (fp = fopen(self, "w")) != NULL) {
			fputs(got, fp);
			fclose(fp);
		}
		want = slurp(path);
		ok(want != NULL, "%s exists", path);
		is_str(got, want != NULL ? want : "", "%s", cases[i].name);
		free(got);
		free(want);
	}

	is_str(output_bytes(0, b, sizeof(b)), "0 B", "0 B");
	is_str(output_bytes(1023, b, sizeof(b)), "1023 B", "1023 B");
	is_str(output_bytes(1024, b, sizeof(b)), "1.00 KiB", "1 KiB");
	is_str(output_bytes(348160, b, sizeof(b)), "340.00 KiB", "340 KiB");
	is_str(output_bytes(1268777, b, sizeof(b)), "1.21 MiB", "1.21 MiB");
	is_str(output_bytes(3221225472ULL, b, sizeof(b)), "3.00 GiB",
	    "3 GiB");
	is_str(output_bytes(UINT64_MAX, b, sizeof(b)), "16777216.00 TiB",
	    "largest");
	is_str(output_duration(12, b, sizeof(b)), "12 seconds", "12 s");
	is_str(output_duration(1, b, sizeof(b)), "1 second", "1 s");
	is_str(output_duration(3725, b, sizeof(b)),
	    "1 hour, 2 minutes, 5 seconds", "1h2m5s");
	is_str(output_duration(86400, b, sizeof(b)), "1 day", "1 day");
	is_str(output_duration(0, b, sizeof(b)), "0 seconds", "zero");
	return done_testing();
}

/*
 * proto.c -- the control protocol's small messages: the constructors
 * (msg, error, version), the status reply and its dates, and the JSON
 * building blocks the activate half (proto_activate.c) shares.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "compat.h"
#include "config.h"
#include "proto.h"

#ifndef VPND_VERSION
#define VPND_VERSION	"unknown"
#endif

static int64_t	 clamp64(uint64_t);

static const struct proto_request proto_requests[] = {
	{ "activate",	PROTO_REQ_ACTIVATE,
	    PROTO_REQ_SECRET | PROTO_REQ_CHANGES | PROTO_REQ_ADMIN |
	    PROTO_REQ_BODY },
	{ "deactivate",	PROTO_REQ_DEACTIVATE,
	    PROTO_REQ_CHANGES | PROTO_REQ_ADMIN },
	{ "status",	PROTO_REQ_STATUS,	0 },
	{ "version",	PROTO_REQ_VERSION,	0 },
	/* the logs may name peers and addresses: not for everyone */
	{ "logs",	PROTO_REQ_LOGS,		PROTO_REQ_ADMIN },
	{ "cleanlogs",	PROTO_REQ_CLEANLOGS,
	    PROTO_REQ_CHANGES | PROTO_REQ_ADMIN },
	/* whether the host is locked down is no secret: anyone may ask */
	{ "lockdown",	PROTO_REQ_LOCKDOWN,
	    PROTO_REQ_CHANGES | PROTO_REQ_ADMIN | PROTO_REQ_BODY },
	{ "lockdownStatus", PROTO_REQ_LOCKDOWN_STATUS,	0 },
	/* the parent checks the client's credentials once more */
	{ "exclude",	PROTO_REQ_EXCLUDE,
	    PROTO_REQ_CHANGES | PROTO_REQ_ADMIN },
};

const struct proto_request *
proto_request_find(const char *type)
{
	size_t	 i;

	for (i = 0; i < nitems(proto_requests); i++)
		if (strcmp(type, proto_requests[i].type) == 0)
			return &proto_requests[i];
	return NULL;
}

int
proto_json_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object	*v;

	if ((v = json_object_new_string(s)) == NULL)
		return -1;
	if (json_object_object_add(o, key, v) == -1) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
proto_json_key(struct json_object *o, const char *key,
    const uint8_t k[WG_KEY_LEN])
{
	char	 b64[WG_KEY_B64_LEN + 1];
	int	 r;

	key_to_base64(b64, k);
	r = proto_json_str(o, key, b64);
	explicit_bzero(b64, sizeof(b64));
	return r;
}

struct json_object *
proto_json_prefixes(const struct prefix *aips, size_t n)
{
	struct json_object	*arr;
	char			 buf[64];
	size_t			 i;

	if ((arr = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(
		    prefix_fmt(&aips[i], buf, sizeof(buf))));
	return arr;
}

const char *
proto_fmt_date(time_t t, char *buf, size_t len)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;

	/*
	 * Qt's TextDate, by hand: strftime's names follow the locale and
	 * it has no unpadded day in plain C.
	 */
	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 ||
	    tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	snprintf(buf, len, "%s %s %d %02d:%02d:%02d %d", days[tm.tm_wday],
	    months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    tm.tm_year + 1900);
	return buf;
}

const char *
proto_fmt_iso8601(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%s", "");
	return buf;
}

int
proto_parse_lockdown(struct json_object *o, bool *enable, bool *allow_lan,
    char *err, size_t errlen)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, "enable", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "enable: a boolean is required");
		return -1;
	}
	*enable = json_object_get_boolean(v);
	*allow_lan = false;
	if (json_object_object_get_ex(o, "allowLan", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(err, errlen, "allowLan: not a boolean");
			return -1;
		}
		*allow_lan = json_object_get_boolean(v);
	}
	if (*allow_lan && !*enable) {
		snprintf(err, errlen, "allowLan: only with enable true");
		return -1;
	}
	return 0;
}

struct json_object *
proto_lockdown_json(const char *type, bool enabled, bool allow_lan)
{
	struct json_object	*o;

	if ((o = proto_msg(type)) == NULL)
		return NULL;
	json_object_object_add(o, "enabled", json_object_new_boolean(enabled));
	json_object_object_add(o, "allowLan",
	    json_object_new_boolean(enabled && allow_lan));
	return o;
}

struct json_object *
proto_msg(const char *type)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (proto_json_str(o, "type", type) == -1) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *
proto_error(const char *request, const char *code, const char *message)
{
	struct json_object	*o;

	if ((o = proto_msg("error")) == NULL)
		return NULL;
	proto_json_str(o, "request", request != NULL ? request : "");
	proto_json_str(o, "code", code);
	proto_json_str(o, "message", message != NULL ? message : "");
	return o;
}

struct json_object *
proto_version_json(void)
{
	struct json_object	*o;

	if ((o = proto_msg("version")) == NULL)
		return NULL;
	proto_json_str(o, "version", VPND_VERSION);
	json_object_object_add(o, "protocol",
	    json_object_new_int(PROTO_VERSION));
	return o;
}

static int64_t
clamp64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

struct json_object *
proto_status_json(const struct proto_status *st)
{
	struct json_object	*o, *arr, *el;
	const struct proto_peer_status *ps;
	char			 buf[128];
	size_t			 i;

	if ((o = proto_msg("status")) == NULL)
		return NULL;
	proto_json_str(o, "version",
	    st->version != NULL ? st->version : VPND_VERSION);
	arr = json_object_new_array();
	for (i = 0; i < st->nfeatures; i++)
		json_object_array_add(arr,
		    json_object_new_string(st->features[i]));
	json_object_object_add(o, "features", arr);
	json_object_object_add(o, "connected",
	    json_object_new_boolean(st->connected));
	proto_json_str(o, "state", st->state != NULL ? st->state :
	    st->connected ? "connected" : "disconnected");
	if (st->reason != NULL)
		proto_json_str(o, "stateReason", st->reason);

	if (st->connected) {
		/* Base clients read these two as strings even when empty. */
		proto_json_str(o, "serverIpv4Gateway", st->has_gw4 ?
		    addr_fmt(&st->gw4, buf, sizeof(buf)) : "");
		proto_json_str(o, "deviceIpv4Address", st->has_addr4 ?
		    prefix_fmt(&st->addr4, buf, sizeof(buf)) : "");
		proto_json_str(o, "date", st->first_handshake != 0 ?
		    proto_fmt_date(st->first_handshake, buf, sizeof(buf)) :
		    "");
		json_object_object_add(o, "txBytes",
		    json_object_new_int64(clamp64(st->tx_bytes)));
		json_object_object_add(o, "rxBytes",
		    json_object_new_int64(clamp64(st->rx_bytes)));
		if (st->has_addr6)
			proto_json_str(o, "deviceIpv6Address",
			    prefix_fmt(&st->addr6, buf, sizeof(buf)));
		if (st->has_gw6)
			proto_json_str(o, "serverIpv6Gateway",
			    addr_fmt(&st->gw6, buf, sizeof(buf)));
		if (st->first_handshake != 0)
			proto_json_str(o, "handshakeTime", proto_fmt_iso8601(
			    st->first_handshake, buf, sizeof(buf)));
		json_object_object_add(o, "uptimeSec",
		    json_object_new_int64(st->uptime < 0 ? 0 : st->uptime));
	}
	if (st->device_id != NULL)
		proto_json_str(o, "deviceId", st->device_id);
	if (st->has_lockdown) {
		el = json_object_new_object();
		json_object_object_add(el, "enabled",
		    json_object_new_boolean(st->lockdown));
		json_object_object_add(el, "allowLan",
		    json_object_new_boolean(st->lockdown_lan));
		json_object_object_add(o, "lockdown", el);
	}
	if (st->ifname != NULL) {
		proto_json_str(o, "interface", st->ifname);
		arr = json_object_new_array();
		for (i = 0; i < st->npeers; i++) {
			ps = &st->peers[i];
			el = json_object_new_object();
			proto_json_key(el, "publicKey", ps->pubkey);
			if (ps->endpoint.ss_family != AF_UNSPEC)
				proto_json_str(el, "endpoint", endpoint_fmt(
				    &ps->endpoint, buf, sizeof(buf)));
			json_object_object_add(el, "allowedIps",
			    proto_json_prefixes(ps->aips, ps->naips));
			json_object_object_add(el, "lastHandshake",
			    json_object_new_int64(ps->last_handshake));
			if (ps->handshake_age_ms >= 0)
				json_object_object_add(el, "handshakeAgeSec",
				    json_object_new_int64(
				    ps->handshake_age_ms / 1000));
			if (ps->rx_age_ms >= 0)
				json_object_object_add(el, "rxAgeSec",
				    json_object_new_int64(
				    ps->rx_age_ms / 1000));
			json_object_object_add(el, "rxBytes",
			    json_object_new_int64(clamp64(ps->rx_bytes)));
			json_object_object_add(el, "txBytes",
			    json_object_new_int64(clamp64(ps->tx_bytes)));
			json_object_array_add(arr, el);
		}
		json_object_object_add(o, "peers", arr);
	}
	return o;
}

/*
 * proto.h -- the control protocol's messages as C data, shared by netmgr
 * (the server) and vpnctl (a client).
 *
 * Pure functions: JSON in, struct out and back. No sockets, no globals,
 * so every rule here is unit-tested on its own. proto.c holds the small
 * messages and the status reply, proto_activate.c the activate request.
 */
#ifndef VPND_PROTO_H
#define VPND_PROTO_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "appid.h"
#include "config.h"

struct json_object;

#define PROTO_VERSION		1	/* the "protocol" of a version reply */
#define PROTO_ERRLEN		256	/* room for a parse error message */
#define PROTO_DATE_LEN		64

/* What an activate request carries besides the tunnel configuration. */
struct proto_activate_extra {
	struct prefix	 gw4, gw6;	/* serverIpv{4,6}Gateway */
	bool		 has_gw4, has_gw6;
	/*
	 * The primary peer's endpoint is the IPv4 one when both were given;
	 * the IPv6 one is kept here so netmgr can fall back to it.
	 */
	struct sockaddr_storage alt_endpoint;	/* AF_UNSPEC: none */
	/* vpnDisabledApps, as desktop-file IDs (appid_parse()) */
	char		 disabled_apps[APPID_MAX_APPS][APPID_MAX + 1];
	size_t		 ndisabled_apps;
};

/*
 * Validate an activate request into conf (conf_init'ed by the caller,
 * conf_free'd by the caller on success and failure alike). 0 ok; -1 with
 * *code ("bad-config" or "system") and a human message in err.
 */
int	 proto_parse_activate(struct json_object *, struct tunnel_conf *,
	    struct proto_activate_extra *, const char **code, char *err,
	    size_t errlen);

/*
 * The inverse, for vpnctl up: base fields from conf->peers[0], extensions
 * for the rest. extra may be NULL. NULL with err set when conf cannot be
 * expressed (no private key, no peer, the first peer has no endpoint).
 * The result holds the private key: free it with proto_put_secret().
 */
struct json_object *proto_activate_json(const struct tunnel_conf *,
	    const struct proto_activate_extra *, char *err, size_t errlen);

/* Overwrite the key strings of an activate object, then release it. */
void	 proto_scrub(struct json_object *);
void	 proto_put_secret(struct json_object *);

/* One peer of the status reply's "peers" extension. */
struct proto_peer_status {
	uint8_t		 pubkey[WG_KEY_LEN];
	struct sockaddr_storage endpoint;	/* AF_UNSPEC: none */
	const struct prefix *aips;
	size_t		 naips;
	time_t		 last_handshake;	/* 0: never */
	int64_t		 handshake_age_ms;	/* -1: never */
	int64_t		 rx_age_ms;		/* -1: nothing received */
	uint64_t	 rx_bytes, tx_bytes;
};

/*
 * Everything a status reply can say, filled by netmgr. Strings are
 * borrowed; NULL means absent.
 */
struct proto_status {
	const char	*version;	/* NULL: VPND_VERSION */
	const char *const *features;	/* base "features" (none on Linux) */
	size_t		 nfeatures;
	const char	*state;		/* disconnected, connecting, ... */
	const char	*reason;	/* why connecting again; NULL: none */
	bool		 connected;	/* base: handshake done, peer up */
	const char	*ifname;	/* NULL while no interface exists */
	struct prefix	 addr4, addr6;	/* deviceIpv{4,6}Address */
	bool		 has_addr4, has_addr6;
	struct prefix	 gw4, gw6;	/* serverIpv{4,6}Gateway */
	bool		 has_gw4, has_gw6;
	time_t		 first_handshake;	/* "date"; 0: none yet */
	int64_t		 uptime;	/* seconds since the first handshake */
	uint64_t	 rx_bytes, tx_bytes;	/* the primary peer's */
	const char	*device_id;	/* NULL: not sent */
	bool		 has_lockdown;	/* the setting is known: sent */
	bool		 lockdown, lockdown_lan;
	const struct proto_peer_status *peers;
	size_t		 npeers;
};

/*
 * The status reply. Always: type, version, features, connected, state.
 * When connected: serverIpv4Gateway, deviceIpv4Address, date, txBytes,
 * rxBytes, handshakeTime, uptimeSec, and the IPv6 address and gateway
 * when there are some. When an interface exists: interface and peers.
 * When the lockdown setting is known: lockdown {enabled, allowLan}.
 */
struct json_object *proto_status_json(const struct proto_status *);

/*
 * The "date" field in the form Mozilla's clients parse back (Qt's
 * TextDate, "Wed Aug 20 14:22:34 2025", local time, day not padded).
 * netmgr calls tzset() before its chroot so local time stays right.
 */
const char *proto_fmt_date(time_t, char *, size_t);
/* ISO 8601 in UTC: "2025-08-20T14:22:34Z". */
const char *proto_fmt_iso8601(time_t, char *, size_t);

/*
 * The control requests, listed once: control.c validates and filters with
 * this table, netmgr dispatches on its enum. A request without
 * PROTO_REQ_ADMIN is for any local user (the read-only tier: status,
 * version, and the signals every connected client receives); the others
 * are for root and the members of group vpnd.
 */
enum proto_req {
	PROTO_REQ_ACTIVATE,
	PROTO_REQ_DEACTIVATE,
	PROTO_REQ_STATUS,
	PROTO_REQ_VERSION,
	PROTO_REQ_LOGS,
	PROTO_REQ_CLEANLOGS,
	PROTO_REQ_LOCKDOWN,		/* switch lockdown */
	PROTO_REQ_LOCKDOWN_STATUS,	/* read it */
	PROTO_REQ_EXCLUDE,
};

#define PROTO_REQ_SECRET	0x01	/* carries keys: wiped after use */
#define PROTO_REQ_CHANGES	0x02	/* changes the daemon's state */
#define PROTO_REQ_ADMIN		0x04	/* root and group vpnd only */
#define PROTO_REQ_BODY		0x08	/* read past "type" and "id" */

struct proto_request {
	const char	*type;		/* the request's "type" */
	enum proto_req	 req;
	unsigned int	 flags;		/* PROTO_REQ_* */
};

/* The table's row for a "type"; NULL: not a request we know. */
const struct proto_request *proto_request_find(const char *type);

/*
 * lockdown: {"type":"lockdown","enable":bool[,"allowLan":bool]}; allowLan
 * (default false) only with enable true. 0 ok, -1 with a message in err.
 */
int	 proto_parse_lockdown(struct json_object *, bool *enable,
	    bool *allow_lan, char *err, size_t errlen);
/* The reply to both lockdown requests: {"type":TYPE,"enabled":..,"allowLan":..} */
struct json_object *proto_lockdown_json(const char *type, bool enabled,
	    bool allow_lan);

/* Small constructors shared by control.c and netmgr. */
struct json_object *proto_msg(const char *type);
struct json_object *proto_error(const char *request, const char *code,
	    const char *message);
struct json_object *proto_version_json(void);

/* The building blocks both halves of the codec use. -1: out of memory. */
int	 proto_json_str(struct json_object *, const char *key, const char *);
int	 proto_json_key(struct json_object *, const char *key,
	    const uint8_t [WG_KEY_LEN]);	/* as base64 */
struct json_object *proto_json_prefixes(const struct prefix *, size_t);

#endif /* VPND_PROTO_H */

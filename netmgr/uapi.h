/*
 * uapi.h -- the WireGuard cross-platform userspace API (the text protocol
 * wireguard-go serves), so that wg(8) and the tools built on it work on
 * vpnd's interface.
 *
 * The parent binds IFNAME.sock in the UAPI directory and hands the
 * listening socket over; netmgr parses every request (uapi_proto.c) and
 * answers it (uapi.c). "get" is answered from the tunnel in force and
 * tunworker's counters; "set" is recorded as it is read, applied to a copy
 * of the tunnel's configuration (uapi_set_apply), checked as an activate
 * is, and handed to the state machine (tunnel_uapi_set) whole or not at
 * all.
 */
#ifndef VPND_UAPI_H
#define VPND_UAPI_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct event_base;
struct imsg_wg_stats;
struct tunnel_conf;

#define UAPI_LINE_MAX		256	/* longer than any valid line */
#define UAPI_SET_LINES_MAX	(1 << 17)	/* lines in one set request */

enum uapi_op {
	UAPI_OP_NONE = 0,
	UAPI_OP_GET,
	UAPI_OP_SET,
};

/* A set request's peer section, as given. */
struct uapi_peer_set {
	uint8_t		 pubkey[WG_KEY_LEN];
	int		 remove, update_only, replace_aips;
	int		 has_psk;
	uint8_t		 psk[WG_KEY_LEN];	/* all zero: none */
	int		 has_endpoint;
	struct sockaddr_storage endpoint;
	int		 has_keepalive;
	uint16_t	 keepalive;
	struct prefix	*aips;
	size_t		 naips;
};

#define UAPI_SET_PEERS_MAX	(4 * CONF_MAX_PEERS)	/* sections */

/* A whole set request, as given. */
struct uapi_set {
	int		 has_privkey;
	uint8_t		 privkey[WG_KEY_LEN];
	int		 has_port;
	uint16_t	 port;
	int		 has_fwmark;
	uint32_t	 fwmark;
	int		 replace_peers;
	struct uapi_peer_set *peers;
	size_t		 npeers;
};

/* One request, fed in pieces as they arrive. */
struct uapi_parser {
	enum uapi_op	 op;
	int		 err;		/* errno for the reply; 0 = valid */
	int		 in_peer;	/* set: a public_key was given */
	struct uapi_set	 set;
	size_t		 nlines;
	size_t		 len;		/* of line */
	char		 line[UAPI_LINE_MAX];
};

#define UAPI_MORE	0	/* need more input */
#define UAPI_DONE	1	/* a whole request: op and err say which */
#define UAPI_BAD	-1	/* malformed: reply errno=err and close */

void	 uapi_parser_init(struct uapi_parser *);
/* Consumes at most len bytes; *used says how many (the rest is next). */
int	 uapi_parse(struct uapi_parser *, const char *buf, size_t len,
	    size_t *used);
/* Zeroes the line and the set (keys), frees it. */
void	 uapi_parser_clear(struct uapi_parser *);

/*
 * The configuration cur with the set s applied, into out (initialised
 * here; freed again on error). 0, or the errno of the reply: EINVAL for
 * a value no activate takes (private key of zeros, a mark that would name
 * the kernel's table, a route the parent refuses), E2BIG past the limits
 * of an activate (peers, allowed IPs, routes). fwmark 0 is vpnd's default
 * mark.
 */
int	 uapi_set_apply(const struct uapi_set *s, const struct tunnel_conf *cur,
	    struct tunnel_conf *out, char *err, size_t errlen);

/* A growing output buffer whose old copies are zeroed (keys pass here). */
struct uapi_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

void	 uapi_buf_printf(struct uapi_buf *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	 uapi_buf_free(struct uapi_buf *);

/*
 * The reply to "get=1": conf NULL when no tunnel is up. fwmark is the mark
 * the data plane's UDP sockets carry. Ends with "errno=0\n\n".
 */
void	 uapi_get_format(struct uapi_buf *, const struct tunnel_conf *conf,
	    uint32_t fwmark, const struct imsg_wg_stats *, size_t nstats);

/* uapi.c: the server in netmgr. */
void	 uapi_init(struct event_base *, int listenfd);
void	 uapi_on_stats(void);	/* fresh counters (or the timeout) */

#endif /* VPND_UAPI_H */

/*
 * tunnel.h -- netmgr's tunnel state machine, as the dispatchers in
 * netmgr.c and the queries in query.c see it.
 *
 * Requests come in (activate, deactivate, a headless configuration,
 * shutdown); the other processes' answers come in as tunnel_on_*() calls.
 * What the tunnel asks of the parent, tunworker and dnsmgr it sends on the
 * channels given to tunnel_init().
 */
#ifndef VPND_TUNNEL_H
#define VPND_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct ctl_conn;
struct imsgev;
struct imsg_result;
struct imsg_wg_stats;
struct json_object;
struct proto_status;
struct proto_peer_status;
struct vpnd_env;

/* At most this many peers in the merged configuration of all hops. */
#define TUNNEL_MAX_PEERS	(CONF_MAX_PEERS * HOP_MAX)

void	 tunnel_init(const struct vpnd_env *, struct imsgev *parent,
	    struct imsgev *tun, struct imsgev *dns);

/* Control requests; each answers req exactly once (see control.h). */
void	 tunnel_activate(struct ctl_conn *, struct json_object *req);
void	 tunnel_deactivate_request(struct ctl_conn *, struct json_object *);

/*
 * Told when an activate's set-up is over: ok once the interface, routes,
 * kill switch and DNS are in place (the handshake may still be to come),
 * not ok when it failed or was given up; conn is its client's id
 * (control_conn_id()).
 */
void	 tunnel_set_activate_hook(void (*)(unsigned int conn, bool ok));

/*
 * A UAPI set (wg set, wg setconf): applied to the tunnel's configuration
 * and carried out as an activate of that configuration would be (in place
 * when only peers change, else the tunnel is rebuilt with the kill switch
 * kept). Returns the errno for the reply, having changed nothing:
 * ENODEV when no tunnel is up, EBUSY while one is being set up or taken
 * down, ENOTSUP for a multihop tunnel, EINVAL/E2BIG for a set no
 * activate would pass (logged); or EINPROGRESS: the set is being carried
 * out, and the hook is called once with its outcome: 0 when the parent
 * has set it up, else the errno of why not (the tunnel is then back as
 * it was: the parent's own errno, else EIO; ENODEV when a deactivate or
 * a failure took the tunnel away meanwhile, ECANCELED when an activate
 * replaced it).
 */
struct uapi_set;
int	 tunnel_uapi_set(const struct uapi_set *);
void	 tunnel_set_uapi_hook(void (*)(int err));

/* The parent's configuration file: conf is taken over (and reset). */
void	 tunnel_headless(struct tunnel_conf *conf);

/* SIGTERM: take everything down, then IMSG_SHUTDOWN_DONE to the parent. */
void	 tunnel_shutdown(void);

/* The other processes' answers. */
void	 tunnel_on_net_result(const struct imsg_result *);
void	 tunnel_on_dns_result(const struct imsg_result *);
void	 tunnel_on_wg_reset_done(void);
void	 tunnel_on_wg_error(const char *msg);
void	 tunnel_on_handshake(const uint8_t key[WG_KEY_LEN]);
/* The watchdog: a peer we dial left a handshake unanswered for 90 s. */
void	 tunnel_on_peer_lost(const uint8_t key[WG_KEY_LEN]);

/*
 * Events for observers other than the control socket (a D-Bus door),
 * beside the signals it sends itself:
 *   TUNNEL_EV_LOST	connected -> connecting: the peer key stopped
 *			answering (reason says so); the kill switch holds
 *			and vpnd keeps retrying. Not a disconnect.
 *   TUNNEL_EV_RECOVERED	connected again after a LOST (key's handshake).
 * One hook; NULL removes it.
 */
enum tunnel_event {
	TUNNEL_EV_LOST,
	TUNNEL_EV_RECOVERED,
};
typedef void tunnel_event_fn(enum tunnel_event,
	    const uint8_t key[WG_KEY_LEN], const char *reason);
void	 tunnel_set_event_hook(tunnel_event_fn *);
/* Whether the kill switch is in force now (up, connecting or error). */
bool	 tunnel_killswitch_holds(void);

/*
 * The merged configuration in force while the tunnel is set up (keys
 * included: the UAPI's get prints them), else NULL.
 */
const struct tunnel_conf *tunnel_conf_in_force(void);

/* Whether tunworker holds the configuration (has counters to ask). */
bool	 tunnel_wg_up(void);

/*
 * The status reply's view of the tunnel: st, and the peers in ps (room
 * for TUNNEL_MAX_PEERS), merged with tunworker's last counters.
 */
void	 tunnel_status(struct proto_status *st, struct proto_peer_status *ps,
	    const struct imsg_wg_stats *stats, size_t nstats);

#endif /* VPND_TUNNEL_H */

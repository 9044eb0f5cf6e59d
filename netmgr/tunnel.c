/*
 * tunnel.c -- netmgr's connection state machine.
 *
 * The state machine is a set of "done" flags (network, WireGuard, DNS) and
 * a target (up or down); tunnel_step() issues the next request toward the
 * target whenever no reply is outstanding. Every way down -- deactivate, a
 * failed activation, a data plane failure, shutdown -- goes through the
 * same steps in the same order, so nothing is ever left half set up.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "confmsg.h"
#include "control.h"
#include "imsgev.h"
#include "log.h"
#include "proto.h"
#include "query.h"
#include "tunnel.h"
#include "uapi.h"
#include "vpnd.h"

#define FALLBACK_SEC		5	/* IPv4 endpoint silent: try IPv6 */

enum tstate {
	TS_DISCONNECTED,
	TS_CONNECTING,
	TS_CONNECTED,
	TS_DISCONNECTING,
	TS_ERROR,
};

static const char *const tstate_names[] = {
	"disconnected", "connecting", "connected", "disconnecting", "error"
};

enum waitfor {
	W_NONE,
	W_NET,
	W_DNS,
	W_WG,
};

/* A switch in place: the parent's part first, then tunworker's. */
enum update {
	UPD_NONE,
	UPD_NET,		/* the network part is to be sent */
	UPD_WG,			/* ... was sent: WireGuard's next */
};

struct tunnel {
	enum tstate		 state;
	int			 want_up;
	enum waitfor		 waiting;
	int			 net_up, wg_up, dns_set;
	enum update		 update;	/* NET/WG update in place */
	int			 wait_up;	/* the request waited for sets up */
	int			 failed;	/* going down after failure */
	int			 keep_ks;	/* ... leaving the kill switch */
	int			 ks_kept;	/* error state: firewall is up */
	int			 down_kept;	/* the NET_DOWN in flight keeps it */
	char			 fail_code[32];
	char			 fail_msg[256];
	/* The configuration per hop and the merged one in force. */
	struct tunnel_conf	 hop[HOP_MAX];
	int			 hop_set[HOP_MAX];
	struct proto_activate_extra hop_extra[HOP_MAX];
	struct tunnel_conf	 eff;
	int			 have_eff;
	int			 restart;	/* down, then up with hops */
	int			 restart_ks;	/* ... the old set-up had the ks */
	int			 ifindex;
	/*
	 * The activate being set up: answered (no reply) at once so no
	 * later request of its client waits behind it; a failure is sent to
	 * that client afterwards, with the request's id.
	 */
	struct {
		int			 pending;
		unsigned int		 conn;
		struct json_object	*id;
	}			 act;
	uid_t			 act_uid;	/* whose app scopes count */
	/* Peers that completed a handshake since activate. */
	uint8_t			 connected_keys[CONF_MAX_PEERS][WG_KEY_LEN];
	size_t			 nconnected;
	time_t			 first_handshake;
	bool			 announced[CONF_MAX_PEERS];
	/* why the state went back to connecting; "" otherwise */
	char			 reason[128];
	/*
	 * The single hop as it was before a UAPI set whose set-up has not
	 * been confirmed yet: if the parent refuses that set-up (a listen
	 * port in use, ...), the tunnel is rebuilt as it was.
	 */
	struct tunnel_conf	 uapi_prev;
	int			 have_uapi_prev;
};

static void	 tunnel_step(void);
static void	 tunnel_fail(const char *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	 tunnel_deactivate(void);
static void	 tunnel_merge(void);
static void	 announce_connected(void);
static void	 fallback_arm(void);
static void	 fallback_timeout(int, short, void *);
static void	 keep_connected_peers(int);
static void	 uapi_prev_drop(int);
static void	 uapi_revert(const char *, int);
static void	 send_net(int);
static void	 send_wg(void);
static void	 send_dns(void);
static void	 act_clear(void);
static void	 act_answer_err(const char *, const char *);
static int	 peer_dialled(const uint8_t *);

static const struct vpnd_env	*env;
static struct imsgev		*iev_parent, *iev_tun, *iev_dns;
static struct tunnel		 tun;
static int			 shutting_down;
static struct event		 ev_fallback;
static void			(*act_hook)(unsigned int, bool);
static void	(*uapi_hook)(int);	/* a UAPI set's outcome */
static tunnel_event_fn		*event_hook;

void
tunnel_init(const struct vpnd_env *e, struct imsgev *parent,
    struct imsgev *tunworker, struct imsgev *dns)
{
	env = e;
	iev_parent = parent;
	iev_tun = tunworker;
	iev_dns = dns;
	evtimer_set(&ev_fallback, fallback_timeout, NULL);
}

void
tunnel_set_activate_hook(void (*fn)(unsigned int, bool))
{
	act_hook = fn;
}

void
tunnel_set_uapi_hook(void (*fn)(int))
{
	uapi_hook = fn;
}

const struct tunnel_conf *
tunnel_conf_in_force(void)
{
	return tun.have_eff && tun.net_up ? &tun.eff : NULL;
}

bool
tunnel_wg_up(void)
{
	return tun.wg_up;
}

void
tunnel_deactivate_request(struct ctl_conn *c, struct json_object *req)
{
	control_noreply(c, req);
	if (tun.state == TS_DISCONNECTED && !tun.want_up &&
	    tun.waiting == W_NONE) {
		control_broadcast(proto_msg("disconnected"));
		return;
	}
	tunnel_deactivate();
}

void
tunnel_shutdown(void)
{
	shutting_down = 1;
	tunnel_deactivate();
}

void
tunnel_headless(struct tunnel_conf *conf)
{
	log_info("headless mode: activating the configured tunnel");
	conf_free(&tun.hop[HOP_SINGLE]);
	tun.hop[HOP_SINGLE] = *conf;	/* takes the peers */
	memset(conf, 0, sizeof(*conf));
	conf_init(conf);
	memset(&tun.hop_extra[HOP_SINGLE], 0,
	    sizeof(tun.hop_extra[HOP_SINGLE]));
	tun.hop_set[HOP_SINGLE] = 1;
	tun.act.conn = 0;
	tun.act.pending = 0;
	tunnel_merge();
	tun.want_up = 1;
	tun.nconnected = 0;
	/* As activate: connecting, connected at the first handshake. */
	tun.state = TS_CONNECTING;
	tun.first_handshake = 0;
	tunnel_step();
}

void
tunnel_on_net_result(const struct imsg_result *r)
{
	if (tun.waiting != W_NET)
		fatalx("unexpected IMSG_NET_RESULT");
	tun.waiting = W_NONE;
	/*
	 * What the reply means depends on what was asked, not on what is
	 * wanted now: a deactivate may have come meanwhile, and then
	 * tunnel_step() takes the new set-up down again.
	 */
	if (tun.wait_up) {
		if (!r->ok) {
			tun.update = UPD_NONE;
			if (tun.want_up && tun.have_uapi_prev)
				uapi_revert(r->msg, r->err);
			else if (tun.want_up)
				tunnel_fail("system", "%s", r->msg);
			else
				tunnel_step();
			return;
		}
		tun.net_up = 1;
		tun.ks_kept = 0;	/* replaced or removed */
		tun.ifindex = r->ifindex;
		uapi_prev_drop(0);	/* a UAPI set is in place */
	} else {
		tun.net_up = 0;
		/*
		 * What the parent was asked to keep is what is up;
		 * keep_ks itself is cleared once everything is down.
		 */
		tun.ks_kept = tun.down_kept;
	}
	tunnel_step();
}

void
tunnel_on_dns_result(const struct imsg_result *r)
{
	if (tun.waiting != W_DNS)
		fatalx("unexpected IMSG_DNS_RESULT");
	tun.waiting = W_NONE;
	if (tun.wait_up) {
		if (!r->ok) {
			if (tun.want_up)
				tunnel_fail("system", "DNS: %s", r->msg);
			else
				tunnel_step();
			return;
		}
		tun.dns_set = 1;
	} else {
		if (!r->ok)
			log_warnx("DNS restore: %s", r->msg);
		tun.dns_set = 0;
	}
	tunnel_step();
}

void
tunnel_on_wg_reset_done(void)
{
	if (tun.waiting != W_WG)
		fatalx("unexpected IMSG_WG_RESET_DONE");
	tun.waiting = W_NONE;
	tun.wg_up = 0;
	query_stats_forget();
	tunnel_step();
}

void
tunnel_on_wg_error(const char *msg)
{
	struct json_object	*o;

	log_warnx("data plane failure: %s", msg);
	o = proto_msg("backendFailure");
	json_object_object_add(o, "errorCode", json_object_new_int(1));
	control_broadcast(o);
	tunnel_fail("system", "data plane failure: %s", msg);
}

void
tunnel_on_handshake(const uint8_t key[WG_KEY_LEN])
{
	char	 b64[WG_KEY_B64_LEN + 1];
	size_t	 i;

	if (!tun.want_up)
		return;
	for (i = 0; i < tun.nconnected; i++)
		if (memcmp(tun.connected_keys[i], key, WG_KEY_LEN) == 0)
			break;
	if (i < tun.nconnected || i == CONF_MAX_PEERS)
		return;
	tun.announced[tun.nconnected] = false;
	memcpy(tun.connected_keys[tun.nconnected++], key, WG_KEY_LEN);
	if (tun.first_handshake == 0)
		tun.first_handshake = time(NULL);
	key_to_base64(b64, key);
	log_info("handshake with %s completed", b64);
	announce_connected();
}

void
tunnel_set_event_hook(tunnel_event_fn *fn)
{
	event_hook = fn;
}

bool
tunnel_killswitch_holds(void)
{
	return (tun.net_up && tun.have_eff && tun.eff.killswitch == 1) ||
	    tun.ks_kept;
}

/*
 * A connected tunnel whose peer stopped answering goes back to
 * connecting: the kill switch and the whole set-up stay, tunworker keeps
 * retrying (with backoff), and the peer's next handshake announces
 * `connected` again.
 */
void
tunnel_on_peer_lost(const uint8_t key[WG_KEY_LEN])
{
	struct json_object	*o;
	char			 b64[WG_KEY_B64_LEN + 1];
	size_t			 i, n;

	if (!tun.want_up || tun.state != TS_CONNECTED || !peer_dialled(key))
		return;
	for (i = 0; i < tun.nconnected; i++)
		if (memcmp(tun.connected_keys[i], key, WG_KEY_LEN) == 0)
			break;
	if (i == tun.nconnected)
		return;
	n = tun.nconnected - i - 1;
	memmove(tun.connected_keys[i], tun.connected_keys[i + 1],
	    n * WG_KEY_LEN);
	memmove(&tun.announced[i], &tun.announced[i + 1],
	    n * sizeof(tun.announced[0]));
	tun.nconnected--;
	tun.state = TS_CONNECTING;
	key_to_base64(b64, key);
	snprintf(tun.reason, sizeof(tun.reason), "no handshake with %s for "
	    "90 s", b64);
	log_warnx("connection lost: %s; retrying%s", tun.reason,
	    tunnel_killswitch_holds() ? " (the kill switch stays)" : "");
	o = proto_msg("connecting");
	json_object_object_add(o, "pubkey", json_object_new_string(b64));
	json_object_object_add(o, "reason",
	    json_object_new_string(tun.reason));
	control_broadcast(o);
	if (event_hook != NULL)
		event_hook(TUNNEL_EV_LOST, key, tun.reason);
}

void
tunnel_status(struct proto_status *st, struct proto_peer_status *ps,
    const struct imsg_wg_stats *stats, size_t nstats)
{
	struct tunnel_conf	*conf = &tun.eff;
	size_t			 i, j, n = 0;
	time_t			 now = time(NULL);

	memset(st, 0, sizeof(*st));
	st->state = tstate_names[tun.state];
	st->connected = tun.state == TS_CONNECTED;
	if (tun.state == TS_CONNECTING && tun.reason[0] != '\0')
		st->reason = tun.reason;
	if (!tun.have_eff || !tun.net_up)
		return;
	st->ifname = env->ifname;
	for (i = 0; i < conf->naddrs; i++) {
		if (conf->addrs[i].af == AF_INET && !st->has_addr4) {
			st->addr4 = conf->addrs[i];
			st->has_addr4 = true;
		} else if (conf->addrs[i].af == AF_INET6 && !st->has_addr6) {
			st->addr6 = conf->addrs[i];
			st->has_addr6 = true;
		}
	}
	for (i = 0; i < HOP_MAX; i++) {
		if (!tun.hop_set[i])
			continue;
		if (tun.hop_extra[i].has_gw4 && !st->has_gw4) {
			st->gw4 = tun.hop_extra[i].gw4;
			st->has_gw4 = true;
		}
		if (tun.hop_extra[i].has_gw6 && !st->has_gw6) {
			st->gw6 = tun.hop_extra[i].gw6;
			st->has_gw6 = true;
		}
	}
	for (i = 0; i < conf->npeers && n < TUNNEL_MAX_PEERS; i++) {
		memset(&ps[n], 0, sizeof(ps[n]));
		memcpy(ps[n].pubkey, conf->peers[i].pubkey, WG_KEY_LEN);
		ps[n].endpoint = conf->peers[i].endpoint;
		ps[n].aips = conf->peers[i].aips;
		ps[n].naips = conf->peers[i].naips;
		ps[n].handshake_age_ms = ps[n].rx_age_ms = -1;
		for (j = 0; j < nstats; j++) {
			if (memcmp(stats[j].pubkey, conf->peers[i].pubkey,
			    WG_KEY_LEN) != 0)
				continue;
			if (stats[j].endpoint.ss_family != AF_UNSPEC)
				ps[n].endpoint = stats[j].endpoint;
			ps[n].last_handshake = stats[j].last_handshake;
			ps[n].handshake_age_ms = stats[j].handshake_age_ms;
			ps[n].rx_age_ms = stats[j].rx_age_ms;
			ps[n].rx_bytes = stats[j].rx_bytes;
			ps[n].tx_bytes = stats[j].tx_bytes;
		}
		n++;
	}
	st->peers = ps;
	st->npeers = n;
	/* The base fields speak of the primary (last hop) peer. */
	if (n > 0) {
		i = tun.hop_set[HOP_MULTI_EXIT] && n > 1 ? n - 1 : 0;
		st->rx_bytes = ps[i].rx_bytes;
		st->tx_bytes = ps[i].tx_bytes;
	}
	if (st->connected && tun.first_handshake != 0) {
		st->first_handshake = tun.first_handshake;
		st->uptime = now - tun.first_handshake;
	}
}

/* Fields that decide whether an activate can switch in place. */
static int
conf_same_iface(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	return memcmp(a->privkey, b->privkey, WG_KEY_LEN) == 0 &&
	    a->listen_port == b->listen_port && a->mtu == b->mtu &&
	    a->naddrs == b->naddrs && memcmp(a->addrs, b->addrs,
	    a->naddrs * sizeof(a->addrs[0])) == 0 && a->ndns == b->ndns &&
	    memcmp(a->dns, b->dns, a->ndns * sizeof(a->dns[0])) == 0 &&
	    a->nsearch == b->nsearch && memcmp(a->search, b->search,
	    sizeof(a->search)) == 0 && a->allowlan == b->allowlan &&
	    a->table_mode == b->table_mode && a->table == b->table &&
	    conf_fwmark(a) == conf_fwmark(b);
}

static int
conf_copy_peers(struct tunnel_conf *dst, const struct tunnel_conf *src)
{
	struct peer_conf	*pc;
	size_t			 i, j;

	for (i = 0; i < src->npeers; i++) {
		for (j = 0; j < dst->npeers; j++)
			if (memcmp(dst->peers[j].pubkey, src->peers[i].pubkey,
			    WG_KEY_LEN) == 0)
				break;
		if (j < dst->npeers)
			continue;	/* one key, one peer */
		if ((pc = conf_add_peer(dst)) == NULL)
			return -1;
		memcpy(pc->pubkey, src->peers[i].pubkey, WG_KEY_LEN);
		memcpy(pc->psk, src->peers[i].psk, WG_KEY_LEN);
		pc->has_psk = src->peers[i].has_psk;
		pc->endpoint = src->peers[i].endpoint;
		pc->keepalive = src->peers[i].keepalive;
		for (j = 0; j < src->peers[i].naips; j++)
			if (peer_add_aip(pc, &src->peers[i].aips[j]) == -1)
				return -1;
	}
	return 0;
}

/* eff = the hops in force, entry first so the exit is the primary. */
static void
tunnel_merge(void)
{
	static const int	 order[] = { HOP_SINGLE, HOP_MULTI_ENTRY,
				    HOP_MULTI_EXIT };
	struct tunnel_conf	*base = NULL;
	size_t			 i;

	conf_free(&tun.eff);
	conf_init(&tun.eff);
	tun.have_eff = 0;
	for (i = 0; i < nitems(order); i++) {
		if (!tun.hop_set[order[i]])
			continue;
		if (base == NULL) {
			base = &tun.hop[order[i]];
			memcpy(&tun.eff, base, sizeof(tun.eff));
			tun.eff.peers = NULL;
			tun.eff.npeers = 0;
		}
		if (conf_copy_peers(&tun.eff, &tun.hop[order[i]]) == -1)
			log_warnx("too many peers; some were left out");
	}
	if (base != NULL)
		tun.have_eff = 1;
	/* The kill switch defaults to on for a full tunnel. */
	if (tun.eff.killswitch == -1)
		tun.eff.killswitch = conf_is_full_tunnel(&tun.eff, AF_INET) ||
		    conf_is_full_tunnel(&tun.eff, AF_INET6);
}

/*
 * A switch in place keeps the sessions of peers that stay: they are not
 * announced again (a multihop entry hop stays connected while its exit
 * hop is added); new peers get their `connected` on their handshake.
 */
static void
keep_connected_peers(int h)
{
	size_t	i, j, n = 0;

	for (i = 0; i < tun.nconnected; i++) {
		for (j = 0; j < tun.eff.npeers; j++)
			if (memcmp(tun.connected_keys[i],
			    tun.eff.peers[j].pubkey, WG_KEY_LEN) == 0)
				break;
		if (j == tun.eff.npeers)
			continue;
		memmove(tun.connected_keys[n], tun.connected_keys[i],
		    WG_KEY_LEN);
		tun.announced[n] = tun.announced[i];
		/* the activated hop's own peers: say `connected` again */
		for (j = 0; j < tun.hop[h].npeers; j++)
			if (memcmp(tun.connected_keys[n],
			    tun.hop[h].peers[j].pubkey, WG_KEY_LEN) == 0)
				tun.announced[n] = false;
		n++;
	}
	tun.nconnected = n;
}

void
tunnel_activate(struct ctl_conn *c, struct json_object *req)
{
	struct tunnel_conf		 nc;
	struct proto_activate_extra	 ex;
	const char			*code = "bad-config";
	char				 err[PROTO_ERRLEN];
	int				 h, in_place, ks_before;
	pid_t				 pid;

	if (tun.act.pending || tun.state == TS_DISCONNECTING ||
	    (tun.waiting != W_NONE && !tun.want_up)) {
		control_error(c, req, NULL, "busy", "the tunnel is %s; try "
		    "again", tun.act.pending ? "being set up" :
		    "going down");
		return;
	}
	conf_init(&nc);
	memset(&ex, 0, sizeof(ex));
	if (proto_parse_activate(req, &nc, &ex, &code, err, sizeof(err))
	    == -1) {
		conf_free(&nc);
		control_error(c, req, NULL, code, "%s", err);
		control_send(c, proto_msg("disconnected"));
		return;
	}
	h = nc.hop;
	if (h == HOP_MULTI_EXIT && !tun.hop_set[HOP_MULTI_ENTRY]) {
		conf_free(&nc);
		control_error(c, req, NULL, "bad-config", "MultiHopExit needs "
		    "an active MultiHopEntry");
		control_send(c, proto_msg("disconnected"));
		return;
	}

	/* Can we switch in place? Only when the interface stays as it is. */
	in_place = tun.want_up && tun.net_up && tun.have_eff &&
	    conf_same_iface(&tun.eff, &nc) && tun.waiting == W_NONE;
	ks_before = tun.have_eff && tun.eff.killswitch == 1;

	if (h == HOP_SINGLE || h == HOP_MULTI_ENTRY) {
		/* A new first hop replaces everything but itself. */
		if (h == HOP_SINGLE) {
			conf_free(&tun.hop[HOP_MULTI_ENTRY]);
			tun.hop_set[HOP_MULTI_ENTRY] = 0;
		} else {
			conf_free(&tun.hop[HOP_SINGLE]);
			tun.hop_set[HOP_SINGLE] = 0;
		}
		conf_free(&tun.hop[HOP_MULTI_EXIT]);
		tun.hop_set[HOP_MULTI_EXIT] = 0;
	}
	uapi_prev_drop(ECANCELED);
	conf_free(&tun.hop[h]);
	tun.hop[h] = nc;
	tun.hop_extra[h] = ex;
	tun.hop_set[h] = 1;

	tunnel_merge();

	tun.act.conn = control_conn_id(c);
	control_conn_cred(c, &tun.act_uid, &pid);
	tun.act.pending = 1;
	json_object_put(tun.act.id);
	tun.act.id = json_object_get(json_object_object_get(req, "id"));
	control_noreply(c, req);
	explicit_bzero(&nc, sizeof(nc));	/* the keys live in tun.hop */
	tun.failed = 0;
	tun.reason[0] = '\0';
	if (in_place)
		keep_connected_peers(h);
	else
		tun.nconnected = 0;
	if (in_place) {
		log_info("switching peers in place on %s", env->ifname);
		tun.update = UPD_NET;
		tun.state = TS_CONNECTING;
		tunnel_step();
		return;
	}
	if (tun.want_up && (tun.net_up || tun.wg_up || tun.dns_set ||
	    tun.waiting != W_NONE)) {
		log_info("configuration changed beyond the peer; restarting "
		    "the tunnel%s", ks_before ? " (the kill switch stays)" :
		    "");
		tun.restart = 1;
		tun.restart_ks = ks_before;
		tun.want_up = 0;
		tun.state = TS_DISCONNECTING;
		tunnel_step();
		return;
	}
	tun.want_up = 1;
	tun.state = TS_CONNECTING;
	tun.first_handshake = 0;
	tunnel_step();
}

int
tunnel_uapi_set(const struct uapi_set *set)
{
	struct tunnel_conf	 nc;
	char			 err[256];
	size_t			 i, j, n;
	int			 e, ks_before, in_place;

	if (!tun.want_up || !tun.have_eff) {
		log_info("uapi: set refused: no tunnel is up");
		return ENODEV;
	}
	if (!tun.net_up || !tun.wg_up || tun.waiting != W_NONE ||
	    tun.act.pending || tun.update != UPD_NONE || tun.restart) {
		log_info("uapi: set refused: the tunnel is being set up");
		return EBUSY;
	}
	if (!tun.hop_set[HOP_SINGLE] || tun.hop_set[HOP_MULTI_ENTRY] ||
	    tun.hop_set[HOP_MULTI_EXIT]) {
		log_info("uapi: set refused: a multihop tunnel");
		return ENOTSUP;
	}
	if ((e = uapi_set_apply(set, &tun.hop[HOP_SINGLE], &nc, err,
	    sizeof(err))) != 0) {
		log_warnx("uapi: set refused: %s", err);
		return e;
	}
	ks_before = tun.eff.killswitch == 1;
	in_place = conf_same_iface(&tun.eff, &nc);
	/* kept until the parent has set the new one up */
	uapi_prev_drop(EBUSY);
	tun.uapi_prev = tun.hop[HOP_SINGLE];	/* takes its peers */
	tun.have_uapi_prev = 1;
	tun.hop[HOP_SINGLE] = nc;	/* takes the peers */
	explicit_bzero(&nc, sizeof(nc));
	tunnel_merge();
	/* peers that stay keep their session and their announcement */
	for (i = 0, n = 0; i < tun.nconnected; i++) {
		for (j = 0; j < tun.eff.npeers; j++)
			if (memcmp(tun.connected_keys[i],
			    tun.eff.peers[j].pubkey, WG_KEY_LEN) == 0)
				break;
		if (j == tun.eff.npeers)
			continue;
		memmove(tun.connected_keys[n], tun.connected_keys[i],
		    WG_KEY_LEN);
		tun.announced[n++] = tun.announced[i];
	}
	tun.nconnected = n;
	if (in_place) {
		log_info("uapi: set applied in place on %s", env->ifname);
		tun.update = UPD_NET;
		tunnel_step();
		return EINPROGRESS;
	}
	log_info("uapi: set changes the interface; rebuilding the tunnel%s",
	    ks_before ? " (the kill switch stays)" : "");
	tun.restart = 1;
	tun.restart_ks = ks_before;
	tun.want_up = 0;
	tun.nconnected = 0;
	tun.state = TS_DISCONNECTING;
	tunnel_step();
	return EINPROGRESS;
}

/* The configuration before a UAPI set goes: the set's outcome is err. */
static void
uapi_prev_drop(int err)
{
	if (!tun.have_uapi_prev)
		return;
	conf_free(&tun.uapi_prev);
	tun.have_uapi_prev = 0;
	if (uapi_hook != NULL)
		uapi_hook(err);
}

/*
 * The parent refused the set-up a UAPI set asked for: the tunnel is
 * rebuilt with the configuration it had before the set, the kill switch
 * (if it was on) kept throughout. A second refusal fails as usual.
 */
static void
uapi_revert(const char *why, int err)
{
	int	ks;

	log_warnx("uapi: the set failed (%s); back to the configuration "
	    "before it", why);
	ks = tun.have_eff && tun.eff.killswitch == 1;
	conf_free(&tun.hop[HOP_SINGLE]);
	tun.hop[HOP_SINGLE] = tun.uapi_prev;	/* takes its peers */
	explicit_bzero(&tun.uapi_prev, sizeof(tun.uapi_prev));
	tun.have_uapi_prev = 0;
	tunnel_merge();
	ks = ks || tun.eff.killswitch == 1;
	tun.nconnected = 0;
	tun.restart = 1;
	tun.restart_ks = ks;
	tun.want_up = 0;
	tun.state = TS_DISCONNECTING;
	tunnel_step();
	if (uapi_hook != NULL)
		uapi_hook(err != 0 ? err : EIO);
}

static void
tunnel_deactivate(void)
{
	size_t	i;

	tun.want_up = 0;
	tun.restart = 0;
	tun.restart_ks = 0;
	tun.reason[0] = '\0';
	/* The client wants it all off: a kept kill switch goes too. */
	tun.keep_ks = 0;
	uapi_prev_drop(ENODEV);
	for (i = 0; i < HOP_MAX; i++) {
		conf_free(&tun.hop[i]);
		tun.hop_set[i] = 0;
	}
	if (tun.act.pending)
		act_answer_err("system", "deactivated before the set-up "
		    "finished");
	if (tun.state != TS_DISCONNECTED || tun.net_up || tun.wg_up ||
	    tun.dns_set || tun.waiting != W_NONE)
		tun.state = TS_DISCONNECTING;
	tunnel_step();
}

static void
tunnel_fail(const char *code, const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(tun.fail_msg, sizeof(tun.fail_msg), fmt, ap);
	va_end(ap);
	strlcpy(tun.fail_code, code, sizeof(tun.fail_code));
	log_warnx("tunnel failed: %s", tun.fail_msg);
	/*
	 * A tunnel that was up fails closed: the kill switch stays (state
	 * "error") until the client deactivates. A failed activation rolls
	 * back completely.
	 */
	tun.keep_ks = (tun.net_up && !tun.act.pending &&
	    tun.eff.killswitch == 1) || tun.ks_kept;
	tun.failed = 1;
	tun.want_up = 0;
	tun.reason[0] = '\0';
	tun.restart = 0;
	tun.restart_ks = 0;
	tun.update = UPD_NONE;
	uapi_prev_drop(ENODEV);
	for (i = 0; i < HOP_MAX; i++) {
		conf_free(&tun.hop[i]);
		tun.hop_set[i] = 0;
	}
	tun.state = TS_ERROR;
	tunnel_step();
}

/* The activate being set up is done with: forget its client and id. */
static void
act_clear(void)
{
	tun.act.pending = 0;
	json_object_put(tun.act.id);
	tun.act.id = NULL;
	tun.act.conn = 0;
}

static void
act_answer_err(const char *code, const char *msg)
{
	struct ctl_conn		*c;
	struct json_object	*o;

	if (tun.act.pending && (c = control_conn_find(tun.act.conn)) != NULL) {
		o = proto_error("activate", code, msg);
		if (tun.act.id != NULL)
			json_object_object_add(o, "id",
			    json_object_get(tun.act.id));
		control_send(c, o);	/* `disconnected` follows, to all */
	}
	if (tun.act.pending && act_hook != NULL)
		act_hook(tun.act.conn, false);
	act_clear();
}

static void
tunnel_step(void)
{
	int	keep;

	if (tun.waiting != W_NONE)
		return;
	if (!tun.want_up) {
		if (tun.dns_set) {
			imsgev_compose(iev_dns, IMSG_DNS_RESTORE, 0, -1,
			    NULL, 0);
			tun.waiting = W_DNS;
			tun.wait_up = 0;
			return;
		}
		if (tun.wg_up) {
			imsgev_compose(iev_tun, IMSG_WG_RESET, 0, -1, NULL,
			    0);
			tun.waiting = W_WG;
			return;
		}
		/*
		 * A restart keeps the kill switch in place until the new
		 * set-up replaces it in one transaction: traffic never
		 * leaves around the tunnel in between.
		 */
		keep = tun.keep_ks || (tun.restart && tun.restart_ks);
		if (tun.net_up || (tun.ks_kept && !keep)) {
			uint32_t	flags = keep ? NETDOWN_KEEP_KS : 0;

			tun.down_kept = keep;
			imsgev_compose(iev_parent, IMSG_NET_DOWN, 0, -1,
			    &flags, sizeof(flags));
			tun.waiting = W_NET;
			tun.wait_up = 0;
			return;
		}
		/* Everything is down. */
		if (tun.failed) {
			tun.failed = 0;
			if (tun.act.pending)
				act_answer_err(tun.fail_code, tun.fail_msg);
			control_broadcast(proto_msg("disconnected"));
		} else if (tun.state != TS_DISCONNECTED && !tun.restart)
			control_broadcast(proto_msg("disconnected"));
		/* After a failure with the kill switch on: blocked, "error". */
		tun.state = tun.ks_kept && !tun.restart ? TS_ERROR :
		    TS_DISCONNECTED;
		tun.update = UPD_NONE;
		tun.keep_ks = 0;
		tun.first_handshake = 0;
		tun.nconnected = 0;
		query_stats_forget();
		if (tun.restart && !shutting_down) {
			tun.restart = 0;
			tun.restart_ks = 0;
			tun.want_up = 1;
			tun.state = TS_CONNECTING;
			tunnel_step();
			return;
		}
		conf_free(&tun.eff);
		tun.have_eff = 0;
		if (shutting_down) {
			imsgev_compose(iev_parent, IMSG_SHUTDOWN_DONE, 0, -1,
			    NULL, 0);
			imsgev_flush(iev_parent);
		}
		return;
	}
	if (!tun.net_up || tun.update == UPD_NET) {
		send_net(tun.update != UPD_NONE);
		if (tun.update != UPD_NONE)
			tun.update = UPD_WG;	/* net part sent */
		tun.waiting = W_NET;
		tun.wait_up = 1;
		return;
	}
	if (!tun.wg_up || tun.update == UPD_WG) {
		send_wg();
		tun.wg_up = 1;
		tun.update = UPD_NONE;
	}
	if (!tun.dns_set && tun.eff.ndns > 0) {
		send_dns();
		tun.update = UPD_NONE;
		tun.waiting = W_DNS;
		tun.wait_up = 1;
		return;
	}
	tun.update = UPD_NONE;
	if (tun.act.pending) {
		if (act_hook != NULL)
			act_hook(tun.act.conn, true);
		act_clear();
	}
	announce_connected();
	fallback_arm();
}

/*
 * "IPv4 is preferred when it is reachable": a hop given both endpoints
 * whose peer has not answered over IPv4 within FALLBACK_SEC moves to the
 * IPv6 one.
 */
static void
fallback_arm(void)
{
	struct timeval	tv = { FALLBACK_SEC, 0 };
	size_t		i;

	for (i = 0; i < HOP_MAX; i++)
		if (tun.hop_set[i] &&
		    tun.hop_extra[i].alt_endpoint.ss_family == AF_INET6) {
			evtimer_add(&ev_fallback, &tv);
			return;
		}
}

static int
peer_connected(const uint8_t *key)
{
	size_t	i;

	for (i = 0; i < tun.nconnected; i++)
		if (memcmp(tun.connected_keys[i], key, WG_KEY_LEN) == 0)
			return 1;
	return 0;
}

/* A peer of the configuration in force that has an endpoint to dial. */
static int
peer_dialled(const uint8_t *key)
{
	size_t	i;

	for (i = 0; i < tun.eff.npeers; i++)
		if (memcmp(tun.eff.peers[i].pubkey, key, WG_KEY_LEN) == 0)
			return tun.eff.peers[i].endpoint.ss_family !=
			    AF_UNSPEC;
	return 0;
}

static void
fallback_timeout(int fd, short ev, void *arg)
{
	struct imsg_wg_endpoint	 ep;
	struct peer_conf	*pc;
	char			 b64[WG_KEY_B64_LEN + 1], a[64];
	size_t			 i, j;

	if (!tun.want_up || !tun.wg_up)
		return;
	for (i = 0; i < HOP_MAX; i++) {
		if (!tun.hop_set[i] || tun.hop[i].npeers == 0 ||
		    tun.hop_extra[i].alt_endpoint.ss_family != AF_INET6)
			continue;
		pc = &tun.hop[i].peers[0];
		if (peer_connected(pc->pubkey) ||
		    pc->endpoint.ss_family != AF_INET)
			continue;
		key_to_base64(b64, pc->pubkey);
		log_info("no handshake with %s over IPv4 in %d s; trying %s",
		    b64, FALLBACK_SEC, endpoint_fmt(
		    &tun.hop_extra[i].alt_endpoint, a, sizeof(a)));
		/* the hop and the merged configuration both move over */
		pc->endpoint = tun.hop_extra[i].alt_endpoint;
		for (j = 0; j < tun.eff.npeers; j++)
			if (memcmp(tun.eff.peers[j].pubkey, pc->pubkey,
			    WG_KEY_LEN) == 0)
				tun.eff.peers[j].endpoint = pc->endpoint;
		memset(&ep, 0, sizeof(ep));
		memcpy(ep.pubkey, pc->pubkey, WG_KEY_LEN);
		ep.endpoint = pc->endpoint;
		imsgev_compose(iev_tun, IMSG_WG_ENDPOINT, 0, -1, &ep,
		    sizeof(ep));
	}
}

/*
 * `connected` for each peer with a session, once the whole set-up --
 * interface, routes, kill switch, DNS -- is in place: a client that
 * starts resolving on `connected` must already use the tunnel's DNS.
 */
static void
announce_connected(void)
{
	struct json_object	*o;
	char			 b64[WG_KEY_B64_LEN + 1];
	size_t			 i;

	if (!tun.want_up || tun.act.pending || tun.waiting != W_NONE ||
	    !tun.net_up || !tun.wg_up)
		return;
	for (i = 0; i < tun.nconnected; i++) {
		if (tun.announced[i])
			continue;
		tun.announced[i] = true;
		tun.state = TS_CONNECTED;
		key_to_base64(b64, tun.connected_keys[i]);
		o = proto_msg("connected");
		json_object_object_add(o, "pubkey",
		    json_object_new_string(b64));
		control_broadcast(o);
		if (tun.reason[0] != '\0') {
			log_info("connection with %s is back", b64);
			tun.reason[0] = '\0';
			if (event_hook != NULL)
				event_hook(TUNNEL_EV_RECOVERED,
				    tun.connected_keys[i], NULL);
		}
	}
}

static void
send_net(int update)
{
	struct imsg_net_begin	 b;
	struct tunnel_conf	*c = &tun.eff;
	size_t			 i, j;
	uint32_t		 uid;

	memset(&b, 0, sizeof(b));
	strlcpy(b.ifname, env->ifname, sizeof(b.ifname));
	b.mtu = c->mtu > 0 ? c->mtu : CONF_DEFAULT_MTU;
	b.listen_port = c->listen_port;
	b.table_mode = c->table_mode;
	b.table = c->table;
	b.mark = conf_fwmark(c);
	if (c->killswitch == 1)
		b.flags |= NET_F_KILLSWITCH;
	if (c->allowlan)
		b.flags |= NET_F_ALLOWLAN;
	if (update)
		b.flags |= NET_F_UPDATE;
	imsgev_compose(iev_parent, IMSG_NET_BEGIN, 0, -1, &b, sizeof(b));
	for (i = 0; i < c->naddrs; i++)
		imsgev_compose(iev_parent, IMSG_NET_ADDR, 0, -1,
		    &c->addrs[i], sizeof(c->addrs[i]));
	for (i = 0; i < c->npeers; i++) {
		for (j = 0; j < c->peers[i].naips; j++)
			imsgev_compose(iev_parent, IMSG_NET_ROUTE, 0, -1,
			    &c->peers[i].aips[j], sizeof(struct prefix));
		if (c->peers[i].endpoint.ss_family != AF_UNSPEC)
			imsgev_compose(iev_parent, IMSG_NET_ENDPOINT, 0, -1,
			    &c->peers[i].endpoint,
			    sizeof(c->peers[i].endpoint));
	}
	/* the IPv6 fallbacks too: the kill switch must let them through */
	for (i = 0; i < HOP_MAX; i++)
		if (tun.hop_set[i] &&
		    tun.hop_extra[i].alt_endpoint.ss_family == AF_INET6)
			imsgev_compose(iev_parent, IMSG_NET_ENDPOINT, 0, -1,
			    &tun.hop_extra[i].alt_endpoint,
			    sizeof(tun.hop_extra[i].alt_endpoint));
	for (i = 0; i < c->ndns; i++)
		imsgev_compose(iev_parent, IMSG_NET_DNS, 0, -1, &c->dns[i],
		    sizeof(c->dns[i]));
	/* vpnDisabledApps of every hop, and whose scopes they are */
	uid = tun.act_uid;
	imsgev_compose(iev_parent, IMSG_NET_SPLIT_UID, 0, -1, &uid,
	    sizeof(uid));
	for (i = 0; i < HOP_MAX; i++)
		for (j = 0; tun.hop_set[i] &&
		    j < tun.hop_extra[i].ndisabled_apps; j++)
			imsgev_compose(iev_parent, IMSG_NET_SPLIT_APP, 0, -1,
			    tun.hop_extra[i].disabled_apps[j],
			    sizeof(tun.hop_extra[i].disabled_apps[j]));
	imsgev_compose(iev_parent, IMSG_NET_COMMIT, 0, -1, NULL, 0);
}

static void
send_wg(void)
{
	conf_send(iev_tun, &conf_seq_wg, &tun.eff);
}

static void
send_dns(void)
{
	struct imsg_dns	 d;
	size_t		 i;

	memset(&d, 0, sizeof(d));
	strlcpy(d.ifname, env->ifname, sizeof(d.ifname));
	d.ifindex = tun.ifindex;
	for (i = 0; i < tun.eff.ndns && i < CONF_MAX_DNS; i++)
		d.servers[d.nservers++] = tun.eff.dns[i];
	for (i = 0; i < tun.eff.nsearch && i < CONF_MAX_SEARCH; i++)
		strlcpy(d.domains[d.ndomains++], tun.eff.search[i],
		    CONF_DOMAIN_LEN);
	imsgev_compose(iev_dns, IMSG_DNS_SET, 0, -1, &d, sizeof(d));
}

/*
 * netmgr.c -- the control plane: serves the control socket, runs the
 * connection state machine and orders the parent, tunworker and dnsmgr
 * about. Chrooted, unprivileged, no capabilities, seccomp.
 *
 * The state machine is a set of "done" flags (network, WireGuard, DNS) and
 * a target (up or down); tunnel_step() issues the next request toward the
 * target whenever no reply is outstanding. Every way down -- deactivate, a
 * failed activation, a data plane failure, shutdown -- goes through the
 * same steps in the same order, so nothing is ever left half set up.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "imsgev.h"
#include "log.h"
#include "netmgr.h"
#include "proc.h"
#include "proto.h"
#include "sandbox.h"
#include "vpnd.h"

#define STATUS_TIMEOUT_MS	300	/* then answer from the cache */
#define FALLBACK_SEC		5	/* IPv4 endpoint silent: try IPv6 */
#define MAX_STATUS_WAIT		64
/*
 * The newest part of the logs a `logs` reply carries: well under the
 * control socket's 1 MiB output limit for one client.
 */
#define LOGS_MAX		(512 * 1024)

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

struct pending_req {
	unsigned int		 conn;
	struct json_object	*req;
};

struct tunnel {
	enum tstate		 state;
	int			 want_up;
	enum waitfor		 waiting;
	int			 net_up, wg_up, dns_set;
	int			 update;	/* NET/WG update in place */
	int			 wait_up;	/* the request waited for sets up */
	int			 failed;	/* going down after failure */
	int			 keep_ks;	/* ... leaving the kill switch */
	int			 ks_kept;	/* error state: firewall is up */
	char			 fail_code[32];
	char			 fail_msg[256];
	/* The configuration per hop and the merged one in force. */
	struct tunnel_conf	 hop[3];
	int			 hop_set[3];
	struct proto_activate_extra hop_extra[3];
	struct tunnel_conf	 eff;
	int			 have_eff;
	int			 restart;	/* down, then up with hops */
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
	/* Peers that completed a handshake since activate. */
	uint8_t			 connected_keys[CONF_MAX_PEERS][WG_KEY_LEN];
	size_t			 nconnected;
	time_t			 first_handshake;
	bool			 announced[CONF_MAX_PEERS];
};

static void	 netmgr_dispatch_parent(struct imsgev *, struct imsg *);
static void	 netmgr_dispatch_tun(struct imsgev *, struct imsg *);
static void	 netmgr_dispatch_dns(struct imsgev *, struct imsg *);
static void	 netmgr_closed(struct imsgev *);
static void	 netmgr_request(struct ctl_conn *, const char *,
		    struct json_object *, void *);
static void	 netmgr_sandbox(void);
static void	 netmgr_maybe_ready(void);
static void	 tunnel_step(void);
static void	 tunnel_fail(const char *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	 tunnel_activate(struct ctl_conn *, struct json_object *);
static void	 tunnel_deactivate(void);
static void	 tunnel_merge(void);
static void	 announce_connected(void);
static void	 fallback_arm(void);
static void	 keep_connected_peers(int);
static int	 conf_is_full(const struct tunnel_conf *, int);
static void	 send_net(int);
static void	 send_wg(void);
static void	 send_dns(void);
static void	 act_answer_ok(void);
static void	 act_answer_err(const char *, const char *);
static void	 status_request(struct ctl_conn *, struct json_object *);
static void	 status_answer_all(void);
static void	 status_timeout(int, short, void *);
static void	 fallback_timeout(int, short, void *);
static void	 headless_reset(void);

static struct vpnd_env	 env;
static struct imsgev	 iev_parent, iev_tun, iev_dns;
static int		 have_env, have_ctl, started, shutting_down;
static int		 ctlfd = -1;
static struct ctl_acl	 acl;
static struct tunnel	 tun;
static char		 device_id[65];
static struct event_base *evbase;

/* status: the last counters from tunworker, and who waits for new ones */
static struct imsg_wg_stats	 stats[CONF_MAX_PEERS * 3];
static size_t			 nstats, nstats_new;
static struct imsg_wg_stats	 stats_new[CONF_MAX_PEERS * 3];
static struct pending_req	 status_wait[MAX_STATUS_WAIT];
static size_t			 nstatus_wait;
static int			 stats_inflight;
static struct event		 ev_status;
static struct event		 ev_fallback;

/* logs: requests answered in order by the parent */
static struct pending_req	 logs_wait[MAX_STATUS_WAIT];
static int			 logs_clean[MAX_STATUS_WAIT];
static size_t			 nlogs_wait;
static char			*logs_buf;
static size_t			 logs_len;
static int			 logs_trimmed;

/* headless configuration arriving from the parent */
static struct tunnel_conf	 hl;
static int			 hl_open;

void
netmgr_main(int verbose)
{
	evbase = proc_child_init("netmgr", verbose, &iev_parent,
	    netmgr_dispatch_parent, netmgr_closed);
	evtimer_set(&ev_status, status_timeout, NULL);
	evtimer_set(&ev_fallback, fallback_timeout, NULL);
	event_dispatch();
	exit(0);
}



/*
 * pledge("stdio unix recvfd") in Linux terms: chroot to an empty
 * directory, become _vpnd with no groups and no capabilities, and allow
 * only the syscalls an event loop over sockets it already holds needs.
 */
static void
netmgr_sandbox(void)
{
	static const char *const extra[] = {
		"accept", "accept4", "getsockopt", "setsockopt", "shutdown",
		"getsockname", "getpeername", "socketpair",
	};

	if (control_acl_group(VPND_GROUP, &acl) == -1)
		log_info("group %s does not exist: control is for root only",
		    VPND_GROUP);
	proc_jail(env.statedir, extra, nitems(extra));
}

static void
netmgr_closed(struct imsgev *iev)
{
	if (iev->proc == PROC_PARENT)
		exit(0);
	/* The parent sees the sibling die and takes everything down. */
	fatalx("channel to %s closed", vpnd_proc_names[iev->proc]);
}

static void
netmgr_maybe_ready(void)
{
	if (started || !have_ctl || !iev_tun.active || !iev_dns.active)
		return;
	started = 1;
	imsgev_compose(&iev_parent, IMSG_READY, 0, -1, NULL, 0);
}

static void
netmgr_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	struct imsg_wg_peer	 p;
	struct imsg_wg_aip	 a;
	struct peer_conf	*pc;
	size_t			 i, len;
	int			 fd;
	uint32_t		 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_ENV:
		if (have_env || imsg_get_data(imsg, &env, sizeof(env)) == -1)
			fatalx("bad IMSG_ENV");
		env.statedir[sizeof(env.statedir) - 1] = '\0';
		env.ifname[sizeof(env.ifname) - 1] = '\0';
		have_env = 1;
		log_setverbose(env.verbose);
		netmgr_sandbox();
		break;
	case IMSG_SOCKET_IPC:
		if (!have_env || (fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		if (imsg_get_id(imsg) == PROC_TUNWORKER && !iev_tun.active) {
			if (imsgev_init(&iev_tun, fd, PROC_TUNWORKER, false,
			    netmgr_dispatch_tun, netmgr_closed, NULL) == -1)
				fatal("tunworker channel");
		} else if (imsg_get_id(imsg) == PROC_DNSMGR &&
		    !iev_dns.active) {
			if (imsgev_init(&iev_dns, fd, PROC_DNSMGR, false,
			    netmgr_dispatch_dns, netmgr_closed, NULL) == -1)
				fatal("dnsmgr channel");
		} else
			fatalx("unexpected IMSG_SOCKET_IPC");
		netmgr_maybe_ready();
		break;
	case IMSG_CONTROLFD:
		if (!have_env || have_ctl || (ctlfd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_CONTROLFD");
		have_ctl = 1;
		netmgr_maybe_ready();
		break;
	case IMSG_DEVICE_ID:
		if (imsg_get_data(imsg, device_id, sizeof(device_id)) == -1)
			fatalx("bad IMSG_DEVICE_ID");
		device_id[sizeof(device_id) - 1] = '\0';
		break;
	case IMSG_START:
#ifdef VPND_TESTHOOKS
		proc_testhook(env.testhook, PROC_NETMGR);
#endif
		if (control_init(evbase, ctlfd, &acl, netmgr_request, NULL) ==
		    -1)
			fatal("control socket");
		log_debug("serving the control socket");
		break;
	case IMSG_SHUTDOWN:
		shutting_down = 1;
		tunnel_deactivate();
		break;
	case IMSG_NET_RESULT:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_NET_RESULT");
		r.msg[sizeof(r.msg) - 1] = '\0';
		if (tun.waiting != W_NET)
			fatalx("unexpected IMSG_NET_RESULT");
		tun.waiting = W_NONE;
		/*
		 * What the reply means depends on what was asked, not on
		 * what is wanted now: a deactivate may have come meanwhile,
		 * and then tunnel_step() takes the new set-up down again.
		 */
		if (tun.wait_up) {
			if (!r.ok) {
				tun.update = 0;
				if (tun.want_up)
					tunnel_fail("system", "%s", r.msg);
				else
					tunnel_step();
				break;
			}
			tun.net_up = 1;
			tun.ks_kept = 0;	/* replaced or removed */
			tun.ifindex = r.ifindex;
		} else {
			tun.net_up = 0;
			/* keep_ks itself is cleared once everything is down */
			tun.ks_kept = tun.keep_ks && tun.eff.killswitch == 1;
		}
		tunnel_step();
		break;
	case IMSG_LOGS_DATA:
		len = imsg_get_len(imsg);
		if ((logs_buf = realloc(logs_buf, logs_len + len + 1)) ==
		    NULL)
			fatal("logs");
		if (imsg_get_buf(imsg, logs_buf + logs_len, len) == -1)
			fatalx("bad IMSG_LOGS_DATA");
		logs_len += len;
		if (logs_len > LOGS_MAX) {
			/* oldest first: keep the newest LOGS_MAX bytes */
			memmove(logs_buf, logs_buf + logs_len - LOGS_MAX,
			    LOGS_MAX);
			logs_len = LOGS_MAX;
			logs_trimmed = 1;
		}
		break;
	case IMSG_LOGS_END: {
		struct json_object	*o;
		struct ctl_conn		*c;
		char			*s;

		if (nlogs_wait == 0)
			fatalx("unexpected IMSG_LOGS_END");
		if (logs_buf == NULL && (logs_buf = calloc(1, 1)) == NULL)
			fatal("logs");
		logs_buf[logs_len] = '\0';
		s = logs_buf;
		if (logs_trimmed && (s = strchr(logs_buf, '\n')) != NULL)
			s++;		/* from the first whole line */
		else
			s = logs_buf;
		if (s != logs_buf) {
			logs_len -= s - logs_buf;
			memmove(logs_buf, s, logs_len + 1);
		}
		logs_trimmed = 0;
		if (logs_clean[0])
			logs_buf[0] = '\0';
		if (logs_len > 0 && logs_buf[logs_len - 1] == '\n')
			logs_buf[logs_len - 1] = '\0';
		for (s = logs_buf; *s != '\0'; s++)
			if (*s == '\n')
				*s = '|';
		if ((c = control_conn_find(logs_wait[0].conn)) != NULL) {
			o = proto_msg("logs");
			json_object_object_add(o, "logs",
			    json_object_new_string(logs_buf));
			control_reply(c, logs_wait[0].req, o);
		}
		free(logs_buf);
		logs_buf = NULL;
		logs_len = 0;
		nlogs_wait--;
		memmove(logs_wait, logs_wait + 1, nlogs_wait *
		    sizeof(logs_wait[0]));
		memmove(logs_clean, logs_clean + 1, nlogs_wait *
		    sizeof(logs_clean[0]));
		break;
	}
	case IMSG_HEADLESS_CONF:
		headless_reset();
		if (imsg_get_data(imsg, &hl, sizeof(hl)) == -1)
			fatalx("bad IMSG_HEADLESS_CONF");
		hl.peers = NULL;
		hl.npeers = 0;
		if (hl.naddrs > CONF_MAX_ADDRS || hl.ndns > CONF_MAX_DNS ||
		    hl.nsearch > CONF_MAX_SEARCH)
			fatalx("bad IMSG_HEADLESS_CONF");
		for (i = 0; i < hl.nsearch; i++)
			hl.search[i][CONF_DOMAIN_LEN - 1] = '\0';
		hl_open = 1;
		break;
	case IMSG_HEADLESS_PEER:
		if (!hl_open || imsg_get_data(imsg, &p, sizeof(p)) == -1)
			fatalx("bad IMSG_HEADLESS_PEER");
		if ((pc = conf_add_peer(&hl)) == NULL)
			fatalx("headless: too many peers");
		memcpy(pc->pubkey, p.pubkey, WG_KEY_LEN);
		memcpy(pc->psk, p.psk, WG_KEY_LEN);
		pc->has_psk = p.has_psk;
		pc->endpoint = p.endpoint;
		pc->keepalive = p.keepalive;
		explicit_bzero(&p, sizeof(p));
		break;
	case IMSG_HEADLESS_AIP:
		if (!hl_open || imsg_get_data(imsg, &a, sizeof(a)) == -1)
			fatalx("bad IMSG_HEADLESS_AIP");
		for (i = 0; i < hl.npeers; i++)
			if (memcmp(hl.peers[i].pubkey, a.pubkey,
			    WG_KEY_LEN) == 0)
				break;
		if (i == hl.npeers || peer_add_aip(&hl.peers[i],
		    &a.prefix) == -1)
			fatalx("bad IMSG_HEADLESS_AIP");
		break;
	case IMSG_HEADLESS_END:
		if (!hl_open)
			fatalx("bad IMSG_HEADLESS_END");
		hl_open = 0;
		log_info("headless mode: activating the configured tunnel");
		conf_free(&tun.hop[HOP_SINGLE]);
		tun.hop[HOP_SINGLE] = hl;	/* takes the peers */
		memset(&hl, 0, sizeof(hl));
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
		break;
	default:
		fatalx("unexpected message %u from the parent", type);
	}
}

static void
headless_reset(void)
{
	conf_free(&hl);
	conf_init(&hl);
}

static void
netmgr_dispatch_tun(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	struct json_object	*o;
	uint8_t			 key[WG_KEY_LEN];
	char			 b64[WG_KEY_B64_LEN + 1];
	size_t			 i;
	uint32_t		 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_WG_HANDSHAKE:
		if (imsg_get_data(imsg, key, sizeof(key)) == -1)
			fatalx("bad IMSG_WG_HANDSHAKE");
		if (!tun.want_up)
			break;
		for (i = 0; i < tun.nconnected; i++)
			if (memcmp(tun.connected_keys[i], key, WG_KEY_LEN) == 0)
				break;
		if (i < tun.nconnected || i == CONF_MAX_PEERS)
			break;
		tun.announced[tun.nconnected] = false;
		memcpy(tun.connected_keys[tun.nconnected++], key, WG_KEY_LEN);
		if (tun.first_handshake == 0)
			tun.first_handshake = time(NULL);
		key_to_base64(b64, key);
		log_info("handshake with %s completed", b64);
		announce_connected();
		break;
	case IMSG_WG_STATS:
		if (nstats_new == nitems(stats_new) ||
		    imsg_get_data(imsg, &stats_new[nstats_new],
		    sizeof(stats_new[0])) == -1)
			fatalx("bad IMSG_WG_STATS");
		nstats_new++;
		break;
	case IMSG_WG_STATS_END:
		memcpy(stats, stats_new, nstats_new * sizeof(stats[0]));
		nstats = nstats_new;
		nstats_new = 0;
		stats_inflight = 0;
		status_answer_all();
		break;
	case IMSG_WG_RESET_DONE:
		if (tun.waiting != W_WG)
			fatalx("unexpected IMSG_WG_RESET_DONE");
		tun.waiting = W_NONE;
		tun.wg_up = 0;
		nstats = 0;
		tunnel_step();
		break;
	case IMSG_WG_ERROR:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_WG_ERROR");
		r.msg[sizeof(r.msg) - 1] = '\0';
		log_warnx("data plane failure: %s", r.msg);
		o = proto_msg("backendFailure");
		json_object_object_add(o, "errorCode", json_object_new_int(1));
		control_broadcast(o);
		tunnel_fail("system", "data plane failure: %s", r.msg);
		break;
	default:
		fatalx("unexpected message %u from tunworker", type);
	}
}

static void
netmgr_dispatch_dns(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	uint32_t		 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_DNS_RESULT:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_DNS_RESULT");
		r.msg[sizeof(r.msg) - 1] = '\0';
		if (tun.waiting != W_DNS)
			fatalx("unexpected IMSG_DNS_RESULT");
		tun.waiting = W_NONE;
		if (tun.wait_up) {
			if (!r.ok) {
				if (tun.want_up)
					tunnel_fail("system", "DNS: %s", r.msg);
				else
					tunnel_step();
				break;
			}
			tun.dns_set = 1;
		} else {
			if (!r.ok)
				log_warnx("DNS restore: %s", r.msg);
			tun.dns_set = 0;
		}
		tunnel_step();
		break;
	default:
		fatalx("unexpected message %u from dnsmgr", type);
	}
}

/*
 * The control socket's requests.
 */
static void
netmgr_request(struct ctl_conn *c, const char *type, struct json_object *req,
    void *arg)
{
	struct json_object	*o;

	if (strcmp(type, "activate") == 0)
		tunnel_activate(c, req);
	else if (strcmp(type, "deactivate") == 0) {
		control_noreply(c, req);
		if (tun.state == TS_DISCONNECTED && !tun.want_up &&
		    tun.waiting == W_NONE) {
			control_broadcast(proto_msg("disconnected"));
			return;
		}
		tunnel_deactivate();
	} else if (strcmp(type, "status") == 0)
		status_request(c, req);
	else if (strcmp(type, "logs") == 0 || strcmp(type, "cleanlogs") == 0
	    || strcmp(type, "getLogs") == 0 || strcmp(type, "cleanupLogs")
	    == 0) {
		if (nlogs_wait == nitems(logs_wait)) {
			control_error(c, req, NULL, "busy", "too many log "
			    "requests in flight");
			return;
		}
		logs_wait[nlogs_wait].conn = control_conn_id(c);
		logs_wait[nlogs_wait].req = req;
		logs_clean[nlogs_wait] = type[0] == 'c';
		nlogs_wait++;
		imsgev_compose(&iev_parent, type[0] == 'c' ? IMSG_LOGS_CLEAN :
		    IMSG_LOGS_GET, 0, -1, NULL, 0);
	} else {
		o = proto_error(type, "unknown-type", "unknown request type");
		control_reply(c, req, o);
	}
}

static void
status_request(struct ctl_conn *c, struct json_object *req)
{
	struct timeval	tv = { 0, STATUS_TIMEOUT_MS * 1000 };

	if (nstatus_wait == nitems(status_wait)) {
		control_error(c, req, NULL, "busy", "too many status requests "
		    "in flight");
		return;
	}
	status_wait[nstatus_wait].conn = control_conn_id(c);
	status_wait[nstatus_wait].req = req;
	nstatus_wait++;
	if (!tun.wg_up || !iev_tun.active) {
		status_answer_all();
		return;
	}
	if (!stats_inflight) {
		stats_inflight = 1;
		nstats_new = 0;
		imsgev_compose(&iev_tun, IMSG_WG_STATS_REQ, 0, -1, NULL, 0);
		evtimer_add(&ev_status, &tv);
	}
}

static void
status_timeout(int fd, short ev, void *arg)
{
	/* Answer from the cache; a late reply just refreshes it. */
	if (nstatus_wait > 0)
		log_debug("status: tunworker slow, answering from cache");
	status_answer_all();
}

static void
status_answer_all(void)
{
	struct proto_status	 st;
	struct proto_peer_status ps[CONF_MAX_PEERS * 3];
	struct json_object	*o;
	struct ctl_conn		*c;
	struct tunnel_conf	*conf = &tun.eff;
	size_t			 i, j, n = 0;
	time_t			 now = time(NULL);

	evtimer_del(&ev_status);
	memset(&st, 0, sizeof(st));
	st.state = tstate_names[tun.state];
	st.connected = tun.state == TS_CONNECTED;
	st.device_id = device_id[0] != '\0' ? device_id : NULL;
	if (tun.have_eff && tun.net_up) {
		st.ifname = env.ifname;
		for (i = 0; i < conf->naddrs; i++) {
			if (conf->addrs[i].af == AF_INET && !st.has_addr4) {
				st.addr4 = conf->addrs[i];
				st.has_addr4 = true;
			} else if (conf->addrs[i].af == AF_INET6 &&
			    !st.has_addr6) {
				st.addr6 = conf->addrs[i];
				st.has_addr6 = true;
			}
		}
		for (i = 0; i < 3; i++) {
			if (!tun.hop_set[i])
				continue;
			if (tun.hop_extra[i].has_gw4 && !st.has_gw4) {
				st.gw4 = tun.hop_extra[i].gw4;
				st.has_gw4 = true;
			}
			if (tun.hop_extra[i].has_gw6 && !st.has_gw6) {
				st.gw6 = tun.hop_extra[i].gw6;
				st.has_gw6 = true;
			}
		}
		for (i = 0; i < conf->npeers && n < nitems(ps); i++) {
			memset(&ps[n], 0, sizeof(ps[n]));
			memcpy(ps[n].pubkey, conf->peers[i].pubkey,
			    WG_KEY_LEN);
			ps[n].endpoint = conf->peers[i].endpoint;
			ps[n].aips = conf->peers[i].aips;
			ps[n].naips = conf->peers[i].naips;
			for (j = 0; j < nstats; j++) {
				if (memcmp(stats[j].pubkey,
				    conf->peers[i].pubkey, WG_KEY_LEN) != 0)
					continue;
				if (stats[j].endpoint.ss_family != AF_UNSPEC)
					ps[n].endpoint = stats[j].endpoint;
				ps[n].last_handshake =
				    stats[j].last_handshake;
				ps[n].rx_bytes = stats[j].rx_bytes;
				ps[n].tx_bytes = stats[j].tx_bytes;
			}
			n++;
		}
		st.peers = ps;
		st.npeers = n;
		/* The base fields speak of the primary (last hop) peer. */
		if (n > 0) {
			i = tun.hop_set[HOP_MULTI_EXIT] && n > 1 ? n - 1 : 0;
			st.rx_bytes = ps[i].rx_bytes;
			st.tx_bytes = ps[i].tx_bytes;
		}
		if (st.connected && tun.first_handshake != 0) {
			st.first_handshake = tun.first_handshake;
			st.uptime = now - tun.first_handshake;
		}
	}
	for (i = 0; i < nstatus_wait; i++) {
		if ((c = control_conn_find(status_wait[i].conn)) == NULL)
			continue;
		o = proto_status_json(&st);
		control_reply(c, status_wait[i].req, o);
	}
	nstatus_wait = 0;
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
	    sizeof(a->search)) == 0 && a->allowlan == b->allowlan;
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
		tun.eff.killswitch = conf_is_full(&tun.eff, AF_INET) ||
		    conf_is_full(&tun.eff, AF_INET6);
}

static int
conf_is_full(const struct tunnel_conf *c, int af)
{
	return conf_is_full_tunnel(c, af);
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

static void
tunnel_activate(struct ctl_conn *c, struct json_object *req)
{
	struct tunnel_conf		 nc;
	struct proto_activate_extra	 ex;
	const char			*code = "bad-config";
	char				 err[PROTO_ERRLEN];
	int				 h, in_place;

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
	conf_free(&tun.hop[h]);
	tun.hop[h] = nc;
	tun.hop_extra[h] = ex;
	tun.hop_set[h] = 1;

	tunnel_merge();

	tun.act.conn = control_conn_id(c);
	tun.act.pending = 1;
	json_object_put(tun.act.id);
	tun.act.id = json_object_get(json_object_object_get(req, "id"));
	control_noreply(c, req);
	explicit_bzero(&nc, sizeof(nc));	/* the keys live in tun.hop */
	tun.failed = 0;
	if (in_place)
		keep_connected_peers(h);
	else
		tun.nconnected = 0;
	if (in_place) {
		log_info("switching peers in place on %s", env.ifname);
		tun.update = 1;
		tun.state = TS_CONNECTING;
		tunnel_step();
		return;
	}
	if (tun.want_up && (tun.net_up || tun.wg_up || tun.dns_set ||
	    tun.waiting != W_NONE)) {
		log_info("configuration changed beyond the peer; restarting "
		    "the tunnel");
		tun.restart = 1;
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

static void
tunnel_deactivate(void)
{
	size_t	i;

	tun.want_up = 0;
	tun.restart = 0;
	for (i = 0; i < 3; i++) {
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
	tun.restart = 0;
	tun.update = 0;
	for (i = 0; i < 3; i++) {
		conf_free(&tun.hop[i]);
		tun.hop_set[i] = 0;
	}
	tun.state = TS_ERROR;
	tunnel_step();
}

static void
act_answer_ok(void)
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
	act_answer_ok();
}

static void
tunnel_step(void)
{
	if (tun.waiting != W_NONE)
		return;
	if (!tun.want_up) {
		if (tun.dns_set) {
			imsgev_compose(&iev_dns, IMSG_DNS_RESTORE, 0, -1,
			    NULL, 0);
			tun.waiting = W_DNS;
			tun.wait_up = 0;
			return;
		}
		if (tun.wg_up) {
			imsgev_compose(&iev_tun, IMSG_WG_RESET, 0, -1, NULL,
			    0);
			tun.waiting = W_WG;
			return;
		}
		if (tun.net_up || (tun.ks_kept && !tun.keep_ks)) {
			uint32_t	flags = tun.keep_ks ? NETDOWN_KEEP_KS : 0;

			imsgev_compose(&iev_parent, IMSG_NET_DOWN, 0, -1,
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
		tun.state = tun.ks_kept ? TS_ERROR : TS_DISCONNECTED;
		tun.update = 0;
		tun.keep_ks = 0;
		tun.first_handshake = 0;
		tun.nconnected = 0;
		nstats = 0;
		if (tun.restart && !shutting_down) {
			tun.restart = 0;
			tun.want_up = 1;
			tun.state = TS_CONNECTING;
			tunnel_step();
			return;
		}
		conf_free(&tun.eff);
		tun.have_eff = 0;
		if (shutting_down) {
			imsgev_compose(&iev_parent, IMSG_SHUTDOWN_DONE, 0, -1,
			    NULL, 0);
			imsgev_flush(&iev_parent);
		}
		return;
	}
	if (!tun.net_up || tun.update == 1) {
		send_net(tun.update);
		if (tun.update)
			tun.update = 2;	/* net part sent */
		tun.waiting = W_NET;
		tun.wait_up = 1;
		return;
	}
	if (!tun.wg_up || tun.update == 2) {
		send_wg();
		tun.wg_up = 1;
		tun.update = 0;
	}
	if (!tun.dns_set && tun.eff.ndns > 0) {
		send_dns();
		tun.update = 0;
		tun.waiting = W_DNS;
		tun.wait_up = 1;
		return;
	}
	tun.update = 0;
	if (tun.act.pending)
		act_answer_ok();
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

	for (i = 0; i < 3; i++)
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

static void
fallback_timeout(int fd, short ev, void *arg)
{
	struct imsg_wg_endpoint	 ep;
	struct peer_conf	*pc;
	char			 b64[WG_KEY_B64_LEN + 1], a[64];
	size_t			 i, j;

	if (!tun.want_up || !tun.wg_up)
		return;
	for (i = 0; i < 3; i++) {
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
		imsgev_compose(&iev_tun, IMSG_WG_ENDPOINT, 0, -1, &ep,
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
	}
}

static void
send_net(int update)
{
	struct imsg_net_begin	 b;
	struct tunnel_conf	*c = &tun.eff;
	size_t			 i, j;

	memset(&b, 0, sizeof(b));
	strlcpy(b.ifname, env.ifname, sizeof(b.ifname));
	b.mtu = c->mtu > 0 ? c->mtu : CONF_DEFAULT_MTU;
	b.listen_port = c->listen_port;
	if (c->killswitch == 1)
		b.flags |= NET_F_KILLSWITCH;
	if (c->allowlan)
		b.flags |= NET_F_ALLOWLAN;
	if (update)
		b.flags |= NET_F_UPDATE;
	imsgev_compose(&iev_parent, IMSG_NET_BEGIN, 0, -1, &b, sizeof(b));
	for (i = 0; i < c->naddrs; i++)
		imsgev_compose(&iev_parent, IMSG_NET_ADDR, 0, -1,
		    &c->addrs[i], sizeof(c->addrs[i]));
	for (i = 0; i < c->npeers; i++) {
		for (j = 0; j < c->peers[i].naips; j++)
			imsgev_compose(&iev_parent, IMSG_NET_ROUTE, 0, -1,
			    &c->peers[i].aips[j], sizeof(struct prefix));
		if (c->peers[i].endpoint.ss_family != AF_UNSPEC)
			imsgev_compose(&iev_parent, IMSG_NET_ENDPOINT, 0, -1,
			    &c->peers[i].endpoint,
			    sizeof(c->peers[i].endpoint));
	}
	/* the IPv6 fallbacks too: the kill switch must let them through */
	for (i = 0; i < 3; i++)
		if (tun.hop_set[i] &&
		    tun.hop_extra[i].alt_endpoint.ss_family == AF_INET6)
			imsgev_compose(&iev_parent, IMSG_NET_ENDPOINT, 0, -1,
			    &tun.hop_extra[i].alt_endpoint,
			    sizeof(tun.hop_extra[i].alt_endpoint));
	for (i = 0; i < c->ndns; i++)
		imsgev_compose(&iev_parent, IMSG_NET_DNS, 0, -1, &c->dns[i],
		    sizeof(c->dns[i]));
	imsgev_compose(&iev_parent, IMSG_NET_COMMIT, 0, -1, NULL, 0);
}

static void
send_wg(void)
{
	struct imsg_wg_iface	 wi;
	struct imsg_wg_peer	 p;
	struct imsg_wg_aip	 a;
	struct tunnel_conf	*c = &tun.eff;
	size_t			 i, j;

	memset(&wi, 0, sizeof(wi));
	memcpy(wi.privkey, c->privkey, WG_KEY_LEN);
	wi.mtu = c->mtu > 0 ? c->mtu : CONF_DEFAULT_MTU;
	imsgev_compose(&iev_tun, IMSG_WG_IFACE, 0, -1, &wi, sizeof(wi));
	explicit_bzero(&wi, sizeof(wi));
	for (i = 0; i < c->npeers; i++) {
		memset(&p, 0, sizeof(p));
		memcpy(p.pubkey, c->peers[i].pubkey, WG_KEY_LEN);
		memcpy(p.psk, c->peers[i].psk, WG_KEY_LEN);
		p.has_psk = c->peers[i].has_psk;
		p.endpoint = c->peers[i].endpoint;
		p.keepalive = c->peers[i].keepalive;
		imsgev_compose(&iev_tun, IMSG_WG_PEER, 0, -1, &p, sizeof(p));
		explicit_bzero(&p, sizeof(p));
		for (j = 0; j < c->peers[i].naips; j++) {
			memset(&a, 0, sizeof(a));
			memcpy(a.pubkey, c->peers[i].pubkey, WG_KEY_LEN);
			a.prefix = c->peers[i].aips[j];
			imsgev_compose(&iev_tun, IMSG_WG_AIP, 0, -1, &a,
			    sizeof(a));
		}
	}
	imsgev_compose(&iev_tun, IMSG_WG_PEERS_END, 0, -1, NULL, 0);
}

static void
send_dns(void)
{
	struct imsg_dns	 d;
	size_t		 i;

	memset(&d, 0, sizeof(d));
	strlcpy(d.ifname, env.ifname, sizeof(d.ifname));
	d.ifindex = tun.ifindex;
	for (i = 0; i < tun.eff.ndns && i < CONF_MAX_DNS; i++)
		d.servers[d.nservers++] = tun.eff.dns[i];
	for (i = 0; i < tun.eff.nsearch && i < CONF_MAX_SEARCH; i++)
		strlcpy(d.domains[d.ndomains++], tun.eff.search[i],
		    CONF_DOMAIN_LEN);
	imsgev_compose(&iev_dns, IMSG_DNS_SET, 0, -1, &d, sizeof(d));
}

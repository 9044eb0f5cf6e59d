/*
 * netmgr.c -- the control plane's process: its life in netmgr_main(),
 * and the dispatchers that turn the control socket's requests and the
 * other processes' messages into calls of the tunnel state machine
 * (tunnel.c) and the read-only queries (query.c). Chrooted, unprivileged,
 * no capabilities, seccomp.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <event.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "confmsg.h"
#include "control.h"
#include "dbus.h"
#include "exclude.h"
#include "imsgev.h"
#include "lockctl.h"
#include "log.h"
#include "netmgr.h"
#include "proc.h"
#include "proto.h"
#include "query.h"
#include "sandbox.h"
#include "tunnel.h"
#include "uapi.h"
#include "vpnd.h"

static void	 netmgr_closed(struct imsgev *);
static void	 netmgr_request(struct ctl_conn *,
		    const struct proto_request *, struct json_object *, void *);
static void	 netmgr_sandbox(void);
static void	 netmgr_maybe_ready(void);

static struct vpnd_env	 env;
static struct imsgev	 iev_parent, iev_tun, iev_dns;
static int		 have_ctl, started;
static int		 ctlfd = -1;
static int		 uapifd = -1;
static struct ctl_acl	 acl;
static struct event_base *evbase;

/* headless configuration arriving from the parent */
static struct conf_rx	 hl;

void
netmgr_main(int verbose)
{
	evbase = proc_child_init("netmgr", verbose, &iev_parent,
	    netmgr_dispatch_parent, netmgr_closed);
	proc_recv_env(&iev_parent, &env);
	netmgr_sandbox();
	netmgr_state_init(&env);
	event_dispatch();
	exit(0);
}

/* What the receivers need before the first message (the fuzz harness). */
void
netmgr_state_init(const struct vpnd_env *e)
{
	if (e != &env)
		env = *e;
	conf_rx_init(&hl);
	tunnel_init(&env, &iev_parent, &iev_tun, &iev_dns);
	query_init(&env, &iev_parent, &iev_tun);
	ldctl_init(&iev_parent);
	exclude_init(&iev_parent);
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

	/*
	 * Without root the socket is the invoking user's, and so is
	 * control: inside our user namespace every other uid, root's too,
	 * reads as the overflow uid, and no group is mapped at all.
	 */
	if (geteuid() != 0) {
		memset(&acl, 0, sizeof(acl));
		acl.uids[acl.nuids++] = geteuid();
	} else {
		if (control_acl_group(VPND_GROUP, &acl) == -1)
			log_info("group %s does not exist: administration is "
			    "for root only", VPND_GROUP);
		acl.others = true;	/* status and version for anyone */
	}
	/* The bus sees the user of connect(): _vpnd, as the jail makes us. */
	if (geteuid() == 0) {
		uid_t	uid;
		gid_t	gid;

		if (sandbox_lookup_user(VPND_USER, &uid, &gid) == -1)
			fatalx("no dedicated unprivileged user to run as");
		dbus_connect(uid, gid, true);
	} else
		dbus_connect(geteuid(), getegid(), false);
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
	proc_ready();
}

void
netmgr_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	char			 devid[65];
	uint32_t		 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_SOCKET_IPC:
		if (imsg_get_id(imsg) == PROC_TUNWORKER)
			proc_sibling(imsg, PROC_TUNWORKER, &iev_tun,
			    netmgr_dispatch_tun, netmgr_closed);
		else
			proc_sibling(imsg, PROC_DNSMGR, &iev_dns,
			    netmgr_dispatch_dns, netmgr_closed);
		netmgr_maybe_ready();
		break;
	case IMSG_CONTROLFD:
		if (have_ctl || (ctlfd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_CONTROLFD");
		have_ctl = 1;
		netmgr_maybe_ready();
		break;
	case IMSG_UAPIFD:
		if (uapifd != -1 || (uapifd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_UAPIFD");
		break;
	case IMSG_DEVICE_ID:
		if (imsg_get_data(imsg, devid, sizeof(devid)) == -1)
			fatalx("bad IMSG_DEVICE_ID");
		devid[sizeof(devid) - 1] = '\0';
		query_set_device_id(devid);
		break;
	case IMSG_START:
#ifdef VPND_TESTHOOKS
		proc_testhook(env.testhook, PROC_NETMGR);
		control_testhook_exclude_any = env.testhook ==
		    TESTHOOK_EXCLUDE_ANY + 100 * PROC_NETMGR;
#endif
		if (control_init(evbase, ctlfd, &acl, netmgr_request, NULL) ==
		    -1)
			fatal("control socket");
		log_debug("serving the control socket");
		dbus_start(evbase, &acl);
		if (uapifd != -1) {
			query_set_stats_hook(uapi_on_stats);
			uapi_init(evbase, uapifd);
			log_debug("serving the WireGuard UAPI socket");
		}
		break;
	case IMSG_SHUTDOWN:
		tunnel_shutdown();
		break;
	case IMSG_NET_RESULT:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_NET_RESULT");
		r.msg[sizeof(r.msg) - 1] = '\0';
		tunnel_on_net_result(&r);
		break;
	case IMSG_EXCLUDE_RESULT:
		exclude_on_result(imsg);
		break;
	case IMSG_LOGS_DATA:
		query_on_logs_data(imsg);
		break;
	case IMSG_LOGS_END:
		query_on_logs_end();
		break;
	case IMSG_LOCKDOWN_STATE:
		ldctl_on_state(imsg);
		break;
	case IMSG_HEADLESS_CONF:
	case IMSG_HEADLESS_PEER:
	case IMSG_HEADLESS_AIP:
	case IMSG_HEADLESS_END:
		if (conf_recv(&hl, &conf_seq_headless, imsg) == 1)
			tunnel_headless(&hl.conf);
		break;
	default:
		fatalx("unexpected message %u from the parent", type);
	}
}

void
netmgr_dispatch_tun(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	uint8_t			 key[WG_KEY_LEN];
	uint32_t		 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_WG_HANDSHAKE:
		if (imsg_get_data(imsg, key, sizeof(key)) == -1)
			fatalx("bad IMSG_WG_HANDSHAKE");
		tunnel_on_handshake(key);
		break;
	case IMSG_WG_PEER_LOST:
		if (imsg_get_data(imsg, key, sizeof(key)) == -1)
			fatalx("bad IMSG_WG_PEER_LOST");
		tunnel_on_peer_lost(key);
		break;
	case IMSG_WG_STATS:
		query_on_stats(imsg);
		break;
	case IMSG_WG_STATS_END:
		query_on_stats_end();
		break;
	case IMSG_WG_RESET_DONE:
		tunnel_on_wg_reset_done();
		break;
	case IMSG_WG_ERROR:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_WG_ERROR");
		r.msg[sizeof(r.msg) - 1] = '\0';
		tunnel_on_wg_error(r.msg);
		break;
	default:
		fatalx("unexpected message %u from tunworker", type);
	}
}

void
netmgr_dispatch_dns(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_result	 r;
	uint32_t		 type = imsg_get_type(imsg);
	size_t			 i;

	switch (type) {
	case IMSG_DNS_RESULT:
		if (imsg_get_data(imsg, &r, sizeof(r)) == -1)
			fatalx("bad IMSG_DNS_RESULT");
		r.msg[sizeof(r.msg) - 1] = '\0';
		/*
		 * The text goes to clients' terminals and to the log: from
		 * a compromised dnsmgr it must not drive a terminal or
		 * forge a line.
		 */
		for (i = 0; r.msg[i] != '\0'; i++)
			if ((unsigned char)r.msg[i] < ' ' ||
			    (unsigned char)r.msg[i] >= 0x7f)
				r.msg[i] = '?';
		tunnel_on_dns_result(&r);
		break;
	default:
		fatalx("unexpected message %u from dnsmgr", type);
	}
}

/*
 * The control socket's requests.
 */
static void
netmgr_request(struct ctl_conn *c, const struct proto_request *r,
    struct json_object *req, void *arg)
{
	uid_t	uid;
	pid_t	pid;

	/*
	 * Who changed the state of the host's network; a wipe of the logs
	 * is logged once it is done (query_on_logs_end()).
	 */
	if (r->req == PROTO_REQ_ACTIVATE || r->req == PROTO_REQ_DEACTIVATE) {
		control_conn_cred(c, &uid, &pid);
		log_info("%s requested by uid %u, pid %d",
		    r->req == PROTO_REQ_ACTIVATE ? "activate" : "deactivate",
		    (unsigned int)uid, (int)pid);
	}
	switch (r->req) {
	case PROTO_REQ_ACTIVATE:
		tunnel_activate(c, req);
		break;
	case PROTO_REQ_DEACTIVATE:
		tunnel_deactivate_request(c, req);
		break;
	case PROTO_REQ_STATUS:
		query_status(c, req);
		break;
	case PROTO_REQ_LOGS:
		query_logs(c, req, 0);
		break;
	case PROTO_REQ_CLEANLOGS:
		query_logs(c, req, 1);
		break;
	case PROTO_REQ_LOCKDOWN:
		ldctl_request(c, req);
		break;
	case PROTO_REQ_LOCKDOWN_STATUS:
		ldctl_status(c, req);
		break;
	case PROTO_REQ_EXCLUDE:
		exclude_request(c, req);
		break;
	case PROTO_REQ_VERSION:		/* control.c answers it */
		control_reply(c, req, proto_version_json());
		break;
	}
}

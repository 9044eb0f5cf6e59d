/*
 * vpnd.h -- what the four processes share: roles, defaults, the one
 * enum imsg_type and the fixed-size imsg payloads.
 *
 * Every receiver checks a message's length against the payload struct
 * with imsg_get_data() before touching it; strings inside payloads are
 * checked for NUL termination.
 */
#ifndef VPND_H
#define VPND_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "compat.h"
#include "config.h"

#define VPND_USER		"_vpnd"
#define VPND_DNS_USER		"_vpnddns"	/* dnsmgr's own user */
#define VPND_DNS_SUBDIR		"dns"		/* dnsmgr's state, its root */
#define VPND_GROUP		"vpnd"
#define VPND_SOCKET		"/run/vpnd/vpnd.sock"
#define VPND_LOGDIR		"/var/log/vpnd"
#define VPND_STATEDIR		"/var/lib/vpnd"
#define VPND_IFNAME		"vpn0"
#define VPND_UAPIDIR		"/var/run/wireguard"	/* wg(8) looks here */
#define VPND_PIDFILE		"vpnd.pid"	/* in the run dir of the socket */
/* abstract UNIX socket held by the one vpnd of a network namespace */
#define VPND_NETNS_LOCK		"vpnd-netns-lock"
#define VPND_PARENT_FD		3		/* a child's channel to the parent */
#define VPND_MAX_IMSG		16384
/*
 * logs: the newest VPND_LOGS_MAX bytes of the log files, which the parent
 * sends VPND_LOGS_CHUNK at a time, each when netmgr asks for it.
 */
#define VPND_LOGS_MAX		(512 * 1024)
#define VPND_LOGS_CHUNK		8192

enum vpnd_proc {
	PROC_PARENT = 0,
	PROC_NETMGR,
	PROC_TUNWORKER,
	PROC_DNSMGR,
	PROC_MAX,
};

extern const char *const vpnd_proc_names[PROC_MAX];

/* The daemon-wide options every child needs, sent first on its channel. */
/* vpnd -l: the CPU wake-up latency asked for while packets move */
#define VPND_CPULAT_PATH	"/dev/cpu_dma_latency"
#define CPULAT_MAX_US		100000

struct vpnd_env {
	char		 ifname[IFNAMSIZ];	/* the tunnel interface */
	char		 sockpath[108];
	char		 uapidir[80];		/* IFNAME.sock here; "" = none */
	char		 logdir[256];
	char		 statedir[256];
	char		 resolvconf[256];	/* dnsmgr: file to manage */
	char		 resolvconf_prog[256];	/* dnsmgr: resolvconf(8) */
	int		 dns_backend;		/* enum dns_backend */
	int		 verbose;
	int		 foreground;
	int		 testhook;		/* test builds only, else 0 */
	double		 time_scale;		/* test builds only, else 1 */
};

enum imsg_type {
	IMSG_NONE = 0,

	/* parent -> any child */
	IMSG_ENV,			/* struct vpnd_env */
	IMSG_SOCKET_IPC,		/* fd: channel to a sibling; id = proc */
	IMSG_START,			/* all siblings ready: start serving */
	IMSG_SHUTDOWN,			/* orderly stop requested (SIGTERM) */

	/* any child -> parent */
	IMSG_READY,			/* child is sandboxed and wired up */
	IMSG_LOG,			/* struct log_msg: a line for the log */
	IMSG_SHUTDOWN_DONE,		/* netmgr: tunnel is down, may exit */
	IMSG_CPU_HOLD,			/* tunworker: uint8_t 1 ask (-l), 0 withdraw */

	/* parent -> netmgr */
	IMSG_CONTROLFD,			/* fd: the listening control socket */
	IMSG_UAPIFD,			/* fd: the listening WireGuard UAPI socket */
	IMSG_HEADLESS_CONF,		/* struct imsg_conf_iface; confmsg.h */
	IMSG_HEADLESS_PEER,		/* struct imsg_wg_peer */
	IMSG_HEADLESS_AIP,		/* struct imsg_wg_aip */
	IMSG_HEADLESS_END,
	IMSG_DEVICE_ID,			/* char[64]: the stable device id */
	IMSG_LOGS_DATA,			/* a chunk of log text */
	IMSG_LOGS_END,

	/* netmgr -> parent: network set-up, validated by the parent */
	IMSG_NET_BEGIN,			/* struct imsg_net_begin */
	IMSG_NET_ADDR,			/* struct prefix: interface address */
	IMSG_NET_ROUTE,			/* struct prefix: routed into the tunnel */
	IMSG_NET_ENDPOINT,		/* struct sockaddr_storage: a peer */
	IMSG_NET_DNS,			/* struct prefix: tunnel resolver */
	IMSG_NET_COMMIT,		/* do it; reply IMSG_NET_RESULT */
	IMSG_NET_DOWN,			/* uint32_t flags or nothing; reply RESULT */
	IMSG_LOGS_GET,			/* the first LOGS_DATA (or END) */
	IMSG_LOGS_CLEAN,		/* truncate them */
	IMSG_EXCLUDE,			/* fd: a control client; id: token */

	/* parent -> netmgr */
	IMSG_NET_RESULT,		/* struct imsg_result */
	IMSG_EXCLUDE_RESULT,		/* struct imsg_result; id: token */

	/* parent -> tunworker */
	IMSG_TUN_FD,			/* fd: the TUN queue; struct imsg_tun */
	IMSG_UDP_FD,			/* fd: a marked UDP socket; id = af */
	IMSG_NET_CHANGED,		/* struct imsg_net_changed: re-handshake */
	IMSG_CPU_LATENCY,		/* vpnd -l is on: ask with CPU_HOLD */

	/* netmgr -> tunworker */
	IMSG_WG_IFACE,			/* struct imsg_conf_iface; confmsg.h */
	IMSG_WG_PEER,			/* struct imsg_wg_peer: add or update */
	IMSG_WG_AIP,			/* struct imsg_wg_aip */
	IMSG_WG_ENDPOINT,		/* struct imsg_wg_endpoint: move, initiate */
	IMSG_WG_PEERS_END,		/* drop peers not named since IFACE */
	IMSG_WG_STATS_REQ,
	IMSG_WG_RESET,			/* close everything; reply RESET_DONE */

	/* tunworker -> netmgr */
	IMSG_WG_HANDSHAKE,		/* uint8_t[32]: that peer has a session */
	IMSG_WG_STATS,			/* struct imsg_wg_stats, one per peer */
	IMSG_WG_STATS_END,
	IMSG_WG_RESET_DONE,
	IMSG_WG_ERROR,			/* struct imsg_result: data plane failed */
	IMSG_WG_PEER_LOST,		/* uint8_t[32]: no handshake in 90 s */

	/* netmgr -> dnsmgr */
	IMSG_DNS_SET,			/* struct imsg_dns */
	IMSG_DNS_RESTORE,

	/* dnsmgr -> netmgr */
	IMSG_DNS_RESULT,		/* struct imsg_result */

	/* dnsmgr -> parent: what dnsmgr may not do itself */
	IMSG_DNS_OPEN,			/* int: RESOLV_*, on resolv.conf */
	IMSG_DNS_RESOLVCONF,		/* struct imsg_dns_rc: run resolvconf */

	/* parent -> dnsmgr */
	IMSG_DNS_FILE,			/* fd: resolv.conf; struct imsg_dns_file */
	IMSG_DNS_RC_RESULT,		/* struct imsg_result */

	/* netmgr -> parent: the lockdown setting; parent -> netmgr: it */
	IMSG_LOCKDOWN_SET,		/* struct imsg_lockdown */
	IMSG_LOCKDOWN_STATE,		/* struct imsg_lockdown_state */

	/* netmgr -> parent */
	IMSG_LOGS_NEXT,			/* the next LOGS_DATA chunk, please */

	/* netmgr -> parent, between NET_BEGIN and NET_COMMIT */
	IMSG_NET_SPLIT_UID,		/* uint32_t: whose app scopes count */
	IMSG_NET_SPLIT_APP,		/* char[APPID_MAX + 1]: vpnDisabledApps ID */

	IMSG_TYPE_END			/* not a message: one past the last type */
};

struct log_msg {
	int		 pri;
	char		 proc[16];
	char		 line[1024];
};

struct imsg_result {
	int		 ok;
	int		 err;		/* errno */
	int		 ifindex;
	char		 msg[256];
};

#define NET_F_FULL4		0x01	/* 0.0.0.0/0 in the routes */
#define NET_F_FULL6		0x02	/* ::/0 in the routes */
#define NET_F_KILLSWITCH	0x04
#define NET_F_ALLOWLAN		0x08
#define NET_F_UPDATE		0x10	/* same interface: replace routes/rules */

#define NETDOWN_KEEP_KS		0x01	/* error state: the firewall stays */

struct imsg_net_begin {
	char		 ifname[IFNAMSIZ];
	int		 mtu;
	uint16_t	 listen_port;
	uint32_t	 flags;
	uint32_t	 table_mode;	/* enum conf_table */
	uint32_t	 table;		/* CONF_TABLE_NUM: where routes go */
	uint32_t	 mark;		/* our sockets' mark, not 0 */
};

struct imsg_tun {
	char		 ifname[IFNAMSIZ];
	int		 ifindex;
	int		 mtu;
	int		 vnet_hdr;	/* reads/writes carry virtio_net_hdr */
};

/* The interface part of a struct tunnel_conf: the start of a sequence. */
struct imsg_conf_iface {
	uint8_t		 privkey[WG_KEY_LEN];
	int		 has_privkey;
	uint16_t	 listen_port;
	int		 mtu;		/* 0: the default */
	struct prefix	 addrs[CONF_MAX_ADDRS];
	uint32_t	 naddrs;
	struct prefix	 dns[CONF_MAX_DNS];
	uint32_t	 ndns;
	char		 search[CONF_MAX_SEARCH][CONF_DOMAIN_LEN];
	uint32_t	 nsearch;
	int		 killswitch;	/* -1, 0, 1 */
	int		 allowlan;
	uint32_t	 hop;		/* enum hop_type */
	uint32_t	 table_mode;	/* enum conf_table */
	uint32_t	 table;
	uint32_t	 fwmark;
};

struct imsg_wg_peer {
	uint8_t		 pubkey[WG_KEY_LEN];
	uint8_t		 psk[WG_KEY_LEN];
	int		 has_psk;
	struct sockaddr_storage endpoint;
	uint16_t	 keepalive;
};

struct imsg_wg_endpoint {
	uint8_t		 pubkey[WG_KEY_LEN];
	struct sockaddr_storage endpoint;
};

struct imsg_wg_aip {
	uint8_t		 pubkey[WG_KEY_LEN];
	struct prefix	 prefix;
};

struct imsg_wg_stats {
	uint8_t		 pubkey[WG_KEY_LEN];
	uint64_t	 rx_bytes;
	uint64_t	 tx_bytes;
	int64_t		 last_handshake;	/* realtime seconds, 0 = never */
	struct sockaddr_storage endpoint;
	uint16_t	 keepalive;
	int64_t		 handshake_age_ms;	/* -1: never */
	int64_t		 rx_age_ms;		/* -1: nothing received */
	uint32_t	 last_handshake_nsec;	/* 0..999999999 */
};

/* What moved under the tunnel (the parent's rtnetlink watch); bits. */
#define NETCHG_ROUTE		0x01	/* a default route of the main table */
#define NETCHG_ADDR		0x02	/* an address of another interface */
#define NETCHG_LINK		0x04	/* another interface went up or down */
#define NETCHG_OVERRUN		0x08	/* events were lost: assume anything */
#define NETCHG_ALL		0x0f

struct imsg_net_changed {
	uint32_t	 why;		/* NETCHG_*, at least one */
};

/* What tunworker accepts: at least one reason, none it does not know. */
static inline int
netchg_valid(uint32_t why)
{
	return why != 0 && (why & ~(uint32_t)NETCHG_ALL) == 0;
}

struct imsg_dns {
	char		 ifname[IFNAMSIZ];
	int		 ifindex;
	struct prefix	 servers[CONF_MAX_DNS];
	uint32_t	 nservers;
	char		 domains[CONF_MAX_SEARCH][CONF_DOMAIN_LEN];
	uint32_t	 ndomains;
};

/* The parent's answer to IMSG_DNS_OPEN; the fd travels with it. */
struct imsg_dns_file {
	int		 err;		/* errno when there is no fd */
	int		 created;	/* RESOLV_CREATE made it */
	char		 target[256];	/* resolv.conf is a symlink to this */
};

/* dnsmgr asks the parent to run resolvconf(8); DNS_RC_* in op. */
struct imsg_dns_rc {
	uint32_t	 op;
	struct imsg_dns	 dns;
};

/* Switch lockdown: each 0 or 1, allow_lan only with on. */
struct imsg_lockdown {
	uint32_t	 on;
	uint32_t	 allow_lan;
};

/* The setting in force: at start, and the answer to each LOCKDOWN_SET. */
struct imsg_lockdown_state {
	int		 ok;		/* the change was made */
	int		 err;		/* errno when it was not */
	uint32_t	 on;
	uint32_t	 allow_lan;
	char		 msg[256];
};

/* Test hooks (vpnd_env.testhook), compiled in only with VPND_TESTHOOKS. */
#define TESTHOOK_FORBIDDEN_SYSCALL	1	/* child makes a syscall outside its list */
/* 2 was "dnsmgr writes outside its Landlock paths": see 4 and 5 */
#define TESTHOOK_DATAPLANE_FAIL		3	/* tunworker fails after a handshake */
#define TESTHOOK_DNS_PROBES		4	/* dnsmgr probes its sandbox */
#define TESTHOOK_DNS_PROBES_NOLL	5	/* the same, Landlock left off */
#define TESTHOOK_NO_USERNS		6	/* without root: as if user namespaces were refused */
#define TESTHOOK_DNS_HOSTILE_REPLY	7	/* dnsmgr answers DNS_SET with control characters */
#define TESTHOOK_HOSTILE_LOG		8	/* a child logs control characters */
#define TESTHOOK_STOP_BEFORE_CONTROL	9	/* parent: SIGSTOP just before the control socket is made */
#define TESTHOOK_EXCLUDE_ANY		10	/* netmgr passes anyone's exclude on */
#define TESTHOOK_HOLD_CHANNEL		11	/* a child holds its channel open past its end, never exits */

#endif /* VPND_H */

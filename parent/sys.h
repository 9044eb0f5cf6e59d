/*
 * sys.h -- the parent's system operations: TUN devices, rtnetlink (links,
 * addresses, routes, policy rules), marked UDP sockets and the nftables
 * kill switch.
 *
 * These run in the parent, which holds only CAP_NET_ADMIN: no file writes,
 * no exec, no shell.  Every function returns 0 (or an fd or an index) on
 * success and -1 with errno set on failure; none of them logs or exits,
 * the caller decides.  Every kernel reply is validated before use.
 */
#ifndef VPND_SYS_H
#define VPND_SYS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"	/* struct prefix */

/*
 * The defaults: a wg-quick file's FwMark and Table may choose others,
 * which the state record keeps for the recovery after a crash.
 */
#define VPND_FWMARK	0x7670	/* "vp": marks our UDP sockets */
#define VPND_TABLE	0x7670	/* our route table, full tunnels */
/*
 * Fixed priorities let us find and delete exactly our rules.  The
 * suppress rule is consulted first so that specific routes of the main
 * table (the LAN, link routes) still win over the tunnel's default
 * route; both come before the kernel's main rule at 32766.
 */
#define VPND_RULE_PRIO_SUPPRESS	0x766f	/* 30319 */
#define VPND_RULE_PRIO_TUNNEL	0x7670	/* 30320 */

#define VPND_NFT_TABLE	"vpnd"	/* table inet vpnd */
/*
 * UDP socket buffers (the kernel doubles them). Four streams through the
 * tunnel overflowed 4 MiB now and then while udp-rx was off the CPU: one
 * overflow drops a whole UDP GRO train, some 40 TCP segments, where
 * wireguard-go, with 7 MiB, lost none. 8 MiB is some 10 ms at 6 Gbit/s.
 */
#define VPND_SOCKBUF	(8 * 1024 * 1024)

/*
 * TUN: IFF_TUN|IFF_NO_PI|IFF_MULTI_QUEUE, named exactly as given.  Fails
 * with EEXIST if an interface of that name already exists, EINVAL for a
 * name outside [a-zA-Z0-9_=+.-]{1,15}.  The fd is O_CLOEXEC and
 * non-blocking; the device disappears with its last queue fd.
 */
int	 tun_create(const char *name, int *ifindex);
/* The same with IFF_VNET_HDR + TSO when *offload comes back 1. */
int	 tun_create_offload(const char *name, int *ifindex, int *offload);
/* One more queue of an existing multi-queue TUN; ENODEV if it is absent. */
int	 tun_open_queue(const char *name);

/* Links */
int	 nl_link_index(const char *name);	/* 0: none (errno ENODEV) */
int	 nl_link_ours(const char *name, int ifindex, const char *mark);
/* its MTU now if ours, 0 if not (or gone), -1 error */
int	 nl_link_ours_mtu(const char *name, int ifindex, const char *mark);
/* mtu in CONF_MIN_MTU..CONF_MAX_MTU, else EINVAL */
int	 nl_link_set_mtu(int ifindex, int mtu);
int	 nl_link_set_up(int ifindex, bool up);
/*
 * Our mark on a TUN we create: IFLA_IFALIAS "vpnd:<device id>", so that
 * recovery after a crash removes only a device this installation made.
 */
#define VPND_IFALIASZ	64
int	 nl_link_set_alias(int ifindex, const char *alias);
/*
 * Deletes a TUN. Refuses (EPERM) a link that is not a TUN, and with mark
 * != NULL one whose alias is not exactly mark.
 */
int	 nl_link_del(const char *name, const char *mark);
/* For recovery: calls cb for every link whose name starts with prefix. */
int	 nl_link_list(const char *prefix,
	    void (*cb)(const char *name, int ifindex, void *), void *arg);

/* Addresses (IFA_F_NODAD for v6 so the address is usable at once) */
int	 nl_addr_add(int ifindex, const struct prefix *);
int	 nl_addr_del(int ifindex, const struct prefix *);

/*
 * Routes: a device route for the prefix (host bits cleared) in table
 * (RT_TABLE_MAIN = 254, VPND_TABLE or a file's Table).  Add fails with
 * EEXIST.
 */
/* One socket for the requests until nl_release() (if it opens). */
void	 nl_hold(void);
void	 nl_release(void);
int	 nl_route_add(int ifindex, const struct prefix *, uint32_t table);
int	 nl_route_del(int ifindex, const struct prefix *, uint32_t table);
int	 nl_route_flush_table(int af, uint32_t table);	/* all of it */

/*
 * Policy rules as wg-quick installs them for a full tunnel, per family:
 *	prio VPND_RULE_PRIO_SUPPRESS: lookup main suppress_prefixlength 0
 *	prio VPND_RULE_PRIO_TUNNEL: not fwmark MARK lookup TABLE
 * (VPND_FWMARK and VPND_TABLE unless a file chose others; neither 0).
 * nl_rules_add() is idempotent (rules already there are fine) and leaves
 * nothing behind when it fails.  nl_rules_del() removes exactly ours and
 * returns how many it removed; absent ones are not an error.
 */
int	 nl_rules_add(int af, uint32_t table, uint32_t mark);
int	 nl_rules_del(int af, uint32_t table, uint32_t mark);

/*
 * A UDP socket of family af bound to port (0 = any), IPV6_V6ONLY for v6
 * (one socket per family), SO_MARK mark (not 0), large buffers,
 * non-blocking, close-on-exec.  *bound_port (may be NULL) gets the port
 * actually bound, so v4 and v6 can share one port.
 */
int	 udp_open(int af, uint16_t port, uint32_t mark, uint16_t *bound_port);

/*
 * Kill switch: table "inet vpnd", created or replaced in ONE transaction
 * (delete-if-exists and add in the same batch), so there is never a
 * moment without rules.
 */
struct ks_params {
	const char	*ifname;	/* tunnel interface */
	/* the peers' UDP endpoints */
	const struct sockaddr_storage *endpoints;
	size_t		 nendpoints;
	const struct prefix *dns;	/* the tunnel's resolvers */
	size_t		 ndns;
	const struct prefix *tunaddrs;	/* our tunnel addresses */
	size_t		 ntunaddrs;
	bool		 allow_lan;
	uint32_t	 mark;		/* our sockets' mark; 0: VPND_FWMARK */
};
int	 nft_ks_install(const struct ks_params *);
int	 nft_ks_remove(void);		/* 0 also when absent */
/*
 * Lockdown, while no tunnel is up: the same table, replacing whatever is
 * there in one transaction, without the tunnel and endpoint rules:
 * loopback, DHCP, neighbour discovery, the LAN with allow_lan.
 */
int	 nft_lockdown_install(bool allow_lan);
int	 nft_ks_present(void);		/* 1 yes, 0 no, -1 error */
/*
 * A descriptor that becomes readable after any change to nftables in
 * this network namespace (another program's ruleset load may take table
 * inet vpnd with it); nft_watch_read() empties it: 1 if something
 * changed (or notices were lost), 0 if not, -1 on error.
 */
int	 nft_watch_open(void);
int	 nft_watch_read(int);

/*
 * Split tunnelling: table "inet vpnd_split" sends the traffic of the
 * sockets of the given cgroups (cgroup v2 id and level; each matches its
 * cgroup and those below) outside the tunnel, marked so that the kill
 * switch lets exactly those connections pass.  Replaced whole in one
 * transaction.
 */
#define VPND_NFT_SPLIT		"vpnd_split"
#define VPND_CTMARK_EXCL	0x76706e64	/* "vpnd": an excluded flow */
#define SPLIT_MAX_CGROUPS	1024
#define SPLIT_MAX_LEVEL		255
struct split_cg {
	uint64_t	 id;		/* the directory's inode on cgroup2 */
	uint32_t	 level;		/* 1: just below the root */
};
int	 nft_split_install(const struct split_cg *, size_t, uint32_t mark);
int	 nft_split_remove(void);		/* 0 also when absent */
int	 nft_split_present(void);	/* 1 yes, 0 no, -1 error */

#endif /* VPND_SYS_H */

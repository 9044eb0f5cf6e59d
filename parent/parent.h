/*
 * parent.h -- the privileged parent: its entry and its network operations.
 */
#ifndef VPND_PARENT_H
#define VPND_PARENT_H

#include <sys/socket.h>

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpnd.h"

struct parent_opts {
	struct vpnd_env	 env;
	const char	*conffile;
	const char	*cgroot;	/* -C: where our cgroup goes */
	char		 ifname[IFNAMSIZ];
	int		 noaction;
	int		 cpu_latency;	/* -l, microseconds; -1: none */
};

int	 parent_main(struct parent_opts *);
/* A child's message: 0 handled, -1 not that child's to send. */
struct imsgev;
struct imsg;
int	 parent_imsg(struct imsgev *, struct imsg *);
void	 parent_imsg_init(struct parent_opts *);	/* without parent_main */

/* printconf.c: the configuration as parsed (vpnd -nv); keys hidden. */
void	 print_config(FILE *, const struct tunnel_conf *);

/* netops.c: the network set-up the parent performs for netmgr. */
void	 netops_init(const char *statedir, const char *ifname,
	    const char *devid);
void	 netops_set_tunworker(struct imsgev *);
void	 netops_dispatch(struct imsgev *netmgr, struct imsg *);
void	 netops_teardown(int keep_ks);	/* remove what we set up */
int	 netops_recover(void);		/* at start: leftovers */
void	 netops_fw_check(void);	/* nftables changed */
void	 netops_tun_link(int ifindex, bool up, int mtu); /* netwatch saw it */
/*
 * The state record (NET_STATE_FILE): what the next start must remove
 * after a crash. Format 1 is key=value lines, "version=1" first, then
 * ifname=, table= (the policy rules' table) and mark= (our sockets' and
 * rules' mark), each exactly once; unknown keys are skipped. An older
 * vpnd wrote the interface name alone on one line.
 */
#define NET_STATE_MAX	4096
struct net_staterec {
	char		 ifname[IFNAMSIZ];
	uint32_t	 table;
	uint32_t	 mark;
	int		 version;	/* 0: the one-line format */
	int		 unknown;	/* keys skipped */
};
int	 netops_state_format(const struct net_staterec *, char *, size_t);
int	 netops_state_parse(const char *, size_t, struct net_staterec *,
	    char *err, size_t errlen);
/* lockdown changed from old: make the firewall follow; -1 with err */
struct lockdown;
int	 netops_lockdown(const struct lockdown *old, char *err,
	    size_t errlen);

/* lockdown.c: the lockdown setting, <statedir>/lockdown */
void	 lockdown_init(const char *statedir, const struct lockdown *conf);
int	 lockdown_load(const char *path, struct lockdown *);	/* -1: corrupt */
const struct lockdown *lockdown_get(void);
bool	 lockdown_on(void);
void	 lockdown_announce(struct imsgev *netmgr);
int	 lockdown_dispatch(struct imsgev *netmgr, struct imsg *);

int	 netops_active(void);		/* a tunnel is up */
uint32_t netops_mark(void);		/* its bypass mark */

/*
 * split.c: split tunnelling by app (cgroup v2). split_init() exits on a
 * bad -C; the rest log their failures.
 */
#define SPLIT_STATE_NAME	"split.state"
void	 split_init(const char *statedir, const char *sockpath,
	    const char *cgroot);
void	 split_exclude(struct imsgev *netmgr, struct imsg *);
void	 split_down(void);		/* undo all of it */
int	 split_recover(void);		/* at start: leftovers */
int	 split_origin_ok(const char *);	/* a cgroup path to go back to */
/* vpnDisabledApps, within a network transaction (netops.c) */
void	 split_pend_begin(void);
void	 split_pend_uid(uid_t);
int	 split_pend_app(const char *, char *err, size_t errlen);
void	 split_pend_commit(void);

/* dnsops.c: what dnsmgr asks of the parent; -1: not a dnsmgr request */
/* in the state directory: the resolv.conf the parent created (dev ino) */
#define DNSOPS_CREATED_NAME	"resolv.created"
void	 dnsops_init(const char *statedir);	/* exits on failure */
int	 dnsops_dispatch(struct imsgev *dnsmgr, const struct vpnd_env *,
	    struct imsg *);

/* policy.c: what may be installed, beyond a well-formed request. */
struct prefix;
int	 policy_check_addr(const struct prefix *, const struct prefix *host,
	    size_t nhost, char *err, size_t errlen);
int	 policy_check_route(const struct prefix *, char *err, size_t errlen);
int	 policy_check_routing(uint32_t table_mode, uint32_t table,
	    uint32_t mark, char *err, size_t errlen);
int	 policy_host_addrs(const char *skip, struct prefix **out,
	    size_t *nout);

/* uapisock.c: the WireGuard UAPI socket; -1: not served (logged) */
int	 uapisock_open(const char *dir, const char *ifname);
void	 uapisock_remove(void);

/*
 * netwatch.c: rtnetlink notifications of the underlay (links, addresses,
 * default routes) become one IMSG_NET_CHANGED to tunworker per burst.
 * netwatch_init after event_init; -1 with errno if it cannot listen.
 * netwatch_parse: the NETCHG_* bits a buffer of notifications carries
 * (the tunnel's own, tunidx or ifname, left out); 0 for none. What it has
 * seen is kept: a repeat (a lifetime refresh) is no change.
 * netwatch_reset forgets it; netwatch_snap keeps a copy of it and
 * netwatch_snap_same says whether what is known now equals that copy.
 * netwatch_from_kernel: the sender is the kernel.
 * netwatch_set_tunlink: who hears of the tunnel's own link going up or
 * down (netops_tun_link).
 * netwatch_delay: ms until a burst is told (settled, capped, and at least
 * a REKEY_TIMEOUT after the last notification).
 */
int	 netwatch_init(const char *ifname, struct imsgev *tunworker);
void	 netwatch_set_tunlink(void (*)(int ifindex, bool up, int mtu));
uint32_t netwatch_parse(const void *, size_t, int tunidx, const char *ifname);
void	 netwatch_reset(void);
void	 netwatch_snap(void);
bool	 netwatch_snap_same(void);
uint64_t netwatch_delay(uint64_t now, uint64_t first, uint64_t last);
struct sockaddr_nl;
bool	 netwatch_from_kernel(const struct sockaddr_nl *, socklen_t);

/* secpath.c: 0 if every component of dir is root's alone, else -1 */
int	 secure_dir(const char *dir, char *err, size_t errlen);
/* secpath.c: an open descriptor of a child's executable, checked, or -1 */
int	 secure_exec(const char *path, char *err, size_t errlen);

#endif /* VPND_PARENT_H */

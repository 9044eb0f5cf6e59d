/*
 * sys_stubs.h -- every kernel call of the parent (TUN, netlink, nftables,
 * UDP sockets) replaced by a stub that counts it, for the unit tests of
 * the parent's validation.  With die_on_call set (in a forked child) the
 * first call exits 42, so "refused before any kernel call" is checkable.
 */
#ifndef SYS_STUBS_H
#define SYS_STUBS_H

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "sys.h"

#define IFN		"vpn0"

static int		 ncalls;	/* kernel calls made */
static bool		 die_on_call;	/* in a forked child: exit 42 */

/* fork; the child has 30 s, no kernel call, and stderr on /dev/null */
static inline pid_t
stub_fork(void)
{
	pid_t	pid;

	fflush(stdout);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		alarm(30);
		die_on_call = true;
		dup2(open("/dev/null", O_WRONLY), 2);
	}
	return pid;
}
static char		 lastcall[64];
static int		 tun_ifindex = 7;
static size_t		 ks_neps;
static uint32_t		 ks_mark;		/* the kill switch's mark */
static uint32_t		 route_tables[8];	/* of the routes added */
static size_t		 nroute_tables;
static uint32_t		 rules_table, rules_mark;	/* last rules added */
static uint32_t		 udp_mark;

static void	 called(const char *);

static void
called(const char *what)
{
	ncalls++;
	strlcpy(lastcall, what, sizeof(lastcall));
	if (die_on_call)
		_exit(42);
}

/* The stubs: nothing reaches the kernel; every call is counted. */
int
tun_create(const char *name, int *ifindex)
{
	called(__func__);
	*ifindex = tun_ifindex;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int
tun_create_offload(const char *name, int *ifindex, int *offload)
{
	*offload = 0;
	return tun_create(name, ifindex);
}

int
tun_open_queue(const char *name)
{
	called(__func__);
	return -1;
}

int
nl_link_index(const char *name)
{
	called(__func__);
	return 0;
}

int
nl_link_ours(const char *name, int ifindex, const char *mark)
{
	called(__func__);
	return 1;
}

int
nl_link_ours_mtu(const char *name, int ifindex, const char *mark)
{
	called(__func__);
	return 0;
}

int
nl_link_set_mtu(int ifindex, int mtu)
{
	called(__func__);
	return 0;
}

int
nl_link_set_up(int ifindex, bool up)
{
	called(__func__);
	return 0;
}

int
nl_link_del(const char *name, const char *mark)
{
	called(__func__);
	return 0;
}

int
nl_link_set_alias(int ifindex, const char *alias)
{
	called(__func__);
	return 0;
}

int
nl_addr_add(int ifindex, const struct prefix *p)
{
	called(__func__);
	return 0;
}

int
nl_addr_del(int ifindex, const struct prefix *p)
{
	called(__func__);
	return 0;
}

/* a socket held or not is no call the tests order */
void
nl_hold(void)
{
}

void
nl_release(void)
{
}

int
nl_route_add(int ifindex, const struct prefix *p, uint32_t table)
{
	called(__func__);
	if (nroute_tables < sizeof(route_tables) / sizeof(route_tables[0]))
		route_tables[nroute_tables++] = table;
	return 0;
}

int
nl_route_del(int ifindex, const struct prefix *p, uint32_t table)
{
	called(__func__);
	return 0;
}

int
nl_route_flush_table(int af, uint32_t table)
{
	called(__func__);
	return 0;
}

int
nl_rules_add(int af, uint32_t table, uint32_t mark)
{
	called(__func__);
	rules_table = table;
	rules_mark = mark;
	return 0;
}

int
nl_rules_del(int af, uint32_t table, uint32_t mark)
{
	called(__func__);
	return 0;
}

int
udp_open(int af, uint16_t port, uint32_t mark, uint16_t *bound)
{
	called(__func__);
	udp_mark = mark;
	if (bound != NULL)
		*bound = 51820;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int
nft_ks_install(const struct ks_params *kp)
{
	called(__func__);
	ks_neps = kp->nendpoints;
	ks_mark = kp->mark;
	return 0;
}

int
nft_ks_remove(void)
{
	called(__func__);
	return 0;
}

int
nft_lockdown_install(bool allow_lan)
{
	called(__func__);
	return 0;
}

int
nft_ks_present(void)
{
	called(__func__);
	return 0;
}

int
nft_watch_open(void)
{
	called(__func__);
	return -1;
}

int
nft_watch_read(int fd)
{
	called(__func__);
	return 0;
}

int
nft_split_install(const struct split_cg *cgs, size_t n, uint32_t mark)
{
	called(__func__);
	return 0;
}

int
nft_split_remove(void)
{
	called(__func__);
	return 0;
}

int
nft_split_present(void)
{
	called(__func__);
	return 0;
}

#endif /* SYS_STUBS_H */

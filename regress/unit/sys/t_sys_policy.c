/*
 * t_sys_policy.c -- the parent's policy on what netmgr may install:
 * device addresses must be ordinary unicast addresses the host does not
 * already have on another link; routes must not lie inside loopback,
 * link-local or multicast ranges, nor cover IPv4 link-local unless they
 * are the full tunnel (nor may a device address's prefix), while the full
 * tunnel and ordinary prefixes pass.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parent.h"
#include "tap.h"

struct tcase {
	const char	*prefix;
	int		 ok;
	const char	*why;		/* a word the refusal must contain */
};

static const struct tcase addrs[] = {
	{ "10.64.0.2/32",		1, NULL },
	{ "10.64.0.2/24",		1, NULL },
	{ "100.64.1.1/10",		1, NULL },
	{ "fd00:64::2/128",		1, NULL },
	{ "2001:db8::5/64",		1, NULL },
	{ "127.0.0.1/32",		0, "loopback" },
	{ "127.9.9.9/8",		0, "loopback" },
	{ "::1/128",			0, "loopback" },
	{ "169.254.169.254/32",		0, "link-local" },
	{ "169.254.0.1/16",		0, "link-local" },
	{ "fe80::1/64",			0, "link-local" },
	{ "febf::1/128",		0, "link-local" },
	{ "224.0.0.1/32",		0, "multicast" },
	{ "239.255.255.250/32",		0, "multicast" },
	{ "ff02::1/128",		0, "multicast" },
	{ "0.0.0.0/32",			0, "unspecified" },
	{ "0.0.0.0/0",			0, "unspecified" },
	{ "::/128",			0, "unspecified" },
	{ "255.255.255.255/32",		0, "broadcast" },
	{ "::ffff:10.0.0.1/128",	0, "IPv4-mapped" },
	/* the host's own, on another link (see host[] below) */
	{ "192.168.1.10/32",		0, "already the host's" },
	{ "192.168.1.10/24",		0, "already the host's" },
	{ "2001:db8:1::10/64",		0, "already the host's" },
	{ "192.168.1.11/32",		1, NULL },
	/* the kernel routes the prefix: it must not cover link-local */
	{ "169.255.0.1/15",		0, "covers link-local" },
	{ "169.1.2.3/8",		0, "covers link-local" },
	{ "130.0.0.1/1",			0, "covers link-local" },
	{ "10.0.0.1/1",			1, NULL },	/* 0.0.0.0/1 */
	{ "10.0.0.1/0",			0, "no prefix" },
	{ "169.253.255.1/16",		1, NULL },
	{ "fd00::1/1",			1, NULL },
};

static const struct tcase routes[] = {
	{ "0.0.0.0/0",			1, NULL },
	{ "::/0",			1, NULL },
	{ "0.0.0.0/1",			1, NULL },	/* covers loopback */
	{ "128.0.0.0/1",		0, "covers link-local" },
	{ "10.0.0.0/8",			1, NULL },
	{ "192.168.1.1/32",		1, NULL },
	{ "169.0.0.0/8",		0, "covers link-local" },
	{ "169.254.0.0/15",		0, "covers link-local" },
	{ "168.0.0.0/6",		0, "covers link-local" },
	{ "169.255.0.0/16",		1, NULL },	/* beside it */
	{ "169.128.0.0/10",		1, NULL },
	{ "8000::/1",			1, NULL },	/* scoped to the link */
	{ "224.0.0.0/3",		1, NULL },	/* multicast: no secret */
	{ "2000::/3",			1, NULL },
	{ "fd00::/8",			1, NULL },
	{ "8.8.8.8/32",			1, NULL },
	{ "169.254.169.254/32",		0, "link-local" },
	{ "169.254.0.0/16",		0, "link-local" },
	{ "169.254.0.0/24",		0, "link-local" },
	{ "fe80::/10",			0, "link-local" },
	{ "fe80::/64",			0, "link-local" },
	{ "127.0.0.0/8",		0, "loopback" },
	{ "127.0.0.1/32",		0, "loopback" },
	{ "::1/128",			0, "loopback" },
	{ "224.0.0.0/4",		0, "multicast" },
	{ "224.0.0.251/32",		0, "multicast" },
	{ "ff00::/8",			0, "multicast" },
	{ "ff02::fb/128",		0, "multicast" },
	{ "::ffff:0.0.0.0/96",		0, "IPv4-mapped" },
};

static const char *host_addrs[] = {
	"192.168.1.10", "127.0.0.1", "2001:db8:1::10", "fe80::aa",
};

int
main(void)
{
	struct prefix	 p, host[nitems(host_addrs)], *list;
	char		 err[200];
	size_t		 i, n;
	int		 rv;

	plan(67);
	for (i = 0; i < nitems(host_addrs); i++)
		if (prefix_parse(host_addrs[i], &host[i]) == -1)
			return 1;
	for (i = 0; i < nitems(addrs); i++) {
		if (prefix_parse(addrs[i].prefix, &p) == -1) {
			ok(0, "parse %s", addrs[i].prefix);
			continue;
		}
		err[0] = '\0';
		rv = policy_check_addr(&p, host, nitems(host), err,
		    sizeof(err));
		if (addrs[i].ok)
			ok(rv == 0, "address %s accepted", addrs[i].prefix);
		else
			ok(rv == -1 && strstr(err, addrs[i].why) != NULL,
			    "address %s refused: %s", addrs[i].prefix, err);
	}
	for (i = 0; i < nitems(routes); i++) {
		if (prefix_parse(routes[i].prefix, &p) == -1) {
			ok(0, "parse %s", routes[i].prefix);
			continue;
		}
		prefix_mask(&p);
		err[0] = '\0';
		rv = policy_check_route(&p, err, sizeof(err));
		if (routes[i].ok)
			ok(rv == 0, "route %s accepted", routes[i].prefix);
		else
			ok(rv == -1 && strstr(err, routes[i].why) != NULL,
			    "route %s refused: %s", routes[i].prefix, err);
	}
	memset(&p, 0, sizeof(p));
	p.af = AF_UNIX;
	ok(policy_check_addr(&p, NULL, 0, err, sizeof(err)) == -1,
	    "a bad family is refused as an address");
	ok(policy_check_route(&p, err, sizeof(err)) == -1,
	    "a bad family is refused as a route");
	p.af = AF_INET;
	p.plen = 33;
	ok(policy_check_route(&p, err, sizeof(err)) == -1,
	    "an overlong prefix is refused");

	/* The host's own list: loopback is there, the skipped link not. */
	ok(policy_host_addrs("lo", &list, &n) == 0, "host addresses listed");
	for (i = 0; i < n; i++)
		if (list[i].af == AF_INET && list[i].addr[0] == 127)
			break;
	ok(i == n, "the skipped link's addresses are left out");
	free(list);
	ok(policy_host_addrs(NULL, &list, &n) == 0, "host addresses listed");
	for (i = 0; i < n; i++)
		if (list[i].af == AF_INET && list[i].addr[0] == 127)
			break;
	ok(i < n, "127.0.0.1 is among the host's addresses");
	free(list);
	return done_testing();
}

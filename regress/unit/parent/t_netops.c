/*
 * t_netops.c -- the privilege boundary: the root parent's validation of
 * the network set-up unprivileged netmgr asks for (netops_dispatch), driven
 * over a socketpair the way netmgr sends it, with every kernel call (TUN,
 * netlink, nftables, UDP sockets) replaced by a stub that records it.
 *
 * A well-formed set-up is carried out (positive control).  A set-up for an
 * interface that is not vpnd's, an MTU out of range, a bad prefix,
 * endpoint or family, a device address or route the policy refuses
 * (loopback, multicast, link-local), too many routes, items outside a
 * BEGIN..COMMIT, a
 * second tunnel while one is up, an update with nothing to update: each
 * is refused with an error reply and not one kernel call.  A message of
 * the wrong size is fatal for the parent (a lying channel), again before
 * any kernel call.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appid.h"
#include "compat.h"
#include "config.h"
#include "imsgev.h"
#include "parent.h"
#include "vpnd.h"
#include "tap.h"
#include "sys_stubs.h"

static struct imsgev	 par, tw;	/* the parent's ends */
static struct imsgbuf	 nm, twpeer;	/* netmgr's and tunworker's ends */
static char		 statedir[] = "/tmp/vpnd-t-netops.XXXXXX";

static void	 setup(void);
static void	 send_msg(uint32_t, const void *, size_t);
static int	 deliver(void);
static bool	 reply(struct imsg_result *);
static void	 begin(const char *, int, uint32_t);
static void	 item(uint32_t, const char *);
static bool	 commit(struct imsg_result *);
static void	 endpoint(int);
static void	 refused(const char *, const char *);
static void	 refuse_cases(void);
static int	 fatal_case(uint32_t, size_t, bool);
static void	 fatal_cases(void);
static void	 positive(void);

static void
setup(void)
{
	int	 a[2], b[2];

	if (mkdtemp(statedir) == NULL)
		abort();
	/* the record goes here; removed with the directory at the end */
	netops_init(statedir, IFN, "0123456789abcdef0123456789abcdef");
	event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, b) == -1)
		abort();
	if (imsgev_init(&par, a[0], PROC_NETMGR, false, NULL, NULL,
	    NULL) == -1 || imsgbuf_init(&nm, a[1]) == -1)
		abort();
	if (imsgev_init(&tw, b[0], PROC_TUNWORKER, true, NULL, NULL,
	    NULL) == -1 || imsgbuf_init(&twpeer, b[1]) == -1)
		abort();
	imsgbuf_allow_fdpass(&twpeer);
	netops_set_tunworker(&tw);
}

/* netmgr sends one message. */
static void
send_msg(uint32_t type, const void *data, size_t len)
{
	if (imsg_compose(&nm, type, 0, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&nm) == -1)
		abort();
}

/* The parent reads and dispatches what netmgr sent; the count of them. */
static int
deliver(void)
{
	struct imsg	 imsg;
	int		 n = 0;

	if (imsgbuf_read(&par.ibuf) == -1)
		abort();
	while (imsg_get(&par.ibuf, &imsg) > 0) {
		netops_dispatch(&par, &imsg);
		imsg_free(&imsg);
		n++;
	}
	imsgev_flush(&par);
	imsgev_flush(&tw);
	return n;
}

/* netmgr reads the parent's IMSG_NET_RESULT, if one came. */
static bool
reply(struct imsg_result *r)
{
	struct pollfd	 pfd = { nm.fd, POLLIN, 0 };
	struct imsg	 imsg;
	bool		 got = false;

	memset(r, 0, sizeof(*r));
	/* the parent wrote before we look: nothing there is no reply */
	if (poll(&pfd, 1, 0) != 1)
		return false;
	if (imsgbuf_read(&nm) == -1)
		abort();
	while (imsg_get(&nm, &imsg) > 0) {
		if (imsg_get_type(&imsg) == IMSG_NET_RESULT &&
		    imsg_get_data(&imsg, r, sizeof(*r)) == 0)
			got = true;
		imsg_free(&imsg);
	}
	r->msg[sizeof(r->msg) - 1] = '\0';
	return got;
}

static void
begin_tm(const char *ifname, int mtu, uint32_t flags, uint32_t mode,
    uint32_t table, uint32_t mark)
{
	struct imsg_net_begin	 b;

	memset(&b, 0, sizeof(b));
	memcpy(b.ifname, ifname, MINIMUM(strlen(ifname), sizeof(b.ifname)));
	b.mtu = mtu;
	b.flags = flags;
	b.table_mode = mode;
	b.table = table;
	b.mark = mark;
	send_msg(IMSG_NET_BEGIN, &b, sizeof(b));
}

static void
begin(const char *ifname, int mtu, uint32_t flags)
{
	begin_tm(ifname, mtu, flags, CONF_TABLE_AUTO, 0, CONF_DEFAULT_FWMARK);
}

static void
item(uint32_t type, const char *pfx)
{
	struct prefix	 p;

	if (prefix_parse(pfx, &p) == -1)
		abort();
	send_msg(type, &p, sizeof(p));
}

static void
endpoint(int family)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (family == AF_INET) {
		sin->sin_port = htons(51820);
		inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	}
	send_msg(IMSG_NET_ENDPOINT, &ss, sizeof(ss));
}

static bool
commit(struct imsg_result *r)
{
	send_msg(IMSG_NET_COMMIT, NULL, 0);
	while (deliver() > 0)
		;
	return reply(r);
}

/* What was sent since the last commit is refused, with no kernel call. */
static void
refused(const char *name, const char *msg)
{
	struct imsg_result	 r;
	int			 before = ncalls;

	ok(commit(&r) && !r.ok && strstr(r.msg, msg) != NULL,
	    "%s: refused (\"%s\")", name, r.msg);
	is_int(ncalls - before, 0, "%s: no kernel call (last: %s)", name,
	    ncalls > before ? lastcall : "none");
}

/* 8 tests */
static void
positive(void)
{
	struct imsg_result	 r;
	struct imsg		 imsg;
	struct pollfd		 pfd = { twpeer.fd, POLLIN, 0 };
	int			 before, tunfd = 0, udpfd = 0;

	ncalls = 0;
	begin(IFN, 1420, NET_F_KILLSWITCH);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	item(IMSG_NET_ROUTE, "0.0.0.0/0");
	item(IMSG_NET_ROUTE, "10.99.0.0/16");
	endpoint(AF_INET);
	item(IMSG_NET_DNS, "10.64.0.1");
	ok(commit(&r) && r.ok, "a well-formed set-up is carried out (%s)",
	    r.msg);
	is_int(r.ifindex, tun_ifindex, "the reply names the new interface");
	ok(ncalls >= 6, "kernel calls were made (%d)", ncalls);
	is_int(ks_neps, 1, "the kill switch exempts the one endpoint");
	/* one read per message that carries an fd */
	while (poll(&pfd, 1, 0) == 1 && imsgbuf_read(&twpeer) > 0)
		while (imsg_get(&twpeer, &imsg) > 0) {
			if (imsg_get_type(&imsg) == IMSG_TUN_FD)
				tunfd++;
			if (imsg_get_type(&imsg) == IMSG_UDP_FD)
				udpfd++;
			close(imsg_get_fd(&imsg));
			imsg_free(&imsg);
		}
	ok(tunfd == 1 && udpfd >= 1, "tunworker got the TUN and UDP fds");

	/* A second tunnel while one is up. */
	begin(IFN, 1420, 0);
	before = ncalls;
	ok(commit(&r) && !r.ok && r.err == EBUSY,
	    "a second set-up while one is up: EBUSY (%s)", r.msg);
	is_int(ncalls - before, 0, "a second set-up: no kernel call");

	send_msg(IMSG_NET_DOWN, NULL, 0);
	deliver();
	ok(reply(&r) && r.ok && ncalls > before, "NET_DOWN tears it down");
}

static void
refuse_cases(void)
{
	struct imsg_result	 r;
	struct prefix		 p;
	int			 i, before;

	begin("eth0", 1420, 0);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	refused("another interface (eth0)", "not ours");
	begin("vpn0AAAAAAAAAAAAAAAA", 1420, 0);
	refused("a name that only starts with vpn0, unterminated",
	    "not ours");
	begin("vpn", 1420, 0);
	refused("a prefix of our name", "not ours");
	begin("", 1420, 0);
	refused("an empty interface name", "not ours");
	begin(IFN, CONF_MIN_MTU - 1, 0);
	refused("MTU below the minimum", "MTU");
	begin(IFN, CONF_MAX_MTU + 1, 0);
	refused("MTU above the maximum", "MTU");
	begin(IFN, -1, 0);
	refused("negative MTU", "MTU");

	begin(IFN, 1420, 0);
	memset(&p, 0, sizeof(p));
	p.af = AF_INET;
	p.plen = 33;
	send_msg(IMSG_NET_ROUTE, &p, sizeof(p));
	refused("route /33", "bad route");
	begin(IFN, 1420, 0);
	p.af = AF_INET6;
	p.plen = 129;
	send_msg(IMSG_NET_ADDR, &p, sizeof(p));
	refused("address /129", "bad interface address");
	begin(IFN, 1420, 0);
	p.af = AF_UNIX;
	p.plen = 0;
	send_msg(IMSG_NET_DNS, &p, sizeof(p));
	refused("resolver of family AF_UNIX", "bad resolver");
	begin(IFN, 1420, 0);
	endpoint(AF_UNIX);
	refused("endpoint of family AF_UNIX", "bad endpoint");
	/* the policy: well formed, but not the parent's to install */
	begin(IFN, 1420, 0);
	item(IMSG_NET_ADDR, "127.0.0.2/32");
	refused("a loopback device address", "loopback");
	begin(IFN, 1420, 0);
	item(IMSG_NET_ADDR, "224.0.0.1/32");
	refused("a multicast device address", "multicast");
	begin(IFN, 1420, 0);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	item(IMSG_NET_ROUTE, "169.254.169.254/32");
	refused("a route to cloud metadata", "link-local");
	begin(IFN, 1420, 0);
	item(IMSG_NET_ROUTE, "fe80::/64");
	refused("a route into fe80::/10", "link-local");
	begin(IFN, 1420, 0);
	for (i = 0; i < CONF_MAX_ADDRS + 1; i++)
		item(IMSG_NET_ADDR, "10.64.0.2/32");
	refused("too many addresses", "too many");
	begin(IFN, 1420, 0);
	for (i = 0; i < CONF_MAX_DNS + 1; i++)
		item(IMSG_NET_DNS, "10.64.0.1");
	refused("too many resolvers", "too many");
	begin(IFN, 1420, 0);
	for (i = 0; i < 8193; i++) {
		item(IMSG_NET_ROUTE, "10.0.0.0/8");
		if (i % 256 == 0)
			while (deliver() > 0)
				;
	}
	refused("8193 routes", "too many routes");
	/* the first error is the one reported */
	begin("eth1", CONF_MAX_MTU + 1, 0);
	refused("two errors, the first reported", "eth1");

	begin(IFN, 1420, NET_F_UPDATE);
	item(IMSG_NET_ROUTE, "10.0.0.0/8");
	refused("an update with no tunnel up", "nothing to update");

	/* tables and marks */
	begin_tm(IFN, 1420, 0, CONF_TABLE_AUTO, 0, 0);
	refused("mark 0", "mark 0");
	begin_tm(IFN, 1420, 0, CONF_TABLE_OFF, 0, 0);
	refused("mark 0 with Table = off", "mark 0");
	begin_tm(IFN, 1420, 0, CONF_TABLE_AUTO, 0, 254);
	refused("auto with mark 254 (main)", "kernel's table 254");
	begin_tm(IFN, 1420, 0, CONF_TABLE_AUTO, 0, 255);
	refused("auto with mark 255 (local)", "kernel's table 255");
	begin_tm(IFN, 1420, 0, CONF_TABLE_NUM, 255, 0x7670);
	refused("Table = 255 (local)", "kernel's own");
	begin_tm(IFN, 1420, 0, CONF_TABLE_NUM, 253, 0x7670);
	refused("Table = 253 (default)", "kernel's own");
	begin_tm(IFN, 1420, 0, CONF_TABLE_NUM, 0, 0x7670);
	refused("Table = 0", "kernel's own");
	begin_tm(IFN, 1420, 0, 7, 1234, 0x7670);
	refused("an unknown table mode", "table mode");
	begin_tm(IFN, 1420, 0, CONF_TABLE_NUM, CONF_TABLE_MAIN, 0x7670);
	item(IMSG_NET_ROUTE, "10.0.0.0/8");
	item(IMSG_NET_ROUTE, "::/0");
	refused("a full tunnel in main", "default route");

	/* vpnDisabledApps: the parent checks every ID netmgr sends again */
	{
		char	 app[APPID_MAX + 1];

		begin(IFN, 1420, 0);
		memset(app, 0, sizeof(app));
		strlcpy(app, "../x.desktop", sizeof(app));
		send_msg(IMSG_NET_SPLIT_APP, app, sizeof(app));
		refused("a vpnDisabledApps entry with a path", "vpnDisabledApps");
		begin(IFN, 1420, 0);
		memset(app, 'a', sizeof(app));	/* no NUL: cut at the end */
		send_msg(IMSG_NET_SPLIT_APP, app, sizeof(app));
		memset(app, 0, sizeof(app));
		strlcpy(app, "a b", sizeof(app));
		send_msg(IMSG_NET_SPLIT_APP, app, sizeof(app));
		refused("a vpnDisabledApps entry with a space",
		    "vpnDisabledApps");
	}

	/* Items with no BEGIN: a protocol error each, nothing done. */
	before = ncalls;
	item(IMSG_NET_ROUTE, "0.0.0.0/0");
	deliver();
	ok(reply(&r) && !r.ok && strstr(r.msg, "protocol") != NULL,
	    "a route outside a set-up: protocol error");
	send_msg(IMSG_NET_COMMIT, NULL, 0);
	deliver();
	ok(reply(&r) && !r.ok && strstr(r.msg, "protocol") != NULL,
	    "a commit outside a set-up: protocol error");
	is_int(ncalls - before, 0, "outside a set-up: no kernel call");
}

/*
 * In a child: open a set-up if asked, then send type with len bytes.
 * Returns the child's exit status (42: a kernel call was made first).
 */
static int
fatal_case(uint32_t type, size_t len, bool open_first)
{
	uint8_t	 junk[512];
	pid_t	 pid;
	int	 status;

	if ((pid = stub_fork()) == 0) {
		if (open_first)
			begin(IFN, 1420, 0);
		memset(junk, 0x41, sizeof(junk));
		send_msg(type, junk, len);
		while (deliver() > 0)
			;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		abort();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
}

static void
fatal_cases(void)
{
	int	 rc;

	rc = fatal_case(IMSG_NET_BEGIN, sizeof(struct imsg_net_begin) - 1,
	    false);
	ok(rc != 0 && rc != 42, "NET_BEGIN one byte short: fatal (%d), no "
	    "kernel call", rc);
	rc = fatal_case(IMSG_NET_BEGIN, sizeof(struct imsg_net_begin) + 1,
	    false);
	ok(rc != 0 && rc != 42, "NET_BEGIN one byte long: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_ADDR, sizeof(struct prefix) + 4, true);
	ok(rc != 0 && rc != 42, "NET_ADDR of the wrong size: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_ROUTE, 3, true);
	ok(rc != 0 && rc != 42, "NET_ROUTE of 3 bytes: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_ENDPOINT, 16, true);
	ok(rc != 0 && rc != 42, "NET_ENDPOINT of 16 bytes: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_DNS, 0, true);
	ok(rc != 0 && rc != 42, "NET_DNS without data: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_DOWN, 2, false);
	ok(rc != 0 && rc != 42, "NET_DOWN of 2 bytes: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_DOWN, 8, false);
	ok(rc != 0 && rc != 42, "NET_DOWN of 8 bytes: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_SPLIT_APP, 16, true);
	ok(rc != 0 && rc != 42, "NET_SPLIT_APP of 16 bytes: fatal (%d)", rc);
	rc = fatal_case(IMSG_NET_SPLIT_UID, 2, true);
	ok(rc != 0 && rc != 42, "NET_SPLIT_UID of 2 bytes: fatal (%d)", rc);
	/* control of the harness: a well-formed set-up reaches the stubs */
	rc = fatal_case(IMSG_NET_COMMIT, 0, true);
	is_int(rc, 42, "control: a well-formed set-up reaches the kernel");
}

/* Where routes, rules and marks go, per Table mode: 13 tests */
static void
routing(void)
{
	struct imsg_result	 r;

	nroute_tables = 0;
	rules_table = rules_mark = 0;
	begin_tm(IFN, 1420, NET_F_KILLSWITCH, CONF_TABLE_NUM, 1234, 0xca6c);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	item(IMSG_NET_ROUTE, "0.0.0.0/0");
	item(IMSG_NET_ROUTE, "10.99.0.0/16");
	endpoint(AF_INET);
	ok(commit(&r) && r.ok, "Table = 1234: set up (%s)", r.msg);
	ok(nroute_tables == 2 && route_tables[0] == 1234 &&
	    route_tables[1] == 1234, "Table = 1234: both routes in 1234");
	is_int(rules_table, 0, "Table = 1234: no policy rules");
	is_int(udp_mark, 0xca6c, "the sockets carry the file's mark");
	is_int(ks_mark, 0xca6c, "the kill switch exempts that mark");
	send_msg(IMSG_NET_DOWN, NULL, 0);
	deliver();
	ok(reply(&r) && r.ok, "down");

	nroute_tables = 0;
	begin_tm(IFN, 1420, 0, CONF_TABLE_AUTO, 0, 51820);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	item(IMSG_NET_ROUTE, "0.0.0.0/0");
	item(IMSG_NET_ROUTE, "10.99.0.0/16");
	ok(commit(&r) && r.ok, "auto, mark 51820: set up (%s)", r.msg);
	ok(nroute_tables == 2 && route_tables[0] == 51820 &&
	    route_tables[1] == CONF_TABLE_MAIN,
	    "auto: the full tunnel in table 51820, the rest in main");
	ok(rules_table == 51820 && rules_mark == 51820,
	    "auto: rules look up 51820, not for mark 51820");
	send_msg(IMSG_NET_DOWN, NULL, 0);
	deliver();
	ok(reply(&r) && r.ok, "down");

	nroute_tables = 0;
	rules_table = 0;
	begin_tm(IFN, 1420, 0, CONF_TABLE_OFF, 0, CONF_DEFAULT_FWMARK);
	item(IMSG_NET_ADDR, "10.64.0.2/32");
	item(IMSG_NET_ROUTE, "0.0.0.0/0");
	ok(commit(&r) && r.ok, "Table = off: set up (%s)", r.msg);
	ok(nroute_tables == 0 && rules_table == 0,
	    "Table = off: no route, no rule");
	send_msg(IMSG_NET_DOWN, NULL, 0);
	deliver();
	ok(reply(&r) && r.ok, "down");
}

int
main(void)
{
	char	 path[sizeof(statedir) + 16];

	alarm(120);
	plan(8 + 2 * 31 + 3 + 11 + 13);
	setup();
	positive();
	routing();
	refuse_cases();
	fatal_cases();
	snprintf(path, sizeof(path), "%s/net.state", statedir);
	unlink(path);
	if (rmdir(statedir) == -1)
		diag("rmdir %s: %s", statedir, strerror(errno));
	return done_testing();
}

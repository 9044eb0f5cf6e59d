/*
 * t_dns_resolved.c -- the systemd-resolved backend against a fake
 * org.freedesktop.resolve1 on a private dbus-daemon: which calls are made,
 * with which arguments, on apply, restore, crash recovery and failure.
 * Skipped when dbus-daemon is not installed.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "compat.h"
#include "dns.h"
#include "dns_local.h"
#include "tap.h"
#define SDL_NO_REDIRECT
#include "sdl.h"

static const char *const daemons[] = {
	"/usr/bin/dbus-daemon", "/bin/dbus-daemon",
	"/usr/local/bin/dbus-daemon",
};

static char	 base[64], busconf[128], calls[128], statedir[128];
static char	 backup[160], conf[128], address[512];
static pid_t	 bus_pid = -1, svc_pid = -1;
static FILE	*callf;
static struct dns_paths paths;

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
cleanup(void)
{
	int	 status;

	if (svc_pid > 0) {
		kill(svc_pid, SIGTERM);
		waitpid(svc_pid, &status, 0);
	}
	if (bus_pid > 0) {
		kill(bus_pid, SIGTERM);
		waitpid(bus_pid, &status, 0);
	}
	if (base[0] != '\0')
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* fake resolve1: each handler logs one line before it replies */

static int
fail_for(sd_bus_message *m, int idx, sd_bus_error *e)
{
	if (idx == 99)
		return sd_bus_error_set(e,
		    "org.freedesktop.resolve1.NoSuchLink", "no such link");
	return 0;
}

static int
m_dns(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	char		 a[INET6_ADDRSTRLEN];
	const void	*p;
	size_t		 n;
	int		 idx, af, r;

	if (sd_bus_message_read(m, "i", &idx) < 0 ||
	    sd_bus_message_enter_container(m, 'a', "(iay)") < 0)
		return -EINVAL;
	fprintf(callf, "SetLinkDNS %d", idx);
	while ((r = sd_bus_message_enter_container(m, 'r', "iay")) > 0) {
		if (sd_bus_message_read(m, "i", &af) < 0 ||
		    sd_bus_message_read_array(m, 'y', &p, &n) < 0 ||
		    n != (af == AF_INET ? 4u : 16u) ||
		    inet_ntop(af, p, a, sizeof(a)) == NULL)
			return -EINVAL;
		fprintf(callf, " %d:%s", af, a);
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
	fprintf(callf, "\n");
	fflush(callf);
	if (fail_for(m, idx, e))
		return -1;
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_domains(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	const char	*s;
	int		 idx, b;

	if (sd_bus_message_read(m, "i", &idx) < 0 ||
	    sd_bus_message_enter_container(m, 'a', "(sb)") < 0)
		return -EINVAL;
	fprintf(callf, "SetLinkDomains %d", idx);
	while (sd_bus_message_read(m, "(sb)", &s, &b) > 0)
		fprintf(callf, " %s:%d", s, b);
	sd_bus_message_exit_container(m);
	fprintf(callf, "\n");
	fflush(callf);
	if (fail_for(m, idx, e))
		return -1;
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_defroute(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	int	 idx, b;

	if (sd_bus_message_read(m, "ib", &idx, &b) < 0)
		return -EINVAL;
	fprintf(callf, "SetLinkDefaultRoute %d %d\n", idx, b);
	fflush(callf);
	return sd_bus_reply_method_return(m, NULL);
}

static int
m_revert(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	int	 idx;

	if (sd_bus_message_read(m, "i", &idx) < 0)
		return -EINVAL;
	fprintf(callf, "RevertLink %d\n", idx);
	fflush(callf);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable resolve1_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetLinkDNS", "ia(iay)", "", m_dns, 0),
	SD_BUS_METHOD("SetLinkDomains", "ia(sb)", "", m_domains, 0),
	SD_BUS_METHOD("SetLinkDefaultRoute", "ib", "", m_defroute, 0),
	SD_BUS_METHOD("RevertLink", "i", "", m_revert, 0),
	SD_BUS_VTABLE_END
};

static __dead void
service(int readyfd)
{
	sd_bus	*bus = NULL;
	int	 r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((callf = fopen(calls, "a")) == NULL)
		_exit(2);
	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, address) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
		_exit(3);
	if (sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/resolve1",
	    "org.freedesktop.resolve1.Manager", resolve1_vtable, NULL) < 0)
		_exit(4);
	if (sd_bus_request_name(bus, "org.freedesktop.resolve1", 0) < 0)
		_exit(5);
	if (write(readyfd, "R", 1) != 1)
		_exit(6);
	close(readyfd);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			_exit(7);
		if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
			_exit(8);
	}
}

/* Reads up to len-1 bytes until a newline or 10 s pass. */
static int
read_bounded(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len - 1) {
		if (poll(&pfd, 1, 10000) <= 0)
			return -1;
		if ((n = read(fd, buf + off, len - 1 - off)) <= 0)
			break;
		off += n;
		if (memchr(buf, '\n', off) != NULL || buf[0] == 'R')
			break;
	}
	buf[off] = '\0';
	return off > 0 ? 0 : -1;
}

static int
start_bus(const char *daemon)
{
	char	 s[1024];
	int	 fds[2], fd;

	snprintf(s, sizeof(s),
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
	    "Configuration 1.0//EN\"\n \"http://www.freedesktop.org/"
	    "standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n  <type>session</type>\n"
	    "  <listen>unix:path=%s/bus</listen>\n"
	    "  <auth>EXTERNAL</auth>\n"
	    "  <policy context=\"default\">\n"
	    "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
	    "    <allow eavesdrop=\"true\"/>\n    <allow own=\"*\"/>\n"
	    "  </policy>\n</busconfig>\n", base);
	if ((fd = open(busconf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		return -1;
	close(fd);
	if (pipe(fds) == -1)
		return -1;
	if ((bus_pid = fork()) == 0) {
		char	 cf[200];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(cf, sizeof(cf), "--config-file=%s", busconf);
		close(fds[0]);
		if (dup2(fds[1], 3) == -1)
			_exit(127);
		/* Its fd-limit warning is noise in the TAP stream. */
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDERR_FILENO);
		execl(daemon, daemon, cf, "--nofork", "--nopidfile",
		    "--print-address=3", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read_bounded(fds[0], address, sizeof(address)) == -1) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	address[strcspn(address, "\n")] = '\0';
	return 0;
}

static int
start_service(void)
{
	char	 buf[8];
	int	 fds[2];

	if (pipe(fds) == -1)
		return -1;
	if ((svc_pid = fork()) == 0) {
		close(fds[0]);
		service(fds[1]);
	}
	close(fds[1]);
	if (read_bounded(fds[0], buf, sizeof(buf)) == -1 || buf[0] != 'R') {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return 0;
}

/* The calls logged since the last take(). */
static char *
take(void)
{
	uint8_t	*buf;
	size_t	 len;

	if (dns_read_file(calls, 1 << 20, &buf, &len, NULL) == -1)
		return strdup("");
	buf = realloc(buf, len + 1);
	buf[len] = '\0';
	if (truncate(calls, 0) == -1)
		diag("truncate: %s", strerror(errno));
	return (char *)buf;
}

static int
exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

static void
mkcfg(struct dns_config *c)
{
	memset(c, 0, sizeof(*c));
	/* "lo" and its index: the link exists, so revert is allowed. */
	strlcpy(c->ifname, "lo", sizeof(c->ifname));
	c->ifindex = if_nametoindex("lo");
	c->servers[0].af = AF_INET;
	inet_pton(AF_INET, "10.64.0.1", c->servers[0].addr);
	c->servers[1].af = AF_INET6;
	inet_pton(AF_INET6, "fd00::53", c->servers[1].addr);
	c->nservers = 2;
	strlcpy(c->domains[0], "example.com", sizeof(c->domains[0]));
	strlcpy(c->domains[1], "corp.lan", sizeof(c->domains[1]));
	c->ndomains = 2;
}

int
main(void)
{
	struct dns_config c;
	enum dns_backend used;
	char		 err[256], want[512], *got;
	const char	*daemon = NULL;
	size_t		 i;
	pid_t		 pid;
	int		 status, lo;

	/*
	 * Before libsystemd is mapped (dnsmgr when sdl_load() failed): an
	 * error, not a call through the table's NULL pointers.
	 */
	if ((pid = fork()) == 0) {
		struct dns_paths	np;
		struct dns_record	rec;

		dns_paths_default(&np);
		memset(&rec, 0, sizeof(rec));
		rec.backend = DNS_RESOLVED;
		rec.ifindex = 1;
		_exit(dns_resolved_restore(&np, &rec, NULL, err,
		    sizeof(err)) == -1 && strstr(err, "not loaded") != NULL ?
		    0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "libsystemd not loaded: the resolved backend fails, no crash");

	/* the code under test calls libsystemd through sdl */
	if (sdl_load(err, sizeof(err)) == -1)
		{ printf("Bail out! %s\n", err); exit(1); }

	for (i = 0; i < nitems(daemons); i++)
		if (access(daemons[i], X_OK) == 0) {
			daemon = daemons[i];
			break;
		}
	if (daemon == NULL)
		skip_all("dbus-daemon not installed");
	if ((lo = if_nametoindex("lo")) == 0)
		skip_all("no loopback interface");

	snprintf(base, sizeof(base), "/tmp/t_dns_resolved.XXXXXX");
	if (mkdtemp(base) == NULL)
		return 1;
	atexit(cleanup);
	snprintf(busconf, sizeof(busconf), "%s/bus.conf", base);
	snprintf(calls, sizeof(calls), "%s/calls", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	snprintf(backup, sizeof(backup), "%s/dns.backup", statedir);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", base);
	if (mkdir(statedir, 0700) == -1)
		return 1;
	if (start_bus(daemon) == -1)
		skip_all("could not start a private dbus-daemon");
	if (start_service() == -1) {
		printf("not ok 1 - fake resolve1 did not start\n");
		return 1;
	}
	diag("private bus at %s", address);

	if (symlink("/run/systemd/resolve/stub-resolv.conf", conf) == -1)
		return 1;
	memset(&paths, 0, sizeof(paths));
	paths.resolv_conf = conf;
	paths.statedir = statedir;
	paths.resolvconf_prog = NULL;
	paths.bus_address = address;

	/*
	 * dnsmgr's paths: the connection it made before the sandbox, or
	 * none; never a connect() inside it (seccomp kills it there).
	 */
	{
		struct dns_paths	op = paths;

		op.bus_only = 1;
		mkcfg(&c);
		is_int(dns_apply(&op, DNS_RESOLVED, &c, NULL, err,
		    sizeof(err)), -1, "bus_only, no bus: apply fails (%s)",
		    err);
		got = take();
		is_str(got, "", "bus_only, no bus: nothing reached the bus");
		free(got);
		ok(!exists(backup), "bus_only, no bus: no record left");
	}

	mkcfg(&c);
	used = DNS_NONE;
	is_int(dns_apply(&paths, DNS_AUTO, &c, &used, err, sizeof(err)), 0,
	    "apply: %s", err);
	is_int(used, DNS_RESOLVED, "auto picks resolved for the stub link");
	got = take();
	snprintf(want, sizeof(want),
	    "SetLinkDNS %d 2:10.64.0.1 10:fd00::53\n"
	    "SetLinkDomains %d .:1 example.com:0 corp.lan:0\n"
	    "SetLinkDefaultRoute %d 1\n", lo, lo, lo);
	is_str(got, want, "apply: DNS, routing + search domains, default "
	    "route, in that order");
	free(got);
	ok(exists(backup), "apply: record written");

	is_int(dns_restore(&paths, err, sizeof(err)), 0, "restore: %s", err);
	got = take();
	snprintf(want, sizeof(want), "RevertLink %d\n", lo);
	is_str(got, want, "restore: RevertLink on our link");
	free(got);
	ok(!exists(backup), "restore: record deleted");

	/* Crash while up: the next instance reverts the link. */
	if ((pid = fork()) == 0)
		_exit(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err,
		    sizeof(err)) == 0 ? 0 : 1);
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "crash: child applied and died");
	free(take());
	is_int(dns_recover(&paths, NULL, err, sizeof(err)), 0,
	    "crash: recover: %s", err);
	got = take();
	is_str(got, want, "crash: recover ran RevertLink");
	free(got);
	ok(!exists(backup), "crash: record deleted");

	/* After a crash the link is gone: its index may be someone else's. */
	strlcpy(c.ifname, "dnsgone0", sizeof(c.ifname));
	is_int(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err, sizeof(err)), 0,
	    "gone link: apply");
	free(take());
	is_int(dns_recover(&paths, NULL, err, sizeof(err)), 0,
	    "gone link: recover");
	got = take();
	is_str(got, "", "gone link: no RevertLink on a reused index");
	free(got);
	ok(!exists(backup), "gone link: record deleted");
	mkcfg(&c);

	/* resolved refuses: error, link reverted, no record. */
	c.ifindex = 99;
	is_int(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err, sizeof(err)), -1,
	    "refused: apply fails");
	ok(strstr(err, "no such link") != NULL, "refused: %s", err);
	got = take();
	is_str(got, "SetLinkDNS 99 2:10.64.0.1 10:fd00::53\nRevertLink 99\n",
	    "refused: reverted after the failed call");
	free(got);
	ok(!exists(backup), "refused: no record");
	mkcfg(&c);

	/* No index: refused before anything. */
	c.ifindex = 0;
	is_int(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err, sizeof(err)), -1,
	    "no ifindex: refused");
	mkcfg(&c);

	/* Bus unreachable: error, no record. */
	paths.bus_address = "unix:path=/nonexistent/dns-test-bus";
	is_int(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err, sizeof(err)), -1,
	    "no bus: apply fails");
	ok(!exists(backup), "no bus: no record");
	paths.bus_address = address;

	/* Search domains only as given; no servers is allowed. */
	c.nservers = 0;
	c.ndomains = 0;
	is_int(dns_apply(&paths, DNS_RESOLVED, &c, NULL, err, sizeof(err)), 0,
	    "empty: apply");
	got = take();
	snprintf(want, sizeof(want), "SetLinkDNS %d\nSetLinkDomains %d .:1\n"
	    "SetLinkDefaultRoute %d 1\n", lo, lo, lo);
	is_str(got, want, "empty: just the routing domain");
	free(got);
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "empty: restore");
	free(take());

	return done_testing();
}

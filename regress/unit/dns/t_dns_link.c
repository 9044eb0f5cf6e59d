/*
 * t_dns_link.c -- the real dnsmgr (vpnd-dnsmgr -P dnsmgr, next to this test's
 * build directory), with this test playing both the parent and netmgr:
 * an IMSG_DNS_SET for a link that is not vpnd's own -- another name, or
 * vpnd's name with another index -- is refused before anything is
 * touched; vpnd's own link at its real index is served, resolv.conf
 * coming from the "parent" as a descriptor (IMSG_DNS_OPEN) and written in
 * place; IMSG_DNS_RESTORE puts it back byte for byte.
 * Needs root (dnsmgr chroots and becomes _vpnddns) and that user.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"
#include "imsg.h"
#include "tap.h"
#include "vpnd.h"

#define T_DNS_FILE	3		/* enum dns_backend */

static char		 base[64], conf[128], statedir[128];
static struct imsgbuf	 parent, netmgr;
static pid_t		 child = -1;
static int		 nopen;
static const char	 orig[] = "# the host's\nnameserver 192.0.2.53\n";

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
cleanup(void)
{
	int	 st;

	if (child > 0) {
		kill(child, SIGKILL);
		(void)waitpid(child, &st, 0);
	}
	if (base[0] != '\0')
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Serves what dnsmgr asks of the parent until a message from netmgr's
 * side arrives; returns it (imsg_free it), or -1 after 10 s. */
static int
next_result(struct imsg *out)
{
	struct pollfd		 pfd[2];
	struct imsg		 imsg;
	struct imsg_dns_file	 f;
	char			 target[PATH_MAX];
	int			 fd, n, i, op;

	for (;;) {
		while (imsgbuf_get(&parent, &imsg) > 0) {
			if (imsg_get_type(&imsg) == IMSG_DNS_OPEN &&
			    imsg_get_data(&imsg, &op, sizeof(op)) == 0) {
				nopen++;
				memset(&f, 0, sizeof(f));
				if (resolv_open(conf, op, &fd, target,
				    sizeof(target), &f.created) == -1) {
					f.err = errno;
					fd = -1;
				}
				imsg_compose(&parent, IMSG_DNS_FILE, 0, 0, fd,
				    &f, sizeof(f));
				(void)imsgbuf_flush(&parent);
			}
			imsg_free(&imsg);
		}
		if (imsgbuf_get(&netmgr, out) > 0)
			return 0;
		pfd[0].fd = parent.fd;
		pfd[1].fd = netmgr.fd;
		pfd[0].events = pfd[1].events = POLLIN;
		if ((n = poll(pfd, 2, 10000)) <= 0)
			return -1;
		for (i = 0; i < 2; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP) &&
			    imsgbuf_read(i == 0 ? &parent : &netmgr) <= 0)
				return -1;
	}
}

/* One IMSG_DNS_SET; the result's ok, its message in msg. */
static int
dns_set(const char *ifname, int ifindex, char *msg, size_t len)
{
	struct imsg_dns		 d;
	struct imsg_result	 r;
	struct imsg		 imsg;

	memset(&d, 0, sizeof(d));
	strlcpy(d.ifname, ifname, sizeof(d.ifname));
	d.ifindex = ifindex;
	d.servers[0].af = AF_INET;
	d.servers[0].plen = 32;
	inet_pton(AF_INET, "10.64.0.1", d.servers[0].addr);
	d.nservers = 1;
	imsg_compose(&netmgr, IMSG_DNS_SET, 0, 0, -1, &d, sizeof(d));
	(void)imsgbuf_flush(&netmgr);
	if (next_result(&imsg) == -1)
		return -2;
	if (imsg_get_type(&imsg) != IMSG_DNS_RESULT ||
	    imsg_get_data(&imsg, &r, sizeof(r)) == -1) {
		imsg_free(&imsg);
		return -3;
	}
	imsg_free(&imsg);
	r.msg[sizeof(r.msg) - 1] = '\0';
	strlcpy(msg, r.msg, len);
	return r.ok;
}

static int
same_as(const char *path, const char *want)
{
	char	 buf[4096];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0;
}

int
main(void)
{
	struct vpnd_env		 env;
	struct passwd		*pw;
	struct imsg		 imsg;
	struct imsg_result	 r;
	char			 self[PATH_MAX], vpnd[PATH_MAX + 32], msg[256];
	char			 dir[160], *slash;
	unsigned int		 lo;
	ssize_t			 n;
	int			 sp[2], np[2], fd, i;

	if (geteuid() != 0)
		skip_all("needs root: dnsmgr chroots and changes its user");
	if ((pw = getpwnam(VPND_DNS_USER)) == NULL)
		skip_all("no user %s (scripts/mkuser.sh)", VPND_DNS_USER);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
		skip_all("readlink /proc/self/exe");
	self[n] = '\0';
	/*
	 * <build>/regress/t_dns_link -> the normal build's dnsmgr, <build>/..
	 * /build/vpnd-dnsmgr, whichever build this test is: this test's side is the
	 * one under the sanitizers, and an ASan daemon (make sanitize leaves
	 * one in build-asan/) does not run under dnsmgr's seccomp list.
	 */
	for (i = 0; i < 2 && (slash = strrchr(self, '/')) != NULL; i++)
		*slash = '\0';
	snprintf(vpnd, sizeof(vpnd), "%s/../build/vpnd-dnsmgr", self);
	if (access(vpnd, X_OK) == -1)
		skip_all("no vpnd-dnsmgr in %s/../build: make", self);
	if ((lo = if_nametoindex("lo")) == 0)
		skip_all("no lo");

	snprintf(base, sizeof(base), "/tmp/t_dns_link.XXXXXX");
	if (mkdtemp(base) == NULL)
		return 1;
	atexit(cleanup);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	snprintf(dir, sizeof(dir), "%s/dns", statedir);
	if (mkdir(statedir, 0700) == -1 || mkdir(dir, 0700) == -1 ||
	    chown(dir, pw->pw_uid, pw->pw_gid) == -1)
		return 1;
	if ((fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    write(fd, orig, strlen(orig)) != (ssize_t)strlen(orig))
		return 1;
	close(fd);

	/* dnsmgr: the parent's channel on fd 3, as vpnd starts it */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, np) == -1)
		return 1;
	if ((child = fork()) == 0) {
		if (dup2(sp[1], VPND_PARENT_FD) == -1)
			_exit(127);
		closefrom(VPND_PARENT_FD + 1);
		execl(vpnd, "vpnd", "-P", "dnsmgr", (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	if (imsgbuf_init(&parent, sp[0]) == -1 ||
	    imsgbuf_init(&netmgr, np[0]) == -1)
		return 1;
	imsgbuf_allow_fdpass(&parent);

	memset(&env, 0, sizeof(env));
	strlcpy(env.ifname, "lo", sizeof(env.ifname));
	strlcpy(env.statedir, statedir, sizeof(env.statedir));
	strlcpy(env.resolvconf, conf, sizeof(env.resolvconf));
	env.dns_backend = T_DNS_FILE;
	env.time_scale = 1;
	imsg_compose(&parent, IMSG_ENV, 0, 0, -1, &env, sizeof(env));
	imsg_compose(&parent, IMSG_SOCKET_IPC, PROC_NETMGR, 0, np[1], NULL,
	    0);
	imsg_compose(&parent, IMSG_START, 0, 0, -1, NULL, 0);
	(void)imsgbuf_flush(&parent);

	/* a restore with nothing applied: answered once recovery is done */
	imsg_compose(&netmgr, IMSG_DNS_RESTORE, 0, 0, -1, NULL, 0);
	(void)imsgbuf_flush(&netmgr);
	memset(&r, 0, sizeof(r));
	ok(next_result(&imsg) == 0 && imsg_get_type(&imsg) ==
	    IMSG_DNS_RESULT && imsg_get_data(&imsg, &r, sizeof(r)) == 0 &&
	    r.ok, "dnsmgr is up: a restore of nothing succeeds");
	imsg_free(&imsg);

	/* vpnd's name, the wrong one; then the right name, a wrong index */
	nopen = 0;
	is_int(dns_set("eth9", lo, msg, sizeof(msg)), 0,
	    "another link's name: refused");
	ok(strstr(msg, "refused") != NULL, "and says so: %s", msg);
	is_int(dns_set("lo", lo + 1000, msg, sizeof(msg)), 0,
	    "vpnd's name with another index: refused");
	ok(strstr(msg, "refused") != NULL, "and says so: %s", msg);
	is_int(nopen, 0, "resolv.conf was not even asked for");
	ok(same_as(conf, orig), "resolv.conf untouched");

	/* vpnd's own link */
	is_int(dns_set("lo", lo, msg, sizeof(msg)), 1,
	    "vpnd's link at its index: applied (%s)", msg);
	ok(nopen > 0, "resolv.conf came from the parent as a descriptor");
	ok(!same_as(conf, orig), "resolv.conf now holds the tunnel's");

	imsg_compose(&netmgr, IMSG_DNS_RESTORE, 0, 0, -1, NULL, 0);
	(void)imsgbuf_flush(&netmgr);
	memset(&r, 0, sizeof(r));
	ok(next_result(&imsg) == 0 && imsg_get_type(&imsg) ==
	    IMSG_DNS_RESULT && imsg_get_data(&imsg, &r, sizeof(r)) == 0 &&
	    r.ok, "restore");
	imsg_free(&imsg);
	ok(same_as(conf, orig), "resolv.conf byte-identical again");

	/* dnsmgr ends when the parent's channel closes */
	imsgbuf_clear(&parent);
	close(sp[0]);
	for (i = 0; i < 100; i++) {
		if (waitpid(child, &fd, WNOHANG) == child)
			break;
		poll(NULL, 0, 50);
	}
	ok(i < 100 && WIFEXITED(fd) && WEXITSTATUS(fd) == 0,
	    "dnsmgr exits 0 when the parent goes");
	if (i < 100)
		child = -1;
	return done_testing();
}

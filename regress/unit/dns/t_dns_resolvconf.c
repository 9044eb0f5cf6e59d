/*
 * t_dns_resolvconf.c -- the resolvconf backend against a fake resolvconf
 * (a shell script that records its arguments and stdin): "-a IFNAME" with
 * our lines on apply, "-d IFNAME" on restore and on crash recovery, and a
 * failing or hanging helper leaves no record behind.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"
#include "dns.h"
#include "dns_local.h"
#include "tap.h"

static char	 base[64], prog[128], argsf[128], stdinf[128], backup[160];
static char	 pidf[128];
static char	 statedir[128], conf[128];
static struct dns_paths paths;

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
cleanup(void)
{
	if (base[0] != '\0')
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int	 fd;
	size_t	 len = strlen(text);

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	fchmod(fd, mode);
	close(fd);
}

static char *
slurp(const char *path)
{
	uint8_t	*buf;
	size_t	 len;

	if (dns_read_file(path, 1 << 20, &buf, &len, NULL) == -1)
		return strdup("");
	buf = realloc(buf, len + 1);
	buf[len] = '\0';
	return (char *)buf;
}

static int
exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

/*
 * The fake: logs "$*", its pid and stdin, then exits with status, or
 * (hang) becomes a sleep that outlives any test.
 */
static void
fake(int status, int hang)
{
	char	 s[1024];

	snprintf(s, sizeof(s),
	    "#!/bin/sh\n"
	    "echo \"$*\" >> '%s'\n"
	    "echo $$ >> '%s'\n"
	    "cat >> '%s'\n"
	    "%s"
	    "exit %d\n", argsf, pidf, stdinf, hang ? "exec sleep 600\n" : "",
	    status);
	put(prog, s, 0755);
	unlink(argsf);
	unlink(pidf);
	unlink(stdinf);
}

/* Every pid the fake recorded is gone (killed and reaped); -1 if none. */
static int
fakes_gone(void)
{
	FILE	*fp;
	long	 pid;
	int	 n = 0, alive = 0;

	if ((fp = fopen(pidf, "r")) == NULL)
		return -1;
	while (fscanf(fp, "%ld", &pid) == 1) {
		n++;
		if (pid <= 1 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			alive++;
	}
	fclose(fp);
	return n == 0 ? -1 : alive == 0;
}

/* No child of ours is left, not even a zombie. */
static int
no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

static void
mkcfg(struct dns_config *c)
{
	memset(c, 0, sizeof(*c));
	strlcpy(c->ifname, "dnsrc0", sizeof(c->ifname));
	c->ifindex = 7;
	c->servers[0].af = AF_INET;
	inet_pton(AF_INET, "10.64.0.1", c->servers[0].addr);
	c->servers[1].af = AF_INET6;
	inet_pton(AF_INET6, "fd00::53", c->servers[1].addr);
	c->nservers = 2;
	strlcpy(c->domains[0], "example.com", sizeof(c->domains[0]));
	c->ndomains = 1;
}

int
main(void)
{
	struct dns_config c;
	enum dns_backend used;
	char		 err[256], *a, *in;
	pid_t		 pid;
	int		 status;

	plan(35);
	snprintf(base, sizeof(base), "/tmp/t_dns_resolvconf.XXXXXX");
	if (mkdtemp(base) == NULL)
		return 1;
	atexit(cleanup);
	snprintf(prog, sizeof(prog), "%s/resolvconf", base);
	snprintf(argsf, sizeof(argsf), "%s/args", base);
	snprintf(stdinf, sizeof(stdinf), "%s/stdin", base);
	snprintf(pidf, sizeof(pidf), "%s/pids", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	snprintf(backup, sizeof(backup), "%s/dns.backup", statedir);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", base);
	if (mkdir(statedir, 0700) == -1)
		return 1;
	put(conf, "nameserver 192.0.2.1\n", 0644);
	memset(&paths, 0, sizeof(paths));
	paths.resolv_conf = conf;
	paths.statedir = statedir;
	paths.resolvconf_prog = prog;

	fake(0, 0);
	mkcfg(&c);
	used = DNS_NONE;
	is_int(dns_apply(&paths, DNS_AUTO, &c, &used, err, sizeof(err)), 0,
	    "apply (auto): %s", err);
	is_int(used, DNS_RESOLVCONF, "auto picks resolvconf");
	a = slurp(argsf);
	is_str(a, "-a tun.dnsrc0\n", "apply ran -a IFNAME");
	free(a);
	in = slurp(stdinf);
	is_str(in, "nameserver 10.64.0.1\nnameserver fd00::53\n"
	    "search example.com\n", "stdin carried our lines");
	free(in);
	ok(exists(backup), "record written");
	in = slurp(conf);
	is_str(in, "nameserver 192.0.2.1\n", "resolv.conf itself untouched");
	free(in);

	unlink(argsf);
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "restore: %s", err);
	a = slurp(argsf);
	is_str(a, "-d tun.dnsrc0\n", "restore ran -d IFNAME");
	free(a);
	ok(!exists(backup), "record deleted");

	/* A crash while up: the next instance runs -d. */
	fake(0, 0);
	if ((pid = fork()) == 0) {
		_exit(dns_apply(&paths, DNS_RESOLVCONF, &c, NULL, err,
		    sizeof(err)) == 0 ? 0 : 1);
	}
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "crash: child applied and died");
	unlink(argsf);
	is_int(dns_recover(&paths, NULL, err, sizeof(err)), 0,
	    "crash: recover");
	a = slurp(argsf);
	is_str(a, "-d tun.dnsrc0\n", "crash: recover ran -d IFNAME");
	free(a);
	ok(!exists(backup), "crash: record deleted");

	/* A failing helper: error, cleanup attempted, no record. */
	fake(3, 0);
	is_int(dns_apply(&paths, DNS_RESOLVCONF, &c, NULL, err, sizeof(err)),
	    -1, "failing helper: apply fails");
	ok(strstr(err, "exit status 3") != NULL, "failing helper: %s", err);
	a = slurp(argsf);
	is_str(a, "-a tun.dnsrc0\n-d tun.dnsrc0\n", "failing helper: -a then -d");
	free(a);
	ok(!exists(backup), "failing helper: no record");

	/* Explicit resolvconf without the program. */
	paths.resolvconf_prog = NULL;
	is_int(dns_apply(&paths, DNS_RESOLVCONF, &c, NULL, err, sizeof(err)),
	    -1, "no program: apply fails");
	ok(!exists(backup), "no program: no record");
	paths.resolvconf_prog = prog;

	/* Option injection through the interface name is refused. */
	fake(0, 0);
	strlcpy(c.ifname, "-x", sizeof(c.ifname));
	is_int(dns_apply(&paths, DNS_RESOLVCONF, &c, NULL, err, sizeof(err)),
	    -1, "ifname starting with - refused");
	ok(!exists(argsf), "helper never ran");
	mkcfg(&c);

	/* No record: restore does not run the helper. */
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "restore: nothing");
	ok(!exists(argsf), "restore without record runs nothing");

	/*
	 * A helper that hangs is killed at the deadline (shortened here to
	 * a second, ample for the fake to record itself before it sleeps):
	 * the apply fails, its clean-up "-d" hangs and is killed too, and
	 * neither a record nor a process is left.
	 */
	fake(0, 1);
	paths.resolvconf_ms = 1000;
	is_int(dns_apply(&paths, DNS_RESOLVCONF, &c, NULL, err,
	    sizeof(err)), -1, "hanging helper: apply fails");
	ok(strstr(err, strerror(ETIMEDOUT)) != NULL,
	    "hanging helper: the error names the deadline: %s", err);
	a = slurp(argsf);
	is_str(a, "-a tun.dnsrc0\n-d tun.dnsrc0\n",
	    "hanging helper: -a then -d, each run once");
	free(a);
	ok(!exists(backup), "hanging helper: no record");
	is_int(fakes_gone(), 1, "hanging helper: both runs killed");
	ok(no_children(), "hanging helper: no child process left");
	paths.resolvconf_ms = 0;

	/* The same through the call the parent makes for dnsmgr. */
	fake(0, 1);
	is_int(resolvconf_run(prog, "-a", "tun.dnsrc0", "x\n", 2, 1000, err,
	    sizeof(err)), -1, "resolvconf_run: a hanging helper fails");
	ok(strstr(err, strerror(ETIMEDOUT)) != NULL,
	    "resolvconf_run: the error names the deadline: %s", err);
	is_int(fakes_gone(), 1, "resolvconf_run: the helper was killed");
	ok(no_children(), "resolvconf_run: no child process left");

	/* A helper that finishes in time is reaped and succeeds. */
	fake(0, 0);
	is_int(resolvconf_run(prog, "-d", "tun.dnsrc0", "", 0,
	    RESOLVCONF_TIMEOUT_MS, err, sizeof(err)), 0, "resolvconf_run: a prompt helper succeeds");
	ok(no_children(), "resolvconf_run: and is reaped");
	return done_testing();
}

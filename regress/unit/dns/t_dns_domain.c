/*
 * t_dns_domain.c -- the search domains the parent accepts from dnsmgr for
 * resolvconf(8), which runs as root and is a shell script: only host-name
 * characters (letters, digits, '-', '.', '_', and a leading '~' for a
 * routing domain), the same rule the control protocol and wg-quick files
 * already apply.  A compromised netmgr or dnsmgr must not get "$(...)",
 * backquotes, quotes, globs or redirections to that shell: resolvconf
 * implementations have built shell code from the search list and eval'd
 * it.  The end of the test runs the parent's pipeline (check, the lines,
 * resolvconf_run) against such a script in a temp dir.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"
#include "tap.h"

static char	 base[64];

static void
cleanup(void)
{
	char	 p[128];

	if (base[0] == '\0')
		return;
	snprintf(p, sizeof(p), "%s/rc", base);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/pwned", base);
	(void)unlink(p);
	(void)rmdir(base);
}

/* d with control and non-ASCII bytes as '?', for a TAP line. */
static const char *
shown(const char *d)
{
	static char	 buf[CONF_DOMAIN_LEN];
	size_t		 i;

	for (i = 0; d[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = d[i] > ' ' && d[i] < 0x7f ? d[i] : '?';
	buf[i] = '\0';
	return buf;
}

static int
accepted(const char *d)
{
	char	 buf[CONF_DOMAIN_LEN];

	memset(buf, 0, sizeof(buf));
	(void)strlcpy(buf, d, sizeof(buf));
	return dnsconf_domain_ok(buf, sizeof(buf));
}

int
main(void)
{
	static const char *const good[] = {
		"example.com", "corp.example", "a", "x-y.z", "_srv.example",
		"~example.com", "~.", "EXAMPLE.Com", "xn--bcher-kva.example",
		"example.com.",
	};
	static const char *const bad[] = {
		"x$(touch${IFS}/tmp/p)", "x`id`", "x'y", "x\"y", "x%s",
		"x|y", "x&y", "x>y", "x<y", "x*", "x?", "x[a]", "x=y",
		"x,y", "x/y", "x:y", "x!y", "x{a,b}", "~", "", "~~x",
		"x y", "x\ty", "x\ny", "x;y", "x#y", "x\\y", "x\x7f",
		"x\xc3\xa9",
	};
	char		 conf[512], err[256], rc[128], pwned[128];
	char		 domains[1][CONF_DOMAIN_LEN];
	struct prefix	 ns;
	size_t		 i, len = 0;
	int		 fd;
	static const char script[] =
	    "#!/bin/sh\n"
	    "# how resolvconf(8) implementations have read the list\n"
	    "while read -r k v; do\n"
	    "\t[ \"$k\" = search ] && S=$v\n"
	    "done\n"
	    "eval \"NEWSEARCH=\\\"$S\\\"\"\n"
	    "exit 0\n";

	plan(42);
	for (i = 0; i < nitems(good); i++)
		ok(accepted(good[i]), "accepted: \"%s\"", shown(good[i]));
	for (i = 0; i < nitems(bad); i++)
		ok(!accepted(bad[i]), "refused: \"%s\"", shown(bad[i]));
	{
		char	 full[CONF_DOMAIN_LEN];

		memset(full, 'a', sizeof(full));
		ok(!dnsconf_domain_ok(full, sizeof(full)),
		    "refused: no NUL within the field");
	}

	/* The parent's pipeline against an eval'ing resolvconf. */
	snprintf(base, sizeof(base), "/tmp/t_dns_domain.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	snprintf(rc, sizeof(rc), "%s/rc", base);
	snprintf(pwned, sizeof(pwned), "%s/pwned", base);
	if ((fd = open(rc, O_WRONLY | O_CREAT | O_EXCL, 0700)) == -1 ||
	    write(fd, script, sizeof(script) - 1) !=
	    (ssize_t)(sizeof(script) - 1) || close(fd) == -1) {
		perror(rc);
		return 1;
	}
	memset(&ns, 0, sizeof(ns));
	ns.af = AF_INET;
	ns.addr[0] = 10;
	ns.addr[3] = 1;
	ns.plen = 32;
	memset(domains, 0, sizeof(domains));
	snprintf(domains[0], sizeof(domains[0]), "x$(touch${IFS}%s)", pwned);
	if (dnsconf_domain_ok(domains[0], sizeof(domains[0])) &&
	    dnsconf_lines(&ns, 1, (const char (*)[CONF_DOMAIN_LEN])domains,
	    1, conf, sizeof(conf), &len) == 0)
		(void)resolvconf_run(rc, "-a", "tun.vpn0", conf, len, 5000,
		    err, sizeof(err));
	ok(access(pwned, F_OK) == -1 && errno == ENOENT,
	    "a \"$(...)\" domain never reaches resolvconf's shell");
	err[0] = '\0';
	/* The same script with a fair list runs. */
	snprintf(domains[0], sizeof(domains[0]), "corp.example");
	len = 0;
	ok(dnsconf_domain_ok(domains[0], sizeof(domains[0])) &&
	    dnsconf_lines(&ns, 1, (const char (*)[CONF_DOMAIN_LEN])domains,
	    1, conf, sizeof(conf), &len) == 0 &&
	    resolvconf_run(rc, "-a", "tun.vpn0", conf, len, 5000, err,
	    sizeof(err)) == 0, "a fair list goes through (%s)", err);
	return done_testing();
}

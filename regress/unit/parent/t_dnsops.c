/*
 * t_dnsops.c -- the privilege boundary with dnsmgr: what the root parent
 * does for it (dnsops_dispatch), driven over a socketpair the way a
 * compromised dnsmgr could drive it.
 *
 * resolv.conf: a descriptor for the configured file only; a removal only
 * of the file the parent itself created (noted in its own state
 * directory, so also after a restart), never of the host's own file
 * that dnsmgr has emptied through its descriptor.  resolvconf(8), a root
 * shell script here standing in for it: run with the parent's record
 * name and the parent's text; search domains with shell syntax refused
 * before anything runs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"
#include "imsgev.h"
#include "parent.h"
#include "vpnd.h"
#include "tap.h"

static struct imsgev	 par;		/* the parent's end */
static struct imsgbuf	 dm;		/* dnsmgr's end */
static struct vpnd_env	 env;
static char		 base[] = "/tmp/vpnd-t-dnsops.XXXXXX";
static char		 conf[256], note[256], rc[256], ran[256];

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
cleanup(void)
{
	(void)nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	(void)unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    close(fd) == -1) {
		perror(path);
		exit(1);
	}
}

static void
setup(void)
{
	static const char script[] =
	    "#!/bin/sh\n"
	    "# records its arguments and its input, evals the search list\n"
	    "echo \"$*\" >\"$0.ran\"\n"
	    "cat >>\"$0.ran\"\n"
	    "S=$(sed -n 's/^search //p' \"$0.ran\")\n"
	    "eval \"NEWSEARCH=\\\"$S\\\"\"\n"
	    "exit 0\n";
	int	 sv[2];

	if (mkdtemp(base) == NULL)
		abort();
	atexit(cleanup);
	memset(&env, 0, sizeof(env));
	snprintf(env.statedir, sizeof(env.statedir), "%s", base);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", base);
	snprintf(env.resolvconf, sizeof(env.resolvconf), "%s", conf);
	snprintf(env.ifname, sizeof(env.ifname), "vpn0");
	snprintf(note, sizeof(note), "%s/%s", base, DNSOPS_CREATED_NAME);
	snprintf(rc, sizeof(rc), "%s/rc", base);
	snprintf(ran, sizeof(ran), "%s/rc.ran", base);
	snprintf(env.resolvconf_prog, sizeof(env.resolvconf_prog), "%s", rc);
	put(rc, script, 0700);
	event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (imsgev_init(&par, sv[0], PROC_DNSMGR, true, NULL, NULL,
	    NULL) == -1 || imsgbuf_init(&dm, sv[1]) == -1)
		abort();
	imsgbuf_allow_fdpass(&dm);
}

/* dnsmgr sends one message; the parent reads and dispatches it. */
static void
ask(uint32_t type, const void *data, size_t len)
{
	struct imsg	 imsg;
	int		 n = 0;

	if (imsg_compose(&dm, type, 0, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&dm) == -1 || imsgbuf_read(&par.ibuf) == -1)
		abort();
	while (imsg_get(&par.ibuf, &imsg) > 0) {
		if (dnsops_dispatch(&par, &env, &imsg) == -1)
			abort();
		imsg_free(&imsg);
		n++;
	}
	if (n != 1)
		abort();
	imsgev_flush(&par);
}

/* dnsmgr reads the answer of type want: its data, and its fd. */
static int
answer(uint32_t want, void *data, size_t len)
{
	struct imsg	 imsg;
	int		 fd;

	if (imsgbuf_read(&dm) <= 0 || imsg_get(&dm, &imsg) <= 0 ||
	    imsg_get_type(&imsg) != want ||
	    imsg_get_data(&imsg, data, len) == -1)
		abort();
	fd = imsg_get_fd(&imsg);
	imsg_free(&imsg);
	return fd;
}

static int
file_op(int op, struct imsg_dns_file *f)
{
	ask(IMSG_DNS_OPEN, &op, sizeof(op));
	return answer(IMSG_DNS_FILE, f, sizeof(*f));
}

static bool
exists(const char *p)
{
	struct stat	 st;

	return lstat(p, &st) == 0;
}

static void
test_remove(void)
{
	struct imsg_dns_file	 f;
	int			 fd;

	/* The host's own file, emptied by dnsmgr through its descriptor. */
	put(conf, "nameserver 192.0.2.1\n", 0644);
	fd = file_op(RESOLV_OPEN, &f);
	ok(fd != -1 && f.created == 0, "the host's resolv.conf is handed "
	    "over, not created");
	ok(fd != -1 && ftruncate(fd, 0) == 0, "dnsmgr empties it");
	if (fd != -1)
		close(fd);
	fd = file_op(RESOLV_REMOVE, &f);
	ok(fd == -1 && f.err == EPERM, "its removal is refused (%s)",
	    strerror(f.err));
	ok(exists(conf), "the host's resolv.conf is still there");
	fd = file_op(RESOLV_CREATE, &f);
	ok(fd != -1 && f.created == 0, "create on an existing file: the "
	    "same file, not created");
	if (fd != -1)
		close(fd);
	fd = file_op(RESOLV_REMOVE, &f);
	ok(fd == -1 && f.err == EPERM && exists(conf),
	    "still not removable after a create that found it");

	/* A file the parent created: removable, once emptied. */
	(void)unlink(conf);
	fd = file_op(RESOLV_CREATE, &f);
	ok(fd != -1 && f.created == 1, "a missing resolv.conf is created");
	ok(exists(note), "and the parent notes it in its state directory");
	ok(fd != -1 && write(fd, "x\n", 2) == 2, "dnsmgr writes it");
	if (fd != -1)
		close(fd);
	fd = file_op(RESOLV_REMOVE, &f);
	ok(fd == -1 && f.err == ENOTEMPTY && exists(conf),
	    "not removed while it has content (%s)", strerror(f.err));
	if ((fd = open(conf, O_WRONLY | O_TRUNC)) != -1)
		close(fd);
	fd = file_op(RESOLV_REMOVE, &f);
	ok(fd == -1 && f.err == 0 && !exists(conf),
	    "removed once empty (%s)", strerror(f.err));
	ok(!exists(note), "and the note goes with it");

	/* Someone else's file put where ours was: not ours any more. */
	fd = file_op(RESOLV_CREATE, &f);
	if (fd != -1)
		close(fd);
	{
		char	 other[300];

		/* as programs replace it: a new file renamed over it */
		snprintf(other, sizeof(other), "%s.new", conf);
		put(other, "", 0644);
		if (rename(other, conf) == -1)
			abort();
	}
	fd = file_op(RESOLV_REMOVE, &f);
	ok(fd == -1 && f.err == EPERM && exists(conf),
	    "another file in its place is left alone (%s)", strerror(f.err));
	(void)unlink(note);
	(void)unlink(conf);
}

static void
rc_add(const char *domain, struct imsg_result *r)
{
	struct imsg_dns_rc	 q;

	memset(&q, 0, sizeof(q));
	q.op = DNS_RC_ADD;
	snprintf(q.dns.ifname, sizeof(q.dns.ifname), "eth0");
	q.dns.nservers = 1;
	q.dns.servers[0].af = AF_INET;
	q.dns.servers[0].addr[0] = 10;
	q.dns.servers[0].addr[3] = 1;
	q.dns.servers[0].plen = 32;
	q.dns.ndomains = 1;
	snprintf(q.dns.domains[0], sizeof(q.dns.domains[0]), "%s", domain);
	ask(IMSG_DNS_RESOLVCONF, &q, sizeof(q));
	(void)answer(IMSG_DNS_RC_RESULT, r, sizeof(*r));
	r->msg[sizeof(r->msg) - 1] = '\0';
}

static void
test_resolvconf(void)
{
	struct imsg_result	 r;
	char			 bad[256], pwned[192], buf[512];
	ssize_t			 n;
	int			 fd;

	rc_add("corp.example", &r);
	ok(r.ok, "resolvconf -a with a fair list (%s)", r.msg);
	buf[0] = '\0';
	if ((fd = open(ran, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	is_str(buf, "-a tun.vpn0\nnameserver 10.0.0.1\nsearch corp.example\n",
	    "the parent's record name, not dnsmgr's interface, and its text");

	snprintf(pwned, sizeof(pwned), "%s/pwned", base);
	snprintf(bad, sizeof(bad), "x$(touch${IFS}%s)", pwned);
	(void)unlink(ran);
	rc_add(bad, &r);
	ok(!r.ok, "a \"$(...)\" search domain is refused (%s)", r.msg);
	ok(!exists(ran), "resolvconf did not run");
	ok(!exists(pwned), "and nothing in the domain ran");
	rc_add("x`id`", &r);
	ok(!r.ok && !exists(ran), "backquotes are refused");
	rc_add("x'y", &r);
	ok(!r.ok && !exists(ran), "quotes are refused");
}

int
main(void)
{
	plan(20);
	setup();
	test_remove();
	test_resolvconf();
	return done_testing();
}

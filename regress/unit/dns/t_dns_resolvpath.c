/*
 * t_dns_resolvpath.c -- the parent opens resolv.conf for dnsmgr as root,
 * following symlinks (resolv.conf often is one), and hands dnsmgr the
 * descriptor to write.  Another user who owns a directory on the way (a
 * daemon's runtime directory, where the real file may live) must not be
 * able to point that open at a file of root's or at a device: a symlink
 * or a hard link planted there is refused, the plain cases still work.
 * Everything happens in a temp dir with files this test made; needs root
 * (to make "nobody"'s directory).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dnsconf.h"
#include "tap.h"

#define NOBODY	65534

static char	 base[64];

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
cleanup(void)
{
	if (base[0] != '\0')
		(void)nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
at(const char *rel)
{
	static char	 bufs[4][256];
	static int	 i;
	char		*b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", base, rel);
	return b;
}

static void
put(const char *rel, const char *text, mode_t mode, uid_t uid)
{
	int	 fd;

	(void)unlink(at(rel));
	if ((fd = open(at(rel), O_WRONLY | O_CREAT | O_EXCL, mode)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1 || fchown(fd, uid, uid) == -1) {
		perror(rel);
		exit(1);
	}
	close(fd);
}

static void
link_as(const char *target, const char *rel, uid_t uid)
{
	(void)unlink(at(rel));
	if (symlink(target, at(rel)) == -1 ||
	    lchown(at(rel), uid, uid) == -1) {
		perror(rel);
		exit(1);
	}
}

/* 1 if resolv_open gives a descriptor to the file rel, else 0 (errno). */
static int
opens(const char *conf, const char *rel, int *err)
{
	struct stat	 a, b;
	char		 target[256];
	int		 fd, created, r;

	*err = 0;
	if (resolv_open(at(conf), RESOLV_OPEN, &fd, target, sizeof(target),
	    &created) == -1) {
		*err = errno;
		return 0;
	}
	r = fstat(fd, &a) == 0 && stat(at(rel), &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(fd);
	return r;
}

static void
opened(const char *conf, const char *rel, const char *what)
{
	int	 err, r;

	r = opens(conf, rel, &err);
	ok(r, "%s (%s)", what, r ? "opened" : strerror(err));
}

/* Refused, with errno want (or any errno if want is 0). */
static void
refused(const char *conf, const char *rel, int want, const char *what)
{
	int	 err, r;

	r = opens(conf, rel, &err);
	ok(!r && err != 0 && (want == 0 || err == want), "%s (%s)", what,
	    r ? "opened" : strerror(err));
}

int
main(void)
{
	if (geteuid() != 0) {
		skip_all("needs root to make another user's directory");
		return 0;
	}
	snprintf(base, sizeof(base), "/tmp/t_dns_resolvpath.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	/* etc/ and run/ are root's; u/ is a daemon's (nobody's) own. */
	if (chmod(base, 0755) == -1 || mkdir(at("etc"), 0755) == -1 ||
	    mkdir(at("run"), 0755) == -1 || mkdir(at("u"), 0755) == -1 ||
	    chown(at("u"), NOBODY, NOBODY) == -1 ||
	    mkdir(at("open"), 0777) == -1 || chmod(at("open"), 0777) == -1 ||
	    mkdir(at("sticky"), 01777) == -1 ||
	    chmod(at("sticky"), 01777) == -1) {
		perror("mkdir");
		return 1;
	}
	put("etc/shadow", "root:$6$secret:19000::::::\n", 0600, 0);
	put("etc/plain.conf", "nameserver 192.0.2.1\n", 0644, 0);
	put("run/r.conf", "nameserver 192.0.2.2\n", 0644, 0);
	put("u/stub", "nameserver 127.0.0.53\n", 0644, NOBODY);

	/* What has to keep working. */
	opened("etc/plain.conf", "etc/plain.conf",
	    "a plain root-owned file opens");
	link_as("../run/r.conf", "etc/rel.conf", 0);
	opened("etc/rel.conf", "run/r.conf",
	    "a relative symlink to a root file in a root directory opens");
	link_as(at("run/r.conf"), "etc/abs.conf", 0);
	link_as("abs.conf", "etc/chain.conf", 0);
	opened("etc/chain.conf", "run/r.conf",
	    "a chain of root's symlinks opens");
	link_as("../u/stub", "etc/stub.conf", 0);
	opened("etc/stub.conf", "u/stub",
	    "a daemon's own file in its own directory opens");
	put("sticky/root.conf", "nameserver 192.0.2.3\n", 0644, 0);
	opened("sticky/root.conf", "sticky/root.conf",
	    "root's file in a sticky world-writable directory opens");

	/* The daemon swaps its file for a symlink to root's shadow. */
	link_as(at("etc/shadow"), "u/stub", NOBODY);
	refused("etc/stub.conf", "etc/shadow", EPERM,
	    "a symlink planted in another user's directory, to a root file, "
	    "is refused");
	link_as("../etc/shadow", "u/stub", NOBODY);
	refused("etc/stub.conf", "etc/shadow", EPERM,
	    "the same with a relative symlink");
	/* ... or a hard link to it (where protected_hardlinks is off). */
	(void)unlink(at("u/stub"));
	if (link(at("etc/shadow"), at("u/stub")) == -1) {
		perror("link");
		return 1;
	}
	refused("etc/stub.conf", "etc/shadow", EPERM,
	    "a hard link to a root file in another user's directory is "
	    "refused");
	(void)unlink(at("u/stub"));
	/* ... or a device, whose open alone may act: never opened. */
	link_as("/dev/null", "u/stub", NOBODY);
	refused("etc/stub.conf", "etc/shadow", 0,
	    "a symlink to a device in another user's directory is refused");
	link_as("/dev/null", "etc/dev.conf", 0);
	refused("etc/dev.conf", "etc/dev.conf", EINVAL,
	    "root's own symlink to a device: not a regular file, refused");
	/* A directory on the way that is the other user's. */
	if (mkdir(at("u/d"), 0755) == -1 || chown(at("u/d"), NOBODY,
	    NOBODY) == -1 || symlink(at("etc"), at("u/d/e")) == -1 ||
	    lchown(at("u/d/e"), NOBODY, NOBODY) == -1) {
		perror("u/d");
		return 1;
	}
	link_as("../u/d/e/shadow", "etc/via.conf", 0);
	refused("etc/via.conf", "etc/shadow", EPERM,
	    "a path through another user's directory back into root's is "
	    "refused");
	/* A symlink in a sticky directory, owned by someone else. */
	link_as(at("etc/shadow"), "sticky/x.conf", NOBODY);
	refused("sticky/x.conf", "etc/shadow", EPERM,
	    "another user's symlink in a sticky directory is refused");
	/* A directory anyone may write, without the sticky bit. */
	put("open/r.conf", "nameserver 192.0.2.4\n", 0644, 0);
	refused("open/r.conf", "open/r.conf", EPERM,
	    "a file in a world-writable directory is refused");
	/* Loops end. */
	link_as("loop2", "etc/loop1", 0);
	link_as("loop1", "etc/loop2", 0);
	refused("etc/loop1", "etc/loop1", ELOOP,
	    "a symlink loop ends in ELOOP");
	/* Nothing was written. */
	{
		char	 buf[64];
		ssize_t	 n;
		int	 fd;

		fd = open(at("etc/shadow"), O_RDONLY);
		n = fd == -1 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd != -1)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		is_str(buf, "root:$6$secret:19000::::::\n", "shadow unchanged");
	}
	return done_testing();
}

/*
 * dnsops.c -- the two things dnsmgr, which runs as its own unprivileged
 * user, asks of the parent: resolv.conf opened for reading and writing
 * (the one file it manages, named by the parent's own options), and
 * resolvconf(8) run (it writes root's files).  dnsmgr names neither a
 * path nor a program nor the text resolvconf reads: the parent builds
 * that text itself from a fixed-size list it checks entry by entry.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dnsconf.h"
#include "imsgev.h"
#include "log.h"
#include "parent.h"
#include "vpnd.h"

#define DNS_RECORD	"dns.backup"	/* dnsmgr's record (dnsmgr/dns.h) */

static int	 dnsops_check(const struct imsg_dns *, char *, size_t);
static int	 created_path(const struct vpnd_env *, char *, size_t);
static void	 created_note(const struct vpnd_env *, int);
static int	 created_ours(const struct vpnd_env *);
static void	 dnsops_open(struct imsgev *, const struct vpnd_env *, int);
static void	 dnsops_resolvconf(struct imsgev *, const struct vpnd_env *,
		    struct imsg *);

/*
 * At start, as root: dnsmgr's user must exist (refuse to start without
 * it: a shared uid could be signalled or traced by other daemons), and
 * its state directory, <statedir>/dns, is its own, mode 0700.  It
 * becomes dnsmgr's root, and holds the record of what it changed.
 */
void
dnsops_init(const char *statedir)
{
	char		 path[PATH_MAX];
	struct passwd	*pw;
	struct stat	 st;
	int		 fd, sfd;

	if (geteuid() != 0)
		return;		/* without root: -D none only, no dnsmgr dir */
	if ((pw = getpwnam(VPND_DNS_USER)) == NULL)
		errx(1, "user %s not found: dnsmgr runs as that user; create "
		    "it with scripts/mkuser.sh (make install does)",
		    VPND_DNS_USER);
	if (pw->pw_uid == 0)
		errx(1, "user %s must not be uid 0", VPND_DNS_USER);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", statedir,
	    VPND_DNS_SUBDIR) >= sizeof(path))
		errx(1, "state directory path too long");
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		err(1, "%s", path);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		err(1, "%s", path);
	if (fchown(fd, pw->pw_uid, pw->pw_gid) == -1 ||
	    fchmod(fd, 0700) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", path);
	/*
	 * An older vpnd kept its record in the state directory itself: it
	 * moves into dnsmgr's, which reads that format too.
	 */
	if ((sfd = open(statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fstatat(sfd, DNS_RECORD, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) &&
		    fstatat(fd, DNS_RECORD, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
		    errno == ENOENT) {
			if (renameat(sfd, DNS_RECORD, fd, DNS_RECORD) == -1 ||
			    fchownat(fd, DNS_RECORD, pw->pw_uid, pw->pw_gid,
			    AT_SYMLINK_NOFOLLOW) == -1)
				warn("%s/%s", statedir, DNS_RECORD);
			else
				warnx("moved an older vpnd's %s/%s into %s",
				    statedir, DNS_RECORD, path);
		}
		close(sfd);
	}
	close(fd);
}

static int
dnsops_check(const struct imsg_dns *d, char *err, size_t errlen)
{
	uint32_t	 i;

	if (d->nservers > CONF_MAX_DNS || d->ndomains > CONF_MAX_SEARCH) {
		snprintf(err, errlen, "too many servers or domains");
		return -1;
	}
	for (i = 0; i < d->nservers; i++)
		if (d->servers[i].af != AF_INET &&
		    d->servers[i].af != AF_INET6) {
			snprintf(err, errlen, "DNS server %u: bad family", i);
			return -1;
		}
	for (i = 0; i < d->ndomains; i++)
		if (!dnsconf_domain_ok(d->domains[i],
		    sizeof(d->domains[i]))) {
			snprintf(err, errlen, "search domain %u: bad name", i);
			return -1;
		}
	return 0;
}

/*
 * The parent's own note (in its state directory, root's) of the
 * resolv.conf it created for dnsmgr: device and inode.  Removing a
 * resolv.conf is done only for that file, so that a compromised dnsmgr,
 * which can empty the file through its descriptor, cannot have the
 * host's own resolv.conf deleted; the note outlives a crash, for the
 * recovery at the next start.
 */
static int
created_path(const struct vpnd_env *env, char *path, size_t len)
{
	if ((size_t)snprintf(path, len, "%s/%s", env->statedir,
	    DNSOPS_CREATED_NAME) >= len)
		return -1;
	return 0;
}

static void
created_note(const struct vpnd_env *env, int fd)
{
	char		 path[PATH_MAX], buf[64];
	struct stat	 st;
	int		 nfd, n;

	if (created_path(env, path, sizeof(path)) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	n = snprintf(buf, sizeof(buf), "%llu %llu\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	if ((nfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto fail;
	if (write(nfd, buf, n) != n || fsync(nfd) == -1) {
		close(nfd);
		(void)unlink(path);
		goto fail;
	}
	close(nfd);
	return;
 fail:
	log_warn("%s: cannot note the resolv.conf it created; it will be "
	    "left in place (empty) at restore", __func__);
}

/* 1 if resolv.conf is the file the note names, else 0. */
static int
created_ours(const struct vpnd_env *env)
{
	char			 path[PATH_MAX], buf[64];
	unsigned long long	 dev, ino;
	struct stat		 st;
	ssize_t			 n;
	int			 fd, ours = 0;

	if (created_path(env, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &dev, &ino) == 2 &&
	    lstat(env->resolvconf, &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		ours = 1;
	return ours;
}

static void
dnsops_open(struct imsgev *iev, const struct vpnd_env *env, int op)
{
	struct imsg_dns_file	 f;
	char			 target[PATH_MAX], note[PATH_MAX];
	int			 fd = -1;

	memset(&f, 0, sizeof(f));
	target[0] = '\0';
	if (op == RESOLV_REMOVE && !created_ours(env)) {
		log_warnx("dnsmgr asked to remove %s, which vpnd did not "
		    "create: left in place", env->resolvconf);
		f.err = EPERM;
	} else if (resolv_open(env->resolvconf, op, &fd, target,
	    sizeof(target), &f.created) == -1)
		f.err = errno;
	else if (f.created)
		created_note(env, fd);
	else if (op == RESOLV_REMOVE &&
	    created_path(env, note, sizeof(note)) == 0)
		(void)unlink(note);
	if (strlcpy(f.target, target, sizeof(f.target)) >= sizeof(f.target))
		f.target[0] = '\0';	/* too long to be resolved's */
	imsgev_compose(iev, IMSG_DNS_FILE, 0, fd, &f, sizeof(f));
}

static void
dnsops_resolvconf(struct imsgev *iev, const struct vpnd_env *env,
    struct imsg *imsg)
{
	struct imsg_dns_rc	 rc;
	struct imsg_result	 r;
	char			 conf[8192], name[32];
	size_t			 len = 0;

	memset(&r, 0, sizeof(r));
	if (imsg_get_data(imsg, &rc, sizeof(rc)) == -1)
		fatalx("bad IMSG_DNS_RESOLVCONF from dnsmgr");
	if (env->resolvconf_prog[0] != '/' ||
	    access(env->resolvconf_prog, X_OK) == -1) {
		(void)strlcpy(r.msg, "resolvconf program not available",
		    sizeof(r.msg));
		goto reply;
	}
	/* The record name is ours: the parent's interface, not dnsmgr's. */
	(void)snprintf(name, sizeof(name), "%s%s", RESOLVCONF_PREFIX,
	    env->ifname);
	switch (rc.op) {
	case DNS_RC_CHECK:
		r.ok = 1;
		goto reply;
	case DNS_RC_ADD:
		if (dnsops_check(&rc.dns, r.msg, sizeof(r.msg)) == -1)
			goto reply;
		if (dnsconf_lines(rc.dns.servers, rc.dns.nservers,
		    (const char (*)[CONF_DOMAIN_LEN])rc.dns.domains,
		    rc.dns.ndomains, conf, sizeof(conf), &len) == -1) {
			snprintf(r.msg, sizeof(r.msg), "resolver list does "
			    "not fit");
			goto reply;
		}
		break;
	case DNS_RC_DEL:
		break;
	default:
		fatalx("bad resolvconf operation %u from dnsmgr", rc.op);
	}
	log_debug("running %s %s %s", env->resolvconf_prog,
	    rc.op == DNS_RC_ADD ? "-a" : "-d", name);
	if (resolvconf_run(env->resolvconf_prog, rc.op == DNS_RC_ADD ? "-a" :
	    "-d", name, conf, len, RESOLVCONF_TIMEOUT_MS, r.msg,
	    sizeof(r.msg)) == 0)
		r.ok = 1;
 reply:
	explicit_bzero(&rc, sizeof(rc));
	imsgev_compose(iev, IMSG_DNS_RC_RESULT, 0, -1, &r, sizeof(r));
}

/* 0 if the message was dnsmgr's to send, -1 if not. */
int
dnsops_dispatch(struct imsgev *iev, const struct vpnd_env *env,
    struct imsg *imsg)
{
	int	 op;

	switch (imsg_get_type(imsg)) {
	case IMSG_DNS_OPEN:
		if (imsg_get_data(imsg, &op, sizeof(op)) == -1 ||
		    (op != RESOLV_OPEN && op != RESOLV_CREATE &&
		    op != RESOLV_REMOVE))
			return -1;
		dnsops_open(iev, env, op);
		return 0;
	case IMSG_DNS_RESOLVCONF:
		dnsops_resolvconf(iev, env, imsg);
		return 0;
	default:
		return -1;
	}
}

/*
 * split.c -- split tunnelling by app: the processes of chosen cgroups
 * (cgroup v2) send their traffic outside the tunnel.
 *
 * vpnd owns one cgroup, <base>/vpnd-exclude, where `vpnctl exclude`
 * processes go; <base> is the directory given with -C, or else
 * <mount>/vpnd, made at start while the parent still has every
 * privilege (the root of a cgroup2 hierarchy is mode 0555: the parent,
 * later down to CAP_NET_ADMIN, could not make or remove a cgroup there)
 * and left in place, empty; <mount> is the cgroup2 mount, /sys/fs/cgroup
 * on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.  The parent moves a process there only for a request whose
 * client socket it reads the credentials of itself (SO_PEERCRED on the
 * connection netmgr passes): the pid is the peer's, never one named in a
 * message; the peer must be root or in group vpnd, alive, and of the
 * uid it connected with.  The nftables side is table inet vpnd_split
 * (nft.c); the kill switch lets exactly those connections pass.
 *
 * vpnDisabledApps: an activation names applications (desktop-file IDs,
 * or paths of .desktop files); the systemd scopes their launchers start
 * them in, under each user's app.slice, are matched by name (read from
 * cgroupfs: user-controlled names, validated) and excluded where they
 * are, by their cgroup IDs in the same table: no process is moved out of
 * systemd's tree.  Whose scopes: the activating client's uid's, all
 * users' for root.  inotify on those directories catches scopes started
 * later; any event means a fresh scan.
 *
 * Everything is undone on deactivate and at exit: the table goes, the
 * processes go back to the cgroup each came from (the hierarchy's root
 * for one whose origin is unknown or gone: a child it forked), the
 * cgroup is removed.  A record in the state directory, written before
 * the cgroup is made or a process moved, lets the next start do the same
 * after a crash.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <linux/magic.h>

#include <err.h>
#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appid.h"
#include "imsgev.h"
#include "log.h"
#include "parent.h"
#include "sys.h"
#include "vpnd.h"

#define SPLIT_EXCL_NAME		"vpnd-exclude"
#define SPLIT_BASE_NAME		"vpnd"
#define SPLIT_MAX_ORIGINS	1024
#define SPLIT_MOVE_ROUNDS	16	/* processes may fork while we empty */
#define SPLIT_MAX_WATCHES	256
#define SPLIT_SCOPE_DEPTH	2	/* app.slice, then one sub-slice */

struct origin {
	pid_t	 pid;
	char	*path;		/* below the cgroup2 mount, "/..." */
};

static int	 cg_walk(const char *, uint32_t *, char *, size_t);
static int	 cg_move(const char *, pid_t);
static int	 cg_empty(const char *, const char *, const struct origin *,
		    size_t);
static int	 split_authorised(uid_t, gid_t);
static int	 split_peer(pid_t, uid_t, char *, size_t, char *, size_t);
static int	 split_add(pid_t, const char *, char *, size_t);
static int	 split_apply(void);
static int	 state_write(void);
static void	 origins_free(struct origin *, size_t);
static void	 reply(struct imsgev *, uint32_t, int, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
static void	 apps_scan(void);
static void	 apps_scan_user(const char *, const char *);
static void	 apps_scan_dir(const char *, uint32_t, int);
static void	 apps_watch(const char *);
static void	 apps_unwatch(void);
static void	 apps_event(int, short, void *);
static int	 apps_apply(void);

static char		 statefile[PATH_MAX];
static char		 sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char		 cg_mount[PATH_MAX];	/* the cgroup2 mount */
static char		 cg_base[PATH_MAX];	/* where our cgroup lives */
static uint32_t		 base_level;
static uint32_t		 excl_level;		/* of excl_path */
static char		 cg_err[192];		/* why not; "" if usable */
static char		 excl_path[PATH_MAX];
static int		 excl_made;
static int		 table_on;
static struct split_cg	 ents[SPLIT_MAX_CGROUPS];
static size_t		 nents;
static struct origin	*origins;
static size_t		 norigins;
/* vpnDisabledApps: their escaped IDs, the scopes found, the watches */
static char		 (*apps)[APPID_ESC_LEN];
static size_t		 napps;
static char		 (*pend_apps)[APPID_ESC_LEN];
static size_t		 pend_napps;
static uid_t		 apps_uid, pend_uid;
static struct split_cg	 app_ents[SPLIT_MAX_CGROUPS];
static size_t		 napp_ents;
static struct split_cg	 applied[SPLIT_MAX_CGROUPS];
static size_t		 napplied;
static uint32_t		 applied_mark;
static int		 ino_fd = -1;
static struct event	 ino_ev;
static size_t		 nwatches;

/*
 * dir: a directory on cgroup2. Its level below the mount (by walking
 * ".." while it stays on the same cgroup2 file system) and the mount.
 */
static int
cg_walk(const char *dir, uint32_t *level, char *mount, size_t len)
{
	char		 rp[PATH_MAX], *p;
	struct statfs	 sf;
	struct stat	 st, pst;
	uint32_t	 n = 0, i;
	int		 fd, pfd;

	if (realpath(dir, rp) == NULL)
		return -1;
	if ((fd = open(rp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fstatfs(fd, &sf) == -1 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		errno = EMEDIUMTYPE;
		return -1;
	}
	for (;;) {
		if (fstat(fd, &st) == -1 ||
		    (pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = pfd;
		if (fstatfs(fd, &sf) == -1 || fstat(fd, &pst) == -1) {
			close(fd);
			return -1;
		}
		if (sf.f_type != CGROUP2_SUPER_MAGIC ||
		    pst.st_dev != st.st_dev || pst.st_ino == st.st_ino)
			break;
		if (++n > SPLIT_MAX_LEVEL) {
			close(fd);
			errno = ELOOP;
			return -1;
		}
	}
	close(fd);
	for (i = 0; i < n; i++) {
		if ((p = strrchr(rp, '/')) == NULL || p == rp) {
			errno = EINVAL;
			return -1;
		}
		*p = '\0';
	}
	*level = n;
	if (strlcpy(mount, rp, len) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

void
split_init(const char *statedir, const char *sock, const char *cgroot)
{
	static const char *const defaults[] = {
		"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
	};
	char		 rp[PATH_MAX], mount[PATH_MAX];
	uint32_t	 level;
	size_t		 i;

	snprintf(statefile, sizeof(statefile), "%s/%s", statedir,
	    SPLIT_STATE_NAME);
	strlcpy(sockpath, sock, sizeof(sockpath));
	cg_err[0] = '\0';
	if (cgroot != NULL) {
		if (cg_walk(cgroot, &base_level, cg_mount,
		    sizeof(cg_mount)) == -1 || realpath(cgroot, rp) == NULL)
			errx(1, "-C %s: not a directory on a cgroup v2 file "
			    "system (%s)", cgroot, errno == EMEDIUMTYPE ?
			    "another file system" : strerror(errno));
		strlcpy(cg_base, rp, sizeof(cg_base));
	} else {
		for (i = 0; i < nitems(defaults); i++)
			if (cg_walk(defaults[i], &base_level, cg_mount,
			    sizeof(cg_mount)) == 0 && base_level == 0)
				break;
		if (i == nitems(defaults)) {
			snprintf(cg_err, sizeof(cg_err), "cgroup v2 is "
			    "mounted neither at /sys/fs/cgroup nor at "
			    "/sys/fs/cgroup/unified: split tunnelling is "
			    "unavailable");
			cg_mount[0] = '\0';
		}
		strlcpy(cg_base, cg_mount, sizeof(cg_base));
	}
	if (cg_err[0] == '\0' && geteuid() != 0)
		snprintf(cg_err, sizeof(cg_err), "split tunnelling needs "
		    "vpnd to run as root");
	if (cgroot != NULL) {
		excl_level = base_level + 1;
		if (snprintf(excl_path, sizeof(excl_path), "%s/%s", cg_base,
		    SPLIT_EXCL_NAME) >= (int)sizeof(excl_path))
			snprintf(cg_err, sizeof(cg_err), "cgroup path too long");
		return;
	}
	if (cg_err[0] != '\0')
		return;
	/* our own directory below the mount's root, made while we can */
	excl_level = base_level + 2;
	if (snprintf(rp, sizeof(rp), "%s/%s", cg_base, SPLIT_BASE_NAME) >=
	    (int)sizeof(rp) || snprintf(excl_path, sizeof(excl_path),
	    "%s/%s", rp, SPLIT_EXCL_NAME) >= (int)sizeof(excl_path)) {
		snprintf(cg_err, sizeof(cg_err), "cgroup path too long");
		return;
	}
	if (mkdir(rp, 0755) == -1 && errno != EEXIST) {
		snprintf(cg_err, sizeof(cg_err), "cannot make the cgroup "
		    "%.100s: %s", rp, strerror(errno));
		return;
	}
	if (cg_walk(rp, &level, mount, sizeof(mount)) == -1 || level != 1 ||
	    strcmp(mount, cg_mount) != 0)
		snprintf(cg_err, sizeof(cg_err), "%.80s: not a cgroup below "
		    "%.80s", rp, cg_mount);
}

static int
cg_move(const char *dir, pid_t pid)
{
	char	 path[PATH_MAX], buf[32];
	int	 fd, n, save;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, n) != n) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return close(fd);
}

/*
 * A cgroup path below the mount as /proc/PID/cgroup shows it: absolute,
 * no "." or ".." component, printable, and not our own cgroup.
 */
int
split_origin_ok(const char *p)
{
	const char	*c;

	if (p[0] != '/' || strlen(p) >= PATH_MAX / 2 ||
	    strstr(p, "/../") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "//") != NULL)
		return 0;
	if ((c = strrchr(p, '/')) != NULL &&
	    (strcmp(c, "/..") == 0 || strcmp(c, "/.") == 0))
		return 0;
	for (c = p; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return 0;
	return 1;
}

/*
 * Move every process of dir (below mount) back where it came from, then
 * remove dir. -1 if it could not be removed.
 */
static int
cg_empty(const char *dir, const char *mount, const struct origin *orig,
    size_t norig)
{
	char	 path[PATH_MAX], line[32], to[PATH_MAX];
	FILE	*fp;
	pid_t	 pid;
	size_t	 i, moved = 0;
	int	 round;
	const char *errstr;

	for (round = 0; round < SPLIT_MOVE_ROUNDS; round++) {
		if (rmdir(dir) == 0) {
			if (moved > 0)
				log_info("split tunnelling: %zu processes "
				    "moved back out of %s", moved, dir);
			return 0;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		if ((fp = fopen(path, "re")) == NULL)
			break;
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			pid = strtonum(line, 1, INT_MAX, &errstr);
			if (errstr != NULL)
				continue;
			for (i = 0; i < norig; i++)
				if (orig[i].pid == pid)
					break;
			if (i < norig && snprintf(to, sizeof(to), "%s%s",
			    mount, orig[i].path) < (int)sizeof(to) &&
			    cg_move(to, pid) == 0) {
				moved++;
				continue;
			}
			if (cg_move(mount, pid) == 0)
				moved++;
			else if (errno != ESRCH)
				log_warn("moving pid %d out of %s", (int)pid,
				    dir);
		}
		fclose(fp);
	}
	log_warn("cannot remove %s", dir);
	return -1;
}

static void
origins_free(struct origin *o, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(o[i].path);
	free(o);
}

static int
state_write(void)
{
	char	 tmp[PATH_MAX + 8];
	FILE	*fp;
	size_t	 i;
	int	 fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", statefile);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	fprintf(fp, "cgroup %s\n", excl_path);
	for (i = 0; i < norigins; i++)
		fprintf(fp, "origin %d %s\n", (int)origins[i].pid,
		    origins[i].path);
	if (fflush(fp) == EOF || ferror(fp) || fsync(fd) == -1) {
		fclose(fp);
		(void)unlink(tmp);
		return -1;
	}
	if (fclose(fp) == EOF) {
		(void)unlink(tmp);
		return -1;
	}
	return rename(tmp, statefile);
}

/* Root, or group vpnd as netmgr's access list sees it. */
static int
split_authorised(uid_t uid, gid_t gid)
{
	struct group	*gr;
	struct passwd	*pw;
	char		**m;

	if (uid == 0)
		return 1;
	if (geteuid() != 0 || (gr = getgrnam(VPND_GROUP)) == NULL)
		return 0;
	if (gid == gr->gr_gid)
		return 1;
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	if (pw->pw_gid == gr->gr_gid)
		return 1;
	for (m = gr->gr_mem; m != NULL && *m != NULL; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return 1;
	return 0;
}

/*
 * The peer process: alive, a process (not one of our own, not init),
 * its real and effective uid the ones it connected with; its cgroup v2
 * path into origin.
 */
static int
split_peer(pid_t pid, uid_t uid, char *origin, size_t olen, char *err,
    size_t errlen)
{
	char		 path[64], line[PATH_MAX];
	FILE		*fp;
	unsigned long	 r, e, s, f;
	long		 tgid = -1;
	int		 uid_ok = 0;

	if (pid <= 1 || pid == getpid() || getpgid(pid) == -1) {
		snprintf(err, errlen, "pid %d: not a process that may be "
		    "excluded", (int)pid);
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "pid %d is gone", (int)pid);
		errno = ESRCH;
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "Tgid: %ld", &tgid) == 1)
			continue;
		if (sscanf(line, "Uid: %lu %lu %lu %lu", &r, &e, &s, &f) == 4)
			uid_ok = r == uid && e == uid;
	}
	fclose(fp);
	if (tgid != pid || !uid_ok) {
		snprintf(err, errlen, "pid %d is not uid %u's process",
		    (int)pid, (unsigned int)uid);
		errno = EACCES;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "pid %d is gone", (int)pid);
		errno = ESRCH;
		return -1;
	}
	origin[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			strlcpy(origin, line + 3, olen);
			break;
		}
	fclose(fp);
	if (!split_origin_ok(origin)) {
		/* from another cgroup namespace, say: no way back known */
		log_debug("pid %d: cgroup \"%s\" not recorded", (int)pid,
		    origin);
		origin[0] = '\0';
	}
	return 0;
}

/*
 * The table from what is excluded now: our cgroup and the apps' scopes.
 * Unchanged: nothing sent. Nothing left: the table goes.
 */
static int
split_apply(void)
{
	struct split_cg	 want[SPLIT_MAX_CGROUPS];
	size_t		 n = 0, i;
	uint32_t	 mark;

	for (i = 0; i < nents && n < nitems(want); i++)
		want[n++] = ents[i];
	for (i = 0; i < napp_ents && n < nitems(want); i++)
		want[n++] = app_ents[i];
	mark = netops_mark();
	if (table_on && n == napplied && mark == applied_mark &&
	    memcmp(want, applied, n * sizeof(want[0])) == 0)
		return 0;
	if (n == 0) {
		if (table_on && nft_split_remove() == -1)
			return -1;
		table_on = 0;
		napplied = 0;
		return 0;
	}
	if (nft_split_install(want, n, mark) == -1)
		return -1;
	table_on = 1;
	memcpy(applied, want, n * sizeof(want[0]));
	napplied = n;
	applied_mark = mark;
	return 0;
}

static int
apps_apply(void)
{
	if (split_apply() == -1) {
		log_warn("split tunnelling rules for %zu app scopes",
		    napp_ents);
		return -1;
	}
	return 0;
}

static void
apps_watch(const char *dir)
{
	if (nwatches >= SPLIT_MAX_WATCHES)
		return;
	if (ino_fd == -1) {
		if ((ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
			log_warn("inotify: scopes started later are missed");
			return;
		}
		event_set(&ino_ev, ino_fd, EV_READ | EV_PERSIST, apps_event,
		    NULL);
		event_add(&ino_ev, NULL);
	}
	/* the same directory again gives the same watch: counted once */
	if (inotify_add_watch(ino_fd, dir, IN_CREATE | IN_DELETE |
	    IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR) != -1)
		nwatches++;
}

static void
apps_unwatch(void)
{
	if (ino_fd == -1)
		return;
	event_del(&ino_ev);
	close(ino_fd);		/* and its watches */
	ino_fd = -1;
	nwatches = 0;
}

/* Something changed under a watched directory: scan again. */
static void
apps_event(int fd, short ev, void *arg)
{
	char	 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t	 n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("inotify");
	/* re-added as found; a rescan after many events stays bounded */
	apps_unwatch();
	apps_scan();
	(void)apps_apply();
}

/* dir is at level; scopes in it one below. */
static void
apps_scan_dir(const char *dir, uint32_t level, int depth)
{
	char		 p[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	size_t		 n, i;

	apps_watch(dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || !appid_name_ok(de->d_name) ||
		    snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(p))
			continue;
		n = strlen(de->d_name);
		if (n > 6 && strcmp(de->d_name + n - 6, ".slice") == 0) {
			if (depth + 1 < SPLIT_SCOPE_DEPTH)
				apps_scan_dir(p, level + 1, depth + 1);
			continue;
		}
		for (i = 0; i < napps; i++)
			if (appid_scope_match(de->d_name, apps[i]))
				break;
		if (i == napps || fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (napp_ents + nents >= nitems(app_ents)) {
			log_warnx("split tunnelling: more than %zu app "
			    "scopes; the rest stay in the tunnel",
			    nitems(app_ents) - nents);
			break;
		}
		app_ents[napp_ents].id = st.st_ino;
		app_ents[napp_ents].level = level + 1;
		napp_ents++;
	}
	closedir(d);
}

/* user.slice/user-<uid>.slice/user@<uid>.service/app.slice */
static void
apps_scan_user(const char *us, const char *uid)
{
	char	 p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/user-%s.slice", us, uid) >=
	    (int)sizeof(p))
		return;
	apps_watch(p);
	if (snprintf(p, sizeof(p), "%s/user-%s.slice/user@%s.service", us,
	    uid, uid) >= (int)sizeof(p))
		return;
	apps_watch(p);
	if (snprintf(p, sizeof(p), "%s/user-%s.slice/user@%s.service/"
	    "app.slice", us, uid, uid) >= (int)sizeof(p))
		return;
	apps_scan_dir(p, base_level + 4, 0);
}

static void
apps_scan(void)
{
	char		 us[PATH_MAX], uid[16];
	const char	*errstr;
	DIR		*d;
	struct dirent	*de;
	long long	 v;
	size_t		 n;

	napp_ents = 0;
	if (napps == 0 || cg_err[0] != '\0' ||
	    snprintf(us, sizeof(us), "%s/user.slice", cg_base) >=
	    (int)sizeof(us))
		return;
	if (apps_uid != 0) {
		snprintf(uid, sizeof(uid), "%u", (unsigned int)apps_uid);
		apps_scan_user(us, uid);
		return;
	}
	/*
	 * root: the scopes of every user who may exclude (root and group
	 * vpnd), also of those who log in later. Anyone can give a scope
	 * of theirs an app's name: a user outside the group would get out
	 * of the tunnel by naming one so.
	 */
	apps_watch(us);
	if ((d = opendir(us)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_type != DT_DIR || n < 12 || n - 11 >= sizeof(uid) ||
		    strncmp(de->d_name, "user-", 5) != 0 ||
		    strcmp(de->d_name + n - 6, ".slice") != 0)
			continue;
		memcpy(uid, de->d_name + 5, n - 11);
		uid[n - 11] = '\0';
		v = strtonum(uid, 0, UINT32_MAX - 1, &errstr);
		if (errstr == NULL &&
		    strspn(uid, "0123456789") == strlen(uid) &&
		    split_authorised((uid_t)v, (gid_t)-1))
			apps_scan_user(us, uid);
	}
	closedir(d);
}

/*
 * vpnDisabledApps, inside a network transaction: begin, the activating
 * client's uid, the entries (each checked), then commit once the set-up
 * is in place. A failed set-up leaves the current ones as they are.
 */
void
split_pend_begin(void)
{
	free(pend_apps);
	pend_apps = NULL;
	pend_napps = 0;
	pend_uid = 0;
}

void
split_pend_uid(uid_t uid)
{
	pend_uid = uid;
}

int
split_pend_app(const char *in, char *err, size_t errlen)
{
	char	 id[APPID_MAX + 1];
	char	 (*na)[APPID_ESC_LEN];

	if (pend_napps == APPID_MAX_APPS) {
		snprintf(err, errlen, "more than %d vpnDisabledApps",
		    APPID_MAX_APPS);
		return -1;
	}
	if (appid_parse(in, id, sizeof(id)) == -1) {
		snprintf(err, errlen, "vpnDisabledApps: not a desktop-file "
		    "ID or the path of a .desktop file");
		return -1;
	}
	if ((na = reallocarray(pend_apps, pend_napps + 1,
	    sizeof(*na))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pend_apps = na;
	if (appid_escape(id, pend_apps[pend_napps],
	    sizeof(pend_apps[0])) == -1) {
		snprintf(err, errlen, "vpnDisabledApps: ID too long");
		return -1;
	}
	pend_napps++;
	return 0;
}

void
split_pend_commit(void)
{
	free(apps);
	apps = pend_apps;
	napps = pend_napps;
	apps_uid = pend_uid;
	pend_apps = NULL;
	pend_napps = 0;
	apps_unwatch();
	napp_ents = 0;
	if (napps > 0 && cg_err[0] != '\0')
		log_warnx("vpnDisabledApps ignored: %s", cg_err);
	apps_scan();
	if (apps_apply() == 0 && napps > 0)
		log_info("vpnDisabledApps: %zu apps of %s, %zu scopes "
		    "excluded", napps, apps_uid == 0 ? "every user" :
		    "the activating user", napp_ents);
}

static int
split_add(pid_t pid, const char *origin, char *err, size_t errlen)
{
	struct origin	*no;
	struct stat	 st;
	int		 save;

	if (norigins == SPLIT_MAX_ORIGINS) {
		snprintf(err, errlen, "too many excluded processes");
		errno = ENOSPC;
		return -1;
	}
	if ((no = reallocarray(origins, norigins + 1, sizeof(*no))) == NULL)
		goto fail;
	origins = no;
	origins[norigins].pid = pid;
	if ((origins[norigins].path = strdup(origin[0] != '\0' ? origin :
	    "/")) == NULL)
		goto fail;
	norigins++;
	/* recorded before the cgroup exists or anyone is moved */
	if (state_write() == -1) {
		snprintf(err, errlen, "cannot record state: %s",
		    strerror(errno));
		return -1;
	}
	if (!excl_made) {
		if (mkdir(excl_path, 0755) == -1 && errno != EEXIST)
			goto fail;
		excl_made = 1;
		if (stat(excl_path, &st) == -1)
			goto fail;
		if (nents == nitems(ents)) {
			errno = ENOSPC;
			goto fail;
		}
		ents[nents].id = st.st_ino;
		ents[nents].level = excl_level;
		nents++;
		if (split_apply() == -1) {
			nents--;
			save = errno;
			snprintf(err, errlen, "split tunnelling rules: %s",
			    strerror(save));
			errno = save;
			return -1;
		}
	}
	if (cg_move(excl_path, pid) == -1)
		goto fail;
	return 0;
 fail:
	save = errno;
	if (snprintf(err, errlen, "%s: %s", excl_path, strerror(save)) < 0)
		err[0] = '\0';
	errno = save;
	return -1;
}

static void
reply(struct imsgev *iev, uint32_t token, int err, const char *fmt, ...)
{
	struct imsg_result	 r;
	va_list			 ap;

	memset(&r, 0, sizeof(r));
	r.ok = err == 0;
	r.err = err;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
		va_end(ap);
	}
	imsgev_compose(iev, IMSG_EXCLUDE_RESULT, token, -1, &r, sizeof(r));
}

/*
 * IMSG_EXCLUDE: the fd is the client's connection to the control socket;
 * the process to move is its peer, checked here from scratch.
 */
void
split_exclude(struct imsgev *iev, struct imsg *imsg)
{
	struct ucred		 cred;
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof(cred), slen = sizeof(sun);
	uint32_t		 token = imsg_get_id(imsg);
	char			 err[256], origin[PATH_MAX];
	int			 fd, save;

	fd = imsg_get_fd(imsg);
	if (imsg_get_len(imsg) != 0 || fd == -1)
		fatalx("%s: bad IMSG_EXCLUDE", __func__);
	memset(&sun, 0, sizeof(sun));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred) || cred.pid <= 0 ||
	    getsockname(fd, (struct sockaddr *)&sun, &slen) == -1 ||
	    sun.sun_family != AF_UNIX ||
	    strncmp(sun.sun_path, sockpath, sizeof(sun.sun_path)) != 0) {
		close(fd);
		log_warnx("exclude: not a client of the control socket");
		reply(iev, token, EINVAL, "not a client of the control "
		    "socket");
		return;
	}
	close(fd);
	if (!split_authorised(cred.uid, cred.gid)) {
		log_warnx("exclude refused: uid %u (pid %d) is neither root "
		    "nor in group %s", (unsigned int)cred.uid, (int)cred.pid,
		    VPND_GROUP);
		reply(iev, token, EACCES, "uid %u may not exclude processes",
		    (unsigned int)cred.uid);
		return;
	}
	if (cg_err[0] != '\0') {
		reply(iev, token, EOPNOTSUPP, "%s", cg_err);
		return;
	}
	if (!netops_active()) {
		reply(iev, token, ENOTCONN, "no tunnel is up");
		return;
	}
	if (split_peer(cred.pid, cred.uid, origin, sizeof(origin), err,
	    sizeof(err)) == -1 || split_add(cred.pid, origin, err,
	    sizeof(err)) == -1) {
		save = errno == 0 ? EIO : errno;
		log_warnx("exclude of pid %d (uid %u) failed: %s",
		    (int)cred.pid, (unsigned int)cred.uid, err);
		reply(iev, token, save, "%s", err);
		return;
	}
	log_info("pid %d (uid %u) excluded from the tunnel (was in %s)",
	    (int)cred.pid, (unsigned int)cred.uid,
	    origin[0] != '\0' ? origin : "an unknown cgroup");
	reply(iev, token, 0, NULL);
}

/* Deactivate, shutdown: nothing stays excluded. */
void
split_down(void)
{
	apps_unwatch();
	free(apps);
	apps = NULL;
	napps = 0;
	napp_ents = 0;
	if (!table_on && !excl_made && norigins == 0)
		return;
	if (table_on && nft_split_remove() == -1)
		log_warn("removing table inet %s", VPND_NFT_SPLIT);
	table_on = 0;
	napplied = 0;
	nents = 0;
	if (excl_made)
		(void)cg_empty(excl_path, cg_mount, origins, norigins);
	excl_made = 0;
	origins_free(origins, norigins);
	origins = NULL;
	norigins = 0;
	if (unlink(statefile) == -1 && errno != ENOENT)
		log_warn("%s", statefile);
	log_info("split tunnelling ended");
}

/*
 * At start: what an earlier instance left. The record names the cgroup
 * (checked: on cgroup2, named as ours) and where its processes came from.
 */
int
split_recover(void)
{
	char		 line[PATH_MAX + 64], path[PATH_MAX], mount[PATH_MAX];
	struct origin	*o = NULL, *no;
	size_t		 n = 0;
	uint32_t	 level;
	FILE		*fp;
	const char	*base, *errstr;
	char		*sp;
	long long	 pid;
	int		 failed = 0;

	switch (nft_split_present()) {
	case 1:
		if (nft_split_remove() == -1) {
			log_warn("cannot remove leftover table inet %s",
			    VPND_NFT_SPLIT);
			failed = 1;
		} else
			log_info("removed leftover table inet %s",
			    VPND_NFT_SPLIT);
		break;
	case -1:
		log_debug("nftables unavailable");
		break;
	}
	path[0] = '\0';
	if ((fp = fopen(statefile, "re")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "cgroup ", 7) == 0) {
				strlcpy(path, line + 7, sizeof(path));
				continue;
			}
			if (strncmp(line, "origin ", 7) != 0 ||
			    (sp = strchr(line + 7, ' ')) == NULL)
				continue;
			*sp++ = '\0';
			pid = strtonum(line + 7, 2, INT_MAX, &errstr);
			if (errstr != NULL || !split_origin_ok(sp) ||
			    n == SPLIT_MAX_ORIGINS)
				continue;
			if ((no = reallocarray(o, n + 1, sizeof(*o))) == NULL)
				break;
			o = no;
			if ((o[n].path = strdup(sp)) == NULL)
				break;
			o[n++].pid = (pid_t)pid;
		}
		fclose(fp);
		base = strrchr(path, '/');
		if (path[0] != '/' || base == NULL ||
		    strcmp(base + 1, SPLIT_EXCL_NAME) != 0 ||
		    (cg_walk(path, &level, mount, sizeof(mount)) == -1 &&
		    errno != ENOENT))
			log_warnx("split record %s names \"%s\", not a cgroup "
			    "of ours; left alone", statefile, path);
		else if (access(path, F_OK) == -1)
			;	/* gone already */
		else if (cg_empty(path, mount, o, n) == -1)
			failed = 1;
		else
			log_info("removed leftover cgroup %s", path);
	}
	/* also ours where this start would make it */
	if (cg_err[0] == '\0' && strcmp(path, excl_path) != 0 &&
	    access(excl_path, F_OK) == 0 &&
	    cg_empty(excl_path, cg_mount, o, n) == -1)
		failed = 1;
	origins_free(o, n);
	if (!failed && unlink(statefile) == -1 && errno != ENOENT)
		log_warn("%s", statefile);
	return failed ? -1 : 0;
}

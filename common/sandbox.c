/*
 * sandbox.c -- confinement for the children: chroot, identity,
 * capabilities (libcap-ng), no_new_privs, seccomp (libseccomp), Landlock.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/landlock.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "log.h"
#include "sandbox.h"

const char *const sandbox_base_syscalls[] = {
	/* I/O on fds we hold */
	"read", "readv", "write", "writev", "recvmsg", "sendmsg",
	"recvfrom", "sendto", "close", "fcntl", "lseek", "pread64",
	"pwrite64", "dup", "dup2", "dup3",
	/* libevent */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select",
	"pselect6", "pipe", "pipe2", "eventfd2",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* time, identity, signals */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"clock_nanosleep", "nanosleep", "getpid", "gettid", "getuid",
	"geteuid", "getgid", "getegid", "getppid", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	/* stdio, libc */
	"fstat", "newfstatat", "statx", "getrandom", "futex",
	"sched_yield", "restart_syscall", "exit", "exit_group",
	"prctl", "uname", "getrlimit",
};
const size_t sandbox_nbase_syscalls = nitems(sandbox_base_syscalls);

int
sandbox_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	/*
	 * No fallback to a shared account such as nobody: other daemons
	 * running as it could signal or trace our children.
	 */
	if ((pw = getpwnam(name)) == NULL) {
		log_warnx("user %s does not exist: create it with "
		    "scripts/mkuser.sh or make install", name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_warnx("user %s has uid 0", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
sandbox_chroot(const char *dir)
{
	if (chroot(dir) == -1)
		fatal("chroot %s", dir);
	if (chdir("/") == -1)
		fatal("chdir /");
}

void
sandbox_drop(uid_t uid, gid_t gid, bool change_id)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (change_id) {
		if (capng_change_id(uid, gid, CAPNG_DROP_SUPP_GRP |
		    CAPNG_CLEAR_BOUNDING) != 0)
			fatalx("capng_change_id %u:%u failed", uid, gid);
	} else {
		if (setgroups(0, NULL) == -1)
			fatal("setgroups");
		if (capng_apply(CAPNG_SELECT_ALL) != 0)
			fatalx("capng_apply failed");
	}
	/* Belt and braces: verify nothing is left. */
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		fatalx("capabilities remain after drop");
	if (change_id && (getuid() != uid || geteuid() != uid ||
	    getgid() != gid || getegid() != gid))
		fatalx("identity change to %u:%u failed", uid, gid);
}

void
sandbox_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}

#ifdef VPND_TESTHOOKS
/*
 * With VPND_SANDBOX_DUMP in the environment, a test build prints every
 * allow-list entry it installs on standard error, one per line, so a
 * regress test can compare them with the approved lists.
 */
static void
sandbox_dump(const char *kind, const char *a, const char *b)
{
	if (getenv("VPND_SANDBOX_DUMP") != NULL)
		dprintf(STDERR_FILENO, "sandbox-dump %s %s %s%s%s\n",
		    log_procname(), kind, a, b != NULL ? " " : "",
		    b != NULL ? b : "");
}
#else
#define sandbox_dump(kind, a, b)	do { } while (0)
#endif

void
sandbox_seccomp(const char *const *names, size_t n,
    const unsigned long *ioctls, size_t nioctl)
{
	struct scmp_arg_cmp	 self[1], own[2], req[1];
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 nr, r;

	for (i = 0; i < n; i++)
		sandbox_dump("seccomp", names[i], NULL);
	sandbox_dump("seccomp", "tgkill", "pid=self");
	sandbox_dump("seccomp", "kill", "pid=self");
	sandbox_dump("seccomp", "prlimit64", "pid=0,new=NULL");
#ifdef VPND_TESTHOOKS
	for (i = 0; i < nioctl; i++) {
		char	 cmd[32];

		snprintf(cmd, sizeof(cmd), "cmd=0x%lx", ioctls[i]);
		sandbox_dump("seccomp", "ioctl", cmd);
	}
	/*
	 * Under valgrind (regress/memcheck) the child runs valgrind's own
	 * syscalls too, which no list of ours names: the test build leaves
	 * seccomp off when the parent started the child through a wrapper.
	 */
	if (getenv(VPND_TEST_CHILD_WRAP) != NULL) {
		log_info("testhook: no seccomp under %s",
		    getenv(VPND_TEST_CHILD_WRAP));
		return;
	}
#endif

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("seccomp_init failed");
	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			fatalx("seccomp_rule_add %s: %s", names[i],
			    strerror(-r));
	}
	/*
	 * Signals and resource limits of this process only: raise() and
	 * abort() (tgkill), libc reading its own limits (prlimit64 with pid
	 * 0 and no new limit).  Never another process, same uid or not.
	 */
	self[0].arg = 0;
	self[0].op = SCMP_CMP_EQ;
	self[0].datum_a = (scmp_datum_t)getpid();
	self[0].datum_b = 0;
	own[0] = self[0];
	own[0].datum_a = 0;			/* pid 0: this process */
	own[1] = own[0];
	own[1].arg = 2;				/* no new limit */
	if ((r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill),
	    1, self)) != 0 ||
	    (r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill),
	    1, self)) != 0 ||
	    (r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(prlimit64), 2, own)) != 0)
		fatalx("seccomp_rule_add: %s", strerror(-r));
	for (i = 0; i < nioctl; i++) {
		req[0] = self[0];
		req[0].arg = 1;
		req[0].datum_a = ioctls[i];
		if ((r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(ioctl), 1, req)) != 0)
			fatalx("seccomp_rule_add ioctl: %s", strerror(-r));
	}
	if ((r = seccomp_load(ctx)) != 0)
		fatalx("seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
}

static int
ll_create_ruleset(const struct landlock_ruleset_attr *attr, size_t size,
    uint32_t flags)
{
	return syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static int
ll_add_rule(int fd, enum landlock_rule_type type, const void *attr,
    uint32_t flags)
{
	return syscall(__NR_landlock_add_rule, fd, type, attr, flags);
}

static int
ll_restrict_self(int fd, uint32_t flags)
{
	return syscall(__NR_landlock_restrict_self, fd, flags);
}

/*
 * Newer than the installed headers: the rights and scopes of Landlock
 * ABI 3 to 6, and the ruleset attribute they need.
 */
struct ll_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;	/* ABI 4 */
	uint64_t	 scoped;		/* ABI 6 */
};
#define LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)

int
sandbox_landlock(const struct landlock_path *paths, size_t n)
{
	struct ll_ruleset_attr		 ra;
	struct landlock_path_beneath_attr pb;
	uint64_t			 all, ro, dirmask;
	struct stat			 st;
	size_t				 i, rsize;
	int				 abi, rfd;

	if (n == 0)
		sandbox_dump("landlock", "none", NULL);
	for (i = 0; i < n; i++)
		sandbox_dump("landlock", paths[i].rw ? "rw" : "ro",
		    paths[i].path);
	abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0) {
		log_warnx("Landlock is not available (%s); dnsmgr is confined "
		    "by its own user, its chroot and seccomp only",
		    strerror(errno));
		return 0;
	}
	all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */
	if (abi >= 2)
		all |= LL_FS_REFER;
	if (abi >= 3)
		all |= LL_FS_TRUNCATE;
	if (abi >= 5)
		all |= LL_FS_IOCTL_DEV;
	ro = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	/* Access rights that only make sense on directories. */
	dirmask = LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM |
	    LL_FS_REFER;

	/*
	 * Every right the kernel knows is handled, so what no rule grants
	 * is denied: no TCP bind or connect (ABI 4), no signal to and no
	 * abstract UNIX socket of a process outside the domain (ABI 6).
	 */
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = all;
	rsize = sizeof(ra.handled_access_fs);
	if (abi >= 4) {
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		rsize += sizeof(ra.handled_access_net);
	}
	if (abi >= 6) {
		ra.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		rsize += sizeof(ra.scoped);
	}
	if ((rfd = ll_create_ruleset((const struct landlock_ruleset_attr *)
	    &ra, rsize, 0)) == -1)
		fatal("landlock_create_ruleset");
	for (i = 0; i < n; i++) {
		memset(&pb, 0, sizeof(pb));
		pb.allowed_access = (paths[i].rw ? all : ro);
		if ((pb.parent_fd = open(paths[i].path, O_PATH | O_CLOEXEC))
		    == -1) {
			log_debug("landlock: %s: %s", paths[i].path,
			    strerror(errno));
			continue;
		}
		if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
			pb.allowed_access &= ~dirmask;
		if (ll_add_rule(rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1)
			fatal("landlock_add_rule %s", paths[i].path);
		close(pb.parent_fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (ll_restrict_self(rfd, 0) == -1)
		fatal("landlock_restrict_self");
	close(rfd);
	return abi;
}

void
sandbox_proctitle(const char *name)
{
	char	comm[16];

	setproctitle("%s", name);
	snprintf(comm, sizeof(comm), "vpnd-%s", name);
	(void)prctl(PR_SET_NAME, comm, 0, 0, 0);
}

static int	 sandbox_write_file(const char *, const char *);

/*
 * Without root: unshare(CLONE_NEWUSER) gives this process every
 * capability inside a user namespace of its own, where its uid and gid
 * are mapped to themselves and nothing else is; that is enough to chroot,
 * and the capabilities are dropped right after. 0 when confined, -1 with
 * errno when the kernel refuses an unprivileged user namespace (nothing
 * has changed then). Fatal once the namespace exists but cannot be set
 * up: a half-built confinement is not one.
 */
int
sandbox_userns_chroot(const char *dir)
{
	char	 buf[64];
	uid_t	 uid = geteuid();
	gid_t	 gid = getegid();

	if (unshare(CLONE_NEWUSER) == -1)
		return -1;
	if (sandbox_write_file("/proc/self/setgroups", "deny") == -1)
		fatal("%s: /proc/self/setgroups", __func__);
	(void)snprintf(buf, sizeof(buf), "%u %u 1", (unsigned int)uid,
	    (unsigned int)uid);
	if (sandbox_write_file("/proc/self/uid_map", buf) == -1)
		fatal("%s: /proc/self/uid_map", __func__);
	(void)snprintf(buf, sizeof(buf), "%u %u 1", (unsigned int)gid,
	    (unsigned int)gid);
	if (sandbox_write_file("/proc/self/gid_map", buf) == -1)
		fatal("%s: /proc/self/gid_map", __func__);
	sandbox_chroot(dir);
	return 0;
}

static int
sandbox_write_file(const char *path, const char *s)
{
	size_t	 len = strlen(s);
	int	 fd, save;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, s, len) != (ssize_t)len) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return close(fd);
}

/*
 * Without root, capabilities come from nowhere but a user namespace of
 * our own (and a parent's file capability, which the parent kept from
 * this exec): drop them all. The bounding set can be cleared only with
 * CAP_SETPCAP, which we have inside our own user namespace and not
 * outside it; identity and groups stay (changing them needs privilege
 * in the namespace that owns them).
 */
void
sandbox_drop_unpriv(bool own_userns)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(own_userns ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS)
	    != 0)
		fatalx("capng_apply failed");
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		fatalx("capabilities remain after drop");
}

/*
 * Landlock handling every file access right with no rule at all: no file
 * may be opened, created, removed or executed any more. Descriptors held
 * already are not affected. The ABI, 0 when the kernel has no Landlock.
 */
int
sandbox_landlock_none(void)
{
	int	 abi;

	abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0)
		return 0;
	return sandbox_landlock(NULL, 0);
}

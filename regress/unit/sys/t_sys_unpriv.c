/*
 * t_sys_unpriv.c -- the confinement a child gets without root: in a
 * process that is not root (nobody, when the test runs as root), the
 * user namespace and chroot, the capability drop and Landlock with no
 * file access, each checked from inside.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

#define NOBODY	65534

struct result {
	uid_t	 uid_before, uid_after;
	gid_t	 gid_before, gid_after;
	int	 userns, userns_errno;
	int	 root_is_dir;		/* "/" is the directory we gave */
	int	 root_entries;		/* entries in "/" */
	int	 caps_left;		/* effective, permitted, inheritable */
	int	 bnd_left;		/* capabilities in the bounding set */
	int	 abi;			/* Landlock, 0 if none */
	int	 open_errno;		/* open("/") after Landlock */
	int	 held_ok;		/* a descriptor held before still reads */
};

static int
count_entries(DIR *d)
{
	struct dirent	*de;
	int		 n = 0;

	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	return n;
}

static void
confine(const char *dir, const struct stat *dst, struct result *r)
{
	struct stat	 st;
	DIR		*d;
	int		 fd, held, cap;

	r->uid_before = geteuid();
	r->gid_before = getegid();
	if (sandbox_userns_chroot(dir) == 0) {
		r->userns = 1;
		r->root_is_dir = stat("/", &st) == 0 &&
		    st.st_ino == dst->st_ino && st.st_dev == dst->st_dev;
		if ((d = opendir("/")) != NULL) {
			r->root_entries = count_entries(d);
			closedir(d);
		}
	} else
		r->userns_errno = errno;
	r->uid_after = geteuid();
	r->gid_after = getegid();

	sandbox_drop_unpriv(r->userns);
	capng_get_caps_process();
	r->caps_left = capng_have_capabilities(CAPNG_SELECT_CAPS) !=
	    CAPNG_NONE;
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			r->bnd_left++;

	held = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sandbox_no_new_privs();
	r->abi = sandbox_landlock_none();
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		r->open_errno = errno;
	else
		close(fd);
	if (held != -1 && (d = fdopendir(held)) != NULL) {
		r->held_ok = 1;
		(void)count_entries(d);
		closedir(d);
	}
}

int
main(void)
{
	char		 dir[] = "/tmp/t_sys_unpriv.XXXXXX";
	struct result	 r;
	struct stat	 dst;
	ssize_t		 n;
	pid_t		 pid;
	uid_t		 uid;
	int		 p[2], status, root;

	plan_no_plan();
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1 ||
	    stat(dir, &dst) == -1)
		skip_all("no temporary directory: %s", strerror(errno));
	root = geteuid() == 0;
	uid = root ? NOBODY : geteuid();
	if (pipe(p) == -1)
		skip_all("pipe: %s", strerror(errno));

	if ((pid = fork()) == -1)
		skip_all("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		if (root && (setgroups(0, NULL) == -1 ||
		    setresgid(NOBODY, NOBODY, NOBODY) == -1 ||
		    setresuid(NOBODY, NOBODY, NOBODY) == -1))
			_exit(2);
		/*
		 * The uid change made us undumpable, and /proc/self root's;
		 * vpnd's children come from an exec, which undoes that.
		 */
		if (root && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
			_exit(2);
		memset(&r, 0, sizeof(r));
		confine(dir, &dst, &r);
		n = write(p[1], &r, sizeof(r));
		/* no exit handlers: a leak checker could not run in here */
		_exit(n == sizeof(r) ? 0 : 3);
	}
	close(p[1]);
	memset(&r, 0, sizeof(r));
	n = read(p[0], &r, sizeof(r));
	close(p[0]);
	(void)waitpid(pid, &status, 0);
	(void)rmdir(dir);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the confined child ran to the end (status %#x)", status);
	is_int(n, sizeof(r), "it reported what it saw");
	if (n != sizeof(r))
		return done_testing();

	is_int(r.uid_before, uid, "the child is not root (uid %u)",
	    (unsigned int)uid);
	is_int(r.uid_after, r.uid_before,
	    "its uid is the same after the user namespace");
	is_int(r.gid_after, r.gid_before, "so is its gid");
	if (r.userns) {
		ok(r.root_is_dir, "its root is the directory it was given");
		is_int(r.root_entries, 0, "which is empty");
		is_int(r.bnd_left, 0,
		    "its bounding set is empty (cleared in its namespace)");
	} else
		diag("no unprivileged user namespace here (%s): no chroot",
		    strerror(r.userns_errno));
	ok(!r.caps_left, "no capability effective, permitted or inheritable");
	if (r.abi > 0) {
		is_int(r.open_errno, EACCES,
		    "Landlock ABI %d: open(\"/\") is refused", r.abi);
		ok(r.held_ok, "a directory opened before is still readable");
	} else
		diag("no Landlock here");
	return done_testing();
}

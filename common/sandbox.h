/*
 * sandbox.h -- the Linux forms of chroot+setresuid+pledge+unveil.
 */
#ifndef VPND_SANDBOX_H
#define VPND_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Look the dedicated user up; -1 (logged) if it is missing or root. */
int	 sandbox_lookup_user(const char *, uid_t *, gid_t *);
/* chroot(dir) + chdir("/"). dir must exist, be owned by root, be empty. */
void	 sandbox_chroot(const char *dir);
/* Become uid/gid with no supplementary groups and no capability at all,
 * bounding set cleared. With uid 0, stays root but powerless. */
void	 sandbox_drop(uid_t, gid_t, bool change_id);
void	 sandbox_no_new_privs(void);
/* Kill the process on any syscall not listed (names as libseccomp knows
 * them). Unknown names on this architecture are skipped. ioctl is
 * allowed only with the requests listed; kill, tgkill and prlimit64 only
 * on the process itself. */
#ifdef VPND_TESTHOOKS
/*
 * Test build only: the children run through this program (valgrind's
 * wrapper), "WRAP vpnd-path -P name [-v]", and without seccomp.
 */
#define VPND_TEST_CHILD_WRAP	"VPND_TEST_CHILD_WRAP"
#endif
void	 sandbox_seccomp(const char *const *, size_t,
	    const unsigned long *ioctls, size_t nioctl);
/* Landlock: only the listed paths may be accessed (rw: read and write,
 * else read and execute). Returns the ABI version, 0 when unsupported. */
struct landlock_path {
	const char	*path;
	bool		 rw;
};
int	 sandbox_landlock(const struct landlock_path *, size_t);
/*
 * Without root (the parent runs from a binary with a file capability):
 * chroot(dir) inside a fresh user namespace where only our own uid and
 * gid are mapped, -1 with errno if the kernel refuses one; every
 * capability dropped (the bounding set too when in our own namespace);
 * Landlock with no file access at all, its ABI or 0.
 */
int	 sandbox_userns_chroot(const char *dir);
void	 sandbox_drop_unpriv(bool own_userns);
int	 sandbox_landlock_none(void);
/* The process title "vpnd: name", and comm. */
void	 sandbox_proctitle(const char *);
/* Syscalls every child needs: libevent, imsg, malloc, time, exit. */
extern const char *const sandbox_base_syscalls[];
extern const size_t sandbox_nbase_syscalls;

#endif /* VPND_SANDBOX_H */

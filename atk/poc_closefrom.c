/*
 * poc_closefrom.c -- item 7 (8d014f5): closefrom()'s fallback, taken when
 * close_range(2) fails (kernels before 5.9; a container's seccomp profile
 * that predates it), closes only up to sysconf(_SC_OPEN_MAX), the *soft*
 * RLIMIT_NOFILE (and at most 65536). A descriptor above it stays open
 * across the exec that closefrom() was to protect (OpenBSD: every
 * descriptor from lowfd up is closed). Here: fd 200 is open, the soft
 * limit is lowered to 64, close_range is made to fail with ENOSYS by a
 * seccomp filter, closefrom(3): fd 200 survives.
 * Build: cc -D_GNU_SOURCE -I../common -o /tmp/poc_closefrom poc_closefrom.c ../common/bsdcompat.c -lseccomp
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

void	closefrom(int);

int
main(void)
{
	struct rlimit	 rl;
	scmp_filter_ctx	 ctx;
	int		 fd;

	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 200) == -1)
		return 2;
	close(fd);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 2;
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(close_range), 0) != 0 || seccomp_load(ctx) != 0)
		return 2;
	closefrom(3);
	if (fcntl(200, F_GETFD) != -1) {
		printf("LEAK: fd 200 still open after closefrom(3) "
		    "(close_range unavailable, soft limit 64)\n");
		return 1;
	}
	printf("ok: fd 200 closed\n");
	return 0;
}

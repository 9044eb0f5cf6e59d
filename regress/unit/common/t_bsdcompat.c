/*
 * t_bsdcompat.c -- the BSD functions vpnd carries itself
 * (common/bsdcompat.c) instead of mapping libbsd: strlcpy, strlcat,
 * reallocarray, recallocarray, freezero, strtonum, heapsort, closefrom,
 * setproctitle.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "compat.h"
#include "tap.h"

static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

int
main(void)
{
	char		 buf[8], *p, *q, args[] = "prog\0-P\0netmgr\0";
	char		*argv[3];
	const char	*err;
	unsigned char	 keys[200][32];
	int		 v[1000], i, ok_sorted, fds[4];
	long long	 n;
	volatile size_t	 big;

	plan(37);

	/* strlcpy, strlcat: truncate, terminate, return the length tried */
	is_int((int)strlcpy(buf, "abc", sizeof(buf)), 3, "strlcpy: length");
	is_str(buf, "abc", "strlcpy: copied");
	is_int((int)strlcpy(buf, "abcdefghij", sizeof(buf)), 10,
	    "strlcpy: the source's length when truncated");
	is_str(buf, "abcdefg", "strlcpy: truncated and terminated");
	buf[0] = 'x';
	is_int((int)strlcpy(buf, "abc", 0), 3, "strlcpy: size 0");
	ok(buf[0] == 'x', "strlcpy: size 0 writes nothing");
	strlcpy(buf, "ab", sizeof(buf));
	is_int((int)strlcat(buf, "cd", sizeof(buf)), 4, "strlcat: length");
	is_str(buf, "abcd", "strlcat: appended");
	is_int((int)strlcat(buf, "efghij", sizeof(buf)), 10,
	    "strlcat: the length tried when truncated");
	is_str(buf, "abcdefg", "strlcat: truncated and terminated");
	memset(buf, 'z', sizeof(buf));
	is_int((int)strlcat(buf, "ab", sizeof(buf)), (int)sizeof(buf) + 2,
	    "strlcat: an unterminated buffer is left alone");

	/* reallocarray, recallocarray, freezero */
	errno = 0;
	big = SIZE_MAX / 2;	/* not a constant: the compiler would refuse */
	ok(reallocarray(NULL, big, 4) == NULL && errno == ENOMEM,
	    "reallocarray: an overflowing size is refused");
	p = recallocarray(NULL, 0, 4, 2);
	ok(p != NULL && memcmp(p, "\0\0\0\0\0\0\0\0", 8) == 0,
	    "recallocarray from NULL: zeroed");
	memcpy(p, "abcdefgh", 8);
	q = recallocarray(p, 4, 8, 2);
	ok(q != NULL && memcmp(q, "abcdefgh", 8) == 0 &&
	    memcmp(q + 8, "\0\0\0\0\0\0\0\0", 8) == 0,
	    "recallocarray: grown, kept, the new part zeroed");
	p = recallocarray(q, 8, 2, 2);
	ok(p != NULL && memcmp(p, "abcd", 4) == 0,
	    "recallocarray: shrunk, the front kept");
	errno = 0;
	ok(recallocarray(p, 2, big, 4) == NULL && errno == ENOMEM,
	    "recallocarray: an overflowing size is refused, the old kept");
	freezero(p, 4);
	freezero(NULL, 10);
	ok(1, "freezero: NULL is nothing");

	/* strtonum */
	n = strtonum("42", 0, 100, &err);
	ok(n == 42 && err == NULL, "strtonum: in range");
	n = strtonum("-1", 0, 100, &err);
	ok(n == 0 && err != NULL && strcmp(err, "too small") == 0 &&
	    errno == ERANGE, "strtonum: too small");
	n = strtonum("101", 0, 100, &err);
	ok(n == 0 && err != NULL && strcmp(err, "too large") == 0,
	    "strtonum: too large");
	n = strtonum("99999999999999999999", 0, LLONG_MAX, &err);
	ok(n == 0 && err != NULL && strcmp(err, "too large") == 0,
	    "strtonum: past long long");
	n = strtonum("12x", 0, 100, &err);
	ok(n == 0 && err != NULL && strcmp(err, "invalid") == 0 &&
	    errno == EINVAL, "strtonum: trailing garbage is invalid");
	n = strtonum("", 0, 100, &err);
	ok(err != NULL && strcmp(err, "invalid") == 0,
	    "strtonum: empty is invalid");
	n = strtonum("5", 10, 1, &err);
	ok(err != NULL && strcmp(err, "invalid") == 0,
	    "strtonum: min > max is invalid");

	/* heapsort */
	ok(heapsort(v, 0, sizeof(v[0]), cmp_int) == 0 &&
	    heapsort(v, 1, sizeof(v[0]), cmp_int) == 0, "heapsort: 0 and 1");
	srandom(7);
	for (i = 0; i < 1000; i++)
		v[i] = (int)(random() % 200) - 100;	/* duplicates */
	ok(heapsort(v, 1000, sizeof(v[0]), cmp_int) == 0, "heapsort: 1,000");
	for (i = 1, ok_sorted = 1; i < 1000; i++)
		if (v[i - 1] > v[i])
			ok_sorted = 0;
	ok(ok_sorted, "heapsort: ascending, duplicates and all");
	v[0] = 2;
	v[1] = 1;
	heapsort(v, 2, sizeof(v[0]), cmp_int);
	ok(v[0] == 1 && v[1] == 2, "heapsort: two");
	for (i = 0; i < 200; i++) {
		memset(keys[i], 0, 32);
		keys[i][31] = (unsigned char)(199 - i);
		keys[i][0] = (unsigned char)(i % 3);
	}
	heapsort(keys, 200, 32, cmp_key);
	for (i = 1, ok_sorted = 1; i < 200; i++)
		if (memcmp(keys[i - 1], keys[i], 32) >= 0)
			ok_sorted = 0;
	ok(ok_sorted, "heapsort: 200 keys of 32 bytes, strictly ascending");
	errno = 0;
	ok(heapsort(v, 2, 0, cmp_int) == -1 && errno == EINVAL,
	    "heapsort: size 0 refused");

	/* closefrom */
	for (i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	ok(fds[0] > 2 && fds[3] > fds[2], "four descriptors open");
	closefrom(fds[2]);
	ok(fcntl(fds[0], F_GETFD) != -1 && fcntl(fds[1], F_GETFD) != -1,
	    "closefrom: the ones below stay open");
	ok(fcntl(fds[2], F_GETFD) == -1 && fcntl(fds[3], F_GETFD) == -1 &&
	    errno == EBADF, "closefrom: the rest are closed");
	close(fds[0]);
	close(fds[1]);

	/*
	 * Without close_range (ENOSYS here, from a seccomp filter): also a
	 * descriptor above RLIMIT_NOFILE, open from before it was lowered,
	 * is closed.
	 */
	{
		struct rlimit	 rl;
		scmp_filter_ctx	 ctx;
		pid_t		 pid;
		int		 st;

		if ((pid = fork()) == 0) {
			if ((fds[0] = open("/dev/null", O_RDONLY)) == -1 ||
			    dup2(fds[0], 200) == -1 ||
			    getrlimit(RLIMIT_NOFILE, &rl) == -1)
				_exit(2);
			rl.rlim_cur = rl.rlim_max = 64;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
			    (ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
			    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
			    SCMP_SYS(close_range), 0) != 0 ||
			    seccomp_load(ctx) != 0)
				_exit(2);
			closefrom(3);
			_exit(fcntl(200, F_GETFD) == -1 && errno == EBADF &&
			    fcntl(fds[0], F_GETFD) == -1 ? 0 : 1);
		}
		ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0, "closefrom without close_range: "
		    "a descriptor above the soft limit is closed too");
	}

	/* setproctitle over the argument strings, never past them */
	argv[0] = args;
	argv[1] = args + 5;
	argv[2] = args + 8;
	setproctitle_init(3, argv, NULL);
	setproctitle("%s", "netmgr");
	ok(memcmp(args, "prog: netmgr\0", 13) == 0 && args[14] == '\0',
	    "setproctitle: \"prog: netmgr\" over the arguments");
	setproctitle("%s", "a title far longer than the arguments were");
	ok(memcmp(args, "prog: a title f", 14) == 0 && args[14] == '\0',
	    "setproctitle: cut to the arguments' room, terminated");
	setproctitle("-%s", "bare");
	is_str(args, "bare", "setproctitle: a leading '-' drops the prefix");
	return done_testing();
}

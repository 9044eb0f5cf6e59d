/*
 * bsdcompat.c -- the few BSD functions the daemon's processes call,
 * written here so that the children need not map libbsd (and libmd,
 * which it brings): 130 KiB resident in every process that does.
 * Semantics as OpenBSD's manual pages give them. (vpnctl too: it
 * links this archive.)
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

static char	*pt_start;	/* the argv strings, to be overwritten */
static size_t	 pt_len;
static char	 pt_prog[32];

size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	 len = strlen(src);

	if (dsize > 0) {
		size_t	 n = len < dsize - 1 ? len : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

size_t
strlcat(char *dst, const char *src, size_t dsize)
{
	size_t	 dlen = strnlen(dst, dsize);

	if (dlen == dsize)
		return dsize + strlen(src);
	return dlen + strlcpy(dst + dlen, src, dsize - dlen);
}

void *
reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, nmemb * size);
}

/* Like reallocarray(), but what is freed or left behind is zeroed. */
void *
recallocarray(void *p, size_t oldnmemb, size_t nmemb, size_t size)
{
	size_t	 oldsize, newsize;
	void	*n;

	if (p == NULL)
		return calloc(nmemb, size);
	if (size != 0 && (nmemb > SIZE_MAX / size ||
	    oldnmemb > SIZE_MAX / size)) {
		errno = ENOMEM;
		return NULL;
	}
	newsize = nmemb * size;
	oldsize = oldnmemb * size;
	if ((n = malloc(newsize > 0 ? newsize : 1)) == NULL)
		return NULL;
	if (newsize > oldsize) {
		memcpy(n, p, oldsize);
		memset((char *)n + oldsize, 0, newsize - oldsize);
	} else
		memcpy(n, p, newsize);
	explicit_bzero(p, oldsize);
	free(p);
	return n;
}

void
freezero(void *p, size_t size)
{
	if (p == NULL)
		return;
	explicit_bzero(p, size);
	free(p);
}

long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstrp)
{
	long long	 ll = 0;
	char		*end;
	const char	*errstr = NULL;
	int		 save = errno;

	if (minval > maxval)
		errstr = "invalid";
	else {
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (s == end || *end != '\0')
			errstr = "invalid";
		else if ((ll == LLONG_MIN && errno == ERANGE) || ll < minval)
			errstr = "too small";
		else if ((ll == LLONG_MAX && errno == ERANGE) || ll > maxval)
			errstr = "too large";
	}
	if (errstrp != NULL)
		*errstrp = errstr;
	errno = errstr != NULL ? (strcmp(errstr, "invalid") == 0 ? EINVAL :
	    ERANGE) : save;
	return errstr != NULL ? 0 : ll;
}

/*
 * The process title in ps(1) and /proc/PID/cmdline: "prog: text" written
 * over the argument strings (no more room than they had; the
 * environment is left alone).
 */
void
setproctitle_init(int argc, char *argv[], char *envp[])
{
	const char	*slash;
	char		*end;
	int		 i;

	(void)envp;
	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return;
	slash = strrchr(argv[0], '/');
	strlcpy(pt_prog, slash != NULL ? slash + 1 : argv[0],
	    sizeof(pt_prog));
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	pt_start = argv[0];
	pt_len = (size_t)(end - argv[0]);
}

void
setproctitle(const char *fmt, ...)
{
	char	 title[256];
	size_t	 n;
	va_list	 ap;
	int	 r;

	if (pt_start == NULL || pt_len < 2)
		return;
	if (fmt == NULL)
		r = snprintf(title, sizeof(title), "%s", pt_prog);
	else if (fmt[0] == '-') {
		va_start(ap, fmt);
		r = vsnprintf(title, sizeof(title), fmt + 1, ap);
		va_end(ap);
	} else {
		r = snprintf(title, sizeof(title), "%s: ", pt_prog);
		if (r > 0 && (size_t)r < sizeof(title)) {
			va_start(ap, fmt);
			(void)vsnprintf(title + r, sizeof(title) - (size_t)r,
			    fmt, ap);
			va_end(ap);
		}
	}
	if (r < 0)
		return;
	n = strnlen(title, sizeof(title) - 1);
	if (n > pt_len - 1)
		n = pt_len - 1;
	memset(pt_start, 0, pt_len);
	memcpy(pt_start, title, n);
}

/* libbsd's <unistd.h> names getopt() so; plain getopt() is enough here. */
#undef getopt
int	 bsd_getopt(int, char *const [], const char *);

int
bsd_getopt(int argc, char *const argv[], const char *shortopts)
{
	return getopt(argc, argv, shortopts);
}

/*
 * Closes every descriptor from lowfd up. Without close_range(2) (before
 * Linux 5.9, or a seccomp profile that predates it) the open ones are
 * read from /proc/self/fd: a loop up to the soft RLIMIT_NOFILE would
 * leave those above it, opened before the limit was lowered, open.
 */
void
closefrom(int lowfd)
{
	struct rlimit	 rl;
	struct dirent	*de;
	DIR		*d;
	long		 max, fd;
	char		*end;
	int		 closed;

	if (lowfd < 0)
		lowfd = 0;
	if (close_range((unsigned int)lowfd, ~0U, 0) == 0)
		return;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		do {
			closed = 0;
			while ((de = readdir(d)) != NULL) {
				errno = 0;
				fd = strtol(de->d_name, &end, 10);
				if (errno != 0 || *end != '\0' ||
				    end == de->d_name || fd < lowfd ||
				    fd > INT_MAX || fd == dirfd(d))
					continue;
				(void)close((int)fd);
				closed = 1;
			}
			rewinddir(d);
		} while (closed);
		(void)closedir(d);
		return;
	}
	/* no /proc: as far as the hard limit goes (the soft one may be lower) */
	if ((max = sysconf(_SC_OPEN_MAX)) < 0)
		max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    (long)rl.rlim_max > max)
		max = rl.rlim_max > (1 << 20) ? (1 << 20) : (long)rl.rlim_max;
	for (fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

/* In place, no allocation (glibc's qsort may allocate and ask sysinfo). */
static void
hs_swap(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char	 t;

	while (size-- > 0) {
		t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static void
hs_sift(unsigned char *base, size_t root, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	size_t	 child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && cmp(base + child * size,
		    base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		hs_swap(base + root * size, base + child * size, size);
		root = child;
	}
}

int
heapsort(void *vbase, size_t nmemb, size_t size,
    int (*cmp)(const void *, const void *))
{
	unsigned char	*base = vbase;
	size_t		 i;

	if (nmemb <= 1)
		return 0;
	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = nmemb / 2; i-- > 0;)
		hs_sift(base, i, nmemb, size, cmp);
	for (i = nmemb - 1; i > 0; i--) {
		hs_swap(base, base + i * size, size);
		hs_sift(base, 0, i, size, cmp);
	}
	return 0;
}

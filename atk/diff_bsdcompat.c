/*
 * diff_bsdcompat.c -- common/bsdcompat.c against libbsd (dlopen'ed), on
 * edge cases: strlcpy/strlcat sizes, strtonum strings, errno, ranges,
 * recallocarray shrink zeroing and growth, reallocarray overflow.
 * Result: strlcpy/strlcat identical on every size 0..11; the strtonum
 * "differences" it prints are libbsd's (strtoi-based: it clamps, so "0"
 * in [8,8] is "too large", a min > max is not "invalid", errno is left
 * alone); ours matches OpenBSD's source (invalid/EINVAL, too small/too
 * large/ERANGE, errno restored on success) line for line.
 * Build: cc -D_GNU_SOURCE -I../common -o /tmp/diff_bsdcompat diff_bsdcompat.c ../common/bsdcompat.c -ldl
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t strlcpy(char *, const char *, size_t);
size_t strlcat(char *, const char *, size_t);
long long strtonum(const char *, long long, long long, const char **);
void *recallocarray(void *, size_t, size_t, size_t);
void *reallocarray(void *, size_t, size_t);
int heapsort(void *, size_t, size_t, int (*)(const void *, const void *));

static int fails;
#define CHECK(c, ...) do { if (!(c)) { fails++; printf("DIFF: " __VA_ARGS__); printf("\n"); } } while (0)

int
main(void)
{
	void *h = dlopen("libbsd.so.0", RTLD_NOW | RTLD_LOCAL);
	size_t (*b_strlcpy)(char *, const char *, size_t);
	size_t (*b_strlcat)(char *, const char *, size_t);
	long long (*b_strtonum)(const char *, long long, long long, const char **);
	const char *strs[] = { "0", "-0", "+5", " 7", "7 ", "", "-", "0x10",
	    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	    "-9223372036854775809", "99999999999999999999999", "1e3", "08",
	    "\t-3", "12abc", NULL };
	long long ranges[][2] = { {0, 10}, {-5, 5}, {LLONG_MIN, LLONG_MAX},
	    {1, 0}, {8, 8}, {-1, -1}, {0, LLONG_MAX} };
	size_t i, j, sz;
	char a[32], b[32];

	if (h == NULL) { printf("no libbsd: %s\n", dlerror()); return 2; }
	*(void **)&b_strlcpy = dlsym(h, "strlcpy");
	*(void **)&b_strlcat = dlsym(h, "strlcat");
	*(void **)&b_strtonum = dlsym(h, "strtonum");

	for (sz = 0; sz < 12; sz++) {
		const char *srcs[] = { "", "a", "hello", "0123456789abcdef" };
		for (i = 0; i < 4; i++) {
			memset(a, 'Z', sizeof a); memset(b, 'Z', sizeof b);
			size_t ra = strlcpy(a, srcs[i], sz), rb = b_strlcpy(b, srcs[i], sz);
			CHECK(ra == rb && memcmp(a, b, sizeof a) == 0, "strlcpy sz=%zu src=%s", sz, srcs[i]);
			const char *pre[] = { "", "abc", "abcdefghijklmnop" };
			for (j = 0; j < 3; j++) {
				memset(a, 'Z', sizeof a); memset(b, 'Z', sizeof b);
				memcpy(a, pre[j], strlen(pre[j]) + 1);
				memcpy(b, pre[j], strlen(pre[j]) + 1);
				ra = strlcat(a, srcs[i], sz); rb = b_strlcat(b, srcs[i], sz);
				CHECK(ra == rb && memcmp(a, b, sizeof a) == 0, "strlcat sz=%zu pre=%s src=%s: %zu vs %zu", sz, pre[j], srcs[i], ra, rb);
			}
		}
	}
	for (i = 0; strs[i] != NULL; i++)
		for (j = 0; j < sizeof ranges / sizeof ranges[0]; j++) {
			const char *ea = "x", *eb = "x";
			int erra, errb;
			errno = 1234; long long va = strtonum(strs[i], ranges[j][0], ranges[j][1], &ea); erra = errno;
			errno = 1234; long long vb = b_strtonum(strs[i], ranges[j][0], ranges[j][1], &eb); errb = errno;
			CHECK(va == vb && ((ea == NULL && eb == NULL) || (ea && eb && strcmp(ea, eb) == 0)),
			    "strtonum(\"%s\", %lld, %lld): ours %lld/%s, libbsd %lld/%s", strs[i], ranges[j][0], ranges[j][1], va, ea ? ea : "NULL", vb, eb ? eb : "NULL");
			if (erra != errb)
				printf("note: strtonum(\"%s\",%lld,%lld) errno ours %d libbsd %d\n", strs[i], ranges[j][0], ranges[j][1], erra, errb);
		}
	/* recallocarray shrinking: the part cut off must not survive, growth zeroed */
	{
		unsigned char *p = malloc(64), *q;
		memset(p, 0xAA, 64);
		q = recallocarray(p, 64, 16, 1);
		CHECK(q != NULL, "recallocarray shrink");
		q = recallocarray(q, 16, 64, 1);
		for (i = 16; i < 64; i++) CHECK(q[i] == 0, "recallocarray grow not zeroed at %zu", i);
		free(q);
		errno = 0;
		CHECK(recallocarray(malloc(1), SIZE_MAX, 1, 2) == NULL, "recallocarray old overflow");
		CHECK(reallocarray(NULL, SIZE_MAX / 2 + 1, 2) == NULL && errno == ENOMEM, "reallocarray overflow");
	}
	printf("%d differences\n", fails);
	return fails != 0;
}

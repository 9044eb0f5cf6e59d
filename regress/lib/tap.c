/*
 * tap.c -- Test Anything Protocol output for the C unit tests.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int	tap_planned = -1;
static int	tap_run;
static int	tap_failed;

void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void
plan_no_plan(void)
{
	tap_planned = -1;
}

void
skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

void
skip(int n, const char *fmt, ...)
{
	va_list ap;

	while (n-- > 0) {
		tap_run++;
		printf("ok %d # SKIP ", tap_run);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static void
vreport(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		printf("#   Failed at %s line %d.\n", file, line);
	fflush(stdout);
}

int
ok_(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

int
is_int_(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return pass;
}

static void
hexdump(const char *label, const unsigned char *p, size_t n)
{
	size_t i;

	printf("#   %s: ", label);
	for (i = 0; i < n && i < 64; i++)
		printf("%02x", p[i]);
	printf("%s\n", n > 64 ? "..." : "");
}

int
is_mem_(const void *got, const void *want, size_t n, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	int pass = memcmp(got, want, n) == 0;

	va_start(ap, fmt);
	vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		hexdump("     got", got, n);
		hexdump("expected", want, n);
	}
	return pass;
}

int
is_str_(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int pass;

	pass = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_start(ap, fmt);
	vreport(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#          got: '%s'\n#     expected: '%s'\n",
		    got ? got : "(null)", want ? want : "(null)");
	return pass;
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
done_testing(void)
{
	if (tap_planned == -1)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
		return 1;
	}
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

size_t
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (*s != '\0') {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (n == max || sscanf(s, "%2x", &v) != 1 ||
		    !isxdigit((unsigned char)s[1])) {
			fprintf(stderr, "unhex: bad literal\n");
			abort();
		}
		out[n++] = v;
		s += 2;
	}
	return n;
}

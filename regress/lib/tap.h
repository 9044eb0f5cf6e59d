/*
 * tap.h -- a tiny Test Anything Protocol emitter for the C unit tests.
 *
 *	plan(n);  ok(cond, "fmt", ...);  is_int(got, want, "name");
 *	return done_testing();
 */
#ifndef VPND_TAP_H
#define VPND_TAP_H

#include <stddef.h>

void	plan(int);
void	plan_no_plan(void);
void	skip_all(const char *, ...) __attribute__((__format__(printf, 1, 2)));
int	ok_(int, const char *, int, const char *, ...)
	    __attribute__((__format__(printf, 4, 5)));
int	is_int_(long long, long long, const char *, int, const char *, ...)
	    __attribute__((__format__(printf, 5, 6)));
int	is_mem_(const void *, const void *, size_t, const char *, int,
	    const char *, ...) __attribute__((__format__(printf, 6, 7)));
int	is_str_(const char *, const char *, const char *, int,
	    const char *, ...) __attribute__((__format__(printf, 5, 6)));
void	diag(const char *, ...) __attribute__((__format__(printf, 1, 2)));
/* n assertions not run: "ok N # SKIP reason" each, naming what is lost. */
void	skip(int, const char *, ...) __attribute__((__format__(printf, 2, 3)));
int	done_testing(void);
/* Hex string to bytes; aborts the test on a malformed literal. */
size_t	unhex(const char *, unsigned char *, size_t);

#define ok(c, ...)		ok_(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(g, w, ...)	is_int_((g), (w), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(g, w, n, ...)	is_mem_((g), (w), (n), __FILE__, __LINE__, \
				    __VA_ARGS__)
#define is_str(g, w, ...)	is_str_((g), (w), __FILE__, __LINE__, __VA_ARGS__)

#endif /* VPND_TAP_H */

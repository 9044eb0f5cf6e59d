/*
 * compat.h -- the few BSD-isms libbsd does not give us.
 */
#ifndef VPND_COMPAT_H
#define VPND_COMPAT_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif
#ifndef __packed
#define __packed	__attribute__((__packed__))
#endif
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#ifndef nitems
#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))
#endif
#ifndef MINIMUM
#define MINIMUM(a, b)	(((a) < (b)) ? (a) : (b))
#endif
#ifndef MAXIMUM
#define MAXIMUM(a, b)	(((a) > (b)) ? (a) : (b))
#endif
#ifndef __predict_true
#define __predict_true(x)	__builtin_expect(!!(x), 1)
#define __predict_false(x)	__builtin_expect(!!(x), 0)
#endif

/*
 * A hot loop built for AVX-512, AVX2 and the baseline, one chosen when
 * the program is loaded (an ifunc). Not under ThreadSanitizer: GCC
 * instruments the resolver, which runs before TSan's runtime is up.
 */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define VPND_CLONES \
	__attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VPND_CLONES
#endif

#endif /* VPND_COMPAT_H */

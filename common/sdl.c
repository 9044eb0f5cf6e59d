/*
 * sdl.c -- libsystemd mapped with dlopen() by the children that use it,
 * when they use it (see sdl.h).
 *
 * The library is found by its soname, as the dynamic linker would have
 * found it at exec: a root-run daemon trusts its environment as it did
 * for every other library, and without root (AT_SECURE) the children
 * start with an empty environment and ld.so ignores LD_LIBRARY_PATH.
 * It is mapped before the sandbox closes (dlopen needs open and mmap),
 * once, and never unmapped.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define SDL_NO_REDIRECT
#include "sdl.h"

struct sdl	 sdl;
static int	 sdl_done;

int
sdl_load(char *err, size_t errlen)
{
	struct sdl	 s;
	void		*h, *p;
	const char	*e;

	if (sdl_done)
		return 0;
	memset(&s, 0, sizeof(s));
	if ((h = dlopen(SDL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		(void)snprintf(err, errlen, "%s", e != NULL ? e :
		    SDL_SONAME ": cannot load");
		return -1;
	}
#define SDL_FIND(f)							\
	if ((p = dlsym(h, #f)) == NULL) {				\
		(void)snprintf(err, errlen, "%s: no %s", SDL_SONAME, #f); \
		(void)dlclose(h);					\
		return -1;						\
	}								\
	memcpy(&s.f, &p, sizeof(p));
	SDL_FUNCS(SDL_FIND)
#undef SDL_FIND
	if ((p = dlsym(h, "sd_bus_object_vtable_format")) == NULL) {
		(void)snprintf(err, errlen, "%s: no %s", SDL_SONAME,
		    "sd_bus_object_vtable_format");
		(void)dlclose(h);
		return -1;
	}
	s.vtable_format = p;
	sdl = s;
	sdl_done = 1;
	return 0;
}

int
sdl_loaded(void)
{
	return sdl_done;
}

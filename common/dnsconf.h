/*
 * dnsconf.h -- the tunnel's resolvers as resolv.conf text, and running
 * resolvconf(8) on them.  Shared by dnsmgr, which writes the text into
 * resolv.conf, and the parent, which runs resolvconf (it needs root's
 * identity to write /run/resolvconf) on a list it validated itself.
 */
#ifndef VPND_DNSCONF_H
#define VPND_DNSCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * resolvconf's record name is this prefix and the interface: Debian's
 * resolvconf orders records by name (interface-order), and tun.* comes
 * right after loopback, so the tunnel's resolvers come first, as
 * wg-quick names its records.
 */
#define RESOLVCONF_PREFIX	"tun."
#define RESOLVCONF_TIMEOUT_MS	10000	/* resolvconf must finish by then */

/* resolvconf(8) operations */
#define DNS_RC_CHECK	0	/* is the program there? */
#define DNS_RC_ADD	1	/* resolvconf -a tun.IFNAME, the list on stdin */
#define DNS_RC_DEL	2	/* resolvconf -d tun.IFNAME */

/* A search or routing ("~name") domain fit for a file or a command line. */
bool	 dnsconf_domain_ok(const char *, size_t max);

/*
 * Appends "nameserver" lines and one "search" line (routing-only "~name"
 * domains left out) to buf at *off.  -1 if it does not fit or an address
 * family is bad.
 */
int	 dnsconf_lines(const struct prefix *, size_t,
	    const char (*)[CONF_DOMAIN_LEN], size_t, char *, size_t, size_t *);

/*
 * Runs "prog flag name" with in on its standard input: an empty
 * environment but PATH, no descriptor but 0-2, no capability, and a
 * deadline of ms milliseconds after which it is killed.  0 when it exits
 * with status 0; else -1 and a message in err.
 */
int	 resolvconf_run(const char *prog, const char *flag, const char *name,
	    const char *in, size_t inlen, int ms, char *err, size_t errlen);

/*
 * resolv_open() operations.  The file backend creates a missing
 * resolv.conf and, to restore that state, removes it again: only if it
 * is a regular file and empty (dnsmgr has emptied it).
 */
#define RESOLV_OPEN	0	/* an existing resolv.conf */
#define RESOLV_CREATE	1	/* the same, or a new empty one, mode 0644 */
#define RESOLV_REMOVE	2	/* unlink it if empty; no descriptor */

/*
 * Opens resolv.conf for reading and writing, through a symlink (whose
 * target, when it is one, goes to target; else target is "") and refuses
 * anything but a regular file.  The descriptor is close-on-exec;
 * *created says whether RESOLV_CREATE made the file.  0, or -1 with errno
 * (target may be set even then).
 */
int	 resolv_open(const char *path, int op, int *fdp, char *target,
	    size_t tlen, int *created);

#endif /* VPND_DNSCONF_H */

/*
 * lockdown.h -- the lockdown setting ("block connections without VPN"):
 * its words, shared by the parent (the setting file in the state
 * directory), the configuration parser (the Lockdown key) and the
 * control protocol's codec.
 */
#ifndef VPND_LOCKDOWN_H
#define VPND_LOCKDOWN_H

#include <stdbool.h>
#include <stddef.h>

#define LOCKDOWN_FILE		"lockdown"	/* in the state directory */
#define LOCKDOWN_FILE_MAX	64		/* longer is corrupt */

struct lockdown {
	bool	 on;
	bool	 allow_lan;	/* the LAN stays reachable (on only) */
};

/*
 * One of the words "off", "on", "on allow-lan", exactly (no blanks
 * around them, no other case): 0 and *ld set, else -1 and *ld untouched.
 */
int	 lockdown_parse_word(const char *s, struct lockdown *ld);

/*
 * The setting file: one of those words and a newline, nothing else, no
 * NUL. 0 and *ld set, else -1 and *ld untouched: the caller fails
 * closed.
 */
int	 lockdown_parse_file(const char *buf, size_t len, struct lockdown *ld);

/* The word for a setting (allow_lan counts only when on). */
const char *lockdown_word(const struct lockdown *ld);

#endif /* VPND_LOCKDOWN_H */

/*
 * appid.h -- vpnDisabledApps: application IDs and the systemd scope
 * names they run in. Pure functions, shared by netmgr (which refuses a
 * bad entry with a clear error) and the parent (which checks again and
 * matches the names it reads from cgroupfs).
 */
#ifndef VPND_APPID_H
#define VPND_APPID_H

#include <stddef.h>

#define APPID_MAX	255	/* an ID, as a file name */
#define APPID_ESC_LEN	(4 * APPID_MAX + 1)	/* escaped, with its NUL */
#define APPID_MAX_APPS	128	/* entries of one activation */

/*
 * A vpnDisabledApps entry to its desktop-file ID: "org.mozilla.firefox",
 * "org.mozilla.firefox.desktop" or the absolute path of such a file (its
 * name counts) all give "org.mozilla.firefox". The ID may hold letters,
 * digits, '.', '_' and '-' and starts with neither '.' nor '-'. 0 ok,
 * -1 if in is not such an entry (or id is too small).
 */
int	 appid_parse(const char *in, char *id, size_t idlen);

/*
 * The ID as systemd escapes it in a unit name: '-' as "\x2d", a leading
 * '.' as "\x2e". -1 if out is too small.
 */
int	 appid_escape(const char *id, char *out, size_t outlen);

/*
 * A directory name read under a user's slice: 1..255 bytes of letters,
 * digits and ":_.@-\", not "." or "..". Names are the user's to choose.
 */
int	 appid_name_ok(const char *name);

/*
 * Whether a cgroup named name is a scope of the application whose
 * escaped ID is esc, as systemd's launchers name them:
 * app-<id>-<random>.scope, app-gnome-<id>-<pid>.scope,
 * app-flatpak-<id>-<random>.scope (<random>, <pid>: letters and digits).
 */
int	 appid_scope_match(const char *name, const char *esc);

#endif /* VPND_APPID_H */

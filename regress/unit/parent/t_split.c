/*
 * t_split.c -- split tunnelling's checks on what it reads from outside:
 * the cgroup paths /proc/PID/cgroup and the state record give it to move
 * processes back to; vpnDisabledApps entries to desktop-file IDs, their
 * escaping as systemd does it, and which scope names (user-controlled,
 * read from cgroupfs) belong to which app.
 */
#include <limits.h>
#include <string.h>

#include "appid.h"
#include "parent.h"
#include "tap.h"

static const char *
id_of(const char *in)
{
	static char	 id[APPID_MAX + 1];

	if (appid_parse(in, id, sizeof(id)) == -1)
		return "(refused)";
	return id;
}

static const char *
esc_of(const char *id)
{
	static char	 esc[APPID_ESC_LEN];

	if (appid_escape(id, esc, sizeof(esc)) == -1)
		return "(too long)";
	return esc;
}

int
main(void)
{
	char	 longp[PATH_MAX];

	plan_no_plan();

	ok(split_origin_ok("/"), "the root");
	ok(split_origin_ok("/user.slice/user-1000.slice/session-2.scope"),
	    "a session scope");
	ok(split_origin_ok("/user.slice/user-1000.slice/user@1000.service/"
	    "app.slice/app-gnome-org.gnome.Terminal-1234.scope"),
	    "an app scope");
	ok(split_origin_ok("/a\\x2db"), "a systemd escape");
	ok(!split_origin_ok(""), "empty: refused");
	ok(!split_origin_ok("user.slice"), "relative: refused");
	ok(!split_origin_ok("/user.slice/../etc"), "a .. component: refused");
	ok(!split_origin_ok("/user.slice/.."), "a trailing ..: refused");
	ok(!split_origin_ok("/.."), "/..: refused");
	ok(!split_origin_ok("/a/./b"), "a . component: refused");
	ok(!split_origin_ok("/a//b"), "an empty component: refused");
	ok(!split_origin_ok("/a b"), "a space: refused");
	ok(!split_origin_ok("/a\nb"), "a newline (the record's separator): "
	    "refused");
	ok(!split_origin_ok("/a\033[31m"), "a control character: refused");
	ok(!split_origin_ok("/caf\xc3\xa9"), "a byte past ASCII: refused");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ok(!split_origin_ok(longp), "too long: refused");

	/* vpnDisabledApps entries */
	is_str(id_of("firefox"), "firefox", "a bare ID");
	is_str(id_of("org.mozilla.firefox.desktop"), "org.mozilla.firefox",
	    "a desktop-file ID: the suffix goes");
	is_str(id_of("/usr/share/applications/org.gnome.Terminal.desktop"),
	    "org.gnome.Terminal", "the path of a .desktop file: its name");
	is_str(id_of("/var/lib/flatpak/exports/share/applications/"
	    "com.valvesoftware.Steam.desktop"), "com.valvesoftware.Steam",
	    "a flatpak export");
	is_str(id_of("my-app_2.desktop"), "my-app_2", "'-' and '_' kept");
	is_str(id_of(""), "(refused)", "empty: refused");
	is_str(id_of(".desktop"), "(refused)", "only the suffix: refused");
	is_str(id_of("apps/firefox.desktop"), "(refused)",
	    "a relative path: refused");
	is_str(id_of("/usr/share/../x.desktop"), "(refused)",
	    "a path with ..: refused");
	is_str(id_of("/usr/share/applications/"), "(refused)",
	    "a directory: refused");
	is_str(id_of(".hidden"), "(refused)", "a leading '.': refused");
	is_str(id_of("-x"), "(refused)", "a leading '-': refused");
	is_str(id_of("fire fox"), "(refused)", "a space: refused");
	is_str(id_of("fire*fox"), "(refused)", "a glob: refused");
	is_str(id_of("a\\x2db"), "(refused)", "a backslash: refused");
	is_str(id_of("caf\xc3\xa9"), "(refused)", "non-ASCII: refused");
	is_str(id_of("x\ny"), "(refused)", "a newline: refused");
	memset(longp, 'a', 256);
	longp[256] = '\0';
	is_str(id_of(longp), "(refused)", "256 bytes: refused");
	longp[255] = '\0';
	ok(strcmp(id_of(longp), longp) == 0, "255 bytes: taken");

	/* systemd's escaping */
	is_str(esc_of("org.mozilla.firefox"), "org.mozilla.firefox",
	    "dots stay");
	is_str(esc_of("my-app"), "my\\x2dapp", "'-' becomes \\x2d");
	is_str(esc_of("a-b-c"), "a\\x2db\\x2dc", "every '-'");

	/* scopes */
	ok(appid_scope_match("app-gnome-firefox-12345.scope", "firefox"),
	    "app-gnome-<id>-<pid>.scope");
	ok(appid_scope_match("app-firefox-9b1d0c8e.scope", "firefox"),
	    "app-<id>-<random>.scope");
	ok(appid_scope_match("app-flatpak-org.mozilla.firefox-4242.scope",
	    "org.mozilla.firefox"), "app-flatpak-<id>-<n>.scope");
	ok(appid_scope_match("app-gnome-my\\x2dapp-7.scope", "my\\x2dapp"),
	    "an escaped '-' in the ID");
	ok(!appid_scope_match("app-gnome-my-app-7.scope", "my\\x2dapp"),
	    "the ID unescaped: not it");
	ok(!appid_scope_match("app-gnome-firefox-12345.scope", "gnome"),
	    "the launcher's name is not an app");
	ok(!appid_scope_match("app-gnome-firefoxx-1.scope", "firefox"),
	    "a longer ID: not it");
	ok(!appid_scope_match("app-gnome-firefox.scope", "firefox"),
	    "no random part: not it");
	ok(!appid_scope_match("app-gnome-firefoxab.scope", "firefox"),
	    "the ID run on into letters, no '-': not it");
	ok(!appid_scope_match("app-gnome-firefox-.scope", "firefox"),
	    "an empty random part: not it");
	ok(!appid_scope_match("app-gnome-firefox-1-2.scope", "firefox"),
	    "a random part with '-': not it");
	ok(!appid_scope_match("app-gnome-firefox-1.service", "firefox"),
	    "a service, not a scope");
	ok(!appid_scope_match("app-gnome-firefox-1.scope.x", "firefox"),
	    "not ending in .scope");
	ok(!appid_scope_match("session-2.scope", "firefox"),
	    "a session scope");
	ok(!appid_scope_match("app-kde-firefox-1.scope", "firefox"),
	    "an unknown launcher prefix");
	ok(!appid_scope_match("app-gnome-firefox-1 .scope", "firefox"),
	    "a space in the name");
	ok(!appid_scope_match("app-gnome-firefox-1/.scope", "firefox"),
	    "a slash in the name");
	ok(!appid_scope_match("app-gnome-firefox-1.scope", ""),
	    "an empty ID matches nothing");
	ok(!appid_scope_match("app-gnome-org.mozilla.firefox-1.scope",
	    "firefox"), "an ID's suffix is not the ID");
	ok(appid_name_ok("user@1000.service"), "user@1000.service: a name");
	ok(!appid_name_ok(".."), "..: not a name");
	ok(!appid_name_ok("a\tb"), "a tab: not a name");
	memset(longp, 'a', 256);
	longp[256] = '\0';
	ok(!appid_name_ok(longp), "256 bytes: not a name");
	return done_testing();
}

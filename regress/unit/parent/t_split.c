/*
 * t_split.c -- split tunnelling's checks on what it reads from outside:
 * the cgroup paths /proc/PID/cgroup and the state record give it to move
 * processes back to.
 */
#include <limits.h>
#include <string.h>

#include "parent.h"
#include "tap.h"

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
	return done_testing();
}

/*
 * t_lockdown.c -- the parent's lockdown setting: the file in the state
 * directory read strictly (missing: off; anything corrupt, a symbolic
 * link, a directory, a file others may write: on, without the LAN, fail
 * closed), and netmgr's IMSG_LOCKDOWN_SET checked before anything is
 * saved or installed (a wrong size stops the parent; a value outside
 * 0/1 or the LAN without lockdown is refused with no kernel call and the
 * file untouched); a good one is saved and the lockdown table installed,
 * and off removes it. Every kernel call is a stub (sys_stubs.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "imsgev.h"
#include "lockdown.h"
#include "parent.h"
#include "vpnd.h"
#include "tap.h"
#include "sys_stubs.h"

static struct imsgev	 par;
static struct imsgbuf	 nm;
static char		 statedir[] = "/tmp/vpnd-t-lockdown.XXXXXX";
static char		 path[256];

static void
put(const char *text, mode_t mode)
{
	int	 fd;

	(void)unlink(path);
	(void)rmdir(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1)
		abort();
	close(fd);
}

static char *
get(void)
{
	static char	 buf[128];
	ssize_t		 n;
	int		 fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* lockdown_load: its return, and the setting as a word. */
static int
load(const char **word)
{
	struct lockdown	 ld = { false, true };
	int		 rv;

	rv = lockdown_load(path, &ld);
	*word = lockdown_word(&ld);
	return rv;
}

/* netmgr sends one message; the parent dispatches it; 1: it stopped. */
static int
set(const void *data, size_t len)
{
	struct imsg	 imsg;
	int		 rv = 0;

	if (imsg_compose(&nm, IMSG_LOCKDOWN_SET, 0, 0, -1, data, len) ==
	    -1 || imsgbuf_flush(&nm) == -1 || imsgbuf_read(&par.ibuf) == -1)
		abort();
	while (imsg_get(&par.ibuf, &imsg) > 0) {
		if (lockdown_dispatch(&par, &imsg) == -1)
			rv = 1;
		imsg_free(&imsg);
	}
	imsgev_flush(&par);
	return rv;
}

/* The parent's answer: 1 ok, 0 refused, -1 none. */
static int
answer(struct imsg_lockdown_state *s)
{
	struct pollfd	 pfd = { nm.fd, POLLIN, 0 };
	struct imsg	 imsg;
	int		 rv = -1;

	memset(s, 0, sizeof(*s));
	if (poll(&pfd, 1, 0) != 1)
		return -1;
	if (imsgbuf_read(&nm) == -1)
		abort();
	while (imsg_get(&nm, &imsg) > 0) {
		if (imsg_get_type(&imsg) == IMSG_LOCKDOWN_STATE &&
		    imsg_get_data(&imsg, s, sizeof(*s)) == 0)
			rv = s->ok ? 1 : 0;
		imsg_free(&imsg);
	}
	return rv;
}

int
main(void)
{
	struct imsg_lockdown		 m;
	struct imsg_lockdown_state	 s;
	const char			*w;
	uint32_t			 bad[3] = { 1, 0, 0 };
	int				 sv[2], n;

	plan(31);
	if (mkdtemp(statedir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/%s", statedir, LOCKDOWN_FILE);

	/* the file */
	ok(load(&w) == 0 && strcmp(w, "off") == 0, "no file: off");
	put("on\n", 0600);
	ok(load(&w) == 0 && strcmp(w, "on") == 0, "on");
	put("on allow-lan\n", 0600);
	ok(load(&w) == 0 && strcmp(w, "on allow-lan") == 0, "on allow-lan");
	put("off\n", 0600);
	ok(load(&w) == 0 && strcmp(w, "off") == 0, "off");
	put("of\n", 0600);
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "corrupt: on, no LAN");
	put("", 0600);
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "empty: on");
	put("on allow-lan\ngarbage", 0600);
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "trailing garbage: on, "
	    "no LAN");
	put("off\n", 0620);
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "group-writable: on");
	put("off\n", 0602);
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "world-writable: on");
	(void)unlink(path);
	if (symlink("/dev/null", path) == -1)
		abort();
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "a symbolic link: on");
	(void)unlink(path);
	if (mkdir(path, 0700) == -1)
		abort();
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "a directory: on");
	(void)rmdir(path);
	if (mkfifo(path, 0600) == -1)
		abort();
	ok(load(&w) == -1 && strcmp(w, "on") == 0, "a FIFO: on (no hang)");
	(void)unlink(path);

	/* lockdown_init: a corrupt file is on; a configuration key wins */
	put("maybe\n", 0600);
	lockdown_init(statedir, NULL);
	ok(lockdown_on() && !lockdown_get()->allow_lan, "init, corrupt: on");
	put("on\n", 0600);
	{
		struct lockdown	 conf = { false, false };

		lockdown_init(statedir, &conf);
	}
	ok(!lockdown_on() && strcmp(get(), "off\n") == 0,
	    "Lockdown = off in the configuration: off, saved");

	/* IMSG_LOCKDOWN_SET */
	netops_init(statedir, IFN, "0123456789abcdef0123456789abcdef");
	event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    imsgev_init(&par, sv[0], PROC_NETMGR, false, NULL, NULL, NULL) ==
	    -1 || imsgbuf_init(&nm, sv[1]) == -1)
		abort();
	lockdown_announce(&par);
	imsgev_flush(&par);
	ok(answer(&s) == 1 && s.on == 0, "netmgr is told the setting");

	is_int(set(&m, sizeof(m) - 1), 1, "short message: the parent stops");
	is_int(set(bad, sizeof(bad)), 1, "long message: the parent stops");
	n = ncalls;
	m.on = 2;
	m.allow_lan = 0;
	is_int(set(&m, sizeof(m)), 0, "on = 2: not fatal");
	ok(answer(&s) == 0 && s.err == EINVAL, "on = 2 refused");
	m.on = 0;
	m.allow_lan = 1;
	set(&m, sizeof(m));
	ok(answer(&s) == 0, "the LAN without lockdown refused");
	m.on = 1;
	m.allow_lan = 7;
	set(&m, sizeof(m));
	ok(answer(&s) == 0, "allow_lan = 7 refused");
	is_int(ncalls, n, "no kernel call for the refused ones");
	ok(!lockdown_on() && strcmp(get(), "off\n") == 0,
	    "the setting and the file untouched");

	m.on = 1;
	m.allow_lan = 0;
	set(&m, sizeof(m));
	ok(answer(&s) == 1 && s.on == 1 && s.allow_lan == 0, "on: done");
	is_str(lastcall, "nft_lockdown_install", "the lockdown table goes in");
	ok(lockdown_on() && strcmp(get(), "on\n") == 0, "on: saved");
	m.allow_lan = 1;
	set(&m, sizeof(m));
	ok(answer(&s) == 1 && s.allow_lan == 1 &&
	    strcmp(get(), "on allow-lan\n") == 0, "on allow-lan: saved");
	is_str(lastcall, "nft_lockdown_install", "the table is rebuilt");
	m.on = 0;
	m.allow_lan = 0;
	set(&m, sizeof(m));
	ok(answer(&s) == 1 && s.on == 0 && strcmp(get(), "off\n") == 0,
	    "off: saved");
	is_str(lastcall, "nft_ks_remove", "off: the table goes");
	{
		struct stat	 st;

		ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
		    "the file is 0600");
	}

	(void)unlink(path);
	{
		char	 cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", statedir);
		if (system(cmd) != 0)
			diag("could not remove %s", statedir);
	}
	return done_testing();
}

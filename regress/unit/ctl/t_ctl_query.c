/*
 * t_ctl_query.c -- status requests through the real control socket
 * server and netmgr's query code (netmgr/query.c), with the tunnel
 * stubbed as up: the requests wait for tunworker's counters.
 *
 * Every local user may ask for status. One user's requests waiting for
 * the counters must not leave another client, root's included, with
 * "busy" instead of a status: a client of another uid fills every
 * request it may hold (as nobody when the test runs as root), then a
 * second client asks and must get the status when the counters come;
 * the same when clients cut off at their backlog left requests behind.
 * A waiting status is held as its type and id only, however long the
 * line it came in.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "compat.h"
#include "control.h"
#include "imsgev.h"
#include "proto.h"
#include "query.h"
#include "tunnel.h"
#include "vpnd.h"
#include "tap.h"

#define DEADLINE_MS	5000
#define ATTACK_CONNS	CTL_MAX_PER_UID
/* as many requests as every client together may have pending */
#define STALE_MAX	((CTL_MAX_CLIENTS + CTL_ROOT_RESERVE) * CTL_MAX_PENDING)

static struct event_base	*base;
static struct imsgev		 iev_tun, iev_parent;
static char			 dir[64], path[128];
static int			 nstatus;
static int			 nanswers;	/* times query.c answered */
static int			 maxkeys;	/* most keys a status held */
static pid_t			 attacker = -1;

/* The tunnel, as query.c sees it: up, no peers. */
bool
tunnel_wg_up(void)
{
	return true;
}

void
tunnel_status(struct proto_status *st, struct proto_peer_status *ps,
    const struct imsg_wg_stats *stats, size_t nstats)
{
	nanswers++;
	memset(st, 0, sizeof(*st));
	st->connected = true;
	st->state = "connected";
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
handler(struct ctl_conn *c, const struct proto_request *r,
    struct json_object *req, void *arg)
{
	if (r->req == PROTO_REQ_STATUS) {
		nstatus++;
		if ((int)json_object_object_length(req) > maxkeys)
			maxkeys = json_object_object_length(req);
		query_status(c, req);
	} else
		control_error(c, req, NULL, "system", "test: %s", r->type);
}

static void
tun_dispatch(struct imsgev *iev, struct imsg *imsg)
{
}

static int
sock_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The other user: CTL_MAX_PER_UID clients with CTL_MAX_PENDING status
 * requests each, then it waits (reading nothing) until killed.
 */
static void
attack(int ready)
{
	char	 line[] = "{\"type\":\"status\"}\n";
	int	 fds[ATTACK_CONNS], i, j;

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setgid(65534) == -1 || setuid(65534) == -1))
		_exit(2);
	for (i = 0; i < ATTACK_CONNS; i++)
		if ((fds[i] = sock_connect()) == -1)
			_exit(3);
	for (i = 0; i < ATTACK_CONNS; i++)
		for (j = 0; j < CTL_MAX_PENDING; j++)
			if (write(fds[i], line, sizeof(line) - 1) !=
			    (ssize_t)sizeof(line) - 1)
				_exit(4);
	if (write(ready, "x", 1) != 1)
		_exit(5);
	for (;;)
		pause();
}

/* Run the loop until cond holds or the deadline passes. */
static bool
pump_until(int *v, int want)
{
	long	 end = now_ms() + DEADLINE_MS;

	while (*v < want && now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (*v < want)
			poll(NULL, 0, 1);
	}
	return *v >= want;
}

/* Send all of buf, running the server while the socket is full. */
static bool
send_all(int fd, const char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;
	long	 end = now_ms() + DEADLINE_MS;

	while (off < len && now_ms() < end) {
		n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return false;
		else {
			event_base_loop(base, EVLOOP_NONBLOCK);
			poll(NULL, 0, 1);
		}
	}
	return off == len;
}

/* The next line on fd, pumping the server; NULL on timeout. */
static struct json_object *
read_reply(int fd)
{
	static char	 buf[65536];
	static size_t	 len;
	char		*nl;
	ssize_t		 n;
	long		 end = now_ms() + DEADLINE_MS;
	struct json_object *o;

	for (;;) {
		if ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			o = json_tokener_parse(buf);
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
			return o;
		}
		if (now_ms() > end || len == sizeof(buf))
			return NULL;
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n > 0) {
			len += n;
			continue;
		}
		if (n == 0)
			return NULL;
		event_base_loop(base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	}
}

static const char *
field(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return "(absent)";
	return json_object_get_string(v);
}

static void
stop_attacker(void)
{
	if (attacker > 0) {
		kill(attacker, SIGKILL);
		waitpid(attacker, NULL, 0);
		attacker = -1;
	}
}

static void
cleanup(void)
{
	stop_attacker();
	if (path[0] != '\0')
		unlink(path);
	if (dir[0] != '\0')
		rmdir(dir);
}

int
main(void)
{
	struct sockaddr_un	 sun;
	struct ctl_acl		 acl;
	struct json_object	*o;
	char			 c;
	char			 line[] = "{\"type\":\"status\"}\n";
	int			 lfd, sp[2], rp[2], fd, want;
	int			 fds[ATTACK_CONNS], i, j, round, streak, last;
	static char		 junk[CTL_LINE_MAX];
	size_t			 off;

	signal(SIGPIPE, SIG_IGN);
	plan_no_plan();
	strlcpy(dir, "/tmp/t_ctl_query.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp");
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/sock", dir);
	chmod(dir, 0755);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 128) == -1)
		skip_all("cannot listen on %s", path);
	chmod(path, 0777);

	/* query.c and imsgev use the current base. */
	base = event_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1 ||
	    imsgev_init(&iev_tun, sp[0], PROC_TUNWORKER, false, tun_dispatch,
	    NULL, NULL) == -1)
		skip_all("socketpair");
	memset(&iev_parent, 0, sizeof(iev_parent));
	query_init(NULL, &iev_parent, &iev_tun);
	/* root and the test's uid are admins; everyone else reads only */
	memset(&acl, 0, sizeof(acl));
	acl.uids[acl.nuids++] = geteuid();
	acl.others = true;
	is_int(control_init(base, lfd, &acl, handler, NULL), 0,
	    "control_init");

	if (pipe(rp) == -1 || (attacker = fork()) == -1)
		skip_all("fork");
	if (attacker == 0) {
		close(rp[0]);
		attack(rp[1]);
	}
	close(rp[1]);
	/* Accept the other user's clients while it connects and writes. */
	{
		struct pollfd	 pfd = { rp[0], POLLIN, 0 };
		long		 end = now_ms() + DEADLINE_MS;

		while (poll(&pfd, 1, 0) == 0 && now_ms() < end) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			poll(NULL, 0, 1);
		}
		ok(read(rp[0], &c, 1) == 1, "the other user's %d clients "
		    "sent %d status requests", ATTACK_CONNS,
		    ATTACK_CONNS * CTL_MAX_PENDING);
	}
	want = ATTACK_CONNS * CTL_MAX_PENDING;
	ok(pump_until(&nstatus, want), "all %d are waiting for the "
	    "counters", want);

	/* Now a client of the test's own uid (root: the administrator). */
	if ((fd = sock_connect()) == -1)
		skip_all("connect");
	if (write(fd, "{\"type\":\"status\",\"id\":\"v\"}\n", 27) != 27)
		skip_all("write");
	ok(pump_until(&nstatus, want + 1), "its status request reached "
	    "the handler");
	/* tunworker's counters come: every waiting request is answered. */
	query_on_stats_end();
	o = read_reply(fd);
	is_str(field(o, "type"), "status", "it gets a status, not busy "
	    "(code %s)", field(o, "code"));
	is_str(field(o, "id"), "v", "its id is echoed");
	json_object_put(o);
	close(fd);
	stop_attacker();

	/*
	 * Clients that ask and are cut off before the counters come: their
	 * requests must not keep the places of clients still there.
	 */
	nstatus = 0;
	want = 0;
	streak = 0;
	last = nanswers;
	for (round = 0; round < 50 && streak <= STALE_MAX; round++) {
		for (i = 0; i < ATTACK_CONNS; i++) {
			if ((fds[i] = sock_connect()) == -1)
				skip_all("connect");
			/*
			 * Its requests, then bad lines past its backlog in
			 * the same read: the server cuts it off at once.
			 */
			for (j = 0, off = 0; j < CTL_MAX_PENDING; j++) {
				memcpy(junk + off, line, sizeof(line) - 1);
				off += sizeof(line) - 1;
			}
			for (; off + 2 <= sizeof(junk); off += 2)
				memcpy(junk + off, "x\n", 2);
			if (write(fds[i], junk, off) != (ssize_t)off)
				skip_all("write");
		}
		want += ATTACK_CONNS * CTL_MAX_PENDING;
		pump_until(&nstatus, want);
		for (i = 0; i < ATTACK_CONNS; i++)
			close(fds[i]);
		{
			long	 end = now_ms() + DEADLINE_MS;

			while (control_nclients() > 0 && now_ms() < end) {
				event_base_loop(base, EVLOOP_NONBLOCK);
				poll(NULL, 0, 1);
			}
		}
		/* The counters' timeout answers all: a streak starts anew. */
		if (nanswers != last) {
			last = nanswers;
			streak = 0;
		} else
			streak += ATTACK_CONNS * CTL_MAX_PENDING;
	}
	is_int(nstatus, want, "%d status requests from clients cut off",
	    want);
	if (streak <= STALE_MAX)
		diag("the counters' timeout came between every few rounds: "
		    "fewer requests of gone clients waited at once");
	if ((fd = sock_connect()) == -1)
		skip_all("connect");
	if (write(fd, "{\"type\":\"status\",\"id\":\"w\"}\n", 27) != 27)
		skip_all("write");
	ok(pump_until(&nstatus, want + 1), "a new client's status request "
	    "reached the handler");
	query_on_stats_end();
	o = read_reply(fd);
	is_str(field(o, "type"), "status", "it gets a status, not busy "
	    "(code %s)", field(o, "code"));
	is_str(field(o, "id"), "w", "its id is echoed");
	json_object_put(o);
	close(fd);

	/*
	 * A status line padded to the line limit with empty objects parses
	 * to thousands of objects: while it waits for the counters only its
	 * type and id may be held, or one user's pending requests hold GiBs.
	 */
	{
		static char	 big[CTL_LINE_MAX];
		size_t		 before, after, n;

		n = (size_t)snprintf(big, sizeof(big),
		    "{\"type\":\"status\",\"id\":7,\"pad\":[");
		while (n + 4 < sizeof(big)) {
			memcpy(big + n, "{},", 3);
			n += 3;
		}
		big[n - 1] = ']';
		big[n++] = '}';
		big[n++] = '\n';
		nstatus = maxkeys = 0;
		before = mallinfo2().uordblks;
		for (i = 0; i < ATTACK_CONNS; i++) {
			if ((fds[i] = sock_connect()) == -1)
				skip_all("connect");
			for (j = 0; j < 4; j++)
				if (!send_all(fds[i], big, n))
					skip_all("send");
		}
		want = ATTACK_CONNS * 4;
		ok(pump_until(&nstatus, want), "%d status requests of %zu "
		    "bytes are waiting for the counters", want, n);
		after = mallinfo2().uordblks;
		diag("heap held while they wait: %zu KiB",
		    (after > before ? after - before : 0) / 1024);
		ok(maxkeys <= 2, "each is held as its type and id only "
		    "(%d keys)", maxkeys);
		query_on_stats_end();
		for (i = 0; i < ATTACK_CONNS; i++)
			close(fds[i]);
	}

	control_shutdown();
	imsgev_clear(&iev_tun);
	close(sp[1]);
	close(lfd);
	event_base_free(base);
	return done_testing();
}

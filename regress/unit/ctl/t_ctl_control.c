/*
 * t_ctl_control.c -- the control socket server (netmgr/control.c), driven
 * by non-blocking clients in the test's own libevent loop.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "compat.h"
#include "control.h"
#include "proto.h"
#include "tap.h"

#define DEADLINE_MS	5000

struct client {
	int	 fd;
	char	*buf;
	size_t	 len, cap;
	bool	 eof;
};

static struct event_base	*base;
static char			 dir[64], path[128];
static unsigned int		 last_status_conn;
static unsigned int		 deferred_conn;
static struct json_object	*deferred_req;
static int			 nrequests;
static unsigned int		 held_conn;	/* cleanlogs: never answered */

static long	 now_ms(void);
static void	 handler(struct ctl_conn *, const struct proto_request *,
		    struct json_object *, void *);
static void	 pump(int);
static int	 cl_connect(struct client *);
static void	 cl_close(struct client *);
static void	 cl_send(struct client *, const char *);
static char	*cl_line(struct client *);
static struct json_object *cl_json(struct client *);
static void	 expect(struct client *, const char *, const char *,
		    const char *);
static bool	 wait_gone(unsigned int);
static void	 test_basic(void);
static void	 test_garbage(void);
static void	 test_long(void);
static void	 test_signals(void);
static void	 test_clients(void);
static void	 test_slow(void);
static void	 test_creds(int);
static void	 test_backlog(void);
static void	 test_peruid(int);
static void	 test_dupkeys(void);
static void	 test_scrub(void);
static int	 child_try(uid_t, gid_t);
static int	 child_long(uid_t, gid_t, size_t);
static void	 cleanup(void);

/*
 * Every free() of the process is watched while watch_free is set: a block
 * that still holds the test's secret when it is freed is counted. Under
 * ASan through its free hook (called before the block is released),
 * otherwise by interposing free() itself.
 */
#define SECRET	"S3cretKeyS3cretKeyS3cretKeyS3cretKeyS3cr="
static volatile int	 watch_free;
static int		 secret_freed;

static void
free_seen(const void *p, size_t n)
{
	if (watch_free && p != NULL) {
		watch_free = 0;		/* memmem must not recurse */
		if (memmem(p, n, SECRET, sizeof(SECRET) - 1) != NULL)
			secret_freed++;
		watch_free = 1;
	}
}

#ifdef __SANITIZE_ADDRESS__
int	 __sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t),
	    void (*)(const volatile void *));
size_t	 __sanitizer_get_allocated_size(const volatile void *);
static void	 asan_free_hook(const volatile void *);
static void	 asan_malloc_hook(const volatile void *, size_t);

/* Not watched, but the runtime installs no free hook without one. */
static void
asan_malloc_hook(const volatile void *p, size_t n)
{
}

static void
asan_free_hook(const volatile void *p)
{
	if (watch_free && p != NULL)
		free_seen((const void *)(uintptr_t)p,
		    __sanitizer_get_allocated_size(p));
}

static bool
watch_init(void)
{
	return __sanitizer_install_malloc_and_free_hooks(asan_malloc_hook,
	    asan_free_hook) != 0;
}
#else
extern void	 __libc_free(void *);

void
free(void *p)
{
	if (watch_free && p != NULL)
		free_seen(p, malloc_usable_size(p));
	__libc_free(p);
}

static bool
watch_init(void)
{
	return true;
}
#endif

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
	struct json_object	*o;
	const char		*type = r->type;

	nrequests++;
	if (strcmp(type, "status") == 0) {
		last_status_conn = control_conn_id(c);
		o = json_object_new_object();
		json_object_object_add(o, "n", json_object_new_int(nrequests));
		control_reply(c, req, o);
	} else if (strcmp(type, "logs") == 0) {
		/* Answered later, from pump(): replies must keep order. */
		deferred_conn = control_conn_id(c);
		deferred_req = req;
	} else if (strcmp(type, "activate") == 0)
		control_noreply(c, req);
	else if (strcmp(type, "cleanlogs") == 0)
		held_conn = control_conn_id(c);
	else if (strcmp(type, "deactivate") == 0) {
		control_noreply(c, req);
		control_broadcast(proto_msg("disconnected"));
	} else
		control_error(c, req, NULL, "system", "test: %s", type);
}

/* One turn of the daemon's loop; answers a deferred request. */
static void
pump(int ms)
{
	struct ctl_conn		*c;
	struct json_object	*o;

	event_base_loop(base, EVLOOP_NONBLOCK);
	if (deferred_req != NULL) {
		if ((c = control_conn_find(deferred_conn)) != NULL) {
			o = proto_msg("logs");
			json_object_object_add(o, "logs",
			    json_object_new_string("a|b"));
			control_reply(c, deferred_req, o);
		}
		deferred_req = NULL;
	}
	if (ms > 0)
		poll(NULL, 0, ms);
}

static int
cl_connect(struct client *cl)
{
	struct sockaddr_un	 sun;

	memset(cl, 0, sizeof(*cl));
	if ((cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (connect(cl->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(cl->fd);
		cl->fd = -1;
		return -1;
	}
	pump(0);
	return 0;
}

static void
cl_close(struct client *cl)
{
	if (cl->fd != -1)
		close(cl->fd);
	cl->fd = -1;
	free(cl->buf);
	cl->buf = NULL;
	cl->len = cl->cap = 0;
	pump(0);
}

static void
cl_send(struct client *cl, const char *s)
{
	size_t	 off = 0, len = strlen(s);
	ssize_t	 n;
	long	 end = now_ms() + DEADLINE_MS;

	while (off < len && now_ms() < end) {
		n = send(cl->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += n;
		else if (n == -1 && errno != EAGAIN)
			break;
		pump(0);
	}
	pump(0);
}

/* The next line from the server, NULL on timeout or EOF. Caller frees. */
static char *
cl_line(struct client *cl)
{
	char	*nl, *s;
	size_t	 n;
	ssize_t	 r;
	long	 end = now_ms() + DEADLINE_MS;

	for (;;) {
		if (cl->len > 0 &&
		    (nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
			n = nl - cl->buf;
			s = malloc(n + 1);
			memcpy(s, cl->buf, n);
			s[n] = '\0';
			memmove(cl->buf, nl + 1, cl->len - n - 1);
			cl->len -= n + 1;
			return s;
		}
		if (cl->eof || now_ms() > end)
			return NULL;
		if (cl->cap - cl->len < 65536) {
			cl->cap = cl->cap * 2 + 65536;
			cl->buf = realloc(cl->buf, cl->cap);
		}
		r = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len,
		    MSG_DONTWAIT);
		if (r > 0) {
			cl->len += r;
			continue;
		}
		if (r == 0)
			cl->eof = true;
		pump(1);
	}
}

static struct json_object *
cl_json(struct client *cl)
{
	struct json_object	*o;
	char			*s;

	if ((s = cl_line(cl)) == NULL)
		return NULL;
	o = json_tokener_parse(s);
	free(s);
	return o;
}

static const char *
field(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return "(absent)";
	return json_object_get_string(v);
}

/* The next message must have this type and, if given, code / id. */
static void
expect(struct client *cl, const char *type, const char *code, const char *id)
{
	struct json_object	*o;

	o = cl_json(cl);
	ok(o != NULL, "a %s reply came", type);
	is_str(field(o, "type"), type, "type %s", type);
	if (code != NULL)
		is_str(field(o, "code"), code, "code %s", code);
	if (id != NULL)
		is_str(field(o, "id"), id, "id %s echoed", id);
	json_object_put(o);
}

static bool
wait_gone(unsigned int id)
{
	long	 end = now_ms() + DEADLINE_MS;

	while (control_conn_find(id) != NULL && now_ms() < end)
		pump(1);
	return control_conn_find(id) == NULL;
}

static void
test_basic(void)
{
	struct client		 c;
	struct json_object	*o;

	ok(cl_connect(&c) == 0, "client connects");
	/* Three requests in one write; the first is answered last. */
	cl_send(&c, "{\"type\":\"logs\",\"id\":\"a\"}\n"
	    "{\"type\":\"status\",\"id\":2}\n{\"type\":\"version\"}\n");
	o = cl_json(&c);
	is_str(field(o, "type"), "logs", "deferred reply comes first");
	is_str(field(o, "id"), "a", "string id echoed");
	is_str(field(o, "logs"), "a|b", "its payload");
	json_object_put(o);
	o = cl_json(&c);
	is_str(field(o, "type"), "status", "type added to the reply");
	is_str(field(o, "id"), "2", "numeric id echoed");
	ok(o != NULL && json_object_object_get_ex(o, "id", NULL) &&
	    json_object_is_type(json_object_object_get(o, "id"),
	    json_type_int), "numeric id stays a number");
	json_object_put(o);
	o = cl_json(&c);
	is_str(field(o, "type"), "version", "version answered by control");
	is_str(field(o, "protocol"), "1", "protocol 1");
	ok(o != NULL && !json_object_object_get_ex(o, "id", NULL),
	    "no id when none was sent");
	json_object_put(o);

	/* Base clients send no id and expect none, in compact form. */
	cl_send(&c, "{\"type\":\"activate\"}\n{\"type\":\"status\"}\n");
	{
		char *s = cl_line(&c);

		ok(s != NULL && strncmp(s, "{\"type\":\"status\",", 17) != 0 &&
		    strstr(s, "\"type\":\"status\"") != NULL &&
		    strchr(s, ' ') == NULL,
		    "activate had no reply; compact status: %s", s);
		free(s);
	}
	cl_close(&c);
}

static void
test_garbage(void)
{
	struct client	 c, d;

	cl_connect(&c);
	cl_connect(&d);
	cl_send(&c, "hello\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "[1,2]\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "\"str\"\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "{\"type\":\"status\"} x\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "{\"type\":\"status\",}\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "{\"id\":1}\n");
	expect(&c, "error", "bad-request", NULL);
	cl_send(&c, "{\"type\":5}\n");
	expect(&c, "error", "bad-request", NULL);
	cl_send(&c, "{\"type\":\"status\",\"id\":[1]}\n");
	expect(&c, "error", "bad-request", NULL);
	cl_send(&c, "{\"type\":\"nope\",\"id\":7}\n");
	{
		struct json_object *o = cl_json(&c);

		is_str(field(o, "code"), "unknown-type", "unknown type");
		is_str(field(o, "request"), "nope", "request named");
		is_str(field(o, "id"), "7", "id echoed on error");
		ok(strlen(field(o, "message")) > 0, "with a message");
		json_object_put(o);
	}
	/* Empty and blank lines are ignored; CRLF is fine. */
	cl_send(&c, "\n  \n\r\n{\"type\":\"status\",\"id\":\"x\"}\r\n");
	expect(&c, "status", NULL, "x");
	/* A NUL inside a line. */
	send(c.fd, "{\"type\":\0\"status\"}\n", 19, MSG_NOSIGNAL);
	expect(&c, "error", "bad-json", NULL);
	/* The other client saw nothing of it and still works. */
	cl_send(&d, "{\"type\":\"status\",\"id\":\"d\"}\n");
	expect(&d, "status", NULL, "d");
	cl_close(&c);
	cl_close(&d);
}

static const struct {
	const char	*json;
	int		 dup;
	const char	*key;
} dup_cases[] = {
	{ "{\"a\":1,\"b\":2}", 0, "" },
	{ "{\"a\":1,\"a\":2}", 1, "a" },
	{ "{\"privateKey\":\"x\",\"type\":\"activate\",\"privateKey\":\"y\"}",
	  1, "privateKey" },
	{ "{\"priv\\u0061teKey\":\"x\",\"privateKey\":\"y\"}", 1,
	  "privateKey" },
	{ "{\"a\":\"a\",\"b\":\"a\"}", 0, "" },		/* values */
	{ "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}", 0, "" },
	{ "{\"p\":[{\"presharedKey\":\"x\",\"presharedKey\":\"y\"}]}", 1,
	  "presharedKey" },
	{ "{\"a\\\"b\":1,\"a\\\"b\":2}", 1, "a\"b" },
	{ "{\"x\":{\"k\":1},\"k\":2}", 0, "" },	/* other levels */
	{ "[\"a\",\"a\"]", 0, "" },
	/* json-c decodes every \u escape: so must the check */
	{ "{\"\\u00e9\":\"x\",\"\xc3\xa9\":\"y\"}", 1, "\xc3\xa9" },
	{ "{\"\\u00E9\":\"x\",\"\\u00e9\":\"y\"}", 1, "\xc3\xa9" },
	{ "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", 1,
	  "\xf0\x9f\x98\x80" },
	{ "{\"\\ud800\":1,\"\xef\xbf\xbd\":2}", 1, "\xef\xbf\xbd" },
	{ "{\"\\u20ac\":1,\"\\u20ad\":2}", 0, "" },
	{ "{\"a\":1,", 0, "" },				/* left to json-c */
	{ "", 0, "" },
};

static void
test_dupkeys(void)
{
	struct client	 c;
	char		 dup[80], big[8192];
	size_t		 i, n;

	for (i = 0; i < nitems(dup_cases); i++) {
		ok(control_json_dupkey(dup_cases[i].json,
		    strlen(dup_cases[i].json), dup, sizeof(dup)) ==
		    (dup_cases[i].dup != 0), "duplicate keys, case %zu: %s",
		    i, dup_cases[i].json);
		if (dup_cases[i].dup)
			is_str(dup, dup_cases[i].key, "the key is named");
	}
	/* More keys in one object than can be checked: refused. */
	n = strlcpy(big, "{", sizeof(big));
	for (i = 0; i < 300; i++)
		n += snprintf(big + n, sizeof(big) - n, "%s\"k%zu\":1",
		    i ? "," : "", i);
	strlcat(big, "}", sizeof(big));
	ok(control_json_dupkey(big, strlen(big), dup, sizeof(dup)),
	    "300 keys in one object: refused");

	cl_connect(&c);
	nrequests = 0;
	cl_send(&c, "{\"type\":\"activate\",\"privateKey\":\"" SECRET
	    "\",\"privateKey\":\"other\"}\n");
	{
		struct json_object *o = cl_json(&c);

		is_str(field(o, "code"), "bad-json", "duplicate key: bad-json");
		ok(strstr(field(o, "message"), "duplicate key "
		    "\"privateKey\"") != NULL, "the message names the key");
		json_object_put(o);
	}
	is_int(nrequests, 0, "the request never reached the handler");
	cl_send(&c, "{\"type\":\"status\",\"id\":\"after\"}\n");
	expect(&c, "status", NULL, "after");
	cl_close(&c);
}

/* A secret in a line json-c refuses half-way, or duplicated: wiped. */
static void
test_scrub(void)
{
	struct client	 c;

	ok(watch_init(), "every free() is watched for the secret");
	cl_connect(&c);
	secret_freed = 0;
	watch_free = 1;
	cl_send(&c, "{\"type\":\"activate\",\"privateKey\":\"" SECRET
	    "\",\"peers\":[{\"presharedKey\":\"" SECRET "\"}],\"x\":tru}\n");
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "{\"type\":\"activate\",\"a\":[\"" SECRET "\",\"" SECRET
	    "\",{\"k\":\"" SECRET "\"}]\n");
	cl_send(&c, "[\"" SECRET "\"]\n");
	expect(&c, "error", "bad-json", NULL);
	expect(&c, "error", "bad-json", NULL);
	cl_send(&c, "{\"type\":\"activate\",\"privateKey\":\"" SECRET
	    "\",\"privateKey\":\"" SECRET "\"}\n");
	expect(&c, "error", "bad-json", NULL);
	cl_close(&c);
	pump(100);
	watch_free = 0;
	is_int(secret_freed, 0, "no freed block held the secret: half-done "
	    "parses and duplicates are wiped");
}

static void
test_long(void)
{
	struct client	 c;
	char		*big;
	size_t		 n;

	cl_connect(&c);
	big = malloc(CTL_LINE_MAX + 100);
	/* Exactly CTL_LINE_MAX bytes of valid JSON: accepted. */
	n = snprintf(big, 64, "{\"type\":\"status\",\"id\":\"max\",\"p\":\"");
	memset(big + n, 'x', CTL_LINE_MAX - n - 2);
	memcpy(big + CTL_LINE_MAX - 2, "\"}\n", 4);
	is_int(strlen(big), CTL_LINE_MAX + 1, "line of exactly the limit");
	cl_send(&c, big);
	expect(&c, "status", NULL, "max");
	/* One byte more: too-long, and the rest of it is discarded. */
	n = snprintf(big, 64, "{\"type\":\"status\",\"id\":\"over\",\"p\":\"");
	memset(big + n, 'x', CTL_LINE_MAX - n - 1);
	memcpy(big + CTL_LINE_MAX - 1, "\"}\n", 4);
	cl_send(&c, big);
	expect(&c, "error", "too-long", NULL);
	cl_send(&c, "{\"type\":\"status\",\"id\":\"after\"}\n");
	expect(&c, "status", NULL, "after");
	/* Much longer, in pieces, then a good line in the same write. */
	memset(big, 'y', CTL_LINE_MAX + 50);
	big[CTL_LINE_MAX + 50] = '\0';
	cl_send(&c, big);
	cl_send(&c, big);
	cl_send(&c, "tail\n{\"type\":\"status\",\"id\":\"next\"}\n");
	expect(&c, "error", "too-long", NULL);
	expect(&c, "status", NULL, "next");
	free(big);
	cl_close(&c);
}

static void
test_signals(void)
{
	struct client	 a, b;

	cl_connect(&a);
	cl_connect(&b);
	cl_send(&a, "{\"type\":\"deactivate\"}\n");
	expect(&a, "disconnected", NULL, NULL);
	expect(&b, "disconnected", NULL, NULL);
	control_broadcast(proto_msg("connected"));
	expect(&a, "connected", NULL, NULL);
	expect(&b, "connected", NULL, NULL);
	cl_close(&a);
	cl_close(&b);
}

static void
test_clients(void)
{
	/* root gets CTL_ROOT_RESERVE places past the limit */
	struct client	 cl[CTL_MAX_CLIENTS + CTL_ROOT_RESERVE + 1], extra;
	size_t		 i, max;
	int		 good = 0;
	long		 end;

	max = CTL_MAX_CLIENTS + (geteuid() == 0 ? CTL_ROOT_RESERVE : 0);
	for (i = 0; i < max; i++)
		if (cl_connect(&cl[i]) == 0)
			good++;
	end = now_ms() + DEADLINE_MS;
	while (control_nclients() < max && now_ms() < end)
		pump(1);
	is_int(control_nclients(), max, "%zu clients accepted (64 + root's "
	    "reserve when root)", max);
	ok(cl_connect(&cl[max]) == 0, "one more connects");
	expect(&cl[max], "error", "busy", NULL);
	free(cl_line(&cl[max]));
	ok(cl[max].eof, "and is hung up on");
	is_int(control_nclients(), max, "still %zu", max);
	cl_send(&cl[max - 1], "{\"type\":\"status\",\"id\":\"z\"}\n");
	expect(&cl[max - 1], "status", NULL, "z");
	cl_close(&cl[max]);
	cl_close(&cl[0]);
	end = now_ms() + DEADLINE_MS;
	while (control_nclients() >= max && now_ms() < end)
		pump(1);
	ok(cl_connect(&extra) == 0, "after one leaves, another comes in");
	cl_send(&extra, "{\"type\":\"status\",\"id\":\"in\"}\n");
	expect(&extra, "status", NULL, "in");
	cl_close(&extra);
	for (i = 1; i < max; i++)
		cl_close(&cl[i]);
	end = now_ms() + DEADLINE_MS;
	while (control_nclients() > 0 && now_ms() < end)
		pump(1);
	is_int(control_nclients(), 0, "all gone");
	(void)good;
}

static void
test_slow(void)
{
	struct client		 slow, fast;
	struct json_object	*o;
	unsigned int		 slow_id;
	char			*pad, *s;
	int			 i, got = 0, rounds = 40, rcv = 4096;

	cl_connect(&slow);
	setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	cl_connect(&fast);
	cl_send(&slow, "{\"type\":\"status\"}\n");
	{
		long end = now_ms() + DEADLINE_MS;

		while (last_status_conn == 0 && now_ms() < end)
			pump(1);
	}
	slow_id = last_status_conn;
	ok(control_conn_find(slow_id) != NULL, "slow client is in");
	pad = malloc(64 * 1024);
	memset(pad, 'p', 64 * 1024 - 1);
	pad[64 * 1024 - 1] = '\0';
	for (i = 0; i < rounds; i++) {
		o = proto_msg("connected");
		json_object_object_add(o, "pad", json_object_new_string(pad));
		control_broadcast(o);
		/* The fast client reads everything as it comes. */
		if ((s = cl_line(&fast)) != NULL) {
			got += strstr(s, "\"connected\"") != NULL;
			free(s);
		}
	}
	is_int(got, rounds, "the reading client got every signal");
	ok(wait_gone(slow_id), "the client that never reads was dropped");
	cl_send(&fast, "{\"type\":\"status\",\"id\":\"alive\"}\n");
	expect(&fast, "status", NULL, "alive");
	free(pad);
	cl_close(&slow);
	cl_close(&fast);
}

/*
 * Connect as uid/gid from a child and ask version, status, then each
 * request of the admin tier. 0: all served; 1: version and status served,
 * every admin request denied on a connection that stays open; 3: denied
 * and closed at once; 2: other.
 * cleanlogs comes last: the handler holds it unanswered.
 */
static int
child_try(uid_t uid, gid_t gid)
{
	pid_t	 pid;
	int	 st;
	long	 end;

	if ((pid = fork()) == -1)
		return 2;
	if (pid == 0) {
		static const char req[] =
		    "{\"type\":\"version\"}\n{\"type\":\"status\"}\n"
		    "{\"type\":\"activate\"}\n{\"type\":\"deactivate\"}\n"
		    "{\"type\":\"logs\"}\n"
		    "{\"type\":\"version\",\"id\":\"end\"}\n"
		    "{\"type\":\"cleanlogs\"}\n";
		struct sockaddr_un	 sun;
		struct timeval		 tv = { 5, 0 };
		char			 buf[4096];
		size_t			 len = 0;
		ssize_t			 n;
		int			 fd, denied = 0;
		char			*p;

		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(2);
		/* A refused client may already be hung up on: EPIPE. */
		if (write(fd, req, sizeof(req) - 1) == -1 && errno != EPIPE &&
		    errno != ECONNRESET)
			_exit(2);
		/*
		 * Read until the last version's answer, in request order; a
		 * client denied the first three is denied cleanlogs too.
		 */
		buf[0] = '\0';
		for (;;) {
			denied = 0;
			for (p = buf; (p = strstr(p, "\"code\":\"denied\"")) !=
			    NULL; p++)
				denied++;
			if (strstr(buf, "\"id\":\"end\"") != NULL &&
			    denied != 3)
				break;
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			/* A refused client may see a reset for its requests. */
			if (n <= 0)
				_exit(strstr(buf, "\"code\":\"denied\"") != NULL &&
				    strstr(buf, "\"type\":\"version\"") == NULL ?
				    3 : 2);
			len += n;
			buf[len] = '\0';
		}
		if (strstr(buf, "\"type\":\"version\"") == NULL ||
		    strstr(buf, "\"type\":\"status\"") == NULL)
			_exit(2);
		if (denied == 4)
			_exit(1);
		_exit(denied == 0 ? 0 : 2);
	}
	end = now_ms() + 2 * DEADLINE_MS;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 2;
		}
		pump(1);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

static void
test_creds(int lfd)
{
	struct ctl_acl	 acl;

	if (geteuid() != 0) {
		skip(1, "not root: the peer-credential checks (outsider "
		    "denied, group and root allowed) did not run");
		return;
	}
	is_int(child_try(0, 0), 0, "root is served everything");
	is_int(child_try(65534, 65534), 3,
	    "without others in the acl, an outsider is denied and closed");
	control_shutdown();
	memset(&acl, 0, sizeof(acl));
	acl.others = true;
	control_init(base, lfd, &acl, handler, NULL);
	is_int(child_try(65534, 65534), 1,
	    "with others, an outsider gets version and status, the rest is "
	    "denied");
	is_int(child_long(65534, 65534, CTL_RO_LINE_MAX), 0,
	    "an outsider's status line of %d bytes is served", CTL_RO_LINE_MAX);
	is_int(child_long(65534, 65534, CTL_RO_LINE_MAX + 1), 1,
	    "one byte more is refused as too long, unparsed");
	is_int(child_long(65534, 65534, 60000), 1,
	    "so is a line of 60000 bytes, across reads");
	control_shutdown();
	memset(&acl, 0, sizeof(acl));
	acl.gids[acl.ngids++] = 65534;
	acl.others = true;
	control_init(base, lfd, &acl, handler, NULL);
	is_int(child_try(65534, 65534), 0, "a member of an allowed gid is served");
	is_int(child_long(65534, 65534, 60000), 0,
	    "a member's line of 60000 bytes is served");
	is_int(child_try(65533, 65533), 1, "another gid is read-only");
	control_shutdown();
	memset(&acl, 0, sizeof(acl));
	acl.uids[acl.nuids++] = 65533;
	control_init(base, lfd, &acl, handler, NULL);
	is_int(child_try(65533, 65533), 0, "an allowed uid is served");
}

/*
 * One request left pending, then a stream of bad lines: every error
 * waits behind the pending reply. The client must be cut off at the
 * backlog limit instead of growing the server without bound.
 */
static void
test_backlog(void)
{
	struct client	 cl;
	char		*lines;
	size_t		 i, n = 4096;
	int		 rounds = 0;
	long		 end;

	held_conn = 0;
	ok(cl_connect(&cl) == 0, "backlog: connected");
	cl_send(&cl, "{\"type\":\"cleanlogs\"}\n");
	end = now_ms() + DEADLINE_MS;
	while (held_conn == 0 && now_ms() < end)
		pump(1);
	ok(held_conn != 0, "backlog: a request is held unanswered");
	/* 4096 bad lines a round; each error reply is ~90 bytes */
	lines = malloc(2 * n + 1);
	for (i = 0; i < n; i++)
		memcpy(lines + 2 * i, "x\n", 2);
	lines[2 * n] = '\0';
	while (control_conn_find(held_conn) != NULL && rounds < 100) {
		cl_send(&cl, lines);
		rounds++;
	}
	ok(control_conn_find(held_conn) == NULL,
	    "backlog: cut off after %d x %zu bad lines", rounds, n);
	ok(rounds > 1 && rounds < 100, "backlog: not at once, not never "
	    "(%d rounds)", rounds);
	free(lines);
	cl_close(&cl);
	held_conn = 0;
}

/*
 * As uid/gid from a child: a status line of len bytes, then a version.
 * Exits 0 if the status was answered, 1 if the line was refused as
 * too long (and the version still answered), 2 on anything else.
 */
static int
child_long(uid_t uid, gid_t gid, size_t len)
{
	pid_t	 pid;
	int	 st;
	long	 end;

	if ((pid = fork()) == -1)
		return 2;
	if (pid == 0) {
		static const char ver[] =
		    "\n{\"type\":\"version\",\"id\":\"end\"}\n";
		struct sockaddr_un	 sun;
		struct timeval		 tv = { 5, 0 };
		char			*req, buf[4096];
		size_t			 n = 0, off;
		ssize_t			 r;
		int			 fd;

		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1 ||
		    (req = malloc(len + sizeof(ver) + 64)) == NULL)
			_exit(2);
		/* the status line is len bytes before its '\n' */
		off = (size_t)snprintf(req, 64,
		    "{\"type\":\"status\",\"pad\":\"");
		while (off + 2 < len)
			req[off++] = 'x';
		memcpy(req + off, "\"}", 2);
		off += 2;
		memcpy(req + off, ver, sizeof(ver));
		off += sizeof(ver) - 1;
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    write(fd, req, off) != (ssize_t)off)
			_exit(2);
		buf[0] = '\0';
		while (strstr(buf, "\"id\":\"end\"") == NULL) {
			if ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) <= 0)
				_exit(2);
			n += r;
			buf[n] = '\0';
		}
		if (strstr(buf, "\"code\":\"too-long\"") != NULL &&
		    strstr(buf, "\"type\":\"status\"") == NULL)
			_exit(1);
		_exit(strstr(buf, "\"type\":\"status\"") != NULL ? 0 : 2);
	}
	end = now_ms() + 2 * DEADLINE_MS;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 2;
		}
		pump(1);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

/* Connect n clients as uid from a child; exits with how many served. */
static int
child_many(uid_t uid, int n)
{
	pid_t	 pid;
	int	 st;
	long	 end;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		struct sockaddr_un	 sun;
		struct timeval		 tv = { 5, 0 };
		char			 buf[512];
		ssize_t			 r;
		int			 fd, i, served = 0;

		if (setgroups(0, NULL) == -1 || setgid(uid) == -1 ||
		    setuid(uid) == -1)
			_exit(255);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
		for (i = 0; i < n; i++) {
			/* every socket stays open until the child exits */
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			if (connect(fd, (struct sockaddr *)&sun,
			    sizeof(sun)) == -1)
				_exit(254);
			if (write(fd, "{\"type\":\"version\"}\n", 19) == -1 &&
			    errno != EPIPE)
				continue;
			r = read(fd, buf, sizeof(buf) - 1);
			if (r <= 0)
				continue;
			buf[r] = '\0';
			if (strstr(buf, "\"type\":\"version\"") != NULL)
				served++;
			else if (strstr(buf, "\"code\":\"busy\"") == NULL)
				_exit(253);
		}
		_exit(served);
	}
	end = now_ms() + 4 * DEADLINE_MS;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		pump(1);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_peruid(int lfd)
{
	struct ctl_acl	 acl;
	struct client	 cl;

	if (geteuid() != 0) {
		skip(1, "not root: the per-uid client cap did not run");
		return;
	}
	control_shutdown();
	memset(&acl, 0, sizeof(acl));
	acl.uids[acl.nuids++] = 65533;
	control_init(base, lfd, &acl, handler, NULL);
	is_int(child_many(65533, CTL_MAX_PER_UID + 4), CTL_MAX_PER_UID,
	    "one uid with %d connections: %d served, the rest busy",
	    CTL_MAX_PER_UID + 4, CTL_MAX_PER_UID);
	ok(cl_connect(&cl) == 0, "root still connects");
	cl_send(&cl, "{\"type\":\"status\",\"id\":\"r\"}\n");
	expect(&cl, "status", NULL, "r");
	cl_close(&cl);
}

static void
cleanup(void)
{
	if (path[0] != '\0')
		unlink(path);
	if (dir[0] != '\0')
		rmdir(dir);
}

int
main(void)
{
	struct sockaddr_un	 sun;
	int			 lfd;

	signal(SIGPIPE, SIG_IGN);
	plan_no_plan();
	strlcpy(dir, "/tmp/t_ctl_control.XXXXXX", sizeof(dir));
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
	base = event_base_new();
	is_int(control_init(base, lfd, NULL, handler, NULL), 0, "control_init");

	test_basic();
	test_garbage();
	test_long();
	test_signals();
	test_clients();
	test_slow();
	test_backlog();
	test_creds(lfd);
	test_peruid(lfd);
	test_dupkeys();
	test_scrub();

	control_shutdown();
	event_base_free(base);
	close(lfd);
	libevent_global_shutdown();
	return done_testing();
}

/*
 * vpnctl -- control vpnd over its control socket (docs/protocol.md).
 *
 * One request at a time, one JSON object per line, answers matched by the
 * "id" we send (or, for a base-protocol daemon that echoes none, by type).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "compat.h"
#include "config.h"
#include "output.h"
#include "proto.h"
#include "vpnd.h"

#ifndef VPND_VERSION
#define VPND_VERSION	"unknown"
#endif

#define EXIT_NO		1	/* the daemon said no */
#define EXIT_USAGE	2
#define EXIT_UNREACH	3	/* cannot reach the daemon */

#define MAX_LINE	(4 * 1024 * 1024)
#define ACT_INPUT_MAX	(1024 * 1024)

static int	 sock = -1;
static char	*inbuf;
static size_t	 inlen, incap;
static bool	 jflag;
static int	 timeout_ms = 15000;
static int	 next_id = 1;
static volatile sig_atomic_t quit;

static __dead void usage(void);
static void	 on_signal(int);
static long	 now_ms(void);
static void	 ctl_connect(const char *);
static int	 send_obj(struct json_object *, bool);
static int	 read_line(char **, int);
static struct json_object *wait_reply(const char *, int, char **);
static bool	 is_type(struct json_object *, const char *);
static int	 cmd_simple(const char *);
static int	 cmd_activate(struct json_object *);
static int	 cmd_up(const char *);
static int	 cmd_activate_file(const char *);
static int	 cmd_down(void);
static int	 cmd_monitor(void);
static int	 cmd_version(void);
static int	 cmd_lockdown(int, char *[]);
static int	 cmd_exclude(char *[]);

static __dead void
usage(void)
{
	fprintf(stderr, "usage: vpnctl [-j] [-s socket] [-t timeout] "
	    "command [arg]\n"
	    "       vpnctl [-j] [-s socket] [-t timeout] exclude -- "
	    "command [arg ...]\n"
	    "commands: status, up file, activate file|-, down, monitor, "
	    "logs, cleanlogs, version,\n"
	    "          lockdown on [--allow-lan] | off | status\n");
	exit(EXIT_USAGE);
}

static void
on_signal(int sig)
{
	quit = 1;
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		warnx("%s: socket path too long", path);
		exit(EXIT_USAGE);
	}
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(EXIT_UNREACH, "socket");
	if (connect(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(EXIT_UNREACH, "%s", path);
}

/* Send one request with our id; secret: wipe the serialised copy. */
static int
send_obj(struct json_object *o, bool secret)
{
	const char	*s;
	size_t		 len, off = 0;
	ssize_t		 n;
	int		 id = next_id++;

	json_object_object_add(o, "id", json_object_new_int(id));
	s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	while (off <= len) {
		/* The string, then its '\n'. */
		if (off < len)
			n = send(sock, s + off, len - off, MSG_NOSIGNAL);
		else
			n = send(sock, "\n", 1, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			warn("send");
			if (secret)
				explicit_bzero((char *)(uintptr_t)s, len);
			exit(EXIT_UNREACH);
		}
		off += n;
	}
	if (secret)
		explicit_bzero((char *)(uintptr_t)s, len);
	return id;
}

/* 1 a line, 0 timeout (or interrupted), exits on EOF. */
static int
read_line(char **line, int wait_ms)
{
	struct pollfd	 pfd;
	char		*nl;
	size_t		 n;
	ssize_t		 r;
	long		 end = now_ms() + wait_ms;
	int		 left;

	for (;;) {
		if (inlen > 0 && (nl = memchr(inbuf, '\n', inlen)) != NULL) {
			n = nl - inbuf;
			if ((*line = malloc(n + 1)) == NULL)
				err(EXIT_UNREACH, NULL);
			memcpy(*line, inbuf, n);
			(*line)[n] = '\0';
			memmove(inbuf, nl + 1, inlen - n - 1);
			inlen -= n + 1;
			return 1;
		}
		if (quit || (left = (int)(end - now_ms())) <= 0)
			return 0;
		pfd.fd = sock;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			err(EXIT_UNREACH, "poll");
		}
		if (pfd.revents == 0)
			continue;
		if (incap - inlen < 4096) {
			if (incap >= MAX_LINE)
				errx(EXIT_UNREACH, "reply too long");
			incap = incap * 2 + 8192;
			if ((inbuf = realloc(inbuf, incap)) == NULL)
				err(EXIT_UNREACH, NULL);
		}
		r = read(sock, inbuf + inlen, incap - inlen);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err(EXIT_UNREACH, "read");
		}
		if (r == 0)
			errx(EXIT_UNREACH, "the daemon closed the connection");
		inlen += r;
	}
}

static bool
is_type(struct json_object *o, const char *type)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, "type", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), type) == 0;
}

/*
 * Wait for the answer to request id of this type: the same id, or no id
 * and the same type (a base daemon echoes no id), or an error. Signals in
 * between are skipped. The raw line comes back in *raw when asked.
 */
static struct json_object *
wait_reply(const char *type, int id, char **raw)
{
	struct json_object	*o, *v;
	char			*line;
	long			 end = now_ms() + timeout_ms;
	int			 left;
	bool			 mine;

	while ((left = (int)(end - now_ms())) > 0) {
		if (read_line(&line, left) == 0)
			break;
		if ((o = json_tokener_parse(line)) == NULL ||
		    !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			free(line);
			continue;
		}
		if (json_object_object_get_ex(o, "id", &v))
			mine = json_object_is_type(v, json_type_int) &&
			    json_object_get_int(v) == id;
		else
			mine = is_type(o, type) || is_type(o, "error");
		if (mine) {
			if (raw != NULL)
				*raw = line;
			else
				free(line);
			return o;
		}
		json_object_put(o);
		free(line);
	}
	errx(EXIT_UNREACH, "no answer to %s within %d ms", type, timeout_ms);
}

/* status, logs, cleanlogs: one request, one reply. */
static int
cmd_simple(const char *type)
{
	struct json_object	*o, *r;
	char			*raw;
	int			 id, rv = 0;

	o = proto_msg(type);
	id = send_obj(o, false);
	json_object_put(o);
	/* cleanlogs is answered with an (empty) logs message. */
	r = wait_reply(strcmp(type, "cleanlogs") == 0 ? "logs" : type, id,
	    &raw);
	if (jflag)
		printf("%s\n", raw);
	if (is_type(r, "error")) {
		if (!jflag)
			output_error(stderr, r);
		rv = EXIT_NO;
	} else if (!jflag) {
		if (strcmp(type, "status") == 0)
			output_status(stdout, r, time(NULL));
		else if (strcmp(type, "logs") == 0)
			output_logs(stdout, r);
	}
	free(raw);
	json_object_put(r);
	return rv;
}

static int
cmd_version(void)
{
	struct json_object	*o, *r;
	char			*raw;
	int			 id, rv = 0;

	o = proto_msg("version");
	id = send_obj(o, false);
	json_object_put(o);
	r = wait_reply("version", id, &raw);
	if (jflag)
		printf("%s\n", raw);
	else {
		printf("vpnctl %s\n", VPND_VERSION);
		if (is_type(r, "error")) {
			output_error(stderr, r);
			rv = EXIT_NO;
		} else
			output_version(stdout, r);
	}
	free(raw);
	json_object_put(r);
	return rv;
}

/*
 * lockdown on [--allow-lan] | off | status: the setting that keeps the
 * kill switch while no tunnel is up.
 */
static int
cmd_lockdown(int argc, char *argv[])
{
	struct json_object	*o, *r, *v;
	const char		*type;
	char			*raw;
	int			 id, rv = 0;
	bool			 en = false, lan = false;

	if (argc == 2 && strcmp(argv[1], "status") == 0)
		type = "lockdownStatus";
	else if (argc == 2 && strcmp(argv[1], "off") == 0)
		type = "lockdown";
	else if (strcmp(argv[1], "on") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--allow-lan") == 0))) {
		type = "lockdown";
		en = true;
		lan = argc == 3;
	} else
		usage();
	o = proto_msg(type);
	if (strcmp(type, "lockdown") == 0) {
		json_object_object_add(o, "enable",
		    json_object_new_boolean(en));
		if (lan)
			json_object_object_add(o, "allowLan",
			    json_object_new_boolean(true));
	}
	id = send_obj(o, false);
	json_object_put(o);
	r = wait_reply(type, id, &raw);
	if (jflag)
		printf("%s\n", raw);
	if (is_type(r, "error")) {
		if (!jflag)
			output_error(stderr, r);
		rv = EXIT_NO;
	} else if (!jflag) {
		en = json_object_object_get_ex(r, "enabled", &v) &&
		    json_object_is_type(v, json_type_boolean) &&
		    json_object_get_boolean(v);
		lan = json_object_object_get_ex(r, "allowLan", &v) &&
		    json_object_is_type(v, json_type_boolean) &&
		    json_object_get_boolean(v);
		printf("lockdown: %s\n", !en ? "off" : lan ?
		    "on, the LAN allowed" : "on");
	}
	free(raw);
	json_object_put(r);
	return rv;
}

/* A connected signal for one of the peers we asked for (or any, if unknown). */
static int
connected_ours(struct json_object *r, char want[][WG_KEY_B64_LEN + 1],
    size_t nwant)
{
	struct json_object	*k;
	size_t			 i;

	if (nwant == 0)
		return 1;
	if (!json_object_object_get_ex(r, "pubkey", &k) ||
	    !json_object_is_type(k, json_type_string))
		return 0;
	for (i = 0; i < nwant; i++)
		if (strcmp(json_object_get_string(k), want[i]) == 0)
			return 1;
	return 0;
}

/*
 * Send an activate and wait for the outcome: connected (from one of its
 * peers) is success; an error or a disconnected is the daemon saying no.
 */
static int
cmd_activate(struct json_object *o)
{
	struct json_object	*r, *v;
	char			*line, want[CONF_MAX_PEERS + 1][WG_KEY_B64_LEN + 1];
	size_t			 i, nwant;
	long			 end;
	int			 id, left;

	json_object_object_add(o, "type", json_object_new_string("activate"));
	/* the peers of this activate: only their connected counts */
	nwant = 0;
	if (json_object_object_get_ex(o, "serverPublicKey", &v) &&
	    json_object_is_type(v, json_type_string))
		strlcpy(want[nwant++], json_object_get_string(v),
		    sizeof(want[0]));
	if (json_object_object_get_ex(o, "peers", &v) &&
	    json_object_is_type(v, json_type_array))
		for (i = 0; i < json_object_array_length(v) &&
		    nwant < nitems(want); i++) {
			struct json_object *p, *k;

			p = json_object_array_get_idx(v, i);
			if (json_object_object_get_ex(p, "publicKey", &k) &&
			    json_object_is_type(k, json_type_string))
				strlcpy(want[nwant++],
				    json_object_get_string(k),
				    sizeof(want[0]));
		}
	id = send_obj(o, true);
	proto_put_secret(o);
	end = now_ms() + timeout_ms;
	while ((left = (int)(end - now_ms())) > 0) {
		if (read_line(&line, left) == 0)
			break;
		if ((r = json_tokener_parse(line)) == NULL ||
		    !json_object_is_type(r, json_type_object)) {
			json_object_put(r);
			free(line);
			continue;
		}
		if (jflag)
			printf("%s\n", line);
		free(line);
		if (is_type(r, "connected") && connected_ours(r, want,
		    nwant)) {
			if (!jflag)
				output_event(stdout, r);
			json_object_put(r);
			return 0;
		}
		if (is_type(r, "error") &&
		    (!json_object_object_get_ex(r, "id", &v) ||
		    json_object_get_int(v) == id)) {
			if (!jflag)
				output_error(stderr, r);
			json_object_put(r);
			return EXIT_NO;
		}
		if (is_type(r, "disconnected")) {
			if (!jflag)
				warnx("activate: the daemon disconnected");
			json_object_put(r);
			return EXIT_NO;
		}
		json_object_put(r);
	}
	if (quit)
		return EXIT_NO;
	warnx("activate: no handshake within %d ms", timeout_ms);
	return EXIT_NO;
}

static int
cmd_up(const char *path)
{
	struct tunnel_conf	 conf;
	struct json_object	*o;
	char			 errbuf[512];
	size_t			 wi;

	conf_init(&conf);
	if (wgconf_load(path, &conf, errbuf, sizeof(errbuf)) == -1) {
		conf_free(&conf);
		errx(EXIT_USAGE, "%s", errbuf);
	}
	for (wi = 0; wgconf_warning(&conf, path, &wi, errbuf,
	    sizeof(errbuf));)
		warnx("%s", errbuf);
	if (conf.lockdown != 0)
		warnx("%s: Lockdown is a setting of vpnd -f, ignored here: "
		    "use vpnctl lockdown", path);
	o = proto_activate_json(&conf, NULL, errbuf, sizeof(errbuf));
	conf_free(&conf);
	if (o == NULL)
		errx(EXIT_USAGE, "%s: %s", path, errbuf);
	return cmd_activate(o);
}

static int
cmd_activate_file(const char *path)
{
	struct json_object	*o;
	char			*buf;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(EXIT_USAGE, "%s", path);
	if ((buf = malloc(ACT_INPUT_MAX + 1)) == NULL)
		err(EXIT_UNREACH, NULL);
	while (len < ACT_INPUT_MAX &&
	    (n = read(fd, buf + len, ACT_INPUT_MAX - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(EXIT_USAGE, "%s", path);
		}
		len += n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	buf[len] = '\0';
	o = json_tokener_parse(buf);
	freezero(buf, ACT_INPUT_MAX + 1);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		errx(EXIT_USAGE, "%s: not a JSON object", path);
	return cmd_activate(o);
}

static int
cmd_down(void)
{
	struct json_object	*o, *r, *v;
	char			*line;
	long			 end;
	int			 id, left;

	o = proto_msg("deactivate");
	id = send_obj(o, false);
	json_object_put(o);
	end = now_ms() + timeout_ms;
	while ((left = (int)(end - now_ms())) > 0) {
		if (read_line(&line, left) == 0)
			break;
		r = json_tokener_parse(line);
		if (jflag && r != NULL)
			printf("%s\n", line);
		free(line);
		if (r == NULL || !json_object_is_type(r, json_type_object)) {
			json_object_put(r);
			continue;
		}
		if (is_type(r, "disconnected")) {
			json_object_put(r);
			return 0;
		}
		if (is_type(r, "error") &&
		    (!json_object_object_get_ex(r, "id", &v) ||
		    json_object_get_int(v) == id)) {
			if (!jflag)
				output_error(stderr, r);
			json_object_put(r);
			return EXIT_NO;
		}
		json_object_put(r);
	}
	if (quit)
		return EXIT_NO;
	errx(EXIT_UNREACH, "deactivate: no answer within %d ms", timeout_ms);
}

/* Print signals as they come; poll status each second for the state. */
static int
cmd_monitor(void)
{
	struct json_object	*o, *r, *v;
	char			*line, state[64] = "";
	long			 next = 0;
	int			 left;

	while (!quit) {
		if (now_ms() >= next) {
			o = proto_msg("status");
			send_obj(o, false);
			json_object_put(o);
			next = now_ms() + 1000;
		}
		left = (int)(next - now_ms());
		if (read_line(&line, left > 0 ? left : 1) == 0)
			continue;
		if ((r = json_tokener_parse(line)) == NULL ||
		    !json_object_is_type(r, json_type_object)) {
			json_object_put(r);
			free(line);
			continue;
		}
		if (is_type(r, "status")) {
			const char *s = NULL;

			if (json_object_object_get_ex(r, "state", &v) &&
			    json_object_is_type(v, json_type_string))
				s = json_object_get_string(v);
			else if (json_object_object_get_ex(r, "connected",
			    &v))
				s = json_object_get_boolean(v) ?
				    "connected" : "disconnected";
			if (s != NULL && strcmp(s, state) != 0) {
				strlcpy(state, s, sizeof(state));
				if (jflag)
					printf("%s\n", line);
				else
					printf("state: %s\n",
					    output_text(state));
			}
		} else if (jflag)
			printf("%s\n", line);
		else
			output_event(stdout, r);
		fflush(stdout);
		json_object_put(r);
		free(line);
	}
	return 0;
}

/*
 * exclude -- CMD: the daemon moves this very process (it reads who we
 * are from the connection) out of the tunnel; CMD inherits that.
 */
static int
cmd_exclude(char *cmdv[])
{
	struct json_object	*o, *r;
	char			*raw;
	int			 id;

	o = proto_msg("exclude");
	id = send_obj(o, false);
	json_object_put(o);
	r = wait_reply("exclude", id, &raw);
	if (jflag)
		fprintf(stderr, "%s\n", raw);
	free(raw);
	if (is_type(r, "error")) {
		if (!jflag)
			output_error(stderr, r);
		json_object_put(r);
		return EXIT_NO;
	}
	json_object_put(r);
	close(sock);
	free(inbuf);
	fflush(stdout);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execvp(cmdv[0], cmdv);
	warn("%s", cmdv[0]);
	_exit(errno == ENOENT ? 127 : 126);
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	const char		*path = VPND_SOCKET, *errstr, *cmd;
	int			 ch, rv;

	/*
	 * Options come before the command ("lockdown on --allow-lan"), and
	 * "+" ends them there: exclude runs a program with options of its own.
	 */
	while ((ch = getopt(argc, argv, "+js:t:")) != -1) {
		switch (ch) {
		case 'j':
			jflag = true;
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			timeout_ms = strtonum(optarg, 1, INT_MAX / 1000,
			    &errstr) * 1000;
			if (errstr != NULL) {
				warnx("timeout %s: %s", optarg, errstr);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(cmd, "exclude") == 0) {
		if (argc < 3 || strcmp(argv[1], "--") != 0)
			usage();
		ctl_connect(path);
		return cmd_exclude(argv + 2);
	}
	if (strcmp(cmd, "lockdown") == 0) {
		if (argc < 2 || argc > 3)
			usage();
	} else if ((strcmp(cmd, "up") == 0 || strcmp(cmd, "activate") == 0) ?
	    argc != 2 : argc != 1)
		usage();
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "up") != 0 &&
	    strcmp(cmd, "activate") != 0 && strcmp(cmd, "down") != 0 &&
	    strcmp(cmd, "monitor") != 0 && strcmp(cmd, "logs") != 0 &&
	    strcmp(cmd, "cleanlogs") != 0 && strcmp(cmd, "version") != 0 &&
	    strcmp(cmd, "lockdown") != 0)
		usage();

	ctl_connect(path);
	if (strcmp(cmd, "up") == 0)
		rv = cmd_up(argv[1]);
	else if (strcmp(cmd, "activate") == 0)
		rv = cmd_activate_file(argv[1]);
	else if (strcmp(cmd, "down") == 0)
		rv = cmd_down();
	else if (strcmp(cmd, "monitor") == 0)
		rv = cmd_monitor();
	else if (strcmp(cmd, "version") == 0)
		rv = cmd_version();
	else if (strcmp(cmd, "lockdown") == 0)
		rv = cmd_lockdown(argc, argv);
	else
		rv = cmd_simple(cmd);
	close(sock);
	free(inbuf);
	fflush(stdout);
	return rv;
}

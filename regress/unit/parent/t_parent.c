/*
 * t_parent.c -- the parent's first gate on what its children send
 * (parent_dispatch): only netmgr may ask for network changes or logs;
 * READY comes once per child and carries nothing; only netmgr may switch
 * lockdown, with a message of the exact size; a log message has its
 * exact size and is labelled with the child it came from, whatever name
 * the message claims.  Anything else stops the parent (exit 1) before a
 * single kernel call.  parent.c is compiled into this file to reach its static
 * dispatcher; every kernel call is a stub (sys_stubs.h), and each hostile
 * message runs in a forked child.
 */
#include "../../../parent/parent.c"

#include <sys/wait.h>

#include "tap.h"
#include "sys_stubs.h"

static struct parent_opts	 t_opts;
static struct imsgev		 t_iev[PROC_MAX];
static struct imsgbuf		 t_peer[PROC_MAX];
static char			 t_statedir[] = "/tmp/vpnd-t-parent.XXXXXX";
/* the byte of each IMSG_CPU_HOLD t_run sends, in turn */
static const uint8_t		*t_holds;

static void	 t_setup(void);
static void	 t_send(int, uint32_t, const void *, size_t);
static int	 t_run(int, const uint32_t *, const size_t *, int);
static char	*t_log_line(int, int, const char *, const char *);

static void
t_setup(void)
{
	int	 sv[2], p;

	if (mkdtemp(t_statedir) == NULL)
		abort();
	memset(&t_opts, 0, sizeof(t_opts));
	strlcpy(t_opts.env.sockpath, "/nonexistent/vpnd-t-parent.sock",
	    sizeof(t_opts.env.sockpath));
	popts = &t_opts;
	netops_init(t_statedir, IFN, "0123456789abcdef0123456789abcdef");
	lockdown_init(t_statedir, NULL);
	event_init();
	for (p = PROC_NETMGR; p < PROC_MAX; p++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    imsgev_init(&t_iev[p], sv[0], p, false, NULL, NULL,
		    NULL) == -1 || imsgbuf_init(&t_peer[p], sv[1]) == -1)
			abort();
	}
	netops_set_tunworker(&t_iev[PROC_TUNWORKER]);
}

/* Child p sends one message. */
static void
t_send(int p, uint32_t type, const void *data, size_t len)
{
	if (imsg_compose(&t_peer[p], type, 0, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&t_peer[p]) == -1)
		abort();
}

/*
 * In a forked child, child p sends n messages and the parent dispatches
 * them; the exit status: 0 all taken, 1 the parent stopped, 42 a kernel
 * call was made.
 */
static int
t_run(int p, const uint32_t *types, const size_t *lens, int n)
{
	struct imsg		 imsg;
	struct imsg_net_begin	 b;
	uint8_t			 data[4096];
	pid_t			 pid;
	int			 i, status;

	if ((pid = stub_fork()) == 0) {
		memset(data, 0, sizeof(data));
		memset(&b, 0, sizeof(b));
		strlcpy(b.ifname, IFN, sizeof(b.ifname));
		b.mtu = 1420;
		data[0] = 1;	/* LOCKDOWN_SET: on */
		b.mark = CONF_DEFAULT_FWMARK;
		for (i = 0; i < n; i++) {
			if (types[i] == IMSG_CPU_HOLD) {
				uint8_t	hold[4] = { *t_holds++, 0, 0, 0 };

				t_send(p, types[i], hold, lens[i]);
				continue;
			}
			t_send(p, types[i], types[i] == IMSG_NET_BEGIN &&
			    lens[i] == sizeof(b) ? (void *)&b : (void *)data,
			    lens[i]);
		}
		if (imsgbuf_read(&t_iev[p].ibuf) == -1)
			_exit(3);
		while (imsg_get(&t_iev[p].ibuf, &imsg) > 0) {
			parent_dispatch(&t_iev[p], &imsg);
			imsg_free(&imsg);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		abort();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
}

/*
 * In a forked child, child p sends one log line claiming to come from
 * claimed; returns what the parent wrote to stderr (in the foreground),
 * or NULL.
 */
static char *
t_log_line(int p, int pri, const char *claimed, const char *line)
{
	struct log_msg	 lm;
	struct imsg	 imsg;
	char		 path[] = "/tmp/vpnd-t-parent-log.XXXXXX", *buf;
	pid_t		 pid;
	ssize_t		 n;
	int		 fd, status;

	if ((fd = mkstemp(path)) == -1)
		abort();
	unlink(path);
	if ((pid = stub_fork()) == 0) {
		t_opts.env.foreground = 1;
		dup2(fd, 2);	/* the parent's lines, this time */
		memset(&lm, 0, sizeof(lm));
		lm.pri = pri;
		strlcpy(lm.proc, claimed, sizeof(lm.proc));
		strlcpy(lm.line, line, sizeof(lm.line));
		t_send(p, IMSG_LOG, &lm, sizeof(lm));
		if (imsgbuf_read(&t_iev[p].ibuf) == -1)
			_exit(3);
		while (imsg_get(&t_iev[p].ibuf, &imsg) > 0) {
			parent_dispatch(&t_iev[p], &imsg);
			imsg_free(&imsg);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || (buf = calloc(1, 4096)) == NULL) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, 4095, 0);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

int
main(void)
{
	const size_t	 zero[2] = { 0, 0 };
	uint32_t	 t[2];
	size_t		 l[2];
	char		 path[sizeof(t_statedir) + 16], *got;

	alarm(120);
	plan(35);
	t_setup();

	/* Controls: netmgr's set-up reaches the kernel; READY once is fine. */
	t[0] = IMSG_NET_BEGIN;
	l[0] = sizeof(struct imsg_net_begin);
	t[1] = IMSG_NET_COMMIT;
	l[1] = 0;
	is_int(t_run(PROC_NETMGR, t, l, 2), 42,
	    "control: netmgr's set-up reaches the kernel");
	t[0] = IMSG_READY;
	is_int(t_run(PROC_TUNWORKER, t, zero, 1), 0,
	    "control: one READY from tunworker is taken");

	/* Wrong sender. */
	t[0] = IMSG_NET_BEGIN;
	t[1] = IMSG_NET_COMMIT;
	is_int(t_run(PROC_TUNWORKER, t, l, 2), 1,
	    "NET_BEGIN+COMMIT from tunworker: the parent stops, no kernel call");
	is_int(t_run(PROC_DNSMGR, t, l, 2), 1,
	    "NET_BEGIN+COMMIT from dnsmgr: the parent stops, no kernel call");
	t[0] = IMSG_NET_DOWN;
	is_int(t_run(PROC_TUNWORKER, t, zero, 1), 1,
	    "NET_DOWN from tunworker: the parent stops");
	t[0] = IMSG_LOGS_CLEAN;
	is_int(t_run(PROC_TUNWORKER, t, zero, 1), 1,
	    "LOGS_CLEAN from tunworker: the parent stops");
	t[0] = IMSG_LOGS_GET;
	is_int(t_run(PROC_DNSMGR, t, zero, 1), 1,
	    "LOGS_GET from dnsmgr: the parent stops");
	t[0] = IMSG_LOGS_NEXT;
	is_int(t_run(PROC_TUNWORKER, t, zero, 1), 1,
	    "LOGS_NEXT from tunworker: the parent stops");
	is_int(t_run(PROC_NETMGR, t, zero, 1), 1,
	    "LOGS_NEXT from netmgr with no read going on: the parent stops");
	t[0] = IMSG_SHUTDOWN_DONE;
	is_int(t_run(PROC_TUNWORKER, t, zero, 1), 1,
	    "SHUTDOWN_DONE from tunworker: the parent stops (exit 1, not 0)");
	t[0] = IMSG_LOCKDOWN_SET;
	l[0] = sizeof(struct imsg_lockdown);
	is_int(t_run(PROC_NETMGR, t, l, 1), 42,
	    "control: netmgr's lockdown on reaches the kernel");
	is_int(t_run(PROC_TUNWORKER, t, l, 1), 1,
	    "LOCKDOWN_SET from tunworker: the parent stops, no kernel call");
	is_int(t_run(PROC_DNSMGR, t, l, 1), 1,
	    "LOCKDOWN_SET from dnsmgr: the parent stops, no kernel call");
	l[0] = sizeof(struct imsg_lockdown) + 1;
	is_int(t_run(PROC_NETMGR, t, l, 1), 1,
	    "LOCKDOWN_SET of the wrong size: the parent stops");

	/* Out of sequence, wrong size. */
	t[0] = t[1] = IMSG_READY;
	is_int(t_run(PROC_NETMGR, t, zero, 2), 1,
	    "READY twice from one child: the parent stops");
	l[0] = 4;
	is_int(t_run(PROC_NETMGR, t, l, 1), 1,
	    "READY with a payload: the parent stops");
	t[0] = IMSG_LOG;
	l[0] = sizeof(struct log_msg) - 1;
	is_int(t_run(PROC_TUNWORKER, t, l, 1), 1,
	    "a log message one byte short: the parent stops");
	t[0] = 9999;
	is_int(t_run(PROC_NETMGR, t, zero, 1), 1,
	    "an unknown message type from netmgr: the parent stops");

	/*
	 * vpnd -l: tunworker asks to hold the latency (1) or not (0), one
	 * byte; nothing else, and nobody else. Without -l it is ignored.
	 */
	{
		static const uint8_t	 one[] = { 1 }, two[] = { 2 };
		static const uint8_t	 seq[] = { 1, 1, 0, 0, 1 };
		const uint32_t		 h[5] = { IMSG_CPU_HOLD, IMSG_CPU_HOLD,
		    IMSG_CPU_HOLD, IMSG_CPU_HOLD, IMSG_CPU_HOLD };
		const size_t		 one_len[5] = { 1, 1, 1, 1, 1 };
		size_t			 four = 4;
		int32_t			 w[8];
		int			 fd;
		ssize_t			 got_len;

		const struct {
			int		 proc;
			const uint8_t	*hold;
			const size_t	*len;
			bool		 told;	/* -l announced */
			int		 want;
			const char	*what;
		} gate[] = {
			{ PROC_TUNWORKER, one, one_len, false, 1,
			    "from tunworker without -l: the parent stops" },
			{ PROC_TUNWORKER, one, one_len, true, 0,
			    "with -l, the device given up: taken, nothing done" },
			{ PROC_NETMGR, one, one_len, true, 1,
			    "from netmgr: the parent stops" },
			{ PROC_DNSMGR, one, one_len, true, 1,
			    "from dnsmgr: the parent stops" },
			{ PROC_TUNWORKER, one, &four, true, 1,
			    "of 4 bytes: the parent stops" },
			{ PROC_TUNWORKER, one, zero, true, 1,
			    "of 0 bytes: the parent stops" },
			{ PROC_TUNWORKER, two, one_len, true, 1,
			    "of 2 (a latency of tunworker's choosing?): the "
			    "parent stops" },
		};
		size_t	 k;

		for (k = 0; k < sizeof(gate) / sizeof(gate[0]); k++) {
			cpulat_told = gate[k].told;
			t_holds = gate[k].hold;
			is_int(t_run(gate[k].proc, h, gate[k].len, 1),
			    gate[k].want, "CPU_HOLD %s", gate[k].what);
		}
		cpulat_told = true;	/* -l, from here on */

		snprintf(path, sizeof(path), "%s/cpulat", t_statedir);
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
			abort();
		cpulat_fd = fd;
		cpulat_us = 7;
		t_holds = seq;
		is_int(t_run(PROC_TUNWORKER, h, one_len, 5), 0,
		    "-l 7: hold, hold, withdraw, withdraw, hold: taken");
		got_len = pread(fd, w, sizeof(w), 0);
		ok(got_len == 3 * sizeof(int32_t) && w[0] == 7 && w[1] == -1 &&
		    w[2] == 7, "-l 7: written 7, -1, 7: a change each, the "
		    "latency the administrator gave (%zd bytes)", got_len);
		if (ftruncate(fd, 0) == -1)
			abort();
		cpulat_fd = open("/dev/full", O_WRONLY);
		t_holds = seq;
		is_int(t_run(PROC_TUNWORKER, h, one_len, 5), 0,
		    "-l on a device that takes no write: said, given up, no "
		    "stop");
		close(cpulat_fd);
		cpulat_fd = -1;

		/*
		 * Given up for good: after a failed write, a later change
		 * writes nowhere, not to whatever reuses the number.
		 */
		{
			static const uint8_t	 on = 1;
			struct imsg		 im;
			pid_t			 pid;
			int			 st, full, nfd;

			if ((pid = stub_fork()) == 0) {
				if ((full = open("/dev/full", O_WRONLY)) == -1)
					_exit(3);
				cpulat_fd = full;
				cpulat_held = false;
				t_send(PROC_TUNWORKER, IMSG_CPU_HOLD, &on, 1);
				t_send(PROC_TUNWORKER, IMSG_CPU_HOLD, &on, 1);
				if (imsgbuf_read(&t_iev[PROC_TUNWORKER].ibuf) ==
				    -1 || imsg_get(&t_iev[PROC_TUNWORKER].ibuf,
				    &im) <= 0)
					_exit(3);
				parent_dispatch(&t_iev[PROC_TUNWORKER], &im);
				imsg_free(&im);
				/* the lowest free number: the one given up */
				if ((nfd = open(path, O_RDWR | O_CREAT | O_TRUNC,
				    0600)) != full)
					_exit(4);
				if (imsg_get(&t_iev[PROC_TUNWORKER].ibuf,
				    &im) <= 0)
					_exit(3);
				parent_dispatch(&t_iev[PROC_TUNWORKER], &im);
				imsg_free(&im);
				_exit(lseek(nfd, 0, SEEK_END) == 0 ? 0 : 5);
			}
			if (waitpid(pid, &st, 0) == -1)
				abort();
			is_int(WIFEXITED(st) ? WEXITSTATUS(st) : 128, 0,
			    "-l: given up, the next change writes nowhere "
			    "(not to a descriptor that reuses the number)");
		}

		/* a tunworker that switches it on and off as fast as it can */
		{
			static uint8_t	 flood[40];
			static uint32_t	 ft[40];
			static size_t	 fl[40];
			int		 i;

			for (i = 0; i < 40; i++) {
				flood[i] = (i + 1) & 1;
				ft[i] = IMSG_CPU_HOLD;
				fl[i] = 1;
			}
			if (ftruncate(fd, 0) == -1 ||
			    lseek(fd, 0, SEEK_SET) == -1)
				abort();
			cpulat_fd = fd;
			cpulat_held = false;
			t_holds = flood;
			is_int(t_run(PROC_TUNWORKER, ft, fl, 40), 0,
			    "-l 7: 40 changes at once: taken, no stop");
			got_len = lseek(fd, 0, SEEK_END);
			ok(got_len <= 32 * (ssize_t)sizeof(int32_t),
			    "-l 7: at most 16 a second written (32 across a "
			    "second's end), then given up (%zd bytes)",
			    got_len);
			cpulat_fd = -1;
		}
		close(fd);
		unlink(path);
	}

	/* A log line is labelled with its real sender. */
	got = t_log_line(PROC_TUNWORKER, LOG_INFO, "tunworker", "hello");
	is_str(got, "tunworker: hello\n",
	    "control: tunworker's own line, labelled tunworker");
	free(got);
	got = t_log_line(PROC_TUNWORKER, LOG_INFO, "parent",
	    "ready; control socket /x");
	is_str(got, "tunworker: ready; control socket /x\n",
	    "tunworker claiming to be the parent: labelled tunworker");
	free(got);
	got = t_log_line(PROC_DNSMGR, LOG_WARNING, "netmgr", "w");
	is_str(got, "dnsmgr: warning: w\n",
	    "dnsmgr claiming to be netmgr: labelled dnsmgr");
	free(got);
	got = t_log_line(PROC_NETMGR, -1, "netmgr", "odd");
	is_str(got, "netmgr: error: odd\n",
	    "a priority outside syslog's range is logged as an error");
	free(got);

	snprintf(path, sizeof(path), "%s/net.state", t_statedir);
	unlink(path);
	rmdir(t_statedir);
	return done_testing();
}

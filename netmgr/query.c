/*
 * query.c -- status and logs, the control requests that only read.
 *
 * status asks tunworker for fresh counters when it holds a configuration
 * and answers every waiting request at once when they come, or from the
 * cache after STATUS_TIMEOUT_MS. logs asks the parent for its log files,
 * one request at a time, the oldest first; the parent sends their newest
 * part a chunk at a time, the next when netmgr asks for it, so neither
 * process holds more than that part whatever the files' size.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "imsgev.h"
#include "lockctl.h"
#include "log.h"
#include "proto.h"
#include "query.h"
#include "tunnel.h"
#include "vpnd.h"

#define STATUS_TIMEOUT_MS	300	/* then answer from the cache */
#define MAX_QUERY_WAIT		64	/* logs: root and the group only */
/*
 * Any local user may ask for status: room for every request every client
 * may have pending, so one user's waiting requests never leave another
 * (root included) with "busy".
 */
#define MAX_STATUS_WAIT		((CTL_MAX_CLIENTS + CTL_ROOT_RESERVE) * \
				    CTL_MAX_PENDING)
/*
 * The newest part of the logs a `logs` reply carries (the parent sends no
 * more): well under the control socket's 1 MiB output limit for one
 * client.
 */
#define LOGS_MAX		VPND_LOGS_MAX

struct pending_req {
	unsigned int		 conn;
	struct json_object	*req;
};

static void	 status_answer_all(void);
static void	 status_forget_gone(void);
static void	 status_timeout(int, short, void *);
static void	 logs_trim(void);
static void	 logs_ask(void);

static struct imsgev	*iev_parent, *iev_tun;
static char		 device_id[65];

/* status: the last counters from tunworker, and who waits for new ones */
static struct imsg_wg_stats	 stats[TUNNEL_MAX_PEERS];
static size_t			 nstats, nstats_new;
static struct imsg_wg_stats	 stats_new[TUNNEL_MAX_PEERS];
static struct pending_req	 status_wait[MAX_STATUS_WAIT];
static size_t			 nstatus_wait;
static int			 stats_inflight;
static void			(*stats_hook)(void);
static struct event		 ev_status;

/* logs: requests answered in order by the parent */
static struct pending_req	 logs_wait[MAX_QUERY_WAIT];
static int			 logs_clean[MAX_QUERY_WAIT];
static struct {
	uid_t	uid;
	pid_t	pid;
}					 logs_who[MAX_QUERY_WAIT];
static size_t			 nlogs_wait;
static char			*logs_buf;
static size_t			 logs_len;
static int			 logs_trimmed;

void
query_init(const struct vpnd_env *env, struct imsgev *parent,
    struct imsgev *tun)
{
	iev_parent = parent;
	iev_tun = tun;
	evtimer_set(&ev_status, status_timeout, NULL);
}

void
query_set_device_id(const char *id)
{
	strlcpy(device_id, id, sizeof(device_id));
}

void
query_status(struct ctl_conn *c, struct json_object *req)
{
	if (nstatus_wait == nitems(status_wait))
		status_forget_gone();
	if (nstatus_wait == nitems(status_wait)) {
		control_error(c, req, NULL, "busy", "too many status requests "
		    "in flight");
		return;
	}
	status_wait[nstatus_wait].conn = control_conn_id(c);
	status_wait[nstatus_wait].req = req;
	nstatus_wait++;
	query_refresh();
}

void
query_refresh(void)
{
	struct timeval	tv = { 0, STATUS_TIMEOUT_MS * 1000 };

	if (!tunnel_wg_up() || !iev_tun->active) {
		status_answer_all();
		return;
	}
	if (!stats_inflight) {
		stats_inflight = 1;
		nstats_new = 0;
		imsgev_compose(iev_tun, IMSG_WG_STATS_REQ, 0, -1, NULL, 0);
		evtimer_add(&ev_status, &tv);
	}
}

/*
 * Drop the requests of clients that are gone (cut off at their backlog,
 * say): what is left is each a pending request of a client still there,
 * and those are at most MAX_STATUS_WAIT.
 */
static void
status_forget_gone(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < nstatus_wait; i++)
		if (control_conn_find(status_wait[i].conn) != NULL)
			status_wait[n++] = status_wait[i];
	nstatus_wait = n;
}

static void
status_timeout(int fd, short ev, void *arg)
{
	/* Answer from the cache; a late reply just refreshes it. */
	if (nstatus_wait > 0)
		log_debug("status: tunworker slow, answering from cache");
	status_answer_all();
}

static void
status_answer_all(void)
{
	struct proto_status	 st;
	static struct proto_peer_status ps[TUNNEL_MAX_PEERS];	/* not on the stack: ~660 KB */
	struct json_object	*o;
	struct ctl_conn		*c;
	size_t			 i;

	evtimer_del(&ev_status);
	tunnel_status(&st, ps, stats, nstats);
	st.device_id = device_id[0] != '\0' ? device_id : NULL;
	st.has_lockdown = ldctl_known(&st.lockdown, &st.lockdown_lan);
	for (i = 0; i < nstatus_wait; i++) {
		if ((c = control_conn_find(status_wait[i].conn)) == NULL)
			continue;
		o = proto_status_json(&st);
		control_reply(c, status_wait[i].req, o);
	}
	nstatus_wait = 0;
	if (stats_hook != NULL)
		stats_hook();
}

void
query_set_stats_hook(void (*fn)(void))
{
	stats_hook = fn;
}

void
query_stats(const struct imsg_wg_stats **st, size_t *n)
{
	*st = stats;
	*n = nstats;
}

void
query_on_stats(struct imsg *imsg)
{
	if (nstats_new == nitems(stats_new) ||
	    imsg_get_data(imsg, &stats_new[nstats_new],
	    sizeof(stats_new[0])) == -1)
		fatalx("bad IMSG_WG_STATS");
	nstats_new++;
}

void
query_on_stats_end(void)
{
	memcpy(stats, stats_new, nstats_new * sizeof(stats[0]));
	nstats = nstats_new;
	nstats_new = 0;
	stats_inflight = 0;
	status_answer_all();
}

void
query_stats_forget(void)
{
	nstats = 0;
}

void
query_logs(struct ctl_conn *c, struct json_object *req, int clean)
{
	if (nlogs_wait == nitems(logs_wait)) {
		control_error(c, req, NULL, "busy", "too many log "
		    "requests in flight");
		return;
	}
	logs_wait[nlogs_wait].conn = control_conn_id(c);
	logs_wait[nlogs_wait].req = req;
	logs_clean[nlogs_wait] = clean;
	control_conn_cred(c, &logs_who[nlogs_wait].uid,
	    &logs_who[nlogs_wait].pid);
	/* one at a time: the next once this one's END has come */
	if (++nlogs_wait == 1)
		logs_ask();
}

static void
logs_ask(void)
{
	imsgev_compose(iev_parent, logs_clean[0] ? IMSG_LOGS_CLEAN :
	    IMSG_LOGS_GET, 0, -1, NULL, 0);
}

void
query_on_logs_data(struct imsg *imsg)
{
	size_t	 len = imsg_get_len(imsg);

	if (nlogs_wait == 0 || len > VPND_LOGS_CHUNK)
		fatalx("unexpected IMSG_LOGS_DATA");
	if ((logs_buf = realloc(logs_buf, logs_len + len + 1)) == NULL)
		fatal("logs");
	if (imsg_get_buf(imsg, logs_buf + logs_len, len) == -1)
		fatalx("bad IMSG_LOGS_DATA");
	logs_len += len;
	/*
	 * Oldest first: keep the newest LOGS_MAX bytes. Trimmed only once
	 * twice that has come, so each byte moves at most once (a move per
	 * chunk would be quadratic).
	 */
	if (logs_len > 2 * LOGS_MAX)
		logs_trim();
	imsgev_compose(iev_parent, IMSG_LOGS_NEXT, 0, -1, NULL, 0);
}

/* Keep the newest LOGS_MAX bytes of what the parent sent. */
static void
logs_trim(void)
{
	if (logs_len <= LOGS_MAX)
		return;
	memmove(logs_buf, logs_buf + logs_len - LOGS_MAX, LOGS_MAX);
	logs_len = LOGS_MAX;
	logs_trimmed = 1;
}

void
query_on_logs_end(void)
{
	struct json_object	*o;
	struct ctl_conn		*c;
	char			*s;

	if (nlogs_wait == 0)
		fatalx("unexpected IMSG_LOGS_END");
	if (logs_buf == NULL && (logs_buf = calloc(1, 1)) == NULL)
		fatal("logs");
	logs_trim();
	logs_buf[logs_len] = '\0';
	s = logs_buf;
	if (logs_trimmed && (s = strchr(logs_buf, '\n')) != NULL)
		s++;		/* from the first whole line */
	else
		s = logs_buf;
	if (s != logs_buf) {
		logs_len -= s - logs_buf;
		memmove(logs_buf, s, logs_len + 1);
	}
	logs_trimmed = 0;
	if (logs_clean[0]) {
		logs_buf[0] = '\0';
		/* after the wipe, or the wipe would take it too */
		log_info("logs cleaned at the request of uid %u, pid %d",
		    (unsigned int)logs_who[0].uid, (int)logs_who[0].pid);
	}
	if (logs_len > 0 && logs_buf[logs_len - 1] == '\n')
		logs_buf[logs_len - 1] = '\0';
	for (s = logs_buf; *s != '\0'; s++)
		if (*s == '\n')
			*s = '|';
	if ((c = control_conn_find(logs_wait[0].conn)) != NULL) {
		o = proto_msg("logs");
		json_object_object_add(o, "logs",
		    json_object_new_string(logs_buf));
		control_reply(c, logs_wait[0].req, o);
	}
	free(logs_buf);
	logs_buf = NULL;
	logs_len = 0;
	nlogs_wait--;
	memmove(logs_wait, logs_wait + 1, nlogs_wait * sizeof(logs_wait[0]));
	memmove(logs_clean, logs_clean + 1, nlogs_wait *
	    sizeof(logs_clean[0]));
	memmove(logs_who, logs_who + 1, nlogs_wait * sizeof(logs_who[0]));
	if (nlogs_wait > 0)
		logs_ask();
}

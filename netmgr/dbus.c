/*
 * dbus.c -- the D-Bus door: name, object and interface org.mozilla.vpn.dbus
 * on the system bus (object "/"), with the Mozilla VPN Linux daemon's
 * methods and signals:
 *
 *	version() -> s		"1", anyone
 *	status() -> s		the status object (JSON), anyone
 *	activate(s) -> b	jsonConfig: the socket's activate without "type"
 *	deactivate() -> b
 *	getLogs() -> s
 *	cleanupLogs()
 *	signals connected(s pubkey), disconnected()
 *
 * Untrusted messages are parsed here, in netmgr, never in the parent: by
 * sd-bus, then jsonConfig by control.c's parser, as a line from the socket
 * would be. Each call becomes a request of a local client of control.c
 * (control_local_new()) and goes where the socket's go: one state machine,
 * and the signals every socket client receives reach the bus through one
 * more local client that only listens.
 *
 * Who may ask what is the socket's rule: activate, deactivate, getLogs
 * and cleanupLogs need root or the group vpnd, taken from the caller's
 * credentials as the bus driver knows them (GetConnectionCredentials:
 * UnixUserID, UnixGroupIDs); without them, no. A refused caller gets
 * false, "" or nothing, and one log line. version and status are for
 * anyone, as on the socket.
 *
 * The connections (the service's, and one for the questions to the bus
 * driver) are made before the sandbox (dbus_connect()), as _vpnd: the bus
 * takes the peer's credentials at connect(). Inside the sandbox sd-bus
 * only reads and writes those sockets; it is driven from libevent
 * (sd_bus_get_fd/get_events/get_timeout/process). A lost bus is logged
 * and the daemon carries on without it.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <grp.h>
#include <limits.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "compat.h"
#include "control.h"
#include "dbus.h"
#include "log.h"
#include "sdl.h"
#include "tunnel.h"
#include "vpnd.h"

#define BUS_DRIVER	"org.freedesktop.DBus"
#define BUS_DRIVER_PATH	"/org/freedesktop/DBus"
#define BUS_SYSTEM_SOCKET "/run/dbus/system_bus_socket"
#define BUS_SYSTEM_DEFAULT "unix:path=" BUS_SYSTEM_SOCKET
#define BUS_BATCH	64	/* sd_bus_process() turns per wake-up */

enum dbus_method {
	DM_VERSION,
	DM_STATUS,
	DM_ACTIVATE,
	DM_DEACTIVATE,
	DM_LOGS,
	DM_CLEANLOGS,
};

static const struct {
	const char	*name;		/* the D-Bus method */
	const char	*request;	/* the control protocol's request */
	bool		 admin;
} methods[] = {
	[DM_VERSION] =		{ "version",	"version",	false },
	[DM_STATUS] =		{ "status",	"status",	false },
	[DM_ACTIVATE] =		{ "activate",	"activate",	true },
	[DM_DEACTIVATE] =	{ "deactivate",	"deactivate",	true },
	[DM_LOGS] =		{ "getLogs",	"logs",		true },
	[DM_CLEANLOGS] =	{ "cleanupLogs", "cleanlogs",	true },
};

struct dbus_call {
	TAILQ_ENTRY(dbus_call)	 entry;
	sd_bus_message		*m;	/* the call: replied to once */
	sd_bus_slot		*slot;	/* GetConnectionCredentials */
	enum dbus_method	 method;
	const char		*arg;	/* activate's jsonConfig, inside m */
	unsigned int		 conn;	/* its local client; 0: none */
	bool			 answered;
	bool			 asking;	/* waits for the bus driver's word */
	size_t			 arglen;	/* of arg */
	bool			 known;		/* uid and admin are the caller's */
	bool			 admin;
	uid_t			 uid;
};

/*
 * What the bus driver said of a connection. A connection's credentials
 * are those of its connect() and the bus never gives a unique name twice,
 * so they hold as long as the bus does.
 */
struct dbus_peer {
	char			*name;	/* its unique name */
	uid_t			 uid;
	pid_t			 pid;
	bool			 admin;
};

static struct {
	sd_bus			*bus;
	sd_bus			*ask;	/* the questions to the bus driver */
	struct event_base	*base;
	struct event		 ev_io, ev_timer, ev_reap;
	struct event		 ev_aio, ev_atimer;	/* ask's */
	bool			 armed, aarmed;
	bool			 paused;	/* bus not read: door_full() */
	bool			 unnamed;	/* the bus refused the name */
	struct ctl_acl		 acl;
	unsigned int		 watch;	/* the local client hearing signals */
	TAILQ_HEAD(, dbus_call)	 calls;
	size_t			 ncalls;
	size_t			 nasking;	/* questions to the bus driver */
	size_t			 asking_bytes;	/* arglen of calls asking */
	struct dbus_peer	 peers[DBUS_PEERS];
	size_t			 next_peer;
	sd_id128_t		 machine;	/* read before the sandbox */
	bool			 have_machine;
	/* lines any local user can cause, logged at a bounded rate */
	struct log_rate		 lr_refused, lr_unknown, lr_reply;
	struct event		 ev_lograte;	/* counts what was left out */
} db;

#define LR_REFUSED	"refused calls of non-members"
#define LR_UNKNOWN	"refused calls of callers the bus did not name"
#define LR_REPLY	"failed D-Bus replies"

static int	 bus_open(sd_bus **);
static size_t	 sender_ncalls(const char *);
static int	 m_call(sd_bus_message *, void *, sd_bus_error *);
static int	 bus_filter(sd_bus_message *, void *, sd_bus_error *);
static bool	 call_room(const char *, const struct dbus_peer *,
		    const struct dbus_call *, size_t);
static struct dbus_call *sender_asker(const char *);
static struct dbus_call *sender_asker_any(const struct dbus_call *);
static const struct dbus_peer *peer_find(const char *);
static const struct dbus_peer *peer_add(const char *, uid_t, pid_t, bool);
static void	 arg_wipe(const char *);
static int	 creds_done(sd_bus_message *, void *, sd_bus_error *);
static int	 name_done(sd_bus_message *, void *, sd_bus_error *);
static void	 call_go(struct dbus_call *, pid_t);
static void	 call_start(struct dbus_call *, uid_t, pid_t, bool);
static void	 call_sink(struct ctl_conn *, const char *, size_t, void *);
static void	 call_reply(struct dbus_call *, int, const char *);
static void	 call_free(struct dbus_call *);
static void	 watch_sink(struct ctl_conn *, const char *, size_t, void *);
static void	 activate_done(unsigned int, bool);
static void	 bus_io(int, short, void *);
static void	 ask_io(int, short, void *);
static void	 bus_reap(int, short, void *);
static void	 bus_run(void);
static void	 ask_run(void);
static void	 bus_arm(void);
static void	 bus_watch(sd_bus *, struct event *, struct event *, bool *,
		    void (*)(int, short, void *), bool);
static bool	 door_full(void);
static bool	 dbus_load(void);
static bool	 db_log_rate(struct log_rate *, const char *);
static void	 db_log_rate_flush(int, short, void *);
static void	 door_resume(void);
static void	 bus_lost(const char *, int);
static struct json_object *line_object(const char *, size_t, const char *);

/* Not const: the start's format reference is libsystemd's, from sdl. */
static sd_bus_vtable dbus_vtable[] = {
	{	/* SD_BUS_VTABLE_START(0) */
		.type = _SD_BUS_VTABLE_START,
		.flags = 0,
		.x = { .start = {
			.element_size = sizeof(sd_bus_vtable),
			.features = _SD_BUS_VTABLE_PARAM_NAMES,
		} },
	},
	SD_BUS_METHOD("version", "", "s", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("activate", "s", "b", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("deactivate", "", "b", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("status", "", "s", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("getLogs", "", "s", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("cleanupLogs", "", "", m_call,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL("connected", "s", 0),
	SD_BUS_SIGNAL("disconnected", "", 0),
	SD_BUS_VTABLE_END
};

/*
 * sd_bus_open_system(), with no descriptor passing: nobody can make the
 * bus hand netmgr descriptors with a call. The address as sd-bus finds
 * it: DBUS_SYSTEM_BUS_ADDRESS, else the standard socket.
 */
static int
bus_open(sd_bus **busp)
{
	const char	*addr;
	sd_bus		*bus = NULL;
	int		 r;

	*busp = NULL;
	if ((addr = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS")) == NULL ||
	    *addr == '\0')
		addr = BUS_SYSTEM_DEFAULT;
	if ((r = sd_bus_new(&bus)) < 0)
		return r;
	if ((r = sd_bus_set_address(bus, addr)) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
	    (r = sd_bus_set_trusted(bus, 0)) < 0 ||
	    (r = sd_bus_negotiate_fds(bus, 0)) < 0 ||
	    (r = sd_bus_start(bus)) < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*busp = bus;
	return 0;
}

/*
 * libsystemd is mapped only when there may be a bus: its socket exists
 * (the standard one, or the one a plain "unix:path=" address names), or
 * DBUS_SYSTEM_BUS_ADDRESS is another kind of address. Without a bus
 * netmgr saves the megabyte the library costs.
 */
static bool
dbus_load(void)
{
	const char	*addr, *path = NULL;
	char		 err[256];
	struct stat	 st;

	addr = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	if (addr == NULL || *addr == '\0')
		path = BUS_SYSTEM_SOCKET;
	else if (strncmp(addr, "unix:path=", 10) == 0 &&
	    strpbrk(addr, ",;%") == NULL)
		path = addr + 10;
	if (path != NULL && stat(path, &st) == -1) {
		log_info("no system bus (%s): the D-Bus service %s is off",
		    strerror(errno), DBUS_NAME);
		return false;
	}
	if (sdl_load(err, sizeof(err)) == -1) {
		log_warnx("no D-Bus library (%s): the D-Bus service %s is "
		    "off", err, DBUS_NAME);
		return false;
	}
	dbus_vtable[0].x.start.vtable_format_reference = sdl.vtable_format;
	return true;
}

/*
 * log_rate(), and when a line is left out, a timer that logs how many
 * were once the window is over: the count must not wait for a later line
 * of the kind, which a caller who stops never sends.
 */
static bool
db_log_rate(struct log_rate *lr, const char *what)
{
	struct timeval	 tv = { LOG_RATE_SEC, 0 };

	if (log_rate(lr, what))
		return true;
	if (db.base != NULL && !evtimer_pending(&db.ev_lograte, NULL))
		evtimer_add(&db.ev_lograte, &tv);
	return false;
}

static void
db_log_rate_flush(int fd, short ev, void *arg)
{
	log_rate_flush(&db.lr_refused, LR_REFUSED);
	log_rate_flush(&db.lr_unknown, LR_UNKNOWN);
	log_rate_flush(&db.lr_reply, LR_REPLY);
}

void
dbus_connect(uid_t uid, gid_t gid, bool switch_id)
{
	int	r;

	TAILQ_INIT(&db.calls);
	if (!dbus_load())
		return;
	if (switch_id && (setgroups(0, NULL) == -1 || setegid(gid) == -1 ||
	    seteuid(uid) == -1))
		fatal("%s: drop to uid %u", __func__, (unsigned int)uid);
	/*
	 * Two connections: the service's, and one for the questions to the
	 * bus driver, whose answers never wait behind the calls queued for
	 * the service (m_call()).
	 */
	if ((r = bus_open(&db.bus)) >= 0 && (r = bus_open(&db.ask)) < 0)
		db.bus = sd_bus_close_unref(db.bus);
	if (switch_id && (seteuid(0) == -1 || setegid(0) == -1))
		fatal("%s: back to root", __func__);
	if (r < 0) {
		db.bus = NULL;
		db.ask = NULL;
		log_info("no system bus (%s): the D-Bus service %s is off",
		    strerror(-r), DBUS_NAME);
		return;
	}
	/*
	 * sd-bus answers org.freedesktop.DBus.Peer.GetMachineId by opening
	 * /etc/machine-id, which the sandbox forbids (any caller would kill
	 * netmgr): bus_filter() answers it with the id read here.
	 */
	db.have_machine = sd_id128_get_machine(&db.machine) >= 0;
}

void
dbus_start(struct event_base *base, const struct ctl_acl *acl)
{
	struct ctl_conn	*c;
	int		 r;

	if (db.bus == NULL)
		return;
	db.base = base;
	db.acl = *acl;
	if (event_assign(&db.ev_timer, base, -1, 0, bus_io, NULL) == -1 ||
	    event_assign(&db.ev_atimer, base, -1, 0, ask_io, NULL) == -1 ||
	    event_assign(&db.ev_reap, base, -1, 0, bus_reap, NULL) == -1 ||
	    event_assign(&db.ev_lograte, base, -1, 0, db_log_rate_flush,
	    NULL) == -1)
		fatalx("%s: event_assign", __func__);
	if ((r = sd_bus_add_filter(db.bus, NULL, bus_filter, NULL)) < 0 ||
	    (r = sd_bus_add_filter(db.ask, NULL, bus_filter, NULL)) < 0 ||
	    (r = sd_bus_add_object_vtable(db.bus, NULL, DBUS_PATH, DBUS_IFACE,
	    dbus_vtable, NULL)) < 0 ||
	    (r = sd_bus_request_name_async(db.bus, NULL, DBUS_NAME, 0,
	    name_done, NULL)) < 0) {
		bus_lost("cannot serve", r);
		return;
	}
	if ((c = control_local_new((uid_t)-1, 0, false, watch_sink, NULL)) ==
	    NULL) {
		bus_lost("cannot listen for signals", -ENOMEM);
		return;
	}
	db.watch = control_conn_id(c);
	tunnel_set_activate_hook(activate_done);
	bus_arm();
}

static int
name_done(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const sd_bus_error	*e;
	uint32_t		 ret;

	/* Without the name, the connection goes (bus_run(), quietly). */
	if ((e = sd_bus_message_get_error(m)) != NULL) {
		log_warnx("the bus refused the name %s (%s); running without "
		    "the D-Bus service", DBUS_NAME,
		    e->message != NULL ? e->message : e->name);
		db.unnamed = true;
		event_active(&db.ev_timer, 0, 0);
		return 1;
	}
	if (sd_bus_message_read(m, "u", &ret) < 0 || (ret != 1 && ret != 4)) {
		log_warnx("the name %s is taken; running without the D-Bus "
		    "service", DBUS_NAME);
		db.unnamed = true;
		event_active(&db.ev_timer, 0, 0);
		return 1;
	}
	log_info("serving %s on the system bus", DBUS_NAME);
	return 1;
}

/*
 * Before sd-bus's own handling of a message: what it would do with a file
 * the sandbox forbids.
 */
static int
bus_filter(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	char	id[SD_ID128_STRING_MAX];

	/* whatever the interface: sd-bus's test is no wider than this */
	if (!sd_bus_message_is_method_call(m, NULL, "GetMachineId"))
		return 0;
	if (!db.have_machine)
		return sd_bus_error_set(err, SD_BUS_ERROR_NOT_SUPPORTED,
		    "no machine id");
	return sd_bus_reply_method_return(m, "s",
	    sd_id128_to_string(db.machine, id));
}

/*
 * Every method: version at once, the others through a local client of
 * control.c once the bus driver said who the caller is (asked once per
 * connection: peer_find(); the calls of a connection being asked about
 * wait for that one answer). In progress at a time: DBUS_MAX_PER_SENDER
 * calls of one connection; DBUS_MAX_CALLS calls of root and the group;
 * DBUS_MAX_UID_CALLS of any other uid. Before the caller is known only
 * memory is bounded (DBUS_MAX_TOTAL calls, DBUS_MAX_ASKING questions,
 * DBUS_MAX_ASKING_BYTES of arguments), and not by refusing: bus_run()
 * stops reading the bus while one more call might not fit
 * (door_full()), until the bus driver's answers, which come on a
 * connection of their own (db.ask), make room. So one user's flood of
 * calls from ever new connections is refused once the bus has said who
 * sends it, and the calls of others wait for their turn instead.
 */
static int
m_call(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	struct dbus_call	*call;
	const struct dbus_peer	*peer;
	const char		*member, *sender, *json = NULL;
	size_t			 i;
	int			 r;

	member = sd_bus_message_get_member(m);
	for (i = 0; i < nitems(methods); i++)
		if (member != NULL && strcmp(member, methods[i].name) == 0)
			break;
	if (i == nitems(methods))
		return sd_bus_error_set(err, SD_BUS_ERROR_UNKNOWN_METHOD,
		    "unknown method");
	if (i == DM_VERSION)
		return sd_bus_reply_method_return(m, "s", DBUS_PROTOCOL);
	/* no call holds more than the control protocol takes */
	if (i == DM_ACTIVATE) {
		if ((r = sd_bus_message_read(m, "s", &json)) < 0)
			return r;
		if (strlen(json) > CTL_LINE_MAX) {
			arg_wipe(json);
			return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
			    "jsonConfig longer than %d bytes", CTL_LINE_MAX);
		}
	}
	peer = NULL;
	if ((sender = sd_bus_message_get_sender(m)) == NULL ||
	    !call_room(sender, (peer = peer_find(sender)), NULL,
	    json != NULL ? strlen(json) : 0)) {
		arg_wipe(json);
		if (sender == NULL)
			return sd_bus_error_set(err, SD_BUS_ERROR_FAILED,
			    "no sender");
		return sd_bus_error_set(err, SD_BUS_ERROR_LIMITS_EXCEEDED,
		    "too many calls in progress; try again");
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		arg_wipe(json);
		return -ENOMEM;
	}
	call->m = sd_bus_message_ref(m);
	call->method = i;
	call->arg = json;
	call->arglen = json != NULL ? strlen(json) : 0;
	TAILQ_INSERT_TAIL(&db.calls, call, entry);
	db.ncalls++;
	if (peer != NULL) {
		call->known = true;
		call->uid = peer->uid;
		call->admin = peer->admin;
		call_go(call, peer->pid);
		return 1;
	}
	/* the sender is being asked about already: wait for that answer */
	if (sender_asker(sender) == NULL &&
	    (r = sd_bus_call_method_async(db.ask, &call->slot, BUS_DRIVER,
	    BUS_DRIVER_PATH, BUS_DRIVER, "GetConnectionCredentials",
	    creds_done, call, "s", sender)) < 0) {
		call_free(call);
		return sd_bus_error_set(err, SD_BUS_ERROR_FAILED,
		    "cannot ask the bus who the caller is");
	}
	if (call->slot != NULL)
		db.nasking++;
	call->asking = true;
	db.asking_bytes += call->arglen;
	return 1;
}

/* Another call of self's sender waiting for the bus driver's word. */
static struct dbus_call *
sender_asker_any(const struct dbus_call *self)
{
	struct dbus_call	*call;
	const char		*s, *sender;

	if ((sender = sd_bus_message_get_sender(self->m)) == NULL)
		return NULL;
	TAILQ_FOREACH(call, &db.calls, entry)
		if (call != self && call->asking &&
		    (s = sd_bus_message_get_sender(call->m)) != NULL &&
		    strcmp(s, sender) == 0)
			return call;
	return NULL;
}

/* The call of sender that asked the bus driver about it, if one did. */
static struct dbus_call *
sender_asker(const char *sender)
{
	struct dbus_call	*call;
	const char		*s;

	TAILQ_FOREACH(call, &db.calls, entry)
		if (call->asking && call->slot != NULL &&
		    (s = sd_bus_message_get_sender(call->m)) != NULL &&
		    strcmp(s, sender) == 0)
			return call;
	return NULL;
}

/*
 * Whether one more call of sender (peer: what the bus said of it, if
 * it was asked already) may start; self: that call, if it is in the
 * list already.
 */
static bool
call_room(const char *sender, const struct dbus_peer *peer,
    const struct dbus_call *self, size_t arglen)
{
	struct dbus_call	*call;
	size_t			 n = 0;

	if (db.ncalls - (self != NULL) >= DBUS_MAX_TOTAL ||
	    sender_ncalls(sender) - (self != NULL) >= DBUS_MAX_PER_SENDER)
		return false;
	if (peer == NULL)
		return arglen <= DBUS_MAX_ASKING_BYTES - db.asking_bytes &&
		    (db.nasking < DBUS_MAX_ASKING ||
		    sender_asker(sender) != NULL);
	TAILQ_FOREACH(call, &db.calls, entry)
		if (call->known && !call->answered &&
		    (peer->admin ? call->admin : call->uid == peer->uid))
			n++;
	return n < (peer->admin ? DBUS_MAX_CALLS : DBUS_MAX_UID_CALLS);
}

static const struct dbus_peer *
peer_find(const char *name)
{
	size_t	i;

	for (i = 0; i < DBUS_PEERS; i++)
		if (db.peers[i].name != NULL &&
		    strcmp(db.peers[i].name, name) == 0)
			return &db.peers[i];
	return NULL;
}

static const struct dbus_peer *
peer_add(const char *name, uid_t uid, pid_t pid, bool admin)
{
	struct dbus_peer	*p;
	char			*copy;

	if ((p = (struct dbus_peer *)peer_find(name)) != NULL)
		return p;
	if ((copy = strdup(name)) == NULL)
		return NULL;
	p = &db.peers[db.next_peer];
	db.next_peer = (db.next_peer + 1) % DBUS_PEERS;
	free(p->name);
	p->name = copy;
	p->uid = uid;
	p->pid = pid;
	p->admin = admin;
	return p;
}

/* activate's jsonConfig, inside the message sd-bus frees unwiped */
static void
arg_wipe(const char *arg)
{
	if (arg != NULL)
		explicit_bzero((char *)arg, strlen(arg));
}

/*
 * The bus driver's word on the sender of arg's call: for every call of
 * that sender waiting for it.
 */
static int
creds_done(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	struct dbus_call	*asker = arg, *call, *next;
	struct dbus_creds	*cr;
	const struct dbus_peer	*peer = NULL;
	const char		*sender = sd_bus_message_get_sender(asker->m);
	bool			 said = false, nomem = true;

	asker->slot = sd_bus_slot_unref(asker->slot);
	db.nasking--;
	if ((cr = calloc(1, sizeof(*cr))) != NULL) {
		nomem = false;
		said = !sd_bus_message_is_method_error(m, NULL) &&
		    dbus_creds_parse(m, cr) == 0 && cr->has_uid;
		if (said)
			peer = peer_add(sender, cr->uid,
			    cr->has_pid ? cr->pid : -1,
			    dbus_creds_admin(cr, &db.acl));
		free(cr);
	}
	for (call = TAILQ_FIRST(&db.calls); call != NULL; call = next) {
		next = TAILQ_NEXT(call, entry);
		if (!call->asking || (call != asker &&
		    strcmp(sd_bus_message_get_sender(call->m), sender) != 0))
			continue;
		call->asking = false;
		db.asking_bytes -= call->arglen;
		if (!nomem && !said) {
			if (db_log_rate(&db.lr_unknown, LR_UNKNOWN))
				log_warnx("D-Bus %s refused: the bus did not "
				    "say who the caller (%s) is",
				    methods[call->method].name, sender);
			call_reply(call, 0, NULL);
		} else if (peer == NULL)
			call_reply(call, -ENOMEM, NULL);
		else if (!call_room(sender, peer, call, 0))
			call_reply(call, -EBUSY, NULL);
		else {
			call->known = true;
			call->uid = peer->uid;
			call->admin = peer->admin;
			call_go(call, peer->pid);
		}
	}
	door_resume();
	return 1;
}

/* A caller the bus named: refused, or on to control.c. */
static void
call_go(struct dbus_call *call, pid_t pid)
{
	if (methods[call->method].admin && !call->admin) {
		if (db_log_rate(&db.lr_refused, LR_REFUSED))
			log_warnx("D-Bus %s refused: uid %u, pid %d is neither "
			    "root nor in group %s", methods[call->method].name,
			    (unsigned int)call->uid, (int)pid, VPND_GROUP);
		call_reply(call, 0, NULL);
		return;
	}
	call_start(call, call->uid, pid, call->admin);
}

/* The call as a request of a local client of control.c. */
static void
call_start(struct dbus_call *call, uid_t uid, pid_t pid, bool admin)
{
	struct ctl_conn	*c;
	const char	*req = methods[call->method].request;
	size_t		 len;

	if ((c = control_local_new(uid, pid, admin, call_sink, call)) ==
	    NULL) {
		call_reply(call, -ENOMEM, NULL);
		return;
	}
	call->conn = control_conn_id(c);
	if (call->arg != NULL) {
		len = strlen(call->arg);
		control_local_request(c, req, call->arg, len);
		/* the private key, as far as it is ours to wipe */
		explicit_bzero((char *)call->arg, len);
	} else
		control_local_request(c, req, NULL, 0);
	/* deactivate is answered with nothing: it was taken */
	if (!call->answered && call->method == DM_DEACTIVATE)
		call_reply(call, 1, NULL);
}

/* What the control protocol sends a call's local client. */
static void
call_sink(struct ctl_conn *c, const char *line, size_t len, void *arg)
{
	struct dbus_call	*call = arg;
	struct json_object	*o;
	char			*text = NULL;

	if (call->answered)
		return;
	if ((o = line_object(line, len, "error")) != NULL) {
		log_info("D-Bus %s failed: %s", methods[call->method].name,
		    json_object_get_string(json_object_object_get(o,
		    "message")));
		json_object_put(o);
		call_reply(call, 0, NULL);
		return;
	}
	switch (call->method) {
	case DM_STATUS:
		if ((text = dbus_status_text(line, len)) != NULL)
			call_reply(call, 1, text);
		break;
	case DM_LOGS:
		if ((text = dbus_logs_text(line, len)) != NULL)
			call_reply(call, 1, text);
		break;
	case DM_CLEANLOGS:
		if ((o = line_object(line, len, "logs")) != NULL) {
			json_object_put(o);
			call_reply(call, 1, NULL);
		}
		break;
	default:
		break;		/* activate: activate_done() */
	}
	free(text);
}

/* Calls in progress from one connection to the bus. */
static size_t
sender_ncalls(const char *sender)
{
	struct dbus_call	*call;
	const char		*s;
	size_t			 n = 0;

	TAILQ_FOREACH(call, &db.calls, entry)
		if (!call->answered && sender != NULL &&
		    (s = sd_bus_message_get_sender(call->m)) != NULL &&
		    strcmp(s, sender) == 0)
			n++;
	return n;
}

/* tunnel.c: an activate's set-up is over. */
static void
activate_done(unsigned int conn, bool ok)
{
	struct dbus_call	*call;

	TAILQ_FOREACH(call, &db.calls, entry)
		if (call->conn == conn && call->method == DM_ACTIVATE &&
		    !call->answered) {
			call_reply(call, ok, NULL);
			return;
		}
}

/* The signals of the control protocol, as the bus's. */
static void
watch_sink(struct ctl_conn *c, const char *line, size_t len, void *arg)
{
	struct json_object	*o, *k;
	int			 r = 0;

	if (db.bus == NULL)
		return;
	if ((o = line_object(line, len, "connected")) != NULL) {
		k = json_object_object_get(o, "pubkey");
		if (json_object_is_type(k, json_type_string))
			r = sd_bus_emit_signal(db.bus, DBUS_PATH, DBUS_IFACE,
			    "connected", "s", json_object_get_string(k));
		json_object_put(o);
	} else if ((o = line_object(line, len, "disconnected")) != NULL) {
		r = sd_bus_emit_signal(db.bus, DBUS_PATH, DBUS_IFACE,
		    "disconnected", "");
		json_object_put(o);
	}
	if (r < 0)
		log_warnx("D-Bus signal: %s", strerror(-r));
	bus_arm();
}

/*
 * Answer a call once: r < 0 an error (-EBUSY: LimitsExceeded), else the method's value -- b: r;
 * s: text, or "" when refused; nothing for cleanupLogs. Its local client
 * and the call itself go at the next turn of the loop (bus_reap()), not
 * from inside control.c's callbacks.
 */
static void
call_reply(struct dbus_call *call, int r, const char *text)
{
	char	*copy, *p;
	int	 e;

	if (call->answered)
		return;
	call->answered = true;
	if (db.bus == NULL)
		goto reap;
	if (r == -EBUSY)
		e = sd_bus_reply_method_errorf(call->m,
		    SD_BUS_ERROR_LIMITS_EXCEEDED,
		    "too many calls in progress; try again");
	else if (r < 0)
		e = sd_bus_reply_method_errno(call->m, -r, NULL);
	else
		switch (call->method) {
		case DM_ACTIVATE:
		case DM_DEACTIVATE:
			e = sd_bus_reply_method_return(call->m, "b", r > 0);
			break;
		case DM_CLEANLOGS:
			e = sd_bus_reply_method_return(call->m, "");
			break;
		default:
			e = sd_bus_reply_method_return(call->m, "s",
			    text != NULL ? text : "");
			/* D-Bus strings are UTF-8: the log need not be */
			if (e == -EINVAL && text != NULL &&
			    (copy = strdup(text)) != NULL) {
				for (p = copy; *p != '\0'; p++)
					if ((unsigned char)*p >= 0x80)
						*p = '?';
				e = sd_bus_reply_method_return(call->m, "s",
				    copy);
				free(copy);
			}
			break;
		}
	if (e < 0 && db_log_rate(&db.lr_reply, LR_REPLY))
		log_warnx("D-Bus %s: reply: %s", methods[call->method].name,
		    strerror(-e));
	bus_arm();
 reap:
	if (db.base != NULL)
		event_active(&db.ev_reap, 0, 0);
}

static void
call_free(struct dbus_call *call)
{
	struct dbus_call	*other;
	struct ctl_conn		*c;

	if (call->conn != 0 && (c = control_conn_find(call->conn)) != NULL)
		control_local_close(c);
	if (call->asking) {
		db.asking_bytes -= call->arglen;
		/* the others of its sender wait for the question it asked */
		call->asking = false;
		if (call->slot != NULL &&
		    (other = sender_asker_any(call)) != NULL) {
			sd_bus_slot_set_userdata(call->slot, other);
			other->slot = call->slot;
			call->slot = NULL;
		} else if (call->slot != NULL)
			db.nasking--;
	}
	arg_wipe(call->arg);
	sd_bus_slot_unref(call->slot);
	sd_bus_message_unref(call->m);
	TAILQ_REMOVE(&db.calls, call, entry);
	db.ncalls--;
	free(call);
	door_resume();
}

/*
 * Whether the next message of the bus could be a call that does not fit
 * (call_room()) whoever sent it: then the bus is not read until the
 * answers of the bus driver or the end of calls make room.
 */
static bool
door_full(void)
{
	return db.ncalls >= DBUS_MAX_TOTAL || db.nasking >= DBUS_MAX_ASKING ||
	    db.asking_bytes > DBUS_MAX_ASKING_BYTES - CTL_LINE_MAX;
}

/* Room again: the bus is read at the next turn of the loop. */
static void
door_resume(void)
{
	if (db.paused && !door_full()) {
		db.paused = false;
		if (db.base != NULL)
			event_active(&db.ev_timer, 0, 0);
	}
}

static void
bus_reap(int fd, short ev, void *arg)
{
	struct dbus_call	*call, *next;

	for (call = TAILQ_FIRST(&db.calls); call != NULL; call = next) {
		next = TAILQ_NEXT(call, entry);
		if (call->answered)
			call_free(call);
	}
}

static void
bus_io(int fd, short ev, void *arg)
{
	bus_run();
}

static void
ask_io(int fd, short ev, void *arg)
{
	ask_run();
}

static void
bus_run(void)
{
	int	i, r;

	for (i = 0; db.bus != NULL && !db.unnamed && i < BUS_BATCH; i++) {
		if ((db.paused = door_full()))
			break;
		if ((r = sd_bus_process(db.bus, NULL)) < 0) {
			bus_lost("lost", r);
			return;
		}
		if (r == 0)
			break;
	}
	if (db.bus != NULL && db.unnamed) {
		bus_lost(NULL, 0);
		return;
	}
	if (db.bus != NULL && (!sd_bus_is_open(db.bus) ||
	    sd_bus_get_events(db.bus) < 0)) {
		bus_lost("lost", -ECONNRESET);
		return;
	}
	bus_arm();
	/* more to do: again at once, after the other events */
	if (i == BUS_BATCH)
		event_active(&db.ev_timer, 0, 0);
}

/* The bus driver's answers (creds_done()). */
static void
ask_run(void)
{
	int	i, r;

	for (i = 0; db.ask != NULL && i < BUS_BATCH; i++) {
		if ((r = sd_bus_process(db.ask, NULL)) < 0) {
			bus_lost("lost", r);
			return;
		}
		if (r == 0)
			break;
	}
	if (db.ask != NULL && (!sd_bus_is_open(db.ask) ||
	    sd_bus_get_events(db.ask) < 0)) {
		bus_lost("lost", -ECONNRESET);
		return;
	}
	bus_arm();
	if (i == BUS_BATCH)
		event_active(&db.ev_atimer, 0, 0);
}

/* Watch both connections: for what sd-bus waits for, and its timer. */
static void
bus_arm(void)
{
	if (db.bus == NULL || db.base == NULL)
		return;
	bus_watch(db.bus, &db.ev_io, &db.ev_timer, &db.armed, bus_io,
	    db.paused);
	bus_watch(db.ask, &db.ev_aio, &db.ev_atimer, &db.aarmed, ask_io,
	    false);
}

/* idle: watch nothing (a paused bus: door_resume() wakes it). */
static void
bus_watch(sd_bus *bus, struct event *io, struct event *timer, bool *armed,
    void (*cb)(int, short, void *), bool idle)
{
	struct timespec	 now;
	struct timeval	 tv;
	uint64_t	 until, nowus;
	short		 flags = 0;
	int		 fd, events;

	/*
	 * A closed bus: the run says so at the next turn of the loop,
	 * never from inside one of sd-bus's callbacks.
	 */
	if ((fd = sd_bus_get_fd(bus)) < 0 ||
	    (events = sd_bus_get_events(bus)) < 0) {
		event_active(timer, 0, 0);
		return;
	}
	if (*armed)
		event_del(io);
	*armed = false;
	evtimer_del(timer);
	if (idle)
		return;
	if (events & POLLIN)
		flags |= EV_READ;
	if (events & POLLOUT)
		flags |= EV_WRITE;
	event_assign(io, db.base, fd, flags, cb, NULL);
	*armed = event_add(io, NULL) == 0;
	if (sd_bus_get_timeout(bus, &until) >= 0 && until != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		nowus = (uint64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
		until = until > nowus ? until - nowus : 0;
		tv.tv_sec = until / 1000000;
		tv.tv_usec = until % 1000000;
		evtimer_add(timer, &tv);
	}
}

/*
 * The bus is gone (or never served, or refused the name): the door
 * closes, logged once (what NULL: it was already said).
 */
static void
bus_lost(const char *what, int r)
{
	struct dbus_call	*call;
	struct ctl_conn		*c;
	size_t			 i;

	if (what != NULL)
		log_warnx("system bus: %s (%s); the D-Bus service %s is off "
		    "until vpnd restarts", what, strerror(-r), DBUS_NAME);
	if (db.armed)
		event_del(&db.ev_io);
	if (db.aarmed)
		event_del(&db.ev_aio);
	db.armed = db.aarmed = false;
	db.paused = false;
	if (db.base != NULL) {
		evtimer_del(&db.ev_timer);
		evtimer_del(&db.ev_atimer);
	}
	while ((call = TAILQ_FIRST(&db.calls)) != NULL)
		call_free(call);
	if (db.watch != 0 && (c = control_conn_find(db.watch)) != NULL)
		control_local_close(c);
	db.watch = 0;
	for (i = 0; i < DBUS_PEERS; i++) {
		free(db.peers[i].name);
		db.peers[i].name = NULL;
	}
	tunnel_set_activate_hook(NULL);
	if (db.base != NULL)
		evtimer_del(&db.ev_lograte);
	db_log_rate_flush(-1, 0, NULL);
	db.bus = sd_bus_close_unref(db.bus);
	db.ask = sd_bus_close_unref(db.ask);
}

/*
 * A line control.c sent (its own JSON, len bytes; 0: up to the NUL) as an
 * object, if its type is type.
 */
static struct json_object *
line_object(const char *line, size_t len, const char *type)
{
	struct json_tokener	*tok;
	struct json_object	*o, *t;

	if (len == 0)
		len = strlen(line);
	if (len > INT_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, line, (int)len);
	json_tokener_free(tok);
	if (o == NULL)
		return NULL;
	if (!json_object_object_get_ex(o, "type", &t) ||
	    !json_object_is_type(t, json_type_string) ||
	    strcmp(json_object_get_string(t), type) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

char *
dbus_status_text(const char *line, size_t len)
{
	struct json_object	*o;
	const char		*s;
	char			*text = NULL;

	if ((o = line_object(line, len, "status")) == NULL)
		return NULL;
	json_object_object_del(o, "type");
	json_object_object_del(o, "id");
	if ((s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
		text = strdup(s);
	json_object_put(o);
	return text;
}

char *
dbus_logs_text(const char *line, size_t len)
{
	struct json_object	*o, *l;
	char			*text = NULL, *p;

	if ((o = line_object(line, len, "logs")) == NULL)
		return NULL;
	if (json_object_object_get_ex(o, "logs", &l) &&
	    json_object_is_type(l, json_type_string) &&
	    (text = strdup(json_object_get_string(l))) != NULL)
		for (p = text; *p != '\0'; p++)
			if (*p == '|')
				*p = '\n';
	json_object_put(o);
	return text;
}

int
dbus_creds_parse(sd_bus_message *m, struct dbus_creds *cr)
{
	const char	*key;
	uint32_t	 u;
	int		 r;

	memset(cr, 0, sizeof(*cr));
	if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return -1;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (sd_bus_message_read(m, "s", &key) < 0)
			return -1;
		if (strcmp(key, "UnixUserID") == 0) {
			if (cr->has_uid || sd_bus_message_read(m, "v", "u",
			    &u) < 0 || u == UINT32_MAX)
				return -1;
			cr->uid = u;
			cr->has_uid = true;
		} else if (strcmp(key, "ProcessID") == 0) {
			if (cr->has_pid || sd_bus_message_read(m, "v", "u",
			    &u) < 0)
				return -1;
			cr->pid = (pid_t)u;
			cr->has_pid = u > 0 && u <= INT32_MAX;
		} else if (strcmp(key, "UnixGroupIDs") == 0) {
			if (cr->has_gids ||
			    sd_bus_message_enter_container(m, 'v', "au") <= 0 ||
			    sd_bus_message_enter_container(m, 'a', "u") <= 0)
				return -1;
			while ((r = sd_bus_message_read(m, "u", &u)) > 0) {
				if (cr->ngids < DBUS_MAX_GIDS)
					cr->gids[cr->ngids++] = u;
				else
					cr->gids_truncated = true;
			}
			if (r < 0 || sd_bus_message_exit_container(m) < 0 ||
			    sd_bus_message_exit_container(m) < 0)
				return -1;
			cr->has_gids = true;
		} else if (sd_bus_message_skip(m, "v") < 0)
			return -1;
		if (sd_bus_message_exit_container(m) < 0)
			return -1;
	}
	if (r < 0 || sd_bus_message_exit_container(m) < 0)
		return -1;
	return 0;
}

bool
dbus_creds_admin(const struct dbus_creds *cr, const struct ctl_acl *acl)
{
	size_t	i, j;

	if (!cr->has_uid)
		return false;
	if (cr->uid == 0)
		return true;
	for (i = 0; i < acl->nuids && i < CTL_ACL_MAX; i++)
		if (acl->uids[i] == cr->uid)
			return true;
	for (i = 0; cr->has_gids && i < cr->ngids; i++)
		for (j = 0; j < acl->ngids && j < CTL_ACL_MAX; j++)
			if (acl->gids[j] == cr->gids[i])
				return true;
	return false;
}

/*
 * dbus.h -- netmgr's second door: the D-Bus service org.mozilla.vpn.dbus
 * on the system bus, as the Mozilla VPN client for Linux calls its
 * daemon. Every call becomes a request of the control protocol from a
 * local client of control.c (control_local_new()), so both doors drive
 * the one state machine in tunnel.c and see the same signals.
 */
#ifndef VPND_DBUS_H
#define VPND_DBUS_H

#include <sys/types.h>
#include <stdbool.h>
#include <stddef.h>

#define DBUS_NAME	"org.mozilla.vpn.dbus"
#define DBUS_PATH	"/"
#define DBUS_IFACE	"org.mozilla.vpn.dbus"
/* what version() answers: the Mozilla daemon's protocol version */
#define DBUS_PROTOCOL	"1"
/* calls in progress; more: LimitsExceeded */
#define DBUS_MAX_CALLS	32	/* of root and the group, together */
#define DBUS_MAX_UID_CALLS 4	/* of another uid */
#define DBUS_MAX_PER_SENDER 8	/* of one connection to the bus */
/*
 * Before the bus driver said who the caller is: questions to it (one per
 * connection), the calls waiting and their arguments. Not refusals: the
 * bus is not read while one more call might not fit (dbus.c, door_full()).
 */
#define DBUS_MAX_ASKING	1024	/* connections the bus driver is asked about */
#define DBUS_MAX_TOTAL	4096	/* all calls */
#define DBUS_MAX_ASKING_BYTES (2 * 1024 * 1024) /* of jsonConfig waiting */
#define DBUS_PEERS	64	/* connections whose credentials are kept */
#define DBUS_MAX_GIDS	256	/* groups kept from the caller's credentials */

struct ctl_acl;
struct event_base;
struct sd_bus_message;

/*
 * Before the sandbox: connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS
 * as sd-bus honours it) as uid/gid, so the bus sees that user; as root,
 * the effective ids are switched for the connect only. No bus: logged
 * once, vpnd runs without the door.
 */
void	 dbus_connect(uid_t, gid_t, bool switch_id);
/* Once the control socket is served: the object, the name, the signals. */
void	 dbus_start(struct event_base *, const struct ctl_acl *);

/* The caller's credentials, from the bus driver (GetConnectionCredentials). */
struct dbus_creds {
	bool	 has_uid, has_gids, has_pid;
	bool	 gids_truncated;	/* more than DBUS_MAX_GIDS */
	uid_t	 uid;
	pid_t	 pid;
	gid_t	 gids[DBUS_MAX_GIDS];
	size_t	 ngids;
};

/* The a{sv} of GetConnectionCredentials' reply; -1 if malformed. */
int	 dbus_creds_parse(struct sd_bus_message *, struct dbus_creds *);
/*
 * Whether the caller may ask everything: uid 0, a uid of the acl, or a
 * group of the caller's in the acl's groups. Without a uid: no.
 */
bool	 dbus_creds_admin(const struct dbus_creds *, const struct ctl_acl *);

/*
 * The text a method returns from the line its local client was sent:
 * status: the status object without "type" and "id"; getLogs: the
 * "logs" text with its lines joined by '\n' again. NULL for anything else
 * (an error, a signal). The caller frees it.
 */
char	*dbus_status_text(const char *line, size_t len);
char	*dbus_logs_text(const char *line, size_t len);

#endif /* VPND_DBUS_H */

/*
 * dns_resolved.c -- systemd-resolved over D-Bus, per link: the tunnel's
 * servers (SetLinkDNS), its search domains plus the "." routing domain so
 * every query goes to the tunnel (SetLinkDomains), and SetLinkDefaultRoute.
 * RevertLink on our link undoes all of it.
 *
 * resolved is only trusted when resolv.conf sends libc to it: a symlink to
 * its stub or its resolv.conf, or a static copy of the stub file.
 * Otherwise the settings would be made and ignored.
 *
 * Every call has a timeout: a D-Bus call can otherwise hang forever.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "sdl.h"
#include "dns_local.h"

#define RESOLVE1_DEST	"org.freedesktop.resolve1"
#define RESOLVE1_PATH	"/org/freedesktop/resolve1"
#define RESOLVE1_IFACE	"org.freedesktop.resolve1.Manager"
#define RESOLVED_STUB	"127.0.0.53"

static int	 bus_open(const struct dns_paths *, sd_bus **, char *,
		    size_t);
static void	 bus_done(const struct dns_paths *, sd_bus *);
static int	 bus_call(sd_bus *, sd_bus_message *, const char *, char *,
		    size_t);
static int	 set_dns(sd_bus *, const struct dns_config *, char *, size_t);
static int	 set_domains(sd_bus *, const struct dns_config *, char *,
		    size_t);
static int	 simple_call(sd_bus *, const char *, const char *, int, int,
		    const char *, char *, size_t);
static bool	 ends_with(const char *, const char *);
static bool	 link_is_ours(const struct dns_record *);

static bool
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool
dns_resolved_detect(const struct dns_resolv *rv)
{
	uint8_t		*buf;
	char		*text, *line, *next;
	size_t		 len;
	bool		 header = false, stub = false;

	if (rv->target[0] != '\0') {
		if (ends_with(rv->target, "/systemd/resolve/stub-resolv.conf") ||
		    ends_with(rv->target, "/systemd/resolve/resolv.conf"))
			return true;
		/* A symlink elsewhere (resolvconf's, say) is not resolved's. */
		return false;
	}
	if (rv->fd == -1 ||
	    dns_read_fd(rv->fd, DNS_MAX_FILE, &buf, &len, NULL) == -1)
		return false;
	if ((text = malloc(len + 1)) == NULL) {
		free(buf);
		return false;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	free(buf);
	/*
	 * Only the stub address with resolved's own header: some files
	 * merely mention systemd-resolved without pointing at it.
	 */
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' && strstr(line, "systemd-resolved") != NULL)
			header = true;
		else if (strncmp(line, "nameserver", 10) == 0) {
			char	*a = line + 10;

			a += strspn(a, " \t");
			if (strncmp(a, RESOLVED_STUB, strlen(RESOLVED_STUB)) ==
			    0 && strspn(a + strlen(RESOLVED_STUB), " \t\r") ==
			    strlen(a + strlen(RESOLVED_STUB)))
				stub = true;
		}
	}
	free(text);
	return header && stub;
}

/*
 * dnsmgr connects once, as its own user, before its sandbox forbids
 * connect(); the tests open a private bus per call.
 */
static int
bus_open(const struct dns_paths *p, sd_bus **busp, char *err, size_t errlen)
{
	const char	*address = p != NULL ? p->bus_address : NULL;
	sd_bus		*bus = NULL;
	int		 r;

	*busp = NULL;
	/* every sd_* call goes through sdl's table: NULL until loaded */
	if (!sdl_loaded()) {
		dns_err(err, errlen, "libsystemd is not loaded: the "
		    "resolved backend is unavailable");
		return -1;
	}
	if (p != NULL && p->bus != NULL) {
		bus = p->bus;
		if (!sd_bus_is_open(bus)) {
			dns_err(err, errlen, "the system bus connection is "
			    "closed; restart vpnd to reconnect");
			return -1;
		}
		*busp = bus;
		return 0;
	}
	if (p != NULL && p->bus_only) {
		dns_err(err, errlen, "no system bus connection (none at "
		    "start): the resolved backend is unavailable until vpnd "
		    "restarts");
		return -1;
	}
	if (address == NULL) {
		if ((r = sd_bus_open_system(&bus)) < 0) {
			dns_err(err, errlen, "system bus: %s", strerror(-r));
			return -1;
		}
	} else {
		if ((r = sd_bus_new(&bus)) < 0 ||
		    (r = sd_bus_set_address(bus, address)) < 0 ||
		    (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
		    (r = sd_bus_start(bus)) < 0) {
			dns_err(err, errlen, "bus %s: %s", address,
			    strerror(-r));
			sd_bus_unref(bus);
			return -1;
		}
	}
	*busp = bus;
	return 0;
}

static void
bus_done(const struct dns_paths *p, sd_bus *bus)
{
	if (p != NULL && p->bus != NULL)
		(void)sd_bus_flush(bus);
	else
		sd_bus_flush_close_unref(bus);
}

static int
bus_call(sd_bus *bus, sd_bus_message *m, const char *what, char *err,
    size_t errlen)
{
	sd_bus_error	 e = SD_BUS_ERROR_NULL;
	int		 r;

	r = sd_bus_call(bus, m, DNS_BUS_TIMEOUT_US, &e, NULL);
	if (r < 0) {
		dns_err(err, errlen, "resolved %s: %s", what,
		    e.message != NULL ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		return -1;
	}
	return 0;
}

static int
simple_call(sd_bus *bus, const char *method, const char *sig, int ifindex,
    int b, const char *s, char *err, size_t errlen)
{
	sd_bus_message	*m = NULL;
	int		 r, rv;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE1_DEST,
	    RESOLVE1_PATH, RESOLVE1_IFACE, method);
	if (r >= 0 && sig[0] != '\0') {
		if (strcmp(sig, "i") == 0)
			r = sd_bus_message_append(m, "i", ifindex);
		else if (strcmp(sig, "ib") == 0)
			r = sd_bus_message_append(m, "ib", ifindex, b);
		else
			r = sd_bus_message_append(m, "is", ifindex, s);
	}
	if (r < 0) {
		dns_err(err, errlen, "resolved %s: %s", method, strerror(-r));
		sd_bus_message_unref(m);
		return -1;
	}
	rv = bus_call(bus, m, method, err, errlen);
	sd_bus_message_unref(m);
	return rv;
}

static int
set_dns(sd_bus *bus, const struct dns_config *cfg, char *err, size_t errlen)
{
	sd_bus_message	*m = NULL;
	size_t		 i;
	int		 r, rv;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE1_DEST,
	    RESOLVE1_PATH, RESOLVE1_IFACE, "SetLinkDNS");
	if (r >= 0)
		r = sd_bus_message_append(m, "i", cfg->ifindex);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(iay)");
	for (i = 0; r >= 0 && i < cfg->nservers; i++) {
		const struct prefix *s = &cfg->servers[i];

		r = sd_bus_message_open_container(m, 'r', "iay");
		if (r >= 0)
			r = sd_bus_message_append(m, "i", (int)s->af);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', s->addr,
			    s->af == AF_INET ? 4 : 16);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		dns_err(err, errlen, "resolved SetLinkDNS: %s", strerror(-r));
		sd_bus_message_unref(m);
		return -1;
	}
	rv = bus_call(bus, m, "SetLinkDNS", err, errlen);
	sd_bus_message_unref(m);
	return rv;
}

static int
set_domains(sd_bus *bus, const struct dns_config *cfg, char *err,
    size_t errlen)
{
	sd_bus_message	*m = NULL;
	size_t		 i;
	int		 r, rv;

	r = sd_bus_message_new_method_call(bus, &m, RESOLVE1_DEST,
	    RESOLVE1_PATH, RESOLVE1_IFACE, "SetLinkDomains");
	if (r >= 0)
		r = sd_bus_message_append(m, "i", cfg->ifindex);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sb)");
	/* "~." : route every query here, not only the search domains. */
	if (r >= 0)
		r = sd_bus_message_append(m, "(sb)", ".", 1);
	/* "~name": a routing-only domain, passed without the tilde */
	for (i = 0; r >= 0 && i < cfg->ndomains; i++)
		r = sd_bus_message_append(m, "(sb)", cfg->domains[i] +
		    (cfg->domains[i][0] == '~'), cfg->domains[i][0] == '~');
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		dns_err(err, errlen, "resolved SetLinkDomains: %s",
		    strerror(-r));
		sd_bus_message_unref(m);
		return -1;
	}
	rv = bus_call(bus, m, "SetLinkDomains", err, errlen);
	sd_bus_message_unref(m);
	return rv;
}

int
dns_resolved_apply(const struct dns_paths *p, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	struct dns_record r;
	sd_bus		*bus;
	char		 e2[256];

	if (cfg->ifindex <= 0) {
		dns_err(err, errlen, "resolved needs the interface index");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.backend = DNS_RESOLVED;
	(void)strlcpy(r.ifname, cfg->ifname, sizeof(r.ifname));
	r.ifindex = cfg->ifindex;
	r.orig = DNS_ORIG_ABSENT;
	if (dns_record_write(p, &r, err, errlen) == -1)
		return -1;
	dns_point("record");
	if (bus_open(p, &bus, err, errlen) == -1) {
		(void)dns_record_remove(p, e2, sizeof(e2));
		return -1;
	}
	if (set_dns(bus, cfg, err, errlen) == -1 ||
	    set_domains(bus, cfg, err, errlen) == -1 ||
	    simple_call(bus, "SetLinkDefaultRoute", "ib", cfg->ifindex, 1,
	    NULL, err, errlen) == -1) {
		/* Leave the link as we found it. */
		(void)simple_call(bus, "RevertLink", "i", cfg->ifindex, 0,
		    NULL, e2, sizeof(e2));
		bus_done(p, bus);
		(void)dns_record_remove(p, e2, sizeof(e2));
		return -1;
	}
	/*
	 * Encrypted DNS to our tunnel resolvers makes no sense and fails;
	 * older resolved lacks the call, so its absence is not an error.
	 */
	(void)simple_call(bus, "SetLinkDNSOverTLS", "is", cfg->ifindex, 0,
	    "no", e2, sizeof(e2));
	(void)simple_call(bus, "FlushCaches", "", 0, 0, NULL, e2, sizeof(e2));
	bus_done(p, bus);
	dns_point("renamed");
	return 0;
}

/*
 * After a crash the interface may be gone, and its index reused by some
 * other link whose settings RevertLink would wipe.  Only revert a link that
 * still has our name; if the name cannot be looked up here (a sandbox
 * forbidding the ioctl), revert anyway.
 */
static bool
link_is_ours(const struct dns_record *r)
{
	unsigned int	 idx;

	if (r->ifname[0] == '\0')
		return true;
	idx = dns_ifindex(r->ifname);
	if (idx == 0)
		return errno != ENODEV && errno != ENXIO;
	return (int)idx == r->ifindex;
}

int
dns_resolved_restore(const struct dns_paths *p, const struct dns_record *r,
    struct dns_note *note, char *err, size_t errlen)
{
	sd_bus	*bus;
	int	 rv;

	if (r->ifindex <= 0) {
		dns_err(err, errlen, "DNS record: no interface index");
		return -1;
	}
	if (!link_is_ours(r))
		return 0;	/* resolved forgot the link with the link */
	if (bus_open(p, &bus, err, errlen) == -1)
		return -1;
	rv = simple_call(bus, "RevertLink", "i", r->ifindex, 0, NULL, err,
	    errlen);
	bus_done(p, bus);
	return rv;
}

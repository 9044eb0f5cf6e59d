/*
 * dns_resolvconf.c -- hand the tunnel's resolvers to resolvconf(8):
 * "resolvconf -a tun.IFNAME" with resolv.conf lines on stdin, and
 * "resolvconf -d tun.IFNAME" to take them back.  resolvconf keeps its own
 * per-interface state, so the record only needs the interface name.
 *
 * resolvconf writes root's files (/run/resolvconf, /etc/resolv.conf), so
 * in the daemon the parent runs it, on a list it checks itself
 * (dns_paths.resolvconf); the tests run it here (dns_rc).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "dns_local.h"

int
dns_resolvconf_apply(const struct dns_paths *p, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	struct dns_record r;
	char		 e2[256];

	if (cfg->ifname[0] == '\0' || cfg->ifname[0] == '-') {
		dns_err(err, errlen, "resolvconf needs an interface name");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.backend = DNS_RESOLVCONF;
	(void)strlcpy(r.ifname, cfg->ifname, sizeof(r.ifname));
	r.ifindex = cfg->ifindex;
	r.orig = DNS_ORIG_ABSENT;
	if (dns_record_write(p, &r, err, errlen) == -1)
		return -1;
	dns_point("record");
	if (dns_rc(p, DNS_RC_ADD, cfg, err, errlen) == -1) {
		/* -a may have stored part of it before failing. */
		(void)dns_rc(p, DNS_RC_DEL, cfg, e2, sizeof(e2));
		(void)dns_record_remove(p, e2, sizeof(e2));
		return -1;
	}
	dns_point("renamed");
	return 0;
}

int
dns_resolvconf_restore(const struct dns_paths *p, const struct dns_record *r,
    struct dns_note *note, char *err, size_t errlen)
{
	struct dns_config	 cfg;

	if (r->ifname[0] == '\0' || r->ifname[0] == '-') {
		dns_err(err, errlen, "DNS record: no interface name");
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	(void)strlcpy(cfg.ifname, r->ifname, sizeof(cfg.ifname));
	cfg.ifindex = r->ifindex;
	if (dns_rc(p, DNS_RC_CHECK, NULL, err, errlen) == -1) {
		dns_err(err, errlen, "resolvconf program not available to "
		    "remove %s", r->ifname);
		return -1;
	}
	return dns_rc(p, DNS_RC_DEL, &cfg, err, errlen);
}

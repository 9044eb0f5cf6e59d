/*
 * dnsbackend.h -- the DNS backends, named once: the parent parses -D
 * with them, dnsmgr applies the one chosen (vpnd_env.dns_backend).
 */
#ifndef VPND_DNSBACKEND_H
#define VPND_DNSBACKEND_H

enum dns_backend {
	DNS_AUTO,
	DNS_RESOLVED,
	DNS_RESOLVCONF,
	DNS_FILE,
	DNS_NONE,
};
#define DNS_NBACKENDS	(DNS_NONE + 1)

/* "auto", "resolved", ..., in the order of the enum. */
extern const char *const dns_backend_names[DNS_NBACKENDS];

/* The backend of a name; -1 if there is none of that name. */
int	 dns_backend_lookup(const char *);

#endif /* VPND_DNSBACKEND_H */

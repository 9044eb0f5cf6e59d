/*
 * dnsbackend.c -- the DNS backends' names.
 */
#include <stddef.h>
#include <string.h>

#include "dnsbackend.h"

const char *const dns_backend_names[DNS_NBACKENDS] = {
	[DNS_AUTO] = "auto",
	[DNS_RESOLVED] = "resolved",
	[DNS_RESOLVCONF] = "resolvconf",
	[DNS_FILE] = "file",
	[DNS_NONE] = "none",
};

int
dns_backend_lookup(const char *s)
{
	int	 i;

	for (i = 0; s != NULL && i < DNS_NBACKENDS; i++)
		if (strcmp(s, dns_backend_names[i]) == 0)
			return i;
	return -1;
}

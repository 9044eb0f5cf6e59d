/*
 * printconf.c -- `vpnd -nv`: the configuration as parsed, in the format
 * it was read in (wg-quick), normalised: one key per line in a fixed
 * order, addresses and endpoints numeric, defaults left out. As bgpd's
 * printconf.c, it makes every parser change one diff in regress/conf/.
 *
 * A private key or a preshared key is never printed: "(hidden)" stands
 * in for it, and the interface's public key follows as a comment.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "parent.h"

static void	 print_list_start(FILE *, const char *, int *);

static void
print_list_start(FILE *f, const char *key, int *first)
{
	fprintf(f, *first ? "%s = " : ", ", key);
	*first = 0;
}

void
print_config(FILE *f, const struct tunnel_conf *conf)
{
	const struct peer_conf	*p;
	uint8_t			 pub[WG_KEY_LEN];
	char			 b64[WG_KEY_B64_LEN + 1], buf[128];
	size_t			 i, j;
	int			 first;

	fprintf(f, "[Interface]\n");
	if (conf->has_privkey) {
		fprintf(f, "PrivateKey = (hidden)\n");
		if (key_public_from_private(pub, conf->privkey) == 0) {
			key_to_base64(b64, pub);
			fprintf(f, "# PublicKey = %s\n", b64);
		}
		explicit_bzero(pub, sizeof(pub));
	}
	first = 1;
	for (i = 0; i < conf->naddrs; i++) {
		print_list_start(f, "Address", &first);
		fprintf(f, "%s", prefix_fmt(&conf->addrs[i], buf, sizeof(buf)));
	}
	if (!first)
		fprintf(f, "\n");
	if (conf->listen_port != 0)
		fprintf(f, "ListenPort = %u\n", conf->listen_port);
	if (conf->mtu != 0)
		fprintf(f, "MTU = %d\n", conf->mtu);
	if (conf->table_mode == CONF_TABLE_OFF)
		fprintf(f, "Table = off\n");
	else if (conf->table_mode == CONF_TABLE_NUM &&
	    conf->table == CONF_TABLE_MAIN)
		fprintf(f, "Table = main\n");
	else if (conf->table_mode == CONF_TABLE_NUM)
		fprintf(f, "Table = %u\n", conf->table);
	if (conf->fwmark != 0)
		fprintf(f, "FwMark = 0x%x\n", conf->fwmark);
	first = 1;
	for (i = 0; i < conf->ndns; i++) {
		print_list_start(f, "DNS", &first);
		fprintf(f, "%s", addr_fmt(&conf->dns[i], buf, sizeof(buf)));
	}
	for (i = 0; i < conf->nsearch; i++) {
		print_list_start(f, "DNS", &first);
		fprintf(f, "%s", conf->search[i]);
	}
	if (!first)
		fprintf(f, "\n");
	if (conf->lockdown != 0)
		fprintf(f, "Lockdown = %s\n", conf->lockdown == LOCKDOWN_KEY_OFF ?
		    "off" : conf->lockdown == LOCKDOWN_KEY_ON ? "on" :
		    "on allow-lan");

	for (i = 0; i < conf->npeers; i++) {
		p = &conf->peers[i];
		key_to_base64(b64, p->pubkey);
		fprintf(f, "\n[Peer]\nPublicKey = %s\n", b64);
		if (p->has_psk)
			fprintf(f, "PresharedKey = (hidden)\n");
		first = 1;
		for (j = 0; j < p->naips; j++) {
			print_list_start(f, "AllowedIPs", &first);
			fprintf(f, "%s", prefix_fmt(&p->aips[j], buf,
			    sizeof(buf)));
		}
		if (!first)
			fprintf(f, "\n");
		if (p->endpoint.ss_family != AF_UNSPEC)
			fprintf(f, "Endpoint = %s\n", endpoint_fmt(&p->endpoint,
			    buf, sizeof(buf)));
		if (p->keepalive != 0)
			fprintf(f, "PersistentKeepalive = %u\n", p->keepalive);
	}
}

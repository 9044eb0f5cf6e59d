/*
 * confmsg.c -- the START, PEER/AIP..., END configuration sequence: one
 * sender and one receiver for every channel that carries a configuration.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <string.h>

#include "confmsg.h"
#include "log.h"
#include "vpnd.h"

const struct conf_seq conf_seq_headless = {
	"headless configuration",
	IMSG_HEADLESS_CONF, IMSG_HEADLESS_PEER, IMSG_HEADLESS_AIP,
	IMSG_HEADLESS_END,
};

const struct conf_seq conf_seq_wg = {
	"WireGuard configuration",
	IMSG_WG_IFACE, IMSG_WG_PEER, IMSG_WG_AIP, IMSG_WG_PEERS_END,
};

void
conf_send(struct imsgev *iev, const struct conf_seq *seq,
    const struct tunnel_conf *c)
{
	struct imsg_conf_iface	 ci;
	struct imsg_wg_peer	 p;
	struct imsg_wg_aip	 a;
	size_t			 i, j;

	memset(&ci, 0, sizeof(ci));
	memcpy(ci.privkey, c->privkey, WG_KEY_LEN);
	ci.has_privkey = c->has_privkey;
	ci.listen_port = c->listen_port;
	ci.mtu = c->mtu;
	memcpy(ci.addrs, c->addrs, sizeof(ci.addrs));
	ci.naddrs = c->naddrs;
	memcpy(ci.dns, c->dns, sizeof(ci.dns));
	ci.ndns = c->ndns;
	memcpy(ci.search, c->search, sizeof(ci.search));
	ci.nsearch = c->nsearch;
	ci.killswitch = c->killswitch;
	ci.allowlan = c->allowlan;
	ci.hop = c->hop;
	ci.table_mode = c->table_mode;
	ci.table = c->table;
	ci.fwmark = c->fwmark;
	imsgev_compose(iev, seq->start, 0, -1, &ci, sizeof(ci));
	explicit_bzero(&ci, sizeof(ci));
	for (i = 0; i < c->npeers; i++) {
		memset(&p, 0, sizeof(p));
		memcpy(p.pubkey, c->peers[i].pubkey, WG_KEY_LEN);
		memcpy(p.psk, c->peers[i].psk, WG_KEY_LEN);
		p.has_psk = c->peers[i].has_psk;
		p.endpoint = c->peers[i].endpoint;
		p.keepalive = c->peers[i].keepalive;
		imsgev_compose(iev, seq->peer, 0, -1, &p, sizeof(p));
		explicit_bzero(&p, sizeof(p));
		for (j = 0; j < c->peers[i].naips; j++) {
			memset(&a, 0, sizeof(a));
			memcpy(a.pubkey, c->peers[i].pubkey, WG_KEY_LEN);
			a.prefix = c->peers[i].aips[j];
			imsgev_compose(iev, seq->aip, 0, -1, &a, sizeof(a));
		}
	}
	imsgev_compose(iev, seq->end, 0, -1, NULL, 0);
}

void
conf_rx_init(struct conf_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	conf_init(&rx->conf);
}

void
conf_rx_free(struct conf_rx *rx)
{
	conf_free(&rx->conf);
	conf_rx_init(rx);
}

static void
conf_rx_start(struct conf_rx *rx, const struct conf_seq *seq,
    struct imsg *imsg)
{
	struct imsg_conf_iface	 ci;
	struct tunnel_conf	*c = &rx->conf;
	size_t			 i;

	conf_rx_free(rx);
	if (imsg_get_data(imsg, &ci, sizeof(ci)) == -1 ||
	    ci.naddrs > CONF_MAX_ADDRS || ci.ndns > CONF_MAX_DNS ||
	    ci.nsearch > CONF_MAX_SEARCH || ci.hop >= HOP_MAX ||
	    ci.killswitch < -1 || ci.killswitch > 1 ||
	    ci.table_mode > CONF_TABLE_NUM ||
	    (ci.mtu != 0 && (ci.mtu < CONF_MIN_MTU || ci.mtu > CONF_MAX_MTU)))
		fatalx("%s: bad start", seq->name);
	memcpy(c->privkey, ci.privkey, WG_KEY_LEN);
	c->has_privkey = ci.has_privkey != 0;
	c->listen_port = ci.listen_port;
	c->mtu = ci.mtu;
	memcpy(c->addrs, ci.addrs, sizeof(c->addrs));
	c->naddrs = ci.naddrs;
	memcpy(c->dns, ci.dns, sizeof(c->dns));
	c->ndns = ci.ndns;
	memcpy(c->search, ci.search, sizeof(c->search));
	c->nsearch = ci.nsearch;
	for (i = 0; i < c->nsearch; i++)
		c->search[i][CONF_DOMAIN_LEN - 1] = '\0';
	c->killswitch = ci.killswitch;
	c->allowlan = ci.allowlan != 0;
	c->hop = ci.hop;
	c->table_mode = ci.table_mode;
	c->table = ci.table;
	c->fwmark = ci.fwmark;
	explicit_bzero(&ci, sizeof(ci));
	rx->open = 1;
}

static void
conf_rx_peer(struct conf_rx *rx, const struct conf_seq *seq,
    struct imsg *imsg)
{
	struct imsg_wg_peer	 p;
	struct peer_conf	*pc;
	size_t			 i;

	if (imsg_get_data(imsg, &p, sizeof(p)) == -1 ||
	    (p.endpoint.ss_family != AF_UNSPEC &&
	    p.endpoint.ss_family != AF_INET &&
	    p.endpoint.ss_family != AF_INET6)) {
		explicit_bzero(&p, sizeof(p));
		fatalx("%s: bad peer", seq->name);
	}
	for (i = 0; i < rx->conf.npeers; i++)
		if (memcmp(rx->conf.peers[i].pubkey, p.pubkey,
		    WG_KEY_LEN) == 0) {
			explicit_bzero(&p, sizeof(p));
			fatalx("%s: a peer twice", seq->name);
		}
	if ((pc = conf_add_peer(&rx->conf)) == NULL) {
		explicit_bzero(&p, sizeof(p));
		fatalx("%s: too many peers", seq->name);
	}
	memcpy(pc->pubkey, p.pubkey, WG_KEY_LEN);
	memcpy(pc->psk, p.psk, WG_KEY_LEN);
	pc->has_psk = p.has_psk != 0;
	pc->endpoint = p.endpoint;
	pc->keepalive = p.keepalive;
	explicit_bzero(&p, sizeof(p));
}

static void
conf_rx_aip(struct conf_rx *rx, const struct conf_seq *seq,
    struct imsg *imsg)
{
	struct imsg_wg_aip	 a;
	size_t			 i;

	if (imsg_get_data(imsg, &a, sizeof(a)) == -1)
		fatalx("%s: bad allowed IP", seq->name);
	for (i = 0; i < rx->conf.npeers; i++)
		if (memcmp(rx->conf.peers[i].pubkey, a.pubkey,
		    WG_KEY_LEN) == 0)
			break;
	if (i == rx->conf.npeers ||
	    peer_add_aip(&rx->conf.peers[i], &a.prefix) == -1)
		fatalx("%s: bad allowed IP", seq->name);
}

int
conf_recv(struct conf_rx *rx, const struct conf_seq *seq, struct imsg *imsg)
{
	uint32_t	 type = imsg_get_type(imsg);

	if (type == seq->start) {
		conf_rx_start(rx, seq, imsg);
		return 0;
	}
	if (!rx->open)
		fatalx("%s: message %u before the start", seq->name, type);
	if (type == seq->peer)
		conf_rx_peer(rx, seq, imsg);
	else if (type == seq->aip)
		conf_rx_aip(rx, seq, imsg);
	else if (type == seq->end) {
		rx->open = 0;
		return 1;
	} else
		fatalx("%s: unexpected message %u", seq->name, type);
	return 0;
}

/*
 * t_conf_life.c -- struct tunnel_conf life cycle: peers, allowed IPs, the
 * full-tunnel test, and conf_free leaving a clean, reusable struct.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tap.h"

int
main(void)
{
	struct tunnel_conf	 conf;
	struct peer_conf	*peer;
	struct prefix		 p;
	char			 buf[64];
	int			 i, okpeers;

	plan(25);

	conf_init(&conf);
	is_int(conf.killswitch, -1, "killswitch starts unset");
	is_int(conf.hop, HOP_SINGLE, "single hop by default");
	is_int(conf.npeers, 0, "no peers");
	ok(!conf_is_full_tunnel(&conf, AF_INET), "empty is not full");

	okpeers = 0;
	for (i = 0; i < CONF_MAX_PEERS; i++) {
		if ((peer = conf_add_peer(&conf)) == NULL)
			break;
		peer->pubkey[0] = i;
		peer->psk[0] = 0x77;
		okpeers++;
	}
	is_int(okpeers, CONF_MAX_PEERS, "CONF_MAX_PEERS peers fit");
	ok(conf_add_peer(&conf) == NULL, "one more is refused");
	for (i = 0; i < CONF_MAX_PEERS; i++)
		if (conf.peers[i].pubkey[0] != (uint8_t)i ||
		    conf.peers[i].endpoint.ss_family != AF_UNSPEC)
			break;
	is_int(i, CONF_MAX_PEERS, "peers survive growth in order");

	peer = &conf.peers[3];
	prefix_parse("10.9.8.7/8", &p);
	ok(peer_add_aip(peer, &p) == 0, "add 10.9.8.7/8");
	is_str(prefix_fmt(&peer->aips[0], buf, sizeof(buf)), "10.0.0.0/8",
	    "allowed IPs are masked");
	prefix_parse("10.0.0.0/8", &p);
	ok(peer_add_aip(peer, &p) == 0, "add the same prefix again");
	is_int(peer->naips, 1, "duplicates are folded");
	ok(!conf_is_full_tunnel(&conf, AF_INET), "10/8 is not full");
	prefix_parse("::/0", &p);
	ok(peer_add_aip(peer, &p) == 0, "add ::/0");
	ok(conf_is_full_tunnel(&conf, AF_INET6), "::/0 is a full v6 tunnel");
	ok(!conf_is_full_tunnel(&conf, AF_INET), "but not v4");
	ok(conf_is_full_tunnel(&conf, AF_UNSPEC), "AF_UNSPEC asks either");
	p.af = AF_INET;
	p.plen = 33;
	ok(peer_add_aip(peer, &p) == -1, "plen 33 refused for v4");

	peer = &conf.peers[4];
	for (i = 0; i < CONF_MAX_AIPS; i++) {
		memset(&p, 0, sizeof(p));
		p.af = AF_INET6;
		p.plen = 128;
		p.addr[14] = i >> 8;
		p.addr[15] = i & 0xff;
		if (peer_add_aip(peer, &p) == -1)
			break;
	}
	is_int(i, CONF_MAX_AIPS, "CONF_MAX_AIPS allowed IPs fit");
	p.addr[0] = 1;
	ok(peer_add_aip(peer, &p) == -1, "one more is refused");

	conf.has_privkey = true;
	memset(conf.privkey, 0x55, sizeof(conf.privkey));
	conf_free(&conf);
	is_int(conf.npeers, 0, "conf_free empties the peers");
	ok(conf.peers == NULL, "and frees them");
	ok(key_is_zero(conf.privkey) && !conf.has_privkey,
	    "and clears the private key");
	is_int(conf.killswitch, -1, "and leaves an initialised struct");
	ok(conf_add_peer(&conf) != NULL, "which is usable again");
	conf_free(&conf);
	conf_free(NULL);
	ok(1, "conf_free(NULL) returned (did not crash)");

	return done_testing();
}

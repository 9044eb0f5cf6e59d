/*
 * confmsg.h -- a tunnel configuration over an imsg channel, written once
 * for both channels that carry one (the parent's configuration file to
 * netmgr, netmgr's merged configuration to tunworker).
 *
 * The sequence is START (struct imsg_conf_iface), then for each peer one
 * PEER (struct imsg_wg_peer) followed by its AIPs (struct imsg_wg_aip),
 * then END. Every item is a fixed-size struct; no pointer crosses.
 */
#ifndef VPND_CONFMSG_H
#define VPND_CONFMSG_H

#include <stdint.h>

#include "config.h"
#include "imsgev.h"

/* The imsg types one channel uses for the four steps. */
struct conf_seq {
	const char	*name;		/* for error messages */
	uint32_t	 start, peer, aip, end;
};

extern const struct conf_seq conf_seq_headless;	/* parent -> netmgr */
extern const struct conf_seq conf_seq_wg;	/* netmgr -> tunworker */

/* Queue conf on iev as one sequence; the copies of keys are wiped. */
void	 conf_send(struct imsgev *, const struct conf_seq *,
	    const struct tunnel_conf *);

/* A sequence being received. */
struct conf_rx {
	struct tunnel_conf	 conf;
	int			 open;	/* START seen, END not yet */
};

void	 conf_rx_init(struct conf_rx *);
void	 conf_rx_free(struct conf_rx *);	/* keys wiped */

/*
 * Feed one message of seq. 1: END came and rx->conf holds the whole
 * configuration (the caller takes it); 0: more to come. A message out of
 * order or malformed is fatal: the sender is the daemon itself.
 */
int	 conf_recv(struct conf_rx *, const struct conf_seq *, struct imsg *);

#endif /* VPND_CONFMSG_H */

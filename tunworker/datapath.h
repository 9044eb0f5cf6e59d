/*
 * datapath.h -- tunworker's packet threads around the WireGuard core.
 *
 *	tun-rx thread:	TUN reads (batched) -> route -> encrypt -> sendmmsg
 *	udp-rx thread:	recvmmsg -> wg_input (decrypt into a pool buffer) -> ring
 *	tun-tx thread:	ring -> TUN writes, so a slow TUN write never stalls
 *			network reads
 * A lone packet skips the hand-offs: udp-rx writes a few packets to the
 * TUN itself while tun-tx sleeps with nothing queued, then reads what
 * the kernel answered at once (an echo reply, a TCP ACK), encrypts and
 * sends it, as tun-rx would have after a wake-up. One TUN reader at a
 * time (a mutex), sending all it read before the next: order is kept.
 * Packet buffers come from a pool allocated once; the data path does not
 * allocate. Handshakes and timers stay on the control thread (libevent),
 * which talks to the packet threads only through the WireGuard core's
 * locks and the staged-packet queues.
 */
#ifndef VPND_DATAPATH_H
#define VPND_DATAPATH_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct wg_device;
struct wg_peer;

#define DP_BATCH		64	/* packets per syscall */
/*
 * Packets in flight from udp-rx to tun-tx (the receive pool is that and
 * four batches). The pool is reused last-in first-out, so its resident
 * part is what was in flight at the peak. 256 packets (400 KiB of
 * buffers) keep tun-tx fed; with none free, udp-rx waits and the socket
 * buffer holds the rest.
 */
#define DP_RING			256
#ifndef DP_POOL		/* t_datapath_pool builds it one buffer short */
#define DP_POOL			(DP_RING + 4 * DP_BATCH)
#endif
#define DP_STAGED_MAX		128	/* per peer, awaiting a handshake */
#define DP_STAGED_POOL		1024	/* all peers together */

struct datapath;

/*
 * Peer events (WG_EV_HANDSHAKE_DONE, WG_EV_PEER_LOST) are reported
 * through this, on the control thread (dp_notify_drain), in order.
 */
typedef void dp_notify_fn(const uint8_t pubkey[WG_KEY_LEN], int ev);

struct datapath *dp_new(int mtu, dp_notify_fn *);
void	 dp_free(struct datapath *);	/* stops threads, closes fds */
struct wg_device *dp_device(struct datapath *);
void	 dp_set_tun(struct datapath *, int fd, bool vnet_hdr);
void	 dp_set_udp(struct datapath *, int af, int fd);
bool	 dp_ready(const struct datapath *);	/* fds and key present */
int	 dp_start(struct datapath *);		/* the packet threads */
bool	 dp_running(const struct datapath *);
/*
 * Bring the packet threads to a pause point (and back): around anything
 * that frees what they may hold, such as removing a peer.
 */
void	 dp_quiesce(struct datapath *);
void	 dp_resume(struct datapath *);
/* The control thread: a peer added, a peer being removed (drops its
 * staged packets and frees its staging; the packet threads paused). */
void	 dp_peer_attach(struct datapath *, struct wg_peer *);
void	 dp_peer_forget(struct datapath *, struct wg_peer *);
/* Peers with staging attached: each forgotten one is freed at once. */
size_t	 dp_npeers(struct datapath *);
/* Drain the peer events on the control thread. */
int	 dp_notify_fd(const struct datapath *);
/* Handshake messages received since the last call. */
uint64_t dp_handshakes_take(struct datapath *);
/* Receive with UDP_GRO where the kernel has it (the default); before dp_start. */
void	 dp_set_udp_gro(struct datapath *, bool);
/* Times udp-rx waited for the TUN to give receive buffers back. */
uint64_t dp_rx_waits(struct datapath *);
/* Datagrams UDP GRO had coalesced from two packets or more. */
uint64_t dp_rx_coalesced(struct datapath *);
/* TUN packets udp-rx read and sent itself (the latency path). */
uint64_t dp_tx_inline(struct datapath *);
/*
 * Changes between quiet (udp-rx polls the TUN too, tun-rx sleeps) and
 * busy (tun-rx polls it): a batch of more than a few packets makes the
 * data path busy, DP_QUIET_MS without one quiet again.
 */
uint64_t dp_mode_changes(struct datapath *);
/* The TUN is dead (its interface deleted): the tunnel must go down. */
bool	 dp_tun_gone(struct datapath *);
/* Wake-ups of the packet threads, for tests: an idle data path sleeps. */
uint64_t dp_wakes(struct datapath *);
/*
 * Not running, and its TUN's interface already deleted (the descriptor
 * of a tunnel set up and torn down before this data path could start):
 * close it, so the data path waits for the TUN of the tunnel now made.
 */
bool	 dp_drop_dead_tun(struct datapath *);
void	 dp_notify_drain(struct datapath *);
/*
 * Whether the tunnel carried a packet (data sent to a peer or received
 * from one; not keepalives) since the last take; the flag is cleared. After
 * dp_active_kick the next such packet also signals dp_notify_fd, once;
 * it returns a take, so a packet between the two is not missed.
 */
bool	 dp_active_take(struct datapath *);
bool	 dp_active_kick(struct datapath *);

#endif /* VPND_DATAPATH_H */

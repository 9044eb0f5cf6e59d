/*
 * peer.h -- the device and peer structures behind wg.h, the receiver
 * index table and the public key table.
 *
 * Locking, outermost first: d_lock (rwlock: peer list, key table, allowed
 * IPs, the static identity; packet threads hold it for reading for a
 * whole call so no peer goes away under them), then p_lock (a peer's
 * handshake, keypair slots, timers, endpoint), then d_idx_lock (the index
 * table).  No lock is held across the AEAD of a data packet except d_lock
 * for reading.
 *
 * d_lock is taken for reading twice on one thread: wg_input -> wg_event
 * -> (datapath's) dp_flush_staged -> wg_encrypt. It must stay glibc's
 * default, reader-preferring rwlock; with writers preferred, a writer
 * queued between the two read locks would deadlock that thread.
 */
#ifndef VPND_PEER_H
#define VPND_PEER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "aead.h"
#include "allowedips.h"
#include "cookie.h"
#include "noise.h"
#include "timers.h"
#include "wg.h"

#define WG_INDEX_BUCKETS	4096	/* powers of two */
#define WG_PEER_BUCKETS		1024
#define WG_KP_SLOTS		3
#define WG_SLOT_HANDSHAKE	(-1)

struct wg_index {
	LIST_ENTRY(wg_index) i_entry;
	uint32_t	 i_index;
	bool		 i_inserted;
	int		 i_slot;	/* keypair slot or WG_SLOT_HANDSHAKE */
	struct wg_peer	*i_peer;
};
LIST_HEAD(wg_index_list, wg_index);

struct wg_peer {
	TAILQ_ENTRY(wg_peer) p_entry;
	LIST_ENTRY(wg_peer) p_hash_entry;
	struct wg_device *p_dev;
	pthread_mutex_t	 p_lock;
	struct noise_remote p_remote;
	struct cookie_maker p_cookie;
	/*
	 * The initiation in flight may be sent again at once when a cookie
	 * reply comes for it; the again-sent one may not (no loop).
	 */
	bool		 p_cookie_retry;
	struct noise_keypair p_kp[WG_KP_SLOTS];
	uint32_t	 p_kp_gen[WG_KP_SLOTS];	/* bumped on each reuse */
	struct aead_slot p_aead[WG_KP_SLOTS];	/* transport contexts */
	struct wg_index	 p_kp_idx[WG_KP_SLOTS];
	struct wg_index	 p_hs_idx;
	int		 p_current, p_previous, p_next;	/* slot or -1 */
	struct wg_timers p_timers;
	struct sockaddr_storage p_endpoint;
	struct sockaddr_storage p_conf_endpoint;	/* admitted when loaded */
	void		*p_udata;
	/*
	 * May own allowed-IPs nodes (under d_lock): set before every insert,
	 * cleared only by a removal, so a peer that never had one (each new
	 * peer of a configuration) costs no walk of the whole trie.
	 */
	bool		 p_has_aips;
	_Atomic uint64_t p_rx_bytes;
	_Atomic uint64_t p_tx_bytes;
	struct timespec	 p_last_handshake;
	uint64_t	 p_handshakes;
	/* wg_now() of the last completed handshake, last authenticated
	 * packet received; 0: never */
	uint64_t	 p_last_hs_mono;
	uint64_t	 p_last_rx_mono;
};
TAILQ_HEAD(wg_peer_list, wg_peer);
LIST_HEAD(wg_peer_bucket, wg_peer);

struct wg_device {
	pthread_rwlock_t d_lock;
	struct noise_local d_local;
	struct cookie_checker d_cookie;
	struct wg_peer_list d_peers;
	size_t		 d_npeers;
	struct wg_peer_bucket d_peer_hash[WG_PEER_BUCKETS];
	uint8_t		 d_hashkey[16];
	struct aip_table *d_aip;
	pthread_rwlock_t d_idx_lock;
	struct wg_index_list d_index[WG_INDEX_BUCKETS];
	wg_send_fn	*d_send;
	wg_event_fn	*d_event;
	void		*d_arg;
	uint64_t	(*d_clock)(void *);
	void		*d_clock_arg;
	_Atomic bool	 d_under_load;
	_Atomic uint64_t d_load_trip;	/* 0: off */
	_Atomic uint64_t d_hs_valid;	/* handshakes with a valid mac1 */
	_Atomic int	 d_mtu;
};

/* peer.c */
uint64_t	 wg_dev_now(struct wg_device *);
struct wg_peer	*peer_new(struct wg_device *, const uint8_t [WG_KEY_LEN]);
void		 peer_free(struct wg_peer *);
struct wg_peer	*peer_hash_lookup(struct wg_device *,
	    const uint8_t [WG_KEY_LEN]);
void		 peer_hash_insert(struct wg_device *, struct wg_peer *);
void		 peer_hash_remove(struct wg_device *, struct wg_peer *);
/* Index table; the caller holds p_lock of the entry's peer. */
void		 index_insert_new(struct wg_device *, struct wg_index *);
void		 index_reuse(struct wg_device *, struct wg_index *old,
		    struct wg_index *new);
void		 index_remove(struct wg_device *, struct wg_index *);
/* Copies peer and slot of a table entry, under d_idx_lock. */
bool		 index_lookup(struct wg_device *, uint32_t, struct wg_peer **,
		    int *slot);
/* Keypair slots, under p_lock. */
void		 peer_drop_slot(struct wg_peer *, int *which);
void		 peer_drop_keys(struct wg_peer *);
int		 peer_find_free_slot(const struct wg_peer *);	/* -1: none */

/* Test accessors: unit tests reach into a session. */
void		 wg_peer_test_set_send_counter(struct wg_peer *, uint64_t);
bool		 wg_peer_test_has_keys(struct wg_peer *);

#endif /* VPND_PEER_H */

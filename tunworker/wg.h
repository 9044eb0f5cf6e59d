/*
 * wg.h -- the WireGuard device: protocol core without sockets or threads.
 *
 * The caller owns the UDP socket and the tun device: it hands datagrams
 * to wg_input(), packets to wg_route()/wg_encrypt(), calls
 * wg_device_tick() from its control thread (every 100 ms, or when the
 * deadline it returned comes), and sends what
 * the device asks for through wg_send_fn.  wg_encrypt() and wg_input()
 * may run on several threads at once; configuration calls and the tick
 * belong to one control thread.  Callbacks must not call the
 * configuration functions (they run under the device's read lock); they
 * may call wg_encrypt(), which re-enters that read lock (see peer.h).
 */
#ifndef VPND_WG_H
#define VPND_WG_H

#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

struct wg_device;
struct wg_peer;
struct prefix;			/* common/config.h */

/* Wire sizes; wg.c asserts them against noise.h's message structs. */
#define WG_MSG_INIT_LEN		148
#define WG_MSG_RESP_LEN		92
#define WG_MSG_COOKIE_LEN	64
#define WG_DATA_HDR_LEN		16
#define WG_DATA_OVERHEAD	32	/* header + tag, padding extra */
#define WG_PAD_MULTIPLE		16	/* data packets pad to this */
#define WG_PKT_MAX		65536

struct wg_peer_stats {
	uint64_t	 rx_bytes, tx_bytes;	/* wire bytes, like wg(8) */
	struct timespec	 last_handshake;	/* CLOCK_REALTIME, 0 = never */
	struct sockaddr_storage endpoint;	/* AF_UNSPEC if none */
	uint16_t	 keepalive;
	uint64_t	 handshakes;		/* completed handshakes */
	/* ages in wg_now() nanoseconds; WG_AGE_NEVER: never */
	uint64_t	 handshake_age;
	uint64_t	 rx_age;		/* authenticated packet */
};
#define WG_AGE_NEVER	UINT64_MAX

/* What the device wants sent: the caller sends buf[0..len) to dst. */
typedef void wg_send_fn(void *arg, struct wg_peer *,
    const struct sockaddr_storage *dst, const uint8_t *buf, size_t len);
/*
 * A peer completed a handshake (session ready): the caller flushes that
 * peer's staged packets and may report it.
 */
typedef void wg_event_fn(void *arg, struct wg_peer *, int event);
#define WG_EV_HANDSHAKE_DONE	1
#define WG_EV_KEYS_EXPIRED	2	/* no session: drop staged packets */
/* a dialled peer left an initiation unanswered for REKEY_ATTEMPT_TIME */
#define WG_EV_PEER_LOST		3

struct wg_device *wg_device_new(wg_send_fn *, wg_event_fn *, void *arg);
void	 wg_device_free(struct wg_device *);	/* zeroes every key */
int	 wg_device_set_private_key(struct wg_device *,
	    const uint8_t [WG_KEY_LEN]);
void	 wg_device_set_clock(struct wg_device *, uint64_t (*)(void *),
	    void *);
void	 wg_device_set_under_load(struct wg_device *, bool);
/* Handshake messages with a valid mac1 since the last call: the load. */
uint64_t wg_device_handshakes_take(struct wg_device *);
/*
 * Inner MTU: caps the padding; 0 (default) pads to WG_PAD_MULTIPLE
 * unconditionally.
 */
void	 wg_device_set_mtu(struct wg_device *, int);
/*
 * Every 100 ms or so: the timers that are due act. Returns the next
 * deadline (wg_now() nanoseconds; 0: no timer armed) before which the
 * caller need not tick.
 */
uint64_t wg_device_tick(struct wg_device *);
/*
 * More than n handshakes counted between two takes put the device under
 * load at once, from the thread that counts (0, the default: only
 * wg_device_set_under_load does); the caller ends it.
 */
void	 wg_device_set_load_trip(struct wg_device *, uint64_t);
/*
 * The network under the device changed (route, address, resume): every
 * peer with an endpoint gets an initiation now and its retries start
 * over. Returns how many initiations went out.
 */
size_t	 wg_device_network_changed(struct wg_device *);

/* wg_peer_add returns the existing peer if present; NULL on error. */
struct wg_peer *wg_peer_add(struct wg_device *, const uint8_t pub[WG_KEY_LEN]);
struct wg_peer *wg_peer_lookup(struct wg_device *,
	    const uint8_t pub[WG_KEY_LEN]);
void	 wg_peer_remove(struct wg_device *, struct wg_peer *);
void	 wg_peer_set_psk(struct wg_peer *, const uint8_t psk[WG_KEY_LEN]);
void	 wg_peer_set_endpoint(struct wg_peer *,
	    const struct sockaddr_storage *);
void	 wg_peer_set_keepalive(struct wg_peer *, uint16_t);
int	 wg_peer_add_allowedip(struct wg_device *, struct wg_peer *,
	    const struct prefix *);
void	 wg_peer_clear_allowedips(struct wg_device *, struct wg_peer *);
void	 wg_peer_get_stats(struct wg_peer *, struct wg_peer_stats *);
const uint8_t *wg_peer_pubkey(const struct wg_peer *);
void	 wg_peer_set_udata(struct wg_peer *, void *);
void	*wg_peer_udata(const struct wg_peer *);
void	 wg_peer_initiate(struct wg_peer *);
size_t	 wg_device_foreach_peer(struct wg_device *,
	    void (*)(struct wg_peer *, void *), void *);

/* Outbound: the peer owning the packet's destination (allowed IPs). */
struct wg_peer *wg_route(struct wg_device *, const uint8_t *ippkt,
	    size_t len);
/*
 * Encrypt ippkt (len may be 0: keepalive) for peer into out (room: len +
 * WG_PAD_MULTIPLE + WG_DATA_OVERHEAD; out may equal ippkt only if that
 * room is there).
 * WG_OK with *outlen and *dst set; WG_NOKEY when there is no usable
 * session (the caller stages the packet; a handshake has been started);
 * WG_DROP (no endpoint, bad packet).
 */
int	 wg_encrypt(struct wg_peer *, const uint8_t *ippkt, size_t len,
	    uint8_t *out, size_t *outlen, struct sockaddr_storage *dst);
/*
 * Inbound: one UDP datagram from src, decrypted in place.
 *   WG_DATA: *plain and *plainlen point into pkt at the inner IP packet
 *	(source checked against the peer's allowed IPs, trimmed to the IP
 *	total length), *peerp set.
 *   WG_KEEPALIVE: authenticated, nothing to deliver; *peerp set.
 *   WG_HANDLED: a handshake or cookie message was processed (any reply
 *	went out through wg_send_fn), including a cookie reply sent
 *	instead of a handshake while under load.
 *   WG_DROP: invalid, replayed, unknown index, bad MAC, rate limited...
 * The peer's endpoint follows its latest authenticated packet.
 */
int	 wg_input(struct wg_device *, uint8_t *pkt, size_t len,
	    const struct sockaddr_storage *src, uint8_t **plain,
	    size_t *plainlen, struct wg_peer **peerp);
/*
 * wg_input, but a data message's plaintext is written into dst (dstlen
 * bytes, at least len; dst is pkt or does not overlap it) at
 * WG_DATA_HDR_LEN, as wg_input leaves it in pkt: decrypted from where
 * it was received into where it is wanted, without a copy first.
 * Other messages are read from pkt; dst is left alone.
 */
int	 wg_input_to(struct wg_device *, uint8_t *pkt, size_t len,
	    uint8_t *dst, size_t dstlen, const struct sockaddr_storage *src,
	    uint8_t **plain, size_t *plainlen, struct wg_peer **peerp);
enum { WG_OK = 0, WG_NOKEY, WG_DROP, WG_DATA, WG_KEEPALIVE, WG_HANDLED };

#endif /* VPND_WG_H */

/*
 * wg.c -- the device facade: configuration, the tick, and the packet
 * paths that tie noise, cookies, timers and the tables together.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "allowedips.h"
#include "config.h"
#include "peer.h"
#include "wg.h"
#include "wgtime.h"

#define WG_KEEPALIVE_BUFLEN	(WG_DATA_OVERHEAD + WG_PAD_MULTIPLE)

/* The wire sizes wg.h names are the message structs' sizes. */
_Static_assert(sizeof(struct wg_msg_init) == WG_MSG_INIT_LEN,
    "initiation size");
_Static_assert(sizeof(struct wg_msg_resp) == WG_MSG_RESP_LEN,
    "response size");
_Static_assert(sizeof(struct wg_msg_cookie) == WG_MSG_COOKIE_LEN,
    "cookie reply size");
_Static_assert(sizeof(struct wg_msg_data_hdr) == WG_DATA_HDR_LEN,
    "data header size");
_Static_assert(WG_DATA_OVERHEAD == WG_DATA_HDR_LEN + NOISE_AUTHTAG_LEN,
    "data overhead: header and tag");
_Static_assert(NOISE_PUBLIC_KEY_LEN == WG_KEY_LEN &&
    NOISE_SYMMETRIC_KEY_LEN == WG_KEY_LEN, "one key size");

static void	 wg_send_initiation(struct wg_peer *, bool retry, bool force,
		    bool cookie);
static void	 wg_send_keepalive(struct wg_peer *);
static int	 wg_encrypt_locked(struct wg_peer *, const uint8_t *, size_t,
		    uint8_t *, size_t *, struct sockaddr_storage *);
static void	 wg_event(struct wg_device *, struct wg_peer *, int);
static void	 wg_add_keypair(struct wg_peer *, struct noise_keypair *,
		    uint64_t);
static int	 wg_handshake_gate(struct wg_device *, uint8_t *, size_t,
		    uint32_t, const uint8_t *, const struct sockaddr_storage *,
		    uint64_t, bool);
static int	 wg_input_init(struct wg_device *, uint8_t *,
		    const struct sockaddr_storage *);
static int	 wg_input_resp(struct wg_device *, uint8_t *,
		    const struct sockaddr_storage *);
static int	 wg_input_cookie(struct wg_device *, uint8_t *);
static int	 wg_input_data(struct wg_device *, const uint8_t *, size_t,
		    uint8_t *, const struct sockaddr_storage *, uint8_t **,
		    size_t *, struct wg_peer **);
static bool	 wg_inner_check(struct wg_device *, struct wg_peer *,
		    const uint8_t *, size_t, size_t *);
static bool	 wg_keypair_usable(const struct noise_keypair *, uint64_t);
static uint64_t	 wg_age(uint64_t, uint64_t);

static uint64_t
wg_age(uint64_t then, uint64_t now)
{
	if (then == 0)
		return WG_AGE_NEVER;
	return wg_since(then, now);
}

struct wg_device *
wg_device_new(wg_send_fn *send, wg_event_fn *event, void *arg)
{
	struct wg_device	*d;
	size_t			 i;

	if (sodium_init() == -1)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->d_aip = aip_new()) == NULL) {
		free(d);
		return NULL;
	}
	if (cookie_checker_init(&d->d_cookie) == -1) {
		aip_free(d->d_aip);
		free(d);
		return NULL;
	}
	pthread_rwlock_init(&d->d_lock, NULL);
	pthread_rwlock_init(&d->d_idx_lock, NULL);
	TAILQ_INIT(&d->d_peers);
	for (i = 0; i < WG_PEER_BUCKETS; i++)
		LIST_INIT(&d->d_peer_hash[i]);
	for (i = 0; i < WG_INDEX_BUCKETS; i++)
		LIST_INIT(&d->d_index[i]);
	randombytes_buf(d->d_hashkey, sizeof(d->d_hashkey));
	d->d_send = send;
	d->d_event = event;
	d->d_arg = arg;
	return d;
}

void
wg_device_free(struct wg_device *d)
{
	struct wg_peer	*p;

	if (d == NULL)
		return;
	while ((p = TAILQ_FIRST(&d->d_peers)) != NULL)
		wg_peer_remove(d, p);
	aip_free(d->d_aip);
	cookie_checker_free(&d->d_cookie);
	pthread_rwlock_destroy(&d->d_lock);
	pthread_rwlock_destroy(&d->d_idx_lock);
	sodium_memzero(d, sizeof(*d));
	free(d);
}

int
wg_device_set_private_key(struct wg_device *d,
    const uint8_t priv[WG_KEY_LEN])
{
	struct wg_peer	*p;
	int		 ret;

	pthread_rwlock_wrlock(&d->d_lock);
	/*
	 * The same key again (an in-place peer update re-sends it): the
	 * sessions stay valid, as with the kernel's wg.
	 */
	if (d->d_local.l_has_identity &&
	    sodium_memcmp(d->d_local.l_private, priv, WG_KEY_LEN) == 0) {
		pthread_rwlock_unlock(&d->d_lock);
		return 0;
	}
	if ((ret = noise_local_set_private(&d->d_local, priv)) == 0) {
		cookie_checker_update(&d->d_cookie, d->d_local.l_public);
		/* Sessions made with the old identity are void. */
		TAILQ_FOREACH(p, &d->d_peers, p_entry) {
			pthread_mutex_lock(&p->p_lock);
			peer_drop_keys(p);
			noise_remote_precompute(&p->p_remote, &d->d_local);
			pthread_mutex_unlock(&p->p_lock);
		}
	}
	pthread_rwlock_unlock(&d->d_lock);
	return ret;
}

void
wg_device_set_clock(struct wg_device *d, uint64_t (*now)(void *), void *arg)
{
	pthread_rwlock_wrlock(&d->d_lock);
	d->d_clock = now;
	d->d_clock_arg = arg;
	pthread_rwlock_unlock(&d->d_lock);
}

void
wg_device_set_under_load(struct wg_device *d, bool load)
{
	atomic_store(&d->d_under_load, load);
}

uint64_t
wg_device_handshakes_take(struct wg_device *d)
{
	return atomic_exchange(&d->d_hs_valid, 0);
}

void
wg_device_set_mtu(struct wg_device *d, int mtu)
{
	atomic_store(&d->d_mtu, mtu);
}

static void
wg_event(struct wg_device *d, struct wg_peer *p, int ev)
{
	if (d->d_event != NULL)
		d->d_event(d->d_arg, p, ev);
}

uint64_t
wg_device_tick(struct wg_device *d)
{
	struct wg_peer	*p;
	uint64_t	 now, t, next = 0;
	int		 act;

	pthread_rwlock_rdlock(&d->d_lock);
	now = wg_dev_now(d);
	TAILQ_FOREACH(p, &d->d_peers, p_entry) {
		pthread_mutex_lock(&p->p_lock);
		act = timers_expired(&p->p_timers, now);
		if (act & TIMER_ACT_ZERO_KEYS)
			peer_drop_keys(p);
		pthread_mutex_unlock(&p->p_lock);

		if (act & TIMER_ACT_RETRY)
			wg_send_initiation(p, true, false, false);
		if (act & TIMER_ACT_INITIATE)
			wg_send_initiation(p, false, false, false);
		if (act & TIMER_ACT_KEEPALIVE) {
			wg_send_keepalive(p);
			/* sending cleared the timer: arm "another" after it */
			if (act & TIMER_ACT_KEEPALIVE_AGAIN) {
				pthread_mutex_lock(&p->p_lock);
				timers_keepalive_again(&p->p_timers,
				    wg_dev_now(d));
				pthread_mutex_unlock(&p->p_lock);
			}
		}
		if (act & (TIMER_ACT_GIVE_UP | TIMER_ACT_ZERO_KEYS))
			wg_event(d, p, WG_EV_KEYS_EXPIRED);
		if (act & TIMER_ACT_LOST)
			wg_event(d, p, WG_EV_PEER_LOST);
		/* what acting armed counts too (a retry, another keepalive) */
		pthread_mutex_lock(&p->p_lock);
		t = timers_next(&p->p_timers);
		pthread_mutex_unlock(&p->p_lock);
		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	pthread_rwlock_unlock(&d->d_lock);
	return next;
}

void
wg_device_set_load_trip(struct wg_device *d, uint64_t n)
{
	atomic_store(&d->d_load_trip, n);
}

size_t
wg_device_network_changed(struct wg_device *d)
{
	struct wg_peer	*p;
	size_t		 n = 0;
	bool		 dial;

	pthread_rwlock_rdlock(&d->d_lock);
	TAILQ_FOREACH(p, &d->d_peers, p_entry) {
		pthread_mutex_lock(&p->p_lock);
		dial = p->p_endpoint.ss_family != AF_UNSPEC;
		pthread_mutex_unlock(&p->p_lock);
		/* not a retry: the attempt count, and so the backoff, restart */
		if (dial) {
			wg_send_initiation(p, false, true, false);
			n++;
		}
	}
	pthread_rwlock_unlock(&d->d_lock);
	return n;
}

struct wg_peer *
wg_peer_add(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer	*p;

	pthread_rwlock_wrlock(&d->d_lock);
	if ((p = peer_hash_lookup(d, pub)) == NULL &&
	    (p = peer_new(d, pub)) != NULL) {
		peer_hash_insert(d, p);
		TAILQ_INSERT_TAIL(&d->d_peers, p, p_entry);
		d->d_npeers++;
	}
	pthread_rwlock_unlock(&d->d_lock);
	return p;
}

struct wg_peer *
wg_peer_lookup(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer	*p;

	pthread_rwlock_rdlock(&d->d_lock);
	p = peer_hash_lookup(d, pub);
	pthread_rwlock_unlock(&d->d_lock);
	return p;
}

void
wg_peer_remove(struct wg_device *d, struct wg_peer *p)
{
	pthread_rwlock_wrlock(&d->d_lock);
	if (p->p_has_aips)
		aip_remove_owner(d->d_aip, p);
	peer_hash_remove(d, p);
	TAILQ_REMOVE(&d->d_peers, p, p_entry);
	d->d_npeers--;
	peer_free(p);
	pthread_rwlock_unlock(&d->d_lock);
}

void
wg_peer_set_psk(struct wg_peer *p, const uint8_t psk[WG_KEY_LEN])
{
	pthread_mutex_lock(&p->p_lock);
	noise_remote_set_psk(&p->p_remote, psk);
	pthread_mutex_unlock(&p->p_lock);
}

void
wg_peer_set_endpoint(struct wg_peer *p, const struct sockaddr_storage *ss)
{
	struct ratelimit	*rl = &p->p_dev->d_cookie.cc_rl;

	pthread_mutex_lock(&p->p_lock);
	/* A configured endpoint is always admitted by the rate limiter. */
	ratelimit_admit_del(rl, &p->p_conf_endpoint);
	if (ss == NULL) {
		memset(&p->p_endpoint, 0, sizeof(p->p_endpoint));
		p->p_endpoint.ss_family = AF_UNSPEC;
	} else
		p->p_endpoint = *ss;
	/* a peer we were told to dial: never give up on it */
	p->p_timers.t_persist = ss != NULL;
	p->p_conf_endpoint = p->p_endpoint;
	if (ratelimit_admit_add(rl, &p->p_conf_endpoint) == -1)
		p->p_conf_endpoint.ss_family = AF_UNSPEC;
	pthread_mutex_unlock(&p->p_lock);
}

void
wg_peer_set_keepalive(struct wg_peer *p, uint16_t secs)
{
	bool	 keys;

	pthread_rwlock_rdlock(&p->p_dev->d_lock);
	pthread_mutex_lock(&p->p_lock);
	p->p_timers.t_persistent_interval = secs;
	if (secs == 0)
		p->p_timers.t_persistent_keepalive = 0;
	keys = p->p_current >= 0;
	pthread_mutex_unlock(&p->p_lock);
	if (secs > 0 && keys)
		wg_send_keepalive(p);
	pthread_rwlock_unlock(&p->p_dev->d_lock);
}

int
wg_peer_add_allowedip(struct wg_device *d, struct wg_peer *p,
    const struct prefix *pfx)
{
	int	 ret;

	pthread_rwlock_wrlock(&d->d_lock);
	p->p_has_aips = true;
	ret = aip_insert(d->d_aip, pfx, p);
	pthread_rwlock_unlock(&d->d_lock);
	return ret;
}

void
wg_peer_clear_allowedips(struct wg_device *d, struct wg_peer *p)
{
	pthread_rwlock_wrlock(&d->d_lock);
	if (p->p_has_aips)
		aip_remove_owner(d->d_aip, p);
	p->p_has_aips = false;
	pthread_rwlock_unlock(&d->d_lock);
}

void
wg_peer_get_stats(struct wg_peer *p, struct wg_peer_stats *st)
{
	uint64_t	 now = wg_dev_now(p->p_dev);

	memset(st, 0, sizeof(*st));
	st->rx_bytes = atomic_load(&p->p_rx_bytes);
	st->tx_bytes = atomic_load(&p->p_tx_bytes);
	pthread_mutex_lock(&p->p_lock);
	st->last_handshake = p->p_last_handshake;
	/*
	 * Only the address's own bytes: recvmmsg() wrote no more of the
	 * storage, and the rest must not travel to netmgr uninitialised.
	 */
	memcpy(&st->endpoint, &p->p_endpoint,
	    p->p_endpoint.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    p->p_endpoint.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(p->p_endpoint.ss_family));
	st->keepalive = p->p_timers.t_persistent_interval;
	st->handshakes = p->p_handshakes;
	st->handshake_age = wg_age(p->p_last_hs_mono, now);
	st->rx_age = wg_age(p->p_last_rx_mono, now);
	pthread_mutex_unlock(&p->p_lock);
}

const uint8_t *
wg_peer_pubkey(const struct wg_peer *p)
{
	return p->p_remote.r_public;
}

void
wg_peer_set_udata(struct wg_peer *p, void *udata)
{
	p->p_udata = udata;
}

void *
wg_peer_udata(const struct wg_peer *p)
{
	return p->p_udata;
}

void
wg_peer_initiate(struct wg_peer *p)
{
	pthread_rwlock_rdlock(&p->p_dev->d_lock);
	wg_send_initiation(p, false, true, false);
	pthread_rwlock_unlock(&p->p_dev->d_lock);
}

size_t
wg_device_foreach_peer(struct wg_device *d,
    void (*cb)(struct wg_peer *, void *), void *arg)
{
	struct wg_peer	*p;
	size_t		 n = 0;

	pthread_rwlock_rdlock(&d->d_lock);
	TAILQ_FOREACH(p, &d->d_peers, p_entry) {
		cb(p, arg);
		n++;
	}
	pthread_rwlock_unlock(&d->d_lock);
	return n;
}

/*
 * Called with d_lock held for reading.  retry: a retransmission, which
 * keeps the attempt count; force: the caller asked for it, so skip the
 * one-per-REKEY_TIMEOUT limit; cookie: the answer to a cookie reply,
 * which itself gets no such answer.
 */
static void
wg_send_initiation(struct wg_peer *p, bool retry, bool force, bool cookie)
{
	struct wg_device	*d = p->p_dev;
	struct wg_msg_init	 m;
	struct sockaddr_storage	 dst;
	uint64_t		 now = wg_dev_now(d);
	bool			 send = false;

	pthread_mutex_lock(&p->p_lock);
	if (!retry)
		p->p_timers.t_handshake_attempts = 0;
	if (!force && !retry && !timers_may_initiate(&p->p_timers, now))
		goto out;
	if (p->p_endpoint.ss_family == AF_UNSPEC)
		goto out;
	index_insert_new(d, &p->p_hs_idx);
	if (noise_create_initiation(&d->d_local, &p->p_remote,
	    p->p_hs_idx.i_index, &m) == -1) {
		index_remove(d, &p->p_hs_idx);
		goto out;
	}
	cookie_add_macs(&p->p_cookie, (uint8_t *)&m, sizeof(m), now);
	p->p_cookie_retry = !cookie;
	timers_any_authenticated_packet_traversal(&p->p_timers, now);
	timers_any_authenticated_packet_sent(&p->p_timers, now);
	timers_handshake_initiated(&p->p_timers, now);
	dst = p->p_endpoint;
	send = true;
out:
	pthread_mutex_unlock(&p->p_lock);
	if (send) {
		atomic_fetch_add(&p->p_tx_bytes, sizeof(m));
		d->d_send(d->d_arg, p, &dst, (uint8_t *)&m, sizeof(m));
	}
	sodium_memzero(&m, sizeof(m));
}

/* Called with d_lock held for reading. */
static void
wg_send_keepalive(struct wg_peer *p)
{
	struct wg_device	*d = p->p_dev;
	struct sockaddr_storage	 dst;
	uint8_t			 buf[WG_KEEPALIVE_BUFLEN];
	size_t			 len;

	if (wg_encrypt_locked(p, NULL, 0, buf, &len, &dst) == WG_OK)
		d->d_send(d->d_arg, p, &dst, buf, len);
}

static bool
wg_keypair_usable(const struct noise_keypair *kp, uint64_t now)
{
	return kp->kp_valid && wg_since(kp->kp_birth, now) < REJECT_AFTER_TIME;
}

struct wg_peer *
wg_route(struct wg_device *d, const uint8_t *pkt, size_t len)
{
	struct wg_peer	*p = NULL;

	if (len < 1)
		return NULL;
	pthread_rwlock_rdlock(&d->d_lock);
	if ((pkt[0] >> 4) == 4 && len >= 20)
		p = aip_lookup(d->d_aip, AF_INET, pkt + 16);
	else if ((pkt[0] >> 4) == 6 && len >= 40)
		p = aip_lookup(d->d_aip, AF_INET6, pkt + 24);
	pthread_rwlock_unlock(&d->d_lock);
	return p;
}

int
wg_encrypt(struct wg_peer *p, const uint8_t *ippkt, size_t len, uint8_t *out,
    size_t *outlen, struct sockaddr_storage *dst)
{
	int	 ret;

	pthread_rwlock_rdlock(&p->p_dev->d_lock);
	ret = wg_encrypt_locked(p, ippkt, len, out, outlen, dst);
	pthread_rwlock_unlock(&p->p_dev->d_lock);
	return ret;
}

static int
wg_encrypt_locked(struct wg_peer *p, const uint8_t *ippkt, size_t len,
    uint8_t *out, size_t *outlen, struct sockaddr_storage *dst)
{
	struct wg_device	*d = p->p_dev;
	struct noise_keypair	*kp;
	struct wg_msg_data_hdr	 hdr;
	uint64_t		 now, nonce;
	size_t			 padded;
	uint32_t		 gen;
	int			 mtu, slot;
	bool			 fresh = false;

	if (len > WG_PKT_MAX - WG_DATA_OVERHEAD - WG_PAD_MULTIPLE)
		return WG_DROP;
	now = wg_dev_now(d);
	pthread_mutex_lock(&p->p_lock);
	if (p->p_endpoint.ss_family == AF_UNSPEC) {
		pthread_mutex_unlock(&p->p_lock);
		return WG_DROP;
	}
	kp = p->p_current >= 0 ? &p->p_kp[p->p_current] : NULL;
	if (kp == NULL || !wg_keypair_usable(kp, now) ||
	    kp->kp_send_counter >= REJECT_AFTER_MESSAGES) {
		pthread_mutex_unlock(&p->p_lock);
		wg_send_initiation(p, false, false, false);
		return WG_NOKEY;
	}
	nonce = atomic_fetch_add((_Atomic uint64_t *)&kp->kp_send_counter, 1);
	slot = p->p_current;
	gen = p->p_kp_gen[slot];
	hdr.type = htole32(WG_MSG_TYPE_DATA);
	hdr.receiver = htole32(kp->kp_remote_index);
	hdr.counter = htole64(nonce);
	if (nonce + 1 >= REKEY_AFTER_MESSAGES ||
	    (kp->kp_initiator &&
	    wg_since(kp->kp_birth, now) >= REKEY_AFTER_TIME))
		fresh = true;
	if (len > 0)
		timers_data_sent(&p->p_timers, now);
	timers_any_authenticated_packet_sent(&p->p_timers, now);
	timers_any_authenticated_packet_traversal(&p->p_timers, now);
	*dst = p->p_endpoint;
	pthread_mutex_unlock(&p->p_lock);

	if (fresh)
		wg_send_initiation(p, false, false, false);

	padded = (len + WG_PAD_MULTIPLE - 1) & ~(size_t)(WG_PAD_MULTIPLE - 1);
	mtu = atomic_load(&d->d_mtu);
	if (mtu > 0 && len <= (size_t)mtu && padded > (size_t)mtu)
		padded = mtu;
	if (ippkt != NULL && ((uintptr_t)ippkt >= (uintptr_t)out +
	    WG_DATA_OVERHEAD + padded || (uintptr_t)ippkt + len <=
	    (uintptr_t)out)) {
		/* sealed from where it is: no copy */
		memcpy(out, &hdr, sizeof(hdr));
		if (aead_slot_seal_pad(&p->p_aead[slot], gen, nonce,
		    out + WG_DATA_HDR_LEN, ippkt, len, padded - len) == -1)
			return WG_DROP;
		*outlen = WG_DATA_OVERHEAD + padded;
		atomic_fetch_add(&p->p_tx_bytes, *outlen);
		return WG_OK;
	}
	memmove(out + WG_DATA_HDR_LEN, ippkt != NULL ? ippkt : out, len);
	memset(out + WG_DATA_HDR_LEN + len, 0, padded - len);
	memcpy(out, &hdr, sizeof(hdr));
	/* refused if the keypair was replaced since the lock */
	if (aead_slot_seal(&p->p_aead[slot], gen, nonce, out + WG_DATA_HDR_LEN,
	    padded) == -1)
		return WG_DROP;
	*outlen = WG_DATA_OVERHEAD + padded;
	atomic_fetch_add(&p->p_tx_bytes, *outlen);
	return WG_OK;
}

/*
 * A new session.  As initiator it is confirmed and becomes current; as
 * responder it waits in "next" until the initiator's first data packet
 * proves the initiator has it too (whitepaper 6.1, Linux add_new_keypair).
 */
static void
wg_add_keypair(struct wg_peer *p, struct noise_keypair *kp, uint64_t now)
{
	int	 s;

	if (kp->kp_initiator) {
		if (p->p_next >= 0) {
			peer_drop_slot(p, &p->p_previous);
			p->p_previous = p->p_next;
			p->p_next = -1;
			peer_drop_slot(p, &p->p_current);
		} else {
			peer_drop_slot(p, &p->p_previous);
			p->p_previous = p->p_current;
			p->p_current = -1;
		}
	} else {
		peer_drop_slot(p, &p->p_next);
		peer_drop_slot(p, &p->p_previous);
	}
	s = peer_find_free_slot(p);
	p->p_kp[s] = *kp;
	p->p_kp_gen[s]++;
	/* no contexts (out of memory): its packets are dropped */
	(void)aead_slot_key(&p->p_aead[s], p->p_kp_gen[s], kp->kp_send,
	    kp->kp_recv);
	index_reuse(p->p_dev, &p->p_hs_idx, &p->p_kp_idx[s]);
	if (kp->kp_initiator)
		p->p_current = s;
	else
		p->p_next = s;
	timers_session_derived(&p->p_timers, now);
}

/*
 * mac1 always; under load also mac2 (else answer with a cookie) and the
 * per-source token bucket.  0: go on; WG_HANDLED or WG_DROP: stop.
 */
static int
wg_handshake_gate(struct wg_device *d, uint8_t *msg, size_t len,
    uint32_t sender, const uint8_t *mac1, const struct sockaddr_storage *src,
    uint64_t now, bool trip)
{
	struct wg_msg_cookie	 c;

	if (cookie_check_mac1(&d->d_cookie, msg, len) == -1)
		return WG_DROP;
	/*
	 * Only a well-formed message with a valid mac1 is load. More than
	 * the trip count (wg_device_set_load_trip) since the control thread
	 * last took the count (a tick, at most a second): under load now,
	 * not at its next tick, by when a fast burst would all have been
	 * answered. The control thread keeps it for a second and ends it.
	 * Only initiations trip it (trip): a response answers an initiation
	 * of ours (a hub that dials a hundred peers at once gets a hundred
	 * back at once), and one with an unknown index costs no DH. It still
	 * counts for the control thread's per-second judgement.
	 */
	if (atomic_fetch_add_explicit(&d->d_hs_valid, 1,
	    memory_order_relaxed) + 1 > atomic_load_explicit(&d->d_load_trip,
	    memory_order_relaxed) && atomic_load_explicit(&d->d_load_trip,
	    memory_order_relaxed) > 0 && trip &&
	    !atomic_load_explicit(&d->d_under_load, memory_order_relaxed))
		atomic_store(&d->d_under_load, true);
	if (!atomic_load(&d->d_under_load))
		return 0;
	if (cookie_check_mac2(&d->d_cookie, msg, len, src, now) == -1) {
		if (src->ss_family != AF_INET && src->ss_family != AF_INET6)
			return WG_DROP;
		cookie_create_reply(&d->d_cookie, &c, sender, mac1, src, now);
		d->d_send(d->d_arg, NULL, src, (uint8_t *)&c, sizeof(c));
		return WG_HANDLED;
	}
	if (!ratelimit_allow(&d->d_cookie.cc_rl, src, now))
		return WG_DROP;
	return 0;
}

static int
wg_input_init(struct wg_device *d, uint8_t *pkt,
    const struct sockaddr_storage *src)
{
	struct wg_msg_init	 m;
	struct wg_msg_resp	 r;
	struct noise_init_state	 st;
	struct noise_keypair	 kp;
	struct wg_peer		*p;
	uint64_t		 now = wg_dev_now(d);
	int			 ret;

	memcpy(&m, pkt, sizeof(m));
	if ((ret = wg_handshake_gate(d, pkt, sizeof(m), le32toh(m.sender),
	    m.mac1, src, now, true)) != 0)
		return ret;
	if (noise_consume_initiation_begin(&d->d_local, &m, &st) == -1)
		return WG_DROP;
	if ((p = peer_hash_lookup(d, st.is_remote_static)) == NULL) {
		sodium_memzero(&st, sizeof(st));
		return WG_DROP;
	}
	ret = WG_DROP;
	pthread_mutex_lock(&p->p_lock);
	if (noise_consume_initiation_finish(&d->d_local, &p->p_remote, &st,
	    &m, now) == -1)
		goto out;
	timers_any_authenticated_packet_received(&p->p_timers, now);
	timers_any_authenticated_packet_traversal(&p->p_timers, now);
	p->p_endpoint = *src;
	p->p_last_rx_mono = now;

	index_insert_new(d, &p->p_hs_idx);
	if (noise_create_response(&p->p_remote, p->p_hs_idx.i_index,
	    &r) == -1 ||
	    noise_derive_keypair(&p->p_remote.r_hs, &kp, now) == -1) {
		index_remove(d, &p->p_hs_idx);
		noise_handshake_clear(&p->p_remote.r_hs);
		goto out;
	}
	wg_add_keypair(p, &kp, now);
	cookie_add_macs(&p->p_cookie, (uint8_t *)&r, sizeof(r), now);
	p->p_cookie_retry = false;	/* a cookie for a response: no initiation */
	timers_any_authenticated_packet_sent(&p->p_timers, now);
	/*
	 * A response is a handshake message sent: until the initiator's
	 * first data confirms the session, do not cross it with an
	 * initiation of our own (as Linux and wireguard-go do).
	 */
	p->p_timers.t_last_sent_handshake = now;
	p->p_timers.t_sent_handshake = true;
	ret = WG_HANDLED;
out:
	pthread_mutex_unlock(&p->p_lock);
	if (ret == WG_HANDLED) {
		atomic_fetch_add(&p->p_rx_bytes, sizeof(m));
		atomic_fetch_add(&p->p_tx_bytes, sizeof(r));
		d->d_send(d->d_arg, p, src, (uint8_t *)&r, sizeof(r));
	}
	sodium_memzero(&kp, sizeof(kp));
	sodium_memzero(&r, sizeof(r));
	return ret;
}

static int
wg_input_resp(struct wg_device *d, uint8_t *pkt,
    const struct sockaddr_storage *src)
{
	struct wg_msg_resp	 m;
	struct noise_keypair	 kp;
	struct wg_peer		*p;
	uint64_t		 now = wg_dev_now(d);
	int			 slot, ret;
	bool			 confirm;

	memcpy(&m, pkt, sizeof(m));
	if ((ret = wg_handshake_gate(d, pkt, sizeof(m), le32toh(m.sender),
	    m.mac1, src, now, false)) != 0)
		return ret;
	if (!index_lookup(d, le32toh(m.receiver), &p, &slot) ||
	    slot != WG_SLOT_HANDSHAKE)
		return WG_DROP;
	ret = WG_DROP;
	pthread_mutex_lock(&p->p_lock);
	if (noise_consume_response(&d->d_local, &p->p_remote, &m) == -1 ||
	    noise_derive_keypair(&p->p_remote.r_hs, &kp, now) == -1)
		goto out;
	wg_add_keypair(p, &kp, now);
	timers_any_authenticated_packet_received(&p->p_timers, now);
	timers_any_authenticated_packet_traversal(&p->p_timers, now);
	timers_handshake_complete(&p->p_timers, now);
	wg_realtime(&p->p_last_handshake);
	p->p_handshakes++;
	p->p_last_hs_mono = p->p_last_rx_mono = now;
	p->p_endpoint = *src;
	ret = WG_HANDLED;
out:
	pthread_mutex_unlock(&p->p_lock);
	sodium_memzero(&kp, sizeof(kp));
	if (ret != WG_HANDLED)
		return ret;
	atomic_fetch_add(&p->p_rx_bytes, sizeof(m));
	wg_event(d, p, WG_EV_HANDSHAKE_DONE);
	/*
	 * The responder only trusts the session once data arrives on it:
	 * if the caller had nothing staged, confirm it with a keepalive.
	 */
	pthread_mutex_lock(&p->p_lock);
	confirm = p->p_current >= 0 &&
	    p->p_kp[p->p_current].kp_send_counter == 0;
	pthread_mutex_unlock(&p->p_lock);
	if (confirm)
		wg_send_keepalive(p);
	return WG_HANDLED;
}

static int
wg_input_cookie(struct wg_device *d, uint8_t *pkt)
{
	struct wg_msg_cookie	 m;
	struct wg_peer		*p;
	int			 slot, ret = WG_DROP;
	bool			 again = false;

	memcpy(&m, pkt, sizeof(m));
	if (!index_lookup(d, le32toh(m.receiver), &p, &slot))
		return WG_DROP;
	pthread_mutex_lock(&p->p_lock);
	if (cookie_consume_reply(&p->p_cookie, &m, wg_dev_now(d)) == 0) {
		ret = WG_HANDLED;
		/*
		 * The responder is under load and dropped our initiation:
		 * send it again now, with mac2, not a REKEY_TIMEOUT later
		 * (the cookie is good for two minutes, and the kernel's
		 * peer takes the retry as it would the retransmission).
		 * Once per initiation we sent of our own accord, and the
		 * reply takes the pending initiation's mac1 to decrypt:
		 * cookie replies cannot make us send more than that.
		 */
		again = slot == WG_SLOT_HANDSHAKE && p->p_cookie_retry;
		p->p_cookie_retry = false;
	}
	pthread_mutex_unlock(&p->p_lock);
	if (again)
		wg_send_initiation(p, true, true, true);
	return ret;
}

/* The inner packet: a sane IP header, from an address the peer owns. */
static bool
wg_inner_check(struct wg_device *d, struct wg_peer *p, const uint8_t *pkt,
    size_t len, size_t *iplen)
{
	size_t	 tot;

	if (len < 1)
		return false;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < 20)
			return false;
		tot = (size_t)pkt[2] << 8 | pkt[3];
		if (tot < 20 || tot > len)
			return false;
		*iplen = tot;
		return aip_lookup(d->d_aip, AF_INET, pkt + 12) == p;
	case 6:
		if (len < 40)
			return false;
		tot = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
		if (tot > len)
			return false;
		*iplen = tot;
		return aip_lookup(d->d_aip, AF_INET6, pkt + 8) == p;
	default:
		return false;
	}
}

/* The plaintext goes to dst + WG_DATA_HDR_LEN: dst is pkt, or apart. */
static int
wg_input_data(struct wg_device *d, const uint8_t *pkt, size_t len,
    uint8_t *dst, const struct sockaddr_storage *src, uint8_t **plain,
    size_t *plainlen, struct wg_peer **peerp)
{
	struct wg_msg_data_hdr	 hdr;
	struct noise_keypair	*kp;
	struct wg_peer		*p;
	uint64_t		 now = wg_dev_now(d), counter;
	uint32_t		 gen;
	size_t			 clen = len - WG_DATA_HDR_LEN, iplen = 0;
	int			 slot;
	bool			 confirmed = false, rekey = false, ok;

	memcpy(&hdr, pkt, sizeof(hdr));
	counter = le64toh(hdr.counter);
	if (counter >= REJECT_AFTER_MESSAGES)
		return WG_DROP;
	if (!index_lookup(d, le32toh(hdr.receiver), &p, &slot) || slot < 0)
		return WG_DROP;

	pthread_mutex_lock(&p->p_lock);
	kp = &p->p_kp[slot];
	if ((slot != p->p_current && slot != p->p_previous &&
	    slot != p->p_next) || !wg_keypair_usable(kp, now) ||
	    kp->kp_local_index != le32toh(hdr.receiver)) {
		pthread_mutex_unlock(&p->p_lock);
		return WG_DROP;
	}
	gen = p->p_kp_gen[slot];
	pthread_mutex_unlock(&p->p_lock);

	ok = aead_slot_open_to(&p->p_aead[slot], gen, counter,
	    dst + WG_DATA_HDR_LEN, pkt + WG_DATA_HDR_LEN, clen) == 0;
	if (!ok)
		return WG_DROP;
	clen -= NOISE_AUTHTAG_LEN;

	pthread_mutex_lock(&p->p_lock);
	/* The slot may have been zeroed or reused while we decrypted. */
	if (gen != p->p_kp_gen[slot] || !kp->kp_valid ||
	    !replay_accept(&kp->kp_replay, counter, REJECT_AFTER_MESSAGES)) {
		pthread_mutex_unlock(&p->p_lock);
		return WG_DROP;
	}
	if (slot == p->p_next) {
		peer_drop_slot(p, &p->p_previous);
		p->p_previous = p->p_current;
		p->p_current = p->p_next;
		p->p_next = -1;
		timers_handshake_complete(&p->p_timers, now);
		wg_realtime(&p->p_last_handshake);
		p->p_handshakes++;
		p->p_last_hs_mono = now;
		confirmed = true;
	}
	/* Rekey before the initiator's keys would be rejected. */
	if (p->p_current >= 0 && p->p_kp[p->p_current].kp_initiator &&
	    wg_since(p->p_kp[p->p_current].kp_birth, now) >= REJECT_AFTER_TIME -
	    KEEPALIVE_TIMEOUT - REKEY_TIMEOUT &&
	    !p->p_timers.t_sent_lastminute_handshake) {
		p->p_timers.t_sent_lastminute_handshake = true;
		rekey = true;
	}
	timers_any_authenticated_packet_received(&p->p_timers, now);
	timers_any_authenticated_packet_traversal(&p->p_timers, now);
	if (clen > 0)
		timers_data_received(&p->p_timers, now);
	p->p_endpoint = *src;
	p->p_last_rx_mono = now;
	pthread_mutex_unlock(&p->p_lock);
	atomic_fetch_add(&p->p_rx_bytes, len);

	if (rekey)
		wg_send_initiation(p, false, false, false);
	if (confirmed)
		wg_event(d, p, WG_EV_HANDSHAKE_DONE);
	*peerp = p;
	if (clen == 0)
		return WG_KEEPALIVE;
	if (!wg_inner_check(d, p, dst + WG_DATA_HDR_LEN, clen, &iplen))
		return WG_DROP;
	*plain = dst + WG_DATA_HDR_LEN;
	*plainlen = iplen;
	return WG_DATA;
}

int
wg_input(struct wg_device *d, uint8_t *pkt, size_t len,
    const struct sockaddr_storage *src, uint8_t **plain, size_t *plainlen,
    struct wg_peer **peerp)
{
	return wg_input_to(d, pkt, len, pkt, len, src, plain, plainlen,
	    peerp);
}

int
wg_input_to(struct wg_device *d, uint8_t *pkt, size_t len, uint8_t *dst,
    size_t dstlen, const struct sockaddr_storage *src, uint8_t **plain,
    size_t *plainlen, struct wg_peer **peerp)
{
	uint32_t	 type;
	int		 ret = WG_DROP;

	*plain = NULL;
	*plainlen = 0;
	*peerp = NULL;
	if (pkt == NULL || len < 4 || dst == NULL || dstlen < len ||
	    (dst != pkt && (uintptr_t)dst < (uintptr_t)pkt + len &&
	    (uintptr_t)pkt < (uintptr_t)dst + dstlen))
		return WG_DROP;
	memcpy(&type, pkt, sizeof(type));
	type = le32toh(type);	/* the reserved bytes must be zero too */

	pthread_rwlock_rdlock(&d->d_lock);
	if (!d->d_local.l_has_identity)
		goto out;
	switch (type) {
	case WG_MSG_TYPE_INIT:
		if (len == WG_MSG_INIT_LEN)
			ret = wg_input_init(d, pkt, src);
		break;
	case WG_MSG_TYPE_RESP:
		if (len == WG_MSG_RESP_LEN)
			ret = wg_input_resp(d, pkt, src);
		break;
	case WG_MSG_TYPE_COOKIE:
		if (len == WG_MSG_COOKIE_LEN)
			ret = wg_input_cookie(d, pkt);
		break;
	case WG_MSG_TYPE_DATA:
		if (len >= WG_DATA_OVERHEAD && len <= WG_PKT_MAX)
			ret = wg_input_data(d, pkt, len, dst, src, plain,
			    plainlen, peerp);
		break;
	}
out:
	pthread_rwlock_unlock(&d->d_lock);
	return ret;
}

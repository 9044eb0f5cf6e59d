/*
 * peer.c -- peers, their keypair slots, and the two lookup tables.
 *
 * Keypairs live in three slots inside the peer and are never freed, only
 * zeroed; a packet thread that copied a key out of a slot checks the
 * slot's generation afterwards, so a reused slot is noticed.
 */
#include <sys/queue.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peer.h"
#include "wgtime.h"

static size_t	 peer_bucket(const struct wg_device *,
		    const uint8_t [WG_KEY_LEN]);
static struct wg_index_list *index_bucket(struct wg_device *, uint32_t);
static bool	 index_taken(struct wg_device *, uint32_t);

uint64_t
wg_dev_now(struct wg_device *d)
{
	if (d->d_clock != NULL)
		return d->d_clock(d->d_clock_arg);
	return wg_now();
}

static size_t
peer_bucket(const struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	uint8_t		 h[8];
	uint64_t	 v;

	crypto_shorthash(h, pub, WG_KEY_LEN, d->d_hashkey);
	memcpy(&v, h, sizeof(v));
	return v & (WG_PEER_BUCKETS - 1);
}

struct wg_peer *
peer_new(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer	*p;
	int		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->p_dev = d;
	pthread_mutex_init(&p->p_lock, NULL);
	noise_remote_init(&p->p_remote, pub, &d->d_local);
	cookie_maker_init(&p->p_cookie, pub);
	for (i = 0; i < WG_KP_SLOTS; i++) {
		aead_slot_init(&p->p_aead[i]);
		p->p_kp_idx[i].i_peer = p;
		p->p_kp_idx[i].i_slot = i;
	}
	p->p_hs_idx.i_peer = p;
	p->p_hs_idx.i_slot = WG_SLOT_HANDSHAKE;
	p->p_current = p->p_previous = p->p_next = -1;
	timers_init(&p->p_timers);
	p->p_endpoint.ss_family = AF_UNSPEC;
	return p;
}

/* The caller unlinked the peer and holds the device write lock. */
void
peer_free(struct wg_peer *p)
{
	int	 i;

	ratelimit_admit_del(&p->p_dev->d_cookie.cc_rl, &p->p_conf_endpoint);
	pthread_mutex_lock(&p->p_lock);
	peer_drop_keys(p);
	pthread_mutex_unlock(&p->p_lock);
	for (i = 0; i < WG_KP_SLOTS; i++)
		aead_slot_destroy(&p->p_aead[i]);
	pthread_mutex_destroy(&p->p_lock);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

struct wg_peer *
peer_hash_lookup(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer	*p;

	LIST_FOREACH(p, &d->d_peer_hash[peer_bucket(d, pub)], p_hash_entry)
		if (memcmp(p->p_remote.r_public, pub, WG_KEY_LEN) == 0)
			return p;
	return NULL;
}

void
peer_hash_insert(struct wg_device *d, struct wg_peer *p)
{
	LIST_INSERT_HEAD(&d->d_peer_hash[peer_bucket(d,
	    p->p_remote.r_public)], p, p_hash_entry);
}

void
peer_hash_remove(struct wg_device *d, struct wg_peer *p)
{
	LIST_REMOVE(p, p_hash_entry);
}

static struct wg_index_list *
index_bucket(struct wg_device *d, uint32_t idx)
{
	/* Indices are random: their low bits are as good as a hash. */
	return &d->d_index[idx & (WG_INDEX_BUCKETS - 1)];
}

static bool
index_taken(struct wg_device *d, uint32_t idx)
{
	struct wg_index	*i;

	LIST_FOREACH(i, index_bucket(d, idx), i_entry)
		if (i->i_index == idx)
			return true;
	return false;
}

void
index_insert_new(struct wg_device *d, struct wg_index *e)
{
	uint32_t	 idx;

	pthread_rwlock_wrlock(&d->d_idx_lock);
	if (e->i_inserted) {
		LIST_REMOVE(e, i_entry);
		e->i_inserted = false;
	}
	do {
		idx = randombytes_random();
	} while (index_taken(d, idx));
	e->i_index = idx;
	LIST_INSERT_HEAD(index_bucket(d, idx), e, i_entry);
	e->i_inserted = true;
	pthread_rwlock_unlock(&d->d_idx_lock);
}

/* The session keeps the index its handshake was known by. */
void
index_reuse(struct wg_device *d, struct wg_index *old, struct wg_index *e)
{
	pthread_rwlock_wrlock(&d->d_idx_lock);
	if (e->i_inserted)
		LIST_REMOVE(e, i_entry);
	e->i_index = old->i_index;
	if (old->i_inserted) {
		LIST_REMOVE(old, i_entry);
		old->i_inserted = false;
	}
	LIST_INSERT_HEAD(index_bucket(d, e->i_index), e, i_entry);
	e->i_inserted = true;
	pthread_rwlock_unlock(&d->d_idx_lock);
}

void
index_remove(struct wg_device *d, struct wg_index *e)
{
	pthread_rwlock_wrlock(&d->d_idx_lock);
	if (e->i_inserted) {
		LIST_REMOVE(e, i_entry);
		e->i_inserted = false;
	}
	pthread_rwlock_unlock(&d->d_idx_lock);
}

bool
index_lookup(struct wg_device *d, uint32_t idx, struct wg_peer **pp,
    int *slot)
{
	struct wg_index	*i;
	bool		 found = false;

	pthread_rwlock_rdlock(&d->d_idx_lock);
	LIST_FOREACH(i, index_bucket(d, idx), i_entry) {
		if (i->i_index == idx) {
			*pp = i->i_peer;
			*slot = i->i_slot;
			found = true;
			break;
		}
	}
	pthread_rwlock_unlock(&d->d_idx_lock);
	return found;
}

void
peer_drop_slot(struct wg_peer *p, int *which)
{
	int	 s = *which;

	if (s < 0)
		return;
	index_remove(p->p_dev, &p->p_kp_idx[s]);
	noise_keypair_clear(&p->p_kp[s]);
	aead_slot_clear(&p->p_aead[s]);
	p->p_kp_gen[s]++;
	*which = -1;
}

void
peer_drop_keys(struct wg_peer *p)
{
	peer_drop_slot(p, &p->p_previous);
	peer_drop_slot(p, &p->p_current);
	peer_drop_slot(p, &p->p_next);
	index_remove(p->p_dev, &p->p_hs_idx);
	noise_handshake_clear(&p->p_remote.r_hs);
}

int
peer_find_free_slot(const struct wg_peer *p)
{
	int	 s;

	for (s = 0; s < WG_KP_SLOTS; s++)
		if (s != p->p_current && s != p->p_previous &&
		    s != p->p_next)
			return s;
	return -1;
}

void
wg_peer_test_set_send_counter(struct wg_peer *p, uint64_t c)
{
	pthread_mutex_lock(&p->p_lock);
	if (p->p_current >= 0)
		p->p_kp[p->p_current].kp_send_counter = c;
	pthread_mutex_unlock(&p->p_lock);
}

bool
wg_peer_test_has_keys(struct wg_peer *p)
{
	bool	 has;
	int	 s;

	pthread_mutex_lock(&p->p_lock);
	has = p->p_remote.r_hs.hs_state != HS_ZEROED;
	for (s = 0; s < WG_KP_SLOTS; s++)
		if (p->p_kp[s].kp_valid ||
		    !sodium_is_zero(p->p_kp[s].kp_send,
		    NOISE_SYMMETRIC_KEY_LEN) ||
		    !sodium_is_zero(p->p_kp[s].kp_recv,
		    NOISE_SYMMETRIC_KEY_LEN))
			has = true;
	pthread_mutex_unlock(&p->p_lock);
	return has;
}

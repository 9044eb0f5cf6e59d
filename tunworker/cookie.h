/*
 * cookie.h -- mac1/mac2, cookie replies and the per-source handshake
 * rate limiter (whitepaper section 5.4.7, the kernel's ratelimiter.c).
 */
#ifndef VPND_COOKIE_H
#define VPND_COOKIE_H

#include <sys/socket.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "noise.h"

#define RATELIMIT_PER_SECOND	20
#define RATELIMIT_BURST		5
/*
 * Sized like Linux (64 k entries).  A full neighbourhood evicts its least
 * recently used entry, so filling the table cannot lock a new source out;
 * what an attacker gains from many addresses is capped by the /48
 * aggregate, which may cost RATELIMIT_AGG48 times one /64.
 */
#define RATELIMIT_SLOTS		65536	/* power of two */
#define RATELIMIT_PROBE		8
#define RATELIMIT_AGG48		8
#define RATELIMIT_KEYLEN	18	/* family, prefix length, address */

struct ratelimit_entry {
	uint8_t		 re_key[RATELIMIT_KEYLEN];
	bool		 re_used;
	uint64_t	 re_last;
	uint64_t	 re_tokens;
};

/* A configured endpoint's address: always admitted. */
struct ratelimit_admit {
	uint8_t		 ra_key[RATELIMIT_KEYLEN];
	unsigned int	 ra_refs;
};

struct ratelimit {
	pthread_mutex_t	 rl_lock;
	uint8_t		 rl_hashkey[16];
	struct ratelimit_entry *rl_table;	/* RATELIMIT_SLOTS */
	struct ratelimit_admit *rl_admit;	/* sorted by key */
	size_t		 rl_nadmit, rl_admitcap;
	uint64_t	 rl_evictions;		/* for tests and stats */
};

/* The receiving side, one per device. */
struct cookie_checker {
	pthread_mutex_t	 cc_lock;	/* the secret */
	uint8_t		 cc_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t		 cc_cookie_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t		 cc_secret[NOISE_HASH_LEN];
	uint64_t	 cc_secret_birth;
	bool		 cc_secret_set;
	struct ratelimit cc_rl;
};

/* The sending side, one per peer, under the peer's lock. */
struct cookie_maker {
	uint8_t		 cm_mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t		 cm_cookie_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t		 cm_cookie[NOISE_COOKIE_LEN];
	uint64_t	 cm_cookie_birth;
	bool		 cm_cookie_valid;
	uint8_t		 cm_last_mac1[NOISE_COOKIE_LEN];
	bool		 cm_mac1_valid;
};

int	 cookie_checker_init(struct cookie_checker *);
void	 cookie_checker_free(struct cookie_checker *);
void	 cookie_checker_update(struct cookie_checker *,
	    const uint8_t pub[NOISE_PUBLIC_KEY_LEN]);
void	 cookie_maker_init(struct cookie_maker *,
	    const uint8_t pub[NOISE_PUBLIC_KEY_LEN]);
void	 cookie_maker_clear(struct cookie_maker *);

/* msg of len bytes ending in mac1 and mac2, NOISE_COOKIE_LEN each. */
void	 cookie_add_macs(struct cookie_maker *, uint8_t *msg, size_t len,
	    uint64_t now);
int	 cookie_check_mac1(struct cookie_checker *, const uint8_t *msg,
	    size_t len);
int	 cookie_check_mac2(struct cookie_checker *, const uint8_t *msg,
	    size_t len, const struct sockaddr_storage *, uint64_t now);
void	 cookie_create_reply(struct cookie_checker *, struct wg_msg_cookie *,
	    uint32_t receiver, const uint8_t mac1[NOISE_COOKIE_LEN],
	    const struct sockaddr_storage *, uint64_t now);
int	 cookie_consume_reply(struct cookie_maker *,
	    const struct wg_msg_cookie *, uint64_t now);
bool	 ratelimit_allow(struct ratelimit *, const struct sockaddr_storage *,
	    uint64_t now);
/* Reference-counted: a peer's configured endpoint, added and removed. */
int	 ratelimit_admit_add(struct ratelimit *,
	    const struct sockaddr_storage *);
void	 ratelimit_admit_del(struct ratelimit *,
	    const struct sockaddr_storage *);

#endif /* VPND_COOKIE_H */

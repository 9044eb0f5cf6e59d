/*
 * noise.h -- Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it.
 *
 * Pure protocol: no locks, no tables. The caller (wg.c) holds the peer's
 * lock around every call that touches a noise_remote or its keypairs.
 */
#ifndef VPND_NOISE_H
#define VPND_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "compat.h"
#include "config.h"
#include "replay.h"

#define NOISE_PUBLIC_KEY_LEN	WG_KEY_LEN
#define NOISE_SYMMETRIC_KEY_LEN	32
#define NOISE_HASH_LEN		32
#define NOISE_TIMESTAMP_LEN	12
#define NOISE_AUTHTAG_LEN	16
#define NOISE_COOKIE_LEN	16
#define NOISE_XNONCE_LEN	24

/* Whitepaper section 6.1, in nanoseconds where they are times. */
#define WG_SEC(s)		((uint64_t)(s) * 1000000000ULL)
#define REKEY_AFTER_MESSAGES	(1ULL << 60)
#define COUNTER_WINDOW_SIZE	8192ULL
#define REJECT_AFTER_MESSAGES	(UINT64_MAX - COUNTER_WINDOW_SIZE - 1)
#define REKEY_AFTER_TIME	WG_SEC(120)
#define REJECT_AFTER_TIME	WG_SEC(180)
#define REKEY_ATTEMPT_TIME	WG_SEC(90)
#define REKEY_TIMEOUT		WG_SEC(5)
#define REKEY_TIMEOUT_JITTER_MS	334
#define KEEPALIVE_TIMEOUT	WG_SEC(10)
#define MAX_TIMER_HANDSHAKES	(REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)
#define INITIATIONS_PER_SECOND	50
#define COOKIE_SECRET_MAX_AGE	WG_SEC(120)
#define COOKIE_SECRET_LATENCY	WG_SEC(5)

#define WG_MSG_TYPE_INIT	1
#define WG_MSG_TYPE_RESP	2
#define WG_MSG_TYPE_COOKIE	3
#define WG_MSG_TYPE_DATA	4

/* Wire formats, little-endian; receivers copy into these before use. */
struct wg_msg_init {
	uint32_t	 type;
	uint32_t	 sender;
	uint8_t		 ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 static_enc[NOISE_PUBLIC_KEY_LEN + NOISE_AUTHTAG_LEN];
	uint8_t		 ts_enc[NOISE_TIMESTAMP_LEN + NOISE_AUTHTAG_LEN];
	uint8_t		 mac1[NOISE_COOKIE_LEN];
	uint8_t		 mac2[NOISE_COOKIE_LEN];
} __packed;

struct wg_msg_resp {
	uint32_t	 type;
	uint32_t	 sender;
	uint32_t	 receiver;
	uint8_t		 ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 empty_enc[NOISE_AUTHTAG_LEN];
	uint8_t		 mac1[NOISE_COOKIE_LEN];
	uint8_t		 mac2[NOISE_COOKIE_LEN];
} __packed;

struct wg_msg_cookie {
	uint32_t	 type;
	uint32_t	 receiver;
	uint8_t		 nonce[NOISE_XNONCE_LEN];
	uint8_t		 cookie_enc[NOISE_COOKIE_LEN + NOISE_AUTHTAG_LEN];
} __packed;

struct wg_msg_data_hdr {
	uint32_t	 type;
	uint32_t	 receiver;
	uint64_t	 counter;
} __packed;

enum noise_hs_state {
	HS_ZEROED = 0,
	HS_CREATED_INITIATION,
	HS_CONSUMED_INITIATION,
	HS_CREATED_RESPONSE,
	HS_CONSUMED_RESPONSE,
};

struct noise_local {
	bool		 l_has_identity;
	uint8_t		 l_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 l_private[NOISE_PUBLIC_KEY_LEN];
};

struct noise_handshake {
	enum noise_hs_state hs_state;
	uint32_t	 hs_local_index;
	uint32_t	 hs_remote_index;
	uint8_t		 hs_e[NOISE_PUBLIC_KEY_LEN];		/* private */
	uint8_t		 hs_remote_e[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 hs_hash[NOISE_HASH_LEN];
	uint8_t		 hs_ck[NOISE_HASH_LEN];
};

struct noise_remote {
	uint8_t		 r_public[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 r_ss[NOISE_PUBLIC_KEY_LEN];	/* DH(s_l, s_r) */
	bool		 r_ss_ok;
	uint8_t		 r_psk[NOISE_SYMMETRIC_KEY_LEN];
	struct noise_handshake r_hs;
	uint8_t		 r_ts_recv[NOISE_TIMESTAMP_LEN];	/* newest */
	uint8_t		 r_ts_sent[NOISE_TIMESTAMP_LEN];
	uint64_t	 r_last_init_recv;	/* wg_now of last accepted */
};

/* Session keys; lives in a slot of its peer, never freed, only zeroed. */
struct noise_keypair {
	bool		 kp_valid;
	bool		 kp_initiator;
	uint32_t	 kp_local_index;
	uint32_t	 kp_remote_index;
	uint8_t		 kp_send[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t		 kp_recv[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t	 kp_birth;		/* wg_now at derivation */
	uint64_t	 kp_send_counter;	/* next nonce to use */
	struct replay	 kp_replay;
};

/* What consuming an initiation learns before the peer is known. */
struct noise_init_state {
	uint8_t		 is_ck[NOISE_HASH_LEN];
	uint8_t		 is_hash[NOISE_HASH_LEN];
	uint8_t		 is_remote_e[NOISE_PUBLIC_KEY_LEN];
	uint8_t		 is_remote_static[NOISE_PUBLIC_KEY_LEN];
	uint32_t	 is_sender;
};

int	 noise_local_set_private(struct noise_local *,
	    const uint8_t [NOISE_PUBLIC_KEY_LEN]);
void	 noise_remote_init(struct noise_remote *,
	    const uint8_t [NOISE_PUBLIC_KEY_LEN],
	    const struct noise_local *);
void	 noise_remote_precompute(struct noise_remote *,
	    const struct noise_local *);
void	 noise_remote_set_psk(struct noise_remote *, const uint8_t *);
void	 noise_handshake_clear(struct noise_handshake *);

/* Fills everything but mac1/mac2. */
int	 noise_create_initiation(const struct noise_local *,
	    struct noise_remote *, uint32_t local_index, struct wg_msg_init *);
/* Step 1: decrypts the initiator's static key (checked by the caller). */
int	 noise_consume_initiation_begin(const struct noise_local *,
	    const struct wg_msg_init *, struct noise_init_state *);
/* Step 2, under the found peer's lock: timestamp and flood checks. */
int	 noise_consume_initiation_finish(const struct noise_local *,
	    struct noise_remote *, struct noise_init_state *,
	    const struct wg_msg_init *, uint64_t now);
int	 noise_create_response(struct noise_remote *, uint32_t local_index,
	    struct wg_msg_resp *);
int	 noise_consume_response(const struct noise_local *,
	    struct noise_remote *, const struct wg_msg_resp *);
/* Derives transport keys from a finished handshake and zeroes it. */
int	 noise_derive_keypair(struct noise_handshake *, struct noise_keypair *,
	    uint64_t now);
void	 noise_keypair_clear(struct noise_keypair *);

/* Transport AEAD, in place; tag written after len bytes. */
void	 noise_seal(const uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
	    uint64_t counter, uint8_t *buf, size_t len);
int	 noise_open(const uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
	    uint64_t counter, uint8_t *buf,
	    size_t len);	/* len includes the tag */

void	 noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN]);
/* Known-answer tests: the next ephemeral key / timestamp, used once. */
void	 noise_test_fix_ephemeral(const uint8_t [NOISE_PUBLIC_KEY_LEN]);
void	 noise_test_fix_timestamp(const uint8_t [NOISE_TIMESTAMP_LEN]);
void	 noise_hash(uint8_t out[NOISE_HASH_LEN], const uint8_t *, size_t,
	    const uint8_t *, size_t);

#endif /* VPND_NOISE_H */

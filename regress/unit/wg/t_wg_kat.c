/*
 * t_wg_kat.c -- a whole handshake against known answers: fixed static and
 * ephemeral keys, PSK, timestamp and indices give exactly the initiation
 * and response bytes, the transport keys and the data messages that
 * kat_handshake.py computes independently from the whitepaper (Python's
 * BLAKE2s and HMAC, X25519 and ChaCha20-Poly1305 from the cryptography
 * package).  Conformance then does not rest on vpnd agreeing with itself.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cookie.h"
#include "noise.h"
#include "wg.h"
#include "kat_handshake.h"
#include "tap.h"

#define NOW	1000000000000ULL

int
main(void)
{
	struct noise_local	 li, lr;
	struct noise_remote	 ri, rr;
	struct noise_init_state	 st;
	struct noise_keypair	 kpi, kpr;
	struct cookie_maker	 cmi, cmr;
	struct wg_msg_init	 mi;
	struct wg_msg_resp	 mr;
	uint8_t			 s_i[32], s_r[32], e_i[32], e_r[32], psk[32];
	uint8_t			 ts[12], payload[32], pub_i[32], pub_r[32];
	uint8_t			 want_init[WG_MSG_INIT_LEN];
	uint8_t			 want_resp[WG_MSG_RESP_LEN];
	uint8_t			 tsend[32], trecv[32];
	uint8_t			 data[16 + 32 + 16], want_data[sizeof(data)];
	uint32_t		 le;
	uint64_t		 ctr;

	if (sodium_init() == -1)
		abort();
	plan(14);
	unhex(KAT_S_I_PRIV, s_i, sizeof(s_i));
	unhex(KAT_S_R_PRIV, s_r, sizeof(s_r));
	unhex(KAT_E_I_PRIV, e_i, sizeof(e_i));
	unhex(KAT_E_R_PRIV, e_r, sizeof(e_r));
	unhex(KAT_PSK, psk, sizeof(psk));
	unhex(KAT_TIMESTAMP, ts, sizeof(ts));
	unhex(KAT_PAYLOAD, payload, sizeof(payload));
	unhex(KAT_INIT, want_init, sizeof(want_init));
	unhex(KAT_RESP, want_resp, sizeof(want_resp));
	unhex(KAT_T_I_SEND, tsend, sizeof(tsend));
	unhex(KAT_T_I_RECV, trecv, sizeof(trecv));

	if (noise_local_set_private(&li, s_i) == -1 ||
	    noise_local_set_private(&lr, s_r) == -1)
		abort();
	memcpy(pub_i, li.l_public, 32);
	memcpy(pub_r, lr.l_public, 32);

	/* The initiator. */
	noise_remote_init(&ri, pub_r, &li);
	noise_remote_set_psk(&ri, psk);
	cookie_maker_init(&cmi, pub_r);
	noise_test_fix_ephemeral(e_i);
	noise_test_fix_timestamp(ts);
	memset(&mi, 0, sizeof(mi));
	is_int(noise_create_initiation(&li, &ri, KAT_IDX_I, &mi), 0,
	    "initiation created");
	cookie_add_macs(&cmi, (uint8_t *)&mi, sizeof(mi), NOW);
	is_mem(&mi, want_init, sizeof(want_init),
	    "initiation: all 148 bytes as computed (ephemeral, static, "
	    "timestamp, mac1)");

	/* The responder. */
	is_int(noise_consume_initiation_begin(&lr, &mi, &st), 0,
	    "responder opens the initiation");
	is_mem(st.is_remote_static, pub_i, 32,
	    "responder learns the initiator's static key");
	noise_remote_init(&rr, pub_i, &lr);
	noise_remote_set_psk(&rr, psk);
	is_int(noise_consume_initiation_finish(&lr, &rr, &st, &mi, NOW), 0,
	    "responder accepts the timestamp");
	cookie_maker_init(&cmr, pub_i);
	noise_test_fix_ephemeral(e_r);
	memset(&mr, 0, sizeof(mr));
	is_int(noise_create_response(&rr, KAT_IDX_R, &mr), 0,
	    "response created");
	cookie_add_macs(&cmr, (uint8_t *)&mr, sizeof(mr), NOW);
	is_mem(&mr, want_resp, sizeof(want_resp),
	    "response: all 92 bytes as computed");
	is_int(noise_derive_keypair(&rr.r_hs, &kpr, NOW), 0,
	    "responder derives its keys");

	/* The initiator again. */
	is_int(noise_consume_response(&li, &ri, &mr), 0,
	    "initiator accepts the response");
	is_int(noise_derive_keypair(&ri.r_hs, &kpi, NOW), 0,
	    "initiator derives its keys");
	ok(memcmp(kpi.kp_send, tsend, 32) == 0 &&
	    memcmp(kpi.kp_recv, trecv, 32) == 0,
	    "initiator's transport keys as computed");
	ok(memcmp(kpr.kp_send, trecv, 32) == 0 &&
	    memcmp(kpr.kp_recv, tsend, 32) == 0,
	    "responder's transport keys: the same pair, crossed");

	/* Data: the initiator's first message, the responder's second. */
	unhex(KAT_DATA_I_TO_R_0, want_data, sizeof(want_data));
	le = htole32(4);
	memcpy(data, &le, 4);
	le = htole32(KAT_IDX_R);
	memcpy(data + 4, &le, 4);
	ctr = htole64(0);
	memcpy(data + 8, &ctr, 8);
	memcpy(data + 16, payload, sizeof(payload));
	noise_seal(kpi.kp_send, 0, data + 16, sizeof(payload));
	is_mem(data, want_data, sizeof(data),
	    "data message initiator -> responder, counter 0");
	unhex(KAT_DATA_R_TO_I_1, want_data, sizeof(want_data));
	le = htole32(KAT_IDX_I);
	memcpy(data + 4, &le, 4);
	ctr = htole64(1);
	memcpy(data + 8, &ctr, 8);
	memcpy(data + 16, payload, sizeof(payload));
	noise_seal(kpr.kp_send, 1, data + 16, sizeof(payload));
	is_mem(data, want_data, sizeof(data),
	    "data message responder -> initiator, counter 1");

	sodium_memzero(&kpi, sizeof(kpi));
	sodium_memzero(&kpr, sizeof(kpr));
	return done_testing();
}

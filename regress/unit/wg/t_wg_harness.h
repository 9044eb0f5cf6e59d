/*
 * t_wg_harness.h -- devices in one process, a fake clock and a wire.
 *
 * send_fn copies every datagram into a FIFO; wire_pump() delivers them to
 * the node whose address is the destination, with the sender's address
 * as the source, and records what wg_input() made of each.
 */
#ifndef T_WG_HARNESS_H
#define T_WG_HARNESS_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "compat.h"
#include "config.h"
#include "peer.h"
#include "wg.h"

#define H_MAXNODES	8
#define H_QLEN		256
#define H_PKTLEN	2048

struct h_node {
	struct wg_device	*dev;
	struct sockaddr_storage	 addr;
	uint8_t			 priv[32], pub[32];
	int			 ev_done, ev_expired, ev_lost;
	int			 sent[5];	/* by message type */
	int			 got[WG_HANDLED + 1];	/* by wg_input result */
	uint8_t			 rx[H_PKTLEN];	/* last WG_DATA */
	size_t			 rxlen;
	struct wg_peer		*rxpeer;
	bool			 mute;	/* drop what it sends */
};

struct h_pkt {
	struct h_node		*from;
	struct sockaddr_storage	 dst;
	size_t			 len;
	uint8_t			 buf[H_PKTLEN];
};

static uint64_t		 h_clock = 1000000000000ULL;
static struct h_node	 h_nodes[H_MAXNODES];
static int		 h_nnodes;
static struct h_pkt	 h_q[H_QLEN];
static int		 h_qhead, h_qtail;

static __unused uint64_t
h_now(void *arg)
{
	return h_clock;
}

static __unused void
h_advance(uint64_t ns)
{
	h_clock += ns;
}

static __unused void
h_send(void *arg, struct wg_peer *p, const struct sockaddr_storage *dst,
    const uint8_t *buf, size_t len)
{
	struct h_node	*n = arg;
	struct h_pkt	*q;

	if (len >= 1 && buf[0] >= 1 && buf[0] <= 4)
		n->sent[buf[0]]++;
	if (n->mute || len > H_PKTLEN || (h_qtail + 1) % H_QLEN == h_qhead)
		return;
	q = &h_q[h_qtail];
	h_qtail = (h_qtail + 1) % H_QLEN;
	q->from = n;
	q->dst = *dst;
	q->len = len;
	memcpy(q->buf, buf, len);
}

static __unused void
h_event(void *arg, struct wg_peer *p, int ev)
{
	struct h_node	*n = arg;

	if (ev == WG_EV_HANDSHAKE_DONE)
		n->ev_done++;
	else if (ev == WG_EV_KEYS_EXPIRED)
		n->ev_expired++;
	else if (ev == WG_EV_PEER_LOST)
		n->ev_lost++;
}

static __unused bool
h_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

	return a->ss_family == AF_INET && b->ss_family == AF_INET &&
	    x->sin_addr.s_addr == y->sin_addr.s_addr &&
	    x->sin_port == y->sin_port;
}

static __unused void
h_set_addr(struct h_node *n, const char *ip, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&n->addr;

	memset(&n->addr, 0, sizeof(n->addr));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static __unused struct h_node *
h_node_new(const char *ip)
{
	struct h_node	*n = &h_nodes[h_nnodes++];

	memset(n, 0, sizeof(*n));
	n->dev = wg_device_new(h_send, h_event, n);
	crypto_box_keypair(n->pub, n->priv);
	wg_device_set_private_key(n->dev, n->priv);
	wg_device_set_clock(n->dev, h_now, NULL);
	h_set_addr(n, ip, 51820);
	return n;
}

static __unused void
h_reset(void)
{
	int	 i;

	for (i = 0; i < h_nnodes; i++)
		wg_device_free(h_nodes[i].dev);
	h_nnodes = 0;
	h_qhead = h_qtail = 0;
}

static __unused void
h_aip(struct h_node *n, struct wg_peer *p, const char *pfx)
{
	struct prefix	 pr;

	if (prefix_parse(pfx, &pr) == -1)
		abort();
	if (wg_peer_add_allowedip(n->dev, p, &pr) == -1)
		abort();
}

/* a knows b as a peer (with b's endpoint if ep), b's tunnel address. */
static __unused struct wg_peer *
h_link(struct h_node *a, struct h_node *b, bool ep, const char *pfx)
{
	struct wg_peer	*p = wg_peer_add(a->dev, b->pub);

	if (ep)
		wg_peer_set_endpoint(p, &b->addr);
	h_aip(a, p, pfx);
	return p;
}

static __unused struct h_node *
h_find(const struct sockaddr_storage *dst)
{
	int	 i;

	for (i = 0; i < h_nnodes; i++)
		if (h_same_addr(&h_nodes[i].addr, dst))
			return &h_nodes[i];
	return NULL;
}

static __unused int
h_qlen(void)
{
	return (h_qtail - h_qhead + H_QLEN) % H_QLEN;
}

static __unused struct h_pkt *
h_peek(void)
{
	return h_qhead == h_qtail ? NULL : &h_q[h_qhead];
}

static __unused void
h_drop_queue(void)
{
	h_qhead = h_qtail;
}

/* Take the next queued datagram, and the node it goes to; NULL: none. */
static __unused struct h_pkt *
h_pop(struct h_node **to)
{
	struct h_pkt	*q;

	if ((q = h_peek()) == NULL)
		return NULL;
	h_qhead = (h_qhead + 1) % H_QLEN;
	if ((*to = h_find(&q->dst)) == NULL)
		return NULL;
	return q;
}

/* Deliver one queued datagram; returns the wg_input result or -1. */
static __unused int
h_step(void)
{
	struct h_pkt	*q;
	struct h_node	*to;
	struct wg_peer	*peer;
	uint8_t		*plain, buf[H_PKTLEN];
	size_t		 plainlen, len;
	struct sockaddr_storage src;
	int		 r;

	if ((q = h_pop(&to)) == NULL)
		return -1;
	len = q->len;
	memcpy(buf, q->buf, len);
	src = q->from->addr;
	r = wg_input(to->dev, buf, len, &src, &plain, &plainlen, &peer);
	to->got[r]++;
	if (r == WG_DATA) {
		memcpy(to->rx, plain, plainlen);
		to->rxlen = plainlen;
		to->rxpeer = peer;
	}
	return r;
}

static __unused void
h_pump(void)
{
	int	 guard = 0;

	while (h_peek() != NULL && guard++ < 10000)
		h_step();
}

static __unused void
h_tick_all(void)
{
	int	 i;

	for (i = 0; i < h_nnodes; i++)
		wg_device_tick(h_nodes[i].dev);
}

/* Advance in ticks of 100 ms, ticking and pumping. */
static __unused void
h_run(uint64_t ns)
{
	uint64_t	 step = 100000000ULL, done;

	for (done = 0; done < ns; done += step) {
		h_advance(step);
		h_tick_all();
		h_pump();
	}
}

/* An IPv4 packet of total length len from src to dst. */
static __unused size_t
h_ip4(uint8_t *buf, size_t len, const char *src, const char *dst,
    uint8_t fill)
{
	memset(buf, fill, len);
	buf[0] = 0x45;
	buf[1] = 0;
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
	inet_pton(AF_INET, src, buf + 12);
	inet_pton(AF_INET, dst, buf + 16);
	return len;
}

/* Encrypt an IPv4 packet from a to its peer p and queue it. */
static __unused int
h_send_ip(struct h_node *a, struct wg_peer *p, const char *src,
    const char *dst, size_t len, uint8_t fill)
{
	uint8_t			 in[H_PKTLEN], out[H_PKTLEN];
	size_t			 outlen;
	struct sockaddr_storage	 to;
	int			 r;

	h_ip4(in, len, src, dst, fill);
	r = wg_encrypt(p, in, len, out, &outlen, &to);
	if (r == WG_OK)
		h_send(a, p, &to, out, outlen);
	return r;
}

#endif /* T_WG_HARNESS_H */

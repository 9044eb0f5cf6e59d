/*
 * offload.h -- TSO segmentation and GRO coalescing for a TUN opened with
 * IFF_VNET_HDR (see offload.c).
 */
#ifndef VPND_OFFLOAD_H
#define VPND_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <sys/uio.h>

#include <linux/virtio_net.h>

#define VNET_HDR_LEN	sizeof(struct virtio_net_hdr)

#define GRO_MAX		65535
#define GRO_SEGS	64	/* segments a train holds */
#define GRO_HDR_MAX	(40 + 60)	/* IPv6, TCP with the most options */

/*
 * A train of TCP segments being coalesced. The packets are not copied:
 * the train keeps pointers to their payloads (and a caller's reference
 * for each), which must stay as they are until gro_finish; the first
 * segment's headers are copied into head and finished there.
 */
struct gro {
	uint8_t		 head[VNET_HDR_LEN + GRO_HDR_MAX];
	struct iovec	 iov[GRO_SEGS + 1];	/* head, then payloads */
	void		*ref[GRO_SEGS];
	int		 nref;		/* refs gro_finish hands back */
	size_t		 len;		/* packet bytes after the header */
	size_t		 l4, hl;	/* TCP offset, all headers */
	size_t		 mss;		/* payload of the first segment */
	uint32_t	 next_seq;
	int		 v6;
	int		 nseg;
	int		 closed;	/* a short or PSH segment ended it */
};

/* Internet checksum helpers: an unfolded big-endian sum, and its fold. */
uint32_t csum_add(uint32_t, const uint8_t *, size_t);
uint16_t csum_fold(uint32_t);	/* complemented: ready to store */

/*
 * buf holds a virtio_net_hdr and a packet read from the TUN. Calls emit
 * for each plain IP packet it yields: the packet itself with its checksum
 * finished, or each segment of a TSO packet, built in place in buf.
 * Returns how many, or -1 for a malformed header (nothing emitted).
 */
int	 offload_tso(uint8_t *buf, size_t n,
	    void (*emit)(void *, uint8_t *, size_t), void *arg);

/*
 * A datagram of n bytes that UDP GRO may have coalesced; segsz is the
 * segment size its UDP_GRO control message gave (0: none, one datagram).
 * Returns how many segments it holds (each segsz bytes, the last one
 * possibly shorter), or 0 to drop it whole: empty, a segment larger than
 * maxseg (or, without a segment size, a datagram larger than maxseg), a
 * negative size, or more than maxsegs segments.
 */
size_t	 udp_gro_count(size_t n, int segsz, size_t maxseg, size_t maxsegs);

/*
 * GRO: start a train with a packet, append the next segments of its flow
 * (1: taken; the packet, and ref, now belong to the train until it is
 * finished; 0: not taken, nothing kept), and finish it for one writev:
 * *iov gets the vectors (a virtio_net_hdr and the coalesced packet),
 * *len their bytes; returns how many vectors, 0 for an empty train. Then
 * g->ref[0 .. g->nref) are the references of the packets it held, in
 * order, free for the caller to take back.
 */
int	 gro_start(struct gro *, const uint8_t *, size_t, void *ref);
int	 gro_append(struct gro *, const uint8_t *, size_t, void *ref);
int	 gro_finish(struct gro *, struct iovec **iov, size_t *len);

#endif /* VPND_OFFLOAD_H */

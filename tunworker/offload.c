/*
 * offload.c -- TUN offloads in userspace: cutting the TSO packets the
 * kernel hands us into MTU-sized segments (with every header field and
 * checksum as the kernel's GSO would write them), and the reverse, coalescing
 * consecutive TCP segments into one GRO packet for the kernel. Pure
 * functions over caller buffers, unit-tested in regress/unit/wgdata/.
 */
#include <sys/types.h>
#include <arpa/inet.h>

#include <linux/virtio_net.h>

#include <stdint.h>
#include <string.h>

#include "compat.h"
#include "offload.h"

static void	put16(uint8_t *, uint16_t);

/*
 * The Internet checksum's ones' complement sum, not yet folded, as a
 * big-endian value. Words are summed in host order, 32 bits at a time;
 * the ones' complement sum is the same in either byte order up to a swap.
 */
VPND_CLONES
uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	typedef uint64_t v8 __attribute__((vector_size(64)));
	v8		va = { 0 }, vb = { 0 }, x;
	uint64_t	acc = 0, acc2 = 0, w64, v64;
	uint32_t	w32;
	uint16_t	w16;
	int		i;

	/*
	 * 64 bytes a round, sixteen 32-bit words into sixteen 64-bit sums
	 * (one or two AVX-512 or AVX2 registers each, chosen at load); then
	 * 16 bytes a round, as four 32-bit words into two sums (at most 2^34
	 * a round: no overflow below 2^30 rounds), then the rest.
	 */
	for (; len >= 64; p += 64, len -= 64) {
		memcpy(&x, p, sizeof(x));
		va += x & 0xffffffff;
		vb += x >> 32;
	}
	for (i = 0; i < 8; i++)
		acc += (va[i] & 0xffffffff) + (va[i] >> 32) +
		    (vb[i] & 0xffffffff) + (vb[i] >> 32);
	for (; len >= 16; p += 16, len -= 16) {
		memcpy(&w64, p, 8);
		memcpy(&v64, p + 8, 8);
		acc += (w64 & 0xffffffff) + (w64 >> 32);
		acc2 += (v64 & 0xffffffff) + (v64 >> 32);
	}
	acc += acc2;
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		len -= 2;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	sum += ntohs((uint16_t)acc);
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * A packet read with its virtio_net_hdr: finish its checksum, or cut a
 * TSO packet into MSS-sized segments, each with its own IP length, IPv4
 * id, TCP sequence number, flags and checksums -- in place, since each
 * segment is encrypted before the next overwrites the buffer.
 */
int
offload_tso(uint8_t *buf, size_t n, void (*emit)(void *, uint8_t *, size_t),
    void *arg)
{
	struct virtio_net_hdr	 vh;
	uint8_t			 hdr[256], *seg, *tcp;
	size_t			 l4, thl, hl, mss, payload, off, seglen, total;
	uint32_t		 seq, sum;
	uint16_t		 ipid = 0;
	int			 v6, gso, i;

	if (n < sizeof(vh))
		return -1;
	memcpy(&vh, buf, sizeof(vh));
	buf += sizeof(vh);
	n -= sizeof(vh);
	gso = vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			if ((size_t)vh.csum_start + vh.csum_offset + 2 > n)
				return -1;
			sum = csum_add(0, buf + vh.csum_start,
			    n - vh.csum_start);
			put16(buf + vh.csum_start + vh.csum_offset,
			    csum_fold(sum));
		}
		emit(arg, buf, n);
		return 1;
	}
	if (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6)
		return -1;
	v6 = gso == VIRTIO_NET_HDR_GSO_TCPV6;
	l4 = vh.csum_start;
	mss = vh.gso_size;
	if (n < 20 || l4 < (v6 ? 40U : 20U) || l4 + 20 > n || mss == 0)
		return -1;
	if ((buf[0] >> 4) != (v6 ? 6 : 4))
		return -1;
	if (!v6 && (size_t)(buf[0] & 0x0f) * 4 != l4)
		return -1;
	thl = (size_t)(buf[l4 + 12] >> 4) * 4;
	hl = l4 + thl;
	if (thl < 20 || hl > n || hl > sizeof(hdr))
		return -1;
	memcpy(hdr, buf, hl);
	payload = n - hl;
	seq = (uint32_t)hdr[l4 + 4] << 24 | (uint32_t)hdr[l4 + 5] << 16 |
	    (uint32_t)hdr[l4 + 6] << 8 | hdr[l4 + 7];
	if (!v6)
		ipid = (uint16_t)hdr[4] << 8 | hdr[5];
	for (i = 0, off = 0; off < payload; i++, off += mss) {
		seglen = MINIMUM(mss, payload - off);
		total = hl + seglen;
		/* headers go right before this segment's payload */
		seg = buf + off;
		memcpy(seg, hdr, hl);
		if (v6)
			put16(seg + 4, total - 40);
		else {
			put16(seg + 2, total);
			put16(seg + 4, ipid + i);
			put16(seg + 10, 0);
			put16(seg + 10, csum_fold(csum_add(0, seg,
			    (size_t)(seg[0] & 0x0f) * 4)));
		}
		tcp = seg + l4;
		tcp[4] = (seq + off) >> 24;
		tcp[5] = (seq + off) >> 16;
		tcp[6] = (seq + off) >> 8;
		tcp[7] = (seq + off);
		if (off + seglen < payload)
			tcp[13] &= ~0x09;	/* FIN, PSH: last only */
		if (off > 0)
			tcp[13] &= ~0x80;	/* CWR: first only */
		put16(tcp + 16, 0);
		/* pseudo-header, then the TCP header and payload */
		if (v6) {
			sum = csum_add(0, seg + 8, 32);
			sum += (uint32_t)(thl + seglen) + 6;
		} else {
			sum = csum_add(0, seg + 12, 8);
			sum += (uint32_t)(thl + seglen) + 6;
		}
		sum = csum_add(sum, tcp, thl + seglen);
		put16(tcp + 16, csum_fold(sum));
		emit(arg, seg, total);
	}
	return i;
}


/*
 * Receive-side coalescing (GRO) for the TUN: consecutive segments of one
 * TCP flow become one large packet written with a virtio_net_hdr, so the
 * kernel's TCP stack handles one packet where it would handle forty. The
 * payloads are not copied: one writev gathers them where they lie.
 */
static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * A plain TCP segment with data and only ACK (PSH) set, no IP options or
 * fragments: *l4 and *hl set. Anything else is written as it is.
 */
static int
gro_candidate(const uint8_t *p, size_t n, size_t *l4, size_t *hl, int *v6)
{
	size_t	thl;

	if (n < 40)
		return 0;
	if ((p[0] >> 4) == 4) {
		if (p[0] != 0x45 || p[9] != 6 ||
		    ((size_t)p[2] << 8 | p[3]) != n ||
		    (p[6] & 0x3f) != 0 || p[7] != 0)	/* MF, offset */
			return 0;
		*l4 = 20;
		*v6 = 0;
	} else if ((p[0] >> 4) == 6) {
		if (n < 60 || p[6] != 6 ||
		    ((size_t)p[4] << 8 | p[5]) + 40 != n)
			return 0;
		*l4 = 40;
		*v6 = 1;
	} else
		return 0;
	thl = (size_t)(p[*l4 + 12] >> 4) * 4;
	if (thl < 20 || *l4 + thl >= n)
		return 0;			/* no payload */
	if ((p[*l4 + 13] & ~0x08) != 0x10)	/* ACK, maybe PSH */
		return 0;
	*hl = *l4 + thl;
	return 1;
}

int
gro_finish(struct gro *g, struct iovec **iov, size_t *len)
{
	struct virtio_net_hdr	 vh;
	uint8_t			*p = g->head + VNET_HDR_LEN, *tcp;
	uint32_t		 sum;

	g->nref = 0;
	if (g->nseg == 0)
		return 0;
	memset(&vh, 0, sizeof(vh));
	if (g->nseg > 1) {
		if (g->v6)
			put16(p + 4, g->len - 40);
		else {
			put16(p + 2, g->len);
			put16(p + 10, 0);
			put16(p + 10, csum_fold(csum_add(0, p, 20)));
		}
		/* checksum partial: the pseudo-header sum, not inverted */
		tcp = p + g->l4;
		sum = g->v6 ? csum_add(0, p + 8, 32) : csum_add(0, p + 12, 8);
		sum += (uint32_t)(g->len - g->l4) + 6;
		put16(tcp + 16, ~csum_fold(sum) & 0xffff);
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
		    VIRTIO_NET_HDR_GSO_TCPV4;
		vh.hdr_len = g->hl;
		vh.gso_size = g->mss;
		vh.csum_start = g->l4;
		vh.csum_offset = 16;
	}
	memcpy(g->head, &vh, sizeof(vh));
	*iov = g->iov;
	*len = VNET_HDR_LEN + g->len;
	g->nref = g->nseg;
	g->nseg = 0;
	/* the head, then every segment's payload */
	return g->nref + 1;
}

/* Append p to g if it continues g's flow; 1 if taken. */
int
gro_append(struct gro *g, const uint8_t *p, size_t n, void *ref)
{
	uint8_t		*q = g->head + VNET_HDR_LEN;
	size_t		 l4, hl, plen;
	int		 v6;

	if (g->nseg == 0 || g->closed || !gro_candidate(p, n, &l4, &hl, &v6))
		return 0;
	plen = n - hl;
	if (v6 != g->v6 || hl != g->hl || plen > g->mss ||
	    g->len + plen > GRO_MAX || g->nseg >= GRO_SEGS)
		return 0;
	/* same addresses, ports, ack, window, options; next in sequence */
	if (v6) {
		/* version, traffic class and flow label too, as Linux does */
		if (memcmp(p, q, 4) != 0 || memcmp(p + 8, q + 8, 32) != 0 ||
		    p[7] != q[7])
			return 0;
	} else if (memcmp(p + 12, q + 12, 8) != 0 || p[1] != q[1] ||
	    p[8] != q[8] || p[6] != q[6])
		return 0;
	if (memcmp(p + l4, q + l4, 4) != 0 ||		/* ports */
	    get32(p + l4 + 4) != g->next_seq ||
	    memcmp(p + l4 + 8, q + l4 + 8, 4) != 0 ||	/* ack */
	    memcmp(p + l4 + 14, q + l4 + 14, 2) != 0 ||	/* window */
	    memcmp(p + l4 + 20, q + l4 + 20, hl - l4 - 20) != 0)
		return 0;
	g->iov[g->nseg + 1].iov_base = (void *)(uintptr_t)(p + hl);
	g->iov[g->nseg + 1].iov_len = plen;
	g->ref[g->nseg] = ref;
	g->len += plen;
	g->next_seq += plen;
	g->nseg++;
	if (plen < g->mss || (p[l4 + 13] & 0x08)) {
		/* a short or PSH segment ends the train; carry PSH */
		q[l4 + 13] |= p[l4 + 13] & 0x08;
		g->closed = 1;
	}
	return 1;
}

/* Start a new train with p if it can be one; 1 if taken. */
int
gro_start(struct gro *g, const uint8_t *p, size_t n, void *ref)
{
	size_t	l4, hl;
	int	v6;

	if (n > GRO_MAX || !gro_candidate(p, n, &l4, &hl, &v6) ||
	    hl > GRO_HDR_MAX)
		return 0;
	/* the headers are finished in head; the payload stays where it is */
	memcpy(g->head + VNET_HDR_LEN, p, hl);
	g->iov[0].iov_base = g->head;
	g->iov[0].iov_len = VNET_HDR_LEN + hl;
	g->iov[1].iov_base = (void *)(uintptr_t)(p + hl);
	g->iov[1].iov_len = n - hl;
	g->ref[0] = ref;
	g->nref = 0;
	g->len = n;
	g->l4 = l4;
	g->hl = hl;
	g->v6 = v6;
	g->mss = n - hl;
	g->next_seq = get32(p + l4 + 4) + (uint32_t)(n - hl);
	g->nseg = 1;
	g->closed = (p[l4 + 13] & 0x08) != 0;
	return 1;
}

size_t
udp_gro_count(size_t n, int segsz, size_t maxseg, size_t maxsegs)
{
	size_t	cnt;

	if (n == 0 || segsz < 0)
		return 0;
	if (segsz == 0 || (size_t)segsz >= n)
		return n <= maxseg ? 1 : 0;
	if ((size_t)segsz > maxseg)
		return 0;
	cnt = (n + (size_t)segsz - 1) / (size_t)segsz;
	return cnt <= maxsegs ? cnt : 0;
}

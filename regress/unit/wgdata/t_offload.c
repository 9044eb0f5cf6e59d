/*
 * t_offload.c -- TSO segmentation and GRO coalescing (tunworker/offload.c):
 * every segment must carry the headers and checksums the kernel's own GSO
 * would write, and coalescing the segments must give back the original.
 * Then the split of a datagram UDP GRO coalesced: how many segments, and
 * a drop (0) for every size it cannot be.
 */
#include <sys/types.h>

#include <linux/virtio_net.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "offload.h"
#include "tap.h"

#define MAXSEG	128

struct segs {
	uint8_t		 pkt[MAXSEG][2048];
	size_t		 len[MAXSEG];
	int		 n;
	int		 calls;		/* every emit, kept or not */
	size_t		 maxlen;	/* the longest emitted */
};

static void
collect(void *arg, uint8_t *p, size_t n)
{
	struct segs	*s = arg;

	s->calls++;
	if (n > s->maxlen)
		s->maxlen = n;
	if (s->n < MAXSEG && n <= sizeof(s->pkt[0])) {
		memcpy(s->pkt[s->n], p, n);
		s->len[s->n++] = n;
	}
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A TCP checksum that verifies sums to zero over pseudo-header + TCP. */
static int
tcp_csum_ok(const uint8_t *ip, size_t n, int v6)
{
	size_t		l4 = v6 ? 40 : 20;
	uint32_t	sum;

	sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	sum += (uint32_t)(n - l4) + 6;
	sum = csum_add(sum, ip + l4, n - l4);
	return csum_fold(sum) == 0;
}

/* vnet header + IP + TCP (with 12 bytes of options) + payload */
static size_t
make_tso(uint8_t *buf, int v6, const uint8_t *payload, size_t plen,
    uint16_t mss, uint8_t flags)
{
	struct virtio_net_hdr	 vh;
	uint8_t			*ip = buf + VNET_HDR_LEN, *tcp;
	size_t			 l4 = v6 ? 40 : 20, thl = 32, n;
	uint32_t		 sum;

	n = l4 + thl + plen;
	memset(ip, 0, l4 + thl);
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (n - 40) >> 8;
		ip[5] = (n - 40) & 0xff;
		ip[6] = 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	} else {
		ip[0] = 0x45;
		ip[2] = n >> 8;
		ip[3] = n & 0xff;
		ip[4] = 0x12;
		ip[5] = 0x34;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	tcp = ip + l4;
	tcp[0] = 0x9c;
	tcp[1] = 0x40;		/* sport 40000 */
	tcp[2] = 0x14;
	tcp[3] = 0x51;		/* dport 5201 */
	tcp[4] = 0xff;		/* seq near the wrap */
	tcp[5] = 0xff;
	tcp[6] = 0xf0;
	tcp[7] = 0x00;
	tcp[11] = 7;		/* ack */
	tcp[12] = (thl / 4) << 4;
	tcp[13] = flags;
	tcp[14] = 0x01;		/* window */
	tcp[20] = 1;
	tcp[21] = 1;
	tcp[22] = 8;		/* timestamp option */
	tcp[23] = 10;
	tcp[27] = 9;
	memcpy(tcp + thl, payload, plen);
	/* as the kernel leaves it: the pseudo-header sum, not inverted */
	sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	sum += 6;	/* length excluded for GSO, as Linux does */
	tcp[16] = (~csum_fold(sum) >> 8) & 0xff;
	tcp[17] = ~csum_fold(sum) & 0xff;
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = l4 + thl;
	vh.gso_size = mss;
	vh.csum_start = l4;
	vh.csum_offset = 16;
	memcpy(buf, &vh, sizeof(vh));
	return VNET_HDR_LEN + n;
}

/*
 * A change in one header byte of the next segment that must stop GRO:
 * offsets into the IPv4 or IPv6 header, or 100 + an offset into TCP;
 * 0 where the field does not exist in that family.
 */
static const struct {
	const char	*what;
	size_t		 off4, off6;
	uint8_t		 bits;
} gro_diffs[] = {
	{ "another TOS / traffic class", 1, 1, 0x10 },
	{ "another IPv6 flow label", 0, 3, 0x01 },
	{ "another TTL / hop limit", 8, 7, 0x01 },
	{ "another DF bit", 6, 0, 0x40 },
	{ "another ACK number", 108, 108, 0x01 },
	{ "another window", 115, 115, 0x01 },
	{ "other TCP options", 120, 120, 0x01 },
	{ "FIN", 113, 113, 0x01 },
	{ "RST", 113, 113, 0x04 },
	{ "URG", 113, 113, 0x20 },
	{ "another destination address", 19, 39, 0x01 },
};

/* Finish the train and gather its vectors as writev would: the bytes. */
static size_t
gro_flat(struct gro *g, uint8_t *out)
{
	struct iovec	*iov;
	size_t		 n, off = 0;
	int		 cnt, i;

	if ((cnt = gro_finish(g, &iov, &n)) == 0)
		return 0;
	for (i = 0; i < cnt; i++) {
		memcpy(out + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return off == n ? n : 0;
}

static void
check_family(int v6)
{
	static uint8_t	 buf[VNET_HDR_LEN + 65536], payload[60000], join[60000];
	static uint8_t	 flat[VNET_HDR_LEN + 65536];
	static struct segs keep;
	static struct segs s;
	static struct gro g;
	struct virtio_net_hdr vh;
	uint8_t		*out;
	size_t		 n, plen = 20000, l4 = v6 ? 40 : 20, hl = l4 + 32, off;
	uint16_t	 mss = 1368;
	int		 i, k, good_ip = 1, good_tcp = 1, good_seq = 1;
	int		 good_flags = 1, good_id = 1, good_len = 1;
	const char	*fam = v6 ? "IPv6" : "IPv4";

	for (n = 0; n < plen; n++)
		payload[n] = (uint8_t)(n * 7 + 3);
	n = make_tso(buf, v6, payload, plen, mss, 0x18 /* ACK|PSH */);
	memset(&s, 0, sizeof(s));
	k = offload_tso(buf, n, collect, &s);
	is_int(k, (int)((plen + mss - 1) / mss), "%s: %d segments", fam, k);
	is_int(s.n, k, "%s: every segment emitted", fam);
	for (i = 0, off = 0; i < s.n; i++) {
		uint8_t	*p = s.pkt[i], *tcp = p + l4;
		size_t	 seglen = s.len[i] - hl;

		if (v6 ? rd16(p + 4) != s.len[i] - 40 : rd16(p + 2) != s.len[i])
			good_len = 0;
		if (!v6 && csum_fold(csum_add(0, p, 20)) != 0)
			good_ip = 0;
		if (!v6 && rd16(p + 4) != 0x1234 + i)
			good_id = 0;
		if (!tcp_csum_ok(p, s.len[i], v6))
			good_tcp = 0;
		if (rd32(tcp + 4) != (uint32_t)(0xfffff000U + off))
			good_seq = 0;
		if ((i == s.n - 1) != ((tcp[13] & 0x08) != 0))
			good_flags = 0;
		memcpy(join + off, tcp + 32, seglen);
		off += seglen;
	}
	ok(good_len, "%s: IP lengths", fam);
	if (!v6) {
		ok(good_ip, "%s: IP header checksums", fam);
		ok(good_id, "%s: IP ids increase", fam);
	}
	ok(good_tcp, "%s: TCP checksums verify", fam);
	ok(good_seq, "%s: sequence numbers follow (across the wrap)", fam);
	ok(good_flags, "%s: PSH only on the last segment", fam);
	is_int(off, plen, "%s: payload length preserved", fam);
	ok(memcmp(join, payload, plen) == 0, "%s: payload preserved", fam);

	/* GRO: the segments coalesce back into one packet */
	memset(&g, 0, sizeof(g));
	memcpy(&keep, &s, sizeof(s));
	ok(gro_start(&g, s.pkt[0], s.len[0], (void *)1),
	    "%s: GRO starts a train", fam);
	for (i = 1, k = 1; i < s.n; i++)
		k &= gro_append(&g, s.pkt[i], s.len[i],
		    (void *)(intptr_t)(i + 1));
	ok(k, "%s: every segment appended", fam);
	n = gro_flat(&g, out = flat);
	for (i = 0, k = g.nref == s.n; i < g.nref; i++)
		k &= g.ref[i] == (void *)(intptr_t)(i + 1);
	ok(k, "%s: finish hands back every segment's reference, in order",
	    fam);
	ok(memcmp(&keep, &s, sizeof(s)) == 0,
	    "%s: the segments themselves are not written (gathered, no copy)",
	    fam);
	is_int(n, VNET_HDR_LEN + hl + plen, "%s: coalesced length", fam);
	memcpy(&vh, out, sizeof(vh));
	is_int(vh.gso_size, mss, "%s: gso_size is the MSS", fam);
	is_int(vh.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
	    VIRTIO_NET_HDR_GSO_TCPV4, "%s: gso_type", fam);
	ok(vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, "%s: checksum partial", fam);
	ok(memcmp(out + VNET_HDR_LEN + hl, payload, plen) == 0,
	    "%s: coalesced payload", fam);
	if (!v6)
		ok(csum_fold(csum_add(0, out + VNET_HDR_LEN, 20)) == 0,
		    "%s: coalesced IP checksum", fam);
	is_int(gro_flat(&g, flat), 0, "%s: finish empties the train", fam);

	/* GRO refuses what is not the next segment of the same flow */
	ok(gro_start(&g, s.pkt[0], s.len[0], NULL), "%s: restart", fam);
	ok(!gro_append(&g, s.pkt[2], s.len[2], NULL), "%s: a gap is refused",
	    fam);
	s.pkt[1][l4 + 1] ^= 1;		/* another source port */
	ok(!gro_append(&g, s.pkt[1], s.len[1], NULL),
	    "%s: another flow refused", fam);
	s.pkt[1][l4 + 1] ^= 1;
	s.pkt[1][l4 + 13] |= 0x02;	/* SYN */
	ok(!gro_append(&g, s.pkt[1], s.len[1], NULL), "%s: SYN refused", fam);
	s.pkt[1][l4 + 13] &= ~0x02;
	/* whatever differs but the payload and sequence ends the train */
	for (i = 0; i < (int)nitems(gro_diffs); i++) {
		off = v6 ? gro_diffs[i].off6 : gro_diffs[i].off4;
		if (off == 0)
			continue;
		if (off >= 100)
			off = l4 + off - 100;
		s.pkt[1][off] ^= gro_diffs[i].bits;
		ok(!gro_append(&g, s.pkt[1], s.len[1], NULL), "%s: %s refused",
		    fam, gro_diffs[i].what);
		s.pkt[1][off] ^= gro_diffs[i].bits;
	}
	/* a segment longer than the train's first (its MSS) */
	ok(!gro_append(&g, s.pkt[0], s.len[0] + 1, NULL),
	    "%s: a longer segment refused", fam);
	ok(gro_append(&g, s.pkt[1], s.len[1], NULL), "%s: the next one taken",
	    fam);
	(void)gro_flat(&g, flat);
}


/* A plain TCP segment: IPv4 or IPv6, thl bytes of TCP header, plen bytes. */
static size_t
mkseg(uint8_t *p, int v6, size_t thl, size_t plen, uint32_t seq,
    uint8_t flags)
{
	size_t	l4 = v6 ? 40 : 20, n = l4 + thl + plen;

	memset(p, 0, l4 + thl);
	if (v6) {
		p[0] = 0x60;
		p[4] = (n - 40) >> 8;
		p[5] = (n - 40) & 0xff;
		p[6] = 6;
		p[7] = 64;
	} else {
		p[0] = 0x45;
		p[2] = n >> 8;
		p[3] = n & 0xff;
		p[8] = 64;
		p[9] = 6;
	}
	p[l4 + 4] = seq >> 24;
	p[l4 + 5] = seq >> 16;
	p[l4 + 6] = seq >> 8;
	p[l4 + 7] = seq;
	p[l4 + 12] = (thl / 4) << 4;
	p[l4 + 13] = flags;
	memset(p + l4 + thl, 0x5a, plen);
	return n;
}

/* Train bounds: segments, bytes, MSS, header length, PSH carried. */
static void
gro_bounds(void)
{
	static uint8_t	 seg[70][1200], big[6][13099 + 40];
	static struct gro g;
	struct iovec	*iov;
	size_t		 n, len;
	uint32_t	 seq = 1000;
	int		 i, taken = 0, cnt;

	memset(&g, 0, sizeof(g));
	n = mkseg(seg[0], 0, 20, 100, seq, 0x10);
	ok(gro_start(&g, seg[0], n, (void *)1), "bounds: start, 100 bytes");
	for (i = 1; i < 70; i++) {
		seq += 100;
		n = mkseg(seg[i], 0, 20, 100, seq, 0x10);
		taken += gro_append(&g, seg[i], n, (void *)(intptr_t)(i + 1));
	}
	is_int(taken, GRO_SEGS - 1, "bounds: a train holds %d segments",
	    GRO_SEGS);
	cnt = gro_finish(&g, &iov, &len);
	is_int(cnt, GRO_SEGS + 1, "bounds: %d vectors", GRO_SEGS + 1);
	is_int(g.nref, GRO_SEGS, "bounds: %d references", GRO_SEGS);
	ok(g.ref[0] == (void *)1 && g.ref[GRO_SEGS - 1] ==
	    (void *)(intptr_t)GRO_SEGS, "bounds: the references intact");

	/* 5 x 13099 + 40 = 65535 exactly; one byte more refused */
	seq = 7;
	for (i = 0; i < 6; i++)
		(void)mkseg(big[i], 0, 20, i < 5 ? 13099 : 1,
		    seq + 13099 * (uint32_t)i, 0x10);
	ok(gro_start(&g, big[0], 13099 + 40, NULL), "bounds: start 13099");
	for (i = 1, taken = 0; i < 5; i++)
		taken += gro_append(&g, big[i], 13099 + 40, NULL);
	is_int(taken, 4, "bounds: up to 65535 bytes taken");
	is_int(gro_append(&g, big[5], 1 + 40, NULL), 0,
	    "bounds: the 65536th byte refused");
	(void)gro_finish(&g, &iov, &len);
	is_int(len, VNET_HDR_LEN + 65535, "bounds: 65535 bytes written");

	/* a segment longer than the first (the MSS), well formed */
	n = mkseg(seg[0], 1, 20, 1000, 50, 0x10);
	ok(gro_start(&g, seg[0], n, NULL), "bounds: IPv6 start, 1000 bytes");
	n = mkseg(seg[1], 1, 20, 1001, 1050, 0x10);
	is_int(gro_append(&g, seg[1], n, NULL), 0,
	    "bounds: a 1001-byte segment refused (gso_size 1000)");
	/* another TCP header length, options all zero as the head's past it */
	n = mkseg(seg[1], 1, 32, 1000, 1050, 0x10);
	is_int(gro_append(&g, seg[1], n, NULL), 0,
	    "bounds: another TCP header length refused");
	/* a PSH segment ends the train and the head carries PSH */
	n = mkseg(seg[1], 1, 20, 1000, 1050, 0x18);
	ok(gro_append(&g, seg[1], n, NULL), "bounds: a PSH segment taken");
	(void)gro_finish(&g, &iov, &len);
	ok(((uint8_t *)iov[0].iov_base)[VNET_HDR_LEN + 40 + 13] & 0x08,
	    "bounds: the coalesced head carries PSH");
}

/* RFC 1071 as written: big-endian 16-bit words, one at a time. */
static uint16_t
csum_ref(const uint8_t *p, size_t len)
{
	uint64_t	sum = 0;
	size_t		i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* csum_add against the reference at every length and alignment. */
static int
csum_check(void)
{
	static uint8_t	 buf[2100];
	size_t		 len, off, i;
	int		 bad = 0, fill;

	for (fill = 0; fill < 2; fill++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = fill ? 0xff : (uint8_t)(i * 131 + (i >> 5));
		for (len = 0; len <= 2048; len++)
			for (off = 0; off < 4; off++)
				if (csum_fold(csum_add(0, buf + off, len)) !=
				    csum_ref(buf + off, len))
					bad++;
	}
	return bad;
}

int
main(void)
{
	static uint8_t		 buf[VNET_HDR_LEN + 65536];
	static struct segs	 s;
	struct virtio_net_hdr	 vh;
	uint8_t			 udp[64], *ip;
	int			 i, r, bad = 0, emitted = 0;
	size_t			 n;

	plan(98 + 14);
	gro_bounds();
	check_family(0);
	check_family(1);

	/* a plain packet with a partial checksum gets it finished */
	memset(buf, 0, sizeof(buf));
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = 20;
	vh.csum_offset = 6;
	memcpy(buf, &vh, sizeof(vh));
	ip = buf + VNET_HDR_LEN;
	ip[0] = 0x45;
	ip[3] = 48;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	ip[25] = 28;			/* UDP length */
	for (i = 28; i < 48; i++)
		ip[i] = i;
	{
		uint32_t sum = csum_add(0, ip + 12, 8) + 17 + 28;

		ip[26] = ~csum_fold(sum) >> 8;
		ip[27] = ~csum_fold(sum) & 0xff;
	}
	memset(&s, 0, sizeof(s));
	r = offload_tso(buf, VNET_HDR_LEN + 48, collect, &s);
	is_int(r, 1, "plain packet passes through");
	memcpy(udp, s.pkt[0], 48);
	{
		uint32_t sum = csum_add(0, udp + 12, 8) + 17 + 28;

		sum = csum_add(sum, udp + 20, 28);
		ok(csum_fold(sum) == 0, "its UDP checksum is finished");
	}

	/* malformed headers: refused, nothing emitted */
	memset(&s, 0, sizeof(s));
	is_int(offload_tso(buf, 5, collect, &s), -1, "short read refused");
	n = make_tso(buf, 0, buf + 4000, 3000, 0, 0x10);
	is_int(offload_tso(buf, n, collect, &s), -1, "gso_size 0 refused");
	n = make_tso(buf, 0, buf + 4000, 3000, 1000, 0x10);
	((struct virtio_net_hdr *)buf)->csum_start = 60000;
	is_int(offload_tso(buf, n, collect, &s), -1, "csum_start past end");
	n = make_tso(buf, 0, buf + 4000, 3000, 1000, 0x10);
	((struct virtio_net_hdr *)buf)->gso_type = VIRTIO_NET_HDR_GSO_UDP;
	is_int(offload_tso(buf, n, collect, &s), -1, "UFO refused");
	is_int(s.n, 0, "nothing emitted for malformed input");

	/* random headers and bodies: never a crash (run under ASan) */
	srandom(7);
	for (i = 0; i < 20000; i++) {
		size_t	j;

		n = random() % 2000;
		for (j = 0; j < n; j++)
			buf[j] = random();
		if (n >= VNET_HDR_LEN && i % 2) {
			((struct virtio_net_hdr *)buf)->gso_type =
			    VIRTIO_NET_HDR_GSO_TCPV4 + (i % 4 == 1) * 3;
			((struct virtio_net_hdr *)buf)->csum_start = random() % 80;
			((struct virtio_net_hdr *)buf)->gso_size = random() % 1500;
			buf[VNET_HDR_LEN] = i % 4 == 1 ? 0x60 : 0x45;
		}
		memset(&s, 0, sizeof(s));
		r = offload_tso(buf, n, collect, &s);
		/* -1 emits nothing; else exactly r, none longer than the input */
		if ((r == -1 && s.calls != 0) || (r >= 0 && s.calls != r) ||
		    (s.calls > 0 && s.maxlen > n - VNET_HDR_LEN))
			bad++;
		else if (r > 0)
			emitted++;
	}
	is_int(bad, 0, "20000 random packets: -1 emits nothing, else exactly "
	    "what is returned, none longer than the input");
	ok(emitted > 0, "some random packets were emitted (%d)", emitted);

	/*
	 * GRO bounds: an IPv6 segment whose payload length is 65535 is
	 * 65575 bytes, more than a train holds; it must not be started,
	 * and nothing may be appended past GRO_MAX.
	 */
	{
		static uint8_t	 big[65535 + 40];
		struct gro	*g;

		if ((g = calloc(1, sizeof(*g))) == NULL)
			abort();
		big[0] = 0x60;
		big[4] = 0xff;
		big[5] = 0xff;
		big[6] = 6;
		big[40 + 12] = 0x50;		/* TCP header, 20 bytes */
		big[40 + 13] = 0x10;		/* ACK */
		is_int(gro_start(g, big, sizeof(big), NULL), 0,
		    "GRO refuses a 65575-byte IPv6 segment");
		is_int(g->nseg, 0, "no train started");
		big[4] = (65535 - 40 - 40) >> 8;	/* one that fits */
		big[5] = (65535 - 40 - 40) & 0xff;
		is_int(gro_start(g, big, 65535 - 40, NULL), 1,
		    "a 65495-byte segment starts a train");
		is_int(gro_append(g, big, 65535 - 40, NULL), 0,
		    "appending past GRO_MAX refused");
		free(g);
	}
	/* UDP GRO: a coalesced datagram's segments */
	is_int(udp_gro_count(160, 0, 1600, 64), 1, "GRO: no size, one datagram");
	is_int(udp_gro_count(1600, 0, 1600, 64), 1, "GRO: one of maxseg bytes");
	is_int(udp_gro_count(1601, 0, 1600, 64), 0,
	    "GRO: one larger than a buffer, no size: dropped");
	is_int(udp_gro_count(0, 0, 1600, 64), 0, "GRO: empty: dropped");
	is_int(udp_gro_count(1600, 160, 1600, 64), 10, "GRO: 10 x 160");
	is_int(udp_gro_count(1500, 160, 1600, 64), 10,
	    "GRO: 9 x 160 and a short last one");
	is_int(udp_gro_count(161, 160, 1600, 64), 2,
	    "GRO: a last segment of one byte");
	is_int(udp_gro_count(160, 160, 1600, 64), 1,
	    "GRO: a size equal to the datagram: one");
	is_int(udp_gro_count(100, 160, 1600, 64), 1,
	    "GRO: a size larger than the datagram: one");
	is_int(udp_gro_count(64 * 1500, 1601, 1600, 64), 0,
	    "GRO: a segment larger than a buffer: dropped");
	is_int(udp_gro_count(65 * 100, 100, 1600, 64), 0,
	    "GRO: more segments than allowed: dropped");
	is_int(udp_gro_count(64 * 100, 100, 1600, 64), 64,
	    "GRO: exactly the allowed segments");
	is_int(udp_gro_count(1000, -1, 1600, 64), 0,
	    "GRO: a negative size: dropped");
	is_int(csum_check(), 0, "the checksum sum as RFC 1071's at every "
	    "length 0..2048 and alignment, carries included");
	return done_testing();
}

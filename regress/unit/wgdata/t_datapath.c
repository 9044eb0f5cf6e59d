/*
 * t_datapath.c -- tunworker's packet threads between two datapaths in one
 * process: a datagram socketpair stands in for each TUN device, UDP on
 * 127.0.0.1 for the network.  Packets written before any session exists
 * are staged and delivered, all and in order, once the handshake is done
 * (and past DP_STAGED_MAX only the newest are kept); the threads pause
 * and resume around a peer's removal; a TUN that stops draining exhausts
 * the receive pool without a deadlock, and traffic resumes once it drains;
 * while the pool is exhausted udp-rx stops reading rather than dropping,
 * so a burst the socket buffer can hold arrives whole and in order, with
 * UDP GRO (coalesced datagrams split back into packets) and without.
 * Lone packets B receives make its udp-rx write them to the TUN itself
 * and read the TUN right after (the latency path) while tun-rx reads it
 * too: a stream from B's TUN still arrives whole and in order. A GSO
 * datagram of more segments than receive GRO makes (a sender on the same
 * host's, up to the kernel's UDP_MAX_SEGMENTS) arrives whole as well.
 * With TUN offloads, a TCP burst past the receive pool comes out of B's
 * TUN coalesced into trains, each byte as sent (the buffers a train
 * gathers from are not reused before its write). Quiet, a side's udp-rx
 * reads its TUN (lone packets, tun-rx asleep); a burst makes it busy
 * (tun-rx reads) and arrives in order across the change; some time
 * after it the side is quiet again. A burst from the network makes the
 * receiver busy, junk does not. A TUN that dies (POLLHUP) is seen, and
 * no thread spins on it; a blocking TUN is read once per wake-up, so the
 * data path still stops.
 * Every wait is a poll with a deadline; alarm() bounds the whole file.
 */
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include <sodium.h>

#include "config.h"
#include "datapath.h"
#include "wg.h"
#include "tap.h"

#define MTU		1420
#define PKTLEN		120
#define WAIT_MS		15000

struct side {
	struct datapath		*dp;
	int			 tun;	/* the test's end of the "TUN" */
	int			 dptun;	/* the datapath's end */
	struct sockaddr_storage	 addr;
	uint8_t			 priv[32], pub[32];
	struct wg_peer		*peer;
};

static struct side	 A, B;
static bool		 side_vnet;	/* the next side's TUN has offloads */

static void	 notify(const uint8_t [32], int);
static void	 side_new(struct side *, bool);
static void	 link_sides(void);
static void	 sides_free(void);
static void	 sides_up(bool, bool, int, const char *);
static size_t	 mkpkt(uint8_t *, const char *, const char *, uint32_t);
static bool	 put(struct side *, const char *, const char *, uint32_t);
static int	 take(struct side *, uint32_t *, int);
static int	 collect(struct side *, uint32_t *, int, int);
static bool	 in_order(const uint32_t *, int, uint32_t, int);
static void	 wait_tun_read(struct side *);
static void	*stream_writer(void *);
static void	*pinger(void *);
static void	*stream_writer_a(void *);
static void	*collector_b(void *);
static int	 gso_burst(int, uint32_t);
static void	 tcp_gro(void);
static void	 tun_gone(void);
static void	 idle_sleeps(void);
static void	 activity(int);
static void	 gro_full_receive(void);
static void	 dead_tun_dropped(void);
static void	 udp_busy(void);
static void	 blocking_tun(void);
static void	*sides_free_thread(void *);

#define STREAM_N	3000
static _Atomic int	 stream_done;

static void
notify(const uint8_t key[32], int ev)
{
}

/* A datapath with a socketpair TUN and a UDP socket on 127.0.0.1. */
static void
side_new(struct side *s, bool tun_blocks)
{
	int		 sv[2], u, fl, rb = 4 << 20;
	socklen_t	 sl = sizeof(s->addr);
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;

	memset(s, 0, sizeof(*s));
	if ((s->dp = dp_new(MTU, notify)) == NULL)
		abort();
	crypto_box_keypair(s->pub, s->priv);
	if (wg_device_set_private_key(dp_device(s->dp), s->priv) == -1)
		abort();
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		abort();
	/*
	 * tun-rx reads until EAGAIN, as on a real TUN.  A blocking one
	 * stands for a TUN that stops draining: tun-tx's write blocks (the
	 * test never writes into that side, so tun-rx never reads it).
	 */
	fl = fcntl(sv[0], F_GETFL);
	if (!tun_blocks)
		fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
	dp_set_tun(s->dp, sv[0], side_vnet);
	s->dptun = sv[0];
	s->tun = sv[1];
	if ((u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	/* as the parent's sockets: room for a burst past the pool */
	if (setsockopt(u, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) == -1)
		(void)setsockopt(u, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	memset(&s->addr, 0, sizeof(s->addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(u, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(u, (struct sockaddr *)&s->addr, &sl) == -1)
		abort();
	dp_set_udp(s->dp, AF_INET, u);
}

/* A knows B's endpoint; B learns A's from the handshake. */
static void
link_sides(void)
{
	struct prefix	 pa, pb;

	if (prefix_parse("10.9.0.1/32", &pa) == -1 ||
	    prefix_parse("10.9.0.2/32", &pb) == -1)
		abort();
	A.peer = wg_peer_add(dp_device(A.dp), B.pub);
	B.peer = wg_peer_add(dp_device(B.dp), A.pub);
	if (A.peer == NULL || B.peer == NULL)
		abort();
	wg_peer_set_endpoint(A.peer, &B.addr);
	if (wg_peer_add_allowedip(dp_device(A.dp), A.peer, &pb) == -1 ||
	    wg_peer_add_allowedip(dp_device(B.dp), B.peer, &pa) == -1)
		abort();
	dp_peer_attach(A.dp, A.peer);
	dp_peer_attach(B.dp, B.peer);
}

/*
 * A and B anew (a_blocks, b_blocks: the datapath's end of each TUN
 * blocks; gro: B's UDP GRO, -1 as it comes), started, and a first packet
 * through: the session is up.
 */
static void
sides_up(bool a_blocks, bool b_blocks, int gro, const char *what)
{
	uint32_t	 seq;

	side_new(&A, a_blocks);
	side_new(&B, b_blocks);
	if (gro != -1)
		dp_set_udp_gro(B.dp, gro);
	link_sides();
	ok(dp_start(A.dp) == 0 && dp_start(B.dp) == 0, "%s: started", what);
	put(&A, "10.9.0.1", "10.9.0.2", 0);
	is_int(collect(&B, &seq, 1, 0), 1, "%s: session up", what);
}

static void
sides_free(void)
{
	dp_free(A.dp);
	dp_free(B.dp);
	close(A.tun);
	close(B.tun);
}

/* An IPv4/UDP-looking packet carrying seq. */
static size_t
mkpkt(uint8_t *b, const char *src, const char *dst, uint32_t seq)
{
	memset(b, 0, PKTLEN);
	b[0] = 0x45;
	b[2] = PKTLEN >> 8;
	b[3] = PKTLEN & 0xff;
	b[8] = 64;
	b[9] = 17;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	memcpy(b + 28, &seq, sizeof(seq));
	memset(b + 32, (int)(seq & 0xff), PKTLEN - 32);
	return PKTLEN;
}

static bool
put(struct side *s, const char *src, const char *dst, uint32_t seq)
{
	uint8_t	 b[PKTLEN];

	mkpkt(b, src, dst, seq);
	return write(s->tun, b, PKTLEN) == PKTLEN;
}

/*
 * One packet from the side's TUN within ms: 1 and its seq, 0 on timeout,
 * -1 if it is not exactly what put() wrote.
 */
static int
take(struct side *s, uint32_t *seq, int ms)
{
	struct pollfd	 pfd = { s->tun, POLLIN, 0 };
	uint8_t		 b[2048], want[PKTLEN];
	ssize_t		 n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if ((n = read(s->tun, b, sizeof(b))) != PKTLEN)
		return -1;
	memcpy(seq, b + 28, sizeof(*seq));
	mkpkt(want, "10.9.0.1", "10.9.0.2", *seq);
	if (memcmp(b + 12, want + 12, 8) != 0)
		mkpkt(want, "10.9.0.2", "10.9.0.1", *seq);
	return memcmp(b, want, PKTLEN) == 0 ? 1 : -1;
}

/* Up to max packets; stops after a quiet ms.  Returns the count or -1. */
static int
collect(struct side *s, uint32_t *seqs, int max, int ms)
{
	int	 n = 0, r;

	while (n < max && (r = take(s, &seqs[n], n == 0 ? WAIT_MS : ms)) != 0)
		if (r == -1)
			return -1;
		else
			n++;
	return n;
}

/* seqs[0..n) are first, first+1, ... */
static bool
in_order(const uint32_t *seqs, int n, uint32_t first, int want)
{
	int	 i;

	if (n != want)
		return false;
	for (i = 0; i < n; i++)
		if (seqs[i] != first + (uint32_t)i)
			return false;
	return true;
}

/*
 * dp_tx_inline(dp) once it reaches want, within WAIT_MS: udp-rx counts
 * its TUN reads after it sent them, so after the packet arrived.
 */
static uint64_t
inline_reaches(struct datapath *dp, uint64_t want)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	int		 i;

	for (i = 0; i < WAIT_MS && dp_tx_inline(dp) < want; i++)
		(void)poll(&pfd, 0, 1);
	return dp_tx_inline(dp);
}

/* Until tun-rx has read everything written to the side's TUN. */
static void
wait_tun_read(struct side *s)
{
	struct pollfd	 pfd;
	int		 i, pending;

	for (i = 0; i < WAIT_MS; i++) {
		if (ioctl(s->tun, SIOCOUTQ, &pending) == -1)
			abort();
		if (pending == 0)
			return;
		pfd.fd = -1;
		poll(&pfd, 0, 1);
	}
}

/* B's stream to A, paced: 1 .. STREAM_N from B's TUN. */
static void *
stream_writer(void *arg)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	uint32_t	 seq;

	for (seq = 1; seq <= STREAM_N; seq++) {
		while (!put(&B, "10.9.0.2", "10.9.0.1", seq))
			(void)poll(&pfd, 0, 1);	/* the queue is full */
		if (seq % 4 == 0)
			(void)poll(&pfd, 0, 1);
	}
	return NULL;
}

/* A's stream to B, paced as B's: 100001 .. 100000 + STREAM_N. */
static void *
stream_writer_a(void *arg)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	uint32_t	 seq;

	for (seq = 100001; seq <= 100000 + STREAM_N; seq++) {
		while (!put(&A, "10.9.0.1", "10.9.0.2", seq))
			(void)poll(&pfd, 0, 1);
		if (seq % 4 == 0)
			(void)poll(&pfd, 0, 1);
	}
	return NULL;
}

/* What arrives at B's TUN, into arg (STREAM_N + 10 seqs); the count. */
static int	 got_b_n;

static void *
collector_b(void *arg)
{
	got_b_n = collect(&B, arg, STREAM_N + 10, 2000);
	return NULL;
}

/*
 * Lone packets from A to B while the stream runs (each one makes B's
 * udp-rx write it and then read B's TUN); B's TUN is drained of them.
 */
static void *
pinger(void *arg)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	uint8_t		 b[2048];
	uint32_t	 seq = 0;

	while (!stream_done) {
		(void)put(&A, "10.9.0.1", "10.9.0.2", 70000 + seq++);
		(void)poll(&pfd, 0, 1);
		while (recv(B.tun, b, sizeof(b), MSG_DONTWAIT) > 0)
			;
	}
	return NULL;
}

/*
 * n of A's packets to B, seq first.., sealed here with A's session and
 * sent as one GSO datagram (UDP_SEGMENT) from a socket of the test's own.
 * -1 if the kernel refuses so many segments.
 */
static int
gso_burst(int n, uint32_t first)
{
	static uint8_t		 big[65536];
	uint8_t			 pkt[PKTLEN], out[PKTLEN + 64];
	struct sockaddr_storage	 dst;
	struct sockaddr_in	 me;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*c;
	union {
		char		 b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	 a;
	}			 cm;
	size_t			 len = 0, olen = 0;
	uint16_t		 seg;
	int			 i, s, r;

	for (i = 0; i < n; i++) {
		mkpkt(pkt, "10.9.0.1", "10.9.0.2", first + (uint32_t)i);
		if (wg_encrypt(A.peer, pkt, PKTLEN, out, &olen, &dst) !=
		    WG_OK || len + olen > sizeof(big))
			abort();
		memcpy(big + len, out, olen);
		len += olen;
	}
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) == -1)
		abort();
	seg = (uint16_t)olen;
	iov.iov_base = big;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &B.addr;
	mh.msg_namelen = sizeof(struct sockaddr_in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	r = sendmsg(s, &mh, 0) == (ssize_t)len ? 0 : -1;
	close(s);
	return r;
}

/*
 * TUN offloads on both sides (a virtio_net_hdr before every packet, as
 * with IFF_VNET_HDR): A's TUN hands it a burst of one TCP flow's
 * segments, more than B's receive pool; B's tun-tx coalesces them into
 * trains written with one writev each, gathered from the pool buffers
 * that hold them. Those buffers must not go back to udp-rx before the
 * write: B's TUN blocks (written only as fast as the test reads), so
 * udp-rx runs out of buffers and reuses each one as soon as it is back.
 * The byte stream that comes out must be the one that went in.
 */
#define GRO_SEGS_N	(DP_POOL + 1500)
#define GRO_MSS		1000

static uint8_t
gro_byte(uint32_t off)
{
	return (uint8_t)(off * 2654435761U >> 13);
}

static void
tcp_gro(void)
{
	static uint8_t	 b[65536 + 64];
	struct virtio_net_hdr vh;
	uint8_t		*p, *tcp;
	uint32_t	 seq, want = 0;
	size_t		 n, l4 = 20, hl = 40, i, plen;
	int		 sent, okay = 1, trains = 0, dgrams = 0, bad = 0, r;
	struct pollfd	 pfd;

	side_vnet = true;
	side_new(&A, false);
	side_new(&B, true);
	side_vnet = false;
	link_sides();
	ok(dp_start(A.dp) == 0 && dp_start(B.dp) == 0, "TUN GRO: started");
	pfd.fd = B.tun;
	pfd.events = POLLIN;
	for (sent = 0; sent < GRO_SEGS_N; sent++) {
		if (sent == 1) {
			/* the first one brings the session up: wait for it */
			if (poll(&pfd, 1, WAIT_MS) <= 0 ||
			    read(B.tun, b, sizeof(b)) !=
			    (ssize_t)(sizeof(vh) + hl + GRO_MSS))
				bad++;
			want = GRO_MSS;
		}
		memset(b, 0, sizeof(vh));	/* no offload on this one */
		p = b + sizeof(vh);
		memset(p, 0, hl);
		p[0] = 0x45;
		p[2] = (hl + GRO_MSS) >> 8;
		p[3] = (hl + GRO_MSS) & 0xff;
		p[8] = 64;
		p[9] = 6;
		inet_pton(AF_INET, "10.9.0.1", p + 12);
		inet_pton(AF_INET, "10.9.0.2", p + 16);
		tcp = p + l4;
		tcp[1] = 80;
		tcp[3] = 80;
		seq = (uint32_t)sent * GRO_MSS;
		tcp[4] = seq >> 24;
		tcp[5] = seq >> 16;
		tcp[6] = seq >> 8;
		tcp[7] = seq;
		tcp[12] = 5 << 4;
		tcp[13] = 0x10;			/* ACK */
		tcp[14] = 0xff;
		for (i = 0; i < GRO_MSS; i++)
			p[hl + i] = gro_byte(seq + (uint32_t)i);
		n = sizeof(vh) + hl + GRO_MSS;
		okay &= write(A.tun, b, n) == (ssize_t)n;
	}
	ok(okay, "TUN GRO: %d segments of %d bytes written to A",
	    GRO_SEGS_N, GRO_MSS);
	/* B's pool runs out only once more than it holds has arrived */
	for (i = 0; i < 1000 && dp_rx_waits(B.dp) == 0; i++)
		usleep(10000);
	/* B's TUN: header, IP, TCP, payload; the stream rebuilt in order */
	while (bad == 0 && want < (uint32_t)GRO_SEGS_N * GRO_MSS &&
	    (r = poll(&pfd, 1, WAIT_MS)) > 0) {
		if ((r = read(B.tun, b, sizeof(b))) < (int)(sizeof(vh) + hl)) {
			bad++;
			continue;
		}
		dgrams++;
		memcpy(&vh, b, sizeof(vh));
		p = b + sizeof(vh);
		n = (size_t)r - sizeof(vh);
		if (vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
			trains++;
			if (vh.gso_size != GRO_MSS || vh.hdr_len != hl)
				bad++;
		}
		if (((size_t)p[2] << 8 | p[3]) != n)
			bad++;
		tcp = p + l4;
		seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
		    (uint32_t)tcp[6] << 8 | tcp[7];
		plen = n - hl;
		for (i = 0; i < plen; i++)
			if (p[hl + i] != gro_byte(seq + (uint32_t)i))
				break;
		if (seq != want || i != plen)
			bad++;
		want = seq + (uint32_t)plen;
	}
	/* whatever is left, so that B's tun-tx is not stuck writing */
	while (poll(&pfd, 1, 200) > 0 && read(B.tun, b, sizeof(b)) > 0)
		;
	ok(bad == 0 && want == (uint32_t)GRO_SEGS_N * GRO_MSS,
	    "TUN GRO: B's TUN gets the whole stream, every byte as sent, in "
	    "order (%u of %u bytes)", want, (uint32_t)GRO_SEGS_N * GRO_MSS);
	ok(trains > 0 && dgrams < GRO_SEGS_N,
	    "TUN GRO: coalesced into trains (%d writes, %d of them trains, "
	    "for %d segments)", dgrams, trains, GRO_SEGS_N);
	ok(dp_rx_waits(B.dp) > 0,
	    "TUN GRO: udp-rx ran out of buffers meanwhile (%ju)",
	    (uintmax_t)dp_rx_waits(B.dp));
	sides_free();
}

int
main(void)
{
	uint32_t	 seqs[4096];
	int		 i, n, sent, okay, gro;

	if (sodium_init() == -1)
		abort();
	alarm(120);
#ifdef DP_SMALL_POOL
	plan(5);
	gro_full_receive();
	return done_testing();
#endif
	plan(133);

	/* Staged before the handshake: all of them, in order. */
	side_new(&A, false);
	side_new(&B, false);
	link_sides();
	ok(dp_ready(A.dp) && dp_ready(B.dp), "both datapaths ready");
	ok(dp_start(A.dp) == 0 && dp_start(B.dp) == 0, "threads started");
	for (i = okay = 0; i < 10; i++)
		okay += put(&A, "10.9.0.1", "10.9.0.2", 100 + i);
	is_int(okay, 10, "10 packets written before any session");
	n = collect(&B, seqs, 20, 500);
	ok(in_order(seqs, n, 100, 10),
	    "staged: all 10 delivered after the handshake, in order (%d)", n);
	ok(dp_active_take(A.dp), "staged: sending them is the tunnel carrying "
	    "data (vpnd -l)");
	for (i = okay = 0; i < 50; i++)
		okay += put(&B, "10.9.0.2", "10.9.0.1", 1000 + i);
	n = collect(&A, seqs, 60, 500);
	ok(okay == 50 && in_order(seqs, n, 1000, 50),
	    "and the way back: 50 in order");

	/* Quiesce: the threads pause; what waits goes out on resume. */
	dp_quiesce(A.dp);
	ok(1, "dp_quiesce returned: both packet threads at a pause point");
	for (i = okay = 0; i < 5; i++)
		okay += put(&A, "10.9.0.1", "10.9.0.2", 200 + i);
	dp_resume(A.dp);
	n = collect(&B, seqs, 10, 500);
	ok(okay == 5 && in_order(seqs, n, 200, 5),
	    "resume: the 5 written while paused arrive, in order");
	/* What the control thread does to remove a peer. */
	dp_quiesce(A.dp);
	dp_peer_forget(A.dp, A.peer);
	wg_peer_remove(dp_device(A.dp), A.peer);
	dp_resume(A.dp);
	ok(put(&A, "10.9.0.1", "10.9.0.2", 300) &&
	    put(&B, "10.9.0.2", "10.9.0.1", 400),
	    "a peer removed while paused: traffic both ways still accepted");
	wait_tun_read(&A);
	wait_tun_read(&B);
	dp_quiesce(A.dp);
	dp_resume(A.dp);
	ok(dp_running(A.dp), "and the threads still pause and resume");
	sides_free();

	/* More than DP_STAGED_MAX staged: the newest DP_STAGED_MAX stay. */
	side_new(&A, false);
	side_new(&B, false);
	link_sides();
	ok(dp_start(A.dp) == 0, "A started, B not yet reading");
	for (i = okay = 0; i < DP_STAGED_MAX + 30; i++)
		okay += put(&A, "10.9.0.1", "10.9.0.2", 500 + i);
	is_int(okay, DP_STAGED_MAX + 30, "%d packets written",
	    DP_STAGED_MAX + 30);
	wait_tun_read(&A);
	/* tun-rx has read them all; the pause point follows the batch */
	dp_quiesce(A.dp);
	dp_resume(A.dp);
	ok(dp_start(B.dp) == 0, "B starts: A's initiation is waiting");
	n = collect(&B, seqs, DP_STAGED_MAX + 40, 500);
	ok(in_order(seqs, n, 500 + 30, DP_STAGED_MAX),
	    "staged overflow: the newest %d arrive in order (got %d, first %u)",
	    DP_STAGED_MAX, n, n > 0 ? seqs[0] : 0);
	sides_free();

	/*
	 * A burst larger than the receive pool while B's TUN is not read:
	 * udp-rx runs out of buffers and must leave the rest in its socket
	 * (which holds it) rather than read and drop it. Every packet then
	 * arrives, once, in order: a datapath that drops or reorders fails.
	 * Twice: B receiving with UDP GRO (A's GSO batches arrive coalesced
	 * and are split), and without.
	 */
	for (gro = 1; gro >= 0; gro--) {
		sides_up(false, true, gro, gro ? "burst" : "burst, no GRO");
		for (sent = 1, okay = 1; sent <= DP_POOL + 1000; sent++)
			okay &= put(&A, "10.9.0.1", "10.9.0.2", sent);
		wait_tun_read(&A);
		/*
		 * A may still be sending: B's pool is sure to run out only
		 * once more than it and B's TUN queue hold have arrived, so
		 * wait (bounded) for that before draining B's TUN.
		 */
		for (i = 0; i < 1000 && dp_rx_waits(B.dp) == 0; i++)
			usleep(10000);
		n = collect(&B, seqs, DP_POOL + 1000, 2000);
		ok(okay && in_order(seqs, n, 1, DP_POOL + 1000),
		    "burst: all %d past the pool arrive, in order (got %d)",
		    DP_POOL + 1000, n);
		ok(dp_rx_waits(B.dp) > 0,
		    "burst: udp-rx waited for buffers (%ju)",
		    (uintmax_t)dp_rx_waits(B.dp));
		if (gro)
			ok(dp_rx_coalesced(B.dp) > 0,
			    "burst: UDP GRO coalesced datagrams, split (%ju)",
			    (uintmax_t)dp_rx_coalesced(B.dp));
		else
			ok(dp_rx_coalesced(B.dp) == 0,
			    "burst: without UDP GRO nothing coalesced");
		sides_free();
	}

	/*
	 * B's TUN stops draining: its tun-tx blocks, the ring and the pool
	 * fill, udp-rx stops reading; the socket drops what it cannot hold,
	 * and nothing stalls.  Once the TUN drains,
	 * whatever was delivered is intact and in order, and fresh traffic
	 * flows again.
	 */
	sides_up(false, true, -1, "pool");
	for (sent = 1; sent < 4000; sent++)
		if (!put(&A, "10.9.0.1", "10.9.0.2", sent))
			break;
	wait_tun_read(&A);
	n = collect(&B, seqs, 4000, 1000);
	okay = n > 0;
	for (i = 1; i < n; i++)
		if (seqs[i] <= seqs[i - 1])
			okay = false;
	ok(okay, "pool: %d of %d delivered, intact, in order", n, sent - 1);
	diag("pool: %d dropped while the TUN did not drain", sent - 1 - n);
	for (i = 0; i < 20; i++)
		put(&A, "10.9.0.1", "10.9.0.2", 10000 + i);
	n = collect(&B, seqs, 30, 500);
	ok(in_order(seqs, n, 10000, 20),
	    "pool: after the TUN drained, 20 more arrive in order (%d)", n);
	sides_free();

	/*
	 * Both of B's TUN readers at once: tun-rx, and udp-rx after each
	 * lone packet it wrote itself. Only one reads at a time and sends
	 * what it read before the other reads: the stream keeps its order.
	 */
	sides_up(false, false, -1, "two readers");
	{
		pthread_t	 tw, tp;
		static uint32_t	 got[STREAM_N + 10];

		stream_done = 0;
		if (pthread_create(&tw, NULL, stream_writer, NULL) != 0 ||
		    pthread_create(&tp, NULL, pinger, NULL) != 0)
			abort();
		n = collect(&A, got, STREAM_N + 10, 2000);
		stream_done = 1;
		pthread_join(tw, NULL);
		pthread_join(tp, NULL);
		ok(in_order(got, n, 1, STREAM_N),
		    "two readers: B's stream of %d arrives whole, in order "
		    "(got %d)", STREAM_N, n);
		diag("two readers: udp-rx read %ju of B's TUN packets itself",
		    (uintmax_t)dp_tx_inline(B.dp));
	}

	sides_free();

	/*
	 * Quiet and busy. Lone packets: A's udp-rx reads A's TUN itself
	 * (tun-rx sleeps), and the mode does not change. A burst makes A
	 * busy (tun-rx polls the TUN) and arrives whole and in order across
	 * the change; a while after it A is quiet again, and a lone packet
	 * is udp-rx's to read once more. (B's TUN blocks, as in the burst
	 * above: the test reads it more slowly than tun-tx writes.)
	 */
	sides_up(false, true, -1, "quiet");
	{
		struct pollfd	 pfd = { -1, 0, 0 };
		uint64_t	 base = dp_tx_inline(A.dp);
		uint64_t	 mc = dp_mode_changes(A.dp);
		uint32_t	 seq;

		for (i = okay = 0; i < 20; i++)
			okay += put(&A, "10.9.0.1", "10.9.0.2", 1 + i) &&
			    collect(&B, &seq, 1, 0) == 1 && seq == 1 + (uint32_t)i;
		is_int(okay, 20, "quiet: 20 lone packets, each delivered");
		ok(inline_reaches(A.dp, base + 20) - base == 20 &&
		    dp_mode_changes(A.dp) == mc,
		    "quiet: A's udp-rx read them itself (%ju), no change of "
		    "mode (%ju)", (uintmax_t)(dp_tx_inline(A.dp) - base),
		    (uintmax_t)(dp_mode_changes(A.dp) - mc));
		for (sent = 0, okay = 1; sent < 500; sent++)
			okay &= put(&A, "10.9.0.1", "10.9.0.2", 1000 + sent);
		n = collect(&B, seqs, 600, 500);
		ok(okay && in_order(seqs, n, 1000, 500),
		    "busy: a burst of 500 arrives whole, in order (got %d)", n);
		ok(dp_mode_changes(A.dp) > mc, "busy: the burst made A busy");
		for (i = 0; i < 2000 && dp_mode_changes(A.dp) < mc + 2; i++)
			(void)poll(&pfd, 0, 1);
		is_int((int)(dp_mode_changes(A.dp) - mc), 2,
		    "quiet again after the burst (%d ms)", i);
		base = dp_tx_inline(A.dp);
		seq = 0;
		n = put(&A, "10.9.0.1", "10.9.0.2", 5000) ?
		    collect(&B, &seq, 1, 0) : -2;
		ok(n == 1 && seq == 5000 &&
		    inline_reaches(A.dp, base + 1) == base + 1,
		    "quiet again: A's udp-rx reads a lone packet itself "
		    "(%d, %u, %ju)", n, seq,
		    (uintmax_t)(dp_tx_inline(A.dp) - base));
	}
	sides_free();
	udp_busy();
	tun_gone();
	idle_sleeps();
	activity(1);
	activity(0);
	gro_full_receive();
	dead_tun_dropped();
	blocking_tun();
	sides_up(false, false, -1, "churn");

	/*
	 * Peers come and go (wg set add, remove): each removed peer's
	 * staging is freed then, not kept until dp_free. A packet staged for
	 * each new peer goes back to the pool with it; the long-lived peer
	 * still carries traffic afterwards.
	 */
	is_int((int)dp_npeers(A.dp), 1, "churn: one peer attached");
	for (i = 0; i < 200; i++) {
		uint8_t		 pub[WG_KEY_LEN], priv[WG_KEY_LEN];
		struct prefix	 pp;
		struct wg_peer	*wp;

		crypto_box_keypair(pub, priv);
		if (prefix_parse("10.9.1.1/32", &pp) == -1 ||
		    (wp = wg_peer_add(dp_device(A.dp), pub)) == NULL ||
		    wg_peer_add_allowedip(dp_device(A.dp), wp, &pp) == -1)
			abort();
		dp_peer_attach(A.dp, wp);
		put(&A, "10.9.0.1", "10.9.1.1", i);
		dp_quiesce(A.dp);
		dp_peer_forget(A.dp, wp);
		wg_peer_remove(dp_device(A.dp), wp);
		dp_resume(A.dp);
	}
	is_int((int)dp_npeers(A.dp), 1,
	    "churn: 200 peers added and removed, their staging freed");
	put(&A, "10.9.0.1", "10.9.0.2", 7);
	{
		uint32_t	 seq = 0;

		n = collect(&B, &seq, 1, 0);
		ok(n == 1 && seq == 7,
		    "churn: the remaining peer still gets through (%d)", n);
	}
	sides_free();

	/*
	 * Streams both ways at once: each side's udp-rx writes the other's
	 * packets and then reads its own TUN, racing its tun-rx for the
	 * same stream. Both arrive whole and in order.
	 */
	sides_up(false, false, -1, "both ways");
	{
		pthread_t	 ta, tb, tc;
		static uint32_t	 got[STREAM_N + 10], got_b[STREAM_N + 10];

		if (pthread_create(&tc, NULL, collector_b, got_b) != 0 ||
		    pthread_create(&ta, NULL, stream_writer_a, NULL) != 0 ||
		    pthread_create(&tb, NULL, stream_writer, NULL) != 0)
			abort();
		n = collect(&A, got, STREAM_N + 10, 2000);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_join(tc, NULL);
		ok(in_order(got, n, 1, STREAM_N),
		    "both ways: B's stream of %d arrives whole, in order "
		    "(got %d)", STREAM_N, n);
		ok(in_order(got_b, got_b_n, 100001, STREAM_N),
		    "both ways: A's stream of %d arrives whole, in order "
		    "(got %d)", STREAM_N, got_b_n);
		diag("both ways: udp-rx read %ju (A) and %ju (B) TUN packets "
		    "itself", (uintmax_t)dp_tx_inline(A.dp),
		    (uintmax_t)dp_tx_inline(B.dp));
	}
	sides_free();

	/*
	 * A GSO datagram of more segments than receive GRO makes (64): a
	 * sender on the same host (loopback, a veth) gets it to B unsplit,
	 * up to the kernel's UDP_MAX_SEGMENTS (128 since Linux 6.x). Every
	 * segment arrives, in order: the datagram is not dropped whole.
	 */
	side_new(&A, false);
	side_new(&B, true);
	link_sides();
	ok(dp_start(A.dp) == 0 && dp_start(B.dp) == 0,
	    "many segments: started");
	put(&A, "10.9.0.1", "10.9.0.2", 0);
	n = collect(&B, seqs, 1, 0);
	is_int(n, 1, "many segments: session up");
	if (gso_burst(100, 20000) == -1)
		skip(1, "the kernel refuses a GSO send of 100 segments");
	else {
		n = collect(&B, seqs, 120, 500);
		ok(in_order(seqs, n, 20000, 100),
		    "many segments: a GSO datagram of 100 arrives whole, in "
		    "order (got %d)", n);
	}
	sides_free();

	tcp_gro();
	return done_testing();
}

/*
 * The TUN dies (its interface deleted: every poll of it says POLLHUP or
 * POLLERR at once, every read fails): no packet thread polls it again,
 * the control thread can tell (dp_tun_gone) and take the tunnel down, and
 * the threads sleep instead of spinning. Quiet, udp-rx polled the TUN;
 * right after a burst (busy), tun-rx did.
 */
static void
tun_gone(void)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	uint32_t	 seqs[600];
	uint64_t	 w0, w1, mc = 0;
	const char	*what;
	int		 busy, i, n;

	for (busy = 0; busy < 2; busy++) {
		what = busy ? "TUN gone, busy" : "TUN gone, quiet";
		sides_up(false, true, -1, what);
		if (busy) {
			mc = dp_mode_changes(A.dp);
			for (i = 0; i < 500; i++)
				(void)put(&A, "10.9.0.1", "10.9.0.2", 1 + i);
			n = collect(&B, seqs, 500, 500);
		}
		w0 = dp_wakes(A.dp);
		if (busy)
			diag("%s: %d delivered, A %s at the shutdown", what, n,
			    (dp_mode_changes(A.dp) - mc) % 2 ? "busy" : "quiet");
		/* a dead socket polls as a dead TUN does: POLLHUP, reads fail */
		if (shutdown(A.dptun, SHUT_RDWR) == -1)
			abort();
		for (i = 0; i < WAIT_MS && !dp_tun_gone(A.dp); i++)
			(void)poll(&pfd, 0, 1);
		ok(dp_tun_gone(A.dp), "%s: the data path saw it (%d ms)",
		    what, i);
		(void)poll(&pfd, 0, 200);
		w1 = dp_wakes(A.dp);
		ok(w1 - w0 < 20, "%s: A's packet threads sleep (%ju wake-ups "
		    "in the 200 ms after)", what, (uintmax_t)(w1 - w0));
		ok(!dp_tun_gone(B.dp), "%s: B's TUN still alive", what);
		sides_free();
	}
}

/*
 * An idle tunnel wakes no packet thread: tun-tx, parked with nothing
 * queued, sleeps until udp-rx pushes (no timeout to poll out of), and
 * both rx threads sleep while quiet. A packet after the idle spell still
 * goes through, so the sleep is not a lost wake-up.
 */
static void
idle_sleeps(void)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	uint32_t	 seq;
	uint64_t	 a0, b0, a1, b1;

	sides_up(false, false, -1, "idle");
	a0 = dp_wakes(A.dp);
	b0 = dp_wakes(B.dp);
	(void)poll(&pfd, 0, 350);
	a1 = dp_wakes(A.dp);
	b1 = dp_wakes(B.dp);
	ok(a1 - a0 <= 2 && b1 - b0 <= 2, "idle: no packet thread wakes "
	    "(A %ju, B %ju wake-ups in 350 ms)", (uintmax_t)(a1 - a0),
	    (uintmax_t)(b1 - b0));
	put(&A, "10.9.0.1", "10.9.0.2", 7);
	is_int(collect(&B, &seq, 1, 0), 1, "idle: a packet after it arrives");
	sides_free();
}

/* Whether fd is readable within ms; a readable eventfd is read (cleared). */
static bool
efd_fired(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	uint64_t	 v;

	if (poll(&pfd, 1, ms) != 1)
		return false;
	return read(fd, &v, sizeof(v)) == sizeof(v);
}

/*
 * What vpnd -l watches: data sent or received sets a side's flag, taken
 * once; after a kick the next data packet signals the notify fd, once.
 * A keepalive is not the tunnel carrying anything.
 */
static void
activity(int gro)
{
	struct wg_peer_stats	 st;
	struct sockaddr_storage	 dst;
	uint8_t			 ka[WG_PAD_MULTIPLE + WG_DATA_OVERHEAD];
	size_t			 kalen = 0;
	uint64_t		 rx0;
	uint32_t		 seq;
	int			 u = -1, i;

	sides_up(false, false, gro, gro ? "activity, GRO" : "activity");
	(void)dp_active_take(A.dp);
	(void)dp_active_take(B.dp);
	ok(!dp_active_take(A.dp) && !dp_active_take(B.dp),
	    "activity: none since the last take");
	put(&A, "10.9.0.1", "10.9.0.2", 1);
	is_int(collect(&B, &seq, 1, 0), 1, "activity: a packet A to B");
	ok(dp_active_take(A.dp) && dp_active_take(B.dp),
	    "activity: the sender's flag and the receiver's are set");
	ok(!dp_active_take(A.dp) && !dp_active_take(B.dp),
	    "activity: and taken once");

	(void)efd_fired(dp_notify_fd(B.dp), 0);
	ok(!dp_active_kick(B.dp), "activity: a kick with nothing moved");
	ok(!efd_fired(dp_notify_fd(B.dp), 0), "activity: no signal yet");
	put(&A, "10.9.0.1", "10.9.0.2", 2);
	is_int(collect(&B, &seq, 1, 0), 1, "activity: the next packet");
	ok(efd_fired(dp_notify_fd(B.dp), 1000),
	    "activity: after the kick it signals the control thread");
	ok(dp_active_take(B.dp), "activity: with the flag set");
	put(&A, "10.9.0.1", "10.9.0.2", 3);
	is_int(collect(&B, &seq, 1, 0), 1, "activity: one more");
	ok(!efd_fired(dp_notify_fd(B.dp), 0), "activity: the kick was once");
	ok(dp_active_take(B.dp), "activity: the flag, all the same");
	put(&A, "10.9.0.1", "10.9.0.2", 4);
	is_int(collect(&B, &seq, 1, 0), 1, "activity: a packet before a kick");
	ok(dp_active_kick(B.dp), "activity: the kick returns what moved");
	ok(!efd_fired(dp_notify_fd(B.dp), 0),
	    "activity: taken, so not signalled as well");

	/* a keepalive from A's session, sent from another port */
	ok(dp_active_take(A.dp), "activity: A sent");
	ok(wg_encrypt(A.peer, NULL, 0, ka, &kalen, &dst) == WG_OK &&
	    (u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1,
	    "activity: a keepalive made");
	wg_peer_get_stats(B.peer, &st);
	rx0 = st.rx_bytes;
	ok(sendto(u, ka, kalen, 0, (struct sockaddr *)&dst,
	    sizeof(struct sockaddr_in)) == (ssize_t)kalen, "keepalive sent");
	if (u != -1)
		close(u);
	for (i = 0; i < 200; i++) {
		wg_peer_get_stats(B.peer, &st);
		if (st.rx_bytes > rx0)
			break;
		(void)efd_fired(-1, 10);
	}
	ok(st.rx_bytes == rx0 + kalen, "activity: B took the keepalive "
	    "(%ju bytes)", (uintmax_t)(st.rx_bytes - rx0));
	ok(!dp_active_take(B.dp) && !efd_fired(dp_notify_fd(B.dp), 0),
	    "activity: a keepalive is not activity");
	ok(!dp_active_take(A.dp), "activity: nor did A send anything");
	sides_free();
}

/*
 * A UDP GRO receive as large as it gets: four datagrams of 128 segments
 * (the kernel's most), queued while B pauses, read by one recvmmsg. The
 * pool holds exactly 512; t_datapath_pool is this file built with one
 * buffer fewer, so udp-rx runs dry in the middle of the receive with
 * pushes it has not yet signalled: it must wake tun-tx (asleep, no
 * timeout) before it waits, or neither moves again.
 */
static void
gro_full_receive(void)
{
	uint32_t	 seqs[600];
	int		 k, n, okay;
	uint64_t	 w0;

	sides_up(false, false, 1, "full GRO receive");
	dp_quiesce(B.dp);
	for (k = 0, okay = 1; k < 4; k++)
		okay &= gso_burst(128, 1000 + (uint32_t)k * 128) == 0;
	ok(okay, "full GRO receive: 4 GSO datagrams of 128 queued at B "
	    "(pool %d)", DP_POOL);
	w0 = dp_rx_waits(B.dp);
	dp_resume(B.dp);
	n = collect(&B, seqs, 512, 2000);
	ok(n > 0, "full GRO receive: B writes them (%d of 512, udp-rx waited "
	    "for buffers %ju times)", n, (uintmax_t)(dp_rx_waits(B.dp) - w0));
	for (k = okay = 0; k < 10; k++)
		okay += put(&A, "10.9.0.1", "10.9.0.2", 90000 + k);
	n = collect(&B, seqs, 10, 2000);
	ok(okay == 10 && in_order(seqs, n, 90000, 10),
	    "full GRO receive: 10 packets after it arrive, in order (%d)", n);
	sides_free();
}

/*
 * A tunnel activated and torn down before its data path started leaves a
 * TUN whose interface is gone: it is dropped before a start, so the data
 * path waits for the next tunnel's TUN; a live one is kept.
 */
static void
dead_tun_dropped(void)
{
	side_new(&A, false);
	side_new(&B, false);
	link_sides();
	ok(dp_ready(A.dp) && !dp_drop_dead_tun(A.dp) && dp_ready(A.dp),
	    "a live TUN is kept");
	if (shutdown(A.dptun, SHUT_RDWR) == -1)
		abort();
	ok(dp_drop_dead_tun(A.dp) && !dp_ready(A.dp),
	    "a dead TUN is dropped before a start: not ready until the next");
	sides_free();
}

static _Atomic int	 freed;

static void *
sides_free_thread(void *arg)
{
	sides_free();
	atomic_store(&freed, 1);
	return NULL;
}

/*
 * A blocking TUN descriptor: tun-rx reads one packet per wake-up, never
 * a second one that would sleep in read(2) where stop and pause cannot
 * reach it. Packets still flow, and the data path stops.
 */
static void
blocking_tun(void)
{
	struct pollfd	 pfd = { -1, 0, 0 };
	pthread_t	 t;
	uint32_t	 seqs[8];
	int		 i, n, okay;

	side_new(&A, true);
	side_new(&B, true);
	link_sides();
	if (dp_start(A.dp) == -1 || dp_start(B.dp) == -1)
		abort();
	for (i = okay = 0; i < 5; i++)
		okay += put(&A, "10.9.0.1", "10.9.0.2", 1 + i) &&
		    collect(&B, seqs, 1, 0) == 1 && seqs[0] == 1 + (uint32_t)i;
	is_int(okay, 5, "blocking TUN: each packet delivered");
	atomic_store(&freed, 0);
	if (pthread_create(&t, NULL, sides_free_thread, NULL) != 0)
		abort();
	for (i = 0; i < WAIT_MS && !atomic_load(&freed); i++)
		(void)poll(&pfd, 0, 1);
	n = atomic_load(&freed);
	ok(n, "blocking TUN: the data path stops (%d ms)", i);
	if (!n) {
		printf("Bail out! a packet thread sleeps in read(2) on the "
		    "blocking TUN\n");
		fflush(stdout);
		_exit(1);
	}
	pthread_join(t, NULL);
}

/*
 * The receiving side's busy: a burst of data from the network makes B
 * busy (its tun-rx takes the TUN), with UDP GRO and without; junk (data
 * messages for no session, many to a batch) does not: only what decrypts
 * counts, or an attacker could keep the latency path off.
 */
static void
udp_busy(void)
{
	uint8_t		 junk[148];
	uint32_t	 seqs[300], seq;
	int		 gro, i, n, u;
	const char	*what;

	for (gro = 1; gro >= 0; gro--) {
		what = gro ? "UDP busy" : "UDP busy, no GRO";
		sides_up(false, false, gro, what);
		/* queued before A's next packet in B's one socket: seen first */
		memset(junk, 0xa5, sizeof(junk));
		junk[0] = 4;
		junk[1] = junk[2] = junk[3] = 0;
		if ((u = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
			abort();
		for (i = 0; i < 300; i++)
			(void)sendto(u, junk, sizeof(junk), 0,
			    (struct sockaddr *)&B.addr, sizeof(struct sockaddr_in));
		close(u);
		seq = 0;
		n = put(&A, "10.9.0.1", "10.9.0.2", 1) ?
		    collect(&B, &seq, 1, 0) : -1;
		ok(n == 1 && seq == 1 && dp_mode_changes(B.dp) == 0,
		    "%s: 300 junk datagrams do not make B busy (%d, %ju)",
		    what, n, (uintmax_t)dp_mode_changes(B.dp));
		for (i = 0; i < 300; i++)
			(void)put(&A, "10.9.0.1", "10.9.0.2", 2 + i);
		n = collect(&B, seqs, 300, 200);
		ok(n > 0 && dp_mode_changes(B.dp) > 0,
		    "%s: a burst of data makes B busy (%d arrived, %ju changes)",
		    what, n, (uintmax_t)dp_mode_changes(B.dp));
		sides_free();
	}
}

/*
 * datapath.c -- tunworker's packet threads. See datapath.h for the shape.
 *
 * Threads and ownership. Four threads touch a struct datapath:
 *
 *	control	 tunworker's event loop: configuration (tw_configure, with
 *		 the packet threads paused), wg_device_tick (timers,
 *		 handshake initiations), dp_notify_drain, dp_peer_forget
 *	tun-rx	 dp_tunrx: TUN reads, wg_route, wg_encrypt or dp_stage,
 *		 the transmit batch (sendmmsg), while the data path is
 *		 busy (below)
 *	udp-rx	 dp_udprx: recvmmsg, wg_input, the to_tun ring; may claim
 *		 the TUN and write a small batch itself, then read what
 *		 the kernel answered and send it (tunrd_mtx, below); while
 *		 the data path is quiet, the TUN reads tun-rx would make
 *	tun-tx	 dp_tuntx: the to_tun ring to TUN writes
 *
 *	field			writers		readers		guard
 *	free_rx, nfree_rx	udp-rx		udp-rx		owner only
 *	to_tun			udp-rx (tail)	tun-tx (head)	SPSC ring:
 *							release/acquire
 *	back			tun-tx (tail)	udp-rx (head)	SPSC ring
 *	tx_inline		udp-rx		control		atomic
 *	busy_ns, tun_split	tun-rx, udp-rx	both		atomic; the
 *							kick eventfds
 *							make the other
 *							poll again
 *	tx_state		tun-tx, udp-rx	both		CAS protocol
 *							(ACTIVE/PARKED/
 *							CLAIMED, below)
 *	rx_starved		udp-rx, tun-tx	both		atomic; backfd
 *							wakes udp-rx
 *	gso, tunrx_tb,		tun-rx, udp-rx	both		tunrd_mtx
 *	tunrx_in, TUN reads
 *	dp_peer q/head/count	tun-rx (stage),	-		p->mtx
 *				udp-rx, control
 *				(flush)
 *	free_stage, peers,	all but tun-tx	-		stage_mtx
 *	npeers
 *	dp_peer hs_gen		udp-rx, control	tun-rx		atomic
 *	notify_keys, _ev, n	udp-rx, control	control		notify_mtx
 *	pause_req, npaused	control; the	-		pmtx + pcond;
 *				two rx threads			pausefd wakes
 *							their poll
 *	stop			control		all		atomic + stopfd
 *	tun_drops		tun-tx, udp-rx	control		atomic
 *	rx_waits,		udp-rx		control		atomic
 *	rx_coalesced
 *	tunfd, udp4, udp6,	control		all		set before
 *	udp_gro						dp_start
 *
 * Lock order, outermost first: tunrd_mtx (never taken with another lock
 * held, nor held at a pause point), the core's d_lock (see peer.h), then
 * a dp_peer's mtx, then stage_mtx. notify_mtx and pmtx are leaves.
 *
 * Order of what leaves: only the holder of tunrd_mtx reads the TUN, and
 * it sends everything it read before letting go, so datagrams go out in
 * the order the TUN gave the packets, whichever thread read them.
 *
 * Who calls what concurrently: dp_flush_staged runs on udp-rx (a
 * handshake completed: send), on the control thread (keys expired, or a
 * peer removed: drop), and both may race for one peer; p->mtx makes each
 * take the queue whole, so a packet is sent or dropped once. wg_encrypt
 * runs on tun-rx and, for staged packets, on udp-rx at the same time;
 * the core orders them with p_lock (see wg.c).
 *
 * The re-entered read lock: wg_input takes d_lock for reading, calls
 * wg_event (WG_EV_HANDSHAKE_DONE) -> dp_event -> dp_flush_staged ->
 * wg_encrypt, which takes d_lock for reading again on the same thread.
 * That is safe only because d_lock is glibc's default rwlock, which
 * prefers readers: a writer waiting between the two read locks would
 * otherwise deadlock the thread against itself. Do not make d_lock
 * writer-preferring (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include <linux/virtio_net.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "datapath.h"
#include "log.h"
#include "offload.h"
#include "wg.h"

#define TX_ACTIVE	0
#define TX_PARKED	1
#define TX_CLAIMED	2
#define DP_DIRECT_MAX	4	/* packets udp-rx writes itself */
#define DP_NOTIFY_MAX	64	/* peer events between drains */
#define DP_QUIET_MS	50	/* no big batch this long: quiet */
#define DP_GRO_BUFS	4	/* coalesced datagrams per recvmmsg */
#define DP_GRO_SIZE	65536	/* the largest UDP datagram, and more */
/*
 * Segments per coalesced datagram: as many as its buffer holds of the
 * shortest WireGuard message. Receive GRO makes at most 64, but a GSO
 * datagram from the same host (loopback, a veth) arrives unsplit with up
 * to the kernel's UDP_MAX_SEGMENTS: 128 since Linux 6.x, and a datagram
 * of more than the limit here would be dropped whole.
 */
#define DP_GRO_SEGS	(DP_GRO_SIZE / WG_DATA_OVERHEAD)

struct dp_buf {
	uint8_t		*data;
	size_t		 len;		/* valid bytes from data + off */
	size_t		 off;
};

struct dp_peer {
	pthread_mutex_t	 mtx;
	_Atomic uint32_t hs_gen;	/* completed handshakes, for staging */
	struct dp_buf	*q[DP_STAGED_MAX];
	size_t		 head, count;
	uint8_t		 pubkey[WG_KEY_LEN];
	LIST_ENTRY(dp_peer) entry;	/* freed when forgotten or in dp_free */
};

/* A single-producer single-consumer ring of buffer pointers. */
#define DP_RING_SLOTS	2048	/* > DP_POOL: a push never finds it full
				 * when only pool buffers travel in it */
_Static_assert(DP_RING_SLOTS > DP_POOL, "a ring holds the whole pool");
_Static_assert((DP_RING_SLOTS & (DP_RING_SLOTS - 1)) == 0,
    "free-running size_t indexes stay in step across their wrap");
_Static_assert(DP_POOL >= DP_BATCH, "udp-rx can read a whole batch");
_Static_assert(DP_STAGED_POOL >= DP_STAGED_MAX,
    "one peer can fill its staging queue");
struct dp_ring {
	struct dp_buf	*slot[DP_RING_SLOTS];
	_Atomic size_t	 head;		/* next to read */
	_Atomic size_t	 tail;		/* next to write */
};

struct datapath {
	struct wg_device	*dev;
	int			 mtu;
	size_t			 bufsize;
	int			 tunfd;
	bool			 vnet;		/* virtio_net_hdr on the TUN fd */
	int			 udp4, udp6;
	int			 stopfd;	/* eventfd: stop the threads */
	int			 pausefd;	/* eventfd: come to a pause point */
	_Atomic int		 pause_req;
	int			 npaused;	/* under pmtx */
	pthread_mutex_t		 pmtx;
	pthread_cond_t		 pcond;
	int			 ringfd;	/* eventfd: ring has packets */
	int			 backfd;	/* eventfd: buffers came back */
	int			 notifyfd;	/* eventfd: handshake done */
	_Atomic int		 stop;
	int			 running;
	pthread_t		 th_tunrx, th_udprx, th_tuntx;

	/* udp-rx -> tun-tx, and the buffers coming back */
	struct dp_ring		 to_tun;
	struct dp_ring		 back;
	struct dp_buf		*free_rx[DP_POOL];	/* udp-rx owns it */
	size_t			 nfree_rx;
	/*
	 * tun-tx's state: TX_ACTIVE (it owns the TUN writes), TX_PARKED
	 * (asleep; udp-rx may claim the TUN: TX_CLAIMED, to write a small
	 * batch itself and save a thread wake-up), with order kept since
	 * only an empty ring is ever bypassed.
	 */
	_Atomic int		 tx_state;
	/*
	 * udp-rx found every buffer waiting for the TUN: it stops reading
	 * the socket (whose own buffer holds, and counts, what does not
	 * fit) until tun-tx gives one back and signals backfd. Dropping
	 * here instead would be a silent loss no counter shows.
	 */
	_Atomic int		 rx_starved;
	_Atomic uint64_t	 rx_waits;
	_Atomic uint64_t	 rx_coalesced;	/* GRO datagrams of 2+ packets */
	int			 gso;		/* UDP_SEGMENT works (tun-rx) */
	bool			 udp_gro;	/* try UDP_GRO (before dp_start) */
	_Atomic uint64_t	 tun_drops;
	/*
	 * Reading the TUN: tun-rx, and udp-rx right after it wrote a few
	 * packets itself (what the kernel answered at once: an echo reply,
	 * a TCP ACK), sparing tun-rx a wake-up on the latency path. The
	 * holder of tunrd_mtx reads, encrypts and sends before it lets go,
	 * with tunrx_in and tunrx_tb, so packets leave in the TUN's order.
	 */
	pthread_mutex_t		 tunrd_mtx;
	bool			 tun_inline;	/* a non-blocking TUN fd */
	_Atomic uint64_t	 tx_inline;	/* TUN reads udp-rx made */
	/*
	 * Who waits on the TUN. Quiet (no batch of more than a few packets
	 * for DP_QUIET_MS), udp-rx polls it beside its sockets and tun-rx
	 * sleeps: a ping-pong packet wakes one thread of each daemon, and
	 * the TUN write of an answer wakes no other thread that would only
	 * find the TUN read. A big batch on either thread makes it busy:
	 * tun-rx polls the TUN, for the second core, until it is quiet
	 * again. Whoever polls, reading is under tunrd_mtx and the holder
	 * sends what it read before letting go: the change keeps order.
	 */
	_Atomic uint64_t	 busy_ns;	/* the last big batch (mono) */
	_Atomic int		 tun_split;	/* busy: tun-rx polls the TUN */
	int			 tunrx_kick;	/* eventfd: tun-rx, poll again */
	int			 udprx_kick;	/* eventfd: udp-rx, poll again */
	_Atomic uint64_t	 mode_changes;	/* quiet <-> busy */
	/*
	 * The TUN said POLLERR/POLLHUP/POLLNVAL (its interface was deleted
	 * under us: every poll returns at once and every read fails): no
	 * thread polls it again, and the control thread is told
	 * (dp_tun_gone) instead of a packet thread spinning on it.
	 */
	_Atomic int		 tun_gone;
	_Atomic uint64_t	 wakes;		/* packet threads' polls */
	/*
	 * Whether the tunnel carried a packet (data sent to a peer, or
	 * received from one: not a keepalive, nor what the TUN gave that
	 * no peer takes) since the control thread last
	 * took the flag, and whether it asked to be woken by the next one
	 * (dp_active_kick). The packet threads store only when the flag
	 * is clear: once per take, not per packet.
	 */
	_Atomic int		 active;
	_Atomic int		 active_kick;

	/* staged packets, from a shared pool */
	pthread_mutex_t		 stage_mtx;
	struct dp_buf		*free_stage[DP_STAGED_POOL];
	size_t			 nfree_stage;
	LIST_HEAD(, dp_peer)	 peers;
	size_t			 npeers;

	/* handshake completions for the control thread */
	pthread_mutex_t		 notify_mtx;
	uint8_t			 notify_keys[DP_NOTIFY_MAX][WG_KEY_LEN];
	int			 notify_ev[DP_NOTIFY_MAX];	/* WG_EV_* */
	size_t			 nnotify;
	dp_notify_fn		*notify;

	uint8_t			*pool_mem;
	uint8_t			*gro_mem;	/* udp-rx's GRO buffers */
	/*
	 * The other threads' buffers, allocated here too: memory a thread
	 * allocates and frees itself comes from a thread arena whose trim
	 * makes glibc open /proc/sys/vm/overcommit_memory, which the
	 * sandbox kills.
	 */
	uint8_t			*tunrx_in;	/* tun-rx's read buffer */
	size_t			 tunrx_insize;
	struct txbatch		*tunrx_tb;	/* tun-rx's transmit batch */
	struct gro		*tuntx_gro;	/* tun-tx's coalescing */
	struct dp_buf		 pool[DP_POOL + DP_STAGED_POOL];
};

static void	 dp_send(void *, struct wg_peer *,
		    const struct sockaddr_storage *, const uint8_t *, size_t);
static void	 dp_event(void *, struct wg_peer *, int);
static void	 dp_notify_push(struct datapath *, struct wg_peer *, int);
static void	*dp_tunrx(void *);
static void	*dp_udprx(void *);
static void	*dp_tuntx(void *);
static void	 tun_write_one(struct datapath *, struct dp_buf *);
static void	 dp_flush_staged(struct datapath *, struct wg_peer *, bool);
static int	 dp_sockfd(struct datapath *, int);
static uint32_t	 dp_peer_gen(struct wg_peer *);
static int	 dp_thread_mem(struct datapath *);
static void	 dp_thread_mem_free(struct datapath *);
static void	 efd_signal(int);
static void	 efd_clear(int);

static uint64_t
dp_mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
efd_signal(int fd)
{
	uint64_t	one = 1;
	ssize_t		r;

	r = write(fd, &one, sizeof(one));
	(void)r;	/* EAGAIN: already signalled */
}

static void
efd_clear(int fd)
{
	uint64_t	v;
	ssize_t		r;

	r = read(fd, &v, sizeof(v));
	(void)r;
}

/*
 * A batch of more than a few packets: busy for DP_QUIET_MS more, and
 * tun-rx takes the TUN if it had not. busy_ns is stored once a
 * millisecond at most: it is shared by both threads.
 */
static void
dp_busy(struct datapath *dp)
{
	uint64_t	 now = dp_mono();
	int		 quiet = 0;

	if (now > atomic_load_explicit(&dp->busy_ns, memory_order_relaxed) +
	    1000000)
		atomic_store(&dp->busy_ns, now);
	if (dp->tun_inline && atomic_load_explicit(&dp->tun_split,
	    memory_order_relaxed) == 0 &&
	    atomic_compare_exchange_strong(&dp->tun_split, &quiet, 1)) {
		atomic_fetch_add_explicit(&dp->mode_changes, 1,
		    memory_order_relaxed);
		efd_signal(dp->tunrx_kick);
	}
}

/*
 * tun-rx, busy: quiet for DP_QUIET_MS? Then udp-rx takes the TUN back
 * (-1). Otherwise the milliseconds until it could be (a poll timeout).
 */
static int
dp_quiet_in(struct datapath *dp)
{
	uint64_t	 now = dp_mono(), until;
	int		 busy = 1;

	until = atomic_load(&dp->busy_ns) + DP_QUIET_MS * 1000000ULL;
	if (now < until)
		return (int)((until - now) / 1000000) + 1;
	if (atomic_compare_exchange_strong(&dp->tun_split, &busy, 0)) {
		atomic_fetch_add_explicit(&dp->mode_changes, 1,
		    memory_order_relaxed);
		efd_signal(dp->udprx_kick);
	}
	return -1;
}

static bool
ring_push(struct dp_ring *r, struct dp_buf *b)
{
	size_t	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t	head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head == DP_RING_SLOTS)
		return false;
	r->slot[tail % DP_RING_SLOTS] = b;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

static bool
ring_empty(struct dp_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) ==
	    atomic_load_explicit(&r->tail, memory_order_acquire);
}

static struct dp_buf *
ring_pop(struct dp_ring *r)
{
	size_t		 head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
	size_t		 tail = atomic_load_explicit(&r->tail,
			    memory_order_acquire);
	struct dp_buf	*b;

	if (head == tail)
		return NULL;
	b = r->slot[head % DP_RING_SLOTS];
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return b;
}

struct datapath *
dp_new(int mtu, dp_notify_fn *notify)
{
	struct datapath	*dp;
	size_t		 i, n;

	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return NULL;
	dp->mtu = mtu;
	/* room for the header, padding and tag around an MTU's worth */
	dp->bufsize = (MAXIMUM(mtu, 1500) + 64 + 63) & ~(size_t)63;
	dp->tunfd = dp->udp4 = dp->udp6 = -1;
	LIST_INIT(&dp->peers);
	dp->gso = 1;		/* until the kernel says otherwise */
	dp->udp_gro = true;
	dp->notify = notify;
	pthread_mutex_init(&dp->stage_mtx, NULL);
	pthread_mutex_init(&dp->notify_mtx, NULL);
	pthread_mutex_init(&dp->tunrd_mtx, NULL);
	n = DP_POOL + DP_STAGED_POOL;
	if ((dp->pool_mem = calloc(n, dp->bufsize)) == NULL ||
	    (dp->gro_mem = malloc((size_t)DP_GRO_BUFS * DP_GRO_SIZE)) == NULL ||
	    dp_thread_mem(dp) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		dp->pool[i].data = dp->pool_mem + i * dp->bufsize;
	for (i = 0; i < DP_POOL; i++)
		dp->free_rx[dp->nfree_rx++] = &dp->pool[i];
	for (i = 0; i < DP_STAGED_POOL; i++)
		dp->free_stage[dp->nfree_stage++] = &dp->pool[DP_POOL + i];
	pthread_mutex_init(&dp->pmtx, NULL);
	pthread_cond_init(&dp->pcond, NULL);
	dp->pausefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->ringfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->backfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->notifyfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->tunrx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->udprx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dp->tunrx_kick == -1 || dp->udprx_kick == -1 ||
	    dp->stopfd == -1 || dp->ringfd == -1 || dp->notifyfd == -1 ||
	    dp->pausefd == -1 || dp->backfd == -1)
		goto fail;
	if ((dp->dev = wg_device_new(dp_send, dp_event, dp)) == NULL)
		goto fail;
	wg_device_set_mtu(dp->dev, mtu);
	return dp;
 fail:
	dp_free(dp);
	return NULL;
}

void
dp_free(struct datapath *dp)
{
	struct dp_peer	*p;

	if (dp == NULL)
		return;
	if (dp->running) {
		if (atomic_load(&dp->pause_req))
			dp_resume(dp);
		atomic_store(&dp->stop, 1);
		efd_signal(dp->stopfd);
		efd_signal(dp->ringfd);
		pthread_join(dp->th_tunrx, NULL);
		pthread_join(dp->th_udprx, NULL);
		pthread_join(dp->th_tuntx, NULL);
		dp->running = 0;
	}
	if (dp->dev != NULL)
		wg_device_free(dp->dev);
	while ((p = LIST_FIRST(&dp->peers)) != NULL) {
		LIST_REMOVE(p, entry);
		pthread_mutex_destroy(&p->mtx);
		free(p);
	}
	if (dp->tunfd != -1)
		close(dp->tunfd);
	if (dp->udp4 != -1)
		close(dp->udp4);
	if (dp->udp6 != -1)
		close(dp->udp6);
	if (dp->stopfd > 0)
		close(dp->stopfd);
	if (dp->pausefd > 0)
		close(dp->pausefd);
	pthread_mutex_destroy(&dp->pmtx);
	pthread_cond_destroy(&dp->pcond);
	if (dp->ringfd > 0)
		close(dp->ringfd);
	if (dp->backfd > 0)
		close(dp->backfd);
	if (dp->notifyfd > 0)
		close(dp->notifyfd);
	if (dp->tunrx_kick > 0)
		close(dp->tunrx_kick);
	if (dp->udprx_kick > 0)
		close(dp->udprx_kick);
	if (dp->pool_mem != NULL) {
		/* packets are not secrets, but leave nothing behind */
		explicit_bzero(dp->pool_mem, (DP_POOL + DP_STAGED_POOL) *
		    dp->bufsize);
		free(dp->pool_mem);
	}
	if (dp->gro_mem != NULL) {
		explicit_bzero(dp->gro_mem, (size_t)DP_GRO_BUFS * DP_GRO_SIZE);
		free(dp->gro_mem);
	}
	dp_thread_mem_free(dp);
	pthread_mutex_destroy(&dp->stage_mtx);
	pthread_mutex_destroy(&dp->notify_mtx);
	pthread_mutex_destroy(&dp->tunrd_mtx);
	free(dp);
}

struct wg_device *
dp_device(struct datapath *dp)
{
	return dp->dev;
}

void
dp_set_tun(struct datapath *dp, int fd, bool vnet)
{
	if (dp->tunfd != -1)
		close(dp->tunfd);
	dp->tunfd = fd;
	dp->vnet = vnet;
}

void
dp_set_udp(struct datapath *dp, int af, int fd)
{
	int	*slot = af == AF_INET6 ? &dp->udp6 : &dp->udp4;

	if (*slot != -1)
		close(*slot);
	*slot = fd;
}

void
dp_set_udp_gro(struct datapath *dp, bool on)
{
	dp->udp_gro = on;
}

bool
dp_drop_dead_tun(struct datapath *dp)
{
	struct pollfd	 pfd;

	if (dp->running || dp->tunfd == -1)
		return false;
	pfd.fd = dp->tunfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1 ||
	    !(pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
		return false;
	close(dp->tunfd);
	dp->tunfd = -1;
	return true;
}

bool
dp_ready(const struct datapath *dp)
{
	return dp->tunfd != -1 && (dp->udp4 != -1 || dp->udp6 != -1);
}

bool
dp_running(const struct datapath *dp)
{
	return dp->running;
}

uint64_t
dp_handshakes_take(struct datapath *dp)
{
	return wg_device_handshakes_take(dp->dev);
}

uint64_t
dp_rx_waits(struct datapath *dp)
{
	return atomic_load(&dp->rx_waits);
}

uint64_t
dp_rx_coalesced(struct datapath *dp)
{
	return atomic_load(&dp->rx_coalesced);
}

uint64_t
dp_wakes(struct datapath *dp)
{
	return atomic_load(&dp->wakes);
}

bool
dp_tun_gone(struct datapath *dp)
{
	return atomic_load(&dp->tun_gone) != 0;
}

/*
 * The tunnel carried a packet. The kick is a Dekker pair with
 * dp_active_kick (seq_cst stores, then seq_cst exchanges): either the
 * control thread's take sees this flag or this sees its kick.
 */
static void
dp_activity(struct datapath *dp)
{
	if (atomic_load_explicit(&dp->active, memory_order_relaxed))
		return;
	atomic_store(&dp->active, 1);
	if (atomic_exchange(&dp->active_kick, 0))
		efd_signal(dp->notifyfd);
}

bool
dp_active_take(struct datapath *dp)
{
	return atomic_exchange(&dp->active, 0) != 0;
}

bool
dp_active_kick(struct datapath *dp)
{
	atomic_store(&dp->active_kick, 1);
	if (!dp_active_take(dp))
		return false;
	atomic_store(&dp->active_kick, 0);	/* the caller knows */
	return true;
}

/* A TUN poll said it is dead, not readable: stop polling it. */
static bool
tun_dead(struct datapath *dp, short revents)
{
	if (!(revents & (POLLERR | POLLHUP | POLLNVAL)))
		return false;
	/* the first to see it tells the control thread at once */
	if (atomic_exchange(&dp->tun_gone, 1) == 0)
		efd_signal(dp->notifyfd);
	return true;
}

uint64_t
dp_mode_changes(struct datapath *dp)
{
	return atomic_load(&dp->mode_changes);
}

uint64_t
dp_tx_inline(struct datapath *dp)
{
	return atomic_load(&dp->tx_inline);
}

int
dp_notify_fd(const struct datapath *dp)
{
	return dp->notifyfd;
}

int
dp_start(struct datapath *dp)
{
	sigset_t	all, old;
	int		n;

	if (dp->running)
		return 0;
	/* udp-rx reads the TUN only where a read cannot block it */
	n = fcntl(dp->tunfd, F_GETFL);
	dp->tun_inline = n != -1 && (n & O_NONBLOCK);
	/* quiet to begin with, where udp-rx can read the TUN at all */
	atomic_store(&dp->tun_split, !dp->tun_inline);
	atomic_store(&dp->busy_ns, 0);
	/* Packet threads take no signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	n = 0;
	if (pthread_create(&dp->th_tunrx, NULL, dp_tunrx, dp) == 0 && ++n &&
	    pthread_create(&dp->th_udprx, NULL, dp_udprx, dp) == 0 && ++n &&
	    pthread_create(&dp->th_tuntx, NULL, dp_tuntx, dp) == 0)
		n++;
	if (n < 3) {
		/* never leave a thread running on what the caller frees */
		atomic_store(&dp->stop, 1);
		efd_signal(dp->stopfd);
		if (n > 0)
			pthread_join(dp->th_tunrx, NULL);
		if (n > 1)
			pthread_join(dp->th_udprx, NULL);
		atomic_store(&dp->stop, 0);
		efd_clear(dp->stopfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	dp->running = 1;
	return 0;
}

/*
 * A packet thread's pause point: while the control thread changes what
 * the threads hold pointers to (removes a peer), they wait here.
 */
static void
dp_pause_point(struct datapath *dp)
{
	pthread_mutex_lock(&dp->pmtx);
	dp->npaused++;
	pthread_cond_broadcast(&dp->pcond);
	while (atomic_load(&dp->pause_req))
		pthread_cond_wait(&dp->pcond, &dp->pmtx);
	dp->npaused--;
	pthread_mutex_unlock(&dp->pmtx);
}

void
dp_quiesce(struct datapath *dp)
{
	if (!dp->running)
		return;
	pthread_mutex_lock(&dp->pmtx);
	atomic_store(&dp->pause_req, 1);
	efd_signal(dp->pausefd);
	/* tun-rx and udp-rx; tun-tx holds no peer */
	while (dp->npaused < 2)
		pthread_cond_wait(&dp->pcond, &dp->pmtx);
	pthread_mutex_unlock(&dp->pmtx);
}

void
dp_resume(struct datapath *dp)
{
	if (!dp->running)
		return;
	pthread_mutex_lock(&dp->pmtx);
	atomic_store(&dp->pause_req, 0);
	efd_clear(dp->pausefd);
	pthread_cond_broadcast(&dp->pcond);
	pthread_mutex_unlock(&dp->pmtx);
}

static int
dp_sockfd(struct datapath *dp, int af)
{
	return af == AF_INET6 ? dp->udp6 : dp->udp4;
}

static socklen_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/* The core's sender: handshakes, keepalives, cookie replies. */
static void
dp_send(void *arg, struct wg_peer *peer, const struct sockaddr_storage *dst,
    const uint8_t *buf, size_t len)
{
	struct datapath	*dp = arg;
	int		 fd = dp_sockfd(dp, dst->ss_family);

	if (fd == -1)
		return;
	(void)sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)dst,
	    ss_len(dst));
}

/* The peer's staging, attached by the control thread when it is added. */
static struct dp_peer *
dp_peer_get(struct datapath *dp, struct wg_peer *peer)
{
	return wg_peer_udata(peer);
}

static uint32_t
dp_peer_gen(struct wg_peer *peer)
{
	struct dp_peer	*p = wg_peer_udata(peer);

	return p != NULL ? atomic_load(&p->hs_gen) : 0;
}

void
dp_peer_attach(struct datapath *dp, struct wg_peer *peer)
{
	struct dp_peer	*p;

	if (wg_peer_udata(peer) != NULL)
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	pthread_mutex_init(&p->mtx, NULL);
	memcpy(p->pubkey, wg_peer_pubkey(peer), WG_KEY_LEN);
	pthread_mutex_lock(&dp->stage_mtx);
	LIST_INSERT_HEAD(&dp->peers, p, entry);
	dp->npeers++;
	pthread_mutex_unlock(&dp->stage_mtx);
	wg_peer_set_udata(peer, p);
}

void
dp_peer_forget(struct datapath *dp, struct wg_peer *peer)
{
	struct dp_peer	*p = dp_peer_get(dp, peer);

	if (p == NULL)
		return;
	dp_flush_staged(dp, peer, false);
	/*
	 * The packet threads are paused (or not running) and the peer is
	 * about to be removed: nothing else can hold its staging, so it
	 * goes now. Peers come and go with wg set; kept until dp_free,
	 * each one gone would stay in memory.
	 */
	wg_peer_set_udata(peer, NULL);
	pthread_mutex_lock(&dp->stage_mtx);
	LIST_REMOVE(p, entry);
	dp->npeers--;
	pthread_mutex_unlock(&dp->stage_mtx);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

size_t
dp_npeers(struct datapath *dp)
{
	size_t	n;

	pthread_mutex_lock(&dp->stage_mtx);
	n = dp->npeers;
	pthread_mutex_unlock(&dp->stage_mtx);
	return n;
}

static void
dp_event(void *arg, struct wg_peer *peer, int ev)
{
	struct datapath	*dp = arg;
	struct dp_peer	*p;

	switch (ev) {
	case WG_EV_HANDSHAKE_DONE:
		if ((p = dp_peer_get(dp, peer)) != NULL)
			atomic_fetch_add(&p->hs_gen, 1);
		dp_flush_staged(dp, peer, true);
		dp_notify_push(dp, peer, ev);
		break;
	case WG_EV_KEYS_EXPIRED:
		dp_flush_staged(dp, peer, false);
		break;
	case WG_EV_PEER_LOST:
		dp_notify_push(dp, peer, ev);
		break;
	}
}

/* One queue for every reported event, so they are told in order. */
static void
dp_notify_push(struct datapath *dp, struct wg_peer *peer, int ev)
{
	pthread_mutex_lock(&dp->notify_mtx);
	if (dp->nnotify < nitems(dp->notify_keys)) {
		memcpy(dp->notify_keys[dp->nnotify], wg_peer_pubkey(peer),
		    WG_KEY_LEN);
		dp->notify_ev[dp->nnotify++] = ev;
	}
	pthread_mutex_unlock(&dp->notify_mtx);
	efd_signal(dp->notifyfd);
}

void
dp_notify_drain(struct datapath *dp)
{
	uint8_t		 keys[DP_NOTIFY_MAX][WG_KEY_LEN];
	int		 evs[DP_NOTIFY_MAX];
	size_t		 i, n;

	efd_clear(dp->notifyfd);
	pthread_mutex_lock(&dp->notify_mtx);
	n = dp->nnotify;
	memcpy(keys, dp->notify_keys, n * WG_KEY_LEN);
	memcpy(evs, dp->notify_ev, n * sizeof(evs[0]));
	dp->nnotify = 0;
	pthread_mutex_unlock(&dp->notify_mtx);
	for (i = 0; i < n; i++)
		dp->notify(keys[i], evs[i]);
}

/* Stage a packet for a peer without a session; drops the oldest. */
static void
dp_stage(struct datapath *dp, struct wg_peer *peer, const uint8_t *pkt,
    size_t len)
{
	struct dp_peer	*p = dp_peer_get(dp, peer);
	struct dp_buf	*b = NULL;

	if (p == NULL || len > dp->bufsize)
		return;
	pthread_mutex_lock(&p->mtx);
	if (p->count == DP_STAGED_MAX) {
		b = p->q[p->head];
		p->head = (p->head + 1) % DP_STAGED_MAX;
		p->count--;
	} else {
		pthread_mutex_lock(&dp->stage_mtx);
		if (dp->nfree_stage > 0)
			b = dp->free_stage[--dp->nfree_stage];
		pthread_mutex_unlock(&dp->stage_mtx);
	}
	if (b != NULL) {
		memcpy(b->data, pkt, len);
		b->len = len;
		b->off = 0;
		p->q[(p->head + p->count) % DP_STAGED_MAX] = b;
		p->count++;
	}
	pthread_mutex_unlock(&p->mtx);
}

/* Send (or drop) a peer's staged packets, in order. */
static void
dp_flush_staged(struct datapath *dp, struct wg_peer *peer, bool send)
{
	struct dp_peer		*p = dp_peer_get(dp, peer);
	struct dp_buf		*q[DP_STAGED_MAX];
	struct sockaddr_storage	 dst;
	/* on the stack: no allocation on the packet threads */
	uint8_t			 out[CONF_MAX_MTU + 128];
	size_t			 n = 0, i, outlen;
	int			 fd;

	if (p == NULL || dp->bufsize > sizeof(out))
		return;
	pthread_mutex_lock(&p->mtx);
	while (p->count > 0) {
		q[n++] = p->q[p->head];
		p->head = (p->head + 1) % DP_STAGED_MAX;
		p->count--;
	}
	pthread_mutex_unlock(&p->mtx);
	if (n == 0)
		return;
	if (send)
		dp_activity(dp);	/* data for a peer, at last */
	for (i = 0; i < n && send; i++) {
		if (wg_encrypt(peer, q[i]->data, q[i]->len, out, &outlen,
		    &dst) != WG_OK)
			continue;
		if ((fd = dp_sockfd(dp, dst.ss_family)) != -1)
			(void)sendto(fd, out, outlen, MSG_DONTWAIT,
			    (struct sockaddr *)&dst, ss_len(&dst));
	}
	pthread_mutex_lock(&dp->stage_mtx);
	for (i = 0; i < n; i++)
		dp->free_stage[dp->nfree_stage++] = q[i];
	pthread_mutex_unlock(&dp->stage_mtx);
}

/*
 * The transmit batch of tun-rx: encrypted packets wait here, per family,
 * for one sendmmsg.
 */
#define DP_TXMAX	128	/* > the segments of one 64 KiB TSO packet */
#define GSO_MAXSEG	64	/* UDP_SEGMENT: segments per send */
#define GSO_MAXBYTES	65000

struct txbatch {
	struct mmsghdr		 mm[DP_TXMAX];
	struct iovec		 iov[DP_TXMAX];
	struct sockaddr_storage	 dst[DP_TXMAX];
	size_t			 len[DP_TXMAX];
	unsigned int		 slot[2][DP_TXMAX];	/* per family */
	unsigned int		 nm[2];
	union {
		char		 buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr	 align;
	}			 cm[DP_TXMAX];
	uint8_t			*out;
};

/* tun-rx's and tun-tx's buffers, for any vnet setting */
static int
dp_thread_mem(struct datapath *dp)
{
	dp->tunrx_insize = MAXIMUM((size_t)65536 + 64, dp->bufsize);
	if ((dp->tunrx_in = malloc(dp->tunrx_insize)) == NULL ||
	    (dp->tunrx_tb = calloc(1, sizeof(*dp->tunrx_tb))) == NULL ||
	    (dp->tunrx_tb->out = malloc((size_t)DP_TXMAX *
	    dp->bufsize)) == NULL ||
	    (dp->tuntx_gro = calloc(1, sizeof(*dp->tuntx_gro))) == NULL)
		return -1;
	return 0;
}

static void
dp_thread_mem_free(struct datapath *dp)
{
	if (dp->tunrx_in != NULL) {
		explicit_bzero(dp->tunrx_in, dp->tunrx_insize);
		free(dp->tunrx_in);
	}
	if (dp->tunrx_tb != NULL) {
		if (dp->tunrx_tb->out != NULL) {
			explicit_bzero(dp->tunrx_tb->out,
			    (size_t)DP_TXMAX * dp->bufsize);
			free(dp->tunrx_tb->out);
		}
		free(dp->tunrx_tb);
	}
	if (dp->tuntx_gro != NULL) {
		explicit_bzero(dp->tuntx_gro, sizeof(*dp->tuntx_gro));
		free(dp->tuntx_gro);
	}
}

/*
 * Send one family's packets. Runs of packets to one destination with one
 * size (the last may be shorter) go as a single UDP_SEGMENT send: one
 * trip through the stack for up to 64 datagrams. Without kernel support
 * (the first failure says so) each packet is its own message.
 */
static void
tx_flush_family(struct datapath *dp, struct txbatch *tb, int f)
{
	struct pollfd	 pfd;
	struct cmsghdr	*c;
	unsigned int	 i, j, k, nmsg = 0, sent = 0, first, niov;
	size_t		 bytes;
	uint16_t	 segsz;
	int		 fd = f == 0 ? dp->udp4 : dp->udp6, r, tries = 0;

	if (fd == -1 || tb->nm[f] == 0)
		goto done;
	dp_activity(dp);		/* data for a peer */
	for (i = 0, niov = 0; i < tb->nm[f]; i = j) {
		first = tb->slot[f][i];
		bytes = tb->len[first];
		for (j = i + 1; dp->gso && j < tb->nm[f] &&
		    j - i < GSO_MAXSEG; j++) {
			k = tb->slot[f][j];
			if (tb->len[k] > tb->len[first] ||
			    bytes + tb->len[k] > GSO_MAXBYTES ||
			    memcmp(&tb->dst[k], &tb->dst[first],
			    ss_len(&tb->dst[first])) != 0 ||
			    tb->len[tb->slot[f][j - 1]] != tb->len[first])
				break;
			bytes += tb->len[k];
		}
		/* message nmsg carries iov[niov .. niov + j - i) */
		memset(&tb->mm[nmsg], 0, sizeof(tb->mm[0]));
		tb->mm[nmsg].msg_hdr.msg_name = &tb->dst[first];
		tb->mm[nmsg].msg_hdr.msg_namelen = ss_len(&tb->dst[first]);
		tb->mm[nmsg].msg_hdr.msg_iov = &tb->iov[niov];
		tb->mm[nmsg].msg_hdr.msg_iovlen = j - i;
		for (k = i; k < j; k++, niov++) {
			tb->iov[niov].iov_base = tb->out +
			    (size_t)tb->slot[f][k] * dp->bufsize;
			tb->iov[niov].iov_len = tb->len[tb->slot[f][k]];
		}
		if (j - i > 1) {
			segsz = tb->len[first];
			tb->mm[nmsg].msg_hdr.msg_control = tb->cm[nmsg].buf;
			tb->mm[nmsg].msg_hdr.msg_controllen =
			    sizeof(tb->cm[nmsg].buf);
			c = CMSG_FIRSTHDR(&tb->mm[nmsg].msg_hdr);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(segsz));
			memcpy(CMSG_DATA(c), &segsz, sizeof(segsz));
		}
		nmsg++;
	}
	while (sent < nmsg) {
		r = sendmmsg(fd, tb->mm + sent, nmsg - sent, 0);
		if (r > 0) {
			sent += r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EIO || errno == EINVAL) && dp->gso &&
		    tb->mm[sent].msg_hdr.msg_iovlen > 1) {
			/* no UDP GSO here (or not for this route) */
			dp->gso = 0;
			goto resend;
		}
		/*
		 * A full socket buffer: wait a little for room, so a fast
		 * sender is slowed down rather than dropped; give up after a
		 * few tries, like a full queue.
		 */
		if (r == -1 && (errno == EAGAIN || errno == ENOBUFS) &&
		    tries++ < 4) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 5);
			continue;
		}
		break;
	}
	goto done;
 resend:
	/* once, without GSO, from the first unsent message on */
	for (i = sent; i < nmsg; i++)
		for (k = 0; k < tb->mm[i].msg_hdr.msg_iovlen; k++) {
			struct msghdr	mh;

			memset(&mh, 0, sizeof(mh));
			mh.msg_name = tb->mm[i].msg_hdr.msg_name;
			mh.msg_namelen = tb->mm[i].msg_hdr.msg_namelen;
			mh.msg_iov = &tb->mm[i].msg_hdr.msg_iov[k];
			mh.msg_iovlen = 1;
			(void)sendmsg(fd, &mh, 0);
		}
 done:
	tb->nm[f] = 0;
}

static void
tx_flush(struct datapath *dp, struct txbatch *tb)
{
	tx_flush_family(dp, tb, 0);
	tx_flush_family(dp, tb, 1);
}

/* Route, encrypt into the batch (or stage), flushing a full batch. */
static void
tx_packet(struct datapath *dp, struct txbatch *tb, const uint8_t *pkt,
    size_t len)
{
	struct wg_peer	*peer;
	size_t		 outlen;
	unsigned int	 k;
	uint32_t	 gen;
	int		 f, r;

	/* room in a slot: header, padding, tag */
	if (len + WG_DATA_OVERHEAD + WG_PAD_MULTIPLE > dp->bufsize)
		return;
	if ((peer = wg_route(dp->dev, pkt, len)) == NULL)
		return;
	if (tb->nm[0] + tb->nm[1] == DP_TXMAX)
		tx_flush(dp, tb);
	k = tb->nm[0] + tb->nm[1];
	gen = dp_peer_gen(peer);
	r = wg_encrypt(peer, pkt, len, tb->out + (size_t)k * dp->bufsize,
	    &outlen, &tb->dst[k]);
	if (r == WG_NOKEY) {
		dp_stage(dp, peer, pkt, len);
		/* a handshake that completed meanwhile flushed too early */
		if (dp_peer_gen(peer) != gen)
			dp_flush_staged(dp, peer, true);
		return;
	}
	if (r != WG_OK)
		return;
	f = tb->dst[k].ss_family == AF_INET6 ? 1 : 0;
	tb->len[k] = outlen;
	tb->slot[f][tb->nm[f]++] = k;
}

struct tx_ctx {
	struct datapath	*dp;
	struct txbatch	*tb;
};

static void
tx_emit(void *arg, uint8_t *pkt, size_t len)
{
	struct tx_ctx	*c = arg;

	tx_packet(c->dp, c->tb, pkt, len);
}

/*
 * Up to max TUN reads (with TSO, each may be 64 KiB of TCP), each packet
 * encrypted for its peer, then sent with one sendmmsg per family. The
 * caller holds tunrd_mtx. Returns the packets read.
 */
static int
tun_read_batch(struct datapath *dp, int max, bool *big)
{
	struct txbatch	*tb = dp->tunrx_tb;
	struct tx_ctx	 ctx;
	uint8_t		*in = dp->tunrx_in;
	size_t		 insize = dp->vnet ? 65536 + 64 : dp->bufsize - 64;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < max; i++) {
		n = read(dp->tunfd, in, insize);
		if (n <= 0)
			break;
		/* two reads, or one of many segments (TSO): busy */
		if (big != NULL && (i > 0 || (size_t)n > dp->bufsize))
			*big = true;
		if (dp->vnet) {
			ctx.dp = dp;
			ctx.tb = tb;
			(void)offload_tso(in, n, tx_emit, &ctx);
		} else
			tx_packet(dp, tb, in, n);
	}
	tx_flush(dp, tb);
	return i;
}

/*
 * udp-rx wrote a few packets to the TUN itself: what the kernel answered
 * at once is in the TUN's queue already; read and send it here, unless
 * tun-rx is reading (then it will).
 */
static void
udprx_tun_inline(struct datapath *dp)
{
	int	n;

	if (!dp->tun_inline || pthread_mutex_trylock(&dp->tunrd_mtx) != 0)
		return;
	n = tun_read_batch(dp, DP_DIRECT_MAX, NULL);
	pthread_mutex_unlock(&dp->tunrd_mtx);
	if (n > 0)
		atomic_fetch_add_explicit(&dp->tx_inline, (uint64_t)n,
		    memory_order_relaxed);
}

/*
 * tun-rx: while busy, DP_BATCH TUN reads per wake-up, encrypted and
 * sent; while quiet, asleep until udp-rx finds a big batch.
 */
static void *
dp_tunrx(void *arg)
{
	struct datapath		*dp = arg;
	struct pollfd		 pfd[4];
	int			 tmo;
	bool			 big;

	/*
	 * The batch is dp_new's, zeroed there: udp-rx may use it under
	 * tunrd_mtx before this thread first runs, so it is not reset here.
	 */
	pfd[0].events = POLLIN;
	pfd[1].fd = dp->stopfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = dp->pausefd;
	pfd[2].events = POLLIN;
	pfd[3].fd = dp->tunrx_kick;
	pfd[3].events = POLLIN;
	while (!atomic_load(&dp->stop)) {
		tmo = -1;
		if (dp->tun_inline && atomic_load(&dp->tun_split))
			tmo = dp_quiet_in(dp);
		/* a blocking TUN fd: tun-rx alone reads it, always */
		pfd[0].fd = !dp->tun_inline || atomic_load(&dp->tun_split) ?
		    dp->tunfd : -1;
		if (atomic_load(&dp->tun_gone))
			pfd[0].fd = -1;
		if (poll(pfd, 4, tmo) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		atomic_fetch_add_explicit(&dp->wakes, 1, memory_order_relaxed);
		if (pfd[1].revents)
			break;
		if (pfd[3].revents)
			efd_clear(dp->tunrx_kick);
		if (atomic_load(&dp->pause_req))
			dp_pause_point(dp);
		if (pfd[0].revents == 0 || tun_dead(dp, pfd[0].revents))
			continue;
		/*
		 * A blocking TUN: one read per wake-up, or the second would
		 * sleep in read, deaf to stop and pause.
		 */
		big = false;
		pthread_mutex_lock(&dp->tunrd_mtx);
		(void)tun_read_batch(dp, dp->tun_inline ? DP_BATCH : 1, &big);
		pthread_mutex_unlock(&dp->tunrd_mtx);	/* all of it sent */
		if (big)
			dp_busy(dp);
	}
	return NULL;
}

/*
 * Every receive buffer waits for the TUN: wait for tun-tx to give one
 * back, still answering a pause or a stop. The flag is set before the
 * last look at the back ring (seq_cst store and load), and tun-tx looks
 * at the flag after its push and a seq_cst fence, so a buffer returned
 * meanwhile is either seen here or signalled.
 */
static void
rx_wait_buffers(struct datapath *dp)
{
	struct pollfd	 pfd[3];
	struct dp_buf	*b;

	atomic_fetch_add_explicit(&dp->rx_waits, 1, memory_order_relaxed);
	/*
	 * What this thread pushed and has not signalled yet (udprx_gro
	 * signals at its end, and may wait here in its middle) must wake
	 * tun-tx first: it sleeps with no timeout, and only it can give
	 * the buffers back. The pushes before the look at its state.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (!ring_empty(&dp->to_tun) &&
	    atomic_load(&dp->tx_state) != TX_ACTIVE)
		efd_signal(dp->ringfd);
	pfd[0].fd = dp->backfd;
	pfd[1].fd = dp->stopfd;
	pfd[2].fd = dp->pausefd;
	pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
	while (!atomic_load(&dp->stop)) {
		/* seq_cst store, then seq_cst load: not reordered */
		atomic_store(&dp->rx_starved, 1);
		if (atomic_load(&dp->back.tail) != atomic_load_explicit(
		    &dp->back.head, memory_order_relaxed) &&
		    (b = ring_pop(&dp->back)) != NULL) {
			dp->free_rx[dp->nfree_rx++] = b;
			break;
		}
		if (poll(pfd, 3, -1) == -1 && errno != EINTR)
			break;
		efd_clear(dp->backfd);
		if (atomic_load(&dp->pause_req))
			dp_pause_point(dp);
	}
	atomic_store(&dp->rx_starved, 0);
}

/* A receive buffer for udp-rx, waiting for one if it may; NULL if none. */
static struct dp_buf *
rx_take(struct datapath *dp, bool may_wait)
{
	struct dp_buf	*b;

	if (dp->nfree_rx == 0)
		while ((b = ring_pop(&dp->back)) != NULL)
			dp->free_rx[dp->nfree_rx++] = b;
	if (dp->nfree_rx == 0 && may_wait)
		rx_wait_buffers(dp);	/* never read and drop */
	if (dp->nfree_rx == 0)
		return NULL;
	return dp->free_rx[--dp->nfree_rx];
}

/*
 * One received packet, len bytes at from: a data message is decrypted
 * into b (no copy first, counted in data), then written (claimed),
 * queued for tun-tx (true: the ring has b), or dropped.
 */
static bool
rx_deliver(struct datapath *dp, struct dp_buf *b, uint8_t *from, size_t len,
    const struct sockaddr_storage *src, bool claimed, size_t *direct,
    size_t *data)
{
	struct wg_peer	*peer;
	uint8_t		*plain;
	size_t		 plainlen;

	if (wg_input_to(dp->dev, from, len, b->data, dp->bufsize, src,
	    &plain, &plainlen, &peer) != WG_DATA)
		return false;
	if ((*data)++ == 0)
		dp_activity(dp);	/* before the TUN has it */
	b->off = plain - b->data;
	b->len = plainlen;
	if (claimed) {
		tun_write_one(dp, b);
		(*direct)++;
		return false;
	}
	return ring_push(&dp->to_tun, b);
}

/* udp-rx's large buffers for datagrams UDP GRO coalesced */
struct rx_gro {
	uint8_t			*buf[DP_GRO_BUFS];
	struct mmsghdr		 mm[DP_GRO_BUFS];
	struct iovec		 iov[DP_GRO_BUFS];
	struct sockaddr_storage	 src[DP_GRO_BUFS];
	union {
		char		 buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	 align;
	}			 cm[DP_GRO_BUFS];
};

static int
gro_segsz(struct msghdr *mh)
{
	struct cmsghdr	*c;
	int		 v;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v;
		}
	return 0;
}

/*
 * A socket with UDP_GRO: up to DP_GRO_BUFS datagrams, each maybe many
 * same-sized WireGuard packets the kernel coalesced (a GSO-batching
 * sender's, unsplit all the way). Each segment is decrypted from there
 * into a pool buffer, in order, and goes the way a plain datagram goes.
 */
static void
udprx_gro(struct datapath *dp, struct rx_gro *g, int fd)
{
	struct dp_buf	*b;
	size_t		 cnt[DP_GRO_BUFS], total = 0, k, off, seglen, pushed = 0;
	size_t		 direct = 0, data = 0;
	int		 i, n, segsz[DP_GRO_BUFS], parked = TX_PARKED;
	bool		 claimed;

	for (i = 0; i < DP_GRO_BUFS; i++) {
		g->iov[i].iov_base = g->buf[i];
		g->iov[i].iov_len = DP_GRO_SIZE;
		memset(&g->mm[i], 0, sizeof(g->mm[i]));
		g->mm[i].msg_hdr.msg_name = &g->src[i];
		g->mm[i].msg_hdr.msg_namelen = sizeof(g->src[i]);
		g->mm[i].msg_hdr.msg_iov = &g->iov[i];
		g->mm[i].msg_hdr.msg_iovlen = 1;
		g->mm[i].msg_hdr.msg_control = g->cm[i].buf;
		g->mm[i].msg_hdr.msg_controllen = sizeof(g->cm[i].buf);
	}
	if ((n = recvmmsg(fd, g->mm, DP_GRO_BUFS, MSG_DONTWAIT, NULL)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		segsz[i] = gro_segsz(&g->mm[i].msg_hdr);
		cnt[i] = (g->mm[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 :
		    udp_gro_count(g->mm[i].msg_len, segsz[i],
		    dp->bufsize, DP_GRO_SEGS);
		total += cnt[i];
		if (cnt[i] > 1)
			atomic_fetch_add_explicit(&dp->rx_coalesced, 1,
			    memory_order_relaxed);
	}
	/* a few packets and tun-tx asleep with nothing queued: write here */
	claimed = total > 0 && total <= DP_DIRECT_MAX &&
	    ring_empty(&dp->to_tun) &&
	    atomic_compare_exchange_strong(&dp->tx_state, &parked, TX_CLAIMED);
	for (i = 0; i < n; i++) {
		for (k = 0, off = 0; k < cnt[i]; k++, off += seglen) {
			seglen = cnt[i] == 1 ? g->mm[i].msg_len :
			    MINIMUM((size_t)segsz[i], g->mm[i].msg_len - off);
			/* claimed: the ring is empty, every buffer is ours */
			if ((b = rx_take(dp, !claimed)) == NULL)
				break;
			if (rx_deliver(dp, b, g->buf[i] + off, seglen,
			    &g->src[i], claimed, &direct, &data))
				pushed++;
			else
				dp->free_rx[dp->nfree_rx++] = b;
		}
	}
	/*
	 * Many data packets (junk does not count), or every slot filled
	 * with data (the socket had more, coalesced or not): busy.
	 */
	if (data > DP_DIRECT_MAX || (n == DP_GRO_BUFS && data >= (size_t)n))
		dp_busy(dp);
	if (claimed)
		atomic_store(&dp->tx_state, TX_PARKED);
	atomic_thread_fence(memory_order_seq_cst);
	if (pushed > 0 && atomic_load(&dp->tx_state) != TX_ACTIVE)
		efd_signal(dp->ringfd);
	if (direct > 0)
		udprx_tun_inline(dp);
}

/*
 * udp-rx: recvmmsg into pool buffers, wg_input each, hand inner packets
 * to tun-tx through the ring. Handshakes are handled inline here.
 */
static void *
dp_udprx(void *arg)
{
	struct datapath		*dp = arg;
	struct pollfd		 pfd[6];
	struct mmsghdr		 mm[DP_BATCH];
	struct iovec		 iov[DP_BATCH];
	struct sockaddr_storage	 src[DP_BATCH];
	struct dp_buf		*bufs[DP_BATCH], *b;
	struct wg_peer		*peer;
	uint8_t			*plain;
	size_t			 plainlen, pushed, direct, data;
	int			 i, n, r, s, npfd = 0, want, claimed;
	int			 parked = TX_PARKED, one = 1, kick, tun;
	bool			 gro[4] = { false, false, false, false }, big;
	struct rx_gro		 gbufs, *g = &gbufs;

	/*
	 * Nothing allocated (or freed) on this thread: a thread arena that
	 * shrinks makes glibc read /proc/sys/vm/overcommit_memory, which
	 * the sandbox refuses.
	 */
	for (i = 0; i < DP_GRO_BUFS; i++)
		g->buf[i] = dp->gro_mem + (size_t)i * DP_GRO_SIZE;
	pfd[npfd].fd = dp->stopfd;
	pfd[npfd++].events = POLLIN;
	pfd[npfd].fd = dp->pausefd;
	pfd[npfd++].events = POLLIN;
	if (dp->udp4 != -1) {
		pfd[npfd].fd = dp->udp4;
		pfd[npfd++].events = POLLIN;
	}
	if (dp->udp6 != -1) {
		pfd[npfd].fd = dp->udp6;
		pfd[npfd++].events = POLLIN;
	}
	/* UDP GRO where the kernel has it: coalesced datagrams, split here */
	for (s = 2; s < npfd; s++)
		gro[s] = dp->udp_gro && setsockopt(pfd[s].fd, SOL_UDP, UDP_GRO,
		    &one, sizeof(one)) == 0;
	kick = npfd;
	tun = npfd + 1;
	pfd[kick].fd = dp->udprx_kick;
	pfd[kick].events = POLLIN;
	pfd[tun].events = POLLIN;
	while (!atomic_load(&dp->stop)) {
		/* quiet: the TUN's reads are this thread's too */
		pfd[tun].fd = dp->tun_inline && !atomic_load(&dp->tun_split) ?
		    dp->tunfd : -1;
		if (atomic_load(&dp->tun_gone))
			pfd[tun].fd = -1;
		if (poll(pfd, npfd + 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		atomic_fetch_add_explicit(&dp->wakes, 1, memory_order_relaxed);
		if (pfd[0].revents)
			break;
		if (pfd[kick].revents)
			efd_clear(dp->udprx_kick);
		if (atomic_load(&dp->pause_req))
			dp_pause_point(dp);
		if (pfd[tun].revents && !tun_dead(dp, pfd[tun].revents)) {
			/*
			 * tun-rx reads only while busy, and only it ends
			 * busy: no other reader now. The lock keeps the
			 * rule (one reader at a time) all the same.
			 */
			big = false;
			pthread_mutex_lock(&dp->tunrd_mtx);
			n = tun_read_batch(dp, DP_BATCH, &big);
			pthread_mutex_unlock(&dp->tunrd_mtx);
			if (n > 0)
				atomic_fetch_add_explicit(&dp->tx_inline,
				    (uint64_t)n, memory_order_relaxed);
			if (big)
				dp_busy(dp);
		}
		for (s = 2; s < npfd; s++) {
			if (!(pfd[s].revents & POLLIN))
				continue;
			if (gro[s]) {
				udprx_gro(dp, g, pfd[s].fd);
				continue;
			}
			/* buffers the writer has finished with */
			while ((b = ring_pop(&dp->back)) != NULL)
				dp->free_rx[dp->nfree_rx++] = b;
			if (dp->nfree_rx == 0)
				rx_wait_buffers(dp);	/* the socket holds the rest */
			want = MINIMUM((size_t)DP_BATCH, dp->nfree_rx);
			if (want == 0)
				continue;	/* stopping */
			for (i = 0; i < want; i++) {
				bufs[i] = dp->free_rx[--dp->nfree_rx];
				iov[i].iov_base = bufs[i]->data;
				iov[i].iov_len = dp->bufsize;
				memset(&mm[i], 0, sizeof(mm[i]));
				mm[i].msg_hdr.msg_name = &src[i];
				mm[i].msg_hdr.msg_namelen = sizeof(src[i]);
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
			}
			n = recvmmsg(pfd[s].fd, mm, want, MSG_DONTWAIT, NULL);
			pushed = direct = data = 0;
			/*
			 * A few packets and tun-tx asleep with nothing queued:
			 * write them here, sparing a wake-up (latency).
			 */
			claimed = n > 0 && n <= DP_DIRECT_MAX &&
			    ring_empty(&dp->to_tun) &&
			    atomic_compare_exchange_strong(&dp->tx_state,
			    &parked, TX_CLAIMED);
			parked = TX_PARKED;
			for (i = 0; i < n; i++) {
				b = bufs[i];
				if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
					continue;
				r = wg_input(dp->dev, b->data, mm[i].msg_len,
				    &src[i], &plain, &plainlen, &peer);
				if (r != WG_DATA)
					continue;
				if (data++ == 0)
					dp_activity(dp);
				b->off = plain - b->data;
				b->len = plainlen;
				if (claimed) {
					tun_write_one(dp, b);
					direct++;
					continue;
				}
				if (!ring_push(&dp->to_tun, b))
					continue;	/* TUN busy: drop */
				bufs[i] = NULL;		/* tun-tx has it */
				pushed++;
			}
			for (i = 0; i < want; i++)
				if (bufs[i] != NULL)
					dp->free_rx[dp->nfree_rx++] = bufs[i];
			if (claimed)
				atomic_store(&dp->tx_state, TX_PARKED);
			/* a big batch of data, not junk: busy */
			if (data > DP_DIRECT_MAX)
				dp_busy(dp);
			/* the pushes before the look at tun-tx's state */
			atomic_thread_fence(memory_order_seq_cst);
			if (pushed > 0 && atomic_load(&dp->tx_state) != TX_ACTIVE)
				efd_signal(dp->ringfd);
			if (direct > 0)
				udprx_tun_inline(dp);
		}
	}
	return NULL;
}

/* Give a written buffer back to udp-rx, waking it if it waits for one. */
static void
tx_release(struct datapath *dp, struct dp_buf *b)
{
	while (!ring_push(&dp->back, b))
		;	/* back ring is as large as the pool */
	if (atomic_load_explicit(&dp->rx_starved, memory_order_relaxed))
		efd_signal(dp->backfd);
}

/* Write the train, gathered from its buffers, and give them back. */
static void
gro_write(struct datapath *dp, struct gro *g)
{
	struct iovec	*iov;
	size_t		 n;
	int		 cnt, i;

	if ((cnt = gro_finish(g, &iov, &n)) == 0)
		return;
	if (writev(dp->tunfd, iov, cnt) == -1)
		dp->tun_drops++;
	for (i = 0; i < g->nref; i++)
		tx_release(dp, g->ref[i]);
	g->nref = 0;
}

static void
tun_write_one(struct datapath *dp, struct dp_buf *b)
{
	ssize_t	n;

	if (dp->vnet) {
		/* a zero header, over the spent WireGuard header */
		memset(b->data + b->off - VNET_HDR_LEN, 0, VNET_HDR_LEN);
		n = write(dp->tunfd, b->data + b->off - VNET_HDR_LEN,
		    b->len + VNET_HDR_LEN);
	} else
		n = write(dp->tunfd, b->data + b->off, b->len);
	if (n == -1)
		dp->tun_drops++;	/* a full TUN queue drops */
}

/* Take the TUN back from a parked state, waiting out a claim. */
static void
tx_unpark(struct datapath *dp)
{
	int	expect;

	for (;;) {
		expect = TX_PARKED;
		if (atomic_compare_exchange_weak(&dp->tx_state, &expect,
		    TX_ACTIVE))
			return;
		if (expect == TX_ACTIVE)
			return;
		sched_yield();		/* udp-rx is writing a few packets */
	}
}

/* tun-tx: write what udp-rx decrypted, give the buffers back. */
static void *
dp_tuntx(void *arg)
{
	struct datapath	*dp = arg;
	struct pollfd	 pfd[2];
	struct dp_buf	*b;
	struct gro	*g = NULL;
	int		 idle, n;

	if (dp->vnet) {
		/* allocated by dp_new */
		g = dp->tuntx_gro;
		memset(g, 0, sizeof(*g));
	}
	pfd[0].fd = dp->ringfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = dp->stopfd;
	pfd[1].events = POLLIN;
	while (!atomic_load(&dp->stop)) {
		idle = 1;
		while ((b = ring_pop(&dp->to_tun)) != NULL) {
			idle = 0;
			/* a buffer in a train is given back once written */
			if (g != NULL &&
			    gro_append(g, b->data + b->off, b->len, b))
				continue;
			if (g != NULL) {
				gro_write(dp, g);
				if (gro_start(g, b->data + b->off, b->len, b))
					continue;
			}
			tun_write_one(dp, b);
			tx_release(dp, b);
		}
		/* the pushes before the look at udp-rx's flag */
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load(&dp->rx_starved))
			efd_signal(dp->backfd);
		/* nothing more right now: what was coalesced goes out */
		if (g != NULL)
			gro_write(dp, g);
		if (!idle)
			continue;
		/* park; udp-rx may now write a small batch itself */
		atomic_store(&dp->tx_state, TX_PARKED);
		atomic_thread_fence(memory_order_seq_cst);
		/*
		 * No timeout: a push after the fence above sees PARKED and
		 * signals ringfd, stop signals stopfd. An idle tunnel wakes
		 * no packet thread.
		 */
		if (ring_empty(&dp->to_tun)) {
			n = poll(pfd, 2, -1);
			atomic_fetch_add_explicit(&dp->wakes, 1,
			    memory_order_relaxed);
			if (n > 0 && (pfd[0].revents & POLLIN))
				efd_clear(dp->ringfd);
		}
		tx_unpark(dp);
	}
	return NULL;
}

/*
 * tunworker.c -- the WireGuard data plane process: receives the TUN and
 * UDP fds from the parent and the keys and peers from netmgr, runs the
 * packet threads (datapath.c) and, on its libevent thread, the timers.
 * Chrooted, unprivileged, no capabilities, seccomp.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "confmsg.h"
#include "datapath.h"
#include "imsgev.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "aead.h"
#include "timers.h"
#include "tunworker.h"
#include "vpnd.h"
#include "wg.h"
#include "wgtime.h"

#define TICK_MS		100
/*
 * With no handshake for the last LOAD_SLOTS ticks, the control thread
 * sleeps until the next timer is due, for at most TICK_IDLE (protocol
 * time: every timer a packet thread arms is at least that far ahead, so
 * none is late); a dead TUN wakes it at once. A flood does not wait for
 * it: past UNDER_LOAD_RATE handshakes between two ticks the thread that
 * counts them puts the device under load (wg_device_set_load_trip).
 */
#define TICK_IDLE	WG_NSEC_PER_SEC
/*
 * The tick is a timerfd on CLOCK_BOOTTIME, the clock of WireGuard's
 * deadlines (wg_now): a sleep that spans a suspend ends at the resume,
 * as a libevent timer (CLOCK_MONOTONIC, which stops while suspended)
 * would not, so timers due during the suspend and the resume's new
 * handshakes act at once.
 */
/*
 * Under load, handshakes need a cookie (MAC2) and are rate limited per
 * source. Handshakes are processed inline on the receive thread, so the
 * signal is their rate: more than UNDER_LOAD_RATE a second, summed over
 * the last second, and the device stays under load for the next second.
 */
/*
 * vpnd -l: while the tunnel carries packets, and for CPULAT_LINGER after
 * the last, tunworker asks the parent to hold a CPU wake-up latency
 * request (/dev/cpu_dma_latency, which only the parent has open). An idle
 * CPU in a deep sleep state, or a halted vCPU, takes tens of microseconds
 * to wake, and a round trip through the tunnel wakes three threads more
 * than one outside it. A quiet tunnel makes no request, so it costs no
 * power. tunworker can only ask for the latency the administrator gave,
 * or for none.
 */
#define CPULAT_LINGER	WG_NSEC_PER_SEC
#define UNDER_LOAD_RATE	100
#define LOAD_SLOTS	(1000 / TICK_MS)
#define TW_MAX_PEERS	(CONF_MAX_PEERS * HOP_MAX)	/* in the device */

static void	 tw_closed(struct imsgev *);
static void	 tw_sandbox(void);
static void	 tw_tick(int, short, void *);
static void	 tw_tick_fd(int, short, void *);
static void	 tw_tick_open(void);
static void	 tw_tick_set(uint64_t);
static void	 tw_tick_arm(void);
static void	 tw_notify(int, short, void *);
static void	 tw_peer_event(const uint8_t [WG_KEY_LEN], int);
static void	 tw_net_changed(const char *);
static const char *tw_why(uint32_t);
static int64_t	 tw_age_ms(uint64_t);
static void	 tw_reset(void);
static void	 tw_maybe_start(void);
static void	 tw_initiate_one(struct wg_peer *, void *);
static void	 tw_error(const char *);
static void	 tw_configure(const struct tunnel_conf *);
static void	 tw_collect_unseen(struct wg_peer *, void *);
static void	 tw_cpulat_set(bool);
static void	 tw_cpulat_check(void);

static struct imsgev	 iev_parent, iev_netmgr;
static struct vpnd_env	 env;
static struct datapath	*dp;
static int		 have_key;
static int		 pending_tun = -1, pending_udp4 = -1, pending_udp6 = -1;
static bool		 pending_vnet;
static int		 tun_mtu = CONF_DEFAULT_MTU;
static struct event	 ev_tick, ev_notify;
static int		 tick_fd = -1;	/* timerfd, CLOCK_BOOTTIME */
static int		 ev_notify_set;
static int		 tick_armed;	/* no data path: no tick (idle) */
static int		 tick_long;	/* asleep past TICK_MS */
static int		 tun_gone_said;	/* tw_error said it, once per dp */
/* peers named since the last IMSG_WG_IFACE, to drop the others at END */
static struct conf_rx	 wgrx;		/* netmgr's configuration, arriving */
/* ... the keys of the configuration being applied, sorted */
static const uint8_t *applying_keys[TW_MAX_PEERS];
static size_t	 napplying_keys;
struct tw_victims {
	struct wg_peer	*peers[TW_MAX_PEERS];
	size_t		 n;
};
static struct wg_resume	 resume;
/* the load judgement of the data path: a new one starts with none */
static uint64_t		 load_slots[LOAD_SLOTS];
static size_t		 load_slot;
static int		 load_left;
/* vpnd -l: on, and whether the parent was asked to hold the request */
static bool		 cpulat_on;
static bool		 cpulat_held;
static uint64_t		 cpulat_last;	/* wg_now() of the last packet seen */

void
tunworker_main(int verbose)
{
	(void)proc_child_init("tunworker", verbose, &iev_parent,
	    tw_dispatch_parent, tw_closed);
	proc_recv_env(&iev_parent, &env);
#ifdef VPND_TESTHOOKS
	if (env.time_scale > 0)
		wg_time_scale = env.time_scale;
#endif
	/* libcrypto reads its CPU features and provider before the jail */
	if (aead_init() == -1)
		fatalx("libcrypto: no ChaCha20 or Poly1305");
	tw_tick_open();
	tw_sandbox();
	tunworker_state_init();
	event_set(&ev_tick, tick_fd, EV_READ | EV_PERSIST, tw_tick_fd, NULL);
	event_add(&ev_tick, NULL);
	event_dispatch();
	exit(0);
}

/*
 * pledge("stdio recvfd") plus threads, in Linux terms: chroot to an empty
 * directory, _vpnd with no groups and no capabilities, and a seccomp list
 * for packet I/O on the fds it is given.
 */
static void
tw_sandbox(void)
{
	static const char *const extra[] = {
		"recvmmsg", "sendmmsg", "clone", "clone3",
		"set_robust_list", "rseq", "getsockopt", "setsockopt",
		"getsockname", "sched_getaffinity", "membarrier",
		/* glibc on 32-bit (64-bit time_t) calls timerfd_settime64 */
		"timerfd_settime", "timerfd_settime64",
	};

	proc_jail(env.statedir, extra, nitems(extra));
}

/* What the receivers need before the first message (the fuzz harness). */
void
tunworker_state_init(void)
{
	tw_tick_open();
	conf_rx_init(&wgrx);
}

static void
tw_closed(struct imsgev *iev)
{
#ifdef VPND_TESTHOOKS
	/* whichever channel ends first: netmgr's often does, on shutdown */
	proc_testhook_hold();
#endif
	if (iev->proc == PROC_PARENT)
		exit(0);
	fatalx("channel to %s closed", vpnd_proc_names[iev->proc]);
}

static void
tw_error(const char *msg)
{
	struct imsg_result	r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.msg, msg, sizeof(r.msg));
	log_warnx("%s", msg);
	imsgev_compose(&iev_netmgr, IMSG_WG_ERROR, 0, -1, &r, sizeof(r));
}

static void
tw_tick_open(void)
{
	if (tick_fd == -1 && (tick_fd = timerfd_create(CLOCK_BOOTTIME,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
}

/*
 * Arm the tick to fire in ns nanoseconds of CLOCK_BOOTTIME, replacing any
 * pending expiry; 0 disarms it. Either way an expiry not yet read is
 * forgotten (timerfd_settime clears the count).
 */
static void
tw_tick_set(uint64_t ns)
{
	struct itimerspec	its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = ns / WG_NSEC_PER_SEC;
	its.it_value.tv_nsec = ns % WG_NSEC_PER_SEC;
	if (timerfd_settime(tick_fd, 0, &its, NULL) == -1)
		fatal("timerfd_settime");
}

/* The timerfd expired: tick, unless a re-arm since took it back. */
static void
tw_tick_fd(int fd, short ev, void *arg)
{
	uint64_t	n;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	tw_tick(fd, ev, arg);
}

static void
tw_tick(int fd, short ev, void *arg)
{
	uint64_t	sum = 0, next = 0, wait, idle;
	size_t		i;

	if (dp != NULL && have_key) {
		load_slots[load_slot] = dp_handshakes_take(dp);
		load_slot = (load_slot + 1) % LOAD_SLOTS;
		for (i = 0; i < LOAD_SLOTS; i++)
			sum += load_slots[i];
		if (sum > UNDER_LOAD_RATE) {
			if (load_left == 0)
				log_info("under load (%llu handshakes/s): "
				    "cookies required",
				    (unsigned long long)sum);
			load_left = LOAD_SLOTS;
			wg_device_set_under_load(dp_device(dp), true);
		} else if (load_left > 0 && --load_left == 0) {
			log_info("no longer under load");
			wg_device_set_under_load(dp_device(dp), false);
		}
		next = wg_device_tick(dp_device(dp));
	}
	tw_cpulat_check();
	if (dp != NULL && dp_running(dp) && dp_tun_gone(dp) && !tun_gone_said) {
		tun_gone_said = 1;
		tw_error("the tunnel interface is gone");
	}
	if (wg_resumed(&resume))
		tw_net_changed("resumed from suspend");
	/* disconnected, nothing to time: sleep until a data path is made */
	if (dp == NULL) {
		tick_armed = tick_long = 0;
		return;
	}
	wait = TICK_MS * WG_NSEC_PER_MSEC;
	if (sum == 0 && load_left == 0 && !dp_tun_gone(dp)) {
		/* idle: until the next deadline, within TICK_IDLE */
		idle = wg_real_ns(timers_sleep(wg_now(), next, TICK_IDLE));
		if (idle > wait)
			wait = idle;
	}
	tick_long = wait > TICK_MS * WG_NSEC_PER_MSEC;
	tw_tick_set(wait);
}

/*
 * A data path is made: tick again. A suspend while there was none is no
 * news to the new tunnel: the resume check starts afresh.
 */
static void
tw_tick_arm(void)
{
	if (tick_armed)
		return;
	memset(&resume, 0, sizeof(resume));
	(void)wg_resumed(&resume);
	tw_tick_set(TICK_MS * WG_NSEC_PER_MSEC);
	tick_armed = 1;
}

/* Ask the parent for the -l latency, or to withdraw the request. */
static void
tw_cpulat_set(bool hold)
{
	uint8_t	v = hold;

	if (!cpulat_on || hold == cpulat_held)
		return;
	imsgev_compose(&iev_parent, IMSG_CPU_HOLD, 0, -1, &v, sizeof(v));
	cpulat_held = hold;
}

/*
 * On the tick, and on the first packet after a quiet spell (the kick):
 * hold the request while packets move, withdraw it CPULAT_LINGER after
 * the last, and then ask to be woken by the next.
 */
static void
tw_cpulat_check(void)
{
	uint64_t	now;

	if (!cpulat_on || dp == NULL || !dp_running(dp))
		return;
	now = wg_now();
	if (dp_active_take(dp)) {
		cpulat_last = now;
		tw_cpulat_set(true);
	} else if (cpulat_held && now - cpulat_last >= CPULAT_LINGER) {
		tw_cpulat_set(false);
		if (dp_active_kick(dp)) {	/* one came meanwhile */
			cpulat_last = now;
			tw_cpulat_set(true);
		}
	}
}

static void
tw_peer_event(const uint8_t key[WG_KEY_LEN], int ev)
{
	if (ev == WG_EV_PEER_LOST) {
		imsgev_compose(&iev_netmgr, IMSG_WG_PEER_LOST, 0, -1, key,
		    WG_KEY_LEN);
		return;
	}
	imsgev_compose(&iev_netmgr, IMSG_WG_HANDSHAKE, 0, -1, key,
	    WG_KEY_LEN);
#ifdef VPND_TESTHOOKS
	if (env.testhook == TESTHOOK_DATAPLANE_FAIL + 100 * PROC_TUNWORKER)
		tw_error("testhook: injected data plane failure");
#endif
}

/*
 * The path to the peers may have changed (another interface, another
 * source address, a night asleep): handshake again now rather than when
 * a timer notices. The UDP sockets are bound to the wildcard address
 * and route per packet, so they need nothing.
 */
static void
tw_net_changed(const char *why)
{
	size_t	 n;

	if (dp == NULL || !have_key || !dp_running(dp))
		return;
	n = wg_device_network_changed(dp_device(dp));
	log_info("%s: %zu handshake%s started", why, n, n == 1 ? "" : "s");
}

static void
tw_notify(int fd, short ev, void *arg)
{
	if (dp == NULL)
		return;
	dp_notify_drain(dp);
	/* maybe the first packet after a quiet spell (dp_active_kick) */
	if (!cpulat_held)
		tw_cpulat_check();
	/* a peer event or a dead TUN woke a long sleep: tick now */
	if (tick_long)
		tw_tick(-1, 0, NULL);
}

static int
tw_ensure_dp(void)
{
	if (dp != NULL)
		return 0;
	if ((dp = dp_new(tun_mtu, tw_peer_event)) == NULL) {
		tw_error("cannot allocate the data path");
		return -1;
	}
	/* a burst past the rate between two ticks: cookies at once */
	wg_device_set_load_trip(dp_device(dp), UNDER_LOAD_RATE);
	event_set(&ev_notify, dp_notify_fd(dp), EV_READ | EV_PERSIST,
	    tw_notify, NULL);
	event_add(&ev_notify, NULL);
	ev_notify_set = 1;
	if (cpulat_on)
		(void)dp_active_kick(dp);	/* nothing moved yet */
	tw_tick_arm();
	if (pending_tun != -1) {
		dp_set_tun(dp, pending_tun, pending_vnet);
		pending_tun = -1;
	}
	if (pending_udp4 != -1) {
		dp_set_udp(dp, AF_INET, pending_udp4);
		pending_udp4 = -1;
	}
	if (pending_udp6 != -1) {
		dp_set_udp(dp, AF_INET6, pending_udp6);
		pending_udp6 = -1;
	}
	return 0;
}

static void
tw_maybe_start(void)
{
	if (dp == NULL || !have_key || dp_running(dp))
		return;
	/*
	 * A tunnel activated and deactivated at once: its descriptors can
	 * reach this process after netmgr's reset (two channels, no order
	 * between them), to wait for the next activation's key. Its TUN is
	 * deleted by then: start only with the TUN the parent sends next.
	 */
	if (dp_drop_dead_tun(dp))
		log_info("dropped the descriptor of a tunnel already gone");
	if (!dp_ready(dp))
		return;
	if (dp_start(dp) == -1) {
		tw_error("cannot start the packet threads");
		return;
	}
	log_debug("data path running");
}

static void
tw_reset(void)
{
	if (ev_notify_set) {
		event_del(&ev_notify);
		ev_notify_set = 0;
	}
	tw_cpulat_set(false);	/* no tunnel, nothing to be fast for */
	dp_free(dp);		/* joins the threads, zeroes the keys */
	dp = NULL;
	/*
	 * The tick timed that data path: a pending one (up to TICK_IDLE
	 * away) must not carry over to the next, which starts at the
	 * 100 ms tick. tw_ensure_dp arms a fresh one (and the resume
	 * baseline with it).
	 */
	if (tick_armed) {
		tw_tick_set(0);
		tick_armed = tick_long = 0;
	}
	have_key = 0;
	tun_gone_said = 0;
	memset(load_slots, 0, sizeof(load_slots));
	load_slot = 0;
	load_left = 0;
	if (pending_tun != -1)
		close(pending_tun);
	if (pending_udp4 != -1)
		close(pending_udp4);
	if (pending_udp6 != -1)
		close(pending_udp6);
	pending_tun = pending_udp4 = pending_udp6 = -1;
}

/* The log's words for what the parent saw change. */
static const char *
tw_why(uint32_t why)
{
	if (why & NETCHG_OVERRUN)
		return "network changed (events lost)";
	if (why & NETCHG_ROUTE)
		return "default route changed";
	if (why & NETCHG_ADDR)
		return "address changed";
	return "interface changed";
}

void
tw_dispatch_parent(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_tun		 t;
	struct imsg_net_changed	 nc;
	int			 fd, af;

	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_IPC:
		proc_sibling(imsg, PROC_NETMGR, &iev_netmgr,
		    tw_dispatch_netmgr, tw_closed);
		proc_ready();
		break;
	case IMSG_START:
#ifdef VPND_TESTHOOKS
		proc_testhook(env.testhook, PROC_TUNWORKER);
#endif
		break;
	case IMSG_TUN_FD:
		if (imsg_get_data(imsg, &t, sizeof(t)) == -1 ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_TUN_FD");
		/*
		 * The packet threads hold the descriptors in their poll
		 * sets: replacing one under them would have them read a
		 * closed, maybe reused, descriptor. netmgr resets the data
		 * path (IMSG_WG_RESET) before the parent makes a new tunnel.
		 */
		if (dp != NULL && dp_running(dp))
			fatalx("IMSG_TUN_FD while the data path runs");
		if (t.mtu >= CONF_MIN_MTU && t.mtu <= CONF_MAX_MTU)
			tun_mtu = t.mtu;
		if (dp != NULL)
			dp_set_tun(dp, fd, t.vnet_hdr != 0);
		else {
			if (pending_tun != -1)
				close(pending_tun);
			pending_tun = fd;
			pending_vnet = t.vnet_hdr != 0;
		}
		tw_maybe_start();
		break;
	case IMSG_UDP_FD:
		af = imsg_get_id(imsg);
		if ((af != AF_INET && af != AF_INET6) ||
		    (fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_UDP_FD");
		if (dp != NULL && dp_running(dp))
			fatalx("IMSG_UDP_FD while the data path runs");
		if (dp != NULL) {
			dp_set_udp(dp, af, fd);
			/*
			 * netmgr's peers may have come first (another
			 * channel): their initiations to this family had no
			 * socket and were lost. Send them now.
			 */
			if (have_key)
				wg_device_foreach_peer(dp_device(dp),
				    tw_initiate_one, &af);
		} else if (af == AF_INET) {
			if (pending_udp4 != -1)
				close(pending_udp4);
			pending_udp4 = fd;
		} else {
			if (pending_udp6 != -1)
				close(pending_udp6);
			pending_udp6 = fd;
		}
		tw_maybe_start();
		break;
	case IMSG_CPU_LATENCY:
		if (imsg_get_len(imsg) != 0 || cpulat_on)
			fatalx("bad IMSG_CPU_LATENCY");
		cpulat_on = true;
		if (dp != NULL)
			(void)dp_active_kick(dp);
		break;
	case IMSG_NET_CHANGED:
		if (imsg_get_data(imsg, &nc, sizeof(nc)) == -1 ||
		    !netchg_valid(nc.why))
			fatalx("bad IMSG_NET_CHANGED");
		tw_net_changed(tw_why(nc.why));
		break;
	default:
		fatalx("unexpected message %u from the parent",
		    imsg_get_type(imsg));
	}
}

static int
tw_key_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b,
	    WG_KEY_LEN);
}

/*
 * Collect the device's peers the configuration being applied leaves out:
 * its keys are sorted (applying_keys), so a server's thousand peers cost
 * a thousand binary searches, not a million comparisons.
 */
static void
tw_collect_unseen(struct wg_peer *peer, void *arg)
{
	struct tw_victims	*v = arg;
	const uint8_t		*key = wg_peer_pubkey(peer);

	if (bsearch(&key, applying_keys, napplying_keys,
	    sizeof(applying_keys[0]), tw_key_cmp) != NULL)
		return;
	if (v->n < TW_MAX_PEERS)
		v->peers[v->n++] = peer;
}

/*
 * A whole configuration from netmgr: the key, every peer and its allowed
 * IPs; the device's peers it does not name are dropped. The packet
 * threads wait meanwhile, so no packet meets a half-built table.
 */
static void
tw_configure(const struct tunnel_conf *c)
{
	const struct peer_conf	*pc;
	struct wg_peer		*peer;
	struct tw_victims	 victims;
	size_t			 i, j;
	int			 paused = 0;

	tun_mtu = c->mtu > 0 ? c->mtu : CONF_DEFAULT_MTU;
	if (tw_ensure_dp() == -1)
		return;
	if (wg_device_set_private_key(dp_device(dp), c->privkey) == -1) {
		tw_error("bad private key");
		return;
	}
	have_key = 1;
	if (dp_running(dp)) {
		dp_quiesce(dp);
		paused = 1;
	}
	for (i = 0; i < c->npeers; i++) {
		pc = &c->peers[i];
		if ((peer = wg_peer_add(dp_device(dp), pc->pubkey)) == NULL) {
			tw_error("cannot add a peer");
			continue;
		}
		dp_peer_attach(dp, peer);
		wg_peer_set_psk(peer, pc->has_psk ? pc->psk : NULL);
		if (pc->endpoint.ss_family == AF_INET ||
		    pc->endpoint.ss_family == AF_INET6)
			wg_peer_set_endpoint(peer, &pc->endpoint);
		wg_peer_clear_allowedips(dp_device(dp), peer);
		wg_peer_set_keepalive(peer, pc->keepalive);
		for (j = 0; j < pc->naips; j++)
			if (wg_peer_add_allowedip(dp_device(dp), peer,
			    &pc->aips[j]) == -1)
				tw_error("cannot add an allowed IP");
	}
	/* the conf's peers are at most CONF_MAX_PEERS (conf_add_peer) */
	for (i = 0; i < c->npeers && i < nitems(applying_keys); i++)
		applying_keys[i] = c->peers[i].pubkey;
	napplying_keys = i;
	/* heapsort: in place; glibc's qsort may ask sysinfo(2), not allowed */
	if (napplying_keys > 1)
		(void)heapsort(applying_keys, napplying_keys,
		    sizeof(applying_keys[0]), tw_key_cmp);
	victims.n = 0;
	wg_device_foreach_peer(dp_device(dp), tw_collect_unseen, &victims);
	napplying_keys = 0;
	if (victims.n > 0 && !paused) {
		dp_quiesce(dp);
		paused = 1;
	}
	for (i = 0; i < victims.n; i++) {
		dp_peer_forget(dp, victims.peers[i]);
		wg_peer_remove(dp_device(dp), victims.peers[i]);
	}
	if (paused)
		dp_resume(dp);
	wg_device_foreach_peer(dp_device(dp), tw_initiate_one, NULL);
	tw_maybe_start();
}

static int64_t
tw_age_ms(uint64_t age)
{
	if (age == WG_AGE_NEVER)
		return -1;
	return (int64_t)(age / WG_NSEC_PER_MSEC);
}

static void
tw_stats_one(struct wg_peer *peer, void *arg)
{
	struct wg_peer_stats	ws;
	struct imsg_wg_stats	s;

	wg_peer_get_stats(peer, &ws);
	memset(&s, 0, sizeof(s));
	memcpy(s.pubkey, wg_peer_pubkey(peer), WG_KEY_LEN);
	s.rx_bytes = ws.rx_bytes;
	s.tx_bytes = ws.tx_bytes;
	s.last_handshake = ws.last_handshake.tv_sec;
	s.last_handshake_nsec = ws.last_handshake.tv_nsec;
	s.endpoint = ws.endpoint;
	s.keepalive = ws.keepalive;
	s.handshake_age_ms = tw_age_ms(ws.handshake_age);
	s.rx_age_ms = tw_age_ms(ws.rx_age);
	imsgev_compose(&iev_netmgr, IMSG_WG_STATS, 0, -1, &s, sizeof(s));
}

static void
tw_initiate_one(struct wg_peer *peer, void *arg)
{
	struct wg_peer_stats	ws;

	wg_peer_get_stats(peer, &ws);
	/* Clients (peers with an endpoint) connect at once. */
	if (ws.endpoint.ss_family != AF_UNSPEC && ws.handshakes == 0 &&
	    (arg == NULL || ws.endpoint.ss_family == *(int *)arg))
		wg_peer_initiate(peer);
}

void
tw_dispatch_netmgr(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_wg_endpoint	 ep;
	struct wg_peer		*peer;

	switch (imsg_get_type(imsg)) {
	case IMSG_WG_IFACE:
	case IMSG_WG_PEER:
	case IMSG_WG_AIP:
	case IMSG_WG_PEERS_END:
		if (conf_recv(&wgrx, &conf_seq_wg, imsg) == 1) {
			tw_configure(&wgrx.conf);
			conf_rx_free(&wgrx);	/* wipes the keys */
		}
		break;
	case IMSG_WG_ENDPOINT:
		if (imsg_get_data(imsg, &ep, sizeof(ep)) == -1 ||
		    (ep.endpoint.ss_family != AF_INET &&
		    ep.endpoint.ss_family != AF_INET6))
			fatalx("bad IMSG_WG_ENDPOINT");
		if (dp != NULL &&
		    (peer = wg_peer_lookup(dp_device(dp), ep.pubkey)) != NULL) {
			wg_peer_set_endpoint(peer, &ep.endpoint);
			wg_peer_initiate(peer);
		}
		break;
	case IMSG_WG_STATS_REQ:
		if (dp != NULL)
			wg_device_foreach_peer(dp_device(dp), tw_stats_one,
			    NULL);
		imsgev_compose(&iev_netmgr, IMSG_WG_STATS_END, 0, -1, NULL, 0);
		break;
	case IMSG_WG_RESET:
		tw_reset();
		imsgev_compose(&iev_netmgr, IMSG_WG_RESET_DONE, 0, -1, NULL,
		    0);
		break;
	default:
		fatalx("unexpected message %u from netmgr",
		    imsg_get_type(imsg));
	}
}

/*
 * hsgen.c -- what bench_scale.sh needs that wg(8) is too slow or cannot
 * do: many key pairs at once, and a stream of valid WireGuard handshake
 * initiations from many configured peers to one responder.
 *
 * hsgen keys N
 *	N key pairs, "PRIVATE PUBLIC" in base64, one a line.
 *
 * hsgen hs RESP_PUB KEYFILE DEST_V4 PORT SECONDS WINDOW
 *	Reads the "PRIVATE PUBLIC" lines of KEYFILE (the responder's peers)
 *	and sends initiations from them, round robin, to DEST_V4:PORT for
 *	SECONDS, keeping WINDOW of them outstanding: each response (or a
 *	timeout of 250 ms) lets the next one go. Each peer's ephemeral key
 *	and the handshake state up to its static key are made once; a
 *	message then costs one AEAD and a MAC, so the generator is cheap
 *	next to the responder, which does the full work for every one. The
 *	TAI64N timestamp grows by one microsecond per round over the peers,
 *	so no initiation is a replay. mac1 is always valid; a cookie reply
 *	(the responder under load) is opened and its cookie makes mac2 valid
 *	from then on, as a real initiator does. Prints "responses cookies
 *	timeouts seconds" at the end.
 *
 * build (make all: build/hsgen): cc -O2 -D_GNU_SOURCE -o hsgen scripts/hsgen.c
 *        tunworker/blake2s.c -lsodium
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <endian.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../tunworker/blake2s.h"

#define KEYLEN		32
#define B64LEN		44
#define MAXPEERS	100000
#define MAXWIN		4096
#define INIT_LEN	148
#define RESP_LEN	92
#define COOKIE_LEN	64
#define MAC1_OFF	116
#define MAC2_OFF	132
#define TIMEOUT		0.25
#define TAI64_BASE	0x400000000000000aULL

static const char	 construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char	 identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

struct hpeer {
	uint8_t		 msg[INIT_LEN];	/* type .. static filled in */
	uint8_t		 h[32];		/* hash after the static key */
	uint8_t		 k[32];		/* the timestamp's key */
};

struct slot {
	uint32_t	 seq;
	double		 sent;
	uint8_t		 mac1[16];
	int		 busy;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
hash2(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen)
{
	struct blake2s_state	 s;

	blake2s_init(&s, 32);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

static void
seal(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t len,
    const uint8_t ad[32])
{
	static const uint8_t	 nonce[12];

	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, 32,
	    NULL, nonce, key);
}

static void
b64(char out[B64LEN + 1], const uint8_t k[KEYLEN])
{
	sodium_bin2base64(out, B64LEN + 1, k, KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

static int
unb64(uint8_t k[KEYLEN], const char *s)
{
	size_t	 n;

	if (sodium_base642bin(k, KEYLEN, s, strlen(s), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || n != KEYLEN)
		return -1;
	return 0;
}

static int
keys(int argc, char *argv[])
{
	uint8_t		 priv[KEYLEN], pub[KEYLEN];
	char		 a[B64LEN + 1], b[B64LEN + 1];
	long		 i, n;

	if (argc != 3 || (n = atol(argv[2])) <= 0 || n > MAXPEERS)
		errx(2, "usage: hsgen keys N (1..%d)", MAXPEERS);
	for (i = 0; i < n; i++) {
		crypto_box_keypair(pub, priv);	/* X25519, clamped */
		b64(a, priv);
		b64(b, pub);
		printf("%s %s\n", a, b);
	}
	sodium_memzero(priv, sizeof(priv));
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The initiation up to the timestamp, as the Noise IK pattern makes it. */
static int
prepare(struct hpeer *p, const uint8_t spriv[KEYLEN],
    const uint8_t rpub[KEYLEN], const uint8_t h0[32], const uint8_t c0[32])
{
	uint8_t	 epriv[KEYLEN], epub[KEYLEN], spub[KEYLEN], dh[32];
	uint8_t	 c[32], k[32];

	if (crypto_scalarmult_base(spub, spriv) != 0)
		return -1;
	crypto_box_keypair(epub, epriv);
	memset(p->msg, 0, sizeof(p->msg));
	p->msg[0] = 1;
	memcpy(p->msg + 8, epub, 32);
	blake2s_kdf(c, NULL, NULL, c0, 32, epub, 32);
	hash2(p->h, h0, 32, epub, 32);
	if (crypto_scalarmult(dh, epriv, rpub) != 0)
		return -1;
	blake2s_kdf(c, k, NULL, c, 32, dh, 32);
	seal(p->msg + 40, k, spub, 32, p->h);
	hash2(p->h, p->h, 32, p->msg + 40, 48);
	if (crypto_scalarmult(dh, spriv, rpub) != 0)
		return -1;
	blake2s_kdf(c, p->k, NULL, c, 32, dh, 32);
	sodium_memzero(epriv, sizeof(epriv));
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(c, sizeof(c));
	sodium_memzero(k, sizeof(k));
	return 0;
}

static int
hs(int argc, char *argv[])
{
	static struct hpeer	 peers[MAXPEERS];
	static struct slot	 slots[MAXWIN];
	struct sockaddr_in	 dst;
	struct pollfd		 pfd;
	uint8_t			 rpub[KEYLEN], spriv[KEYLEN], mac1key[32];
	uint8_t			 cookiekey[32], cookie[16], msg[INIT_LEN];
	uint8_t			 ts[12], buf[256], c0[32], h0[32];
	char			 line[256], a[128], b[128];
	FILE			*f;
	double			 secs, t0, t;
	uint64_t		 sec, responses = 0, cookies = 0, timeouts = 0;
	uint32_t		 seq = 0, nsec, rcv, round;
	size_t			 npeers = 0, win, i, pi;
	ssize_t			 n;
	int			 s, have_cookie = 0;

	if (argc != 8)
		errx(2, "usage: hsgen hs RESP_PUB KEYFILE DEST_V4 PORT SECONDS "
		    "WINDOW");
	if (unb64(rpub, argv[2]) == -1)
		errx(2, "bad responder key");
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[5]));
	if (inet_pton(AF_INET, argv[4], &dst.sin_addr) != 1)
		errx(2, "bad address");
	secs = atof(argv[6]);
	win = (size_t)atol(argv[7]);
	if (secs <= 0 || win < 1 || win > MAXWIN)
		errx(2, "bad time or window");

	hash2(c0, (const uint8_t *)construction, strlen(construction),
	    NULL, 0);
	hash2(h0, c0, 32, (const uint8_t *)identifier, strlen(identifier));
	hash2(h0, h0, 32, rpub, 32);
	hash2(mac1key, (const uint8_t *)"mac1----", 8, rpub, 32);
	hash2(cookiekey, (const uint8_t *)"cookie--", 8, rpub, 32);

	if ((f = fopen(argv[3], "r")) == NULL)
		err(1, "%s", argv[3]);
	while (npeers < MAXPEERS && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%127s %127s", a, b) != 2 ||
		    unb64(spriv, a) == -1)
			errx(1, "%s: bad line %zu", argv[3], npeers + 1);
		if (prepare(&peers[npeers], spriv, rpub, h0, c0) == -1)
			errx(1, "bad key on line %zu", npeers + 1);
		npeers++;
	}
	fclose(f);
	sodium_memzero(spriv, sizeof(spriv));
	if (npeers == 0)
		errx(1, "no peers");

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	if (connect(s, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		err(1, "connect");
	pfd.fd = s;
	pfd.events = POLLIN;

	sec = htobe64(TAI64_BASE + (uint64_t)time(NULL));
	memcpy(ts, &sec, 8);
	t0 = now();
	while ((t = now()) < t0 + secs) {
		/* fill the window: every free or timed-out slot sends */
		for (i = 0; i < win; i++) {
			if (slots[i].busy && t - slots[i].sent < TIMEOUT)
				continue;
			if (slots[i].busy)
				timeouts++;
			/* the slot is in the sender index's low bits */
			seq++;
			pi = (seq - 1) % npeers;
			round = (seq - 1) / npeers;
			memcpy(msg, peers[pi].msg, INIT_LEN);
			rcv = (seq << 12) | (uint32_t)i;
			memcpy(msg + 4, &(uint32_t){ htole32(rcv) }, 4);
			nsec = htobe32(round * 1000);
			memcpy(ts + 8, &nsec, 4);
			seal(msg + 88, peers[pi].k, ts, 12, peers[pi].h);
			blake2s(msg + MAC1_OFF, 16, msg, MAC1_OFF, mac1key, 32);
			if (have_cookie)
				blake2s(msg + MAC2_OFF, 16, msg, MAC2_OFF,
				    cookie, 16);
			slots[i].seq = rcv;
			slots[i].sent = t;
			slots[i].busy = 1;
			memcpy(slots[i].mac1, msg + MAC1_OFF, 16);
			(void)send(s, msg, INIT_LEN, 0);
		}
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		while ((n = recv(s, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (n == RESP_LEN && buf[0] == 2)
				memcpy(&rcv, buf + 8, 4);
			else if (n == COOKIE_LEN && buf[0] == 3)
				memcpy(&rcv, buf + 4, 4);
			else
				continue;
			rcv = le32toh(rcv);
			i = rcv & 0xfff;
			if (i >= win || !slots[i].busy || slots[i].seq != rcv)
				continue;
			if (buf[0] == 2) {
				responses++;
				slots[i].busy = 0;
				continue;
			}
			/* a cookie reply: sealed to the mac1 we sent */
			if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie,
			    NULL, NULL, buf + 32, 32, slots[i].mac1, 16,
			    buf + 8, cookiekey) != 0)
				continue;
			have_cookie = 1;
			cookies++;
			slots[i].busy = 0;
		}
	}
	printf("%llu %llu %llu %.3f\n", (unsigned long long)responses,
	    (unsigned long long)cookies, (unsigned long long)timeouts,
	    now() - t0);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	if (argc >= 2 && strcmp(argv[1], "keys") == 0)
		return keys(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "hs") == 0)
		return hs(argc, argv);
	errx(2, "usage: hsgen keys N | hsgen hs RESP_PUB KEYFILE DEST_V4 "
	    "PORT SECONDS WINDOW");
}

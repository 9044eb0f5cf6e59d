/*
 * flood.c -- WireGuard initiations with a valid mac1 for the responder's
 * public key, from many IPv6 source addresses, at a set rate: what
 * bench_flood.sh throws at vpnd. Cheap on purpose, so that a flood
 * measures the victim and not the generator: the messages are made once
 * (mac1 does not depend on the source), and go out 64 at a time with
 * sendmmsg(), each with its source in IPV6_PKTINFO (IPV6_FREEBIND). Run
 * only inside a namespace whose lo holds SRC_PREFIX as a local route
 * (AnyIP). Prints "sent rate" at the end.
 *
 * usage: flood PUBKEY_B64 DEST_V6 PORT RATE SECONDS SRC_PREFIX48
 * build: cc -O2 -D_GNU_SOURCE -Itunworker -o flood scripts/flood.c tunworker/blake2s.c
 *        -lsodium
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "blake2s.h"

#define NMSG		4096
#define NSRC		4096
#define BATCH		64
#define INIT_LEN	148
#define MAC1_OFF	116

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	static uint8_t		 msgs[NMSG][INIT_LEN];
	static struct in6_addr	 srcs[NSRC];
	static union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	 align;
	}			 ctl[BATCH];
	struct mmsghdr		 mm[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_in6	 dst;
	struct in6_pktinfo	*pi;
	struct cmsghdr		*cm;
	struct timespec		 nap = { 0, 1000000 };
	uint8_t			 pub[32], key[32], pfx[16];
	size_t			 publen;
	double			 rate, secs, t0, t;
	uint64_t		 sent = 0, due, n = 0;
	int			 s, i, k, one = 1;

	if (argc != 7)
		errx(2, "usage: flood PUBKEY_B64 DEST_V6 PORT RATE SECONDS "
		    "SRC_PREFIX48");
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	if (sodium_base642bin(pub, sizeof(pub), argv[1], strlen(argv[1]),
	    NULL, &publen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    publen != sizeof(pub))
		errx(2, "bad public key");
	memset(&dst, 0, sizeof(dst));
	dst.sin6_family = AF_INET6;
	dst.sin6_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET6, argv[2], &dst.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, argv[6], pfx) != 1)
		errx(2, "bad address");
	rate = atof(argv[4]);
	secs = atof(argv[5]);
	if (rate <= 0 || secs <= 0)
		errx(2, "bad rate or time");

	/* mac1 key: BLAKE2s("mac1----" || responder's public key) */
	{
		uint8_t	 in[8 + 32];

		memcpy(in, "mac1----", 8);
		memcpy(in + 8, pub, 32);
		blake2s(key, 32, in, sizeof(in), NULL, 0);
	}
	for (i = 0; i < NMSG; i++) {
		memset(msgs[i], 0, INIT_LEN);
		msgs[i][0] = 1;		/* type 1, reserved zero */
		randombytes_buf(msgs[i] + 4, MAC1_OFF - 4);
		blake2s(msgs[i] + MAC1_OFF, 16, msgs[i], MAC1_OFF, key, 32);
	}
	/* 4096 /48s of the /32, a random /64 in each */
	for (i = 0; i < NSRC; i++) {
		memcpy(&srcs[i], pfx, 4);
		srcs[i].s6_addr[4] = (i >> 8) & 0xff;
		srcs[i].s6_addr[5] = i & 0xff;
		randombytes_buf(&srcs[i].s6_addr[6], 2);
		memset(&srcs[i].s6_addr[8], 0, 7);
		srcs[i].s6_addr[15] = 1;
	}

	if ((s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	if (setsockopt(s, IPPROTO_IPV6, IPV6_FREEBIND, &one,
	    sizeof(one)) == -1)
		err(1, "IPV6_FREEBIND");
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_len = INIT_LEN;
		mm[i].msg_hdr.msg_name = &dst;
		mm[i].msg_hdr.msg_namelen = sizeof(dst);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = ctl[i].buf;
		mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		cm = CMSG_FIRSTHDR(&mm[i].msg_hdr);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
	}

	t0 = now();
	while ((t = now()) < t0 + secs) {
		due = (uint64_t)((t - t0) * rate);
		while (sent < due) {
			k = due - sent < BATCH ? (int)(due - sent) : BATCH;
			for (i = 0; i < k; i++, n++) {
				iov[i].iov_base = msgs[n % NMSG];
				cm = CMSG_FIRSTHDR(&mm[i].msg_hdr);
				pi = (struct in6_pktinfo *)CMSG_DATA(cm);
				pi->ipi6_addr = srcs[(n * 7) % NSRC];
				pi->ipi6_ifindex = 0;
			}
			/* what the socket does not take is lost, as on a wire */
			(void)sendmmsg(s, mm, k, 0);
			sent += k;
		}
		nanosleep(&nap, NULL);
	}
	t = now() - t0;
	printf("%llu %.1f\n", (unsigned long long)sent, sent / t);
	return 0;
}

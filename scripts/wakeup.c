/*
 * wakeup.c -- part of `make bench`: what one wake-up costs on this machine.
 *
 *	wakeup ROUNDS GAP_US
 *
 * Two processes bounce a 64-byte UDP datagram over loopback, ROUNDS
 * times, GAP_US apart, each blocked in poll(2) between turns: a round
 * trip is two wake-ups of an idle process and nothing else. Prints the
 * median round trip in microseconds. A ping through vpnd wakes three
 * threads that a ping over the bare veth does not (the sender's tun-rx,
 * the peer's udp-rx, which writes the request and reads the kernel's
 * answer itself, then the sender's udp-rx), so half of this, three
 * times, is the floor under what bench.sh reports as the RTT added.
 * Not a test; bounded: a turn that takes over a second fails.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
bound(struct sockaddr_in *sin)
{
	socklen_t	 len = sizeof(*sin);
	int		 s;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = 0;
	if (bind(s, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)sin, &len) == -1)
		err(1, "bind");
	return s;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 a, b;
	struct pollfd		 pfd;
	char			 buf[64] = { 0 };
	double			*rtt, t0;
	pid_t			 pid;
	int			 sa, sb, i, n, gap;
	ssize_t			 r;

	if (argc != 3 || (n = atoi(argv[1])) < 1 || n > 100000 ||
	    (gap = atoi(argv[2])) < 0 || gap > 1000000)
		errx(2, "usage: wakeup ROUNDS GAP_US");
	if ((rtt = calloc(n, sizeof(*rtt))) == NULL)
		err(1, "calloc");
	sa = bound(&a);
	sb = bound(&b);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/* the echo: gone when the parent is */
		close(sa);
		pfd.fd = sb;
		pfd.events = POLLIN;
		for (;;) {
			if (poll(&pfd, 1, 5000) != 1 ||
			    (r = recv(sb, buf, sizeof(buf), 0)) <= 0)
				_exit(0);
			(void)sendto(sb, buf, r, 0, (struct sockaddr *)&a,
			    sizeof(a));
		}
	}
	close(sb);
	pfd.fd = sa;
	pfd.events = POLLIN;
	for (i = 0; i < n; i++) {
		if (gap > 0)
			usleep(gap);
		t0 = now_us();
		if (sendto(sa, buf, sizeof(buf), 0, (struct sockaddr *)&b,
		    sizeof(b)) == -1)
			err(1, "sendto");
		if (poll(&pfd, 1, 1000) != 1 ||
		    recv(sa, buf, sizeof(buf), 0) <= 0) {
			kill(pid, SIGKILL);
			errx(1, "no echo within a second");
		}
		rtt[i] = now_us() - t0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	qsort(rtt, n, sizeof(*rtt), cmp);
	printf("%d\n", (int)rtt[n / 2]);
	free(rtt);
	return 0;
}

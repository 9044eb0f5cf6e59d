/*
 * udp.c -- the data plane's UDP sockets.  The fwmark keeps our encrypted
 * packets out of our own tunnel table (and lets the kill switch tell
 * them apart); setting it needs CAP_NET_ADMIN, which is why the parent
 * opens these and passes them to tunworker.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sys.h"

static int	udp_bufsize(int, int, int);

/* The FORCE variants ignore the rmem_max/wmem_max caps (CAP_NET_ADMIN). */
static int
udp_bufsize(int fd, int force, int plain)
{
	int	size = VPND_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

int
udp_open(int af, uint16_t port, uint32_t mark, uint16_t *bound_port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	socklen_t		 slen;
	int			 fd, one = 1, pmtu, save;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		slen = sizeof(*sin);
	} else if (af == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_any;
		slen = sizeof(*sin6);
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (mark == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_UDP)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1)
		goto fail;
	if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &one, sizeof(one)) == -1)
		goto fail;
	/*
	 * Like kernel WireGuard, send without DF: the ICMP errors that
	 * path MTU discovery needs may well be dropped (by the kill switch
	 * among others), and a fragmented outer packet beats a black hole.
	 */
	if (af == AF_INET) {
		pmtu = IP_PMTUDISC_DONT;
		if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) == -1)
			goto fail;
	} else {
		pmtu = IPV6_PMTUDISC_DONT;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) == -1)
			goto fail;
	}
	if (udp_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF) == -1 ||
	    udp_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1)
		goto fail;
	if (bound_port != NULL) {
		slen = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &slen) == -1)
			goto fail;
		*bound_port = ntohs(af == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return fd;
 fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

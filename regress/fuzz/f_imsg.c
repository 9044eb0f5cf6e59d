/*
 * f_imsg.c -- the imsg framing every receiver runs first: arbitrary bytes
 * from a peer, read through a real socket into an imsgbuf capped at
 * VPND_MAX_IMSG, split into messages; each message is then read the way
 * the receivers do, with exact-size imsg_get_data() for the fixed-size
 * structs and imsg_get_buf() for the variable ones. A lying peer must
 * give an error, never a read past what arrived.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "imsg.h"
#include "vpnd.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const size_t	 sizes[] = {
		0, 1, 4, sizeof(struct prefix),
		sizeof(struct sockaddr_storage), sizeof(struct imsg_net_begin),
		sizeof(struct imsg_result), sizeof(struct imsg_tun), 32, 64,
	};
	static uint8_t		 buf[VPND_MAX_IMSG];
	struct imsgbuf		 ib;
	struct imsg		 imsg;
	size_t			 i;
	ssize_t			 r;
	int			 sv[2], nmsg = 0;

	if (n > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	if (imsgbuf_init(&ib, sv[1]) == -1 ||
	    imsgbuf_set_maxsize(&ib, VPND_MAX_IMSG) == -1)
		abort();
	if (n > 0 && write(sv[0], d, n) != (ssize_t)n)
		abort();
	close(sv[0]);
	for (;;) {
		if ((r = imsgbuf_read(&ib)) == -1 || r == 0)
			break;
		while ((r = imsgbuf_get(&ib, &imsg)) > 0) {
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				(void)imsg_get_data(&imsg, buf, sizes[i]);
			if (imsg_get_len(&imsg) <= sizeof(buf))
				(void)imsg_get_buf(&imsg, buf,
				    imsg_get_len(&imsg));
			(void)imsg_get_type(&imsg);
			(void)imsg_get_id(&imsg);
			imsg_free(&imsg);
			nmsg++;
		}
		if (r == -1)
			break;
	}
	imsgbuf_clear(&ib);
	close(sv[1]);
	(void)nmsg;
	return 0;
}

/*
 * imsg-buffer.c -- bounds-checked byte buffers (struct ibuf), buffer
 * queues and the per-channel reader/writer (struct msgbuf) under imsg.
 *
 * Semantics follow OpenBSD's libutil imsg-buffer.c (2025); see
 * ibuf_add(3).  Linux differences: received descriptors are
 * close-on-exec (MSG_CMSG_CLOEXEC), writes never raise SIGPIPE
 * (MSG_NOSIGNAL), and a failed descriptor transfer is detected with
 * MSG_CTRUNC instead of EMSGSIZE.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "imsg.h"

/* ibuf.fd value of a view onto foreign memory; such an ibuf owns nothing. */
#define IBUF_FD_MARK_ON_STACK	-2

struct ibufqueue {
	TAILQ_HEAD(, ibuf)	 bufs;
	uint32_t		 queued;
};

struct msgbuf {
	struct ibufqueue	 bufs;	/* write queue */
	struct ibufqueue	 rbufs;	/* complete received messages */
	unsigned char		*rbuf;	/* IBUF_READ_SIZE bytes */
	size_t			 roff;	/* unparsed bytes in rbuf */
	size_t			 hdrsize;
	struct ibuf		*rpmsg;	/* message being assembled */
	struct ibuf		*(*readhdr)(struct ibuf *, void *, int *);
	void			*rarg;
	int			 rfd;	/* fd waiting for its header */
	int			 rerr;	/* sticky framing error */
};

static int	 ibuf_realloc(struct ibuf *, size_t);
static void	 ibufq_init(struct ibufqueue *);
static void	 msgbuf_drain(struct msgbuf *, size_t);
static int	 msgbuf_send(int, struct msgbuf *, int);
static int	 msgbuf_recv(int, struct msgbuf *, int);
static int	 msgbuf_process(struct msgbuf *, int);
static void	 close_keep_errno(int);

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if (len == 0) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if ((buf->buf = calloc(len, 1)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max == 0 || max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if (len > 0) {
		if ((buf->buf = calloc(len, 1)) == NULL) {
			free(buf);
			return (NULL);
		}
	}
	buf->size = len;
	buf->max = max;
	buf->fd = -1;
	return (buf);
}

/*
 * Grow so that len more bytes fit.  Growth is geometric (capped by max)
 * so that building a message piece by piece stays linear; recallocarray
 * clears the old block, which may have held key material.
 */
static int
ibuf_realloc(struct ibuf *buf, size_t len)
{
	unsigned char	*b;
	size_t		 need, nsize;

	if (buf->fd == IBUF_FD_MARK_ON_STACK)
		abort();
	if (len > SIZE_MAX - buf->wpos || buf->wpos + len > buf->max) {
		errno = ERANGE;
		return (-1);
	}
	need = buf->wpos + len;
	nsize = buf->size < buf->max / 2 ? buf->size * 2 : buf->max;
	if (nsize < need)
		nsize = need;
	if ((b = recallocarray(buf->buf, buf->size, nsize, 1)) == NULL)
		return (-1);
	buf->buf = b;
	buf->size = nsize;
	return (0);
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	void	*b;

	/* max, not size: imsg_set_maxsize() may lower it below size */
	if (len > SIZE_MAX - buf->wpos || buf->wpos + len > buf->max) {
		errno = ERANGE;
		return (NULL);
	}
	if (buf->wpos + len > buf->size) {
		if (buf->fd == IBUF_FD_MARK_ON_STACK) {
			errno = ERANGE;
			return (NULL);
		}
		if (ibuf_realloc(buf, len) == -1)
			return (NULL);
	}
	if (buf->buf == NULL) {
		/* only reachable for len == 0 on an empty dynamic buffer */
		errno = ERANGE;
		return (NULL);
	}
	b = buf->buf + buf->wpos;
	buf->wpos += len;
	return (b);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*b;

	if (len == 0)
		return (0);
	if ((b = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(b, data, len);
	return (0);
}

int
ibuf_add_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	return (ibuf_add(buf, ibuf_data(from), ibuf_size(from)));
}

int
ibuf_add_zero(struct ibuf *buf, size_t len)
{
	void	*b;

	if (len == 0)
		return (0);
	if ((b = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memset(b, 0, len);
	return (0);
}

int
ibuf_add_n8(struct ibuf *buf, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe16((uint16_t)value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe32((uint32_t)value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n64(struct ibuf *buf, uint64_t value)
{
	value = htobe64(value);
	return (ibuf_add(buf, &value, sizeof(value)));
}

int
ibuf_add_h16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h64(struct ibuf *buf, uint64_t value)
{
	return (ibuf_add(buf, &value, sizeof(value)));
}

/* A fixed-width, NUL-padded string field; truncation is an error. */
int
ibuf_add_strbuf(struct ibuf *buf, const char *str, size_t len)
{
	char	*b;
	size_t	 n;

	n = strnlen(str, len);
	if (n >= len) {
		/* also covers len == 0 */
		errno = EOVERFLOW;
		return (-1);
	}
	if ((b = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(b, str, n);
	memset(b + n, 0, len - n);
	return (0);
}

void *
ibuf_seek(struct ibuf *buf, size_t pos, size_t len)
{
	/* only the part between rpos and wpos may be touched */
	if (pos > ibuf_size(buf) || len > ibuf_size(buf) - pos ||
	    buf->buf == NULL) {
		errno = ERANGE;
		return (NULL);
	}
	return (buf->buf + buf->rpos + pos);
}

int
ibuf_set(struct ibuf *buf, size_t pos, const void *data, size_t len)
{
	void	*b;

	if ((b = ibuf_seek(buf, pos, len)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(b, data, len);
	return (0);
}

int
ibuf_set_n8(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe16((uint16_t)value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe32((uint32_t)value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n64(struct ibuf *buf, size_t pos, uint64_t value)
{
	value = htobe64(value);
	return (ibuf_set(buf, pos, &value, sizeof(value)));
}

int
ibuf_set_h16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h64(struct ibuf *buf, size_t pos, uint64_t value)
{
	return (ibuf_set(buf, pos, &value, sizeof(value)));
}

/* Lower the growth limit; never below what is already written. */
int
ibuf_set_maxsize(struct ibuf *buf, size_t max)
{
	if (buf->fd == IBUF_FD_MARK_ON_STACK) {
		errno = EINVAL;
		return (-1);
	}
	if (max > buf->max || max < buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	buf->max = max;
	return (0);
}

void *
ibuf_data(const struct ibuf *buf)
{
	if (buf->buf == NULL)
		return (NULL);
	return (buf->buf + buf->rpos);
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

size_t
ibuf_left(const struct ibuf *buf)
{
	if (buf->fd == IBUF_FD_MARK_ON_STACK)
		return (0);
	return (buf->max - buf->wpos);
}

int
ibuf_truncate(struct ibuf *buf, size_t len)
{
	if (ibuf_size(buf) >= len) {
		buf->wpos = buf->rpos + len;
		return (0);
	}
	if (buf->fd == IBUF_FD_MARK_ON_STACK) {
		/* a view cannot grow */
		errno = ERANGE;
		return (-1);
	}
	return (ibuf_add_zero(buf, len - ibuf_size(buf)));
}

void
ibuf_rewind(struct ibuf *buf)
{
	buf->rpos = 0;
}

void
ibuf_close(struct msgbuf *msgbuf, struct ibuf *buf)
{
	ibufq_push(&msgbuf->bufs, buf);
}

void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->max = buf->wpos = len;
	buf->fd = IBUF_FD_MARK_ON_STACK;
}

void
ibuf_from_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	ibuf_from_buffer(buf, ibuf_data(from), ibuf_size(from));
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_ibuf(struct ibuf *buf, size_t len, struct ibuf *new)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	ibuf_from_buffer(new, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_n8(struct ibuf *buf, uint8_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n16(struct ibuf *buf, uint16_t *value)
{
	uint16_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be16toh(v);
	return (0);
}

int
ibuf_get_n32(struct ibuf *buf, uint32_t *value)
{
	uint32_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be32toh(v);
	return (0);
}

int
ibuf_get_n64(struct ibuf *buf, uint64_t *value)
{
	uint64_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be64toh(v);
	return (0);
}

int
ibuf_get_h16(struct ibuf *buf, uint16_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h32(struct ibuf *buf, uint32_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h64(struct ibuf *buf, uint64_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

char *
ibuf_get_string(struct ibuf *buf, size_t len)
{
	char	*str;

	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (NULL);
	}
	if (len == 0)
		return (strdup(""));
	if ((str = strndup(ibuf_data(buf), len)) == NULL)
		return (NULL);
	buf->rpos += len;
	return (str);
}

int
ibuf_get_strbuf(struct ibuf *buf, char *str, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (ibuf_get(buf, str, len) == -1)
		return (-1);
	if (str[len - 1] != '\0') {
		str[len - 1] = '\0';
		errno = EOVERFLOW;
		return (-1);
	}
	return (0);
}

int
ibuf_skip(struct ibuf *buf, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	buf->rpos += len;
	return (0);
}

void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno;

	if (buf == NULL)
		return;
	/* freeing a view would free someone else's memory */
	if (buf->fd == IBUF_FD_MARK_ON_STACK)
		abort();
	saved_errno = errno;
	if (buf->fd >= 0)
		close(buf->fd);
	freezero(buf->buf, buf->size);
	free(buf);
	errno = saved_errno;
}

int
ibuf_fd_avail(struct ibuf *buf)
{
	return (buf->fd >= 0);
}

int
ibuf_fd_get(struct ibuf *buf)
{
	int	 fd;

	/* negative values are internal markers, never descriptors */
	if (buf->fd < 0)
		return (-1);
	fd = buf->fd;
	buf->fd = -1;
	return (fd);
}

void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd == IBUF_FD_MARK_ON_STACK)
		abort();
	if (buf->fd >= 0)
		close_keep_errno(buf->fd);
	buf->fd = fd >= 0 ? fd : -1;
}

/*
 * Buffer queues.
 */

static void
ibufq_init(struct ibufqueue *bufq)
{
	TAILQ_INIT(&bufq->bufs);
	bufq->queued = 0;
}

struct ibufqueue *
ibufq_new(void)
{
	struct ibufqueue *bufq;

	if ((bufq = calloc(1, sizeof(*bufq))) == NULL)
		return (NULL);
	ibufq_init(bufq);
	return (bufq);
}

void
ibufq_free(struct ibufqueue *bufq)
{
	if (bufq == NULL)
		return;
	ibufq_flush(bufq);
	free(bufq);
}

struct ibuf *
ibufq_pop(struct ibufqueue *bufq)
{
	struct ibuf	*buf;

	if ((buf = TAILQ_FIRST(&bufq->bufs)) == NULL)
		return (NULL);
	TAILQ_REMOVE(&bufq->bufs, buf, entry);
	bufq->queued--;
	return (buf);
}

void
ibufq_push(struct ibufqueue *bufq, struct ibuf *buf)
{
	/* a queued view would outlive the memory it points at */
	if (buf->fd == IBUF_FD_MARK_ON_STACK)
		abort();
	TAILQ_INSERT_TAIL(&bufq->bufs, buf, entry);
	bufq->queued++;
}

uint32_t
ibufq_queuelen(struct ibufqueue *bufq)
{
	return (bufq->queued);
}

void
ibufq_concat(struct ibufqueue *to, struct ibufqueue *from)
{
	to->queued += from->queued;
	TAILQ_CONCAT(&to->bufs, &from->bufs, entry);
	from->queued = 0;
}

void
ibufq_flush(struct ibufqueue *bufq)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&bufq->bufs)) != NULL) {
		TAILQ_REMOVE(&bufq->bufs, buf, entry);
		ibuf_free(buf);
	}
	bufq->queued = 0;
}

/*
 * Channels.
 */

struct msgbuf *
msgbuf_new(void)
{
	struct msgbuf	*msgbuf;

	if ((msgbuf = calloc(1, sizeof(*msgbuf))) == NULL)
		return (NULL);
	ibufq_init(&msgbuf->bufs);
	ibufq_init(&msgbuf->rbufs);
	msgbuf->rfd = -1;
	return (msgbuf);
}

/*
 * A msgbuf that also reads: readhdr() is called with a view of each new
 * header (hdrsize bytes) and returns a buffer sized for the whole
 * message, or NULL to reject the stream.  It may take the received fd
 * from *fd (setting it to -1).
 */
struct msgbuf *
msgbuf_new_reader(size_t hdrsize,
    struct ibuf *(*readhdr)(struct ibuf *, void *, int *), void *arg)
{
	struct msgbuf	*msgbuf;
	unsigned char	*rbuf;

	if (hdrsize == 0 || hdrsize > IBUF_READ_SIZE / 2 || readhdr == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((rbuf = malloc(IBUF_READ_SIZE)) == NULL)
		return (NULL);
	if ((msgbuf = msgbuf_new()) == NULL) {
		free(rbuf);
		return (NULL);
	}
	msgbuf->rbuf = rbuf;
	msgbuf->hdrsize = hdrsize;
	msgbuf->readhdr = readhdr;
	msgbuf->rarg = arg;
	return (msgbuf);
}

void
msgbuf_free(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return;
	msgbuf_clear(msgbuf);
	freezero(msgbuf->rbuf, msgbuf->rbuf != NULL ? IBUF_READ_SIZE : 0);
	free(msgbuf);
}

void
msgbuf_clear(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return;
	ibufq_flush(&msgbuf->bufs);
	ibufq_flush(&msgbuf->rbufs);
	ibuf_free(msgbuf->rpmsg);
	msgbuf->rpmsg = NULL;
	msgbuf->roff = 0;
	if (msgbuf->rfd != -1)
		close_keep_errno(msgbuf->rfd);
	msgbuf->rfd = -1;
}

uint32_t
msgbuf_queuelen(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return (0);
	return (ibufq_queuelen(&msgbuf->bufs));
}

struct ibuf *
msgbuf_get(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return (NULL);
	return (ibufq_pop(&msgbuf->rbufs));
}

void
msgbuf_concat(struct msgbuf *msgbuf, struct ibufqueue *from)
{
	ibufq_concat(&msgbuf->bufs, from);
}

/* Forget n written bytes from the head of the write queue. */
static void
msgbuf_drain(struct msgbuf *msgbuf, size_t n)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&msgbuf->bufs.bufs)) != NULL) {
		if (n < ibuf_size(buf)) {
			buf->rpos += n;
			return;
		}
		n -= ibuf_size(buf);
		TAILQ_REMOVE(&msgbuf->bufs.bufs, buf, entry);
		msgbuf->bufs.queued--;
		ibuf_free(buf);
	}
}

/*
 * Write as much of the queue as one call takes.  With fdpass, a buffer
 * carrying an fd always starts a sendmsg and at most one fd goes per
 * call, so the receiver can tie the fd to the first message it reads
 * from that call.  Without fdpass, attached fds are simply closed when
 * their buffer is drained.
 */
static int
msgbuf_send(int fd, struct msgbuf *msgbuf, int fdpass)
{
	struct iovec	 iov[IOV_MAX];
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf, *fdbuf = NULL;
	ssize_t		 n;
	int		 i = 0;

	if (msgbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	TAILQ_FOREACH(buf, &msgbuf->bufs.bufs, entry) {
		if (i >= IOV_MAX)
			break;
		if (fdpass && i > 0 && buf->fd >= 0)
			break;
		iov[i].iov_base = ibuf_data(buf);
		iov[i].iov_len = ibuf_size(buf);
		i++;
		if (fdpass && buf->fd >= 0)
			fdbuf = buf;
	}
	if (i == 0)
		return (0);

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (fdbuf != NULL) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fdbuf->fd, sizeof(int));
	}

 again:
	if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)
			return (0);
		if (errno == ENOTSOCK && fdbuf == NULL) {
			/* plain writes may also go down a pipe */
			while ((n = writev(fd, iov, i)) == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == ENOBUFS)
					return (0);
				return (-1);
			}
		} else
			return (-1);
	}

	/*
	 * Once any byte went, the fd went with it (it rides on the first
	 * byte of the call), so our copy is closed now; a partial write of
	 * the rest must not send it again.
	 */
	if (fdbuf != NULL) {
		close(fdbuf->fd);
		fdbuf->fd = -1;
	}
	msgbuf_drain(msgbuf, n);
	return (0);
}

int
ibuf_write(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_send(fd, msgbuf, 0));
}

int
msgbuf_write(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_send(fd, msgbuf, 1));
}

static void
close_keep_errno(int fd)
{
	int	 saved_errno = errno;

	close(fd);
	errno = saved_errno;
}

/*
 * Split the read buffer into messages.  fd is the descriptor received
 * with this read (or -1); it belongs to the first new header carrying
 * IMSG_FD_MARK.  A header cut off at the end of the read buffer keeps the
 * fd for the next round; any other unclaimed fd is closed.
 */
static int
msgbuf_process(struct msgbuf *msgbuf, int fd)
{
	struct ibuf	 rbuf, view;
	size_t		 sz;
	int		 held, first = 1;

	held = msgbuf->rfd;
	msgbuf->rfd = -1;
	ibuf_from_buffer(&rbuf, msgbuf->rbuf, msgbuf->roff);

	while (ibuf_size(&rbuf) > 0) {
		if (msgbuf->rpmsg == NULL) {
			if (ibuf_size(&rbuf) < msgbuf->hdrsize)
				break;
			ibuf_from_buffer(&view, ibuf_data(&rbuf),
			    msgbuf->hdrsize);
			if (first && held != -1) {
				msgbuf->rpmsg = msgbuf->readhdr(&view,
				    msgbuf->rarg, &held);
				if (held != -1)
					close_keep_errno(held);
				held = -1;
			} else
				msgbuf->rpmsg = msgbuf->readhdr(&view,
				    msgbuf->rarg, &fd);
			first = 0;
			if (msgbuf->rpmsg == NULL)
				goto fail;
		}

		sz = MINIMUM(ibuf_left(msgbuf->rpmsg), ibuf_size(&rbuf));
		if (ibuf_get_ibuf(&rbuf, sz, &view) == -1 ||
		    ibuf_add_ibuf(msgbuf->rpmsg, &view) == -1)
			goto fail;
		if (ibuf_left(msgbuf->rpmsg) == 0) {
			ibufq_push(&msgbuf->rbufs, msgbuf->rpmsg);
			msgbuf->rpmsg = NULL;
		}
	}

	if (ibuf_size(&rbuf) > 0)
		memmove(msgbuf->rbuf, ibuf_data(&rbuf), ibuf_size(&rbuf));
	msgbuf->roff = ibuf_size(&rbuf);

	if (held != -1) {
		/* the header it belongs to is still incomplete */
		msgbuf->rfd = held;
		if (fd != -1)
			close_keep_errno(fd);
	} else if (fd != -1) {
		if (msgbuf->roff > 0)
			msgbuf->rfd = fd;
		else
			close_keep_errno(fd);
	}
	return (1);

 fail:
	/* the stream cannot be framed any more: refuse all further reads */
	msgbuf->rerr = errno != 0 ? errno : EBADMSG;
	if (held != -1)
		close_keep_errno(held);
	if (fd != -1)
		close_keep_errno(fd);
	msgbuf->roff = 0;
	return (-1);
}

/*
 * One recvmsg into the free tail of the read buffer.  Control data is
 * always requested, even without fdpass, so a descriptor the peer should
 * not have sent is closed here rather than left to chance.
 */
static int
msgbuf_recv(int fd, struct msgbuf *msgbuf, int fdpass)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 i, nfds;
	int		 f, rfd = -1;

	if (msgbuf == NULL || msgbuf->rbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (msgbuf->rerr != 0) {
		errno = msgbuf->rerr;
		return (-1);
	}

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = msgbuf->rbuf + msgbuf->roff;
	iov.iov_len = IBUF_READ_SIZE - msgbuf->roff;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

 again:
	if ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		/* the buffer's padding may hold a second fd: close extras */
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (fdpass && rfd == -1)
				rfd = f;
			else
				close_keep_errno(f);
		}
	}
	/*
	 * Truncated control data means the fd transfer failed (no slot,
	 * RLIMIT_NOFILE, or a peer sending several): the message arrives
	 * without it, as OpenBSD does on EMSGSIZE.
	 */
	if ((msg.msg_flags & MSG_CTRUNC) && rfd != -1) {
		close_keep_errno(rfd);
		rfd = -1;
	}

	if (n == 0) {
		if (rfd != -1)
			close_keep_errno(rfd);
		return (0);
	}
	msgbuf->roff += n;
	return (msgbuf_process(msgbuf, rfd));
}

int
ibuf_read(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_recv(fd, msgbuf, 0));
}

int
msgbuf_read(int fd, struct msgbuf *msgbuf)
{
	return (msgbuf_recv(fd, msgbuf, 1));
}

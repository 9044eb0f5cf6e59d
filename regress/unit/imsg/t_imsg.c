/*
 * t_imsg.c -- the imsg channel: framing, ordering, fd passing, partial
 * I/O and hostile peers; plus the bounds-checked ibuf reader.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "imsg.h"
#include "tap.h"

#define WAIT_MS		5000	/* bound for any single poll */
#define PUMP_ROUNDS	100000

struct chan {
	int		 sv[2];
	struct imsgbuf	 a;	/* writer side, sv[0] */
	struct imsgbuf	 b;	/* reader side, sv[1] */
};

static int	 count_fds(void);
static void	 chan_open(struct chan *, int, int, int);
static void	 chan_close(struct chan *);
static int	 wait_readable(int);
static int	 get_one(struct imsgbuf *, struct imsg *);
static int	 raw_write(int, const void *, size_t);
static void	 fill(unsigned char *, size_t, uint32_t);
static int	 check_fill(const unsigned char *, size_t, uint32_t);
static void	 hdr_bytes(unsigned char *, uint32_t, uint32_t);

static void	 t_ibuf_basics(void);
static void	 t_ibuf_short(void);
static void	 t_roundtrip_sizes(void);
static void	 t_big_maxsize(void);
static void	 t_many_in_one_read(void);
static void	 t_ordering(void);
static void	 t_fdpass(void);
static void	 t_fd_interleaved(void);
static void	 t_fd_no_fdpass(void);
static void	 t_partial_io(void);
static void	 t_byte_by_byte(void);
static void	 t_hostile_headers(void);
static void	 t_lying_len(void);
static void	 t_garbage(void);
static void	 t_fd_hostile(void);
static void	 t_get_data(void);
static void	 t_builders(void);
static void	 t_eof_epipe(void);

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* the directory's own fd */
}

static void
chan_open(struct chan *c, int fdpass_a, int fdpass_b, int nonblock)
{
	int	 type = SOCK_STREAM | SOCK_CLOEXEC;

	if (nonblock)
		type |= SOCK_NONBLOCK;
	if (socketpair(AF_UNIX, type, 0, c->sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	if (imsgbuf_init(&c->a, c->sv[0]) == -1 ||
	    imsgbuf_init(&c->b, c->sv[1]) == -1) {
		perror("imsgbuf_init");
		exit(1);
	}
	if (fdpass_a)
		imsgbuf_allow_fdpass(&c->a);
	if (fdpass_b)
		imsgbuf_allow_fdpass(&c->b);
}

static void
chan_close(struct chan *c)
{
	imsgbuf_clear(&c->a);
	imsgbuf_clear(&c->b);
	if (c->sv[0] != -1)
		close(c->sv[0]);
	if (c->sv[1] != -1)
		close(c->sv[1]);
}

static int
wait_readable(int fd)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };

	return (poll(&pfd, 1, WAIT_MS) == 1);
}

/* Next message from b, reading as needed: 1 got one, 0 EOF, -1 error. */
static int
get_one(struct imsgbuf *b, struct imsg *imsg)
{
	int	 n, i;

	for (i = 0; i < PUMP_ROUNDS; i++) {
		if ((n = imsgbuf_get(b, imsg)) != 0)
			return (n);
		if (!wait_readable(b->fd))
			return (-1);
		if ((n = imsgbuf_read(b)) != 1)
			return (n);
	}
	return (-1);
}

static int
raw_write(int fd, const void *p, size_t len)
{
	return (write(fd, p, len) == (ssize_t)len ? 0 : -1);
}

/* Payload pattern that depends on position and message number. */
static void
fill(unsigned char *p, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static int
check_fill(const unsigned char *p, size_t len, uint32_t seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed * 31 + i * 7 + (i >> 8)))
			return (0);
	return (1);
}

static void
hdr_bytes(unsigned char *out, uint32_t type, uint32_t len)
{
	struct imsg_hdr	 h = { .type = type, .len = len, .peerid = 7,
	    .pid = 1 };

	memcpy(out, &h, sizeof(h));
}

static void
t_ibuf_basics(void)
{
	struct ibuf	*b, view, view2;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	unsigned char	 raw[4] = { 1, 2, 3, 4 }, *p;
	char		 s[8], *str;
	int		 p2[2];

	b = ibuf_dynamic(4, 64);
	ok(b != NULL, "ibuf_dynamic");
	ok(ibuf_add_n8(b, 0xab) == 0 && ibuf_add_n16(b, 0x1234) == 0 &&
	    ibuf_add_n32(b, 0xdeadbeef) == 0 &&
	    ibuf_add_n64(b, 0x0102030405060708ULL) == 0,
	    "network-order adds grow a dynamic buffer");
	is_int(ibuf_size(b), 15, "size after adds");
	is_mem(ibuf_data(b), "\xab\x12\x34\xde\xad\xbe\xef\x01\x02\x03\x04"
	    "\x05\x06\x07\x08", 15, "network byte order on the wire");
	errno = 0;
	ok(ibuf_add_n8(b, 256) == -1 && errno == EINVAL, "n8 range checked");
	errno = 0;
	ok(ibuf_add_n16(b, 0x10000) == -1 && errno == EINVAL,
	    "n16 range checked");
	errno = 0;
	ok(ibuf_add_h32(b, 0x100000000ULL) == -1 && errno == EINVAL,
	    "h32 range checked");
	ok(ibuf_add_h16(b, 0xbeef) == 0 && ibuf_add_h32(b, 0xcafef00d) == 0 &&
	    ibuf_add_h64(b, 42) == 0, "host-order adds");
	ok(ibuf_get_n8(b, &u8) == 0 && u8 == 0xab, "get_n8");
	ok(ibuf_get_n16(b, &u16) == 0 && u16 == 0x1234, "get_n16");
	ok(ibuf_get_n32(b, &u32) == 0 && u32 == 0xdeadbeef, "get_n32");
	ok(ibuf_get_n64(b, &u64) == 0 && u64 == 0x0102030405060708ULL,
	    "get_n64");
	ok(ibuf_get_h16(b, &u16) == 0 && u16 == 0xbeef, "get_h16");
	ok(ibuf_get_h32(b, &u32) == 0 && u32 == 0xcafef00d, "get_h32");
	ok(ibuf_get_h64(b, &u64) == 0 && u64 == 42, "get_h64");
	is_int(ibuf_size(b), 0, "everything consumed");
	ibuf_rewind(b);
	is_int(ibuf_size(b), 29, "rewind restores the read position");

	ok(ibuf_set_n16(b, 1, 0x5678) == 0 &&
	    memcmp((unsigned char *)ibuf_data(b) + 1, "\x56\x78", 2) == 0,
	    "ibuf_set_n16 patches in place");
	errno = 0;
	ok(ibuf_set(b, 28, raw, 2) == -1 && errno == ERANGE,
	    "ibuf_set past wpos refused");
	ok(ibuf_seek(b, 29, 0) != NULL && ibuf_seek(b, 30, 0) == NULL,
	    "ibuf_seek bounds");
	errno = 0;
	ok(ibuf_add_zero(b, 64) == -1 && errno == ERANGE,
	    "growth beyond max refused");
	is_int(ibuf_left(b), 64 - 29, "ibuf_left");
	ok(ibuf_truncate(b, 3) == 0 && ibuf_size(b) == 3, "truncate shrinks");
	ok(ibuf_truncate(b, 6) == 0 && ibuf_size(b) == 6 &&
	    memcmp((unsigned char *)ibuf_data(b) + 3, "\0\0\0", 3) == 0,
	    "truncate zero-extends");
	ibuf_free(b);

	b = ibuf_open(4);
	ok(b != NULL && ibuf_add(b, raw, 4) == 0, "ibuf_open fixed buffer");
	errno = 0;
	ok(ibuf_add(b, raw, 1) == -1 && errno == ERANGE,
	    "fixed buffer does not grow");
	ok((p = ibuf_reserve(b, 0)) != NULL, "reserve 0 on a full buffer");
	ibuf_free(b);
	errno = 0;
	ok(ibuf_open(0) == NULL && errno == EINVAL, "ibuf_open(0) refused");
	errno = 0;
	ok(ibuf_dynamic(10, 5) == NULL && errno == EINVAL,
	    "ibuf_dynamic len > max refused");

	b = ibuf_dynamic(0, 100);
	errno = 0;
	ok(ibuf_add_strbuf(b, "toolong", 7) == -1 && errno == EOVERFLOW,
	    "add_strbuf refuses truncation");
	ok(ibuf_add_strbuf(b, "abc", 8) == 0 && ibuf_size(b) == 8 &&
	    memcmp(ibuf_data(b), "abc\0\0\0\0\0", 8) == 0,
	    "add_strbuf NUL-pads");
	ok(ibuf_add(b, "xyzw", 4) == 0, "add raw");
	ok(ibuf_get_strbuf(b, s, 8) == 0 && strcmp(s, "abc") == 0,
	    "get_strbuf");
	errno = 0;
	ok(ibuf_get_strbuf(b, s, 4) == -1 && errno == EOVERFLOW &&
	    strcmp(s, "xyz") == 0, "get_strbuf on unterminated data");
	ibuf_rewind(b);
	ok((str = ibuf_get_string(b, 3)) != NULL && strcmp(str, "abc") == 0,
	    "get_string");
	free(str);

	ibuf_from_ibuf(&view, b);
	is_int(ibuf_size(&view), ibuf_size(b), "from_ibuf views the rest");
	ok(ibuf_skip(&view, 5) == 0 && ibuf_size(b) == 9,
	    "consuming a view leaves the source alone");
	ok(ibuf_get_ibuf(&view, 4, &view2) == 0 && ibuf_size(&view2) == 4 &&
	    memcmp(ibuf_data(&view2), "xyzw", 4) == 0, "get_ibuf sub-view");
	is_int(ibuf_left(&view2), 0, "a view has no room to grow");
	errno = 0;
	ok(ibuf_add(&view2, "x", 1) == -1 && errno == ERANGE,
	    "a view cannot be appended to");
	ibuf_from_buffer(&view, raw, sizeof(raw));
	ok(ibuf_get_n32(&view, &u32) == 0 && u32 == 0x01020304,
	    "from_buffer");

	/* fd ownership */
	if (pipe(p2) == -1)
		exit(1);
	ok(!ibuf_fd_avail(b), "no fd by default");
	ibuf_fd_set(b, p2[0]);
	ok(ibuf_fd_avail(b), "fd attached");
	is_int(ibuf_fd_get(b), p2[0], "fd handed back");
	is_int(ibuf_fd_get(b), -1, "only once");
	ibuf_fd_set(b, p2[0]);
	errno = 12345;
	ibuf_free(b);
	is_int(errno, 12345, "ibuf_free preserves errno");
	ok(fcntl(p2[0], F_GETFD) == -1 && errno == EBADF,
	    "ibuf_free closes the attached fd");
	close(p2[1]);
	ibuf_free(NULL);
	ok(1, "ibuf_free(NULL) returned (did not crash)");
}

/* Every getter fails with EBADMSG on short data and consumes nothing. */
static void
t_ibuf_short(void)
{
	unsigned char	 raw[7] = "abcdefg", out[8];
	struct ibuf	 b, v;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	char		 s[8];
	int		 all = 1;

#define SHORT(expr, n) do {						\
	ibuf_from_buffer(&b, raw, (n));					\
	errno = 0;							\
	if (!((expr) == -1 && errno == EBADMSG &&			\
	    ibuf_size(&b) == (n))) {					\
		diag("%s on %d bytes", #expr, (n));			\
		all = 0;						\
	}								\
} while (0)
	SHORT(ibuf_get_n8(&b, &u8), 0);
	SHORT(ibuf_get_n16(&b, &u16), 1);
	SHORT(ibuf_get_n32(&b, &u32), 3);
	SHORT(ibuf_get_n64(&b, &u64), 7);
	SHORT(ibuf_get_h16(&b, &u16), 1);
	SHORT(ibuf_get_h32(&b, &u32), 3);
	SHORT(ibuf_get_h64(&b, &u64), 7);
	SHORT(ibuf_get(&b, out, 8), 7);
	SHORT(ibuf_get_ibuf(&b, 8, &v), 7);
	SHORT(ibuf_skip(&b, 8), 7);
	SHORT(ibuf_get_strbuf(&b, s, 8), 7);
#undef SHORT
	ok(all, "all getters give EBADMSG on short data");
	ibuf_from_buffer(&b, raw, 3);
	errno = 0;
	ok(ibuf_get_string(&b, 4) == NULL && errno == EBADMSG,
	    "get_string on short data");
	errno = 0;
	ok(ibuf_get_strbuf(&b, s, 0) == -1 && errno == EINVAL,
	    "get_strbuf with len 0");
}

static void
t_roundtrip_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE };
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	*buf;
	size_t		 i, len;
	int		 good;

	buf = malloc(MAX_IMSGSIZE + 2);
	chan_open(&c, 0, 0, 0);
	for (i = 0; i < nitems(sizes); i++) {
		len = sizes[i];
		fill(buf, len, i);
		ok(imsg_compose(&c.a, 100 + i, 0x1000 + i, 0, -1, buf,
		    len) == 1, "compose %zu bytes", len);
		ok(imsgbuf_flush(&c.a) == 0, "flush %zu", len);
		if (get_one(&c.b, &imsg) != 1) {
			ok(0, "receive %zu bytes", len);
			continue;
		}
		good = imsg_get_type(&imsg) == 100 + i &&
		    imsg_get_id(&imsg) == 0x1000 + i &&
		    imsg_get_pid(&imsg) == getpid() &&
		    imsg_get_len(&imsg) == len &&
		    imsg.hdr.len == len + IMSG_HEADER_SIZE &&
		    (len == 0 ? imsg.data == NULL :
		    check_fill(imsg.data, len, i));
		ok(good, "round trip of %zu bytes intact", len);
		imsg_free(&imsg);
	}
	errno = 0;
	ok(imsg_compose(&c.a, 1, 0, 0, -1, buf,
	    MAX_IMSGSIZE - IMSG_HEADER_SIZE + 1) == -1 && errno == ERANGE,
	    "payload one past the limit: ERANGE");
	errno = 0;
	ok(imsg_compose(&c.a, 1, 0, 0, -1, buf, MAX_IMSGSIZE + 1) == -1 &&
	    errno == ERANGE, "payload maxsize+1: ERANGE");
	errno = 0;
	ok(imsg_create(&c.a, 1, 0, 0, MAX_IMSGSIZE) == NULL &&
	    errno == ERANGE, "imsg_create too big: ERANGE");
	errno = 0;
	ok(imsg_compose(&c.a, 1, 0, 0, -1, buf, SIZE_MAX) == -1 &&
	    errno == ERANGE, "SIZE_MAX payload does not wrap");
	is_int(imsgbuf_queuelen(&c.a), 0, "nothing queued by failures");
	ok(imsg_compose(&c.a, 9, 0, 4242, -1, NULL, 0) == 1 &&
	    imsgbuf_flush(&c.a) == 0 && get_one(&c.b, &imsg) == 1 &&
	    imsg_get_pid(&imsg) == 4242, "explicit pid kept");
	imsg_free(&imsg);
	chan_close(&c);
	free(buf);
}

/* A raised limit lets messages cross the 64 KiB read buffer. */
static void
t_big_maxsize(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	*buf;
	size_t		 len = 200000;

	buf = malloc(len);
	fill(buf, len, 77);
	chan_open(&c, 0, 0, 1);
	ok(imsgbuf_set_maxsize(&c.a, len) == 0 &&
	    imsgbuf_set_maxsize(&c.b, len) == 0, "set_maxsize 200000");
	errno = 0;
	ok(imsgbuf_set_maxsize(&c.a, UINT32_MAX) == -1 && errno == ERANGE,
	    "set_maxsize overflow: ERANGE");
	errno = 0;
	ok(imsgbuf_set_maxsize(&c.a, IMSG_FD_MARK) == -1 && errno == EINVAL,
	    "set_maxsize into the fd mark: EINVAL");
	ok(imsg_compose(&c.a, 5, 0, 0, -1, buf, len) == 1, "compose 200000");
	ok(imsg_compose(&c.a, 6, 0, 0, -1, buf, 3) == 1, "and a small one");
	{
		int got = 0, i, ok1 = 0, ok2 = 0, n;

		for (i = 0; i < PUMP_ROUNDS && got < 2; i++) {
			if (imsgbuf_write(&c.a) == -1)
				break;
			if (imsgbuf_read(&c.b) == -1)
				break;
			while ((n = imsgbuf_get(&c.b, &imsg)) == 1) {
				if (got == 0)
					ok1 = imsg_get_type(&imsg) == 5 &&
					    imsg_get_len(&imsg) == len &&
					    check_fill(imsg.data, len, 77);
				else
					ok2 = imsg_get_type(&imsg) == 6 &&
					    imsg_get_len(&imsg) == 3;
				got++;
				imsg_free(&imsg);
			}
		}
		ok(ok1, "200000-byte message across many reads intact");
		ok(ok2, "following message intact");
	}
	chan_close(&c);
	free(buf);
}

static void
t_many_in_one_read(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 n, good = 1, count = 0;

	chan_open(&c, 0, 0, 0);
	for (i = 0; i < 50; i++)
		imsg_compose(&c.a, 1, i, 0, -1, &i, sizeof(i));
	is_int(imsgbuf_queuelen(&c.a), 50, "50 queued");
	ok(imsgbuf_flush(&c.a) == 0, "flush");
	is_int(imsgbuf_queuelen(&c.a), 0, "queue empty after flush");
	ok(wait_readable(c.sv[1]) && imsgbuf_read(&c.b) == 1, "one read");
	while ((n = imsgbuf_get(&c.b, &imsg)) == 1) {
		if (imsg_get_id(&imsg) != (uint32_t)count ||
		    imsg_get_data(&imsg, &v, sizeof(v)) == -1 ||
		    v != (uint32_t)count)
			good = 0;
		count++;
		imsg_free(&imsg);
	}
	is_int(count, 50, "one read yields all 50 messages");
	ok(good, "in order and intact");
	is_int(n, 0, "then imsgbuf_get says none ready");
	chan_close(&c);
}

/* Hundreds of messages of varying sizes come out in the order sent. */
static void
t_ordering(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[3000];
	uint32_t	 sent = 0, got = 0;
	int		 i, n, good = 1;

	chan_open(&c, 0, 0, 1);
	for (i = 0; i < PUMP_ROUNDS && got < 700; i++) {
		while (sent < 700 && imsgbuf_queuelen(&c.a) < 64) {
			size_t len = (sent * 37) % sizeof(buf);

			fill(buf, len, sent);
			if (imsg_compose(&c.a, 2, sent, 0, -1, buf, len) != 1)
				good = 0;
			sent++;
		}
		if (imsgbuf_write(&c.a) == -1 || imsgbuf_read(&c.b) == -1) {
			good = 0;
			break;
		}
		while ((n = imsgbuf_get(&c.b, &imsg)) == 1) {
			size_t len = (got * 37) % sizeof(buf);

			if (imsg_get_id(&imsg) != got ||
			    imsg_get_len(&imsg) != len ||
			    (len > 0 && !check_fill(imsg.data, len, got)))
				good = 0;
			got++;
			imsg_free(&imsg);
		}
	}
	is_int(got, 700, "700 messages received");
	ok(good, "each in order and intact");
	chan_close(&c);
}

static void
t_fdpass(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p[2], fd, before, flags;
	char		 rb[8];

	before = count_fds();
	chan_open(&c, 1, 1, 0);
	if (pipe(p) == -1)
		exit(1);
	ok(imsg_compose(&c.a, 3, 0, 0, p[0], "fd!", 3) == 1,
	    "compose with fd");
	ok(fcntl(p[0], F_GETFD) != -1, "sender still owns it while queued");
	ok(imsgbuf_flush(&c.a) == 0, "flush");
	errno = 0;
	ok(fcntl(p[0], F_GETFD) == -1 && errno == EBADF,
	    "sender's copy closed after sendmsg");
	ok(get_one(&c.b, &imsg) == 1, "received");
	is_int(imsg.hdr.len, IMSG_HEADER_SIZE + 3, "fd mark masked off");
	fd = imsg_get_fd(&imsg);
	ok(fd >= 0, "message carries an fd");
	is_int(imsg_get_fd(&imsg), -1, "imsg_get_fd hands it over once");
	flags = fcntl(fd, F_GETFD);
	ok(flags != -1 && (flags & FD_CLOEXEC), "received fd is FD_CLOEXEC");
	ok(write(p[1], "hello", 5) == 5 && read(fd, rb, sizeof(rb)) == 5 &&
	    memcmp(rb, "hello", 5) == 0, "received fd is the pipe");
	imsg_free(&imsg);
	close(fd);
	close(p[1]);

	/* an unclaimed fd is closed by imsg_free */
	if (pipe(p) == -1)
		exit(1);
	close(p[1]);
	ok(imsg_compose(&c.a, 3, 0, 0, p[0], NULL, 0) == 1 &&
	    imsgbuf_flush(&c.a) == 0 && get_one(&c.b, &imsg) == 1,
	    "fd message without payload");
	imsg_free(&imsg);
	chan_close(&c);
	is_int(count_fds(), before, "no fd leaked (unclaimed fd closed)");
}

/* Each fd goes with its own message, even when several are queued. */
static void
t_fd_interleaved(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 pipes[4][2], i, k, fd, good = 1, before;
	/* fd at messages 1, 3, 4, 7 */
	const int	 hasfd[8] = { 0, 1, 0, 1, 1, 0, 0, 1 };
	char		 tag;

	before = count_fds();
	chan_open(&c, 1, 1, 0);
	for (i = 0, k = 0; i < 8; i++) {
		fd = -1;
		if (hasfd[i]) {
			if (pipe(pipes[k]) == -1)
				exit(1);
			tag = 'A' + i;
			if (write(pipes[k][1], &tag, 1) != 1)
				exit(1);
			close(pipes[k][1]);
			fd = pipes[k][0];
			k++;
		}
		imsg_compose(&c.a, 4, i, 0, fd, NULL, 0);
	}
	ok(imsgbuf_flush(&c.a) == 0, "flush 8 messages, 4 with fds");
	for (i = 0; i < 8; i++) {
		if (get_one(&c.b, &imsg) != 1) {
			good = 0;
			break;
		}
		fd = imsg_get_fd(&imsg);
		if ((int)imsg_get_id(&imsg) != i || (fd != -1) != hasfd[i])
			good = 0;
		if (fd != -1) {
			if (read(fd, &tag, 1) != 1 || tag != 'A' + i)
				good = 0;
			close(fd);
		}
		imsg_free(&imsg);
	}
	ok(good, "every fd arrives with its own message");
	chan_close(&c);
	is_int(count_fds(), before, "no fd leaked");
}

static void
t_fd_no_fdpass(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p[2], before;

	/* sender passes an fd, the receiver did not allow it */
	before = count_fds();
	chan_open(&c, 1, 0, 0);
	if (pipe(p) == -1)
		exit(1);
	ok(imsg_compose(&c.a, 5, 0, 0, p[0], "x", 1) == 1 &&
	    imsgbuf_flush(&c.a) == 0, "sent with an fd");
	ok(get_one(&c.b, &imsg) == 1, "received on a channel without fdpass");
	is_int(imsg_get_fd(&imsg), -1, "no fd handed out");
	imsg_free(&imsg);
	close(p[1]);
	chan_close(&c);
	is_int(count_fds(), before, "the stray fd was closed, not leaked");

	/* sender without fdpass: the fd is dropped and closed locally */
	before = count_fds();
	chan_open(&c, 0, 1, 0);
	if (pipe(p) == -1)
		exit(1);
	ok(imsg_compose(&c.a, 5, 0, 0, p[0], "x", 1) == 1 &&
	    imsgbuf_flush(&c.a) == 0, "compose with fd, no fdpass");
	errno = 0;
	ok(fcntl(p[0], F_GETFD) == -1 && errno == EBADF,
	    "sender's fd closed anyway");
	ok(get_one(&c.b, &imsg) == 1 && imsg_get_fd(&imsg) == -1,
	    "message arrives without fd");
	imsg_free(&imsg);
	close(p[1]);
	chan_close(&c);
	is_int(count_fds(), before, "no fd leaked");
}

/*
 * Fill a non-blocking socket until the kernel refuses more, then drain
 * the other side: everything arrives intact and in order.
 */
static void
t_partial_io(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[MAX_IMSGSIZE];
	const uint32_t	 total = 300;
	uint32_t	 i, got = 0;
	size_t		 len;
	uint32_t	 q0, q1;
	int		 sz = 4096, rounds, n, good = 1;

	chan_open(&c, 1, 1, 1);
	setsockopt(c.sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(c.sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (i = 0; i < total; i++) {
		len = (i * 4099) % (sizeof(buf) - IMSG_HEADER_SIZE);
		fill(buf, len, i);
		imsg_compose(&c.a, 6, i, 0, -1, buf, len);
	}
	q0 = imsgbuf_queuelen(&c.a);
	for (rounds = 0; rounds < 1000; rounds++) {
		q1 = imsgbuf_queuelen(&c.a);
		if (imsgbuf_write(&c.a) == -1) {
			good = 0;
			break;
		}
		if (imsgbuf_queuelen(&c.a) == q1 && rounds > 2)
			break;	/* EAGAIN: socket full */
	}
	ok(imsgbuf_queuelen(&c.a) > 0 && imsgbuf_queuelen(&c.a) < q0,
	    "socket filled until EAGAIN (%u of %u left)",
	    imsgbuf_queuelen(&c.a), q0);
	ok(imsgbuf_write(&c.a) == 0, "write on a full socket returns 0");
	errno = 0;
	ok(send(c.sv[0], "x", 1, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	    "kernel confirms the socket is full");

	for (rounds = 0; rounds < PUMP_ROUNDS && got < total; rounds++) {
		if (imsgbuf_read(&c.b) == -1 || imsgbuf_write(&c.a) == -1) {
			good = 0;
			break;
		}
		while ((n = imsgbuf_get(&c.b, &imsg)) == 1) {
			len = (got * 4099) % (sizeof(buf) - IMSG_HEADER_SIZE);
			if (imsg_get_id(&imsg) != got ||
			    imsg_get_len(&imsg) != len ||
			    (len > 0 && !check_fill(imsg.data, len, got)))
				good = 0;
			got++;
			imsg_free(&imsg);
		}
	}
	is_int(got, total, "all messages drained");
	ok(good, "intact and in order across partial reads and writes");
	is_int(imsgbuf_queuelen(&c.a), 0, "write queue empty");
	chan_close(&c);
}

/* A message dribbling in one byte per read is delivered once, whole. */
static void
t_byte_by_byte(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 wire[IMSG_HEADER_SIZE + 40];
	size_t		 i;
	int		 early = 0;

	chan_open(&c, 0, 0, 1);
	hdr_bytes(wire, 8, sizeof(wire));
	fill(wire + IMSG_HEADER_SIZE, 40, 3);
	for (i = 0; i < sizeof(wire); i++) {
		if (raw_write(c.sv[0], wire + i, 1) == -1 ||
		    imsgbuf_read(&c.b) != 1)
			early = -1;
		if (i + 1 < sizeof(wire) && imsgbuf_get(&c.b, &imsg) != 0)
			early = 1;
	}
	is_int(early, 0, "nothing delivered before the last byte");
	ok(imsgbuf_get(&c.b, &imsg) == 1 && imsg_get_len(&imsg) == 40 &&
	    check_fill(imsg.data, 40, 3), "whole message after the last byte");
	imsg_free(&imsg);
	chan_close(&c);
}

static void
t_hostile_headers(void)
{
	static const struct {
		uint32_t	 len;
		const char	*what;
	} bad[] = {
		{ 0, "len 0" },
		{ 15, "len 15 (< header)" },
		{ MAX_IMSGSIZE + 1, "len maxsize+1" },
		{ 0xffffffff, "len 0xffffffff" },
		{ IMSG_FD_MARK | 8, "fd mark with len 8" },
		{ IMSG_FD_MARK | (MAX_IMSGSIZE + 1), "fd mark, len too big" },
	};
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 wire[IMSG_HEADER_SIZE * 2 + 4];
	size_t		 i;
	int		 r;

	for (i = 0; i < nitems(bad); i++) {
		chan_open(&c, 1, 1, 0);
		/* one good message first, then the bad header */
		hdr_bytes(wire, 1, IMSG_HEADER_SIZE + 4);
		memcpy(wire + IMSG_HEADER_SIZE, "good", 4);
		hdr_bytes(wire + IMSG_HEADER_SIZE + 4, 2, bad[i].len);
		raw_write(c.sv[0], wire, sizeof(wire));
		wait_readable(c.sv[1]);
		errno = 0;
		r = imsgbuf_read(&c.b);
		ok(r == -1 && (errno == ERANGE || errno == EBADMSG),
		    "%s: imsgbuf_read fails (errno %d)", bad[i].what, errno);
		ok(imsgbuf_get(&c.b, &imsg) == 1 &&
		    imsg_get_type(&imsg) == 1 && imsg_get_len(&imsg) == 4,
		    "%s: the good message before it is intact", bad[i].what);
		imsg_free(&imsg);
		ok(imsgbuf_get(&c.b, &imsg) == 0, "%s: nothing more",
		    bad[i].what);
		errno = 0;
		ok(imsgbuf_read(&c.b) == -1 && errno == ERANGE,
		    "%s: the channel stays broken", bad[i].what);
		chan_close(&c);
	}

	/* a maxsize-lowered channel rejects what the default accepts */
	chan_open(&c, 0, 0, 0);
	ok(imsgbuf_set_maxsize(&c.b, 8) == 0, "receiver maxsize 8");
	ok(imsg_compose(&c.a, 1, 0, 0, -1, "123456789", 9) == 1 &&
	    imsgbuf_flush(&c.a) == 0, "sender sends 9 bytes");
	errno = 0;
	ok(get_one(&c.b, &imsg) == -1 && errno == ERANGE,
	    "receiver rejects it with ERANGE");
	chan_close(&c);

	/* a truncated header followed by EOF */
	chan_open(&c, 0, 0, 0);
	hdr_bytes(wire, 1, 100);
	raw_write(c.sv[0], wire, 9);
	close(c.sv[0]);
	c.sv[0] = -1;
	ok(wait_readable(c.sv[1]) && imsgbuf_read(&c.b) == 1 &&
	    imsgbuf_get(&c.b, &imsg) == 0, "truncated header: no message");
	is_int(imsgbuf_read(&c.b), 0, "then EOF is reported");
	chan_close(&c);
}

/* A header announcing more than follows: wait, never overread, then EOF. */
static void
t_lying_len(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 wire[IMSG_HEADER_SIZE + 100];

	chan_open(&c, 0, 0, 1);
	hdr_bytes(wire, 1, IMSG_HEADER_SIZE + 1000);
	fill(wire + IMSG_HEADER_SIZE, 100, 9);
	raw_write(c.sv[0], wire, sizeof(wire));
	ok(wait_readable(c.sv[1]) && imsgbuf_read(&c.b) == 1,
	    "partial message read");
	is_int(imsgbuf_get(&c.b, &imsg), 0, "not delivered");
	is_int(imsgbuf_read(&c.b), 1, "nothing more yet: EAGAIN swallowed");
	is_int(imsgbuf_get(&c.b, &imsg), 0, "still waiting");
	close(c.sv[0]);
	c.sv[0] = -1;
	ok(wait_readable(c.sv[1]), "peer closed");
	is_int(imsgbuf_read(&c.b), 0, "EOF returns 0");
	is_int(imsgbuf_get(&c.b, &imsg), 0, "the partial message is dropped");
	chan_close(&c);
}

/* Random bytes: each channel ends in an error or EOF, never a crash. */
static void
t_garbage(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 junk[4096];
	unsigned int	 seed = 0x5eed;
	int		 round, r, n, errors = 0, eofs = 0, bounded = 1;
	int		 before;
	size_t		 len, i;

	before = count_fds();
	for (round = 0; round < 300; round++) {
		chan_open(&c, 1, round & 1, 1);
		len = 1 + rand_r(&seed) % sizeof(junk);
		for (i = 0; i < len; i++)
			junk[i] = rand_r(&seed);
		if (round % 3 == 0) {
			/* make plausible lengths common */
			uint32_t l = rand_r(&seed) % 64;
			memcpy(junk + 4, &l, sizeof(l));
		}
		raw_write(c.sv[0], junk, len);
		close(c.sv[0]);
		c.sv[0] = -1;
		for (n = 0; n < 100; n++) {
			r = imsgbuf_read(&c.b);
			while (imsgbuf_get(&c.b, &imsg) == 1) {
				if (imsg_get_len(&imsg) >
				    MAX_IMSGSIZE - IMSG_HEADER_SIZE)
					bounded = 0;
				imsg_free(&imsg);
			}
			if (r == -1) {
				errors++;
				break;
			}
			if (r == 0) {
				eofs++;
				break;
			}
		}
		chan_close(&c);
	}
	is_int(errors + eofs, 300, "every garbage stream ends (%d errors, "
	    "%d EOF)", errors, eofs);
	ok(errors > 100, "most garbage is rejected as an error");
	ok(bounded, "no message beyond maxsize was delivered");
	is_int(count_fds(), before, "no fd leaked");
}

static int
send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	 hdr;
		unsigned char	 buf[CMSG_SPACE(sizeof(int) * 4)];
	} cb;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov = { .iov_base = (void *)data, .iov_len = len };

	memset(&msg, 0, sizeof(msg));
	memset(&cb, 0, sizeof(cb));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cb.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	return (sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1);
}

/* Peers that break the one-fd-per-message rules leak nothing. */
static void
t_fd_hostile(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 wire[IMSG_HEADER_SIZE];
	int		 p[2], fds[4], before, nfds, fd;

	if (pipe(p) == -1)
		exit(1);
	for (nfds = 1; nfds <= 4; nfds++) {
		fds[0] = fds[1] = fds[2] = fds[3] = p[0];
		before = count_fds();
		chan_open(&c, 1, 1, 0);
		hdr_bytes(wire, 1, IMSG_HEADER_SIZE | IMSG_FD_MARK);
		ok(send_fds(c.sv[0], wire, sizeof(wire), fds, nfds) == 0,
		    "peer sends %d fds with one message", nfds);
		ok(get_one(&c.b, &imsg) == 1, "%d fds: message arrives", nfds);
		fd = imsg_get_fd(&imsg);
		if (nfds <= 2)
			ok(fd >= 0, "%d fds: the first is attached", nfds);
		else
			ok(fd == -1, "%d fds: truncated control data, "
			    "none attached", nfds);
		if (fd >= 0)
			close(fd);
		imsg_free(&imsg);
		chan_close(&c);
		is_int(count_fds(), before, "%d fds: extras closed", nfds);
	}

	/* fd with a header that does not claim one */
	before = count_fds();
	chan_open(&c, 1, 1, 0);
	hdr_bytes(wire, 1, IMSG_HEADER_SIZE);
	fds[0] = p[0];
	ok(send_fds(c.sv[0], wire, sizeof(wire), fds, 1) == 0 &&
	    get_one(&c.b, &imsg) == 1 && imsg_get_fd(&imsg) == -1,
	    "unclaimed fd not attached");
	imsg_free(&imsg);
	chan_close(&c);
	is_int(count_fds(), before, "unclaimed fd closed");

	/* fd with a partial header: kept until the header completes */
	before = count_fds();
	chan_open(&c, 1, 1, 1);
	hdr_bytes(wire, 1, IMSG_HEADER_SIZE | IMSG_FD_MARK);
	ok(send_fds(c.sv[0], wire, 5, fds, 1) == 0 &&
	    wait_readable(c.sv[1]) && imsgbuf_read(&c.b) == 1 &&
	    imsgbuf_get(&c.b, &imsg) == 0, "fd with 5 header bytes");
	ok(raw_write(c.sv[0], wire + 5, sizeof(wire) - 5) == 0 &&
	    get_one(&c.b, &imsg) == 1, "rest of the header");
	fd = imsg_get_fd(&imsg);
	ok(fd >= 0, "fd attached to the header split across reads");
	if (fd >= 0)
		close(fd);
	imsg_free(&imsg);
	chan_close(&c);
	is_int(count_fds(), before, "nothing leaked");

	/* fd on a channel that then dies with a partial header */
	before = count_fds();
	chan_open(&c, 1, 1, 1);
	ok(send_fds(c.sv[0], wire, 5, fds, 1) == 0 &&
	    wait_readable(c.sv[1]) && imsgbuf_read(&c.b) == 1,
	    "fd with a partial header, then EOF");
	close(c.sv[0]);
	c.sv[0] = -1;
	is_int(imsgbuf_read(&c.b), 0, "EOF");
	chan_close(&c);
	is_int(count_fds(), before, "held fd closed by imsgbuf_clear");
	close(p[0]);
	close(p[1]);
}

static void
t_get_data(void)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct ibuf	 ib;
	struct {
		uint32_t	 a;
		uint16_t	 b;
		uint16_t	 pad;
	} st = { 7, 9, 0 }, out;
	uint32_t	 u32;
	uint16_t	 u16;
	char		 s[16], big[32];

	chan_open(&c, 0, 0, 0);
	imsg_compose(&c.a, 1, 0, 0, -1, &st, sizeof(st));
	imsgbuf_flush(&c.a);
	ok(get_one(&c.b, &imsg) == 1, "struct message");
	errno = 0;
	ok(imsg_get_data(&imsg, &out, sizeof(out) - 1) == -1 &&
	    errno == EBADMSG, "imsg_get_data short length: EBADMSG");
	errno = 0;
	ok(imsg_get_data(&imsg, big, sizeof(big)) == -1 && errno == EBADMSG,
	    "imsg_get_data long length: EBADMSG");
	errno = 0;
	ok(imsg_get_data(&imsg, &out, 0) == -1 && errno == EINVAL,
	    "imsg_get_data length 0: EINVAL");
	ok(imsg_get_data(&imsg, &out, sizeof(out)) == 0 && out.a == 7 &&
	    out.b == 9, "imsg_get_data exact length");
	imsg_free(&imsg);

	imsg_compose(&c.a, 2, 0, 0, -1, NULL, 0);
	imsgbuf_flush(&c.a);
	ok(get_one(&c.b, &imsg) == 1 && imsg_get_len(&imsg) == 0 &&
	    imsg.data == NULL, "empty message: len 0, data NULL");
	errno = 0;
	ok(imsg_get_data(&imsg, &out, sizeof(out)) == -1 && errno == EBADMSG,
	    "imsg_get_data on empty payload: EBADMSG");
	errno = 0;
	ok(imsg_get_ibuf(&imsg, &ib) == -1 && errno == EBADMSG,
	    "imsg_get_ibuf on empty payload: EBADMSG");
	imsg_free(&imsg);

	imsg_compose(&c.a, 3, 0, 0, -1, "\x00\x00\x01\x02\x03\x04name\0", 11);
	imsgbuf_flush(&c.a);
	ok(get_one(&c.b, &imsg) == 1, "mixed payload");
	ok(imsg_get_ibuf(&imsg, &ib) == 0 && ibuf_get_n16(&ib, &u16) == 0 &&
	    u16 == 0 && ibuf_get_n32(&ib, &u32) == 0 && u32 == 0x01020304 &&
	    ibuf_get_strbuf(&ib, s, 5) == 0 && strcmp(s, "name") == 0,
	    "parsed through imsg_get_ibuf");
	errno = 0;
	ok(ibuf_get_n8(&ib, (uint8_t *)s) == -1 && errno == EBADMSG,
	    "reading past the payload: EBADMSG");
	imsg_free(&imsg);

	imsg_compose(&c.a, 4, 0, 0, -1, "abcdef", 6);
	imsgbuf_flush(&c.a);
	ok(get_one(&c.b, &imsg) == 1 && imsg_get_buf(&imsg, s, 2) == 0 &&
	    memcmp(s, "ab", 2) == 0, "imsg_get_buf partial read");
	errno = 0;
	ok(imsg_get_strbuf(&imsg, s, 4) == -1 && errno == EOVERFLOW,
	    "imsg_get_strbuf unterminated: EOVERFLOW");
	errno = 0;
	ok(imsg_get_buf(&imsg, s, 5) == -1 && errno == EBADMSG,
	    "imsg_get_buf beyond the payload: EBADMSG");
	imsg_free(&imsg);
	chan_close(&c);
}

static void
t_builders(void)
{
	struct chan	 c, d;
	struct imsg	 imsg, fwd;
	struct ibuf	*wb, *pb;
	struct iovec	 iov[3];
	char		 s[32];
	ssize_t		 n;
	int		 p[2], before;

	before = count_fds();
	chan_open(&c, 1, 1, 0);
	chan_open(&d, 1, 1, 0);

	wb = imsg_create(&c.a, 10, 1, 0, 4);
	ok(wb != NULL, "imsg_create");
	ok(imsg_add(wb, "ab", 2) == 2 && imsg_add(wb, "cdefgh", 6) == 6,
	    "imsg_add grows past the hint");
	ok(imsg_set_maxsize(wb, 8) == 0, "imsg_set_maxsize to current size");
	errno = 0;
	ok(imsg_add(wb, "x", 1) == -1 && errno == ERANGE,
	    "imsg_add beyond the message maxsize fails (and frees)");

	wb = imsg_create(&c.a, 10, 1, 0, 0);
	imsg_add(wb, "abcdefgh", 8);
	imsg_close(&c.a, wb);
	iov[0].iov_base = "one ";
	iov[0].iov_len = 4;
	iov[1].iov_base = "two ";
	iov[1].iov_len = 4;
	iov[2].iov_base = "three";
	iov[2].iov_len = 6;
	ok(imsg_composev(&c.a, 11, 2, 0, -1, iov, 3) == 1, "imsg_composev");
	pb = ibuf_dynamic(0, 64);
	ibuf_add_n32(pb, 0xa1b2c3d4);
	ok(imsg_compose_ibuf(&c.a, 12, 3, 0, pb) == 1, "imsg_compose_ibuf");
	pb = ibuf_dynamic(0, MAX_IMSGSIZE * 2);
	ibuf_add_zero(pb, MAX_IMSGSIZE);
	errno = 0;
	ok(imsg_compose_ibuf(&c.a, 12, 3, 0, pb) == -1 && errno == ERANGE,
	    "imsg_compose_ibuf too big: ERANGE (buffer consumed)");
	if (pipe(p) == -1)
		exit(1);
	close(p[1]);
	imsg_compose(&c.a, 13, 4, 0, p[0], "fwd", 3);
	ok(imsgbuf_flush(&c.a) == 0, "flush");

	ok(get_one(&c.b, &imsg) == 1 && imsg_get_type(&imsg) == 10 &&
	    imsg_get_len(&imsg) == 8 && memcmp(imsg.data, "abcdefgh", 8) == 0,
	    "create/add/close message");
	imsg_free(&imsg);
	ok(get_one(&c.b, &imsg) == 1 && imsg_get_type(&imsg) == 11 &&
	    imsg_get_strbuf(&imsg, s, 14) == 0 &&
	    strcmp(s, "one two three") == 0, "composev message");
	imsg_free(&imsg);
	ok((n = imsg_get(&c.b, &imsg)) == IMSG_HEADER_SIZE + 4 &&
	    imsg_get_type(&imsg) == 12 && imsg_get_id(&imsg) == 3,
	    "compose_ibuf message; imsg_get returns total length");
	imsg_free(&imsg);
	ok(get_one(&c.b, &imsg) == 1 && imsg_get_type(&imsg) == 13,
	    "fd message to forward");
	ok(imsg_forward(&d.a, &imsg) == 1 && imsg_forward(&d.a, &imsg) == 1,
	    "imsg_forward twice");
	ok(imsgbuf_flush(&d.a) == 0, "flush forwarded");
	ok(get_one(&d.b, &fwd) == 1 && imsg_get_type(&fwd) == 13 &&
	    imsg_get_id(&fwd) == 4 && imsg_get_pid(&fwd) == getpid() &&
	    imsg_get_len(&fwd) == 3 && memcmp(fwd.data, "fwd", 3) == 0 &&
	    imsg_get_fd(&fwd) == -1, "forwarded unchanged, without the fd");
	imsg_free(&fwd);
	ok(get_one(&d.b, &fwd) == 1 && imsg_get_len(&fwd) == 3,
	    "second copy");
	imsg_free(&fwd);
	imsg_free(&imsg);

	/* ibufqueue park and resume */
	{
		struct ibufqueue *q = ibufq_new();

		imsg_compose(&c.a, 14, 5, 0, -1, "park", 4);
		imsgbuf_flush(&c.a);
		ok(get_one(&c.b, &imsg) == 1, "message to park");
		imsg_ibufq_push(q, &imsg);
		is_int(ibufq_queuelen(q), 1, "parked");
		ok(imsg_ibufq_pop(q, &imsg) == 1 &&
		    imsg_get_type(&imsg) == 14 && imsg_get_len(&imsg) == 4,
		    "resumed intact");
		imsg_free(&imsg);
		is_int(imsg_ibufq_pop(q, &imsg), 0, "queue empty");
		ibufq_free(q);
	}

	/* queued but unsent messages with fds are freed by imsgbuf_clear */
	if (pipe(p) == -1)
		exit(1);
	imsg_compose(&c.a, 15, 0, 0, p[0], NULL, 0);
	close(p[1]);
	chan_close(&c);
	chan_close(&d);
	is_int(count_fds(), before, "no fd leaked by builders or clear");
}

static void
t_eof_epipe(void)
{
	struct chan	 c;
	struct imsg	 imsg;

	chan_open(&c, 0, 0, 0);
	close(c.sv[0]);
	c.sv[0] = -1;
	is_int(imsgbuf_read(&c.b), 0, "EOF returns 0");
	is_int(imsgbuf_get(&c.b, &imsg), 0, "no message after EOF");
	ok(imsg_compose(&c.b, 1, 0, 0, -1, "x", 1) == 1, "queue toward a "
	    "closed peer");
	errno = 0;
	ok(imsgbuf_write(&c.b) == -1 && errno == EPIPE,
	    "write to a closed peer: -1 EPIPE, no SIGPIPE");
	errno = 0;
	ok(imsgbuf_flush(&c.b) == -1 && errno == EPIPE, "flush too");
	chan_close(&c);
}

int
main(void)
{
	plan(230);
	t_ibuf_basics();
	t_ibuf_short();
	t_roundtrip_sizes();
	t_big_maxsize();
	t_many_in_one_read();
	t_ordering();
	t_fdpass();
	t_fd_interleaved();
	t_fd_no_fdpass();
	t_partial_io();
	t_byte_by_byte();
	t_hostile_headers();
	t_lying_len();
	t_garbage();
	t_fd_hostile();
	t_get_data();
	t_builders();
	t_eof_epipe();
	return (done_testing());
}

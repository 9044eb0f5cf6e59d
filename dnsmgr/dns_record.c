/*
 * dns_record.c -- the dns.backup record: encoded as "key value" lines
 * under a header carrying a SHA-256 of the body, parsed strictly, written
 * atomically (temp file, fsync, rename, fsync of the directory).
 *
 * The record is the only thing that makes a crash recoverable, so it is
 * written before the system is touched, and a torn or damaged record is
 * never acted upon.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "compat.h"
#include "dns_local.h"

#define REC_MAGIC	"vpnd-dns-backup 2 "
/* An older vpnd's record: no phase line (its changes were complete). */
#define REC_MAGIC1	"vpnd-dns-backup 1 "
#define REC_LINE_MAX	(2 * PATH_MAX + 64)

struct rec_reader {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
	char		 line[REC_LINE_MAX];
	char		*val;
};

static int	 rec_next(struct rec_reader *, const char *);
static int	 rec_u64(struct rec_reader *, const char *, uint64_t,
		    uint64_t *);
static int	 rec_hex(struct rec_reader *, const char *, uint8_t *, size_t,
		    size_t *);
static void	 hex_put(char *, const uint8_t *, size_t);
static int	 hex_get(const char *, uint8_t *, size_t, size_t *);
static int	 parse_u64(const char *, int, uint64_t *);

static void
hex_put(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t	 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hex_get(const char *s, uint8_t *out, size_t max, size_t *outlen)
{
	size_t	 i, n = strlen(s);
	int	 hi, lo;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		hi = hi >= '0' && hi <= '9' ? hi - '0' :
		    hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' :
		    lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
		if (hi == -1 || lo == -1)
			return -1;
		out[i] = (hi << 4) | lo;
	}
	*outlen = n / 2;
	return 0;
}

static int
parse_u64(const char *s, int base, uint64_t *out)
{
	unsigned long long v;
	char	*end;

	if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
dns_record_encode(const struct dns_record *r, uint8_t **out, size_t *outlen)
{
	char		 target[2 * PATH_MAX + 1];
	char		 ifn[2 * sizeof(r->ifname) + 1];
	char		 hash[2 * DNS_HASH_LEN + 1], head[128];
	uint8_t		 sum[DNS_HASH_LEN];
	char		*body = NULL;
	uint8_t		*buf;
	size_t		 tlen, blen, hlen;
	int		 n;

	*out = NULL;
	tlen = strnlen(r->orig_target, sizeof(r->orig_target));
	if (tlen == sizeof(r->orig_target) || r->orig_len > DNS_MAX_FILE)
		return -1;
	hex_put(target, (const uint8_t *)r->orig_target, tlen);
	hex_put(ifn, (const uint8_t *)r->ifname,
	    strnlen(r->ifname, sizeof(r->ifname) - 1));
	hex_put(hash, r->ours_hash, sizeof(r->ours_hash));
	n = asprintf(&body,
	    "backend %s\n"
	    "ifname %s\n"
	    "ifindex %d\n"
	    "orig %s\n"
	    "mode %o\n"
	    "uid %llu\n"
	    "gid %llu\n"
	    "target %s\n"
	    "ours-dev %llu\n"
	    "ours-ino %llu\n"
	    "ours-size %llu\n"
	    "ours-sha256 %s\n"
	    "phase %s\n"
	    "data %zu\n",
	    dns_backend_name(r->backend), ifn, r->ifindex,
	    r->orig == DNS_ORIG_REGULAR ? "regular" :
	    r->orig == DNS_ORIG_SYMLINK ? "symlink" : "absent",
	    (unsigned int)(r->orig_mode & 07777),
	    (unsigned long long)r->orig_uid, (unsigned long long)r->orig_gid,
	    target, (unsigned long long)r->ours_dev,
	    (unsigned long long)r->ours_ino, (unsigned long long)r->ours_size,
	    hash, r->phase == DNS_PHASE_WRITTEN ? "written" :
	    r->phase == DNS_PHASE_RESTORING ? "restoring" : "writing",
	    r->orig_len);
	if (n == -1)
		return -1;
	blen = n + r->orig_len;
	hlen = strlen(REC_MAGIC) + 2 * DNS_HASH_LEN + 1;
	if ((buf = malloc(hlen + blen)) == NULL) {
		free(body);
		return -1;
	}
	memcpy(buf + hlen, body, n);
	if (r->orig_len > 0)
		memcpy(buf + hlen + n, r->orig_data, r->orig_len);
	free(body);
	dns_hash(buf + hlen, blen, sum);
	hex_put(hash, sum, sizeof(sum));
	(void)snprintf(head, sizeof(head), "%s%s\n", REC_MAGIC, hash);
	memcpy(buf, head, hlen);
	*out = buf;
	*outlen = hlen + blen;
	return 0;
}

/* Next line must be "key value"; leaves the value in rd->val. */
static int
rec_next(struct rec_reader *rd, const char *key)
{
	const uint8_t	*nl;
	size_t		 n, klen = strlen(key);

	if (rd->off >= rd->len)
		return -1;
	nl = memchr(rd->buf + rd->off, '\n', rd->len - rd->off);
	if (nl == NULL)
		return -1;
	n = nl - (rd->buf + rd->off);
	if (n >= sizeof(rd->line) || memchr(rd->buf + rd->off, '\0', n))
		return -1;
	memcpy(rd->line, rd->buf + rd->off, n);
	rd->line[n] = '\0';
	rd->off += n + 1;
	if (n < klen + 1 || strncmp(rd->line, key, klen) != 0 ||
	    rd->line[klen] != ' ')
		return -1;
	rd->val = rd->line + klen + 1;
	return 0;
}

static int
rec_u64(struct rec_reader *rd, const char *key, uint64_t max, uint64_t *v)
{
	if (rec_next(rd, key) == -1 || parse_u64(rd->val, 10, v) == -1 ||
	    *v > max)
		return -1;
	return 0;
}

static int
rec_hex(struct rec_reader *rd, const char *key, uint8_t *out, size_t max,
    size_t *outlen)
{
	if (rec_next(rd, key) == -1)
		return -1;
	return hex_get(rd->val, out, max, outlen);
}

int
dns_record_decode(const uint8_t *buf, size_t len, struct dns_record *r,
    char *err, size_t errlen)
{
	struct rec_reader *rd;
	uint8_t		 sum[DNS_HASH_LEN], want[DNS_HASH_LEN];
	enum dns_backend b;
	uint64_t	 v;
	size_t		 hlen, n;
	int		 rv = -1, v1;

	memset(r, 0, sizeof(*r));
	hlen = strlen(REC_MAGIC) + 2 * DNS_HASH_LEN + 1;
	v1 = len >= hlen && memcmp(buf, REC_MAGIC1, strlen(REC_MAGIC1)) == 0;
	if (len < hlen || (!v1 &&
	    memcmp(buf, REC_MAGIC, strlen(REC_MAGIC)) != 0) ||
	    buf[hlen - 1] != '\n') {
		dns_err(err, errlen, "DNS record: bad header");
		return -1;
	}
	{
		char	 h[2 * DNS_HASH_LEN + 1];

		memcpy(h, buf + strlen(REC_MAGIC), 2 * DNS_HASH_LEN);
		h[2 * DNS_HASH_LEN] = '\0';
		if (hex_get(h, want, sizeof(want), &n) == -1 ||
		    n != sizeof(want)) {
			dns_err(err, errlen, "DNS record: bad header");
			return -1;
		}
	}
	dns_hash(buf + hlen, len - hlen, sum);
	if (sodium_memcmp(sum, want, sizeof(sum)) != 0) {
		dns_err(err, errlen, "DNS record: checksum mismatch "
		    "(torn or damaged)");
		return -1;
	}

	if ((rd = calloc(1, sizeof(*rd))) == NULL) {
		dns_err(err, errlen, "DNS record: out of memory");
		return -1;
	}
	rd->buf = buf;
	rd->len = len;
	rd->off = hlen;

	if (rec_next(rd, "backend") == -1 ||
	    dns_backend_parse(rd->val, &b) == -1 ||
	    (b != DNS_FILE && b != DNS_RESOLVCONF && b != DNS_RESOLVED))
		goto bad;
	r->backend = b;
	if (rec_hex(rd, "ifname", (uint8_t *)r->ifname,
	    sizeof(r->ifname) - 1, &n) == -1 || memchr(r->ifname, '\0', n))
		goto bad;
	r->ifname[n] = '\0';
	if (rec_u64(rd, "ifindex", INT_MAX, &v) == -1)
		goto bad;
	r->ifindex = v;
	if (rec_next(rd, "orig") == -1)
		goto bad;
	if (strcmp(rd->val, "regular") == 0)
		r->orig = DNS_ORIG_REGULAR;
	else if (strcmp(rd->val, "symlink") == 0)
		r->orig = DNS_ORIG_SYMLINK;
	else if (strcmp(rd->val, "absent") == 0)
		r->orig = DNS_ORIG_ABSENT;
	else
		goto bad;
	if (rec_next(rd, "mode") == -1 || parse_u64(rd->val, 8, &v) == -1 ||
	    v > 07777)
		goto bad;
	r->orig_mode = v;
	if (rec_u64(rd, "uid", UINT32_MAX, &v) == -1)
		goto bad;
	r->orig_uid = v;
	if (rec_u64(rd, "gid", UINT32_MAX, &v) == -1)
		goto bad;
	r->orig_gid = v;
	if (rec_hex(rd, "target", (uint8_t *)r->orig_target,
	    sizeof(r->orig_target) - 1, &n) == -1 ||
	    memchr(r->orig_target, '\0', n))
		goto bad;
	r->orig_target[n] = '\0';
	if (r->orig == DNS_ORIG_SYMLINK && n == 0)
		goto bad;
	if (rec_u64(rd, "ours-dev", UINT64_MAX, &r->ours_dev) == -1 ||
	    rec_u64(rd, "ours-ino", UINT64_MAX, &r->ours_ino) == -1 ||
	    rec_u64(rd, "ours-size", DNS_MAX_FILE, &r->ours_size) == -1)
		goto bad;
	if (rec_hex(rd, "ours-sha256", r->ours_hash, sizeof(r->ours_hash),
	    &n) == -1 || n != sizeof(r->ours_hash))
		goto bad;
	if (v1)
		r->phase = DNS_PHASE_WRITTEN;
	else if (rec_next(rd, "phase") == -1)
		goto bad;
	else if (strcmp(rd->val, "writing") == 0)
		r->phase = DNS_PHASE_WRITING;
	else if (strcmp(rd->val, "written") == 0)
		r->phase = DNS_PHASE_WRITTEN;
	else if (strcmp(rd->val, "restoring") == 0)
		r->phase = DNS_PHASE_RESTORING;
	else
		goto bad;
	if (rec_u64(rd, "data", DNS_MAX_FILE, &v) == -1)
		goto bad;
	if (v != rd->len - rd->off)
		goto bad;
	r->orig_len = v;
	if (r->orig != DNS_ORIG_REGULAR && v != 0)
		goto bad;
	if ((r->orig_data = malloc(v + 1)) == NULL)
		goto bad;
	if (v > 0)
		memcpy(r->orig_data, rd->buf + rd->off, v);
	rv = 0;
 bad:
	if (rv == -1) {
		dns_record_free(r);
		dns_err(err, errlen, "DNS record: malformed");
	}
	free(rd);
	return rv;
}

int
dns_record_write(const struct dns_paths *p, const struct dns_record *r,
    char *err, size_t errlen)
{
	char	 path[PATH_MAX], tmp[PATH_MAX];
	uint8_t	*buf;
	size_t	 len;
	int	 rv;

	if (dns_backup_path(p, path, sizeof(path)) == -1 ||
	    snprintf(tmp, sizeof(tmp), "%s%s", path, DNS_TMP_SUFFIX) >=
	    (int)sizeof(tmp)) {
		dns_err(err, errlen, "state directory path too long");
		return -1;
	}
	if (dns_record_encode(r, &buf, &len) == -1) {
		dns_err(err, errlen, "DNS record: cannot encode");
		return -1;
	}
	rv = dns_tmp_write(tmp, buf, len, err, errlen);
	freezero(buf, len);
	if (rv == -1)
		return -1;
	return dns_commit(tmp, path, err, errlen);
}

int
dns_record_read(const struct dns_paths *p, struct dns_record *r, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX];
	uint8_t	*buf;
	size_t	 len;
	int	 rv;

	memset(r, 0, sizeof(*r));
	if (dns_backup_path(p, path, sizeof(path)) == -1) {
		dns_err(err, errlen, "state directory path too long");
		return -1;
	}
	if (dns_read_file(path, DNS_MAX_RECORD, &buf, &len, NULL) == -1) {
		if (errno == ENOENT)
			return 1;
		dns_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rv = dns_record_decode(buf, len, r, err, errlen);
	free(buf);
	return rv == -1 ? 2 : 0;
}

int
dns_record_remove(const struct dns_paths *p, char *err, size_t errlen)
{
	char	 path[PATH_MAX];

	if (dns_backup_path(p, path, sizeof(path)) == -1) {
		dns_err(err, errlen, "state directory path too long");
		return -1;
	}
	if (unlinkat(AT_FDCWD, path, 0) == -1 && errno != ENOENT) {
		dns_err(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	(void)dns_fsync_dir(path);
	return 0;
}

void
dns_record_free(struct dns_record *r)
{
	free(r->orig_data);
	r->orig_data = NULL;
	r->orig_len = 0;
}

/*
 * dns.c -- backend choice, the dns.backup record, and the file helpers the
 * backends share.
 *
 * The record is the only thing that makes a crash recoverable, so it is
 * written (temp file, fsync, rename, fsync of the directory) before the
 * system is touched, it carries a SHA-256 of its own body so a torn or
 * damaged record is never acted upon, and it is parsed strictly.
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

#define REC_MAGIC	"vpnd-dns-backup 1 "
#define REC_LINE_MAX	(2 * PATH_MAX + 64)

struct rec_reader {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
	char		 line[REC_LINE_MAX];
	char		*val;
};

static const char *const backend_names[] = {
	[DNS_AUTO] = "auto",
	[DNS_RESOLVED] = "resolved",
	[DNS_RESOLVCONF] = "resolvconf",
	[DNS_FILE] = "file",
	[DNS_NONE] = "none",
};

static int	 dns_undo(const struct dns_paths *, struct dns_note *, char *,
		    size_t);
static int	 rec_next(struct rec_reader *, const char *);
static int	 rec_u64(struct rec_reader *, const char *, uint64_t,
		    uint64_t *);
static int	 rec_hex(struct rec_reader *, const char *, uint8_t *, size_t,
		    size_t *);
static void	 hex_put(char *, const uint8_t *, size_t);
static int	 hex_get(const char *, uint8_t *, size_t, size_t *);
static int	 parse_u64(const char *, int, uint64_t *);
static bool	 domain_ok(const char *, size_t);

void	(*dns_crash_hook)(const char *);

void
dns_paths_default(struct dns_paths *p)
{
	memset(p, 0, sizeof(*p));
	p->resolv_conf = DNS_DEFAULT_RESOLV_CONF;
	p->statedir = DNS_DEFAULT_STATEDIR;
	p->resolvconf_prog = DNS_DEFAULT_RESOLVCONF;
	p->bus_address = NULL;
}

int
dns_backend_parse(const char *s, enum dns_backend *b)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < nitems(backend_names); i++) {
		if (strcmp(s, backend_names[i]) == 0) {
			*b = (enum dns_backend)i;
			return 0;
		}
	}
	return -1;
}

const char *
dns_backend_name(enum dns_backend b)
{
	if ((size_t)b >= nitems(backend_names))
		return "unknown";
	return backend_names[b];
}

enum dns_backend
dns_detect(const struct dns_paths *p)
{
	if (dns_resolved_detect(dns_path_resolv(p)))
		return DNS_RESOLVED;
	if (dns_resolvconf_available(p))
		return DNS_RESOLVCONF;
	return DNS_FILE;
}

int
dns_apply(const struct dns_paths *p, enum dns_backend want,
    const struct dns_config *cfg, enum dns_backend *used, char *err,
    size_t errlen)
{
	struct dns_note	 note = { NULL, NULL, 0 };
	enum dns_backend b;
	char		 path[PATH_MAX];
	struct stat	 st;

	dns_err(err, errlen, "%s", "");
	if (used != NULL)
		*used = DNS_NONE;
	if (cfg == NULL || dns_config_check(cfg, err, errlen) == -1)
		return -1;
	if ((size_t)want >= nitems(backend_names)) {
		dns_err(err, errlen, "unknown DNS backend %d", (int)want);
		return -1;
	}

	/*
	 * A record from an earlier activation: undo it first, or the record
	 * written below would describe our own settings as the original.
	 */
	if (dns_backup_path(p, path, sizeof(path)) == -1) {
		dns_err(err, errlen, "state directory path too long");
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (dns_undo(p, &note, err, errlen) == -1)
			return -1;
	}

	b = want == DNS_AUTO ? dns_detect(p) : want;
	switch (b) {
	case DNS_NONE:
		break;
	case DNS_FILE:
		if (dns_file_apply(p, cfg, err, errlen) == -1)
			return -1;
		break;
	case DNS_RESOLVCONF:
		if (!dns_resolvconf_available(p)) {
			dns_err(err, errlen,
			    "resolvconf program not available");
			return -1;
		}
		if (dns_resolvconf_apply(p, cfg, err, errlen) == -1)
			return -1;
		break;
	case DNS_RESOLVED:
		if (dns_resolved_apply(p, cfg, err, errlen) == -1)
			return -1;
		break;
	default:
		dns_err(err, errlen, "DNS backend detection failed");
		return -1;
	}
	if (used != NULL)
		*used = b;
	return 0;
}

int
dns_restore(const struct dns_paths *p, char *err, size_t errlen)
{
	struct dns_note	 note = { NULL, err, errlen };

	dns_err(err, errlen, "%s", "");
	return dns_undo(p, &note, err, errlen);
}

int
dns_recover(const struct dns_paths *p, void (*logfn)(const char *),
    char *err, size_t errlen)
{
	struct dns_note	 note = { logfn, NULL, 0 };
	char		 path[PATH_MAX];
	struct stat	 st;

	dns_err(err, errlen, "%s", "");
	if (dns_backup_path(p, path, sizeof(path)) == -1) {
		dns_err(err, errlen, "state directory path too long");
		return -1;
	}
	if (lstat(path, &st) == -1 && errno == ENOENT) {
		/*
		 * No record, yet our marker: the record was removed by hand.
		 * The original is lost to us; say so rather than guess.
		 */
		if (dns_file_has_marker(dns_path_resolv(p)))
			dns_notice(&note, "%s carries vpnd's marker but there "
			    "is no record to restore it from; left as is",
			    dns_path_resolv(p));
		return 0;
	}
	return dns_undo(p, &note, err, errlen);
}

/*
 * Undo from the record and delete it.  The record stays only when it holds
 * the sole copy of the user's file and putting that back failed.
 */
static int
dns_undo(const struct dns_paths *p, struct dns_note *note, char *err,
    size_t errlen)
{
	struct dns_record rec;
	char		 path[PATH_MAX], bad[PATH_MAX + 8];
	int		 r, rv = 0;

	r = dns_record_read(p, &rec, err, errlen);
	if (r == 1)
		return 0;
	if (r == -1)
		return -1;
	if (r == 2) {
		/* Keep it for a human, out of the way of the next run. */
		if (dns_backup_path(p, path, sizeof(path)) == 0 &&
		    snprintf(bad, sizeof(bad), "%s.bad", path) <
		    (int)sizeof(bad) && rename(path, bad) == 0)
			(void)dns_fsync_dir(path);
		return -1;
	}

	switch (rec.backend) {
	case DNS_FILE:
		if (dns_file_restore(p, &rec, note, err, errlen) == -1) {
			dns_record_free(&rec);
			return -1;
		}
		break;
	case DNS_RESOLVCONF:
		rv = dns_resolvconf_restore(p, &rec, note, err, errlen);
		break;
	case DNS_RESOLVED:
		rv = dns_resolved_restore(p, &rec, note, err, errlen);
		break;
	default:
		break;
	}
	dns_record_free(&rec);
	/*
	 * resolvconf and resolved keep their own state; if they refuse now,
	 * retrying from a record forever would only block the next apply.
	 */
	if (rv == -1) {
		char	 tmp[256];

		(void)dns_record_remove(p, tmp, sizeof(tmp));
		return -1;
	}
	return dns_record_remove(p, err, errlen);
}

/* helpers */

void
dns_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
dns_notice(struct dns_note *n, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n->logfn != NULL)
		n->logfn(msg);
	else if (n->buf != NULL && n->buflen > 0)
		(void)strlcpy(n->buf, msg, n->buflen);
}

void
dns_point(const char *what)
{
	if (dns_crash_hook != NULL)
		dns_crash_hook(what);
}

const char *
dns_path_resolv(const struct dns_paths *p)
{
	if (p == NULL || p->resolv_conf == NULL)
		return DNS_DEFAULT_RESOLV_CONF;
	return p->resolv_conf;
}

const char *
dns_path_statedir(const struct dns_paths *p)
{
	if (p == NULL || p->statedir == NULL)
		return DNS_DEFAULT_STATEDIR;
	return p->statedir;
}

int
dns_backup_path(const struct dns_paths *p, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s/%s", dns_path_statedir(p),
	    DNS_BACKUP_NAME);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* Resolver names end up in files and on command lines: be strict. */
static bool
domain_ok(const char *d, size_t max)
{
	size_t	 i, n;

	n = strnlen(d, max);
	if (n == 0 || n == max)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = d[i];

		if (c <= ' ' || c >= 0x7f || c == '#' || c == ';' ||
		    c == '\\')
			return false;
	}
	return true;
}

int
dns_config_check(const struct dns_config *cfg, char *err, size_t errlen)
{
	size_t	 i, n;

	n = strnlen(cfg->ifname, sizeof(cfg->ifname));
	if (n == sizeof(cfg->ifname)) {
		dns_err(err, errlen, "interface name not terminated");
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = cfg->ifname[i];

		if (c <= ' ' || c >= 0x7f || c == '/') {
			dns_err(err, errlen, "bad interface name");
			return -1;
		}
	}
	if (cfg->nservers > nitems(cfg->servers)) {
		dns_err(err, errlen, "too many DNS servers");
		return -1;
	}
	if (cfg->ndomains > nitems(cfg->domains)) {
		dns_err(err, errlen, "too many search domains");
		return -1;
	}
	for (i = 0; i < cfg->nservers; i++) {
		if (cfg->servers[i].af != AF_INET &&
		    cfg->servers[i].af != AF_INET6) {
			dns_err(err, errlen, "DNS server %zu: bad family", i);
			return -1;
		}
	}
	for (i = 0; i < cfg->ndomains; i++) {
		if (!domain_ok(cfg->domains[i], sizeof(cfg->domains[i]))) {
			dns_err(err, errlen, "search domain %zu: bad name", i);
			return -1;
		}
	}
	return 0;
}

/*
 * The resolv.conf body: nameserver and search lines, after the marker line
 * when marker_dir is given.  Returns -1 if it does not fit.
 */
int
dns_format_conf(const struct dns_config *cfg, const char *marker_dir,
    char *buf, size_t len, size_t *outlen)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i, off = 0, nsearch;
	int	 n;

#define APPEND(...) do {						\
	n = snprintf(buf + off, len - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= len - off)				\
		return -1;						\
	off += n;							\
} while (0)

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (marker_dir != NULL)
		APPEND("%s%s/%s\n", DNS_MARKER, marker_dir, DNS_BACKUP_NAME);
	for (i = 0; i < cfg->nservers; i++) {
		if (inet_ntop(cfg->servers[i].af, cfg->servers[i].addr, a,
		    sizeof(a)) == NULL)
			return -1;
		APPEND("nameserver %s\n", a);
	}
	/*
	 * "~name" is a routing-only domain (systemd-resolved's notation):
	 * it means nothing to resolv.conf, so it is left out there.
	 */
	for (i = 0, nsearch = 0; i < cfg->ndomains; i++) {
		if (cfg->domains[i][0] == '~')
			continue;
		if (nsearch++ == 0)
			APPEND("search");
		APPEND(" %s", cfg->domains[i]);
	}
	if (nsearch > 0)
		APPEND("\n");
#undef APPEND
	*outlen = off;
	return 0;
}

void
dns_hash(const void *buf, size_t len, uint8_t out[DNS_HASH_LEN])
{
	(void)crypto_hash_sha256(out, buf, len);
}

/*
 * Reads a whole regular file, at most max bytes; never follows a symlink.
 * Returns 0, or -1 with errno (EFBIG when too large).
 */
int
dns_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen,
    struct stat *stp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* One byte more than the size, to notice a file still growing. */
	if ((buf = malloc(st.st_size + 1)) == NULL)
		goto fail;
	for (;;) {
		n = read(fd, buf + off, st.st_size + 1 - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			errno = saved;
			goto fail;
		}
		if (n == 0)
			break;
		off += n;
		if (off > (size_t)st.st_size) {
			free(buf);
			errno = EAGAIN;
			goto fail;
		}
	}
	close(fd);
	*out = buf;
	*outlen = off;
	if (stp != NULL)
		*stp = st;
	return 0;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Writes a complete new file at tmp (replacing a stale one), with mode and
 * owner, and flushes it to disk.  The caller renames it into place.
 */
int
dns_tmp_write(const char *tmp, const void *buf, size_t len, mode_t mode,
    uid_t uid, gid_t gid, struct stat *stp, char *err, size_t errlen)
{
	const uint8_t	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if (unlink(tmp) == -1 && errno != ENOENT) {
		dns_err(err, errlen, "unlink %s: %s", tmp, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		dns_err(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			dns_err(err, errlen, "write %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		off += n;
	}
	/* fchmod, not the open mode: the umask must not change the result. */
	if (fchmod(fd, mode & 07777) == -1) {
		dns_err(err, errlen, "chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/*
	 * Without CAP_CHOWN only an owner we already have works; a file
	 * owned by someone else comes back with the right bytes and mode and
	 * our owner, which is the best this process can do.
	 */
	if ((uid != geteuid() || gid != getegid()) &&
	    fchown(fd, uid, gid) == -1 && errno != EPERM) {
		dns_err(err, errlen, "chown %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) == -1) {
		dns_err(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (stp != NULL && fstat(fd, stp) == -1) {
		dns_err(err, errlen, "fstat %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		dns_err(err, errlen, "close %s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
 fail:
	close(fd);
	(void)unlink(tmp);
	return -1;
}

int
dns_fsync_dir(const char *path)
{
	char	 dir[PATH_MAX], *slash;
	int	 fd, rv;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -1;
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

int
dns_commit(const char *tmp, const char *path, char *err, size_t errlen)
{
	if (rename(tmp, path) == -1) {
		dns_err(err, errlen, "rename %s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	/*
	 * The rename is done and visible; a failed directory fsync only
	 * weakens durability across a power cut, so it is not an error.
	 */
	(void)dns_fsync_dir(path);
	return 0;
}

/* the record */

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
	    "data %zu\n",
	    dns_backend_name(r->backend), ifn, r->ifindex,
	    r->orig == DNS_ORIG_REGULAR ? "regular" :
	    r->orig == DNS_ORIG_SYMLINK ? "symlink" : "absent",
	    (unsigned int)(r->orig_mode & 07777),
	    (unsigned long long)r->orig_uid, (unsigned long long)r->orig_gid,
	    target, (unsigned long long)r->ours_dev,
	    (unsigned long long)r->ours_ino, (unsigned long long)r->ours_size,
	    hash, r->orig_len);
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
	int		 rv = -1;

	memset(r, 0, sizeof(*r));
	hlen = strlen(REC_MAGIC) + 2 * DNS_HASH_LEN + 1;
	if (len < hlen || memcmp(buf, REC_MAGIC, strlen(REC_MAGIC)) != 0 ||
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
	rv = dns_tmp_write(tmp, buf, len, 0600, geteuid(), getegid(), NULL,
	    err, errlen);
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
	if (unlink(path) == -1 && errno != ENOENT) {
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

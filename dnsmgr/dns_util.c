/*
 * dns_util.c -- what the backends share: messages, paths, the checks on
 * the resolver list, the resolv.conf text, hashing and whole-file I/O.
 * Nothing here knows about backends or the record's format.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "compat.h"
#include "dns_local.h"
#include "dnsbackend.h"
#include "dnsconf.h"


void	(*dns_crash_hook)(const char *);
static int	 ifsock = -1;

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
	int	 i;

	if ((i = dns_backend_lookup(s)) == -1)
		return -1;
	*b = (enum dns_backend)i;
	return 0;
}

const char *
dns_backend_name(enum dns_backend b)
{
	if ((int)b < 0 || (int)b >= DNS_NBACKENDS)
		return "unknown";
	return dns_backend_names[b];
}

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

const char *
dns_path_marker(const struct dns_paths *p)
{
	if (p != NULL && p->marker_dir != NULL)
		return p->marker_dir;
	return dns_path_statedir(p);
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
		if (!dnsconf_domain_ok(cfg->domains[i],
		    sizeof(cfg->domains[i]))) {
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
	size_t	 off = 0;
	int	 n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (marker_dir != NULL) {
		n = snprintf(buf, len, "%s%s/%s\n", DNS_MARKER, marker_dir,
		    DNS_BACKUP_NAME);
		if (n < 0 || (size_t)n >= len)
			return -1;
		off = n;
	}
	if (dnsconf_lines(cfg->servers, cfg->nservers,
	    (const char (*)[CONF_DOMAIN_LEN])cfg->domains, cfg->ndomains, buf,
	    len, &off) == -1)
		return -1;
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
	int	 fd, rv, saved;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	rv = dns_read_fd(fd, max, out, outlen, stp);
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

int
dns_read_fd(int fd, size_t max, uint8_t **out, size_t *outlen,
    struct stat *stp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 saved;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st) == -1)
		return -1;
	if (stp != NULL)
		*stp = st;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		return -1;
	}
	/* One byte more than the size, to notice a file still growing. */
	if ((buf = malloc(st.st_size + 1)) == NULL)
		return -1;
	for (;;) {
		n = pread(fd, buf + off, st.st_size + 1 - off, off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		off += n;
		if (off > (size_t)st.st_size) {
			free(buf);
			errno = EAGAIN;
			return -1;
		}
	}
	*out = buf;
	*outlen = off;
	return 0;
}

int
dns_write_fd(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = pwrite(fd, p + off, len - off, off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += n;
	}
	if (ftruncate(fd, len) == -1 || fsync(fd) == -1)
		return -1;
	return 0;
}

int
dns_resolv_open(const struct dns_paths *p, int op, struct dns_resolv *rv)
{
	memset(rv, 0, sizeof(*rv));
	rv->fd = -1;
	rv->path = dns_path_resolv(p);
	if (p != NULL && p->open_resolv != NULL)
		return p->open_resolv(p, op, rv);
	if (resolv_open(rv->path, op, &rv->fd, rv->target,
	    sizeof(rv->target), &rv->created) == -1) {
		rv->err = errno;
		return -1;
	}
	return 0;
}

void
dns_resolv_close(struct dns_resolv *rv)
{
	if (rv->fd != -1)
		close(rv->fd);
	rv->fd = -1;
}

int
dns_rc(const struct dns_paths *p, int op, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	char	 conf[8192], name[32];
	size_t	 len = 0;

	if (p != NULL && p->resolvconf != NULL)
		return p->resolvconf(p, op, cfg, err, errlen);
	if (p == NULL || p->resolvconf_prog == NULL ||
	    p->resolvconf_prog[0] != '/' ||
	    access(p->resolvconf_prog, X_OK) == -1) {
		dns_err(err, errlen, "resolvconf program not available");
		return -1;
	}
	if (op == DNS_RC_CHECK)
		return 0;
	if (cfg->ifname[0] == '\0' || cfg->ifname[0] == '-') {
		dns_err(err, errlen, "resolvconf needs an interface name");
		return -1;
	}
	(void)snprintf(name, sizeof(name), "%s%s", RESOLVCONF_PREFIX,
	    cfg->ifname);
	if (op == DNS_RC_ADD && dns_format_conf(cfg, NULL, conf,
	    sizeof(conf), &len) == -1) {
		dns_err(err, errlen, "resolv.conf contents too long");
		return -1;
	}
	return resolvconf_run(p->resolvconf_prog, op == DNS_RC_ADD ? "-a" :
	    "-d", name, conf, len, p->resolvconf_ms > 0 ? p->resolvconf_ms :
	    RESOLVCONF_TIMEOUT_MS, err, errlen);
}

/*
 * Writes a complete new file at tmp (replacing a stale one), mode 0600,
 * and flushes it to disk.  The caller renames it into place.
 */
int
dns_tmp_write(const char *tmp, const void *buf, size_t len, char *err,
    size_t errlen)
{
	const uint8_t	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if (unlinkat(AT_FDCWD, tmp, 0) == -1 && errno != ENOENT) {
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
	if (fsync(fd) == -1) {
		dns_err(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		dns_err(err, errlen, "close %s: %s", tmp, strerror(errno));
		(void)unlinkat(AT_FDCWD, tmp, 0);
		return -1;
	}
	return 0;
 fail:
	close(fd);
	(void)unlinkat(AT_FDCWD, tmp, 0);
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
	if (renameat(AT_FDCWD, tmp, AT_FDCWD, path) == -1) {
		dns_err(err, errlen, "rename %s: %s", path, strerror(errno));
		(void)unlinkat(AT_FDCWD, tmp, 0);
		return -1;
	}
	/*
	 * The rename is done and visible; a failed directory fsync only
	 * weakens durability across a power cut, so it is not an error.
	 */
	(void)dns_fsync_dir(path);
	return 0;
}

void
dns_set_ifsock(int s)
{
	ifsock = s;
}

unsigned int
dns_ifindex(const char *name)
{
	struct ifreq	 ifr;

	if (ifsock == -1)
		return if_nametoindex(name);
	memset(&ifr, 0, sizeof(ifr));
	if (strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name)) >=
	    sizeof(ifr.ifr_name)) {
		errno = ENODEV;
		return 0;
	}
	if (ioctl(ifsock, SIOCGIFINDEX, &ifr) == -1)
		return 0;
	return ifr.ifr_ifindex;
}

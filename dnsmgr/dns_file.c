/*
 * dns_file.c -- the last resort: rewrite resolv.conf ourselves.
 *
 * Order matters, because a crash may come at any instant:
 *	1. the record (original bytes or symlink target, mode, owner, and
 *	   the hash of what we are about to write) is made durable;
 *	2. our file is written next to resolv.conf and fsynced;
 *	3. the record is rewritten with our file's inode;
 *	4. our file is renamed over resolv.conf and the directory fsynced.
 * Until 4 the system is unchanged, and recovery sees resolv.conf still is
 * the original.  After 4 it sees our file, recognised by inode, size and
 * hash, and puts the original back.  Anything else means another program
 * (NetworkManager, a DHCP client) replaced the file while we were up:
 * theirs is newer than our original, so it is left alone.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "compat.h"
#include "dns_local.h"

static int	 tmp_path(const char *, char *, size_t);
static int	 capture(const char *, struct dns_record *, char *, size_t);
static int	 is_ours(const char *, const struct dns_record *);
static int	 is_original(const char *, const struct dns_record *);
static int	 put_back(const char *, const struct dns_record *, char *,
		    size_t);

static int
tmp_path(const char *path, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s%s", path, DNS_TMP_SUFFIX);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* Record what resolv.conf is now: a file, a symlink, or nothing. */
static int
capture(const char *path, struct dns_record *r, char *err, size_t errlen)
{
	struct stat	 st, fst;
	ssize_t		 n;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT) {
			r->orig = DNS_ORIG_ABSENT;
			return 0;
		}
		dns_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, r->orig_target, sizeof(r->orig_target));
		if (n == -1) {
			dns_err(err, errlen, "readlink %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (n == 0 || (size_t)n >= sizeof(r->orig_target)) {
			dns_err(err, errlen, "%s: bad symlink", path);
			return -1;
		}
		r->orig_target[n] = '\0';
		r->orig = DNS_ORIG_SYMLINK;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		dns_err(err, errlen, "%s: not a regular file or symlink", path);
		return -1;
	}
	if (dns_read_file(path, DNS_MAX_FILE, &r->orig_data, &r->orig_len,
	    &fst) == -1) {
		dns_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * Our own file with no record to undo it (the record was damaged
	 * and set aside): saving it as "the original" would lose the
	 * user's file for good. Refuse, and say where to look.
	 */
	if (r->orig_len >= strlen(DNS_MARKER) &&
	    memcmp(r->orig_data, DNS_MARKER, strlen(DNS_MARKER)) == 0) {
		dns_err(err, errlen, "%s was written by vpnd and there is no "
		    "record of the file it replaced (see dns.backup.bad in "
		    "the state directory); restore it by hand", path);
		freezero(r->orig_data, r->orig_len);
		r->orig_data = NULL;
		r->orig_len = 0;
		return -1;
	}
	r->orig = DNS_ORIG_REGULAR;
	r->orig_mode = fst.st_mode & 07777;
	r->orig_uid = fst.st_uid;
	r->orig_gid = fst.st_gid;
	return 0;
}

/* 1: resolv.conf is the file we wrote; 0: it is not; -1: cannot tell. */
static int
is_ours(const char *path, const struct dns_record *r)
{
	struct stat	 st;
	uint8_t		 h[DNS_HASH_LEN];
	uint8_t		*buf;
	size_t		 len;
	int		 same;

	if (r->ours_ino == 0)
		return 0;	/* the rename never happened */
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_dev != r->ours_dev ||
	    (uint64_t)st.st_ino != r->ours_ino ||
	    (uint64_t)st.st_size != r->ours_size)
		return 0;
	if (dns_read_file(path, DNS_MAX_FILE, &buf, &len, NULL) == -1)
		return errno == EFBIG ? 0 : -1;
	dns_hash(buf, len, h);
	same = len == r->ours_size &&
	    sodium_memcmp(h, r->ours_hash, sizeof(h)) == 0;
	free(buf);
	return same;
}

/* 1: resolv.conf still is what the record says was there before us. */
static int
is_original(const char *path, const struct dns_record *r)
{
	char		 target[PATH_MAX];
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len;
	ssize_t		 n;
	int		 same;

	if (lstat(path, &st) == -1)
		return errno == ENOENT && r->orig == DNS_ORIG_ABSENT;
	switch (r->orig) {
	case DNS_ORIG_SYMLINK:
		if (!S_ISLNK(st.st_mode))
			return 0;
		n = readlink(path, target, sizeof(target) - 1);
		if (n == -1)
			return 0;
		target[n] = '\0';
		return strcmp(target, r->orig_target) == 0;
	case DNS_ORIG_REGULAR:
		if (!S_ISREG(st.st_mode))
			return 0;
		if (dns_read_file(path, DNS_MAX_FILE, &buf, &len, NULL) == -1)
			return 0;
		same = len == r->orig_len &&
		    (len == 0 || memcmp(buf, r->orig_data, len) == 0);
		free(buf);
		return same;
	default:
		return 0;
	}
}

static int
put_back(const char *path, const struct dns_record *r, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX];

	if (tmp_path(path, tmp, sizeof(tmp)) == -1) {
		dns_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	switch (r->orig) {
	case DNS_ORIG_ABSENT:
		if (unlink(path) == -1 && errno != ENOENT) {
			dns_err(err, errlen, "unlink %s: %s", path,
			    strerror(errno));
			return -1;
		}
		(void)dns_fsync_dir(path);
		return 0;
	case DNS_ORIG_SYMLINK:
		if (unlink(tmp) == -1 && errno != ENOENT) {
			dns_err(err, errlen, "unlink %s: %s", tmp,
			    strerror(errno));
			return -1;
		}
		if (symlink(r->orig_target, tmp) == -1) {
			dns_err(err, errlen, "symlink %s: %s", tmp,
			    strerror(errno));
			return -1;
		}
		return dns_commit(tmp, path, err, errlen);
	case DNS_ORIG_REGULAR:
		if (dns_tmp_write(tmp, r->orig_data, r->orig_len, r->orig_mode,
		    r->orig_uid, r->orig_gid, NULL, err, errlen) == -1)
			return -1;
		return dns_commit(tmp, path, err, errlen);
	}
	dns_err(err, errlen, "DNS record: bad original kind");
	return -1;
}

int
dns_file_apply(const struct dns_paths *p, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	const char	*path = dns_path_resolv(p);
	struct dns_record r;
	struct stat	 st;
	char		 tmp[PATH_MAX], conf[8192];
	size_t		 conflen;
	mode_t		 mode;
	int		 rv = -1;

	memset(&r, 0, sizeof(r));
	if (tmp_path(path, tmp, sizeof(tmp)) == -1) {
		dns_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (dns_format_conf(cfg, dns_path_statedir(p), conf, sizeof(conf),
	    &conflen) == -1) {
		dns_err(err, errlen, "resolv.conf contents too long");
		return -1;
	}
	r.backend = DNS_FILE;
	(void)strlcpy(r.ifname, cfg->ifname, sizeof(r.ifname));
	r.ifindex = cfg->ifindex;
	if (capture(path, &r, err, errlen) == -1)
		goto out;
	r.ours_size = conflen;
	dns_hash(conf, conflen, r.ours_hash);
	mode = r.orig == DNS_ORIG_REGULAR ? r.orig_mode : 0644;

	if (dns_record_write(p, &r, err, errlen) == -1)
		goto out;
	dns_point("record");
	if (dns_tmp_write(tmp, conf, conflen, mode, geteuid(), getegid(), &st,
	    err, errlen) == -1)
		goto undo;
	dns_point("tmp");
	r.ours_dev = st.st_dev;
	r.ours_ino = st.st_ino;
	if (dns_record_write(p, &r, err, errlen) == -1) {
		(void)unlink(tmp);
		goto undo;
	}
	dns_point("record2");
	if (dns_commit(tmp, path, err, errlen) == -1)
		goto undo;
	dns_point("renamed");
	rv = 0;
	goto out;
 undo:
	/* Nothing was changed: the record must not claim otherwise. */
	{
		char	 e2[256];

		(void)dns_record_remove(p, e2, sizeof(e2));
	}
 out:
	if (r.orig_data != NULL)
		freezero(r.orig_data, r.orig_len);
	r.orig_data = NULL;
	return rv;
}

int
dns_file_restore(const struct dns_paths *p, const struct dns_record *r,
    struct dns_note *note, char *err, size_t errlen)
{
	const char	*path = dns_path_resolv(p);
	char		 tmp[PATH_MAX];
	int		 ours;

	/* A crash between writing our temp file and renaming it. */
	if (tmp_path(path, tmp, sizeof(tmp)) == 0)
		(void)unlink(tmp);

	if ((ours = is_ours(path, r)) == -1) {
		dns_err(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		return -1;
	}
	if (ours)
		return put_back(path, r, err, errlen);
	if (is_original(path, r))
		return 0;	/* we stopped before changing anything */
	dns_notice(note, "%s was replaced by another program while vpnd was "
	    "up; leaving the newer file alone", path);
	return 0;
}

/* A resolv.conf whose first line is our marker. */
bool
dns_file_has_marker(const char *path)
{
	uint8_t	*buf;
	size_t	 len, mlen = strlen(DNS_MARKER);
	bool	 has;

	if (dns_read_file(path, DNS_MAX_FILE, &buf, &len, NULL) == -1)
		return false;
	has = len >= mlen && memcmp(buf, DNS_MARKER, mlen) == 0;
	free(buf);
	return has;
}

/*
 * While up: 1 if resolv.conf is still the file we wrote, 0 if another
 * program replaced it, -1 if there is nothing of ours to check (another
 * backend, no record) or it cannot be told.
 */
int
dns_check(const struct dns_paths *p)
{
	struct dns_record	 r;
	char			 err[128];
	int			 rv = -1;

	memset(&r, 0, sizeof(r));
	if (dns_record_read(p, &r, err, sizeof(err)) != 0)
		return -1;
	if (r.backend == DNS_FILE)
		rv = is_ours(dns_path_resolv(p), &r);
	dns_record_free(&r);
	return rv;
}

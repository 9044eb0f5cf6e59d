/*
 * dns_file.c -- the last resort: rewrite resolv.conf ourselves, in place.
 *
 * The file is written through a descriptor (in dnsmgr, one the parent
 * opened), never replaced: write, ftruncate, fsync.  That is what a
 * resolv.conf bind-mounted into a container or a network namespace
 * (rename gives EBUSY), on another file system, or behind a symlink needs,
 * and it needs no write access to the directory: its inode, mode and
 * owner never change.
 *
 * Order matters, because a crash may come at any instant.  The record
 * (original bytes, the file's device and inode, the hash of what we write)
 * says which phase we are in:
 *	writing		made durable before our bytes go in;
 *	written		after they are on disk;
 *	restoring	before the original bytes go back.
 * Recovery looks at the file resolv.conf names now.  The original bytes:
 * nothing to do.  Another inode: another program (NetworkManager, a DHCP
 * client) replaced the file while we were up; theirs is newer than our
 * original, so it is left alone.  Our inode in phase writing or restoring:
 * whatever is there (torn or whole) is ours, the original goes back.  In
 * phase written: our bytes go back to the original, other bytes were
 * written in place by another program and are left alone.
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

enum file_state {
	FILE_ORIGINAL,		/* the bytes from before vpnd */
	FILE_OURS,		/* our inode, our bytes */
	FILE_OURS_OTHER,	/* our inode, bytes of neither */
	FILE_REPLACED,		/* another inode, not the original bytes */
};

static int	 capture(const struct dns_resolv *, struct dns_record *,
		    char *, size_t);
static int	 file_state(const struct dns_resolv *,
		    const struct dns_record *, enum file_state *);
static int	 put_back(const struct dns_paths *, const struct dns_resolv *,
		    struct dns_record *, char *, size_t);

/* Record what resolv.conf holds now. */
static int
capture(const struct dns_resolv *rv, struct dns_record *r, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (dns_read_fd(rv->fd, DNS_MAX_FILE, &r->orig_data, &r->orig_len,
	    &st) == -1) {
		dns_err(err, errlen, "%s: %s", rv->path, strerror(errno));
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
		    "the state directory); restore it by hand", rv->path);
		freezero(r->orig_data, r->orig_len);
		r->orig_data = NULL;
		r->orig_len = 0;
		return -1;
	}
	/* Made for us (there was none): restoring means removing it. */
	r->orig = rv->created ? DNS_ORIG_ABSENT : DNS_ORIG_REGULAR;
	r->orig_mode = st.st_mode & 07777;
	r->orig_uid = st.st_uid;
	r->orig_gid = st.st_gid;
	r->ours_dev = st.st_dev;
	r->ours_ino = st.st_ino;
	return 0;
}

static int
file_state(const struct dns_resolv *rv, const struct dns_record *r,
    enum file_state *state)
{
	struct stat	 st;
	uint8_t		 h[DNS_HASH_LEN];
	uint8_t		*buf;
	size_t		 len;

	if (dns_read_fd(rv->fd, DNS_MAX_FILE, &buf, &len, &st) == -1) {
		if (errno != EFBIG)
			return -1;
		buf = NULL;	/* too large to be ours or the original */
		len = SIZE_MAX;
	}
	if (buf != NULL && r->orig == DNS_ORIG_REGULAR &&
	    len == r->orig_len && (len == 0 ||
	    memcmp(buf, r->orig_data, len) == 0))
		*state = FILE_ORIGINAL;
	else if ((uint64_t)st.st_dev != r->ours_dev ||
	    (uint64_t)st.st_ino != r->ours_ino)
		*state = FILE_REPLACED;
	else {
		*state = FILE_OURS_OTHER;
		if (buf != NULL && len == r->ours_size) {
			dns_hash(buf, len, h);
			if (sodium_memcmp(h, r->ours_hash, sizeof(h)) == 0)
				*state = FILE_OURS;
		}
	}
	free(buf);
	return 0;
}

/* The original bytes back into our inode, the record saying so first. */
static int
put_back(const struct dns_paths *p, const struct dns_resolv *rv,
    struct dns_record *r, char *err, size_t errlen)
{
	struct dns_resolv	 rm;

	if (r->orig != DNS_ORIG_REGULAR && r->orig != DNS_ORIG_ABSENT) {
		dns_err(err, errlen, "DNS record: the original was not a "
		    "regular file (a record from an older vpnd); restore %s "
		    "by hand", rv->path);
		return -1;
	}
	if (r->phase != DNS_PHASE_RESTORING) {
		r->phase = DNS_PHASE_RESTORING;
		if (dns_record_write(p, r, err, errlen) == -1)
			return -1;
	}
	dns_point("restoring");
	if (dns_write_fd(rv->fd, r->orig_data, r->orig_len) == -1) {
		dns_err(err, errlen, "write %s: %s", rv->path,
		    strerror(errno));
		return -1;
	}
	if (r->orig == DNS_ORIG_ABSENT &&
	    dns_resolv_open(p, RESOLV_REMOVE, &rm) == -1 && rm.err != ENOENT) {
		dns_err(err, errlen, "remove %s: %s", rv->path,
		    strerror(rm.err));
		return -1;
	}
	return 0;
}

int
dns_file_apply(const struct dns_paths *p, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	struct dns_resolv rv;
	struct dns_record r;
	char		 conf[8192];
	size_t		 conflen;
	int		 ret = -1;

	memset(&r, 0, sizeof(r));
	if (dns_format_conf(cfg, dns_path_marker(p), conf, sizeof(conf),
	    &conflen) == -1) {
		dns_err(err, errlen, "resolv.conf contents too long");
		return -1;
	}
	if (dns_resolv_open(p, RESOLV_CREATE, &rv) == -1) {
		dns_err(err, errlen, "%s: %s", rv.path, strerror(rv.err));
		return -1;
	}
	r.backend = DNS_FILE;
	(void)strlcpy(r.ifname, cfg->ifname, sizeof(r.ifname));
	r.ifindex = cfg->ifindex;
	if (capture(&rv, &r, err, errlen) == -1)
		goto out;
	r.ours_size = conflen;
	dns_hash(conf, conflen, r.ours_hash);
	r.phase = DNS_PHASE_WRITING;

	if (dns_record_write(p, &r, err, errlen) == -1)
		goto out;
	dns_point("record");
	if (dns_write_fd(rv.fd, conf, conflen) == -1) {
		dns_err(err, errlen, "write %s: %s", rv.path,
		    strerror(errno));
		goto undo;
	}
	dns_point("written");
	r.phase = DNS_PHASE_WRITTEN;
	if (dns_record_write(p, &r, err, errlen) == -1)
		goto undo;
	dns_point("record2");
	ret = 0;
	goto out;
 undo:
	/* Put the original back; the record goes only once it is. */
	{
		char	 e2[256];

		if (put_back(p, &rv, &r, e2, sizeof(e2)) == 0)
			(void)dns_record_remove(p, e2, sizeof(e2));
	}
 out:
	if (r.orig_data != NULL)
		freezero(r.orig_data, r.orig_len);
	r.orig_data = NULL;
	dns_resolv_close(&rv);
	return ret;
}

int
dns_file_restore(const struct dns_paths *p, struct dns_record *r,
    struct dns_note *note, char *err, size_t errlen)
{
	struct dns_resolv rv;
	enum file_state	 st;
	int		 ret = 0;

	if (dns_resolv_open(p, RESOLV_OPEN, &rv) == -1) {
		if (rv.err == ENOENT && r->orig == DNS_ORIG_ABSENT)
			return 0;	/* as it was before us */
		if (rv.err == ENOENT) {
			dns_notice(note, "%s was removed by another program "
			    "while vpnd was up; left as is", rv.path);
			return 0;
		}
		dns_err(err, errlen, "%s: %s", rv.path, strerror(rv.err));
		return -1;
	}
	if (file_state(&rv, r, &st) == -1) {
		dns_err(err, errlen, "%s: cannot read: %s", rv.path,
		    strerror(errno));
		dns_resolv_close(&rv);
		return -1;
	}
	switch (st) {
	case FILE_ORIGINAL:
		break;		/* we stopped before changing anything */
	case FILE_OURS:
		ret = put_back(p, &rv, r, err, errlen);
		break;
	case FILE_OURS_OTHER:
		/* Torn by a crash while we wrote: ours all the same. */
		if (r->phase == DNS_PHASE_WRITING ||
		    r->phase == DNS_PHASE_RESTORING) {
			ret = put_back(p, &rv, r, err, errlen);
			break;
		}
		/* FALLTHROUGH */
	case FILE_REPLACED:
		dns_notice(note, "%s was replaced by another program while "
		    "vpnd was up; leaving the newer file alone", rv.path);
		break;
	}
	dns_resolv_close(&rv);
	return ret;
}

/* A resolv.conf whose first line is our marker. */
bool
dns_file_has_marker(const struct dns_paths *p)
{
	struct dns_resolv rv;
	uint8_t		*buf;
	size_t		 len, mlen = strlen(DNS_MARKER);
	bool		 has;

	if (dns_resolv_open(p, RESOLV_OPEN, &rv) == -1)
		return false;
	if (dns_read_fd(rv.fd, DNS_MAX_FILE, &buf, &len, NULL) == -1) {
		dns_resolv_close(&rv);
		return false;
	}
	has = len >= mlen && memcmp(buf, DNS_MARKER, mlen) == 0;
	free(buf);
	dns_resolv_close(&rv);
	return has;
}

/*
 * While up: 1 if resolv.conf is still the file we wrote, 0 if another
 * program replaced or rewrote it, -1 if there is nothing of ours to check
 * (another backend, no record) or it cannot be told.
 */
int
dns_check(const struct dns_paths *p)
{
	struct dns_resolv	 rv;
	struct dns_record	 r;
	enum file_state		 st;
	char			 err[128];
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	if (dns_record_read(p, &r, err, sizeof(err)) != 0)
		return -1;
	if (r.backend == DNS_FILE && r.phase == DNS_PHASE_WRITTEN) {
		if (dns_resolv_open(p, RESOLV_OPEN, &rv) == -1)
			ret = rv.err == ENOENT ? 0 : -1;
		else {
			if (file_state(&rv, &r, &st) == 0)
				ret = st == FILE_OURS;
			dns_resolv_close(&rv);
		}
	}
	dns_record_free(&r);
	return ret;
}

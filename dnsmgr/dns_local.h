/*
 * dns_local.h -- what the resolver backends share inside dnsmgr/dns*.c.
 * Not for use outside these files (the tests aside).
 */
#ifndef VPND_DNS_LOCAL_H
#define VPND_DNS_LOCAL_H

#include <sys/types.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "dns.h"

#define DNS_MAX_FILE		65536	/* resolv.conf larger than this: no */
#define DNS_MAX_RECORD		(DNS_MAX_FILE + 8192)
#define DNS_HASH_LEN		32	/* SHA-256 */
#define DNS_TMP_SUFFIX		".vpnd-new"
#define DNS_BUS_TIMEOUT_US	(5 * 1000 * 1000ULL)

enum dns_orig {
	DNS_ORIG_ABSENT,
	DNS_ORIG_REGULAR,
	DNS_ORIG_SYMLINK,
};

/* file backend: where a change of resolv.conf stands (dns_file.c) */
enum dns_phase {
	DNS_PHASE_WRITING,
	DNS_PHASE_WRITTEN,
	DNS_PHASE_RESTORING,
};

/* The on-disk record (dns.backup), parsed. */
struct dns_record {
	enum dns_backend backend;
	char		 ifname[16];
	int		 ifindex;

	/* file backend: what was there */
	enum dns_orig	 orig;
	mode_t		 orig_mode;
	uid_t		 orig_uid;
	gid_t		 orig_gid;
	char		 orig_target[PATH_MAX];
	uint8_t		*orig_data;		/* malloc'd, orig_len bytes */
	size_t		 orig_len;

	/* file backend: what we put there (ino 0: not written yet) */
	uint64_t	 ours_dev;
	uint64_t	 ours_ino;
	uint64_t	 ours_size;
	uint8_t		 ours_hash[DNS_HASH_LEN];
	enum dns_phase	 phase;
};

/* Where notices go: a log callback, else the caller's err buffer. */
struct dns_note {
	void		(*logfn)(const char *);
	char		*buf;
	size_t		 buflen;
};

/*
 * Tests set this to stop at a named instant ("record", "written",
 * "record2", "restoring", "renamed") and so simulate a crash there.  NULL
 * in the daemon.
 */
extern void	(*dns_crash_hook)(const char *point);

/* dns_util.c: helpers */
void	 dns_err(char *, size_t, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
void	 dns_notice(struct dns_note *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	 dns_point(const char *);
const char *dns_path_resolv(const struct dns_paths *);
const char *dns_path_statedir(const struct dns_paths *);
const char *dns_path_marker(const struct dns_paths *);
int	 dns_backup_path(const struct dns_paths *, char *, size_t);
int	 dns_config_check(const struct dns_config *, char *, size_t);
int	 dns_format_conf(const struct dns_config *, const char *marker_dir,
	    char *, size_t, size_t *);
void	 dns_hash(const void *, size_t, uint8_t [DNS_HASH_LEN]);
/* resolvconf through p->resolvconf or here; DNS_RC_* */
int	 dns_rc(const struct dns_paths *, int, const struct dns_config *,
	    char *, size_t);
int	 dns_read_file(const char *, size_t max, uint8_t **, size_t *,
	    struct stat *);
/* A whole regular file from offset 0; -1 with errno (EFBIG: too large). */
int	 dns_read_fd(int, size_t max, uint8_t **, size_t *, struct stat *);
/* In place: write at offset 0, ftruncate, fsync; -1 with errno. */
int	 dns_write_fd(int, const void *, size_t);
int	 dns_tmp_write(const char *tmp, const void *, size_t, char *,
	    size_t);
int	 dns_commit(const char *tmp, const char *path, char *, size_t);
int	 dns_fsync_dir(const char *);

/* dns_record.c: the record */
int	 dns_record_write(const struct dns_paths *, const struct dns_record *,
	    char *, size_t);
/* 0 read, 1 no record, 2 corrupt, -1 unreadable */
int	 dns_record_read(const struct dns_paths *, struct dns_record *,
	    char *, size_t);
int	 dns_record_remove(const struct dns_paths *, char *, size_t);
void	 dns_record_free(struct dns_record *);
int	 dns_record_encode(const struct dns_record *, uint8_t **, size_t *);
int	 dns_record_decode(const uint8_t *, size_t, struct dns_record *,
	    char *, size_t);

/* dns_file.c */
int	 dns_file_apply(const struct dns_paths *, const struct dns_config *,
	    char *, size_t);
int	 dns_file_restore(const struct dns_paths *, struct dns_record *,
	    struct dns_note *, char *, size_t);
bool	 dns_file_has_marker(const struct dns_paths *);

/* dns_resolvconf.c */
int	 dns_resolvconf_apply(const struct dns_paths *,
	    const struct dns_config *, char *, size_t);
int	 dns_resolvconf_restore(const struct dns_paths *,
	    const struct dns_record *, struct dns_note *, char *, size_t);

/* dns_resolved.c */
int	 dns_resolved_apply(const struct dns_paths *,
	    const struct dns_config *, char *, size_t);
int	 dns_resolved_restore(const struct dns_paths *,
	    const struct dns_record *, struct dns_note *, char *, size_t);

#endif /* VPND_DNS_LOCAL_H */

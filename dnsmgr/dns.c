/*
 * dns.c -- dispatch and lifecycle: which backend applies the resolvers,
 * and undoing what the record says was done (deactivate, shutdown, and
 * recovery after a crash).  The record lives in dns_record.c, the shared
 * helpers in dns_util.c; the backends call only those.
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

static int	 dns_undo(const struct dns_paths *, struct dns_note *, char *,
		    size_t);

enum dns_backend
dns_detect(const struct dns_paths *p)
{
	struct dns_resolv rv;
	bool		 resolved;
	char		 err[256];

	(void)dns_resolv_open(p, RESOLV_OPEN, &rv);
	resolved = dns_resolved_detect(&rv);
	dns_resolv_close(&rv);
	if (resolved)
		return DNS_RESOLVED;
	if (dns_rc(p, DNS_RC_CHECK, NULL, err, sizeof(err)) == 0)
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
	if (want < DNS_AUTO || want > DNS_NONE) {
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
		if (dns_rc(p, DNS_RC_CHECK, NULL, err, errlen) == -1)
			return -1;
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
		if (dns_file_has_marker(p))
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
		    (int)sizeof(bad) && renameat(AT_FDCWD, path, AT_FDCWD, bad) == 0)
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

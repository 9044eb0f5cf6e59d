/*
 * t_dns_file.c -- the resolv.conf backend and crash recovery: what was
 * there before comes back byte for byte, whatever instant we die at, and a
 * file someone else put there while we were up is never overwritten.
 * Everything happens in a temp dir; the host's resolv.conf is never read.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "compat.h"
#include "dns.h"
#include "dns_local.h"
#include "tap.h"

static char	 base[64];
static char	 etcdir[128], statedir[128], conf[160], backup[160];
static char	 tmpconf[192];
static struct dns_paths paths;
static int	 nlogs;
static char	 lastlog[1024];

static const char orig_bytes[] =
    "# my resolver\nnameserver 192.0.2.53\nsearch lan\n"
    "options edns0\n\x01\xff trailing, no newline";

static void
logfn(const char *msg)
{
	nlogs++;
	strlcpy(lastlog, msg, sizeof(lastlog));
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
cleanup(void)
{
	if (base[0] != '\0')
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
put(const char *path, const void *buf, size_t len, mode_t mode)
{
	int	 fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, buf, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	fchmod(fd, mode);
	close(fd);
}

/* Replace by rename, as NetworkManager does: a new inode. */
static void
replace(const char *path, const char *text)
{
	char	 t[256];

	snprintf(t, sizeof(t), "%s.other", path);
	put(t, text, strlen(text), 0644);
	if (rename(t, path) == -1)
		exit(1);
}

static char *
slurp(const char *path, size_t *len)
{
	uint8_t	*buf;

	if (dns_read_file(path, 1 << 20, &buf, len, NULL) == -1)
		return NULL;
	buf = realloc(buf, *len + 1);
	buf[*len] = '\0';
	return (char *)buf;
}

static int
same_as(const char *path, const void *want, size_t wlen)
{
	char	*got;
	size_t	 len;
	int	 same;

	if ((got = slurp(path, &len)) == NULL)
		return 0;
	same = len == wlen && memcmp(got, want, len) == 0;
	free(got);
	return same;
}

static int
exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

static void
mkcfg(struct dns_config *c)
{
	memset(c, 0, sizeof(*c));
	strlcpy(c->ifname, "dnst0", sizeof(c->ifname));
	c->ifindex = 1;
	c->servers[0].af = AF_INET;
	c->servers[0].plen = 32;
	inet_pton(AF_INET, "10.64.0.1", c->servers[0].addr);
	c->servers[1].af = AF_INET6;
	c->servers[1].plen = 128;
	inet_pton(AF_INET6, "fd00::53", c->servers[1].addr);
	c->nservers = 2;
	strlcpy(c->domains[0], "example.com", sizeof(c->domains[0]));
	strlcpy(c->domains[1], "corp.lan", sizeof(c->domains[1]));
	c->ndomains = 2;
}

static const char *crash_at;

static void
crash_hook(const char *point)
{
	if (crash_at != NULL && strcmp(point, crash_at) == 0)
		_exit(42);
}

/* Apply in a child that dies at the named instant, like a crash. */
static int
apply_and_crash(const char *point)
{
	struct dns_config c;
	char	 err[256];
	pid_t	 pid;
	int	 status;

	mkcfg(&c);
	if ((pid = fork()) == 0) {
		crash_at = point;
		dns_crash_hook = crash_hook;
		if (dns_apply(&paths, DNS_FILE, &c, NULL, err,
		    sizeof(err)) == -1)
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_regular(void)
{
	struct dns_config c;
	enum dns_backend used = DNS_AUTO;
	struct stat	 st;
	char		 err[256], *got;
	size_t		 len;
	ino_t		 ino0;

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0640);
	ino0 = stat(conf, &st) == 0 ? st.st_ino : 0;
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, &used, err, sizeof(err)), 0,
	    "regular: apply");
	is_int(used, DNS_FILE, "regular: file backend used");
	got = slurp(conf, &len);
	ok(got != NULL && strncmp(got, DNS_MARKER, strlen(DNS_MARKER)) == 0,
	    "regular: first line is the marker");
	ok(got != NULL && strstr(got, statedir) != NULL &&
	    strstr(got, "/dns.backup\n") != NULL,
	    "regular: marker names the backup");
	ok(got != NULL && strstr(got, "\nnameserver 10.64.0.1\n") != NULL &&
	    strstr(got, "\nnameserver fd00::53\n") != NULL,
	    "regular: our nameservers");
	ok(got != NULL && strstr(got, "\nsearch example.com corp.lan\n") !=
	    NULL, "regular: our search line");
	ok(got != NULL && strstr(got, "192.0.2.53") == NULL,
	    "regular: old nameserver gone");
	free(got);
	ok(exists(backup), "regular: record exists while up");
	ok(stat(conf, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "regular: our file keeps the original mode");
	ok(st.st_ino == ino0, "regular: written in place (same inode)");

	is_int(dns_restore(&paths, err, sizeof(err)), 0, "regular: restore");
	is_str(err, "", "regular: no notice");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "regular: byte-identical after restore");
	ok(stat(conf, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "regular: mode restored");
	ok(!exists(backup), "regular: record deleted");
	ok(!exists(tmpconf), "regular: no temp file left");
	is_int(dns_restore(&paths, err, sizeof(err)), 0,
	    "regular: second restore is a no-op");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "regular: still identical");
}

/*
 * A symlink (resolvconf's, or a container's) is written through: the
 * file it points to changes in place and comes back byte for byte, the
 * link itself is never touched.
 */
static void
test_symlink(void)
{
	struct dns_config c;
	struct stat	 st;
	char		 err[256], target[256], dest[256];
	ssize_t		 n;

	snprintf(dest, sizeof(dest), "%s/run", base);
	(void)mkdir(dest, 0755);
	snprintf(dest, sizeof(dest), "%s/run/resolvconf", base);
	(void)mkdir(dest, 0755);
	snprintf(dest, sizeof(dest), "%s/run/resolvconf/resolv.conf", base);
	put(dest, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	unlink(conf);
	if (symlink("../run/resolvconf/resolv.conf", conf) == -1)
		exit(1);
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "symlink: apply");
	ok(lstat(conf, &st) == 0 && S_ISLNK(st.st_mode),
	    "symlink: still a symlink while up");
	ok(!same_as(dest, orig_bytes, sizeof(orig_bytes) - 1),
	    "symlink: the file it points to holds our servers");
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "symlink: restore");
	ok(lstat(conf, &st) == 0 && S_ISLNK(st.st_mode),
	    "symlink: a symlink after restore");
	n = readlink(conf, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	is_str(target, "../run/resolvconf/resolv.conf",
	    "symlink: same target");
	ok(same_as(dest, orig_bytes, sizeof(orig_bytes) - 1),
	    "symlink: its file byte-identical");
	ok(!exists(backup), "symlink: record deleted");
	unlink(conf);
}

/* None there: one is made for us, and removed again at restore. */
static void
test_absent(void)
{
	struct dns_config c;
	struct stat	 st;
	char		 err[256];

	unlink(conf);
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "absent: apply");
	ok(stat(conf, &st) == 0 && (st.st_mode & 07777) == 0644,
	    "absent: file created, mode 644");
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "absent: restore");
	ok(!exists(conf), "absent: gone again");
	ok(!exists(backup), "absent: record deleted");

	/* A crash before a byte was written: still removed at recovery. */
	is_int(apply_and_crash("record"), 42, "absent, crash: died there");
	ok(exists(conf), "absent, crash: the new file is there");
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "absent, crash: recover");
	ok(!exists(conf), "absent, crash: gone again");
}

static void
test_crash(void)
{
	static const char *points[] = { "record", "written", "record2",
	    NULL };
	char		 err[256];
	int		 i, r;

	for (i = 0; points[i] != NULL; i++) {
		put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
		r = apply_and_crash(points[i]);
		is_int(r, 42, "crash at %s: child died there", points[i]);
		ok(exists(backup), "crash at %s: record left", points[i]);
		if (strcmp(points[i], "record") != 0)
			ok(!same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
			    "crash at %s: resolv.conf was changed", points[i]);
		else
			ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
			    "crash at %s: resolv.conf not yet changed",
			    points[i]);
		nlogs = 0;
		is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
		    "crash at %s: recover", points[i]);
		ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
		    "crash at %s: byte-identical after recover", points[i]);
		ok(!exists(backup), "crash at %s: record gone", points[i]);
		ok(!exists(tmpconf), "crash at %s: temp file gone",
		    points[i]);
		is_int(nlogs, 0, "crash at %s: nothing odd logged",
		    points[i]);
	}
	/* Dying while the original goes back, leaving it torn in place. */
	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	is_int(apply_and_crash("-"), 0, "torn restore: applied");
	if (fork() == 0) {
		crash_at = "restoring";
		dns_crash_hook = crash_hook;
		(void)dns_restore(&paths, err, sizeof(err));
		_exit(0);
	}
	(void)wait(&r);
	r = open(conf, O_WRONLY | O_TRUNC);
	ok(r != -1 && write(r, "nameserv", 8) == 8, "torn restore: torn");
	close(r);
	nlogs = 0;
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "torn restore: recover");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "torn restore: byte-identical after recover");
	is_int(nlogs, 0, "torn restore: nothing odd logged");

	/* A clean start: nothing to do. */
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "recover without record");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "recover without record: untouched");
}

static void
test_replaced(void)
{
	static const char theirs[] =
	    "# NetworkManager\nnameserver 198.51.100.7\n";
	static const char dhcp[] = "# dhclient\nnameserver 203.0.113.9\n";
	struct dns_config c;
	char		 err[256];
	int		 fd;

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "replaced: apply");
	replace(conf, theirs);
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "replaced: restore");
	ok(strstr(err, "replaced") != NULL, "replaced: notice: %s", err);
	ok(same_as(conf, theirs, strlen(theirs)), "replaced: theirs kept");
	ok(!exists(backup), "replaced: record deleted");

	/* Rewritten in place: same inode, different bytes. */
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "in place: apply");
	fd = open(conf, O_WRONLY | O_TRUNC);
	ok(fd != -1 && write(fd, dhcp, strlen(dhcp)) ==
	    (ssize_t)strlen(dhcp), "in place: rewritten");
	close(fd);
	nlogs = 0;
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "in place: recover");
	is_int(nlogs, 1, "in place: logged once: %s", lastlog);
	ok(same_as(conf, dhcp, strlen(dhcp)), "in place: theirs kept");
	ok(!exists(backup), "in place: record deleted");
}

static void
test_failures(void)
{
	struct dns_config c;
	char		 err[256], sd[200];
	struct dns_paths bad;

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	mkcfg(&c);

	/* Not a regular file: refused before anything is recorded. */
	bad = paths;
	bad.resolv_conf = etcdir;
	err[0] = '\0';
	is_int(dns_apply(&bad, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "not a file: apply fails");
	ok(err[0] != '\0', "not a file: says why: %s", err);
	ok(!exists(backup), "not a file: no record claims a change");

	/* The record cannot be written: nothing may change. */
	snprintf(sd, sizeof(sd), "%s/notadir", base);
	put(sd, "x", 1, 0600);
	bad = paths;
	bad.statedir = sd;
	is_int(dns_apply(&bad, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "no record: apply fails");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "no record: resolv.conf unchanged");
	ok(!exists(tmpconf), "no record: no temp file");
	unlink(sd);

	/* Hostile configurations: refused before anything is written. */
	mkcfg(&c);
	c.ndomains = 9;
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "9 domains refused");
	mkcfg(&c);
	c.nservers = 1000;
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "1000 servers refused");
	mkcfg(&c);
	strlcpy(c.domains[1], "evil.com\nnameserver 6.6.6.6",
	    sizeof(c.domains[1]));
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "domain with newline refused");
	mkcfg(&c);
	memset(c.domains[0], 'a', sizeof(c.domains[0]));
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "unterminated domain refused");
	mkcfg(&c);
	c.servers[0].af = 99;
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "bad address family refused");
	mkcfg(&c);
	memset(c.ifname, 'x', sizeof(c.ifname));
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "unterminated ifname refused");
	is_int(dns_apply(&paths, (enum dns_backend)77, &c, NULL, err,
	    sizeof(err)), -1, "unknown backend refused");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1) &&
	    !exists(backup), "hostile configs: nothing changed");
}

static void
test_reapply(void)
{
	struct dns_config c;
	char		 err[256];

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "reapply: first");
	strlcpy(c.domains[0], "other.example", sizeof(c.domains[0]));
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "reapply: second");
	ok(!same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "reapply: ours in place");
	is_int(dns_apply(&paths, DNS_NONE, &c, NULL, err, sizeof(err)), 0,
	    "reapply: none undoes the earlier one");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1) &&
	    !exists(backup), "reapply: original back, no record");
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "reapply: third");
	is_int(dns_restore(&paths, err, sizeof(err)), 0, "reapply: restore");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "reapply: the pre-vpnd original is back");
}

/*
 * An older vpnd's record (format 1: no phase line) for a file it wrote:
 * still read, and the original comes back.
 */
static void
test_format1(void)
{
	static const char magic[] = "vpnd-dns-backup 1 ";
	struct dns_config c;
	char		 err[256], *rec, *ph, *nl, hex[65];
	uint8_t		 sum[32];
	size_t		 len, hlen = strlen(magic) + 65, i;
	char		*body;

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	mkcfg(&c);
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "format 1: apply");
	rec = slurp(backup, &len);
	ok(rec != NULL && (ph = strstr(rec, "\nphase written\n")) != NULL,
	    "format 1: a format 2 record to turn into one");
	if (rec == NULL || (ph = strstr(rec, "\nphase written\n")) == NULL)
		return;
	/* drop the phase line, hash the body again, the old magic */
	nl = ph + strlen("\nphase written");
	memmove(ph, nl, len - (nl - rec));
	len -= nl - ph;
	body = rec + hlen;
	crypto_hash_sha256(sum, (uint8_t *)body, len - hlen);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	memcpy(rec, magic, strlen(magic));
	memcpy(rec + strlen(magic), hex, 64);
	put(backup, rec, len, 0600);
	free(rec);
	nlogs = 0;
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "format 1: recover (%s)", err);
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "format 1: byte-identical after recover");
	ok(!exists(backup), "format 1: record gone");
	is_int(nlogs, 0, "format 1: nothing odd logged");
}

static void
test_corrupt(void)
{
	static const char *garbage[] = {
		"",
		"garbage\n",
		"vpnd-dns-backup 1 0000\n",
		"vpnd-dns-backup 1 "
		"zz000000000000000000000000000000"
		"00000000000000000000000000000000"
		"\nbackend file\n",
	};
	struct dns_config c;
	char		 err[256], bad[200];
	uint8_t		*good, *mut;
	size_t		 glen, mlen, i;
	int		 fails = 0, untouched = 0, rounds = 300;

	snprintf(bad, sizeof(bad), "%s.bad", backup);
	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0644);
	mkcfg(&c);
	for (i = 0; i < nitems(garbage); i++) {
		put(backup, garbage[i], strlen(garbage[i]), 0600);
		err[0] = '\0';
		is_int(dns_recover(&paths, logfn, err, sizeof(err)), -1,
		    "garbage record %zu: recover reports an error", i);
		ok(err[0] != '\0', "garbage record %zu: %s", i, err);
		ok(!exists(backup) && exists(bad),
		    "garbage record %zu: moved aside", i);
		unlink(bad);
	}
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "garbage records: resolv.conf untouched");

	/* A real record, then truncated and bit-flipped copies of it. */
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "corrupt: apply");
	good = (uint8_t *)slurp(backup, &glen);
	ok(good != NULL && glen > 100, "corrupt: record read");
	if (good == NULL)
		return;
	{
		char	*ours;
		size_t	 olen;

		ours = slurp(conf, &olen);
		srandom(1);
		for (i = 0; i < (size_t)rounds; i++) {
			mlen = glen;
			mut = malloc(glen);
			memcpy(mut, good, glen);
			if (i % 3 == 0)
				mlen = random() % glen;
			else
				mut[random() % glen] ^= 1 << (random() % 8);
			put(backup, mut, mlen, 0600);
			free(mut);
			if (dns_recover(&paths, logfn, err, sizeof(err)) == -1)
				fails++;
			if (ours != NULL && same_as(conf, ours, olen))
				untouched++;
			unlink(bad);
		}
		is_int(fails, rounds, "corrupt: every damaged record refused");
		is_int(untouched, rounds,
		    "corrupt: resolv.conf never written from one");
		free(ours);
	}
	/* The undamaged record still works. */
	put(backup, good, glen, 0600);
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "corrupt: the good record recovers");
	ok(same_as(conf, orig_bytes, sizeof(orig_bytes) - 1),
	    "corrupt: original back");
	free(good);

	/* Our marker but no record: say so, touch nothing. */
	put(conf, DNS_MARKER "x\nnameserver 10.0.0.1\n",
	    strlen(DNS_MARKER "x\nnameserver 10.0.0.1\n"), 0644);
	nlogs = 0;
	is_int(dns_recover(&paths, logfn, err, sizeof(err)), 0,
	    "marker without record: recover");
	is_int(nlogs, 1, "marker without record: logged");
}

static void
test_detect(void)
{
	static const char stub[] =
	    "# This is /run/systemd/resolve/stub-resolv.conf managed by "
	    "man:systemd-resolved(8).\n# Do not edit.\n"
	    "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n";
	static const char mention[] =
	    "# systemd-resolved is not running here\nnameserver 1.1.1.1\n";
	enum dns_backend b;
	struct dns_paths p = paths;
	char		 prog[200];

	ok(dns_backend_parse("auto", &b) == 0 && b == DNS_AUTO, "parse auto");
	ok(dns_backend_parse("resolved", &b) == 0 && b == DNS_RESOLVED,
	    "parse resolved");
	ok(dns_backend_parse("resolvconf", &b) == 0 && b == DNS_RESOLVCONF,
	    "parse resolvconf");
	ok(dns_backend_parse("file", &b) == 0 && b == DNS_FILE, "parse file");
	ok(dns_backend_parse("none", &b) == 0 && b == DNS_NONE, "parse none");
	ok(dns_backend_parse("File", &b) == -1 &&
	    dns_backend_parse("", &b) == -1 &&
	    dns_backend_parse(NULL, &b) == -1, "parse rejects the rest");
	is_str(dns_backend_name(DNS_RESOLVCONF), "resolvconf", "name");
	is_str(dns_backend_name((enum dns_backend)42), "unknown",
	    "name of nonsense");

	unlink(conf);
	ok(symlink("/run/systemd/resolve/stub-resolv.conf", conf) == 0,
	    "detect: stub symlink made");
	is_int(dns_detect(&p), DNS_RESOLVED, "detect: stub symlink");
	unlink(conf);
	ok(symlink("../run/systemd/resolve/resolv.conf", conf) == 0,
	    "detect: relative symlink made");
	is_int(dns_detect(&p), DNS_RESOLVED, "detect: relative symlink");
	unlink(conf);
	put(conf, stub, strlen(stub), 0644);
	is_int(dns_detect(&p), DNS_RESOLVED, "detect: static stub copy");
	put(conf, mention, strlen(mention), 0644);
	is_int(dns_detect(&p), DNS_FILE, "detect: a mere mention is no stub");
	p.resolvconf_prog = NULL;
	is_int(dns_detect(&p), DNS_FILE, "detect: no resolvconf: file");
	snprintf(prog, sizeof(prog), "%s/resolvconf", base);
	p.resolvconf_prog = prog;
	is_int(dns_detect(&p), DNS_FILE, "detect: missing program: file");
	put(prog, "#!/bin/sh\nexit 0\n", 17, 0755);
	is_int(dns_detect(&p), DNS_RESOLVCONF, "detect: resolvconf");
	unlink(prog);
}

/*
 * A damaged record was set aside and resolv.conf is still our own file:
 * apply must not save our file as "the original" (the user's file would
 * be lost for good); it refuses and changes nothing.
 */
static void
test_orphaned_ours(void)
{
	struct dns_config c;
	char		 err[256], text[256];

	snprintf(text, sizeof(text), "%s%s/dns.backup\nnameserver 10.64.0.1\n",
	    DNS_MARKER, statedir);
	put(conf, text, strlen(text), 0644);
	unlink(backup);
	mkcfg(&c);
	err[0] = '\0';
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), -1,
	    "orphaned vpnd file: apply refuses");
	ok(strstr(err, "restore it by hand") != NULL,
	    "orphaned vpnd file: the error says what to do (%s)", err);
	ok(same_as(conf, text, strlen(text)), "orphaned vpnd file: unchanged");
	ok(!exists(backup), "orphaned vpnd file: no record written");
	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0640);
}

/* "~name" routes queries (resolved); resolv.conf cannot say that. */
static void
test_routing_domain(void)
{
	struct dns_config c;
	char		 err[256], *got;
	size_t		 len;

	put(conf, orig_bytes, sizeof(orig_bytes) - 1, 0640);
	mkcfg(&c);
	strlcpy(c.domains[1], "~corp.example", sizeof(c.domains[1]));
	is_int(dns_apply(&paths, DNS_FILE, &c, NULL, err, sizeof(err)), 0,
	    "routing domain: apply");
	got = slurp(conf, &len);
	ok(got != NULL && strstr(got, "search example.com\n") != NULL &&
	    strstr(got, "corp.example") == NULL,
	    "routing domain: only the search domain is written");
	free(got);
	is_int(dns_restore(&paths, err, sizeof(err)), 0,
	    "routing domain: restore");
}

int
main(void)
{
	plan(150);
	snprintf(base, sizeof(base), "/tmp/t_dns_file.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	snprintf(etcdir, sizeof(etcdir), "%s/etc", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", etcdir);
	snprintf(tmpconf, sizeof(tmpconf), "%s%s", conf, DNS_TMP_SUFFIX);
	snprintf(backup, sizeof(backup), "%s/dns.backup", statedir);
	if (mkdir(etcdir, 0755) == -1 || mkdir(statedir, 0700) == -1)
		return 1;
	memset(&paths, 0, sizeof(paths));
	paths.resolv_conf = conf;
	paths.statedir = statedir;

	test_regular();
	test_symlink();
	test_absent();
	test_crash();
	test_replaced();
	test_failures();
	test_reapply();
	test_format1();
	test_corrupt();
	test_detect();
	test_orphaned_ours();
	test_routing_domain();
	return done_testing();
}

/*
 * lockdown.c -- the lockdown setting ("block connections without VPN"),
 * kept by the parent in <statedir>/lockdown.
 *
 * While it is on, the kill switch table stays when no tunnel is up: at
 * start before the control socket exists (recovery swaps a leftover
 * table for the lockdown one in one transaction), after a deactivate,
 * after a crash of any process and across a clean stop. Only netmgr may
 * change it, on an admin's request; the parent checks the message, saves
 * the setting (written to a temporary file, synced, renamed), then makes
 * the firewall follow.
 *
 * The file holds one line: "off", "on" or "on allow-lan". Anything else,
 * a file that is not a regular file of ours, writable by others, too long
 * or unreadable, is corrupt: lockdown is then on, without the LAN (fail
 * closed), and the parent says so in its log.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imsgev.h"
#include "lockdown.h"
#include "log.h"
#include "parent.h"
#include "vpnd.h"

static struct lockdown	 ld;
static char		 ldpath[PATH_MAX];
static char		 lddir[PATH_MAX];

static int	 lockdown_save(const struct lockdown *);
static void	 lockdown_reply(struct imsgev *, int, int, const char *);

/*
 * Read the setting (a missing file is "off"); conf, when the headless
 * configuration has a Lockdown key, replaces it and is saved.
 */
void
lockdown_init(const char *statedir, const struct lockdown *conf)
{
	snprintf(lddir, sizeof(lddir), "%s", statedir);
	snprintf(ldpath, sizeof(ldpath), "%s/%s", statedir, LOCKDOWN_FILE);
	lockdown_load(ldpath, &ld);
	if (conf == NULL)
		return;
	if (ld.on != conf->on || ld.allow_lan != conf->allow_lan) {
		log_info("lockdown set to \"%s\" by the configuration file",
		    lockdown_word(conf));
		if (lockdown_save(conf) == -1) {
			log_warn("saving the lockdown setting in %s", ldpath);
			if (ld.on && !conf->on) {
				/* the file would turn it on again later */
				log_warnx("lockdown stays on");
				return;
			}
		}
	}
	ld = *conf;
}

/*
 * The setting file at path, strictly: 0 with *out set (a missing file is
 * off), else -1 with *out on, without the LAN: fail closed.
 */
int
lockdown_load(const char *path, struct lockdown *out)
{
	struct stat	 st;
	char		 buf[LOCKDOWN_FILE_MAX + 1];
	const char	*why = NULL;
	ssize_t		 n;
	int		 fd;

	out->on = false;
	out->allow_lan = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return 0;
		why = strerror(errno);
	} else if (fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "not owned by vpnd's user";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by group or others";
	else if ((n = read(fd, buf, sizeof(buf))) == -1)
		why = strerror(errno);
	else if (lockdown_parse_file(buf, (size_t)n, out) == -1)
		why = "not \"off\", \"on\" or \"on allow-lan\" on one line";
	if (fd != -1)
		close(fd);
	if (why == NULL)
		return 0;
	out->on = true;
	out->allow_lan = false;
	log_warnx("lockdown setting %s is corrupt (%s): lockdown is on, "
	    "without the LAN", path, why);
	return -1;
}

const struct lockdown *
lockdown_get(void)
{
	return &ld;
}

bool
lockdown_on(void)
{
	return ld.on;
}

static int
lockdown_save(const struct lockdown *nl)
{
	char		 tmp[PATH_MAX + 8];
	const char	*w = lockdown_word(nl);
	int		 fd, dfd, len, save;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ldpath);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	len = (int)strlen(w) + 1;
	if (dprintf(fd, "%s\n", w) != len || fsync(fd) == -1 ||
	    rename(tmp, ldpath) == -1) {
		save = errno;
		close(fd);
		(void)unlink(tmp);
		errno = save;
		return -1;
	}
	close(fd);
	/* the rename itself must survive a power cut */
	if ((dfd = open(lddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void
lockdown_reply(struct imsgev *iev, int ok, int err, const char *msg)
{
	struct imsg_lockdown_state	 s;

	memset(&s, 0, sizeof(s));
	s.ok = ok;
	s.err = err;
	s.on = ld.on;
	s.allow_lan = ld.allow_lan;
	if (msg != NULL)
		strlcpy(s.msg, msg, sizeof(s.msg));
	imsgev_compose(iev, IMSG_LOCKDOWN_STATE, 0, -1, &s, sizeof(s));
}

/* netmgr learns the setting at start, before it serves anyone. */
void
lockdown_announce(struct imsgev *iev)
{
	lockdown_reply(iev, 1, 0, NULL);
}

/*
 * IMSG_LOCKDOWN_SET from netmgr: exactly a struct imsg_lockdown, each
 * field 0 or 1, the LAN only with lockdown on. -1: a malformed message
 * (the caller stops); a refused or failed change is answered.
 */
int
lockdown_dispatch(struct imsgev *iev, struct imsg *imsg)
{
	struct imsg_lockdown	 m;
	struct lockdown		 nl, old = ld;
	char			 err[256];

	if (imsg_get_type(imsg) != IMSG_LOCKDOWN_SET ||
	    imsg_get_data(imsg, &m, sizeof(m)) == -1)
		return -1;
	if (m.on > 1 || m.allow_lan > 1 || (m.allow_lan && !m.on)) {
		log_warnx("refused lockdown change: on %u, allow-lan %u",
		    m.on, m.allow_lan);
		lockdown_reply(iev, 0, EINVAL, "bad lockdown setting");
		return 0;
	}
	nl.on = m.on != 0;
	nl.allow_lan = m.allow_lan != 0;
	if (lockdown_save(&nl) == -1) {
		snprintf(err, sizeof(err), "cannot save the setting: %s",
		    strerror(errno));
		log_warnx("lockdown: %s", err);
		lockdown_reply(iev, 0, errno, err);
		return 0;
	}
	ld = nl;
	if (netops_lockdown(&old, err, sizeof(err)) == -1) {
		/* saved: the next start enforces it; say what failed now */
		log_warnx("lockdown \"%s\": %s", lockdown_word(&ld), err);
		lockdown_reply(iev, 0, EIO, err);
		return 0;
	}
	log_info("lockdown is %s", lockdown_word(&ld));
	lockdown_reply(iev, 1, 0, NULL);
	return 0;
}

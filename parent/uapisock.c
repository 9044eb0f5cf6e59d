/*
 * uapisock.c -- the WireGuard UAPI socket, IFNAME.sock in the UAPI
 * directory (/var/run/wireguard by default), bound here and served by
 * netmgr, which parses every request.
 *
 * The directory is the same in every network namespace, so a name can
 * clash with another daemon's interface: a socket someone answers on is
 * left alone and vpnd serves no UAPI (logged); one nobody answers on is a
 * leftover of a crash, and is removed. The socket is removed again on
 * every orderly exit; after a kill, the next start finds it stale.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"

static char	 uapipath[sizeof(((struct sockaddr_un *)0)->sun_path)];
static dev_t	 uapidev;
static ino_t	 uapiino;

int
uapisock_open(const char *udir, const char *ifname)
{
	char			 real[PATH_MAX];
	const char		*dir = udir;
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 ebuf[256];
	mode_t			 old;
	int			 fd, probe;

	if (dir[0] == '\0')
		return -1;
	if (geteuid() != 0) {
		log_info("uapi: not served without root (wg(8) looks in a "
		    "directory only root may write)");
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("uapi: %s; not served", dir);
		return -1;
	}
	/* /var/run is a link to /run on most systems: check the target. */
	if (realpath(udir, real) == NULL) {
		log_warn("uapi: %s; not served", udir);
		return -1;
	}
	dir = real;
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0) {
		/* 0755 is how wireguard-go creates it */
		log_warnx("uapi: %s must be a directory of root's that "
		    "only root may write; not served", dir);
		return -1;
	}
	if (secure_dir(dir, ebuf, sizeof(ebuf)) == -1) {
		log_warnx("uapi: %s; not served", ebuf);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock",
	    dir, ifname) >= sizeof(sun.sun_path)) {
		log_warnx("uapi: %s/%s.sock: path too long; not served", dir,
		    ifname);
		return -1;
	}
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("uapi: %s exists and is not a socket; not "
			    "served", sun.sun_path);
			return -1;
		}
		/*
		 * Non-blocking: a listener that never accepts (its backlog
		 * full) must not hang the start; EAGAIN means it is alive.
		 */
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			log_warn("uapi: socket");
			return -1;
		}
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) ==
		    0 || errno == EAGAIN || errno == EINPROGRESS) {
			close(probe);
			log_warnx("uapi: %s is served by another process (an "
			    "interface of that name in another network "
			    "namespace?); wg(8) will not see this vpnd",
			    sun.sun_path);
			return -1;
		}
		close(probe);
		if (errno != ECONNREFUSED) {
			log_warn("uapi: %s; not served", sun.sun_path);
			return -1;
		}
		log_info("uapi: removing the stale %s", sun.sun_path);
		if (unlink(sun.sun_path) == -1 && errno != ENOENT) {
			log_warn("uapi: %s; not served", sun.sun_path);
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("uapi: socket");
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("uapi: bind %s; not served", sun.sun_path);
		close(fd);
		return -1;
	}
	umask(old);
	if (lstat(sun.sun_path, &st) == -1 || listen(fd, 16) == -1) {
		log_warn("uapi: %s; not served", sun.sun_path);
		(void)unlink(sun.sun_path);
		close(fd);
		return -1;
	}
	strlcpy(uapipath, sun.sun_path, sizeof(uapipath));
	uapidev = st.st_dev;
	uapiino = st.st_ino;
	log_info("uapi: serving %s", uapipath);
	return fd;
}

/* Ours only: never a socket another instance bound since. */
void
uapisock_remove(void)
{
	struct stat	 st;

	if (uapipath[0] == '\0')
		return;
	if (lstat(uapipath, &st) == 0 && st.st_dev == uapidev &&
	    st.st_ino == uapiino)
		(void)unlink(uapipath);
	uapipath[0] = '\0';
}

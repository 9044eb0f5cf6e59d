/*
 * secpath.c -- the directories the parent writes in as root (control
 * socket, pid file, logs, state) must be root's alone.
 *
 * Otherwise whoever may write in one of them could swap a file the parent
 * is about to create, chown or read for a symbolic link, and have root
 * clobber or hand over any file of the system. The rule, checked for every
 * component of the path from "/" down:
 *	- each component is a directory, not a symbolic link;
 *	- each is owned by root (or, when vpnd runs without root, by the
 *	  user it runs as: that user's own files are at stake then);
 *	- none is writable by group or others -- except an ancestor that is
 *	  sticky (mode +t, as /tmp), where nobody but root may rename or
 *	  remove the root-owned entry below it. The directory itself may not
 *	  be sticky-and-writable: others could create names in it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parent.h"

static int	walk(const char *, uid_t, char *, size_t);

/* owner: the one uid besides root that may own the component */
static int
check_one(const char *path, int last, uid_t owner, char *err, size_t errlen)
{
	struct stat	 st;

	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s is a symbolic link; give the real "
		    "path", path);
		errno = ELOOP;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", path);
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != owner) {
		snprintf(err, errlen, "%s is owned by uid %u, not root%s",
		    path, (unsigned int)st.st_uid, owner != 0 ?
		    " nor the user vpnd runs as" : "");
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (last || !(st.st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s is writable by %s (mode %04o)", path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned int)(st.st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
secure_dir(const char *dir, char *err, size_t errlen)
{
	return walk(dir, geteuid(), err, errlen);
}

static int
walk(const char *dir, uid_t owner, char *err, size_t errlen)
{
	char	 path[PATH_MAX], save;
	size_t	 len, i;

	if (dir[0] != '/') {
		snprintf(err, errlen, "%s: not an absolute path", dir);
		errno = EINVAL;
		return -1;
	}
	if ((len = strlcpy(path, dir, sizeof(path))) >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	if (check_one("/", len == 1, owner, err, errlen) == -1)
		return -1;
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		if (path[i - 1] == '/')
			continue;		/* "a//b" */
		save = path[i];
		path[i] = '\0';
		if (check_one(path, save == '\0', owner, err, errlen) == -1)
			return -1;
		path[i] = save;
	}
	return 0;
}

/*
 * A child's executable: the parent runs it as root (or with the rights it
 * keeps) before the child drops them, so whoever could replace it would
 * run code with those rights. It must be a regular file, not a symbolic
 * link, owned by root, not writable by group or others, in a directory
 * every component of which is root's and passes the same checks as
 * secure_dir()'s. Root's even when vpnd runs without root: the file
 * capability makes the parent's own code unchangeable by whoever owns it
 * (a write clears the capability), and a child holds the parent's
 * channel and descriptors, so the user must not supply a child's code
 * either, from files of theirs or from a link to the parent's executable
 * in a directory of theirs.
 * The file stays open: the parent executes this very file by descriptor,
 * whatever later happens to the name. Returns the descriptor, or -1.
 */
int
secure_exec(const char *path, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], *slash;
	struct stat	 st;
	int		 fd;

	if (path[0] != '/' || strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: not an absolute path", path);
		errno = EINVAL;
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (walk(dir, 0, err, errlen) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by uid %u, not root",
		    path, (unsigned int)st.st_uid);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "%s is writable by %s (mode %04o)", path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned int)(st.st_mode & 07777));
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & S_IXUSR) == 0) {
		snprintf(err, errlen, "%s is not executable", path);
		close(fd);
		errno = EACCES;
		return -1;
	}
	return fd;
}

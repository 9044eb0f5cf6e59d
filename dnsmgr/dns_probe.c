/*
 * dns_probe.c -- test builds only: from inside dnsmgr's sandbox, try what
 * a compromised dnsmgr must not be able to do, and log each result
 * ("probe N NAME: denied (why)" or "ALLOWED").  An action seccomp forbids
 * kills the process: the test starts again from the next probe
 * (VPND_TEST_PROBE_FROM).  The targets are made by the test:
 * VPND_TEST_PROBE_DIR holds etc/ (beside the managed resolv.conf),
 * state/ (the state directory) and run/other.sock; VPND_TEST_PROBE_NAME
 * names files to try in /tmp and /etc and an abstract socket;
 * VPND_TEST_VICTIMS is "PID_ROOT PID_OTHER", processes outside vpnd.
 * The last probes turn the resolv.conf descriptor the parent hands over
 * against the rest of the system.
 */
#ifdef VPND_TESTHOOKS
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "dns.h"
#include "log.h"

static const char	*pdir, *pname;
static int		(*get_resolv_fd)(void);
static pid_t		 vroot, vother;

static int
p_open(const char *sub, int flags)
{
	char	 path[512];
	int	 fd;

	if (sub[0] == '/')
		(void)snprintf(path, sizeof(path), "%s", sub);
	else
		(void)snprintf(path, sizeof(path), "%s/%s", pdir, sub);
	if ((fd = open(path, flags | O_CLOEXEC, 0644)) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
p_path(char *buf, size_t len, const char *sub)
{
	(void)snprintf(buf, len, "%s/%s", pdir, sub);
	return 0;
}

static int
p_connect(int abstract)
{
	struct sockaddr_un	 sun;
	socklen_t		 sl;
	int			 s, r;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		(void)snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
		    "vpnd-probe-%s", pname);
		sl = offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(sun.sun_path + 1);
	} else {
		(void)snprintf(sun.sun_path, sizeof(sun.sun_path),
		    "%s/run/other.sock", pdir);
		sl = sizeof(sun);
	}
	r = connect(s, (struct sockaddr *)&sun, sl);
	close(s);
	return r;
}

static int
p_prlimit(pid_t pid)
{
	struct rlimit	 rl = { 1, 1 };

	return prlimit(pid, RLIMIT_NOFILE, &rl, NULL);
}

static const char *const probe_names[] = {
	"append to a root-owned 0644 file beside resolv.conf",
	"create a file beside resolv.conf",
	"rename a file beside resolv.conf",
	"remove a file beside resolv.conf",
	"read a root-only file beside resolv.conf",
	"write a root-owned file in the state directory",
	"create a file in the state directory",
	"create a file in /tmp",
	"create a file in /etc",
	"chmod a root-owned file beside resolv.conf",
	"chown a root-owned file beside resolv.conf",
	"symlink beside resolv.conf",
	"hard link beside resolv.conf",
	"connect to a UNIX socket that is not the bus",
	"connect to an abstract UNIX socket",
	"kill a root process outside vpnd",
	"kill a process of another uid outside vpnd",
	"tgkill a root process outside vpnd",
	"prlimit a root process outside vpnd",
	"prlimit a process of another uid outside vpnd",
	"unshare user and network namespaces",
	"clone into new user and network namespaces",
	"execute a program",
	"TIOCSTI on standard error",
	"chroot again",
	"ptrace the parent",
	"open a TCP socket",
	"fchmod the resolv.conf descriptor",
	"fchown the resolv.conf descriptor",
	"open a name relative to the resolv.conf descriptor",
	"reopen the resolv.conf descriptor through /proc/self/fd",
	"hard link the resolv.conf descriptor into the state directory",
};

/* The descriptor the parent hands over, or -1 (and the probe fails). */
static int
p_resolv(void)
{
	int	 fd;

	if ((fd = get_resolv_fd()) == -1)
		log_warnx("probe: no resolv.conf descriptor from the parent");
	return fd;
}

/* 0 if the action worked, -1 with errno. */
static int
probe(int i)
{
	char	 a[512], b[512];
	pid_t	 pid;
	int	 fd;

	switch (i) {
	case 0:
		return p_open("etc/passwd", O_WRONLY | O_APPEND);
	case 1:
		return p_open("etc/evil", O_WRONLY | O_CREAT | O_EXCL);
	case 2:
		p_path(a, sizeof(a), "etc/passwd");
		p_path(b, sizeof(b), "etc/passwd.old");
		return renameat(AT_FDCWD, a, AT_FDCWD, b);
	case 3:
		p_path(a, sizeof(a), "etc/hosts");
		return unlinkat(AT_FDCWD, a, 0);
	case 4:
		return p_open("etc/shadow", O_RDONLY);
	case 5:
		return p_open("state/victim", O_WRONLY);
	case 6:
		return p_open("state/evil", O_WRONLY | O_CREAT | O_EXCL);
	case 7:
		(void)snprintf(a, sizeof(a), "/tmp/%s", pname);
		return p_open(a, O_WRONLY | O_CREAT | O_EXCL);
	case 8:
		(void)snprintf(a, sizeof(a), "/etc/%s", pname);
		return p_open(a, O_WRONLY | O_CREAT | O_EXCL);
	case 9:
		p_path(a, sizeof(a), "etc/shadow");
		return syscall(SYS_fchmodat, AT_FDCWD, a, 0666);
	case 10:
		p_path(a, sizeof(a), "etc/passwd");
		return syscall(SYS_fchownat, AT_FDCWD, a, getuid(), getgid(),
		    0);
	case 11:
		p_path(a, sizeof(a), "etc/link");
		return symlinkat("/attacker", AT_FDCWD, a);
	case 12:
		p_path(a, sizeof(a), "etc/passwd");
		p_path(b, sizeof(b), "etc/passwd.link");
		return linkat(AT_FDCWD, a, AT_FDCWD, b, 0);
	case 13:
		return p_connect(0);
	case 14:
		return p_connect(1);
	case 15:
		return kill(vroot, SIGTERM);
	case 16:
		return kill(vother, SIGTERM);
	case 17:
		return syscall(SYS_tgkill, vroot, vroot, SIGTERM);
	case 18:
		return p_prlimit(vroot);
	case 19:
		return p_prlimit(vother);
	case 20:
		return unshare(CLONE_NEWUSER | CLONE_NEWNET);
	case 21:
		pid = syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD,
		    0, 0, 0, 0);
		if (pid == 0)
			_exit(0);
		return pid == -1 ? -1 : 0;
	case 22:
		{
			char	*argv[] = { "sh", "-c", "true", NULL };

			return execve("/bin/sh", argv, NULL);
		}
	case 23:
		return ioctl(STDERR_FILENO, TIOCSTI, "x");
	case 24:
		return chroot("/");
	case 25:
		return ptrace(PTRACE_ATTACH, getppid(), 0, 0);
	case 26:
		{
			int	 s;

			if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
				return -1;
			close(s);
			return 0;
		}
	case 27:
		if ((fd = p_resolv()) == -1)
			return -1;
		return fchmod(fd, 0666);
	case 28:
		if ((fd = p_resolv()) == -1)
			return -1;
		return fchown(fd, getuid(), getgid());
	case 29:
		if ((fd = p_resolv()) == -1)
			return -1;
		return openat(fd, "../passwd", O_WRONLY | O_APPEND) == -1 ?
		    -1 : 0;
	case 30:
		if ((fd = p_resolv()) == -1)
			return -1;
		(void)snprintf(a, sizeof(a), "/proc/self/fd/%d", fd);
		return open(a, O_RDWR) == -1 ? -1 : 0;
	case 31:
		if ((fd = p_resolv()) == -1)
			return -1;
		return linkat(fd, "", AT_FDCWD, "/resolv.link", AT_EMPTY_PATH);
	default:
		errno = EINVAL;
		return -1;
	}
}

void
dns_probes(void (*flush)(void), int (*resolv_fd)(void))
{
	const char	*from = getenv("VPND_TEST_PROBE_FROM");
	const char	*victims = getenv("VPND_TEST_VICTIMS");
	const char	*name;
	int		 i, r;

	get_resolv_fd = resolv_fd;
	pdir = getenv("VPND_TEST_PROBE_DIR");
	pname = getenv("VPND_TEST_PROBE_NAME");
	if (pdir == NULL || pname == NULL || victims == NULL ||
	    sscanf(victims, "%d %d", &vroot, &vother) != 2) {
		log_warnx("probes: VPND_TEST_PROBE_DIR, VPND_TEST_PROBE_NAME "
		    "and VPND_TEST_VICTIMS are needed");
		return;
	}
	for (i = from != NULL ? atoi(from) : 0;
	    i >= 0 && (size_t)i < sizeof(probe_names) / sizeof(probe_names[0]);
	    i++) {
		name = probe_names[i];
		log_info("probe %d %s: trying", i, name);
		flush();
		errno = 0;
		r = probe(i);
		if (r == 0)
			log_info("probe %d %s: ALLOWED", i, name);
		else
			log_info("probe %d %s: denied (%s)", i, name,
			    strerror(errno));
		flush();
	}
	log_info("probes done");
	flush();
}
#endif /* VPND_TESTHOOKS */

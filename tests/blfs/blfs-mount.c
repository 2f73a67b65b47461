/*
 * Test driver doing what the agent does for a mount: handoff_mount, fork,
 * open the drive directory beneath the store with openat2, drop every
 * capability (blfs stays uid 0 and holds none), exec blfs, wait for
 * "ready", then leave a registrar behind that registers backing files for
 * FUSE passthrough as the agent does (mountmgr/backing.c), until blfs
 * closes its socket. Silent on success.
 *
 *   blfs-mount mount [--blfs PATH] [--ro] [--blfs-ro] [--pidfile F]
 *       [--log F] [--nofile N] [--buffer-size N] [--stats F]
 *       [--ceph CONF KEYRING ID]
 *       STORE SUBDIR MOUNTPOINT
 *       [-- BLFS-ARGS...]
 *   With --ceph, STORE is the CephFS name and SUBDIR the directory served
 *   in it; CONF and KEYRING are passed to blfs as fds, as the agent does.
 *   blfs-mount umount MOUNTPOINT
 *   blfs-mount check MOUNTPOINT      prints "ro|rw nosuid nodev SOURCE"
 */
#include "config.h"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "mountmgr/backing.h"
#include "mountmgr/handoff.h"
#include "mountmgr/stats.h"

static void	registrar(int fusefd, int sock, int read_only);

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "blfs-mount: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/*
 * As the agent's child does for blfs (sandboxing/confine.c): no capability
 * left anywhere, bounding set included, while still uid 0; no_new_privs,
 * so the exec of blfs (root, no file capabilities) gains none back.
 */
static void
drop_caps(void)
{
	cap_t caps;
	cap_value_t c;

	for (c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_drop_bound(c) == -1 && errno != EINVAL)
			die("dropping capability %d from the bounding set", c);
	}
	if (cap_reset_ambient() == -1)
		die("clearing the ambient set");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		die("no_new_privs");
	if ((caps = cap_init()) == NULL)
		die("cap_init");
	if (cap_set_proc(caps) == -1)
		die("dropping every capability");
	cap_free(caps);
}

static int
cmd_mount(int argc, char **argv)
{
	const char *blfs = NULL, *pidfile = NULL, *logfile = NULL;
	const char *statsfile = NULL;
	const struct stats_file *smap;
	int statsfd = -1;
	const char *store, *sub, *mnt, *ceph_conf = NULL, *ceph_keyring = NULL;
	const char *ceph_id = NULL;
	struct handoff_blfs_args ba;
	struct handoff_mount hm;
	struct open_how how;
	struct rlimit rl;
	struct pollfd pfd;
	enum handoff_result hr;
	char **bargv, **full, line[512], *cause, bufsz[32] = "";
	int ro = 0, blfs_ro = 0, fusefd, err, sfd, rootfd, st[2], i, n, nx;
	long nofile = 0;
	ssize_t r;
	size_t len = 0;
	pid_t pid;
	FILE *f;

	for (i = 2; i < argc && argv[i][0] == '-' && argv[i][1] == '-' &&
	    argv[i][2] != '\0'; i++) {
		if (strcmp(argv[i], "--ro") == 0)
			ro = 1;
		else if (strcmp(argv[i], "--blfs-ro") == 0)
			blfs_ro = 1;
		else if (strcmp(argv[i], "--blfs") == 0 && i + 1 < argc)
			blfs = argv[++i];
		else if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			logfile = argv[++i];
		else if (strcmp(argv[i], "--nofile") == 0 && i + 1 < argc)
			nofile = atol(argv[++i]);
		else if (strcmp(argv[i], "--stats") == 0 && i + 1 < argc)
			statsfile = argv[++i];
		else if (strcmp(argv[i], "--buffer-size") == 0 && i + 1 < argc)
			snprintf(bufsz, sizeof(bufsz), "%s", argv[++i]);
		else if (strcmp(argv[i], "--ceph") == 0 && i + 3 < argc) {
			ceph_conf = argv[++i];
			ceph_keyring = argv[++i];
			ceph_id = argv[++i];
		}
		else
			die("unknown option %s", argv[i]);
	}
	if (argc - i < 3)
		die("usage: mount [options] STORE SUBDIR MOUNTPOINT [-- ARGS]");
	store = argv[i];
	sub = argv[i + 1];
	mnt = argv[i + 2];
	i += 3;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	nx = argc - i;
	if (blfs == NULL) {
		static char path[4096];

		snprintf(path, sizeof(path), "%s/blfs/blfs",
		    getenv("top_builddir") ? getenv("top_builddir") : ".");
		blfs = path;
	}

	memset(&hm, 0, sizeof(hm));
	hm.source = "testdrive";
	hm.path = mnt;
	hm.read_only = ro;
	hm.buffer_size = bufsz[0] ? strtoull(bufsz, NULL, 10) : HANDOFF_UNSET;
	if ((hr = handoff_mount(&hm, &fusefd, &err)) != HANDOFF_OK) {
		cause = handoff_describe(hr, err, mnt);
		die("%s", cause);
	}
	/* A metrics file as the agent makes one (blfs then counts). */
	if (statsfile != NULL && (err = -stats_create(statsfile, &statsfd,
	    &smap)) != 0)
		die("%s: %s", statsfile, strerror(err));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) == -1)
		die("socketpair: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(st[0]);
		memset(&ba, 0, sizeof(ba));
		rootfd = -1;
		if (ceph_conf != NULL) {
			ba.ceph_fs = store;
			ba.ceph_root = sub;
			ba.ceph_id = ceph_id;
			if ((ba.ceph_conf_fd = open(ceph_conf, O_RDONLY)) ==
			    -1 || (ba.ceph_keyring_fd = open(ceph_keyring,
			    O_RDONLY)) == -1)
				die("%s, %s: %s", ceph_conf, ceph_keyring,
				    strerror(errno));
			goto opened;
		}
		if ((sfd = open(store, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
			die("%s: %s", store, strerror(errno));
		memset(&how, 0, sizeof(how));
		how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS;
		rootfd = (int)syscall(SYS_openat2, sfd, sub, &how, sizeof(how));
		if (rootfd == -1)
			die("%s beneath %s: %s", sub, store, strerror(errno));
opened:
		if (logfile != NULL) {
			int lfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND,
			    0644);
			if (lfd == -1 || dup2(lfd, 2) == -1)
				die("%s: %s", logfile, strerror(errno));
			close(lfd);
		}
		if (nofile > 0) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)nofile;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				die("RLIMIT_NOFILE: %s", strerror(errno));
		}
		ba.blfs_path = blfs;
		ba.fuse_fd = fusefd;
		ba.root_fd = rootfd;
		ba.status_fd = st[1];
		ba.lock_fd = -1;
		ba.mounts_fd = -1;
		ba.stats_fd = statsfd;
		ba.usage_fd = -1;
		if (statsfd != -1)
			fd_set_cloexec(statsfd, 0);
		ba.drive = "testdrive";
		ba.session_id = "test-session";
		ba.mount_path = mnt;
		ba.read_only = ro || blfs_ro;
		ba.cache_size = ba.prefetch = HANDOFF_UNSET;
		ba.buffer_size = bufsz[0] ? strtoull(bufsz, NULL, 10) :
		    HANDOFF_UNSET;
		bargv = handoff_blfs_argv(&ba);
		for (n = 0; bargv[n] != NULL; n++)
			;
		full = calloc((size_t)(n + nx + 1), sizeof(*full));
		if (full == NULL)
			die("out of memory");
		memcpy(full, bargv, (size_t)n * sizeof(*full));
		memcpy(full + n, argv + i, (size_t)nx * sizeof(*full));
		fd_set_cloexec(fusefd, 0);
		if (rootfd != -1)
			fd_set_cloexec(rootfd, 0);
		fd_set_cloexec(st[1], 0);
		drop_caps();
		execv(blfs, full);
		die("exec %s: %s", blfs, strerror(errno));
	}
	close(st[1]);

	/* One line: "ready" or "error ..."; 20 s is plenty. */
	pfd.fd = st[0];
	pfd.events = POLLIN;
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		if (poll(&pfd, 1, 20000) <= 0) {
			kill(pid, SIGKILL);
			handoff_detach(mnt);
			die("no word from blfs within 20 s");
		}
		r = read(st[0], line + len, sizeof(line) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	line[len] = '\0';
	if (strncmp(line, "ready\n", 6) == 0)
		registrar(fusefd, st[0], ro || blfs_ro);
	close(fusefd);	/* blfs and the registrar hold it now */
	close(st[0]);
	if (strncmp(line, "ready\n", 6) != 0) {
		waitpid(pid, NULL, WNOHANG);
		handoff_detach(mnt);
		die("blfs did not get ready: %s", len ? line : "(exited)\n");
	}
	if (pidfile != NULL) {
		if ((f = fopen(pidfile, "w")) == NULL)
			die("%s: %s", pidfile, strerror(errno));
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return 0;
}

/*
 * What the agent does for its blfs (mount.c): answer "backing" lines
 * with a registration on the mount's /dev/fuse fd, drop "unbacking" ones,
 * until blfs closes the socket (then the connection is blfs's alone, and
 * is aborted when it dies). In a process of its own, left running.
 */
static void
registrar(int fusefd, int sock, int read_only)
{
	char buf[256], line[64], answer[64];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *c;
	size_t len = 0;
	ssize_t n, i;
	unsigned held = 0;
	int fd = -1;

	switch (fork()) {
	case -1:
		die("fork: %s", strerror(errno));
	case 0:
		break;
	default:
		return;
	}
	/*
	 * Nothing of the caller's but the two fds: a test reading our
	 * output to its end must not wait on the registrar.
	 */
	(void)setsid();
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		_exit(1);
	if ((fusefd = fcntl(fusefd, F_DUPFD, 1000)) == -1 ||
	    (sock = fcntl(sock, F_DUPFD, 1000)) == -1 ||
	    syscall(SYS_close_range, 3, 999, 0) == -1 ||
	    syscall(SYS_close_range, (fusefd > sock ? fusefd : sock) + 1,
	    ~0U, 0) == -1)
		_exit(1);
	fd = -1;
	for (;;) {
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) <= 0)
			_exit(0);
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len != CMSG_LEN(sizeof(int)))
				continue;
			if (fd != -1)
				close(fd);
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (strcmp(line, BACKING_ASK) == 0) {
				backing_answer(fusefd, fd, read_only, &held,
				    answer, sizeof(answer));
				if (fd != -1)
					close(fd);
				fd = -1;
				if (write(sock, answer, strlen(answer)) == -1)
					_exit(1);
			} else if (strncmp(line, BACKING_DROP,
			    strlen(BACKING_DROP)) == 0)
				backing_unregister(fusefd,
				    line + strlen(BACKING_DROP), &held);
		}
	}
}

static int
cmd_check(const char *path)
{
	struct handoff_mountinfo mi;
	int r;

	r = handoff_mountinfo_find(path, &mi);
	if (r == -1)
		die("mountinfo: %s", strerror(errno));
	if (r == 0) {
		printf("none\n");
		return 1;
	}
	if (r == 2) {
		printf("other\n");
		return 1;
	}
	printf("%s%s%s %s\n", mi.read_only ? "ro" : "rw",
	    mi.nosuid ? " nosuid" : "", mi.nodev ? " nodev" : "", mi.source);
	return 0;
}

int
main(int argc, char **argv)
{
	int r;

	if (argc >= 2 && strcmp(argv[1], "mount") == 0)
		return cmd_mount(argc, argv);
	if (argc == 3 && strcmp(argv[1], "umount") == 0) {
		if ((r = handoff_detach(argv[2])) != 0)
			die("detaching %s: %s", argv[2], strerror(-r));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	fprintf(stderr, "usage: blfs-mount mount|umount|check ...\n");
	return 2;
}

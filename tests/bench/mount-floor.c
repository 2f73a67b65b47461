/*
 * mount-floor DIR N: the least a FUSE mount can cost on this machine, the
 * floor mount-bench sets blagent's Mount latency against. Each of N
 * rounds, timed from the first step to the last: open /dev/fuse, mount
 * it on DIR (fuse, nosuid, nodev, as blagent mounts), fork and exec this
 * program again as a minimal libfuse server of that fd, wait for its FUSE
 * INIT and a first statvfs and stat of the root to answer; then (not
 * timed) unmount and reap the server. Prints one line per round: the
 * nanoseconds it took.
 *
 * mount-floor --serve FD: the server, answering INIT, GETATTR and STATFS
 * of an empty root and nothing else.
 */
#define FUSE_USE_VERSION 35
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.st_ino = FUSE_ROOT_ID;
	st.st_mode = S_IFDIR | 0755;
	st.st_nlink = 2;
	fuse_reply_attr(req, &st, 1.0);
}

static void
floor_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops floor_ops = {
	.getattr = floor_getattr,
	.statfs = floor_statfs,
};

static int
floor_serve(const char *fd)
{
	char *argv[] = { "mount-floor", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se;
	char path[64];
	int r;

	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
	if (se == NULL)
		return 1;
	/* "/dev/fd/N": libfuse serves the fd as it is, mounting nothing. */
	snprintf(path, sizeof(path), "/dev/fd/%s", fd);
	if (fuse_session_mount(se, path) != 0)
		return 1;
	r = fuse_session_loop(se);
	fuse_session_destroy(se);
	return r < 0 ? 1 : 0;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
floor_round(const char *self, const char *dir)
{
	struct statvfs sv;
	struct stat st;
	char opts[160], fdarg[16];
	long long t0 = now_ns();
	int fd, status;
	pid_t pid;

	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1) {
		perror("mount-floor: /dev/fuse");
		return -1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,"
	    "group_id=0,allow_other,default_permissions", fd);
	if (mount("floor", dir, "fuse.floor", MS_NOSUID | MS_NODEV, opts) ==
	    -1) {
		perror("mount-floor: mount");
		close(fd);
		return -1;
	}
	if ((pid = fork()) == -1) {
		perror("mount-floor: fork");
		close(fd);
		umount2(dir, MNT_DETACH);
		return -1;
	}
	if (pid == 0) {
		snprintf(fdarg, sizeof(fdarg), "%d", fd);
		fcntl(fd, F_SETFD, 0);
		execl(self, self, "--serve", fdarg, (char *)NULL);
		_exit(127);
	}
	close(fd);
	/* Answered once the server has done INIT: the kernel waits for it. */
	if (statvfs(dir, &sv) == -1 || stat(dir, &st) == -1) {
		perror("mount-floor: statvfs");
		umount2(dir, MNT_DETACH);
		waitpid(pid, NULL, 0);
		return -1;
	}
	printf("%lld\n", now_ns() - t0);
	umount2(dir, 0);
	waitpid(pid, &status, 0);
	return 0;
}

int
main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;
	long rounds;

	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return floor_serve(argv[2]);
	if (argc != 3 || (rounds = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: mount-floor DIR N | --serve FD\n");
		return 2;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		perror("mount-floor: /proc/self/exe");
		return 1;
	}
	self[n] = '\0';
	for (long i = 0; i < rounds; i++)
		if (floor_round(self, argv[1]) == -1)
			return 1;
	return 0;
}

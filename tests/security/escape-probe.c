/*
 * escape-probe ATTEMPT ARG...: one way around the read-only layers, tried
 * for real, for tests/security/escape.sh. Prints "ok" when the attempt
 * succeeded (exit 0) or the errno that stopped it, by name and in words
 * (exit 1); "step: ..." names the step when the attempt has several.
 * Inside bljail every attempt must fail; the same attempts on a
 * read-write mount, or outside the jail, show that each one can succeed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A failed step: its errno, and which step it was when there are several. */
static const char *fail_step;

static int
fail(const char *step)
{
	fail_step = step;
	return errno != 0 ? errno : EIO;
}

static int
open_or_fail(const char *path, int flags, const char *step, int *fd)
{
	if ((*fd = open(path, flags | O_CLOEXEC, 0644)) == -1)
		return fail(step);
	return 0;
}

/* open for writing and append a line. */
static int
a_write(char **av)
{
	int fd, e;

	if ((e = open_or_fail(av[0], O_WRONLY | O_APPEND, "open", &fd)) != 0)
		return e;
	if (write(fd, "escape\n", 7) != 7) {
		e = fail("write");
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

static int
a_create(char **av)
{
	int fd;

	if ((fd = open(av[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		return errno;
	close(fd);
	return 0;
}

/* Read the whole file; its first line goes to stdout after "ok". */
static int
a_read(char **av)
{
	char buf[256];
	ssize_t n;
	int fd;

	if ((fd = open(av[0], O_RDONLY | O_CLOEXEC)) == -1)
		return fail("open");
	if ((n = read(fd, buf, sizeof buf - 1)) == -1) {
		n = fail("read");
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("ok %s\n", buf);
	exit(0);
}

static int
a_opendir(char **av)
{
	DIR *d;

	if ((d = opendir(av[0])) == NULL)
		return errno;
	while (readdir(d) != NULL)
		;
	closedir(d);
	return 0;
}

static int
a_truncate(char **av)
{
	return truncate(av[0], 1) == 0 ? 0 : errno;
}

static int
a_ftruncate(char **av)
{
	int fd, e;

	if ((e = open_or_fail(av[0], O_RDWR, "open", &fd)) != 0)
		return e;
	e = ftruncate(fd, 1) == 0 ? 0 : fail("ftruncate");
	close(fd);
	return e;
}

static int
a_rename(char **av)
{
	return rename(av[0], av[1]) == 0 ? 0 : errno;
}

static int
a_unlink(char **av)
{
	return unlink(av[0]) == 0 ? 0 : errno;
}

static int
a_rmdir(char **av)
{
	return rmdir(av[0]) == 0 ? 0 : errno;
}

static int
a_mkdir(char **av)
{
	return mkdir(av[0], 0755) == 0 ? 0 : errno;
}

static int
a_chmod(char **av)
{
	return chmod(av[0], 0600) == 0 ? 0 : errno;
}

/* To our own ids: allowed to the owner on a writable mount. */
static int
a_chown(char **av)
{
	return chown(av[0], getuid(), getgid()) == 0 ? 0 : errno;
}

static int
a_setxattr(char **av)
{
	return setxattr(av[0], "user.escape", "1", 1, 0) == 0 ? 0 : errno;
}

static int
a_removexattr(char **av)
{
	return removexattr(av[0], "user.escape") == 0 ? 0 : errno;
}

static int
a_utimes(char **av)
{
	return utimensat(AT_FDCWD, av[0], NULL, 0) == 0 ? 0 : errno;
}

static int
a_link(char **av)
{
	return link(av[0], av[1]) == 0 ? 0 : errno;
}

static int
a_symlink(char **av)
{
	return symlink("escape", av[0]) == 0 ? 0 : errno;
}

static int
a_mkfifo(char **av)
{
	return mknod(av[0], S_IFIFO | 0644, 0) == 0 ? 0 : errno;
}

/* A shared writable mapping, written through and synced back. */
static int
mmap_write(int fd, int *e)
{
	char *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		*e = fail("mmap");
		return -1;
	}
	memcpy(p, "ESC", 3);
	if (msync(p, 4096, MS_SYNC) != 0) {
		*e = fail("msync");
		munmap(p, 4096);
		return -1;
	}
	munmap(p, 4096);
	*e = 0;
	return 0;
}

static int
a_mmap_shared(char **av)
{
	int fd, e;

	if ((e = open_or_fail(av[0], O_RDWR, "open O_RDWR", &fd)) != 0)
		return e;
	mmap_write(fd, &e);
	close(fd);
	return e;
}

/* The same from a read-only fd: the one a read-only mount gives out. */
static int
a_mmap_shared_rdonly_fd(char **av)
{
	int fd, e;

	if ((e = open_or_fail(av[0], O_RDONLY, "open", &fd)) != 0)
		return e;
	mmap_write(fd, &e);
	close(fd);
	return e;
}

static int
a_fallocate(char **av)
{
	int fd, e;

	if ((e = open_or_fail(av[0], O_RDWR, "open O_RDWR", &fd)) != 0)
		return e;
	e = fallocate(fd, 0, 0, 8192) == 0 ? 0 : fail("fallocate");
	close(fd);
	return e;
}

static int
a_copy_file_range(char **av)
{
	int in, out, e;
	ssize_t n;

	if ((e = open_or_fail(av[0], O_RDONLY, "open source", &in)) != 0)
		return e;
	if ((e = open_or_fail(av[1], O_WRONLY, "open target", &out)) != 0) {
		close(in);
		return e;
	}
	n = copy_file_range(in, NULL, out, NULL, 64, 0);
	e = n < 0 ? fail("copy_file_range") : 0;
	close(in);
	close(out);
	return e;
}

/* The handle file: handle_bytes, handle_type, then the bytes. */
struct probe_handle {
	struct file_handle	fh;
	unsigned char		buf[MAX_HANDLE_SZ];
};

/* Outside the jail: the handle of a file in the store, to a file. */
static int
a_handle_capture(char **av)
{
	struct probe_handle h;
	int mnt, fd, e;

	memset(&h, 0, sizeof h);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, av[0], &h.fh, &mnt, 0) != 0)
		return fail("name_to_handle_at");
	if ((e = open_or_fail(av[1], O_WRONLY | O_CREAT | O_TRUNC, "open",
	    &fd)) != 0)
		return e;
	if (write(fd, &h, sizeof h) != (ssize_t)sizeof h) {
		e = fail("write");
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

/* open_by_handle_at with that handle, on an fd of the same filesystem. */
static int
a_handle_open(char **av)
{
	struct probe_handle h;
	char c;
	int hfd, mfd, fd, e;

	if ((e = open_or_fail(av[0], O_RDONLY, "open handle file", &hfd)) != 0)
		return e;
	if (read(hfd, &h, sizeof h) != (ssize_t)sizeof h) {
		e = fail("read handle file");
		close(hfd);
		return e;
	}
	close(hfd);
	if ((e = open_or_fail(av[1], O_RDONLY | O_DIRECTORY, "open mount fd",
	    &mfd)) != 0)
		return e;
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	e = fd == -1 ? fail("open_by_handle_at") : 0;
	close(mfd);
	if (fd != -1) {
		if (read(fd, &c, 1) != 1)
			e = fail("read");
		close(fd);
	}
	return e;
}

static pid_t
pid_arg(const char *s)
{
	return (pid_t)strtol(s, NULL, 10);
}

static int
a_ptrace_attach(char **av)
{
	pid_t pid = pid_arg(av[0]);
	int st;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0)
		return errno;
	waitpid(pid, &st, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return 0;
}

/* Any address will do: the call must be refused before memory is read. */
static int
a_process_vm_readv(char **av)
{
	char dst[16];
	struct iovec l = { dst, sizeof dst };
	struct iovec r = { (void *)0x400000, sizeof dst };

	if (process_vm_readv(pid_arg(av[0]), &l, 1, &r, 1, 0) == -1)
		return errno;
	return 0;
}

static int
a_pidfd_open(char **av)
{
	long fd = syscall(SYS_pidfd_open, pid_arg(av[0]), 0);

	if (fd == -1)
		return errno;
	close((int)fd);
	return 0;
}

static int
a_signal0(char **av)
{
	return kill(pid_arg(av[0]), 0) == 0 ? 0 : errno;
}

/* The read-only mount made writable: the old remount and the new API. */
static int
a_remount_rw(char **av)
{
	return mount(NULL, av[0], NULL, MS_REMOUNT | MS_BIND, NULL) == 0 ?
	    0 : errno;
}

static int
a_mount_setattr_rw(char **av)
{
	struct mount_attr attr;

	memset(&attr, 0, sizeof attr);
	attr.attr_clr = MOUNT_ATTR_RDONLY;
	return mount_setattr(AT_FDCWD, av[0], 0, &attr, sizeof attr) == 0 ?
	    0 : errno;
}

/* A read-only block device made writable: BLKROSET 0 on it. */
static int
a_blk_set_rw(char **av)
{
	int fd, zero = 0, e;

	if ((e = open_or_fail(av[0], O_RDONLY, "open", &fd)) != 0)
		return e;
	if (ioctl(fd, BLKROSET, &zero) == -1) {
		e = fail("BLKROSET");
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

/* Raw blocks written on a device: a file system's own, under it. */
static int
a_blk_write(char **av)
{
	char block[4096];
	int fd, e;

	if ((e = open_or_fail(av[0], O_RDWR, "open", &fd)) != 0)
		return e;
	memset(block, 0, sizeof block);
	if (pread(fd, block, sizeof block, 8192) != (ssize_t)sizeof block ||
	    pwrite(fd, block, sizeof block, 8192) != (ssize_t)sizeof block ||
	    fsync(fd) == -1) {
		e = fail("write");
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

static int
a_mount_tmpfs(char **av)
{
	return mount("none", av[0], "tmpfs", 0, NULL) == 0 ? 0 : errno;
}

static int
a_bind(char **av)
{
	return mount(av[0], av[1], NULL, MS_BIND, NULL) == 0 ? 0 : errno;
}

/* A FUSE mount of our own on /dev/fuse, read-write. */
static int
a_fuse_mount(char **av)
{
	char opts[128];
	int fd, e;

	if ((e = open_or_fail("/dev/fuse", O_RDWR, "open /dev/fuse",
	    &fd)) != 0)
		return e;
	snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=%u,"
	    "group_id=%u", fd, getuid(), getgid());
	e = mount("escape", av[0], "fuse.escape", MS_NOSUID | MS_NODEV,
	    opts) == 0 ? 0 : fail("mount");
	close(fd);
	return e;
}

/* A user namespace (all capabilities back), a mount namespace, a mount. */
static int
a_unshare_mount(char **av)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return fail("unshare(CLONE_NEWUSER|CLONE_NEWNS)");
	if (mount("none", av[0], "tmpfs", 0, NULL) != 0)
		return fail("mount");
	return 0;
}

static int
a_mknod_block(char **av)
{
	dev_t dev = makedev(strtoul(av[1], NULL, 10),
	    strtoul(av[2], NULL, 10));

	if (mknod(av[0], S_IFBLK | 0600, dev) != 0)
		return errno;
	unlink(av[0]);
	return 0;
}

static int
a_connect(char **av)
{
	struct sockaddr_un sun;
	int fd, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(av[0]) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return errno;
	}
	strcpy(sun.sun_path, av[0]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return fail("socket");
	e = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ? 0 :
	    fail("connect");
	close(fd);
	return e;
}

/* Not attempts: facts for the checks. "ro" or "rw". */
static int
a_statvfs(char **av)
{
	struct statvfs sv;

	if (statvfs(av[0], &sv) != 0)
		return errno;
	printf("%s\n", (sv.f_flag & ST_RDONLY) ? "ro" : "rw");
	exit(0);
}

/* "mount-root" or "not-mount-root", the path itself (never followed). */
static int
a_mount_root(char **av)
{
	struct statx stx;

	if (statx(AT_FDCWD, av[0], AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	    &stx) != 0)
		return errno;
	printf("%s\n", (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ?
	    "mount-root" : "not-mount-root");
	exit(0);
}

/*
 * A new file in a directory the agent loads code from, removed at once:
 * under bljail --read-only it must fail; should it not, nothing is left.
 */
static int
a_create_remove(char **av)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/.bl-escape-probe.%ld", av[0],
	    (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return errno;
	close(fd);
	unlink(path);
	return 0;
}

/* access(W_OK) only: writes nothing whatever the answer. */
static int
a_access_w(char **av)
{
	return access(av[0], W_OK) == 0 ? 0 : errno;
}

static const struct {
	const char	*name;
	int		 nargs;
	int		(*fn)(char **);
} attempts[] = {
	{ "write", 1, a_write },
	{ "create", 1, a_create },
	{ "read", 1, a_read },
	{ "opendir", 1, a_opendir },
	{ "truncate", 1, a_truncate },
	{ "ftruncate", 1, a_ftruncate },
	{ "rename", 2, a_rename },
	{ "unlink", 1, a_unlink },
	{ "rmdir", 1, a_rmdir },
	{ "mkdir", 1, a_mkdir },
	{ "chmod", 1, a_chmod },
	{ "chown", 1, a_chown },
	{ "setxattr", 1, a_setxattr },
	{ "removexattr", 1, a_removexattr },
	{ "utimes", 1, a_utimes },
	{ "link", 2, a_link },
	{ "symlink", 1, a_symlink },
	{ "mkfifo", 1, a_mkfifo },
	{ "mmap-shared", 1, a_mmap_shared },
	{ "mmap-shared-rdonly-fd", 1, a_mmap_shared_rdonly_fd },
	{ "fallocate", 1, a_fallocate },
	{ "copy_file_range", 2, a_copy_file_range },
	{ "handle-capture", 2, a_handle_capture },
	{ "handle-open", 2, a_handle_open },
	{ "ptrace-attach", 1, a_ptrace_attach },
	{ "process_vm_readv", 1, a_process_vm_readv },
	{ "pidfd_open", 1, a_pidfd_open },
	{ "signal0", 1, a_signal0 },
	{ "remount-rw", 1, a_remount_rw },
	{ "blk-set-rw", 1, a_blk_set_rw },
	{ "blk-write", 1, a_blk_write },
	{ "mount_setattr-rw", 1, a_mount_setattr_rw },
	{ "mount-tmpfs", 1, a_mount_tmpfs },
	{ "bind", 2, a_bind },
	{ "fuse-mount", 1, a_fuse_mount },
	{ "unshare-mount", 1, a_unshare_mount },
	{ "mknod-block", 3, a_mknod_block },
	{ "connect", 1, a_connect },
	{ "statvfs", 1, a_statvfs },
	{ "mount-root", 1, a_mount_root },
	{ "create-remove", 1, a_create_remove },
	{ "access-w", 1, a_access_w },
};

int
main(int argc, char **argv)
{
	size_t i;
	int e;

	if (argc < 2) {
		fprintf(stderr, "usage: escape-probe ATTEMPT ARG...\n");
		return 2;
	}
	for (i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
		if (strcmp(attempts[i].name, argv[1]) != 0)
			continue;
		if (argc - 2 != attempts[i].nargs) {
			fprintf(stderr, "escape-probe: %s takes %d "
			    "arguments\n", argv[1], attempts[i].nargs);
			return 2;
		}
		errno = 0;
		e = attempts[i].fn(argv + 2);
		if (e == 0) {
			printf("ok\n");
			return 0;
		}
		printf("%s%s%s %s\n", fail_step != NULL ? fail_step : "",
		    fail_step != NULL ? ": " : "",
		    strerrorname_np(e) != NULL ? strerrorname_np(e) : "E?",
		    strerror(e));
		return 1;
	}
	fprintf(stderr, "escape-probe: no attempt named %s\n", argv[1]);
	return 2;
}

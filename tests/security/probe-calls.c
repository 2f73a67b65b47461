/*
 * One probe per system call the confinement must refuse (or, for blfs,
 * must allow). Arguments are chosen so that a call the filter lets
 * through does nothing lasting: invalid flags, missing files, level 0,
 * things undone at once.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/security/probe-calls.h"

#define RET(x)	return ((x) == -1 ? errno : 0)

/* A scratch directory under /tmp (writable for root and uid 1000). */
static int
probe_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/bl-probe.XXXXXX");
	return mkdtemp(buf) == NULL ? -1 : 0;
}

static int
p_mount(void)
{
	char d[64];
	int r, e;

	if (probe_tmpdir(d, sizeof d) != 0)
		return errno;
	r = mount("none", d, "tmpfs", 0, NULL);
	e = errno;
	if (r == 0)
		umount2(d, MNT_DETACH);
	rmdir(d);
	return r == 0 ? 0 : e;
}

static int
p_umount2(void)
{
	/* Nothing there: ENOENT when the call is reached, nothing undone. */
	RET(umount2("/nonexistent-bl-probe", 0));
}

static int
p_fsopen(void)
{
	int fd = (int)syscall(SYS_fsopen, "tmpfs", 0);

	if (fd >= 0)
		close(fd);
	RET(fd);
}

static int
p_fsmount(void)
{
	RET(syscall(SYS_fsmount, -1, 0, 0));
}

static int
p_fsconfig(void)
{
	RET(syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
}

static int
p_fspick(void)
{
	int fd = (int)syscall(SYS_fspick, AT_FDCWD, "/", 0);

	if (fd >= 0)
		close(fd);
	RET(fd);
}

static int
p_open_tree(void)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* CLONE */);

	if (fd >= 0)
		close(fd);
	RET(fd);
}

static int
p_move_mount(void)
{
	RET(syscall(SYS_move_mount, -1, "", -1, "", 0));
}

static int
p_mount_setattr(void)
{
	char attr[32];

	/* Nothing set, nothing cleared. */
	memset(attr, 0, sizeof attr);
	RET(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, attr, sizeof attr));
}

static int
p_pivot_root(void)
{
	RET(syscall(SYS_pivot_root, "/nonexistent-bl", "/nonexistent-bl"));
}

static int
p_chroot(void)
{
	RET(chroot("/"));
}

static int
p_unshare_mnt(void)
{
	RET(unshare(CLONE_NEWNS));
}

static int
p_unshare_user(void)
{
	RET(unshare(CLONE_NEWUSER));
}

static int
p_unshare_net(void)
{
	RET(unshare(CLONE_NEWNET));
}

static int
p_setns(void)
{
	int fd, r, e;

	if ((fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	r = setns(fd, 0);
	e = errno;
	close(fd);
	return r == 0 ? 0 : e;
}

static int
probe_clone(unsigned long flags)
{
	long pid;
	int st;

	pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid == -1)
		return errno;
	waitpid((pid_t)pid, &st, 0);
	return 0;
}

static int
p_clone_newuser(void)
{
	return probe_clone(CLONE_NEWUSER);
}

static int
p_clone_newns(void)
{
	return probe_clone(CLONE_NEWNS);
}

static int
p_clone_newpid(void)
{
	return probe_clone(CLONE_NEWPID);
}

static int
p_clone3(void)
{
	/* A NULL argument: EFAULT or EINVAL when the call is reached. */
	RET(syscall(SYS_clone3, NULL, 0));
}

static int
p_ptrace(void)
{
	/* Not our tracee: ESRCH when the call is reached. */
	RET(ptrace(PTRACE_PEEKDATA, 1, NULL, NULL));
}

static int
p_process_vm_readv(void)
{
	char src[8] = "probe", dst[8];
	struct iovec l = { dst, sizeof dst }, r = { src, sizeof src };

	RET(process_vm_readv(getpid(), &l, 1, &r, 1, 0));
}

static int
p_process_vm_writev(void)
{
	char src[8] = "probe", dst[8];
	struct iovec l = { src, sizeof src }, r = { dst, sizeof dst };

	RET(process_vm_writev(getpid(), &l, 1, &r, 1, 0));
}

static int
p_name_to_handle_at(void)
{
	struct {
		struct file_handle fh;
		unsigned char buf[MAX_HANDLE_SZ];
	} h;
	int mnt;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	RET(name_to_handle_at(AT_FDCWD, "/", &h.fh, &mnt, 0));
}

static int
p_open_by_handle_at(void)
{
	struct {
		struct file_handle fh;
		unsigned char buf[MAX_HANDLE_SZ];
	} h;
	int mnt, fd;

	memset(&h, 0, sizeof h);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	/* A real handle of / where we can get one, a bogus one otherwise. */
	if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mnt, 0) == -1) {
		h.fh.handle_bytes = 8;
		h.fh.handle_type = 1;
	}
	if ((mnt = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno;
	fd = open_by_handle_at(mnt, &h.fh, O_RDONLY | O_CLOEXEC);
	close(mnt);
	if (fd >= 0)
		close(fd);
	RET(fd);
}

static int
p_bpf(void)
{
	union bpf_attr attr;

	/* Zero sizes: EINVAL when the call is reached. */
	memset(&attr, 0, sizeof attr);
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	RET(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

static int
p_keyctl(void)
{
	RET(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
	    KEY_SPEC_PROCESS_KEYRING, 1));
}

static int
p_add_key(void)
{
	/* Into the process keyring: gone when the probe exits. */
	RET(syscall(SYS_add_key, "user", "bl-probe", "x", (size_t)1,
	    KEY_SPEC_PROCESS_KEYRING));
}

static int
p_request_key(void)
{
	RET(syscall(SYS_request_key, "user", "bl-probe-none", NULL, 0));
}

static int
p_userfaultfd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd >= 0)
		close((int)fd);
	RET(fd);
}

static int
p_perf_event_open(void)
{
	struct perf_event_attr attr;

	/* size 1 is no known size: E2BIG or EINVAL when reached. */
	memset(&attr, 0, sizeof attr);
	attr.size = 1;
	RET(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

static int
p_kexec_load(void)
{
	/* Flags no kernel knows: EINVAL when the call is reached. */
	RET(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x7f000000UL));
}

static int
p_kexec_file_load(void)
{
	RET(syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0x7f000000UL));
}

static int
p_init_module(void)
{
	RET(syscall(SYS_init_module, NULL, 0UL, ""));
}

static int
p_finit_module(void)
{
	RET(syscall(SYS_finit_module, -1, "", 0));
}

static int
p_delete_module(void)
{
	RET(syscall(SYS_delete_module, "bl_probe_none", O_NONBLOCK));
}

static int
p_iopl(void)
{
#ifdef SYS_iopl
	RET(syscall(SYS_iopl, 0));
#else
	return ENOSYS;
#endif
}

static int
p_syslog(void)
{
	RET(klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
}

static int
p_reboot(void)
{
	/* Wrong magic: EINVAL when the call is reached. */
	RET(syscall(SYS_reboot, 0, 0, 0, NULL));
}

static int
p_swapon(void)
{
	RET(swapon("/nonexistent-bl-probe", 0));
}

static int
p_quotactl(void)
{
	/* QCMD shifts into the sign bit of an int; build it unsigned. */
	RET(quotactl((int)(((unsigned)Q_SYNC << SUBCMDSHIFT) | USRQUOTA),
	    NULL, 0, NULL));
}

static int
p_pidfd_getfd(void)
{
	RET(syscall(SYS_pidfd_getfd, -1, 0, 0));
}

static int
p_kcmp(void)
{
	RET(syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0));
}

/*
 * The i386 ABI from a 64-bit process (int $0x80): a filter written for
 * x86-64 numbers alone would let unshare (310 there) straight through.
 */
static int
p_i386_unshare(void)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("int $0x80"
	    : "=a"(ret)
	    : "a"(310L), "b"((long)CLONE_NEWUSER)
	    : "memory", "cc");
	return ret < 0 ? (int)-ret : 0;
#else
	return ENOSYS;
#endif
}

static int
p_mknod_block(void)
{
	char d[64], p[80];
	int r, e;

	if (probe_tmpdir(d, sizeof d) != 0)
		return errno;
	snprintf(p, sizeof p, "%s/blk", d);
	r = mknod(p, S_IFBLK | 0600, makedev(7, 0));
	e = errno;
	unlink(p);
	rmdir(d);
	return r == 0 ? 0 : e;
}

/*
 * Owners and special files: blfs keeps them in an extended attribute and
 * makes none of these calls. A name below a directory that does not
 * exist: ENOENT (or EBADF) when the call is reached, nothing made. The
 * old path forms exist on x86_64, not on arm64.
 */
#define PROBE_NOWHERE	"/nonexistent-bl-probe/x"

static int
p_chown(void)
{
#ifdef SYS_chown
	RET(syscall(SYS_chown, PROBE_NOWHERE, 0, 0));
#else
	return ENOSYS;	/* only the *at form here */
#endif
}

static int
p_lchown(void)
{
#ifdef SYS_lchown
	RET(syscall(SYS_lchown, PROBE_NOWHERE, 0, 0));
#else
	return ENOSYS;	/* only the *at form here */
#endif
}

static int
p_fchown(void)
{
	RET(syscall(SYS_fchown, -1, 0, 0));
}

static int
p_fchownat(void)
{
	RET(syscall(SYS_fchownat, AT_FDCWD, PROBE_NOWHERE, 0, 0, 0));
}

static int
p_mknod(void)
{
#ifdef SYS_mknod
	RET(syscall(SYS_mknod, PROBE_NOWHERE, S_IFIFO | 0600, 0));
#else
	return ENOSYS;	/* only the *at form here */
#endif
}

static int
p_mknodat(void)
{
	RET(syscall(SYS_mknodat, AT_FDCWD, PROBE_NOWHERE, S_IFIFO | 0600, 0));
}

static int
p_symlink(void)
{
#ifdef SYS_symlink
	RET(syscall(SYS_symlink, "target", PROBE_NOWHERE));
#else
	return ENOSYS;	/* only the *at form here */
#endif
}

static int
p_symlinkat(void)
{
	RET(syscall(SYS_symlinkat, "target", AT_FDCWD, PROBE_NOWHERE));
}

static int
p_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	RET(fd);
}

static int
p_execve(void)
{
	char *const argv[] = { (char *)"true", NULL };
	char *const envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return errno;
}

static int
p_fork(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(0);
	if (pid == -1)
		return errno;
	waitpid(pid, &st, 0);
	return 0;
}

/* Signal 0: does the filter let a signal go to this process, to init? */
static int
p_kill_self(void)
{
	RET(kill(getpid(), 0));
}

static int
p_kill_init(void)
{
	RET(kill(1, 0));
}

static int
p_securebits(void)
{
	int b = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	if (b == -1)
		return errno;
	printf("securebits %#x\n", b);
	return 0;
}

static int
p_dumpable(void)
{
	int d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);

	if (d == -1)
		return errno;
	printf("dumpable %d\n", d);
	return 0;
}

static int
p_set_dumpable(void)
{
	RET(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

/* What a blfs worker does: files by directory fd, in threads. */
static void *
probe_worker(void *arg)
{
	int dfd = *(int *)arg, fd;
	char name[32], buf[16];
	struct stat sb;
	intptr_t bad = 0;

	snprintf(name, sizeof name, "f%lu", (unsigned long)pthread_self());
	if ((fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return (void *)1;
	if (pwrite(fd, "hello", 5, 0) != 5 || pread(fd, buf, 5, 0) != 5 ||
	    fstat(fd, &sb) != 0 || fsync(fd) != 0 || ftruncate(fd, 1) != 0)
		bad = 1;
	close(fd);
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    unlinkat(dfd, name, 0) != 0)
		bad = 1;
	return (void *)bad;
}

static int
p_threads(void)
{
	pthread_t t[4];
	char d[64];
	void *res;
	int dfd, i, bad = 0;

	if (probe_tmpdir(d, sizeof d) != 0 ||
	    (dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno;
	for (i = 0; i < 4; i++) {
		if ((errno = pthread_create(&t[i], NULL, probe_worker,
		    &dfd)) != 0)
			return errno;
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &res);
		bad |= res != NULL;
	}
	close(dfd);
	rmdir(d);
	return bad ? EIO : 0;
}

/*
 * Changes to the store that Landlock does not cover (modes, times,
 * extended attributes) and the ones it does (names, sizes): a read-only
 * mount's blfs makes none of them. Below a directory that does not
 * exist: ENOENT (or EBADF) when reached, nothing changed.
 */
static int
p_fchmodat(void)
{
	RET(syscall(SYS_fchmodat, AT_FDCWD, PROBE_NOWHERE, 0600));
}

static int
p_utimensat(void)
{
	RET(syscall(SYS_utimensat, AT_FDCWD, PROBE_NOWHERE, NULL, 0));
}

static int
p_setxattr(void)
{
	RET(syscall(SYS_setxattr, PROBE_NOWHERE, "user.x", "v", 1, 0));
}

static int
p_fsetxattr(void)
{
	RET(syscall(SYS_fsetxattr, -1, "user.x", "v", 1, 0));
}

static int
p_removexattr(void)
{
	RET(syscall(SYS_removexattr, PROBE_NOWHERE, "user.x"));
}

static int
p_unlinkat(void)
{
	RET(syscall(SYS_unlinkat, AT_FDCWD, PROBE_NOWHERE, 0));
}

static int
p_renameat2(void)
{
	RET(syscall(SYS_renameat2, AT_FDCWD, PROBE_NOWHERE, AT_FDCWD,
	    PROBE_NOWHERE "2", 0));
}

static int
p_mkdirat(void)
{
	RET(syscall(SYS_mkdirat, AT_FDCWD, PROBE_NOWHERE, 0700));
}

static int
p_linkat(void)
{
	RET(syscall(SYS_linkat, AT_FDCWD, PROBE_NOWHERE, AT_FDCWD,
	    PROBE_NOWHERE "2", 0));
}

static int
p_truncate(void)
{
	RET(syscall(SYS_truncate, PROBE_NOWHERE, 0));
}

static int
p_fallocate(void)
{
	RET(syscall(SYS_fallocate, -1, 0, 0, 4096));
}

static const struct {
	const char *name;
	int (*fn)(void);
} probes[] = {
	{ "mount", p_mount },
	{ "umount2", p_umount2 },
	{ "fsopen", p_fsopen },
	{ "fsmount", p_fsmount },
	{ "fsconfig", p_fsconfig },
	{ "fspick", p_fspick },
	{ "open_tree", p_open_tree },
	{ "move_mount", p_move_mount },
	{ "mount_setattr", p_mount_setattr },
	{ "pivot_root", p_pivot_root },
	{ "chroot", p_chroot },
	{ "unshare-mnt", p_unshare_mnt },
	{ "unshare-user", p_unshare_user },
	{ "unshare-net", p_unshare_net },
	{ "setns", p_setns },
	{ "clone-newuser", p_clone_newuser },
	{ "clone-newns", p_clone_newns },
	{ "clone-newpid", p_clone_newpid },
	{ "clone3", p_clone3 },
	{ "ptrace", p_ptrace },
	{ "process_vm_readv", p_process_vm_readv },
	{ "process_vm_writev", p_process_vm_writev },
	{ "name_to_handle_at", p_name_to_handle_at },
	{ "open_by_handle_at", p_open_by_handle_at },
	{ "bpf", p_bpf },
	{ "keyctl", p_keyctl },
	{ "add_key", p_add_key },
	{ "request_key", p_request_key },
	{ "userfaultfd", p_userfaultfd },
	{ "perf_event_open", p_perf_event_open },
	{ "kexec_load", p_kexec_load },
	{ "kexec_file_load", p_kexec_file_load },
	{ "init_module", p_init_module },
	{ "finit_module", p_finit_module },
	{ "delete_module", p_delete_module },
	{ "iopl", p_iopl },
	{ "syslog", p_syslog },
	{ "reboot", p_reboot },
	{ "swapon", p_swapon },
	{ "quotactl", p_quotactl },
	{ "pidfd_getfd", p_pidfd_getfd },
	{ "kcmp", p_kcmp },
	{ "i386-unshare", p_i386_unshare },
	{ "mknod-block", p_mknod_block },
	{ "chown", p_chown },
	{ "lchown", p_lchown },
	{ "fchown", p_fchown },
	{ "fchownat", p_fchownat },
	{ "mknod", p_mknod },
	{ "mknodat", p_mknodat },
	{ "symlink", p_symlink },
	{ "symlinkat", p_symlinkat },
	{ "fchmodat", p_fchmodat },
	{ "utimensat", p_utimensat },
	{ "setxattr", p_setxattr },
	{ "fsetxattr", p_fsetxattr },
	{ "removexattr", p_removexattr },
	{ "unlinkat", p_unlinkat },
	{ "renameat2", p_renameat2 },
	{ "mkdirat", p_mkdirat },
	{ "linkat", p_linkat },
	{ "truncate", p_truncate },
	{ "fallocate", p_fallocate },
	{ "socket", p_socket },
	{ "execve", p_execve },
	{ "fork", p_fork },
	{ "kill-self", p_kill_self },
	{ "kill-init", p_kill_init },
	{ "securebits", p_securebits },
	{ "dumpable", p_dumpable },
	{ "set-dumpable", p_set_dumpable },
	{ "threads", p_threads },
};

void
probe_list(void)
{
	size_t i;

	for (i = 0; i < sizeof probes / sizeof probes[0]; i++)
		printf("%s\n", probes[i].name);
}

int
probe_call(const char *name, int *err)
{
	size_t i;

	for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		if (strcmp(probes[i].name, name) == 0) {
			*err = probes[i].fn();
			return 0;
		}
	}
	return -1;
}

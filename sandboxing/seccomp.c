/*
 * The seccomp filters: blfs's allowlist (anything unlisted kills it) and
 * the workload's denylist (the calls that undo confinement fail EPERM).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <linux/fuse.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/seccomp.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SECCOMP_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECCOMP_SANITIZERS 1
#endif
#endif

/* Every flag that makes clone(2) create or join a namespace. */
#define SECCOMP_CLONE_NEWNS_FLAGS					\
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |	\
	    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

/* What pthread_create asks of clone(2); a thread, never a process. */
#define SECCOMP_CLONE_THREAD_FLAGS					\
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)

/*
 * blfs: a multithreaded libfuse3 low-level server doing passthrough I/O
 * on fds it already holds. Confinement of the paths it serves is by fd
 * (openat on a directory fd, never a path from the request taken alone),
 * so the filesystem calls are allowed as such; what the filter takes away
 * is everything that could get a compromised blfs out of being a file
 * server: exec, mount, ptrace, namespaces, sockets, keyrings, bpf,
 * handle-based opens (open_by_handle_at reaches any file on the
 * filesystem, whatever the subtree), signals to anyone but itself. Nor
 * chown, mknod, symlink or setfsuid: blfs keeps owners and special files
 * in extended attributes of regular files (blfs/meta.c), and a call it
 * never makes is one a compromised blfs cannot make either.
 */
static const char *const seccomp_blfs_allow[] = {
	/* The FUSE channel and file data. */
	"read", "write", "readv", "writev", "pread64", "pwrite64",
	"preadv", "pwritev", "preadv2", "pwritev2",
	"splice", "vmsplice", "tee", "pipe2", "sendfile",
	/* Names, by directory fd. */
	"openat", "openat2", "close", "close_range", "dup", "dup2", "dup3",
	"fstat", "newfstatat", "statx", "getdents64", "getdents", "lseek",
	"readlinkat", "faccessat", "faccessat2",
	"fsync", "fdatasync", "syncfs", "flock", "fcntl",
	"statfs", "fstatfs", "fchdir", "umask",
	/*
	 * The same calls by path, as libc's wrappers make them (mkdir(3) is
	 * mkdir(2), not mkdirat): no more power than the *at forms above.
	 */
	"readlink", "access", "stat", "lstat",
	/* xattrs: the f* ones on fds, the others on /proc/self/fd/N. */
	"fgetxattr", "flistxattr", "getxattr", "listxattr",
	"lgetxattr", "llistxattr",
	/* Threads, memory, time, signals: libc and libfuse's worker pool. */
	"futex", "set_robust_list", "get_robust_list", "rseq",
	"set_tid_address", "mmap", "munmap", "mprotect", "madvise",
	"brk", "mremap", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigtimedwait", "rt_sigsuspend", "sigaltstack", "restart_syscall",
	"exit", "exit_group", "getpid", "gettid", "getppid", "getrandom",
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "clock_gettime", "clock_getres", "gettimeofday",
	"time", "nanosleep", "clock_nanosleep", "sched_yield",
	"sched_getaffinity", "poll", "ppoll", "select", "pselect6",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd2", "uname",
	/*
	 * Watching the drive's directories while another mount shares it
	 * (blfs/share.c): a watch reads nothing and changes nothing.
	 */
	"inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* Talking to the agent over sockets it was given, never new ones. */
	"sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown",
#ifdef SECCOMP_SANITIZERS
	/*
	 * AddressSanitizer and LeakSanitizer, in test builds only: reports
	 * read /proc/self/maps, and leak checking at exit stops the world
	 * from a cloned tracer. Never in a production build.
	 */
	"clone", "ptrace", "wait4", "kill", "tgkill", "prctl",
	"open", "pipe", "sched_setaffinity",
	"personality", "prlimit64", "getrlimit", "setrlimit",
#endif
};

/*
 * A blfs serving a ceph store talks to the cluster: libcephfs's messenger
 * connects sockets of its own (socket(2) itself is allowed for AF_INET
 * and AF_INET6 only), and its threads keep timers.
 */
static const char *const seccomp_blfs_allow_net[] = {
	"connect", "getsockopt", "setsockopt", "getsockname", "getpeername",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "pipe",
	"membarrier", "sched_setaffinity",
};

/*
 * What changes the store: a blfs serving a read-only mount never makes
 * these calls (it answers EROFS first), so its filter leaves them out and
 * a compromised one dies trying. Landlock (landlock.c) refuses it every
 * write open too; these are the changes Landlock does not cover (modes,
 * times, extended attributes) and the rest again.
 */
static const char *const seccomp_blfs_allow_rw[] = {
	"copy_file_range", "fallocate", "ftruncate", "truncate",
	"mkdirat", "unlinkat", "renameat", "renameat2", "linkat",
	"fchmod", "fchmodat", "fchmodat2", "utimensat",
	"fsetxattr", "setxattr", "lsetxattr",
	"fremovexattr", "removexattr", "lremovexattr",
	/* By path, as libc's wrappers make them. */
	"mkdir", "rmdir", "unlink", "rename", "link", "chmod", "utimes",
};

/*
 * The workload: calls that would undo the mount namespace, the masks or
 * read-only mounts, reach into other processes or the kernel. Each fails
 * with EPERM. Most also need a capability the workload no longer has; the
 * filter holds on its own, against kernels where a capability check is
 * missing or the call is reachable through a user namespace.
 */
static const char *const seccomp_jail_deny[] = {
	/* The mount family, old and new API: no mount, unmount or move. */
	"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount",
	"fspick", "move_mount", "open_tree", "mount_setattr", "pivot_root",
	"chroot",
	/* Namespaces: a new user namespace would give back every cap. */
	"unshare", "setns",
	/* Other processes: their memory, fds and registers. */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
	"kcmp", "process_madvise",
	/* Handle-based opens reach any file of a filesystem, masked or not. */
	"open_by_handle_at", "name_to_handle_at",
	/* The kernel: bpf, keyrings, modules, kexec, perf, userfaultfd. */
	"bpf", "keyctl", "add_key", "request_key", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "userfaultfd", "perf_event_open",
	/* The machine: swap, reboot, port I/O, accounting, quotas, logs. */
	"swapon", "swapoff", "reboot", "iopl", "ioperm", "acct", "quotactl",
	"quotactl_fd", "lookup_dcookie", "syslog", "nfsservctl", "uselib",
	"vm86", "vm86old",
};

static int
seccomp_syscall(const char *name, int *nr)
{
	*nr = seccomp_syscall_resolve_name(name);
	if (*nr == __NR_SCMP_ERROR) {
		/* Older libseccomp, or a call this machine never had. */
		log_debug("seccomp: no syscall named %s here", name);
		return -1;
	}
	return 0;
}

static int
seccomp_add(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int argc, const struct scmp_arg_cmp *argv, char **cause)
{
	int nr, r;

	if (seccomp_syscall(name, &nr) != 0)
		return 0;
	r = seccomp_rule_add_array(ctx, action, nr, argc, argv);
	if (r != 0 && nr < 0) {
		/* A pseudo number: the call exists elsewhere, not here. */
		log_debug("seccomp: %s is not a syscall of this ABI", name);
		return 0;
	}
	if (r != 0) {
		xasprintf(cause, "seccomp rule for %s: %s", name,
		    strerror(-r));
		return -1;
	}
	return 0;
}

static int
seccomp_finish(scmp_filter_ctx ctx, const char *what, char **cause)
{
	int r;

	if ((r = seccomp_load(ctx)) != 0) {
		xasprintf(cause, "loading the %s seccomp filter: %s", what,
		    strerror(-r));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

/*
 * blfs's filter as a libseccomp context, not loaded yet. self: the pid
 * blfs will have (signals go to it alone).
 */
static scmp_filter_ctx
seccomp_blfs_build(int read_only, int net, pid_t self, char **cause)
{
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp arg[1];
#ifndef SECCOMP_SANITIZERS
	const unsigned long prctl_ok[] = { PR_SET_NAME, PR_GET_NAME,
	    PR_SET_VMA, PR_GET_DUMPABLE };
#else
	(void)self;
#endif
	const unsigned long ioctl_ok[] = { FUSE_DEV_IOC_CLONE, TCGETS };
	size_t i;
	int r;

	/*
	 * Kill the whole process, not the thread: a worker thread dying
	 * alone would leave a server that hangs half its requests, while a
	 * dead blfs turns its mount failed at once and the agent logs the
	 * SIGSYS with the syscall number.
	 */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		*cause = xstrdup("seccomp_init failed");
		return NULL;
	}
	/* Another ABI on this machine (i386, x32) is not blfs: kill it. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		xasprintf(cause, "seccomp attributes: %s", strerror(-r));
		seccomp_release(ctx);
		return NULL;
	}

	for (i = 0; i < nitems(seccomp_blfs_allow); i++) {
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_blfs_allow[i], 0,
		    NULL, cause) != 0)
			goto fail;
	}
	for (i = 0; !read_only && i < nitems(seccomp_blfs_allow_rw); i++) {
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_blfs_allow_rw[i],
		    0, NULL, cause) != 0)
			goto fail;
	}
	for (i = 0; net && i < nitems(seccomp_blfs_allow_net); i++) {
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_blfs_allow_net[i],
		    0, NULL, cause) != 0)
			goto fail;
	}
	/* New sockets: TCP over IPv4 or IPv6 only, to reach the cluster. */
	if (net) {
		arg[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "socket", 1, arg,
		    cause) != 0)
			goto fail;
		arg[0] = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "socket", 1, arg,
		    cause) != 0)
			goto fail;
	}
#ifdef SYS_getxattrat
	/*
	 * getxattrat (Linux 6.13), by number: libseccomp 2.5 has no name
	 * for it. blfs reads owners with it (blfs/meta.c) and takes ENOSYS,
	 * from an older kernel, as the word to use /proc/self/fd instead.
	 * The same power as lgetxattr on that path, without the walk.
	 */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SYS_getxattrat,
	    0)) != 0) {
		xasprintf(cause, "seccomp rule for getxattrat: %s",
		    strerror(-r));
		goto fail;
	}
#endif

#ifndef SECCOMP_SANITIZERS
	/*
	 * clone only for threads: the thread flags all set, no namespace
	 * flag. A new process could exec nothing, but it could outlive blfs
	 * and keep its fds.
	 */
	arg[0] = SCMP_A0(SCMP_CMP_MASKED_EQ,
	    SECCOMP_CLONE_THREAD_FLAGS | SECCOMP_CLONE_NEWNS_FLAGS,
	    SECCOMP_CLONE_THREAD_FLAGS);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "clone", 1, arg, cause) != 0)
		goto fail;
	/*
	 * Signals only to itself (raise, abort, pthread_cancel): blfs runs
	 * as uid 0 and could otherwise signal every root process.
	 */
	arg[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, arg, cause) != 0 ||
	    seccomp_add(ctx, SCMP_ACT_ALLOW, "kill", 1, arg, cause) != 0)
		goto fail;
	/* prctl for what libc and libfuse do: thread names, vma names. */
	for (i = 0; i < nitems(prctl_ok); i++) {
		arg[0] = SCMP_A0(SCMP_CMP_EQ, prctl_ok[i]);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "prctl", 1, arg,
		    cause) != 0)
			goto fail;
	}
	/* Limits of itself only (getrlimit is prlimit64(0, r, NULL, old)). */
	arg[0] = SCMP_A0(SCMP_CMP_EQ, 0);
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "prlimit64", 1, arg, cause) != 0)
		goto fail;
	if (seccomp_add(ctx, SCMP_ACT_ALLOW, "getrlimit", 0, NULL, cause) != 0)
		goto fail;
#endif
	/*
	 * clone3's flags sit in memory the filter cannot read: answer
	 * ENOSYS and glibc's pthread_create falls back to clone.
	 */
	if (seccomp_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL,
	    cause) != 0)
		goto fail;
	/*
	 * ioctl: FUSE_DEV_IOC_CLONE (a /dev/fuse fd per worker thread) and
	 * TCGETS (stdio asking whether stderr is a terminal). The kernel
	 * reads the request as 32 bits, so compare only those.
	 */
	for (i = 0; i < nitems(ioctl_ok); i++) {
		arg[0] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL,
		    ioctl_ok[i]);
		if (seccomp_add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, arg,
		    cause) != 0)
			goto fail;
	}
	/*
	 * libfuse's unmount path calls umount2 when it runs as root; the
	 * agent owns the mount, so that fails quietly instead of killing a
	 * blfs that is shutting down cleanly.
	 */
	if (seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), "umount2", 0, NULL,
	    cause) != 0)
		goto fail;
	return ctx;

fail:
	seccomp_release(ctx);
	return NULL;
}

int
seccomp_blfs_install(int read_only, int net, char **cause)
{
	scmp_filter_ctx ctx;

	if ((ctx = seccomp_blfs_build(read_only, net, getpid(), cause)) ==
	    NULL)
		return -1;
	return seccomp_finish(ctx, "blfs", cause);
}

/*
 * blfs's filter compiled once, in the agent, for every blfs to come:
 * libseccomp takes a millisecond or more of CPU to build it, which each
 * blfs would otherwise pay at start-up, between the mount and its first
 * answer. The filter names blfs's own pid (the signal rules), which only
 * the forked child knows: it is compiled twice, with two pids no process
 * can have, and the instructions where the two programs differ are where
 * the child writes its pid. Anything else differing, and there is no
 * compiled filter: blfs builds its own as before.
 */
#define SECCOMP_PID_A		0x7ffffff1	/* above any pid_max (2^22) */
#define SECCOMP_PID_B		0x7ffffff2
#define SECCOMP_PID_SLOTS	8

struct seccomp_prog {
	struct sock_filter	*insns;
	size_t			 len;
	size_t			 pid_at[SECCOMP_PID_SLOTS];
	size_t			 npid;
};

/* By read_only, then net. */
static struct seccomp_prog seccomp_blfs_progs[2][2];

/* The BPF libseccomp makes of ctx, which is released. */
static int
seccomp_export(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *len,
    char **cause)
{
	struct stat st;
	int fd, r;

	*insns = NULL;
	if ((fd = memfd_create("blfs-seccomp", MFD_CLOEXEC)) == -1) {
		xasprintf(cause, "memfd_create: %s", strerror(errno));
		seccomp_release(ctx);
		return -1;
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r != 0 || fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(**insns) != 0 ||
	    st.st_size / (off_t)sizeof(**insns) > BPF_MAXINSNS) {
		xasprintf(cause, "exporting the blfs seccomp filter failed");
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size / sizeof(**insns);
	*insns = xreallocarray(NULL, *len, sizeof(**insns));
	if (pread(fd, *insns, (size_t)st.st_size, 0) != st.st_size) {
		xasprintf(cause, "reading the blfs seccomp filter back: %s",
		    strerror(errno));
		free(*insns);
		*insns = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
seccomp_blfs_compile(int read_only, int net, struct seccomp_prog *p,
    char **cause)
{
	struct sock_filter *a = NULL, *b = NULL;
	scmp_filter_ctx ctx;
	size_t alen, blen, i;

	memset(p, 0, sizeof(*p));
	if ((ctx = seccomp_blfs_build(read_only, net, SECCOMP_PID_A,
	    cause)) == NULL || seccomp_export(ctx, &a, &alen, cause) != 0)
		return -1;
	if ((ctx = seccomp_blfs_build(read_only, net, SECCOMP_PID_B,
	    cause)) == NULL || seccomp_export(ctx, &b, &blen, cause) != 0) {
		free(a);
		return -1;
	}
	if (alen != blen)
		goto differ;
	for (i = 0; i < alen; i++) {
		if (memcmp(&a[i], &b[i], sizeof(a[i])) == 0)
			continue;
		if (a[i].code != b[i].code || a[i].jt != b[i].jt ||
		    a[i].jf != b[i].jf || a[i].k != SECCOMP_PID_A ||
		    b[i].k != SECCOMP_PID_B || p->npid == SECCOMP_PID_SLOTS)
			goto differ;
		p->pid_at[p->npid++] = i;
	}
	free(b);
	p->insns = a;
	p->len = alen;
	return 0;

differ:
	xasprintf(cause, "the blfs seccomp filter differs by more than its "
	    "pid");
	free(a);
	free(b);
	memset(p, 0, sizeof(*p));
	return -1;
}

int
seccomp_blfs_prepare(char **cause)
{
	int ro, net;

	for (ro = 0; ro < 2; ro++)
		for (net = 0; net < 2; net++)
			if (seccomp_blfs_compile(ro, net,
			    &seccomp_blfs_progs[ro][net], cause) != 0)
				return -1;
	return 0;
}

int
seccomp_blfs_filter_fd(int read_only, int net)
{
	const struct seccomp_prog *p = &seccomp_blfs_progs[!!read_only][!!net];
	struct sock_filter *insns;
	size_t size, i;
	int fd;

	if (p->insns == NULL)
		return -1;
	size = p->len * sizeof(*insns);
	insns = xmalloc(size);
	memcpy(insns, p->insns, size);
	for (i = 0; i < p->npid; i++)
		insns[p->pid_at[i]].k = (uint32_t)getpid();
	if ((fd = memfd_create("blfs-seccomp", MFD_CLOEXEC)) == -1 ||
	    write_full(fd, insns, size) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	free(insns);
	return fd;
}

int
seccomp_blfs_install_fd(int fd, char **cause)
{
	static struct sock_filter insns[BPF_MAXINSNS + 1];
	struct sock_fprog prog;
	ssize_t n;
	long r;

	n = read_full(fd, insns, sizeof(insns));
	close(fd);
	if (n <= 0 || (size_t)n % sizeof(insns[0]) != 0 ||
	    (size_t)n / sizeof(insns[0]) > BPF_MAXINSNS) {
		xasprintf(cause, "the seccomp filter handed to blfs is %zd "
		    "bytes, not a filter", n);
		return -1;
	}
	prog.len = (unsigned short)((size_t)n / sizeof(insns[0]));
	prog.filter = insns;
	/* As seccomp_load does: no_new_privs, then every thread (TSYNC). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		xasprintf(cause, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r != 0) {
		if (r > 0)
			xasprintf(cause, "loading the blfs seccomp filter: "
			    "thread %ld could not take it", r);
		else
			xasprintf(cause, "loading the blfs seccomp filter: %s",
			    strerror(errno));
		return -1;
	}
	return 0;
}

/* The other ABIs this kernel may run, filtered alike rather than open. */
static int
seccomp_jail_arches(scmp_filter_ctx ctx, char **cause)
{
	static const uint32_t other[] = {
#if defined(__x86_64__)
		SCMP_ARCH_X86, SCMP_ARCH_X32,
#elif defined(__aarch64__)
		SCMP_ARCH_ARM,
#endif
		0
	};
	size_t i;
	int r;

	for (i = 0; other[i] != 0; i++) {
		r = seccomp_arch_add(ctx, other[i]);
		if (r != 0 && r != -EEXIST) {
			xasprintf(cause, "seccomp arch %#x: %s", other[i],
			    strerror(-r));
			return -1;
		}
	}
	return 0;
}

int
seccomp_jail_install(char **cause)
{
	static const unsigned long newns[] = { CLONE_NEWNS, CLONE_NEWUTS,
	    CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	    CLONE_NEWCGROUP };
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp arg;
	size_t i;
	int r;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		*cause = xstrdup("seccomp_init failed");
		return -1;
	}
	/* An ABI we did not list gets no chance to skip the rules. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		xasprintf(cause, "seccomp attributes: %s", strerror(-r));
		seccomp_release(ctx);
		return -1;
	}
	if (seccomp_jail_arches(ctx, cause) != 0)
		goto fail;

	for (i = 0; i < nitems(seccomp_jail_deny); i++) {
		if (seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    seccomp_jail_deny[i], 0, NULL, cause) != 0)
			goto fail;
	}
	/*
	 * clone with any namespace flag: one rule per flag, since a rule
	 * can only test that masked bits equal a value.
	 */
	for (i = 0; i < nitems(newns); i++) {
		arg = SCMP_A0(SCMP_CMP_MASKED_EQ, newns[i], newns[i]);
		if (seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &arg,
		    cause) != 0)
			goto fail;
	}
	/* clone3 hides its flags in memory: ENOSYS makes libc use clone. */
	if (seccomp_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL,
	    cause) != 0)
		goto fail;
	return seccomp_finish(ctx, "workload", cause);

fail:
	seccomp_release(ctx);
	return -1;
}

/*
 * The seccomp filters: blfs's allowlist (anything unlisted kills it) and
 * the workload's denylist (the calls that undo confinement fail EPERM).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <sys/socket.h>

#include <errno.h>
#include <linux/fuse.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
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

int
seccomp_blfs_install(int read_only, int net, char **cause)
{
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp arg[1];
#ifndef SECCOMP_SANITIZERS
	const unsigned long prctl_ok[] = { PR_SET_NAME, PR_GET_NAME,
	    PR_SET_VMA, PR_GET_DUMPABLE };
	pid_t self = getpid();
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
		return -1;
	}
	/* Another ABI on this machine (i386, x32) is not blfs: kill it. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		xasprintf(cause, "seccomp attributes: %s", strerror(-r));
		seccomp_release(ctx);
		return -1;
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
	return seccomp_finish(ctx, "blfs", cause);

fail:
	seccomp_release(ctx);
	return -1;
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

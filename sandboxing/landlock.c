/*
 * Landlock for blfs: of the whole filesystem, only the drive's directory.
 *
 * blfs is uid 0 without capabilities, so the mode bits still let it open
 * every file uid 0 owns anywhere: the identity token, the agent's state,
 * other drives of the store. It never needs to; only the drive it serves,
 * reached through the root fd and the /proc/self/fd magic links of fds
 * beneath it (which Landlock judges by the file they lead to). Landlock
 * turns that "never needs to" into "cannot": a blfs taken over through a
 * FUSE request can neither read the token nor serve it to the workload.
 *
 * What blfs may do beneath the root: read, write, truncate, list, create
 * regular files and directories, remove, and rename or link across
 * directories (REFER). The MAKE_SYM, MAKE_FIFO and MAKE_SOCK rights too,
 * since Landlock asks for them to rename or link such a file, and a
 * drive seeded from outside may hold real ones; blfs itself makes them
 * as regular files (blfs/meta.c), and seccomp kills it should it call
 * symlink or mknod. Never execute, never devices. No TCP bind or connect
 * anywhere, though seccomp already takes sockets away.
 *
 * The structures and constants are the kernel's ABI, spelled out here so
 * that older headers (Debian 12's know ABI 2 at most) build the same.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "sandboxing/sandbox.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset	444
#define SYS_landlock_add_rule		445
#define SYS_landlock_restrict_self	446
#endif

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1

#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_REMOVE_DIR	(1ULL << 4)
#define LL_FS_REMOVE_FILE	(1ULL << 5)
#define LL_FS_MAKE_CHAR		(1ULL << 6)
#define LL_FS_MAKE_DIR		(1ULL << 7)
#define LL_FS_MAKE_REG		(1ULL << 8)
#define LL_FS_MAKE_SOCK		(1ULL << 9)
#define LL_FS_MAKE_FIFO		(1ULL << 10)
#define LL_FS_MAKE_BLOCK	(1ULL << 11)
#define LL_FS_MAKE_SYM		(1ULL << 12)
#define LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)

/* ABI 1 knows the first 13 rights. */
#define LL_FS_ABI1	((1ULL << 13) - 1)

/* What blfs does beneath its root (see above). */
#define LL_FS_BLFS							\
	(LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR |		\
	    LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |	\
	    LL_FS_MAKE_REG | LL_FS_MAKE_SYM | LL_FS_MAKE_FIFO |		\
	    LL_FS_MAKE_SOCK | LL_FS_REFER | LL_FS_TRUNCATE)

/*
 * Serving a read-only mount: read and list, nothing else. The kernel
 * refuses writes on the mount itself and blfs answers EROFS on its own,
 * but blfs holds a directory fd of the drive in the store, where nothing
 * else stops a write: this is what keeps a blfs taken over through a
 * FUSE request from writing the drive it serves read-only.
 */
#define LL_FS_BLFS_RO	(LL_FS_READ_FILE | LL_FS_READ_DIR)

/* Sanitizer builds read /proc/self/maps for their reports. */
#if defined(__SANITIZE_ADDRESS__)
#define LL_PROC_READ 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LL_PROC_READ 1
#endif
#endif

struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));

#define LL_RULE_NET_PORT		2

struct ll_net_port_attr {
	uint64_t	allowed_access;
	uint64_t	port;
};

/*
 * The ports a Ceph client talks to besides the monitors' (given): the
 * range OSDs and MDSs bind in by default (ms_bind_port_min and _max).
 */
#define LL_CEPH_PORT_MIN	6800
#define LL_CEPH_PORT_MAX	7300

int
sandbox_landlock_abi(void)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	return abi < 0 ? -errno : (int)abi;
}

/* Allow access beneath fd; 0, or -1 with cause naming what. */
static int
ll_allow(int rfd, int fd, uint64_t access, const char *what, char **cause)
{
	struct ll_path_beneath_attr pb;

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &pb,
	    0) == -1) {
		xasprintf(cause, "landlock_add_rule for %s: %s", what,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_blfs_landlock(int root_fd, int mounts_fd, int read_only,
    char **cause)
{
	struct ll_ruleset_attr ra;
	size_t ra_size;
	int abi, rfd, e;

	abi = sandbox_landlock_abi();
	if (abi < 0) {
		xasprintf(cause, "Landlock is not available (%s)",
		    strerror(-abi));
		return 1;
	}
	/*
	 * ABI 1 refuses every rename and link across directories: blfs
	 * could not serve mv. Go without rather than break the drive.
	 */
	if (abi < 2) {
		xasprintf(cause, "Landlock ABI %d cannot allow renames across "
		    "directories", abi);
		return 1;
	}

	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LL_FS_ABI1 | LL_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LL_FS_TRUNCATE;
	ra_size = sizeof(ra.handled_access_fs);
	if (abi >= 4) {
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		ra_size = sizeof(ra);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, ra_size, 0);
	if (rfd == -1) {
		xasprintf(cause, "landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}

	if (ll_allow(rfd, root_fd, (read_only ? LL_FS_BLFS_RO : LL_FS_BLFS) &
	    ra.handled_access_fs, "the drive", cause) == -1) {
		close(rfd);
		return -1;
	}
	/*
	 * The drive's mount locks, opened to test who holds them (which
	 * other mounts the drive has: blfs/share.c). Empty files: reading
	 * them tells nothing, and nothing else is allowed there.
	 */
	if (mounts_fd != -1 && ll_allow(rfd, mounts_fd, LL_FS_READ_FILE,
	    "the drive's mount locks", cause) == -1) {
		close(rfd);
		return -1;
	}
#ifdef LL_PROC_READ
	{
		int pfd;

		if ((pfd = open("/proc", O_PATH | O_CLOEXEC)) == -1) {
			e = errno;
			close(rfd);
			xasprintf(cause, "/proc: %s", strerror(e));
			return -1;
		}
		e = ll_allow(rfd, pfd, LL_FS_READ_FILE | LL_FS_READ_DIR,
		    "/proc", cause);
		close(pfd);
		if (e == -1) {
			close(rfd);
			return -1;
		}
	}
#endif

	/* no_new_privs is set already (the agent's child); again is free. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		e = errno;
		close(rfd);
		xasprintf(cause, "landlock_restrict_self: %s", strerror(e));
		return -1;
	}
	close(rfd);
	return 0;
}

/* One TCP port blfs may connect to; 0, or -1 with cause. */
static int
ll_allow_port(int rfd, uint64_t port, char **cause)
{
	struct ll_net_port_attr np;

	memset(&np, 0, sizeof(np));
	np.allowed_access = LL_NET_CONNECT_TCP;
	np.port = port;
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_NET_PORT, &np,
	    0) == -1) {
		xasprintf(cause, "landlock_add_rule for port %llu: %s",
		    (unsigned long long)port, strerror(errno));
		return -1;
	}
	return 0;
}

int
sandbox_blfs_landlock_net(const unsigned *ports, int nports, char **cause)
{
	struct ll_ruleset_attr ra;
	int abi, rfd, e, i;
	uint64_t port;

	abi = sandbox_landlock_abi();
	if (abi < 0) {
		xasprintf(cause, "Landlock is not available (%s)",
		    strerror(-abi));
		return 1;
	}
	/* Every file access handled, none allowed: nothing on this disk. */
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		ra.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4)
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, abi >= 4 ?
	    sizeof(ra) : sizeof(ra.handled_access_fs), 0);
	if (rfd == -1) {
		xasprintf(cause, "landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}
	/* Connections to the cluster's ports only, and no listening. */
	for (i = 0; abi >= 4 && i < nports; i++) {
		if (ll_allow_port(rfd, ports[i], cause) == -1) {
			close(rfd);
			return -1;
		}
	}
	for (port = LL_CEPH_PORT_MIN; abi >= 4 && port <= LL_CEPH_PORT_MAX;
	    port++) {
		if (ll_allow_port(rfd, port, cause) == -1) {
			close(rfd);
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		e = errno;
		close(rfd);
		xasprintf(cause, "landlock_restrict_self: %s", strerror(e));
		return -1;
	}
	close(rfd);
	return abi >= 4 ? 0 : (xasprintf(cause, "Landlock ABI %d has no "
	    "network rules: files are closed, connections are not", abi), 1);
}

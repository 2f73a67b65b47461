/*
 * blfs: the FUSE server of one mount. blagent opened /dev/fuse, mounted
 * it and opened the drive's directory; blfs serves that fd and nothing
 * else, holding no capability to mount, and no way to leave the root fd.
 *
 * Identity. Requests arrive with the caller's uid and gid, and the kernel
 * checks permissions itself (the mount has default_permissions) against
 * the attributes blfs reports. blfs runs as uid 0 with no capability at
 * all: it reaches backing files as their owner only, so everything it
 * creates is uid 0's with a mode only blfs may use, and what the
 * workload sees (owner, group, mode) is kept in an extended attribute of
 * each file (meta.c). No CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE or
 * CAP_FSETID: taken over, blfs could not read or change a file beyond
 * what uid 0 owns. Not CAP_DAC_READ_SEARCH above all: it is what opens
 * open_by_handle_at(2), which would reach any file of the backing
 * filesystem by handle, outside the drive.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/sandbox.h"
#include "blfs/blfs.h"
#include "blfs/ceph.h"
#include "mountmgr/resolve.h"
#include "mountmgr/store.h"

#define BLFS_EXIT_USAGE 2

/*
 * Worker threads at most: enough for blocking I/O on a slow store in
 * parallel. They start only when every one is busy (loop.c).
 */
#define BLFS_MAX_THREADS 32

/* Seconds the kernel trusts names and attributes; see blfs_configure. */
#define BLFS_ATTR_TIMEOUT	5.0
#define BLFS_NEGATIVE_TIMEOUT	1.0
/*
 * The same on a store that is not local (blfs_local_fs): names and
 * attributes are promised at most 1 s old; the kernel trusts them 0.8 s,
 * which leaves the rest for a busy machine to ask again.
 */
#define BLFS_REMOTE_TIMEOUT	0.8

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer stops the world with ptrace at exit, which a process that
 * is not dumpable and lacks CAP_SYS_PTRACE cannot allow: it would spin
 * forever instead of exiting. Sanitizer builds check everything else.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

struct blfs_config blfs_cfg = {
	.status_fd = -1,
};

struct blfs_args {
	int		 volume_fd;	/* hold a volume: no FUSE (hold.c) */
	int		 fuse_fd;
	int		 root_fd;
	int		 status_fd;
	int		 lock_fd;
	int		 mounts_fd;
	int		 stats_fd;
	int		 usage_fd;
	int		 seccomp_fd;	/* the agent's compiled filter */
	uint64_t	 capacity;
	const char	*drive;
	const char	*session;
	const char	*mount_path;
	int		 read_only;
	int		 writeback;
	int		 debug;
	uint64_t	 cache_size;	/* UINT64_MAX: not given */
	uint64_t	 buffer_size;
	uint64_t	 prefetch;
	enum log_level	 level;
	struct blfs_ceph_args ceph;	/* ceph.fs set: serve from CephFS */
};

static const char usage_text[] =
    "usage: blfs --fuse-fd N --root-fd N [--status-fd N] [--lock-fd N]\n"
    "            [--mounts-fd N] [--stats-fd N] [--seccomp-fd N]"
    " [--usage-fd N --capacity BYTES]\n"
    "            --drive NAME --session ID --mount-path PATH [--read-only]\n"
    "            [--cache-size BYTES] [--buffer-size BYTES]"
    " [--prefetch BYTES]\n"
    "            [--writeback] [--log-level error|warn|info|debug]"
    " [--debug]\n"
    "       blfs --ceph-fs NAME --ceph-root PATH --ceph-id NAME\n"
    "            --ceph-conf-fd N --ceph-keyring-fd N [--ceph-store PATH]\n"
    "            [--status-fd N]\n"
    "            --drive NAME --session ID --mount-path PATH [--read-only]"
    " ...\n"
    "       blfs --volume-fd N --lock-fd N [--status-fd N]\n"
    "            --drive NAME --session ID --mount-path PATH [--read-only]\n";

static void
blfs_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line to the agent; newlines in a reason would forge a second one. */
static void
blfs_status(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t len;
	char *p;

	if (blfs_cfg.status_fd == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	for (p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	len = strlen(line);
	line[len++] = '\n';
	(void)write_full(blfs_cfg.status_fd, line, len);
}

/*
 * Says why on stderr and to the agent ("error [WORD ]why", WORD the
 * errno word the Mount's error takes, or none: EIO), then exits.
 */
static void __attribute__((noreturn))
blfs_vfail(int code, const char *word, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "blfs: %s\n", msg);
	blfs_status("error %s%s%s", word != NULL ? word : "", word != NULL ?
	    " " : "", msg);
	if (code == BLFS_EXIT_USAGE)
		fprintf(stderr, "%s", usage_text);
	exit(code);
}

/* What the store refused, with the errno's word ("EBUSY"). */
static void __attribute__((noreturn, format(printf, 2, 3)))
blfs_fail_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blfs_vfail(1, resolve_code(err), fmt, ap);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
blfs_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blfs_vfail(code, NULL, fmt, ap);
}

/* "1048576", "64k", "256M", "1G" (powers of 1024). */
static int
blfs_parse_bytes(const char *s, uint64_t *out)
{
	char num[32];
	size_t digits = strspn(s, "0123456789");
	uint64_t v, mult = 1;

	if (digits == 0 || digits >= sizeof(num))
		return -1;
	switch (s[digits]) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		break;
	default:
		return -1;
	}
	if (s[digits] != '\0' && s[digits + 1] != '\0')
		return -1;
	memcpy(num, s, digits);
	num[digits] = '\0';
	if (parse_u64(num, UINT64_MAX / mult, &v) == -1)
		return -1;
	*out = v * mult;
	return 0;
}

static int
blfs_parse_fd(const char *opt, const char *s)
{
	uint64_t v;

	if (parse_u64(s, INT_MAX, &v) == -1)
		blfs_fail(BLFS_EXIT_USAGE, "%s: not a file descriptor: %s", opt,
		    s);
	if (fcntl((int)v, F_GETFD) == -1)
		blfs_fail(BLFS_EXIT_USAGE, "%s: fd %d is not open", opt, (int)v);
	return (int)v;
}

/* Names are for ps and logs only, but must still read as one word. */
static const char *
blfs_parse_word(const char *opt, const char *s)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 4096)
		blfs_fail(BLFS_EXIT_USAGE, "%s: must be 1 to 4096 characters",
		    opt);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			blfs_fail(BLFS_EXIT_USAGE,
			    "%s: control characters are not allowed", opt);
	return s;
}

static void
blfs_parse_args(int argc, char **argv, struct blfs_args *a)
{
	static const char *const flags[] = { "--read-only", "--writeback",
	    "--debug" };
	char seen[32] = { 0 };
	const char *opt, *val, *eq;
	char name[64];
	size_t i, k;
	int idx, has_arg;

	static const char *const names[] = { "--volume-fd", "--fuse-fd",
	    "--root-fd",
	    "--status-fd", "--lock-fd", "--mounts-fd", "--stats-fd",
	    "--usage-fd", "--capacity", "--drive", "--session", "--mount-path",
	    "--cache-size", "--buffer-size", "--prefetch", "--log-level",
	    "--read-only", "--writeback", "--debug", "--ceph-fs",
	    "--ceph-root", "--ceph-id", "--ceph-conf-fd", "--ceph-keyring-fd",
	    "--ceph-store", "--seccomp-fd" };

	memset(a, 0, sizeof(*a));
	a->ceph.conf_fd = a->ceph.keyring_fd = -1;
	a->ceph.mount_timeout = "10";
	a->volume_fd = a->fuse_fd = a->root_fd = a->status_fd = -1;
	a->lock_fd = -1;
	a->mounts_fd = a->stats_fd = a->usage_fd = a->seccomp_fd = -1;
	a->cache_size = a->buffer_size = a->prefetch = UINT64_MAX;
	a->level = LOG_LVL_INFO;

	for (idx = 1; idx < argc; idx++) {
		opt = argv[idx];
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			printf("%s", usage_text);
			exit(0);
		}
		if (strcmp(opt, "--version") == 0) {
			printf("blfs %s\n", PACKAGE_VERSION);
			exit(0);
		}
		/* Both "--opt value" and "--opt=value". */
		val = NULL;
		if ((eq = strchr(opt, '=')) != NULL &&
		    (size_t)(eq - opt) < sizeof(name)) {
			memcpy(name, opt, (size_t)(eq - opt));
			name[eq - opt] = '\0';
			val = eq + 1;
		} else if (strlen(opt) < sizeof(name))
			strcpy(name, opt);
		else
			name[0] = '\0';
		for (k = 0; k < nitems(names); k++)
			if (strcmp(name, names[k]) == 0)
				break;
		if (k == nitems(names))
			blfs_fail(BLFS_EXIT_USAGE, "unknown argument: %s", opt);
		if (seen[k]++)
			blfs_fail(BLFS_EXIT_USAGE, "%s given twice", name);
		has_arg = 1;
		for (i = 0; i < nitems(flags); i++)
			if (strcmp(name, flags[i]) == 0)
				has_arg = 0;
		if (!has_arg) {
			if (val != NULL)
				blfs_fail(BLFS_EXIT_USAGE,
				    "%s takes no value", name);
		} else if (val == NULL) {
			if (idx + 1 >= argc)
				blfs_fail(BLFS_EXIT_USAGE,
				    "%s needs a value", name);
			val = argv[++idx];
		}

		if (strcmp(name, "--volume-fd") == 0)
			a->volume_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--fuse-fd") == 0)
			a->fuse_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--root-fd") == 0)
			a->root_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--status-fd") == 0) {
			a->status_fd = blfs_parse_fd(name, val);
			blfs_cfg.status_fd = a->status_fd;
		} else if (strcmp(name, "--lock-fd") == 0)
			a->lock_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--mounts-fd") == 0)
			a->mounts_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--stats-fd") == 0)
			a->stats_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--seccomp-fd") == 0)
			a->seccomp_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--usage-fd") == 0)
			a->usage_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--capacity") == 0) {
			if (parse_u64(val, INT64_MAX, &a->capacity) == -1 ||
			    a->capacity == 0)
				blfs_fail(BLFS_EXIT_USAGE,
				    "--capacity: not a number of bytes from 1 "
				    "to %" PRId64 ": %s", INT64_MAX, val);
		}
		else if (strcmp(name, "--drive") == 0)
			a->drive = blfs_parse_word(name, val);
		else if (strcmp(name, "--session") == 0)
			a->session = blfs_parse_word(name, val);
		else if (strcmp(name, "--mount-path") == 0) {
			a->mount_path = blfs_parse_word(name, val);
			if (*val != '/')
				blfs_fail(BLFS_EXIT_USAGE,
				    "--mount-path: not absolute: %s", val);
		} else if (strcmp(name, "--cache-size") == 0) {
			if (blfs_parse_bytes(val, &a->cache_size) == -1)
				blfs_fail(BLFS_EXIT_USAGE,
				    "--cache-size: not a size: %s", val);
		} else if (strcmp(name, "--buffer-size") == 0) {
			if (blfs_parse_bytes(val, &a->buffer_size) == -1)
				blfs_fail(BLFS_EXIT_USAGE,
				    "--buffer-size: not a size: %s", val);
		} else if (strcmp(name, "--prefetch") == 0) {
			if (blfs_parse_bytes(val, &a->prefetch) == -1)
				blfs_fail(BLFS_EXIT_USAGE,
				    "--prefetch: not a size: %s", val);
		} else if (strcmp(name, "--log-level") == 0) {
			if (log_level_parse(val, &a->level) == -1)
				blfs_fail(BLFS_EXIT_USAGE,
				    "--log-level: want error, warn, info or "
				    "debug, not %s", val);
		} else if (strcmp(name, "--read-only") == 0)
			a->read_only = 1;
		else if (strcmp(name, "--writeback") == 0)
			a->writeback = 1;
		else if (strcmp(name, "--debug") == 0)
			a->debug = 1;
		else if (strcmp(name, "--ceph-fs") == 0)
			a->ceph.fs = blfs_parse_word(name, val);
		else if (strcmp(name, "--ceph-root") == 0) {
			a->ceph.root = blfs_parse_word(name, val);
			if (*val != '/')
				blfs_fail(BLFS_EXIT_USAGE,
				    "--ceph-root: not absolute: %s", val);
		} else if (strcmp(name, "--ceph-id") == 0)
			a->ceph.id = blfs_parse_word(name, val);
		else if (strcmp(name, "--ceph-conf-fd") == 0)
			a->ceph.conf_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--ceph-keyring-fd") == 0)
			a->ceph.keyring_fd = blfs_parse_fd(name, val);
		else if (strcmp(name, "--ceph-store") == 0) {
			a->ceph.store = blfs_parse_word(name, val);
			if (*val != '/')
				blfs_fail(BLFS_EXIT_USAGE,
				    "--ceph-store: not absolute: %s", val);
		}
	}
	if (a->ceph.fs != NULL || a->ceph.root != NULL || a->ceph.id != NULL ||
	    a->ceph.conf_fd != -1 || a->ceph.keyring_fd != -1 ||
	    a->ceph.store != NULL) {
		if (a->ceph.fs == NULL || a->ceph.root == NULL ||
		    a->ceph.id == NULL || a->ceph.conf_fd == -1 ||
		    a->ceph.keyring_fd == -1)
			blfs_fail(BLFS_EXIT_USAGE, "serving from Ceph needs "
			    "--ceph-fs, --ceph-root, --ceph-id, --ceph-conf-fd "
			    "and --ceph-keyring-fd together");
		if (a->root_fd != -1 || a->volume_fd != -1 ||
		    a->mounts_fd != -1 || a->usage_fd != -1)
			blfs_fail(BLFS_EXIT_USAGE, "serving from Ceph takes no "
			    "--root-fd, --volume-fd, --mounts-fd or "
			    "--usage-fd");
		if (a->fuse_fd == -1)
			blfs_fail(BLFS_EXIT_USAGE, "--fuse-fd is required");
	} else if (a->volume_fd != -1) {
		if (a->fuse_fd != -1 || a->root_fd != -1 ||
		    a->mounts_fd != -1 || a->usage_fd != -1)
			blfs_fail(BLFS_EXIT_USAGE, "--volume-fd takes no "
			    "--fuse-fd, --root-fd, --mounts-fd or --usage-fd: "
			    "nothing is served");
		if (a->lock_fd == -1)
			blfs_fail(BLFS_EXIT_USAGE, "--volume-fd needs "
			    "--lock-fd");
	} else if (a->fuse_fd == -1)
		blfs_fail(BLFS_EXIT_USAGE, "--fuse-fd is required");
	else if (a->root_fd == -1)
		blfs_fail(BLFS_EXIT_USAGE, "--root-fd is required");
	if (a->drive == NULL)
		blfs_fail(BLFS_EXIT_USAGE, "--drive is required");
	if (a->session == NULL)
		blfs_fail(BLFS_EXIT_USAGE, "--session is required");
	if (a->mount_path == NULL)
		blfs_fail(BLFS_EXIT_USAGE, "--mount-path is required");
	if (a->mounts_fd != -1 && a->lock_fd == -1)
		blfs_fail(BLFS_EXIT_USAGE, "--mounts-fd needs --lock-fd");
	if ((a->usage_fd == -1) != (a->capacity == 0))
		blfs_fail(BLFS_EXIT_USAGE, "--usage-fd and --capacity go "
		    "together");
}

/*
 * Turn the mount's options into FUSE settings. blfs keeps no data cache
 * of its own: the kernel's page cache in front of it is the cache, and
 * the options say how the kernel may use it.
 */
static void
blfs_configure(const struct blfs_args *a)
{
	uint64_t v;

	blfs_cfg.read_only = a->read_only;
	/* The writeback cache is a write path: never on a read-only mount. */
	blfs_cfg.writeback = a->writeback && !a->read_only;

	/*
	 * --buffer-size: the largest request (max_write, and max_read which
	 * the agent also put in the mount options), in pages, 4 KiB..1 MiB.
	 * Without it: 1 MiB, the fastest.
	 */
	blfs_cfg.max_request = BLFS_MAX_REQUEST;
	if (a->buffer_size != UINT64_MAX) {
		v = a->buffer_size & ~(uint64_t)(BLFS_MIN_REQUEST - 1);
		if (v < BLFS_MIN_REQUEST)
			v = BLFS_MIN_REQUEST;
		if (v > BLFS_MAX_REQUEST)
			v = BLFS_MAX_REQUEST;
		blfs_cfg.max_request = (unsigned)v;
		blfs_cfg.max_read_set = 1;
	}

	/*
	 * --prefetch: the kernel's readahead window (max_readahead); the
	 * kernel may offer less (its bdi read_ahead_kb). Without it: all
	 * the kernel offers.
	 */
	blfs_cfg.readahead = UINT_MAX;
	if (a->prefetch != UINT64_MAX)
		blfs_cfg.readahead = a->prefetch > UINT_MAX ? UINT_MAX :
		    (unsigned)a->prefetch;

	/*
	 * --cache-size 0: no page cache kept across opens (every open
	 * rereads: for drives other writers change all the time). Any other
	 * size, or none: keep it, so that prefetched and reread data is
	 * served from memory.
	 */
	blfs_cfg.keep_cache = a->cache_size != 0;

	/*
	 * How long the kernel trusts names and attributes without asking.
	 * This mount's own changes are always seen at once, since they go
	 * through this kernel; the timeouts only bound how late a change
	 * made through another sandbox's mount of the same drive shows here
	 * (a renamed or removed name, new size, mode or times, and with
	 * them the cached pages, which are dropped when size or mtime
	 * moved).
	 * Names and attributes: BLFS_ATTR_TIMEOUT (5 s). With 1 s, a build
	 * or a find over more files than it can stat in a second found its
	 * first names expired again by the time it came back to them, and
	 * "warm" stats went to blfs; 5 s keeps such passes in the kernel's
	 * cache, and a change from elsewhere still shows within seconds.
	 * Missing names: 1 s, so a file another sandbox creates (the usual
	 * signal between sandboxes) is seen within a second.
	 * This is what a drive mounted once gets, and a drive mounted more
	 * than once on one machine too: there every change is passed on at
	 * once (share.c), the timeouts are not what bounds it. On a store
	 * that is not local (main), changes made on other machines are only
	 * bounded by the timeouts: 1 s there.
	 * --cache-size 0: nothing is trusted, every access asks.
	 */
	blfs_cfg.entry_timeout = BLFS_ATTR_TIMEOUT;
	blfs_cfg.attr_timeout = BLFS_ATTR_TIMEOUT;
	blfs_cfg.negative_timeout = BLFS_NEGATIVE_TIMEOUT;
	if (a->cache_size == 0)
		blfs_cfg.entry_timeout = blfs_cfg.attr_timeout =
		    blfs_cfg.negative_timeout = 0.0;
}

/*
 * Is the store on a local disk or memory filesystem? There close(2)
 * never reports anything write(2) and fsync(2) did not, so FLUSH can be
 * skipped; and a directory's mtime moves with every change, even two in
 * one clock tick (multigrain timestamps once it was looked at), so the
 * kernel may keep listings and check them by mtime. Anything else (NFS,
 * CIFS, 9p, virtiofs, FUSE, unknown) may report delayed write errors at
 * close and keep coarse or server-side times: FLUSH stays, and listings
 * are read afresh.
 */
static int
blfs_local_fs(int fd)
{
	static const unsigned long local[] = { EXT4_SUPER_MAGIC,
	    XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, F2FS_SUPER_MAGIC,
	    TMPFS_MAGIC };
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf) == -1)
		return 0;
	for (i = 0; i < nitems(local); i++)
		if ((unsigned long)sf.f_type == local[i])
			return 1;
	return 0;
}

/*
 * Does every change of a file on the store get a ctime that differs from
 * the one last seen? Multigrain timestamps promise it (Linux 6.13: ext4,
 * xfs, btrfs, tmpfs): a ctime that was looked at is never handed to the
 * next change. The owners cache (acache.c) is exact only where it holds.
 */
static int
blfs_fine_ctime(int fd)
{
	static const unsigned long fine[] = { EXT4_SUPER_MAGIC,
	    XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC, TMPFS_MAGIC };
	struct statfs sf;
	struct utsname u;
	unsigned major, minor;
	size_t i;

	if (uname(&u) == -1 ||
	    sscanf(u.release, "%u.%u", &major, &minor) != 2 ||
	    major < 6 || (major == 6 && minor < 13))
		return 0;
	if (fstatfs(fd, &sf) == -1)
		return 0;
	for (i = 0; i < nitems(fine); i++)
		if ((unsigned long)sf.f_type == fine[i])
			return 1;
	return 0;
}

/*
 * The kernel may know far more inodes than blfs may hold fds: raise the
 * soft limit to the hard one (root without CAP_SYS_RESOURCE cannot go
 * further), keep half of it for open files and directories, and bound
 * the O_PATH cache by the rest.
 */
static size_t
blfs_fd_budget(void)
{
	struct rlimit rl;
	size_t spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("raising RLIMIT_NOFILE");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 30)
		return BLFS_FD_CACHE_DEFAULT;
	spare = rl.rlim_cur > 128 ? (size_t)(rl.rlim_cur - 64) / 2 : 16;
	return spare < BLFS_FD_CACHE_DEFAULT ? spare : BLFS_FD_CACHE_DEFAULT;
}

/*
 * A posix store: the drive's directory, its owners in attributes, the
 * inode table of O_PATH fds, coherence between mounts on this machine,
 * the capacity.
 */
static void
blfs_prepare_posix(const struct blfs_args *a)
{
	struct stat st, mst;
	char *cause = NULL;

	if (fstat(a->root_fd, &st) == -1 || !S_ISDIR(st.st_mode))
		blfs_fail(1, "--root-fd %d: not a directory", a->root_fd);
	fd_set_cloexec(a->root_fd, 1);
	if (a->mounts_fd != -1) {
		if (fstat(a->mounts_fd, &mst) == -1 || !S_ISDIR(mst.st_mode))
			blfs_fail(1, "--mounts-fd %d: not a directory",
			    a->mounts_fd);
		fd_set_cloexec(a->mounts_fd, 1);
	}
	if (meta_check_store(a->root_fd, &cause) != 0)
		blfs_fail(1, "%s", cause);
	inode_table_init(a->root_fd, &st, blfs_fd_budget());
	blfs_cfg.local_store = blfs_local_fs(a->root_fd);
	if (!blfs_cfg.local_store) {
		log_info("the store is not local: names and attributes are "
		    "trusted 1 s at most, files are revalidated at open");
		if (blfs_cfg.attr_timeout > BLFS_REMOTE_TIMEOUT)
			blfs_cfg.entry_timeout = blfs_cfg.attr_timeout =
			    BLFS_REMOTE_TIMEOUT;
		if (blfs_cfg.negative_timeout > BLFS_REMOTE_TIMEOUT)
			blfs_cfg.negative_timeout = BLFS_REMOTE_TIMEOUT;
	}
	/*
	 * Listings may trust the cache's types only where the kernel may
	 * cache names at all (not --cache-size 0).
	 */
	acache_init(blfs_fine_ctime(a->root_fd), blfs_cfg.entry_timeout > 0);
	if (share_init(a->mounts_fd, a->lock_fd, &cause) != 0)
		blfs_fail(1, "%s", cause);
	if (quota_init(a->usage_fd, a->capacity, a->session, &cause) != 0)
		blfs_fail(1, "%s", cause);
}

/*
 * A ceph store: connected to the cluster as the sandbox's identity,
 * before any confinement (the configuration and keyring are read now,
 * through the fds the agent passed, and closed).
 */
#ifdef HAVE_LIBCEPHFS
/*
 * The drive's mount lock, taken in sessions of blfs's own (a ceph
 * store's locks belong to the session that took them) as the sandbox's
 * identity, under the drive's lock, after its access mode was checked
 * again: the store (store-ceph-lock.c) does it as it does for blctl.
 * Kept until blfs stops serving, then closed cleanly, so the MDS drops
 * the lock at once; a blfs that dies holds it until the MDS evicts its
 * session (session_timeout, 60 s by default).
 */
static struct store *blfs_lock_store;

static void
blfs_ceph_lock(const struct blfs_args *a)
{
	struct store_options	 o = { 0 };
	char			 conf[40], keyring[40], *spec, *cause = NULL;
	int			 lockfd, r;

	snprintf(conf, sizeof(conf), "/proc/self/fd/%d", a->ceph.conf_fd);
	snprintf(keyring, sizeof(keyring), "/proc/self/fd/%d",
	    a->ceph.keyring_fd);
	(void)store_options_set(&o, "ceph-conf", conf);
	(void)store_options_set(&o, "ceph-id", a->ceph.id);
	(void)store_options_set(&o, "ceph-keyring", keyring);
	xasprintf(&spec, "ceph:%s%s", a->ceph.fs, strcmp(a->ceph.store,
	    "/") == 0 ? "" : a->ceph.store);
	if ((r = store_open_opts(spec, 0, &o, &blfs_lock_store, &cause)) != 0)
		blfs_fail_errno(-r, "%s", cause);
	if ((r = store_mount_lock(blfs_lock_store, a->drive, a->session, a->read_only,
	    &lockfd, &cause)) != 0)
		blfs_fail_errno(-r, "%s", cause);
	free(spec);
}
#endif

static void
blfs_prepare_ceph(const struct blfs_args *a)
{
#ifdef HAVE_LIBCEPHFS
	char *cause = NULL;

	fd_set_cloexec(a->ceph.conf_fd, 1);
	fd_set_cloexec(a->ceph.keyring_fd, 1);
	/*
	 * The kernel trusts nothing: every name and attribute is asked of
	 * libcephfs, whose cache Ceph's capabilities keep coherent with
	 * every other client, and which answers from memory while they are
	 * held. Kernel timeouts would let a stale name or size outlive the
	 * capability that vouched for it.
	 */
	blfs_cfg.entry_timeout = blfs_cfg.attr_timeout =
	    blfs_cfg.negative_timeout = 0.0;
	blfs_cfg.serve_apart = 1;
	if (a->ceph.store != NULL)
		blfs_ceph_lock(a);
	if (ceph_attach(&a->ceph, &cause) != 0)
		blfs_fail(1, "%s", cause);
	close(a->ceph.conf_fd);
	close(a->ceph.keyring_fd);
#else
	(void)a;
	blfs_fail(1, "this blfs was built without libcephfs: it cannot serve "
	    "a ceph store");
#endif
}

int
main(int argc, char **argv)
{
	struct fuse_args fargs = FUSE_ARGS_INIT(0, NULL);
	const struct fuse_lowlevel_ops *ops = &blfs_ops;
	struct fuse_session *se;
	struct blfs_args a;
	struct stat st;
	char *maxread, *cause = NULL;
	int r, ceph;

	/*
	 * First of all: not dumpable, so no process of the workload (even
	 * uid 0 without CAP_SYS_PTRACE) reaches our fds, memory or root
	 * through /proc/<pid>.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		blfs_fail(1, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	/* Modes come from the caller, already masked by its umask. */
	umask(0);
	/* A closed status pipe is an EPIPE, not a death. */
	signal(SIGPIPE, SIG_IGN);

	blfs_parse_args(argc, argv, &a);
	log_init("blfs", a.debug ? LOG_LVL_DEBUG : a.level);
	if (a.volume_fd != -1) {
		if (fstat(a.volume_fd, &st) == -1 || !S_ISBLK(st.st_mode))
			blfs_fail(1, "--volume-fd %d: not a block device",
			    a.volume_fd);
		fd_set_cloexec(a.lock_fd, 1);	/* held, never touched */
		return hold_volume(a.volume_fd, a.status_fd, a.drive,
		    a.session, a.mount_path);
	}
	blfs_configure(&a);
	ceph = a.ceph.fs != NULL;

	if (fstat(a.fuse_fd, &st) == -1 || !S_ISCHR(st.st_mode))
		blfs_fail(1, "--fuse-fd %d: not the /dev/fuse device", a.fuse_fd);
	if (a.status_fd != -1)
		fd_set_cloexec(a.status_fd, 1);
	if (a.seccomp_fd != -1)
		fd_set_cloexec(a.seccomp_fd, 1);
	if (a.lock_fd != -1)
		fd_set_cloexec(a.lock_fd, 1);	/* held, never touched */
	if (ceph) {
#ifdef HAVE_LIBCEPHFS
		ops = &blfs_ceph_ops;
#endif
		blfs_prepare_ceph(&a);
	} else
		blfs_prepare_posix(&a);
	if (stats_init(a.stats_fd, &cause) != 0)
		blfs_fail(1, "%s", cause);
	backing_setup(a.status_fd, ceph);

	if (fuse_opt_add_arg(&fargs, "blfs") == -1)
		blfs_fail(1, "out of memory");
	if (a.debug && fuse_opt_add_arg(&fargs, "-d") == -1)
		blfs_fail(1, "out of memory");
	if (blfs_cfg.max_read_set) {
		/* libfuse checks INIT against the mount's max_read. */
		xasprintf(&maxread, "-omax_read=%u", blfs_cfg.max_request);
		if (fuse_opt_add_arg(&fargs, maxread) == -1)
			blfs_fail(1, "out of memory");
		free(maxread);
	}
	se = fuse_session_new(&fargs, ops, sizeof(*ops), NULL);
	if (se == NULL)
		blfs_fail(1, "cannot start a FUSE session");
	/* Serve fd N as it is: libfuse mounts nothing, unmounts nothing. */
	if (devio_attach(se, a.fuse_fd) != 0)
		blfs_fail(1, "cannot serve fuse fd %d", a.fuse_fd);

	if (ceph)
		log_info("drive %s session %s at %s%s: CephFS %s:%s as %s",
		    a.drive, a.session, a.mount_path, a.read_only ?
		    " (read-only)" : "", a.ceph.fs, a.ceph.root, a.ceph.id);
	else
		log_info("drive %s session %s at %s%s: fd cache %zu", a.drive,
		    a.session, a.mount_path, a.read_only ? " (read-only)" : "",
		    inode_fd_cache_max());

	/*
	 * Stopping the worker threads (loop.c) cancels one, and glibc loads
	 * libgcc_s for that on first use: load it now, while it can be
	 * opened, so it is found in memory then.
	 */
	if (dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE) == NULL)
		log_debug("libgcc_s.so.1: %s", dlerror());
	/*
	 * Nothing of the filesystem but the drive from here on: uid 0 could
	 * still open whatever uid 0 owns (the token, say) by its mode bits.
	 * From Ceph, nothing of the filesystem at all: the drive is reached
	 * over the network.
	 */
	if (ceph) {
		unsigned ports[16];
		int n = 0;

#ifdef HAVE_LIBCEPHFS
		n = ceph_mon_ports(ports, (int)nitems(ports));
#endif
		r = sandbox_blfs_landlock_net(ports, n, &cause);
	} else
		r = sandbox_blfs_landlock(a.root_fd, a.mounts_fd,
		    blfs_cfg.read_only, &cause);
	if (r == -1)
		blfs_fail(1, "landlock: %s", cause);
	if (r == 1) {
		log_warnx("%s: serving without it", cause);
		free(cause);
		cause = NULL;
	}

	/*
	 * Last: every fd is open and every setting made. From here on no
	 * exec, no mount, no new sockets (but a ceph store's, to its
	 * cluster); anything off the list kills us (the agent then fails the
	 * mount and detaches it).
	 */
	if (a.seccomp_fd != -1)
		r = sandbox_blfs_seccomp_fd(a.seccomp_fd, &cause);
	else if (ceph)
		r = sandbox_blfs_seccomp_net(blfs_cfg.read_only, &cause);
	else
		r = sandbox_blfs_seccomp(blfs_cfg.read_only, &cause);
	if (r == -1)
		blfs_fail(1, "seccomp: %s", cause);

	blfs_cfg.se = se;
#ifdef HAVE_LIBCEPHFS
	if (ceph && (r = ceph_start()) != 0)
		blfs_fail(1, "cannot start the thread that passes the "
		    "cluster's changes on: %s", strerror(-r));
#endif
	if (!ceph && (r = share_start(se)) != 0)
		blfs_fail(1, "cannot start the thread that keeps mounts "
		    "coherent: %s", strerror(-r));
	/* One fd for every worker: no clone_fd, blfs opens no device. */
	r = loop_run(se, BLFS_MAX_THREADS);
	if (ceph) {
#ifdef HAVE_LIBCEPHFS
		ceph_detach();
		store_free(blfs_lock_store);
#endif
	} else {
		share_stop();
		quota_exit();
	}
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	fuse_opt_free_args(&fargs);
	if (r < 0) {
		log_warnx("session ended: %s", strerror(-r));
		return 1;
	}
	if (r > 0) {
		log_info("stopped by signal %d", r);
		return 128 + r;
	}
	log_info("unmounted");
	return 0;
}

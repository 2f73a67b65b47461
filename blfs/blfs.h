/*
 * blfs internals: the server's settings, the inode table with its bounded
 * cache of O_PATH fds, and the low-level operations table.
 */
#ifndef BL_BLFS_H
#define BL_BLFS_H

#define FUSE_USE_VERSION 314

#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <stdint.h>

#include <fuse_lowlevel.h>

#include "mountmgr/owners.h"

/*
 * The largest FUSE request libfuse 3.14 and the kernel (256 pages by
 * default in /proc/sys/fs/fuse/max_pages_limit) agree on. Bigger requests
 * mean fewer round trips per byte: this is where most of the throughput
 * of a passthrough server comes from.
 */
#define BLFS_MAX_REQUEST (1024 * 1024)
#define BLFS_MIN_REQUEST 4096

/* O_PATH fds kept open at most, unless RLIMIT_NOFILE is tighter. */
#define BLFS_FD_CACHE_DEFAULT 1024

struct blfs_config {
	int	 read_only;
	int	 writeback;	/* FUSE_CAP_WRITEBACK_CACHE, never when ro */
	int	 keep_cache;	/* FOPEN_KEEP_CACHE on every open */
	/*
	 * Any request may wait on others of this mount (a ceph store: the
	 * cluster revokes a capability only once requests still queued
	 * here are served): the loop hands the reading over before serving
	 * each one (loop.c).
	 */
	int	 serve_apart;
	unsigned max_request;	/* max_write and max_read, bytes */
	int	 max_read_set;	/* --buffer-size given: the mount has max_read */
	unsigned readahead;	/* max_readahead, bytes */
	double	 entry_timeout;	/* seconds the kernel trusts a name */
	double	 attr_timeout;	/* seconds the kernel trusts attributes */
	double	 negative_timeout; /* seconds it trusts "no such name" */
	int	 local_store;	/* ext4, xfs, btrfs, f2fs, tmpfs (main.c) */
	struct fuse_session *se; /* for notifications; set before serving */
	int	 status_fd;	/* "ready" goes here after INIT, or -1 */
};

extern struct blfs_config blfs_cfg;

struct blfs_inode;

/*
 * An open regular file: the fuse_file_info fh. Listed on its inode so an
 * inode whose name went away (unlinked while open) can still be reached.
 */
struct blfs_file {
	int		 fd;		/* immutable */
	struct blfs_inode *in;		/* immutable */
	int		 wrote;		/* written through: restamp at close */
	int		 passthrough;	/* BACKING_*, set once at open */
	TAILQ_ENTRY(blfs_file) entry;	/* guarded by the table lock */
};
TAILQ_HEAD(blfs_files, blfs_file);

/*
 * One file or directory the kernel knows, keyed by (dev, ino) of the
 * backing file. The kernel's node id is the pointer itself (the root is
 * FUSE_ROOT_ID). Each inode remembers the parent and name it was last
 * seen under: that is how an fd for it is found again once the cache
 * dropped it, so no inode needs an fd of its own to stay known.
 */
struct blfs_inode {
	/* Immutable once created. */
	dev_t		 dev;
	ino_t		 ino;
	mode_t		 type;		/* S_IFMT bits */

	/* The rest is guarded by the table lock (inode.c: itab.lock). */
	struct blfs_inode *hnext;	/* hash chain */
	int		 hashed;	/* on a hash chain */
	uint64_t	 nlookup;	/* the kernel's lookup count */
	unsigned	 refs;		/* children naming us + transient holds */
	struct blfs_inode *parent;	/* NULL only for the root */
	char		*name;		/* last name seen in parent */
	int		 fd;		/* cached O_PATH fd, or -1 */
	unsigned	 pins;		/* users of fd right now; no eviction */
	TAILQ_ENTRY(blfs_inode) lru;	/* on the LRU list while fd != -1 */
	struct blfs_files files;	/* open handles of this inode */
	int		 wd;		/* inotify watch (share.c), or -1 */
	/*
	 * What the kernel was last told of a regular file's data (size,
	 * mtime, ctime of the backing file), for revalidation on open
	 * (ops.c); stamped is 0 until the first open.
	 */
	int		 stamped;
	off_t		 size;
	struct timespec	 mtim, ctim;
	/* Open handles by kind, and the registration (backing.c's lock). */
	unsigned	 cached_opens;
	unsigned	 backing_opens;
	int		 backing_id;	/* while backing_opens > 0, or kept */
	int		 backing_kept;	/* registered, no handle open */
	TAILQ_ENTRY(blfs_inode) kept;	/* on backing.c's list while kept */
};

void	inode_table_init(int root_fd, const struct stat *root_st,
	    size_t fd_cache_max);
struct blfs_inode *inode_get(fuse_ino_t id);
fuse_ino_t inode_id(struct blfs_inode *);
size_t	inode_fd_cache_max(void);
size_t	inode_fd_cache_count(void);

/*
 * The kernel learns (dev, ino) as parent/name: find or create its inode,
 * add one lookup and remember the name. If fd is not -1 it is an O_PATH
 * fd of exactly that file, handed to the cache (or closed).
 */
struct blfs_inode *inode_learn(struct blfs_inode *parent, const char *name,
	    const struct stat *st, int fd);
void	inode_forget(struct blfs_inode *, uint64_t n);

/* After a rename: the file now at parent/name is known by that name. */
void	inode_relabel(struct blfs_inode *parent, const char *name,
	    const struct stat *st);

/*
 * A pinned O_PATH fd of the inode in *fd (0) or -errno; every success is
 * paired with inode_fd_put. ESTALE means the file found under the name
 * we knew is no longer the same file.
 */
int	inode_fd(struct blfs_inode *, int *fd);
void	inode_fd_put(struct blfs_inode *);

/* A hold that keeps the inode (not its fd) alive; inode_put ends it. */
void	inode_put(struct blfs_inode *);
/* The kernel's node id of the backing file (dev, ino), or 0: unknown. */
fuse_ino_t inode_id_of(dev_t dev, ino_t ino);
/* Every node id the kernel knows; *ids is the caller's to free. */
size_t	inode_ids(fuse_ino_t **ids);
/* Every directory, each held (inode_put); *dirs is the caller's. */
size_t	inode_hold_dirs(struct blfs_inode ***dirs);
/*
 * inotify watches of directories (share.c): the inode watched by wd,
 * held; record a new watch (-1: nobody keeps it, remove wd); forget one
 * the kernel removed; remove one.
 */
struct blfs_inode *inode_hold_wd(int wd);
int	inode_set_wd(struct blfs_inode *, int wd);
void	inode_drop_wd(int wd);
void	inode_clear_wd(struct blfs_inode *);
/*
 * Revalidation on open: 1 if st (the backing file's) differs from what
 * the kernel was last told, then st is what it is told from now on.
 */
int	inode_restamp(struct blfs_inode *, const struct stat *st);
/* The same comparison, stamping nothing. */
int	inode_stamp_differs(struct blfs_inode *, const struct stat *st);
/* The inode of backing file (dev, ino), held (inode_put), or NULL. */
struct blfs_inode *inode_hold_of(dev_t dev, ino_t ino);

/* An open fd of the inode becomes a handle (fuse_file_info fh). */
struct blfs_file *inode_file_add(struct blfs_inode *, int fd);
/* Off the inode's list, and its fd closed. */
void	inode_file_close(struct blfs_file *);

/*
 * Owners and modes (meta.c): what the workload sees of a backing file is
 * kept in OWNERS_XATTR (mountmgr/owners.h), because blfs holds no
 * capability to chown, to chmod files it does not own, or to reach them
 * whatever their mode.
 */
/* 0 and *o from fd's attribute (fd of a btype file), or -1: none. */
int	meta_get(int fd, int is_opath, mode_t btype, struct owners *o);
/* Owner, group and mode of *st become *o's. */
void	meta_present(struct stat *st, const struct owners *o);
/*
 * stat(2) as the workload sees it: of fd (O_PATH or open), or of name
 * in directory fd dfd, never following a symlink. 0 or -errno.
 */
int	meta_stat_fd(int fd, int is_opath, struct stat *st);
int	meta_stat_at(int dfd, const char *name, struct stat *st);
/* The presented type of a backing regular file dfd/name. */
mode_t	meta_type_at(int dfd, const char *name);
/*
 * Store *o on fd's file as it is: a file blfs has just made, its own and
 * with its backing mode already. 0 or -errno.
 */
int	meta_set(int fd, int is_opath, const struct owners *o);
/*
 * Store *o on any file uid 0 owns, regular or directory, and make its
 * backing mode ours; EPERM, nothing changed, for any other. 0 or -errno.
 */
int	meta_write(int fd, int is_opath, const struct owners *o);
/* -1 and a cause if the store cannot keep user.* attributes. */
int	meta_check_store(int root_fd, char **cause);

/*
 * The owners cache (acache.c): what meta.c read of a backing file, used
 * again while the file's ctime and the rest of its stat stay as they
 * were when it was read (stat first, then read, then put; a read by name
 * only between two stats acache_same finds the same). acache_get:
 * ACACHE_OWNERS and *o, ACACHE_NONE (no attribute), or ACACHE_MISS.
 * acache_reg: 1 if a listing of a drive mounted nowhere else may show
 * the backing regular file (dev, ino) as a regular file without reading
 * it, 0 if not yet, -1 if never (no cache, --cache-size 0).
 * acache_new_epoch: the drive became shared or unshared.
 */
enum { ACACHE_MISS, ACACHE_OWNERS, ACACHE_NONE };
void	acache_init(int on, int types);
int	acache_on(void);
int	acache_get(const struct stat *, struct owners *o);
void	acache_put(const struct stat *, const struct owners *o);
int	acache_same(const struct stat *, const struct stat *);
int	acache_reg(dev_t, ino_t);
void	acache_drop(dev_t, ino_t);
void	acache_new_epoch(void);

extern const struct fuse_lowlevel_ops blfs_ops;
/* ops.c's every error reply, and its EROFS on a read-only mount. */
void	ops_reply_err(fuse_req_t, int err);
int	ops_refuse_ro(fuse_req_t);
/* The entry the kernel is told for in, with our timeouts. */
void	ops_fill_entry(struct fuse_entry_param *, struct blfs_inode *,
	    const struct stat *);
/* The directory operations (readdir.c); readdir_fd: a handle's fd. */
void	readdir_open(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void	readdir_read(fuse_req_t, fuse_ino_t, size_t size, off_t off,
	    struct fuse_file_info *);
void	readdir_plus(fuse_req_t, fuse_ino_t, size_t size, off_t off,
	    struct fuse_file_info *);
void	readdir_release(fuse_req_t, fuse_ino_t, struct fuse_file_info *);
void	readdir_fsync(fuse_req_t, fuse_ino_t, int datasync,
	    struct fuse_file_info *);
int	readdir_fd(const struct fuse_file_info *);
/* The xattr operations (xattr.c). */
void	xattr_get(fuse_req_t, fuse_ino_t, const char *name, size_t size);
void	xattr_list(fuse_req_t, fuse_ino_t, size_t size);
void	xattr_set(fuse_req_t, fuse_ino_t, const char *name,
	    const char *value, size_t size, int flags);
void	xattr_remove(fuse_req_t, fuse_ino_t, const char *name);

/*
 * fcntl and flock locks held on the store (lock.c), so that every mount
 * of the drive sees them: on inode in, asked through handle via whose
 * open backing fd is fd. 0 or -errno. lock_flush: the owner closed the
 * file; lock_release: the handle is going.
 */
int	lock_getlk(struct blfs_inode *, const void *via, int fd,
	    uint64_t owner, struct flock *);
int	lock_setlk(fuse_req_t, fuse_ino_t, struct blfs_inode *,
	    const void *via, int fd, uint64_t owner, struct flock *, int sleep);
int	lock_flock(fuse_req_t, fuse_ino_t, struct blfs_inode *, int fd,
	    int op);
void	lock_flush(struct blfs_inode *, uint64_t owner);
int	lock_used(void);	/* a lock was ever taken on this mount */
/* An owner on this mount holds an fcntl lock on the file now. */
int	lock_holds(struct blfs_inode *);
void	lock_release(const void *via);
/* The FUSE ops, on a handle's fd (ops_handle_fd). */
void	lock_op_getlk(fuse_req_t, fuse_ino_t, struct fuse_file_info *,
	    struct flock *);
void	lock_op_setlk(fuse_req_t, fuse_ino_t, struct fuse_file_info *,
	    struct flock *, int sleep);
void	lock_op_flock(fuse_req_t, fuse_ino_t, struct fuse_file_info *, int op);
int	ops_handle_fd(fuse_ino_t, const struct fuse_file_info *,
	    const void **via);

/*
 * Metrics (stats.c) into the agent's file (--stats-fd; -1: none).
 * stats_begin/stats_end bracket each request a worker serves;
 * stats_reply sees each reply it writes (error: the reply's, -errno);
 * stats_written counts bytes written to the store.
 */
int	stats_init(int fd, char **cause);
void	stats_begin(const struct fuse_buf *);
void	stats_end(void);
void	stats_reply(int error, size_t payload);
void	stats_written(size_t);
/* The drive's capacity and use, as quota.c last saw them. */
void	stats_usage(uint64_t capacity, uint64_t used);

/*
 * The drive's capacity (quota.c; mountmgr/usage.h), on a read-write
 * mount given --usage-fd and --capacity. quota_charge takes bytes a
 * file is about to grow by (0, -ENOSPC, -EIO); quota_credit gives back
 * bytes files shrank by or a charge not used. quota_resize (and its two
 * halves quota_growth/_from): by how
 * much fd's file grows or shrinks at size end; quota_size_at: what
 * removing dfd/name frees. All 0 and no-ops without a capacity.
 */
int	quota_init(int fd, uint64_t capacity, const char *session,
	    char **cause);
int	quota_active(void);
int	quota_charge(uint64_t grow);
void	quota_credit(uint64_t shrink);
uint64_t quota_growth(int fd, uint64_t end);
uint64_t quota_growth_from(int fd, uint64_t end);
void	quota_resize(int fd, uint64_t end, uint64_t *grow, uint64_t *shrink);
uint64_t quota_size_at(int dfd, const char *name);
struct statvfs;
void	quota_statfs(struct statvfs *);
void	quota_exit(void);

/*
 * Coherence between mounts of one drive (share.c). share_init watches
 * the drive's mounts/ directory (mounts_fd; -1 when run by hand) and
 * counts the other mounts; share_start runs the thread that turns
 * changes into invalidations while there are any. share_watch: an
 * inode the kernel is about to learn (directories are watched while
 * shared). share_unwatch: its inode is gone (under the table lock).
 */
int	share_init(int mounts_fd, int lock_fd, char **cause);
int	share_start(struct fuse_session *);
void	share_stop(void);
int	share_active(void);
void	share_watch(struct blfs_inode *);
void	share_unwatch(int wd);

/*
 * /dev/fuse through libfuse's custom io (devio.c): asks the kernel for
 * FUSE_HANDLE_KILLPRIV_V2, and tells whether the request this thread is
 * serving asks to clear set-user-ID and set-group-ID bits.
 */
int	devio_attach(struct fuse_session *, int fd);
int	devio_kill_suidgid(void);
/* The OPEN or CREATE reply this thread sends next: passthrough to id. */
void	devio_reply_backing(int id);

/*
 * FUSE passthrough (backing.c). backing_open decides for a new handle:
 * the backing id for the open reply, or -1 (served by blfs); every
 * handle it saw is let go with backing_close (inode_file_close).
 */
#define BACKING_CACHED	1
#define BACKING_PASSED	2
void	backing_setup(int status_fd, int ceph);
int	backing_wanted(void);
void	backing_negotiated(int on);
int	backing_enabled(void);
int	backing_open(struct blfs_file *);
void	backing_close(struct blfs_file *);
/* The inode goes: so does a registration kept for it. */
void	backing_forget(struct blfs_inode *);

/*
 * Serve requests with up to max_threads workers until the session ends:
 * 0 when unmounted, the signal number when stopped by SIGTERM, SIGINT or
 * SIGHUP, -errno when the device failed.
 */
int	loop_run(struct fuse_session *, unsigned max_threads);

/*
 * hold.c: --volume-fd mode. Holds a volume's mount lock and loop device
 * (loopfd) until SIGTERM and then until the volume's file system lets go
 * of the device. The exit status.
 */
int	hold_volume(int loopfd, int status_fd, const char *drive,
	    const char *session, const char *mount_path);

#endif

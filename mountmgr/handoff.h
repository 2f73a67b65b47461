/*
 * The privileged half of a mount, done by the agent itself: open
 * /dev/fuse, mount(2) it, and build the argv of the blfs that will serve
 * the fd. Also the mountinfo look-ups that verify and re-adopt mounts,
 * and detaching. No sockets, no event loop: plain calls.
 */
#ifndef BL_HANDOFF_H
#define BL_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#define HANDOFF_FSTYPE	"fuse.blfs"

/* Request sizes blfs and the mount's max_read agree on (blfs/blfs.h). */
#define HANDOFF_MIN_REQUEST	4096
#define HANDOFF_MAX_REQUEST	(1024 * 1024)

/* A size option not given: blfs picks its default. 0 means the same. */
#define HANDOFF_UNSET		UINT64_MAX

/* Each step that can fail, so the message names it (bubblewrap style). */
enum handoff_result {
	HANDOFF_OK,
	HANDOFF_BAD_ARGUMENT,	/* no path, no source */
	HANDOFF_OPEN_DEV,	/* open /dev/fuse */
	HANDOFF_MOUNT,		/* mount(2) */
};

struct handoff_mount {
	const char	*source;	/* the drive name, shown in mountinfo */
	/*
	 * Where to mount: a path, or /proc/self/fd/N of an O_PATH fd of the
	 * checked directory, so no symlink swapped in can redirect it.
	 */
	const char	*path;
	int		 read_only;	/* MS_RDONLY */
	uint64_t	 buffer_size;	/* HANDOFF_UNSET/0, or gives max_read */
};

/*
 * Opens /dev/fuse (O_RDWR|O_CLOEXEC) and mounts it at m->path as
 * fuse.blfs with MS_NOSUID|MS_NODEV (|MS_RDONLY) and
 * "fd=N,rootmode=40000,user_id=0,group_id=0,allow_other,
 * default_permissions[,max_read=N]". On HANDOFF_OK *fuse_fd is the
 * connection (close-on-exec: clear it in the child before exec);
 * otherwise *saved_errno says why and nothing is left open or mounted.
 */
enum handoff_result handoff_mount(const struct handoff_mount *m,
		    int *fuse_fd, int *saved_errno);

/* Heap words naming the failed step and the path shown to people. */
char	*handoff_describe(enum handoff_result, int saved_errno,
	    const char *shown);

/*
 * The same in one call: mount at target, errors naming shown; max_read is
 * the requested buffer size (0: not given). *cause on failure.
 */
enum handoff_result handoff_fuse_mount(const char *target, const char *shown,
		    const char *drive, int read_only, uint64_t max_read,
		    int *fusefd, char **cause);

/* The max_read (and blfs max_write) a buffer size gives: 4 KiB..1 MiB. */
unsigned handoff_request_size(uint64_t buffer_size);

struct handoff_blfs_args {
	const char	*blfs_path;	/* argv[0] */
	int		 volume_fd;	/* > 0: hold this volume's loop device
					 * (no FUSE, fuse_fd and root_fd
					 * unused) */
	int		 fuse_fd;
	int		 root_fd;
	int		 status_fd;	/* -1: none */
	int		 lock_fd;	/* -1: none */
	int		 mounts_fd;	/* -1: none */
	int		 stats_fd;	/* -1: none */
	int		 usage_fd;	/* -1: none */
	uint64_t	 capacity;	/* with usage_fd */
	const char	*drive;
	const char	*session_id;
	const char	*mount_path;
	int		 read_only;
	uint64_t	 cache_size;	/* 0 or HANDOFF_UNSET: not given */
	uint64_t	 buffer_size;	/* ditto; as given to handoff_mount */
	uint64_t	 prefetch;	/* ditto */
	int		 writeback;
	const char	*log_level;	/* NULL: blfs's default (info) */
	int		 debug;
	/* A ceph store (ceph_fs set): these in place of root_fd. */
	const char	*ceph_fs;
	const char	*ceph_root;
	const char	*ceph_id;
	int		 ceph_conf_fd;
	int		 ceph_keyring_fd;
	const char	*ceph_store;	/* the store's root: blfs takes the
					 * mount lock there (NULL: none) */
	int		 seccomp_fd;	/* > 0: blfs's filter, ready */
};

/*
 * NULL-terminated argv for execv(a->blfs_path, argv), every string on the
 * heap: blfs --fuse-fd N --root-fd N [--status-fd N] [--lock-fd N]
 * --drive NAME --session ID --mount-path PATH [--read-only] ...
 */
char	**handoff_blfs_argv(const struct handoff_blfs_args *);
void	  handoff_argv_free(char **);

struct handoff_mountinfo {
	int		found;		/* a fuse.blfs mount is on top */
	unsigned	mount_id;
	unsigned	dev_major;	/* 0 for FUSE */
	unsigned	dev_minor;	/* the FUSE connection number */
	int		read_only;	/* per-mount options */
	int		nosuid;
	int		nodev;
	char		source[256];	/* decoded: the drive name */
};

/*
 * Finds the topmost mount at path (compared after decoding mountinfo's
 * \040-style escapes) in the text of a mountinfo file: 1 when it is of
 * fstype fuse.blfs (mi filled), 2 when some other filesystem is mounted
 * there on top, 0 when nothing is. Malformed lines are skipped. Pure:
 * tests feed it text.
 */
int	handoff_mountinfo_parse(const char *text, const char *path,
	    struct handoff_mountinfo *mi);
/* The same on /proc/self/mountinfo; -1 when it cannot be read. */
int	handoff_mountinfo_find(const char *path, struct handoff_mountinfo *mi);
/*
 * Both for another fstype (a volume's "ext4"): 1 is then a mount of that
 * type, its source the device ("/dev/loop3").
 */
int	handoff_mountinfo_parse_fs(const char *text, const char *path,
	    const char *fstype, struct handoff_mountinfo *mi);
int	handoff_mountinfo_find_fs(const char *path, const char *fstype,
	    struct handoff_mountinfo *mi);

/*
 * umount2(path, MNT_DETACH|UMOUNT_NOFOLLOW): the mount point is free at
 * once; blfs keeps serving files still open, then sees the session end
 * and exits. 0 or -errno.
 */
int	handoff_detach(const char *path);

/*
 * Aborts a FUSE connection (mi.dev_minor) via /sys/fs/fuse/connections:
 * every pending and later request fails at once; for a forced unmount of
 * a blfs that hangs. 0 or -errno.
 */
int	handoff_abort(unsigned dev_minor);

#endif

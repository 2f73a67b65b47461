/*
 * The privileged half of a mount, done by the agent itself: open
 * /dev/fuse, mount(2) it, and build the argv of the blfs that will serve
 * the fd. Also the mountinfo look-ups that verify and re-adopt mounts.
 */
#ifndef BL_HANDOFF_H
#define BL_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#define HANDOFF_FSTYPE	"fuse.blfs"

/* Each step that can fail, so the message names it (bubblewrap style). */
enum handoff_result {
	HANDOFF_OK,
	HANDOFF_OPEN_DEV,	/* open /dev/fuse */
	HANDOFF_MOUNT,		/* mount(2) */
};

/*
 * Opens /dev/fuse and mounts it at target (a path, or /proc/self/fd/N of
 * an O_PATH fd so no symlink swapped in can redirect the mount) as
 * fuse.blfs with source drive: nosuid, nodev, MS_RDONLY when read_only,
 * allow_other, default_permissions, max_read when max_read > 0. On
 * HANDOFF_OK *fusefd is the connection (close-on-exec); otherwise *cause
 * names the step, the path (shown) and the error.
 */
enum handoff_result handoff_fuse_mount(const char *target, const char *shown,
		    const char *drive, int read_only, uint64_t max_read,
		    int *fusefd, char **cause);

struct handoff_blfs_args {
	const char	*blfs_path;
	int		 fuse_fd;
	int		 root_fd;
	int		 status_fd;	/* -1: none */
	int		 lock_fd;	/* -1: none */
	const char	*drive;
	const char	*session_id;
	const char	*mount_path;
	int		 read_only;
	uint64_t	 cache_size;	/* 0: not given */
	uint64_t	 buffer_size;
	uint64_t	 prefetch;
	int		 writeback;
};

/* NULL-terminated argv for execv; every string on the heap. */
char	**handoff_blfs_argv(const struct handoff_blfs_args *);
void	  handoff_argv_free(char **);

struct handoff_mountinfo {
	int	read_only;
	int	nosuid;
	int	nodev;
	char	source[256];
};

/*
 * Finds the topmost mount at path (normalised) in mountinfo text; 1 when
 * one of fstype fuse.blfs is there (mi filled), 2 when some other
 * filesystem is mounted there, 0 when nothing is. Pure: tests feed it text.
 */
int	handoff_mountinfo_parse(const char *text, const char *path,
	    struct handoff_mountinfo *mi);
/* The same on /proc/self/mountinfo; -1 when it cannot be read. */
int	handoff_mountinfo_find(const char *path, struct handoff_mountinfo *mi);

#endif

/*
 * Inside the posix store (store-posix.c, mountlock.c, volume.c): the
 * pieces they share. Nothing else includes this; callers use store.h.
 */
#ifndef BL_STORE_POSIX_H
#define BL_STORE_POSIX_H

#include <sys/types.h>

#include <stdint.h>

#include "mountmgr/drive.h"
#include "mountmgr/store-kind.h"

#define STORE_SESSION_ID_MAX	128

/* A posix store: the common part (store-kind.h), then the directory. */
struct posix_store {
	struct store	 st;
	int		 fd;		/* O_PATH|O_DIRECTORY of the store */
};

static inline int
posix_fd(const struct store *s)
{
	return ((const struct posix_store *)(const void *)s)->fd;
}

extern const struct store_ops posix_store_ops;

/* The table's entries that live outside store-posix.c. */
int	posix_drive_mounts(struct store *, const char *name);
int	posix_mount_lock(struct store *, const char *name,
	    const char *session_id, int read_only, int *lockfd, char **cause);
int	posix_mount_dir(struct store *, const char *name, int *fd,
	    char **cause);
int	posix_mount_usage(struct store *, const char *name, int *ufd,
	    uint64_t *capacity, char **cause);
int	posix_drive_usage(struct store *, const char *name, uint64_t *used,
	    uint64_t *held, char **cause);
int	posix_mount_unlock_cleanup(struct store *, const char *name,
	    const char *session_id, char **cause);
int	posix_open_volume(struct store *, const char *name, int read_only,
	    int *imgfd, char **cause);

/* openat2 beneath dirfd, never following a symlink; -1 and errno. */
int	store_openat(int dirfd, const char *path, int flags, mode_t mode);
/* mkdirat 0755, EEXIST is fine; 0 or -errno. */
int	store_mkdirat(int dirfd, const char *name);
/* The rest: 0 or -errno with *cause (store.h). */
int	store_check_name(const char *name, char **cause);
int	store_check_session(const char *sid, char **cause);
/* The drive's lock (locks/<name>.lock), write-locked: close to unlock. */
int	store_lock(struct store *, const char *name, int *lockfd,
	    char **cause);
/* O_PATH fd of drives/<name>, checked to be a directory. */
int	store_drive_dir(struct store *, const char *name, int *dfd,
	    char **cause);
/* drive.json of the drive at dfd, checked whole. */
int	store_load_at(struct store *, const char *name, int dfd,
	    struct drive **out, char **cause);
/*
 * Held mount locks of the drive at dfd (mountlock.c); with reap, stale
 * ones are removed and the holders' sessions added to *busy.
 */
int	store_scan_mounts(int dfd, int reap, char **busy);
/*
 * rm -rf of name in parentfd, never following a symlink nor entering a
 * mount point; 0 or -errno with *cause.
 */
int	store_rmtree(int parentfd, const char *name, char **cause);
/*
 * A volume's new size, under the drive's lock (volume.c): grows the
 * image of the drive at dfd when no mount holds it, then sets d->size.
 */
int	store_update_size(const char *name, int dfd, struct drive *d,
	    uint64_t size, char **cause);

#endif

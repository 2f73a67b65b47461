/*
 * A drive's usage, against its capacity: one small file per drive in the
 * store (drives/<name>/usage), shared by every mount of the drive on
 * every machine, changed only under an OFD write lock on it (which a
 * shared filesystem holds cluster-wide).
 *
 *   used N             bytes of the drive's regular files (each inode
 *                      once), as far as the mounts have told
 *   held SESSION N     bytes a mount has reserved and not used yet
 *
 * A mount takes space in chunks: a write that does not fit what it holds
 * reserves more, and fails with ENOSPC when used plus everything held
 * would pass the capacity. So the files never hold more than the
 * capacity; what a mount holds unused (a chunk at most) is what another
 * mount may find missing, and what a mount killed before it told (its
 * held line stays) is put right by counting the files again when the
 * next mount of the drive starts (usage_recount, under the drive's lock).
 */
#ifndef BL_USAGE_H
#define BL_USAGE_H

#include <stddef.h>
#include <stdint.h>

#define USAGE_FILE		"usage"
#define USAGE_FILE_MAX		(256 * 1024)
#define USAGE_HELD_MAX		1024
#define USAGE_SESSION_MAX	128

struct usage_held {
	char		sid[USAGE_SESSION_MAX + 1];
	uint64_t	bytes;
};

struct usage {
	uint64_t		used;
	size_t			n;
	struct usage_held	held[USAGE_HELD_MAX];
};

/* The write lock on the open file: 0 or -errno (waits). */
int		usage_lock(int fd);
void		usage_unlock(int fd);
/* The whole file, checked (an empty one is "used 0"); 0 or -EIO. */
int		usage_read(int fd, struct usage *);
int		usage_write(int fd, const struct usage *);
/* used plus everything held, saturating. */
uint64_t	usage_total(const struct usage *);
/* sid's held bytes (made 0 when create and absent), or NULL. */
uint64_t	*usage_held(struct usage *, const char *sid, int create);
void		 usage_forget(struct usage *, const char *sid);
/*
 * Bytes of the regular files beneath dirfd, each inode once, never
 * following a symlink; -errno when the walk failed.
 */
int64_t		usage_count_files(int dirfd);

#endif

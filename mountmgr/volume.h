/*
 * Volumes: a drive of kind "volume" is one ext4 image, volume.img, in its
 * directory of the store, attached to a loop device and mounted by the
 * agent itself (no blfs serves it), one mount at a time.
 *
 * The store side (volume.c) makes and grows images with e2fsprogs
 * (mkfs.ext4, e2fsck, resize2fs) and GNU tar for archived templates, run
 * as child processes with an argv, never a shell. The mount side
 * (volume-mount.c) runs in the mount child: a loop device, a detached
 * mount of it, and the subtree to attach.
 *
 * Every call blocks (programs run, the store may be a network file
 * system): never on the agent's loop. 0, or -errno with *cause naming
 * the volume, the step and what the program or the kernel said.
 */
#ifndef BL_VOLUME_H
#define BL_VOLUME_H

#include <stdint.h>

#define VOLUME_IMAGE		"volume.img"

/*
 * Makes VOLUME_IMAGE (0600) in the directory dirfd: a sparse file of
 * size bytes formatted ext4 (4 KiB blocks, no blocks kept for root),
 * seeded from template when it is not NULL: a directory, or a tar
 * archive (.tar, compressed with gzip, zstd, xz or bzip2 or not: tar
 * tells) unpacked into a directory in dirfd first, then removed. Owners,
 * modes and times in the template are kept; an owner is its number,
 * never a name looked up on this machine. On failure the image and the
 * unpacked files are removed again.
 */
int	volume_image_create(int dirfd, const char *drive, uint64_t size,
	    const char *template, char **cause);

/*
 * Grows the image in the directory dirfd from its size to size bytes:
 * the file system is checked read-only first (e2fsck -f -n, which
 * resize2fs demands; nothing is repaired behind anyone's back), then the
 * file is extended and resize2fs fills it. -EINVAL for a smaller size
 * (the cause says both), 0 for the same size, -EIO when the check finds
 * damage (nothing changed) or resize2fs fails (the file may stay longer
 * than its file system, which is harmless; growing again finishes).
 */
int	volume_image_grow(int dirfd, const char *drive, uint64_t size,
	    char **cause);

/* What volume_attach made: close treefd to drop an unattached mount. */
struct volume_attach_out {
	int	 treefd;	/* detached mount of the subtree to attach */
	int	 loopfd;	/* the loop device, O_RDONLY */
	int	 loop;		/* its number: /dev/loopN */
};

/*
 * In the mount child: checks imgfd holds an ext4 superblock, attaches it
 * to a free loop device (LOOP_CONFIGURE, autoclear, read-only when asked,
 * direct I/O where the store allows it), makes a detached mount of it
 * (fsmount: nosuid, nodev, ro when asked) and clones the subtree at path
 * (beneath the volume's root, no symlink followed) for the agent to
 * attach with move_mount. *code is the RPC error code on failure:
 * EIO for a damaged image, EBUSY when no loop device is free, ENOENT,
 * ENOTDIR or ELOOP for the path.
 */
int	volume_attach(int imgfd, int read_only, const char *drive,
	    const char *path, struct volume_attach_out *out,
	    const char **code, char **cause);

/*
 * The backing file of loop device N (sysfs), for re-adopting a volume
 * after a restart; NULL when it has none or cannot be read.
 */
char	*volume_loop_backing(unsigned loop);

#endif

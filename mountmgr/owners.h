/*
 * How the store keeps owners. blfs holds no capability, so every file
 * and directory it makes in a drive's data/ is uid 0's, with a mode only
 * it uses, and what the workload sees of it, owner, group and mode (and
 * for a symlink, FIFO, socket or device node, which are regular files
 * underneath, the type) is kept in one extended attribute, OWNERS_XATTR,
 * as "uid gid mode": decimal, decimal, octal; a device node adds its
 * number, "uid gid mode major:minor". blfs(8), STORE FORMAT.
 */
#ifndef BL_OWNERS_H
#define BL_OWNERS_H

#include <sys/types.h>

#include <stddef.h>

#define OWNERS_XATTR		"user.blfs.attr"
#define OWNERS_PREFIX		"user.blfs."
#define OWNERS_FILE_MODE	0600	/* every backing file blfs makes */
#define OWNERS_DIR_MODE		0700	/* every backing directory */
/*
 * Longest value written or accepted:
 * "4294967294 4294967294 177777 4095:1048575" (41).
 */
#define OWNERS_VALUE_MAX	48
/*
 * The largest device numbers: what the kernel's dev_t holds, and FUSE
 * carries (12 bits of major, 20 of minor).
 */
#define OWNERS_MAJOR_MAX	0xfffU
#define OWNERS_MINOR_MAX	0xfffffU

struct owners {
	uid_t	 uid;
	gid_t	 gid;
	mode_t	 mode;		/* type and permission bits presented */
	dev_t	 rdev;		/* a device node's number, else 0 */
};

/* user.blfs.*: never shown to, nor set by, the workload. */
int	owners_reserved(const char *name);
/*
 * 0 and *o from value v of a file of type btype, or -1: not a value we
 * write (ids must be below (uid_t)-1, the mode's type btype's own or, for
 * a regular file, a symlink, FIFO, socket or device node; a device
 * number only for a device node, which without one is 0:0).
 */
int	owners_parse(const char *v, size_t len, mode_t btype,
	    struct owners *o);
/*
 * The value's length, or -1 and errno: ERANGE if size is too small,
 * EOVERFLOW if a device number is out of range.
 */
int	owners_format(const struct owners *, char *buf, size_t size);
/* The mode blfs gives backing files of this type. */
mode_t	owners_backing_mode(mode_t type);

/*
 * blctl drive adopt: walk a drive's data/ (datafd, O_PATH) and give every
 * file placed there from outside the form blfs makes: its owner, group
 * and mode into the attribute, the backing file to uid 0 and the fixed
 * mode; a symlink, FIFO, socket or device node becomes a regular file
 * standing for it. Files already in that form are left alone. 0, or
 * -errno with *cause naming the file.
 */
struct owners_adopted {
	unsigned long	 files;		/* regular files given the form */
	unsigned long	 dirs;		/* directories given the form */
	unsigned long	 converted;	/* symlinks, FIFOs, sockets, devices */
	unsigned long	 kept;		/* already in the form */
	unsigned long	 skipped;	/* of a type Linux does not have */
};
int	owners_adopt(int datafd, struct owners_adopted *, char **cause);

#endif

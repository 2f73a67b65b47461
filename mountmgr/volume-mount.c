/*
 * The mount side of a volume, in the mount child: the image onto a loop
 * device, a detached mount of it, the subtree the agent attaches.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/fs.h>
#include <linux/loop.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/paths.h"
#include "mountmgr/volume.h"

/* Other agents take free loop devices too: ask again this many times. */
#define VOLUME_LOOP_TRIES	16

/* ext4's superblock: 1024 bytes in, magic at 56 (little-endian). */
#define EXT4_SB_OFFSET		1024
#define EXT4_SB_MAGIC_AT	56
#define EXT4_SB_MAGIC		0xEF53

static int
volume_is_ext4(int imgfd)
{
	unsigned char b[2];

	if (pread(imgfd, b, sizeof(b), EXT4_SB_OFFSET + EXT4_SB_MAGIC_AT) !=
	    (ssize_t)sizeof(b))
		return 0;
	return (b[0] | b[1] << 8) == EXT4_SB_MAGIC;
}

/*
 * The loop device reads ahead as much as the disk under the image does:
 * its own default (a few hundred KiB) halves a cold sequential read
 * against the same file read natively from a disk set up to read ahead
 * megabytes. Best effort: a store on no block device keeps the default.
 */
static void
volume_loop_readahead(int imgfd, int loopfd)
{
	/* The disk's queue, or a partition's parent's. */
	static const char *const where[] = { "", "/.." };
	struct stat st;
	char path[96], buf[32];
	unsigned long kb, cur;
	ssize_t n;
	int fd;

	if (fstat(imgfd, &st) == -1 || major(st.st_dev) == 0)
		return;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u%s/queue/"
		    "read_ahead_kb", major(st.st_dev), minor(st.st_dev),
		    where[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return;
		buf[n] = '\0';
		kb = strtoul(buf, NULL, 10);
		/* BLKRAGET and BLKRASET count 512-byte sectors. */
		if (ioctl(loopfd, BLKRAGET, &cur) == 0 && kb * 2 > cur)
			(void)ioctl(loopfd, BLKRASET, kb * 2);
		return;
	}
}

/*
 * Attaches imgfd to a free loop device; its fd (O_RDONLY or O_RDWR as
 * the mount) and number, or -1 with errno.
 */
static int
volume_loop_attach(int imgfd, int read_only, int *loop)
{
	struct loop_config lc;
	char dev[32];
	int ctl, fd = -1, n, direct = 1;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	for (int i = 0; i < VOLUME_LOOP_TRIES; i++) {
		if ((n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		fd = open(dev, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd == -1)
			break;
		memset(&lc, 0, sizeof(lc));
		lc.fd = (uint32_t)imgfd;
		lc.block_size = 4096;
		/* Gone with its last user: nothing stays attached. Direct
		 * I/O keeps the image out of the page cache a second time
		 * (the volume's own cache is the one that counts). */
		lc.info.lo_flags = LO_FLAGS_AUTOCLEAR |
		    (read_only ? LO_FLAGS_READ_ONLY : 0) |
		    (direct ? LO_FLAGS_DIRECT_IO : 0);
		if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) {
			close(ctl);
			volume_loop_readahead(imgfd, fd);
			*loop = n;
			return fd;
		}
		close(fd);
		fd = -1;
		if (errno == EINVAL && direct) {
			/* The store's file system has no direct I/O. */
			direct = 0;
			i--;
			continue;
		}
		if (errno != EBUSY)	/* taken by someone else meanwhile */
			break;
	}
	n = errno;
	close(ctl);
	errno = n == 0 ? EBUSY : n;
	return -1;
}

/* The kernel's words from a file system context, joined. */
static char *
volume_fs_messages(int fsfd)
{
	char buf[512], *all = xstrdup("");
	ssize_t n;

	while ((n = read(fsfd, buf, sizeof(buf) - 1)) > 0) {
		char *more;

		buf[n] = '\0';
		xasprintf(&more, "%s%s%s", all, *all ? "; " : "",
		    n > 2 && buf[1] == ' ' ? buf + 2 : buf);
		free(all);
		all = more;
	}
	return all;
}

int
volume_attach(int imgfd, int read_only, const char *drive, const char *path,
    struct volume_attach_out *out, const char **code, char **cause)
{
	char dev[32], *said;
	int loopfd, fsfd = -1, mntfd = -1, subfd = -1, treefd, e;
	enum paths_result pr;

	out->treefd = out->loopfd = out->loop = -1;
	if (!volume_is_ext4(imgfd)) {
		*code = "EIO";
		return cause_fail(cause, -EIO, "volume %s: %s holds no ext4 "
		    "file system (damaged or never made); it was left as it "
		    "is", drive, VOLUME_IMAGE);
	}
	if ((loopfd = volume_loop_attach(imgfd, read_only, &out->loop)) ==
	    -1) {
		e = errno;
		/* None to be had here: busy, none left, or no device node. */
		*code = e == EBUSY || e == ENOSPC || e == ENODEV || e == ENXIO ||
		    e == ENOENT ? "EBUSY" : "EIO";
		return cause_fail(cause, -e, "volume %s: no free loop device "
		    "to attach it to (%s)", drive, strerror(e));
	}
	snprintf(dev, sizeof(dev), "/dev/loop%d", out->loop);
	if ((fsfd = fsopen("ext4", FSOPEN_CLOEXEC)) == -1 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "source", dev, 0) == -1 ||
	    (read_only && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL,
	    0) == -1) ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1) {
		e = errno;
		said = fsfd != -1 ? volume_fs_messages(fsfd) : xstrdup("");
		*code = "EIO";
		cause_fail(cause, -EIO, "volume %s: the kernel would not mount "
		    "it as ext4: %s%s%s (a damaged file system is left for "
		    "e2fsck, never checked behind your back)", drive,
		    strerror(e), *said ? ": " : "", said);
		free(said);
		goto fail;
	}
	mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0));
	if (mntfd == -1) {
		e = errno;
		*code = "EIO";
		cause_fail(cause, -EIO, "volume %s: fsmount: %s", drive,
		    strerror(e));
		goto fail;
	}
	close(fsfd);
	fsfd = -1;
	if (path == NULL || strcmp(path, "/") == 0) {
		treefd = mntfd;
		mntfd = -1;
	} else {
		char *why = NULL;

		pr = paths_open_beneath(mntfd, path, &subfd, &why);
		if (pr != PATHS_OK) {
			e = paths_result_errno(pr);
			*code = e == ENOENT ? "ENOENT" : e == ENOTDIR ?
			    "ENOTDIR" : e == ELOOP ? "ELOOP" : "EACCES";
			cause_fail(cause, -e, "volume %s: %s", drive, why);
			free(why);
			goto fail;
		}
		treefd = open_tree(subfd, "", OPEN_TREE_CLONE |
		    OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (treefd == -1) {
			e = errno;
			*code = "EIO";
			cause_fail(cause, -e, "volume %s: cloning %s of it: %s",
			    drive, path, strerror(e));
			goto fail;
		}
		close(subfd);
		close(mntfd);
		mntfd = -1;
	}
	out->treefd = treefd;
	out->loopfd = loopfd;
	return 0;
fail:
	if (subfd != -1)
		close(subfd);
	if (mntfd != -1)
		close(mntfd);
	if (fsfd != -1)
		close(fsfd);
	close(loopfd);		/* autoclear: the device lets go */
	out->loop = -1;
	return -EIO;
}

char *
volume_loop_backing(unsigned loop)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/loop%u/loop/backing_file",
	    loop);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return xstrdup(buf);
}

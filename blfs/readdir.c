/*
 * Directories: open, list (READDIR and READDIRPLUS), release, fsync. A
 * listing shows each name with the type the workload sees (meta.c), and
 * READDIRPLUS what a lookup of each name would.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/* An open directory: the kernel serialises nothing for us here. */
struct readdir_dir {
	pthread_mutex_t	 lock;
	DIR		*dp;		/* guarded by lock */
	off_t		 offset;	/* guarded by lock; of entry */
	struct dirent	*entry;		/* guarded by lock; read, not sent */
};

void
readdir_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blfs_inode *in = inode_get(ino);
	struct readdir_dir *d;
	int fd, dfd, r, err;

	if (in->type != S_IFDIR) {
		ops_reply_err(req, ENOTDIR);
		return;
	}
	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	/* "." of a verified directory fd: no name to swap, no /proc. */
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	inode_fd_put(in);
	if (dfd == -1) {
		ops_reply_err(req, err);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	if ((d->dp = fdopendir(dfd)) == NULL) {
		err = errno;
		close(dfd);
		free(d);
		ops_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	/*
	 * On a local store the kernel may keep a listing and serve the next
	 * readdir of the directory from memory. It drops it when the
	 * directory changes through this mount, or when its attributes,
	 * asked for again after the attribute timeout, show another mtime:
	 * a name added elsewhere shows in listings within that timeout
	 * (CACHING in blfs.8). Not with --cache-size 0.
	 */
	if (blfs_cfg.keep_cache && blfs_cfg.local_store) {
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	if (fuse_reply_open(req, fi) != 0) {
		closedir(d->dp);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
}

static int
readdir_is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/*
 * The presented type of a backing regular file of a listing: a symlink,
 * FIFO, socket or device made through blfs is one (meta.c). On a drive
 * mounted nowhere else the owners cache may know it is none of those
 * (acache.c); if it cannot yet, a stat and read teach it, so the next
 * listing, even one after the kernel dropped every cache, reads nothing.
 * Otherwise the attribute alone.
 */
static mode_t
readdir_type(int dfd, const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	switch (share_active() ? -1 : acache_reg(dev, ino)) {
	case 1:
		return S_IFREG;
	case 0:
		if (meta_stat_at(dfd, name, &st) == 0)
			return st.st_mode & S_IFMT;
		return S_IFREG;
	}
	return meta_type_at(dfd, name);
}

static void
readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi, int plus)
{
	struct readdir_dir *d = (struct readdir_dir *)(uintptr_t)fi->fh;
	struct blfs_inode *parent = inode_get(ino), *in;
	struct blfs_inode **learned = NULL;
	size_t nlearned = 0, caplearned = 0, rem = size, entsize, i;
	struct fuse_entry_param e;
	struct stat st;
	struct dirent *ent;
	char *buf, *p;
	off_t next;
	int err = 0;

	if ((buf = calloc(1, size)) == NULL) {
		ops_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	pthread_mutex_lock(&d->lock);
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	for (;;) {
		if (d->entry == NULL) {
			errno = 0;
			if ((d->entry = readdir(d->dp)) == NULL) {
				err = errno;
				break;
			}
		}
		ent = d->entry;
		next = ent->d_off;
		in = NULL;
		if (plus && !readdir_is_dot(ent->d_name)) {
			if ((err = -meta_stat_at(dirfd(d->dp), ent->d_name,
			    &st)) != 0) {
				if (err != ENOENT)
					break;
				err = 0;
				/* Removed since it was listed: skip it. */
				d->entry = NULL;
				d->offset = next;
				continue;
			}
			in = inode_learn(parent, ent->d_name, &st, -1);
			share_watch(in);
			ops_fill_entry(&e, in, &st);
			entsize = fuse_add_direntry_plus(req, p, rem,
			    ent->d_name, &e, next);
		} else {
			memset(&st, 0, sizeof(st));
			st.st_ino = ent->d_ino;
			st.st_mode = (mode_t)DTTOIF(ent->d_type);
			/* A regular backing file may stand for a symlink. */
			if (ent->d_type == DT_REG)
				st.st_mode = readdir_type(dirfd(d->dp),
				    ent->d_name, parent->dev, ent->d_ino);
			if (plus) {
				/* Node id 0: the kernel does not link it. */
				memset(&e, 0, sizeof(e));
				e.attr = st;
				entsize = fuse_add_direntry_plus(req, p, rem,
				    ent->d_name, &e, next);
			} else
				entsize = fuse_add_direntry(req, p, rem,
				    ent->d_name, &st, next);
		}
		if (entsize > rem) {
			if (in != NULL)
				inode_forget(in, 1);
			break;	/* full: this entry goes in the next call */
		}
		if (in != NULL) {
			if (nlearned == caplearned) {
				caplearned = caplearned ? caplearned * 2 : 64;
				learned = xreallocarray(learned, caplearned,
				    sizeof(*learned));
			}
			learned[nlearned++] = in;
		}
		p += entsize;
		rem -= entsize;
		d->entry = NULL;
		d->offset = next;
	}
	pthread_mutex_unlock(&d->lock);

	if (err != 0 && rem == size)
		ops_reply_err(req, err);
	else if (fuse_reply_buf(req, buf, size - rem) != 0) {
		/* Not delivered: the kernel holds none of these lookups. */
		for (i = 0; i < nlearned; i++)
			inode_forget(learned[i], 1);
	}
	free(learned);
	free(buf);
}

void
readdir_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 0);
}

void
readdir_plus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 1);
}

void
readdir_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct readdir_dir *d = (struct readdir_dir *)(uintptr_t)fi->fh;

	lock_release(d);
	closedir(d->dp);
	pthread_mutex_destroy(&d->lock);
	free(d);
	ops_reply_err(req, 0);
}

void
readdir_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct readdir_dir *d = (struct readdir_dir *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp), r;

	r = datasync ? fdatasync(fd) : fsync(fd);
	ops_reply_err(req, r == -1 ? errno : 0);
}

int
readdir_fd(const struct fuse_file_info *fi)
{
	struct readdir_dir *d = (struct readdir_dir *)(uintptr_t)fi->fh;

	return dirfd(d->dp);
}

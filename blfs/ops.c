/*
 * The FUSE low-level operations: each one ends in exactly one fuse_reply_*.
 * Every file is reached relative to a verified directory fd with symlinks
 * never followed, so nothing outside the root fd can ever be served.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/*
 * The open backing fd of a handle, file or directory, and the handle
 * itself (lock.c keys locks by it); -EBADF for anything else.
 */
int
ops_handle_fd(fuse_ino_t ino, const struct fuse_file_info *fi,
    const void **via)
{
	struct blfs_inode *in = inode_get(ino);

	*via = (const void *)(uintptr_t)fi->fh;
	if (in->type == S_IFREG)
		return ((struct blfs_file *)(uintptr_t)fi->fh)->fd;
	if (in->type == S_IFDIR)
		return readdir_fd(fi);
	return -EBADF;
}

static struct blfs_file *
ops_file(const struct fuse_file_info *fi)
{
	return (struct blfs_file *)(uintptr_t)fi->fh;
}

static int
ops_fh_fd(const struct fuse_file_info *fi)
{
	return ops_file(fi)->fd;
}

/*
 * Every error reply. The kernel checked the caller's permissions before
 * asking, so EACCES can only come from the store refusing blfs itself: a
 * file placed there from outside, of another owner or with a mode that
 * shuts uid 0 out (blfs has no capability to pass). Say once per server
 * what to do about it; the caller sees EACCES as it would anyway.
 */
void
ops_reply_err(fuse_req_t req, int err)
{
	static int said;

	if (err == EACCES && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		log_warnx("the store refused blfs access to a file "
		    "(EACCES): files placed in a drive from outside, "
		    "owned by another user, need blctl drive adopt "
		    "(blfs(8), STORE FORMAT)");
	fuse_reply_err(req, err);
}

/*
 * The kernel sends single names, but a name is the one thing that could
 * walk a *at call out of its directory: check anyway.
 */
static int
ops_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len > NAME_MAX)
		return ENAMETOOLONG;
	if (len == 0 || strchr(name, '/') != NULL)
		return EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return EINVAL;
	return 0;
}

/* --read-only is refused here, whatever flags the kernel mount has. */
int
ops_refuse_ro(fuse_req_t req)
{
	if (!blfs_cfg.read_only)
		return 0;
	ops_reply_err(req, EROFS);
	return 1;
}

static int
ops_stat(struct blfs_inode *in, struct stat *st)
{
	int fd, r;

	if ((r = inode_fd(in, &fd)) != 0)
		return r;
	r = meta_stat_fd(fd, 1, st);
	inode_fd_put(in);
	return r;
}

void
ops_fill_entry(struct fuse_entry_param *e, struct blfs_inode *in,
    const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = inode_id(in);
	e->attr = *st;
	e->attr_timeout = blfs_cfg.attr_timeout;
	e->entry_timeout = blfs_cfg.entry_timeout;
}

/*
 * Tell the kernel about parent/name. If the reply does not arrive (the
 * request was interrupted) the kernel holds no lookup: take it back.
 */
static void
ops_reply_entry(fuse_req_t req, struct blfs_inode *parent, const char *name,
    const struct stat *st, int fd)
{
	struct fuse_entry_param e;
	struct blfs_inode *in;

	in = inode_learn(parent, name, st, fd);
	share_watch(in);
	ops_fill_entry(&e, in, st);
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(in, 1);
}

/*
 * Owner, group and mode of a file the caller is making in directory pfd,
 * as the kernel would give them on a local filesystem: the caller's fsuid
 * and fsgid, or the directory's group under a set-group-id directory,
 * which new directories inherit too. The kernel has already applied the
 * umask and dropped a set-group-id bit the caller may not set.
 */
static void
ops_new_meta(fuse_req_t req, int pfd, mode_t type, mode_t want,
    struct owners *m)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat pst;

	m->uid = ctx->uid;
	m->gid = ctx->gid;
	m->mode = type | (want & 07777);
	m->rdev = 0;
	if (meta_stat_fd(pfd, 1, &pst) == 0 && (pst.st_mode & S_ISGID)) {
		m->gid = pst.st_gid;
		if (type == S_IFDIR)
			m->mode |= S_ISGID;
	}
}

/*
 * A write, truncate or O_TRUNC open by a caller without CAP_FSETID drops
 * set-user-id, and set-group-id if the group may execute, as on any
 * filesystem. The kernel says when (devio.c: HANDLE_KILLPRIV_V2). The
 * bits live in the attribute; a file without one keeps them on the
 * backing file, where the backing filesystem drops them itself, blfs
 * having no CAP_FSETID either.
 */
static void
ops_kill_setid(int fd, int is_opath)
{
	struct owners m;
	mode_t nm;

	if (!devio_kill_suidgid() ||
	    meta_get(fd, is_opath, S_IFREG, &m) != 0)
		return;
	nm = m.mode & ~S_ISUID;
	if (m.mode & S_IXGRP)
		nm &= ~S_ISGID;
	if (nm == m.mode)
		return;
	m.mode = nm;
	if (meta_write(fd, is_opath, &m) != 0)
		log_warn("clearing set-id bits");
}

/* linkat(AT_EMPTY_PATH) may work without a capability; atomic. */
static int ops_empty_link = 1;

/*
 * The file of fd, which blfs opened itself (an O_TMPFILE, an O_PATH fd
 * of the cache), linked as dfd/name; 0, or -1 and errno. Since Linux 6.10
 * linkat(fd, "", AT_EMPTY_PATH) needs no capability for a file the
 * caller opened with its own credentials, which is all it ever gets here
 * (it opened every one beneath the root fd); before, it needs
 * CAP_DAC_READ_SEARCH, which blfs must never have (that is what lets
 * handle-based opens through), and answers ENOENT: then the magic link
 * of fd, which leads to exactly its inode, symlinks included, at the
 * cost of a walk through /proc.
 */
static int
ops_link_fd(int fd, int dfd, const char *name)
{
	struct proc_fd_path pp;
	int tried;

	tried = __atomic_load_n(&ops_empty_link, __ATOMIC_RELAXED);
	if (tried) {
		if (linkat(fd, "", dfd, name, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
	}
	if (linkat(AT_FDCWD, proc_fd_path(&pp, fd, NULL), dfd, name,
	    AT_SYMLINK_FOLLOW) == -1)
		return -1;
	/* ENOENT was the kernel refusing the empty path: ask no more. */
	if (tried)
		__atomic_store_n(&ops_empty_link, 0, __ATOMIC_RELAXED);
	return 0;
}

/*
 * A new backing regular file at pfd/name, its attribute (and content, for
 * a symlink) in place before the name appears, so no other server ever
 * sees it half made: an unnamed O_TMPFILE, linked in (ops_link_fd). A
 * store without O_TMPFILE gets an O_EXCL create with the attribute right
 * after. *fdp: the file, open read-write with the extra flags.
 */
static int
ops_new_file(int pfd, const char *name, int extra,
    const struct owners *m, const char *content, int *fdp)
{
	size_t len;
	int fd, r, tmp = 1;

	extra &= O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_NOATIME;
	fd = openat(pfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC | extra,
	    OWNERS_FILE_MODE);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR ||
	    errno == EINVAL)) {
		tmp = 0;
		fd = openat(pfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR |
		    O_CLOEXEC | extra, OWNERS_FILE_MODE);
	}
	if (fd == -1)
		return -errno;
	if (content != NULL) {
		len = strlen(content);
		if (pwrite(fd, content, len, 0) != (ssize_t)len) {
			r = errno != 0 ? -errno : -EIO;
			goto fail;
		}
	}
	if ((r = meta_set(fd, 0, m)) != 0)
		goto fail;
	if (tmp && ops_link_fd(fd, pfd, name) == -1) {
		r = -errno;
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	if (!tmp)
		unlinkat(pfd, name, 0);
	return r;
}

/*
 * A new backing directory: mkdir, then its attribute through an O_PATH fd
 * of what is there, checked to be the directory we made (ours, as blfs
 * makes everything as its own uid) so nothing swapped in between is
 * touched. Until the attribute lands, another server sees a directory of
 * uid 0 that only blfs may enter: it shows nothing of anybody's.
 */
static int
ops_new_dir(int pfd, const char *name, const struct owners *m, int *fdp)
{
	struct stat st;
	int fd, r;

	if (mkdirat(pfd, name, OWNERS_DIR_MODE) == -1)
		return -errno;
	fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid()) {
		/* Replaced within microseconds by another server. */
		close(fd);
		return -ESTALE;
	}
	if ((r = meta_set(fd, 1, m)) != 0) {
		close(fd);
		unlinkat(pfd, name, AT_REMOVEDIR);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Flags for the backing open of a regular file. */
static int
ops_open_flags(int flags)
{
	/*
	 * The kernel resolved the name and did creation through create();
	 * O_DIRECT would only add alignment rules the kernel does not
	 * check for us; O_NOFOLLOW would refuse /proc/self/fd reopens.
	 */
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | O_DIRECT);
	/*
	 * With the writeback cache the kernel may read pages of a file
	 * opened write-only, and it works out append offsets itself.
	 */
	if (blfs_cfg.writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags | O_CLOEXEC;
}

static void
ops_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Splice file pages straight into the FUSE device on reads. */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	/*
	 * Symlinks never change in place (a new target is a new inode), so
	 * the kernel may keep their targets in its page cache.
	 */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/*
	 * libfuse already asks for: async reads, parallel lookups and
	 * readdirs in one directory, readdirplus on the kernel's judgement
	 * (auto), atomic O_TRUNC, async direct I/O and auto_inval_data
	 * (cached pages dropped when the size or mtime seen changes, which
	 * is what makes keep_cache safe enough across sandboxes).
	 * Locks: no getlk/setlk/flock ops, so the kernel keeps flock and
	 * fcntl locks itself: they hold between processes on this mount.
	 */
	if (blfs_cfg.writeback && !blfs_cfg.read_only &&
	    (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * Requests as large as both sides allow (1 MiB): fewer round trips.
	 * max_read must equal the mount's max_read option or libfuse
	 * refuses INIT; the agent sets it from the same --buffer-size.
	 */
	if (blfs_cfg.max_request < conn->max_write)
		conn->max_write = blfs_cfg.max_request;
	conn->max_read = blfs_cfg.max_read_set ? blfs_cfg.max_request : 0;
	/*
	 * Readahead is capped by what the kernel offered (the bdi's
	 * read_ahead_kb); --prefetch may only lower it.
	 */
	if (blfs_cfg.readahead < conn->max_readahead)
		conn->max_readahead = blfs_cfg.readahead;
	/*
	 * Room for many requests in flight (readahead, writeback, async
	 * direct I/O) before the kernel throttles writers.
	 */
	conn->max_background = 64;
	conn->congestion_threshold = 48;

	/*
	 * The kernel holds every request on this mount until the INIT reply,
	 * which libfuse sends as soon as we return: the mount is usable now.
	 */
	if (blfs_cfg.status_fd != -1)
		(void)write_full(blfs_cfg.status_fd, "ready\n", 6);
	log_info("serving (max_write %u, readahead %u, writeback %s)",
	    conn->max_write, conn->max_readahead,
	    (conn->want & FUSE_CAP_WRITEBACK_CACHE) ? "on" : "off");
}

static void
ops_lookup(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	struct blfs_inode *parent = inode_get(pino);
	struct fuse_entry_param e;
	struct stat st;
	int pfd, r, err;

	if ((err = ops_name_ok(name)) != 0) {
		ops_reply_err(req, err == EINVAL ? ENOENT : err);
		return;
	}
	if ((r = inode_fd(parent, &pfd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	r = meta_stat_at(pfd, name, &st);
	err = -r;
	inode_fd_put(parent);
	if (r != 0) {
		if (err == ENOENT && blfs_cfg.negative_timeout > 0) {
			/* A negative entry: the kernel caches the absence. */
			stats_reply(-ENOENT, 0);
			memset(&e, 0, sizeof(e));
			e.entry_timeout = blfs_cfg.negative_timeout;
			fuse_reply_entry(req, &e);
		} else
			ops_reply_err(req, err);
		return;
	}
	ops_reply_entry(req, parent, name, &st, -1);
}

static void
ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_forget(inode_get(ino), nlookup);
	fuse_reply_none(req);
}

static void
ops_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		inode_forget(inode_get(forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blfs_inode *in = inode_get(ino);
	struct stat st;
	int r;

	if (fi != NULL && in->type == S_IFREG)
		r = meta_stat_fd(ops_fh_fd(fi), 0, &st);
	else
		r = ops_stat(in, &st);
	if (r != 0)
		ops_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, blfs_cfg.attr_timeout);
}

/*
 * ftruncate of an open regular file. On a drive with a capacity growth
 * is taken first and shrinking given back (quota.c).
 */
static int
ops_ftruncate(int tfd, off_t size)
{
	uint64_t grow, shrink;
	int r;

	quota_resize(tfd, (uint64_t)size, &grow, &shrink);
	if ((r = quota_charge(grow)) != 0)
		return r;
	if (ftruncate(tfd, size) == -1) {
		r = -errno;
		quota_credit(grow);
		return r;
	}
	ops_kill_setid(tfd, 0);
	quota_credit(shrink);
	return 0;
}

static int
ops_truncate(struct blfs_inode *in, int fd, off_t size)
{
	struct proc_fd_path pp;
	int tfd, r;

	if (in->type == S_IFDIR)
		return -EISDIR;
	if (in->type != S_IFREG)
		return -EINVAL;
	/* A regular file, checked: reopening its O_PATH fd is safe. */
	tfd = open(proc_fd_path(&pp, fd, NULL), O_WRONLY | O_CLOEXEC);
	if (tfd == -1)
		return -errno;
	r = ops_ftruncate(tfd, size);
	close(tfd);
	return r;
}

/*
 * The new owner, group and mode of a setattr the kernel has allowed
 * (default_permissions: it checked chown and chmod rules against the
 * attributes we gave it). A change of owner or group drops set-user-id,
 * and set-group-id if the group may execute, from anything but a
 * directory, whoever asks: the kernel leaves that to us under
 * HANDLE_KILLPRIV_V2, as Linux does it on local filesystems.
 */
static void
ops_setattr_meta(const struct stat *cur, const struct stat *attr, int valid,
    struct owners *m)
{
	m->uid = cur->st_uid;
	m->gid = cur->st_gid;
	m->mode = cur->st_mode;
	m->rdev = cur->st_rdev;
	if (valid & FUSE_SET_ATTR_UID)
		m->uid = attr->st_uid;
	if (valid & FUSE_SET_ATTR_GID)
		m->gid = attr->st_gid;
	if ((valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
	    !S_ISDIR(m->mode)) {
		m->mode &= ~S_ISUID;
		if (m->mode & S_IXGRP)
			m->mode &= ~S_ISGID;
	}
	if (valid & FUSE_SET_ATTR_MODE)
		m->mode = (m->mode & S_IFMT) | (attr->st_mode & 07777);
}

static void
ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	struct blfs_inode *in = inode_get(ino);
	struct owners m;
	struct timespec ts[2];
	struct stat st;
	int fd, ffd = -1, r;

	if (ops_refuse_ro(req))
		return;
	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	if (fi != NULL && in->type == S_IFREG)
		ffd = ops_fh_fd(fi);

	if (valid & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
	    FUSE_SET_ATTR_GID)) {
		/* Linux has no mode on symlinks. */
		if ((valid & FUSE_SET_ATTR_MODE) && in->type == S_IFLNK) {
			r = -EOPNOTSUPP;
			goto out;
		}
		if ((r = meta_stat_fd(fd, 1, &st)) != 0)
			goto out;
		ops_setattr_meta(&st, attr, valid, &m);
		if ((r = meta_write(fd, 1, &m)) != 0)
			goto out;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (ffd != -1)
			r = ops_ftruncate(ffd, attr->st_size);
		else
			r = ops_truncate(in, fd, attr->st_size);
		if (r != 0)
			goto out;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1] = ts[0];
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		if (utimensat(fd, "", ts,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1) {
			r = -errno;
			goto out;
		}
	}
	r = meta_stat_fd(fd, 1, &st);
out:
	inode_fd_put(in);
	if (r != 0)
		ops_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, blfs_cfg.attr_timeout);
}

/*
 * The target of a symlink: the content of the backing regular file blfs
 * made for it, or of a real symlink placed in the store from outside.
 */
static ssize_t
ops_readlink_fd(int fd, char *buf, size_t size)
{
	struct proc_fd_path pp;
	struct stat st;
	ssize_t n;
	int rfd, err;

	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISLNK(st.st_mode))
		return readlinkat(fd, "", buf, size);
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	/* A regular file, checked: reopening its O_PATH fd is safe. */
	rfd = open(proc_fd_path(&pp, fd, NULL), O_RDONLY | O_CLOEXEC);
	if (rfd == -1)
		return -1;
	n = pread(rfd, buf, size, 0);
	err = errno;
	close(rfd);
	if (n > 0 && memchr(buf, '\0', (size_t)n) != NULL) {
		err = EIO;	/* no target holds a NUL */
		n = -1;
	}
	errno = err;
	return n;
}

static void
ops_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct blfs_inode *in = inode_get(ino);
	char buf[PATH_MAX + 1];
	ssize_t n;
	int fd, r;

	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	n = ops_readlink_fd(fd, buf, sizeof(buf));
	r = errno;
	inode_fd_put(in);
	if (n == -1)
		ops_reply_err(req, r);
	else if ((size_t)n >= sizeof(buf))
		ops_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/*
 * mkdir, mknod and symlink. A symlink, FIFO, socket or device node is a
 * backing regular file with its type (and a device's number) in the
 * attribute (meta.c): the kernel keeps FIFOs and sockets on the mount
 * itself and never asks blfs to open one, and refuses to open a device
 * node on a nodev mount, which every blfs mount is: such a node is an
 * inert entry, never a way to a device through the shared store.
 */
static void
ops_make(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode,
    dev_t rdev, const char *target)
{
	struct blfs_inode *parent = inode_get(pino);
	struct owners m;
	struct stat st;
	mode_t type = mode & S_IFMT;
	uint64_t charged;
	int pfd, fd, r, err;

	if (ops_refuse_ro(req))
		return;
	if ((err = ops_name_ok(name)) != 0) {
		ops_reply_err(req, err);
		return;
	}
	if (type == 0)
		type = S_IFREG;
	if ((r = inode_fd(parent, &pfd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	ops_new_meta(req, pfd, type, mode, &m);
	if (type == S_IFCHR || type == S_IFBLK)
		m.rdev = rdev;
	/* A symlink's target is the content of the file standing for it. */
	charged = target != NULL ? strlen(target) : 0;
	if ((r = quota_charge(charged)) == 0) {
		if (type == S_IFDIR)
			r = ops_new_dir(pfd, name, &m, &fd);
		else
			r = ops_new_file(pfd, name, 0, &m, target, &fd);
		if (r != 0)
			quota_credit(charged);
	}
	inode_fd_put(parent);
	if (r == 0 && fstat(fd, &st) == -1) {
		r = -errno;
		close(fd);
	}
	if (r != 0) {
		ops_reply_err(req, -r);
		return;
	}
	acache_put(&st, &m);
	meta_present(&st, &m);
	/* A directory's O_PATH fd goes to the cache; a file's open fd not. */
	if (type != S_IFDIR) {
		close(fd);
		fd = -1;
	}
	ops_reply_entry(req, parent, name, &st, fd);
}

static void
ops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	if ((mode & S_IFMT) == S_IFDIR || (mode & S_IFMT) == S_IFLNK) {
		ops_reply_err(req, EINVAL);
		return;
	}
	ops_make(req, parent, name, mode, rdev, NULL);
}

static void
ops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	ops_make(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL);
}

static void
ops_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	ops_make(req, parent, name, S_IFLNK | 0777, 0, target);
}

static void
ops_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t npino,
    const char *newname)
{
	struct blfs_inode *in = inode_get(ino), *np = inode_get(npino);
	struct stat st;
	int fd, npfd, r, err;

	if (ops_refuse_ro(req))
		return;
	if ((err = ops_name_ok(newname)) != 0) {
		ops_reply_err(req, err);
		return;
	}
	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	if ((r = inode_fd(np, &npfd)) != 0) {
		inode_fd_put(in);
		ops_reply_err(req, -r);
		return;
	}
	r = ops_link_fd(fd, npfd, newname);
	err = errno;
	if (r == 0)
		r = meta_stat_fd(fd, 1, &st);
	else
		r = -err;
	inode_fd_put(np);
	inode_fd_put(in);
	if (r != 0)
		ops_reply_err(req, -r);
	else
		ops_reply_entry(req, np, newname, &st, -1);
}

static void
ops_remove(fuse_req_t req, fuse_ino_t pino, const char *name, int flags)
{
	struct blfs_inode *parent = inode_get(pino);
	uint64_t freed;
	int pfd, r, err;

	if (ops_refuse_ro(req))
		return;
	if ((err = ops_name_ok(name)) != 0) {
		ops_reply_err(req, err);
		return;
	}
	if ((r = inode_fd(parent, &pfd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	freed = quota_size_at(pfd, name);
	r = unlinkat(pfd, name, flags);
	err = errno;
	inode_fd_put(parent);
	if (r == 0)
		quota_credit(freed);
	ops_reply_err(req, r == -1 ? err : 0);
}

static void
ops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ops_remove(req, parent, name, 0);
}

static void
ops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ops_remove(req, parent, name, AT_REMOVEDIR);
}

/*
 * RENAME_NOREPLACE on a store whose filesystem refuses the flag (a
 * GlusterFS or bindfs client: EINVAL): the new name is checked, then a
 * plain rename made. Another machine making that name in between would
 * see it replaced; nothing on this machine can, since the kernel holds
 * both directories locked for the rename. (Linking under the new name
 * and unlinking the old would close that gap, but a path-based FUSE
 * store then loses track of the file.) -1 and errno, as renameat2.
 */
static int
ops_rename_noreplace(int pfd, const char *name, int npfd, const char *newname)
{
	struct stat st;

	if (fstatat(npfd, newname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(pfd, name, npfd, newname);
}

static void
ops_rename(fuse_req_t req, fuse_ino_t pino, const char *name,
    fuse_ino_t npino, const char *newname, unsigned int flags)
{
	struct blfs_inode *p = inode_get(pino), *np = inode_get(npino);
	struct stat st;
	uint64_t freed;
	int pfd, npfd, r, err;

	if (ops_refuse_ro(req))
		return;
	if ((err = ops_name_ok(name)) != 0 ||
	    (err = ops_name_ok(newname)) != 0) {
		ops_reply_err(req, err);
		return;
	}
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		/* RENAME_WHITEOUT: overlayfs' business, never ours. */
		ops_reply_err(req, EINVAL);
		return;
	}
	if ((r = inode_fd(p, &pfd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	if ((r = inode_fd(np, &npfd)) != 0) {
		inode_fd_put(p);
		ops_reply_err(req, -r);
		return;
	}
	/* A file the rename replaces is gone: its bytes come back. */
	freed = (flags & RENAME_EXCHANGE) ? 0 : quota_size_at(npfd, newname);
	r = renameat2(pfd, name, npfd, newname, flags);
	err = errno;
	if (r == -1 && err == EINVAL && flags == RENAME_NOREPLACE) {
		r = ops_rename_noreplace(pfd, name, npfd, newname);
		err = errno;
	}
	if (r == 0) {
		quota_credit(freed);
		/* Keep the names we resolve by in step with the tree. */
		if (meta_stat_at(npfd, newname, &st) == 0)
			inode_relabel(np, newname, &st);
		if ((flags & RENAME_EXCHANGE) &&
		    meta_stat_at(pfd, name, &st) == 0)
			inode_relabel(p, name, &st);
	}
	inode_fd_put(np);
	inode_fd_put(p);
	ops_reply_err(req, r == -1 ? err : 0);
}

/*
 * Keep cached pages across opens (keep): a reread costs nothing. On a
 * local store, changes made through another mount of the drive drop
 * them when they happen (share.c); on one that is not, they are checked
 * at open (ops_revalidate).
 */
static void
ops_set_open_flags(struct fuse_file_info *fi, int accmode, int keep)
{
	fi->keep_cache = keep;
	/*
	 * FLUSH, a round trip at every close(2), is what lets go of the
	 * closing owner's fcntl locks at once (lock.c), and on a store that
	 * is not local what reports delayed write errors. Where neither can
	 * matter it is skipped: a read-only handle on any store, and every
	 * handle on a local store, as long as this mount has taken no lock
	 * and shares the drive with no other mount (a third of the cost of
	 * making an empty file). A handle opened before the mount's first
	 * lock lets go of that lock when it is released, a moment after
	 * the last close.
	 */
	if (lock_used() || share_active())
		fi->noflush = 0;
	else if (accmode == O_RDONLY || blfs_cfg.local_store)
		fi->noflush = 1;
}

/*
 * Close-to-open on a store that is not local (another machine may write
 * the file, and nothing tells us): an open sees the data and size of the
 * last close anywhere. If the backing file's size, mtime or ctime moved
 * since the kernel was last told, its attributes are dropped now (from
 * within OPEN: attributes only, no page is locked) and its pages at open
 * (keep_cache off). Returns whether the pages may be kept.
 */
static int
ops_revalidate(fuse_ino_t ino, struct blfs_inode *in, int fd)
{
	struct stat st;

	if (blfs_cfg.local_store)
		return blfs_cfg.keep_cache;
	if (fstat(fd, &st) == -1)
		return 0;
	if (!inode_restamp(in, &st))
		return blfs_cfg.keep_cache;
	(void)fuse_lowlevel_notify_inval_inode(blfs_cfg.se, ino, -1, 0);
	return 0;
}

/*
 * Whether a new handle keeps the pages, and the reply marked for
 * passthrough to backing id (-1: none). With passthrough on, a handle
 * that is not passed through drops the pages at open: the kernel's page
 * cache of the file is not kept up to date by writes passed through
 * (backing.c), which skip it.
 */
static int
ops_keep(fuse_ino_t ino, struct blfs_inode *in, int fd, int id)
{
	devio_reply_backing(id);
	if (backing_enabled())
		return 0;
	return ops_revalidate(ino, in, fd);
}

/* A handle for fi->fh. */
static uint64_t
ops_new_fh(struct blfs_inode *in, int fd)
{
	return (uint64_t)(uintptr_t)inode_file_add(in, fd);
}

static void
ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blfs_inode *in = inode_get(ino);
	struct proc_fd_path pp;
	uint64_t freed;
	int fd, ofd, r, err;

	if (blfs_cfg.read_only &&
	    ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))) {
		ops_reply_err(req, EROFS);
		return;
	}
	if (in->type != S_IFREG) {
		ops_reply_err(req, in->type == S_IFDIR ? EISDIR : ENXIO);
		return;
	}
	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	/* What O_TRUNC gives back of a drive's capacity. */
	freed = (fi->flags & O_TRUNC) ? quota_growth_from(fd, 0) : 0;
	/* A regular file, checked: reopening its O_PATH fd is safe. */
	ofd = open(proc_fd_path(&pp, fd, NULL), ops_open_flags(fi->flags));
	err = errno;
	inode_fd_put(in);
	if (ofd == -1) {
		ops_reply_err(req, err);
		return;
	}
	quota_credit(freed);
	if (fi->flags & O_TRUNC)
		ops_kill_setid(ofd, 0);
	fi->fh = ops_new_fh(in, ofd);
	ops_set_open_flags(fi, fi->flags & O_ACCMODE, ops_keep(ino, in, ofd,
	    backing_open(ops_file(fi))));
	if (fuse_reply_open(req, fi) != 0)
		inode_file_close(ops_file(fi));
}

/*
 * An O_CREAT open of a regular file. The file the kernel asked for is
 * new, or, if another server made the name since the kernel looked and
 * O_EXCL was not asked, the regular file now there.
 */
static int
ops_create_existing(int pfd, const char *name, int flags, struct stat *st)
{
	int fd;

	/* Not blocking on a FIFO placed in the store from outside. */
	fd = openat(pfd, name, flags | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -errno;
	if (meta_stat_fd(fd, 0, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EEXIST;
	}
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK & ~O_ACCMODE);
	return fd;
}

static void
ops_create(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct blfs_inode *parent = inode_get(pino), *in;
	struct fuse_entry_param e;
	struct owners m;
	struct stat st;
	uint64_t freed;
	int pfd, fd = -1, flags, r;

	if (ops_refuse_ro(req))
		return;
	if ((r = ops_name_ok(name)) != 0) {
		ops_reply_err(req, r);
		return;
	}
	if ((r = inode_fd(parent, &pfd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	flags = ops_open_flags(fi->flags);
	ops_new_meta(req, pfd, S_IFREG, mode, &m);
	r = ops_new_file(pfd, name, flags, &m, NULL, &fd);
	if (r == 0) {
		if (fstat(fd, &st) == -1) {
			r = -errno;
			close(fd);
		} else {
			/* Its owners as made: a lookup needs no read. */
			acache_put(&st, &m);
			meta_present(&st, &m);
		}
	} else if (r == -EEXIST && !(fi->flags & O_EXCL)) {
		freed = (fi->flags & O_TRUNC) ? quota_size_at(pfd, name) : 0;
		if ((fd = ops_create_existing(pfd, name, flags, &st)) < 0)
			r = fd;
		else {
			r = 0;
			quota_credit(freed);
			if (fi->flags & O_TRUNC)
				ops_kill_setid(fd, 0);
		}
	}
	inode_fd_put(parent);
	if (r != 0) {
		ops_reply_err(req, -r);
		return;
	}

	in = inode_learn(parent, name, &st, -1);
	ops_fill_entry(&e, in, &st);
	fi->fh = ops_new_fh(in, fd);
	ops_set_open_flags(fi, fi->flags & O_ACCMODE, ops_keep(inode_id(in),
	    in, fd, backing_open(ops_file(fi))));
	if (fuse_reply_create(req, &e, fi) != 0) {
		inode_file_close(ops_file(fi));
		inode_forget(in, 1);
	}
}

static void
ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	/* libfuse splices from the fd when the kernel allows. */
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = ops_fh_fd(fi);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void
ops_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf,
    off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in_buf));
	uint64_t grow;
	size_t len;
	ssize_t n;
	int r;

	if (ops_refuse_ro(req))
		return;
	/*
	 * A drive with a capacity: what the write grows the file by is
	 * taken first (an append grows it by all of it, wherever the end
	 * is now), and what a short write did not use is given back.
	 */
	len = fuse_buf_size(in_buf);
	grow = (fi->flags & O_APPEND) ? (quota_active() ? len : 0) :
	    quota_growth(ops_fh_fd(fi), (uint64_t)off + len);
	if ((r = quota_charge(grow)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = ops_fh_fd(fi);
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, in_buf, 0);
	if (n < 0) {
		quota_credit(grow);
		ops_reply_err(req, (int)-n);
		return;
	}
	if ((size_t)n < len)
		quota_credit(grow > len - (size_t)n ? len - (size_t)n : grow);
	ops_kill_setid(ops_fh_fd(fi), 0);
	ops_file(fi)->wrote = 1;
	stats_written((size_t)n);
	fuse_reply_write(req, (size_t)n);
}

static void
ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd, err = 0;

	/* The owner closed the file: its fcntl locks go (lock.c). */
	lock_flush(inode_get(ino), fi->lock_owner);
	/*
	 * On a local store there is nothing to report (main.c). ENOSYS
	 * would spare every later FLUSH on this mount, but locks would then
	 * outlive the close that should end them: only with the writeback
	 * cache, which sends FLUSH whatever the handle asked, and only
	 * while this mount has taken no lock and is the drive's only one.
	 */
	if (blfs_cfg.local_store) {
		ops_reply_err(req, blfs_cfg.writeback && !lock_used() &&
		    !share_active() ? ENOSYS : 0);
		return;
	}
	/*
	 * close(2) of a duplicate reports delayed write errors (network
	 * filesystems) without giving up the handle.
	 */
	fd = dup(ops_fh_fd(fi));
	if (fd != -1 && close(fd) == -1)
		err = errno;
	ops_reply_err(req, err);
}

static void
ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blfs_file *f = ops_file(fi);
	struct stat st;

	/* Our own writes are no reason to drop the pages at next open. */
	if (f->wrote && !blfs_cfg.local_store && fstat(f->fd, &st) == 0)
		(void)inode_restamp(f->in, &st);
	lock_release(f);
	inode_file_close(f);
	ops_reply_err(req, 0);
}

static void
ops_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	int fd = ops_fh_fd(fi), r;

	r = datasync ? fdatasync(fd) : fsync(fd);
	ops_reply_err(req, r == -1 ? errno : 0);
}

static void
ops_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct blfs_inode *in = inode_get(ino);
	struct statvfs sv;
	int fd, r, err;

	if ((r = inode_fd(in, &fd)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	r = fstatvfs(fd, &sv);
	err = errno;
	inode_fd_put(in);
	if (r == -1)
		ops_reply_err(req, err);
	else {
		quota_statfs(&sv);	/* a disk of the drive's capacity */
		fuse_reply_statfs(req, &sv);
	}
}

static void
ops_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
    off_t length, struct fuse_file_info *fi)
{
	uint64_t grow = 0;
	int fd = ops_fh_fd(fi), r;

	if (ops_refuse_ro(req))
		return;
	if (quota_active() && offset >= 0 && length > 0) {
		grow = quota_growth(fd, (uint64_t)offset + (uint64_t)length);
		/*
		 * Space past the end that the size does not show would be
		 * space the capacity (the files' sizes) never counts.
		 */
		if (grow != 0 && (mode & FALLOC_FL_KEEP_SIZE)) {
			ops_reply_err(req, EOPNOTSUPP);
			return;
		}
		if ((r = quota_charge(grow)) != 0) {
			ops_reply_err(req, -r);
			return;
		}
	}
	r = fallocate(fd, mode, offset, length);
	if (r == -1)
		quota_credit(grow);
	ops_reply_err(req, r == -1 ? errno : 0);
}

static void
ops_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
    struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
    struct fuse_file_info *fi_out, size_t len, int flags)
{
	uint64_t grow = 0, used;
	ssize_t n;
	int r;

	if (ops_refuse_ro(req))
		return;
	if (off_out >= 0 && (grow = quota_growth(ops_fh_fd(fi_out),
	    (uint64_t)off_out + len)) != 0 && (r = quota_charge(grow)) != 0) {
		ops_reply_err(req, -r);
		return;
	}
	n = copy_file_range(ops_fh_fd(fi_in), &off_in, ops_fh_fd(fi_out),
	    &off_out, len, (unsigned int)flags);
	/* A short copy grew the file less than was taken. */
	used = n <= 0 ? 0 : grow - (grow > len - (size_t)n ?
	    len - (size_t)n : grow);
	quota_credit(grow - used);
	if (n == -1)
		ops_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
ops_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
    struct fuse_file_info *fi)
{
	off_t r;

	r = lseek(ops_fh_fd(fi), off, whence);
	if (r == -1)
		ops_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

const struct fuse_lowlevel_ops blfs_ops = {
	.init = ops_init,
	.lookup = ops_lookup,
	.forget = ops_forget,
	.forget_multi = ops_forget_multi,
	.getattr = ops_getattr,
	.setattr = ops_setattr,
	.readlink = ops_readlink,
	.mknod = ops_mknod,
	.mkdir = ops_mkdir,
	.symlink = ops_symlink,
	.link = ops_link,
	.unlink = ops_unlink,
	.rmdir = ops_rmdir,
	.rename = ops_rename,
	.open = ops_open,
	.create = ops_create,
	.read = ops_read,
	.write_buf = ops_write_buf,
	.flush = ops_flush,
	.release = ops_release,
	.fsync = ops_fsync,
	.opendir = readdir_open,
	.readdir = readdir_read,
	.readdirplus = readdir_plus,
	.releasedir = readdir_release,
	.fsyncdir = readdir_fsync,
	.statfs = ops_statfs,
	.getxattr = xattr_get,
	.listxattr = xattr_list,
	.setxattr = xattr_set,
	.removexattr = xattr_remove,
	.fallocate = ops_fallocate,
	.copy_file_range = ops_copy_file_range,
	.lseek = ops_lseek,
	.getlk = lock_op_getlk,
	.setlk = lock_op_setlk,
	.flock = lock_op_flock,
};

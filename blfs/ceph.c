/*
 * blfs on a ceph store: the FUSE low-level operations mapped onto
 * libcephfs's ceph_ll_* calls, one hop, no kernel or ceph-fuse mount of
 * CephFS anywhere. Ceph keeps owners, groups and modes itself (no
 * user.blfs.attr); every request runs with the caller's uid and gid, so
 * what Ceph creates is theirs and what it refuses is refused.
 *
 * Coherence is Ceph's: its capabilities tell this client when another
 * one changed a file or a name, through the callbacks libcephfs calls,
 * and those are passed on to the kernel (notify_inval_*) from a thread
 * of their own, never from libcephfs's thread: the kernel may wait on
 * requests that wait on libcephfs.
 *
 * Inodes: the kernel's node id is Ceph's inode number (the served root
 * is FUSE_ROOT_ID), mapped to libcephfs's Inode handle; each lookup the
 * kernel counts holds one libcephfs reference, given back at forget.
 */
#include "config.h"

#ifdef HAVE_LIBCEPHFS

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"
#include "blfs/ceph.h"
#include "mountmgr/cephlib.h"


#define CEPH_NODE_BUCKETS	4096	/* grows never: a chain per bucket */
#define CEPH_INVAL_MAX		4096	/* queued invalidations, then drops */
#define CEPH_WANT		CEPH_STATX_BASIC_STATS

struct ceph_node {
	uint64_t	 ino;		/* the kernel's node id */
	Inode		*in;
	uint64_t	 nlookup;
	struct ceph_node *next;
};

/* One invalidation libcephfs asked for, queued for the notifier. */
struct ceph_inval {
	uint64_t	 ino;		/* node id */
	uint64_t	 parent;	/* dentry: node id of the directory */
	char		*name;		/* dentry: its name, else NULL */
	int64_t		 off, len;	/* inode: the range (len 0: attrs) */
};

static struct {
	struct ceph_mount_info	*cm;
	Inode			*root;
	uint64_t		 root_ino;	/* Ceph's number of the root */
	pthread_mutex_t		 lock;		/* nodes */
	struct ceph_node	*nodes[CEPH_NODE_BUCKETS];

	pthread_mutex_t		 qlock;		/* the queue */
	pthread_cond_t		 qcond;
	struct ceph_inval	 q[CEPH_INVAL_MAX];
	size_t			 qhead, qlen;
	int			 stopping;
	pthread_t		 notifier;
	int			 notifier_started;
} cs = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.qlock = PTHREAD_MUTEX_INITIALIZER,
	.qcond = PTHREAD_COND_INITIALIZER,
};

/* ---- node ids and handles -------------------------------------------- */

static uint64_t
ceph_node_id(uint64_t cino)
{
	return cino == cs.root_ino ? FUSE_ROOT_ID : cino;
}

static struct ceph_node **
ceph_bucket(uint64_t ino)
{
	return &cs.nodes[(ino * 0x9E3779B97F4A7C15ULL) >> 52 &
	    (CEPH_NODE_BUCKETS - 1)];
}

/* The handle of a node the kernel knows, or NULL. */
static Inode *
ceph_inode(fuse_ino_t ino)
{
	struct ceph_node *n;
	Inode *in = NULL;

	if (ino == FUSE_ROOT_ID)
		return cs.root;
	pthread_mutex_lock(&cs.lock);
	for (n = *ceph_bucket(ino); n != NULL; n = n->next)
		if (n->ino == ino) {
			in = n->in;
			break;
		}
	pthread_mutex_unlock(&cs.lock);
	return in;
}

/*
 * The kernel is told of in (holding one libcephfs reference) under ino:
 * one more lookup it will forget. A node already known keeps its handle
 * and the new reference goes back to libcephfs at once.
 */
static void
ceph_remember(uint64_t ino, Inode *in)
{
	struct ceph_node **b, *n;

	if (ino == FUSE_ROOT_ID) {
		ceph_ll_put(cs.cm, in);	/* the root is held for good */
		return;
	}
	pthread_mutex_lock(&cs.lock);
	b = ceph_bucket(ino);
	for (n = *b; n != NULL; n = n->next)
		if (n->ino == ino)
			break;
	if (n == NULL) {
		n = xcalloc(1, sizeof(*n));
		n->ino = ino;
		n->in = in;
		n->next = *b;
		*b = n;
		in = NULL;
	}
	n->nlookup++;
	pthread_mutex_unlock(&cs.lock);
	if (in != NULL)
		ceph_ll_put(cs.cm, in);
}

static void
ceph_forget_one(fuse_ino_t ino, uint64_t count)
{
	struct ceph_node **p, *n;
	Inode *in = NULL;

	if (ino == FUSE_ROOT_ID)
		return;
	pthread_mutex_lock(&cs.lock);
	for (p = ceph_bucket(ino); (n = *p) != NULL; p = &n->next) {
		if (n->ino != ino)
			continue;
		n->nlookup = count >= n->nlookup ? 0 : n->nlookup - count;
		if (n->nlookup == 0) {
			*p = n->next;
			in = n->in;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&cs.lock);
	if (in != NULL)
		ceph_ll_put(cs.cm, in);
}

/* ---- requests -------------------------------------------------------- */

/* The caller, as Ceph checks and records it. */
static UserPerm *
ceph_perms(fuse_req_t req)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);

	return ceph_userperm_new(c->uid, c->gid, 0, NULL);
}

static void
ceph_to_stat(const struct ceph_statx *x, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ceph_node_id(x->stx_ino);
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = x->stx_rdev;
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim = x->stx_atime;
	st->st_mtim = x->stx_mtime;
	st->st_ctim = x->stx_ctime;
}

static void
ceph_reply_entry(fuse_req_t req, Inode *in, const struct ceph_statx *x)
{
	struct fuse_entry_param e;
	uint64_t ino = ceph_node_id(x->stx_ino);

	memset(&e, 0, sizeof(e));
	ceph_to_stat(x, &e.attr);
	e.ino = ino;
	e.attr_timeout = blfs_cfg.attr_timeout;
	e.entry_timeout = blfs_cfg.entry_timeout;
	ceph_remember(ino, in);
	if (fuse_reply_entry(req, &e) == -ENOENT)
		ceph_forget_one(ino, 1);	/* the request was interrupted */
}

/* Names the kernel should never see: Ceph's snapshot directory. */
static int
ceph_name_ok(const char *name)
{
	if (strcmp(name, ".snap") == 0)
		return -ENOENT;
	return strlen(name) > 255 ? -ENAMETOOLONG : 0;
}

#define CEPH_GET(req, ino, in) do {					\
	if (((in) = ceph_inode(ino)) == NULL) {				\
		fuse_reply_err((req), ESTALE);				\
		return;							\
	}								\
} while (0)

#define CEPH_WRITABLE(req) do {						\
	if (blfs_cfg.read_only) {					\
		fuse_reply_err((req), EROFS);				\
		return;							\
	}								\
} while (0)

static void
ceph_op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	/* Ceph's locks are the cluster's: every fcntl lock goes to it. */
	if (conn->capable & FUSE_CAP_POSIX_LOCKS)
		conn->want |= FUSE_CAP_POSIX_LOCKS;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (blfs_cfg.max_request < conn->max_write)
		conn->max_write = blfs_cfg.max_request;
	conn->max_read = blfs_cfg.max_read_set ? blfs_cfg.max_request : 0;
	if (blfs_cfg.readahead < conn->max_readahead)
		conn->max_readahead = blfs_cfg.readahead;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	if (blfs_cfg.status_fd != -1)
		(void)write_full(blfs_cfg.status_fd, "ready\n", 6);
	log_info("serving from CephFS (max_write %u)", conn->max_write);
}

static void
ceph_op_lookup(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	struct ceph_statx x;
	Inode *pin, *in = NULL;
	UserPerm *p;
	int r;

	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_lookup(cs.cm, pin, name, &in, &x, CEPH_WANT, 0, p);
	ceph_userperm_destroy(p);
	if (r == -ENOENT && blfs_cfg.negative_timeout > 0) {
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.entry_timeout = blfs_cfg.negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_reply_entry(req, in, &x);
}

static void
ceph_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	ceph_forget_one(ino, n);
	fuse_reply_none(req);
}

static void
ceph_op_forget_multi(fuse_req_t req, size_t count,
    struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		ceph_forget_one(f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

static void
ceph_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ceph_statx x;
	struct stat st;
	Inode *in;
	UserPerm *p;
	int r;

	(void)fi;
	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_getattr(cs.cm, in, &x, CEPH_WANT, 0, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_to_stat(&x, &st);
	fuse_reply_attr(req, &st, blfs_cfg.attr_timeout);
}

static void
ceph_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct ceph_statx x;
	struct stat st;
	struct timespec now;
	Inode *in;
	UserPerm *p;
	int mask = 0, r;

	(void)fi;
	CEPH_WRITABLE(req);
	CEPH_GET(req, ino, in);
	memset(&x, 0, sizeof(x));
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE) {
		x.stx_mode = attr->st_mode;
		mask |= CEPH_SETATTR_MODE;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		x.stx_uid = attr->st_uid;
		mask |= CEPH_SETATTR_UID;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		x.stx_gid = attr->st_gid;
		mask |= CEPH_SETATTR_GID;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		x.stx_size = (uint64_t)attr->st_size;
		mask |= CEPH_SETATTR_SIZE;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		x.stx_atime = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now :
		    attr->st_atim;
		mask |= CEPH_SETATTR_ATIME;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		x.stx_mtime = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now :
		    attr->st_mtim;
		mask |= CEPH_SETATTR_MTIME;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		x.stx_ctime = attr->st_ctim;
		mask |= CEPH_SETATTR_CTIME;
	}
	p = ceph_perms(req);
	r = ceph_ll_setattr(cs.cm, in, &x, mask, p);
	if (r == 0)
		r = ceph_ll_getattr(cs.cm, in, &x, CEPH_WANT, 0, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_to_stat(&x, &st);
	fuse_reply_attr(req, &st, blfs_cfg.attr_timeout);
}

static void
ceph_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[4097];
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_readlink(cs.cm, in, buf, sizeof(buf) - 1, p);
	ceph_userperm_destroy(p);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	buf[r] = '\0';
	fuse_reply_readlink(req, buf);
}

static void
ceph_op_mknod(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode,
    dev_t rdev)
{
	struct ceph_statx x;
	Inode *pin, *in = NULL;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_mknod(cs.cm, pin, name, mode, rdev, &in, &x, CEPH_WANT, 0,
	    p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_reply_entry(req, in, &x);
}

static void
ceph_op_mkdir(fuse_req_t req, fuse_ino_t pino, const char *name, mode_t mode)
{
	struct ceph_statx x;
	Inode *pin, *in = NULL;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_mkdir(cs.cm, pin, name, mode, &in, &x, CEPH_WANT, 0, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_reply_entry(req, in, &x);
}

static void
ceph_op_symlink(fuse_req_t req, const char *target, fuse_ino_t pino,
    const char *name)
{
	struct ceph_statx x;
	Inode *pin, *in = NULL;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_symlink(cs.cm, pin, name, target, &in, &x, CEPH_WANT, 0,
	    p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_reply_entry(req, in, &x);
}

static void
ceph_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t pino,
    const char *name)
{
	struct ceph_statx x;
	Inode *in, *pin, *again = NULL;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, ino, in);
	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_link(cs.cm, in, pin, name, p);
	if (r == 0)
		r = ceph_ll_lookup(cs.cm, pin, name, &again, &x, CEPH_WANT, 0,
		    p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	ceph_reply_entry(req, again, &x);
}

static void
ceph_op_unlink(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	Inode *pin;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	p = ceph_perms(req);
	r = ceph_ll_unlink(cs.cm, pin, name, p);
	ceph_userperm_destroy(p);
	fuse_reply_err(req, -r);
}

static void
ceph_op_rmdir(fuse_req_t req, fuse_ino_t pino, const char *name)
{
	Inode *pin;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	p = ceph_perms(req);
	r = ceph_ll_rmdir(cs.cm, pin, name, p);
	ceph_userperm_destroy(p);
	fuse_reply_err(req, -r);
}

static void
ceph_op_rename(fuse_req_t req, fuse_ino_t pino, const char *name,
    fuse_ino_t npino, const char *newname, unsigned int flags)
{
	Inode *pin, *npin;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	/* Ceph renames one way only: no exchange, no "not if it exists". */
	if (flags != 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	CEPH_GET(req, pino, pin);
	CEPH_GET(req, npino, npin);
	if ((r = ceph_name_ok(newname)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_rename(cs.cm, pin, name, npin, newname, p);
	ceph_userperm_destroy(p);
	fuse_reply_err(req, -r);
}

static int
ceph_open_flags(int flags)
{
	/* What libcephfs takes: the access mode and the few that matter. */
	return flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECT | O_SYNC |
	    O_DSYNC | O_NOATIME);
}

/*
 * An open file: libcephfs's handle, and whether anything was written
 * through it (a close after none has nothing to make Ceph's: creating
 * an empty file pays no fsync).
 */
struct ceph_file {
	struct Fh	*fh;
	int		 written;	/* atomic */
};

static uint64_t
ceph_file_new(struct Fh *fh)
{
	struct ceph_file *f = xcalloc(1, sizeof(*f));

	f->fh = fh;
	return (uint64_t)(uintptr_t)f;
}

static void
ceph_file_close(struct fuse_file_info *fi)
{
	struct ceph_file *f = (struct ceph_file *)(uintptr_t)fi->fh;

	ceph_ll_close(cs.cm, f->fh);
	free(f);
	fi->fh = 0;
}

static void
ceph_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct Fh *fh = NULL;
	Inode *in;
	UserPerm *p;
	int r;

	if (blfs_cfg.read_only && (fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_open(cs.cm, in, ceph_open_flags(fi->flags), &fh, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = ceph_file_new(fh);
	/* Ceph's capabilities drop what another client changed (the
	 * callbacks): the pages may stay between opens. */
	fi->keep_cache = blfs_cfg.keep_cache;
	if (fuse_reply_open(req, fi) == -ENOENT)
		ceph_file_close(fi);
}

static void
ceph_op_create(fuse_req_t req, fuse_ino_t pino, const char *name,
    mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct ceph_statx x;
	struct Fh *fh = NULL;
	Inode *pin, *in = NULL;
	UserPerm *p;
	uint64_t ino;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, pino, pin);
	if ((r = ceph_name_ok(name)) != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	p = ceph_perms(req);
	r = ceph_ll_create(cs.cm, pin, name, mode, ceph_open_flags(fi->flags) |
	    O_CREAT | (fi->flags & O_EXCL), &in, &fh, &x, CEPH_WANT, 0, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	memset(&e, 0, sizeof(e));
	ceph_to_stat(&x, &e.attr);
	ino = e.ino = ceph_node_id(x.stx_ino);
	e.attr_timeout = blfs_cfg.attr_timeout;
	e.entry_timeout = blfs_cfg.entry_timeout;
	fi->fh = ceph_file_new(fh);
	fi->keep_cache = blfs_cfg.keep_cache;
	ceph_remember(ino, in);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		ceph_file_close(fi);
		ceph_forget_one(ino, 1);
	}
}

static struct Fh *
ceph_fh(const struct fuse_file_info *fi)
{
	return ((struct ceph_file *)(uintptr_t)fi->fh)->fh;
}

/* A write went through this open: its close makes it Ceph's. */
static void
ceph_file_wrote(const struct fuse_file_info *fi)
{
	__atomic_store_n(&((struct ceph_file *)(uintptr_t)fi->fh)->written, 1,
	    __ATOMIC_RELAXED);
}

static void
ceph_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	char *buf;
	int r;

	(void)ino;
	if (size > blfs_cfg.max_request)
		size = blfs_cfg.max_request;
	buf = xmalloc(size ? size : 1);
	r = ceph_ll_read(cs.cm, ceph_fh(fi), off, size, buf);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void
ceph_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	int r;

	(void)ino;
	CEPH_WRITABLE(req);
	ceph_file_wrote(fi);
	r = ceph_ll_write(cs.cm, ceph_fh(fi), off, size, buf);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void
ceph_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = 0;

	(void)ino;
	/* Close-to-open: what was written is Ceph's before close returns. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY &&
	    __atomic_load_n(&((struct ceph_file *)(uintptr_t)fi->fh)->written,
	    __ATOMIC_RELAXED))
		r = ceph_ll_fsync(cs.cm, ceph_fh(fi), 1);
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void
ceph_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ceph_file_close(fi);
	fuse_reply_err(req, 0);
}

static void
ceph_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	int r;

	(void)ino;
	r = ceph_ll_fsync(cs.cm, ceph_fh(fi), datasync);
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void
ceph_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
    off_t len, struct fuse_file_info *fi)
{
	int r;

	(void)ino;
	CEPH_WRITABLE(req);
	ceph_file_wrote(fi);
	r = ceph_ll_fallocate(cs.cm, ceph_fh(fi), mode, off, len);
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void
ceph_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ceph_dir_result *d = NULL;
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_opendir(cs.cm, in, &d, p);
	ceph_userperm_destroy(p);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT)
		ceph_ll_releasedir(cs.cm, d);
}

/* The room the longest name takes in a READDIR(PLUS) reply. */
static size_t
ceph_dirent_max(fuse_req_t req, int plus)
{
	struct fuse_entry_param e;
	char longest[256];

	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(&e, 0, sizeof(e));
	return plus ? fuse_add_direntry_plus(req, NULL, 0, longest, &e, 0) :
	    fuse_add_direntry(req, NULL, 0, longest, NULL, 0);
}

/*
 * READDIR and READDIRPLUS: entries from the directory's position off,
 * read only while the longest name would still fit, so that no entry is
 * ever read and then handed back. Seeking back costs libcephfs its
 * cached listing: it drops what it fetched, fetches again from the MDS
 * at every request, and never marks the directory complete, so every
 * listing went to the MDS. The next request starts where this one
 * stopped, which libcephfs takes as no seek at all. An entry's position
 * is its d_off (where libcephfs stands after it): one call per entry,
 * and libcephfs's lock taken once for it.
 */
static void
ceph_readdir_fill(fuse_req_t req, size_t size, off_t off,
    struct fuse_file_info *fi, int plus)
{
	struct ceph_dir_result *d = (struct ceph_dir_result *)(uintptr_t)fi->fh;
	struct fuse_entry_param e;
	struct ceph_statx x;
	struct dirent de;
	struct stat st;
	char *buf = xmalloc(size), *at = buf;
	size_t left = size, n, most = ceph_dirent_max(req, plus);
	int64_t pos;
	Inode *in;
	int r = 0;

	ceph_seekdir(cs.cm, d, off);
	pos = off;
	while (left >= most || at == buf) {
		in = NULL;
		r = ceph_readdirplus_r(cs.cm, d, &de, &x, CEPH_WANT,
		    plus ? 0 : AT_STATX_DONT_SYNC, plus ? &in : NULL);
		if (r <= 0)
			break;
		if (strcmp(de.d_name, ".snap") == 0) {
			if (in != NULL)
				ceph_ll_put(cs.cm, in);
			pos = de.d_off;
			continue;
		}
		ceph_to_stat(&x, &st);
		if (strcmp(de.d_name, ".") == 0 ||
		    strcmp(de.d_name, "..") == 0) {
			/* The kernel counts no lookup for these. */
			if (in != NULL)
				ceph_ll_put(cs.cm, in);
			in = NULL;
		}
		if (plus) {
			memset(&e, 0, sizeof(e));
			e.attr = st;
			if (in != NULL) {
				e.ino = st.st_ino;
				e.attr_timeout = blfs_cfg.attr_timeout;
				e.entry_timeout = blfs_cfg.entry_timeout;
			}
			n = fuse_add_direntry_plus(req, at, left, de.d_name,
			    &e, de.d_off);
		} else
			n = fuse_add_direntry(req, at, left, de.d_name, &st,
			    de.d_off);
		if (n > left) {
			/* Only with a reply smaller than the longest name. */
			if (in != NULL)
				ceph_ll_put(cs.cm, in);
			ceph_seekdir(cs.cm, d, pos);
			break;
		}
		if (in != NULL)
			ceph_remember(st.st_ino, in);
		at += n;
		left -= n;
		pos = de.d_off;
	}
	if (r < 0 && at == buf)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, size - left);
	free(buf);
}

static void
ceph_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)ino;
	ceph_readdir_fill(req, size, off, fi, 0);
}

static void
ceph_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)ino;
	ceph_readdir_fill(req, size, off, fi, 1);
}

static void
ceph_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ceph_ll_releasedir(cs.cm, (struct ceph_dir_result *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void
ceph_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int r;

	(void)ino;
	r = ceph_ll_statfs(cs.cm, cs.root, &sv);
	if (r != 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (blfs_cfg.read_only)
		sv.f_flag |= ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

static void
ceph_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_setxattr(cs.cm, in, name, value, size, flags, p);
	ceph_userperm_destroy(p);
	fuse_reply_err(req, -r);
}

static void
ceph_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    size_t size)
{
	char *buf = NULL;
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_GET(req, ino, in);
	if (size > 0)
		buf = xmalloc(size);
	p = ceph_perms(req);
	r = ceph_ll_getxattr(cs.cm, in, name, buf, size, p);
	ceph_userperm_destroy(p);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void
ceph_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_GET(req, ino, in);
	if (size > 0)
		buf = xmalloc(size);
	p = ceph_perms(req);
	r = ceph_ll_listxattr(cs.cm, in, buf, size, &len, p);
	ceph_userperm_destroy(p);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

static void
ceph_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	Inode *in;
	UserPerm *p;
	int r;

	CEPH_WRITABLE(req);
	CEPH_GET(req, ino, in);
	p = ceph_perms(req);
	r = ceph_ll_removexattr(cs.cm, in, name, p);
	ceph_userperm_destroy(p);
	fuse_reply_err(req, -r);
}

static void
ceph_op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *lock)
{
	int r;

	(void)ino;
	r = ceph_ll_getlk(cs.cm, ceph_fh(fi), lock, fi->lock_owner);
	if (r != 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_lock(req, lock);
}

static void
ceph_op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *lock, int sleep)
{
	int r;

	(void)ino;
	r = ceph_ll_setlk(cs.cm, ceph_fh(fi), lock, fi->lock_owner, sleep);
	fuse_reply_err(req, r < 0 ? -r : 0);
}

const struct fuse_lowlevel_ops blfs_ceph_ops = {
	.init = ceph_op_init,
	.lookup = ceph_op_lookup,
	.forget = ceph_op_forget,
	.forget_multi = ceph_op_forget_multi,
	.getattr = ceph_op_getattr,
	.setattr = ceph_op_setattr,
	.readlink = ceph_op_readlink,
	.mknod = ceph_op_mknod,
	.mkdir = ceph_op_mkdir,
	.symlink = ceph_op_symlink,
	.link = ceph_op_link,
	.unlink = ceph_op_unlink,
	.rmdir = ceph_op_rmdir,
	.rename = ceph_op_rename,
	.open = ceph_op_open,
	.create = ceph_op_create,
	.read = ceph_op_read,
	.write = ceph_op_write,
	.flush = ceph_op_flush,
	.release = ceph_op_release,
	.fsync = ceph_op_fsync,
	.fallocate = ceph_op_fallocate,
	.opendir = ceph_op_opendir,
	.readdir = ceph_op_readdir,
	.readdirplus = ceph_op_readdirplus,
	.releasedir = ceph_op_releasedir,
	.statfs = ceph_op_statfs,
	.setxattr = ceph_op_setxattr,
	.getxattr = ceph_op_getxattr,
	.listxattr = ceph_op_listxattr,
	.removexattr = ceph_op_removexattr,
	.getlk = ceph_op_getlk,
	.setlk = ceph_op_setlk,
};

/* ---- what other clients changed -------------------------------------- */

static void
ceph_queue(const struct ceph_inval *v)
{
	pthread_mutex_lock(&cs.qlock);
	if (cs.qlen < CEPH_INVAL_MAX) {
		cs.q[(cs.qhead + cs.qlen) % CEPH_INVAL_MAX] = *v;
		cs.qlen++;
		pthread_cond_signal(&cs.qcond);
	} else {
		/* Full: this one is lost; the timeouts still bound it. */
		free(v->name);
	}
	pthread_mutex_unlock(&cs.qlock);
}

/* libcephfs: another client changed an inode's data or attributes. */
static void
ceph_cb_ino(void *arg, vinodeno_t vino, int64_t off, int64_t len)
{
	struct ceph_inval v = { .ino = ceph_node_id(vino.ino.val),
	    .off = off, .len = len };

	(void)arg;
	ceph_queue(&v);
}

/* libcephfs: a name in a directory changed. */
static void
ceph_cb_dentry(void *arg, vinodeno_t dirino, vinodeno_t ino,
    const char *name, size_t len)
{
	struct ceph_inval v = { .parent = ceph_node_id(dirino.ino.val) };

	(void)arg;
	(void)ino;
	if (len == 0 || len > 255)
		return;
	v.name = xstrndup(name, len);
	ceph_queue(&v);
}

static void *
ceph_notifier(void *arg)
{
	struct ceph_inval v;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&cs.qlock);
		while (cs.qlen == 0 && !cs.stopping)
			pthread_cond_wait(&cs.qcond, &cs.qlock);
		if (cs.qlen == 0) {
			pthread_mutex_unlock(&cs.qlock);
			return NULL;
		}
		v = cs.q[cs.qhead];
		cs.qhead = (cs.qhead + 1) % CEPH_INVAL_MAX;
		cs.qlen--;
		pthread_mutex_unlock(&cs.qlock);
		if (blfs_cfg.se == NULL) {
			free(v.name);
			continue;
		}
		/* ENOENT: the kernel does not know it; nothing to drop. */
		if (v.name != NULL)
			(void)fuse_lowlevel_notify_inval_entry(blfs_cfg.se,
			    v.parent, v.name, strlen(v.name));
		else
			(void)fuse_lowlevel_notify_inval_inode(blfs_cfg.se,
			    v.ino, v.off, v.len);
		free(v.name);
	}
}

/* ---- the connection --------------------------------------------------- */

int
ceph_attach(const struct blfs_ceph_args *a, char **cause)
{
	static const char *const quiet[] = { "debug_client",
	    "debug_objectcacher", "debug_objecter", "debug_monc",
	    "debug_auth", "debug_ms" };
	struct ceph_client_callback_args cb;
	struct ceph_statx x;
	UserPerm *root;
	char path[64];
	size_t i;
	int r;

	/* Loaded now, never linked: a posix mount's blfs pays nothing. */
	if ((r = cephlib_load_fs(cause)) != 0)
		return r;
	if ((r = ceph_create(&cs.cm, a->id)) != 0)
		return cause_fail(cause, r, "ceph_create (id %s): %s", a->id,
		    strerror(-r));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", a->conf_fd);
	if ((r = ceph_conf_read_file(cs.cm, path)) != 0)
		return cause_fail(cause, r, "reading the Ceph configuration "
		    "(--ceph-conf-fd): %s", strerror(-r));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", a->keyring_fd);
	/*
	 * The keyring by fd, read at mount and never again; no log file, no
	 * admin socket: nothing of Ceph's own lands on this machine's disk.
	 */
	if ((r = ceph_conf_set(cs.cm, "keyring", path)) != 0 ||
	    (r = ceph_conf_set(cs.cm, "log_file", "")) != 0 ||
	    (r = ceph_conf_set(cs.cm, "log_to_file", "false")) != 0 ||
	    (r = ceph_conf_set(cs.cm, "admin_socket", "")) != 0 ||
	    (r = ceph_conf_set(cs.cm, "client_mount_timeout",
	    a->mount_timeout)) != 0)
		return cause_fail(cause, r, "setting Ceph options: %s",
		    strerror(-r));
	/*
	 * Ceph keeps recent debug messages in memory (levels past the
	 * slash), to write out with a crash, into the log file this client
	 * has none of. Formatting them cost more than the listing itself:
	 * a READDIR reads each name with a call that logs.
	 */
	for (i = 0; i < nitems(quiet); i++)
		if ((r = ceph_conf_set(cs.cm, quiet[i], "0/0")) != 0)
			return cause_fail(cause, r, "setting Ceph option %s: "
			    "%s", quiet[i], strerror(-r));
	/*
	 * No object cache in libcephfs: the kernel's page cache is the one
	 * cache (kept by the invalidation callbacks). With it, a read that
	 * wants Fc while Fc is being revoked (another client writes the
	 * file) waits for a wakeup libcephfs 16.2 never sends when the
	 * revoke completes as its readahead drops its last Fc reference:
	 * the reader hung for good, and our invalidation of the kernel's
	 * pages with it (tests/ceph/agent.py, a reader beside a writer).
	 * Without it no Fc reference outlives a call, so a revoke
	 * completes as it arrives.
	 */
	if ((r = ceph_conf_set(cs.cm, "client_oc", "false")) != 0)
		return cause_fail(cause, r, "setting Ceph option client_oc: %s",
		    strerror(-r));
	if ((r = ceph_select_filesystem(cs.cm, a->fs)) != 0)
		return cause_fail(cause, r, "file system %s: %s", a->fs,
		    strerror(-r));
	if ((r = ceph_mount(cs.cm, a->root)) != 0)
		return cause_fail(cause, r, "mounting %s:%s of the Ceph "
		    "cluster as %s: %s", a->fs, a->root, a->id, strerror(-r));
	/* Modes come from the caller, already masked by its umask. */
	(void)ceph_umask(cs.cm, 0);
	if ((r = ceph_ll_lookup_root(cs.cm, &cs.root)) != 0)
		return cause_fail(cause, r, "the root of %s: %s", a->root,
		    strerror(-r));
	root = ceph_mount_perms(cs.cm);
	if ((r = ceph_ll_getattr(cs.cm, cs.root, &x, CEPH_STATX_INO, 0,
	    root)) != 0)
		return cause_fail(cause, r, "the root of %s: %s", a->root,
		    strerror(-r));
	cs.root_ino = x.stx_ino;
	memset(&cb, 0, sizeof(cb));
	cb.ino_cb = ceph_cb_ino;
	cb.dentry_cb = ceph_cb_dentry;
	ceph_ll_register_callbacks(cs.cm, &cb);
	return 0;
}

int
ceph_mon_ports(unsigned *ports, int max)
{
	char buf[4096];
	const char *p;
	int n = 0;

	if (cs.cm == NULL ||
	    ceph_conf_get(cs.cm, "mon_host", buf, sizeof(buf)) != 0)
		return 0;
	/*
	 * "v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0", "[v2:..,v1:..]",
	 * "10.0.0.1:6789 10.0.0.2", "[::1]:3300": a port is the digits after
	 * a ':' that end the address.
	 */
	for (p = buf; (p = strchr(p, ':')) != NULL && n < max; p++) {
		char *end;
		unsigned long v = strtoul(p + 1, &end, 10);

		if (end == p + 1 || v == 0 || v > 65535 ||
		    (*end != '\0' && *end != '/' && *end != ',' &&
		    *end != ']' && *end != ' ' && *end != ';'))
			continue;
		ports[n++] = (unsigned)v;
	}
	return n;
}

int
ceph_start(void)
{
	int r;

	if ((r = pthread_create(&cs.notifier, NULL, ceph_notifier, NULL)) != 0)
		return -r;
	cs.notifier_started = 1;
	return 0;
}

void
ceph_detach(void)
{
	if (cs.notifier_started) {
		pthread_mutex_lock(&cs.qlock);
		cs.stopping = 1;
		pthread_cond_signal(&cs.qcond);
		pthread_mutex_unlock(&cs.qlock);
		pthread_join(cs.notifier, NULL);
	}
	if (cs.cm != NULL) {
		ceph_unmount(cs.cm);
		ceph_release(cs.cm);
		cs.cm = NULL;
	}
}

#endif /* HAVE_LIBCEPHFS */

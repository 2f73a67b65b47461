/*
 * fcntl and flock locks, held on the store: every mount of a drive (on
 * this machine, or on another one sharing the store's filesystem) sees
 * them, as processes of one machine see each other's locks.
 *
 * fcntl (POSIX) locks belong to a lock owner, which the kernel names in
 * each request. Each owner gets its own open file description of the
 * backing file, and its locks are OFD locks on it: owners conflict with
 * each other exactly as processes do, and an owner never conflicts with
 * itself. They go when the owner closes the file (FLUSH names it) or,
 * where the kernel sends no FLUSH (blfs/ops.c turns it off on a local
 * store), when the handle it locked through is released.
 * flock locks belong to the open file: the handle's own backing fd,
 * which is one open file description too.
 *
 * A blocking lock never blocks a worker for good: it is tried again,
 * with a growing pause, until it is granted or the caller is
 * interrupted. Once granted, the file is revalidated: another mount may
 * have written under the lock it held before, and the caller must see
 * that (the way NFS revalidates on lock).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/* Pauses between tries of a blocking lock: 1 ms growing to 50 ms. */
#define LOCK_PAUSE_MIN_NS	1000000L
#define LOCK_PAUSE_MAX_NS	50000000L

/* One lock owner's open file description of one file. */
struct lock_owner {
	struct blfs_inode	*in;		/* immutable */
	uint64_t		 owner;		/* immutable */
	int			 fd;		/* immutable */
	/* The rest is guarded by lk.lock. */
	const void		*via;		/* last handle it locked by */
	unsigned		 refs;		/* requests using fd now */
	int			 held;		/* holds a lock, as far as known */
	pid_t			 pid;		/* who locked last, for F_GETLK */
	int			 gone;		/* off the list, closing */
	TAILQ_ENTRY(lock_owner)	 entry;
};

static struct {
	pthread_mutex_t		 lock;
	TAILQ_HEAD(, lock_owner) owners;	/* guarded by lock */
	int			 used;		/* atomic: any lock taken */
} lk = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.owners = TAILQ_HEAD_INITIALIZER(lk.owners),
};

static struct lock_owner *
lock_find(struct blfs_inode *in, uint64_t owner)
{
	struct lock_owner *o;

	TAILQ_FOREACH(o, &lk.owners, entry)
		if (o->in == in && o->owner == owner)
			return o;
	return NULL;
}

/*
 * The owner's fd, made from the handle's on first use. Read-write where
 * the mount is, so write locks can be taken whatever handle asks later;
 * read-only for a file being executed (ETXTBSY) and on read-only mounts.
 */
static int
lock_owner_get(struct blfs_inode *in, const void *via, int hfd,
    uint64_t owner, struct lock_owner **out)
{
	struct proc_fd_path pp;
	struct lock_owner *o;
	int fd = -1;

	pthread_mutex_lock(&lk.lock);
	if ((o = lock_find(in, owner)) != NULL) {
		o->via = via;
		o->refs++;
		pthread_mutex_unlock(&lk.lock);
		*out = o;
		return 0;
	}
	pthread_mutex_unlock(&lk.lock);

	proc_fd_path(&pp, hfd, NULL);
	if (!blfs_cfg.read_only)
		fd = open(pp.s, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		fd = open(pp.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return -errno;

	pthread_mutex_lock(&lk.lock);
	if ((o = lock_find(in, owner)) == NULL) {
		o = xcalloc(1, sizeof(*o));
		o->in = in;
		o->owner = owner;
		o->fd = fd;
		fd = -1;
		TAILQ_INSERT_TAIL(&lk.owners, o, entry);
	}
	o->via = via;
	o->refs++;
	pthread_mutex_unlock(&lk.lock);
	if (fd != -1)
		close(fd);	/* another request of the owner was first */
	*out = o;
	return 0;
}

/*
 * Off the list, then closed once no request uses it: closing lets go of
 * every lock it holds. Called with lk.lock held.
 */
static void
lock_owner_free(struct lock_owner *o)
{
	if (!o->gone) {
		TAILQ_REMOVE(&lk.owners, o, entry);
		o->gone = 1;
	}
	if (o->refs == 0) {
		close(o->fd);
		free(o);
	}
}

static void
lock_owner_put(struct lock_owner *o)
{
	pthread_mutex_lock(&lk.lock);
	o->refs--;
	if (o->gone)
		lock_owner_free(o);
	pthread_mutex_unlock(&lk.lock);
}

int
lock_used(void)
{
	return __atomic_load_n(&lk.used, __ATOMIC_RELAXED);
}

int
lock_holds(struct blfs_inode *in)
{
	struct lock_owner *o;
	int r = 0;

	if (!lock_used())
		return 0;
	pthread_mutex_lock(&lk.lock);
	TAILQ_FOREACH(o, &lk.owners, entry)
		if (o->in == in && o->held) {
			r = 1;
			break;
		}
	pthread_mutex_unlock(&lk.lock);
	return r;
}

void
lock_flush(struct blfs_inode *in, uint64_t owner)
{
	struct lock_owner *o;

	if (!__atomic_load_n(&lk.used, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&lk.lock);
	if ((o = lock_find(in, owner)) != NULL)
		lock_owner_free(o);
	pthread_mutex_unlock(&lk.lock);
}

void
lock_release(const void *via)
{
	struct lock_owner *o, *next;

	if (!__atomic_load_n(&lk.used, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&lk.lock);
	for (o = TAILQ_FIRST(&lk.owners); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o->via == via)
			lock_owner_free(o);
	}
	pthread_mutex_unlock(&lk.lock);
}

/* Until it is granted, refused for good, or the caller gives up. */
static int
lock_wait(fuse_req_t req, int (*try)(int, void *), int fd, void *arg,
    int sleep)
{
	struct timespec ts = { 0, LOCK_PAUSE_MIN_NS };

	for (;;) {
		if (try(fd, arg) == 0)
			return 0;
		if (!sleep || (errno != EAGAIN && errno != EACCES &&
		    errno != EWOULDBLOCK))
			return -errno;
		if (fuse_req_interrupted(req))
			return -EINTR;
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < LOCK_PAUSE_MAX_NS / 2)
			ts.tv_nsec *= 2;
	}
}

static int
lock_try_fcntl(int fd, void *arg)
{
	return fcntl(fd, F_OFD_SETLK, (struct flock *)arg);
}

static int
lock_try_flock(int fd, void *arg)
{
	return flock(fd, *(int *)arg | LOCK_NB);
}

/* What another mount wrote under its lock is seen under ours. */
static void
lock_granted(fuse_ino_t ino, struct blfs_inode *in, int fd)
{
	struct stat st;

	if (in->type != S_IFREG || fstat(fd, &st) == -1)
		return;
	if (inode_restamp(in, &st) && blfs_cfg.se != NULL)
		(void)fuse_lowlevel_notify_inval_inode(blfs_cfg.se, ino, 0, 0);
}

/*
 * Which process of this mount holds the lock that conflicts with want:
 * an owner whose own fd sees no conflict (its locks never conflict with
 * itself) where the asker's does. 0 for a lock held through another
 * mount: its process is nobody this kernel could name. Called with
 * lk.lock held.
 */
static pid_t
lock_holder(const struct lock_owner *asker, const struct flock *want)
{
	struct lock_owner *o;
	struct flock fl;

	TAILQ_FOREACH(o, &lk.owners, entry) {
		if (o == asker || o->in != asker->in || !o->held)
			continue;
		fl = *want;
		fl.l_pid = 0;
		if (fcntl(o->fd, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_UNLCK)
			return o->pid;
	}
	return 0;
}

int
lock_getlk(struct blfs_inode *in, const void *via, int fd, uint64_t owner,
    struct flock *fl)
{
	struct lock_owner *o;
	struct flock want = *fl;
	int r;

	if ((r = lock_owner_get(in, via, fd, owner, &o)) != 0)
		return r;
	fl->l_pid = 0;
	want.l_pid = 0;
	r = fcntl(o->fd, F_OFD_GETLK, fl) == -1 ? -errno : 0;
	if (r == 0 && fl->l_type != F_UNLCK) {
		pthread_mutex_lock(&lk.lock);
		fl->l_pid = lock_holder(o, &want);
		pthread_mutex_unlock(&lk.lock);
	}
	lock_owner_put(o);
	return r;
}

int
lock_setlk(fuse_req_t req, fuse_ino_t ino, struct blfs_inode *in,
    const void *via, int fd, uint64_t owner, struct flock *fl, int sleep)
{
	struct lock_owner *o;
	int r;

	if (fl->l_type == F_UNLCK) {
		pthread_mutex_lock(&lk.lock);
		o = lock_find(in, owner);
		r = o == NULL || fcntl(o->fd, F_OFD_SETLK, fl) == 0 ? 0 :
		    -errno;
		/* A partial unlock may leave some held: say held. */
		if (r == 0 && o != NULL && fl->l_whence == SEEK_SET &&
		    fl->l_start == 0 && fl->l_len == 0)
			o->held = 0;
		pthread_mutex_unlock(&lk.lock);
		return r;
	}
	__atomic_store_n(&lk.used, 1, __ATOMIC_RELAXED);
	if ((r = lock_owner_get(in, via, fd, owner, &o)) != 0)
		return r;
	pthread_mutex_lock(&lk.lock);
	o->pid = fl->l_pid;	/* the caller, as the kernel names it */
	pthread_mutex_unlock(&lk.lock);
	fl->l_pid = 0;	/* OFD locks want it so */
	r = lock_wait(req, lock_try_fcntl, o->fd, fl, sleep);
	if (r == 0) {
		pthread_mutex_lock(&lk.lock);
		o->held = 1;
		pthread_mutex_unlock(&lk.lock);
	}
	lock_owner_put(o);
	if (r != 0)
		return r;
	lock_granted(ino, in, fd);
	return 0;
}

static void
lock_reply(fuse_req_t req, int r)
{
	fuse_reply_err(req, -r);
}

void
lock_op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *fl)
{
	const void *via;
	int fd, r;

	if ((fd = ops_handle_fd(ino, fi, &via)) < 0)
		r = fd;
	else
		r = lock_getlk(inode_get(ino), via, fd, fi->lock_owner, fl);
	if (r != 0)
		lock_reply(req, r);
	else
		fuse_reply_lock(req, fl);
}

void
lock_op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *fl, int sleep)
{
	const void *via;
	int fd;

	if ((fd = ops_handle_fd(ino, fi, &via)) < 0)
		lock_reply(req, fd);
	else
		lock_reply(req, lock_setlk(req, ino, inode_get(ino), via, fd,
		    fi->lock_owner, fl, sleep));
}

void
lock_op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    int op)
{
	const void *via;
	int fd;

	if ((fd = ops_handle_fd(ino, fi, &via)) < 0)
		lock_reply(req, fd);
	else
		lock_reply(req, lock_flock(req, ino, inode_get(ino), fd, op));
}

int
lock_flock(fuse_req_t req, fuse_ino_t ino, struct blfs_inode *in, int fd,
    int op)
{
	int how = op & ~LOCK_NB, r;

	if (how == LOCK_UN)
		return flock(fd, LOCK_UN) == -1 ? -errno : 0;
	if ((r = lock_wait(req, lock_try_flock, fd, &how,
	    !(op & LOCK_NB))) != 0)
		return r;
	lock_granted(ino, in, fd);
	return 0;
}

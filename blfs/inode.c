/*
 * The inode table: every file the kernel knows, keyed by (dev, ino), and
 * a bounded LRU cache of O_PATH fds so that blfs never holds one fd per
 * inode (the kernel may know millions; RLIMIT_NOFILE allows 20000).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/*
 * A parent chain deeper than this is either a pathological tree or a
 * cycle left by stale names (two directories moved under each other by
 * another server): both get ESTALE rather than an endless walk.
 */
#define INODE_MAX_DEPTH 4096

TAILQ_HEAD(inode_lru, blfs_inode);

/*
 * One lock guards the whole table: hash chains, counts, parent and name
 * links and the fd cache. Every critical section is a few pointer moves
 * (plus close(2) of an evicted O_PATH fd, which never blocks); the
 * openat/fstat of a resolution run unlocked.
 */
static struct {
	pthread_mutex_t	  lock;
	struct blfs_inode root;		/* immutable; its fd is never evicted */
	struct blfs_inode **buckets;	/* guarded by lock */
	size_t		  nbuckets;	/* guarded by lock; a power of two */
	size_t		  count;	/* guarded by lock; hashed inodes */
	struct inode_lru  lru;		/* guarded by lock; most recent first */
	size_t		  nfds;		/* guarded by lock; fds on lru */
	size_t		  max_fds;	/* immutable after init */
	/* inotify watches: open addressing on wd, guarded by lock. */
	struct blfs_inode **wds;
	size_t		  nwds;		/* slots, a power of two, or 0 */
	size_t		  wcount;	/* used slots */
} itab = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t
inode_wd_slot(int wd)
{
	return ((size_t)(unsigned)wd * 0x9e3779b1u) & (itab.nwds - 1);
}

/* The slot of wd, or of the empty slot where it would go. */
static size_t
inode_wd_find(int wd)
{
	size_t i = inode_wd_slot(wd);

	while (itab.wds[i] != NULL && itab.wds[i]->wd != wd)
		i = (i + 1) & (itab.nwds - 1);
	return i;
}

static void
inode_wd_insert(struct blfs_inode *in)
{
	struct blfs_inode **old = itab.wds;
	size_t n = itab.nwds, i;

	if (2 * (itab.wcount + 1) > itab.nwds) {
		itab.nwds = n == 0 ? 64 : n * 2;
		itab.wds = xcalloc(itab.nwds, sizeof(*itab.wds));
		for (i = 0; i < n; i++)
			if (old[i] != NULL)
				itab.wds[inode_wd_find(old[i]->wd)] = old[i];
		free(old);
	}
	itab.wds[inode_wd_find(in->wd)] = in;
	itab.wcount++;
}

/* Off the map, shifting back what probed past it; in->wd stays. */
static void
inode_wd_remove(struct blfs_inode *in)
{
	size_t i, j, home;

	if (itab.nwds == 0)
		return;
	i = inode_wd_find(in->wd);
	if (itab.wds[i] != in)
		return;
	itab.wds[i] = NULL;
	itab.wcount--;
	for (j = (i + 1) & (itab.nwds - 1); itab.wds[j] != NULL;
	    j = (j + 1) & (itab.nwds - 1)) {
		home = inode_wd_slot(itab.wds[j]->wd);
		/* Can the entry at j move back to the hole at i? */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			itab.wds[i] = itab.wds[j];
			itab.wds[j] = NULL;
			i = j;
		}
	}
}

static size_t
inode_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (size_t)h & (itab.nbuckets - 1);
}

static void
inode_hash_grow(void)
{
	struct blfs_inode **nb, *in, *next;
	size_t old = itab.nbuckets, i, h;

	nb = xcalloc(old * 2, sizeof(*nb));
	itab.nbuckets = old * 2;
	for (i = 0; i < old; i++) {
		for (in = itab.buckets[i]; in != NULL; in = next) {
			next = in->hnext;
			h = inode_hash(in->dev, in->ino);
			in->hnext = nb[h];
			nb[h] = in;
		}
	}
	free(itab.buckets);
	itab.buckets = nb;
}

static struct blfs_inode *
inode_hash_find(dev_t dev, ino_t ino)
{
	struct blfs_inode *in;

	for (in = itab.buckets[inode_hash(dev, ino)]; in != NULL;
	    in = in->hnext)
		if (in->dev == dev && in->ino == ino)
			return in;
	return NULL;
}

static void
inode_hash_remove(struct blfs_inode *in)
{
	struct blfs_inode **pp;

	if (!in->hashed)
		return;
	for (pp = &itab.buckets[inode_hash(in->dev, in->ino)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == in) {
			*pp = in->hnext;
			break;
		}
	}
	in->hashed = 0;
	in->hnext = NULL;
	itab.count--;
}

static void
inode_hash_insert(struct blfs_inode *in)
{
	size_t h;

	if (itab.count >= itab.nbuckets)
		inode_hash_grow();
	h = inode_hash(in->dev, in->ino);
	in->hnext = itab.buckets[h];
	itab.buckets[h] = in;
	in->hashed = 1;
	itab.count++;
}

static int
inode_is_root(const struct blfs_inode *in)
{
	return in == &itab.root;
}

/* Most recently used first; the root's fd lives outside the cache. */
static void
inode_lru_touch(struct blfs_inode *in)
{
	if (inode_is_root(in) || in->fd == -1)
		return;
	if (TAILQ_FIRST(&itab.lru) != in) {
		TAILQ_REMOVE(&itab.lru, in, lru);
		TAILQ_INSERT_HEAD(&itab.lru, in, lru);
	}
}

/*
 * Close the least recently used fds until the cache fits its bound.
 * Pinned fds are in use by a request and are skipped: the bound may be
 * exceeded by at most the pins in flight, which the thread count limits.
 */
static void
inode_lru_evict(void)
{
	struct blfs_inode *in, *prev;

	in = TAILQ_LAST(&itab.lru, inode_lru);
	while (itab.nfds > itab.max_fds && in != NULL) {
		prev = TAILQ_PREV(in, inode_lru, lru);
		if (in->pins == 0) {
			TAILQ_REMOVE(&itab.lru, in, lru);
			close(in->fd);
			in->fd = -1;
			itab.nfds--;
		}
		in = prev;
	}
}

static void
inode_lru_insert(struct blfs_inode *in, int fd)
{
	in->fd = fd;
	TAILQ_INSERT_HEAD(&itab.lru, in, lru);
	itab.nfds++;
}

/*
 * Free the inode once nobody holds it (the kernel, a child, a request),
 * then do the same for the parent it was holding.
 */
static void
inode_maybe_free(struct blfs_inode *in)
{
	struct blfs_inode *parent;

	while (in != NULL && !inode_is_root(in)) {
		if (in->nlookup != 0 || in->refs != 0 || in->pins != 0)
			return;
		inode_hash_remove(in);
		if (in->wd != -1) {
			inode_wd_remove(in);
			share_unwatch(in->wd);
		}
		if (in->fd != -1) {
			TAILQ_REMOVE(&itab.lru, in, lru);
			close(in->fd);
			itab.nfds--;
		}
		backing_forget(in);
		parent = in->parent;
		free(in->name);
		free(in);
		if (parent == NULL)
			return;
		parent->refs--;
		in = parent;
	}
}

/* Would making in a child of parent close a loop of parent links? */
static int
inode_is_ancestor(const struct blfs_inode *in, const struct blfs_inode *of)
{
	size_t depth = 0;

	for (; of != NULL; of = of->parent) {
		if (of == in || ++depth > INODE_MAX_DEPTH)
			return 1;
	}
	return 0;
}

/*
 * Remember the latest name an inode is known by. For hard links that is
 * whichever link the kernel looked up last: any of them leads to the same
 * file, and a stale one fails verification instead of misleading.
 */
static void
inode_set_name(struct blfs_inode *in, struct blfs_inode *parent,
    const char *name)
{
	struct blfs_inode *old;

	if (inode_is_root(in))
		return;
	if (in->parent == parent && strcmp(in->name, name) == 0)
		return;
	if (inode_is_ancestor(in, parent))
		return;
	free(in->name);
	in->name = xstrdup(name);
	old = in->parent;
	parent->refs++;
	in->parent = parent;
	old->refs--;
	inode_maybe_free(old);
}

void
inode_table_init(int root_fd, const struct stat *st, size_t fd_cache_max)
{
	struct blfs_inode *root = &itab.root;

	root->dev = st->st_dev;
	root->ino = st->st_ino;
	root->type = st->st_mode & S_IFMT;
	root->fd = root_fd;
	root->nlookup = 1;
	root->wd = -1;
	root->name = xstrdup("");
	TAILQ_INIT(&root->files);
	itab.nbuckets = 4096;
	itab.buckets = xcalloc(itab.nbuckets, sizeof(*itab.buckets));
	TAILQ_INIT(&itab.lru);
	itab.max_fds = fd_cache_max;
	/*
	 * The root is in the table too, so that a lookup meeting it again
	 * (a bind mount looping inside the store) gets the root, not a twin.
	 */
	inode_hash_insert(root);
}

struct blfs_inode *
inode_get(fuse_ino_t id)
{
	if (id == FUSE_ROOT_ID)
		return &itab.root;
	return (struct blfs_inode *)(uintptr_t)id;
}

fuse_ino_t
inode_id(struct blfs_inode *in)
{
	if (inode_is_root(in))
		return FUSE_ROOT_ID;
	return (fuse_ino_t)(uintptr_t)in;
}

size_t
inode_fd_cache_max(void)
{
	return itab.max_fds;
}

size_t
inode_fd_cache_count(void)
{
	size_t n;

	pthread_mutex_lock(&itab.lock);
	n = itab.nfds;
	pthread_mutex_unlock(&itab.lock);
	return n;
}

struct blfs_inode *
inode_learn(struct blfs_inode *parent, const char *name,
    const struct stat *st, int fd)
{
	struct blfs_inode *in;
	mode_t type = st->st_mode & S_IFMT;

	pthread_mutex_lock(&itab.lock);
	in = inode_hash_find(st->st_dev, st->st_ino);
	if (in != NULL && in->type != type && !inode_is_root(in)) {
		/*
		 * The inode number was freed and reused for a file of another
		 * type while the kernel still holds the old one: give the new
		 * file its own node id, or the kernel sees a type change.
		 */
		inode_hash_remove(in);
		in = NULL;
	}
	if (in == NULL) {
		in = xcalloc(1, sizeof(*in));
		in->dev = st->st_dev;
		in->ino = st->st_ino;
		in->type = type;
		in->fd = -1;
		in->wd = -1;
		in->parent = parent;
		in->name = xstrdup(name);
		TAILQ_INIT(&in->files);
		parent->refs++;
		inode_hash_insert(in);
	} else
		inode_set_name(in, parent, name);
	in->nlookup++;
	if (fd != -1 && in->fd == -1 && !inode_is_root(in)) {
		inode_lru_insert(in, fd);
		fd = -1;
		in->pins++;	/* never evict the fd we just added */
		inode_lru_evict();
		in->pins--;
	}
	pthread_mutex_unlock(&itab.lock);
	if (fd != -1)
		close(fd);
	return in;
}

void
inode_forget(struct blfs_inode *in, uint64_t n)
{
	pthread_mutex_lock(&itab.lock);
	if (!inode_is_root(in)) {
		/* A count larger than ours is a kernel bug; never underflow. */
		in->nlookup -= n < in->nlookup ? n : in->nlookup;
		inode_maybe_free(in);
	}
	pthread_mutex_unlock(&itab.lock);
}

void
inode_relabel(struct blfs_inode *parent, const char *name,
    const struct stat *st)
{
	struct blfs_inode *in;

	pthread_mutex_lock(&itab.lock);
	in = inode_hash_find(st->st_dev, st->st_ino);
	if (in != NULL && in->type == (st->st_mode & S_IFMT))
		inode_set_name(in, parent, name);
	pthread_mutex_unlock(&itab.lock);
}

void
inode_put(struct blfs_inode *in)
{
	pthread_mutex_lock(&itab.lock);
	in->pins--;
	inode_maybe_free(in);
	pthread_mutex_unlock(&itab.lock);
}

void
inode_fd_put(struct blfs_inode *in)
{
	inode_put(in);
}

fuse_ino_t
inode_id_of(dev_t dev, ino_t ino)
{
	struct blfs_inode *in;
	fuse_ino_t id = 0;

	pthread_mutex_lock(&itab.lock);
	if ((in = inode_hash_find(dev, ino)) != NULL)
		id = inode_id(in);
	pthread_mutex_unlock(&itab.lock);
	return id;
}

size_t
inode_ids(fuse_ino_t **ids)
{
	struct blfs_inode *in;
	size_t n = 0, i;

	pthread_mutex_lock(&itab.lock);
	*ids = xreallocarray(NULL, itab.count + 1, sizeof(**ids));
	for (i = 0; i < itab.nbuckets; i++)
		for (in = itab.buckets[i]; in != NULL; in = in->hnext)
			(*ids)[n++] = inode_id(in);
	pthread_mutex_unlock(&itab.lock);
	return n;
}

size_t
inode_hold_dirs(struct blfs_inode ***dirs)
{
	struct blfs_inode *in;
	size_t n = 0, i;

	pthread_mutex_lock(&itab.lock);
	*dirs = xreallocarray(NULL, itab.count + 1, sizeof(**dirs));
	for (i = 0; i < itab.nbuckets; i++)
		for (in = itab.buckets[i]; in != NULL; in = in->hnext)
			if (in->type == S_IFDIR) {
				in->pins++;
				(*dirs)[n++] = in;
			}
	pthread_mutex_unlock(&itab.lock);
	return n;
}

struct blfs_inode *
inode_hold_wd(int wd)
{
	struct blfs_inode *in = NULL;

	pthread_mutex_lock(&itab.lock);
	if (itab.nwds != 0 && (in = itab.wds[inode_wd_find(wd)]) != NULL)
		in->pins++;
	pthread_mutex_unlock(&itab.lock);
	return in;
}

int
inode_set_wd(struct blfs_inode *in, int wd)
{
	int r = 0;

	pthread_mutex_lock(&itab.lock);
	/*
	 * inotify gives one watch per backing directory: wd may be ours
	 * already, or, for a directory replaced under the name we watched
	 * it by, another inode's, which it keeps. Only a watch nobody
	 * holds is given back.
	 */
	if (in->wd != wd && (itab.nwds == 0 ||
	    itab.wds[inode_wd_find(wd)] == NULL)) {
		if (in->wd == -1 && (in->hashed || in == &itab.root)) {
			in->wd = wd;
			inode_wd_insert(in);
		} else
			r = -1;
	}
	pthread_mutex_unlock(&itab.lock);
	return r;
}

void
inode_drop_wd(int wd)
{
	struct blfs_inode *in;

	pthread_mutex_lock(&itab.lock);
	if (itab.nwds != 0 && (in = itab.wds[inode_wd_find(wd)]) != NULL) {
		inode_wd_remove(in);
		in->wd = -1;
	}
	pthread_mutex_unlock(&itab.lock);
}

void
inode_clear_wd(struct blfs_inode *in)
{
	pthread_mutex_lock(&itab.lock);
	if (in->wd != -1) {
		inode_wd_remove(in);
		share_unwatch(in->wd);
		in->wd = -1;
	}
	pthread_mutex_unlock(&itab.lock);
}

struct blfs_inode *
inode_hold_of(dev_t dev, ino_t ino)
{
	struct blfs_inode *in;

	pthread_mutex_lock(&itab.lock);
	if ((in = inode_hash_find(dev, ino)) != NULL)
		in->pins++;
	pthread_mutex_unlock(&itab.lock);
	return in;
}

/* Called with the lock held. */
static int
inode_stamp_differs_locked(const struct blfs_inode *in,
    const struct stat *st)
{
	return !in->stamped || in->size != st->st_size ||
	    in->mtim.tv_sec != st->st_mtim.tv_sec ||
	    in->mtim.tv_nsec != st->st_mtim.tv_nsec ||
	    in->ctim.tv_sec != st->st_ctim.tv_sec ||
	    in->ctim.tv_nsec != st->st_ctim.tv_nsec;
}

int
inode_stamp_differs(struct blfs_inode *in, const struct stat *st)
{
	int r;

	pthread_mutex_lock(&itab.lock);
	r = inode_stamp_differs_locked(in, st);
	pthread_mutex_unlock(&itab.lock);
	return r;
}

int
inode_restamp(struct blfs_inode *in, const struct stat *st)
{
	int changed;

	pthread_mutex_lock(&itab.lock);
	changed = inode_stamp_differs_locked(in, st);
	in->stamped = 1;
	in->size = st->st_size;
	in->mtim = st->st_mtim;
	in->ctim = st->st_ctim;
	pthread_mutex_unlock(&itab.lock);
	return changed;
}

/*
 * Find an fd for an inode whose fd the cache dropped: walk down from the
 * nearest ancestor that still has one, one component at a time, with
 * openat(O_PATH|O_NOFOLLOW) so no symlink is ever followed and nothing
 * leaves the tree below the root fd, and check each step's (dev, ino)
 * against the inode it must be. A mismatch means another server renamed
 * or replaced something under us: ESTALE, never the wrong file. Each fd
 * opened on the way is cached, so siblings resolve in one step.
 */
static int
inode_resolve(struct blfs_inode *in)
{
	struct blfs_inode **chain = NULL, *cur, *node, *p;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct stat st;
	int err = 0, nfd, flags;

	for (p = in; p->fd == -1; p = p->parent) {
		if (n == INODE_MAX_DEPTH || p->parent == NULL) {
			err = ESTALE;
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			chain = xreallocarray(chain, cap, sizeof(*chain));
			names = xreallocarray(names, cap, sizeof(*names));
		}
		chain[n] = p;
		names[n] = xstrdup(p->name);
		p->refs++;
		n++;
	}
	/* cur is pinned from here on, and is in itself on success. */
	cur = NULL;
	if (err == 0) {
		cur = p;
		cur->pins++;
		inode_lru_touch(cur);
	}
	pthread_mutex_unlock(&itab.lock);

	for (i = n; err == 0 && i-- > 0;) {
		node = chain[i];
		flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
		if (i != 0)
			flags |= O_DIRECTORY;
		nfd = openat(cur->fd, names[i], flags);
		if (nfd == -1) {
			err = errno;
			/* Gone or replaced by something else: not our file. */
			if (err == ENOENT || err == ENOTDIR || err == ELOOP)
				err = ESTALE;
			break;
		}
		if (fstat(nfd, &st) == -1) {
			err = errno;
			close(nfd);
			break;
		}
		if (st.st_dev != node->dev || st.st_ino != node->ino) {
			log_debug("%s: replaced under us", names[i]);
			close(nfd);
			err = ESTALE;
			break;
		}
		pthread_mutex_lock(&itab.lock);
		node->pins++;
		if (node->fd == -1) {
			inode_lru_insert(node, nfd);
			nfd = -1;
			inode_lru_evict();
		} else
			inode_lru_touch(node);
		cur->pins--;
		inode_maybe_free(cur);
		cur = node;
		pthread_mutex_unlock(&itab.lock);
		if (nfd != -1)
			close(nfd);
	}

	pthread_mutex_lock(&itab.lock);
	if (err != 0 && cur != NULL) {
		cur->pins--;
		inode_maybe_free(cur);
	}
	/*
	 * Drop our holds from the top down: an inode freed here can only
	 * take its ancestors with it, never a deeper chain member, which
	 * still has our hold when its ancestors are looked at.
	 */
	for (i = n; i-- > 0;) {
		chain[i]->refs--;
		free(names[i]);
		inode_maybe_free(chain[i]);
	}
	free(chain);
	free(names);
	return -err;
}

/*
 * The name led elsewhere, but the file is still open here (unlinked or
 * renamed away while open): an O_PATH fd of an open handle is exactly
 * this inode. Called and returns with the lock held; the handle cannot
 * be closed meanwhile since closing takes the lock first.
 */
static int
inode_fd_from_file(struct blfs_inode *in)
{
	struct blfs_file *f;
	struct proc_fd_path pp;
	int fd;

	if (in->fd != -1)
		return 0;
	if ((f = TAILQ_FIRST(&in->files)) == NULL)
		return -1;
	if ((fd = open(proc_fd_path(&pp, f->fd, NULL),
	    O_PATH | O_CLOEXEC)) == -1)
		return -1;
	inode_lru_insert(in, fd);
	in->pins++;
	inode_lru_evict();
	in->pins--;
	return 0;
}

int
inode_fd(struct blfs_inode *in, int *fdp)
{
	int r, tries;

	pthread_mutex_lock(&itab.lock);
	/*
	 * Twice: a rename of our own may relabel a parent while we walk an
	 * older chain; a second walk sees the new names.
	 */
	for (tries = 0; tries < 2; tries++) {
		if (in->fd != -1) {
			in->pins++;
			inode_lru_touch(in);
			*fdp = in->fd;
			pthread_mutex_unlock(&itab.lock);
			return 0;
		}
		r = inode_resolve(in);	/* unlocks while it walks */
		if (r == 0) {
			*fdp = in->fd;
			pthread_mutex_unlock(&itab.lock);
			return 0;
		}
		if (r != -ESTALE)
			break;
	}
	if (r == -ESTALE && inode_fd_from_file(in) == 0) {
		in->pins++;
		*fdp = in->fd;
		r = 0;
	}
	pthread_mutex_unlock(&itab.lock);
	return r;
}

struct blfs_file *
inode_file_add(struct blfs_inode *in, int fd)
{
	struct blfs_file *f = xcalloc(1, sizeof(*f));

	f->fd = fd;
	f->in = in;
	pthread_mutex_lock(&itab.lock);
	in->refs++;
	TAILQ_INSERT_TAIL(&in->files, f, entry);
	pthread_mutex_unlock(&itab.lock);
	return f;
}

void
inode_file_close(struct blfs_file *f)
{
	struct blfs_inode *in = f->in;

	backing_close(f);
	pthread_mutex_lock(&itab.lock);
	TAILQ_REMOVE(&in->files, f, entry);
	in->refs--;
	inode_maybe_free(in);
	pthread_mutex_unlock(&itab.lock);
	close(f->fd);
	free(f);
}

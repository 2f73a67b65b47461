/*
 * The owners cache: what user.blfs.attr (meta.c) said of a backing file,
 * so that a lookup or getattr of a file whose attribute was read before
 * costs its fstatat alone, not a second call.
 *
 * Why it is exact: an entry is keyed by (dev, ino) and holds the ctime
 * the file had when it was stat'ed right before its attribute was read,
 * with its mtime, size, link count, backing mode and owner. A caller
 * stats first and gets the entry only when all of these are as they
 * were. Setting an attribute moves the ctime, and so does everything
 * else that could make a name lead to another file's attribute (a
 * rename, a link, an unlink). The ctime seen by that stat cannot come
 * back: on the filesystems this is turned on for (ext4, xfs, btrfs and
 * tmpfs, Linux 6.13 and later: multigrain timestamps), a ctime that was
 * looked at is never given again to the next change of that file. So a
 * stale entry is never used, whoever changed the file: this mount,
 * another mount of the drive, or someone in the store. Elsewhere (older
 * kernels, other filesystems, stores that are not local) there is no
 * cache: coarse times could give a change the ctime already seen.
 *
 * An entry is made only from what surely is the file's own: read through
 * an fd of it, made by this mount, or read by name between two stats
 * that found the same file unchanged (meta.c).
 *
 * Listings (readdir.c) have no stat of each name to check an entry
 * against: a plain READDIR would need the attribute of every regular
 * file only to tell the few that stand for a symlink, FIFO, socket or
 * device, and after the kernel dropped its caches each read loads the
 * file's inode from disk. An entry may answer "a regular file" there
 * without a check, since nothing changes the presented type of an
 * inode, when both of these hold:
 *  - the drive is mounted nowhere else on this machine (share.c) and
 *    has not been since the entry was made or last found current: the
 *    epoch moves whenever that changes. On a drive mounted once only this mount makes files
 *    that stand for special ones, and each it makes replaces the entry
 *    of its inode number, so a number freed and given again cannot
 *    carry an old type;
 *  - the kernel may cache (not --cache-size 0).
 *
 * Bounded: a set-associative table of ACACHE_SETS x ACACHE_WAYS entries
 * allocated once (pages are touched as they fill), round-robin eviction
 * within a set; striped locks, each held for a few compares.
 */
#include "config.h"

#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

#define ACACHE_WAYS	4
#define ACACHE_SETS	16384		/* 65536 files in 4 MiB */
#define ACACHE_LOCKS	64

enum acache_what {
	ACACHE_EMPTY,
	ACACHE_E_OWNERS,	/* the attribute, parsed */
	ACACHE_E_NONE,		/* no attribute: shown as on disk */
};

struct acache_ent {
	uint64_t	ino;
	uint64_t	dev;
	int64_t		ctime_sec;
	uint32_t	ctime_nsec;
	uint32_t	epoch;		/* of the sharing state it was made in */
	uint64_t	check;		/* the rest of the stat, hashed */
	uint64_t	rdev;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	mode;
	uint8_t		what;		/* enum acache_what */
};

struct acache_stripe {
	pthread_mutex_t	lock;
	unsigned	next;		/* guarded by lock: the next victim */
} __attribute__((aligned(64)));

static struct {
	int			 on;		/* immutable after init */
	int			 types;		/* immutable: listings may ask */
	uint32_t		 epoch;		/* atomic */
	struct acache_ent	*ents;		/* guarded by the stripe locks */
	struct acache_stripe	 stripe[ACACHE_LOCKS];
} ac;

void
acache_init(int on, int types)
{
	size_t i;

	for (i = 0; i < ACACHE_LOCKS; i++)
		pthread_mutex_init(&ac.stripe[i].lock, NULL);
	if (!on)
		return;
	ac.ents = xcalloc((size_t)ACACHE_SETS * ACACHE_WAYS,
	    sizeof(*ac.ents));
	ac.on = 1;
	ac.types = types;
}

static uint64_t
acache_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static size_t
acache_set(uint64_t dev, uint64_t ino)
{
	uint64_t h = acache_mix(acache_mix(0, dev), ino);

	return (size_t)(h >> 32) & (ACACHE_SETS - 1);
}

/* What of a stat an entry must find unchanged, besides the ctime. */
static uint64_t
acache_check(const struct stat *st)
{
	uint64_t h = 0;

	h = acache_mix(h, (uint64_t)st->st_mtim.tv_sec);
	h = acache_mix(h, (uint64_t)st->st_mtim.tv_nsec);
	h = acache_mix(h, (uint64_t)st->st_size);
	h = acache_mix(h, (uint64_t)st->st_nlink);
	h = acache_mix(h, (uint64_t)st->st_mode);
	h = acache_mix(h, (uint64_t)st->st_uid);
	h = acache_mix(h, (uint64_t)st->st_gid);
	return h;
}

/* The set of (dev, ino) locked; its first entry. */
static struct acache_ent *
acache_lock(uint64_t dev, uint64_t ino, struct acache_stripe **sp)
{
	size_t set = acache_set(dev, ino);

	*sp = &ac.stripe[set & (ACACHE_LOCKS - 1)];
	pthread_mutex_lock(&(*sp)->lock);
	return &ac.ents[set * ACACHE_WAYS];
}

static struct acache_ent *
acache_find(struct acache_ent *set, uint64_t dev, uint64_t ino)
{
	size_t i;

	for (i = 0; i < ACACHE_WAYS; i++)
		if (set[i].what != ACACHE_EMPTY && set[i].ino == ino &&
		    set[i].dev == dev)
			return &set[i];
	return NULL;
}

int
acache_get(const struct stat *st, struct owners *o)
{
	struct acache_stripe *sp;
	struct acache_ent *set, *e;
	int r = ACACHE_MISS;

	if (!ac.on)
		return ACACHE_MISS;
	set = acache_lock(st->st_dev, st->st_ino, &sp);
	e = acache_find(set, st->st_dev, st->st_ino);
	if (e != NULL && e->ctime_sec == st->st_ctim.tv_sec &&
	    e->ctime_nsec == (uint32_t)st->st_ctim.tv_nsec &&
	    e->check == acache_check(st)) {
		if (e->what == ACACHE_E_OWNERS) {
			o->uid = e->uid;
			o->gid = e->gid;
			o->mode = e->mode;
			o->rdev = (dev_t)e->rdev;
			r = ACACHE_OWNERS;
		} else
			r = ACACHE_NONE;
		/* Still this inode's: its type holds in this epoch too. */
		e->epoch = __atomic_load_n(&ac.epoch, __ATOMIC_ACQUIRE);
	}
	pthread_mutex_unlock(&sp->lock);
	return r;
}

void
acache_put(const struct stat *st, const struct owners *o)
{
	struct acache_stripe *sp;
	struct acache_ent *set, *e;
	size_t i;

	if (!ac.on)
		return;
	set = acache_lock(st->st_dev, st->st_ino, &sp);
	if ((e = acache_find(set, st->st_dev, st->st_ino)) == NULL) {
		for (i = 0; i < ACACHE_WAYS && set[i].what != ACACHE_EMPTY;
		    i++)
			;
		e = i < ACACHE_WAYS ? &set[i] : &set[sp->next++ % ACACHE_WAYS];
	}
	e->ino = st->st_ino;
	e->dev = st->st_dev;
	e->ctime_sec = st->st_ctim.tv_sec;
	e->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e->check = acache_check(st);
	e->epoch = __atomic_load_n(&ac.epoch, __ATOMIC_ACQUIRE);
	if (o != NULL) {
		e->what = ACACHE_E_OWNERS;
		e->uid = o->uid;
		e->gid = o->gid;
		e->mode = o->mode;
		e->rdev = (uint64_t)o->rdev;
	} else {
		e->what = ACACHE_E_NONE;
		e->uid = e->gid = 0;
		e->mode = st->st_mode;
		e->rdev = 0;
	}
	pthread_mutex_unlock(&sp->lock);
}

int
acache_on(void)
{
	return ac.on;
}

int
acache_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	    acache_check(a) == acache_check(b);
}

int
acache_reg(dev_t dev, ino_t ino)
{
	struct acache_stripe *sp;
	struct acache_ent *set, *e;
	int r = 0;

	if (!ac.on || !ac.types)
		return -1;
	set = acache_lock(dev, ino, &sp);
	e = acache_find(set, dev, ino);
	if (e != NULL && S_ISREG(e->mode) &&
	    e->epoch == __atomic_load_n(&ac.epoch, __ATOMIC_ACQUIRE))
		r = 1;
	pthread_mutex_unlock(&sp->lock);
	return r;
}

void
acache_drop(dev_t dev, ino_t ino)
{
	struct acache_stripe *sp;
	struct acache_ent *set, *e;

	if (!ac.on)
		return;
	set = acache_lock(dev, ino, &sp);
	if ((e = acache_find(set, dev, ino)) != NULL)
		e->what = ACACHE_EMPTY;
	pthread_mutex_unlock(&sp->lock);
}

void
acache_new_epoch(void)
{
	__atomic_add_fetch(&ac.epoch, 1, __ATOMIC_ACQ_REL);
}

/*
 * A drive's capacity, enforced by each of its mounts (mountmgr/usage.h):
 * the bytes of the drive's regular files, taken from the shared usage
 * file in chunks so that most writes touch nothing but a counter here.
 *
 * Locally: res, bytes this mount holds in the usage file and has not
 * used; consumed and freed, bytes files grew and shrank by since the
 * file was last told. The file shows res + consumed as held by us; a
 * sync moves consumed - freed into "used" and leaves res held. A write
 * that res cannot cover reserves what it needs and a chunk more, and
 * fails with ENOSPC when used plus everything held by every mount would
 * pass the capacity: the files never hold more than the capacity.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"
#include "mountmgr/usage.h"

#define QUOTA_CHUNK_MIN	(64ULL << 10)
#define QUOTA_CHUNK_MAX	(64ULL << 20)

static struct {
	pthread_mutex_t	 lock;
	int		 fd;		/* the usage file; -1: no capacity */
	uint64_t	 capacity;	/* immutable */
	uint64_t	 chunk;		/* immutable */
	char		 sid[USAGE_SESSION_MAX + 1];
	uint64_t	 res;		/* guarded by lock */
	uint64_t	 consumed;	/* guarded by lock */
	uint64_t	 freed;		/* guarded by lock */
	struct usage	*u;		/* guarded by lock: scratch */
} qt = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static void	quota_publish(void);

int
quota_init(int fd, uint64_t capacity, const char *session, char **cause)
{
	if (fd == -1)
		return 0;
	if (capacity == 0 || strlen(session) > USAGE_SESSION_MAX)
		return cause_fail(cause, -EINVAL, "--capacity: want 1 byte or "
		    "more, with --usage-fd and a session id of at most %d "
		    "bytes", USAGE_SESSION_MAX);
	fd_set_cloexec(fd, 1);
	qt.fd = fd;
	qt.capacity = capacity;
	qt.chunk = capacity / 64;
	if (qt.chunk < QUOTA_CHUNK_MIN)
		qt.chunk = QUOTA_CHUNK_MIN;
	if (qt.chunk > QUOTA_CHUNK_MAX)
		qt.chunk = QUOTA_CHUNK_MAX;
	snprintf(qt.sid, sizeof(qt.sid), "%s", session);
	qt.u = xcalloc(1, sizeof(*qt.u));
	if (usage_read(fd, qt.u) != 0)
		memset(qt.u, 0, sizeof(*qt.u));
	quota_publish();
	return 0;
}

int
quota_active(void)
{
	return qt.fd != -1 && !blfs_cfg.read_only;
}

/*
 * Under both locks: the file read into qt.u with what we used and freed
 * added and our held line set to res. Once it is written, the caller
 * zeroes consumed and freed (quota_told). 0 or -errno.
 */
static int
quota_sync_locked(void)
{
	struct usage *u = qt.u;
	uint64_t *held;
	int r;

	if ((r = usage_read(qt.fd, u)) != 0)
		return r;
	u->used += qt.consumed;
	u->used = u->used > qt.freed ? u->used - qt.freed : 0;
	if ((held = usage_held(u, qt.sid, 1)) == NULL)
		return -EIO;
	*held = qt.res;
	return 0;
}

/*
 * What the Stats method reports for this mount: the files' bytes as far
 * as this mount knows (the file's count when last read, and its own
 * since). Under our lock.
 */
static void
quota_publish(void)
{
	uint64_t used = qt.u->used + qt.consumed;

	stats_usage(qt.capacity, used > qt.freed ? used - qt.freed : 0);
}

static void
quota_told(void)
{
	qt.consumed = qt.freed = 0;
}

/* Sync and write, under our lock; 0 or -errno. */
static int
quota_tell(void)
{
	int r;

	if ((r = usage_lock(qt.fd)) != 0)
		return r;
	if ((r = quota_sync_locked()) == 0 &&
	    (r = usage_write(qt.fd, qt.u)) == 0)
		quota_told();
	usage_unlock(qt.fd);
	return r;
}

int
quota_charge(uint64_t grow)
{
	uint64_t total, avail, need, grant;
	uint64_t *held;
	int r;

	if (!quota_active() || grow == 0)
		return 0;
	pthread_mutex_lock(&qt.lock);
	if (qt.res >= grow) {
		qt.res -= grow;
		qt.consumed += grow;
		quota_publish();
		pthread_mutex_unlock(&qt.lock);
		return 0;
	}
	need = grow - qt.res;
	if ((r = usage_lock(qt.fd)) != 0)
		goto out;
	if ((r = quota_sync_locked()) != 0) {
		usage_unlock(qt.fd);
		goto out;
	}
	total = usage_total(qt.u);
	avail = qt.capacity > total ? qt.capacity - total : 0;
	if (avail < need) {
		if (usage_write(qt.fd, qt.u) == 0)
			quota_told();
		usage_unlock(qt.fd);
		r = -ENOSPC;
		goto out;
	}
	grant = need + qt.chunk < avail ? need + qt.chunk : avail;
	held = usage_held(qt.u, qt.sid, 1);
	*held = qt.res + grant;
	r = usage_write(qt.fd, qt.u);
	usage_unlock(qt.fd);
	if (r == 0) {
		quota_told();
		qt.res = qt.res + grant - grow;
		qt.consumed = grow;
	}
out:
	quota_publish();
	pthread_mutex_unlock(&qt.lock);
	if (r != 0 && r != -ENOSPC)
		log_warnx("the drive's usage file: %s", strerror(-r));
	return r == -ENOSPC || r == 0 ? r : -EIO;
}

void
quota_credit(uint64_t shrink)
{
	if (!quota_active() || shrink == 0)
		return;
	pthread_mutex_lock(&qt.lock);
	/* Our own growth not yet told goes first; the rest is freed. */
	if (qt.consumed >= shrink)
		qt.consumed -= shrink;
	else {
		qt.freed += shrink - qt.consumed;
		qt.consumed = 0;
	}
	/* Tell the others once it is worth a chunk to them. */
	if (qt.freed >= qt.chunk)
		(void)quota_tell();
	quota_publish();
	pthread_mutex_unlock(&qt.lock);
}

/* By how much fd's file grows or shrinks if its size becomes end. */
void
quota_resize(int fd, uint64_t end, uint64_t *grow, uint64_t *shrink)
{
	struct stat st;

	*grow = *shrink = 0;
	if (!quota_active() || fstat(fd, &st) == -1)
		return;
	if ((uint64_t)st.st_size < end)
		*grow = end - (uint64_t)st.st_size;
	else
		*shrink = (uint64_t)st.st_size - end;
}

uint64_t
quota_growth(int fd, uint64_t end)
{
	uint64_t grow, shrink;

	quota_resize(fd, end, &grow, &shrink);
	return grow;
}

uint64_t
quota_growth_from(int fd, uint64_t end)
{
	uint64_t grow, shrink;

	quota_resize(fd, end, &grow, &shrink);
	return shrink;
}

/*
 * What removing dfd/name gives back: its size if it is a regular file
 * with no other link (each inode counts once).
 */
uint64_t
quota_size_at(int dfd, const char *name)
{
	struct stat st;

	if (!quota_active() || fstatat(dfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1)
		return 0;
	return (uint64_t)st.st_size;
}

void
quota_statfs(struct statvfs *sv)
{
	uint64_t used, others, inuse, bs, freeb;
	uint64_t *self;

	if (qt.fd == -1 || sv->f_frsize == 0)
		return;
	pthread_mutex_lock(&qt.lock);
	if (usage_read(qt.fd, qt.u) != 0) {
		pthread_mutex_unlock(&qt.lock);
		return;
	}
	self = usage_held(qt.u, qt.sid, 0);
	others = usage_total(qt.u) - qt.u->used - (self != NULL ? *self : 0);
	used = qt.u->used + qt.consumed;
	used = used > qt.freed ? used - qt.freed : 0;
	pthread_mutex_unlock(&qt.lock);
	inuse = used + others;
	if (inuse > qt.capacity)
		inuse = qt.capacity;
	bs = sv->f_frsize;
	/* The drive is a disk of its capacity, never larger than the store. */
	sv->f_blocks = qt.capacity / bs;
	freeb = (qt.capacity - inuse) / bs;
	if (freeb < sv->f_bavail)
		sv->f_bavail = freeb;
	if (freeb < sv->f_bfree)
		sv->f_bfree = freeb;
}

void
quota_exit(void)
{
	int r;

	if (!quota_active())
		return;
	pthread_mutex_lock(&qt.lock);
	if ((r = usage_lock(qt.fd)) == 0) {
		if ((r = quota_sync_locked()) == 0) {
			usage_forget(qt.u, qt.sid);
			if ((r = usage_write(qt.fd, qt.u)) == 0)
				quota_told();
		}
		usage_unlock(qt.fd);
	}
	if (r != 0)
		log_warnx("the drive's usage file not updated: %s (the next "
		    "mount counts the files again)", strerror(-r));
	qt.res = 0;
	pthread_mutex_unlock(&qt.lock);
}

/*
 * Counting what this mount serves into the metrics file the agent gave
 * (--stats-fd; mountmgr/stats.h): operations by kind with their latency,
 * errors by errno, bytes read and written. Each thread has a slot of its
 * own; nothing here takes a lock or makes a system call but reading the
 * clock (vDSO).
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"
#include "mountmgr/stats.h"

static struct stats_file *stats_map;	/* NULL: not counting */

static __thread struct stats_slot *stats_slot;
static __thread int stats_op = -1;	/* being served by this thread */
static __thread int stats_counted;	/* its reply counted it */
static __thread struct timespec stats_t0;

int
stats_init(int fd, char **cause)
{
	void *p;

	if (fd == -1)
		return 0;
	p = mmap(NULL, sizeof(struct stats_file), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return cause_fail(cause, -errno, "--stats-fd: %s",
		    strerror(errno));
	stats_map = p;
	if (stats_map->magic != STATS_MAGIC ||
	    stats_map->version != STATS_VERSION ||
	    stats_map->nslots != STATS_SLOTS) {
		munmap(p, sizeof(struct stats_file));
		stats_map = NULL;
		return cause_fail(cause, -EINVAL, "--stats-fd: not a metrics "
		    "file of this version");
	}
	/*
	 * The mapping stays; the fd goes, so a blfs taken over has nothing
	 * to truncate the file with under the agent's mapping (which would
	 * kill the agent with SIGBUS), and Landlock keeps it from opening
	 * the state directory again.
	 */
	close(fd);
	return 0;
}

/* This thread's slot; past the last, all share the last one. */
static struct stats_slot *
stats_my_slot(void)
{
	uint32_t n;

	if (stats_slot != NULL)
		return stats_slot;
	n = __atomic_load_n(&stats_map->slots_used, __ATOMIC_RELAXED);
	do {
		if (n >= STATS_SLOTS) {
			n = STATS_SLOTS - 1;
			break;
		}
	} while (!__atomic_compare_exchange_n(&stats_map->slots_used, &n,
	    n + 1, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	stats_slot = &stats_map->slot[n];
	return stats_slot;
}

static enum stats_op
stats_kind(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_LOOKUP:
		return STATS_LOOKUP;
	case FUSE_GETATTR:
		return STATS_GETATTR;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		return STATS_OPEN;
	case FUSE_READ:
		return STATS_READ;
	case FUSE_WRITE:
		return STATS_WRITE;
	case FUSE_CREATE:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		return STATS_CREATE;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		return STATS_UNLINK;
	case FUSE_RENAME:
	case FUSE_RENAME2:
		return STATS_RENAME;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		return STATS_READDIR;
	case FUSE_SETATTR:
		return STATS_SETATTR;
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
		return STATS_FSYNC;
	default:
		return STATS_OTHER;
	}
}

static void
stats_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

void
stats_begin(const struct fuse_buf *buf)
{
	const struct fuse_in_header *in = buf->mem;

	if (stats_map == NULL)
		return;
	stats_op = buf->size >= sizeof(*in) && !(buf->flags & FUSE_BUF_IS_FD) ?
	    (int)stats_kind(in->opcode) : STATS_WRITE;
	stats_counted = 0;
	clock_gettime(CLOCK_MONOTONIC, &stats_t0);
}

/*
 * The operation and its latency, once: when its reply is about to leave
 * (so a caller who sees the reply and asks for Stats finds it counted),
 * or at the end for the few that have none (FORGET).
 */
static void
stats_count(void)
{
	struct stats_slot *s;
	struct timespec t1;
	uint64_t ns;

	if (stats_counted)
		return;
	stats_counted = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (uint64_t)(t1.tv_sec - stats_t0.tv_sec) * 1000000000ULL +
	    (uint64_t)(t1.tv_nsec - stats_t0.tv_nsec);
	s = stats_my_slot();
	stats_add(&s->ops[stats_op], 1);
	stats_add(&s->lat[stats_op][stats_bucket(ns)], 1);
}

void
stats_end(void)
{
	if (stats_map == NULL || stats_op < 0)
		return;
	stats_count();
	stats_op = -1;
}

void
stats_reply(int error, size_t payload)
{
	struct stats_slot *s;
	unsigned e;

	if (stats_map == NULL || stats_op < 0)
		return;
	s = stats_my_slot();
	/* Errors and bytes first: the count tells a reader they are in. */
	if (error < 0) {
		e = (unsigned)-error;
		stats_add(&s->errors[e < STATS_ERRNOS - 1 ? e :
		    STATS_ERRNOS - 1], 1);
	} else if (stats_op == STATS_READ)
		stats_add(&s->bytes_read, payload);
	stats_count();
}

void
stats_usage(uint64_t capacity, uint64_t used)
{
	if (stats_map == NULL)
		return;
	__atomic_store_n(&stats_map->capacity, capacity, __ATOMIC_RELAXED);
	__atomic_store_n(&stats_map->used, used, __ATOMIC_RELAXED);
}

void
stats_written(size_t n)
{
	if (stats_map == NULL)
		return;
	stats_add(&stats_my_slot()->bytes_written, n);
}

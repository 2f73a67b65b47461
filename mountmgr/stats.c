/* Per-mount metrics files: layout, and the agent's side (stats.h). */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "mountmgr/stats.h"

static const char *const stats_op_names[STATS_NOPS] = {
	"lookup", "getattr", "open", "read", "write", "create", "unlink",
	"rename", "readdir", "setattr", "fsync", "other",
};

const char *
stats_op_name(enum stats_op op)
{
	return (unsigned)op < STATS_NOPS ? stats_op_names[op] : "other";
}

unsigned
stats_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b;

	if (us == 0)
		return 0;
	/* 2^k <= us: buckets 2k+1 and 2k+2 split the octave at 2^(k+.5). */
	b = 63 - (unsigned)__builtin_clzll(us);
	b = 2 * b + 1;
	/* us >= 2^k * sqrt(2), i.e. us^2 >= 2^(2k+1) */
	if (us < (1ULL << 31) && us * us >= 1ULL << (b))
		b++;
	return b < STATS_BUCKETS ? b : STATS_BUCKETS - 1;
}

uint64_t
stats_bucket_us(unsigned b)
{
	/* Bucket b ends at 2^(b/2) us: odd b at 2^((b+1)/2) / sqrt(2). */
	if (b == 0)
		return 1;
	if (b % 2 == 0)
		return 1ULL << (b / 2);
	return ((1ULL << ((b + 1) / 2)) * 181) / 256;	/* 1/sqrt(2) */
}

uint64_t
stats_percentile(const struct stats_sum *s, enum stats_op op, unsigned pct)
{
	uint64_t total = 0, want, seen = 0;
	unsigned b;

	for (b = 0; b < STATS_BUCKETS; b++)
		total += s->lat[op][b];
	if (total == 0)
		return 0;
	/* The smallest bucket holding at least pct% of the counts. */
	want = (total * pct + 99) / 100;
	if (want == 0)
		want = 1;
	for (b = 0; b < STATS_BUCKETS; b++) {
		seen += s->lat[op][b];
		if (seen >= want)
			return stats_bucket_us(b);
	}
	return stats_bucket_us(STATS_BUCKETS - 1);
}

static int
stats_map(int fd, const struct stats_file **map)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) == -1)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size != sizeof(struct stats_file))
		return -EINVAL;
	p = mmap(NULL, sizeof(struct stats_file), PROT_READ, MAP_SHARED, fd,
	    0);
	if (p == MAP_FAILED)
		return -errno;
	*map = p;
	return 0;
}

int
stats_create(const char *path, int *fdp, const struct stats_file **map)
{
	struct stats_file head;
	int fd, r;

	*fdp = -1;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -errno;
	/* Zeroes, sparse: a slot's pages exist once a thread counts in it. */
	memset(&head, 0, offsetof(struct stats_file, slot));
	head.magic = STATS_MAGIC;
	head.version = STATS_VERSION;
	head.nslots = STATS_SLOTS;
	if (ftruncate(fd, sizeof(struct stats_file)) == -1 ||
	    pwrite(fd, &head, offsetof(struct stats_file, slot), 0) !=
	    (ssize_t)offsetof(struct stats_file, slot)) {
		r = -errno;
		close(fd);
		unlink(path);
		return r;
	}
	if ((r = stats_map(fd, map)) != 0) {
		close(fd);
		unlink(path);
		return r;
	}
	*fdp = fd;
	return 0;
}

int
stats_open(const char *path, const struct stats_file **map)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -errno;
	r = stats_map(fd, map);
	close(fd);
	return r;
}

void
stats_unmap(const struct stats_file *map)
{
	if (map != NULL)
		munmap((void *)(uintptr_t)map, sizeof(*map));
}

int
stats_read(const struct stats_file *f, struct stats_sum *s)
{
	const struct stats_slot *sl;
	uint32_t n, i, b, op;

	memset(s, 0, sizeof(*s));
	if (f->magic != STATS_MAGIC || f->version != STATS_VERSION ||
	    f->nslots != STATS_SLOTS)
		return -1;
	s->capacity = __atomic_load_n(&f->capacity, __ATOMIC_RELAXED);
	s->used = __atomic_load_n(&f->used, __ATOMIC_RELAXED);
	n = __atomic_load_n(&f->slots_used, __ATOMIC_ACQUIRE);
	if (n > STATS_SLOTS)
		n = STATS_SLOTS;
	for (i = 0; i < n; i++) {
		sl = &f->slot[i];
		for (op = 0; op < STATS_NOPS; op++) {
			s->ops[op] += __atomic_load_n(&sl->ops[op],
			    __ATOMIC_RELAXED);
			for (b = 0; b < STATS_BUCKETS; b++)
				s->lat[op][b] += __atomic_load_n(
				    &sl->lat[op][b], __ATOMIC_RELAXED);
		}
		for (b = 0; b < STATS_ERRNOS; b++)
			s->errors[b] += __atomic_load_n(&sl->errors[b],
			    __ATOMIC_RELAXED);
		s->bytes_read += __atomic_load_n(&sl->bytes_read,
		    __ATOMIC_RELAXED);
		s->bytes_written += __atomic_load_n(&sl->bytes_written,
		    __ATOMIC_RELAXED);
	}
	return 0;
}

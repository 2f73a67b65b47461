/*
 * Per-mount metrics: a file in the agent's state directory that blfs
 * maps and counts into, and the agent maps and reads, with no message
 * between them. Each blfs thread counts in a slot of its own (one
 * writer, relaxed atomics), so counting costs no lock and no shared
 * cache line; a reader sums the slots.
 */
#ifndef BL_STATS_H
#define BL_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_MAGIC	0x74736c62u	/* "blst" */
#define STATS_VERSION	2u

/* Operations by kind, as `blctl stats` and the Stats method name them. */
enum stats_op {
	STATS_LOOKUP,
	STATS_GETATTR,
	STATS_OPEN,
	STATS_READ,
	STATS_WRITE,
	STATS_CREATE,
	STATS_UNLINK,
	STATS_RENAME,
	STATS_READDIR,
	STATS_SETATTR,
	STATS_FSYNC,
	STATS_OTHER,
	STATS_NOPS
};

/*
 * Latency buckets: bucket 0 holds what took under 1 us, bucket b >= 1
 * what took [2^((b-1)/2), 2^(b/2)) us: two per octave, so a percentile
 * read from them is within a factor of 1.42; the last holds the rest
 * (past 2^31 us, over half an hour).
 */
#define STATS_BUCKETS	64
/* Errors by errno; the last counts any errno past the table. */
#define STATS_ERRNOS	136
/* 32 workers (blfs/main.c), the coherence thread, and one shared. */
#define STATS_SLOTS	40

struct stats_slot {
	uint64_t	ops[STATS_NOPS];
	uint64_t	lat[STATS_NOPS][STATS_BUCKETS];
	uint64_t	errors[STATS_ERRNOS];
	uint64_t	bytes_read;
	uint64_t	bytes_written;
} __attribute__((aligned(64)));

struct stats_file {
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 nslots;
	uint32_t	 slots_used;	/* atomic: slots handed out */
	/* A drive with a capacity: its bytes, and what blfs last saw used. */
	uint64_t	 capacity;	/* atomic; 0: none */
	uint64_t	 used;		/* atomic */
	struct stats_slot slot[STATS_SLOTS];
};

/* What a reader makes of a file: the slots summed. */
struct stats_sum {
	uint64_t	capacity;	/* 0: none */
	uint64_t	used;
	uint64_t	ops[STATS_NOPS];
	uint64_t	lat[STATS_NOPS][STATS_BUCKETS];
	uint64_t	errors[STATS_ERRNOS];
	uint64_t	bytes_read;
	uint64_t	bytes_written;
};

/* "lookup", "getattr", ... */
const char	*stats_op_name(enum stats_op);
/* The bucket of a latency in ns. */
unsigned	 stats_bucket(uint64_t ns);
/* The upper bound of a bucket, in us (what a percentile reports). */
uint64_t	 stats_bucket_us(unsigned);
/*
 * The percentile (0-100) of kind op's latencies, in us: the upper bound
 * of the bucket it falls in; 0 when nothing was counted.
 */
uint64_t	 stats_percentile(const struct stats_sum *, enum stats_op,
		     unsigned pct);

/*
 * The agent's side. stats_create makes path (0600, sized, zeroed, laid
 * out) and returns an O_RDWR fd for blfs (close-on-exec: clear it in the
 * child), and maps it for reading; stats_open maps an existing one (an
 * agent re-adopting its mounts). 0 or -errno.
 */
int	stats_create(const char *path, int *fd, const struct stats_file **map);
int	stats_open(const char *path, const struct stats_file **map);
void	stats_unmap(const struct stats_file *);
/* Sums the slots; -1 when the file is not one of ours. */
int	stats_read(const struct stats_file *, struct stats_sum *);

#endif

/*
 * The store side of a mount, run in the child that becomes blfs (store
 * I/O may sit on a network filesystem and must never block the agent's
 * loop): load the drive, apply its permission rules to the workload's
 * labels, open the drive path beneath the drive, and take the mount lock.
 * A store blfs reaches by itself (store_target: a ceph store) gets no
 * fds and no lock here: blfs takes the lock in its own session.
 */
#ifndef BL_RESOLVE_H
#define BL_RESOLVE_H

#include <stdint.h>

#include "common/labels.h"
#include "mountmgr/store.h"

struct resolve_out {
	int	volume;		/* a volume: dirfd is its image */
	int	dirfd;		/* O_PATH directory blfs serves, or the image */
	int	lockfd;		/* held while the mount is served */
	int	mountsfd;	/* the drive's mount locks' directory */
	int	usagefd;	/* the drive's usage file, or -1 */
	uint64_t capacity;	/* bytes; 0: unlimited */
	char	*served_path;	/* the drive path actually served */
	int	remote;		/* target set: blfs reaches the store */
	struct store_target target;
};

/*
 * 0, or -1 with *code (ENOENT, EACCES, EINVAL, EIO, ...) and *cause
 * saying which step failed and on what.
 */
int	resolve_drive(const char *store, const struct store_options *,
	    const char *drive,
	    const char *drive_path, int read_only, const struct labels *labels,
	    const char *session_id, struct resolve_out *out, const char **code,
	    char **cause);
/* What resolve_drive left in out (fds closed, strings freed). */
void	resolve_out_clear(struct resolve_out *);
/* "ENOENT" for ENOENT...: the word a Mount's error code takes. */
const char *resolve_code(int err);

#endif

/*
 * The store side of a mount, in the child that becomes blfs: drive.json,
 * the permission decision, the drive path beneath the drive, the lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/paths.h"
#include "mountmgr/perm.h"
#include "mountmgr/resolve.h"
#include "mountmgr/store.h"

const char *
resolve_code(int err)
{
	switch (err) {
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case EINVAL:
		return "EINVAL";
	case EBUSY:
		return "EBUSY";
	case ENOTDIR:
		return "ENOTDIR";
	case ELOOP:
		return "ELOOP";
	case EXDEV:
		return "EXDEV";
	case ENOSPC:
		return "ENOSPC";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case EOPNOTSUPP:
		return "ENOTSUP";	/* a store kind that cannot mount yet */
	default:
		return "EIO";
	}
}

static int
resolve_reopen_ro(int *fd)
{
	struct proc_fd_path pp;
	int ro;

	ro = open(proc_fd_path(&pp, *fd, NULL), O_RDONLY | O_CLOEXEC);
	if (ro == -1)
		return -errno;
	close(*fd);
	*fd = ro;
	return 0;
}

int
resolve_drive(const char *store_dir, const struct store_options *opts,
    const char *drive, const char *drive_path,
    int read_only, const struct labels *labels, const char *session_id,
    struct resolve_out *out, const char **code, char **cause)
{
	static const struct labels none = { 0, NULL };
	struct store *st = NULL;
	struct drive *d = NULL;
	struct perm_decision dec;
	enum paths_result pr;
	char *why = NULL, *line;
	int datafd = -1, r;

	out->dirfd = out->lockfd = out->mountsfd = out->usagefd = -1;
	out->capacity = 0;
	out->volume = 0;
	out->served_path = NULL;
	out->remote = 0;
	memset(&out->target, 0, sizeof out->target);
	if (labels == NULL)
		labels = &none;
	if ((r = store_open_opts(store_dir, 0, opts, &st, &why)) != 0) {
		*code = r == -ENOENT ? "EIO" : resolve_code(-r);
		xasprintf(cause, "the drive store is not usable: %s", why);
		goto fail;
	}
	if ((r = store_drive_load(st, drive, &d, &why)) != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "%s", why);
		goto fail;
	}
	/* Rules are read now, at mount time: a change to them never
	 * touches mounts already made. */
	r = perm_evaluate(&d->perms, labels, read_only, drive_path, &dec, &why);
	line = perm_decision_string(drive, &d->perms, labels, &dec, why);
	log_info("%s", line);
	free(line);
	if (r != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "drive %s: %s", drive, why);
		goto fail;
	}
	r = store_target(st, drive, dec.path, &out->target, &why);
	if (r == 0 && d->access == DRIVE_ACCESS_ROX && !read_only)
		r = drive_access_check(d, read_only, 0, NULL, &why);
	if (r == 0) {
		/* blfs takes the mount lock, checking the mode again. */
		out->remote = 1;
		goto done;
	}
	if (r != -EOPNOTSUPP) {
		*code = resolve_code(-r);
		xasprintf(cause, "%s", why);
		goto fail;
	}
	if (d->kind == DRIVE_KIND_VOLUME) {
		/* The path is opened in the volume once it is mounted. */
		out->volume = 1;
		if ((r = store_open_volume(st, drive, read_only, &out->dirfd,
		    &why)) != 0 || (r = store_mount_lock(st, drive,
		    session_id, read_only, &out->lockfd, &why)) != 0) {
			*code = resolve_code(-r);
			xasprintf(cause, "%s", why);
			goto fail;
		}
		goto done;
	}
	if ((r = store_open_drive_data(st, drive, &datafd, &why)) != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "%s", why);
		goto fail;
	}
	pr = paths_open_beneath(datafd, dec.path, &out->dirfd, &why);
	if (pr != PATHS_OK) {
		*code = resolve_code(paths_result_errno(pr));
		xasprintf(cause, "drive %s: %s", drive, why);
		goto fail;
	}
	/* The access mode is decided in there, under the drive's lock. */
	if ((r = store_mount_lock(st, drive, session_id, read_only,
	    &out->lockfd, &why)) != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "%s", why);
		goto fail;
	}
	if ((r = store_mount_dir(st, drive, &out->mountsfd, &why)) != 0 ||
	    (r = store_mount_usage(st, drive, &out->usagefd, &out->capacity,
	    &why)) != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "%s", why);
		goto fail;
	}
	/* A read-only mount reads the usage (statfs), never writes it. */
	if (read_only && out->usagefd != -1 &&
	    (r = resolve_reopen_ro(&out->usagefd)) != 0) {
		*code = resolve_code(-r);
		xasprintf(cause, "drive %s: its usage file: %s", drive,
		    strerror(-r));
		goto fail;
	}
done:
	out->served_path = xstrdup(dec.path);
	if (datafd != -1)
		close(datafd);
	drive_free(d);
	store_free(st);
	return 0;
fail:
	free(why);
	if (datafd != -1)
		close(datafd);
	resolve_out_clear(out);
	drive_free(d);
	store_free(st);
	return -1;
}

void
resolve_out_clear(struct resolve_out *out)
{
	int *fds[] = { &out->dirfd, &out->lockfd, &out->mountsfd,
	    &out->usagefd };

	for (size_t i = 0; i < nitems(fds); i++) {
		if (*fds[i] != -1)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(out->served_path);
	out->served_path = NULL;
	store_target_clear(&out->target);
	out->remote = 0;
}

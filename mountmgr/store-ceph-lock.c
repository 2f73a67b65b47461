/*
 * Locks of the ceph store: the drive's lock and the mount locks, as the
 * posix store's (mountlock.c) but on the MDS's fcntl locks, which hold
 * across every client of the cluster, through the low-level API (the
 * locks live on an Fh).
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountmgr/cephlib.h"

#include "common/labels.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"
#include "mountmgr/store-ceph.h"
#include "mountmgr/store-kind.h"

/* --- locks --------------------------------------------------------------- */

/*
 * A lock file, open through the low-level API (fcntl locks live on its
 * Fh). The owner of a lock is its Fh's address, so two opens in one
 * session conflict as two OFD locks do, never merge. Opened read-only:
 * the MDS keeps fcntl locks apart from file caps, and a writer's caps
 * held by a client that died would stall every later open for write
 * until the MDS gives up on that client's session.
 */
void
cstore_lockh_close(struct cstore *cs, struct cstore_lockh *l)
{
	(void)cs;
	if (l->fh != NULL)
		ceph_ll_close(l->cm, l->fh);
	if (l->in != NULL)
		ceph_ll_put(l->cm, l->in);
	l->fh = NULL;
	l->in = NULL;
}

/* A narrow store's session mounted at the lock file itself: its root. */
static int
cstore_lockh_root(struct cstore *cs, const char *path, struct cstore_lockh *l)
{
	struct ceph_statx	 stx;
	const char		*rel;
	int			 r;

	if ((r = cstore_reach(cs, path, &l->cm, &rel, NULL)) != 0)
		return r;
	if ((r = ceph_ll_lookup_root(l->cm, &l->in)) != 0)
		return r;
	r = ceph_ll_getattr(l->cm, l->in, &stx, CEPH_STATX_MODE,
	    AT_SYMLINK_NOFOLLOW, ceph_mount_perms(l->cm));
	if (r == 0 && !S_ISREG(stx.stx_mode))
		r = -EIO;
	if (r == 0)
		r = ceph_ll_open(l->cm, l->in, O_RDONLY, &l->fh,
		    ceph_mount_perms(l->cm));
	if (r != 0)
		cstore_lockh_close(cs, l);
	return r;
}

/*
 * dir/file opened (created when create is set), never through a symlink
 * and only when it is a regular file: mounts/ is written by sandboxes.
 * A narrow store reaches the drive's lock (its identity may touch no
 * other file in locks/) through a session of its own, which cannot
 * create it: drive creation did.
 */
static int
cstore_lockh_open(struct cstore *cs, const char *dir, const char *file,
    int create, struct cstore_lockh *l)
{
	UserPerm		*perms;
	struct ceph_statx	 stx;
	struct Inode		*din = NULL;
	const char		*rel;
	char			*path;
	int			 r;

	l->in = NULL;
	l->fh = NULL;
	l->cm = NULL;
	if (cs->cm == NULL && strcmp(dir, "/locks") == 0) {
		xasprintf(&path, "%s/%s", dir, file);
		r = cstore_lockh_root(cs, path, l);
		free(path);
		return r;
	}
	if ((r = cstore_reach(cs, dir, &l->cm, &rel, NULL)) != 0)
		return r;
	perms = ceph_mount_perms(l->cm);
	r = ceph_ll_walk(l->cm, rel, &din, &stx, CEPH_STATX_MODE,
	    AT_SYMLINK_NOFOLLOW, perms);
	if (r != 0)
		return r;
	if (!S_ISDIR(stx.stx_mode)) {
		ceph_ll_put(l->cm, din);
		return -ENOTDIR;
	}
	if (create)
		r = ceph_ll_create(l->cm, din, file, 0644, O_RDONLY | O_CREAT |
		    O_NOFOLLOW, &l->in, &l->fh, &stx, CEPH_STATX_MODE,
		    AT_SYMLINK_NOFOLLOW, perms);
	else {
		r = ceph_ll_lookup(l->cm, din, file, &l->in, &stx,
		    CEPH_STATX_MODE, AT_SYMLINK_NOFOLLOW, perms);
		if (r == 0 && S_ISREG(stx.stx_mode))
			r = ceph_ll_open(l->cm, l->in, O_RDONLY, &l->fh, perms);
	}
	ceph_ll_put(l->cm, din);
	if (r == 0 && !S_ISREG(stx.stx_mode))
		r = -EIO;
	if (r != 0)
		cstore_lockh_close(cs, l);
	return r;
}

/* fcntl lock of the whole file: 0, -EBUSY when held elsewhere, -errno. */
static int
cstore_lockh_set(struct cstore *cs, struct cstore_lockh *l, short type,
    int wait)
{
	struct flock	fl;
	int		r;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	do
		r = ceph_ll_setlk(l->cm, l->fh, &fl,
		    (uint64_t)(uintptr_t)l->fh, wait);
	while (r == -EINTR);
	if (r == -EAGAIN || r == -EACCES || r == -EWOULDBLOCK)
		return -EBUSY;
	return r;
}

/* Whether anyone (another session, or another Fh of ours) holds a lock. */
static int
cstore_lockh_held(struct cstore *cs, struct cstore_lockh *l)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (ceph_ll_getlk(l->cm, l->fh, &fl, (uint64_t)(uintptr_t)l->fh) != 0)
		return 0;
	return fl.l_type != F_UNLCK;
}

/*
 * The drive's lock, locks/<name>.lock, write-locked (waits); the same
 * protocol as the posix store's (store-posix.c, store_lock), on the
 * MDS's cluster-wide locks. Never removed.
 */
int
cstore_lock(struct cstore *cs, const char *name, struct cstore_lockh *l,
    char **cause)
{
	char	*file;
	int	 r;

	/* A narrow store's identity may touch its drive's lock only. */
	if (cs->cm != NULL && (r = ceph_mkdir(cs->cm, "/locks", 0755)) != 0 &&
	    r != -EEXIST)
		return cause_fail(cause, r, "cannot create %s/locks: %s",
		    cs->st.path, strerror(-r));
	xasprintf(&file, "%s.lock", name);
	if ((r = cstore_lockh_open(cs, "/locks", file, 1, l)) != 0)
		cause_fail(cause, r == -ENOTDIR ? -EIO : r, "cannot open lock "
		    "file %s/locks/%s: %s", cs->st.path, file, strerror(-r));
	else if ((r = cstore_lockh_set(cs, l, F_WRLCK, 1)) != 0) {
		cause_fail(cause, r, "cannot lock %s/locks/%s: %s",
		    cs->st.path, file, strerror(-r));
		cstore_lockh_close(cs, l);
	}
	free(file);
	return r;
}

/* "<sid>.lock" -> sid, or NULL for anything else in mounts/. */
static char *
cstore_lockfile_session(const char *file)
{
	size_t	 len = strlen(file);
	char	*sid;

	if (len <= 5 || strcmp(file + len - 5, ".lock") != 0)
		return NULL;
	sid = xstrndup(file, len - 5);
	if (cstore_check_session(sid, NULL) != 0) {
		free(sid);
		return NULL;
	}
	return sid;
}

/* One of this session's own mount locks? */
static struct cstore_held *
cstore_held_find(struct cstore *cs, const char *name, const char *sid)
{
	for (size_t i = 0; i < cs->nheld; i++)
		if (strcmp(cs->held[i].drive, name) == 0 &&
		    strcmp(cs->held[i].sid, sid) == 0)
			return &cs->held[i];
	return NULL;
}

/*
 * Held mount locks of drive name, as store-posix.h's store_scan_mounts:
 * with reap (under the drive's lock), lock files nobody holds are
 * removed and holders' sessions added to *busy.
 */
int
cstore_scan_mounts(struct cstore *cs, const char *name, int reap,
    char **busy)
{
	struct ceph_mount_info	*cm;
	struct ceph_dir_result	*dir;
	struct cstore_lockh	 l;
	struct dirent		 de;
	const char		*rel;
	char			*mdir, *path;
	int			 held = 0, r;

	xasprintf(&mdir, "/drives/%s/mounts", name);
	if ((r = cstore_reach(cs, mdir, &cm, &rel, NULL)) != 0 ||
	    (r = ceph_opendir(cm, rel, &dir)) != 0) {
		free(mdir);
		return r == -ENOENT ? 0 : r;
	}
	while ((r = ceph_readdir_r(cm, dir, &de)) == 1) {
		char *sid = cstore_lockfile_session(de.d_name);
		int busy_here;

		if (sid == NULL)
			continue;
		if (cstore_lockh_open(cs, mdir, de.d_name, 0, &l) != 0) {
			free(sid);
			continue;
		}
		if (!reap)
			busy_here = cstore_lockh_held(cs, &l);
		else
			busy_here = cstore_lockh_set(cs, &l, F_WRLCK, 0) != 0;
		if (busy_here) {
			held++;
			if (busy != NULL && *busy == NULL)
				*busy = xstrdup(sid);
			else if (busy != NULL && strlen(*busy) < 512) {
				char *prev = *busy;

				xasprintf(busy, "%s, %s", prev, sid);
				free(prev);
			}
		} else if (reap) {
			xasprintf(&path, "%s/%s", strcmp(rel, "/") == 0 ? "" :
			    rel, de.d_name);
			(void)ceph_unlink(cm, path);
			free(path);
		}
		cstore_lockh_close(cs, &l);
		free(sid);
	}
	ceph_closedir(cm, dir);
	free(mdir);
	return r < 0 ? r : held;
}

int
cstore_drive_mounts(struct store *s, const char *name)
{
	int r;

	if ((r = cstore_check_name(name, NULL)) != 0)
		return r;
	return cstore_scan_mounts(cstore_of(s), name, 0, NULL);
}

/* --- mount locks ------------------------------------------------------------ */

static int
cstore_mount_access(struct cstore *cs, const char *name, int read_only,
    char **cause)
{
	struct drive	*d;
	char		*busy = NULL, *why = NULL, *dir;
	int		 held = 0, r;

	xasprintf(&dir, "/drives/%s", name);
	r = cstore_load_at(cs, dir, name, &d, cause);
	free(dir);
	if (r != 0)
		return r == -EIO ? r : cause_fail(cause, -ENOENT, "no such "
		    "drive \"%s\" in %s", name, cs->st.path);
	if (d->access == DRIVE_ACCESS_RWO &&
	    (held = cstore_scan_mounts(cs, name, 1, &busy)) < 0)
		r = cause_fail(cause, held, "cannot check the mounts of drive "
		    "\"%s\": %s", name, strerror(-held));
	else if ((r = drive_access_check(d, read_only, held, busy,
	    &why)) != 0) {
		cause_fail(cause, r, "%s", why);
		free(why);
	}
	free(busy);
	drive_free(d);
	return r;
}

int
cstore_mount_lock(struct store *s, const char *name, const char *session_id,
    int read_only, int *lockfd, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct cstore_lockh	 lk, ml = { NULL, NULL, NULL };
	struct cstore_held	*h;
	struct ceph_mount_info	*cm;
	const char		*rel;
	char			*mdir, *file;
	int			 r;

	*lockfd = -1;
	if ((r = cstore_check_name(name, cause)) != 0 ||
	    (r = cstore_check_session(session_id, cause)) != 0)
		return r;
	if (cstore_held_find(cs, name, session_id) != NULL)
		return cause_fail(cause, -EBUSY, "mount lock of drive \"%s\", "
		    "session %s, is held already", name, session_id);
	if ((r = cstore_lock(cs, name, &lk, cause)) != 0)
		return r;
	xasprintf(&mdir, "/drives/%s/mounts", name);
	xasprintf(&file, "%s.lock", session_id);
	if ((r = cstore_drive_dir(cs, name, cause)) != 0 ||
	    (r = cstore_mount_access(cs, name, read_only, cause)) != 0)
		goto out;
	if ((r = cstore_reach(cs, mdir, &cm, &rel, cause)) != 0)
		goto out;
	if ((r = ceph_mkdir(cm, rel, 0755)) != 0 && r != -EEXIST) {
		r = cause_fail(cause, r, "cannot create %s%s: %s", s->path,
		    mdir, strerror(-r));
		goto out;
	}
	if ((r = cstore_lockh_open(cs, mdir, file, 1, &ml)) != 0) {
		r = cause_fail(cause, r == -ENOTDIR ? -EIO : r, "cannot create "
		    "mount lock %s%s/%s: %s", s->path, mdir, file,
		    strerror(-r));
		goto out;
	}
	if ((r = cstore_lockh_set(cs, &ml, F_RDLCK, 0)) != 0) {
		r = cause_fail(cause, r, "cannot lock %s%s/%s: %s", s->path,
		    mdir, file, strerror(-r));
		cstore_lockh_close(cs, &ml);
		goto out;
	}
	cs->held = xreallocarray(cs->held, cs->nheld + 1, sizeof *cs->held);
	h = &cs->held[cs->nheld++];
	h->cm = ml.cm;
	h->in = ml.in;
	h->fh = ml.fh;
	h->drive = xstrdup(name);
	h->sid = xstrdup(session_id);
out:
	free(mdir);
	free(file);
	cstore_lockh_close(cs, &lk);
	cstore_trim(cs);
	return r;
}

int
cstore_mount_unlock_cleanup(struct store *s, const char *name,
    const char *session_id, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct cstore_lockh	 lk, ml;
	struct ceph_mount_info	*cm;
	const char		*rel;
	char			*mdir, *file, *path;
	int			 r;

	if ((r = cstore_check_name(name, cause)) != 0 ||
	    (r = cstore_check_session(session_id, cause)) != 0)
		return r;
	if (cstore_held_find(cs, name, session_id) != NULL)
		return cause_fail(cause, -EBUSY, "mount lock of drive \"%s\", "
		    "session %s, is still held", name, session_id);
	if ((r = cstore_lock(cs, name, &lk, cause)) != 0)
		return r;
	xasprintf(&mdir, "/drives/%s/mounts", name);
	xasprintf(&file, "%s.lock", session_id);
	xasprintf(&path, "%s/%s", mdir, file);
	if (cstore_lockh_open(cs, mdir, file, 0, &ml) != 0)
		r = 0;	/* nothing there: nothing to clean */
	else {
		if (cstore_lockh_set(cs, &ml, F_WRLCK, 0) != 0)
			r = cause_fail(cause, -EBUSY, "mount lock of drive "
			    "\"%s\", session %s, is still held", name,
			    session_id);
		else if ((r = cstore_reach(cs, path, &cm, &rel, NULL)) == 0 &&
		    (r = ceph_unlink(cm, rel)) == -ENOENT)
			r = 0;
		else if (r != 0)
			r = cause_fail(cause, r, "cannot remove %s%s: %s",
			    s->path, path, strerror(-r));
		cstore_lockh_close(cs, &ml);
	}
	free(mdir);
	free(file);
	free(path);
	cstore_lockh_close(cs, &lk);
	cstore_trim(cs);
	return r;
}

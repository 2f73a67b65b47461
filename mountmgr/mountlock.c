/*
 * Mount locks of the posix store: one file per active mount in the
 * drive's mounts/ directory, OFD-read-locked by the blfs serving it for
 * as long as it serves; what delete, the access modes and blfs's view of
 * the drive's other mounts are decided by.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/store.h"
#include "mountmgr/store-posix.h"
#include "mountmgr/usage.h"

/* session ids become file names: keep them to a safe alphabet. */
int
store_check_session(const char *sid, char **cause)
{
	size_t len;

	if (sid == NULL || *sid == '\0')
		return cause_fail(cause, -EINVAL, "mount session id is empty");
	len = strnlen(sid, STORE_SESSION_ID_MAX + 1);
	if (len > STORE_SESSION_ID_MAX)
		return cause_fail(cause, -EINVAL, "mount session id is longer "
		    "than %d bytes", STORE_SESSION_ID_MAX);
	if (sid[0] == '.')
		return cause_fail(cause, -EINVAL, "mount session id may not "
		    "start with '.'");
	for (size_t i = 0; i < len; i++) {
		char c = sid[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return cause_fail(cause, -EINVAL, "mount session id "
			    "may hold only A-Z, a-z, 0-9, '.', '_' and '-'");
	}
	return 0;
}

/* A lock file of mounts/, opened without creating or following anything. */
static int
store_open_lockfile(int mfd, const char *file)
{
	struct stat	st;
	int		fd;

	if (fstatat(mfd, file, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(mfd, file, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* "<sid>.lock" -> sid, or NULL for anything else in mounts/. */
static char *
store_lockfile_session(const char *file)
{
	size_t len = strlen(file);

	if (len <= 5 || strcmp(file + len - 5, ".lock") != 0 || file[0] == '.')
		return NULL;
	return xstrndup(file, len - 5);
}

/*
 * Walks mounts/ of the drive at dfd. With reap set (delete, cleanup,
 * under the drive's lock), a lock file nobody holds is stale and is
 * removed; a held one is added to *busy. Without, held ones are only
 * counted (F_OFD_GETLK takes nothing). Returns the number held, or -errno.
 */
int
store_scan_mounts(int dfd, int reap, char **busy)
{
	struct dirent	*e;
	struct flock	 fl;
	DIR		*dir;
	int		 mfd, held = 0;

	mfd = store_openat(dfd, "mounts", O_RDONLY | O_DIRECTORY, 0);
	if (mfd == -1)
		return errno == ENOENT ? 0 : -errno;
	if ((dir = fdopendir(mfd)) == NULL) {
		close(mfd);
		return -errno;
	}
	while ((e = readdir(dir)) != NULL) {
		char	*sid = store_lockfile_session(e->d_name);
		int	 fd;

		if (sid == NULL)
			continue;
		if ((fd = store_open_lockfile(mfd, e->d_name)) == -1) {
			free(sid);
			continue;
		}
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (!reap) {
			if (fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK)
				held++;
		} else if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
			/* A read lock is held: blfs serves this mount. */
			held++;
			if (busy != NULL) {
				char *prev = *busy;

				if (prev == NULL)
					*busy = xstrdup(sid);
				else if (strlen(prev) < 512) {
					xasprintf(busy, "%s, %s", prev, sid);
					free(prev);
				}
			}
		} else
			(void)unlinkat(mfd, e->d_name, 0);
		close(fd);
		free(sid);
	}
	closedir(dir);
	return held;
}

int
posix_drive_mounts(struct store *s, const char *name)
{
	int dfd, r;

	if ((r = store_check_name(name, NULL)) != 0)
		return r;
	if ((r = store_drive_dir(s, name, &dfd, NULL)) != 0)
		return r;
	r = store_scan_mounts(dfd, 0, NULL);
	close(dfd);
	return r;
}

/*
 * The drive's access mode, read under its lock with the mount locks held
 * now, like delete counts them: what the mode allows cannot change before
 * our own lock is taken. Stale lock files (of mounts gone) go here, for
 * every mode: each blfs of the drive reads the directory at every mount
 * that comes or goes, and would read them all, forever.
 */
static int
store_mount_access(struct store *s, const char *name, int dfd,
    int read_only, char **cause)
{
	struct drive	*d;
	char		*busy = NULL, *why = NULL;
	int		 held = 0, r;

	if ((r = store_load_at(s, name, dfd, &d, cause)) != 0)
		return r;
	if ((held = store_scan_mounts(dfd, 1, &busy)) < 0)
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
posix_mount_lock(struct store *s, const char *name, const char *session_id,
    int read_only, int *lockfd, char **cause)
{
	struct flock	 fl;
	struct stat	 st;
	char		*file = NULL;
	int		 dlock, dfd = -1, mfd = -1, fd = -1, r;

	*lockfd = -1;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_check_session(session_id, cause)) != 0)
		return r;
	if ((r = store_lock(s, name, &dlock, cause)) != 0)
		return r;
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0)
		goto out;
	if (fstatat(dfd, "drive.json", &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode)) {
		r = cause_fail(cause, -ENOENT, "no such drive \"%s\" in %s",
		    name, s->path);
		goto out;
	}
	if ((r = store_mount_access(s, name, dfd, read_only, cause)) != 0)
		goto out;
	if ((r = store_mkdirat(dfd, "mounts")) != 0) {
		r = cause_fail(cause, r, "cannot create %s/drives/%s/mounts: "
		    "%s", s->path, name, strerror(-r));
		goto out;
	}
	mfd = store_openat(dfd, "mounts", O_PATH | O_DIRECTORY, 0);
	if (mfd == -1) {
		r = cause_fail(cause, errno == ELOOP ? -EIO : -errno,
		    "cannot open %s/drives/%s/mounts: %s", s->path, name,
		    errno == ELOOP ? "it is a symlink" : strerror(errno));
		goto out;
	}
	xasprintf(&file, "%s.lock", session_id);
	fd = openat(mfd, file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		r = cause_fail(cause, fd == -1 ? -errno : -EIO, "cannot "
		    "create mount lock %s/drives/%s/mounts/%s: %s", s->path,
		    name, file, fd == -1 ? strerror(errno) :
		    "not a regular file");
		goto out;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		r = cause_fail(cause, errno == EAGAIN || errno == EACCES ?
		    -EBUSY : -errno, "cannot lock %s/drives/%s/mounts/%s: %s",
		    s->path, name, file, strerror(errno));
		goto out;
	}
	/*
	 * Tell the drive's other mounts that one more holds a lock: their
	 * blfs watch mounts/ (blfs/share.c), and the file's creation came
	 * before the lock.
	 */
	(void)futimens(fd, NULL);
	/*
	 * Belt and braces: delete takes the drive's lock too, so drive.json
	 * cannot vanish now; if it did anyway (a store tampered with by
	 * hand), refuse rather than serve a drive that is being removed.
	 */
	if (fstatat(dfd, "drive.json", &st, AT_SYMLINK_NOFOLLOW) == -1) {
		(void)unlinkat(mfd, file, 0);
		r = cause_fail(cause, -ENOENT, "drive \"%s\" was deleted "
		    "meanwhile", name);
		goto out;
	}
	*lockfd = steal_fd(&fd);
	r = 0;
out:
	free(file);
	if (fd != -1)
		close(fd);
	if (mfd != -1)
		close(mfd);
	if (dfd != -1)
		close(dfd);
	close(dlock);
	return r;
}

int
posix_mount_dir(struct store *s, const char *name, int *fd, char **cause)
{
	int dfd, r;

	*fd = -1;
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0)
		return r;
	*fd = store_openat(dfd, "mounts", O_RDONLY | O_DIRECTORY, 0);
	r = *fd == -1 ? -errno : 0;
	close(dfd);
	if (r != 0)
		return cause_fail(cause, r == -ELOOP ? -EIO : r, "cannot "
		    "open %s/drives/%s/mounts: %s", s->path, name,
		    r == -ELOOP ? "it is a symlink" : strerror(-r));
	return 0;
}

int
posix_mount_unlock_cleanup(struct store *s, const char *name,
    const char *session_id, char **cause)
{
	struct flock	 fl;
	char		*file;
	int		 dlock, dfd = -1, mfd = -1, fd = -1, r;

	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_check_session(session_id, cause)) != 0)
		return r;
	if ((r = store_lock(s, name, &dlock, cause)) != 0)
		return r;
	xasprintf(&file, "%s.lock", session_id);
	if (store_drive_dir(s, name, &dfd, NULL) != 0 ||
	    (mfd = store_openat(dfd, "mounts", O_PATH | O_DIRECTORY, 0)) ==
	    -1 || (fd = store_open_lockfile(mfd, file)) == -1) {
		r = 0;	/* nothing there: nothing to clean */
		goto out;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		r = cause_fail(cause, -EBUSY, "mount lock of drive \"%s\", "
		    "session %s, is still held", name, session_id);
		goto out;
	}
	if (unlinkat(mfd, file, 0) == -1 && errno != ENOENT) {
		r = cause_fail(cause, -errno, "cannot remove %s/drives/%s/"
		    "mounts/%s: %s", s->path, name, file, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(file);
	if (fd != -1)
		close(fd);
	if (mfd != -1)
		close(mfd);
	if (dfd != -1)
		close(dfd);
	close(dlock);
	return r;
}

/* Whether the mount lock of session sid is held by anyone. */
static int
store_session_held(int mfd, const char *sid)
{
	struct flock	 fl;
	char		*file;
	int		 fd, held = 0;

	xasprintf(&file, "%s.lock", sid);
	fd = store_open_lockfile(mfd, file);
	free(file);
	if (fd == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		held = 1;
	close(fd);
	return held;
}

/*
 * Under the usage file's lock: lines of mounts that are gone (their lock
 * not held) mean a blfs killed before it told what it used, and an
 * unreadable file means the same: count the files again (usage.h).
 */
static int
store_usage_settle(int dfd, int mfd, int ufd, const char *name,
    char **cause)
{
	struct usage	*u = xcalloc(1, sizeof(*u));
	int64_t		 n;
	size_t		 i;
	int		 doubt, r, datafd;

	doubt = usage_read(ufd, u) != 0;
	if (doubt)
		memset(u, 0, sizeof(*u));
	for (i = 0; i < u->n;) {
		if (mfd == -1 || !store_session_held(mfd, u->held[i].sid)) {
			doubt = 1;
			u->held[i] = u->held[--u->n];
		} else
			i++;
	}
	if (doubt) {
		datafd = store_openat(dfd, "data", O_PATH | O_DIRECTORY, 0);
		n = datafd == -1 ? -errno : usage_count_files(datafd);
		if (datafd != -1)
			close(datafd);
		if (n < 0) {
			free(u);
			return cause_fail(cause, (int)n, "cannot count the files "
			    "of drive \"%s\" for its usage: %s", name,
			    strerror((int)-n));
		}
		log_info("drive %s: usage counted again from its files: %"
		    PRId64 " bytes", name, n);
		u->used = (uint64_t)n;
	}
	r = doubt ? usage_write(ufd, u) : 0;
	free(u);
	if (r != 0)
		return cause_fail(cause, r, "cannot write the usage of drive "
		    "\"%s\": %s", name, strerror(-r));
	return 0;
}

int
posix_mount_usage(struct store *s, const char *name, int *ufd,
    uint64_t *capacity, char **cause)
{
	struct drive	*d = NULL;
	int		 dlock, dfd = -1, mfd = -1, fd = -1, r;

	*ufd = -1;
	*capacity = 0;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_lock(s, name, &dlock, cause)) != 0)
		return r;
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0 ||
	    (r = store_load_at(s, name, dfd, &d, cause)) != 0)
		goto out;
	if (d->capacity == 0)
		goto out;	/* unlimited: nothing to count */
	fd = store_openat(dfd, USAGE_FILE, O_RDWR | O_CREAT | O_NONBLOCK,
	    0600);
	if (fd == -1) {
		r = cause_fail(cause, -errno, "cannot open %s/drives/%s/%s: %s",
		    s->path, name, USAGE_FILE, strerror(errno));
		goto out;
	}
	mfd = store_openat(dfd, "mounts", O_PATH | O_DIRECTORY, 0);
	if ((r = usage_lock(fd)) != 0) {
		r = cause_fail(cause, r, "cannot lock %s/drives/%s/%s: %s",
		    s->path, name, USAGE_FILE, strerror(-r));
		goto out;
	}
	r = store_usage_settle(dfd, mfd, fd, name, cause);
	usage_unlock(fd);
	if (r == 0) {
		*capacity = d->capacity;
		*ufd = fd;
		fd = -1;
	}
out:
	if (fd != -1)
		close(fd);
	if (mfd != -1)
		close(mfd);
	if (dfd != -1)
		close(dfd);
	close(dlock);
	drive_free(d);
	return r;
}

int
posix_drive_usage(struct store *s, const char *name, uint64_t *used,
    uint64_t *held, char **cause)
{
	struct usage	*u;
	int		 dfd, fd, r;

	*used = *held = 0;
	if ((r = store_check_name(name, cause)) != 0 ||
	    (r = store_drive_dir(s, name, &dfd, cause)) != 0)
		return r;
	fd = store_openat(dfd, USAGE_FILE, O_RDONLY | O_NONBLOCK, 0);
	close(dfd);
	if (fd == -1)
		return errno == ENOENT ? 0 : cause_fail(cause, -errno,
		    "cannot read the usage of drive \"%s\": %s", name,
		    strerror(errno));
	u = xcalloc(1, sizeof(*u));
	if ((r = usage_read(fd, u)) != 0)
		r = cause_fail(cause, r, "%s/drives/%s/%s is not a usage file",
		    s->path, name, USAGE_FILE);
	else {
		*used = u->used;
		*held = usage_total(u) - u->used;
	}
	free(u);
	close(fd);
	return r;
}


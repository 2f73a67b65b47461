/*
 * The posix drive store (the kind store.c opens for a directory): a
 * directory of drives, which several agents and
 * blctl processes (perhaps on several machines, over a shared file system)
 * change at once. Every change happens under an fcntl lock on the drive's
 * lock file; drive.json is only ever replaced whole, by rename.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/labels.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/paths.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"
#include "mountmgr/store-kind.h"
#include "mountmgr/store-posix.h"
#include "mountmgr/volume.h"

/*
 * Every path inside the store is opened this way: a symlink planted in a
 * shared store (by another machine, by hand) is refused, never followed.
 */
int
store_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return paths_openat2(dirfd, path, (uint64_t)(flags | O_CLOEXEC),
	    (flags & O_CREAT) ? mode : 0, RESOLVE_BENEATH |
	    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* "ab12..." for temporary names nobody else will pick. */
static void
store_random_suffix(char *buf, size_t len)
{
	unsigned char	 rnd[8];
	static unsigned	 counter;

	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		uint64_t v = now_ms_mono() ^ ((uint64_t)getpid() << 32) ^
		    ++counter;

		memcpy(rnd, &v, sizeof rnd);
	}
	snprintf(buf, len, "%d-%02x%02x%02x%02x%02x%02x%02x%02x", getpid(),
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

int
store_mkdirat(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0755) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/* mkdir -p for the store's own path (the administrator's choice of path). */
static int
store_mkdir_p(const char *path)
{
	char	*copy = xstrdup(path);
	int	 r = 0;

	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
			r = -errno;
			break;
		}
		if (saved == '\0')
			break;
		*p = saved;
	}
	free(copy);
	return r;
}

int
posix_store_open(const char *path, int flags, struct store **out, char **cause)
{
	struct posix_store *s;
	struct stat	 st;
	int		 fd, r;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return cause_fail(cause, -EINVAL, "store path is empty");
	if ((flags & STORE_CREATE) && (r = store_mkdir_p(path)) != 0)
		return cause_fail(cause, r, "cannot create store %s: %s", path,
		    strerror(-r));
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		r = -errno;
		if (r == -ENOENT)
			return cause_fail(cause, r, "store %s does not exist",
			    path);
		if (r == -ENOTDIR && stat(path, &st) == 0)
			return cause_fail(cause, r, "store %s is not a "
			    "directory", path);
		return cause_fail(cause, r, "cannot open store %s: %s", path,
		    strerror(-r));
	}
	if (flags & STORE_CREATE) {
		const char *dirs[] = { "drives", "locks", "trash" };

		for (size_t i = 0; i < nitems(dirs); i++) {
			if ((r = store_mkdirat(fd, dirs[i])) != 0) {
				close(fd);
				return cause_fail(cause, r, "cannot create "
				    "%s/%s: %s", path, dirs[i], strerror(-r));
			}
		}
	}
	s = xcalloc(1, sizeof *s);
	s->st.ops = &posix_store_ops;
	s->st.path = xstrdup(path);
	s->fd = fd;
	*out = &s->st;
	return 0;
}

static void
posix_free(struct store *s)
{
	close(posix_fd(s));
	free(s->path);
	free(s);
}

int
store_check_name(const char *name, char **cause)
{
	char *why = NULL;

	if (drive_name_check(name, &why) != 0) {
		if (cause != NULL)
			*cause = why;
		else
			free(why);
		return -EINVAL;
	}
	return 0;
}

/*
 * The drive's lock: locks/<name>.lock, write-locked with an OFD lock
 * (F_OFD_SETLKW: waits). Lock files are never removed: a waiter must
 * never end up holding a lock on a file that another process has already
 * unlinked and replaced. Unlock by closing the fd.
 */
int
store_lock(struct store *s, const char *name, int *lockfd, char **cause)
{
	struct flock	 fl;
	char		*rel;
	int		 fd, r;

	*lockfd = -1;
	if ((r = store_mkdirat(posix_fd(s), "locks")) != 0)
		return cause_fail(cause, r, "cannot create %s/locks: %s",
		    s->path, strerror(-r));
	xasprintf(&rel, "locks/%s.lock", name);
	fd = store_openat(posix_fd(s), rel, O_RDWR | O_CREAT | O_NONBLOCK, 0644);
	if (fd == -1) {
		r = -errno;
		cause_fail(cause, r == -ELOOP ? -EIO : r, "cannot open lock "
		    "file %s/%s: %s", s->path, rel, strerror(-r));
		free(rel);
		return r == -ELOOP ? -EIO : r;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		cause_fail(cause, r, "cannot lock %s/%s: %s", s->path, rel,
		    strerror(-r));
		free(rel);
		return r;
	}
	free(rel);
	*lockfd = fd;
	return 0;
}

/* drives/<name> as an O_PATH directory fd. */
int
store_drive_dir(struct store *s, const char *name, int *dfd, char **cause)
{
	char	*rel;
	int	 fd, r;

	xasprintf(&rel, "drives/%s", name);
	fd = store_openat(posix_fd(s), rel, O_PATH | O_DIRECTORY, 0);
	r = -errno;
	free(rel);
	if (fd != -1) {
		*dfd = fd;
		return 0;
	}
	*dfd = -1;
	switch (r) {
	case -ENOENT:
		return cause_fail(cause, -ENOENT, "no such drive \"%s\" in %s",
		    name, s->path);
	case -ELOOP:
		return cause_fail(cause, -EIO, "%s/drives/%s is a symlink, "
		    "not a drive", s->path, name);
	case -ENOTDIR:
		return cause_fail(cause, -EIO, "%s/drives/%s is not a "
		    "directory", s->path, name);
	default:
		return cause_fail(cause, r, "cannot open %s/drives/%s: %s",
		    s->path, name, strerror(-r));
	}
}

/* Reads and checks drive.json of the drive whose directory is dfd. */
int
store_load_at(struct store *s, const char *name, int dfd, struct drive **out,
    char **cause)
{
	struct stat	 st;
	char		*buf, *why = NULL;
	ssize_t		 n;
	int		 fd, r;

	*out = NULL;
	/*
	 * Look before opening: opening a FIFO or a device planted in a
	 * shared store could block or have effects; only a regular file
	 * is ever opened (and checked again once open).
	 */
	if (fstatat(dfd, "drive.json", &st, AT_SYMLINK_NOFOLLOW) == -1) {
		r = -errno;
		if (r == -ENOENT)
			return cause_fail(cause, -EIO, "%s/drives/%s/drive.json "
			    "is missing", s->path, name);
		return cause_fail(cause, r, "cannot read %s/drives/%s/"
		    "drive.json: %s", s->path, name, strerror(-r));
	}
	if (!S_ISREG(st.st_mode))
		return cause_fail(cause, -EIO, "%s/drives/%s/drive.json is not "
		    "a regular file", s->path, name);
	fd = store_openat(dfd, "drive.json", O_RDONLY | O_NONBLOCK, 0);
	if (fd == -1) {
		r = -errno;
		return cause_fail(cause, r == -ELOOP ? -EIO : r, "cannot open "
		    "%s/drives/%s/drive.json: %s", s->path, name,
		    strerror(-r));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cause_fail(cause, -EIO, "%s/drives/%s/drive.json is not "
		    "a regular file", s->path, name);
	}
	if (st.st_size > DRIVE_JSON_MAX) {
		close(fd);
		return cause_fail(cause, -EIO, "%s/drives/%s/drive.json is "
		    "larger than %d bytes", s->path, name, DRIVE_JSON_MAX);
	}
	/* One more byte than allowed: a file that grew is still caught. */
	buf = xmalloc(DRIVE_JSON_MAX + 1);
	n = read_full(fd, buf, DRIVE_JSON_MAX + 1);
	r = -errno;
	close(fd);
	if (n == -1) {
		free(buf);
		return cause_fail(cause, r, "cannot read %s/drives/%s/"
		    "drive.json: %s", s->path, name, strerror(-r));
	}
	if (n > DRIVE_JSON_MAX) {
		free(buf);
		return cause_fail(cause, -EIO, "%s/drives/%s/drive.json is "
		    "larger than %d bytes", s->path, name, DRIVE_JSON_MAX);
	}
	r = drive_from_json(buf, (size_t)n, out, &why);
	free(buf);
	if (r != 0) {
		r = cause_fail(cause, -EIO, "%s/drives/%s/drive.json: %s",
		    s->path, name, why);
		free(why);
		return r;
	}
	if (strcmp((*out)->name, name) != 0) {
		r = cause_fail(cause, -EIO, "%s/drives/%s/drive.json: field "
		    "\"name\" is \"%s\" but the drive's directory is \"%s\"",
		    s->path, name, (*out)->name, name);
		drive_free(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

static int
posix_drive_load(struct store *s, const char *name, struct drive **out,
    char **cause)
{
	int dfd, r;

	*out = NULL;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0)
		return r;
	r = store_load_at(s, name, dfd, out, cause);
	close(dfd);
	return r;
}

static int
store_fsync_dir(int dirfd)
{
	int fd, r = 0;

	/* fsync needs a real open file; dirfd may be O_PATH. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -errno;
	if (fsync(fd) == -1 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

/*
 * drive.json replaced atomically: a new file beside it (O_EXCL, so two
 * writers never share one), written and fsynced, renamed over, and the
 * directory fsynced so the rename itself survives a crash. Readers see the
 * old file or the new one, never a mix. where names the directory.
 */
static int
store_write_json(int dfd, const char *where, const struct drive *d,
    char **cause)
{
	char	 tmp[64], sfx[32], *text;
	int	 fd, r;
	size_t	 len;

	if ((text = drive_to_text(d)) == NULL)
		return cause_fail(cause, -EIO, "cannot encode drive.json for "
		    "%s", where);
	len = strlen(text);
	if (len > DRIVE_JSON_MAX) {
		free(text);
		return cause_fail(cause, -EINVAL, "drive.json for %s would be "
		    "larger than %d bytes", where, DRIVE_JSON_MAX);
	}
	store_random_suffix(sfx, sizeof sfx);
	snprintf(tmp, sizeof tmp, ".drive.json.%s", sfx);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd == -1) {
		r = -errno;
		free(text);
		return cause_fail(cause, r, "cannot write %s/drive.json: %s",
		    where, strerror(-r));
	}
	/* The umask must not make drive.json unreadable to other agents. */
	if (fchmod(fd, 0644) == -1 || write_full(fd, text, len) !=
	    (ssize_t)len || fsync(fd) == -1) {
		r = -errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		r = -errno;
		goto fail;
	}
	if (renameat(dfd, tmp, dfd, "drive.json") == -1) {
		r = -errno;
		goto fail;
	}
	free(text);
	if ((r = store_fsync_dir(dfd)) != 0)
		return cause_fail(cause, r, "cannot sync %s: %s", where,
		    strerror(-r));
	return 0;
fail:
	(void)unlinkat(dfd, tmp, 0);
	free(text);
	return cause_fail(cause, r, "cannot write %s/drive.json: %s", where,
	    strerror(-r));
}

/* A directory that is the root of a mount: never descend into one. */
static int
store_is_mount_root(int dirfd, const char *name)
{
	struct statx stx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
	    STATX_TYPE, &stx) == -1)
		return 0;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/*
 * rm -rf without ever following a symlink: each directory is opened with
 * O_NOFOLLOW relative to its parent's fd, symlinks are unlinked as the
 * links they are, and a directory that is a mount root is refused rather
 * than emptied. Holds one fd per level, so depth is bounded by the fd
 * limit. Things already gone (ENOENT) are fine.
 */
int
store_rmtree(int parentfd, const char *name, char **cause)
{
	struct stat	  st, pst;
	struct dirent	 *e;
	DIR		 *dir;
	char		**subdirs = NULL;
	size_t		  nsub = 0;
	int		  fd, dfd, r = 0;

	if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return cause_fail(cause, -errno, "cannot examine %s: %s", name,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		goto unlink_file;
	if (store_is_mount_root(parentfd, name) ||
	    (fstat(parentfd, &pst) == 0 && pst.st_dev != st.st_dev))
		return cause_fail(cause, -EBUSY, "%s is a mount point; not "
		    "removing what is mounted there", name);
	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			goto unlink_file;	/* swapped for a non-directory */
		return cause_fail(cause, -errno, "cannot open %s: %s", name,
		    strerror(errno));
	}
	if ((dfd = dup(fd)) == -1 || (dir = fdopendir(dfd)) == NULL) {
		r = -errno;
		if (dfd != -1)
			close(dfd);
		close(fd);
		return cause_fail(cause, r, "cannot read %s: %s", name,
		    strerror(-r));
	}
	/* Files go at once; directories are listed and done after closedir. */
	while ((errno = 0, e = readdir(dir)) != NULL) {
		int isdir;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_UNKNOWN) {
			if (fstatat(fd, e->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			isdir = S_ISDIR(st.st_mode);
		} else
			isdir = e->d_type == DT_DIR;
		if (!isdir && unlinkat(fd, e->d_name, 0) == 0)
			continue;
		if (!isdir && errno != EISDIR) {
			if (errno == ENOENT)
				continue;
			r = cause_fail(cause, -errno, "cannot remove %s/%s: %s",
			    name, e->d_name, strerror(errno));
			break;
		}
		subdirs = xreallocarray(subdirs, nsub + 1, sizeof *subdirs);
		subdirs[nsub++] = xstrdup(e->d_name);
	}
	if (r == 0 && errno != 0)
		r = cause_fail(cause, -errno, "cannot read %s: %s", name,
		    strerror(errno));
	closedir(dir);
	for (size_t i = 0; i < nsub; i++) {
		if (r == 0) {
			char *why = NULL;

			r = store_rmtree(fd, subdirs[i], &why);
			if (r != 0) {
				cause_fail(cause, r, "%s/%s", name, why);
				free(why);
			}
		}
		free(subdirs[i]);
	}
	free(subdirs);
	close(fd);
	if (r != 0)
		return r;
	if (unlinkat(parentfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return cause_fail(cause, -errno, "cannot remove %s: %s", name,
		    strerror(errno));
	return 0;

unlink_file:
	if (unlinkat(parentfd, name, 0) == -1 && errno != ENOENT)
		return cause_fail(cause, -errno, "cannot remove %s: %s", name,
		    strerror(errno));
	return 0;
}

static int
posix_drive_create_template(struct store *s, const struct drive *d,
    const char *template, char **cause)
{
	struct stat	 st;
	char		 tmp[128], sfx[32], *where, *why = NULL;
	int		 lockfd = -1, drivesfd = -1, tfd = -1, r;

	if (drive_check(d, cause) != 0)
		return -EINVAL;
	if (template != NULL && d->kind != DRIVE_KIND_VOLUME)
		return cause_fail(cause, -EINVAL, "drive \"%s\": a template "
		    "seeds a volume; this is a %s", d->name,
		    drive_kind_name(d->kind));
	if ((r = store_mkdirat(posix_fd(s), "drives")) != 0)
		return cause_fail(cause, r, "cannot create %s/drives: %s",
		    s->path, strerror(-r));
	if ((r = store_lock(s, d->name, &lockfd, cause)) != 0)
		return r;
	drivesfd = store_openat(posix_fd(s), "drives", O_PATH | O_DIRECTORY, 0);
	if (drivesfd == -1) {
		r = cause_fail(cause, errno == ELOOP ? -EIO : -errno,
		    "cannot open %s/drives: %s", s->path, strerror(errno));
		goto out;
	}
	if (fstatat(drivesfd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = cause_fail(cause, -EEXIST, "drive \"%s\" already exists "
		    "in %s", d->name, s->path);
		goto out;
	}

	/*
	 * Built aside under a hidden name, then renamed into place: nobody
	 * ever sees a drive without its drive.json, data/ and mounts/.
	 */
	store_random_suffix(sfx, sizeof sfx);
	snprintf(tmp, sizeof tmp, ".new-%s-%s", d->name, sfx);
	if (mkdirat(drivesfd, tmp, 0755) == -1) {
		r = cause_fail(cause, -errno, "cannot create %s/drives/%s: %s",
		    s->path, tmp, strerror(errno));
		goto out;
	}
	tfd = openat(drivesfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (tfd == -1) {
		r = cause_fail(cause, -errno, "cannot open %s/drives/%s: %s",
		    s->path, tmp, strerror(errno));
		goto undo;
	}
	xasprintf(&where, "%s/drives/%s", s->path, d->name);
	r = store_write_json(tfd, where, d, cause);
	free(where);
	if (r != 0)
		goto undo;
	if ((d->kind == DRIVE_KIND_DRIVE && mkdirat(tfd, "data", 0755) == -1) ||
	    mkdirat(tfd, "mounts", 0755) == -1) {
		r = cause_fail(cause, -errno, "cannot create the directories "
		    "of drive \"%s\": %s", d->name, strerror(errno));
		goto undo;
	}
	if (d->kind == DRIVE_KIND_VOLUME && (r = volume_image_create(tfd,
	    d->name, d->size, template, cause)) != 0)
		goto undo;
	/*
	 * RENAME_NOREPLACE where the file system has it; where it does not
	 * (NFS), our lock already keeps other creators out, and rename(2)
	 * never replaces a directory that has files in it.
	 */
	if (renameat2(drivesfd, tmp, drivesfd, d->name, RENAME_NOREPLACE) ==
	    -1 && (errno != EINVAL ||
	    renameat(drivesfd, tmp, drivesfd, d->name) == -1)) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			r = cause_fail(cause, -EEXIST, "drive \"%s\" already "
			    "exists in %s", d->name, s->path);
		else
			r = cause_fail(cause, -errno, "cannot create drive "
			    "\"%s\" in %s: %s", d->name, s->path,
			    strerror(errno));
		goto undo;
	}
	if ((r = store_fsync_dir(drivesfd)) != 0) {
		r = cause_fail(cause, r, "cannot sync %s/drives: %s", s->path,
		    strerror(-r));
		goto out;
	}
	r = 0;
	goto out;

undo:
	if (store_rmtree(drivesfd, tmp, &why) != 0) {
		log_warnx("leaving %s/drives/%s behind: %s", s->path, tmp, why);
		free(why);
	}
out:
	if (tfd != -1)
		close(tfd);
	if (drivesfd != -1)
		close(drivesfd);
	close(lockfd);
	return r;
}

/* drive_check on an update's pieces, before any lock is taken. */
static int
store_update_check(const struct store_update *u, char **cause)
{
	if (u->display_name != NULL &&
	    drive_display_name_check(u->display_name, cause) != 0)
		return -EINVAL;
	for (size_t i = 0; i < u->set_labels.n; i++) {
		if (drive_label_check(u->set_labels.v[i].key,
		    u->set_labels.v[i].value, cause) != 0)
			return -EINVAL;
	}
	for (size_t i = 0; i < u->nremove; i++) {
		if (drive_label_check(u->remove_labels[i], "x", cause) != 0)
			return -EINVAL;
	}
	if (u->replace_perms && u->perms.n > PERM_MAX_RULES)
		return cause_fail(cause, -EINVAL, "permissions: at most %d "
		    "rules", PERM_MAX_RULES);
	if (u->set_access && (unsigned)u->access > DRIVE_ACCESS_ROX)
		return cause_fail(cause, -EINVAL, "access mode: not one of "
		    "RWX, RWO, ROX");
	if (u->capacity > DRIVE_CAPACITY_MAX)
		return cause_fail(cause, -EINVAL, "capacity: larger than %"
		    PRIu64 " bytes", DRIVE_CAPACITY_MAX);
	return 0;
}

/*
 * A new capacity may grow the drive, and shrink it only down to what its
 * files use now: below, every later write would fail, and the files
 * would stay above it.
 */
static int
store_update_capacity(struct store *s, const char *name, struct drive *d,
    uint64_t capacity, char **cause)
{
	uint64_t used, held;
	char *a, *b;
	int r;

	if ((r = posix_drive_usage(s, name, &used, &held, cause)) != 0)
		return r;
	if (capacity < used) {
		a = drive_size_words(capacity);
		b = drive_size_words(used);
		r = cause_fail(cause, -EINVAL, "capacity: %s (%" PRIu64
		    " bytes) is below what drive \"%s\" uses now, %s (%"
		    PRIu64 " bytes)", a, capacity, name, b, used);
		free(a);
		free(b);
		return r;
	}
	d->capacity = capacity;
	return 0;
}

/* Labels without the removed keys. */
static void
store_labels_remove(struct labels *l, char **keys, size_t nkeys)
{
	struct labels kept = { 0, NULL };

	for (size_t i = 0; i < l->n; i++) {
		size_t k;

		for (k = 0; k < nkeys; k++)
			if (strcmp(l->v[i].key, keys[k]) == 0)
				break;
		if (k == nkeys)
			labels_set(&kept, l->v[i].key, l->v[i].value);
	}
	labels_clear(l);
	*l = kept;
}

/* A deep copy of a rule set (perm.h has none). */
static void
store_perms_copy(struct perm_rules *dst, const struct perm_rules *src)
{
	perm_rules_clear(dst);
	for (size_t i = 0; i < src->n && i < PERM_MAX_RULES; i++) {
		memset(&dst->rule[i], 0, sizeof dst->rule[i]);
		labels_copy(&dst->rule[i].labels, &src->rule[i].labels);
		dst->rule[i].mode = src->rule[i].mode;
		dst->rule[i].path = src->rule[i].path != NULL ?
		    xstrdup(src->rule[i].path) : NULL;
		dst->n = i + 1;
	}
}


/*
 * A drive becomes RWO only while at most one mount holds it: under the
 * drive's lock no mount lock is taken, so the count holds until the new
 * drive.json is in place, and every later mount sees the mode.
 */
static int
store_update_access(const char *name, int dfd, struct drive *d,
    enum drive_access to, char **cause)
{
	char	*busy = NULL;
	int	 held;

	if (to == DRIVE_ACCESS_RWO && d->access != DRIVE_ACCESS_RWO) {
		held = store_scan_mounts(dfd, 1, &busy);
		if (held < 0)
			return cause_fail(cause, held, "cannot check the "
			    "mounts of drive \"%s\": %s", name,
			    strerror(-held));
		if (held > 1) {
			cause_fail(cause, -EBUSY, "drive \"%s\" is mounted %d "
			    "times (sessions %s); RWO allows one: unmount "
			    "the others first", name, held, busy);
			free(busy);
			return -EBUSY;
		}
		free(busy);
	}
	d->access = to;
	return 0;
}

static int
posix_drive_update(struct store *s, const char *name,
    const struct store_update *u, struct drive **out, char **cause)
{
	struct drive	*d = NULL;
	char		*where, *why = NULL;
	int		 lockfd, dfd = -1, r;

	if (out != NULL)
		*out = NULL;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_update_check(u, cause)) != 0)
		return r;
	if ((r = store_lock(s, name, &lockfd, cause)) != 0)
		return r;
	/* Read under the lock: the update applies to the latest state. */
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0)
		goto out;
	if ((r = store_load_at(s, name, dfd, &d, cause)) != 0)
		goto out;

	if (u->display_name != NULL) {
		free(d->display_name);
		d->display_name = xstrdup(u->display_name);
	}
	store_labels_remove(&d->labels, u->remove_labels, u->nremove);
	for (size_t i = 0; i < u->set_labels.n; i++)
		labels_set(&d->labels, u->set_labels.v[i].key,
		    u->set_labels.v[i].value);
	if (u->replace_perms)
		store_perms_copy(&d->perms, &u->perms);
	if (u->set_access && (r = store_update_access(name, dfd, d,
	    u->access, cause)) != 0)
		goto out;
	if (u->capacity != 0 && (r = store_update_capacity(s, name, d,
	    u->capacity, cause)) != 0)
		goto out;
	if (drive_check(d, &why) != 0) {
		r = cause_fail(cause, -EINVAL, "drive \"%s\": %s", name, why);
		free(why);
		goto out;
	}
	/* Last: the only step that changes more than drive.json. */
	if (u->size != 0 && (r = store_update_size(name, dfd, d, u->size,
	    cause)) != 0)
		goto out;
	xasprintf(&where, "%s/drives/%s", s->path, name);
	r = store_write_json(dfd, where, d, cause);
	free(where);
out:
	if (dfd != -1)
		close(dfd);
	close(lockfd);
	if (r == 0 && out != NULL)
		*out = d;
	else
		drive_free(d);
	return r;
}


/* mountinfo escapes blanks and backslashes in paths as \ooo. */
static void
store_mountinfo_unescape(char *p)
{
	char *o = p;

	for (; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' &&
		    p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 +
			    (p[3] - '0'));
			p += 3;
		} else
			*o++ = *p;
	}
	*o = '\0';
}

/*
 * Something mounted inside the drive (in our mount namespace)? Then the
 * delete stops before anything moves: removing the tree would empty what
 * is mounted there, which belongs to somebody else. *where is the first
 * mount point found. 1 yes, 0 no, -errno when the drive's path is unknown.
 */
static int
store_mounted_beneath(struct store *s, const char *name, char **where)
{
	FILE	*f;
	char	*dir, *real, *line = NULL;
	size_t	 len = 0;
	int	 found = 0;

	*where = NULL;
	xasprintf(&dir, "%s/drives/%s", s->path, name);
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL)
		return -errno;
	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL) {
		free(real);
		return 0;	/* no /proc: the rmtree refusal still holds */
	}
	while (!found && getline(&line, &len, f) != -1) {
		char *fld, *save = NULL, *mp = NULL;
		int i = 0;

		/* id parent major:minor root mount-point ... */
		for (fld = strtok_r(line, " ", &save); fld != NULL;
		    fld = strtok_r(NULL, " ", &save))
			if (++i == 5) {
				mp = fld;
				break;
			}
		if (mp == NULL)
			continue;
		store_mountinfo_unescape(mp);
		if (paths_is_beneath(real, mp)) {
			*where = xstrdup(mp);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	free(real);
	return found;
}

static int
posix_drive_delete(struct store *s, const char *name, char **cause)
{
	char	 tmp[128], sfx[32], *busy = NULL, *why = NULL, *where = NULL;
	int	 lockfd, dfd = -1, drivesfd = -1, trashfd = -1, r;

	if ((r = store_check_name(name, cause)) != 0)
		return r;
	if ((r = store_lock(s, name, &lockfd, cause)) != 0)
		return r;
	/*
	 * Under the drive's lock no mount lock can be taken, so what we
	 * see here holds until the drive is gone from drives/.
	 */
	if ((r = store_drive_dir(s, name, &dfd, cause)) != 0)
		goto out;
	r = store_scan_mounts(dfd, 1, &busy);
	if (r < 0) {
		r = cause_fail(cause, r, "cannot check the mounts of drive "
		    "\"%s\": %s", name, strerror(-r));
		goto out;
	}
	if (r > 0) {
		r = cause_fail(cause, -EBUSY, "drive \"%s\" is mounted "
		    "(session%s %s)", name, r > 1 ? "s" : "", busy);
		goto out;
	}
	close(dfd);
	dfd = -1;
	if (store_mounted_beneath(s, name, &where) > 0) {
		r = cause_fail(cause, -EBUSY, "drive \"%s\" has something "
		    "mounted at %s; unmount it first", name, where);
		goto out;
	}

	drivesfd = store_openat(posix_fd(s), "drives", O_PATH | O_DIRECTORY, 0);
	if (drivesfd == -1) {
		r = cause_fail(cause, -errno, "cannot open %s/drives: %s",
		    s->path, strerror(errno));
		goto out;
	}
	/*
	 * Renamed out of drives/ while we hold the lock: the delete is
	 * atomic for everybody else, and the slow removal of a large tree
	 * happens without blocking them. If the trash is on another file
	 * system (or missing and uncreatable), remove in place instead.
	 */
	store_random_suffix(sfx, sizeof sfx);
	snprintf(tmp, sizeof tmp, "%s-%s", name, sfx);
	if (store_mkdirat(posix_fd(s), "trash") == 0)
		trashfd = store_openat(posix_fd(s), "trash", O_PATH | O_DIRECTORY, 0);
	if (trashfd == -1 ||
	    renameat(drivesfd, name, trashfd, tmp) == -1) {
		r = store_rmtree(drivesfd, name, &why);
		if (r != 0) {
			r = cause_fail(cause, r, "cannot delete drive \"%s\": "
			    "%s", name, why);
			free(why);
		}
		goto out;
	}
	(void)store_fsync_dir(drivesfd);
	close(lockfd);
	lockfd = -1;
	if (store_rmtree(trashfd, tmp, &why) != 0) {
		/* The drive is gone; only disk space is left behind. */
		log_warnx("drive \"%s\" deleted, but %s/trash/%s is left: %s",
		    name, s->path, tmp, why);
		free(why);
	}
	r = 0;
out:
	free(busy);
	free(where);
	if (dfd != -1)
		close(dfd);
	if (drivesfd != -1)
		close(drivesfd);
	if (trashfd != -1)
		close(trashfd);
	if (lockfd != -1)
		close(lockfd);
	return r;
}


static int
posix_open_drive_data(struct store *s, const char *name, int *datafd,
    char **cause)
{
	char	*rel;
	int	 fd, dfd, r, dr;

	*datafd = -1;
	if ((r = store_check_name(name, cause)) != 0)
		return r;
	xasprintf(&rel, "drives/%s/data", name);
	fd = store_openat(posix_fd(s), rel, O_PATH | O_DIRECTORY, 0);
	r = -errno;
	free(rel);
	if (fd != -1) {
		*datafd = fd;
		return 0;
	}
	if (r != -ENOENT && r != -ELOOP && r != -ENOTDIR)
		return cause_fail(cause, r, "cannot open %s/drives/%s/data: %s",
		    s->path, name, strerror(-r));
	/* Say whether the drive or only its data/ is the trouble. */
	if ((dr = store_drive_dir(s, name, &dfd, cause)) != 0)
		return dr;
	close(dfd);
	return cause_fail(cause, -EIO, "%s/drives/%s/data is %s", s->path,
	    name, r == -ENOENT ? "missing" : r == -ELOOP ? "a symlink" :
	    "not a directory");
}

/* A name from readdir, made safe to print. */
static char *
store_printable(const char *s)
{
	char	*q = xmalloc(strlen(s) * 4 + 1);
	size_t	 o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)sprintf(q + o, "\\x%02x", c);
		else
			q[o++] = (char)c;
	}
	q[o] = '\0';
	return q;
}

static int
store_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->name,
	    ((const struct store_entry *)b)->name);
}

static int
posix_drive_list(struct store *s, struct store_list *out, char **cause)
{
	struct dirent	*e;
	DIR		*dir;
	int		 fd;

	out->n = 0;
	out->v = NULL;
	fd = store_openat(posix_fd(s), "drives", O_RDONLY | O_DIRECTORY, 0);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;	/* a new store: no drives yet */
		return cause_fail(cause, errno == ELOOP ? -EIO : -errno,
		    "cannot read %s/drives: %s", s->path, strerror(errno));
	}
	if ((dir = fdopendir(fd)) == NULL) {
		int r = -errno;

		close(fd);
		return cause_fail(cause, r, "cannot read %s/drives: %s",
		    s->path, strerror(-r));
	}
	while ((errno = 0, e = readdir(dir)) != NULL) {
		struct store_entry	*ent;
		char			*why = NULL;

		/* ".", "..", and drives being created (".new-*"). */
		if (e->d_name[0] == '.')
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
		ent = &out->v[out->n++];
		memset(ent, 0, sizeof *ent);
		ent->name = store_printable(e->d_name);
		ent->mounts = -1;
		if (drive_name_check(e->d_name, &why) != 0) {
			ent->error = -EIO;
			xasprintf(&ent->cause, "%s/drives/%s is not a drive: "
			    "%s", s->path, ent->name, why);
			free(why);
			continue;
		}
		ent->error = posix_drive_load(s, e->d_name, &ent->drive,
		    &ent->cause);
		if (ent->error == 0)
			ent->mounts = posix_drive_mounts(s, e->d_name);
	}
	closedir(dir);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, store_entry_cmp);
	return 0;
}

const struct store_ops posix_store_ops = {
	.kind = "posix",
	.free = posix_free,
	.drive_create = posix_drive_create_template,
	.drive_load = posix_drive_load,
	.drive_list = posix_drive_list,
	.drive_update = posix_drive_update,
	.drive_delete = posix_drive_delete,
	.drive_mounts = posix_drive_mounts,
	.mount_lock = posix_mount_lock,
	.mount_dir = posix_mount_dir,
	.mount_usage = posix_mount_usage,
	.drive_usage = posix_drive_usage,
	.mount_unlock_cleanup = posix_mount_unlock_cleanup,
	.open_drive_data = posix_open_drive_data,
	.open_volume = posix_open_volume,
};

/*
 * Owners and modes kept apart from the backing files.
 *
 * blfs holds no capability at all, so it can touch a backing file only as
 * its owner: every file and directory it creates is uid 0's, with a fixed
 * backing mode (OWNERS_FILE_MODE, OWNERS_DIR_MODE) that lets blfs and nobody
 * else in. What the workload sees, the owner, the group and the mode bits
 * the caller asked for, is kept in one extended attribute of the backing
 * file, OWNERS_XATTR, as "uid gid mode" (decimal, decimal, octal):
 *
 *	user.blfs.attr="1000 1000 100644"
 *
 * The kernel checks every permission from these presented attributes
 * (default_permissions), so they are what the workload lives by; blfs
 * only carries out what the kernel allowed.
 *
 * Linux keeps user.* attributes on regular files and directories only, so
 * a symlink, FIFO, socket or device node made through blfs is a backing
 * regular file whose presented type is in the attribute (a symlink's
 * target is the file's content, a device's number a fourth field,
 *
 *	user.blfs.attr="0 6 60660 8:0"
 *
 * and the mount is nodev: the kernel refuses to open it as a device
 * before blfs is asked). A file with no attribute, placed in the store from
 * outside, is shown as it is on disk. An attribute that does not parse
 * is ignored the same way: the store is ours and hidden from the
 * workload, which cannot reach the attribute through blfs either
 * (owners_reserved), so a bad one is an operator's mistake, not an attack.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

/* Only regular files and directories can carry the attribute. */
static int
meta_carrier(const struct stat *st)
{
	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
}

/*
 * getxattrat(2) while the kernel has it (Linux 6.13); atomic, cleared at
 * the first ENOSYS. The seccomp filter lets it through (sandboxing/
 * seccomp.c), so ENOSYS is the kernel's own answer.
 */
static int meta_xattrat = 1;

/*
 * The attribute of name in directory dfd, never following a symlink, or
 * (name NULL) of the directory dfd itself. getxattrat resolves the one
 * name below the directory fd, as fstatat does, or "." for the directory
 * itself: no path through /proc, whose magic link costs a walk of its
 * own (two, once the lockless walk gives up on it) on every call. Before
 * Linux 6.13, the same through the directory fd's magic link.
 */
static ssize_t
meta_read_at(int dfd, const char *name, char *v, size_t size)
{
	struct proc_fd_path p;
#ifdef SYS_getxattrat
	struct bl_xattr_args a;
	long n;

	if (__atomic_load_n(&meta_xattrat, __ATOMIC_RELAXED)) {
		memset(&a, 0, sizeof(a));
		a.value = (uint64_t)(uintptr_t)v;
		a.size = (uint32_t)size;
		n = syscall(SYS_getxattrat, dfd, name != NULL ? name : ".",
		    AT_SYMLINK_NOFOLLOW, OWNERS_XATTR, &a, sizeof(a));
		if (n != -1 || errno != ENOSYS)
			return (ssize_t)n;
		__atomic_store_n(&meta_xattrat, 0, __ATOMIC_RELAXED);
	}
#endif
	if (name == NULL)
		return getxattr(proc_fd_path(&p, dfd, NULL), OWNERS_XATTR, v,
		    size);
	return lgetxattr(proc_fd_path(&p, dfd, name), OWNERS_XATTR, v, size);
}

/*
 * 0 and *m from the value read (n bytes, or -1 and errno), 1: the file
 * has no attribute that parses (shown as it is on disk, for as long as
 * it stays as it is), -1: it could not be read now.
 */
static int
meta_parse(const char *v, ssize_t n, mode_t btype, struct owners *m)
{
	if (n == -1)
		return errno == ENODATA ? 1 : -1;
	if (n == 0 || owners_parse(v, (size_t)n, btype, m) != 0)
		return 1;
	return 0;
}

/* meta_get, telling "no attribute" (1) from "not read" (-1). */
static int
meta_read(int fd, int is_opath, mode_t btype, struct owners *m)
{
	struct proc_fd_path p;
	char v[OWNERS_VALUE_MAX];
	ssize_t n;

	if (!is_opath)
		n = fgetxattr(fd, OWNERS_XATTR, v, sizeof(v));
	else if (btype == S_IFDIR)
		n = meta_read_at(fd, NULL, v, sizeof(v));
	else {
		/*
		 * fgetxattr and getxattrat refuse O_PATH fds of files; the
		 * magic link leads to exactly the file of fd, which the
		 * caller knows is no symlink.
		 */
		n = getxattr(proc_fd_path(&p, fd, NULL), OWNERS_XATTR, v,
		    sizeof(v));
	}
	return meta_parse(v, n, btype, m);
}

int
meta_get(int fd, int is_opath, mode_t btype, struct owners *m)
{
	return meta_read(fd, is_opath, btype, m) == 0 ? 0 : -1;
}

void
meta_present(struct stat *st, const struct owners *m)
{
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_mode = m->mode;
	st->st_rdev = m->rdev;
}

/*
 * The owners cache (acache.c) into *st, a backing file's stat just made:
 * 1 if it knew them (or that the file has none), 0 if they must be read.
 */
static int
meta_from_cache(struct stat *st)
{
	struct owners m;

	switch (acache_get(st, &m)) {
	case ACACHE_OWNERS:
		meta_present(st, &m);
		return 1;
	case ACACHE_NONE:
		return 1;
	}
	return 0;
}

/* What was read (r as meta_read's) into *st; into the cache if keep. */
static void
meta_keep(struct stat *st, int r, const struct owners *m, int keep)
{
	if (r == -1)
		return;		/* not read now: shown as on disk, not kept */
	if (keep)
		acache_put(st, r == 0 ? m : NULL);
	if (r == 0)
		meta_present(st, m);
}

int
meta_stat_fd(int fd, int is_opath, struct stat *st)
{
	struct owners m;
	int r;

	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	if (!meta_carrier(st) || meta_from_cache(st))
		return 0;
	/* Stat, then read, through the file's own fd: surely its own. */
	r = meta_read(fd, is_opath, st->st_mode & S_IFMT, &m);
	meta_keep(st, r, &m, 1);
	return 0;
}

/* meta_read of name in directory fd dfd, never following a symlink. */
static int
meta_read_name(int dfd, const char *name, mode_t btype, struct owners *m)
{
	char v[OWNERS_VALUE_MAX];
	ssize_t n;

	n = meta_read_at(dfd, name, v, sizeof(v));
	return meta_parse(v, n, btype, m);
}

int
meta_stat_at(int dfd, const char *name, struct stat *st)
{
	struct owners m;
	struct stat again;
	int r, keep;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	if (!meta_carrier(st) || meta_from_cache(st))
		return 0;
	/*
	 * The name again, below the directory fd and never following the
	 * last component. Should another server replace the name in
	 * between, the attribute of the newcomer is read: the result is
	 * stale for a moment, as any stat racing a rename is, and never
	 * reaches outside the directory. It is kept only if a second stat
	 * finds the name still leading to the same file, unchanged: any
	 * rename, link or unlink that could have put another file under
	 * the name moves the ctime of the one it took the name from.
	 */
	r = meta_read_name(dfd, name, st->st_mode & S_IFMT, &m);
	keep = r != -1 && acache_on() &&
	    fstatat(dfd, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
	    acache_same(st, &again);
	meta_keep(st, r, &m, keep);
	return 0;
}

mode_t
meta_type_at(int dfd, const char *name)
{
	struct owners m;

	if (meta_read_name(dfd, name, S_IFREG, &m) != 0)
		return S_IFREG;
	return m.mode & S_IFMT;
}

int
meta_set(int fd, int is_opath, const struct owners *m)
{
	struct proc_fd_path p;
	char v[OWNERS_VALUE_MAX + 1];
	int n, r;

	if ((n = owners_format(m, v, sizeof(v))) < 0)
		return -EINVAL;
	if (is_opath)
		r = setxattr(proc_fd_path(&p, fd, NULL), OWNERS_XATTR, v,
		    (size_t)n, 0);
	else
		r = fsetxattr(fd, OWNERS_XATTR, v, (size_t)n, 0);
	return r == -1 ? -errno : 0;
}

int
meta_write(int fd, int is_opath, const struct owners *m)
{
	struct proc_fd_path p;
	struct stat st;
	mode_t want;
	int r;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	/*
	 * A symlink, FIFO or socket placed in the store from outside keeps
	 * the owner it has: Linux gives it no user.* attribute, and blfs no
	 * capability to chown it.
	 */
	if (!meta_carrier(&st))
		return -EPERM;
	/*
	 * Nor does a file of another owner placed there: blfs could record
	 * its attribute (a user.* attribute needs only write permission) but
	 * not give it the backing mode, so it would change half. Nothing,
	 * then, until blctl drive adopt gives it to uid 0.
	 */
	if (st.st_uid != geteuid())
		return -EPERM;
	if ((r = meta_set(fd, is_opath, m)) != 0)
		return r;
	/*
	 * A file placed in the store from outside keeps the mode it came
	 * with until now: from here on the attribute speaks for it, and the
	 * backing mode lets blfs in whatever the presented mode says. Never
	 * a set-id bit on the backing file, where no nosuid protects it.
	 */
	want = owners_backing_mode(st.st_mode & S_IFMT);
	if ((st.st_mode & 07777) == want)
		return 0;
	if (is_opath)
		r = chmod(proc_fd_path(&p, fd, NULL), want);
	else
		r = fchmod(fd, want);
	return r == -1 ? -errno : 0;
}

int
meta_check_store(int root_fd, char **cause)
{
	struct proc_fd_path p;
	char v[OWNERS_VALUE_MAX];

	if (getxattr(proc_fd_path(&p, root_fd, NULL), OWNERS_XATTR, v,
	    sizeof(v)) != -1 || errno == ENODATA || errno == ERANGE)
		return 0;
	if (errno == ENOTSUP || errno == EOPNOTSUPP) {
		*cause = xstrdup("the store's filesystem keeps no user "
		    "extended attributes, where blfs keeps owners and modes "
		    "(" OWNERS_XATTR ")");
		return -1;
	}
	/* EACCES and the like: the first request will say it again. */
	log_warn("reading %s of the drive's root", OWNERS_XATTR);
	return 0;
}

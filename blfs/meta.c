/*
 * Owners and modes kept apart from the backing files.
 *
 * blfs holds no capability at all, so it can touch a backing file only as
 * its owner: every file and directory it creates is uid 0's, with a fixed
 * backing mode (META_FILE_MODE, META_DIR_MODE) that lets blfs and nobody
 * else in. What the workload sees, the owner, the group and the mode bits
 * the caller asked for, is kept in one extended attribute of the backing
 * file, META_XATTR, as "uid gid mode" (decimal, decimal, octal):
 *
 *	user.blfs.attr="1000 1000 100644"
 *
 * The kernel checks every permission from these presented attributes
 * (default_permissions), so they are what the workload lives by; blfs
 * only carries out what the kernel allowed.
 *
 * Linux keeps user.* attributes on regular files and directories only, so
 * a symlink, FIFO or socket made through blfs is a backing regular file
 * whose presented type is in the attribute (a symlink's target is the
 * file's content). A file with no attribute, placed in the store from
 * outside, is shown as it is on disk. An attribute that does not parse
 * is ignored the same way: the store is ours and hidden from the
 * workload, which cannot reach the attribute through blfs either
 * (meta_reserved), so a bad one is an operator's mistake, not an attack.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "blfs/blfs.h"

#define META_PREFIX	"user.blfs."

/* Longest value we write or accept: "4294967294 4294967294 177777". */
#define META_VALUE_MAX	32

/* /proc/self/fd/N, or /proc/self/fd/N/NAME with NAME at most NAME_MAX. */
struct meta_path {
	char	s[32 + NAME_MAX + 1];
};

int
meta_reserved(const char *name)
{
	return strncmp(name, META_PREFIX, strlen(META_PREFIX)) == 0;
}

static const char *
meta_path_fd(struct meta_path *p, int fd)
{
	snprintf(p->s, sizeof(p->s), "/proc/self/fd/%d", fd);
	return p->s;
}

static const char *
meta_path_at(struct meta_path *p, int dfd, const char *name)
{
	snprintf(p->s, sizeof(p->s), "/proc/self/fd/%d/%s", dfd, name);
	return p->s;
}

/* A decimal id below (uid_t)-1, which means "no change" everywhere. */
static const char *
meta_parse_id(const char *s, unsigned long *v)
{
	unsigned long n = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (unsigned long)(*s - '0');
		if (n >= 0xffffffffUL)
			return NULL;
	}
	*v = n;
	return s;
}

/*
 * The type a backing file of type btype may stand for: its own, or for a
 * regular file one of the types Linux keeps no user.* attribute on.
 */
static int
meta_type_ok(mode_t type, mode_t btype)
{
	if (type == btype)
		return 1;
	return btype == S_IFREG &&
	    (type == S_IFLNK || type == S_IFIFO || type == S_IFSOCK);
}

int
meta_parse(const char *v, size_t len, mode_t btype, struct blfs_meta *m)
{
	char buf[META_VALUE_MAX + 1];
	unsigned long uid, gid, mode = 0;
	const char *s;

	if (len == 0 || len > META_VALUE_MAX)
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if ((s = meta_parse_id(buf, &uid)) == NULL || *s++ != ' ')
		return -1;
	if ((s = meta_parse_id(s, &gid)) == NULL || *s++ != ' ')
		return -1;
	if (*s < '0' || *s > '7')
		return -1;
	for (; *s >= '0' && *s <= '7'; s++) {
		mode = mode * 8 + (unsigned long)(*s - '0');
		if (mode > 0177777)
			return -1;
	}
	if (*s != '\0')
		return -1;
	if ((mode & S_IFMT) == 0)
		mode |= btype;
	if (!meta_type_ok((mode_t)mode & S_IFMT, btype))
		return -1;
	m->uid = (uid_t)uid;
	m->gid = (gid_t)gid;
	m->mode = (mode_t)mode;
	return 0;
}

/* Only regular files and directories can carry the attribute. */
static int
meta_carrier(const struct stat *st)
{
	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
}

int
meta_get(int fd, int is_opath, mode_t btype, struct blfs_meta *m)
{
	struct meta_path p;
	char v[META_VALUE_MAX];
	ssize_t n;

	/*
	 * fgetxattr refuses O_PATH fds; the magic link leads to exactly the
	 * file of fd, which the caller knows is no symlink.
	 */
	if (is_opath)
		n = getxattr(meta_path_fd(&p, fd), META_XATTR, v, sizeof(v));
	else
		n = fgetxattr(fd, META_XATTR, v, sizeof(v));
	if (n <= 0 || meta_parse(v, (size_t)n, btype, m) != 0)
		return -1;
	return 0;
}

void
meta_present(struct stat *st, const struct blfs_meta *m)
{
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_mode = m->mode;
}

int
meta_stat_fd(int fd, int is_opath, struct stat *st)
{
	struct blfs_meta m;

	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	if (meta_carrier(st) &&
	    meta_get(fd, is_opath, st->st_mode & S_IFMT, &m) == 0)
		meta_present(st, &m);
	return 0;
}

int
meta_stat_at(int dfd, const char *name, struct stat *st)
{
	struct meta_path p;
	struct blfs_meta m;
	char v[META_VALUE_MAX];
	ssize_t n;

	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	if (!meta_carrier(st))
		return 0;
	/*
	 * The name again, below the directory fd and never following the
	 * last component. Should another server replace the name in
	 * between, the attribute of the newcomer is read: the result is
	 * stale for a moment, as any stat racing a rename is, and never
	 * reaches outside the directory.
	 */
	n = lgetxattr(meta_path_at(&p, dfd, name), META_XATTR, v, sizeof(v));
	if (n > 0 && meta_parse(v, (size_t)n, st->st_mode & S_IFMT, &m) == 0)
		meta_present(st, &m);
	return 0;
}

mode_t
meta_type_at(int dfd, const char *name)
{
	struct meta_path p;
	struct blfs_meta m;
	char v[META_VALUE_MAX];
	ssize_t n;

	n = lgetxattr(meta_path_at(&p, dfd, name), META_XATTR, v, sizeof(v));
	if (n <= 0 || meta_parse(v, (size_t)n, S_IFREG, &m) != 0)
		return S_IFREG;
	return m.mode & S_IFMT;
}

mode_t
meta_backing_mode(mode_t type)
{
	return type == S_IFDIR ? META_DIR_MODE : META_FILE_MODE;
}

int
meta_format(const struct blfs_meta *m, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%lu %lu %lo", (unsigned long)m->uid,
	    (unsigned long)m->gid, (unsigned long)m->mode);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int
meta_write(int fd, int is_opath, const struct blfs_meta *m)
{
	struct meta_path p;
	struct stat st;
	char v[META_VALUE_MAX + 1];
	mode_t want;
	int n, r;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return -errno;
	/*
	 * A symlink, FIFO or socket placed in the store from outside keeps
	 * the owner it has: Linux gives it no user.* attribute, and blfs no
	 * capability to chown it.
	 */
	if (!meta_carrier(&st))
		return -EPERM;
	if ((n = meta_format(m, v, sizeof(v))) < 0)
		return -EINVAL;
	if (is_opath)
		r = setxattr(meta_path_fd(&p, fd), META_XATTR, v, (size_t)n,
		    0);
	else
		r = fsetxattr(fd, META_XATTR, v, (size_t)n, 0);
	if (r == -1)
		return -errno;
	/*
	 * A file placed in the store from outside keeps the mode it came
	 * with until now: from here on the attribute speaks for it, and the
	 * backing mode lets blfs in whatever the presented mode says. Never
	 * a set-id bit on the backing file, where no nosuid protects it.
	 */
	want = meta_backing_mode(st.st_mode & S_IFMT);
	if ((st.st_mode & 07777) == want)
		return 0;
	if (is_opath)
		r = chmod(meta_path_fd(&p, fd), want);
	else
		r = fchmod(fd, want);
	return r == -1 ? -errno : 0;
}

int
meta_check_store(int root_fd, char **cause)
{
	struct meta_path p;
	char v[META_VALUE_MAX];

	if (getxattr(meta_path_fd(&p, root_fd), META_XATTR, v,
	    sizeof(v)) != -1 || errno == ENODATA || errno == ERANGE)
		return 0;
	if (errno == ENOTSUP || errno == EOPNOTSUPP) {
		*cause = xstrdup("the store's filesystem keeps no user "
		    "extended attributes, where blfs keeps owners and modes "
		    "(" META_XATTR ")");
		return -1;
	}
	/* EACCES and the like: the first request will say it again. */
	log_warn("reading %s of the drive's root", META_XATTR);
	return 0;
}

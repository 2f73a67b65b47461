/*
 * The owners attribute of the store (owners.h): its format, and giving
 * files placed in a drive from outside the form blfs makes.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/owners.h"

int
owners_reserved(const char *name)
{
	return strncmp(name, OWNERS_PREFIX, strlen(OWNERS_PREFIX)) == 0;
}

/* A decimal id below (uid_t)-1, which means "no change" everywhere. */
static const char *
owners_parse_id(const char *s, unsigned long *v)
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
owners_type_ok(mode_t type, mode_t btype)
{
	if (type == btype)
		return 1;
	return btype == S_IFREG &&
	    (type == S_IFLNK || type == S_IFIFO || type == S_IFSOCK ||
	    type == S_IFCHR || type == S_IFBLK);
}

static int
owners_is_dev(mode_t mode)
{
	return S_ISCHR(mode) || S_ISBLK(mode);
}

/* "major:minor", decimal, as the kernel's dev_t can hold them. */
static const char *
owners_parse_dev(const char *s, dev_t *rdev)
{
	unsigned long maj, min;

	if ((s = owners_parse_id(s, &maj)) == NULL || *s++ != ':' ||
	    (s = owners_parse_id(s, &min)) == NULL)
		return NULL;
	if (maj > OWNERS_MAJOR_MAX || min > OWNERS_MINOR_MAX)
		return NULL;
	*rdev = makedev(maj, min);
	return s;
}

int
owners_parse(const char *v, size_t len, mode_t btype, struct owners *m)
{
	char buf[OWNERS_VALUE_MAX + 1];
	unsigned long uid, gid, mode = 0;
	dev_t rdev = 0;
	const char *s;
	int has_dev = 0;

	if (len == 0 || len > OWNERS_VALUE_MAX)
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if ((s = owners_parse_id(buf, &uid)) == NULL || *s++ != ' ')
		return -1;
	if ((s = owners_parse_id(s, &gid)) == NULL || *s++ != ' ')
		return -1;
	if (*s < '0' || *s > '7')
		return -1;
	for (; *s >= '0' && *s <= '7'; s++) {
		mode = mode * 8 + (unsigned long)(*s - '0');
		if (mode > 0177777)
			return -1;
	}
	/* A fourth field, the device number, came with device nodes. */
	if (*s == ' ') {
		if ((s = owners_parse_dev(s + 1, &rdev)) == NULL)
			return -1;
		has_dev = 1;
	}
	if (*s != '\0')
		return -1;
	if ((mode & S_IFMT) == 0)
		mode |= btype;
	if (!owners_type_ok((mode_t)mode & S_IFMT, btype))
		return -1;
	if (has_dev && !owners_is_dev((mode_t)mode))
		return -1;
	m->uid = (uid_t)uid;
	m->gid = (gid_t)gid;
	m->mode = (mode_t)mode;
	m->rdev = rdev;
	return 0;
}

mode_t
owners_backing_mode(mode_t type)
{
	return type == S_IFDIR ? OWNERS_DIR_MODE : OWNERS_FILE_MODE;
}

int
owners_format(const struct owners *m, char *buf, size_t size)
{
	int n;

	if (!owners_is_dev(m->mode))
		n = snprintf(buf, size, "%lu %lu %lo", (unsigned long)m->uid,
		    (unsigned long)m->gid, (unsigned long)m->mode);
	else if (major(m->rdev) > OWNERS_MAJOR_MAX ||
	    minor(m->rdev) > OWNERS_MINOR_MAX) {
		errno = EOVERFLOW;
		return -1;
	} else
		n = snprintf(buf, size, "%lu %lu %lo %u:%u",
		    (unsigned long)m->uid, (unsigned long)m->gid,
		    (unsigned long)m->mode, major(m->rdev), minor(m->rdev));
	if (n < 0 || (size_t)n >= size) {
		errno = ERANGE;
		return -1;
	}
	return n;
}


/*
 * A regular file or directory name in dfd: its attribute from what it
 * shows now (unless it has a valid one already), then uid 0 and the fixed
 * mode. The attribute goes first, so a crash in between leaves a file
 * that shows as it did.
 */
static int
owners_adopt_node(int dfd, const char *name, const char *path,
    struct owners_adopted *a, char **cause)
{
	struct proc_fd_path pp;
	char v[OWNERS_VALUE_MAX + 1];
	struct owners o;
	struct stat st;
	mode_t want;
	ssize_t n;
	int fd, r = 0, had;

	fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		r = -EAGAIN;	/* replaced meanwhile: the caller looks again */
		goto out;
	}
	proc_fd_path(&pp, fd, NULL);
	n = getxattr(pp.s, OWNERS_XATTR, v, sizeof(v) - 1);
	had = n > 0 && owners_parse(v, (size_t)n, st.st_mode & S_IFMT,
	    &o) == 0;
	want = owners_backing_mode(st.st_mode & S_IFMT);
	if (had && st.st_uid == 0 && st.st_gid == 0 &&
	    (st.st_mode & 07777) == want) {
		a->kept++;
		goto out;
	}
	if (!had) {
		o.uid = st.st_uid;
		o.gid = st.st_gid;
		o.mode = st.st_mode;
		o.rdev = 0;
		if ((n = owners_format(&o, v, sizeof(v))) < 0 ||
		    setxattr(pp.s, OWNERS_XATTR, v, (size_t)n, 0) == -1) {
			r = -errno;
			goto out;
		}
	}
	if ((st.st_uid != 0 || st.st_gid != 0) &&
	    fchownat(fd, "", 0, 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1) {
		r = -errno;
		goto out;
	}
	if (chmod(pp.s, want) == -1) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode))
		a->dirs++;
	else
		a->files++;
out:
	if (fd != -1)
		close(fd);
	if (r != 0 && r != -EAGAIN)
		return cause_fail(cause, r, "%s: %s", path, strerror(-r));
	return r;
}

/*
 * A symlink, FIFO, socket or device node name in dfd (whose stat is *st)
 * becomes a regular file standing for it, with its owner, group and mode,
 * a device's number, and a symlink's target as content: made unnamed
 * (O_TMPFILE), linked in under a temporary name, renamed over the
 * original in one step. A device node so becomes inert: blfs mounts are
 * nodev, and the backing file is no device either.
 */
static int
owners_adopt_special(int dfd, const char *name, const struct stat *st,
    const char *path, struct owners_adopted *a, char **cause)
{
	struct proc_fd_path pp;
	char target[PATH_MAX + 1], v[OWNERS_VALUE_MAX + 1];
	char tmpname[64];
	struct owners o;
	ssize_t len = 0;
	int fd, n, r = 0, tries, named = 0;

	if (S_ISLNK(st->st_mode)) {
		len = readlinkat(dfd, name, target, sizeof(target));
		if (len == -1)
			return cause_fail(cause, -errno, "%s: %s", path,
			    strerror(errno));
		if ((size_t)len >= sizeof(target))
			return cause_fail(cause, -ENAMETOOLONG,
			    "%s: target too long", path);
	}
	fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
	    OWNERS_FILE_MODE);
	/*
	 * A store without O_TMPFILE (a FUSE or GlusterFS client): made under
	 * a hidden name instead, and renamed over the special file the same.
	 */
	for (tries = 0; fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR ||
	    errno == EINVAL || errno == EEXIST) && tries < 100; tries++) {
		snprintf(tmpname, sizeof(tmpname), ".blfs-adopt.%ld.%d",
		    (long)getpid(), tries);
		fd = openat(dfd, tmpname, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, OWNERS_FILE_MODE);
		named = fd != -1;
	}
	if (fd == -1)
		return cause_fail(cause, -errno, "%s: a file in its "
		    "directory: %s", path, strerror(errno));
	o.uid = st->st_uid;
	o.gid = st->st_gid;
	o.mode = st->st_mode;
	o.rdev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ?
	    st->st_rdev : 0;
	if ((len > 0 && write_full(fd, target, (size_t)len) != len) ||
	    (n = owners_format(&o, v, sizeof(v))) < 0 ||
	    fsetxattr(fd, OWNERS_XATTR, v, (size_t)n, 0) == -1) {
		r = -errno;
		goto out;
	}
	proc_fd_path(&pp, fd, NULL);
	for (tries = 0; !named && tries < 100; tries++) {
		snprintf(tmpname, sizeof(tmpname), ".blfs-adopt.%ld.%d",
		    (long)getpid(), tries);
		if (linkat(AT_FDCWD, pp.s, dfd, tmpname,
		    AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST) {
			r = -errno;
			goto out;
		}
	}
	if (!named && tries == 100) {
		r = -EEXIST;
		goto out;
	}
	if (renameat(dfd, tmpname, dfd, name) == -1) {
		r = -errno;
		unlinkat(dfd, tmpname, 0);
		goto out;
	}
	named = 0;
	a->converted++;
out:
	if (named)
		(void)unlinkat(dfd, tmpname, 0);
	close(fd);
	if (r != 0)
		return cause_fail(cause, r, "%s: %s", path, strerror(-r));
	return 0;
}

/* One directory level on the walk: its fd and its path for messages. */
struct owners_level {
	DIR	*dp;
	char	*path;
};

int
owners_adopt(int datafd, struct owners_adopted *a, char **cause)
{
	struct owners_level *stack = NULL;
	size_t depth = 0, cap = 0;
	struct dirent *ent;
	struct stat st;
	char *path;
	int fd, dfd, r = 0;

	memset(a, 0, sizeof(*a));
	/* The drive's root first: it shows to the workload too. */
	if ((r = owners_adopt_node(datafd, ".", "data/", a, cause)) != 0)
		return r == -EAGAIN ? cause_fail(cause, -EIO,
		    "data/ is not a directory") : r;
	fd = openat(datafd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return cause_fail(cause, -errno, "data/: %s",
		    strerror(errno));
	stack = xreallocarray(NULL, cap = 16, sizeof(*stack));
	if ((stack[0].dp = fdopendir(fd)) == NULL) {
		close(fd);
		free(stack);
		return cause_fail(cause, -ENOMEM, "data/: out of memory");
	}
	stack[0].path = xstrdup("data");
	depth = 1;

	while (depth > 0 && r == 0) {
		struct owners_level *l = &stack[depth - 1];

		errno = 0;
		if ((ent = readdir(l->dp)) == NULL) {
			if (errno != 0)
				r = cause_fail(cause, -errno, "%s: %s",
				    l->path, strerror(errno));
			closedir(l->dp);
			free(l->path);
			depth--;
			continue;
		}
		if (strcmp(ent->d_name, ".") == 0 ||
		    strcmp(ent->d_name, "..") == 0)
			continue;
		dfd = dirfd(l->dp);
		xasprintf(&path, "%s/%s", l->path, ent->d_name);
again:
		if (fstatat(dfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)	/* gone since listed: fine */
				r = cause_fail(cause, -errno, "%s: %s", path,
				    strerror(errno));
			free(path);
			continue;
		}
		switch (st.st_mode & S_IFMT) {
		case S_IFREG:
		case S_IFDIR:
			r = owners_adopt_node(dfd, ent->d_name, path, a,
			    cause);
			if (r == -EAGAIN) {
				r = 0;
				goto again;
			}
			break;
		case S_IFLNK:
		case S_IFIFO:
		case S_IFSOCK:
		case S_IFCHR:
		case S_IFBLK:
			r = owners_adopt_special(dfd, ent->d_name, &st, path,
			    a, cause);
			break;
		default:
			a->skipped++;	/* no such type on Linux */
			break;
		}
		if (r != 0 || !S_ISDIR(st.st_mode)) {
			free(path);
			continue;
		}
		fd = openat(dfd, ent->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			r = cause_fail(cause, -errno, "%s: %s", path,
			    strerror(errno));
			free(path);
			continue;
		}
		if (depth == cap)
			stack = xreallocarray(stack, cap *= 2,
			    sizeof(*stack));
		if ((stack[depth].dp = fdopendir(fd)) == NULL) {
			close(fd);
			r = cause_fail(cause, -ENOMEM, "%s: out of memory",
			    path);
			free(path);
			continue;
		}
		stack[depth++].path = path;
	}
	while (depth > 0) {
		closedir(stack[depth - 1].dp);
		free(stack[--depth].path);
	}
	free(stack);
	return r;
}
